/*
 * manifest_plist.c: Manifest.plist (backup-format.md §7), read and built. The reader accepts XML or
 * binary, treats every key as optional except that a key that is present must have its documented
 * type (FERRY_EFORMAT naming the key), so a reader can decide encryption by IsEncrypted alone (absent
 * means false) and never misreads a hostile value. ManifestKey, when present, must be the 44-byte
 * class-prefixed wrap. The builder writes the keys every independent reader requires (§15.1 item 2).
 */
#include "ferry/backup.h"

#include <stdlib.h>
#include <string.h>

#define MANIFEST_VERSION "10.0"
#define SYSTEM_DOMAINS_VERSION "24.0"

/* ENOTFOUND (absent) is fine for an optional key; the thread-local message is cleared then. */
static int optional(int rc)
{
    if (rc == FERRY_ENOTFOUND) {
        ferry_error_clear();
        return 0;
    }
    return rc;
}

static int read_lockdown(plist_t dict, ferry_manifest_plist_t *m)
{
    plist_t ld = plist_dict_get_item(dict, "Lockdown");
    if (!ld)
        return 0;
    if (plist_get_node_type(ld) != PLIST_DICT)
        return ferry_error_set(FERRY_EFORMAT, "key 'Lockdown' is not a dictionary");
    struct {
        const char *key;
        char **dst;
    } fields[] = {
        {"UniqueDeviceID", &m->udid},           {"ProductType", &m->product_type},
        {"ProductVersion", &m->product_version}, {"BuildVersion", &m->build_version},
        {"SerialNumber", &m->serial_number},    {"DeviceName", &m->device_name},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        int rc = optional(ferry_plist_get_string(ld, fields[i].key, fields[i].dst));
        if (rc)
            return ferry_error_wrap(rc, "Lockdown");
    }
    return 0;
}

static int read_manifest_key(plist_t dict, ferry_manifest_plist_t *m)
{
    uint8_t *key = NULL;
    size_t len = 0;
    int rc = optional(ferry_plist_get_data(dict, "ManifestKey", &key, &len));
    if (rc || !key)
        return rc;
    if (len != FERRY_PREFIXED_KEY_LEN)
        rc = ferry_error_set(FERRY_EFORMAT, "key 'ManifestKey' is %zu bytes, expected %d (class + wrapped key)",
                             len, FERRY_PREFIXED_KEY_LEN);
    else {
        memcpy(m->manifest_key, key, len);
        m->has_manifest_key = 1;
    }
    ferry_wipe(key, len);
    free(key);
    return rc;
}

static int read_fields(plist_t dict, ferry_manifest_plist_t *m)
{
    int rc;
    if ((rc = optional(ferry_plist_get_bool(dict, "IsEncrypted", &m->is_encrypted))) ||
        (rc = optional(ferry_plist_get_string(dict, "Version", &m->version))) ||
        (rc = optional(ferry_plist_get_string(dict, "SystemDomainsVersion", &m->system_domains_version))) ||
        (rc = optional(ferry_plist_get_bool(dict, "WasPasscodeSet", &m->was_passcode_set))) ||
        (rc = optional(ferry_plist_get_data(dict, "BackupKeyBag", &m->keybag, &m->keybag_len))))
        return rc;
    rc = ferry_plist_get_date(dict, "Date", &m->date);
    m->has_date = rc == 0;
    if ((rc = optional(rc)) || (rc = read_lockdown(dict, m)) || (rc = read_manifest_key(dict, m)))
        return rc;
    plist_t apps = plist_dict_get_item(dict, "Applications");
    if (apps && plist_get_node_type(apps) != PLIST_DICT)
        return ferry_error_set(FERRY_EFORMAT, "key 'Applications' is not a dictionary");
    m->applications = apps;
    return 0;
}

/* Takes ownership of dict, also on failure; the message names the key but not the file. */
static int from_dict(plist_t dict, ferry_manifest_plist_t *out)
{
    memset(out, 0, sizeof *out);
    out->raw = dict;
    int rc = dict && plist_get_node_type(dict) == PLIST_DICT
                 ? read_fields(dict, out)
                 : ferry_error_set(FERRY_EFORMAT, "the top level is not a dictionary");
    if (rc)
        ferry_manifest_plist_clear(out);
    return rc;
}

int ferry_manifest_plist_from_plist(plist_t dict, ferry_manifest_plist_t *out)
{
    int rc = from_dict(dict, out);
    return rc ? ferry_error_wrap(rc, "Manifest.plist") : 0;
}

int ferry_manifest_plist_read(const char *path, ferry_manifest_plist_t *out)
{
    plist_t dict = NULL;
    memset(out, 0, sizeof *out);
    int rc = ferry_plist_read_file(path, 0, &dict); /* its message names the file */
    if (rc)
        return rc;
    rc = from_dict(dict, out);
    return rc ? ferry_error_wrap(rc, "%s", path) : 0;
}

void ferry_manifest_plist_clear(ferry_manifest_plist_t *m)
{
    if (!m)
        return;
    if (m->raw)
        plist_free(m->raw);
    free(m->version);
    free(m->system_domains_version);
    free(m->udid);
    free(m->product_type);
    free(m->product_version);
    free(m->build_version);
    free(m->serial_number);
    free(m->device_name);
    free(m->keybag);
    ferry_wipe(m, sizeof *m);
    memset(m, 0, sizeof *m);
}

/* ---- building --------------------------------------------------------------------------------- */

static void set_string(plist_t dict, const char *key, const char *val)
{
    if (val)
        plist_dict_set_item(dict, key, plist_new_string(val));
}

static plist_t build_lockdown(const ferry_device_ident_t *id)
{
    plist_t ld = plist_new_dict();
    set_string(ld, "BuildVersion", id->build_version);
    set_string(ld, "DeviceName", id->device_name);
    set_string(ld, "ProductType", id->product_type);
    set_string(ld, "ProductVersion", id->product_version);
    set_string(ld, "SerialNumber", id->serial_number);
    set_string(ld, "UniqueDeviceID", id->udid);
    /* The lockdown domains a device adds when the primary account is backed up; readers expect dicts. */
    plist_dict_set_item(ld, "com.apple.MobileDeviceCrashCopy", plist_new_dict());
    plist_dict_set_item(ld, "com.apple.TerminalFlashr", plist_new_dict());
    plist_dict_set_item(ld, "com.apple.mobile.data_sync", plist_new_dict());
    return ld;
}

plist_t ferry_manifest_plist_build(const ferry_device_ident_t *id, int encrypted, const uint8_t *keybag,
                                   size_t keybag_len, const uint8_t *manifest_key, plist_t applications,
                                   int64_t date)
{
    if (!id) {
        ferry_error_set(FERRY_EINVAL, "Manifest.plist needs the device identity");
        return NULL;
    }
    if (encrypted && !manifest_key) {
        ferry_error_set(FERRY_EINVAL, "an encrypted backup's Manifest.plist needs a ManifestKey");
        return NULL;
    }
    if (applications && plist_get_node_type(applications) != PLIST_DICT) {
        ferry_error_set(FERRY_EINVAL, "Manifest.plist Applications must be a dictionary");
        return NULL;
    }
    plist_t d = plist_new_dict();
    plist_dict_set_item(d, "BackupKeyBag", plist_new_data(keybag ? (const char *)keybag : "", keybag ? keybag_len : 0));
    if (encrypted)
        plist_dict_set_item(d, "ManifestKey", plist_new_data((const char *)manifest_key, FERRY_PREFIXED_KEY_LEN));
    plist_dict_set_item(d, "IsEncrypted", plist_new_bool(encrypted != 0));
    plist_dict_set_item(d, "Version", plist_new_string(MANIFEST_VERSION));
    plist_dict_set_item(d, "SystemDomainsVersion", plist_new_string(SYSTEM_DOMAINS_VERSION));
    plist_dict_set_item(d, "Date", ferry_plist_new_date_unix(date));
    plist_dict_set_item(d, "WasPasscodeSet", plist_new_bool(id->was_passcode_set != 0));
    plist_dict_set_item(d, "Lockdown", build_lockdown(id));
    plist_dict_set_item(d, "Applications", applications ? plist_copy(applications) : plist_new_dict());
    return d;
}
