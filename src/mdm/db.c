/*
 * db.c: the MDM server's state in SQLite: devices (with the identity certificate they enrolled with
 * and the decision the server gives them), the command queue (a command stays until the device
 * answers Acknowledged, Error or CommandFormatError for its CommandUUID), ADE assignments and a log
 * of every message with the reply sent. WAL and a busy timeout let `ferry mdm block|enqueue|...` write
 * while a server runs on the same file. Statements are prepared per call; every text from a device is
 * bound, never formatted into SQL.
 */
#include "mdm_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *SCHEMA =
    "PRAGMA journal_mode=WAL;"
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS devices("
    " udid TEXT PRIMARY KEY, serial TEXT, topic TEXT, product TEXT, os_version TEXT,"
    " build_version TEXT, state TEXT NOT NULL, identity BLOB, token BLOB, push_magic TEXT,"
    " unlock_token BLOB, awaiting_configuration INTEGER NOT NULL DEFAULT 0,"
    " decision INTEGER NOT NULL DEFAULT 200, restore_decision INTEGER NOT NULL DEFAULT 200,"
    " auth_pending INTEGER NOT NULL DEFAULT 0, last_reply INTEGER NOT NULL DEFAULT 0,"
    " created INTEGER NOT NULL, last_seen INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS commands("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT, uuid TEXT NOT NULL, udid TEXT NOT NULL,"
    " request_type TEXT NOT NULL, command BLOB NOT NULL, status TEXT NOT NULL, result BLOB,"
    " created INTEGER NOT NULL, updated INTEGER NOT NULL, UNIQUE(udid, uuid));"
    "CREATE INDEX IF NOT EXISTS commands_due ON commands(udid, status, seq);"
    "CREATE TABLE IF NOT EXISTS assignments("
    " serial TEXT PRIMARY KEY, url TEXT, profile_name TEXT, org_name TEXT,"
    " is_supervised INTEGER NOT NULL, is_mandatory INTEGER NOT NULL, is_mdm_removable INTEGER NOT NULL,"
    " is_multi_user INTEGER NOT NULL, await_device_configured INTEGER NOT NULL,"
    " do_not_use_profile_from_backup INTEGER NOT NULL, acme_hardware_bound INTEGER NOT NULL,"
    " updated INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS messages("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, udid TEXT, message_type TEXT NOT NULL,"
    " reply INTEGER NOT NULL, at INTEGER NOT NULL);";

static int db_fail(ferry_mdm_db_t *db, const char *what)
{
    return ferry_error_set(FERRY_EIO, "MDM database: %s: %s", what, sqlite3_errmsg(db->h));
}

static sqlite3_stmt *prep(ferry_mdm_db_t *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK) {
        db_fail(db, "prepare");
        return NULL;
    }
    return st;
}

/* Runs a statement that returns no rows; finalises it. */
static int run(ferry_mdm_db_t *db, sqlite3_stmt *st, const char *what)
{
    if (!st)
        return FERRY_EIO;
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : db_fail(db, what);
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static void bind_blob(sqlite3_stmt *st, int i, const void *p, size_t n)
{
    if (p)
        sqlite3_bind_blob64(st, i, p, n, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? strdup((const char *)t) : NULL;
}

static int64_t now(void)
{
    return (int64_t)time(NULL);
}

int ferry_mdm_db_open(const char *path, ferry_mdm_db_t **out)
{
    *out = NULL;
    ferry_mdm_db_t *db = calloc(1, sizeof *db);
    if (!db)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
    if (sqlite3_open_v2(path, &db->h, flags, NULL) != SQLITE_OK) {
        int rc = ferry_error_set(FERRY_EIO, "cannot open the MDM database %s: %s", path,
                                 db->h ? sqlite3_errmsg(db->h) : "out of memory");
        sqlite3_close(db->h);
        free(db);
        return rc;
    }
    sqlite3_busy_timeout(db->h, 10000);
    char *err = NULL;
    if (sqlite3_exec(db->h, SCHEMA, NULL, NULL, &err) != SQLITE_OK) {
        int rc = ferry_error_set(FERRY_EIO, "cannot create the MDM schema in %s: %s", path,
                                 err ? err : "?");
        sqlite3_free(err);
        sqlite3_close(db->h);
        free(db);
        return rc;
    }
    *out = db;
    return 0;
}

void ferry_mdm_db_close(ferry_mdm_db_t *db)
{
    if (!db)
        return;
    sqlite3_close(db->h);
    free(db);
}

int mdm_uuid(char out[37])
{
    uint8_t b[16];
    if (ferry_random_bytes(b, sizeof b))
        return FERRY_ECRYPTO;
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
    return 0;
}

int mdm_db_topic(ferry_mdm_db_t *db, char **topic)
{
    *topic = NULL;
    sqlite3_stmt *st = prep(db, "SELECT value FROM meta WHERE key='topic'");
    if (!st)
        return FERRY_EIO;
    if (sqlite3_step(st) == SQLITE_ROW)
        *topic = col_text(st, 0);
    sqlite3_finalize(st);
    if (*topic)
        return 0;
    char u[37], t[80];
    if (mdm_uuid(u))
        return FERRY_ECRYPTO;
    snprintf(t, sizeof t, "com.apple.mgmt.External.%s", u);
    st = prep(db, "INSERT OR IGNORE INTO meta(key, value) VALUES('topic', ?)");
    if (st)
        bind_text(st, 1, t);
    int rc = run(db, st, "store the topic");
    if (rc)
        return rc;
    return mdm_db_topic(db, topic);
}

/* ---- devices ----------------------------------------------------------------------------------- */

void mdm_dev_clear(mdm_dev_t *d)
{
    free(d->identity);
    memset(d, 0, sizeof *d);
}

int mdm_db_lookup(ferry_mdm_db_t *db, const char *udid, mdm_dev_t *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = prep(db, "SELECT state, decision, restore_decision, auth_pending, identity "
                                "FROM devices WHERE udid=?");
    if (!st)
        return FERRY_EIO;
    bind_text(st, 1, udid);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->found = 1;
        const unsigned char *s = sqlite3_column_text(st, 0);
        snprintf(out->state, sizeof out->state, "%s", s ? (const char *)s : "");
        out->decision = sqlite3_column_int(st, 1);
        out->restore_decision = sqlite3_column_int(st, 2);
        out->auth_pending = sqlite3_column_int(st, 3);
        int n = sqlite3_column_bytes(st, 4);
        const void *b = sqlite3_column_blob(st, 4);
        if (b && n > 0 && (out->identity = malloc((size_t)n))) {
            memcpy(out->identity, b, (size_t)n);
            out->identity_len = (size_t)n;
        }
        rc = SQLITE_DONE;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : db_fail(db, "look up a device");
}

int mdm_db_authenticate(ferry_mdm_db_t *db, const mdm_auth_t *a)
{
    sqlite3_stmt *st = prep(
        db, "INSERT INTO devices(udid, topic, serial, product, os_version, build_version, state,"
            " identity, auth_pending, created, last_seen) VALUES(?1,?2,?3,?4,?5,?6,'authenticated',?7,1,?8,?8)"
            " ON CONFLICT(udid) DO UPDATE SET topic=?2, serial=coalesce(?3, serial),"
            " product=coalesce(?4, product), os_version=coalesce(?5, os_version),"
            " build_version=coalesce(?6, build_version), state='authenticated', identity=?7,"
            " auth_pending=1, last_seen=?8");
    if (!st)
        return FERRY_EIO;
    bind_text(st, 1, a->udid);
    bind_text(st, 2, a->topic);
    bind_text(st, 3, a->serial);
    bind_text(st, 4, a->product);
    bind_text(st, 5, a->os_version);
    bind_text(st, 6, a->build_version);
    bind_blob(st, 7, a->identity, a->identity_len);
    sqlite3_bind_int64(st, 8, now());
    return run(db, st, "record an Authenticate");
}

int mdm_db_token_update(ferry_mdm_db_t *db, const mdm_token_t *t)
{
    sqlite3_stmt *st = prep(
        db, "INSERT INTO devices(udid, topic, state, identity, token, push_magic, unlock_token,"
            " awaiting_configuration, created, last_seen) VALUES(?1,?2,'enrolled',?3,?4,?5,?6,?7,?8,?8)"
            " ON CONFLICT(udid) DO UPDATE SET topic=coalesce(?2, topic), state='enrolled',"
            " identity=coalesce(identity, ?3), token=coalesce(?4, token),"
            " push_magic=coalesce(?5, push_magic), unlock_token=coalesce(?6, unlock_token),"
            " awaiting_configuration=?7, auth_pending=0, last_seen=?8");
    if (!st)
        return FERRY_EIO;
    bind_text(st, 1, t->udid);
    bind_text(st, 2, t->topic);
    bind_blob(st, 3, t->identity, t->identity_len);
    bind_blob(st, 4, t->token, t->token_len);
    bind_text(st, 5, t->push_magic);
    bind_blob(st, 6, t->unlock_token, t->unlock_len);
    sqlite3_bind_int(st, 7, t->awaiting_configuration);
    sqlite3_bind_int64(st, 8, now());
    return run(db, st, "record a TokenUpdate");
}

int mdm_db_checkout(ferry_mdm_db_t *db, const char *udid)
{
    sqlite3_stmt *st = prep(db, "UPDATE devices SET state='checked-out', last_seen=? WHERE udid=?");
    if (!st)
        return FERRY_EIO;
    sqlite3_bind_int64(st, 1, now());
    bind_text(st, 2, udid);
    return run(db, st, "record a CheckOut");
}

int mdm_db_log(ferry_mdm_db_t *db, const char *udid, const char *message_type, int reply)
{
    sqlite3_stmt *st = prep(db, "INSERT INTO messages(udid, message_type, reply, at) VALUES(?,?,?,?)");
    if (!st)
        return FERRY_EIO;
    bind_text(st, 1, udid);
    bind_text(st, 2, message_type);
    sqlite3_bind_int(st, 3, reply);
    sqlite3_bind_int64(st, 4, now());
    int rc = run(db, st, "log a message");
    if (rc || !udid)
        return rc;
    st = prep(db, "UPDATE devices SET last_reply=?, last_seen=? WHERE udid=?");
    if (!st)
        return FERRY_EIO;
    sqlite3_bind_int(st, 1, reply);
    sqlite3_bind_int64(st, 2, now());
    bind_text(st, 3, udid);
    return run(db, st, "note the last reply");
}

int ferry_mdm_db_count_messages(ferry_mdm_db_t *db, const char *message_type, int reply, int64_t *n)
{
    *n = 0;
    sqlite3_stmt *st = prep(db, "SELECT count(*) FROM messages WHERE (?1 IS NULL OR message_type=?1)"
                                " AND (?2 = 0 OR reply=?2)");
    if (!st)
        return FERRY_EIO;
    bind_text(st, 1, message_type);
    sqlite3_bind_int(st, 2, reply);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : db_fail(db, "count messages");
}

static const char *DEVICE_COLS =
    "SELECT udid, serial, topic, product, os_version, state, decision, restore_decision, last_reply,"
    " identity IS NOT NULL, (SELECT count(*) FROM commands c WHERE c.udid=d.udid AND"
    " c.status IN ('queued','sent','NotNow')), last_seen FROM devices d";

static void device_from_row(sqlite3_stmt *st, ferry_mdm_device_t *d)
{
    d->udid = col_text(st, 0);
    d->serial = col_text(st, 1);
    d->topic = col_text(st, 2);
    d->product_name = col_text(st, 3);
    d->os_version = col_text(st, 4);
    d->state = col_text(st, 5);
    d->decision = sqlite3_column_int(st, 6);
    d->restore_decision = sqlite3_column_int(st, 7);
    d->last_reply = sqlite3_column_int(st, 8);
    d->has_identity = sqlite3_column_int(st, 9);
    d->pending_commands = sqlite3_column_int64(st, 10);
    d->last_seen = sqlite3_column_int64(st, 11);
}

void ferry_mdm_device_clear(ferry_mdm_device_t *d)
{
    free(d->udid);
    free(d->serial);
    free(d->topic);
    free(d->product_name);
    free(d->os_version);
    free(d->state);
    memset(d, 0, sizeof *d);
}

void ferry_mdm_devices_free(ferry_mdm_device_t *d, size_t n)
{
    for (size_t i = 0; d && i < n; i++)
        ferry_mdm_device_clear(&d[i]);
    free(d);
}

int ferry_mdm_db_list_devices(ferry_mdm_db_t *db, ferry_mdm_device_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    char sql[600];
    snprintf(sql, sizeof sql, "%s ORDER BY udid", DEVICE_COLS);
    sqlite3_stmt *st = prep(db, sql);
    if (!st)
        return FERRY_EIO;
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            ferry_mdm_device_t *g = realloc(*out, nc * sizeof *g);
            if (!g) {
                sqlite3_finalize(st);
                ferry_mdm_devices_free(*out, *n);
                *out = NULL;
                *n = 0;
                return ferry_error_set(FERRY_ENOMEM, "out of memory");
            }
            *out = g;
            cap = nc;
        }
        device_from_row(st, &(*out)[(*n)++]);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : db_fail(db, "list devices");
}

int ferry_mdm_db_get_device(ferry_mdm_db_t *db, const char *udid, ferry_mdm_device_t *out)
{
    memset(out, 0, sizeof *out);
    char sql[600];
    snprintf(sql, sizeof sql, "%s WHERE udid=?", DEVICE_COLS);
    sqlite3_stmt *st = prep(db, sql);
    if (!st)
        return FERRY_EIO;
    bind_text(st, 1, udid);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        device_from_row(st, out);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return ferry_error_set(FERRY_ENOTFOUND, "no device %s in the MDM database", udid);
    return rc == SQLITE_ROW ? 0 : db_fail(db, "read a device");
}

int ferry_mdm_db_set_decision(ferry_mdm_db_t *db, const char *udid, int decision, int restore_only)
{
    if (decision != 200 && decision != 401 && decision != 403)
        return ferry_error_set(FERRY_EINVAL, "decision %d is not 200, 401 or 403", decision);
    const char *sql = decision == 200 ? "UPDATE devices SET decision=200, restore_decision=200 WHERE udid=?2"
                      : restore_only  ? "UPDATE devices SET restore_decision=?1 WHERE udid=?2"
                                      : "UPDATE devices SET decision=?1 WHERE udid=?2";
    sqlite3_stmt *st = prep(db, sql);
    if (!st)
        return FERRY_EIO;
    sqlite3_bind_int(st, 1, decision);
    bind_text(st, 2, udid);
    int rc = run(db, st, "set a device's decision");
    if (rc)
        return rc;
    if (sqlite3_changes(db->h) == 0)
        return ferry_error_set(FERRY_ENOTFOUND, "no device %s in the MDM database (it has never "
                                                "checked in): see `ferry mdm devices`", udid);
    return 0;
}

/* ---- commands ---------------------------------------------------------------------------------- */

int ferry_mdm_db_enqueue(ferry_mdm_db_t *db, const char *udid, plist_t command)
{
    char *uuid = NULL, *rt = NULL;
    plist_t inner = command ? plist_dict_get_item(command, "Command") : NULL;
    if (ferry_plist_get_string(command, "CommandUUID", &uuid) ||
        ferry_plist_get_string(inner, "RequestType", &rt)) {
        free(uuid);
        return ferry_error_set(FERRY_EINVAL, "not a command dict (CommandUUID and Command.RequestType)");
    }
    char *xml = NULL;
    uint32_t len = 0;
    plist_to_xml(command, &xml, &len);
    sqlite3_stmt *st = xml ? prep(db, "INSERT INTO commands(uuid, udid, request_type, command, status,"
                                      " created, updated) VALUES(?,?,?,?,'queued',?,?)")
                           : NULL;
    if (st) {
        bind_text(st, 1, uuid);
        bind_text(st, 2, udid);
        bind_text(st, 3, rt);
        bind_blob(st, 4, xml, len);
        sqlite3_bind_int64(st, 5, now());
        sqlite3_bind_int64(st, 6, now());
    }
    int rc = xml ? run(db, st, "queue a command") : ferry_error_set(FERRY_ENOMEM, "out of memory");
    free(xml);
    free(uuid);
    free(rt);
    return rc;
}

int mdm_db_command_status(ferry_mdm_db_t *db, const char *udid, const char *uuid, const char *status,
                          plist_t result)
{
    char *xml = NULL;
    uint32_t len = 0;
    if (result)
        plist_to_xml(result, &xml, &len);
    /* A final status is never overwritten: duplicate statuses can arrive (spec/mdm.md §10). */
    sqlite3_stmt *st = prep(db, "UPDATE commands SET status=?1, result=coalesce(?2, result), updated=?3"
                                " WHERE udid=?4 AND uuid=?5 AND status IN ('queued','sent','NotNow')");
    if (st) {
        bind_text(st, 1, status);
        bind_blob(st, 2, xml, len);
        sqlite3_bind_int64(st, 3, now());
        bind_text(st, 4, udid);
        bind_text(st, 5, uuid);
    }
    int rc = run(db, st, "store a command result");
    free(xml);
    return rc;
}

int mdm_db_has_pending(ferry_mdm_db_t *db, const char *udid, const char *request_type)
{
    sqlite3_stmt *st = prep(db, "SELECT count(*) FROM commands WHERE udid=? AND request_type=?"
                                " AND status IN ('queued','sent','NotNow')");
    if (!st)
        return FERRY_EIO;
    bind_text(st, 1, udid);
    bind_text(st, 2, request_type);
    int rc = sqlite3_step(st);
    int n = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    return n < 0 ? db_fail(db, "look for a pending command") : n > 0;
}

int mdm_db_commands_requeue(ferry_mdm_db_t *db, const char *udid)
{
    sqlite3_stmt *st = prep(db, "UPDATE commands SET status='queued' WHERE udid=? AND status IN ('sent','NotNow')");
    if (st)
        bind_text(st, 1, udid);
    return run(db, st, "requeue commands");
}

int mdm_db_next_command(ferry_mdm_db_t *db, const char *udid, char **xml, size_t *len)
{
    *xml = NULL;
    *len = 0;
    sqlite3_stmt *st = prep(db, "SELECT seq, command FROM commands WHERE udid=? AND status='queued'"
                                " ORDER BY seq LIMIT 1");
    if (!st)
        return FERRY_EIO;
    bind_text(st, 1, udid);
    int rc = sqlite3_step(st);
    int64_t seq = 0;
    if (rc == SQLITE_ROW) {
        seq = sqlite3_column_int64(st, 0);
        int n = sqlite3_column_bytes(st, 1);
        const void *b = sqlite3_column_blob(st, 1);
        if (n > 0 && b && (*xml = malloc((size_t)n + 1))) {
            memcpy(*xml, b, (size_t)n);
            (*xml)[n] = 0;
            *len = (size_t)n;
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_fail(db, "fetch the next command");
    if (rc == SQLITE_DONE)
        return 0;
    if (!*xml)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    st = prep(db, "UPDATE commands SET status='sent', updated=? WHERE seq=?");
    if (st) {
        sqlite3_bind_int64(st, 1, now());
        sqlite3_bind_int64(st, 2, seq);
    }
    return run(db, st, "mark a command sent");
}

void ferry_mdm_commands_free(ferry_mdm_command_rec_t *c, size_t n)
{
    for (size_t i = 0; c && i < n; i++) {
        free(c[i].uuid);
        free(c[i].udid);
        free(c[i].request_type);
        free(c[i].status);
        if (c[i].result)
            plist_free(c[i].result);
    }
    free(c);
}

int ferry_mdm_db_list_commands(ferry_mdm_db_t *db, const char *udid, ferry_mdm_command_rec_t **out,
                               size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = prep(db, "SELECT uuid, udid, request_type, status, result, updated FROM commands"
                                " WHERE ?1 IS NULL OR udid=?1 ORDER BY seq");
    if (!st)
        return FERRY_EIO;
    bind_text(st, 1, udid);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            ferry_mdm_command_rec_t *g = realloc(*out, nc * sizeof *g);
            if (!g) {
                rc = SQLITE_NOMEM;
                break;
            }
            *out = g;
            cap = nc;
        }
        ferry_mdm_command_rec_t *c = &(*out)[(*n)++];
        memset(c, 0, sizeof *c);
        c->uuid = col_text(st, 0);
        c->udid = col_text(st, 1);
        c->request_type = col_text(st, 2);
        c->status = col_text(st, 3);
        int len = sqlite3_column_bytes(st, 4);
        const void *b = sqlite3_column_blob(st, 4);
        if (b && len > 0)
            plist_from_memory(b, (uint32_t)len, &c->result);
        c->updated = sqlite3_column_int64(st, 5);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        ferry_mdm_commands_free(*out, *n);
        *out = NULL;
        *n = 0;
        return rc == SQLITE_NOMEM ? ferry_error_set(FERRY_ENOMEM, "out of memory")
                                  : db_fail(db, "list commands");
    }
    return 0;
}

/* ---- assignments ------------------------------------------------------------------------------- */

int ferry_mdm_db_assign(ferry_mdm_db_t *db, const ferry_mdm_ade_profile_t *p)
{
    if (!p->serial || !p->serial[0])
        return ferry_error_set(FERRY_EINVAL, "an assignment needs a serial number");
    sqlite3_stmt *st = prep(db, "INSERT OR REPLACE INTO assignments(serial, url, profile_name, org_name,"
                                " is_supervised, is_mandatory, is_mdm_removable, is_multi_user,"
                                " await_device_configured, do_not_use_profile_from_backup,"
                                " acme_hardware_bound, updated) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)");
    if (!st)
        return FERRY_EIO;
    bind_text(st, 1, p->serial);
    bind_text(st, 2, p->url);
    bind_text(st, 3, p->profile_name);
    bind_text(st, 4, p->org_name);
    sqlite3_bind_int(st, 5, !!p->is_supervised);
    sqlite3_bind_int(st, 6, !!p->is_mandatory);
    sqlite3_bind_int(st, 7, !!p->is_mdm_removable);
    sqlite3_bind_int(st, 8, !!p->is_multi_user);
    sqlite3_bind_int(st, 9, !!p->await_device_configured);
    sqlite3_bind_int(st, 10, !!p->do_not_use_profile_from_backup);
    sqlite3_bind_int(st, 11, !!p->acme_hardware_bound);
    sqlite3_bind_int64(st, 12, now());
    return run(db, st, "store an assignment");
}

int ferry_mdm_db_unassign(ferry_mdm_db_t *db, const char *serial)
{
    sqlite3_stmt *st = prep(db, "DELETE FROM assignments WHERE serial=?");
    if (st)
        bind_text(st, 1, serial);
    int rc = run(db, st, "remove an assignment");
    if (!rc && sqlite3_changes(db->h) == 0)
        return ferry_error_set(FERRY_ENOTFOUND, "serial %s has no assignment", serial);
    return rc;
}

int ferry_mdm_db_get_assignment(ferry_mdm_db_t *db, const char *serial, ferry_mdm_ade_profile_t *out)
{
    ferry_mdm_ade_profile_init(out);
    sqlite3_stmt *st = prep(db, "SELECT serial, url, profile_name, org_name, is_supervised, is_mandatory,"
                                " is_mdm_removable, is_multi_user, await_device_configured,"
                                " do_not_use_profile_from_backup, acme_hardware_bound"
                                " FROM assignments WHERE serial=?");
    if (!st)
        return FERRY_EIO;
    bind_text(st, 1, serial);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->serial = col_text(st, 0);
        out->url = col_text(st, 1);
        out->profile_name = col_text(st, 2);
        out->org_name = col_text(st, 3);
        out->is_supervised = sqlite3_column_int(st, 4);
        out->is_mandatory = sqlite3_column_int(st, 5);
        out->is_mdm_removable = sqlite3_column_int(st, 6);
        out->is_multi_user = sqlite3_column_int(st, 7);
        out->await_device_configured = sqlite3_column_int(st, 8);
        out->do_not_use_profile_from_backup = sqlite3_column_int(st, 9);
        out->acme_hardware_bound = sqlite3_column_int(st, 10);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return ferry_error_set(FERRY_ENOTFOUND, "serial %s is not assigned to this MDM server", serial);
    return rc == SQLITE_ROW ? 0 : db_fail(db, "read an assignment");
}
