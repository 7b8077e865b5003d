/*
 * mdm_internal.h: what the files of src/mdm share and nobody else sees: the server's view of a device
 * record (with its enrolled identity) and the database operations of the check-in and command
 * handlers. All of them run under the server's database mutex.
 */
#ifndef FERRY_MDM_INTERNAL_H
#define FERRY_MDM_INTERNAL_H

#include "ferry/mdm.h"

#include <sqlite3.h>

struct ferry_mdm_db {
    sqlite3 *h;
};

typedef struct {
    int found;
    char state[16];
    int decision, restore_decision;
    int auth_pending; /* an Authenticate came after the last TokenUpdate */
    uint8_t *identity; /* enrolled certificate DER, malloc'd, may be NULL */
    size_t identity_len;
} mdm_dev_t;

void mdm_dev_clear(mdm_dev_t *d);
int mdm_db_lookup(ferry_mdm_db_t *db, const char *udid, mdm_dev_t *out);

typedef struct {
    const char *udid, *topic, *serial, *product, *os_version, *build_version;
    const uint8_t *identity;
    size_t identity_len;
} mdm_auth_t;
int mdm_db_authenticate(ferry_mdm_db_t *db, const mdm_auth_t *a);

typedef struct {
    const char *udid, *topic, *push_magic;
    const uint8_t *token, *unlock_token;
    size_t token_len, unlock_len;
    int awaiting_configuration;
    const uint8_t *identity; /* set only when the record is created here (adopted unknown device) */
    size_t identity_len;
} mdm_token_t;
int mdm_db_token_update(ferry_mdm_db_t *db, const mdm_token_t *t);
int mdm_db_checkout(ferry_mdm_db_t *db, const char *udid);

/* Records every message and the reply sent (udid may be unknown to the devices table). */
int mdm_db_log(ferry_mdm_db_t *db, const char *udid, const char *message_type, int reply);

/* Stores a status for a command of that device: final statuses store result (borrowed dict). */
int mdm_db_command_status(ferry_mdm_db_t *db, const char *udid, const char *uuid, const char *status,
                          plist_t result);
/* Idle: commands sent but never answered, and NotNow ones, are due again. */
int mdm_db_commands_requeue(ferry_mdm_db_t *db, const char *udid);
/* The oldest queued command, marked sent; *xml = NULL when none. */
int mdm_db_next_command(ferry_mdm_db_t *db, const char *udid, char **xml, size_t *len);

/* 1 when a command of that type is queued, sent or NotNow for the device, 0 when not, <0 on error. */
int mdm_db_has_pending(ferry_mdm_db_t *db, const char *udid, const char *request_type);

/* Server-wide APNs topic, created once per database. */
int mdm_db_topic(ferry_mdm_db_t *db, char **topic);

int mdm_uuid(char out[37]);

/* ---- HTTP client (client.c) ---- */
typedef struct {
    char *buf; /* NUL-terminated for convenience */
    size_t len;
    int overflow;
} mdm_http_sink_t;
typedef struct {
    const char *method, *url, *ctype;
    const void *body;
    size_t len;
    const ferry_mdm_identity_t *sign_with; /* adds a detached Mdm-Signature */
    const char *ca_file;
    long timeout;
    const char *bearer; /* adds Authorization: Bearer */
} mdm_http_req_t;
typedef struct {
    long status;
    mdm_http_sink_t body;
    char *ctype;
} mdm_http_resp_t;
/* 0 when an HTTP answer came (any status), FERRY_EIO/ELIMIT on transport failure (r cleared). */
int mdm_http(const mdm_http_req_t *q, mdm_http_resp_t *r);
void mdm_http_resp_clear(mdm_http_resp_t *r);
/* The body of the server's reply in the command loop (spec/mdm.md §10): a {CommandUUID, Command}
 * dictionary. *req (plist_free) and *uuid (free) on success; FERRY_EFORMAT otherwise. */
int mdm_client_parse_command(const void *body, size_t len, plist_t *req, char **uuid);

/* ---- admin API (admin.c) ---- */
typedef struct {
    int status;
    char *body; /* malloc'd: an XML plist on 200, a text reason otherwise */
    size_t len;
} mdm_admin_reply_t;
/* Runs one admin request (the caller checked the token and holds the database lock). */
void mdm_admin_handle(ferry_mdm_db_t *db, const char *path, const char *method, const char *udid_arg,
                      const uint8_t *body, size_t len, mdm_admin_reply_t *r);
plist_t mdm_device_to_plist(const ferry_mdm_device_t *d);
int mdm_device_from_plist(plist_t p, ferry_mdm_device_t *d);
plist_t mdm_command_to_plist(const ferry_mdm_command_rec_t *c);
int mdm_command_from_plist(plist_t p, ferry_mdm_command_rec_t *c);

#endif
