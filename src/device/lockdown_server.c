/*
 * lockdown_server.c: the device's lockdownd on port 62078 (§6): QueryType, GetValue with and without
 * domains (answered outside a session too), SetValue/RemoveValue (accepted, not stored), Pair,
 * ValidatePair, Unpair, StartSession (the device becomes the TLS server on the same socket right
 * after the plain reply), StopSession (back to plain), StartService (fixed ports, §6.7) and Goodbye.
 * Invariants: every reply echoes Request (§6.1); the request is read exactly, never past its end, so
 * the TLS handshake that follows StartSession finds its first byte unread; a HostID becomes trusted
 * only through Pair with a DeviceCertificate made for this device's key.
 */
#include "serve_internal.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

typedef struct {
    emu_conn_t *c;
    char session_id[37];
    int in_session;
} lockdown_t;

static plist_t reply_new(const char *request)
{
    plist_t r = plist_new_dict();
    plist_dict_set_item(r, "Request", plist_new_string(request ? request : ""));
    return r;
}

static int send_error(lockdown_t *l, const char *request, const char *error)
{
    plist_t r = reply_new(request);
    plist_dict_set_item(r, "Error", plist_new_string(error));
    int rc = emu_plist_send(l->c, r, 1);
    plist_free(r);
    return rc;
}

static void uuid_string(char out[37])
{
    uint8_t r[16];
    ferry_random_bytes(r, sizeof r);
    r[6] = (r[6] & 0x0f) | 0x40;
    r[8] = (r[8] & 0x3f) | 0x80;
    snprintf(out, 37, "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X", r[0], r[1], r[2],
             r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
}

/* The whole-root dict: the five keys Info.plist needs (§6.3) and a realistic rest. */
static plist_t root_values(const emu_device_t *d)
{
    plist_t v = plist_new_dict();
    plist_dict_set_item(v, "ActivationState", plist_new_string("Activated"));
    plist_dict_set_item(v, "BuildVersion", plist_new_string(d->build_version));
    plist_dict_set_item(v, "CPUArchitecture", plist_new_string("arm64"));
    plist_dict_set_item(v, "DeviceClass", plist_new_string(d->device_class));
    plist_dict_set_item(v, "DeviceName", plist_new_string(d->name));
    plist_dict_set_item(v, "DevicePublicKey", plist_new_data(d->pubkey_pem, strlen(d->pubkey_pem)));
    plist_dict_set_item(v, "PasswordProtected", plist_new_bool(0));
    plist_dict_set_item(v, "ProductName", plist_new_string("iPhone OS"));
    plist_dict_set_item(v, "ProductType", plist_new_string(d->product_type));
    plist_dict_set_item(v, "ProductVersion", plist_new_string(d->product_version));
    plist_dict_set_item(v, "SerialNumber", plist_new_string(d->serial));
    plist_dict_set_item(v, "TimeZone", plist_new_string("Europe/Paris"));
    plist_dict_set_item(v, "UniqueDeviceID", plist_new_string(d->udid));
    plist_dict_set_item(v, "WiFiAddress", plist_new_string(d->wifi_address));
    return v;
}

/* Values of a domain as a dict, or NULL for a domain the device does not have. */
static plist_t domain_values(emu_device_t *d, const char *domain)
{
    if (!domain)
        return root_values(d);
    plist_t v = plist_new_dict();
    if (!strcmp(domain, "com.apple.mobile.backup")) {
        pthread_mutex_lock(&d->lock);
        int we = d->will_encrypt;
        pthread_mutex_unlock(&d->lock);
        plist_dict_set_item(v, "WillEncrypt", plist_new_bool(we));
        plist_dict_set_item(v, "RequiresEncryption", plist_new_bool(d->requires_encryption));
    } else if (!strcmp(domain, "com.apple.mobile.iTunes")) {
        plist_dict_set_item(v, "MinITunesVersion", plist_new_string("10.0.1"));
    } else if (!strcmp(domain, "com.apple.iTunes")) {
        plist_dict_set_item(v, "MinITunesVersion", plist_new_string("10.0.1"));
    } else if (!strcmp(domain, "com.apple.mobile.chaperone")) {
        plist_dict_set_item(v, "DeviceIsChaperoned", plist_new_bool(d->model->IsSupervised));
    } else if (!strcmp(domain, "com.apple.disk_usage")) {
        plist_dict_set_item(v, "TotalDiskCapacity", plist_new_uint(128000000000ULL));
        plist_dict_set_item(v, "TotalDataAvailable", plist_new_uint(64000000000ULL));
    } else {
        plist_free(v);
        return NULL;
    }
    return v;
}

static int get_value(lockdown_t *l, plist_t req)
{
    char *domain = emu_dict_string(req, "Domain");
    char *key = emu_dict_string(req, "Key");
    plist_t vals = domain_values(l->c->dev, domain);
    plist_t val = NULL;
    if (vals && key) {
        plist_t n = plist_dict_get_item(vals, key);
        val = n ? plist_copy(n) : NULL;
    } else if (vals) {
        val = plist_copy(vals);
    }
    plist_free(vals);
    int rc;
    if (!val) {
        rc = send_error(l, "GetValue", "MissingValue");
    } else {
        plist_t r = reply_new("GetValue");
        if (domain)
            plist_dict_set_item(r, "Domain", plist_new_string(domain));
        if (key)
            plist_dict_set_item(r, "Key", plist_new_string(key));
        plist_dict_set_item(r, "Value", val);
        rc = emu_plist_send(l->c, r, 1);
        plist_free(r);
    }
    free(domain);
    free(key);
    return rc;
}

/* The host made DeviceCertificate from our DevicePublicKey (§6.5): check that it did. */
static int cert_matches_device(emu_device_t *d, plist_t rec)
{
    plist_t n = plist_dict_get_item(rec, "DeviceCertificate");
    char *pem = NULL;
    uint64_t len = 0;
    if (!n || plist_get_node_type(n) != PLIST_DATA)
        return 0;
    plist_get_data_val(n, &pem, &len);
    BIO *bio = pem ? BIO_new_mem_buf(pem, len > INT32_MAX ? -1 : (int)len) : NULL;
    X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    EVP_PKEY *pk = x ? X509_get0_pubkey(x) : NULL;
    int ok = pk && EVP_PKEY_eq(pk, d->key) == 1;
    X509_free(x);
    BIO_free(bio);
    free(pem);
    return ok;
}

static int pair_verb(lockdown_t *l, const char *request, plist_t req)
{
    emu_device_t *d = l->c->dev;
    plist_t rec = plist_dict_get_item(req, "PairRecord");
    char *host_id = rec && plist_get_node_type(rec) == PLIST_DICT ? emu_dict_string(rec, "HostID") : NULL;
    int rc;
    if (!host_id) {
        rc = send_error(l, request, "InvalidPairRecord");
    } else if (!strcmp(request, "Pair")) {
        if (!cert_matches_device(d, rec)) {
            rc = send_error(l, request, "InvalidPairRecord");
        } else if (emu_host_trust(d, host_id, 1)) {
            rc = send_error(l, request, "PairingProhibitedError");
        } else {
            uint8_t bag[64];
            ferry_random_bytes(bag, sizeof bag);
            plist_t r = reply_new(request);
            plist_dict_set_item(r, "EscrowBag", plist_new_data((const char *)bag, sizeof bag));
            rc = emu_plist_send(l->c, r, 1);
            plist_free(r);
        }
    } else if (!strcmp(request, "ValidatePair") && !emu_host_trusted(d, host_id)) {
        rc = send_error(l, request, "InvalidHostID");
    } else {
        if (!strcmp(request, "Unpair"))
            emu_host_trust(d, host_id, 0);
        plist_t r = reply_new(request);
        rc = emu_plist_send(l->c, r, 1);
        plist_free(r);
    }
    free(host_id);
    return rc;
}

/* Reply in plain text, then the handshake on the same fd (§6.6). */
static int start_session(lockdown_t *l, plist_t req)
{
    char *host_id = emu_dict_string(req, "HostID");
    int rc;
    if (!host_id || !emu_host_trusted(l->c->dev, host_id)) {
        rc = send_error(l, "StartSession", "InvalidHostID");
    } else if (l->in_session) {
        rc = send_error(l, "StartSession", "SessionActive");
    } else {
        uuid_string(l->session_id);
        plist_t r = reply_new("StartSession");
        plist_dict_set_item(r, "SessionID", plist_new_string(l->session_id));
        plist_dict_set_item(r, "EnableSessionSSL", plist_new_bool(1));
        rc = emu_plist_send(l->c, r, 1);
        plist_free(r);
        if (!rc)
            rc = emu_tls_accept(l->c);
        l->in_session = rc == 0;
        if (!rc && l->c->srv->verbose)
            ferry_log(FERRY_LOG_INFO, "lockdownd %s: session TLS up: %s %s", l->c->dev->udid,
                      SSL_get_version(l->c->ssl), SSL_get_cipher_name(l->c->ssl));
    }
    free(host_id);
    return rc;
}

static int stop_session(lockdown_t *l)
{
    if (!l->in_session)
        return send_error(l, "StopSession", "NoRunningSession");
    plist_t r = reply_new("StopSession");
    int rc = emu_plist_send(l->c, r, 1);
    plist_free(r);
    emu_tls_close(l->c);
    l->in_session = 0;
    return rc;
}

static const struct {
    const char *name;
    int port;
} services[] = {
    {"com.apple.mobile.notification_proxy", EMU_PORT_NOTIFICATION},
    {"com.apple.afc", EMU_PORT_AFC},
    {"com.apple.mobilebackup2", EMU_PORT_MOBILEBACKUP2},
    {"com.apple.mobile.installation_proxy", EMU_PORT_INSTPROXY},
    {"com.apple.mobile.MCInstall", EMU_PORT_MCINSTALL},
};

static int start_service(lockdown_t *l, plist_t req)
{
    char *name = emu_dict_string(req, "Service");
    int port = 0;
    for (size_t i = 0; name && i < sizeof services / sizeof services[0]; i++)
        if (!strcmp(name, services[i].name))
            port = services[i].port;
    int rc;
    if (!l->in_session) {
        rc = send_error(l, "StartService", "NoRunningSession");
    } else if (!port) {
        rc = send_error(l, "StartService", "InvalidService");
    } else {
        plist_t r = reply_new("StartService");
        plist_dict_set_item(r, "Service", plist_new_string(name));
        plist_dict_set_item(r, "Port", plist_new_uint((uint64_t)port));
        rc = emu_plist_send(l->c, r, 1);
        plist_free(r);
    }
    free(name);
    return rc;
}

/* One request; 1 = the host said Goodbye, negative = the connection is done. */
static int handle(lockdown_t *l, plist_t req)
{
    char *request = emu_dict_string(req, "Request");
    int rc = 0;
    if (l->c->srv->verbose)
        ferry_log(FERRY_LOG_INFO, "lockdownd %s: %s", l->c->dev->udid, request ? request : "(no Request)");
    if (!request) {
        rc = send_error(l, NULL, "MissingRequest");
    } else if (!strcmp(request, "QueryType")) {
        plist_t r = reply_new(request);
        plist_dict_set_item(r, "Type", plist_new_string("com.apple.mobile.lockdown"));
        rc = emu_plist_send(l->c, r, 1);
        plist_free(r);
    } else if (!strcmp(request, "GetValue")) {
        rc = get_value(l, req);
    } else if (!strcmp(request, "SetValue") || !strcmp(request, "RemoveValue")) {
        plist_t r = reply_new(request);
        rc = emu_plist_send(l->c, r, 1);
        plist_free(r);
    } else if (!strcmp(request, "Pair") || !strcmp(request, "ValidatePair") || !strcmp(request, "Unpair")) {
        rc = pair_verb(l, request, req);
    } else if (!strcmp(request, "StartSession")) {
        rc = start_session(l, req);
    } else if (!strcmp(request, "StopSession")) {
        rc = stop_session(l);
    } else if (!strcmp(request, "StartService")) {
        rc = start_service(l, req);
    } else if (!strcmp(request, "Goodbye")) {
        plist_t r = reply_new(request);
        emu_plist_send(l->c, r, 1);
        plist_free(r);
        rc = 1;
    } else {
        rc = send_error(l, request, "InvalidRequest");
    }
    free(request);
    return rc;
}

void emu_lockdown_serve(emu_conn_t *c)
{
    lockdown_t l = {.c = c};
    plist_t req;
    while (emu_plist_recv(c, &req) == 0) {
        int rc = plist_get_node_type(req) == PLIST_DICT ? handle(&l, req) : -1;
        plist_free(req);
        if (rc)
            break;
    }
    emu_tls_close(c);
}
