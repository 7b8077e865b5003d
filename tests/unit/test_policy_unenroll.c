/*
 * test_policy_unenroll.c: what a device removes when its enrollment ends, through
 * ferry_policy_unenroll_plan(): S3 after a rejected check-in, E1 under profile-de and ade, E2 and U3
 * under the account-based enrollments, with the fixture device of test_policy_fixture.h.
 */
#include "testutil.h"

#include <stdlib.h>

#include "test_policy_fixture.h"

static const ferry_unenroll_item_t *find(const ferry_unenroll_plan_t *p, ferry_item_kind_t k, const char *name)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->items[i].kind == k && !strcmp(p->items[i].name, name))
            return &p->items[i];
    fail_msg("no unenroll item %s", name);
    return NULL;
}

static int has_rule(const ferry_unenroll_item_t *it, const char *id)
{
    return tp_decision_has_rule(&it->d, id);
}

static ferry_unenroll_plan_t plan(ferry_enrollment_t e, const char *cause, tp_device_t *d)
{
    tp_device_init(d, e);
    ferry_unenroll_plan_t p;
    assert_int_equal(ferry_policy_unenroll_plan(&d->dev, cause, &p), 0);
    return p;
}

static void test_S3_rejection_removes_enrollment_mdm_profiles_and_flag1_apps(void **state)
{
    (void)state;
    tp_device_t d;
    ferry_unenroll_plan_t p = plan(FERRY_ENROLL_ADE, "S3", &d);
    const ferry_unenroll_item_t *it = find(&p, FERRY_ITEM_MDM_ENROLLMENT, "com.example.mdm");
    assert_int_equal(it->action, FERRY_UNENROLL_REMOVE);
    assert_true(has_rule(it, "S3"));
    assert_int_equal(it->d.outcome, FERRY_OUT_REMOVED_AFTER_CHECKIN);
    assert_int_equal(find(&p, FERRY_ITEM_PROFILE, "com.example.wifi")->action, FERRY_UNENROLL_REMOVE);
    assert_int_equal(find(&p, FERRY_ITEM_PROFILE, "com.example.manual")->action, FERRY_UNENROLL_KEEP);
    assert_int_equal(find(&p, FERRY_ITEM_APP, "com.example.remove")->action, FERRY_UNENROLL_REMOVE);
    assert_int_equal(find(&p, FERRY_ITEM_APP, "com.example.keep")->action, FERRY_UNENROLL_UNMANAGE);
    assert_int_equal(find(&p, FERRY_ITEM_APP, "com.example.nobackup")->action, FERRY_UNENROLL_UNMANAGE);
    /* what stays: the management configuration (S1), enterprise books, unmanaged apps (no item) */
    it = find(&p, FERRY_ITEM_MANAGEMENT_CONFIGURATION, "");
    assert_int_equal(it->action, FERRY_UNENROLL_KEEP);
    assert_true(has_rule(it, "S1"));
    assert_int_equal(find(&p, FERRY_ITEM_BOOK, "com.example.handbook")->action, FERRY_UNENROLL_KEEP);
    for (size_t i = 0; i < p.n; i++)
        assert_string_not_equal(p.items[i].name, "com.example.own");
    ferry_policy_unenroll_free(&p);
}

static void test_E1_profile_de_keeps_apps_without_bit1_and_declarative_apps(void **state)
{
    (void)state;
    tp_device_t d;
    tp_device_init(&d, FERRY_ENROLL_PROFILE_DE);
    d.apps[1].declarative = 1; /* a DDM app: flags are meaningless, it stays */
    ferry_unenroll_plan_t p;
    assert_int_equal(ferry_policy_unenroll_plan(&d.dev, "S4", &p), 0);
    const ferry_unenroll_item_t *it = find(&p, FERRY_ITEM_APP, "com.example.remove");
    assert_int_equal(it->action, FERRY_UNENROLL_UNMANAGE);
    assert_true(has_rule(it, "E1"));
    it = find(&p, FERRY_ITEM_MDM_ENROLLMENT, "com.example.mdm");
    assert_true(has_rule(it, "S4") && has_rule(it, "E1"));
    assert_int_equal(it->d.outcome, FERRY_OUT_DROPPED);
    for (size_t i = 0; i < p.n; i++) /* profile-de: no management configuration */
        assert_int_not_equal(p.items[i].kind, FERRY_ITEM_MANAGEMENT_CONFIGURATION);
    ferry_policy_unenroll_free(&p);
}

static void test_E2_account_enrollment_removes_every_mdm_profile_and_managed_app(void **state)
{
    (void)state;
    tp_device_t d;
    ferry_unenroll_plan_t p = plan(FERRY_ENROLL_UE_ACCOUNT, "S3", &d);
    assert_int_equal(find(&p, FERRY_ITEM_PROFILE, "com.example.wifi")->action, FERRY_UNENROLL_REMOVE);
    assert_true(has_rule(find(&p, FERRY_ITEM_PROFILE, "com.example.wifi"), "E2"));
    assert_int_equal(find(&p, FERRY_ITEM_PROFILE, "com.example.manual")->action, FERRY_UNENROLL_KEEP);
    ferry_policy_unenroll_free(&p);
}

static void test_U3_account_enrollment_apps_go_whatever_their_flags(void **state)
{
    (void)state;
    ferry_enrollment_t es[] = {FERRY_ENROLL_UE_PROFILE, FERRY_ENROLL_UE_ACCOUNT, FERRY_ENROLL_DE_ACCOUNT};
    for (size_t k = 0; k < 3; k++) {
        tp_device_t d;
        ferry_unenroll_plan_t p = plan(es[k], NULL, &d);
        const char *apps[] = {"com.example.keep", "com.example.remove", "com.example.nobackup"};
        for (size_t i = 0; i < 3; i++) {
            const ferry_unenroll_item_t *it = find(&p, FERRY_ITEM_APP, apps[i]);
            assert_int_equal(it->action, FERRY_UNENROLL_REMOVE);
            assert_true(has_rule(it, "U3") && has_rule(it, "E2"));
        }
        ferry_policy_unenroll_free(&p);
    }
}

static void test_S2_only_401_and_403_unrecognized_from_17_unenroll(void **state)
{
    (void)state;
    ferry_os_version_t v16 = {16, 7, 10}, v17 = {17, 0, 0};
    assert_true(ferry_policy_checkin_unenrolls(401, 0, v16));
    assert_true(ferry_policy_checkin_unenrolls(403, 1, v17));
    assert_false(ferry_policy_checkin_unenrolls(403, 1, v16)); /* before 17 only 401 */
    assert_false(ferry_policy_checkin_unenrolls(403, 0, v17)); /* a refusal, not an unenrollment */
    assert_false(ferry_policy_checkin_unenrolls(500, 0, v17));
    assert_false(ferry_policy_checkin_unenrolls(0, 0, v17)); /* no answer */
    assert_false(ferry_policy_checkin_unenrolls(200, 0, v17));
}

static void test_E1_unenroll_plan_rejects_null(void **state)
{
    (void)state;
    ferry_unenroll_plan_t p;
    assert_int_equal(ferry_policy_unenroll_plan(NULL, "S3", &p), FERRY_EINVAL);
    assert_string_equal(ferry_policy_unenroll_action_name(FERRY_UNENROLL_UNMANAGE), "unmanage");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_S3_rejection_removes_enrollment_mdm_profiles_and_flag1_apps),
        cmocka_unit_test(test_E1_profile_de_keeps_apps_without_bit1_and_declarative_apps),
        cmocka_unit_test(test_E2_account_enrollment_removes_every_mdm_profile_and_managed_app),
        cmocka_unit_test(test_U3_account_enrollment_apps_go_whatever_their_flags),
        cmocka_unit_test(test_S2_only_401_and_403_unrecognized_from_17_unenroll),
        cmocka_unit_test(test_E1_unenroll_plan_rejects_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
