/*
 * test_device_templates.c: every template creates a device whose `show` dictionary carries the facts
 * the template promises, under Apple's key names (IsSupervised, IsMultiUser, EnrollmentMode,
 * HardwareBound, forceEncryptedBackup, ManagementFlags, ...); the same template and seed give a
 * byte-identical tree (signed profiles included) and another seed a different one; --mdm-url reaches
 * the MDM payload; creation refuses an existing directory and leaves nothing behind on failure.
 */
#include "device_tu.h"

#include <sys/stat.h>
#include <unistd.h>

static plist_t describe_template(const char *tmpl, dt_dev_t *d)
{
    *d = dt_create(tmpl, 1234);
    return dt_describe(d->dir);
}

static int profile_has_format(plist_t desc, const char *fmt)
{
    plist_t arr = dt_get(desc, "Profiles");
    return dt_find(arr, "Format", fmt) != NULL;
}

static void test_ade_iphone(void **state)
{
    (void)state;
    dt_dev_t d;
    plist_t p = describe_template("ade-iphone", &d);
    assert_string_equal(dt_str(p, "EnrollmentType"), "ade");
    assert_true(dt_bool(p, "IsSupervised"));
    assert_false(dt_bool(p, "IsMultiUser"));
    assert_true(dt_bool(p, "CloudConfigurationDetails.IsSupervised"));
    assert_true(dt_bool(p, "CloudConfigurationDetails.IsMDMUnremovable"));
    assert_true(dt_bool(p, "Restrictions.forceEncryptedBackup"));
    assert_false(dt_bool(p, "HardwareBound"));
    assert_string_equal(dt_str(p, "MDM.IdentityPayloadType"), "com.apple.security.pkcs12");
    assert_string_equal(dt_str(p, "UDIDForm"), "8-16");
    assert_string_equal(dt_str(p, "ProductType"), "iPhone15,2");
    /* managed apps with ManagementFlags 0, 1, 4 and 5, a DDM app that stays out of backups, a placeholder */
    plist_t apps = dt_get(p, "Apps");
    const int64_t flags[] = {0, 1, 4, 5};
    for (int f = 0; f < 4; f++) {
        int found = 0;
        for (uint32_t i = 0; i < plist_array_get_size(apps); i++) {
            plist_t a = plist_array_get_item(apps, i);
            plist_t m = plist_dict_get_item(a, "ManagementFlags");
            uint64_t v = 99;
            if (m)
                plist_get_uint_val(m, &v);
            found |= m && (int64_t)v == flags[f] && dt_bool(a, "IsManaged");
        }
        assert_true(found);
    }
    plist_t notes = dt_find(apps, "Identifier", "com.acme.notes");
    assert_non_null(notes);
    assert_false(dt_bool(notes, "IncludeInBackup"));
    assert_string_equal(dt_str(dt_find(apps, "Identifier", "com.acme.timesheet"), "Status"), "ManagedButUninstalled");
    assert_true(dt_uint(dt_find(apps, "Identifier", "com.acme.vault"), "DynamicSize") > 0);
    /* an enterprise book with PersistentID */
    plist_t book = dt_find(dt_get(p, "Books"), "PersistentID", "com.acme.handbook");
    assert_non_null(book);
    assert_true(dt_bool(book, "IsEnterpriseBook"));
    /* Wi-Fi, VPN, certificate, font and web-clip profiles; signed, binary and XML files */
    static const char *types[] = {"com.apple.wifi.managed", "com.apple.vpn.managed", "com.apple.security.pkcs1",
                                  "com.apple.font", "com.apple.webClip.managed", "com.apple.mdm"};
    ferry_device_t *dev = dt_load(d.dir);
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        int found = 0;
        for (size_t i = 0; i < dev->n_profiles; i++)
            found |= ferry_profile_find_payload(dev->profiles[i].profile, types[t]) != NULL;
        assert_true(found);
    }
    const ferry_installed_profile_t *enr = ferry_device_enrollment_profile(dev);
    assert_int_equal(enr->profile->format, FERRY_PROFILE_SIGNED);
    assert_true(enr->profile->is_signed);
    assert_int_equal(enr->source, FERRY_SOURCE_ENROLLMENT);
    ferry_device_free(dev);
    assert_true(profile_has_format(p, "signed") && profile_has_format(p, "binary") && profile_has_format(p, "xml"));
    /* personal data in every B3 category */
    for (int c = 0; c < FERRY_CAT_COUNT; c++) {
        char path[128];
        snprintf(path, sizeof path, "Files.Categories.%s.Files", ferry_policy_category_name(1u << c));
        if ((1u << c) == FERRY_CAT_PASSWORDS)
            assert_non_null(dt_find(dt_get(p, "Keychain"), "Category", "passwords"));
        else
            assert_true(dt_uint(p, path) > 0);
    }
    plist_free(p);
    dt_done(&d);
}

static void test_ade_ipad_acme(void **state)
{
    (void)state;
    dt_dev_t d;
    plist_t p = describe_template("ade-ipad-acme", &d);
    assert_string_equal(dt_str(p, "EnrollmentType"), "ade");
    assert_string_equal(dt_str(p, "DeviceClass"), "iPad");
    assert_true(dt_bool(p, "HardwareBound"));
    assert_true(dt_bool(p, "MDM.HardwareBound"));
    assert_true(dt_bool(p, "MDM.Attest"));
    assert_string_equal(dt_str(p, "MDM.IdentityPayloadType"), "com.apple.security.acme");
    plist_t key = dt_find(dt_get(p, "Keychain"), "class", "keys");
    assert_non_null(key);
    assert_true(dt_bool(key, "HardwareBound"));
    plist_free(p);
    dt_done(&d);
}

static void test_shared_ipad(void **state)
{
    (void)state;
    dt_dev_t d;
    plist_t p = describe_template("shared-ipad", &d);
    assert_string_equal(dt_str(p, "EnrollmentType"), "ade");
    assert_true(dt_bool(p, "IsMultiUser"));
    assert_true(dt_bool(p, "CloudConfigurationDetails.IsMultiUser"));
    assert_string_equal(dt_str(p, "AssignmentService"), "ASM");
    plist_t caps = dt_get(p, "MDM.ServerCapabilities");
    int per_user = 0;
    for (uint32_t i = 0; i < plist_array_get_size(caps); i++)
        per_user |= !strcmp(plist_get_string_ptr(plist_array_get_item(caps, i), NULL),
                            "com.apple.mdm.per-user-connections");
    assert_true(per_user);
    assert_int_equal(plist_array_get_size(dt_get(p, "Books")), 0); /* B14: no enterprise books on Shared iPad */
    plist_free(p);
    dt_done(&d);
}

static void test_profile_de_ipad(void **state)
{
    (void)state;
    dt_dev_t d;
    plist_t p = describe_template("profile-de-ipad", &d);
    assert_string_equal(dt_str(p, "EnrollmentType"), "profile-de");
    assert_false(dt_bool(p, "IsSupervised"));
    assert_null(dt_get(p, "CloudConfigurationDetails")); /* B9: no management configuration */
    assert_string_equal(dt_str(p, "UDIDForm"), "40-hex");
    assert_false(dt_bool(p, "Restrictions.allowCloudBackup"));
    assert_string_equal(dt_str(p, "MDM.IdentityPayloadType"), "com.apple.security.scep");
    char *ccd = NULL;
    assert_true(asprintf(&ccd, "%s/files/SysSharedContainerDomain-systemgroup.com.apple.configurationprofiles/Library/"
                               "ConfigurationProfiles/CloudConfigurationDetails.plist", d.dir) > 0);
    assert_int_not_equal(access(ccd, F_OK), 0);
    free(ccd);
    plist_free(p);
    dt_done(&d);
}

static void test_ue_account_iphone(void **state)
{
    (void)state;
    dt_dev_t d;
    plist_t p = describe_template("ue-account-iphone", &d);
    assert_string_equal(dt_str(p, "EnrollmentType"), "ue-account");
    assert_string_equal(dt_str(p, "EnrollmentMode"), "BYOD");
    assert_string_equal(dt_str(p, "MDM.AssignedManagedAppleID"), dt_str(p, "Accounts.ManagedAppleAccount"));
    assert_non_null(dt_get(p, "Accounts.PersonalAppleAccount"));
    assert_false(dt_bool(p, "IsSupervised"));
    assert_null(dt_get(p, "MDM.AccessRights")); /* ignored under User Enrollment */
    plist_free(p);
    dt_done(&d);
}

static void test_de_account_iphone(void **state)
{
    (void)state;
    dt_dev_t d;
    plist_t p = describe_template("de-account-iphone", &d);
    assert_string_equal(dt_str(p, "EnrollmentType"), "de-account");
    assert_string_equal(dt_str(p, "EnrollmentMode"), "ADDE");
    assert_non_null(dt_get(p, "Accounts.ManagedAppleAccount"));
    plist_free(p);
    dt_done(&d);
}

static void test_abe_employee_iphone(void **state)
{
    (void)state;
    dt_dev_t d;
    plist_t p = describe_template("abe-employee-iphone", &d);
    assert_string_equal(dt_str(p, "EnrollmentType"), "ade");
    assert_true(dt_bool(p, "EmployeePlan"));
    assert_string_equal(dt_str(p, "AssignmentService"), "ABM");
    assert_non_null(dt_get(p, "Accounts.ManagedAppleAccount"));
    plist_free(p);
    dt_done(&d);
}

static void test_vision_pro_ade(void **state)
{
    (void)state;
    dt_dev_t d;
    plist_t p = describe_template("vision-pro-ade", &d);
    assert_string_equal(dt_str(p, "DeviceClass"), "RealityDevice");
    assert_string_equal(dt_str(p, "ProductType"), "RealityDevice14,1");
    assert_string_equal(dt_str(p, "EnrollmentType"), "ade");
    assert_true(dt_bool(p, "IsSupervised"));
    plist_free(p);
    dt_done(&d);
}

static void test_unmanaged_personal(void **state)
{
    (void)state;
    dt_dev_t d;
    plist_t p = describe_template("unmanaged-personal", &d);
    assert_string_equal(dt_str(p, "EnrollmentType"), "none");
    assert_false(dt_bool(p, "IsSupervised"));
    assert_null(dt_get(p, "MDM"));
    assert_true(dt_bool(p, "State.IsCloudBackupEnabled"));
    assert_true(dt_bool(p, "State.IsCloudPhotoLibraryEnabled"));
    assert_string_equal(dt_str(p, "UDIDForm"), "40-hex");
    plist_t prof = plist_array_get_item(dt_get(p, "Profiles"), 0);
    assert_string_equal(dt_str(prof, "Source"), "Manual");
    plist_free(p);
    dt_done(&d);
}

static void test_same_seed_byte_identical_every_template(void **state)
{
    (void)state;
    for (const char *const *t = ferry_device_template_names(); *t; t++) {
        char h1[65], h2[65];
        dt_dev_t a = dt_create(*t, 99), b = dt_create(*t, 99);
        dt_tree_hash(a.dir, h1);
        dt_tree_hash(b.dir, h2);
        if (strcmp(h1, h2))
            fail_msg("template %s: two devices from seed 99 differ", *t);
        dt_done(&a);
        dt_done(&b);
    }
}

static void test_other_seed_differs(void **state)
{
    (void)state;
    char h1[65], h2[65];
    dt_dev_t a = dt_create("ade-iphone", 1), b = dt_create("ade-iphone", 2);
    dt_tree_hash(a.dir, h1);
    dt_tree_hash(b.dir, h2);
    assert_string_not_equal(h1, h2);
    ferry_device_t *x = dt_load(a.dir), *y = dt_load(b.dir);
    assert_string_not_equal(x->UniqueDeviceID, y->UniqueDeviceID);
    assert_string_not_equal(x->SerialNumber, y->SerialNumber);
    ferry_device_free(x);
    ferry_device_free(y);
    dt_done(&a);
    dt_done(&b);
}

static void test_bulk_files_and_size(void **state)
{
    (void)state;
    ferry_device_create_opts_t o;
    ferry_device_create_opts_init(&o);
    o.template_name = "unmanaged-personal";
    o.files = 2500;
    o.size = 3 * 1024 * 1024 + 7;
    dt_dev_t d = dt_create_opts(&o);
    dt_dev_t base = dt_create("unmanaged-personal", 0);
    plist_t p = dt_describe(d.dir);
    ferry_device_create_opts_init(&o);
    plist_t q = dt_describe(base.dir);
    /* the default creates 20 bulk files of 2 MiB in total; the difference is exactly ours */
    assert_int_equal(dt_uint(p, "Files.Count") - dt_uint(q, "Files.Count"), 2500 - o.files);
    assert_int_equal(dt_uint(p, "Files.TotalSize") - dt_uint(q, "Files.TotalSize"), 3 * 1024 * 1024 + 7 - o.size);
    char *photo = NULL;
    assert_true(asprintf(&photo, "%s/files/CameraRollDomain/Media/DCIM/101APPLE/IMG_1001.HEIC", d.dir) > 0);
    assert_int_equal(access(photo, F_OK), 0); /* a second DCIM folder after 1000 photos */
    free(photo);
    plist_free(p);
    plist_free(q);
    dt_done(&d);
    dt_done(&base);
}

static void test_mdm_url_and_name(void **state)
{
    (void)state;
    ferry_device_create_opts_t o;
    ferry_device_create_opts_init(&o);
    o.template_name = "ade-ipad-acme";
    o.mdm_url = "http://127.0.0.1:18443/mdm";
    o.name = "Test \"quoted\" iPad";
    dt_dev_t d = dt_create_opts(&o);
    plist_t p = dt_describe(d.dir);
    assert_string_equal(dt_str(p, "MDM.ServerURL"), "http://127.0.0.1:18443/mdm");
    assert_string_equal(dt_str(p, "MDM.CheckInURL"), "http://127.0.0.1:18443/mdm");
    assert_string_equal(dt_str(p, "DeviceName"), "Test \"quoted\" iPad");
    plist_free(p);
    dt_done(&d);
}

static void test_create_refuses_existing_and_bad_options(void **state)
{
    (void)state;
    dt_dev_t d = dt_create("shared-ipad", 5);
    ferry_device_create_opts_t o;
    ferry_device_create_opts_init(&o);
    o.template_name = "shared-ipad";
    assert_int_equal(ferry_device_create(d.dir, &o), FERRY_EEXIST);
    o.template_name = "no-such-template";
    char *other = NULL;
    assert_true(asprintf(&other, "%s/other", d.tmp) > 0);
    assert_int_equal(ferry_device_create(other, &o), FERRY_EINVAL);
    assert_non_null(strstr(ferry_error_last(), "no-such-template"));
    o.template_name = "shared-ipad";
    o.mdm_url = "ftp://x";
    assert_int_equal(ferry_device_create(other, &o), FERRY_EINVAL);
    o.mdm_url = NULL;
    o.files = 0;
    o.size = 10;
    assert_int_equal(ferry_device_create(other, &o), FERRY_EINVAL);
    assert_int_not_equal(access(other, F_OK), 0); /* nothing left behind, not even a temporary directory */
    char *cmd = NULL;
    assert_true(asprintf(&cmd, "test -z \"$(ls -A '%s' | grep -v '^dev$')\"", d.tmp) > 0);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(other);
    dt_done(&d);
}

static void test_directory_modes(void **state)
{
    (void)state;
    dt_dev_t d = dt_create("ade-iphone", 3);
    struct stat st;
    assert_int_equal(stat(d.dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    char *p = NULL;
    assert_true(asprintf(&p, "%s/hardware.key", d.dir) > 0);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, 32);
    free(p);
    dt_done(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ade_iphone),
        cmocka_unit_test(test_ade_ipad_acme),
        cmocka_unit_test(test_shared_ipad),
        cmocka_unit_test(test_profile_de_ipad),
        cmocka_unit_test(test_ue_account_iphone),
        cmocka_unit_test(test_de_account_iphone),
        cmocka_unit_test(test_abe_employee_iphone),
        cmocka_unit_test(test_vision_pro_ade),
        cmocka_unit_test(test_unmanaged_personal),
        cmocka_unit_test(test_same_seed_byte_identical_every_template),
        cmocka_unit_test(test_other_seed_differs),
        cmocka_unit_test(test_bulk_files_and_size),
        cmocka_unit_test(test_mdm_url_and_name),
        cmocka_unit_test(test_create_refuses_existing_and_bad_options),
        cmocka_unit_test(test_directory_modes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
