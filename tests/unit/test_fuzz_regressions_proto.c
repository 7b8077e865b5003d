/*
 * test_fuzz_regressions_proto.c: what the fuzz targets of the emulator's protocols, of profiles and
 * of the MDM bodies (fuzz/fuzz_{usbmux,lockdown,afc,devicelink,profile,mdm_server,mdm_device}.c)
 * found to break ferry, each input embedded (generated, not fixtures) with the behaviour the fix
 * gives. test_fuzz_regressions.c holds those of the backup-format targets.
 *   1. A dictionary key holding a NUL byte (a binary plist's UTF-16 key with a 0x0000 unit) made
 *      libplist 2.2's plist_dict_next_item assert and abort the process (fuzz_profile: a payload's
 *      restriction keys in payload_rules.c; the same iteration runs on check-in bodies in the MDM
 *      server). ferry_plist_check_tree now refuses such a tree in ferry_plist_parse, in
 *      ferry_profile_parse and in the MDM server's body parser: FERRY_EFORMAT, or a 400.
 */
#include "ferry/device.h" /* before ferry/mdm.h: policy.h names FERRY_MDM_ACCEPT in an enum */
#include "mdm_testlib.h"
#include "../../src/mdm/mdm_internal.h"

/* {"\u00e9\0b": "x"} as a binary plist: the key is UTF-16 (0x63 = 3 units: e9 00, 00 00, 00 62). */
static const uint8_t nul_key_dict[] = {
    0x62, 0x70, 0x6c, 0x69, 0x73, 0x74, 0x30, 0x30, 0xd1, 0x01, 0x02, 0x63, 0x00, 0xe9, 0x00, 0x00, 0x00,
    0x62, 0x51, 0x78, 0x08, 0x0b, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x14};

/* fuzz_profile crash, rebuilt small: a restrictions payload (com.apple.applicationaccess) with the
 * key "\u00e9\0x" next to allowCloudBackup, as a binary profile. */
static const uint8_t nul_key_profile[] =
    "\x62\x70\x6c\x69\x73\x74\x30\x30\xd6\x01\x02\x03\x04\x05\x06\x07\x10\x11\x12\x13\x0e\x5e\x50\x61"
    "\x79\x6c\x6f\x61\x64\x43\x6f\x6e\x74\x65\x6e\x74\x5f\x10\x12\x50\x61\x79\x6c\x6f\x61\x64\x44\x69"
    "\x73\x70\x6c\x61\x79\x4e\x61\x6d\x65\x5f\x10\x11\x50\x61\x79\x6c\x6f\x61\x64\x49\x64\x65\x6e\x74"
    "\x69\x66\x69\x65\x72\x5b\x50\x61\x79\x6c\x6f\x61\x64\x54\x79\x70\x65\x5b\x50\x61\x79\x6c\x6f\x61"
    "\x64\x55\x55\x49\x44\x5e\x50\x61\x79\x6c\x6f\x61\x64\x56\x65\x72\x73\x69\x6f\x6e\xa1\x08\xd6\x03"
    "\x04\x05\x06\x09\x0a\x0b\x0c\x0d\x0e\x0f\x0f\x5f\x10\x10\x61\x6c\x6c\x6f\x77\x43\x6c\x6f\x75\x64"
    "\x42\x61\x63\x6b\x75\x70\x63\x00\xe9\x00\x00\x00\x78\x5d\x63\x6f\x6d\x2e\x65\x78\x61\x6d\x70\x6c"
    "\x65\x2e\x72\x5f\x10\x1b\x63\x6f\x6d\x2e\x61\x70\x70\x6c\x65\x2e\x61\x70\x70\x6c\x69\x63\x61\x74"
    "\x69\x6f\x6e\x61\x63\x63\x65\x73\x73\x5f\x10\x24\x30\x38\x36\x42\x33\x34\x42\x41\x2d\x36\x35\x36"
    "\x33\x2d\x34\x35\x39\x46\x2d\x42\x42\x39\x33\x2d\x36\x37\x31\x33\x30\x30\x46\x31\x44\x37\x38\x38"
    "\x10\x01\x09\x51\x52\x5d\x63\x6f\x6d\x2e\x65\x78\x61\x6d\x70\x6c\x65\x2e\x70\x5d\x43\x6f\x6e\x66"
    "\x69\x67\x75\x72\x61\x74\x69\x6f\x6e\x5f\x10\x24\x42\x42\x46\x37\x35\x31\x41\x39\x2d\x46\x35\x46"
    "\x42\x2d\x34\x44\x42\x33\x2d\x38\x38\x38\x31\x2d\x43\x45\x36\x37\x41\x45\x45\x44\x45\x30\x42\x41"
    "\x00\x08\x00\x15\x00\x24\x00\x39\x00\x4d\x00\x59\x00\x65\x00\x74\x00\x76\x00\x83\x00\x96\x00\x9d"
    "\x00\xab\x00\xc9\x00\xf0\x00\xf2\x00\xf3\x00\xf5\x01\x03\x01\x11\x00\x00\x00\x00\x00\x00\x02\x01"
    "\x00\x00\x00\x00\x00\x00\x00\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x38";

static void test_plist_parse_refuses_key_with_nul(void **state)
{
    plist_t p = (plist_t)1;
    assert_int_equal(ferry_plist_parse(nul_key_dict, sizeof nul_key_dict, &p, "fuzz input"), FERRY_EFORMAT);
    assert_null(p);
    assert_non_null(strstr(ferry_error_last(), "NUL"));
}

static void test_profile_payload_key_with_nul_is_format_error(void **state)
{
    ferry_profile_t *p = NULL;
    assert_int_equal(ferry_profile_parse(nul_key_profile, sizeof nul_key_profile - 1, "nul.mobileconfig", &p),
                     FERRY_EFORMAT);
    assert_null(p);
    assert_non_null(strstr(ferry_error_last(), "nul.mobileconfig"));
}

static void test_deep_nesting_refused_before_iteration(void **state)
{
    /* 200 nested arrays: deeper than FERRY_PLIST_MAX_DEPTH */
    char xml[4096];
    size_t n = (size_t)snprintf(xml, sizeof xml, "<plist version=\"1.0\">");
    for (int i = 0; i < 200; i++)
        n += (size_t)snprintf(xml + n, sizeof xml - n, "<array>");
    for (int i = 0; i < 200; i++)
        n += (size_t)snprintf(xml + n, sizeof xml - n, "</array>");
    n += (size_t)snprintf(xml + n, sizeof xml - n, "</plist>");
    plist_t p = NULL;
    assert_int_equal(ferry_plist_parse(xml, n, &p, "deep"), FERRY_EFORMAT);
    assert_null(p);
}

static void test_mdm_bodies_with_nul_key_are_4xx(void **state)
{
    tl_server_t t;
    tl_server_start(&t, 403);
    tl_device_t d;
    tl_device_init(&d, &t, "UDID-NULKEY");
    tl_raw_t raw;
    tl_put_raw(t.checkin, FERRY_MDM_CHECKIN_MIME, nul_key_dict, sizeof nul_key_dict, NULL, &raw);
    assert_int_equal(raw.status, 400);
    assert_non_null(strstr(raw.body, "NUL"));
    tl_put_raw(t.server, FERRY_MDM_COMMAND_MIME, nul_key_dict, sizeof nul_key_dict, NULL, &raw);
    assert_int_equal(raw.status, 400);
    assert_int_equal(tl_enroll(&d), 200); /* still serving */
    tl_device_free(&d);
    tl_server_stop(&t);
    /* the device side: the same bytes as a command-loop reply */
    plist_t req = (plist_t)1;
    char *uuid = (char *)1;
    assert_int_equal(mdm_client_parse_command(nul_key_dict, sizeof nul_key_dict, &req, &uuid), FERRY_EFORMAT);
    assert_null(req);
    assert_null(uuid);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plist_parse_refuses_key_with_nul),
        cmocka_unit_test(test_profile_payload_key_with_nul_is_format_error),
        cmocka_unit_test(test_deep_nesting_refused_before_iteration),
        cmocka_unit_test(test_mdm_bodies_with_nul_key_are_4xx),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
