/*
 * server_http.c: the HTTP side of `ferry mdm serve` over libmicrohttpd: it collects request bodies
 * (capped), routes /checkin, /mdm, /ade/... and /admin/..., verifies Mdm-Signature before a handler
 * sees a message, sends replies, and starts and stops the daemon (HTTP or HTTPS). The handlers
 * themselves are in server.c.
 */
#include "server_internal.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- libmicrohttpd glue ------------------------------------------------------------------------ */

static int starts_with(const char *s, const char *prefix)
{
    return s && !strncasecmp(s, prefix, strlen(prefix));
}

/* Constant-time comparison of the bearer token, so that timing tells nothing about it. */
static int admin_authorised(const ferry_mdm_server_t *s, struct MHD_Connection *c)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (!s->admin_token || !h || strncmp(h, "Bearer ", 7) != 0)
        return 0;
    const char *got = h + 7;
    size_t n = strlen(s->admin_token);
    if (strlen(got) != n)
        return 0;
    return CRYPTO_memcmp(got, s->admin_token, n) == 0;
}

static void handle_admin(ferry_mdm_server_t *s, struct MHD_Connection *c, const char *url,
                         const char *method, const req_t *q, reply_t *r)
{
    if (!s->admin_token) {
        mdm_reply_text(r, 404, "the admin API is off (start the server with an admin token)\n");
        return;
    }
    if (!admin_authorised(s, c)) {
        mdm_reply_text(r, 401, "admin API: missing or wrong bearer token\n");
        return;
    }
    if (q->too_big) {
        mdm_reply_text(r, 413, "body larger than %zu bytes\n", s->max_body);
        return;
    }
    const char *udid = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "udid");
    mdm_admin_reply_t a;
    pthread_mutex_lock(&s->lock);
    mdm_admin_handle(s->db, url, method, udid, q->buf, q->len, &a);
    pthread_mutex_unlock(&s->lock);
    free(r->body);
    r->status = a.status;
    r->body = a.body;
    r->len = a.len;
    r->ctype = a.status == 200 ? "application/xml" : "text/plain; charset=utf-8";
}

static void route(ferry_mdm_server_t *s, struct MHD_Connection *c, const char *url,
                  const char *method, const req_t *q, reply_t *r)
{
    if (!strncmp(url, "/admin/", 7)) {
        handle_admin(s, c, url, method, q, r);
        return;
    }
    int put = !strcmp(method, "PUT"), get = !strcmp(method, "GET"), post = !strcmp(method, "POST");
    if (!strcmp(url, "/ade/profile")) {
        if (get)
            mdm_handle_ade_profile(s, c, r);
        else
            mdm_reply_text(r, 405, "use GET\n");
        return;
    }
    if (!strcmp(url, "/ade/enroll")) {
        if (post && !q->too_big)
            mdm_handle_ade_enroll(s, q, r);
        else
            mdm_reply_text(r, post ? 413 : 405, post ? "body too large\n" : "use POST\n");
        return;
    }
    if (strcmp(url, "/checkin") != 0 && strcmp(url, "/mdm") != 0) {
        mdm_reply_text(r, 404, "no such endpoint: %s\n", url);
        return;
    }
    if (!put) {
        mdm_reply_text(r, 405, "use PUT\n");
        return;
    }
    if (q->too_big) {
        mdm_reply_text(r, 413, "body larger than %zu bytes\n", s->max_body);
        return;
    }
    const char *ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    const char *b64 = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Mdm-Signature");
    mdm_handle_put(s, url, ctype, b64, q, r);
}

void mdm_handle_put(ferry_mdm_server_t *s, const char *url, const char *ctype, const char *b64, const req_t *q,
                    reply_t *r)
{
    uint8_t *der = NULL;
    size_t der_len = 0;
    signer_t sg = {NULL, 0, "the message has no Mdm-Signature"};
    char why[300];
    if (b64) {
        if (ferry_mdm_verify(b64, q->buf ? q->buf : (const uint8_t *)"", q->len, &der, &der_len)) {
            snprintf(why, sizeof why, "Mdm-Signature: %s", ferry_error_last());
            sg.why = why;
        } else {
            sg.der = der;
            sg.len = der_len;
        }
    }
    int checkin = !strcmp(url, "/checkin") || starts_with(ctype, FERRY_MDM_CHECKIN_MIME);
    if (checkin)
        mdm_handle_checkin(s, q, &sg, r);
    else
        mdm_handle_command(s, q, &sg, r);
    free(der);
}

static enum MHD_Result send_reply(struct MHD_Connection *c, const reply_t *r)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(r->len, r->body ? r->body : (void *)"", MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    if (r->ctype)
        MHD_add_response_header(resp, "Content-Type", r->ctype);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    ferry_mdm_server_t *s = cls;
    req_t *q = *con_cls;
    if (!q) {
        q = calloc(1, sizeof *q);
        if (!q)
            return MHD_NO;
        *con_cls = q;
        return MHD_YES;
    }
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (q->too_big || q->len + n > s->max_body) {
            q->too_big = 1; /* keep reading and discarding, then answer 413 */
            return MHD_YES;
        }
        if (q->len + n > q->cap) {
            size_t nc = q->cap ? q->cap : 4096;
            while (nc < q->len + n)
                nc *= 2;
            if (nc > s->max_body)
                nc = s->max_body;
            uint8_t *g = realloc(q->buf, nc);
            if (!g)
                return MHD_NO;
            q->buf = g;
            q->cap = nc;
        }
        memcpy(q->buf + q->len, upload, n);
        q->len += n;
        return MHD_YES;
    }
    reply_t r = {0, NULL, NULL, 0};
    route(s, c, url, method, q, &r);
    enum MHD_Result ret = send_reply(c, &r);
    free(r.body);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    req_t *q = *con_cls;
    if (q) {
        free(q->buf);
        free(q);
        *con_cls = NULL;
    }
}

void ferry_mdm_server_opts_init(ferry_mdm_server_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->host = "127.0.0.1";
    o->unknown_decision = FERRY_MDM_REJECT_403;
}

static int read_pem(const char *path, char **out)
{
    uint8_t *b;
    size_t n;
    int rc = ferry_file_read_all(path, 1u << 20, &b, &n);
    *out = rc ? NULL : (char *)b;
    return rc;
}

void ferry_mdm_server_stop(ferry_mdm_server_t *s)
{
    if (!s)
        return;
    if (s->daemon)
        MHD_stop_daemon(s->daemon);
    ferry_mdm_db_close(s->db);
    pthread_mutex_destroy(&s->lock);
    free(s->base_url);
    free(s->topic);
    free(s->tls_cert);
    if (s->admin_token) {
        ferry_wipe(s->admin_token, strlen(s->admin_token));
        free(s->admin_token);
    }
    if (s->tls_key) {
        ferry_wipe(s->tls_key, strlen(s->tls_key));
        free(s->tls_key);
    }
    free(s);
}

int ferry_mdm_server_start(const ferry_mdm_server_opts_t *o, ferry_mdm_server_t **out)
{
    *out = NULL;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(o->port);
    if (!o->host || inet_pton(AF_INET, o->host, &sa.sin_addr) != 1)
        return ferry_error_set(FERRY_EINVAL, "listen address '%s' is not a numeric IPv4 address",
                               o->host ? o->host : "");
    if (!o->db_path)
        return ferry_error_set(FERRY_EINVAL, "the MDM server needs a database file (--db)");
    int d = o->unknown_decision;
    if (d != 200 && d != 401 && d != 403)
        return ferry_error_set(FERRY_EINVAL, "unknown-device decision %d is not 200, 401 or 403", d);
    if (!!o->tls_cert_path != !!o->tls_key_path)
        return ferry_error_set(FERRY_EINVAL, "HTTPS needs both --tls-cert and --tls-key");
    ferry_mdm_server_t *s = calloc(1, sizeof *s);
    if (!s)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    pthread_mutex_init(&s->lock, NULL);
    s->unknown_decision = d;
    s->max_body = o->max_body ? o->max_body : FERRY_MDM_DEFAULT_MAX_BODY;
    if (o->admin_token && strlen(o->admin_token) < 16) {
        ferry_mdm_server_stop(s);
        return ferry_error_set(FERRY_EINVAL, "the admin token must have at least 16 characters");
    }
    if (o->admin_token && !(s->admin_token = strdup(o->admin_token))) {
        ferry_mdm_server_stop(s);
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    int rc = ferry_mdm_db_open(o->db_path, &s->db);
    if (!rc)
        rc = mdm_db_topic(s->db, &s->topic);
    if (!rc && o->tls_cert_path && !(rc = read_pem(o->tls_cert_path, &s->tls_cert)))
        rc = read_pem(o->tls_key_path, &s->tls_key);
    if (!rc && s->tls_cert && !MHD_is_feature_supported(MHD_FEATURE_TLS))
        rc = ferry_error_set(FERRY_EUNSUPPORTED, "this libmicrohttpd was built without HTTPS");
    if (rc) {
        ferry_mdm_server_stop(s);
        return rc;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;
    if (s->tls_cert)
        flags |= MHD_USE_TLS;
    unsigned threads = o->threads ? o->threads : 4;
    struct MHD_OptionItem tls_opts[] = {
        {s->tls_cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, s->tls_cert},
        {s->tls_key ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, s->tls_key},
        {MHD_OPTION_END, 0, NULL},
    };
    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)(128 * 1024), MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)512,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_ARRAY, tls_opts, MHD_OPTION_END);
    if (!s->daemon) {
        ferry_mdm_server_stop(s);
        return ferry_error_set(FERRY_EIO, "cannot listen on %s:%u (address in use, or a bad TLS "
                                          "certificate or key)", o->host, (unsigned)o->port);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : o->port;
    if (o->public_url) {
        size_t n = strlen(o->public_url);
        while (n > 0 && o->public_url[n - 1] == '/')
            n--;
        s->base_url = strndup(o->public_url, n);
    } else if (asprintf(&s->base_url, "%s://%s:%u", s->tls_cert ? "https" : "http", o->host,
                        (unsigned)s->port) < 0)
        s->base_url = NULL;
    if (!s->base_url) {
        ferry_mdm_server_stop(s);
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    *out = s;
    return 0;
}

uint16_t ferry_mdm_server_port(const ferry_mdm_server_t *s)
{
    return s->port;
}

const char *ferry_mdm_server_url(const ferry_mdm_server_t *s)
{
    return s->base_url;
}

