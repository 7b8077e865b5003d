/*
 * test_policy_restrictions.c: rule B13, several com.apple.applicationaccess payloads combined into
 * the effective restrictions, with the multi-set keys `ferry plan` warns about.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/policy.h"

static plist_t payload_from_xml(const char *body)
{
    char buf[4096];
    snprintf(buf, sizeof buf,
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?><plist version=\"1.0\"><dict>%s</dict></plist>",
             body);
    plist_t p = NULL;
    plist_from_xml(buf, (uint32_t)strlen(buf), &p);
    assert_non_null(p);
    return p;
}

static int multi_has(plist_t multi, const char *key)
{
    for (uint32_t i = 0; i < plist_array_get_size(multi); i++) {
        char *s = NULL;
        plist_get_string_val(plist_array_get_item(multi, i), &s);
        int same = strcmp(s, key) == 0;
        free(s);
        if (same)
            return 1;
    }
    return 0;
}

static void free_all(plist_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        plist_free(p[i]);
}

static void test_B13_false_beats_true_for_allow_keys(void **state)
{
    (void)state;
    plist_t p[2];
    p[0] = payload_from_xml("<key>PayloadType</key><string>com.apple.applicationaccess</string>"
                            "<key>allowCloudBackup</key><true/>"
                            "<key>allowEnterpriseBookBackup</key><false/>"
                            "<key>safariAllowPopups</key><true/>");
    p[1] = payload_from_xml("<key>allowCloudBackup</key><false/>"
                            "<key>allowEnterpriseBookBackup</key><true/>"
                            "<key>safariAllowPopups</key><false/>");
    plist_t c = NULL, multi = NULL;
    assert_int_equal(ferry_policy_restrictions_combine(p, 2, &c, &multi), 0);
    assert_int_equal(ferry_policy_restriction_bool(c, "allowCloudBackup", 1), 0);
    assert_int_equal(ferry_policy_restriction_bool(c, "allowEnterpriseBookBackup", 1), 0);
    assert_int_equal(ferry_policy_restriction_bool(c, "safariAllowPopups", 1), 0);
    /* Payload* keys are not restrictions. */
    assert_null(plist_dict_get_item(c, "PayloadType"));
    ferry_restrictions_t r;
    ferry_policy_restrictions_from_plist(c, &r);
    assert_int_equal(r.allow_cloud_backup, 0);
    assert_int_equal(r.allow_enterprise_book_backup, 0);
    assert_int_equal(r.force_encrypted_backup, 0);
    assert_int_equal(r.allow_cloud_photo_library, 1);
    plist_free(c);
    plist_free(multi);
    free_all(p, 2);
}

static void test_B13_true_beats_false_for_force_keys(void **state)
{
    (void)state;
    plist_t p[3];
    p[0] = payload_from_xml("<key>forceEncryptedBackup</key><false/>");
    p[1] = payload_from_xml("<key>forceEncryptedBackup</key><true/>");
    p[2] = payload_from_xml("<key>forceEncryptedBackup</key><false/>"
                            "<key>requireManagedPasteboard</key><true/>");
    plist_t c = NULL;
    assert_int_equal(ferry_policy_restrictions_combine(p, 3, &c, NULL), 0);
    assert_int_equal(ferry_policy_restriction_bool(c, "forceEncryptedBackup", 0), 1);
    assert_int_equal(ferry_policy_restriction_bool(c, "requireManagedPasteboard", 0), 1);
    ferry_restrictions_t r;
    ferry_policy_restrictions_from_plist(c, &r);
    assert_int_equal(r.force_encrypted_backup, 1);
    plist_free(c);
    free_all(p, 3);
}

static void test_B13_numbers_and_lists_take_the_restrictive_side(void **state)
{
    (void)state;
    plist_t p[2];
    p[0] = payload_from_xml("<key>ratingApps</key><integer>1000</integer>"
                            "<key>safariAcceptCookies</key><real>2</real>"
                            "<key>enforcedSoftwareUpdateDelay</key><integer>30</integer>"
                            "<key>blockedAppBundleIDs</key><array><string>a</string></array>"
                            "<key>allowListedAppBundleIDs</key><array><string>x</string><string>y</string></array>"
                            "<key>ratingRegion</key><string>us</string>");
    p[1] = payload_from_xml("<key>ratingApps</key><integer>200</integer>"
                            "<key>safariAcceptCookies</key><integer>1</integer>"
                            "<key>enforcedSoftwareUpdateDelay</key><integer>60</integer>"
                            "<key>blockedAppBundleIDs</key><array><string>b</string><string>a</string></array>"
                            "<key>allowListedAppBundleIDs</key><array><string>y</string><string>z</string></array>"
                            "<key>ratingRegion</key><string>de</string>");
    plist_t c = NULL, multi = NULL;
    assert_int_equal(ferry_policy_restrictions_combine(p, 2, &c, &multi), 0);
    uint64_t u = 0;
    plist_get_uint_val(plist_dict_get_item(c, "ratingApps"), &u);
    assert_int_equal(u, 200);
    plist_get_uint_val(plist_dict_get_item(c, "safariAcceptCookies"), &u);
    assert_int_equal(u, 1);
    plist_get_uint_val(plist_dict_get_item(c, "enforcedSoftwareUpdateDelay"), &u);
    assert_int_equal(u, 60);
    plist_t blocked = plist_dict_get_item(c, "blockedAppBundleIDs");
    assert_int_equal(plist_array_get_size(blocked), 2);
    plist_t allowed = plist_dict_get_item(c, "allowListedAppBundleIDs");
    assert_int_equal(plist_array_get_size(allowed), 1);
    char *s = NULL;
    plist_get_string_val(plist_array_get_item(allowed, 0), &s);
    assert_string_equal(s, "y");
    free(s);
    /* Unknown direction: the first payload wins, and the key is reported. */
    plist_get_string_val(plist_dict_get_item(c, "ratingRegion"), &s);
    assert_string_equal(s, "us");
    free(s);
    assert_true(multi_has(multi, "ratingRegion"));
    plist_free(c);
    plist_free(multi);
    free_all(p, 2);
}

static void test_B13_multi_set_keys_are_reported_once(void **state)
{
    (void)state;
    plist_t p[3];
    p[0] = payload_from_xml("<key>allowCloudBackup</key><true/><key>allowCamera</key><true/>");
    p[1] = payload_from_xml("<key>allowCloudBackup</key><true/>");
    p[2] = payload_from_xml("<key>allowCloudBackup</key><false/><key>forceEncryptedBackup</key><true/>");
    plist_t c = NULL, multi = NULL;
    assert_int_equal(ferry_policy_restrictions_combine(p, 3, &c, &multi), 0);
    assert_int_equal(plist_array_get_size(multi), 1);
    assert_true(multi_has(multi, "allowCloudBackup"));
    assert_false(multi_has(multi, "allowCamera"));
    plist_free(c);
    plist_free(multi);
    free_all(p, 3);
}

static void test_B13_other_payload_types_and_bad_values_are_ignored(void **state)
{
    (void)state;
    plist_t p[2];
    p[0] = payload_from_xml("<key>PayloadType</key><string>com.apple.wifi.managed</string>"
                            "<key>allowCloudBackup</key><false/>");
    p[1] = payload_from_xml("<key>allowCloudBackup</key><true/>");
    plist_t c = NULL;
    assert_int_equal(ferry_policy_restrictions_combine(p, 2, &c, NULL), 0);
    assert_int_equal(ferry_policy_restriction_bool(c, "allowCloudBackup", 0), 1);
    plist_free(c);
    plist_free(p[0]);
    /* A string where a bool was seen first is malformed: the bool stays. */
    p[0] = payload_from_xml("<key>allowCloudBackup</key><string>false</string>");
    plist_t q[2] = {p[1], p[0]};
    assert_int_equal(ferry_policy_restrictions_combine(q, 2, &c, NULL), 0);
    assert_int_equal(ferry_policy_restriction_bool(c, "allowCloudBackup", 0), 1);
    plist_free(c);
    free_all(p, 2);
}

static void test_B13_empty_and_invalid_input(void **state)
{
    (void)state;
    plist_t c = NULL;
    assert_int_equal(ferry_policy_restrictions_combine(NULL, 0, &c, NULL), 0);
    assert_int_equal(plist_dict_get_size(c), 0);
    ferry_restrictions_t r;
    ferry_policy_restrictions_from_plist(c, &r);
    assert_int_equal(r.allow_cloud_backup, 1);
    assert_int_equal(r.allow_enterprise_book_backup, 1);
    assert_int_equal(r.force_encrypted_backup, 0);
    plist_free(c);
    plist_t bad[1] = {plist_new_string("x")};
    assert_int_equal(ferry_policy_restrictions_combine(bad, 1, &c, NULL), FERRY_EFORMAT);
    assert_null(c);
    assert_non_null(strstr(ferry_error_last(), "payload 0"));
    plist_free(bad[0]);
    assert_int_equal(ferry_policy_restrictions_combine(NULL, 0, NULL, NULL), FERRY_EINVAL);
    assert_int_equal(ferry_policy_restriction_bool(NULL, "allowCloudBackup", 1), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_B13_false_beats_true_for_allow_keys),
        cmocka_unit_test(test_B13_true_beats_false_for_force_keys),
        cmocka_unit_test(test_B13_numbers_and_lists_take_the_restrictive_side),
        cmocka_unit_test(test_B13_multi_set_keys_are_reported_once),
        cmocka_unit_test(test_B13_other_payload_types_and_bad_values_are_ignored),
        cmocka_unit_test(test_B13_empty_and_invalid_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
