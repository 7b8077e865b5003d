/*
 * mdm_testlib.h: shared by the test_mdm_* tests: an in-process MDM server on 127.0.0.1 with an
 * ephemeral port and a database in a private temp directory, emulated device identities, and a raw
 * HTTP PUT (libcurl) for sending bodies the client would never send. Header-only (static) so that
 * each test executable stays self-contained.
 */
#ifndef FERRY_MDM_TESTLIB_H
#define FERRY_MDM_TESTLIB_H

#include "testutil.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/mdm.h"

typedef struct {
    char *dir, *db_path, *base, *checkin, *server;
    ferry_mdm_server_t *srv;
} tl_server_t;

static void tl_server_start(tl_server_t *t, int unknown_decision)
{
    memset(t, 0, sizeof *t);
    t->dir = tu_mkdtemp();
    assert_true(asprintf(&t->db_path, "%s/mdm.db", t->dir) > 0);
    ferry_mdm_server_opts_t o;
    ferry_mdm_server_opts_init(&o);
    o.port = 0;
    o.db_path = t->db_path;
    o.unknown_decision = unknown_decision;
    o.max_body = 64 * 1024;
    int rc = ferry_mdm_server_start(&o, &t->srv);
    if (rc)
        fail_msg("server: %s", ferry_error_last());
    t->base = strdup(ferry_mdm_server_url(t->srv));
    assert_true(asprintf(&t->checkin, "%s/checkin", t->base) > 0);
    assert_true(asprintf(&t->server, "%s/mdm", t->base) > 0);
}

static void tl_server_stop(tl_server_t *t)
{
    ferry_mdm_server_stop(t->srv);
    tu_rmtree(t->dir);
    free(t->dir);
    free(t->db_path);
    free(t->base);
    free(t->checkin);
    free(t->server);
}

typedef struct {
    char udid[48];
    ferry_mdm_identity_t *id;
    ferry_mdm_client_opts_t o;
} tl_device_t;

static void tl_device_init(tl_device_t *d, const tl_server_t *t, const char *udid)
{
    memset(d, 0, sizeof *d);
    snprintf(d->udid, sizeof d->udid, "%s", udid);
    assert_int_equal(ferry_mdm_identity_generate(udid, &d->id), 0);
    d->o.checkin_url = t->checkin;
    d->o.server_url = t->server;
    d->o.udid = d->udid;
    d->o.topic = "com.apple.mgmt.External.ferry-test";
    d->o.identity = d->id;
    d->o.timeout_seconds = 60;
}

static void tl_device_free(tl_device_t *d)
{
    ferry_mdm_identity_free(d->id);
}

/* Authenticate + TokenUpdate; returns the TokenUpdate's HTTP status. */
__attribute__((unused)) static int tl_enroll(tl_device_t *d)
{
    ferry_mdm_reply_t r = {0};
    ferry_mdm_device_facts_t f = {"F2LTEST0001", "iPhone15,2", "17.5", "21F79"};
    assert_int_equal(ferry_mdm_client_authenticate(&d->o, &f, &r), 0);
    int st = r.http_status;
    ferry_mdm_reply_clear(&r);
    if (st != 200)
        return st;
    const uint8_t token[32] = {1, 2, 3};
    assert_int_equal(ferry_mdm_client_token_update(&d->o, token, sizeof token, "MAGIC-1", 0, &r), 0);
    st = r.http_status;
    ferry_mdm_reply_clear(&r);
    return st;
}

typedef struct {
    long status;
    char body[4096];
    char ctype[128];
} tl_raw_t;

static size_t tl_sink(char *p, size_t size, size_t n, void *ud)
{
    tl_raw_t *r = ud;
    size_t have = strlen(r->body), add = size * n;
    if (have + add < sizeof r->body)
        memcpy(r->body + have, p, add), r->body[have + add] = 0;
    return add;
}

/* PUTs raw bytes (with an optional Mdm-Signature value); fails the test on a transport error. */
__attribute__((unused)) static void tl_put_raw(const char *url, const char *ctype, const void *body, size_t len, const char *sig,
                       tl_raw_t *out)
{
    memset(out, 0, sizeof *out);
    CURL *c = curl_easy_init();
    assert_non_null(c);
    struct curl_slist *h = NULL;
    char ct[200], sh[8192];
    snprintf(ct, sizeof ct, "Content-Type: %s", ctype);
    h = curl_slist_append(h, ct);
    if (sig) {
        snprintf(sh, sizeof sh, "Mdm-Signature: %s", sig);
        h = curl_slist_append(h, sh);
    }
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, tl_sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    CURLcode cc = curl_easy_perform(c);
    if (cc != CURLE_OK)
        fail_msg("PUT %s: %s", url, curl_easy_strerror(cc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    char *t = NULL;
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &t);
    if (t)
        snprintf(out->ctype, sizeof out->ctype, "%s", t);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

#endif
