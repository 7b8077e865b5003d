/*
 * test_policy_restore_other.c: the D rules (restore to a different device), the U rules (User
 * Enrollment and account-driven Device Enrollment), E1/E2 (what an unenrollment takes), V1/V2 (the
 * iOS 26 gates), X1 (categories left out of a restore) and ferry's own preflight refusals.
 */
#include "testutil.h"

#include <stdlib.h>

#include "test_policy_fixture.h"

#define K_MC FERRY_ITEM_MANAGEMENT_CONFIGURATION
#define K_EN FERRY_ITEM_MDM_ENROLLMENT
#define MC "management-configuration"
#define EN "mdm-enrollment"
#define OS(a, b) ((ferry_os_version_t){a, b, 0})

static ferry_plan_t restore_opts(const tp_device_t *d, const ferry_backup_options_t *bo,
                                 const ferry_device_facts_t *t, const ferry_restore_options_t *ro)
{
    ferry_backup_facts_t bf;
    assert_int_equal(ferry_policy_backup_facts_derive(&d->dev, bo, &bf), 0);
    ferry_plan_t p;
    assert_int_equal(ferry_policy_restore_plan(&bf, t, ro, &p), 0);
    ferry_policy_backup_facts_free_derived(&bf);
    return p;
}

static ferry_plan_t restore(const tp_device_t *d, int enc, const ferry_device_facts_t *t, ferry_mdm_answer_t mdm)
{
    ferry_backup_options_t bo = {FERRY_BACKUP_HOST, enc, FERRY_ACCOUNT_NONE, 0};
    ferry_restore_options_t ro;
    memset(&ro, 0, sizeof ro);
    ro.mdm = mdm;
    return restore_opts(d, &bo, t, &ro);
}

static void test_D1_different_device_deletes_management_configuration_and_enrollment(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_ADE);
    ferry_device_facts_t t;
    tp_target_init(&t, 0, OS(26, 3));
    t.supervised = 1;
    ferry_plan_t p = restore(&d, 1, &t, FERRY_MDM_BOTH);
    assert_string_equal(tp_outcome(&p, K_MC, MC), "dropped");
    assert_true(tp_has_rule(&p, K_MC, MC, "D1"));
    assert_string_equal(tp_outcome(&p, K_EN, EN), "dropped");
    assert_true(tp_has_rule(&p, K_EN, EN, "D1"));
    /* the MDM answer does not matter: nothing checks in */
    for (size_t i = 0; i < p.n_items; i++)
        assert_false(p.items[i].has_if_rejected);
    ferry_plan_free(&p);
}

static void test_D2_registered_device_reenrolls_with_its_assigned_configuration(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_PROFILE_DE);
    ferry_device_facts_t t;
    tp_target_init(&t, 0, OS(26, 3));
    tp_target_assigned(&t, 0);
    ferry_plan_t p = restore(&d, 1, &t, FERRY_MDM_ACCEPT);
    assert_string_equal(tp_outcome(&p, K_MC, MC), "re-enrolled");
    assert_true(tp_has_rule(&p, K_MC, MC, "D2"));
    assert_string_equal(tp_outcome(&p, K_EN, EN), "re-enrolled");
    ferry_plan_free(&p);
    /* registered but nothing assigned: no enrollment */
    t.assignment.assigned = 0;
    p = restore(&d, 1, &t, FERRY_MDM_ACCEPT);
    assert_string_equal(tp_outcome(&p, K_EN, EN), "dropped");
    ferry_plan_free(&p);
}

static void test_D3_flag1_app_data_is_not_restored_to_a_different_device(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_PROFILE_DE);
    d.apps[0].declarative = 1; /* DDM apps have no bit 1 */
    d.apps[0].management_flags = 1;
    ferry_device_facts_t t;
    tp_target_init(&t, 0, OS(26, 3));
    ferry_plan_t p = restore(&d, 1, &t, FERRY_MDM_ACCEPT);
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_APP_DATA, "com.example.remove"), "dropped");
    assert_true(tp_has_rule(&p, FERRY_ITEM_APP_DATA, "com.example.remove", "D3"));
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_APP, "com.example.remove"), "dropped");
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_APP_DATA, "com.example.keep"), "placeholder");
    assert_true(tp_has_rule(&p, FERRY_ITEM_APP_DATA, "com.example.keep", "D3"));
    ferry_plan_free(&p);
}

static void test_D4_enterprise_books_are_restored_to_a_different_device(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_PROFILE_DE);
    ferry_device_facts_t t;
    tp_target_init(&t, 0, OS(26, 3));
    ferry_plan_t p = restore(&d, 0, &t, FERRY_MDM_ACCEPT);
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_BOOK, "com.example.handbook"), "restored");
    assert_true(tp_has_rule(&p, FERRY_ITEM_BOOK, "com.example.handbook", "D4"));
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_BOOK, "123456789"), "not-in-backup");
    ferry_plan_free(&p);
}

static void test_D5_mdm_profiles_dropped_others_restored_with_keychain_caveats(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_PROFILE_DE);
    ferry_device_facts_t t;
    tp_target_init(&t, 0, OS(26, 3));
    ferry_plan_t p = restore(&d, 0, &t, FERRY_MDM_ACCEPT);
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_PROFILE, "com.example.wifi"), "dropped");
    assert_true(tp_has_rule(&p, FERRY_ITEM_PROFILE, "com.example.wifi", "D5"));
    assert_true(tp_has_rule(&p, FERRY_ITEM_PROFILE, "com.example.wifi", "E1"));
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_PROFILE, "com.example.manual"), "restored");
    /* unencrypted: its PKCS#12 identity is in the device-bound keychain export (B3) */
    assert_true(tp_has_rule(&p, FERRY_ITEM_PROFILE, "com.example.manual", "B3"));
    ferry_plan_free(&p);
    d.manual_payloads[1].this_device_only = 1;
    p = restore(&d, 1, &t, FERRY_MDM_ACCEPT);
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_PROFILE, "com.example.manual"), "restored");
    assert_non_null(strstr(ferry_plan_find(&p, FERRY_ITEM_PROFILE, "com.example.manual")->d.why,
                           "ThisDeviceOnly"));
    ferry_plan_free(&p);
}

/* A B11 backup of an account-driven enrollment, restored in the enrollment flow of account. */
static ferry_plan_t restore_b11(tp_device_t *d, const ferry_device_facts_t *t, const char *account)
{
    ferry_backup_options_t bo = {FERRY_BACKUP_ICLOUD, 1, FERRY_ACCOUNT_MANAGED, 0};
    ferry_restore_options_t ro;
    memset(&ro, 0, sizeof ro);
    snprintf(ro.enrollment_account, sizeof ro.enrollment_account, "%s", account);
    return restore_opts(d, &bo, t, &ro);
}

static void test_U1_restore_is_offered_only_to_the_same_managed_account(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_UE_ACCOUNT);
    ferry_device_facts_t t;
    tp_target_init(&t, 0, OS(26, 3));
    ferry_plan_t p = restore_b11(&d, &t, "PAT@example.org");
    assert_int_equal(p.verdict, FERRY_VERDICT_OK);
    assert_int_equal(p.path, 'U');
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_APP_DATA, "com.example.keep"), "restored");
    assert_true(tp_has_rule(&p, FERRY_ITEM_APP_DATA, "com.example.keep", "U1"));
    assert_string_equal(tp_outcome(&p, K_EN, EN), "not-in-backup");
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_CATEGORY, "passwords"), "not-in-backup");
    ferry_plan_free(&p);
    p = restore_b11(&d, &t, "someone@example.org");
    assert_int_equal(p.verdict, FERRY_VERDICT_REFUSED);
    assert_string_equal(p.refusal.rules[0], "U1");
    ferry_plan_free(&p);
}

static void test_U2_data_of_an_installed_app_is_skipped(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_DE_ACCOUNT);
    ferry_app_facts_t installed;
    tp_app(&installed, "com.example.remove", 0, 0); /* managed or not */
    ferry_device_facts_t t;
    tp_target_init(&t, 0, OS(26, 3));
    t.apps = &installed;
    t.n_apps = 1;
    ferry_plan_t p = restore_b11(&d, &t, TP_ACCOUNT);
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_APP_DATA, "com.example.remove"), "skipped");
    assert_true(tp_has_rule(&p, FERRY_ITEM_APP_DATA, "com.example.remove", "U2"));
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_APP_DATA, "com.example.keep"), "restored");
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_APP_DATA, "com.example.nobackup"), "not-in-backup");
    ferry_plan_free(&p);
}

static void test_U3_account_enrollment_apps_go_whatever_their_flags(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_UE_ACCOUNT);
    ferry_device_facts_t t;
    tp_target_init(&t, 1, OS(26, 3));
    ferry_plan_t p = restore(&d, 1, &t, FERRY_MDM_ACCEPT);
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_APP_DATA, "com.example.keep"), "dropped");
    assert_true(tp_has_rule(&p, FERRY_ITEM_APP_DATA, "com.example.keep", "U3"));
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_APP, "com.example.nobackup"), "dropped");
    ferry_plan_free(&p);
}

static void test_E1_unenrollment_keeps_apps_without_bit1_and_declarative_apps(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_ADE);
    d.apps[0].declarative = 1;
    d.apps[0].management_flags = 1; /* ignored: DDM apps have no bit 1 */
    ferry_device_facts_t t;
    tp_target_init(&t, 1, OS(26, 3));
    t.supervised = 1;
    ferry_plan_t p = restore(&d, 0, &t, FERRY_MDM_ACCEPT); /* S7 applies E1 */
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_APP_DATA, "com.example.remove"), "dropped");
    assert_true(tp_has_rule(&p, FERRY_ITEM_APP_DATA, "com.example.remove", "E1"));
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_APP_DATA, "com.example.keep"), "placeholder");
    assert_true(tp_has_rule(&p, FERRY_ITEM_APP_DATA, "com.example.keep", "E1"));
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_BOOK, "com.example.handbook"), "restored");
    assert_true(tp_has_rule(&p, FERRY_ITEM_BOOK, "com.example.handbook", "E1"));
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_PROFILE, "com.example.wifi"), "dropped");
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_PROFILE, "com.example.manual"), "restored");
    ferry_plan_free(&p);
}

static void test_E2_account_enrollment_unenrollment_removes_its_profiles_and_apps(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_UE_PROFILE);
    ferry_device_facts_t t;
    tp_target_init(&t, 1, OS(26, 3));
    ferry_plan_t p = restore(&d, 1, &t, FERRY_MDM_ACCEPT);
    assert_string_equal(tp_outcome(&p, K_EN, EN), "not-in-backup");
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_PROFILE, "com.example.wifi"), "dropped");
    assert_true(tp_has_rule(&p, FERRY_ITEM_PROFILE, "com.example.wifi", "E2"));
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_PROFILE, "com.example.manual"), "restored");
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_APP_DATA, "com.example.keep"), "dropped");
    ferry_plan_free(&p);
}

static void test_V1_do_not_use_profile_from_backup_reads_the_current_ade_profile(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_ADE);
    d.dev.os = OS(26, 0);
    ferry_device_facts_t t;
    tp_target_init(&t, 1, OS(26, 0));
    tp_target_assigned(&t, 1);
    ferry_plan_t p = restore(&d, 1, &t, FERRY_MDM_BOTH);
    assert_string_equal(tp_outcome(&p, K_MC, MC), "re-enrolled");
    assert_true(tp_has_rule(&p, K_MC, MC, "V1"));
    assert_string_equal(tp_outcome(&p, K_EN, EN), "re-enrolled");
    assert_false(ferry_plan_find(&p, K_EN, EN)->has_if_rejected);
    /* before 26.4 the profiles installed by hand stay */
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_PROFILE, "com.example.manual"), "restored");
    ferry_plan_free(&p);
    /* before iOS 26 the key does not exist: S1 and S2 apply */
    d.dev.os = OS(18, 6);
    t.os = OS(18, 6);
    p = restore(&d, 1, &t, FERRY_MDM_ACCEPT);
    assert_string_equal(tp_outcome(&p, K_MC, MC), "restored");
    assert_string_equal(tp_outcome(&p, K_EN, EN), "restored");
    ferry_plan_free(&p);
}

static void test_V2_ios_26_4_removes_all_configuration_profiles(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_ADE);
    ferry_device_facts_t t;
    tp_target_init(&t, 0, OS(26, 4));
    tp_target_assigned(&t, 1);
    ferry_plan_t p = restore(&d, 1, &t, FERRY_MDM_ACCEPT);
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_PROFILE, "com.example.manual"), "dropped");
    assert_true(tp_has_rule(&p, FERRY_ITEM_PROFILE, "com.example.manual", "V2"));
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_PROFILE, "com.example.wifi"), "dropped");
    ferry_plan_free(&p);
    t.assignment.do_not_use_profile_from_backup = 0; /* V2 needs V1 in force */
    p = restore(&d, 1, &t, FERRY_MDM_ACCEPT);
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_PROFILE, "com.example.manual"), "restored");
    ferry_plan_free(&p);
}

static void test_X1_categories_can_be_left_out_of_a_restore(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_NONE);
    ferry_device_facts_t t;
    tp_target_init(&t, 0, OS(26, 3));
    ferry_backup_options_t bo = {FERRY_BACKUP_HOST, 1, FERRY_ACCOUNT_NONE, 0};
    ferry_restore_options_t ro;
    memset(&ro, 0, sizeof ro);
    ro.skip_categories = FERRY_CAT_WEBSITE_HISTORY | FERRY_CAT_PASSWORDS;
    ferry_plan_t p = restore_opts(&d, &bo, &t, &ro);
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_CATEGORY, "website-history"), "skipped");
    assert_true(tp_has_rule(&p, FERRY_ITEM_CATEGORY, "website-history", "X1"));
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_CATEGORY, "passwords"), "skipped");
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_CATEGORY, "health"), "restored");
    ferry_plan_free(&p);
}

static void test_restore_refuses_an_enrolled_target_or_inconsistent_udids(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_NONE);
    ferry_backup_options_t bo = {FERRY_BACKUP_HOST, 1, FERRY_ACCOUNT_NONE, 0};
    ferry_backup_facts_t bf;
    assert_int_equal(ferry_policy_backup_facts_derive(&d.dev, &bo, &bf), 0);
    ferry_device_facts_t t;
    tp_target_init(&t, 0, OS(26, 3));
    t.enrollment = FERRY_ENROLL_PROFILE_DE;
    ferry_restore_options_t ro;
    memset(&ro, 0, sizeof ro);
    ferry_plan_t p;
    assert_int_equal(ferry_policy_restore_plan(&bf, &t, &ro, &p), 0);
    assert_int_equal(p.verdict, FERRY_VERDICT_REFUSED);
    assert_non_null(strstr(p.refusal.why, "--force"));
    ferry_plan_free(&p);
    ro.force = 1;
    assert_int_equal(ferry_policy_restore_plan(&bf, &t, &ro, &p), 0);
    assert_int_equal(p.verdict, FERRY_VERDICT_OK);
    ferry_plan_free(&p);
    snprintf(bf.info_udid, sizeof bf.info_udid, "%s", TP_OTHER_UDID);
    assert_int_equal(ferry_policy_restore_plan(&bf, &t, &ro, &p), 0);
    assert_int_equal(p.verdict, FERRY_VERDICT_REFUSED);
    assert_non_null(strstr(p.refusal.why, "Unique Identifier"));
    ferry_plan_free(&p);
    ferry_policy_backup_facts_free_derived(&bf);
    assert_int_equal(ferry_policy_restore_plan(NULL, &t, &ro, &p), FERRY_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_D1_different_device_deletes_management_configuration_and_enrollment),
        cmocka_unit_test(test_D2_registered_device_reenrolls_with_its_assigned_configuration),
        cmocka_unit_test(test_D3_flag1_app_data_is_not_restored_to_a_different_device),
        cmocka_unit_test(test_D4_enterprise_books_are_restored_to_a_different_device),
        cmocka_unit_test(test_D5_mdm_profiles_dropped_others_restored_with_keychain_caveats),
        cmocka_unit_test(test_U1_restore_is_offered_only_to_the_same_managed_account),
        cmocka_unit_test(test_U2_data_of_an_installed_app_is_skipped),
        cmocka_unit_test(test_U3_account_enrollment_apps_go_whatever_their_flags),
        cmocka_unit_test(test_E1_unenrollment_keeps_apps_without_bit1_and_declarative_apps),
        cmocka_unit_test(test_E2_account_enrollment_unenrollment_removes_its_profiles_and_apps),
        cmocka_unit_test(test_V1_do_not_use_profile_from_backup_reads_the_current_ade_profile),
        cmocka_unit_test(test_V2_ios_26_4_removes_all_configuration_profiles),
        cmocka_unit_test(test_X1_categories_can_be_left_out_of_a_restore),
        cmocka_unit_test(test_restore_refuses_an_enrolled_target_or_inconsistent_udids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
