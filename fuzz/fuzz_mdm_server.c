/*
 * fuzz_mdm_server.c: libFuzzer target for the MDM server's request bodies (spec/mdm.md §9-§12): the
 * check-in messages (Authenticate, TokenUpdate, CheckOut), command results and polls of /mdm, and the
 * MachineInfo of /ade/enroll (a plist, or CMS SignedData holding one), with or without an
 * Mdm-Signature. The handlers run without a socket (mdm_handle_put, mdm_handle_ade_enroll) on a
 * server whose database is in memory and has one ADE assignment (serial FUZZ_SERIAL).
 *
 * Input: up to MAX_RECORDS records, each one request: a selector byte, a u16LE length n, then n bytes
 * (fewer when the input ends). Selector bits 0-1: 0 PUT /checkin, 1 PUT /mdm, 2 POST /ade/enroll, 3
 * PUT /mdm with the check-in Content-Type; bit 2: the bytes start with an Mdm-Signature value ended
 * by '\n'. Several records let one input enroll a device and then send it commands. Every reply must
 * be a 2xx/4xx with a body of the length it claims; a 5xx means a handler let a malformed body reach
 * the database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "fuzz_mdm.h"
#include "mdm/server_internal.h"

#define MAX_RECORDS 8
#define RESET_EVERY 4096 /* runs between fresh databases, so the in-memory log stays small */

static ferry_mdm_server_t srv;
static unsigned runs;

static void db_fresh(void)
{
    if (srv.db)
        ferry_mdm_db_close(srv.db);
    srv.db = NULL;
    free(srv.topic);
    srv.topic = NULL;
    ferry_mdm_ade_profile_t p;
    ferry_mdm_ade_profile_init(&p);
    p.serial = FUZZ_SERIAL;
    p.is_supervised = 1;
    p.await_device_configured = 1;
    if (ferry_mdm_db_open(":memory:", &srv.db) || mdm_db_topic(srv.db, &srv.topic) ||
        ferry_mdm_db_assign(srv.db, &p)) {
        fprintf(stderr, "fuzz: cannot set up the MDM database: %s\n", ferry_error_last());
        abort();
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_quiet();
    pthread_mutex_init(&srv.lock, NULL);
    srv.unknown_decision = FERRY_MDM_ACCEPT;
    srv.max_body = FERRY_MDM_DEFAULT_MAX_BODY;
    srv.base_url = strdup("https://mdm.fuzz.example:8443");
    db_fresh();
    return 0;
}

static void one(unsigned sel, const uint8_t *p, size_t n)
{
    static const char *const urls[] = {"/checkin", "/mdm", "/ade/enroll", "/mdm"};
    char *b64 = NULL;
    if (sel & 4) {
        const uint8_t *nl = memchr(p, '\n', n);
        size_t k = nl ? (size_t)(nl - p) : n;
        b64 = strndup((const char *)p, k); /* stops early at a NUL, as an HTTP header would */
        if (!b64)
            abort();
        p += nl ? k + 1 : k;
        n -= nl ? k + 1 : k;
    }
    /* the body in its own allocation, so that ASan sees a read past it */
    uint8_t *body = n ? malloc(n) : NULL;
    if (n && !body)
        abort();
    if (n)
        memcpy(body, p, n);
    req_t q = {body, n, n, 0};
    reply_t r = {0, NULL, NULL, 0};
    if ((sel & 3) == 2)
        mdm_handle_ade_enroll(&srv, &q, &r);
    else
        mdm_handle_put(&srv, urls[sel & 3], (sel & 3) == 3 ? FERRY_MDM_CHECKIN_MIME : FERRY_MDM_COMMAND_MIME,
                       b64, &q, &r);
    if (r.status < 200 || r.status >= 500 || (r.status >= 300 && r.status < 400)) {
        fprintf(stderr, "fuzz: status %d: %.*s\n", r.status, (int)(r.len < 300 ? r.len : 300),
                r.body ? r.body : "");
        fuzz_fail("the MDM server answered a request with neither 2xx nor 4xx");
    }
    if (r.len && !r.body)
        fuzz_fail("a reply claims a body it does not have");
    fuzz_touch(r.body, r.len);
    free(r.body);
    free(body);
    free(b64);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (++runs % RESET_EVERY == 0)
        db_fresh();
    size_t pos = 0;
    for (int i = 0; i < MAX_RECORDS && pos + 3 <= size; i++) {
        unsigned sel = data[pos];
        size_t n = (size_t)data[pos + 1] | (size_t)data[pos + 2] << 8;
        pos += 3;
        if (n > size - pos)
            n = size - pos;
        one(sel, data + pos, n);
        pos += n;
    }
    ferry_error_clear();
    return 0;
}
