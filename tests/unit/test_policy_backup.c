/*
 * test_policy_backup.c: the B rules of RULES.md through ferry_policy_backup_plan() and
 * ferry_policy_backup_facts_derive(): what a backup holds, whether the device starts it at all, and
 * which rule decided each item.
 */
#include "testutil.h"

#include <stdlib.h>

#include "test_policy_fixture.h"

#define K_MC FERRY_ITEM_MANAGEMENT_CONFIGURATION
#define K_EN FERRY_ITEM_MDM_ENROLLMENT

static ferry_plan_t plan_of(const ferry_device_facts_t *dev, ferry_backup_method_t m, int enc,
                            ferry_backup_account_t acct)
{
    ferry_backup_options_t o = {m, enc, acct, 0};
    ferry_plan_t p;
    assert_int_equal(ferry_policy_backup_plan(dev, &o, &p), 0);
    return p;
}

static void test_B1_full_backup_holds_profiles_app_data_and_photos_without_icloud_photos(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_PROFILE_DE);
    ferry_plan_t p = plan_of(&d.dev, FERRY_BACKUP_HOST, 0, FERRY_ACCOUNT_NONE);
    assert_int_equal(p.verdict, FERRY_VERDICT_OK);
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_PROFILE, "com.example.wifi"), "included");
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_PROFILE, "com.example.manual"), "included");
    assert_true(tp_has_rule(&p, FERRY_ITEM_PROFILE, "com.example.manual", "B1"));
    /* the enrollment profile is the mdm-enrollment item, never a profile item (B10) */
    assert_null(ferry_plan_find(&p, FERRY_ITEM_PROFILE, "com.example.mdm"));
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_APP_DATA, "com.example.keep"), "included");
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_CATEGORY, "photos"), "included");
    /* unmanaged apps are plain app data, not items */
    assert_null(ferry_plan_find(&p, FERRY_ITEM_APP_DATA, "com.example.own"));
    ferry_plan_free(&p);
    d.dev.icloud_photos = 1;
    p = plan_of(&d.dev, FERRY_BACKUP_HOST, 0, FERRY_ACCOUNT_NONE);
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_CATEGORY, "photos"), "excluded");
    assert_true(tp_has_rule(&p, FERRY_ITEM_CATEGORY, "photos", "B1"));
    ferry_plan_free(&p);
}

static void test_B2_app_binaries_and_store_books_are_never_in_a_backup(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_ADE);
    ferry_plan_t p = plan_of(&d.dev, FERRY_BACKUP_HOST, 1, FERRY_ACCOUNT_NONE);
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_APP, "com.example.keep"), "excluded");
    assert_true(tp_has_rule(&p, FERRY_ITEM_APP, "com.example.keep", "B2"));
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_BOOK, "123456789"), "excluded");
    assert_true(tp_has_rule(&p, FERRY_ITEM_BOOK, "123456789", "B2"));
    ferry_plan_free(&p);
}

static void test_B3_unencrypted_backup_leaves_out_the_five_categories(void **state)
{
    (void)state;
    static const char *const five[] = {"passwords", "call-history", "health", "website-history", "wifi"};
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_NONE);
    ferry_plan_t p = plan_of(&d.dev, FERRY_BACKUP_HOST, 0, FERRY_ACCOUNT_NONE);
    for (int i = 0; i < 5; i++) {
        assert_string_equal(tp_outcome(&p, FERRY_ITEM_CATEGORY, five[i]), "excluded");
        assert_true(tp_has_rule(&p, FERRY_ITEM_CATEGORY, five[i], "B3"));
    }
    ferry_plan_free(&p);
    p = plan_of(&d.dev, FERRY_BACKUP_HOST, 1, FERRY_ACCOUNT_NONE);
    for (int i = 0; i < 5; i++)
        assert_string_equal(tp_outcome(&p, FERRY_ITEM_CATEGORY, five[i]), "included");
    ferry_plan_free(&p);
    /* a category the device does not have is skipped, "not present" */
    d.dev.categories &= ~(unsigned)FERRY_CAT_HEALTH;
    p = plan_of(&d.dev, FERRY_BACKUP_HOST, 1, FERRY_ACCOUNT_NONE);
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_CATEGORY, "health"), "skipped");
    ferry_plan_free(&p);
}

static void test_B3_passcode_and_biometrics_are_never_in_a_backup(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_ADE);
    ferry_plan_t p = plan_of(&d.dev, FERRY_BACKUP_ICLOUD, 1, FERRY_ACCOUNT_PERSONAL);
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_PASSCODE, "passcode"), "excluded");
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_BIOMETRICS, "biometrics"), "excluded");
    assert_true(tp_has_rule(&p, FERRY_ITEM_BIOMETRICS, "biometrics", "B3"));
    ferry_plan_free(&p);
}

static void test_B4_icloud_backup_needs_an_account_and_its_conditions(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_PROFILE_DE);
    ferry_plan_t p = plan_of(&d.dev, FERRY_BACKUP_ICLOUD, 0, FERRY_ACCOUNT_PERSONAL);
    assert_int_equal(p.verdict, FERRY_VERDICT_OK);
    assert_int_equal(p.encrypted, 1); /* iCloud Backup is always encrypted */
    ferry_plan_free(&p);
    p = plan_of(&d.dev, FERRY_BACKUP_ICLOUD, 1, FERRY_ACCOUNT_MANAGED); /* none signed in */
    assert_int_equal(p.verdict, FERRY_VERDICT_REFUSED);
    assert_string_equal(p.refusal.rules[0], "B4");
    assert_int_equal(p.n_items, 0);
    ferry_plan_free(&p);
    d.dev.locked = 0; /* the automatic backup waits; Back Up Now needs only Wi-Fi */
    p = plan_of(&d.dev, FERRY_BACKUP_ICLOUD, 1, FERRY_ACCOUNT_PERSONAL);
    assert_int_equal(p.verdict, FERRY_VERDICT_REFUSED);
    ferry_plan_free(&p);
    ferry_backup_options_t manual = {FERRY_BACKUP_ICLOUD, 1, FERRY_ACCOUNT_PERSONAL, 1};
    assert_int_equal(ferry_policy_backup_plan(&d.dev, &manual, &p), 0);
    assert_int_equal(p.verdict, FERRY_VERDICT_OK);
    ferry_plan_free(&p);
    d.dev.on_wifi = 0;
    assert_int_equal(ferry_policy_backup_plan(&d.dev, &manual, &p), 0);
    assert_int_equal(p.verdict, FERRY_VERDICT_REFUSED);
    ferry_plan_free(&p);
    /* usage errors: an account on a host backup, no account on an iCloud Backup */
    ferry_backup_options_t bad = {FERRY_BACKUP_HOST, 0, FERRY_ACCOUNT_PERSONAL, 0};
    assert_int_equal(ferry_policy_backup_plan(&d.dev, &bad, &p), FERRY_EINVAL);
    bad = (ferry_backup_options_t){FERRY_BACKUP_ICLOUD, 1, FERRY_ACCOUNT_NONE, 0};
    assert_int_equal(ferry_policy_backup_plan(&d.dev, &bad, &p), FERRY_EINVAL);
}

static void test_B4_host_backup_is_encrypted_exactly_when_a_password_is_set(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_NONE);
    ferry_plan_t p = plan_of(&d.dev, FERRY_BACKUP_HOST, 0, FERRY_ACCOUNT_NONE);
    assert_int_equal(p.encrypted, 0);
    ferry_plan_free(&p);
    d.dev.backup_password_set = 1;
    p = plan_of(&d.dev, FERRY_BACKUP_HOST, 0, FERRY_ACCOUNT_NONE);
    assert_int_equal(p.encrypted, 1);
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_CATEGORY, "passwords"), "included");
    ferry_plan_free(&p);
}

static void test_B5_allow_cloud_backup_false_turns_icloud_backup_off(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_ADE);
    d.dev.restrictions.allow_cloud_backup = 0;
    ferry_plan_t p = plan_of(&d.dev, FERRY_BACKUP_ICLOUD, 1, FERRY_ACCOUNT_PERSONAL);
    assert_int_equal(p.verdict, FERRY_VERDICT_REFUSED);
    assert_string_equal(p.refusal.rules[0], "B5");
    assert_int_equal(p.n_warnings, 0); /* supervised: no deprecation note */
    ferry_plan_free(&p);
    /* unsupervised: still honoured, with the deprecation note */
    tp_device_init(&d, FERRY_ENROLL_PROFILE_DE);
    d.dev.restrictions.allow_cloud_backup = 0;
    p = plan_of(&d.dev, FERRY_BACKUP_ICLOUD, 1, FERRY_ACCOUNT_PERSONAL);
    assert_int_equal(p.verdict, FERRY_VERDICT_REFUSED);
    assert_int_equal(p.n_warnings, 1);
    assert_non_null(strstr(p.warnings[0].why, "deprecated when unsupervised"));
    ferry_plan_free(&p);
    /* a host backup is not affected */
    p = plan_of(&d.dev, FERRY_BACKUP_HOST, 0, FERRY_ACCOUNT_NONE);
    assert_int_equal(p.verdict, FERRY_VERDICT_OK);
    ferry_plan_free(&p);
}

static void test_B5_allow_cloud_backup_is_ignored_under_user_enrollment(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_UE_ACCOUNT);
    d.dev.restrictions.allow_cloud_backup = 0;
    ferry_plan_t p = plan_of(&d.dev, FERRY_BACKUP_ICLOUD, 1, FERRY_ACCOUNT_PERSONAL);
    assert_int_equal(p.verdict, FERRY_VERDICT_OK);
    assert_string_equal(p.warnings[0].rules[0], "B5");
    ferry_plan_free(&p);
    tp_device_init(&d, FERRY_ENROLL_DE_ACCOUNT); /* de-account is not User Enrollment */
    d.dev.restrictions.allow_cloud_backup = 0;
    p = plan_of(&d.dev, FERRY_BACKUP_ICLOUD, 1, FERRY_ACCOUNT_PERSONAL);
    assert_int_equal(p.verdict, FERRY_VERDICT_REFUSED);
    ferry_plan_free(&p);
}

static void test_B6_force_encrypted_backup_refuses_a_backup_without_password(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_UE_ACCOUNT); /* honoured under User Enrollment too */
    d.dev.restrictions.force_encrypted_backup = 1;
    ferry_plan_t p = plan_of(&d.dev, FERRY_BACKUP_HOST, 0, FERRY_ACCOUNT_NONE);
    assert_int_equal(p.verdict, FERRY_VERDICT_REFUSED);
    assert_string_equal(p.refusal.rules[0], "B6");
    assert_non_null(strstr(p.refusal.why, "backup password"));
    assert_int_equal(p.n_items, 0);
    ferry_plan_free(&p);
    d.dev.backup_password_set = 1;
    p = plan_of(&d.dev, FERRY_BACKUP_HOST, 0, FERRY_ACCOUNT_NONE);
    assert_int_equal(p.verdict, FERRY_VERDICT_OK);
    assert_int_equal(p.encrypted, 1);
    ferry_plan_free(&p);
}

static void test_B7_enterprise_books_are_left_out_when_disallowed(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_UE_ACCOUNT);
    ferry_plan_t p = plan_of(&d.dev, FERRY_BACKUP_HOST, 1, FERRY_ACCOUNT_NONE);
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_BOOK, "com.example.handbook"), "included");
    ferry_plan_free(&p);
    d.dev.restrictions.allow_enterprise_book_backup = 0;
    p = plan_of(&d.dev, FERRY_BACKUP_HOST, 1, FERRY_ACCOUNT_NONE);
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_BOOK, "com.example.handbook"), "excluded");
    assert_true(tp_has_rule(&p, FERRY_ITEM_BOOK, "com.example.handbook", "B7"));
    ferry_plan_free(&p);
}

static void test_B8_prevent_backup_flag_excludes_app_data(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_ADE);
    d.apps[1].management_flags = 5; /* both bits */
    d.apps[0].declarative = 1;
    d.apps[0].include_in_backup = 0;
    ferry_plan_t p = plan_of(&d.dev, FERRY_BACKUP_HOST, 1, FERRY_ACCOUNT_NONE);
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_APP_DATA, "com.example.nobackup"), "excluded");
    assert_true(tp_has_rule(&p, FERRY_ITEM_APP_DATA, "com.example.nobackup", "B8"));
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_APP_DATA, "com.example.remove"), "excluded");
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_APP_DATA, "com.example.keep"), "excluded");
    assert_non_null(strstr(ferry_plan_find(&p, FERRY_ITEM_APP_DATA, "com.example.keep")->d.why,
                           "IncludeInBackup"));
    /* IncludeInBackup does not override B2 */
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_APP, "com.example.keep"), "excluded");
    ferry_plan_free(&p);
}

static void test_B9_management_configuration_is_in_every_full_backup(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_ADE);
    ferry_plan_t p = plan_of(&d.dev, FERRY_BACKUP_HOST, 0, FERRY_ACCOUNT_NONE);
    assert_string_equal(tp_outcome(&p, K_MC, "management-configuration"), "included");
    ferry_plan_free(&p);
    d.dev.enrollment = FERRY_ENROLL_NONE; /* enrolled or not */
    p = plan_of(&d.dev, FERRY_BACKUP_ICLOUD, 1, FERRY_ACCOUNT_PERSONAL);
    assert_string_equal(tp_outcome(&p, K_MC, "management-configuration"), "included");
    ferry_plan_free(&p);
    tp_device_init(&d, FERRY_ENROLL_PROFILE_DE); /* none on the device */
    p = plan_of(&d.dev, FERRY_BACKUP_HOST, 1, FERRY_ACCOUNT_NONE);
    assert_string_equal(tp_outcome(&p, K_MC, "management-configuration"), "skipped");
    assert_non_null(strstr(ferry_plan_find(&p, K_MC, "management-configuration")->d.why, "not present"));
    ferry_plan_free(&p);
}

static void test_B10_enrollment_profile_only_in_encrypted_de_and_ade_backups(void **state)
{
    (void)state;
    static const struct {
        ferry_enrollment_t e;
        int enc;
        const char *expect;
    } rows[] = {
        {FERRY_ENROLL_NONE, 1, "skipped"},          {FERRY_ENROLL_PROFILE_DE, 0, "excluded"},
        {FERRY_ENROLL_PROFILE_DE, 1, "included"},   {FERRY_ENROLL_ADE, 0, "excluded"},
        {FERRY_ENROLL_ADE, 1, "included"},          {FERRY_ENROLL_UE_PROFILE, 1, "excluded"},
        {FERRY_ENROLL_UE_ACCOUNT, 1, "excluded"},   {FERRY_ENROLL_DE_ACCOUNT, 1, "excluded"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        tp_device_t d;
        tp_device_init(&d, rows[i].e);
        ferry_plan_t p = plan_of(&d.dev, FERRY_BACKUP_HOST, rows[i].enc, FERRY_ACCOUNT_NONE);
        assert_string_equal(tp_outcome(&p, K_EN, "mdm-enrollment"), rows[i].expect);
        assert_true(tp_has_rule(&p, K_EN, "mdm-enrollment", "B10"));
        ferry_plan_free(&p);
    }
}

static void test_B11_managed_account_icloud_backup_holds_only_managed_app_data(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_DE_ACCOUNT);
    ferry_plan_t p = plan_of(&d.dev, FERRY_BACKUP_ICLOUD, 1, FERRY_ACCOUNT_MANAGED);
    assert_int_equal(p.managed_apps_only, 1);
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_APP_DATA, "com.example.keep"), "included");
    assert_true(tp_has_rule(&p, FERRY_ITEM_APP_DATA, "com.example.keep", "B11"));
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_APP_DATA, "com.example.nobackup"), "excluded"); /* B8 */
    assert_string_equal(tp_outcome(&p, K_MC, "management-configuration"), "excluded");
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_PROFILE, "com.example.manual"), "excluded");
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_BOOK, "com.example.handbook"), "excluded");
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_CATEGORY, "passwords"), "excluded");
    ferry_plan_free(&p);
    ferry_backup_options_t o = {FERRY_BACKUP_ICLOUD, 1, FERRY_ACCOUNT_MANAGED, 0};
    ferry_backup_facts_t bf;
    assert_int_equal(ferry_policy_backup_facts_derive(&d.dev, &o, &bf), 0);
    assert_int_equal(bf.managed_apps_only, 1);
    assert_int_equal(bf.n_profiles, 0);
    assert_string_equal(bf.account_id, TP_ACCOUNT);
    assert_int_equal(bf.categories, 0);
    ferry_policy_backup_facts_free_derived(&bf);
}

static void test_B11_personal_account_backup_is_full_without_managed_app_data(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_UE_ACCOUNT);
    ferry_plan_t p = plan_of(&d.dev, FERRY_BACKUP_ICLOUD, 1, FERRY_ACCOUNT_PERSONAL);
    assert_int_equal(p.managed_apps_only, 0);
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_APP_DATA, "com.example.keep"), "excluded");
    assert_true(tp_has_rule(&p, FERRY_ITEM_APP_DATA, "com.example.keep", "B11"));
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_PROFILE, "com.example.manual"), "included");
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_CATEGORY, "passwords"), "included");
    ferry_plan_free(&p);
    /* on profile-de / ade a Managed Apple Account backup is a full backup */
    tp_device_init(&d, FERRY_ENROLL_ADE);
    d.dev.managed_account = 1;
    p = plan_of(&d.dev, FERRY_BACKUP_ICLOUD, 1, FERRY_ACCOUNT_MANAGED);
    assert_int_equal(p.managed_apps_only, 0);
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_CATEGORY, "passwords"), "included");
    ferry_plan_free(&p);
    /* host backups of ue/de-account devices are full; U3 governs their app data on restore */
    tp_device_init(&d, FERRY_ENROLL_UE_ACCOUNT);
    p = plan_of(&d.dev, FERRY_BACKUP_HOST, 1, FERRY_ACCOUNT_NONE);
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_APP_DATA, "com.example.keep"), "included");
    assert_true(tp_has_rule(&p, FERRY_ITEM_APP_DATA, "com.example.keep", "U3"));
    ferry_plan_free(&p);
}

static void test_B13_backup_plan_warns_about_multi_set_restrictions(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_ADE);
    const char *const keys[] = {"allowCloudBackup"};
    d.dev.multi_set_keys = keys;
    d.dev.n_multi_set_keys = 1;
    ferry_plan_t p = plan_of(&d.dev, FERRY_BACKUP_HOST, 1, FERRY_ACCOUNT_NONE);
    assert_int_equal(p.n_warnings, 1);
    assert_string_equal(p.warnings[0].rules[0], "B13");
    assert_non_null(strstr(p.warnings[0].why, "allowCloudBackup"));
    ferry_plan_free(&p);
}

static void test_B14_shared_ipad_host_backup_holds_device_level_state_only(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_ADE);
    d.dev.multi_user = 1;
    d.apps[0].user_channel = 1;
    ferry_plan_t p = plan_of(&d.dev, FERRY_BACKUP_HOST, 1, FERRY_ACCOUNT_NONE);
    assert_string_equal(tp_outcome(&p, K_MC, "management-configuration"), "included");
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_PROFILE, "com.example.wifi"), "included");
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_APP_DATA, "com.example.remove"), "included");
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_APP_DATA, "com.example.keep"), "excluded");
    assert_true(tp_has_rule(&p, FERRY_ITEM_APP_DATA, "com.example.keep", "B14"));
    assert_non_null(strstr(ferry_plan_find(&p, FERRY_ITEM_APP_DATA, "com.example.keep")->d.why,
                           "Shared iPad user data lives in iCloud"));
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_CATEGORY, "health"), "excluded");
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_CATEGORY, "photos"), "excluded");
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_CATEGORY, "wifi"), "included");
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_BOOK, "com.example.handbook"), "excluded");
    assert_true(tp_has_rule(&p, FERRY_ITEM_BOOK, "com.example.handbook", "B14"));
    ferry_plan_free(&p);
}

static void test_B12_is_moved_to_X1_and_never_cited(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_ADE);
    ferry_plan_t p = plan_of(&d.dev, FERRY_BACKUP_HOST, 1, FERRY_ACCOUNT_NONE);
    for (size_t i = 0; i < p.n_items; i++)
        assert_false(tp_decision_has_rule(&p.items[i].d, "B12"));
    assert_true(tp_has_rule(&p, FERRY_ITEM_CATEGORY, "health", "X1"));
    ferry_plan_free(&p);
}

static void test_X1_backup_plan_lists_private_categories_for_review(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_NONE);
    ferry_plan_t p = plan_of(&d.dev, FERRY_BACKUP_HOST, 1, FERRY_ACCOUNT_NONE);
    assert_true(tp_has_rule(&p, FERRY_ITEM_CATEGORY, "website-history", "X1"));
    assert_true(tp_has_rule(&p, FERRY_ITEM_CATEGORY, "passwords", "X1"));
    ferry_plan_free(&p);
    /* unencrypted: the password category is empty (B3), nothing to review */
    p = plan_of(&d.dev, FERRY_BACKUP_HOST, 0, FERRY_ACCOUNT_NONE);
    assert_false(tp_has_rule(&p, FERRY_ITEM_CATEGORY, "passwords", "X1"));
    ferry_plan_free(&p);
}

static void test_R6_backup_plan_notes_a_hardware_bound_profile_will_not_restore(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_ADE);
    tp_device_acme(&d);
    ferry_plan_t p = plan_of(&d.dev, FERRY_BACKUP_HOST, 1, FERRY_ACCOUNT_NONE);
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_PROFILE, "com.example.manual"), "included");
    assert_true(tp_has_rule(&p, FERRY_ITEM_PROFILE, "com.example.manual", "R6"));
    ferry_plan_free(&p);
    ferry_backup_options_t o = {FERRY_BACKUP_HOST, 1, FERRY_ACCOUNT_NONE, 0};
    ferry_backup_facts_t bf;
    assert_int_equal(ferry_policy_backup_facts_derive(&d.dev, &o, &bf), 0);
    assert_int_equal(bf.mdm_identity_hardware_bound, 1); /* from the profile's ACME payload UUID */
    assert_int_equal(bf.has_mdm_profile, 1);
    ferry_policy_backup_facts_free_derived(&bf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_B1_full_backup_holds_profiles_app_data_and_photos_without_icloud_photos),
        cmocka_unit_test(test_B2_app_binaries_and_store_books_are_never_in_a_backup),
        cmocka_unit_test(test_B3_unencrypted_backup_leaves_out_the_five_categories),
        cmocka_unit_test(test_B3_passcode_and_biometrics_are_never_in_a_backup),
        cmocka_unit_test(test_B4_icloud_backup_needs_an_account_and_its_conditions),
        cmocka_unit_test(test_B4_host_backup_is_encrypted_exactly_when_a_password_is_set),
        cmocka_unit_test(test_B5_allow_cloud_backup_false_turns_icloud_backup_off),
        cmocka_unit_test(test_B5_allow_cloud_backup_is_ignored_under_user_enrollment),
        cmocka_unit_test(test_B6_force_encrypted_backup_refuses_a_backup_without_password),
        cmocka_unit_test(test_B7_enterprise_books_are_left_out_when_disallowed),
        cmocka_unit_test(test_B8_prevent_backup_flag_excludes_app_data),
        cmocka_unit_test(test_B9_management_configuration_is_in_every_full_backup),
        cmocka_unit_test(test_B10_enrollment_profile_only_in_encrypted_de_and_ade_backups),
        cmocka_unit_test(test_B11_managed_account_icloud_backup_holds_only_managed_app_data),
        cmocka_unit_test(test_B11_personal_account_backup_is_full_without_managed_app_data),
        cmocka_unit_test(test_B13_backup_plan_warns_about_multi_set_restrictions),
        cmocka_unit_test(test_B14_shared_ipad_host_backup_holds_device_level_state_only),
        cmocka_unit_test(test_B12_is_moved_to_X1_and_never_cited),
        cmocka_unit_test(test_X1_backup_plan_lists_private_categories_for_review),
        cmocka_unit_test(test_R6_backup_plan_notes_a_hardware_bound_profile_will_not_restore),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
