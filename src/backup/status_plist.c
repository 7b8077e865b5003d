/*
 * status_plist.c: Status.plist (backup-format.md §9), read and built. Every key is optional on read
 * (pyiosbackup's synthetic backup has an empty dict), but a key that is present must have its type;
 * Version alone may be a string or a number, as the device accepts both, and is kept as a string so
 * that callers compare one form. Whether SnapshotState must be "finished" is the caller's decision.
 */
#include "ferry/backup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATUS_VERSION "3.3"

static int optional(int rc)
{
    if (rc == FERRY_ENOTFOUND) {
        ferry_error_clear();
        return 0;
    }
    return rc;
}

/* Version as a string: "3.3", or a number written "%0.1f" as MBStatus does. */
static int read_version(plist_t dict, char **out)
{
    plist_t n = plist_dict_get_item(dict, "Version");
    char buf[64];
    if (!n)
        return 0;
    switch (plist_get_node_type(n)) {
    case PLIST_STRING:
        return ferry_plist_get_string(dict, "Version", out);
    case PLIST_REAL: {
        double v = 0;
        plist_get_real_val(n, &v);
        snprintf(buf, sizeof buf, "%0.1f", v);
        break;
    }
    case PLIST_UINT: {
        uint64_t v = 0;
        plist_get_uint_val(n, &v);
        snprintf(buf, sizeof buf, "%lld.0", (long long)(int64_t)v);
        break;
    }
    default:
        return ferry_error_set(FERRY_EFORMAT, "key 'Version' is neither a string nor a number");
    }
    *out = strdup(buf);
    return *out ? 0 : ferry_error_set(FERRY_ENOMEM, "out of memory");
}

static int read_fields(plist_t dict, ferry_status_plist_t *s)
{
    int rc;
    if ((rc = read_version(dict, &s->version)) || (rc = optional(ferry_plist_get_string(dict, "UUID", &s->uuid))) ||
        (rc = optional(ferry_plist_get_string(dict, "BackupState", &s->backup_state))) ||
        (rc = optional(ferry_plist_get_string(dict, "SnapshotState", &s->snapshot_state))) ||
        (rc = optional(ferry_plist_get_bool(dict, "IsFullBackup", &s->is_full_backup))))
        return rc;
    rc = ferry_plist_get_date(dict, "Date", &s->date);
    s->has_date = rc == 0;
    return optional(rc);
}

int ferry_status_plist_read(const char *path, ferry_status_plist_t *out)
{
    memset(out, 0, sizeof *out);
    int rc = ferry_plist_read_file(path, 0, &out->raw); /* its message names the file */
    if (rc)
        return rc;
    rc = plist_get_node_type(out->raw) == PLIST_DICT
             ? read_fields(out->raw, out)
             : ferry_error_set(FERRY_EFORMAT, "the top level is not a dictionary");
    if (rc) {
        ferry_status_plist_clear(out);
        return ferry_error_wrap(rc, "%s", path);
    }
    return 0;
}

void ferry_status_plist_clear(ferry_status_plist_t *s)
{
    if (!s)
        return;
    if (s->raw)
        plist_free(s->raw);
    free(s->version);
    free(s->uuid);
    free(s->backup_state);
    free(s->snapshot_state);
    memset(s, 0, sizeof *s);
}

/* A random (version 4) UUID in upper case, as pymobiledevice3 writes it. */
static int random_uuid(char out[37])
{
    uint8_t b[16];
    int rc = ferry_random_bytes(b, sizeof b);
    if (rc)
        return rc;
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X", b[0], b[1], b[2],
             b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    return 0;
}

plist_t ferry_status_plist_build(const char *snapshot_state, int is_full, int64_t date)
{
    char uuid[37];
    if (!snapshot_state) {
        ferry_error_set(FERRY_EINVAL, "Status.plist needs a SnapshotState");
        return NULL;
    }
    if (random_uuid(uuid))
        return NULL;
    plist_t d = plist_new_dict();
    plist_dict_set_item(d, "Version", plist_new_string(STATUS_VERSION));
    plist_dict_set_item(d, "UUID", plist_new_string(uuid));
    plist_dict_set_item(d, "Date", ferry_plist_new_date_unix(date));
    plist_dict_set_item(d, "BackupState", plist_new_string("new"));
    plist_dict_set_item(d, "SnapshotState", plist_new_string(snapshot_state));
    plist_dict_set_item(d, "IsFullBackup", plist_new_bool(is_full != 0));
    return d;
}
