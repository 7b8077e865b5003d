/*
 * mobilebackup2.c: com.apple.mobilebackup2 on the emulated device (§10): the DeviceLink version
 * exchange as soon as the host connects, Hello, then one request at a time (Backup in mb2_backup.c,
 * Restore in mb2_restore.c; Info, List, ChangePassword, EnableCloudBackup in mb2_admin.c), each ending
 * with the DLMessageProcessMessage that ends the host's loop. Invariants: never DLMessagePurgeDiskSpace
 * (§2 item 14); a request the device does not support still gets a ProcessMessage with a non-zero
 * ErrorCode, so the host never waits for nothing; DLMessageDisconnect ends the connection.
 */
#include "mb2_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int hello(emu_conn_t *c, plist_t req)
{
    plist_t vers = plist_dict_get_item(req, "SupportedProtocolVersions");
    int have_21 = 0, have_20 = 0;
    for (uint32_t i = 0; vers && plist_get_node_type(vers) == PLIST_ARRAY && i < plist_array_get_size(vers); i++) {
        plist_t n = plist_array_get_item(vers, i);
        double v = 0;
        if (plist_get_node_type(n) == PLIST_REAL)
            plist_get_real_val(n, &v);
        have_21 |= v > 2.05 && v < 2.15;
        have_20 |= v > 1.95 && v < 2.05;
    }
    plist_t d = plist_new_dict();
    plist_dict_set_item(d, "MessageName", plist_new_string("Response"));
    plist_dict_set_item(d, "ErrorCode", plist_new_uint(have_21 || have_20 ? 0 : 1));
    plist_dict_set_item(d, "ProtocolVersion", plist_new_real(have_21 ? 2.1 : 2.0));
    return emu_dl_process_message(c, d);
}

int mb2_opt_bool(plist_t req, const char *key, int dflt)
{
    plist_t opts = plist_dict_get_item(req, "Options");
    plist_t n = opts && plist_get_node_type(opts) == PLIST_DICT ? plist_dict_get_item(opts, key) : NULL;
    if (!n)
        n = plist_dict_get_item(req, key);
    uint8_t b = 0;
    if (!n || plist_get_node_type(n) != PLIST_BOOLEAN)
        return dflt;
    plist_get_bool_val(n, &b);
    return b != 0;
}

/* The target must be this device (TargetIdentifier), compared as RULES.md's "same device". */
static int for_this_device(emu_conn_t *c, plist_t req)
{
    char *t = emu_dict_string(req, "TargetIdentifier");
    int ok = !t || !strcasecmp(t, c->dev->udid);
    free(t);
    return ok;
}

static int request(emu_conn_t *c, plist_t req)
{
    char *name = emu_dict_string(req, "MessageName");
    int rc;
    if (c->srv->verbose)
        ferry_log(FERRY_LOG_INFO, "mobilebackup2 %s: %s", c->dev->udid, name ? name : "(no MessageName)");
    if (!name)
        rc = emu_dl_finish(c, MB2_E_INVALID, "the request has no MessageName", NULL);
    else if (!strcmp(name, "Hello"))
        rc = hello(c, req);
    else if (!for_this_device(c, req))
        rc = emu_dl_finish(c, MB2_E_INVALID, "TargetIdentifier is not this device", NULL);
    else if (!strcmp(name, "Backup"))
        rc = mb2_backup(c, req);
    else if (!strcmp(name, "Restore"))
        rc = mb2_restore(c, req);
    else if (!strcmp(name, "Info") || !strcmp(name, "List"))
        rc = mb2_info_list(c, !strcmp(name, "List"));
    else if (!strcmp(name, "ChangePassword"))
        rc = mb2_change_password(c, req);
    else if (!strcmp(name, "EnableCloudBackup"))
        rc = mb2_enable_cloud_backup(c, req);
    else
        rc = emu_dl_finish(c, MB2_E_UNSUPPORTED, "this request is not supported by the emulated device", NULL);
    free(name);
    return rc;
}

void emu_mb2_serve(emu_conn_t *c)
{
    if (emu_dl_version_exchange(c))
        return;
    for (;;) {
        plist_t msg;
        char *name;
        if (emu_dl_recv(c, &msg, &name))
            break;
        int rc = 0, done = !strcmp(name, "DLMessageDisconnect");
        if (!strcmp(name, "DLMessageProcessMessage")) {
            plist_t req = plist_array_get_size(msg) >= 2 ? plist_array_get_item(msg, 1) : NULL;
            rc = req && plist_get_node_type(req) == PLIST_DICT
                     ? request(c, req)
                     : emu_dl_finish(c, MB2_E_INVALID, "DLMessageProcessMessage without a dictionary", NULL);
        }
        free(name);
        plist_free(msg);
        if (rc || done)
            break;
    }
    emu_device_reboot(c); /* after a restore that asked for it, once the host has let go */
}
