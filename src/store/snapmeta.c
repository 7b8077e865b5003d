/*
 * snapmeta.c: what every backend shares about a snapshot's identity: sortable ids, the metadata file
 * (snapshot.plist, an XML plist next to the <UDID> folder, docs/repository.md), and reading the facts a
 * commit needs from the backup's own plists. The metadata file is written once, atomically, before the
 * snapshot becomes visible; readers reject one with missing or mistyped keys rather than guess.
 */
#include "store_backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define META_VERSION 1

int ferry_snapshot_new_id(char out[FERRY_SNAPSHOT_ID_MAX])
{
    struct timespec ts;
    struct tm tm;
    uint32_t r;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return ferry_error_errno("cannot read the clock");
    if (!gmtime_r(&ts.tv_sec, &tm))
        return ferry_error_set(FERRY_EIO, "cannot convert the time to UTC");
    int rc = ferry_random_bytes(&r, sizeof r);
    if (rc)
        return rc;
    char date[32];
    if (strftime(date, sizeof date, "%Y%m%dT%H%M%S", &tm) != 15 || tm.tm_year + 1900 > 9999)
        return ferry_error_set(FERRY_EINVAL, "the clock is outside the years 1000-9999");
    snprintf(out, FERRY_SNAPSHOT_ID_MAX, "%.15s.%03uZ-%08x", date, (unsigned)(ts.tv_nsec / 1000000) % 1000u,
             (unsigned)r);
    return 0;
}

int ferry_snapshot_check_id(const char *name)
{
    /* YYYYMMDDTHHMMSS.mmmZ-xxxxxxxx */
    static const char shape[] = "ddddddddTdddddd.dddZ-hhhhhhhh";
    if (strlen(name) != sizeof shape - 1)
        return FERRY_EINVAL;
    for (size_t i = 0; shape[i]; i++) {
        char c = name[i];
        int ok = shape[i] == 'd'   ? (c >= '0' && c <= '9')
                 : shape[i] == 'h' ? ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))
                                   : c == shape[i];
        if (!ok)
            return FERRY_EINVAL;
    }
    return 0;
}

int ferry_store_check_udid(const char *udid)
{
    size_t n = udid ? strlen(udid) : 0;
    if (n == 0 || n >= FERRY_UDID_MAX || udid[0] == '.')
        return ferry_error_set(FERRY_EINVAL, "'%s' is not a usable UDID (1-127 characters of A-Z a-z 0-9 . _ -)",
                               udid ? udid : "");
    for (size_t i = 0; i < n; i++) {
        char c = udid[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_' ||
              c == '.'))
            return ferry_error_set(FERRY_EINVAL, "'%s' is not a usable UDID (1-127 characters of A-Z a-z 0-9 . _ -)",
                                   udid);
    }
    return 0;
}

static void set_uint(plist_t d, const char *k, uint64_t v) { plist_dict_set_item(d, k, plist_new_uint(v)); }

int ferry_snapshot_meta_write(const char *path, const ferry_snapshot_info_t *in)
{
    plist_t d = plist_new_dict();
    if (!d)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    set_uint(d, "FerrySnapshotVersion", META_VERSION);
    plist_dict_set_item(d, "ID", plist_new_string(in->id));
    plist_dict_set_item(d, "UDID", plist_new_string(in->udid));
    plist_dict_set_item(d, "Parent", plist_new_string(in->parent));
    plist_dict_set_item(d, "Date", ferry_plist_new_date_unix(in->date));
    if (in->backup_date)
        plist_dict_set_item(d, "BackupDate", ferry_plist_new_date_unix(in->backup_date));
    plist_dict_set_item(d, "IsEncrypted", plist_new_bool(in->encrypted != 0));
    set_uint(d, "Files", in->files);
    set_uint(d, "Bytes", in->bytes);
    set_uint(d, "AddedBytes", in->added_bytes);
    int rc = ferry_plist_write_file(path, d, 1);
    plist_free(d);
    return rc;
}

static int get_str(plist_t d, const char *key, char *out, size_t cap, const char *path)
{
    char *s = NULL;
    int rc = ferry_plist_get_string(d, key, &s);
    if (rc)
        return ferry_error_set(FERRY_EFORMAT, "snapshot metadata %s: %s is missing or not a string", path, key);
    size_t n = strlen(s);
    if (n >= cap) {
        free(s);
        return ferry_error_set(FERRY_EFORMAT, "snapshot metadata %s: %s is too long", path, key);
    }
    memcpy(out, s, n + 1);
    free(s);
    return 0;
}

static int get_u64(plist_t d, const char *key, uint64_t *out, const char *path)
{
    int64_t v;
    if (ferry_plist_get_int(d, key, &v) || v < 0)
        return ferry_error_set(FERRY_EFORMAT, "snapshot metadata %s: %s is missing or not a count", path, key);
    *out = (uint64_t)v;
    return 0;
}

int ferry_snapshot_meta_read(const char *path, ferry_snapshot_info_t *out)
{
    memset(out, 0, sizeof *out);
    plist_t d = NULL;
    int rc = ferry_plist_read_file(path, 1 << 20, &d);
    if (rc)
        return rc;
    if (plist_get_node_type(d) != PLIST_DICT) {
        plist_free(d);
        return ferry_error_set(FERRY_EFORMAT, "snapshot metadata %s is not a dictionary", path);
    }
    int enc = 0;
    if ((rc = get_str(d, "ID", out->id, sizeof out->id, path)) || (rc = get_str(d, "UDID", out->udid, sizeof out->udid, path)) ||
        (rc = get_str(d, "Parent", out->parent, sizeof out->parent, path)) ||
        (rc = get_u64(d, "Files", &out->files, path)) || (rc = get_u64(d, "Bytes", &out->bytes, path)) ||
        (rc = get_u64(d, "AddedBytes", &out->added_bytes, path)))
        goto done;
    if (ferry_plist_get_date(d, "Date", &out->date)) {
        rc = ferry_error_set(FERRY_EFORMAT, "snapshot metadata %s: Date is missing or not a date", path);
        goto done;
    }
    if (ferry_plist_get_date(d, "BackupDate", &out->backup_date) != 0)
        out->backup_date = 0;
    if (ferry_plist_get_bool(d, "IsEncrypted", &enc) == FERRY_EFORMAT) {
        rc = ferry_error_set(FERRY_EFORMAT, "snapshot metadata %s: IsEncrypted is not a boolean", path);
        goto done;
    }
    out->encrypted = enc;
    if (ferry_snapshot_check_id(out->id) || ferry_store_check_udid(out->udid))
        rc = ferry_error_set(FERRY_EFORMAT, "snapshot metadata %s: malformed ID or UDID", path);
done:
    plist_free(d);
    return rc;
}

int ferry_snapshot_check_finished(const char *backup_dir, ferry_snapshot_info_t *info)
{
    char *sp = ferry_path_join(backup_dir, "Status.plist");
    char *mp = ferry_path_join(backup_dir, "Manifest.plist");
    char *db = ferry_path_join(backup_dir, "Manifest.db");
    int rc = 0;
    if (!sp || !mp || !db) {
        rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
        goto done;
    }
    ferry_status_plist_t s;
    if ((rc = ferry_status_plist_read(sp, &s)) != 0) {
        rc = ferry_error_wrap(FERRY_EINTEGRITY, "the backup in %s is not complete (no readable Status.plist)",
                              backup_dir);
        goto done;
    }
    int finished = s.snapshot_state && !strcmp(s.snapshot_state, "finished");
    info->backup_date = s.has_date ? s.date : 0;
    ferry_status_plist_clear(&s);
    if (!finished) {
        rc = ferry_error_set(FERRY_EINTEGRITY,
                             "the backup in %s is not complete (Status.plist SnapshotState is not \"finished\"); "
                             "run the backup again",
                             backup_dir);
        goto done;
    }
    struct stat st;
    if (stat(db, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = ferry_error_set(FERRY_EINTEGRITY, "the backup in %s has no Manifest.db", backup_dir);
        goto done;
    }
    ferry_manifest_plist_t m;
    info->encrypted = 0;
    if (ferry_manifest_plist_read(mp, &m) == 0) {
        info->encrypted = m.is_encrypted;
        ferry_manifest_plist_clear(&m);
    }
done:
    free(sp);
    free(mp);
    free(db);
    return rc;
}

static int cmp_info(const void *a, const void *b)
{
    const ferry_snapshot_info_t *x = a, *y = b;
    int c = strcmp(x->udid, y->udid);
    return c ? c : strcmp(x->id, y->id);
}

void ferry_snapshot_sort(ferry_snapshot_info_t *v, size_t n)
{
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_info);
}
