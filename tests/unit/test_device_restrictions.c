/*
 * test_device_restrictions.c: rule B13 as the device applies it. The device gathers every
 * com.apple.applicationaccess payload of every installed profile and the policy module combines them
 * (most restrictive value wins: false beats true for allow*, true beats false for force*); keys set
 * in more than one payload are reported. Installing a stricter profile tightens the effective value,
 * removing it loosens it again, and a looser profile never loosens it.
 */
#include "device_tu.h"

static char *restrictions_file(const char *dir, const char *id, const char *key, int value)
{
    plist_t p = dt_profile(id);
    plist_t r = dt_add_payload(p, "com.apple.applicationaccess", "12121212-0000-4000-8000-000000000013");
    plist_dict_set_item(r, key, plist_new_bool(value));
    char name[128];
    snprintf(name, sizeof name, "%s.mobileconfig", id);
    char *path = dt_write_profile(dir, name, p, 1);
    plist_free(p);
    return path;
}

static int effective(const char *dir, const char *key)
{
    plist_t d = dt_describe(dir);
    char path[128];
    snprintf(path, sizeof path, "Restrictions.%s", key);
    int v = dt_bool(d, path);
    plist_free(d);
    return v;
}

static void test_B13_two_payloads_most_restrictive_wins(void **state)
{
    (void)state;
    /* ade-iphone: payload A forceEncryptedBackup=1 allowCloudBackup=1; payload B allowCloudBackup=0
     * forceEncryptedBackup=0 (two profiles) */
    dt_dev_t d = dt_create("ade-iphone", 13);
    ferry_device_t *dev = dt_load(d.dir);
    plist_t *payloads = NULL;
    size_t n = 0;
    assert_int_equal(ferry_device_restrictions_payloads(dev, &payloads, &n), 0);
    assert_int_equal(n, 2);
    free(payloads);
    plist_t eff = NULL, multi = NULL;
    assert_int_equal(ferry_device_effective_restrictions(dev, &eff, &multi), 0);
    assert_false(dt_bool(eff, "allowCloudBackup"));   /* false beats true */
    assert_true(dt_bool(eff, "forceEncryptedBackup")); /* true beats false */
    assert_false(dt_bool(eff, "allowManagedAppsCloudSync"));
    assert_true(dt_bool(eff, "allowEnterpriseBookBackup"));
    int fe = 0, cb = 0;
    for (uint32_t i = 0; i < plist_array_get_size(multi); i++) {
        const char *k = plist_get_string_ptr(plist_array_get_item(multi, i), NULL);
        fe |= !strcmp(k, "forceEncryptedBackup");
        cb |= !strcmp(k, "allowCloudBackup");
    }
    assert_true(fe && cb);
    plist_free(eff);
    plist_free(multi);
    ferry_device_free(dev);
    plist_t desc = dt_describe(d.dir);
    assert_int_equal(plist_array_get_size(dt_get(desc, "RestrictionsSetInSeveralPayloads")), 2);
    plist_free(desc);
    dt_done(&d);
}

static void test_B13_stricter_profile_tightens_and_removal_loosens(void **state)
{
    (void)state;
    dt_dev_t d = dt_create("ade-iphone", 14);
    assert_true(effective(d.dir, "allowEnterpriseBookBackup"));
    char *path = restrictions_file(d.tmp, "com.example.books", "allowEnterpriseBookBackup", 0);
    ferry_device_t *dev = dt_load(d.dir);
    assert_int_equal(ferry_device_install_profile(dev, path, FERRY_SOURCE_MDM), 0);
    ferry_device_free(dev);
    assert_false(effective(d.dir, "allowEnterpriseBookBackup"));
    dev = dt_load(d.dir);
    assert_int_equal(ferry_device_remove_profile(dev, "com.example.books"), 0);
    ferry_device_free(dev);
    assert_true(effective(d.dir, "allowEnterpriseBookBackup"));
    free(path);
    dt_done(&d);
}

static void test_B13_looser_profile_does_not_loosen(void **state)
{
    (void)state;
    dt_dev_t d = dt_create("profile-de-ipad", 15); /* allowCloudBackup=0 */
    assert_false(effective(d.dir, "allowCloudBackup"));
    char *path = restrictions_file(d.tmp, "com.example.loose", "allowCloudBackup", 1);
    ferry_device_t *dev = dt_load(d.dir);
    assert_int_equal(ferry_device_install_profile(dev, path, FERRY_SOURCE_MANUAL), 0);
    ferry_device_free(dev);
    assert_false(effective(d.dir, "allowCloudBackup"));
    /* and force* works the other way round */
    free(path);
    path = restrictions_file(d.tmp, "com.example.force", "forceEncryptedBackup", 1);
    dev = dt_load(d.dir);
    assert_int_equal(ferry_device_install_profile(dev, path, FERRY_SOURCE_MANUAL), 0);
    ferry_device_free(dev);
    assert_true(effective(d.dir, "forceEncryptedBackup"));
    free(path);
    dt_done(&d);
}

static void test_B13_no_restrictions_payload(void **state)
{
    (void)state;
    dt_dev_t d = dt_create("unmanaged-personal", 16);
    ferry_device_t *dev = dt_load(d.dir);
    plist_t eff = NULL, multi = NULL;
    assert_int_equal(ferry_device_effective_restrictions(dev, &eff, &multi), 0);
    assert_int_equal(plist_dict_get_size(eff), 0);
    assert_int_equal(plist_array_get_size(multi), 0);
    plist_free(eff);
    plist_free(multi);
    ferry_device_free(dev);
    dt_done(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_B13_two_payloads_most_restrictive_wins),
        cmocka_unit_test(test_B13_stricter_profile_tightens_and_removal_loosens),
        cmocka_unit_test(test_B13_looser_profile_does_not_loosen),
        cmocka_unit_test(test_B13_no_restrictions_payload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
