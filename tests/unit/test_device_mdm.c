/*
 * test_device_mdm.c: the device's side of MDM without a network: MDM commands run on a device
 * directory (InstallApplication with ManagementFlags, InstallProfile, RemoveProfile limits,
 * ManagedApplicationList, DeviceInformation queries, InstallMedia, a failing command leaving the
 * directory as it was), unenrollment by the rules (S3 with E1; U3), ADE enrollment (D2) and the MDM
 * identity's key material and check-in state.
 */
#include "device_tu.h"

#include <sys/stat.h>
#include <unistd.h>

static int tp_rule(const ferry_decision_t *d, const char *id)
{
    for (size_t i = 0; i < d->n_rules; i++)
        if (!strcmp(d->rules[i], id))
            return 1;
    return 0;
}

static plist_t command(const char *rt)
{
    plist_t c = plist_new_dict();
    plist_dict_set_item(c, "RequestType", plist_new_string(rt));
    plist_t top = plist_new_dict();
    plist_dict_set_item(top, "CommandUUID", plist_new_string("0001-TEST"));
    plist_dict_set_item(top, "Command", c);
    return top;
}

static plist_t cmd_body(plist_t top)
{
    return plist_dict_get_item(top, "Command");
}

static const char *run(ferry_device_t **dev, plist_t top, plist_t *result)
{
    const char *st = NULL;
    assert_int_equal(ferry_device_mdm_command(dev, top, result, &st), 0);
    assert_non_null(*dev);
    plist_free(top);
    return st;
}

static void test_S3_commands_install_managed_app_and_profile_reported_by_lists(void **state)
{
    (void)state;
    dt_dev_t d = dt_create("ade-iphone", 3);
    ferry_device_t *dev = dt_load(d.dir);
    plist_t r = NULL;

    plist_t c = command("InstallApplication");
    plist_dict_set_item(cmd_body(c), "Identifier", plist_new_string("com.example.flag5"));
    plist_dict_set_item(cmd_body(c), "ManagementFlags", plist_new_uint(5));
    assert_string_equal(run(&dev, c, &r), "Acknowledged");
    plist_free(r);

    plist_t prof = plist_new_dict();
    plist_dict_set_item(prof, "PayloadType", plist_new_string("Configuration"));
    plist_dict_set_item(prof, "PayloadIdentifier", plist_new_string("com.example.mdm-restrictions"));
    plist_dict_set_item(prof, "PayloadUUID", plist_new_string("9A9A9A9A-0000-4000-8000-000000000001"));
    plist_t pl = plist_new_dict();
    plist_dict_set_item(pl, "PayloadType", plist_new_string("com.apple.applicationaccess"));
    plist_dict_set_item(pl, "PayloadIdentifier", plist_new_string("com.example.mdm-restrictions.r"));
    plist_dict_set_item(pl, "PayloadUUID", plist_new_string("9A9A9A9A-0000-4000-8000-000000000002"));
    plist_dict_set_item(pl, "allowCamera", plist_new_bool(0));
    plist_t content = plist_new_array();
    plist_array_append_item(content, pl);
    plist_dict_set_item(prof, "PayloadContent", content);
    char *xml = NULL;
    uint32_t len = 0;
    plist_to_xml(prof, &xml, &len);
    plist_free(prof);
    c = command("InstallProfile");
    plist_dict_set_item(cmd_body(c), "Payload", plist_new_data(xml, len));
    free(xml);
    assert_string_equal(run(&dev, c, &r), "Acknowledged");
    plist_free(r);

    c = command("ManagedApplicationList");
    assert_string_equal(run(&dev, c, &r), "Acknowledged");
    plist_t app = plist_access_path(r, 2, "ManagedApplicationList", "com.example.flag5");
    assert_non_null(app);
    uint64_t flags = 0;
    plist_get_uint_val(plist_dict_get_item(app, "ManagementFlags"), &flags);
    assert_int_equal(flags, 5);
    plist_free(r);

    c = command("ProfileList");
    assert_string_equal(run(&dev, c, &r), "Acknowledged");
    plist_t list = plist_dict_get_item(r, "ProfileList");
    int found = 0;
    for (uint32_t i = 0; i < plist_array_get_size(list); i++) {
        char *id = NULL;
        ferry_plist_get_string(plist_array_get_item(list, i), "PayloadIdentifier", &id);
        found += id && !strcmp(id, "com.example.mdm-restrictions");
        free(id);
    }
    assert_int_equal(found, 1);
    plist_free(r);

    /* the MDM may not remove the enrollment profile */
    const ferry_installed_profile_t *enr = ferry_device_enrollment_profile(dev);
    c = command("RemoveProfile");
    plist_dict_set_item(cmd_body(c), "Identifier", plist_new_string(enr->profile->PayloadIdentifier));
    assert_string_equal(run(&dev, c, &r), "Error");
    assert_non_null(plist_dict_get_item(r, "ErrorChain"));
    plist_free(r);
    assert_non_null(ferry_device_enrollment_profile(dev));

    /* the change is on disk */
    ferry_device_t *again = dt_load(d.dir);
    assert_non_null(ferry_device_find_app(again, "com.example.flag5"));
    ferry_device_free(again);
    ferry_device_free(dev);
    dt_done(&d);
}

static void test_S2_device_information_answers_apple_query_keys(void **state)
{
    (void)state;
    dt_dev_t d = dt_create("ade-iphone", 4);
    ferry_device_t *dev = dt_load(d.dir);
    assert_int_equal(ferry_device_set(dev, "LastCloudBackupDate", "1700000000"), 0);
    plist_t c = command("DeviceInformation"), q = plist_new_array(), r = NULL;
    plist_array_append_item(q, plist_new_string("IsCloudBackupEnabled"));
    plist_array_append_item(q, plist_new_string("LastCloudBackupDate"));
    plist_array_append_item(q, plist_new_string("NotAKey"));
    plist_dict_set_item(cmd_body(c), "Queries", q);
    assert_string_equal(run(&dev, c, &r), "Acknowledged");
    plist_t qr = plist_dict_get_item(r, "QueryResponses");
    assert_int_equal(plist_dict_get_size(qr), 2);
    int64_t t = 0;
    assert_int_equal(ferry_plist_get_date(qr, "LastCloudBackupDate", &t), 0);
    assert_int_equal(t, 1700000000);
    plist_free(r);
    ferry_device_free(dev);
    dt_done(&d);
}

static void test_S2_a_failing_command_leaves_the_directory_unchanged(void **state)
{
    (void)state;
    dt_dev_t d = dt_create("ade-iphone", 5);
    ferry_device_t *dev = dt_load(d.dir);
    size_t n = dev->n_profiles;
    plist_t c = command("InstallProfile"), r = NULL;
    plist_dict_set_item(cmd_body(c), "Payload", plist_new_data("not a profile", 13));
    assert_string_equal(run(&dev, c, &r), "Error");
    plist_free(r);
    assert_int_equal(dev->n_profiles, n);
    c = command("NoSuchCommand");
    assert_string_equal(run(&dev, c, &r), "Error");
    plist_free(r);
    c = command("InstallApplication"); /* ManagementFlags 2 is not Apple's */
    plist_dict_set_item(cmd_body(c), "Identifier", plist_new_string("com.example.x"));
    plist_dict_set_item(cmd_body(c), "ManagementFlags", plist_new_uint(2));
    assert_string_equal(run(&dev, c, &r), "CommandFormatError");
    plist_free(r);
    assert_null(ferry_device_find_app(dev, "com.example.x"));
    ferry_device_free(dev);
    dt_done(&d);
}

static int app_dir_exists(const char *dir, const char *id)
{
    char *p = NULL;
    assert_true(asprintf(&p, "%s/files/AppDomain-%s", dir, id) > 0);
    int ok = access(p, F_OK) == 0;
    free(p);
    return ok;
}

static void test_S3_unenroll_removes_mdm_profiles_and_flag1_apps_with_data(void **state)
{
    (void)state;
    dt_dev_t d = dt_create("ade-iphone", 6);
    ferry_device_t *dev = dt_load(d.dir);
    const char *flag1 = NULL, *flag0 = NULL;
    for (size_t i = 0; i < dev->n_apps; i++) {
        const ferry_app_t *a = &dev->apps[i];
        if (a->IsManaged && !a->DeclarationIdentifier && a->Installed && (a->ManagementFlags & 1) && !flag1)
            flag1 = a->Identifier;
        if (a->IsManaged && !a->DeclarationIdentifier && a->Installed && !(a->ManagementFlags & 1) && !flag0)
            flag0 = a->Identifier;
    }
    assert_non_null(flag1);
    assert_non_null(flag0);
    char *f1 = strdup(flag1), *f0 = strdup(flag0);
    assert_true(app_dir_exists(d.dir, f1));
    size_t books = dev->n_books;
    ferry_unenroll_plan_t done;
    assert_int_equal(ferry_device_unenroll(dev, "S3", &done), 0);
    assert_true(done.n > 0);
    ferry_policy_unenroll_free(&done);
    ferry_device_free(dev);

    dev = dt_load(d.dir);
    assert_int_equal(ferry_device_enrollment(dev), FERRY_ENROLL_NONE);
    assert_non_null(dev->CloudConfigurationDetails); /* S1: the configuration stays */
    assert_null(ferry_device_find_app(dev, f1));
    assert_false(app_dir_exists(d.dir, f1));
    const ferry_app_t *kept = ferry_device_find_app(dev, f0);
    assert_non_null(kept);
    assert_false(kept->IsManaged);
    assert_int_equal(dev->n_books, books);
    for (size_t i = 0; i < dev->n_profiles; i++)
        assert_true(dev->profiles[i].source != FERRY_SOURCE_MDM && dev->profiles[i].source != FERRY_SOURCE_ENROLLMENT);
    ferry_device_checkin_state_t st;
    ferry_device_checkin_state(dev, &st);
    assert_string_equal(st.LastOutcome, "unenrolled");
    assert_int_equal(ferry_device_unenroll(dev, "S3", NULL), FERRY_ENOTFOUND);
    free(f1);
    free(f0);
    ferry_device_free(dev);
    dt_done(&d);
}

static void test_D2_enroll_ade_sets_configuration_and_enrollment(void **state)
{
    (void)state;
    dt_dev_t d = dt_create("unmanaged-personal", 7);
    ferry_device_t *dev = dt_load(d.dir);
    /* an enrollment profile like the assignment service's: ACME identity + MDM payload */
    plist_t acme = plist_new_dict(), mdm = plist_new_dict(), top = plist_new_dict(), content = plist_new_array();
    plist_dict_set_item(acme, "PayloadType", plist_new_string("com.apple.security.acme"));
    plist_dict_set_item(acme, "PayloadIdentifier", plist_new_string("t.acme"));
    plist_dict_set_item(acme, "PayloadUUID", plist_new_string("ACME-0001"));
    plist_dict_set_item(acme, "DirectoryURL", plist_new_string("http://127.0.0.1:1/acme/directory"));
    plist_dict_set_item(acme, "ClientIdentifier", plist_new_string("x"));
    plist_dict_set_item(acme, "KeyType", plist_new_string("ECSECPrimeRandom"));
    plist_dict_set_item(acme, "KeySize", plist_new_uint(256));
    plist_dict_set_item(acme, "HardwareBound", plist_new_bool(1));
    plist_t subj = plist_new_array(), rdn = plist_new_array(), cn = plist_new_array();
    plist_array_append_item(cn, plist_new_string("CN"));
    plist_array_append_item(cn, plist_new_string("dev"));
    plist_array_append_item(rdn, cn);
    plist_array_append_item(subj, rdn);
    plist_dict_set_item(acme, "Subject", subj);
    plist_dict_set_item(mdm, "PayloadType", plist_new_string("com.apple.mdm"));
    plist_dict_set_item(mdm, "PayloadIdentifier", plist_new_string("t.mdm"));
    plist_dict_set_item(mdm, "PayloadUUID", plist_new_string("MDM-0001"));
    plist_dict_set_item(mdm, "IdentityCertificateUUID", plist_new_string("ACME-0001"));
    plist_dict_set_item(mdm, "Topic", plist_new_string("com.apple.mgmt.External.t"));
    plist_dict_set_item(mdm, "ServerURL", plist_new_string("http://127.0.0.1:1/mdm"));
    plist_array_append_item(content, acme);
    plist_array_append_item(content, mdm);
    plist_dict_set_item(top, "PayloadType", plist_new_string("Configuration"));
    plist_dict_set_item(top, "PayloadIdentifier", plist_new_string("t.enroll"));
    plist_dict_set_item(top, "PayloadUUID", plist_new_string("TOP-0001"));
    plist_dict_set_item(top, "PayloadContent", content);
    char *xml = NULL;
    uint32_t len = 0;
    plist_to_xml(top, &xml, &len);
    plist_free(top);
    plist_t ade = plist_new_dict();
    plist_dict_set_item(ade, "url", plist_new_string("http://127.0.0.1:1/ade/enroll"));
    plist_dict_set_item(ade, "org_name", plist_new_string("Org"));
    plist_dict_set_item(ade, "is_mdm_removable", plist_new_bool(0));
    assert_int_equal(ferry_device_enroll_ade(dev, ade, (const uint8_t *)xml, len), 0);
    assert_int_equal(ferry_device_enroll_ade(dev, ade, (const uint8_t *)xml, len), FERRY_EEXIST);
    ferry_device_free(dev);
    dev = dt_load(d.dir);
    assert_int_equal(ferry_device_enrollment(dev), FERRY_ENROLL_ADE);
    assert_true(dev->IsSupervised);
    int unremovable = 0;
    ferry_plist_get_bool(dev->CloudConfigurationDetails, "IsMDMUnremovable", &unremovable);
    assert_true(unremovable);

    /* the ACME identity has no key until the device stores one; then it reads it back */
    ferry_device_identity_t id;
    assert_int_equal(ferry_device_identity_get(dev, &id), 0);
    assert_true(id.hardware_bound);
    assert_null(id.key_der);
    ferry_device_identity_clear(&id);
    const uint8_t cert[3] = {1, 2, 3}, key[4] = {4, 5, 6, 7};
    assert_int_equal(ferry_device_identity_store(dev, cert, 3, key, 4), 0);
    ferry_device_free(dev);
    dev = dt_load(d.dir);
    assert_int_equal(ferry_device_identity_get(dev, &id), 0);
    assert_int_equal(id.key_len, 4);
    assert_memory_equal(id.key_der, key, 4);
    assert_int_equal(id.cert_len, 3);
    ferry_device_identity_clear(&id);

    /* S4 cause: the unenrollment cites S4 and E1 */
    ferry_unenroll_plan_t done;
    assert_int_equal(ferry_device_unenroll(dev, "S4", &done), 0);
    assert_true(done.n >= 1);
    ferry_policy_unenroll_free(&done);
    plist_free(ade);
    free(xml);
    ferry_device_free(dev);
    dt_done(&d);
}

static void test_S2_settings_media_and_app_commands(void **state)
{
    (void)state;
    dt_dev_t d = dt_create("ade-iphone", 9);
    ferry_device_t *dev = dt_load(d.dir);
    plist_t r = NULL;

    plist_t c = command("Settings"), items = plist_new_array(), it = plist_new_dict();
    plist_dict_set_item(it, "Item", plist_new_string("DeviceName"));
    plist_dict_set_item(it, "DeviceName", plist_new_string("Renamed by MDM"));
    plist_array_append_item(items, it);
    plist_dict_set_item(cmd_body(c), "Settings", items);
    assert_string_equal(run(&dev, c, &r), "Acknowledged");
    plist_free(r);
    assert_string_equal(dev->DeviceName, "Renamed by MDM");

    c = command("InstallMedia");
    plist_dict_set_item(cmd_body(c), "MediaType", plist_new_string("Book"));
    plist_dict_set_item(cmd_body(c), "PersistentID", plist_new_string("com.example.newbook"));
    plist_dict_set_item(cmd_body(c), "MediaURL", plist_new_string("https://books.example.com/n.pdf"));
    size_t books = dev->n_books;
    assert_string_equal(run(&dev, c, &r), "Acknowledged");
    plist_free(r);
    assert_int_equal(dev->n_books, books + 1);
    c = command("RemoveMedia");
    plist_dict_set_item(cmd_body(c), "MediaType", plist_new_string("Book"));
    plist_dict_set_item(cmd_body(c), "PersistentID", plist_new_string("com.example.newbook"));
    assert_string_equal(run(&dev, c, &r), "Acknowledged");
    plist_free(r);
    assert_int_equal(dev->n_books, books);
    c = command("RemoveMedia"); /* Acknowledged even when the book is not there */
    plist_dict_set_item(cmd_body(c), "MediaType", plist_new_string("Book"));
    plist_dict_set_item(cmd_body(c), "PersistentID", plist_new_string("com.example.nothere"));
    assert_string_equal(run(&dev, c, &r), "Acknowledged");
    plist_free(r);

    c = command("InstalledApplicationList");
    plist_dict_set_item(cmd_body(c), "ManagedAppsOnly", plist_new_bool(1));
    assert_string_equal(run(&dev, c, &r), "Acknowledged");
    plist_t list = plist_dict_get_item(r, "InstalledApplicationList");
    assert_true(plist_array_get_size(list) > 0);
    char *first = NULL;
    assert_int_equal(ferry_plist_get_string(plist_array_get_item(list, 0), "Identifier", &first), 0);
    plist_free(r);
    const ferry_app_t *a = ferry_device_find_app(dev, first);
    assert_non_null(a);
    assert_true(a->IsManaged);
    c = command("RemoveApplication");
    plist_dict_set_item(cmd_body(c), "Identifier", plist_new_string(first));
    const char *st = run(&dev, c, &r);
    plist_free(r);
    if (!strcmp(st, "Acknowledged"))
        assert_null(ferry_device_find_app(dev, first));
    else /* a declaratively managed app is not the MDM's to remove */
        assert_non_null(ferry_device_find_app(dev, first)->DeclarationIdentifier);
    free(first);

    c = command("DeviceConfigured");
    assert_string_equal(run(&dev, c, &r), "Acknowledged");
    plist_free(r);
    assert_true(dev->SetupComplete);
    ferry_device_free(dev);
    dt_done(&d);
}

static void test_S7_restore_without_enrollment_removes_what_it_installed(void **state)
{
    (void)state;
    dt_dev_t d = dt_create("ade-iphone", 8);
    ferry_device_t *dev = dt_load(d.dir);
    const ferry_installed_profile_t *enr = ferry_device_enrollment_profile(dev);
    char *id = strdup(enr->profile->PayloadIdentifier);
    assert_int_equal(ferry_device_remove_profile(dev, id), 0); /* as an unencrypted backup restores */
    assert_int_equal(ferry_device_unenroll(dev, "S3", NULL), FERRY_ENOTFOUND);
    ferry_unenroll_plan_t done;
    assert_int_equal(ferry_device_unenroll(dev, "S7", &done), 0);
    int removed = 0;
    for (size_t i = 0; i < done.n; i++) {
        removed += done.items[i].action == FERRY_UNENROLL_REMOVE;
        assert_true(tp_rule(&done.items[i].d, "S7") && tp_rule(&done.items[i].d, "E1"));
    }
    assert_true(removed > 0);
    ferry_policy_unenroll_free(&done);
    for (size_t i = 0; i < dev->n_profiles; i++)
        assert_int_not_equal(dev->profiles[i].source, FERRY_SOURCE_MDM);
    for (size_t i = 0; i < dev->n_apps; i++)
        assert_false(dev->apps[i].IsManaged && !dev->apps[i].DeclarationIdentifier && (dev->apps[i].ManagementFlags & 1));
    free(id);
    ferry_device_free(dev);
    dt_done(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_S3_commands_install_managed_app_and_profile_reported_by_lists),
        cmocka_unit_test(test_S2_device_information_answers_apple_query_keys),
        cmocka_unit_test(test_S2_a_failing_command_leaves_the_directory_unchanged),
        cmocka_unit_test(test_S3_unenroll_removes_mdm_profiles_and_flag1_apps_with_data),
        cmocka_unit_test(test_D2_enroll_ade_sets_configuration_and_enrollment),
        cmocka_unit_test(test_S7_restore_without_enrollment_removes_what_it_installed),
        cmocka_unit_test(test_S2_settings_media_and_app_commands),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
