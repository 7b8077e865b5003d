/*
 * test_host_facts.c: a device's MCInstall and installation_proxy answers as policy facts
 * (src/host/facts_parse.c), without a device: the enrollment type from the com.apple.mdm payload and
 * the cloud configuration, the MDM identity's hardware binding (S4), profiles installed by MDM, apps;
 * real devices' replies without PayloadContent; malformed replies are skipped or refused, never
 * trusted.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/host/facts_internal.h"

static plist_t xml(const char *s)
{
    plist_t p = NULL;
    plist_from_xml(s, (uint32_t)strlen(s), &p);
    assert_non_null(p);
    return p;
}

#define PL_HEAD "<?xml version=\"1.0\"?><plist version=\"1.0\"><dict>"
#define PL_TAIL "</dict></plist>"

static const char CLOUD_ADE[] = PL_HEAD "<key>Status</key><string>Acknowledged</string>"
    "<key>CloudConfiguration</key><dict><key>IsSupervised</key><true/><key>IsMultiUser</key><false/>"
    "<key>ConfigurationURL</key><string>https://mdm.example.com/enroll</string></dict>" PL_TAIL;
static const char CLOUD_NONE[] = PL_HEAD "<key>Status</key><string>Acknowledged</string>" PL_TAIL;

static const char PROFILES[] = PL_HEAD "<key>Status</key><string>Acknowledged</string>"
    "<key>OrderedIdentifiers</key><array><string>com.acme.mdm</string><string>com.acme.wifi</string>"
    "<integer>3</integer><string>com.acme.nometa</string></array>"
    "<key>ProfileManifest</key><dict/>"
    "<key>ProfileMetadata</key><dict>"
    "<key>com.acme.mdm</key><dict><key>PayloadUUID</key><string>P-1</string>"
    "<key>PayloadDisplayName</key><string>MDM</string><key>PayloadContent</key><array>"
    "<dict><key>PayloadType</key><string>com.apple.mdm</string><key>PayloadUUID</key><string>M-1</string>"
    "<key>IdentityCertificateUUID</key><string>A-1</string>%s</dict>"
    "<dict><key>PayloadType</key><string>com.apple.security.acme</string><key>PayloadUUID</key>"
    "<string>A-1</string><key>HardwareBound</key><true/></dict>"
    "<dict><key>PayloadUUID</key><string>no-type</string></dict><string>junk</string></array></dict>"
    "<key>com.acme.wifi</key><dict><key>PayloadUUID</key><string>P-2</string><key>IsManaged</key><true/>"
    "<key>PayloadContent</key><array><dict><key>PayloadType</key><string>com.apple.wifi.managed</string>"
    "</dict></array></dict>"
    "</dict>" PL_TAIL;

static int parse(const char *cloud, const char *mdm_extra, ferry_device_facts_t *f)
{
    memset(f, 0, sizeof *f);
    char buf[8192];
    snprintf(buf, sizeof buf, PROFILES, mdm_extra);
    plist_t c = xml(cloud), p = xml(buf);
    int rc = host_facts_cloud_config(c, f);
    if (rc == 0)
        rc = host_facts_profiles(p, f);
    plist_free(c);
    plist_free(p);
    return rc;
}

static void test_ade_enrollment_and_identity(void **state)
{
    (void)state;
    ferry_device_facts_t f;
    assert_int_equal(parse(CLOUD_ADE, "", &f), 0);
    assert_int_equal(f.enrollment, FERRY_ENROLL_ADE);
    assert_true(f.has_management_config);
    assert_true(f.supervised);
    assert_int_equal(f.n_profiles, 3); /* the integer identifier is skipped */
    assert_string_equal(f.profiles[0].identifier, "com.acme.mdm");
    assert_string_equal(f.profiles[0].uuid, "P-1");
    assert_int_equal(f.profiles[0].n_payloads, 2); /* no PayloadType, not a dict: skipped */
    assert_true(f.profiles[0].payloads[1].hardware_bound);
    assert_true(f.profiles[0].payloads[1].this_device_only);
    assert_string_equal(f.mdm_identity_uuid, "A-1");
    assert_true(f.mdm_identity_hardware_bound); /* S4 */
    assert_false(f.profiles[0].installed_by_mdm);
    assert_true(f.profiles[1].installed_by_mdm);
    assert_string_equal(f.profiles[2].identifier, "com.acme.nometa");
    assert_int_equal(f.profiles[2].n_payloads, 0);
    ferry_host_facts_free(&f);
}

static void test_enrollment_types(void **state)
{
    (void)state;
    ferry_device_facts_t f;
    assert_int_equal(parse(CLOUD_NONE, "", &f), 0);
    assert_int_equal(f.enrollment, FERRY_ENROLL_PROFILE_DE);
    assert_false(f.has_management_config);
    ferry_host_facts_free(&f);
    assert_int_equal(parse(CLOUD_NONE, "<key>EnrollmentMode</key><string>BYOD</string>", &f), 0);
    assert_int_equal(f.enrollment, FERRY_ENROLL_UE_ACCOUNT);
    ferry_host_facts_free(&f);
    assert_int_equal(parse(CLOUD_ADE, "<key>EnrollmentMode</key><string>ADDE</string>", &f), 0);
    assert_int_equal(f.enrollment, FERRY_ENROLL_DE_ACCOUNT);
    ferry_host_facts_free(&f);
    assert_int_equal(parse(CLOUD_NONE, "<key>ManagedAppleID</key><string>a@b.example</string>", &f), 0);
    assert_int_equal(f.enrollment, FERRY_ENROLL_UE_PROFILE);
    ferry_host_facts_free(&f);
}

/* A real device's reply has no PayloadContent: profiles without payloads, no enrollment. */
static void test_real_device_reply(void **state)
{
    (void)state;
    ferry_device_facts_t f;
    memset(&f, 0, sizeof f);
    plist_t p = xml(PL_HEAD "<key>Status</key><string>Acknowledged</string><key>OrderedIdentifiers</key>"
                    "<array><string>com.x</string></array><key>ProfileMetadata</key><dict><key>com.x</key>"
                    "<dict><key>PayloadUUID</key><string>U</string><key>PayloadVersion</key><integer>1</integer>"
                    "</dict></dict>" PL_TAIL);
    assert_int_equal(host_facts_profiles(p, &f), 0);
    assert_int_equal(f.n_profiles, 1);
    assert_int_equal(f.profiles[0].n_payloads, 0);
    assert_int_equal(f.enrollment, FERRY_ENROLL_NONE);
    plist_free(p);
    ferry_host_facts_free(&f);
}

static void test_refused_and_hostile_replies(void **state)
{
    (void)state;
    ferry_device_facts_t f;
    memset(&f, 0, sizeof f);
    plist_t p = xml(PL_HEAD "<key>Status</key><string>Error</string>" PL_TAIL);
    assert_int_equal(host_facts_profiles(p, &f), FERRY_EDEVICE);
    assert_int_equal(host_facts_cloud_config(p, &f), FERRY_EDEVICE);
    plist_free(p);
    ferry_host_facts_free(&f);
    /* wrong types everywhere */
    p = xml(PL_HEAD "<key>Status</key><string>Acknowledged</string><key>OrderedIdentifiers</key><dict/>"
            "<key>ProfileMetadata</key><array/><key>CloudConfiguration</key><string>x</string>" PL_TAIL);
    assert_int_equal(host_facts_cloud_config(p, &f), 0);
    assert_false(f.has_management_config);
    assert_int_equal(host_facts_profiles(p, &f), 0);
    assert_int_equal(f.n_profiles, 0);
    plist_free(p);
    ferry_host_facts_free(&f);
    /* an array is not a reply */
    p = plist_new_array();
    assert_int_equal(host_facts_profiles(p, &f), FERRY_EDEVICE);
    plist_free(p);
    ferry_host_facts_free(&f);
}

static void test_apps(void **state)
{
    (void)state;
    ferry_device_facts_t f;
    memset(&f, 0, sizeof f);
    plist_t p = xml("<?xml version=\"1.0\"?><plist version=\"1.0\"><array>"
                    "<dict><key>CFBundleIdentifier</key><string>com.acme.mail</string></dict>"
                    "<dict><key>CFBundleIdentifier</key><integer>1</integer></dict><string>x</string>"
                    "<dict><key>CFBundleIdentifier</key><string>com.acme.crm</string></dict></array></plist>");
    assert_int_equal(host_facts_apps(p, &f), 0);
    assert_int_equal(f.n_apps, 2);
    assert_string_equal(f.apps[1].bundle_id, "com.acme.crm");
    assert_true(f.apps[0].installed);
    assert_false(f.apps[0].managed);
    assert_int_equal(f.apps[0].management_flags, 0);
    plist_free(p);
    ferry_host_facts_free(&f);
    assert_int_equal(host_facts_apps(NULL, &f), 0);
    assert_int_equal(f.n_apps, 0);
    ferry_host_facts_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ade_enrollment_and_identity), cmocka_unit_test(test_enrollment_types),
        cmocka_unit_test(test_real_device_reply),          cmocka_unit_test(test_refused_and_hostile_replies),
        cmocka_unit_test(test_apps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
