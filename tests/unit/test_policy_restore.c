/*
 * test_policy_restore.c: the R rules (every restore) and the S rules (restore to the same device)
 * through ferry_policy_restore_plan(), with backups derived from the fixture devices by the B rules.
 */
#include "testutil.h"

#include <stdlib.h>

#include "test_policy_fixture.h"

#define K_MC FERRY_ITEM_MANAGEMENT_CONFIGURATION
#define K_EN FERRY_ITEM_MDM_ENROLLMENT
#define MC "management-configuration"
#define EN "mdm-enrollment"
#define OS(a, b) ((ferry_os_version_t){a, b, 0})

/* Backs d up (host, enc) and plans the restore onto t with mdm and host. */
static ferry_plan_t restore(const tp_device_t *d, int enc, const ferry_device_facts_t *t, ferry_mdm_answer_t mdm,
                            ferry_host_type_t host)
{
    ferry_backup_options_t bo = {FERRY_BACKUP_HOST, enc, FERRY_ACCOUNT_NONE, 0};
    ferry_backup_facts_t bf;
    assert_int_equal(ferry_policy_backup_facts_derive(&d->dev, &bo, &bf), 0);
    ferry_restore_options_t ro;
    memset(&ro, 0, sizeof ro);
    ro.mdm = mdm;
    ro.host = host;
    ferry_plan_t p;
    assert_int_equal(ferry_policy_restore_plan(&bf, t, &ro, &p), 0);
    ferry_policy_backup_facts_free_derived(&bf);
    return p;
}

static ferry_plan_t same_device(ferry_enrollment_t e, int enc, ferry_mdm_answer_t mdm)
{
    tp_device_t d;
    tp_device_init(&d, e);
    ferry_device_facts_t t;
    tp_target_init(&t, 1, OS(26, 3));
    t.supervised = d.dev.supervised;
    return restore(&d, enc, &t, mdm, FERRY_HOST_FINDER);
}

static void test_R1_passcode_and_biometrics_must_be_set_up_again(void **state)
{
    (void)state;
    for (int enc = 0; enc < 2; enc++) {
        ferry_plan_t p = same_device(FERRY_ENROLL_ADE, enc, FERRY_MDM_ACCEPT);
        assert_string_equal(tp_outcome(&p, FERRY_ITEM_PASSCODE, "passcode"), "not-in-backup");
        assert_true(tp_has_rule(&p, FERRY_ITEM_PASSCODE, "passcode", "R1"));
        assert_string_equal(tp_outcome(&p, FERRY_ITEM_BIOMETRICS, "biometrics"), "not-in-backup");
        assert_true(tp_has_rule(&p, FERRY_ITEM_BIOMETRICS, "biometrics", "R1"));
        ferry_plan_free(&p);
    }
}

static void test_R2_same_device_follows_S_and_other_devices_D(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_PROFILE_DE);
    ferry_device_facts_t t;
    tp_target_init(&t, 1, OS(26, 3));
    /* the hyphenated and upper-case form is the same device */
    snprintf(t.udid, sizeof t.udid, "00008030000A1B2C3D4E5F60");
    ferry_plan_t p = restore(&d, 1, &t, FERRY_MDM_ACCEPT, FERRY_HOST_FINDER);
    assert_int_equal(p.path, 'S');
    assert_true(tp_has_rule(&p, K_EN, EN, "S1"));
    ferry_plan_free(&p);
    tp_target_init(&t, 0, OS(26, 3));
    p = restore(&d, 1, &t, FERRY_MDM_ACCEPT, FERRY_HOST_FINDER);
    assert_int_equal(p.path, 'D');
    assert_true(tp_has_rule(&p, K_EN, EN, "D1"));
    ferry_plan_free(&p);
}

static void test_R2_account_enrollment_host_backup_app_data_follows_U3(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_DE_ACCOUNT);
    ferry_device_facts_t t;
    tp_target_init(&t, 0, OS(26, 3));
    ferry_plan_t p = restore(&d, 1, &t, FERRY_MDM_ACCEPT, FERRY_HOST_FINDER);
    assert_int_equal(p.path, 'D');
    /* U3, not D3: flags 0 does not keep it */
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_APP_DATA, "com.example.keep"), "dropped");
    assert_true(tp_has_rule(&p, FERRY_ITEM_APP_DATA, "com.example.keep", "U3"));
    assert_true(tp_has_rule(&p, FERRY_ITEM_APP_DATA, "com.example.keep", "R2"));
    assert_false(tp_has_rule(&p, FERRY_ITEM_APP_DATA, "com.example.keep", "D3"));
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_PROFILE, "com.example.manual"), "restored");
    ferry_plan_free(&p);
}

static void test_R3_backup_from_a_newer_os_is_refused(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_NONE);
    d.dev.os = (ferry_os_version_t){26, 3, 1};
    ferry_device_facts_t t;
    tp_target_init(&t, 1, OS(26, 3));
    ferry_plan_t p = restore(&d, 1, &t, FERRY_MDM_ACCEPT, FERRY_HOST_FINDER);
    assert_int_equal(p.verdict, FERRY_VERDICT_REFUSED);
    assert_string_equal(p.refusal.rules[0], "R3");
    assert_non_null(strstr(p.refusal.why, "26.3.1"));
    assert_int_equal(p.n_items, 0);
    ferry_plan_free(&p);
    t.os = (ferry_os_version_t){26, 4, 0}; /* an older backup restores */
    p = restore(&d, 1, &t, FERRY_MDM_ACCEPT, FERRY_HOST_FINDER);
    assert_int_equal(p.verdict, FERRY_VERDICT_OK);
    ferry_plan_free(&p);
}

static void test_R4_supervision_mismatch_refused_by_configurator_warned_by_finder(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_ADE); /* supervised */
    ferry_device_facts_t t;
    tp_target_init(&t, 0, OS(26, 3)); /* unsupervised, not in ABM */
    ferry_plan_t p = restore(&d, 1, &t, FERRY_MDM_ACCEPT, FERRY_HOST_CONFIGURATOR);
    assert_int_equal(p.verdict, FERRY_VERDICT_REFUSED);
    assert_string_equal(p.refusal.rules[0], "R4");
    ferry_plan_free(&p);
    p = restore(&d, 1, &t, FERRY_MDM_ACCEPT, FERRY_HOST_FINDER);
    assert_int_equal(p.verdict, FERRY_VERDICT_OK);
    assert_int_equal(p.n_warnings, 1);
    assert_string_equal(p.warnings[0].rules[0], "R4");
    ferry_plan_free(&p);
    /* a serial with a supervised ADE profile assigned counts as supervised */
    tp_target_assigned(&t, 0);
    p = restore(&d, 1, &t, FERRY_MDM_ACCEPT, FERRY_HOST_CONFIGURATOR);
    assert_int_equal(p.verdict, FERRY_VERDICT_OK);
    assert_int_equal(p.n_warnings, 0);
    ferry_plan_free(&p);
    /* --force passes the Configurator check, with the warning */
    tp_target_init(&t, 0, OS(26, 3));
    ferry_backup_options_t bo = {FERRY_BACKUP_HOST, 1, FERRY_ACCOUNT_NONE, 0};
    ferry_backup_facts_t bf;
    assert_int_equal(ferry_policy_backup_facts_derive(&d.dev, &bo, &bf), 0);
    ferry_restore_options_t ro;
    memset(&ro, 0, sizeof ro);
    ro.host = FERRY_HOST_CONFIGURATOR;
    ro.force = 1;
    assert_int_equal(ferry_policy_restore_plan(&bf, &t, &ro, &p), 0);
    assert_int_equal(p.verdict, FERRY_VERDICT_OK);
    assert_string_equal(p.warnings[0].rules[0], "R4");
    ferry_plan_free(&p);
    ferry_policy_backup_facts_free_derived(&bf);
}

static void test_R5_managed_account_backup_cannot_be_used_for_a_full_restore(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_UE_ACCOUNT);
    ferry_backup_options_t bo = {FERRY_BACKUP_ICLOUD, 1, FERRY_ACCOUNT_MANAGED, 0};
    ferry_backup_facts_t bf;
    assert_int_equal(ferry_policy_backup_facts_derive(&d.dev, &bo, &bf), 0);
    ferry_device_facts_t t;
    tp_target_init(&t, 1, OS(26, 3));
    ferry_restore_options_t ro;
    memset(&ro, 0, sizeof ro);
    ferry_plan_t p;
    assert_int_equal(ferry_policy_restore_plan(&bf, &t, &ro, &p), 0);
    assert_int_equal(p.verdict, FERRY_VERDICT_REFUSED);
    assert_true(tp_decision_has_rule(&p.refusal, "R5"));
    assert_int_equal(p.n_items, 0);
    ferry_plan_free(&p);
    ferry_policy_backup_facts_free_derived(&bf);
}

static void test_R6_hardware_bound_acme_profile_is_dropped_even_on_the_same_device(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_NONE);
    tp_device_acme(&d);
    ferry_device_facts_t t;
    tp_target_init(&t, 1, OS(26, 3));
    ferry_plan_t p = restore(&d, 1, &t, FERRY_MDM_ACCEPT, FERRY_HOST_FINDER);
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_PROFILE, "com.example.manual"), "dropped");
    assert_true(tp_has_rule(&p, FERRY_ITEM_PROFILE, "com.example.manual", "R6"));
    ferry_plan_free(&p);
}

static void test_S1_same_device_restores_management_configuration_and_enrollment(void **state)
{
    (void)state;
    ferry_plan_t p = same_device(FERRY_ENROLL_ADE, 1, FERRY_MDM_ACCEPT);
    assert_string_equal(tp_outcome(&p, K_MC, MC), "restored");
    assert_true(tp_has_rule(&p, K_MC, MC, "S1"));
    assert_string_equal(tp_outcome(&p, K_EN, EN), "restored");
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_PROFILE, "com.example.wifi"), "restored");
    ferry_plan_free(&p);
}

static void test_S2_checkin_answers_decide_the_restored_enrollment(void **state)
{
    (void)state;
    static const struct {
        ferry_mdm_answer_t mdm;
        int os_major;
        const char *expect;
    } rows[] = {
        {FERRY_MDM_ACCEPT, 26, "restored"},
        {FERRY_MDM_REJECT_401, 26, "removed-after-checkin"},
        {FERRY_MDM_REJECT_403, 26, "removed-after-checkin"},
        {FERRY_MDM_REJECT_403, 16, "restored"}, /* before iOS 17 only 401 is honoured */
        {FERRY_MDM_REJECT_401, 16, "removed-after-checkin"},
        {FERRY_MDM_UNREACHABLE, 26, "restored"}, /* retried at the next check-in */
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        tp_device_t d;
        tp_device_init(&d, FERRY_ENROLL_PROFILE_DE);
        d.dev.os = OS(rows[i].os_major, 0);
        ferry_device_facts_t t;
        tp_target_init(&t, 1, OS(rows[i].os_major, 0));
        ferry_plan_t p = restore(&d, 1, &t, rows[i].mdm, FERRY_HOST_FINDER);
        assert_string_equal(tp_outcome(&p, K_EN, EN), rows[i].expect);
        assert_true(tp_has_rule(&p, K_EN, EN, "S2"));
        ferry_plan_free(&p);
    }
}

static void test_S2_without_an_answer_the_plan_reports_both_branches(void **state)
{
    (void)state;
    ferry_plan_t p = same_device(FERRY_ENROLL_ADE, 1, FERRY_MDM_BOTH);
    const ferry_plan_item_t *en = ferry_plan_find(&p, K_EN, EN);
    assert_int_equal(en->d.outcome, FERRY_OUT_RESTORED);
    assert_true(en->has_if_rejected);
    assert_int_equal(en->if_rejected.outcome, FERRY_OUT_REMOVED_AFTER_CHECKIN);
    /* an item that does not depend on the answer has one branch */
    assert_false(ferry_plan_find(&p, FERRY_ITEM_PROFILE, "com.example.manual")->has_if_rejected);
    ferry_plan_free(&p);
}

static void test_S3_rejection_removes_enrollment_its_profiles_and_flag1_apps(void **state)
{
    (void)state;
    ferry_plan_t p = same_device(FERRY_ENROLL_ADE, 1, FERRY_MDM_REJECT_401);
    assert_string_equal(tp_outcome(&p, K_EN, EN), "removed-after-checkin");
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_PROFILE, "com.example.wifi"), "removed-after-checkin");
    assert_true(tp_has_rule(&p, FERRY_ITEM_PROFILE, "com.example.wifi", "S3"));
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_APP_DATA, "com.example.remove"), "removed-after-checkin");
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_APP, "com.example.remove"), "removed-after-checkin");
    /* what stays: management configuration, other apps (unmanaged), books, joined Wi-Fi */
    assert_string_equal(tp_outcome(&p, K_MC, MC), "restored");
    assert_true(tp_has_rule(&p, K_MC, MC, "S3"));
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_APP_DATA, "com.example.keep"), "placeholder");
    assert_true(tp_has_rule(&p, FERRY_ITEM_APP_DATA, "com.example.keep", "S3"));
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_PROFILE, "com.example.manual"), "restored");
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_BOOK, "com.example.handbook"), "restored");
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_CATEGORY, "wifi"), "restored");
    assert_true(tp_has_rule(&p, FERRY_ITEM_CATEGORY, "wifi", "S3"));
    ferry_plan_free(&p);
}

static void test_S4_hardware_bound_identity_removes_enrollment_and_reenrolls_via_ade(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_ADE);
    tp_device_acme(&d);
    ferry_device_facts_t t;
    tp_target_init(&t, 1, OS(26, 3));
    t.supervised = 1;
    ferry_plan_t p = restore(&d, 1, &t, FERRY_MDM_ACCEPT, FERRY_HOST_FINDER);
    assert_string_equal(tp_outcome(&p, K_EN, EN), "dropped");
    assert_true(tp_has_rule(&p, K_EN, EN, "S4"));
    /* E1's effects */
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_PROFILE, "com.example.wifi"), "dropped");
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_APP_DATA, "com.example.remove"), "dropped");
    assert_true(tp_has_rule(&p, FERRY_ITEM_APP_DATA, "com.example.remove", "E1"));
    assert_string_equal(tp_outcome(&p, K_MC, MC), "restored");
    ferry_plan_free(&p);
    tp_target_assigned(&t, 0); /* registered in ABM: enrolls by ADE */
    p = restore(&d, 1, &t, FERRY_MDM_ACCEPT, FERRY_HOST_FINDER);
    assert_string_equal(tp_outcome(&p, K_EN, EN), "re-enrolled");
    assert_true(tp_has_rule(&p, K_EN, EN, "D2"));
    assert_string_equal(tp_outcome(&p, K_MC, MC), "re-enrolled");
    ferry_plan_free(&p);
}

/* Facts as a backup reader fills them: the identity is found by its UUID among the profiles. */
static void test_S4_reader_facts_find_the_identity_by_uuid(void **state)
{
    (void)state;
    ferry_payload_facts_t pl[2];
    tp_payload(&pl[0], "com.apple.mdm", "MDM-9", 0);
    tp_payload(&pl[1], "com.apple.security.acme", "acme-id-9", 1);
    ferry_profile_facts_t pr;
    tp_profile(&pr, "org.example.enroll", 0, pl, 2);
    ferry_backup_facts_t b;
    memset(&b, 0, sizeof b);
    snprintf(b.source_udid, sizeof b.source_udid, "%s", TP_UDID);
    b.os = OS(26, 3);
    b.encrypted = 1;
    b.source_enrollment = FERRY_ENROLL_PROFILE_DE;
    b.has_mdm_profile = 1;
    snprintf(b.mdm_identity_uuid, sizeof b.mdm_identity_uuid, "ACME-ID-9");
    b.profiles = &pr;
    b.n_profiles = 1;
    b.categories = FERRY_CAT_ALL;
    ferry_device_facts_t t;
    tp_target_init(&t, 1, OS(26, 3));
    ferry_restore_options_t ro;
    memset(&ro, 0, sizeof ro);
    ro.mdm = FERRY_MDM_ACCEPT;
    ferry_plan_t p;
    assert_int_equal(ferry_policy_restore_plan(&b, &t, &ro, &p), 0);
    assert_string_equal(tp_outcome(&p, K_EN, EN), "dropped");
    assert_true(tp_has_rule(&p, K_EN, EN, "S4"));
    assert_null(ferry_plan_find(&p, FERRY_ITEM_PROFILE, "org.example.enroll")); /* it is the enrollment */
    ferry_plan_free(&p);
}

static void test_S5_placeholder_unless_configurator_or_app_installed(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_PROFILE_DE);
    ferry_device_facts_t t;
    tp_target_init(&t, 1, OS(26, 3));
    ferry_plan_t p = restore(&d, 1, &t, FERRY_MDM_ACCEPT, FERRY_HOST_FINDER);
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_APP_DATA, "com.example.keep"), "placeholder");
    assert_non_null(strstr(ferry_plan_find(&p, FERRY_ITEM_APP_DATA, "com.example.keep")->d.why,
                           "ManagedButUninstalled"));
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_APP, "com.example.keep"), "reinstall-needed");
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_BOOK, "com.example.handbook"), "restored");
    assert_true(tp_has_rule(&p, FERRY_ITEM_BOOK, "com.example.handbook", "S5"));
    ferry_plan_free(&p);
    p = restore(&d, 1, &t, FERRY_MDM_ACCEPT, FERRY_HOST_CONFIGURATOR);
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_APP_DATA, "com.example.keep"), "restored");
    assert_true(tp_has_rule(&p, FERRY_ITEM_APP_DATA, "com.example.keep", "S5"));
    ferry_plan_free(&p);
    ferry_app_facts_t installed;
    tp_app(&installed, "com.example.keep", 0, 0);
    t.apps = &installed;
    t.n_apps = 1;
    p = restore(&d, 1, &t, FERRY_MDM_ACCEPT, FERRY_HOST_FINDER);
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_APP_DATA, "com.example.keep"), "restored");
    assert_null(ferry_plan_find(&p, FERRY_ITEM_APP, "com.example.keep")); /* nothing to reinstall */
    ferry_plan_free(&p);
}

static void test_S6_abe_employee_plan_enrollment_is_not_resumed(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_ADE);
    ferry_device_facts_t t;
    tp_target_init(&t, 1, OS(26, 3));
    tp_target_assigned(&t, 0);
    t.assignment.abe_employee_plan = 1;
    ferry_plan_t p = restore(&d, 1, &t, FERRY_MDM_ACCEPT, FERRY_HOST_FINDER);
    assert_string_equal(tp_outcome(&p, K_EN, EN), "dropped");
    assert_true(tp_has_rule(&p, K_EN, EN, "S6"));
    assert_non_null(strstr(ferry_plan_find(&p, K_EN, EN)->d.why, "Managed Apple Account"));
    ferry_plan_free(&p);
}

static void test_S7_unencrypted_same_device_restore_leaves_the_device_unenrolled(void **state)
{
    (void)state;
    ferry_plan_t p = same_device(FERRY_ENROLL_ADE, 0, FERRY_MDM_BOTH);
    assert_string_equal(tp_outcome(&p, K_MC, MC), "restored");
    assert_string_equal(tp_outcome(&p, K_EN, EN), "not-in-backup");
    assert_true(tp_has_rule(&p, K_EN, EN, "S7"));
    assert_false(ferry_plan_find(&p, K_EN, EN)->has_if_rejected); /* no check-in takes place */
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_PROFILE, "com.example.wifi"), "dropped");
    assert_true(tp_has_rule(&p, FERRY_ITEM_PROFILE, "com.example.wifi", "S7"));
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_APP_DATA, "com.example.remove"), "dropped");
    assert_string_equal(tp_outcome(&p, FERRY_ITEM_APP_DATA, "com.example.keep"), "placeholder");
    ferry_plan_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_R1_passcode_and_biometrics_must_be_set_up_again),
        cmocka_unit_test(test_R2_same_device_follows_S_and_other_devices_D),
        cmocka_unit_test(test_R2_account_enrollment_host_backup_app_data_follows_U3),
        cmocka_unit_test(test_R3_backup_from_a_newer_os_is_refused),
        cmocka_unit_test(test_R4_supervision_mismatch_refused_by_configurator_warned_by_finder),
        cmocka_unit_test(test_R5_managed_account_backup_cannot_be_used_for_a_full_restore),
        cmocka_unit_test(test_R6_hardware_bound_acme_profile_is_dropped_even_on_the_same_device),
        cmocka_unit_test(test_S1_same_device_restores_management_configuration_and_enrollment),
        cmocka_unit_test(test_S2_checkin_answers_decide_the_restored_enrollment),
        cmocka_unit_test(test_S2_without_an_answer_the_plan_reports_both_branches),
        cmocka_unit_test(test_S3_rejection_removes_enrollment_its_profiles_and_flag1_apps),
        cmocka_unit_test(test_S4_hardware_bound_identity_removes_enrollment_and_reenrolls_via_ade),
        cmocka_unit_test(test_S4_reader_facts_find_the_identity_by_uuid),
        cmocka_unit_test(test_S5_placeholder_unless_configurator_or_app_installed),
        cmocka_unit_test(test_S6_abe_employee_plan_enrollment_is_not_resumed),
        cmocka_unit_test(test_S7_unencrypted_same_device_restore_leaves_the_device_unenrolled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
