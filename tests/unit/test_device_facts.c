/*
 * test_device_facts.c: the facts the rules engine reads (ferry/policy.h) filled from device
 * directories: enrollment, supervision, accounts, the hardware-bound ACME identity (S4, R6),
 * ThisDeviceOnly identity keys (D5), apps with ManagementFlags and IncludeInBackup, enterprise books,
 * the effective restrictions after B13 and the data categories present. One test runs a backup plan
 * on template devices to show that the facts reach the rules (B6).
 */
#include "device_tu.h"

static ferry_device_facts_t facts_of(const char *tmpl, dt_dev_t *d)
{
    *d = dt_create(tmpl, 4242);
    ferry_device_t *dev = dt_load(d->dir);
    ferry_device_facts_t f;
    if (ferry_device_facts(dev, 1, &f))
        fail_msg("facts: %s", ferry_error_last());
    ferry_device_free(dev);
    return f;
}

static const ferry_app_facts_t *app(const ferry_device_facts_t *f, const char *id)
{
    for (size_t i = 0; i < f->n_apps; i++)
        if (!strcmp(f->apps[i].bundle_id, id))
            return &f->apps[i];
    return NULL;
}

static void test_ade_iphone_facts(void **state)
{
    (void)state;
    dt_dev_t d;
    ferry_device_facts_t f = facts_of("ade-iphone", &d);
    assert_int_equal(f.enrollment, FERRY_ENROLL_ADE);
    assert_true(f.supervised);
    assert_false(f.multi_user);
    assert_true(f.has_management_config);
    assert_true(f.registered_in_abm);
    assert_true(f.personal_account);
    assert_false(f.managed_account);
    assert_int_equal(f.os.major, 18);
    assert_int_equal(f.os.minor, 1);
    assert_true(f.restrictions.force_encrypted_backup);
    assert_false(f.restrictions.allow_cloud_backup);
    assert_int_equal(f.n_multi_set_keys, 2);
    assert_false(f.backup_password_set);
    assert_false(f.mdm_identity_hardware_bound);
    assert_true(f.mdm_identity_uuid[0]);
    assert_int_equal(f.categories & FERRY_CAT_ALL, FERRY_CAT_ALL); /* every B3 category and photos */
    assert_int_equal(app(&f, "com.acme.vault")->management_flags, 4);
    assert_int_equal(app(&f, "com.acme.crm")->management_flags, 5);
    assert_true(app(&f, "com.acme.notes")->declarative);
    assert_false(app(&f, "com.acme.notes")->include_in_backup);
    assert_false(app(&f, "com.acme.timesheet")->installed);
    assert_false(app(&f, "net.whatsapp.WhatsApp")->managed);
    int enterprise = 0, by_mdm = 0, tdo = 0;
    for (size_t i = 0; i < f.n_books; i++)
        enterprise += f.books[i].enterprise && !strcmp(f.books[i].id, "com.acme.handbook");
    for (size_t i = 0; i < f.n_profiles; i++) {
        by_mdm += f.profiles[i].installed_by_mdm;
        for (size_t j = 0; j < f.profiles[i].n_payloads; j++)
            tdo += !strcmp(f.profiles[i].payloads[j].type, "com.apple.security.pkcs12") &&
                   f.profiles[i].payloads[j].this_device_only;
    }
    assert_int_equal(enterprise, 1);
    assert_int_equal(by_mdm, (int)f.n_profiles - 1); /* all but the enrollment profile */
    assert_int_equal(tdo, 1);
    ferry_device_facts_free(&f);
    dt_done(&d);
}

static void test_hardware_bound_identity_facts(void **state)
{
    (void)state;
    dt_dev_t d;
    ferry_device_facts_t f = facts_of("ade-ipad-acme", &d);
    assert_true(f.mdm_identity_hardware_bound);
    int hw = 0;
    for (size_t i = 0; i < f.n_profiles; i++)
        for (size_t j = 0; j < f.profiles[i].n_payloads; j++)
            hw += f.profiles[i].payloads[j].hardware_bound && !strcmp(f.profiles[i].payloads[j].uuid, f.mdm_identity_uuid);
    assert_int_equal(hw, 1);
    ferry_device_facts_free(&f);
    dt_done(&d);
}

static void test_account_driven_and_shared_facts(void **state)
{
    (void)state;
    dt_dev_t d;
    ferry_device_facts_t f = facts_of("ue-account-iphone", &d);
    assert_int_equal(f.enrollment, FERRY_ENROLL_UE_ACCOUNT);
    assert_true(f.managed_account);
    assert_non_null(strstr(f.managed_account_id, "@"));
    assert_false(f.supervised);
    ferry_device_facts_free(&f);
    dt_done(&d);
    f = facts_of("shared-ipad", &d);
    assert_true(f.multi_user);
    assert_true(f.assignment.is_multi_user);
    ferry_device_facts_free(&f);
    dt_done(&d);
    f = facts_of("abe-employee-iphone", &d);
    assert_true(f.assignment.abe_employee_plan);
    ferry_device_facts_free(&f);
    dt_done(&d);
    f = facts_of("unmanaged-personal", &d);
    assert_int_equal(f.enrollment, FERRY_ENROLL_NONE);
    assert_false(f.has_management_config);
    assert_true(f.icloud_photos);
    assert_int_equal(f.os.major, 16);
    ferry_device_facts_free(&f);
    dt_done(&d);
}

static void test_B6_template_device_refuses_unencrypted_host_backup(void **state)
{
    (void)state;
    dt_dev_t d;
    ferry_device_facts_t f = facts_of("ade-iphone", &d);
    ferry_backup_options_t o = {FERRY_BACKUP_HOST, 0, FERRY_ACCOUNT_NONE, 0};
    ferry_plan_t plan;
    assert_int_equal(ferry_policy_backup_plan(&f, &o, &plan), 0);
    assert_int_equal(plan.verdict, FERRY_VERDICT_REFUSED);
    ferry_plan_free(&plan);
    ferry_device_facts_free(&f);
    /* once the device has a backup password, the same backup goes ahead */
    ferry_device_t *dev = dt_load(d.dir);
    assert_int_equal(ferry_device_set_backup_password(dev, "pw", 2), 0);
    assert_int_equal(ferry_device_facts(dev, 0, &f), 0);
    assert_true(f.backup_password_set);
    assert_int_equal(ferry_policy_backup_plan(&f, &o, &plan), 0);
    assert_int_equal(plan.verdict, FERRY_VERDICT_OK);
    ferry_plan_free(&plan);
    ferry_device_facts_free(&f);
    ferry_device_free(dev);
    dt_done(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ade_iphone_facts),
        cmocka_unit_test(test_hardware_bound_identity_facts),
        cmocka_unit_test(test_account_driven_and_shared_facts),
        cmocka_unit_test(test_B6_template_device_refuses_unencrypted_host_backup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
