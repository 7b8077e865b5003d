/*
 * test_plists.c: the three plists (backup-format.md §7-§9): the reference, mvt and pyiosbackup
 * fixtures read with the values their README lists; the builders write the keys of §15.1 and read
 * back through the readers with the same values; a wrongly typed key is FERRY_EFORMAT naming the key.
 */
#include "testutil.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/backup.h"

#define ENC_DIR "reference/encrypted_pw_test1234_dpic1000/00008101-00FEDCBA98765432"
#define UNENC_DIR "reference/unencrypted/00008030-000A1B2C3D4E5F60"
#define MVT_INFO "real/ios14.3-mvt-decrypted/Info.plist"
#define PYIOS_DIR "third-party/pyiosbackup-synthetic-pw0000"

static uint32_t prefix_of(const uint8_t *key)
{
    return (uint32_t)key[0] | (uint32_t)key[1] << 8 | (uint32_t)key[2] << 16 | (uint32_t)key[3] << 24;
}

static void assert_lockdown(const ferry_manifest_plist_t *m, const char *udid)
{
    assert_string_equal(m->udid, udid);
    assert_string_equal(m->product_type, "iPhone15,2");
    assert_string_equal(m->product_version, "17.5.1");
    assert_string_equal(m->build_version, "21F90");
    assert_string_equal(m->serial_number, "F00TESTSERIAL");
    assert_string_equal(m->device_name, "Test iPhone");
}

static void assert_string_key(plist_t dict, const char *key, const char *want)
{
    char *s = NULL;
    int rc = ferry_plist_get_string(dict, key, &s);
    if (rc)
        fail_msg("%s: %s", key, ferry_error_last());
    assert_string_equal(s, want);
    free(s);
}

static char *write_plist(const char *dir, const char *name, plist_t p, int xml)
{
    char *path = ferry_path_join(dir, name);
    assert_non_null(path);
    assert_int_equal(ferry_plist_write_file(path, p, xml), 0);
    return path;
}

/* ---- fixtures ----------------------------------------------------------------------------------- */

static void test_reference_encrypted_manifest(void **state)
{
    (void)state;
    TU_FIXTURE_OR_SKIP(path, ENC_DIR "/Manifest.plist");
    ferry_manifest_plist_t m;
    int rc = ferry_manifest_plist_read(path, &m);
    if (rc)
        fail_msg("%s", ferry_error_last());
    assert_true(m.is_encrypted);
    assert_string_equal(m.version, "10.0");
    assert_string_equal(m.system_domains_version, "24.0");
    assert_true(m.was_passcode_set);
    assert_true(m.has_date);
    assert_true(m.date == 1795875994); /* 2026-11-28T14:26:34Z */
    assert_lockdown(&m, "00008101-00FEDCBA98765432");
    assert_true(m.has_manifest_key);
    assert_int_equal(prefix_of(m.manifest_key), 4);
    assert_int_equal(m.keybag_len, 1388);
    assert_memory_equal(m.keybag, "VERS", 4);
    assert_non_null(m.applications);
    plist_t app = plist_dict_get_item(m.applications, "com.example.app");
    assert_non_null(app);
    assert_string_key(app, "ContainerContentClass", "Data/Application");
    ferry_manifest_plist_clear(&m);
    assert_null(m.raw);
    free(path);
}

static void test_reference_unencrypted_manifest(void **state)
{
    (void)state;
    TU_FIXTURE_OR_SKIP(path, UNENC_DIR "/Manifest.plist");
    ferry_manifest_plist_t m;
    assert_int_equal(ferry_manifest_plist_read(path, &m), 0);
    assert_false(m.is_encrypted);
    assert_false(m.has_manifest_key);
    assert_string_equal(m.version, "10.0");
    assert_string_equal(m.system_domains_version, "24.0");
    assert_true(m.was_passcode_set);
    assert_lockdown(&m, "00008030-000A1B2C3D4E5F60");
    assert_int_equal(m.keybag_len, 1336); /* present also when unencrypted */
    ferry_manifest_plist_clear(&m);
    free(path);
}

static void test_reference_status_and_info(void **state)
{
    (void)state;
    const char *dirs[] = {ENC_DIR, UNENC_DIR};
    for (size_t i = 0; i < 2; i++) {
        char *rel = ferry_path_join(dirs[i], "Status.plist");
        TU_FIXTURE_OR_SKIP(path, rel);
        free(rel);
        ferry_status_plist_t s;
        assert_int_equal(ferry_status_plist_read(path, &s), 0);
        assert_string_equal(s.snapshot_state, "finished");
        assert_string_equal(s.version, "3.3");
        assert_string_equal(s.backup_state, "new");
        assert_non_null(s.uuid);
        assert_true(s.has_date);
        assert_false(s.is_full_backup);
        ferry_status_plist_clear(&s);
        free(path);

        rel = ferry_path_join(dirs[i], "Info.plist");
        char *info_path = tu_fixture(rel);
        free(rel);
        assert_non_null(info_path);
        plist_t info = NULL;
        assert_int_equal(ferry_plist_read_file(info_path, 0, &info), 0); /* XML */
        assert_string_key(info, "Product Type", "iPhone15,2");
        assert_string_key(info, "Product Version", "17.5.1");
        assert_string_key(info, "Build Version", "21F90");
        assert_string_key(info, "iTunes Version", "12.13.2.3");
        plist_free(info);
        free(info_path);
    }
}

static void test_mvt_info_plist_is_binary_and_parses(void **state)
{
    (void)state;
    TU_FIXTURE_OR_SKIP(path, MVT_INFO);
    size_t len;
    uint8_t *raw = tu_read_file(path, &len);
    assert_memory_equal(raw, "bplist00", 8);
    free(raw);
    plist_t info = NULL;
    assert_int_equal(ferry_plist_read_file(path, 0, &info), 0);
    assert_string_key(info, "Build Version", "18C66");
    assert_string_key(info, "Device Name", "iPhone");
    assert_string_key(info, "GUID", "DDDDDDDDDD");
    assert_string_key(info, "Product Type", "iPhone9,3");
    assert_string_key(info, "Product Version", "14.3");
    assert_string_key(info, "Serial Number", "F1234567890");
    assert_string_key(info, "Target Identifier", "1cb128eafa77c5be74283e9a3a2130af36a3c059");
    assert_string_key(info, "Unique Identifier", "1CB128EAFA77C5BE74283E9A3A2130AF36A3C059");
    assert_string_key(info, "iTunes Version", "12.5.0");
    int64_t date = 0;
    assert_int_equal(ferry_plist_get_date(info, "Last Backup Date", &date), 0);
    assert_true(date == 1638559993); /* 2021-12-03T19:33:13Z */
    plist_t apps = plist_dict_get_item(info, "Installed Applications");
    assert_int_equal(plist_get_node_type(apps), PLIST_ARRAY);
    assert_int_equal(plist_array_get_size(apps), 6);
    plist_free(info);
    free(path);
}

/* pyiosbackup's synthetic backup: XML, only the keys its reader needs. */
static void test_pyiosbackup_manifest_is_xml(void **state)
{
    (void)state;
    TU_FIXTURE_OR_SKIP(path, PYIOS_DIR "/Manifest.plist");
    size_t len;
    uint8_t *raw = tu_read_file(path, &len);
    assert_memory_equal(raw, "<?xml", 5);
    free(raw);
    ferry_manifest_plist_t m;
    assert_int_equal(ferry_manifest_plist_read(path, &m), 0);
    assert_true(m.is_encrypted);
    assert_string_equal(m.product_version, "10.3");
    assert_null(m.udid);
    assert_null(m.device_name);
    assert_null(m.version);
    assert_null(m.system_domains_version);
    assert_false(m.has_date);
    assert_null(m.applications);
    assert_true(m.has_manifest_key);
    assert_int_equal(prefix_of(m.manifest_key), 2);
    assert_int_equal(m.keybag_len, 1388);
    ferry_manifest_plist_clear(&m);
    free(path);

    /* Its Status.plist is an empty dict: it reads, with nothing set. */
    char *status = tu_fixture(PYIOS_DIR "/Status.plist");
    assert_non_null(status);
    ferry_status_plist_t s;
    assert_int_equal(ferry_status_plist_read(status, &s), 0);
    assert_null(s.snapshot_state);
    assert_null(s.version);
    assert_false(s.has_date);
    ferry_status_plist_clear(&s);
    free(status);
}

/* ---- builders ----------------------------------------------------------------------------------- */

static const ferry_device_ident_t ident = {
    .udid = "00008101-00fedcba98765432",
    .product_type = "iPhone15,2",
    .product_version = "17.5.1",
    .build_version = "21F90",
    .serial_number = "F00TESTSERIAL",
    .device_name = "Test iPhone",
    .product_name = "iPhone 14 Pro",
    .was_passcode_set = 1,
};

#define DATE 1795875994

static plist_t sample_apps(void)
{
    plist_t apps = plist_new_dict();
    plist_t app = plist_new_dict();
    plist_dict_set_item(app, "CFBundleIdentifier", plist_new_string("com.example.app"));
    plist_dict_set_item(app, "ContainerContentClass", plist_new_string("Data/Application"));
    plist_dict_set_item(apps, "com.example.app", app);
    return apps;
}

static void test_manifest_builder_round_trip(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    uint8_t keybag[100], mkey[FERRY_PREFIXED_KEY_LEN];
    memset(keybag, 0x5a, sizeof keybag);
    memset(mkey, 0x33, sizeof mkey);
    mkey[0] = 4;
    mkey[1] = mkey[2] = mkey[3] = 0;
    plist_t apps = sample_apps();

    for (int xml = 0; xml <= 1; xml++) {
        plist_t p = ferry_manifest_plist_build(&ident, 1, keybag, sizeof keybag, mkey, apps, DATE);
        assert_non_null(p);
        assert_true(plist_dict_get_item(p, "Applications") != apps); /* a copy */
        plist_t ld = plist_dict_get_item(p, "Lockdown");
        const char *domains[] = {"com.apple.MobileDeviceCrashCopy", "com.apple.TerminalFlashr",
                                 "com.apple.mobile.data_sync"};
        for (size_t i = 0; i < 3; i++) {
            plist_t d = plist_dict_get_item(ld, domains[i]);
            assert_int_equal(plist_get_node_type(d), PLIST_DICT);
            assert_int_equal(plist_dict_get_size(d), 0);
        }
        char *path = write_plist(dir, "Manifest.plist", p, xml);
        plist_free(p);

        ferry_manifest_plist_t m;
        assert_int_equal(ferry_manifest_plist_read(path, &m), 0);
        assert_true(m.is_encrypted);
        assert_string_equal(m.version, "10.0");
        assert_string_equal(m.system_domains_version, "24.0");
        assert_true(m.has_date);
        assert_true(m.date == DATE);
        assert_true(m.was_passcode_set);
        assert_string_equal(m.udid, ident.udid);
        assert_string_equal(m.product_type, ident.product_type);
        assert_string_equal(m.product_version, ident.product_version);
        assert_string_equal(m.build_version, ident.build_version);
        assert_string_equal(m.serial_number, ident.serial_number);
        assert_string_equal(m.device_name, ident.device_name);
        assert_int_equal(m.keybag_len, sizeof keybag);
        assert_memory_equal(m.keybag, keybag, sizeof keybag);
        assert_true(m.has_manifest_key);
        assert_memory_equal(m.manifest_key, mkey, sizeof mkey);
        assert_non_null(m.applications);
        assert_int_equal(plist_dict_get_size(m.applications), 1);
        plist_t app = plist_dict_get_item(m.applications, "com.example.app");
        assert_string_key(app, "ContainerContentClass", "Data/Application");
        ferry_manifest_plist_clear(&m);
        free(path);
    }
    plist_free(apps);
    tu_rmtree(dir);
    free(dir);
}

static void test_manifest_builder_unencrypted(void **state)
{
    (void)state;
    uint8_t mkey[FERRY_PREFIXED_KEY_LEN] = {4};
    ferry_device_ident_t id = ident;
    id.was_passcode_set = 0;
    /* No keybag given: BackupKeyBag is still written (empty); a key given is ignored when unencrypted. */
    plist_t p = ferry_manifest_plist_build(&id, 0, NULL, 0, mkey, NULL, DATE);
    assert_non_null(p);
    plist_t kb = plist_dict_get_item(p, "BackupKeyBag");
    assert_non_null(kb);
    assert_int_equal(plist_get_node_type(kb), PLIST_DATA);
    assert_null(plist_dict_get_item(p, "ManifestKey"));
    plist_t apps = plist_dict_get_item(p, "Applications");
    assert_int_equal(plist_get_node_type(apps), PLIST_DICT);
    assert_int_equal(plist_dict_get_size(apps), 0);

    ferry_manifest_plist_t m;
    assert_int_equal(ferry_manifest_plist_from_plist(p, &m), 0);
    assert_false(m.is_encrypted);
    assert_false(m.was_passcode_set);
    assert_false(m.has_manifest_key);
    assert_non_null(m.keybag);
    assert_int_equal(m.keybag_len, 0);
    ferry_manifest_plist_clear(&m);

    /* Encrypted without a ManifestKey is a caller error. */
    assert_null(ferry_manifest_plist_build(&id, 1, NULL, 0, NULL, NULL, DATE));
    assert_int_equal(ferry_error_code(), FERRY_EINVAL);
}

static int is_upper_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); }

static void test_status_builder_round_trip(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    plist_t p = ferry_status_plist_build("uploading", 1, DATE);
    assert_non_null(p);
    char *path = write_plist(dir, "Status.plist", p, 0);
    plist_free(p);
    ferry_status_plist_t s;
    assert_int_equal(ferry_status_plist_read(path, &s), 0);
    assert_string_equal(s.version, "3.3");
    assert_string_equal(s.backup_state, "new");
    assert_string_equal(s.snapshot_state, "uploading");
    assert_true(s.is_full_backup);
    assert_true(s.has_date);
    assert_true(s.date == DATE);
    assert_int_equal(strlen(s.uuid), 36);
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            assert_int_equal(s.uuid[i], '-');
        else
            assert_true(is_upper_hex(s.uuid[i]));
    }
    assert_int_equal(s.uuid[14], '4'); /* random (version 4) */
    char first_uuid[37];
    memcpy(first_uuid, s.uuid, 37);
    ferry_status_plist_clear(&s);

    p = ferry_status_plist_build("finished", 0, DATE);
    free(path);
    path = write_plist(dir, "Status.plist", p, 1);
    plist_free(p);
    assert_int_equal(ferry_status_plist_read(path, &s), 0);
    assert_string_equal(s.snapshot_state, "finished");
    assert_false(s.is_full_backup);
    assert_string_not_equal(s.uuid, first_uuid);
    ferry_status_plist_clear(&s);

    assert_null(ferry_status_plist_build(NULL, 0, DATE));
    free(path);
    tu_rmtree(dir);
    free(dir);
}

static void test_info_builder(void **state)
{
    (void)state;
    plist_t installed = plist_new_array();
    plist_array_append_item(installed, plist_new_string("com.example.app"));
    plist_t p = ferry_info_plist_build(&ident, installed, DATE);
    assert_non_null(p);
    plist_t apps = plist_dict_get_item(p, "Applications");
    assert_int_equal(plist_get_node_type(apps), PLIST_DICT);
    assert_int_equal(plist_dict_get_size(apps), 0);
    assert_string_key(p, "Build Version", "21F90");
    assert_string_key(p, "Device Name", "Test iPhone");
    assert_string_key(p, "Display Name", "Test iPhone");
    assert_string_key(p, "Product Name", "iPhone 14 Pro");
    assert_string_key(p, "Product Type", "iPhone15,2");
    assert_string_key(p, "Product Version", "17.5.1");
    assert_string_key(p, "Serial Number", "F00TESTSERIAL");
    assert_string_key(p, "Target Identifier", "00008101-00fedcba98765432");
    assert_string_key(p, "Unique Identifier", "00008101-00FEDCBA98765432");
    assert_string_key(p, "Target Type", "Device");
    assert_string_key(p, "iTunes Version", "12.13.2.3");
    char *guid = NULL;
    assert_int_equal(ferry_plist_get_string(p, "GUID", &guid), 0);
    assert_int_equal(strlen(guid), 32);
    for (int i = 0; i < 32; i++)
        assert_true(is_upper_hex(guid[i]));
    free(guid);
    int64_t date = 0;
    assert_int_equal(ferry_plist_get_date(p, "Last Backup Date", &date), 0);
    assert_true(date == DATE);
    plist_t ia = plist_dict_get_item(p, "Installed Applications");
    assert_true(ia != installed);
    assert_int_equal(plist_array_get_size(ia), 1);
    assert_int_equal(plist_string_val_compare(plist_array_get_item(ia, 0), "com.example.app"), 0);

    /* It survives a write and a read in both formats. */
    char *dir = tu_mkdtemp();
    for (int xml = 0; xml <= 1; xml++) {
        char *path = write_plist(dir, "Info.plist", p, xml);
        plist_t back = NULL;
        assert_int_equal(ferry_plist_read_file(path, 0, &back), 0);
        assert_int_equal(plist_dict_get_size(back), plist_dict_get_size(p));
        assert_string_key(back, "Unique Identifier", "00008101-00FEDCBA98765432");
        plist_free(back);
        free(path);
    }
    tu_rmtree(dir);
    free(dir);
    plist_free(p);
    plist_free(installed);

    /* Without apps or a product name. */
    ferry_device_ident_t id = ident;
    id.product_name = NULL;
    p = ferry_info_plist_build(&id, NULL, DATE);
    assert_non_null(p);
    assert_null(plist_dict_get_item(p, "Product Name"));
    ia = plist_dict_get_item(p, "Installed Applications");
    assert_int_equal(plist_get_node_type(ia), PLIST_ARRAY);
    assert_int_equal(plist_array_get_size(ia), 0);
    plist_free(p);
}

/* ---- hostile plists ----------------------------------------------------------------------------- */

/* A valid builder output with one key replaced, read through from_plist; expects EFORMAT naming key. */
static void expect_manifest_error(const char *key, plist_t value, int in_lockdown, const char *needle)
{
    uint8_t mkey[FERRY_PREFIXED_KEY_LEN] = {4};
    plist_t p = ferry_manifest_plist_build(&ident, 1, (const uint8_t *)"kb", 2, mkey, NULL, DATE);
    assert_non_null(p);
    plist_dict_set_item(in_lockdown ? plist_dict_get_item(p, "Lockdown") : p, key, value);
    ferry_manifest_plist_t m;
    int rc = ferry_manifest_plist_from_plist(p, &m); /* owns p, also on failure */
    if (rc != FERRY_EFORMAT)
        fail_msg("%s: expected FERRY_EFORMAT, got %d (%s)", key, rc, ferry_error_last());
    if (!strstr(ferry_error_last(), needle))
        fail_msg("message '%s' does not name '%s'", ferry_error_last(), needle);
    assert_null(m.raw);
    assert_null(m.udid);
}

static void test_manifest_wrong_types(void **state)
{
    (void)state;
    uint8_t key43[43] = {4};
    expect_manifest_error("IsEncrypted", plist_new_string("true"), 0, "IsEncrypted");
    expect_manifest_error("ManifestKey", plist_new_data((const char *)key43, sizeof key43), 0, "ManifestKey");
    expect_manifest_error("ManifestKey", plist_new_string("key"), 0, "ManifestKey");
    expect_manifest_error("Version", plist_new_real(10.0), 0, "Version");
    expect_manifest_error("SystemDomainsVersion", plist_new_uint(24), 0, "SystemDomainsVersion");
    expect_manifest_error("Date", plist_new_string("2024-01-01"), 0, "Date");
    expect_manifest_error("WasPasscodeSet", plist_new_uint(1), 0, "WasPasscodeSet");
    expect_manifest_error("BackupKeyBag", plist_new_string("VERS"), 0, "BackupKeyBag");
    expect_manifest_error("Applications", plist_new_array(), 0, "Applications");
    expect_manifest_error("Lockdown", plist_new_string("x"), 0, "Lockdown");
    expect_manifest_error("DeviceName", plist_new_uint(7), 1, "DeviceName");
    expect_manifest_error("UniqueDeviceID", plist_new_bool(0), 1, "UniqueDeviceID");

    /* Not a dictionary at all. */
    ferry_manifest_plist_t m;
    assert_int_equal(ferry_manifest_plist_from_plist(plist_new_array(), &m), FERRY_EFORMAT);
    assert_int_equal(ferry_manifest_plist_from_plist(NULL, &m), FERRY_EFORMAT);
}

/* IsEncrypted absent means unencrypted; the file reader names the file in its message. */
static void test_manifest_file_errors(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    plist_t p = plist_new_dict();
    char *path = write_plist(dir, "Manifest.plist", p, 0);
    plist_free(p);
    ferry_manifest_plist_t m;
    assert_int_equal(ferry_manifest_plist_read(path, &m), 0);
    assert_false(m.is_encrypted);
    assert_false(m.has_manifest_key);
    assert_null(m.keybag);
    ferry_manifest_plist_clear(&m);

    p = plist_new_dict();
    plist_dict_set_item(p, "IsEncrypted", plist_new_string("yes"));
    free(path);
    path = write_plist(dir, "Manifest.plist", p, 1);
    plist_free(p);
    assert_int_equal(ferry_manifest_plist_read(path, &m), FERRY_EFORMAT);
    assert_non_null(strstr(ferry_error_last(), "IsEncrypted"));
    assert_non_null(strstr(ferry_error_last(), path));

    assert_int_equal(ferry_file_write_atomic(path, "not a plist at all", 18, 0600), 0);
    assert_int_equal(ferry_manifest_plist_read(path, &m), FERRY_EFORMAT);
    assert_null(m.raw);

    char *absent = ferry_path_join(dir, "absent.plist");
    assert_true(ferry_manifest_plist_read(absent, &m) < 0);
    free(absent);
    free(path);
    tu_rmtree(dir);
    free(dir);
}

static void status_with_version(const char *dir, plist_t version, const char *want, int want_rc)
{
    plist_t p = plist_new_dict();
    plist_dict_set_item(p, "Version", version);
    plist_dict_set_item(p, "SnapshotState", plist_new_string("finished"));
    char *path = write_plist(dir, "Status.plist", p, 0);
    plist_free(p);
    ferry_status_plist_t s;
    int rc = ferry_status_plist_read(path, &s);
    assert_int_equal(rc, want_rc);
    if (want) {
        assert_string_equal(s.version, want);
        assert_string_equal(s.snapshot_state, "finished");
    } else {
        assert_non_null(strstr(ferry_error_last(), "Version"));
        assert_null(s.raw);
    }
    ferry_status_plist_clear(&s);
    free(path);
}

static void test_status_version_forms_and_types(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    status_with_version(dir, plist_new_string("3.3"), "3.3", 0);
    status_with_version(dir, plist_new_real(3.3), "3.3", 0);
    status_with_version(dir, plist_new_uint(3), "3.0", 0);
    status_with_version(dir, plist_new_bool(1), NULL, FERRY_EFORMAT);
    status_with_version(dir, plist_new_data("3.3", 3), NULL, FERRY_EFORMAT);

    const char *keys[] = {"SnapshotState", "UUID", "BackupState", "IsFullBackup", "Date"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        plist_t p = ferry_status_plist_build("finished", 0, DATE);
        plist_dict_set_item(p, keys[i], plist_new_array());
        char *path = write_plist(dir, "Status.plist", p, 0);
        plist_free(p);
        ferry_status_plist_t s;
        assert_int_equal(ferry_status_plist_read(path, &s), FERRY_EFORMAT);
        assert_non_null(strstr(ferry_error_last(), keys[i]));
        assert_null(s.raw);
        free(path);
    }

    plist_t arr = plist_new_array();
    char *path = write_plist(dir, "Status.plist", arr, 0);
    plist_free(arr);
    ferry_status_plist_t s;
    assert_int_equal(ferry_status_plist_read(path, &s), FERRY_EFORMAT);
    free(path);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_encrypted_manifest),
        cmocka_unit_test(test_reference_unencrypted_manifest),
        cmocka_unit_test(test_reference_status_and_info),
        cmocka_unit_test(test_mvt_info_plist_is_binary_and_parses),
        cmocka_unit_test(test_pyiosbackup_manifest_is_xml),
        cmocka_unit_test(test_manifest_builder_round_trip),
        cmocka_unit_test(test_manifest_builder_unencrypted),
        cmocka_unit_test(test_status_builder_round_trip),
        cmocka_unit_test(test_info_builder),
        cmocka_unit_test(test_manifest_wrong_types),
        cmocka_unit_test(test_manifest_file_errors),
        cmocka_unit_test(test_status_version_forms_and_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
