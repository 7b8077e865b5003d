/*
 * info_plist.c: builds Info.plist (backup-format.md §8), the host's description of the device a
 * backup comes from, with the keys idevicebackup2 writes from lockdown values. Applications is always
 * present (an empty dict) because `idevicebackup2 restore` aborts without it. Identity strings that
 * are NULL are left out rather than written empty. Reading Info.plist needs no typed view: callers
 * use ferry_plist_read_file and the typed getters of common.h.
 */
#include "ferry/backup.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define ITUNES_VERSION "12.13.2.3"

static void set_string(plist_t dict, const char *key, const char *val)
{
    if (val)
        plist_dict_set_item(dict, key, plist_new_string(val));
}

/* 32 upper-case hex characters, as idevicebackup2 writes GUID. */
static int random_guid(char out[33])
{
    uint8_t b[16];
    int rc = ferry_random_bytes(b, sizeof b);
    if (rc)
        return rc;
    ferry_hex_encode(b, sizeof b, out);
    for (size_t i = 0; out[i]; i++)
        out[i] = (char)toupper((unsigned char)out[i]);
    return 0;
}

static char *upper_dup(const char *s)
{
    char *u = strdup(s);
    for (size_t i = 0; u && u[i]; i++)
        u[i] = (char)toupper((unsigned char)u[i]);
    return u;
}

plist_t ferry_info_plist_build(const ferry_device_ident_t *id, plist_t installed_apps, int64_t date)
{
    char guid[33];
    if (!id) {
        ferry_error_set(FERRY_EINVAL, "Info.plist needs the device identity");
        return NULL;
    }
    if (installed_apps && plist_get_node_type(installed_apps) != PLIST_ARRAY) {
        ferry_error_set(FERRY_EINVAL, "Info.plist Installed Applications must be an array");
        return NULL;
    }
    char *unique = id->udid ? upper_dup(id->udid) : NULL;
    if (id->udid && !unique) {
        ferry_error_set(FERRY_ENOMEM, "out of memory");
        return NULL;
    }
    if (random_guid(guid)) {
        free(unique);
        return NULL;
    }
    plist_t d = plist_new_dict();
    plist_dict_set_item(d, "Applications", plist_new_dict());
    set_string(d, "Build Version", id->build_version);
    set_string(d, "Device Name", id->device_name);
    set_string(d, "Display Name", id->device_name);
    set_string(d, "GUID", guid);
    plist_dict_set_item(d, "Installed Applications", installed_apps ? plist_copy(installed_apps) : plist_new_array());
    plist_dict_set_item(d, "Last Backup Date", ferry_plist_new_date_unix(date));
    set_string(d, "Product Name", id->product_name);
    set_string(d, "Product Type", id->product_type);
    set_string(d, "Product Version", id->product_version);
    set_string(d, "Serial Number", id->serial_number);
    set_string(d, "Target Identifier", id->udid);
    set_string(d, "Target Type", "Device");
    set_string(d, "Unique Identifier", unique);
    set_string(d, "iTunes Version", ITUNES_VERSION);
    free(unique);
    return d;
}
