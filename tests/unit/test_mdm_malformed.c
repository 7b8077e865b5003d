/*
 * test_mdm_malformed.c: every malformed-body case of the MDM server, one named test each (the names
 * are what docs/security.md cites): check-in bodies (not a plist, truncated, not a dictionary,
 * missing or wrong MessageType, missing or unsafe UDID, wrong types, nesting, oversized), signatures
 * (missing, not base64, over other bytes, by another identity), command results (missing or unknown
 * Status, missing CommandUUID, wrong types, unknown CommandUUID) and the MachineInfo of /ade/enroll.
 * Each gets its documented status (4xx with a text reason, never the unenroll body, never 5xx) and
 * after each one the server still answers the enrolled device's signed poll with 200. The one case
 * that is not a 4xx is a result for an unknown CommandUUID: spec/mdm.md §10 says duplicate statuses
 * happen and a device retries a result until it gets a 2xx, so it is answered 200 and changes nothing.
 */
#include "mdm_testlib.h"

#define UDID "UDID-MALFORMED-1"
#define XML_HEAD "<?xml version=\"1.0\"?><plist version=\"1.0\"><dict>"
#define XML_TAIL "</dict></plist>"
#define KS(k, v) "<key>" k "</key><string>" v "</string>"

enum { CHECKIN, MDM, ADE };
enum { UNSIGNED, SIGNED, SIGNED_OTHER, SIG_GARBAGE, SIG_OTHER_BYTES };

typedef struct {
    const char *body; /* NULL: built by the case (huge, deep) */
    int endpoint, sig, status;
    const char *reason; /* a substring of the reply */
} mcase_t;

typedef struct {
    tl_server_t t;
    tl_device_t dev, other;
} fx_t;

static fx_t fx;

static int group_setup(void **state)
{
    tl_server_start(&fx.t, 403);
    tl_device_init(&fx.dev, &fx.t, UDID);
    tl_device_init(&fx.other, &fx.t, "UDID-MALFORMED-OTHER");
    assert_int_equal(tl_enroll(&fx.dev), 200);
    return 0;
}

static int group_teardown(void **state)
{
    tl_device_free(&fx.dev);
    tl_device_free(&fx.other);
    tl_server_stop(&fx.t);
    return 0;
}

static size_t post_sink(char *p, size_t size, size_t n, void *ud)
{
    return tl_sink(p, size, n, ud);
}

static void post_raw(const char *url, const void *body, size_t len, tl_raw_t *out)
{
    memset(out, 0, sizeof *out);
    CURL *c = curl_easy_init();
    assert_non_null(c);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/pkcs7-signature");
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, post_sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    CURLcode cc = curl_easy_perform(c);
    if (cc != CURLE_OK)
        fail_msg("POST %s: %s", url, curl_easy_strerror(cc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

static char *sign(const ferry_mdm_identity_t *id, const void *body, size_t len)
{
    char *sig = NULL;
    assert_int_equal(ferry_mdm_sign(id, body, len, &sig), 0);
    return sig;
}

/* The server still serves: the enrolled device's signed Idle poll gets 200. */
static void still_serves(void)
{
    const char *idle = XML_HEAD KS("Status", "Idle") KS("UDID", UDID) XML_TAIL;
    char *sig = sign(fx.dev.id, idle, strlen(idle));
    tl_raw_t raw;
    tl_put_raw(fx.t.server, FERRY_MDM_COMMAND_MIME, idle, strlen(idle), sig, &raw);
    free(sig);
    assert_int_equal(raw.status, 200);
}

static void run_body(const mcase_t *c, const char *body, size_t len)
{
    char *sig = NULL;
    if (c->sig == SIGNED)
        sig = sign(fx.dev.id, body, len);
    else if (c->sig == SIGNED_OTHER)
        sig = sign(fx.other.id, body, len);
    else if (c->sig == SIG_OTHER_BYTES)
        sig = sign(fx.dev.id, "other bytes", 11);
    else if (c->sig == SIG_GARBAGE)
        sig = strdup("this is not base64 at all!!");
    tl_raw_t raw;
    if (c->endpoint == ADE) {
        char *url;
        assert_true(asprintf(&url, "%s/ade/enroll", fx.t.base) > 0);
        post_raw(url, body, len, &raw);
        free(url);
    } else {
        tl_put_raw(c->endpoint == CHECKIN ? fx.t.checkin : fx.t.server,
                   c->endpoint == CHECKIN ? FERRY_MDM_CHECKIN_MIME : FERRY_MDM_COMMAND_MIME, body, len, sig, &raw);
    }
    free(sig);
    if (raw.status != c->status)
        fail_msg("status %ld, expected %d: %s", raw.status, c->status, raw.body);
    if (c->reason && !strstr(raw.body, c->reason))
        fail_msg("reply '%s' does not say '%s'", raw.body, c->reason);
    assert_null(strstr(raw.body, "unrecognized")); /* never the body that makes a device unenroll */
    still_serves();
}

static void run_case(const mcase_t *c)
{
    run_body(c, c->body, strlen(c->body));
}

#define CASE(name, ...)                                                                                       \
    static void name(void **state)                                                                            \
    {                                                                                                         \
        const mcase_t c = {__VA_ARGS__};                                                                      \
        run_case(&c);                                                                                         \
    }

/* ---- check-in ------------------------------------------------------------------------------------- */
CASE(test_MDM_CHK_01_empty_body, "", CHECKIN, SIGNED, 400, "not a property list")
CASE(test_MDM_CHK_02_not_a_plist, "garbage! garbage!", CHECKIN, SIGNED, 400, "not a valid")
CASE(test_MDM_CHK_03_truncated_xml, XML_HEAD "<key>MessageType</key><str", CHECKIN, SIGNED, 400, "not a valid")
CASE(test_MDM_CHK_04_bad_binary_plist, "bplist00\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", CHECKIN, SIGNED,
     400, "not a valid")
CASE(test_MDM_CHK_05_not_a_dict, "<?xml version=\"1.0\"?><plist version=\"1.0\"><array><string>x</string></array>"
     "</plist>", CHECKIN, SIGNED, 400, "not a dictionary")
CASE(test_MDM_CHK_06_no_message_type, XML_HEAD KS("UDID", UDID) XML_TAIL, CHECKIN, SIGNED, 400, "no MessageType")
CASE(test_MDM_CHK_07_message_type_not_string, XML_HEAD "<key>MessageType</key><integer>3</integer>" KS("UDID", UDID)
     XML_TAIL, CHECKIN, SIGNED, 400, "not a string")
CASE(test_MDM_CHK_08_wrong_message_type, XML_HEAD KS("MessageType", "UserAuthenticate") KS("UDID", UDID) XML_TAIL,
     CHECKIN, SIGNED, 400, "not supported")
CASE(test_MDM_CHK_09_missing_udid, XML_HEAD KS("MessageType", "Authenticate") KS("Topic", "t") XML_TAIL, CHECKIN,
     SIGNED, 400, "UDID")
CASE(test_MDM_CHK_10_unsafe_udid, XML_HEAD KS("MessageType", "Authenticate") KS("UDID", "../../etc/passwd")
     KS("Topic", "t") XML_TAIL, CHECKIN, SIGNED, 400, NULL)
CASE(test_MDM_CHK_11_udid_with_nul, XML_HEAD KS("MessageType", "Authenticate") "<key>UDID</key><string>A&#0;B"
     "</string>" KS("Topic", "t") XML_TAIL, CHECKIN, SIGNED, 400, NULL)
CASE(test_MDM_CHK_12_authenticate_without_topic, XML_HEAD KS("MessageType", "Authenticate") KS("UDID", UDID)
     XML_TAIL, CHECKIN, SIGNED, 400, "Topic")
CASE(test_MDM_CHK_13_token_not_data, XML_HEAD KS("MessageType", "TokenUpdate") KS("UDID", UDID) KS("Topic", "t")
     KS("PushMagic", "M") KS("Token", "not data") XML_TAIL, CHECKIN, SIGNED, 400, "Token is not data")
CASE(test_MDM_CHK_14_token_update_without_token, XML_HEAD KS("MessageType", "TokenUpdate") KS("UDID", UDID)
     KS("Topic", "t") KS("PushMagic", "M") XML_TAIL, CHECKIN, SIGNED, 400, "no Token")
CASE(test_MDM_CHK_15_awaiting_configuration_not_bool, XML_HEAD KS("MessageType", "TokenUpdate") KS("UDID", UDID)
     KS("Topic", "t") KS("PushMagic", "M") "<key>Token</key><data>AQID</data>" KS("AwaitingConfiguration", "yes")
     XML_TAIL, CHECKIN, SIGNED, 400, "AwaitingConfiguration")
CASE(test_MDM_CHK_18_unsigned, XML_HEAD KS("MessageType", "Authenticate") KS("UDID", "UDID-MALFORMED-NEW")
     KS("Topic", "t") XML_TAIL, CHECKIN, UNSIGNED, 403, "Mdm-Signature")
CASE(test_MDM_CHK_19_signature_not_base64, XML_HEAD KS("MessageType", "Authenticate") KS("UDID", "UDID-MALFORMED-NEW")
     KS("Topic", "t") XML_TAIL, CHECKIN, SIG_GARBAGE, 403, "Mdm-Signature")
CASE(test_MDM_CHK_20_signature_over_other_bytes, XML_HEAD KS("MessageType", "Authenticate")
     KS("UDID", "UDID-MALFORMED-NEW") KS("Topic", "t") XML_TAIL, CHECKIN, SIG_OTHER_BYTES, 403, "Mdm-Signature")
CASE(test_MDM_CHK_21_signed_by_another_identity, XML_HEAD KS("MessageType", "TokenUpdate") KS("UDID", UDID)
     KS("Topic", "t") KS("PushMagic", "M") "<key>Token</key><data>AQID</data>" XML_TAIL, CHECKIN, SIGNED_OTHER, 403,
     "identity")

static void test_MDM_CHK_16_nested_too_deep(void **state)
{
    char deep[4096];
    size_t n = (size_t)snprintf(deep, sizeof deep, XML_HEAD KS("MessageType", "Authenticate") KS("UDID", UDID)
                                KS("Topic", "t") "<key>X</key>");
    for (int i = 0; i < 60; i++)
        n += (size_t)snprintf(deep + n, sizeof deep - n, "<array>");
    for (int i = 0; i < 60; i++)
        n += (size_t)snprintf(deep + n, sizeof deep - n, "</array>");
    n += (size_t)snprintf(deep + n, sizeof deep - n, XML_TAIL);
    const mcase_t c = {NULL, CHECKIN, SIGNED, 400, "nested"};
    run_body(&c, deep, n);
}

static void test_MDM_CHK_17_huge_body(void **state)
{
    size_t n = 200 * 1024; /* the test server's cap is 64 KiB */
    char *huge = malloc(n);
    memset(huge, 'A', n);
    const mcase_t c = {NULL, CHECKIN, UNSIGNED, 413, "larger"};
    run_body(&c, huge, n);
    free(huge);
}

/* ---- command results and polls -------------------------------------------------------------------- */
CASE(test_MDM_CMD_01_not_a_plist, "garbage! garbage!", MDM, SIGNED, 400, "not a valid")
CASE(test_MDM_CMD_02_no_status, XML_HEAD KS("UDID", UDID) XML_TAIL, MDM, SIGNED, 400, "no Status")
CASE(test_MDM_CMD_03_bad_status, XML_HEAD KS("Status", "Done") KS("UDID", UDID) KS("CommandUUID", "X") XML_TAIL, MDM,
     SIGNED, 400, "is not one of")
CASE(test_MDM_CMD_04_status_not_string, XML_HEAD "<key>Status</key><true/>" KS("UDID", UDID) XML_TAIL, MDM, SIGNED,
     400, "not a string")
CASE(test_MDM_CMD_05_result_without_command_uuid, XML_HEAD KS("Status", "Acknowledged") KS("UDID", UDID) XML_TAIL,
     MDM, SIGNED, 400, "CommandUUID")
CASE(test_MDM_CMD_06_command_uuid_not_string, XML_HEAD KS("Status", "Error") KS("UDID", UDID)
     "<key>CommandUUID</key><data>AQID</data>" XML_TAIL, MDM, SIGNED, 400, "CommandUUID")
CASE(test_MDM_CMD_07_missing_udid, XML_HEAD KS("Status", "Idle") XML_TAIL, MDM, SIGNED, 400, "UDID")
CASE(test_MDM_CMD_08_unsigned_result, XML_HEAD KS("Status", "Idle") KS("UDID", UDID) XML_TAIL, MDM, UNSIGNED, 403,
     "Mdm-Signature")
CASE(test_MDM_CMD_09_result_signed_by_another_identity, XML_HEAD KS("Status", "Idle") KS("UDID", UDID) XML_TAIL, MDM,
     SIGNED_OTHER, 403, "identity")
CASE(test_MDM_CMD_10_unknown_command_uuid_is_2xx, XML_HEAD KS("Status", "Acknowledged") KS("UDID", UDID)
     KS("CommandUUID", "00000000-0000-4000-8000-0000000000FF") XML_TAIL, MDM, SIGNED, 200, NULL)

static void test_MDM_CMD_11_huge_body(void **state)
{
    size_t n = 200 * 1024;
    char *huge = malloc(n);
    memset(huge, '<', n);
    const mcase_t c = {NULL, MDM, UNSIGNED, 413, "larger"};
    run_body(&c, huge, n);
    free(huge);
}

/* ---- /ade/enroll MachineInfo ---------------------------------------------------------------------- */
CASE(test_MDM_ADE_01_not_a_plist, "garbage! garbage!", ADE, UNSIGNED, 400, "MachineInfo")
CASE(test_MDM_ADE_02_bad_cms, "\x30\x82\x01\x00garbage garbage", ADE, UNSIGNED, 400, "MachineInfo")
CASE(test_MDM_ADE_03_no_serial, XML_HEAD KS("UDID", UDID) XML_TAIL, ADE, UNSIGNED, 400, "SERIAL")
CASE(test_MDM_ADE_04_unsafe_serial, XML_HEAD KS("SERIAL", "../x") XML_TAIL, ADE, UNSIGNED, 400, "SERIAL")
CASE(test_MDM_ADE_05_unassigned_serial, XML_HEAD KS("SERIAL", "NOTASSIGNED1") XML_TAIL, ADE, UNSIGNED, 403,
     "not assigned")

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_MDM_CHK_01_empty_body),
        cmocka_unit_test(test_MDM_CHK_02_not_a_plist),
        cmocka_unit_test(test_MDM_CHK_03_truncated_xml),
        cmocka_unit_test(test_MDM_CHK_04_bad_binary_plist),
        cmocka_unit_test(test_MDM_CHK_05_not_a_dict),
        cmocka_unit_test(test_MDM_CHK_06_no_message_type),
        cmocka_unit_test(test_MDM_CHK_07_message_type_not_string),
        cmocka_unit_test(test_MDM_CHK_08_wrong_message_type),
        cmocka_unit_test(test_MDM_CHK_09_missing_udid),
        cmocka_unit_test(test_MDM_CHK_10_unsafe_udid),
        cmocka_unit_test(test_MDM_CHK_11_udid_with_nul),
        cmocka_unit_test(test_MDM_CHK_12_authenticate_without_topic),
        cmocka_unit_test(test_MDM_CHK_13_token_not_data),
        cmocka_unit_test(test_MDM_CHK_14_token_update_without_token),
        cmocka_unit_test(test_MDM_CHK_15_awaiting_configuration_not_bool),
        cmocka_unit_test(test_MDM_CHK_16_nested_too_deep),
        cmocka_unit_test(test_MDM_CHK_17_huge_body),
        cmocka_unit_test(test_MDM_CHK_18_unsigned),
        cmocka_unit_test(test_MDM_CHK_19_signature_not_base64),
        cmocka_unit_test(test_MDM_CHK_20_signature_over_other_bytes),
        cmocka_unit_test(test_MDM_CHK_21_signed_by_another_identity),
        cmocka_unit_test(test_MDM_CMD_01_not_a_plist),
        cmocka_unit_test(test_MDM_CMD_02_no_status),
        cmocka_unit_test(test_MDM_CMD_03_bad_status),
        cmocka_unit_test(test_MDM_CMD_04_status_not_string),
        cmocka_unit_test(test_MDM_CMD_05_result_without_command_uuid),
        cmocka_unit_test(test_MDM_CMD_06_command_uuid_not_string),
        cmocka_unit_test(test_MDM_CMD_07_missing_udid),
        cmocka_unit_test(test_MDM_CMD_08_unsigned_result),
        cmocka_unit_test(test_MDM_CMD_09_result_signed_by_another_identity),
        cmocka_unit_test(test_MDM_CMD_10_unknown_command_uuid_is_2xx),
        cmocka_unit_test(test_MDM_CMD_11_huge_body),
        cmocka_unit_test(test_MDM_ADE_01_not_a_plist),
        cmocka_unit_test(test_MDM_ADE_02_bad_cms),
        cmocka_unit_test(test_MDM_ADE_03_no_serial),
        cmocka_unit_test(test_MDM_ADE_04_unsafe_serial),
        cmocka_unit_test(test_MDM_ADE_05_unassigned_serial),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
