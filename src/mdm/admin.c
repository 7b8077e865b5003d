/*
 * admin.c: the server's administration API, so that `ferry mdm ... --url URL` can manage a server
 * it does not share a disk with. Enabled only with an admin token (compared in constant time by
 * server.c before anything here runs). Requests and replies are XML plists; every request is
 * checked key by key and commands are rebuilt through the command table (a new CommandUUID), so
 * the admin API can queue nothing that `ferry mdm enqueue` could not. Also the plist forms of
 * device and command records that both ends of the API share.
 *
 *   GET  /admin/devices                      -> array of device dicts
 *   GET  /admin/commands[?udid=U]            -> array of command dicts (with results)
 *   POST /admin/enqueue   {udid, request_type, params}  -> {command_uuid}
 *   POST /admin/decision  {udid, decision, restore_only}
 *   POST /admin/assign    ADE profile (devices = [serial])  |  {serial, unassign: true}
 */
#include "mdm_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_str(plist_t d, const char *k, const char *v)
{
    if (v)
        plist_dict_set_item(d, k, plist_new_string(v));
}

plist_t mdm_device_to_plist(const ferry_mdm_device_t *d)
{
    plist_t p = plist_new_dict();
    set_str(p, "udid", d->udid);
    set_str(p, "serial_number", d->serial);
    set_str(p, "topic", d->topic);
    set_str(p, "product_name", d->product_name);
    set_str(p, "os_version", d->os_version);
    set_str(p, "state", d->state);
    plist_dict_set_item(p, "decision", plist_new_uint((uint64_t)d->decision));
    plist_dict_set_item(p, "restore_decision", plist_new_uint((uint64_t)d->restore_decision));
    plist_dict_set_item(p, "last_reply", plist_new_uint((uint64_t)d->last_reply));
    plist_dict_set_item(p, "has_identity", plist_new_bool(d->has_identity != 0));
    plist_dict_set_item(p, "pending_commands", plist_new_uint((uint64_t)d->pending_commands));
    plist_dict_set_item(p, "last_seen", plist_new_uint((uint64_t)d->last_seen));
    return p;
}

static int opt_str(plist_t p, const char *k, char **out)
{
    int rc = ferry_plist_get_string(p, k, out);
    return rc == FERRY_ENOTFOUND ? 0 : rc;
}

static int opt_int(plist_t p, const char *k, int64_t *out)
{
    int rc = ferry_plist_get_int(p, k, out);
    return rc == FERRY_ENOTFOUND ? 0 : rc;
}

int mdm_device_from_plist(plist_t p, ferry_mdm_device_t *d)
{
    memset(d, 0, sizeof *d);
    int64_t dec = 0, rdec = 0, last = 0, pend = 0, seen = 0;
    int has = 0;
    int rc = ferry_plist_get_string(p, "udid", &d->udid);
    if (!rc)
        rc = opt_str(p, "serial_number", &d->serial);
    if (!rc)
        rc = opt_str(p, "topic", &d->topic);
    if (!rc)
        rc = opt_str(p, "product_name", &d->product_name);
    if (!rc)
        rc = opt_str(p, "os_version", &d->os_version);
    if (!rc)
        rc = ferry_plist_get_string(p, "state", &d->state);
    if (!rc)
        rc = opt_int(p, "decision", &dec);
    if (!rc)
        rc = opt_int(p, "restore_decision", &rdec);
    if (!rc)
        rc = opt_int(p, "last_reply", &last);
    if (!rc)
        rc = opt_int(p, "pending_commands", &pend);
    if (!rc)
        rc = opt_int(p, "last_seen", &seen);
    if (!rc && ferry_plist_get_bool(p, "has_identity", &has) == FERRY_EFORMAT)
        rc = FERRY_EFORMAT;
    if (rc) {
        ferry_mdm_device_clear(d);
        return ferry_error_wrap(FERRY_EFORMAT, "in a device record from the MDM server");
    }
    d->decision = (int)dec;
    d->restore_decision = (int)rdec;
    d->last_reply = (int)last;
    d->has_identity = has;
    d->pending_commands = pend;
    d->last_seen = seen;
    return 0;
}

plist_t mdm_command_to_plist(const ferry_mdm_command_rec_t *c)
{
    plist_t p = plist_new_dict();
    set_str(p, "command_uuid", c->uuid);
    set_str(p, "udid", c->udid);
    set_str(p, "request_type", c->request_type);
    set_str(p, "status", c->status);
    plist_dict_set_item(p, "updated", plist_new_uint((uint64_t)c->updated));
    if (c->result)
        plist_dict_set_item(p, "result", plist_copy(c->result));
    return p;
}

int mdm_command_from_plist(plist_t p, ferry_mdm_command_rec_t *c)
{
    memset(c, 0, sizeof *c);
    int64_t updated = 0;
    int rc = ferry_plist_get_string(p, "command_uuid", &c->uuid);
    if (!rc)
        rc = ferry_plist_get_string(p, "udid", &c->udid);
    if (!rc)
        rc = ferry_plist_get_string(p, "request_type", &c->request_type);
    if (!rc)
        rc = ferry_plist_get_string(p, "status", &c->status);
    if (!rc)
        rc = opt_int(p, "updated", &updated);
    plist_t res = plist_dict_get_item(p, "result");
    if (!rc && res && plist_get_node_type(res) == PLIST_DICT)
        c->result = plist_copy(res);
    c->updated = updated;
    if (rc) {
        free(c->uuid);
        free(c->udid);
        free(c->request_type);
        free(c->status);
        memset(c, 0, sizeof *c);
        return ferry_error_wrap(FERRY_EFORMAT, "in a command record from the MDM server");
    }
    return 0;
}

/* ---- server side ------------------------------------------------------------------------------- */

static void out_plist(mdm_admin_reply_t *r, plist_t p)
{
    char *xml = NULL;
    uint32_t len = 0;
    plist_to_xml(p, &xml, &len);
    plist_free(p);
    r->status = xml ? 200 : 500;
    r->body = xml;
    r->len = len;
}

static void out_error(mdm_admin_reply_t *r, int rc)
{
    r->status = rc == FERRY_ENOTFOUND ? 404 : rc == FERRY_EINVAL || rc == FERRY_EFORMAT ? 400 : 500;
    r->body = strdup(ferry_error_last());
    r->len = r->body ? strlen(r->body) : 0;
}

static void admin_devices(ferry_mdm_db_t *db, mdm_admin_reply_t *r)
{
    ferry_mdm_device_t *d;
    size_t n;
    int rc = ferry_mdm_db_list_devices(db, &d, &n);
    if (rc) {
        out_error(r, rc);
        return;
    }
    plist_t a = plist_new_array();
    for (size_t i = 0; i < n; i++)
        plist_array_append_item(a, mdm_device_to_plist(&d[i]));
    ferry_mdm_devices_free(d, n);
    out_plist(r, a);
}

static void admin_commands(ferry_mdm_db_t *db, const char *udid, mdm_admin_reply_t *r)
{
    ferry_mdm_command_rec_t *c;
    size_t n;
    int rc = ferry_mdm_db_list_commands(db, udid, &c, &n);
    if (rc) {
        out_error(r, rc);
        return;
    }
    plist_t a = plist_new_array();
    for (size_t i = 0; i < n; i++)
        plist_array_append_item(a, mdm_command_to_plist(&c[i]));
    ferry_mdm_commands_free(c, n);
    out_plist(r, a);
}

static int admin_enqueue(ferry_mdm_db_t *db, plist_t req, mdm_admin_reply_t *r)
{
    char *udid = NULL, *rt = NULL;
    plist_t params = plist_dict_get_item(req, "params");
    int rc = ferry_plist_get_string(req, "udid", &udid);
    if (!rc)
        rc = ferry_plist_get_string(req, "request_type", &rt);
    plist_t cmd = NULL;
    if (!rc)
        rc = ferry_mdm_command_new(rt, params, &cmd); /* checks params against the table */
    if (!rc)
        rc = ferry_mdm_db_enqueue(db, udid, cmd);
    if (!rc) {
        plist_t o = plist_new_dict();
        plist_dict_set_item(o, "command_uuid", plist_copy(plist_dict_get_item(cmd, "CommandUUID")));
        out_plist(r, o);
    }
    if (cmd)
        plist_free(cmd);
    free(udid);
    free(rt);
    return rc;
}

static int admin_decision(ferry_mdm_db_t *db, plist_t req, mdm_admin_reply_t *r)
{
    char *udid = NULL;
    int64_t dec = 0;
    int restore_only = 0;
    int rc = ferry_plist_get_string(req, "udid", &udid);
    if (!rc)
        rc = ferry_plist_get_int(req, "decision", &dec);
    if (!rc && ferry_plist_get_bool(req, "restore_only", &restore_only) == FERRY_EFORMAT)
        rc = FERRY_EFORMAT;
    if (!rc)
        rc = ferry_mdm_db_set_decision(db, udid, (int)dec, restore_only);
    if (!rc)
        out_plist(r, plist_new_dict());
    free(udid);
    return rc;
}

static int admin_assign(ferry_mdm_db_t *db, plist_t req, mdm_admin_reply_t *r)
{
    int unassign = 0;
    int rc;
    if (ferry_plist_get_bool(req, "unassign", &unassign) == 0 && unassign) {
        char *serial = NULL;
        rc = ferry_plist_get_string(req, "serial", &serial);
        if (!rc)
            rc = ferry_mdm_db_unassign(db, serial);
        free(serial);
    } else {
        ferry_error_clear();
        ferry_mdm_ade_profile_t p;
        rc = ferry_mdm_ade_profile_from_plist(req, &p);
        if (!rc && !p.serial)
            rc = ferry_error_set(FERRY_EINVAL, "the ADE profile names no device (devices = [serial])");
        if (!rc)
            rc = ferry_mdm_db_assign(db, &p);
        ferry_mdm_ade_profile_clear(&p);
    }
    if (!rc)
        out_plist(r, plist_new_dict());
    return rc;
}

void mdm_admin_handle(ferry_mdm_db_t *db, const char *path, const char *method, const char *udid_arg,
                      const uint8_t *body, size_t len, mdm_admin_reply_t *r)
{
    memset(r, 0, sizeof *r);
    int get = !strcmp(method, "GET"), post = !strcmp(method, "POST");
    if (!strcmp(path, "/admin/devices") && get) {
        admin_devices(db, r);
        return;
    }
    if (!strcmp(path, "/admin/commands") && get) {
        admin_commands(db, udid_arg, r);
        return;
    }
    int (*fn)(ferry_mdm_db_t *, plist_t, mdm_admin_reply_t *) =
        !strcmp(path, "/admin/enqueue")    ? admin_enqueue
        : !strcmp(path, "/admin/decision") ? admin_decision
        : !strcmp(path, "/admin/assign")   ? admin_assign
                                           : NULL;
    if (!fn || !post) {
        r->status = fn ? 405 : 404;
        r->body = strdup(fn ? "use POST" : "no such admin endpoint");
        r->len = r->body ? strlen(r->body) : 0;
        return;
    }
    plist_t req = NULL;
    int rc = ferry_plist_parse(body, len, &req, "admin request");
    if (!rc && plist_get_node_type(req) != PLIST_DICT)
        rc = ferry_error_set(FERRY_EFORMAT, "admin request is not a dictionary");
    if (!rc)
        rc = fn(db, req, r);
    if (req)
        plist_free(req);
    if (rc) {
        free(r->body);
        out_error(r, rc);
    }
}
