/*
 * client.c: the device's side of the MDM protocol over libcurl (spec/mdm.md §9, §10, §12.3):
 * Authenticate, TokenUpdate and CheckOut, the command loop (Idle, then one report per command until
 * the server answers with a zero-byte body), and the ADE fetches (the profile assigned to a serial,
 * then the enrollment profile for a MachineInfo). Every message is an XML plist signed with the
 * device identity in Mdm-Signature. The client only reports what the server said (S2: 200 accepted;
 * 401 or 403 com.apple.unrecognized.device rejected; anything else "try again later"); applying a
 * command or unenrolling belongs to its caller, so this file includes no device header.
 */
#include "mdm_internal.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_REPLY (16u * 1024u * 1024u)

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}


static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    mdm_http_sink_t *s = ud;
    size_t add = size * n;
    if (s->len + add > MAX_REPLY) {
        s->overflow = 1;
        return 0;
    }
    char *g = realloc(s->buf, s->len + add + 1);
    if (!g)
        return 0;
    memcpy(g + s->len, p, add);
    s->buf = g;
    s->len += add;
    s->buf[s->len] = 0;
    return add;
}

void mdm_http_resp_clear(mdm_http_resp_t *r)
{
    free(r->body.buf);
    free(r->ctype);
    memset(r, 0, sizeof *r);
}

int mdm_http(const mdm_http_req_t *q, mdm_http_resp_t *r)
{
    memset(r, 0, sizeof *r);
    pthread_once(&curl_once, curl_init_once);
    char *sig = NULL, *sig_hdr = NULL, *ct_hdr = NULL;
    if (q->sign_with) {
        int rc = ferry_mdm_sign(q->sign_with, q->body, q->len, &sig);
        if (rc)
            return rc;
        if (asprintf(&sig_hdr, "Mdm-Signature: %s", sig) < 0)
            sig_hdr = NULL;
        free(sig);
        if (!sig_hdr)
            return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    if (q->ctype && asprintf(&ct_hdr, "Content-Type: %s", q->ctype) < 0)
        ct_hdr = NULL;
    char *auth_hdr = NULL;
    if (q->bearer && asprintf(&auth_hdr, "Authorization: Bearer %s", q->bearer) < 0)
        auth_hdr = NULL;
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    if (ct_hdr)
        h = curl_slist_append(h, ct_hdr);
    if (sig_hdr)
        h = curl_slist_append(h, sig_hdr);
    if (auth_hdr)
        h = curl_slist_append(h, auth_hdr);
    h = curl_slist_append(h, "Expect:");
    int rc = 0;
    if (!c || !h) {
        rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
        goto out;
    }
    char err[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, q->url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->method);
    if (q->body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, q->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->len);
    } else if (!strcmp(q->method, "GET")) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, q->timeout > 0 ? q->timeout : 30L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (q->ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, q->ca_file);
    CURLcode cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        rc = ferry_error_set(r->body.overflow ? FERRY_ELIMIT : FERRY_EIO, "%s %s: %s", q->method, q->url,
                             r->body.overflow ? "reply too large" : err[0] ? err : curl_easy_strerror(cc));
        mdm_http_resp_clear(r);
        goto out;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    char *ct = NULL;
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
    r->ctype = ct ? strdup(ct) : NULL;
out:
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    free(sig_hdr);
    free(ct_hdr);
    if (auth_hdr) {
        ferry_wipe(auth_hdr, strlen(auth_hdr));
        free(auth_hdr);
    }
    return rc;
}

void ferry_mdm_reply_clear(ferry_mdm_reply_t *r)
{
    free(r->reason);
    memset(r, 0, sizeof *r);
}

/* 403 means unenroll only with Apple's code; the body is JSON or an XML plist (spec/mdm.md §11). */
static int unrecognized(const mdm_http_resp_t *r)
{
    const char *b = r->body.buf;
    if (!b)
        return 0;
    if (r->ctype && strstr(r->ctype, "json")) {
        const char *k = strstr(b, "\"code\"");
        if (!k)
            return 0;
        k += 6;
        while (*k == ' ' || *k == '\t' || *k == '\n' || *k == '\r')
            k++;
        if (*k++ != ':')
            return 0;
        while (*k == ' ' || *k == '\t' || *k == '\n' || *k == '\r')
            k++;
        return !strncmp(k, "\"" FERRY_MDM_UNRECOGNIZED_CODE "\"", strlen(FERRY_MDM_UNRECOGNIZED_CODE) + 2);
    }
    plist_t p = NULL;
    if (r->body.len >= 8 && r->body.len <= UINT32_MAX)
        ferry_plist_parse(b, r->body.len, &p, "the MDM server's reply");
    char *code = NULL;
    int yes = p && !ferry_plist_get_string(p, "code", &code) && !strcmp(code, FERRY_MDM_UNRECOGNIZED_CODE);
    free(code);
    if (p)
        plist_free(p);
    ferry_error_clear();
    return yes;
}

static void fill_reply(const mdm_http_resp_t *r, ferry_mdm_reply_t *out)
{
    out->http_status = (int)r->status;
    out->verdict = r->status == 200                 ? FERRY_MDM_VERDICT_ACCEPTED
                   : r->status == 401               ? FERRY_MDM_VERDICT_REJECTED_401
                   : r->status == 403 && unrecognized(r) ? FERRY_MDM_VERDICT_REJECTED_403
                                                    : FERRY_MDM_VERDICT_OTHER;
    free(out->reason);
    out->reason = NULL;
    if (r->status != 200 && r->body.buf && r->body.len < 4096)
        out->reason = strdup(r->body.buf);
}

/* Signs and PUTs a plist message; fills reply and, on 200, hands back the body. */
static int put_message(const ferry_mdm_client_opts_t *o, const char *url, const char *ctype, plist_t msg,
                       ferry_mdm_reply_t *reply, mdm_http_resp_t *keep)
{
    char *xml = NULL;
    uint32_t len = 0;
    plist_to_xml(msg, &xml, &len);
    memset(reply, 0, sizeof *reply);
    reply->verdict = FERRY_MDM_VERDICT_OTHER;
    if (!xml)
        return ferry_error_set(FERRY_ENOMEM, "cannot serialise the message");
    mdm_http_req_t q = {"PUT", url, ctype, xml, len, o->identity, o->ca_file, o->timeout_seconds, NULL};
    mdm_http_resp_t r;
    int rc = mdm_http(&q, &r);
    free(xml);
    if (rc)
        return rc;
    fill_reply(&r, reply);
    if (keep)
        *keep = r;
    else
        mdm_http_resp_clear(&r);
    return 0;
}

static plist_t checkin_msg(const ferry_mdm_client_opts_t *o, const char *type)
{
    plist_t d = plist_new_dict();
    plist_dict_set_item(d, "MessageType", plist_new_string(type));
    plist_dict_set_item(d, "UDID", plist_new_string(o->udid ? o->udid : ""));
    if (o->topic)
        plist_dict_set_item(d, "Topic", plist_new_string(o->topic));
    return d;
}

static int checkin(const ferry_mdm_client_opts_t *o, plist_t d, ferry_mdm_reply_t *reply)
{
    const char *url = o->checkin_url ? o->checkin_url : o->server_url;
    if (!url || !o->udid) {
        plist_free(d);
        memset(reply, 0, sizeof *reply);
        return ferry_error_set(FERRY_EINVAL, "check-in needs a URL and a UDID");
    }
    int rc = put_message(o, url, FERRY_MDM_CHECKIN_MIME, d, reply, NULL);
    plist_free(d);
    return rc;
}

static void set_opt_string(plist_t d, const char *key, const char *v)
{
    if (v)
        plist_dict_set_item(d, key, plist_new_string(v));
}

int ferry_mdm_client_authenticate(const ferry_mdm_client_opts_t *o, const ferry_mdm_device_facts_t *f,
                                  ferry_mdm_reply_t *reply)
{
    plist_t d = checkin_msg(o, "Authenticate");
    if (f) {
        set_opt_string(d, "SerialNumber", f->serial_number);
        set_opt_string(d, "ProductName", f->product_name);
        set_opt_string(d, "OSVersion", f->os_version);
        set_opt_string(d, "BuildVersion", f->build_version);
    }
    return checkin(o, d, reply);
}

int ferry_mdm_client_token_update(const ferry_mdm_client_opts_t *o, const uint8_t *token,
                                  size_t token_len, const char *push_magic, int awaiting_configuration,
                                  ferry_mdm_reply_t *reply)
{
    plist_t d = checkin_msg(o, "TokenUpdate");
    plist_dict_set_item(d, "Token", plist_new_data((const char *)token, token_len));
    plist_dict_set_item(d, "PushMagic", plist_new_string(push_magic ? push_magic : ""));
    plist_dict_set_item(d, "AwaitingConfiguration", plist_new_bool(awaiting_configuration != 0));
    return checkin(o, d, reply);
}

int ferry_mdm_client_checkout(const ferry_mdm_client_opts_t *o, ferry_mdm_reply_t *reply)
{
    return checkin(o, checkin_msg(o, "CheckOut"), reply);
}

int mdm_client_parse_command(const void *body, size_t len, plist_t *req, char **uuid)
{
    *req = NULL;
    *uuid = NULL;
    plist_t p = NULL;
    ferry_plist_parse(body, len, &p, "the MDM server's command");
    plist_t cmd = p && plist_get_node_type(p) == PLIST_DICT ? plist_dict_get_item(p, "Command") : NULL;
    if (!cmd || plist_get_node_type(cmd) != PLIST_DICT || ferry_plist_get_string(p, "CommandUUID", uuid)) {
        if (p)
            plist_free(p);
        free(*uuid);
        *uuid = NULL;
        return ferry_error_set(FERRY_EFORMAT, "the MDM server sent a command that is not a "
                                              "{CommandUUID, Command} dictionary");
    }
    *req = p;
    return 0;
}

int ferry_mdm_client_command_loop(const ferry_mdm_client_opts_t *o, ferry_mdm_command_fn fn, void *ctx,
                                  unsigned max_commands, unsigned *n_run, ferry_mdm_reply_t *reply)
{
    *n_run = 0;
    memset(reply, 0, sizeof *reply);
    if (!o->server_url || !o->udid || !fn)
        return ferry_error_set(FERRY_EINVAL, "the command loop needs a ServerURL, a UDID and a callback");
    unsigned max = max_commands ? max_commands : 1000;
    plist_t msg = plist_new_dict();
    plist_dict_set_item(msg, "Status", plist_new_string("Idle"));
    plist_dict_set_item(msg, "UDID", plist_new_string(o->udid));
    for (;;) {
        mdm_http_resp_t r;
        ferry_mdm_reply_clear(reply);
        int rc = put_message(o, o->server_url, FERRY_MDM_COMMAND_MIME, msg, reply, &r);
        plist_free(msg);
        msg = NULL;
        if (rc)
            return rc;
        if (r.status != 200 || r.body.len == 0) { /* rejected, or the session ended */
            mdm_http_resp_clear(&r);
            return 0;
        }
        plist_t req = NULL;
        char *uuid = NULL;
        rc = mdm_client_parse_command(r.body.buf, r.body.len, &req, &uuid);
        mdm_http_resp_clear(&r);
        if (rc)
            return rc;
        if (*n_run >= max) {
            plist_free(req);
            free(uuid);
            return ferry_error_set(FERRY_ELIMIT, "stopped after %u commands in one session", max);
        }
        plist_t result = NULL;
        const char *status = fn(ctx, req, &result);
        (*n_run)++;
        plist_free(req);
        if (!result || plist_get_node_type(result) != PLIST_DICT) {
            if (result)
                plist_free(result);
            result = plist_new_dict();
        }
        plist_dict_set_item(result, "Status", plist_new_string(status ? status : "Error"));
        plist_dict_set_item(result, "UDID", plist_new_string(o->udid));
        plist_dict_set_item(result, "CommandUUID", plist_new_string(uuid));
        free(uuid);
        msg = result;
    }
}

int ferry_mdm_client_fetch_ade_profile(const char *assign_base, const char *serial, const char *ca_file,
                                       ferry_mdm_ade_profile_t *profile)
{
    ferry_mdm_ade_profile_init(profile);
    pthread_once(&curl_once, curl_init_once);
    CURL *c = curl_easy_init();
    char *esc = c ? curl_easy_escape(c, serial, 0) : NULL;
    char *url = NULL;
    if (!esc || asprintf(&url, "%s/ade/profile?serial=%s", assign_base, esc) < 0)
        url = NULL;
    curl_free(esc);
    curl_easy_cleanup(c);
    if (!url)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    mdm_http_req_t q = {"GET", url, NULL, NULL, 0, NULL, ca_file, 30, NULL};
    mdm_http_resp_t r;
    int rc = mdm_http(&q, &r);
    if (!rc && r.status == 404)
        rc = ferry_error_set(FERRY_ENOTFOUND, "serial number %s is not registered for device "
                                              "assignment at %s", serial, assign_base);
    else if (!rc && r.status != 200)
        rc = ferry_error_set(FERRY_EIO, "device-assignment service %s answered %ld", url, r.status);
    if (!rc) {
        plist_t p = NULL;
        rc = ferry_plist_parse(r.body.buf, r.body.len, &p, "the ADE profile");
        if (!rc) {
            rc = ferry_mdm_ade_profile_from_plist(p, profile);
            plist_free(p);
        }
    }
    mdm_http_resp_clear(&r);
    free(url);
    return rc;
}

int ferry_mdm_client_fetch_enrollment(const char *url, plist_t machine_info, const ferry_mdm_identity_t *id,
                                      const char *ca_file, plist_t *profile)
{
    *profile = NULL;
    char *xml = NULL;
    uint32_t len = 0;
    plist_to_xml(machine_info, &xml, &len);
    if (!xml)
        return ferry_error_set(FERRY_EFORMAT, "cannot serialise the MachineInfo");
    uint8_t *der = NULL;
    size_t der_len = 0;
    if (id) {
        int rc = ferry_mdm_sign_attached(id, xml, len, &der, &der_len);
        if (rc) {
            free(xml);
            return rc;
        }
    }
    mdm_http_req_t q = {"POST", url, id ? "application/pkcs7-signature" : "application/xml",
                    id ? (const void *)der : xml, id ? der_len : len, NULL, ca_file, 30, NULL};
    mdm_http_resp_t r;
    int rc = mdm_http(&q, &r);
    free(xml);
    free(der);
    if (rc)
        return rc;
    if (r.status == 403 || r.status == 404)
        rc = ferry_error_set(FERRY_ENOTFOUND, "%s refused the enrollment (%ld): %s", url, r.status,
                             r.body.buf ? r.body.buf : "");
    else if (r.status != 200)
        rc = ferry_error_set(FERRY_EIO, "%s answered %ld to the MachineInfo", url, r.status);
    else
        rc = ferry_plist_parse(r.body.buf, r.body.len, profile, "the enrollment profile");
    mdm_http_resp_clear(&r);
    return rc;
}
