/*
 * test_device_model.c: the device directory as documented in docs/device-format.md: every key of
 * device.plist (missing where required, wrong type everywhere, with the file and key named), apps,
 * books and keychain entries, the profile index, the UDID forms, keys ferry does not know surviving a
 * save, the B3 category table, and the file walk that refuses symbolic links.
 */
#include "device_tu.h"

#include <unistd.h>

#include "../../src/device/device_internal.h"

/* Rewrites one plist file of a device through fn, then expects loading to fail naming want. */
static void edit_and_expect(const char *dir, const char *file, void (*fn)(plist_t root, const void *arg),
                            const void *arg, int code, const char *want)
{
    char *path = NULL;
    assert_true(asprintf(&path, "%s/%s", dir, file) > 0);
    plist_t root = NULL;
    assert_int_equal(ferry_plist_read_file(path, 0, &root), 0);
    plist_t saved = plist_copy(root);
    fn(root, arg);
    assert_int_equal(ferry_plist_write_file(path, root, 1), 0);
    ferry_device_t *dev = NULL;
    int rc = ferry_device_load(dir, &dev);
    if (rc != code || (want && !strstr(ferry_error_last(), want)))
        fail_msg("%s: expected %d with '%s', got %d: %s", file, code, want ? want : "", rc, ferry_error_last());
    ferry_device_free(dev);
    assert_int_equal(ferry_plist_write_file(path, saved, 1), 0); /* restore for the next case */
    plist_free(root);
    plist_free(saved);
    free(path);
}

typedef struct {
    const char *section, *key;
    plist_t value; /* NULL: remove */
} set_arg_t;

static void set_key(plist_t root, const void *arg)
{
    const set_arg_t *a = arg;
    plist_t s = plist_dict_get_item(root, a->section);
    if (a->value)
        plist_dict_set_item(s, a->key, plist_copy(a->value));
    else
        plist_dict_remove_item(s, a->key);
}

static void test_every_device_key(void **state)
{
    (void)state;
    dt_dev_t d = dt_create("ade-iphone", 1);
    plist_t wrong_bool = plist_new_string("yes"), wrong_other = plist_new_bool(1);
    for (size_t i = 0; i < dev_n_keys; i++) {
        const dev_key_t *k = &dev_keys[i];
        char want[160];
        snprintf(want, sizeof want, "device.plist: %s: key '%s'", k->section, k->name);
        set_arg_t a = {k->section, k->name, k->type == DK_BOOL ? wrong_bool : wrong_other};
        edit_and_expect(d.dir, "device.plist", set_key, &a, FERRY_EFORMAT, want);
        a.value = NULL;
        if (k->required)
            edit_and_expect(d.dir, "device.plist", set_key, &a, FERRY_EFORMAT, want);
    }
    plist_free(wrong_bool);
    plist_free(wrong_other);
    /* optional keys take their documented default */
    set_arg_t a = {"State", "PasscodePresent", NULL};
    char *path = NULL;
    assert_true(asprintf(&path, "%s/device.plist", d.dir) > 0);
    plist_t root = NULL;
    assert_int_equal(ferry_plist_read_file(path, 0, &root), 0);
    for (size_t i = 0; i < dev_n_keys; i++)
        if (!dev_keys[i].required) {
            a.section = dev_keys[i].section;
            a.key = dev_keys[i].name;
            set_key(root, &a);
        }
    plist_dict_remove_item(plist_dict_get_item(root, "Management"), "CloudConfigurationDetails");
    assert_int_equal(ferry_plist_write_file(path, root, 1), 0);
    ferry_device_t *dev = dt_load(d.dir);
    for (size_t i = 0; i < dev_n_keys; i++) {
        const dev_key_t *k = &dev_keys[i];
        const char *base = (const char *)dev + k->offset;
        if (k->required)
            continue;
        switch (k->type) {
        case DK_BOOL: assert_int_equal(*(const int *)base, (int)k->dflt); break;
        case DK_UINT: assert_int_equal(*(const uint64_t *)base, (uint64_t)k->dflt); break;
        case DK_DATE: assert_int_equal(*(const int64_t *)base, 0); break;
        case DK_STRING: assert_null(*(char *const *)base); break;
        }
    }
    ferry_device_free(dev);
    plist_free(root);
    free(path);
    dt_done(&d);
}

static void test_udid_forms(void **state)
{
    (void)state;
    dt_dev_t d = dt_create("unmanaged-personal", 2);
    static const char *bad[] = {"00008030-001a2b3c4d5e6f70", "ABCDEF", "0123456789ABCDEF0123456789ABCDEF01234567",
                                "00008030_001A2B3C4D5E6F70"};
    for (size_t i = 0; i < 4; i++) {
        plist_t v = plist_new_string(bad[i]);
        set_arg_t a = {"Identity", "UniqueDeviceID", v};
        edit_and_expect(d.dir, "device.plist", set_key, &a, FERRY_EFORMAT, "UniqueDeviceID");
        plist_free(v);
    }
    ferry_device_t *dev = dt_load(d.dir);
    assert_int_equal(strlen(dev->UniqueDeviceID), 40);
    ferry_device_free(dev);
    dt_done(&d);
}

static void test_format_version_and_missing_device(void **state)
{
    (void)state;
    dt_dev_t d = dt_create("shared-ipad", 3);
    plist_t v = plist_new_uint(2);
    char *path = NULL;
    assert_true(asprintf(&path, "%s/device.plist", d.dir) > 0);
    plist_t root = NULL;
    assert_int_equal(ferry_plist_read_file(path, 0, &root), 0);
    plist_dict_set_item(root, "FerryDeviceFormat", v);
    assert_int_equal(ferry_plist_write_file(path, root, 1), 0);
    ferry_device_t *dev = NULL;
    assert_int_equal(ferry_device_load(d.dir, &dev), FERRY_EUNSUPPORTED);
    plist_free(root);
    unlink(path);
    assert_int_equal(ferry_device_load(d.dir, &dev), FERRY_ENOTFOUND);
    assert_non_null(strstr(ferry_error_last(), "not a device directory"));
    free(path);
    dt_done(&d);
}

static void test_unknown_keys_survive_a_save(void **state)
{
    (void)state;
    dt_dev_t d = dt_create("shared-ipad", 4);
    char *path = NULL;
    assert_true(asprintf(&path, "%s/device.plist", d.dir) > 0);
    plist_t root = NULL;
    assert_int_equal(ferry_plist_read_file(path, 0, &root), 0);
    plist_dict_set_item(plist_dict_get_item(root, "Identity"), "IMEI", plist_new_string("350000000000000"));
    plist_dict_set_item(root, "AdminNotes", plist_new_string("cart 3, slot 12"));
    assert_int_equal(ferry_plist_write_file(path, root, 1), 0);
    plist_free(root);
    ferry_device_t *dev = dt_load(d.dir);
    assert_int_equal(ferry_device_set(dev, "locked", "false"), 0);
    ferry_device_free(dev);
    assert_int_equal(ferry_plist_read_file(path, 0, &root), 0);
    assert_string_equal(dt_str(root, "Identity.IMEI"), "350000000000000");
    assert_string_equal(dt_str(root, "AdminNotes"), "cart 3, slot 12");
    assert_false(dt_bool(root, "State.IsLocked"));
    plist_free(root);
    free(path);
    dt_done(&d);
}

typedef struct {
    const char *key;
    plist_t value;
    size_t index;
    const char *array; /* keychain: genp/inet/cert/keys; NULL for apps and books arrays */
} item_arg_t;

static void set_item(plist_t root, const void *arg)
{
    const item_arg_t *a = arg;
    plist_t arr = a->array ? plist_dict_get_item(root, a->array) : root;
    plist_t item = plist_array_get_item(arr, (uint32_t)a->index);
    if (a->value)
        plist_dict_set_item(item, a->key, plist_copy(a->value));
    else
        plist_dict_remove_item(item, a->key);
}

static void test_every_app_key(void **state)
{
    (void)state;
    dt_dev_t d = dt_create("ade-iphone", 5);
    static const char *keys[] = {"Identifier", "Name", "Version", "iTunesStoreID", "IsManaged", "ManagementFlags",
                                 "DeclarationIdentifier", "IncludeInBackup", "Installed", "DynamicSize", "AppGroups"};
    plist_t wrong_s = plist_new_uint(1), wrong_o = plist_new_string("x");
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        int is_str = !strcmp(keys[i], "Identifier") || !strcmp(keys[i], "Name") || !strcmp(keys[i], "Version") ||
                     !strcmp(keys[i], "DeclarationIdentifier");
        item_arg_t a = {keys[i], is_str ? wrong_s : wrong_o, 4, NULL}; /* item 4: com.acme.notes, DDM */
        edit_and_expect(d.dir, "apps.plist", set_item, &a, FERRY_EFORMAT, keys[i]);
    }
    plist_free(wrong_s);
    plist_free(wrong_o);
    item_arg_t a = {"Identifier", NULL, 0, NULL};
    edit_and_expect(d.dir, "apps.plist", set_item, &a, FERRY_EFORMAT, "key 'Identifier' is missing");
    plist_t v = plist_new_uint(3);
    a = (item_arg_t){"ManagementFlags", v, 0, NULL};
    edit_and_expect(d.dir, "apps.plist", set_item, &a, FERRY_EFORMAT, "Apple's values are 0, 1, 4 and 5");
    plist_free(v);
    v = plist_new_uint(1);
    a = (item_arg_t){"ManagementFlags", v, 6, NULL}; /* WhatsApp: unmanaged */
    edit_and_expect(d.dir, "apps.plist", set_item, &a, FERRY_EFORMAT, "ManagementFlags");
    plist_free(v);
    v = plist_new_bool(0);
    a = (item_arg_t){"IncludeInBackup", v, 0, NULL};
    edit_and_expect(d.dir, "apps.plist", set_item, &a, FERRY_EFORMAT, "IncludeInBackup");
    a = (item_arg_t){"Installed", v, 6, NULL};
    edit_and_expect(d.dir, "apps.plist", set_item, &a, FERRY_EFORMAT, "placeholders");
    plist_free(v);
    v = plist_new_string("com.acme.mail");
    a = (item_arg_t){"Identifier", v, 0, NULL};
    edit_and_expect(d.dir, "apps.plist", set_item, &a, FERRY_EFORMAT, "listed twice");
    plist_free(v);
    v = plist_new_string("../../x");
    a = (item_arg_t){"Identifier", v, 0, NULL};
    edit_and_expect(d.dir, "apps.plist", set_item, &a, FERRY_EFORMAT, "not a valid bundle ID");
    plist_free(v);
    dt_done(&d);
}

static void test_every_book_key(void **state)
{
    (void)state;
    dt_dev_t d = dt_create("ade-iphone", 6);
    static const char *keys[] = {"Title", "Author", "Version", "Kind", "iTunesStoreID", "PersistentID", "MediaURL",
                                 "State", "IsManaged"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        plist_t v = !strcmp(keys[i], "iTunesStoreID") || !strcmp(keys[i], "IsManaged") ? plist_new_string("x")
                                                                                       : plist_new_uint(1);
        item_arg_t a = {keys[i], v, 0, NULL};
        edit_and_expect(d.dir, "books.plist", set_item, &a, FERRY_EFORMAT, keys[i]);
        plist_free(v);
    }
    item_arg_t a = {"PersistentID", NULL, 0, NULL};
    edit_and_expect(d.dir, "books.plist", set_item, &a, FERRY_EFORMAT, "exactly one of");
    plist_t v = plist_new_string("docx");
    a = (item_arg_t){"Kind", v, 0, NULL};
    edit_and_expect(d.dir, "books.plist", set_item, &a, FERRY_EFORMAT, "pdf, epub or ibooks");
    plist_free(v);
    ferry_device_t *dev = dt_load(d.dir);
    char *rel = ferry_book_relpath(&dev->books[0]);
    assert_string_equal(rel, "Managed/com.acme.handbook.epub");
    free(rel);
    rel = ferry_book_relpath(&dev->books[1]);
    assert_string_equal(rel, "Purchases/881256329.epub");
    free(rel);
    ferry_device_free(dev);
    dt_done(&d);
}

static void test_every_keychain_key(void **state)
{
    (void)state;
    dt_dev_t d = dt_create("ade-iphone", 7);
    static const char *keys[] = {"pdmn", "agrp", "svce", "acct", "srvr", "labl", "PayloadUUID", "HardwareBound", "v_Data"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        plist_t v = plist_new_uint(1);
        item_arg_t a = {keys[i], v, 0, "genp"};
        edit_and_expect(d.dir, "keychain.plist", set_item, &a, FERRY_EFORMAT, keys[i]);
        plist_free(v);
    }
    item_arg_t a = {"pdmn", NULL, 0, "genp"};
    edit_and_expect(d.dir, "keychain.plist", set_item, &a, FERRY_EFORMAT, "key 'pdmn' is missing");
    plist_t v = plist_new_string("zz");
    a = (item_arg_t){"pdmn", v, 0, "genp"};
    edit_and_expect(d.dir, "keychain.plist", set_item, &a, FERRY_EFORMAT, "expected ak, ck");
    plist_free(v);
    v = plist_new_bool(1);
    a = (item_arg_t){"HardwareBound", v, 0, "genp"};
    edit_and_expect(d.dir, "keychain.plist", set_item, &a, FERRY_EFORMAT, "only to keys items");
    plist_free(v);
    /* protection classes and categories */
    static const struct {
        const char *pdmn;
        int clas;
    } pc[] = {{"ak", 6}, {"ck", 7}, {"dk", 8}, {"aku", 9}, {"cku", 10}, {"dku", 11}, {"akpu", 0}, {"x", -1}};
    for (size_t i = 0; i < sizeof pc / sizeof pc[0]; i++)
        assert_int_equal(ferry_keychain_protection_class(pc[i].pdmn), pc[i].clas);
    ferry_device_t *dev = dt_load(d.dir);
    int wifi = 0, pw = 0;
    for (size_t i = 0; i < dev->n_keychain; i++) {
        unsigned c = ferry_keychain_item_category(&dev->keychain[i]);
        wifi += c == FERRY_CAT_WIFI;
        pw += c == FERRY_CAT_PASSWORDS;
        if (!strcmp(dev->keychain[i].klass, "cert"))
            assert_int_equal(c, 0);
    }
    assert_true(wifi >= 2 && pw >= 2); /* joined network + profile network; website password + app token */
    ferry_device_free(dev);
    dt_done(&d);
}

static void drop_file_entry(plist_t root, const void *arg)
{
    plist_t arr = plist_dict_get_item(root, "Profiles");
    plist_dict_set_item(plist_array_get_item(arr, 0), "File", plist_new_string((const char *)arg));
}

static void set_source(plist_t root, const void *arg)
{
    plist_t arr = plist_dict_get_item(root, "Profiles");
    plist_dict_set_item(plist_array_get_item(arr, 0), (const char *)arg, plist_new_string("Somebody"));
}

static void test_profile_index(void **state)
{
    (void)state;
    dt_dev_t d = dt_create("ade-iphone", 8);
    edit_and_expect(d.dir, "profiles/index.plist", drop_file_entry, "gone.mobileconfig", FERRY_EFORMAT,
                    "names gone.mobileconfig");
    edit_and_expect(d.dir, "profiles/index.plist", set_source, "Source", FERRY_EFORMAT, "'Source'");
    edit_and_expect(d.dir, "profiles/index.plist", set_source, "PayloadIdentifier", FERRY_EFORMAT,
                    "says PayloadIdentifier Somebody");
    /* a profile dropped into profiles/ by hand counts as installed manually */
    plist_t p = dt_profile("com.example.dropped");
    plist_t w = dt_add_payload(p, "com.apple.webClip.managed", "99999999-0000-4000-8000-000000000009");
    plist_dict_set_item(w, "URL", plist_new_string("https://example.com"));
    plist_dict_set_item(w, "Label", plist_new_string("Example"));
    char *profiles = NULL;
    assert_true(asprintf(&profiles, "%s/profiles", d.dir) > 0);
    free(dt_write_profile(profiles, "dropped.mobileconfig", p, 1));
    ferry_device_t *dev = dt_load(d.dir);
    int found = 0;
    for (size_t i = 0; i < dev->n_profiles; i++)
        if (!strcmp(dev->profiles[i].file, "dropped.mobileconfig")) {
            found = 1;
            assert_int_equal(dev->profiles[i].source, FERRY_SOURCE_MANUAL);
        }
    assert_true(found);
    ferry_device_free(dev);
    /* a malformed dropped file stops loading with its name and key */
    plist_dict_remove_item(p, "PayloadUUID");
    free(dt_write_profile(profiles, "dropped.mobileconfig", p, 0));
    assert_int_equal(ferry_device_load(d.dir, &dev), FERRY_EFORMAT);
    assert_non_null(strstr(ferry_error_last(), "dropped.mobileconfig"));
    assert_non_null(strstr(ferry_error_last(), "PayloadUUID"));
    plist_free(p);
    free(profiles);
    dt_done(&d);
}

static void test_categories_table(void **state)
{
    (void)state;
    static const struct {
        const char *domain, *path;
        unsigned cat;
    } cases[] = {
        {"HomeDomain", "Library/CallHistoryDB/CallHistory.storedata", FERRY_CAT_CALL_HISTORY},
        {"HomeDomain", "Library/Safari/History.db", FERRY_CAT_WEBSITE_HISTORY},
        {"HomeDomain", "Library/Safari/History.db-wal", FERRY_CAT_WEBSITE_HISTORY},
        {"HomeDomain", "Library/Safari/SafariTabs.db", FERRY_CAT_WEBSITE_HISTORY},
        {"HomeDomain", "Library/Safari/Bookmarks.db", 0},
        {"HealthDomain", "Health/healthdb_secure.sqlite", FERRY_CAT_HEALTH},
        {"KeychainDomain", "keychain-backup.plist", FERRY_CAT_PASSWORDS},
        {"KeychainDomain", "TrustStore.sqlite3", 0},
        {"SystemPreferencesDomain", "com.apple.wifi.known-networks.plist", FERRY_CAT_WIFI},
        {"SystemPreferencesDomain", "SystemConfiguration/com.apple.wifi.plist", FERRY_CAT_WIFI},
        {"SystemPreferencesDomain", "SystemConfiguration/com.apple.wifi-private-mac-networks.plist", FERRY_CAT_WIFI},
        {"HomeDomain", "Library/SMS/sms.db", 0},
        {"AppDomain-com.example", "Library/CallHistoryDB/x", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(ferry_device_file_category(cases[i].domain, cases[i].path), cases[i].cat);
    assert_int_equal(ferry_device_file_protection_class("KeychainDomain", "keychain-backup.plist"), 1);
    assert_int_equal(ferry_device_file_protection_class("HomeDomain", "Library/SMS/sms.db"), 3);
    assert_string_equal(ferry_device_category_name(FERRY_CAT_CALL_HISTORY), "call-history");
    assert_string_equal(ferry_device_category_name(0), "none");
    assert_int_equal(ferry_device_file_category("CameraRollDomain", "Media/DCIM/100APPLE/IMG_0001.HEIC"),
                     FERRY_CAT_PHOTOS);
}

typedef struct {
    char last[512];
    int ordered, count, has_ccd;
} walk_state_t;

static int on_file(const ferry_device_file_t *f, void *ctx)
{
    walk_state_t *w = ctx;
    char cur[512];
    snprintf(cur, sizeof cur, "%s\x01%s", f->domain, f->relpath);
    if (w->count && strcmp(w->last, cur) >= 0)
        w->ordered = 0;
    memcpy(w->last, cur, sizeof cur);
    w->count++;
    if (!strcmp(f->relpath, "Library/ConfigurationProfiles/CloudConfigurationDetails.plist"))
        w->has_ccd = 1;
    return 0;
}

static void test_files_walk(void **state)
{
    (void)state;
    dt_dev_t d = dt_create("abe-employee-iphone", 9);
    ferry_device_t *dev = dt_load(d.dir);
    walk_state_t w = {"", 1, 0, 0};
    assert_int_equal(ferry_device_files_walk(dev, on_file, &w), 0);
    assert_true(w.ordered);
    assert_true(w.count > 20);
    assert_true(w.has_ccd);
    char *link = NULL;
    assert_true(asprintf(&link, "%s/files/HomeDomain/Library/escape", d.dir) > 0);
    assert_int_equal(symlink("/etc", link), 0);
    w = (walk_state_t){"", 1, 0, 0};
    assert_int_equal(ferry_device_files_walk(dev, on_file, &w), FERRY_EUNSAFE);
    assert_non_null(strstr(ferry_error_last(), "symbolic link"));
    free(link);
    ferry_device_free(dev);
    dt_done(&d);
}

static void test_derived_files_follow_the_model(void **state)
{
    (void)state;
    dt_dev_t d = dt_create("ade-iphone", 10);
    char *dir = NULL, *stale = NULL, *ccd = NULL;
    assert_true(asprintf(&dir, "%s/files/%s/%s", d.dir, DEV_CONFIG_DOMAIN, DEV_CONFIG_DIR) > 0);
    assert_true(asprintf(&stale, "%s/profile-0000000000000000000000000000000000000000.stub", dir) > 0);
    assert_true(asprintf(&ccd, "%s/CloudConfigurationDetails.plist", dir) > 0);
    assert_int_equal(ferry_file_write_atomic(stale, "x", 1, 0600), 0);
    plist_t c = NULL;
    assert_int_equal(ferry_plist_read_file(ccd, 0, &c), 0);
    assert_true(dt_bool(c, "IsSupervised"));
    plist_free(c);
    ferry_device_t *dev = dt_load(d.dir);
    assert_int_equal(ferry_device_remove_profile(dev, "com.acme.mdm"), 0);
    ferry_device_free(dev);
    assert_int_not_equal(access(stale, F_OK), 0); /* stubs of no installed profile are removed */
    char *mdm = NULL;
    assert_true(asprintf(&mdm, "%s/MDM.plist", dir) > 0);
    assert_int_not_equal(access(mdm, F_OK), 0); /* not enrolled any more */
    assert_int_equal(access(ccd, F_OK), 0);     /* the management configuration stays (B9) */
    free(mdm);
    free(dir);
    free(stale);
    free(ccd);
    dt_done(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_device_key),
        cmocka_unit_test(test_udid_forms),
        cmocka_unit_test(test_format_version_and_missing_device),
        cmocka_unit_test(test_unknown_keys_survive_a_save),
        cmocka_unit_test(test_every_app_key),
        cmocka_unit_test(test_every_book_key),
        cmocka_unit_test(test_every_keychain_key),
        cmocka_unit_test(test_profile_index),
        cmocka_unit_test(test_categories_table),
        cmocka_unit_test(test_files_walk),
        cmocka_unit_test(test_derived_files_follow_the_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
