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

#endif
