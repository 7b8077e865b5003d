/*
 * ferry/mdm.h: ferry's MDM actor (spec/mdm.md §9-§12): an MDM server on libmicrohttpd with its
 * SQLite state (devices, command queue, device-assignment records, a log of every check-in), the
 * device-assignment (ADE) service, Mdm-Signature signing and verification (CMS detached, OpenSSL),
 * and the device's check-in client (libcurl). The client knows nothing of the device directory: the
 * device module glues it to one through the command callback.
 *
 * HTTP contract of the server (documented in docs and tested):
 *   PUT  /checkin  (or /mdm with Content-Type application/x-apple-aspen-mdm-checkin)
 *        Authenticate, TokenUpdate, CheckOut. 200 accept; 401 reject; 403 with the JSON body
 *        {"code":"com.apple.unrecognized.device",...} reject (Apple's preferred form).
 *   PUT  /mdm      the command loop (Idle / Acknowledged / Error / CommandFormatError / NotNow);
 *        200 with the next command (XML plist) or a zero-byte body that ends the session.
 *   GET  /ade/profile?serial=S   the ADE profile assigned to S (XML plist, snake_case keys as in
 *        Apple's define-profile JSON), 404 when S is not assigned.
 *   POST /ade/enroll   body: MachineInfo plist, raw or CMS-signed (attached); 200 with the enrollment
 *        profile (application/x-apple-aspen-config), 403 when SERIAL is not assigned.
 *   GET/POST /admin/...  the administration API (admin.c), only when the server has an admin token
 *        and the request carries `Authorization: Bearer TOKEN`; otherwise 401/404.
 * Device decisions: every message of a known device gets its `decision` (200, or 401/403 after
 * `ferry mdm block`); a TokenUpdate that follows no Authenticate since the device's last TokenUpdate
 * (how a restored device comes back, S2) gets its `restore_decision`; a device the server does not
 * know (or that checked out) gets the server's unknown-device decision, and with "accept" it is
 * adopted and bound to the identity that signed. Every message and the status sent are logged.
 * Identity binding: Authenticate must be signed; its signer certificate becomes the device's
 * enrolled identity (a later Authenticate, e.g. an ADE re-enrollment after S4, replaces it: there is
 * no CA in ferry's world to pin to). Every later message must be signed by that certificate.
 * A TokenUpdate with AwaitingConfiguration = true queues DeviceConfigured (once) after the commands
 * already queued.
 * Refusals that must NOT unenroll a device use 400/403/413 with a text/plain reason and never the
 * com.apple.unrecognized.device body: a message without Mdm-Signature, one whose signature does not
 * verify, or one signed by another identity than the device's enrolled one gets 403 text/plain.
 * Malformed bodies get 400, oversized ones 413, unknown paths 404, wrong methods 405.
 *
 * Ownership: every _new/_open/_load returns an object the caller releases with the matching _free or
 * _close; strings and arrays returned through out-parameters are malloc'd unless stated.
 */
#ifndef FERRY_MDM_H
#define FERRY_MDM_H

#include <stddef.h>
#include <stdint.h>
#include <plist/plist.h>

#include "ferry/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* HTTP replies a device can get to a check-in or a command poll (spec/mdm.md §11, RULES S2). */
#define FERRY_MDM_ACCEPT 200
#define FERRY_MDM_REJECT_401 401
#define FERRY_MDM_REJECT_403 403 /* with the com.apple.unrecognized.device body */

#define FERRY_MDM_CHECKIN_MIME "application/x-apple-aspen-mdm-checkin"
#define FERRY_MDM_COMMAND_MIME "application/x-apple-aspen-mdm; charset=UTF-8"
#define FERRY_MDM_UNRECOGNIZED_CODE "com.apple.unrecognized.device"
#define FERRY_MDM_DEFAULT_MAX_BODY (1024u * 1024u)

/* ---- identities and Mdm-Signature (sig.c) ------------------------------------------------------ */

/* A device identity: a private key and its certificate (OpenSSL objects kept opaque). */
typedef struct ferry_mdm_identity ferry_mdm_identity_t;

/* Generates an EC P-256 key and a self-signed certificate with CN = common_name, valid 10 years. */
int ferry_mdm_identity_generate(const char *common_name, ferry_mdm_identity_t **out);
/* From PEM bytes (certificate, then private key; the key may be in the same buffer as the cert). */
int ferry_mdm_identity_from_pem(const void *cert_pem, size_t cert_len, const void *key_pem,
                                size_t key_len, ferry_mdm_identity_t **out);
int ferry_mdm_identity_load(const char *cert_path, const char *key_path, ferry_mdm_identity_t **out);
/* From DER: an X.509 certificate and a private key (PKCS#8 or the key type's own DER form), as a
 * device keeps them in its keychain. */
int ferry_mdm_identity_from_der(const uint8_t *cert_der, size_t cert_len, const uint8_t *key_der,
                                size_t key_len, ferry_mdm_identity_t **out);
/* From a PKCS#12 blob (the PayloadContent of a com.apple.security.pkcs12 payload) and its password
 * (NULL or "" for none). */
int ferry_mdm_identity_from_pkcs12(const uint8_t *p12, size_t len, const char *password,
                                   ferry_mdm_identity_t **out);
/* DER of the private key (PKCS#8, malloc'd: the caller wipes and frees it). */
int ferry_mdm_identity_key_der(const ferry_mdm_identity_t *id, uint8_t **der, size_t *len);
/* PEM of the certificate and of the key (PKCS#8, unencrypted: the caller wipes and frees it). */
int ferry_mdm_identity_to_pem(const ferry_mdm_identity_t *id, char **cert_pem, char **key_pem);
/* DER of the certificate (malloc'd). */
int ferry_mdm_identity_cert_der(const ferry_mdm_identity_t *id, uint8_t **der, size_t *len);
void ferry_mdm_identity_free(ferry_mdm_identity_t *id);

/* Mdm-Signature value: base64 (no line breaks) of a CMS SignedData, detached, over body. */
int ferry_mdm_sign(const ferry_mdm_identity_t *id, const void *body, size_t len, char **b64_out);
/* Verifies an Mdm-Signature header value over body. The signer's certificate is checked only as
 * the key that signed (no chain: ferry's devices use self-signed or ACME-style identities); the
 * caller compares *signer_der with the enrolled identity. *signer_der is malloc'd. */
int ferry_mdm_verify(const char *b64, const void *body, size_t len, uint8_t **signer_der,
                     size_t *signer_len);
/* CMS SignedData with the content attached (the MachineInfo a device posts in ADE), DER. */
int ferry_mdm_sign_attached(const ferry_mdm_identity_t *id, const void *body, size_t len,
                            uint8_t **der, size_t *der_len);
/* Extracts and checks the content of an attached CMS SignedData (signature checked, no chain). */
int ferry_mdm_verify_attached(const void *der, size_t der_len, uint8_t **content, size_t *len);

/* ---- the server's state (db.c) ----------------------------------------------------------------- */

typedef struct ferry_mdm_db ferry_mdm_db_t;

/* Opens or creates the SQLite database (WAL, busy timeout) with its schema; safe to open from the
 * CLI while a server runs on the same file. */
int ferry_mdm_db_open(const char *path, ferry_mdm_db_t **out);
void ferry_mdm_db_close(ferry_mdm_db_t *db);

typedef struct {
    char *udid;
    char *serial;       /* may be NULL */
    char *topic;        /* may be NULL */
    char *product_name; /* may be NULL */
    char *os_version;   /* may be NULL */
    char *state;        /* "authenticated", "enrolled", "checked-out" */
    int decision;         /* reply to every message: 200, 401 or 403 (block) */
    int restore_decision; /* reply to a TokenUpdate that follows no Authenticate (a restore, S2) */
    int last_reply;       /* the HTTP status of the last reply sent to it, 0 when none */
    int has_identity;
    int64_t pending_commands; /* queued, sent or NotNow */
    int64_t last_seen;        /* Unix seconds */
} ferry_mdm_device_t;

int ferry_mdm_db_list_devices(ferry_mdm_db_t *db, ferry_mdm_device_t **out, size_t *n);
int ferry_mdm_db_get_device(ferry_mdm_db_t *db, const char *udid, ferry_mdm_device_t *out);
void ferry_mdm_device_clear(ferry_mdm_device_t *d);
void ferry_mdm_devices_free(ferry_mdm_device_t *d, size_t n);

/* Block: every later message of the device gets `decision` (401 or 403); restore_only limits it to
 * the TokenUpdate of a restored device. Unblock: both back to 200. FERRY_ENOTFOUND for an unknown
 * UDID. */
int ferry_mdm_db_set_decision(ferry_mdm_db_t *db, const char *udid, int decision, int restore_only);

/* Queues a command built by ferry_mdm_command_new (the whole {CommandUUID, Command} dict). */
int ferry_mdm_db_enqueue(ferry_mdm_db_t *db, const char *udid, plist_t command);

typedef struct {
    char *uuid;
    char *udid;
    char *request_type;
    char *status; /* queued, sent, NotNow, Acknowledged, Error, CommandFormatError */
    plist_t result; /* the device's full response dict, NULL until answered */
    int64_t updated;
} ferry_mdm_command_rec_t;

/* Commands of one device (udid NULL: all), oldest first. */
int ferry_mdm_db_list_commands(ferry_mdm_db_t *db, const char *udid, ferry_mdm_command_rec_t **out,
                               size_t *n);
void ferry_mdm_commands_free(ferry_mdm_command_rec_t *c, size_t n);

/* Check-in log: number of messages logged of that type (NULL: all), optionally only with reply. */
int ferry_mdm_db_count_messages(ferry_mdm_db_t *db, const char *message_type, int reply,
                                int64_t *n);

/* ---- device assignment (ADE, assign.c) --------------------------------------------------------- */

typedef struct {
    char *serial;
    char *url;          /* MachineInfo POST target; NULL = this server's /ade/enroll */
    char *profile_name; /* may be NULL */
    char *org_name;     /* may be NULL */
    int is_supervised;
    int is_mandatory;
    int is_mdm_removable; /* Apple's default is true */
    int is_multi_user;
    int await_device_configured;
    int do_not_use_profile_from_backup;
    int acme_hardware_bound; /* the enrollment profile's identity is a hardware-bound ACME key (S4) */
} ferry_mdm_ade_profile_t;

/* Apple's defaults: everything false except is_mdm_removable. */
void ferry_mdm_ade_profile_init(ferry_mdm_ade_profile_t *p);
void ferry_mdm_ade_profile_clear(ferry_mdm_ade_profile_t *p);
int ferry_mdm_db_assign(ferry_mdm_db_t *db, const ferry_mdm_ade_profile_t *p);
int ferry_mdm_db_unassign(ferry_mdm_db_t *db, const char *serial);
/* FERRY_ENOTFOUND when the serial has no profile. */
int ferry_mdm_db_get_assignment(ferry_mdm_db_t *db, const char *serial, ferry_mdm_ade_profile_t *out);
/* The profile as a dict with Apple's snake_case keys; url filled from default_url when NULL. */
plist_t ferry_mdm_ade_profile_to_plist(const ferry_mdm_ade_profile_t *p, const char *default_url);
int ferry_mdm_ade_profile_from_plist(plist_t dict, ferry_mdm_ade_profile_t *out);
/* The enrollment profile (.mobileconfig dict) served to an assigned device: an ACME identity
 * payload (HardwareBound from the assignment) and a com.apple.mdm payload with SignMessage true
 * pointing at base_url's /mdm and /checkin. */
plist_t ferry_mdm_enrollment_profile(const ferry_mdm_ade_profile_t *p, const char *udid,
                                     const char *base_url, const char *topic);

/* ---- commands (command.c) ---------------------------------------------------------------------- */

/* Builds {CommandUUID: new UUID, Command: {RequestType, ...params}} after checking params (a dict,
 * borrowed, may be NULL) against the request type's keys and types. Supported: DeviceInformation,
 * ProfileList, InstallProfile, RemoveProfile, InstallApplication, RemoveApplication,
 * ManagedApplicationList, InstallMedia, ManagedMediaList, RemoveMedia, Settings, DeviceConfigured,
 * InstalledApplicationList. */
int ferry_mdm_command_new(const char *request_type, plist_t params, plist_t *out);
/* Adds "Key=Value" to params, typed by the request type's table: integers, true/false, strings,
 * comma-separated string arrays, @FILE for data (file bytes) and for dicts/arrays (a plist file). */
int ferry_mdm_command_param(const char *request_type, const char *key_eq_value, plist_t params);
/* NULL-terminated list of the supported request types (static). */
const char *const *ferry_mdm_command_types(void);

/* ---- server (server.c) ------------------------------------------------------------------------- */

typedef struct {
    const char *host;          /* numeric IPv4 address to bind, e.g. "127.0.0.1" */
    uint16_t port;             /* 0 = ephemeral */
    const char *db_path;
    const char *tls_cert_path; /* both or neither: HTTPS */
    const char *tls_key_path;
    int unknown_decision;      /* reply to messages of devices the server does not know: 200/401/403 */
    const char *public_url;    /* base URL devices use; NULL = http(s)://host:port */
    size_t max_body;           /* 0 = FERRY_MDM_DEFAULT_MAX_BODY */
    unsigned threads;          /* 0 = 4 */
    const char *admin_token;   /* enables /admin/... for `Authorization: Bearer TOKEN`; NULL = off */
} ferry_mdm_server_opts_t;

typedef struct ferry_mdm_server ferry_mdm_server_t;

void ferry_mdm_server_opts_init(ferry_mdm_server_opts_t *o);
int ferry_mdm_server_start(const ferry_mdm_server_opts_t *o, ferry_mdm_server_t **out);
uint16_t ferry_mdm_server_port(const ferry_mdm_server_t *s);
const char *ferry_mdm_server_url(const ferry_mdm_server_t *s); /* base URL, no trailing slash */
void ferry_mdm_server_stop(ferry_mdm_server_t *s);

/* ---- check-in client (client.c) ---------------------------------------------------------------- */

typedef enum {
    FERRY_MDM_VERDICT_ACCEPTED = 0,   /* 200 */
    FERRY_MDM_VERDICT_REJECTED_401,   /* 401: unenroll */
    FERRY_MDM_VERDICT_REJECTED_403,   /* 403 com.apple.unrecognized.device: unenroll */
    FERRY_MDM_VERDICT_OTHER,          /* any other status: keep the enrollment, retry later (S2) */
} ferry_mdm_verdict_t;

typedef struct {
    int http_status; /* 0 when no HTTP answer (connection failed, timeout) */
    ferry_mdm_verdict_t verdict;
    char *reason;    /* the reply body when it is text or JSON (malloc'd, may be NULL) */
} ferry_mdm_reply_t;
void ferry_mdm_reply_clear(ferry_mdm_reply_t *r);

typedef struct {
    const char *checkin_url; /* CheckInURL (or ServerURL) */
    const char *server_url;  /* ServerURL */
    const char *udid;
    const char *topic;
    const ferry_mdm_identity_t *identity; /* signs every message; NULL = unsigned */
    const char *ca_file;     /* HTTPS trust anchor (PEM); NULL = system store */
    long timeout_seconds;    /* per request; 0 = 30 */
} ferry_mdm_client_opts_t;

/* Device facts sent with Authenticate (any may be NULL). */
typedef struct {
    const char *serial_number, *product_name, *os_version, *build_version;
} ferry_mdm_device_facts_t;

/* Each returns 0 when an HTTP answer came (see reply), or a FERRY_E* code on a transport failure
 * (reply->http_status = 0, verdict OTHER). */
int ferry_mdm_client_authenticate(const ferry_mdm_client_opts_t *o, const ferry_mdm_device_facts_t *f,
                                  ferry_mdm_reply_t *reply);
int ferry_mdm_client_token_update(const ferry_mdm_client_opts_t *o, const uint8_t *token,
                                  size_t token_len, const char *push_magic, int awaiting_configuration,
                                  ferry_mdm_reply_t *reply);
int ferry_mdm_client_checkout(const ferry_mdm_client_opts_t *o, ferry_mdm_reply_t *reply);

/* Runs one command: request is the server's {CommandUUID, Command} dict (borrowed). Fills
 * *response with a new dict of result keys (may stay NULL) and returns the Status to send:
 * "Acknowledged", "Error", "CommandFormatError" or "NotNow". */
typedef const char *(*ferry_mdm_command_fn)(void *ctx, plist_t request, plist_t *response);

/* Idle, then each command through fn, until the server ends the session with a zero-byte body, a
 * non-200 reply (reply tells which: a rejection ends management), or max_commands were run
 * (0 = 1000). *n_run = commands executed. */
int ferry_mdm_client_command_loop(const ferry_mdm_client_opts_t *o, ferry_mdm_command_fn fn,
                                  void *ctx, unsigned max_commands, unsigned *n_run,
                                  ferry_mdm_reply_t *reply);

/* Device assignment: GET <assign_base>/ade/profile?serial=S. *profile filled on 200; returns
 * FERRY_ENOTFOUND on 404 (not registered), other errors otherwise. */
int ferry_mdm_client_fetch_ade_profile(const char *assign_base, const char *serial,
                                       const char *ca_file, ferry_mdm_ade_profile_t *profile);
/* POSTs machine_info (a dict, borrowed; signed attached with id when id != NULL) to url and returns
 * the enrollment profile dict. FERRY_ENOTFOUND on 403/404. */
int ferry_mdm_client_fetch_enrollment(const char *url, plist_t machine_info,
                                      const ferry_mdm_identity_t *id, const char *ca_file,
                                      plist_t *profile);

/* ---- administration over HTTP (admin_client.c): `ferry mdm ... --url URL` ---------------------- */

typedef struct {
    const char *url;     /* server base URL */
    const char *token;   /* admin token */
    const char *ca_file; /* HTTPS trust anchor; NULL = system store */
} ferry_mdm_admin_t;

int ferry_mdm_admin_list_devices(const ferry_mdm_admin_t *a, ferry_mdm_device_t **out, size_t *n);
int ferry_mdm_admin_list_commands(const ferry_mdm_admin_t *a, const char *udid,
                                  ferry_mdm_command_rec_t **out, size_t *n);
/* The server rebuilds and checks the command; *uuid (malloc'd) is the CommandUUID it queued. */
int ferry_mdm_admin_enqueue(const ferry_mdm_admin_t *a, const char *udid, const char *request_type,
                            plist_t params, char **uuid);
int ferry_mdm_admin_set_decision(const ferry_mdm_admin_t *a, const char *udid, int decision,
                                 int restore_only);
int ferry_mdm_admin_assign(const ferry_mdm_admin_t *a, const ferry_mdm_ade_profile_t *p);
int ferry_mdm_admin_unassign(const ferry_mdm_admin_t *a, const char *serial);

#ifdef __cplusplus
}
#endif
#endif
