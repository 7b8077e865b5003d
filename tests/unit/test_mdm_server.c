/*
 * test_mdm_server.c: the MDM server end to end on loopback (in-process server, ferry's check-in
 * client): enrollment of a new device, the command queue (fetched, acknowledged, never re-sent;
 * NotNow re-sent at the next Idle; results stored), the 200/401/403 decisions of S2 (block, restore
 * decision, unknown devices), refusal of unsigned and forged messages without the unenroll body,
 * malformed and oversized bodies answered 4xx while the server keeps serving, and the
 * device-assignment service (D2): ADE profile by serial, enrollment profile by MachineInfo.
 */
#include "mdm_testlib.h"

typedef struct {
    int n;
    char types[16][40];
    int not_now; /* answer NotNow to everything */
} runner_t;

static const char *run_cmd(void *ctx, plist_t req, plist_t *resp)
{
    runner_t *r = ctx;
    char *rt = NULL;
    ferry_plist_get_string(plist_dict_get_item(req, "Command"), "RequestType", &rt);
    if (r->n < 16)
        snprintf(r->types[r->n], sizeof r->types[0], "%s", rt ? rt : "?");
    r->n++;
    if (r->not_now) {
        free(rt);
        return "NotNow";
    }
    if (rt && !strcmp(rt, "ManagedApplicationList")) {
        plist_t app = plist_new_dict(), list = plist_new_dict();
        plist_dict_set_item(app, "Status", plist_new_string("Managed"));
        plist_dict_set_item(app, "ManagementFlags", plist_new_uint(5));
        plist_dict_set_item(list, "com.example.app", app);
        *resp = plist_new_dict();
        plist_dict_set_item(*resp, "ManagedApplicationList", list);
    }
    free(rt);
    return "Acknowledged";
}

static void enqueue(tl_server_t *t, const char *udid, const char *rt, const char *kv1, const char *kv2)
{
    ferry_mdm_db_t *db;
    assert_int_equal(ferry_mdm_db_open(t->db_path, &db), 0);
    plist_t p = plist_new_dict(), c;
    if (kv1)
        assert_int_equal(ferry_mdm_command_param(rt, kv1, p), 0);
    if (kv2)
        assert_int_equal(ferry_mdm_command_param(rt, kv2, p), 0);
    assert_int_equal(ferry_mdm_command_new(rt, p, &c), 0);
    assert_int_equal(ferry_mdm_db_enqueue(db, udid, c), 0);
    plist_free(c);
    plist_free(p);
    ferry_mdm_db_close(db);
}

static void set_decision(tl_server_t *t, const char *udid, int decision, int restore_only)
{
    ferry_mdm_db_t *db;
    assert_int_equal(ferry_mdm_db_open(t->db_path, &db), 0);
    assert_int_equal(ferry_mdm_db_set_decision(db, udid, decision, restore_only), 0);
    ferry_mdm_db_close(db);
}

static void test_new_device_checks_in(void **state)
{
    tl_server_t t;
    tl_server_start(&t, 403);
    tl_device_t d;
    tl_device_init(&d, &t, "00008110-000A1B2C3D4E5F60");
    assert_int_equal(tl_enroll(&d), 200);
    ferry_mdm_db_t *db;
    assert_int_equal(ferry_mdm_db_open(t.db_path, &db), 0);
    ferry_mdm_device_t dev;
    assert_int_equal(ferry_mdm_db_get_device(db, d.udid, &dev), 0);
    assert_string_equal(dev.state, "enrolled");
    assert_string_equal(dev.serial, "F2LTEST0001");
    assert_true(dev.has_identity);
    assert_int_equal(dev.last_reply, 200);
    ferry_mdm_device_clear(&dev);
    /* a second TokenUpdate (token rotation) is accepted while no restore decision is set */
    ferry_mdm_reply_t r = {0};
    const uint8_t tok[8] = {9};
    assert_int_equal(ferry_mdm_client_token_update(&d.o, tok, sizeof tok, "MAGIC-2", 0, &r), 0);
    assert_int_equal(r.verdict, FERRY_MDM_VERDICT_ACCEPTED);
    ferry_mdm_reply_clear(&r);
    /* CheckOut */
    assert_int_equal(ferry_mdm_client_checkout(&d.o, &r), 0);
    assert_int_equal(r.http_status, 200);
    ferry_mdm_reply_clear(&r);
    assert_int_equal(ferry_mdm_db_get_device(db, d.udid, &dev), 0);
    assert_string_equal(dev.state, "checked-out");
    ferry_mdm_device_clear(&dev);
    ferry_mdm_db_close(db);
    tl_device_free(&d);
    tl_server_stop(&t);
}

static void test_command_acknowledged_not_resent(void **state)
{
    tl_server_t t;
    tl_server_start(&t, 403);
    tl_device_t d;
    tl_device_init(&d, &t, "UDID-CMD-1");
    assert_int_equal(tl_enroll(&d), 200);
    enqueue(&t, d.udid, "InstallApplication", "Identifier=com.example.app", "ManagementFlags=5");
    enqueue(&t, d.udid, "ManagedApplicationList", NULL, NULL);
    runner_t run = {0};
    unsigned n;
    ferry_mdm_reply_t r = {0};
    assert_int_equal(ferry_mdm_client_command_loop(&d.o, run_cmd, &run, 0, &n, &r), 0);
    assert_int_equal(r.http_status, 200);
    assert_int_equal(n, 2);
    assert_string_equal(run.types[0], "InstallApplication");
    assert_string_equal(run.types[1], "ManagedApplicationList");
    ferry_mdm_reply_clear(&r);
    /* a second session gets nothing: acknowledged commands are never re-sent */
    runner_t again = {0};
    assert_int_equal(ferry_mdm_client_command_loop(&d.o, run_cmd, &again, 0, &n, &r), 0);
    assert_int_equal(n, 0);
    ferry_mdm_reply_clear(&r);
    /* the result is stored */
    ferry_mdm_db_t *db;
    assert_int_equal(ferry_mdm_db_open(t.db_path, &db), 0);
    ferry_mdm_command_rec_t *cmds;
    size_t nc;
    assert_int_equal(ferry_mdm_db_list_commands(db, d.udid, &cmds, &nc), 0);
    assert_int_equal(nc, 2);
    assert_string_equal(cmds[0].status, "Acknowledged");
    assert_string_equal(cmds[1].status, "Acknowledged");
    assert_non_null(cmds[1].result);
    plist_t list = plist_dict_get_item(cmds[1].result, "ManagedApplicationList");
    assert_non_null(list);
    int64_t flags;
    assert_int_equal(ferry_plist_get_int(plist_dict_get_item(list, "com.example.app"), "ManagementFlags", &flags), 0);
    assert_int_equal(flags, 5);
    ferry_mdm_commands_free(cmds, nc);
    ferry_mdm_db_close(db);
    tl_device_free(&d);
    tl_server_stop(&t);
}

static void test_not_now_resent_next_session(void **state)
{
    tl_server_t t;
    tl_server_start(&t, 403);
    tl_device_t d;
    tl_device_init(&d, &t, "UDID-NOTNOW");
    assert_int_equal(tl_enroll(&d), 200);
    enqueue(&t, d.udid, "ProfileList", NULL, NULL);
    runner_t busy = {.not_now = 1};
    unsigned n;
    ferry_mdm_reply_t r = {0};
    assert_int_equal(ferry_mdm_client_command_loop(&d.o, run_cmd, &busy, 0, &n, &r), 0);
    assert_int_equal(n, 1); /* NotNow: not re-sent in the same session */
    ferry_mdm_reply_clear(&r);
    runner_t ok = {0};
    assert_int_equal(ferry_mdm_client_command_loop(&d.o, run_cmd, &ok, 0, &n, &r), 0);
    assert_int_equal(n, 1);
    assert_string_equal(ok.types[0], "ProfileList");
    ferry_mdm_reply_clear(&r);
    assert_int_equal(ferry_mdm_client_command_loop(&d.o, run_cmd, &ok, 0, &n, &r), 0);
    assert_int_equal(n, 0);
    ferry_mdm_reply_clear(&r);
    tl_device_free(&d);
    tl_server_stop(&t);
}

static void test_S2_block_403_with_body(void **state)
{
    tl_server_t t;
    tl_server_start(&t, 403);
    tl_device_t d;
    tl_device_init(&d, &t, "UDID-BLOCK");
    assert_int_equal(tl_enroll(&d), 200);
    set_decision(&t, d.udid, 403, 0);
    tl_raw_t raw;
    char *body = "<?xml version=\"1.0\"?><plist version=\"1.0\"><dict><key>Status</key><string>Idle"
                 "</string><key>UDID</key><string>UDID-BLOCK</string></dict></plist>";
    char *sig;
    assert_int_equal(ferry_mdm_sign(d.id, body, strlen(body), &sig), 0);
    tl_put_raw(t.server, FERRY_MDM_COMMAND_MIME, body, strlen(body), sig, &raw);
    free(sig);
    assert_int_equal(raw.status, 403);
    assert_string_equal(raw.ctype, "application/json");
    assert_non_null(strstr(raw.body, "\"code\":\"com.apple.unrecognized.device\""));
    /* the client reads it as a rejection */
    runner_t run = {0};
    unsigned n;
    ferry_mdm_reply_t r = {0};
    assert_int_equal(ferry_mdm_client_command_loop(&d.o, run_cmd, &run, 0, &n, &r), 0);
    assert_int_equal(r.verdict, FERRY_MDM_VERDICT_REJECTED_403);
    ferry_mdm_reply_clear(&r);
    /* 401 form, then unblock */
    set_decision(&t, d.udid, 401, 0);
    assert_int_equal(ferry_mdm_client_command_loop(&d.o, run_cmd, &run, 0, &n, &r), 0);
    assert_int_equal(r.verdict, FERRY_MDM_VERDICT_REJECTED_401);
    ferry_mdm_reply_clear(&r);
    set_decision(&t, d.udid, 200, 0);
    assert_int_equal(ferry_mdm_client_command_loop(&d.o, run_cmd, &run, 0, &n, &r), 0);
    assert_int_equal(r.verdict, FERRY_MDM_VERDICT_ACCEPTED);
    ferry_mdm_reply_clear(&r);
    tl_device_free(&d);
    tl_server_stop(&t);
}

static void test_S2_restore_decision_on_token_update(void **state)
{
    tl_server_t t;
    tl_server_start(&t, 403);
    tl_device_t d;
    tl_device_init(&d, &t, "UDID-RESTORED");
    assert_int_equal(tl_enroll(&d), 200);
    set_decision(&t, d.udid, 401, 1);
    /* a restored device sends TokenUpdate alone: rejected with the restore decision */
    ferry_mdm_reply_t r = {0};
    const uint8_t tok[8] = {7};
    assert_int_equal(ferry_mdm_client_token_update(&d.o, tok, sizeof tok, "MAGIC-R", 0, &r), 0);
    assert_int_equal(r.http_status, 401);
    assert_int_equal(r.verdict, FERRY_MDM_VERDICT_REJECTED_401);
    ferry_mdm_reply_clear(&r);
    set_decision(&t, d.udid, 403, 1);
    assert_int_equal(ferry_mdm_client_token_update(&d.o, tok, sizeof tok, "MAGIC-R", 0, &r), 0);
    assert_int_equal(r.verdict, FERRY_MDM_VERDICT_REJECTED_403);
    ferry_mdm_reply_clear(&r);
    /* a fresh enrollment (Authenticate first) is not a restore */
    assert_int_equal(tl_enroll(&d), 200);
    /* accept (S1/S2 kept) */
    set_decision(&t, d.udid, 200, 1);
    assert_int_equal(ferry_mdm_client_token_update(&d.o, tok, sizeof tok, "MAGIC-R", 0, &r), 0);
    assert_int_equal(r.verdict, FERRY_MDM_VERDICT_ACCEPTED);
    ferry_mdm_reply_clear(&r);
    /* the decision sent is recorded */
    ferry_mdm_db_t *db;
    assert_int_equal(ferry_mdm_db_open(t.db_path, &db), 0);
    int64_t c401, c403;
    assert_int_equal(ferry_mdm_db_count_messages(db, "TokenUpdate", 401, &c401), 0);
    assert_int_equal(ferry_mdm_db_count_messages(db, "TokenUpdate", 403, &c403), 0);
    assert_int_equal(c401, 1);
    assert_int_equal(c403, 1);
    ferry_mdm_db_close(db);
    tl_device_free(&d);
    tl_server_stop(&t);
}

static void unknown_case(int decision, ferry_mdm_verdict_t want)
{
    tl_server_t t;
    tl_server_start(&t, decision);
    tl_device_t d;
    tl_device_init(&d, &t, "UDID-STRANGER");
    ferry_mdm_reply_t r = {0};
    const uint8_t tok[8] = {7};
    assert_int_equal(ferry_mdm_client_token_update(&d.o, tok, sizeof tok, "M", 0, &r), 0);
    assert_int_equal(r.http_status, decision);
    assert_int_equal(r.verdict, want);
    ferry_mdm_reply_clear(&r);
    ferry_mdm_db_t *db;
    assert_int_equal(ferry_mdm_db_open(t.db_path, &db), 0);
    ferry_mdm_device_t dev;
    int rc = ferry_mdm_db_get_device(db, d.udid, &dev);
    if (decision == 200) { /* adopted, bound to the identity that signed */
        assert_int_equal(rc, 0);
        assert_string_equal(dev.state, "enrolled");
        assert_true(dev.has_identity);
        ferry_mdm_device_clear(&dev);
    } else {
        assert_int_equal(rc, FERRY_ENOTFOUND);
    }
    ferry_mdm_db_close(db);
    tl_device_free(&d);
    tl_server_stop(&t);
}

static void test_unknown_device_gets_configured_decision(void **state)
{
    unknown_case(401, FERRY_MDM_VERDICT_REJECTED_401);
    unknown_case(403, FERRY_MDM_VERDICT_REJECTED_403);
    unknown_case(200, FERRY_MDM_VERDICT_ACCEPTED);
}

/* S2: no answer at all (server gone) is neither acceptance nor rejection: the device keeps its
 * enrollment and retries later. */
static void test_S2_no_server_is_not_a_rejection(void **state)
{
    tl_server_t t;
    tl_server_start(&t, 403);
    tl_device_t d;
    tl_device_init(&d, &t, "UDID-OFFLINE");
    ferry_mdm_server_stop(t.srv); /* the port is closed now */
    t.srv = NULL;
    ferry_mdm_reply_t r = {0};
    const uint8_t tok[8] = {1};
    d.o.timeout_seconds = 5;
    assert_int_equal(ferry_mdm_client_token_update(&d.o, tok, sizeof tok, "M", 0, &r), FERRY_EIO);
    assert_int_equal(r.http_status, 0);
    assert_int_equal(r.verdict, FERRY_MDM_VERDICT_OTHER);
    ferry_mdm_reply_clear(&r);
    unsigned n;
    assert_int_equal(ferry_mdm_client_command_loop(&d.o, run_cmd, NULL, 0, &n, &r), FERRY_EIO);
    assert_int_equal(r.verdict, FERRY_MDM_VERDICT_OTHER);
    ferry_mdm_reply_clear(&r);
    tl_device_free(&d);
    tl_server_stop(&t);
}

static void test_forged_and_unsigned_refused(void **state)
{
    tl_server_t t;
    tl_server_start(&t, 403);
    tl_device_t d, thief;
    tl_device_init(&d, &t, "UDID-VICTIM");
    tl_device_init(&thief, &t, "UDID-VICTIM");
    assert_int_equal(tl_enroll(&d), 200);
    enqueue(&t, d.udid, "ProfileList", NULL, NULL);
    runner_t run = {0};
    unsigned n;
    ferry_mdm_reply_t r = {0};
    /* forged: signed by another identity */
    assert_int_equal(ferry_mdm_client_command_loop(&thief.o, run_cmd, &run, 0, &n, &r), 0);
    assert_int_equal(r.http_status, 403);
    assert_int_equal(r.verdict, FERRY_MDM_VERDICT_OTHER); /* must not make the device unenroll */
    assert_int_equal(n, 0);
    ferry_mdm_reply_clear(&r);
    const uint8_t tok[8] = {7};
    assert_int_equal(ferry_mdm_client_token_update(&thief.o, tok, sizeof tok, "M", 0, &r), 0);
    assert_int_equal(r.http_status, 403);
    assert_int_equal(r.verdict, FERRY_MDM_VERDICT_OTHER);
    ferry_mdm_reply_clear(&r);
    /* unsigned */
    tl_device_t bare = d;
    bare.o.identity = NULL;
    assert_int_equal(ferry_mdm_client_command_loop(&bare.o, run_cmd, &run, 0, &n, &r), 0);
    assert_int_equal(r.http_status, 403);
    assert_int_equal(r.verdict, FERRY_MDM_VERDICT_OTHER);
    assert_non_null(strstr(r.reason, "Mdm-Signature"));
    ferry_mdm_reply_clear(&r);
    /* a valid signature over other bytes (replayed header) */
    const char *b1 = "<?xml version=\"1.0\"?><plist version=\"1.0\"><dict><key>Status</key><string>Idle"
                     "</string><key>UDID</key><string>UDID-VICTIM</string></dict></plist>";
    char *sig;
    assert_int_equal(ferry_mdm_sign(d.id, "something else", 14, &sig), 0);
    tl_raw_t raw;
    tl_put_raw(t.server, FERRY_MDM_COMMAND_MIME, b1, strlen(b1), sig, &raw);
    free(sig);
    assert_int_equal(raw.status, 403);
    assert_null(strstr(raw.body, "unrecognized"));
    /* the genuine device still gets its command */
    assert_int_equal(ferry_mdm_client_command_loop(&d.o, run_cmd, &run, 0, &n, &r), 0);
    assert_int_equal(n, 1);
    ferry_mdm_reply_clear(&r);
    tl_device_free(&d);
    tl_device_free(&thief);
    tl_server_stop(&t);
}

static void test_malformed_bodies_4xx_and_server_serves(void **state)
{
    tl_server_t t;
    tl_server_start(&t, 403);
    tl_device_t d;
    tl_device_init(&d, &t, "UDID-MALFORMED");
    static const char *bad[] = {
        "",
        "garbage!",
        "<?xml version=\"1.0\"?><plist version=\"1.0\"><dict><key>MessageType</key>",
        "<?xml version=\"1.0\"?><plist version=\"1.0\"><array><string>x</string></array></plist>",
        "<?xml version=\"1.0\"?><plist version=\"1.0\"><dict><key>MessageType</key><integer>3</integer></dict></plist>",
        "<?xml version=\"1.0\"?><plist version=\"1.0\"><dict><key>MessageType</key><string>Authenticate</string></dict></plist>",
        "<?xml version=\"1.0\"?><plist version=\"1.0\"><dict><key>MessageType</key><string>Authenticate</string>"
        "<key>UDID</key><string>../../etc</string><key>Topic</key><string>t</string></dict></plist>",
        "<?xml version=\"1.0\"?><plist version=\"1.0\"><dict><key>MessageType</key><string>Bogus</string>"
        "<key>UDID</key><string>X</string></dict></plist>",
        "bplist00\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        tl_raw_t raw;
        tl_put_raw(t.checkin, FERRY_MDM_CHECKIN_MIME, bad[i], strlen(bad[i]), NULL, &raw);
        assert_true(raw.status >= 400 && raw.status < 500);
        assert_int_not_equal(raw.status, 401);
        tl_put_raw(t.server, FERRY_MDM_COMMAND_MIME, bad[i], strlen(bad[i]), NULL, &raw);
        assert_true(raw.status >= 400 && raw.status < 500);
    }
    /* nested deeper than the server accepts */
    char deep[2048];
    size_t dl = (size_t)snprintf(deep, sizeof deep, "<?xml version=\"1.0\"?><plist version=\"1.0\"><dict>"
                                 "<key>Status</key><string>Idle</string><key>UDID</key><string>U</string><key>X</key>");
    for (int i = 0; i < 60; i++)
        dl += (size_t)snprintf(deep + dl, sizeof deep - dl, "<array>");
    for (int i = 0; i < 60; i++)
        dl += (size_t)snprintf(deep + dl, sizeof deep - dl, "</array>");
    dl += (size_t)snprintf(deep + dl, sizeof deep - dl, "</dict></plist>");
    tl_raw_t draw;
    tl_put_raw(t.server, FERRY_MDM_COMMAND_MIME, deep, dl, NULL, &draw);
    assert_int_equal(draw.status, 400);
    assert_non_null(strstr(draw.body, "nested"));
    /* oversized body: 413 */
    size_t big = 200 * 1024;
    char *huge = malloc(big);
    memset(huge, 'A', big);
    tl_raw_t raw;
    tl_put_raw(t.checkin, FERRY_MDM_CHECKIN_MIME, huge, big, NULL, &raw);
    assert_int_equal(raw.status, 413);
    free(huge);
    /* wrong method, unknown path */
    tl_put_raw(t.base, FERRY_MDM_CHECKIN_MIME, "x", 1, NULL, &raw);
    assert_int_equal(raw.status, 404);
    /* still serving */
    assert_int_equal(tl_enroll(&d), 200);
    tl_device_free(&d);
    tl_server_stop(&t);
}

/* Deterministic mutations of valid XML and binary messages: every answer is a 4xx (never a crash,
 * never a 200 for an unsigned message) and the server still serves a genuine device afterwards. */
static void test_mutated_bodies_never_accepted(void **state)
{
    tl_server_t t;
    tl_server_start(&t, 403);
    tl_device_t d;
    tl_device_init(&d, &t, "UDID-FUZZ");
    assert_int_equal(tl_enroll(&d), 200);
    plist_t m = plist_new_dict();
    plist_dict_set_item(m, "MessageType", plist_new_string("TokenUpdate"));
    plist_dict_set_item(m, "UDID", plist_new_string("UDID-FUZZ"));
    plist_dict_set_item(m, "Topic", plist_new_string("com.apple.mgmt.External.x"));
    plist_dict_set_item(m, "PushMagic", plist_new_string("M"));
    plist_dict_set_item(m, "Token", plist_new_data("\1\2\3", 3));
    char *xml = NULL, *bin = NULL;
    uint32_t xl = 0, bl = 0;
    plist_to_xml(m, &xml, &xl);
    plist_to_bin(m, &bin, &bl);
    plist_free(m);
    uint32_t seed = 12345;
    for (int round = 0; round < 300; round++) {
        int use_bin = round & 1;
        uint32_t len = use_bin ? bl : xl;
        char *buf = malloc(len);
        memcpy(buf, use_bin ? bin : xml, len);
        for (int k = 0; k < 1 + round % 8; k++) {
            seed = seed * 1103515245u + 12345u;
            buf[(seed >> 8) % len] = (char)(seed >> 24);
        }
        seed = seed * 1103515245u + 12345u;
        uint32_t cut = round % 5 == 0 ? (seed >> 8) % len : len;
        tl_raw_t raw;
        tl_put_raw(round % 3 ? t.checkin : t.server, round % 3 ? FERRY_MDM_CHECKIN_MIME : FERRY_MDM_COMMAND_MIME,
                   buf, cut, NULL, &raw);
        if (raw.status < 400 || raw.status >= 500)
            fail_msg("round %d: status %ld", round, raw.status);
        free(buf);
    }
    free(xml);
    free(bin);
    assert_int_equal(tl_enroll(&d), 200);
    tl_device_free(&d);
    tl_server_stop(&t);
}

static void test_D2_assignment_service(void **state)
{
    tl_server_t t;
    tl_server_start(&t, 403);
    ferry_mdm_db_t *db;
    assert_int_equal(ferry_mdm_db_open(t.db_path, &db), 0);
    ferry_mdm_ade_profile_t p;
    ferry_mdm_ade_profile_init(&p);
    p.serial = strdup("F2LSERIAL01");
    p.is_supervised = 1;
    p.is_mandatory = 1;
    p.is_mdm_removable = 0;
    p.await_device_configured = 1;
    p.do_not_use_profile_from_backup = 1;
    assert_int_equal(ferry_mdm_db_assign(db, &p), 0);
    ferry_mdm_ade_profile_clear(&p);
    ferry_mdm_db_close(db);

    ferry_mdm_ade_profile_t got;
    assert_int_equal(ferry_mdm_client_fetch_ade_profile(t.base, "F2LSERIAL01", NULL, &got), 0);
    assert_int_equal(got.is_supervised, 1);
    assert_int_equal(got.is_mandatory, 1);
    assert_int_equal(got.is_mdm_removable, 0);
    assert_int_equal(got.is_multi_user, 0);
    assert_int_equal(got.await_device_configured, 1);
    assert_int_equal(got.do_not_use_profile_from_backup, 1);
    assert_non_null(got.url);
    assert_non_null(strstr(got.url, "/ade/enroll"));
    assert_int_equal(ferry_mdm_client_fetch_ade_profile(t.base, "NOTREGISTERED", NULL, &p), FERRY_ENOTFOUND);
    ferry_mdm_ade_profile_clear(&p);

    /* the enrollment profile, fetched with a signed MachineInfo, then enrollment with it */
    tl_device_t d;
    tl_device_init(&d, &t, "UDID-ADE-1");
    plist_t mi = plist_new_dict();
    plist_dict_set_item(mi, "UDID", plist_new_string(d.udid));
    plist_dict_set_item(mi, "SERIAL", plist_new_string("F2LSERIAL01"));
    plist_dict_set_item(mi, "PRODUCT", plist_new_string("iPhone15,2"));
    plist_t prof = NULL;
    assert_int_equal(ferry_mdm_client_fetch_enrollment(got.url, mi, d.id, NULL, &prof), 0);
    plist_t content = plist_dict_get_item(prof, "PayloadContent");
    assert_int_equal(plist_array_get_size(content), 2);
    plist_t mdm = plist_array_get_item(content, 1);
    char *type, *server_url, *idref, *acme_uuid;
    int sign, removal_disallowed, hw;
    assert_int_equal(ferry_plist_get_string(mdm, "PayloadType", &type), 0);
    assert_string_equal(type, "com.apple.mdm");
    assert_int_equal(ferry_plist_get_string(mdm, "ServerURL", &server_url), 0);
    assert_int_equal(ferry_plist_get_bool(mdm, "SignMessage", &sign), 0);
    assert_true(sign);
    assert_int_equal(ferry_plist_get_string(mdm, "IdentityCertificateUUID", &idref), 0);
    assert_int_equal(ferry_plist_get_string(plist_array_get_item(content, 0), "PayloadUUID", &acme_uuid), 0);
    assert_string_equal(idref, acme_uuid);
    assert_int_equal(ferry_plist_get_bool(plist_array_get_item(content, 0), "HardwareBound", &hw), 0);
    assert_false(hw);
    assert_int_equal(ferry_plist_get_bool(prof, "PayloadRemovalDisallowed", &removal_disallowed), 0);
    assert_true(removal_disallowed);
    assert_string_equal(server_url, t.server);
    free(type);
    free(server_url);
    free(idref);
    free(acme_uuid);
    plist_free(prof);
    /* unsigned MachineInfo is accepted too; an unassigned serial is refused */
    assert_int_equal(ferry_mdm_client_fetch_enrollment(got.url, mi, NULL, NULL, &prof), 0);
    plist_free(prof);
    plist_dict_set_item(mi, "SERIAL", plist_new_string("OTHERSERIAL"));
    assert_int_equal(ferry_mdm_client_fetch_enrollment(got.url, mi, d.id, NULL, &prof), FERRY_ENOTFOUND);
    plist_free(mi);
    ferry_mdm_ade_profile_clear(&got);
    assert_int_equal(tl_enroll(&d), 200);
    tl_device_free(&d);
    tl_server_stop(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_device_checks_in),
        cmocka_unit_test(test_command_acknowledged_not_resent),
        cmocka_unit_test(test_not_now_resent_next_session),
        cmocka_unit_test(test_S2_block_403_with_body),
        cmocka_unit_test(test_S2_restore_decision_on_token_update),
        cmocka_unit_test(test_unknown_device_gets_configured_decision),
        cmocka_unit_test(test_S2_no_server_is_not_a_rejection),
        cmocka_unit_test(test_forged_and_unsigned_refused),
        cmocka_unit_test(test_malformed_bodies_4xx_and_server_serves),
        cmocka_unit_test(test_mutated_bodies_never_accepted),
        cmocka_unit_test(test_D2_assignment_service),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
