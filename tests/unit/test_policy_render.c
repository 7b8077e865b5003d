/*
 * test_policy_render.c: the JSON and table renderings of plans (the schema of docs/cli.md): the
 * item shape, both MDM branches, refusals, warnings, and names from outside that carry quotes,
 * control characters or invalid UTF-8.
 */
#include "testutil.h"

#include <stdlib.h>

#include "test_policy_fixture.h"

static ferry_plan_t same_device_plan(tp_device_t *d, ferry_mdm_answer_t mdm)
{
    ferry_backup_options_t bo = {FERRY_BACKUP_HOST, 1, FERRY_ACCOUNT_NONE, 0};
    ferry_backup_facts_t bf;
    assert_int_equal(ferry_policy_backup_facts_derive(&d->dev, &bo, &bf), 0);
    ferry_device_facts_t t;
    tp_target_init(&t, 1, (ferry_os_version_t){26, 3, 0});
    t.supervised = d->dev.supervised;
    ferry_restore_options_t ro;
    memset(&ro, 0, sizeof ro);
    ro.mdm = mdm;
    ferry_plan_t p;
    assert_int_equal(ferry_policy_restore_plan(&bf, &t, &ro, &p), 0);
    ferry_policy_backup_facts_free_derived(&bf);
    return p;
}

static void test_json_restore_plan_has_the_documented_shape(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_ADE);
    ferry_plan_t p = same_device_plan(&d, FERRY_MDM_BOTH);
    char *j = ferry_policy_plan_to_json(&p);
    assert_non_null(j);
    assert_non_null(strstr(j, "\"plan\": \"restore\""));
    assert_non_null(strstr(j, "\"verdict\": \"ok\""));
    assert_non_null(strstr(j, "\"mdm\": \"both\""));
    assert_non_null(strstr(j, "\"path\": \"same-device\""));
    assert_non_null(strstr(j, "{\"item\": \"mdm-enrollment\", \"kind\": \"mdm-enrollment\", \"outcome\": "
                              "\"restored\", \"rules\": [\"S1\", \"S2\"], \"why\": "));
    assert_non_null(strstr(j, "\"if_mdm_rejects\": {\"outcome\": \"removed-after-checkin\", \"rules\": "
                              "[\"S2\", \"S3\"]"));
    assert_non_null(strstr(j, "{\"item\": \"com.example.keep\", \"kind\": \"app\", \"outcome\": "
                              "\"reinstall-needed\", \"rules\": [\"B2\"]"));
    assert_null(strstr(j, "\"reason\""));
    free(j);
    ferry_plan_free(&p);
}

static void test_json_refusal_carries_reason_and_rules(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_NONE);
    d.dev.restrictions.force_encrypted_backup = 1;
    ferry_backup_options_t bo = {FERRY_BACKUP_HOST, 0, FERRY_ACCOUNT_NONE, 0};
    ferry_plan_t p;
    assert_int_equal(ferry_policy_backup_plan(&d.dev, &bo, &p), 0);
    char *j = ferry_policy_plan_to_json(&p);
    assert_non_null(strstr(j, "\"plan\": \"backup\""));
    assert_non_null(strstr(j, "\"verdict\": \"refused\""));
    assert_non_null(strstr(j, "\"rules\": [\"B6\"]"));
    assert_non_null(strstr(j, "\"reason\": \"a configuration profile requires an encrypted backup"));
    assert_non_null(strstr(j, "\"items\": []"));
    free(j);
    char *t = ferry_policy_plan_to_table(&p);
    assert_non_null(strstr(t, "Verdict: refused [B6]: a configuration profile requires"));
    free(t);
    ferry_plan_free(&p);
}

static void test_json_and_table_escape_names_from_outside(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_NONE);
    snprintf(d.profiles[2].identifier, sizeof d.profiles[2].identifier, "a\"b\\c\nd\x01\xff\xc3\xa9");
    ferry_backup_options_t bo = {FERRY_BACKUP_HOST, 1, FERRY_ACCOUNT_NONE, 0};
    ferry_plan_t p;
    assert_int_equal(ferry_policy_backup_plan(&d.dev, &bo, &p), 0);
    char *j = ferry_policy_plan_to_json(&p);
    assert_non_null(strstr(j, "\"item\": \"a\\\"b\\\\c\\nd\\u0001\\ufffd\xc3\xa9\""));
    free(j);
    char *t = ferry_policy_plan_to_table(&p);
    assert_non_null(strstr(t, "a\"b\\c?d?"));
    assert_null(strchr(t, '\x01'));
    free(t);
    ferry_plan_free(&p);
}

static void test_table_shows_both_branches_and_warnings_in_words(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_PROFILE_DE);
    ferry_plan_t p = same_device_plan(&d, FERRY_MDM_BOTH);
    char *t = ferry_policy_plan_to_table(&p);
    assert_non_null(strstr(t, "Restore plan: host encrypted backup to the same device (S rules)"));
    assert_non_null(strstr(t, "MDM answer not given (both branches shown)"));
    assert_non_null(strstr(t, "KIND"));
    assert_non_null(strstr(t, "if the MDM server rejects the check-in: removed-after-checkin [S2,S3]"));
    free(t);
    ferry_plan_free(&p);
    const char *const keys[] = {"forceEncryptedBackup"};
    d.dev.multi_set_keys = keys;
    d.dev.n_multi_set_keys = 1;
    ferry_backup_options_t bo = {FERRY_BACKUP_HOST, 1, FERRY_ACCOUNT_NONE, 0};
    assert_int_equal(ferry_policy_backup_plan(&d.dev, &bo, &p), 0);
    t = ferry_policy_plan_to_table(&p);
    assert_non_null(strstr(t, "Backup plan: host backup, encrypted"));
    assert_non_null(strstr(t, "Warning [B13]: restriction forceEncryptedBackup is set in more than one"));
    free(t);
    char *j = ferry_policy_plan_to_json(&p);
    assert_non_null(strstr(j, "\"warnings\": [{\"rules\": [\"B13\"], \"text\": \"restriction "
                              "forceEncryptedBackup"));
    free(j);
    ferry_plan_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_restore_plan_has_the_documented_shape),
        cmocka_unit_test(test_json_refusal_carries_reason_and_rules),
        cmocka_unit_test(test_json_and_table_escape_names_from_outside),
        cmocka_unit_test(test_table_shows_both_branches_and_warnings_in_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
