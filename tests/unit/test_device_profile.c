/*
 * test_device_profile.c: .mobileconfig parsing: XML, binary and CMS-signed profiles parse (a signer
 * nobody trusts is fine, a changed signed profile is not); every malformed profile gets an error that
 * names the file and the key; every row of the payload-rule table (docs/device-format.md) is enforced,
 * missing and of the wrong type; and the rules a table cannot express (MDM Topic, identity reference,
 * EnrollmentMode, ACME key constraints, boolean restrictions).
 */
#include "device_tu.h"

#include <openssl/cms.h>
#include <openssl/x509.h>

#include "../../src/device/device_internal.h"

static int parse_plist(plist_t p, int xml, ferry_profile_t **out)
{
    size_t len = 0;
    uint8_t *buf = dt_serialise(p, xml, &len);
    int rc = ferry_profile_parse(buf, len, "t.mobileconfig", out);
    free(buf);
    return rc;
}

/* Expects parsing to fail with code and a message naming the file and containing want. */
static void expect_error(plist_t p, int code, const char *want)
{
    ferry_profile_t *out = NULL;
    int rc = parse_plist(p, 1, &out);
    if (rc != code || !strstr(ferry_error_last(), "t.mobileconfig") || !strstr(ferry_error_last(), want))
        fail_msg("expected %d with '%s', got %d: %s", code, want, rc, ferry_error_last());
    assert_null(out);
}

static plist_t wifi_profile(void)
{
    plist_t p = dt_profile("com.example.wifi");
    plist_t w = dt_add_payload(p, "com.apple.wifi.managed", "AAAAAAAA-0000-4000-8000-000000000001");
    plist_dict_set_item(w, "SSID_STR", plist_new_string("Example"));
    plist_dict_set_item(w, "Password", plist_new_string("s3cret"));
    return p;
}

static void test_xml_and_binary_parse(void **state)
{
    (void)state;
    plist_t p = wifi_profile();
    for (int xml = 0; xml <= 1; xml++) {
        ferry_profile_t *out = NULL;
        assert_int_equal(parse_plist(p, xml, &out), 0);
        assert_int_equal(out->format, xml ? FERRY_PROFILE_XML : FERRY_PROFILE_BINARY);
        assert_false(out->is_signed);
        assert_string_equal(out->PayloadIdentifier, "com.example.wifi");
        assert_int_equal(out->n_payloads, 1);
        assert_string_equal(out->payloads[0].PayloadType, "com.apple.wifi.managed");
        assert_non_null(ferry_profile_find_payload(out, "com.apple.wifi.managed"));
        assert_non_null(ferry_profile_find_uuid(out, "AAAAAAAA-0000-4000-8000-000000000001"));
        assert_null(ferry_profile_find_payload(out, "com.apple.mdm"));
        ferry_profile_free(out);
    }
    plist_free(p);
}

static uint8_t *sign(const uint8_t *content, size_t len, int detached, size_t *outlen)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509 *c = X509_new();
    X509_set_version(c, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(c), 7);
    X509_gmtime_adj(X509_getm_notBefore(c), 0);
    X509_gmtime_adj(X509_getm_notAfter(c), 3600);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(c), "CN", MBSTRING_UTF8, (const unsigned char *)"Untrusted Admin",
                               -1, -1, 0);
    X509_set_issuer_name(c, X509_get_subject_name(c));
    X509_set_pubkey(c, k);
    assert_true(X509_sign(c, k, EVP_sha256()) > 0);
    BIO *in = BIO_new_mem_buf(content, (int)len);
    CMS_ContentInfo *cms = CMS_sign(c, k, NULL, in, CMS_BINARY | (detached ? CMS_DETACHED : 0));
    assert_non_null(cms);
    unsigned char *der = NULL;
    int n = i2d_CMS_ContentInfo(cms, &der);
    assert_true(n > 0);
    uint8_t *copy = malloc((size_t)n);
    memcpy(copy, der, (size_t)n);
    *outlen = (size_t)n;
    OPENSSL_free(der);
    CMS_ContentInfo_free(cms);
    BIO_free(in);
    X509_free(c);
    EVP_PKEY_free(k);
    return copy;
}

static void test_cms_signed_by_untrusted_signer_parses(void **state)
{
    (void)state;
    plist_t p = wifi_profile();
    size_t len = 0, slen = 0;
    uint8_t *xml = dt_serialise(p, 1, &len);
    uint8_t *der = sign(xml, len, 0, &slen);
    ferry_profile_t *out = NULL;
    assert_int_equal(ferry_profile_parse(der, slen, "signed.mobileconfig", &out), 0);
    assert_int_equal(out->format, FERRY_PROFILE_SIGNED);
    assert_true(out->is_signed);
    assert_non_null(strstr(out->signer, "Untrusted Admin"));
    assert_string_equal(out->PayloadIdentifier, "com.example.wifi");
    assert_int_equal(out->raw_len, slen); /* the file is kept as it was, signature included */
    ferry_profile_free(out);
    /* a binary plist inside the signature works too */
    free(der);
    free(xml);
    xml = dt_serialise(p, 0, &len);
    der = sign(xml, len, 0, &slen);
    assert_int_equal(ferry_profile_parse(der, slen, "signed-bin.mobileconfig", &out), 0);
    assert_true(out->is_signed);
    ferry_profile_free(out);
    free(der);
    free(xml);
    plist_free(p);
}

static void test_cms_changed_after_signing_is_refused(void **state)
{
    (void)state;
    plist_t p = wifi_profile();
    size_t len = 0, slen = 0;
    uint8_t *xml = dt_serialise(p, 1, &len);
    uint8_t *der = sign(xml, len, 0, &slen);
    uint8_t *hit = memmem(der, slen, "Example", 7);
    assert_non_null(hit);
    hit[0] = 'e';
    ferry_profile_t *out = NULL;
    assert_int_equal(ferry_profile_parse(der, slen, "tampered.mobileconfig", &out), FERRY_ECRYPTO);
    assert_non_null(strstr(ferry_error_last(), "tampered.mobileconfig"));
    assert_non_null(strstr(ferry_error_last(), "does not verify"));
    free(der);
    /* detached signatures carry no profile */
    der = sign(xml, len, 1, &slen);
    assert_int_equal(ferry_profile_parse(der, slen, "detached.mobileconfig", &out), FERRY_EFORMAT);
    assert_non_null(strstr(ferry_error_last(), "detached"));
    free(der);
    /* DER that is not CMS */
    static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x05};
    assert_int_equal(ferry_profile_parse(junk, sizeof junk, "junk.mobileconfig", &out), FERRY_EFORMAT);
    assert_non_null(strstr(ferry_error_last(), "junk.mobileconfig"));
    free(xml);
    plist_free(p);
}

static void test_template_signed_profile_verifies(void **state)
{
    (void)state;
    dt_dev_t d = dt_create("ade-iphone", 77);
    char *path = NULL;
    assert_true(asprintf(&path, "%s/profiles/com.acme.mdm.mobileconfig", d.dir) > 0);
    ferry_profile_t *p = NULL;
    assert_int_equal(ferry_profile_read_file(path, &p), 0);
    assert_true(p->is_signed);
    assert_non_null(strstr(p->signer, "ferry test CA"));
    assert_non_null(ferry_profile_find_payload(p, "com.apple.mdm"));
    ferry_profile_free(p);
    free(path);
    dt_done(&d);
}

static void test_not_a_profile(void **state)
{
    (void)state;
    ferry_profile_t *out = NULL;
    assert_int_equal(ferry_profile_parse((const uint8_t *)"hello world", 11, "x.mobileconfig", &out), FERRY_EFORMAT);
    assert_non_null(strstr(ferry_error_last(), "x.mobileconfig"));
    assert_int_equal(ferry_profile_parse((const uint8_t *)"", 0, "empty.mobileconfig", &out), FERRY_EFORMAT);
    assert_int_equal(ferry_profile_parse((const uint8_t *)"<plist><dict>", 13, "cut.mobileconfig", &out),
                     FERRY_EFORMAT);
    plist_t arr = plist_new_array();
    size_t len;
    uint8_t *buf = dt_serialise(arr, 1, &len);
    assert_int_equal(ferry_profile_parse(buf, len, "array.mobileconfig", &out), FERRY_EFORMAT);
    assert_non_null(strstr(ferry_error_last(), "dictionary"));
    free(buf);
    plist_free(arr);
}

static void test_top_level_keys(void **state)
{
    (void)state;
    static const char *keys[] = {"PayloadType", "PayloadIdentifier", "PayloadUUID", "PayloadContent"};
    for (size_t i = 0; i < 4; i++) {
        plist_t p = wifi_profile();
        plist_dict_remove_item(p, keys[i]);
        char want[64];
        snprintf(want, sizeof want, "key '%s' is missing", keys[i]);
        expect_error(p, FERRY_EFORMAT, want);
        plist_dict_set_item(p, keys[i], plist_new_uint(3));
        snprintf(want, sizeof want, "key '%s' must be", keys[i]);
        expect_error(p, FERRY_EFORMAT, want);
        plist_free(p);
    }
    plist_t p = wifi_profile();
    plist_dict_set_item(p, "PayloadType", plist_new_string("com.apple.wifi.managed"));
    expect_error(p, FERRY_EFORMAT, "'Configuration'");
    plist_dict_set_item(p, "PayloadType", plist_new_string("Configuration"));
    plist_dict_set_item(p, "PayloadVersion", plist_new_string("1"));
    expect_error(p, FERRY_EFORMAT, "key 'PayloadVersion' must be an integer");
    plist_dict_set_item(p, "PayloadVersion", plist_new_uint(1));
    plist_dict_set_item(p, "PayloadRemovalDisallowed", plist_new_string("yes"));
    expect_error(p, FERRY_EFORMAT, "key 'PayloadRemovalDisallowed' must be a boolean");
    plist_free(p);
}

static void test_payload_keys(void **state)
{
    (void)state;
    static const char *keys[] = {"PayloadType", "PayloadIdentifier", "PayloadUUID"};
    for (size_t i = 0; i < 3; i++) {
        plist_t p = wifi_profile();
        plist_t pl = plist_array_get_item(plist_dict_get_item(p, "PayloadContent"), 0);
        plist_dict_remove_item(pl, keys[i]);
        char want[96];
        snprintf(want, sizeof want, "PayloadContent[0]: key '%s' is missing", keys[i]);
        expect_error(p, FERRY_EFORMAT, want);
        plist_dict_set_item(pl, keys[i], plist_new_bool(1));
        snprintf(want, sizeof want, "PayloadContent[0]: key '%s' must be a string", keys[i]);
        expect_error(p, FERRY_EFORMAT, want);
        plist_free(p);
    }
    plist_t p = wifi_profile();
    plist_array_append_item(plist_dict_get_item(p, "PayloadContent"), plist_new_string("not a dict"));
    expect_error(p, FERRY_EFORMAT, "PayloadContent[1] must be a dictionary");
    plist_free(p);
    p = wifi_profile();
    plist_t w2 = dt_add_payload(p, "com.apple.wifi.managed", "AAAAAAAA-0000-4000-8000-000000000001");
    plist_dict_set_item(w2, "SSID_STR", plist_new_string("Two"));
    expect_error(p, FERRY_EFORMAT, "PayloadUUID");
    plist_free(p);
}

/* A payload of the rule's type that satisfies every rule of that type. */
static plist_t valid_profile_for(const char *type, plist_t *payload)
{
    plist_t p = dt_profile("com.example.rules");
    plist_t d = dt_add_payload(p, type, "BBBBBBBB-0000-4000-8000-000000000002");
    for (size_t r = 0; r < dev_n_payload_rules; r++) {
        const dev_payload_rule_t *rule = &dev_payload_rules[r];
        if (strcmp(rule->type, type))
            continue;
        plist_t v = NULL;
        switch (rule->ptype) {
        case PLIST_STRING: v = plist_new_string("x"); break;
        case PLIST_BOOLEAN: v = plist_new_bool(0); break;
        case PLIST_UINT: v = plist_new_uint(256); break;
        case PLIST_ARRAY: v = plist_new_array(); break;
        case PLIST_DICT: v = plist_new_dict(); break;
        case PLIST_DATA: v = plist_new_data("abc", 3); break;
        default: fail_msg("rule type");
        }
        plist_dict_set_item(d, rule->key, v);
    }
    if (!strcmp(type, "com.apple.mdm")) { /* values the semantic checks need */
        plist_t id = dt_add_payload(p, "com.apple.security.scep", "CCCCCCCC-0000-4000-8000-000000000003");
        plist_t c = plist_new_dict();
        plist_dict_set_item(c, "URL", plist_new_string("https://scep.example.com"));
        plist_dict_set_item(id, "PayloadContent", c);
        plist_dict_set_item(d, "IdentityCertificateUUID", plist_new_string("CCCCCCCC-0000-4000-8000-000000000003"));
        plist_dict_set_item(d, "Topic", plist_new_string("com.apple.mgmt.External.x"));
        plist_dict_set_item(d, "ServerURL", plist_new_string("https://mdm.example.com"));
        plist_dict_set_item(d, "CheckInURL", plist_new_string("https://mdm.example.com"));
        plist_dict_set_item(d, "EnrollmentMode", plist_new_string("BYOD"));
    }
    if (!strcmp(type, "com.apple.security.acme")) {
        plist_dict_set_item(d, "KeyType", plist_new_string("ECSECPrimeRandom"));
        plist_dict_set_item(d, "KeySize", plist_new_uint(384));
    }
    if (!strcmp(type, "com.apple.security.scep"))
        plist_dict_set_item(plist_dict_get_item(d, "PayloadContent"), "URL", plist_new_string("https://scep"));
    *payload = d;
    return p;
}

static void test_every_payload_rule(void **state)
{
    (void)state;
    for (size_t r = 0; r < dev_n_payload_rules; r++) {
        const dev_payload_rule_t *rule = &dev_payload_rules[r];
        plist_t d = NULL, p = valid_profile_for(rule->type, &d);
        ferry_profile_t *out = NULL;
        if (parse_plist(p, 1, &out))
            fail_msg("valid %s payload refused: %s", rule->type, ferry_error_last());
        ferry_profile_free(out);
        char want[128];
        if (rule->required) {
            plist_dict_remove_item(d, rule->key);
            snprintf(want, sizeof want, "key '%s' is missing", rule->key);
            expect_error(p, FERRY_EFORMAT, want);
        }
        plist_dict_set_item(d, rule->key, rule->ptype == PLIST_STRING ? plist_new_bool(1) : plist_new_string("x"));
        snprintf(want, sizeof want, "(%s): key '%s' must be", rule->type, rule->key);
        expect_error(p, FERRY_EFORMAT, want);
        plist_free(p);
    }
}

static void test_mdm_semantics(void **state)
{
    (void)state;
    plist_t d, p = valid_profile_for("com.apple.mdm", &d);
    plist_dict_set_item(d, "Topic", plist_new_string("com.example.topic"));
    expect_error(p, FERRY_EFORMAT, "'Topic' must start with 'com.apple.mgmt.'");
    plist_dict_set_item(d, "Topic", plist_new_string("com.apple.mgmt.x"));
    plist_dict_set_item(d, "ServerURL", plist_new_string("ftp://mdm"));
    expect_error(p, FERRY_EFORMAT, "'ServerURL'");
    plist_dict_set_item(d, "ServerURL", plist_new_string("https://mdm"));
    plist_dict_set_item(d, "IdentityCertificateUUID", plist_new_string("NOT-IN-PROFILE"));
    expect_error(p, FERRY_EFORMAT, "'IdentityCertificateUUID' names NOT-IN-PROFILE");
    plist_dict_set_item(d, "IdentityCertificateUUID", plist_new_string("CCCCCCCC-0000-4000-8000-000000000003"));
    plist_dict_set_item(d, "EnrollmentMode", plist_new_string("Personal"));
    expect_error(p, FERRY_EFORMAT, "'EnrollmentMode' is 'Personal'");
    plist_dict_set_item(d, "EnrollmentMode", plist_new_string("ADDE"));
    plist_dict_remove_item(d, "AssignedManagedAppleID");
    expect_error(p, FERRY_EFORMAT, "'AssignedManagedAppleID' is missing");
    plist_dict_set_item(d, "AssignedManagedAppleID", plist_new_string("a@b"));
    plist_t second = dt_add_payload(p, "com.apple.mdm", "DDDDDDDD-0000-4000-8000-000000000004");
    plist_dict_set_item(second, "IdentityCertificateUUID", plist_new_string("CCCCCCCC-0000-4000-8000-000000000003"));
    plist_dict_set_item(second, "Topic", plist_new_string("com.apple.mgmt.y"));
    plist_dict_set_item(second, "ServerURL", plist_new_string("https://mdm2"));
    expect_error(p, FERRY_EFORMAT, "at most one com.apple.mdm");
    plist_free(p);
}

static void test_acme_semantics(void **state)
{
    (void)state;
    plist_t d, p = valid_profile_for("com.apple.security.acme", &d);
    plist_dict_set_item(d, "HardwareBound", plist_new_bool(1));
    plist_dict_set_item(d, "KeyType", plist_new_string("RSA"));
    expect_error(p, FERRY_EFORMAT, "RSA requires HardwareBound false");
    plist_dict_set_item(d, "KeyType", plist_new_string("ECSECPrimeRandom"));
    plist_dict_set_item(d, "KeySize", plist_new_uint(521));
    expect_error(p, FERRY_EFORMAT, "'KeySize' must be 256 or 384");
    plist_dict_set_item(d, "KeySize", plist_new_uint(256));
    plist_dict_set_item(d, "HardwareBound", plist_new_bool(0));
    plist_dict_set_item(d, "Attest", plist_new_bool(1));
    expect_error(p, FERRY_EFORMAT, "'Attest' requires HardwareBound true");
    plist_dict_set_item(d, "KeyType", plist_new_string("DSA"));
    expect_error(p, FERRY_EFORMAT, "'KeyType' must be RSA or ECSECPrimeRandom");
    plist_free(p);
}

static void test_restrictions_must_be_booleans(void **state)
{
    (void)state;
    plist_t p = dt_profile("com.example.r");
    plist_t d = dt_add_payload(p, "com.apple.applicationaccess", "EEEEEEEE-0000-4000-8000-000000000005");
    plist_dict_set_item(d, "allowCloudBackup", plist_new_bool(0));
    plist_dict_set_item(d, "allowedExternalIntelligenceWorkspaceIDs", plist_new_array()); /* not a flag */
    plist_dict_set_item(d, "ratingApps", plist_new_uint(200));
    ferry_profile_t *out = NULL;
    assert_int_equal(parse_plist(p, 1, &out), 0);
    ferry_profile_free(out);
    plist_dict_set_item(d, "forceEncryptedBackup", plist_new_string("true"));
    expect_error(p, FERRY_EFORMAT, "key 'forceEncryptedBackup' must be a boolean");
    plist_free(p);
}

static void test_unknown_payloads_are_kept(void **state)
{
    (void)state;
    plist_t p = dt_profile("com.example.future");
    plist_t d = dt_add_payload(p, "com.apple.future.thing", "FFFFFFFF-0000-4000-8000-000000000006");
    plist_dict_set_item(d, "NewKey", plist_new_real(1.5));
    ferry_profile_t *out = NULL;
    assert_int_equal(parse_plist(p, 0, &out), 0);
    assert_non_null(plist_dict_get_item(out->payloads[0].dict, "NewKey"));
    ferry_profile_free(out);
    plist_free(p);
}

static void test_file_names(void **state)
{
    (void)state;
    char *n = dev_profile_file_name("com.acme/../x y");
    assert_string_equal(n, "com.acme_.._x_y.mobileconfig");
    free(n);
    n = dev_profile_file_name("..");
    assert_string_equal(n, "_..mobileconfig");
    free(n);
    assert_string_equal(ferry_profile_format_name(FERRY_PROFILE_SIGNED), "signed");
    ferry_profile_source_t s;
    assert_int_equal(ferry_profile_source_parse("MDM", &s), 0);
    assert_int_equal(s, FERRY_SOURCE_MDM);
    assert_int_equal(ferry_profile_source_parse("mdm", &s), FERRY_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xml_and_binary_parse),
        cmocka_unit_test(test_cms_signed_by_untrusted_signer_parses),
        cmocka_unit_test(test_cms_changed_after_signing_is_refused),
        cmocka_unit_test(test_template_signed_profile_verifies),
        cmocka_unit_test(test_not_a_profile),
        cmocka_unit_test(test_top_level_keys),
        cmocka_unit_test(test_payload_keys),
        cmocka_unit_test(test_every_payload_rule),
        cmocka_unit_test(test_mdm_semantics),
        cmocka_unit_test(test_acme_semantics),
        cmocka_unit_test(test_restrictions_must_be_booleans),
        cmocka_unit_test(test_unknown_payloads_are_kept),
        cmocka_unit_test(test_file_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
