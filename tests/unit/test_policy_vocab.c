/*
 * test_policy_vocab.c: the vocabulary of RULES.md as the CLI spells it: enrollment types, accounts,
 * host types (ferry is finder), MDM answers, categories, OS versions and the "same device" UDID
 * comparison.
 */
#include "testutil.h"

#include <string.h>

#include "ferry/policy.h"

static void test_names_round_trip(void **state)
{
    (void)state;
    for (int e = FERRY_ENROLL_NONE; e <= FERRY_ENROLL_DE_ACCOUNT; e++) {
        ferry_enrollment_t out;
        assert_int_equal(ferry_policy_enrollment_parse(ferry_policy_enrollment_name(e), &out), 0);
        assert_int_equal(out, e);
    }
    ferry_enrollment_t e;
    assert_int_equal(ferry_policy_enrollment_parse("ADE", &e), FERRY_EINVAL);
    assert_non_null(strstr(ferry_error_last(), "profile-de"));
    ferry_mdm_answer_t m;
    assert_int_equal(ferry_policy_mdm_parse("reject-403", &m), 0);
    assert_int_equal(m, FERRY_MDM_REJECT_403);
    assert_int_equal(ferry_policy_mdm_parse("reject", &m), FERRY_EINVAL);
    ferry_backup_account_t a;
    assert_int_equal(ferry_policy_account_parse("managed", &a), 0);
    assert_int_equal(a, FERRY_ACCOUNT_MANAGED);
    unsigned bit;
    assert_int_equal(ferry_policy_category_parse("website-history", &bit), 0);
    assert_int_equal(bit, FERRY_CAT_WEBSITE_HISTORY);
    assert_string_equal(ferry_policy_category_name(FERRY_CAT_WIFI), "wifi");
}

static void test_host_type_ferry_and_idevicebackup2_are_finder(void **state)
{
    (void)state;
    ferry_host_type_t h;
    assert_int_equal(ferry_policy_host_parse("ferry", &h), 0);
    assert_int_equal(h, FERRY_HOST_FINDER);
    assert_int_equal(ferry_policy_host_parse("configurator", &h), 0);
    assert_int_equal(h, FERRY_HOST_CONFIGURATOR);
    assert_string_equal(ferry_policy_host_name(FERRY_HOST_FINDER), "finder");
    assert_int_equal(ferry_policy_host_parse("itunes", &h), FERRY_EINVAL);
}

static void test_os_versions_parse_and_compare(void **state)
{
    (void)state;
    ferry_os_version_t a, b;
    assert_int_equal(ferry_policy_os_parse("26.4", &a), 0);
    assert_int_equal(ferry_policy_os_parse("26.3.1", &b), 0);
    assert_true(ferry_policy_os_compare(a, b) > 0);
    assert_int_equal(ferry_policy_os_parse("17", &a), 0);
    assert_int_equal(a.major, 17);
    assert_int_equal(ferry_policy_os_compare(a, (ferry_os_version_t){17, 0, 0}), 0);
    const char *bad[] = {"", "26.", ".4", "26.4.1.2", "26a", "123456.1", "-1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(ferry_policy_os_parse(bad[i], &a), FERRY_EINVAL);
    assert_int_equal(ferry_policy_os_parse(NULL, &a), FERRY_EINVAL);
}

static void test_same_device_udid_comparison(void **state)
{
    (void)state;
    assert_true(ferry_policy_udid_equal("00008030-000A1B2C3D4E5F60", "00008030000a1b2c3d4e5f60"));
    assert_true(ferry_policy_udid_equal("abcdef0123456789abcdef0123456789abcdef01",
                                        "ABCDEF0123456789ABCDEF0123456789ABCDEF01"));
    assert_false(ferry_policy_udid_equal("00008030-000A1B2C3D4E5F60", "00008030-000A1B2C3D4E5F61"));
    assert_false(ferry_policy_udid_equal("0000", "00000"));
    assert_false(ferry_policy_udid_equal("", ""));
    assert_false(ferry_policy_udid_equal(NULL, "x"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_round_trip),
        cmocka_unit_test(test_host_type_ferry_and_idevicebackup2_are_finder),
        cmocka_unit_test(test_os_versions_parse_and_compare),
        cmocka_unit_test(test_same_device_udid_comparison),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
