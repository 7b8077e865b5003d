/*
 * test_device_edit.c: changing a device directory: installing XML, binary and CMS-signed profiles,
 * updating one by PayloadIdentifier, refusing a malformed profile or a second MDM enrollment with the
 * directory left byte-identical, removing a profile with the keychain items it brought, installing
 * and removing apps, setting every settable key (and refusing identity keys and inconsistent values),
 * and the backup password kept wrapped in keybag.plist.
 */
#include "device_tu.h"

#include <unistd.h>

#include "../../src/device/device_internal.h"

static void assert_unchanged(const char *dir, const char *before)
{
    char after[65];
    dt_tree_hash(dir, after);
    assert_string_equal(before, after);
}

static plist_t wifi_profile(const char *id, const char *ssid)
{
    plist_t p = dt_profile(id);
    plist_t w = dt_add_payload(p, "com.apple.wifi.managed", "AAAAAAAA-0000-4000-8000-0000000000A1");
    plist_dict_set_item(w, "SSID_STR", plist_new_string(ssid));
    plist_dict_set_item(w, "Password", plist_new_string("pw-of-the-network"));
    return p;
}

static size_t count_items(const ferry_device_t *dev, const char *klass, const char *uuid)
{
    size_t n = 0;
    for (size_t i = 0; i < dev->n_keychain; i++)
        n += !strcmp(dev->keychain[i].klass, klass) && dev->keychain[i].PayloadUUID &&
             !strcmp(dev->keychain[i].PayloadUUID, uuid);
    return n;
}

static void test_install_xml_binary_and_update(void **state)
{
    (void)state;
    dt_dev_t d = dt_create("profile-de-ipad", 11);
    plist_t p = wifi_profile("com.example.guest", "Guest");
    char *xml = dt_write_profile(d.tmp, "guest.mobileconfig", p, 1);
    ferry_device_t *dev = dt_load(d.dir);
    assert_int_equal(ferry_device_install_profile(dev, xml, FERRY_SOURCE_MDM), 0);
    ferry_device_free(dev);
    dev = dt_load(d.dir);
    ssize_t found = -1;
    for (size_t i = 0; i < dev->n_profiles; i++)
        if (!strcmp(dev->profiles[i].profile->PayloadIdentifier, "com.example.guest"))
            found = (ssize_t)i;
    assert_true(found >= 0);
    assert_int_equal(dev->profiles[found].source, FERRY_SOURCE_MDM);
    assert_string_equal(dev->profiles[found].file, "com.example.guest.mobileconfig");
    assert_int_equal(count_items(dev, "genp", "AAAAAAAA-0000-4000-8000-0000000000A1"), 1);
    size_t n = dev->n_profiles;
    /* the same PayloadIdentifier again, binary, with another SSID: an update in place */
    plist_free(p);
    p = wifi_profile("com.example.guest", "Guest-5G");
    char *bin = dt_write_profile(d.tmp, "guest2.mobileconfig", p, 0);
    assert_int_equal(ferry_device_install_profile(dev, bin, FERRY_SOURCE_AUTO), 0);
    ferry_device_free(dev);
    dev = dt_load(d.dir);
    assert_int_equal(dev->n_profiles, n);
    for (size_t i = 0; i < dev->n_profiles; i++)
        if (!strcmp(dev->profiles[i].profile->PayloadIdentifier, "com.example.guest")) {
            assert_int_equal(dev->profiles[i].profile->format, FERRY_PROFILE_BINARY);
            assert_int_equal(dev->profiles[i].source, FERRY_SOURCE_MANUAL);
        }
    assert_int_equal(count_items(dev, "genp", "AAAAAAAA-0000-4000-8000-0000000000A1"), 1);
    /* removal takes the Wi-Fi password with it and deletes the file and its stub */
    assert_int_equal(ferry_device_remove_profile(dev, "com.example.guest"), 0);
    ferry_device_free(dev);
    dev = dt_load(d.dir);
    assert_int_equal(dev->n_profiles, n - 1);
    assert_int_equal(count_items(dev, "genp", "AAAAAAAA-0000-4000-8000-0000000000A1"), 0);
    char *f = NULL;
    assert_true(asprintf(&f, "%s/profiles/com.example.guest.mobileconfig", d.dir) > 0);
    assert_int_not_equal(access(f, F_OK), 0);
    assert_int_equal(ferry_device_remove_profile(dev, "com.example.guest"), FERRY_ENOTFOUND);
    free(f);
    ferry_device_free(dev);
    free(xml);
    free(bin);
    plist_free(p);
    dt_done(&d);
}

static void test_install_signed_profile_stays_signed(void **state)
{
    (void)state;
    dt_dev_t src = dt_create("ade-iphone", 21), d = dt_create("unmanaged-personal", 21);
    char *path = NULL;
    assert_true(asprintf(&path, "%s/profiles/com.acme.mdm.mobileconfig", src.dir) > 0);
    ferry_device_t *dev = dt_load(d.dir);
    assert_int_equal(ferry_device_install_profile(dev, path, FERRY_SOURCE_AUTO), 0);
    ferry_device_free(dev);
    dev = dt_load(d.dir);
    const ferry_installed_profile_t *enr = ferry_device_enrollment_profile(dev);
    assert_non_null(enr);
    assert_int_equal(enr->source, FERRY_SOURCE_ENROLLMENT);
    assert_true(enr->profile->is_signed);
    assert_int_equal(ferry_device_enrollment(dev), FERRY_ENROLL_PROFILE_DE); /* no cloud configuration */
    char h1[65], h2[65], *copy = NULL;
    tu_sha256_file(path, h1);
    assert_true(asprintf(&copy, "%s/profiles/%s", d.dir, enr->file) > 0);
    tu_sha256_file(copy, h2);
    assert_string_equal(h1, h2);
    /* MDM.plist appears in the configuration-profiles domain */
    char *mdm = NULL;
    assert_true(asprintf(&mdm, "%s/files/%s/%s/MDM.plist", d.dir, DEV_CONFIG_DOMAIN, DEV_CONFIG_DIR) > 0);
    assert_int_equal(access(mdm, F_OK), 0);
    free(mdm);
    free(copy);
    free(path);
    ferry_device_free(dev);
    dt_done(&src);
    dt_done(&d);
}

static void test_malformed_profile_leaves_device_unchanged(void **state)
{
    (void)state;
    dt_dev_t d = dt_create("ade-iphone", 31);
    char before[65];
    dt_tree_hash(d.dir, before);
    static const char *keys[] = {"PayloadType", "PayloadIdentifier", "PayloadUUID", "PayloadContent"};
    for (size_t i = 0; i < 4; i++) {
        plist_t p = wifi_profile("com.example.broken", "Broken");
        plist_dict_remove_item(p, keys[i]);
        char *path = dt_write_profile(d.tmp, "broken.mobileconfig", p, 1);
        ferry_device_t *dev = dt_load(d.dir);
        assert_int_equal(ferry_device_install_profile(dev, path, FERRY_SOURCE_MDM), FERRY_EFORMAT);
        assert_non_null(strstr(ferry_error_last(), "broken.mobileconfig"));
        assert_non_null(strstr(ferry_error_last(), keys[i]));
        ferry_device_free(dev);
        assert_unchanged(d.dir, before);
        free(path);
        plist_free(p);
    }
    /* a payload whose key has the wrong type */
    plist_t p = wifi_profile("com.example.broken", "Broken");
    plist_dict_set_item(plist_array_get_item(plist_dict_get_item(p, "PayloadContent"), 0), "SSID_STR", plist_new_uint(5));
    char *path = dt_write_profile(d.tmp, "broken2.mobileconfig", p, 0);
    ferry_device_t *dev = dt_load(d.dir);
    assert_int_equal(ferry_device_install_profile(dev, path, FERRY_SOURCE_MDM), FERRY_EFORMAT);
    assert_non_null(strstr(ferry_error_last(), "broken2.mobileconfig"));
    assert_non_null(strstr(ferry_error_last(), "SSID_STR"));
    ferry_device_free(dev);
    assert_unchanged(d.dir, before);
    free(path);
    plist_free(p);
    dt_done(&d);
}

static void test_second_enrollment_refused(void **state)
{
    (void)state;
    dt_dev_t a = dt_create("ade-iphone", 41), b = dt_create("shared-ipad", 41);
    char before[65], *path = NULL;
    dt_tree_hash(a.dir, before);
    assert_true(asprintf(&path, "%s/profiles/edu.springfield.mdm.mobileconfig", b.dir) > 0);
    ferry_device_t *dev = dt_load(a.dir);
    assert_int_equal(ferry_device_install_profile(dev, path, FERRY_SOURCE_AUTO), FERRY_EEXIST);
    assert_non_null(strstr(ferry_error_last(), "already enrolled"));
    ferry_device_free(dev);
    assert_unchanged(a.dir, before);
    free(path);
    dt_done(&a);
    dt_done(&b);
}

static void test_invariant_failure_leaves_device_unchanged(void **state)
{
    (void)state;
    /* a BYOD enrollment needs a signed-in Managed Apple Account (RULES.md vocabulary) */
    dt_dev_t ue = dt_create("ue-account-iphone", 51), d = dt_create("unmanaged-personal", 51);
    char before[65], *path = NULL;
    dt_tree_hash(d.dir, before);
    assert_true(asprintf(&path, "%s/profiles/com.acme.mdm.mobileconfig", ue.dir) > 0);
    ferry_device_t *dev = dt_load(d.dir);
    assert_int_equal(ferry_device_install_profile(dev, path, FERRY_SOURCE_AUTO), FERRY_EFORMAT);
    assert_non_null(strstr(ferry_error_last(), "ManagedAppleAccount"));
    ferry_device_free(dev);
    assert_unchanged(d.dir, before);
    /* the same through set: signing out of the Managed Apple Account of a ue-account device */
    dt_tree_hash(ue.dir, before);
    dev = dt_load(ue.dir);
    assert_int_equal(ferry_device_set(dev, "managed-account", ""), FERRY_EFORMAT);
    ferry_device_free(dev);
    assert_unchanged(ue.dir, before);
    free(path);
    dt_done(&ue);
    dt_done(&d);
}

static void test_set_every_settable_key(void **state)
{
    (void)state;
    dt_dev_t d = dt_create("profile-de-ipad", 61);
    for (size_t i = 0; i < dev_n_keys; i++) {
        const dev_key_t *k = &dev_keys[i];
        ferry_device_t *dev = dt_load(d.dir);
        const char *value = k->type == DK_BOOL ? "on" : k->type == DK_UINT ? "123456" : k->type == DK_DATE ? "1700000000"
                                                                                                          : "ASM";
        if (!strcmp(k->name, "IsSupervised") || !strcmp(k->name, "IsMultiUser"))
            value = "true"; /* allowed: profile-de-ipad has no cloud configuration to disagree with */
        int rc = ferry_device_set(dev, k->alias && (i % 2) ? k->alias : k->name, value);
        ferry_device_free(dev);
        if (!k->settable) {
            assert_int_equal(rc, FERRY_EINVAL);
            continue;
        }
        if (rc)
            fail_msg("set %s: %s", k->name, ferry_error_last());
        dev = dt_load(d.dir);
        const char *base = (const char *)dev + k->offset;
        switch (k->type) {
        case DK_BOOL: assert_int_equal(*(const int *)base, 1); break;
        case DK_UINT: assert_int_equal(*(const uint64_t *)base, 123456); break;
        case DK_DATE: assert_int_equal(*(const int64_t *)base, 1700000000); break;
        case DK_STRING: assert_string_equal(*(char *const *)base, "ASM"); break;
        }
        ferry_device_free(dev);
    }
    ferry_device_t *dev = dt_load(d.dir);
    assert_int_equal(ferry_device_set(dev, "locked", "maybe"), FERRY_EINVAL);
    assert_int_equal(ferry_device_set(dev, "capacity", "-5"), FERRY_EINVAL);
    assert_int_equal(ferry_device_set(dev, "NoSuchKey", "1"), FERRY_EINVAL);
    assert_int_equal(ferry_device_set(dev, "ProductVersion", ""), FERRY_EINVAL);
    assert_int_equal(ferry_device_set(dev, "AssignmentService", "XYZ"), FERRY_EFORMAT);
    ferry_device_free(dev);
    dt_done(&d);
}

static void test_set_refuses_disagreeing_supervision(void **state)
{
    (void)state;
    dt_dev_t d = dt_create("ade-iphone", 62);
    ferry_device_t *dev = dt_load(d.dir);
    assert_int_equal(ferry_device_set(dev, "IsSupervised", "false"), FERRY_EFORMAT);
    assert_non_null(strstr(ferry_error_last(), "CloudConfigurationDetails.IsSupervised"));
    ferry_device_free(dev);
    dev = dt_load(d.dir);
    assert_true(dev->IsSupervised);
    ferry_device_free(dev);
    dt_done(&d);
}

static void test_apps(void **state)
{
    (void)state;
    dt_dev_t d = dt_create("unmanaged-personal", 71);
    ferry_device_t *dev = dt_load(d.dir);
    ferry_app_install_t a;
    ferry_app_install_init(&a);
    a.bundle_id = "com.example.field";
    a.managed = 1;
    a.management_flags = 5;
    a.data_size = 100000;
    a.placeholder = 1;
    assert_int_equal(ferry_device_install_app(dev, &a), 0);
    ferry_device_free(dev);
    dev = dt_load(d.dir);
    const ferry_app_t *app = ferry_device_find_app(dev, "com.example.field");
    assert_non_null(app);
    assert_int_equal(app->ManagementFlags, 5);
    assert_false(app->Installed);
    assert_true(app->DynamicSize >= 100000);
    /* declaratively managed, excluded from backups */
    ferry_app_install_init(&a);
    a.bundle_id = "com.example.ddm";
    a.declaration_id = "com.example.ddm.app";
    a.include_in_backup = 0;
    assert_int_equal(ferry_device_install_app(dev, &a), 0);
    ferry_device_free(dev);
    dev = dt_load(d.dir);
    app = ferry_device_find_app(dev, "com.example.ddm");
    assert_true(app->IsManaged);
    assert_false(app->IncludeInBackup);
    /* refused: flags outside Apple's values, flags on an unmanaged app, IncludeInBackup without DDM, bad IDs */
    ferry_app_install_init(&a);
    a.bundle_id = "com.example.bad";
    a.managed = 1;
    a.management_flags = 2;
    assert_int_equal(ferry_device_install_app(dev, &a), FERRY_EFORMAT);
    assert_non_null(strstr(ferry_error_last(), "ManagementFlags"));
    a.managed = 0;
    a.management_flags = 1;
    assert_int_equal(ferry_device_install_app(dev, &a), FERRY_EFORMAT);
    a.management_flags = 0;
    a.include_in_backup = 0;
    assert_int_equal(ferry_device_install_app(dev, &a), FERRY_EFORMAT);
    assert_non_null(strstr(ferry_error_last(), "IncludeInBackup"));
    a.include_in_backup = 1;
    a.bundle_id = "../etc";
    assert_int_equal(ferry_device_install_app(dev, &a), FERRY_EINVAL);
    char *bad = NULL;
    assert_true(asprintf(&bad, "%s/files/AppDomain-com.example.bad", d.dir) > 0);
    assert_int_not_equal(access(bad, F_OK), 0);
    free(bad);
    /* removal takes the data */
    assert_int_equal(ferry_device_remove_app(dev, "com.example.field"), 0);
    assert_int_equal(ferry_device_remove_app(dev, "com.example.field"), FERRY_ENOTFOUND);
    ferry_device_free(dev);
    dev = dt_load(d.dir);
    assert_null(ferry_device_find_app(dev, "com.example.field"));
    char *dir = NULL;
    assert_true(asprintf(&dir, "%s/files/AppDomain-com.example.field", d.dir) > 0);
    assert_int_not_equal(access(dir, F_OK), 0);
    free(dir);
    ferry_device_free(dev);
    dt_done(&d);
}

static void test_backup_password(void **state)
{
    (void)state;
    dt_dev_t d = dt_create("ade-iphone", 81);
    ferry_device_t *dev = dt_load(d.dir);
    assert_false(dev->has_backup_password);
    char *pw = NULL;
    size_t len = 0;
    assert_int_equal(ferry_device_get_backup_password(dev, &pw, &len), FERRY_ENOTFOUND);
    assert_int_equal(ferry_device_set_backup_password(dev, "correct horse", 13), 0);
    ferry_device_free(dev);
    dev = dt_load(d.dir);
    assert_true(dev->has_backup_password);
    assert_int_equal(ferry_device_get_backup_password(dev, &pw, &len), 0);
    assert_int_equal(len, 13);
    assert_string_equal(pw, "correct horse");
    ferry_wipe(pw, len);
    free(pw);
    assert_int_equal(ferry_device_check_backup_password(dev, "correct horse", 13), 0);
    assert_int_equal(ferry_device_check_backup_password(dev, "correct hors", 12), FERRY_EPASSWORD);
    /* the password is not stored in clear */
    char *kb = NULL;
    assert_true(asprintf(&kb, "%s/keybag.plist", d.dir) > 0);
    size_t n = 0;
    uint8_t *bytes = tu_read_file(kb, &n);
    assert_null(memmem(bytes, n, "correct horse", 13));
    free(bytes);
    /* a replaced hardware key is detected */
    char *hk = NULL;
    assert_true(asprintf(&hk, "%s/hardware.key", d.dir) > 0);
    uint8_t zero[32] = {0};
    assert_int_equal(ferry_file_write_atomic(hk, zero, 32, 0600), 0);
    assert_int_equal(ferry_device_get_backup_password(dev, &pw, &len), FERRY_EINTEGRITY);
    assert_int_equal(ferry_device_set_backup_password(dev, NULL, 0), 0);
    assert_false(dev->has_backup_password);
    assert_int_not_equal(access(kb, F_OK), 0);
    free(kb);
    free(hk);
    ferry_device_free(dev);
    dt_done(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_install_xml_binary_and_update),
        cmocka_unit_test(test_install_signed_profile_stays_signed),
        cmocka_unit_test(test_malformed_profile_leaves_device_unchanged),
        cmocka_unit_test(test_second_enrollment_refused),
        cmocka_unit_test(test_invariant_failure_leaves_device_unchanged),
        cmocka_unit_test(test_set_every_settable_key),
        cmocka_unit_test(test_set_refuses_disagreeing_supervision),
        cmocka_unit_test(test_apps),
        cmocka_unit_test(test_backup_password),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
