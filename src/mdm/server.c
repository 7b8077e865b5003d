/*
 * server.c: ferry's MDM server on libmicrohttpd (spec/mdm.md §9-§12; the HTTP contract is in
 * include/ferry/mdm.h). Each request's body is collected up to a cap (larger ones get 413 and are
 * discarded), parsed with libplist as a dictionary, and checked key by key before anything is
 * stored; a malformed request gets a 4xx with a text reason and never disturbs other requests. The
 * Mdm-Signature is verified outside the database lock; all database work of one request then runs
 * under one mutex, so the decision and the state change it implies are atomic. A device is told 401
 * or 403 (unrecognized.device) only by an explicit decision (block, restore decision, unknown-device
 * policy), never because of a transport or signature problem, which get a plain 403 instead: those
 * must not make a genuine device unenroll.
 */
#include "mdm_internal.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server_internal.h"

static const char UNRECOGNIZED_BODY[] =
    "{\"code\":\"com.apple.unrecognized.device\",\"description\":\"the MDM server does not manage "
    "this device (enrollment not recognized, or the device is blocked)\",\"message\":\"This device "
    "is no longer managed.\"}";

/* ---- replies ----------------------------------------------------------------------------------- */

void mdm_reply_text(reply_t *r, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    free(r->body);
    r->status = status;
    r->ctype = "text/plain; charset=utf-8";
    r->body = n >= 0 ? s : NULL;
    r->len = n >= 0 ? (size_t)n : 0;
}

/* The decision the server made about a device, as Apple's reply (spec/mdm.md §11). */
static void reply_decision(reply_t *r, int decision)
{
    if (decision == FERRY_MDM_REJECT_403) {
        free(r->body);
        r->status = 403;
        r->ctype = "application/json";
        r->body = strdup(UNRECOGNIZED_BODY);
        r->len = r->body ? strlen(r->body) : 0;
    } else if (decision == FERRY_MDM_REJECT_401) {
        mdm_reply_text(r, 401, "device is not managed by this server\n");
    } else {
        free(r->body);
        r->status = 200;
        r->ctype = NULL;
        r->body = NULL;
        r->len = 0;
    }
}

static void reply_plist(reply_t *r, plist_t p, const char *ctype)
{
    char *xml = NULL;
    uint32_t len = 0;
    plist_to_xml(p, &xml, &len);
    if (!xml) {
        mdm_reply_text(r, 500, "cannot serialise the reply\n");
        return;
    }
    free(r->body);
    r->status = 200;
    r->ctype = ctype;
    r->body = xml;
    r->len = len;
}

/* ---- request checks ---------------------------------------------------------------------------- */

static int id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > MAX_ID_LEN)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
              c == '_' || c == '.'))
            return 0;
    }
    return 1;
}

/* Bounded recursion: stops descending at max, so a hostile body cannot exhaust the stack here or in
 * the serialisers that store it. */
static int depth_ok(plist_t p, int left)
{
    if (left < 0)
        return 0;
    plist_type t = plist_get_node_type(p);
    if (t == PLIST_ARRAY) {
        for (uint32_t i = 0; i < plist_array_get_size(p); i++)
            if (!depth_ok(plist_array_get_item(p, i), left - 1))
                return 0;
    } else if (t == PLIST_DICT) {
        plist_dict_iter it = NULL;
        plist_dict_new_iter(p, &it);
        int ok = 1;
        while (ok && it) {
            char *k = NULL;
            plist_t v = NULL;
            plist_dict_next_item(p, it, &k, &v);
            if (!k)
                break;
            free(k);
            ok = depth_ok(v, left - 1);
        }
        free(it);
        return ok;
    }
    return 1;
}

/* Parses the body as a dict; on failure fills the 400 reply. */
static plist_t parse_dict(const req_t *q, reply_t *r, const char *what)
{
    plist_t p = NULL;
    if (q->len < 8) {
        mdm_reply_text(r, 400, "%s: body of %zu bytes is not a property list\n", what, q->len);
        return NULL;
    }
    plist_from_memory((const char *)q->buf, (uint32_t)q->len, &p);
    if (!p) {
        mdm_reply_text(r, 400, "%s: body is not a valid XML or binary property list\n", what);
        return NULL;
    }
    if (plist_get_node_type(p) != PLIST_DICT) {
        plist_free(p);
        mdm_reply_text(r, 400, "%s: body is not a dictionary\n", what);
        return NULL;
    }
    if (ferry_plist_check_tree(p, what)) {
        plist_free(p);
        mdm_reply_text(r, 400, "%s\n", ferry_error_last());
        return NULL;
    }
    if (!depth_ok(p, MAX_DEPTH)) {
        plist_free(p);
        mdm_reply_text(r, 400, "%s: property list nested deeper than %d levels\n", what, MAX_DEPTH);
        return NULL;
    }
    return p;
}

/* A string value that must be present and well-formed, or a 400. */
static const char *get_str(plist_t d, const char *key, int required, reply_t *r, char **own)
{
    *own = NULL;
    plist_t n = plist_dict_get_item(d, key);
    if (!n) {
        if (required)
            mdm_reply_text(r, 400, "the message has no %s\n", key);
        return NULL;
    }
    if (plist_get_node_type(n) != PLIST_STRING) {
        mdm_reply_text(r, 400, "%s is not a string\n", key);
        return NULL;
    }
    *own = ferry_plist_string_dup(n); /* NULL too for a string with a NUL byte */
    if (!*own || strlen(*own) > 1024) {
        free(*own);
        *own = NULL;
        mdm_reply_text(r, 400, "%s is empty or too long\n", key);
        return NULL;
    }
    return *own;
}

/* Optional data value; 400 when present with another type. Returns -1 on a type error. */
static int get_data(plist_t d, const char *key, uint8_t **out, size_t *len, reply_t *r)
{
    *out = NULL;
    *len = 0;
    plist_t n = plist_dict_get_item(d, key);
    if (!n)
        return 0;
    if (plist_get_node_type(n) != PLIST_DATA) {
        mdm_reply_text(r, 400, "%s is not data\n", key);
        return -1;
    }
    char *v = NULL;
    uint64_t l = 0;
    plist_get_data_val(n, &v, &l);
    *out = (uint8_t *)v;
    *len = (size_t)l;
    return 0;
}


/* 1 when the message is signed by the device's enrolled identity, else fills a plain 403. */
static int identity_ok(const mdm_dev_t *dev, const signer_t *s, reply_t *r)
{
    if (!s->der) {
        mdm_reply_text(r, 403, "refused: %s\n", s->why);
        return 0;
    }
    if (dev->identity &&
        (dev->identity_len != s->len || memcmp(dev->identity, s->der, s->len) != 0)) {
        mdm_reply_text(r, 403, "refused: Mdm-Signature is not made with the identity this device "
                           "enrolled with\n");
        return 0;
    }
    return 1;
}

/* ---- check-in ---------------------------------------------------------------------------------- */

static void do_authenticate(ferry_mdm_server_t *s, plist_t d, const char *udid, const mdm_dev_t *dev,
                            const signer_t *sg, reply_t *r)
{
    char *topic, *serial = NULL, *product = NULL, *osv = NULL, *build = NULL;
    if (!get_str(d, "Topic", 1, r, &topic))
        return;
    if (!sg->der)
        mdm_reply_text(r, 403, "refused: %s\n", sg->why);
    else if (dev->found && dev->decision != FERRY_MDM_ACCEPT)
        reply_decision(r, dev->decision);
    else {
        get_str(d, "SerialNumber", 0, r, &serial);
        get_str(d, "ProductName", 0, r, &product);
        get_str(d, "OSVersion", 0, r, &osv);
        get_str(d, "BuildVersion", 0, r, &build);
        if (r->status == 400)
            goto out;
        mdm_auth_t a = {udid, topic, serial, product, osv, build, sg->der, sg->len};
        if (mdm_db_authenticate(s->db, &a))
            mdm_reply_text(r, 500, "%s\n", ferry_error_last());
        else
            reply_decision(r, FERRY_MDM_ACCEPT);
    }
out:
    free(topic);
    free(serial);
    free(product);
    free(osv);
    free(build);
}

/* A device waiting in Setup Assistant (AwaitingConfiguration, ADE await_device_configured) goes on
 * only after DeviceConfigured: it is queued once, after whatever the administrator queued already. */
static int queue_device_configured(ferry_mdm_server_t *s, const char *udid)
{
    int has = mdm_db_has_pending(s->db, udid, "DeviceConfigured");
    if (has)
        return has < 0 ? has : 0;
    plist_t c;
    int rc = ferry_mdm_command_new("DeviceConfigured", NULL, &c);
    if (!rc) {
        rc = ferry_mdm_db_enqueue(s->db, udid, c);
        plist_free(c);
    }
    return rc;
}

static void do_token_update(ferry_mdm_server_t *s, plist_t d, const char *udid, const mdm_dev_t *dev,
                            const signer_t *sg, reply_t *r)
{
    char *topic = NULL, *magic = NULL;
    uint8_t *token = NULL, *unlock = NULL;
    size_t token_len = 0, unlock_len = 0;
    if (!get_str(d, "Topic", 1, r, &topic) || !get_str(d, "PushMagic", 1, r, &magic) ||
        get_data(d, "Token", &token, &token_len, r) || get_data(d, "UnlockToken", &unlock, &unlock_len, r))
        goto out;
    if (!token) {
        mdm_reply_text(r, 400, "the message has no Token\n");
        goto out;
    }
    plist_t ac = plist_dict_get_item(d, "AwaitingConfiguration");
    uint8_t awaiting = 0;
    if (ac && plist_get_node_type(ac) != PLIST_BOOLEAN) {
        mdm_reply_text(r, 400, "AwaitingConfiguration is not a boolean\n");
        goto out;
    }
    if (ac)
        plist_get_bool_val(ac, &awaiting);
    mdm_token_t t = {udid, topic, magic, token, unlock, token_len, unlock_len, awaiting, NULL, 0};
    int known = dev->found && strcmp(dev->state, "checked-out") != 0;
    if (!known) {
        if (s->unknown_decision != FERRY_MDM_ACCEPT) {
            reply_decision(r, s->unknown_decision);
            goto out;
        }
        if (!sg->der) {
            mdm_reply_text(r, 403, "refused: %s\n", sg->why);
            goto out;
        }
        t.identity = sg->der; /* adopted: the signer becomes its identity */
        t.identity_len = sg->len;
    } else {
        if (!identity_ok(dev, sg, r))
            goto out;
        if (dev->decision != FERRY_MDM_ACCEPT) {
            reply_decision(r, dev->decision);
            goto out;
        }
        /* A TokenUpdate of an enrolled device with no Authenticate since its last one is how a
         * restored device comes back (S2): the restore decision applies. */
        if (!dev->auth_pending && !strcmp(dev->state, "enrolled") &&
            dev->restore_decision != FERRY_MDM_ACCEPT) {
            reply_decision(r, dev->restore_decision);
            goto out;
        }
    }
    if (mdm_db_token_update(s->db, &t) || (awaiting && queue_device_configured(s, udid)))
        mdm_reply_text(r, 500, "%s\n", ferry_error_last());
    else
        reply_decision(r, FERRY_MDM_ACCEPT);
out:
    free(topic);
    free(magic);
    free(token);
    free(unlock);
}

static void do_checkout(ferry_mdm_server_t *s, const char *udid, const mdm_dev_t *dev,
                        const signer_t *sg, reply_t *r)
{
    if (!dev->found) {
        reply_decision(r, s->unknown_decision);
        return;
    }
    if (!identity_ok(dev, sg, r))
        return;
    if (mdm_db_checkout(s->db, udid))
        mdm_reply_text(r, 500, "%s\n", ferry_error_last());
    else
        reply_decision(r, FERRY_MDM_ACCEPT);
}

/* Device identifier of a message: UDID, or EnrollmentID (User Enrollment). */
static const char *message_id(plist_t d, reply_t *r, char **own)
{
    const char *id = get_str(d, "UDID", 0, r, own);
    if (!id && r->status != 400)
        id = get_str(d, "EnrollmentID", 0, r, own);
    if (!id) {
        if (r->status != 400)
            mdm_reply_text(r, 400, "the message has neither UDID nor EnrollmentID\n");
        return NULL;
    }
    if (!id_ok(id)) {
        mdm_reply_text(r, 400, "device identifier has characters other than letters, digits, '-', '_', '.'\n");
        free(*own);
        *own = NULL;
        return NULL;
    }
    return id;
}

void mdm_handle_checkin(ferry_mdm_server_t *s, const req_t *q, const signer_t *sg, reply_t *r)
{
    plist_t d = parse_dict(q, r, "check-in");
    char *type = NULL, *udid = NULL;
    if (!d) {
        pthread_mutex_lock(&s->lock);
        mdm_db_log(s->db, NULL, "malformed", r->status);
        pthread_mutex_unlock(&s->lock);
        return;
    }
    const char *mt = get_str(d, "MessageType", 1, r, &type);
    const char *id = mt ? message_id(d, r, &udid) : NULL;
    pthread_mutex_lock(&s->lock);
    if (mt && id) {
        mdm_dev_t dev;
        if (mdm_db_lookup(s->db, id, &dev))
            mdm_reply_text(r, 500, "%s\n", ferry_error_last());
        else if (!strcmp(mt, "Authenticate"))
            do_authenticate(s, d, id, &dev, sg, r);
        else if (!strcmp(mt, "TokenUpdate"))
            do_token_update(s, d, id, &dev, sg, r);
        else if (!strcmp(mt, "CheckOut"))
            do_checkout(s, id, &dev, sg, r);
        else
            mdm_reply_text(r, 400, "MessageType '%s' is not supported by this server\n", mt);
        mdm_dev_clear(&dev);
    }
    mdm_db_log(s->db, id, mt && r->status != 400 ? mt : "malformed", r->status);
    pthread_mutex_unlock(&s->lock);
    free(type);
    free(udid);
    plist_free(d);
}

/* ---- command loop ------------------------------------------------------------------------------ */

static int status_known(const char *st)
{
    static const char *const ok[] = {"Idle", "Acknowledged", "Error", "CommandFormatError", "NotNow"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        if (!strcmp(st, ok[i]))
            return 1;
    return 0;
}

static void command_step(ferry_mdm_server_t *s, plist_t d, const char *udid, const char *st,
                         reply_t *r)
{
    if (strcmp(st, "Idle") != 0) {
        char *uuid = NULL;
        if (!get_str(d, "CommandUUID", 1, r, &uuid))
            return;
        int final = strcmp(st, "NotNow") != 0;
        int rc = mdm_db_command_status(s->db, udid, uuid, st, final ? d : NULL);
        free(uuid);
        if (rc) {
            mdm_reply_text(r, 500, "%s\n", ferry_error_last());
            return;
        }
    } else if (mdm_db_commands_requeue(s->db, udid)) {
        mdm_reply_text(r, 500, "%s\n", ferry_error_last());
        return;
    }
    char *xml;
    size_t len;
    if (mdm_db_next_command(s->db, udid, &xml, &len)) {
        mdm_reply_text(r, 500, "%s\n", ferry_error_last());
        return;
    }
    free(r->body);
    r->status = 200;
    r->body = xml;
    r->len = len;
    r->ctype = xml ? "application/xml" : NULL; /* no command: zero-byte body ends the session */
}

void mdm_handle_command(ferry_mdm_server_t *s, const req_t *q, const signer_t *sg, reply_t *r)
{
    plist_t d = parse_dict(q, r, "command report");
    char *st = NULL, *udid = NULL;
    if (!d) {
        pthread_mutex_lock(&s->lock);
        mdm_db_log(s->db, NULL, "malformed", r->status);
        pthread_mutex_unlock(&s->lock);
        return;
    }
    const char *status = get_str(d, "Status", 1, r, &st);
    if (status && !status_known(status)) {
        mdm_reply_text(r, 400, "Status '%s' is not one of Idle, Acknowledged, Error, "
                           "CommandFormatError, NotNow\n", status);
        status = NULL;
    }
    const char *id = status ? message_id(d, r, &udid) : NULL;
    pthread_mutex_lock(&s->lock);
    if (status && id) {
        mdm_dev_t dev;
        if (mdm_db_lookup(s->db, id, &dev))
            mdm_reply_text(r, 500, "%s\n", ferry_error_last());
        else if (!dev.found || strcmp(dev.state, "enrolled") != 0) {
            if (s->unknown_decision != FERRY_MDM_ACCEPT)
                reply_decision(r, s->unknown_decision);
            else if (!sg->der)
                mdm_reply_text(r, 403, "refused: %s\n", sg->why);
            else if (dev.found && dev.identity && !identity_ok(&dev, sg, r))
                ;
            else {
                mdm_token_t t = {.udid = id, .identity = sg->der, .identity_len = sg->len};
                if (mdm_db_token_update(s->db, &t))
                    mdm_reply_text(r, 500, "%s\n", ferry_error_last());
                else
                    command_step(s, d, id, status, r);
            }
        } else if (identity_ok(&dev, sg, r)) {
            if (dev.decision != FERRY_MDM_ACCEPT)
                reply_decision(r, dev.decision);
            else
                command_step(s, d, id, status, r);
        }
        mdm_dev_clear(&dev);
    }
    mdm_db_log(s->db, id, status && r->status != 400 ? status : "malformed", r->status);
    pthread_mutex_unlock(&s->lock);
    free(st);
    free(udid);
    plist_free(d);
}

/* ---- device assignment ------------------------------------------------------------------------- */

void mdm_handle_ade_profile(ferry_mdm_server_t *s, struct MHD_Connection *c, reply_t *r)
{
    const char *serial = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "serial");
    if (!serial || !id_ok(serial)) {
        mdm_reply_text(r, 400, "give the device's serial number as ?serial=SERIAL\n");
        return;
    }
    ferry_mdm_ade_profile_t p;
    char *enroll_url = NULL;
    pthread_mutex_lock(&s->lock);
    int rc = ferry_mdm_db_get_assignment(s->db, serial, &p);
    mdm_db_log(s->db, NULL, "ADEProfile", rc == 0 ? 200 : rc == FERRY_ENOTFOUND ? 404 : 500);
    pthread_mutex_unlock(&s->lock);
    if (rc == FERRY_ENOTFOUND) {
        mdm_reply_text(r, 404, "serial number %s is not assigned to this MDM server\n", serial);
        return;
    }
    if (rc || asprintf(&enroll_url, "%s/ade/enroll", s->base_url) < 0) {
        mdm_reply_text(r, 500, "%s\n", ferry_error_last());
        ferry_mdm_ade_profile_clear(&p);
        return;
    }
    plist_t d = ferry_mdm_ade_profile_to_plist(&p, enroll_url);
    reply_plist(r, d, "application/xml");
    plist_free(d);
    free(enroll_url);
    ferry_mdm_ade_profile_clear(&p);
}

/* MachineInfo arrives as a plist or as a CMS SignedData holding one (spec/mdm.md §12.3). */
static plist_t machine_info(const req_t *q, reply_t *r)
{
    if (q->len >= 2 && q->buf[0] == 0x30) {
        uint8_t *content;
        size_t len;
        if (ferry_mdm_verify_attached(q->buf, q->len, &content, &len)) {
            mdm_reply_text(r, 400, "MachineInfo: %s\n", ferry_error_last());
            return NULL;
        }
        req_t inner = {content, len, len, 0};
        plist_t d = parse_dict(&inner, r, "MachineInfo");
        free(content);
        return d;
    }
    return parse_dict(q, r, "MachineInfo");
}

void mdm_handle_ade_enroll(ferry_mdm_server_t *s, const req_t *q, reply_t *r)
{
    plist_t d = machine_info(q, r);
    if (!d)
        return;
    char *serial = NULL, *udid = NULL;
    if (!get_str(d, "SERIAL", 1, r, &serial) || !id_ok(serial)) {
        if (r->status != 400)
            mdm_reply_text(r, 400, "MachineInfo SERIAL is malformed\n");
        goto out;
    }
    get_str(d, "UDID", 0, r, &udid);
    if (udid && !id_ok(udid)) {
        mdm_reply_text(r, 400, "MachineInfo UDID is malformed\n");
        goto out;
    }
    ferry_mdm_ade_profile_t p;
    pthread_mutex_lock(&s->lock);
    int rc = ferry_mdm_db_get_assignment(s->db, serial, &p);
    mdm_db_log(s->db, udid, "MachineInfo", rc == 0 ? 200 : rc == FERRY_ENOTFOUND ? 403 : 500);
    pthread_mutex_unlock(&s->lock);
    if (rc == FERRY_ENOTFOUND)
        mdm_reply_text(r, 403, "serial number %s is not assigned to this MDM server\n", serial);
    else if (rc)
        mdm_reply_text(r, 500, "%s\n", ferry_error_last());
    else {
        plist_t prof = ferry_mdm_enrollment_profile(&p, udid, s->base_url, s->topic);
        if (prof)
            reply_plist(r, prof, "application/x-apple-aspen-config");
        else
            mdm_reply_text(r, 500, "cannot build the enrollment profile\n");
        plist_free(prof);
        ferry_mdm_ade_profile_clear(&p);
    }
out:
    free(serial);
    free(udid);
    plist_free(d);
}
