/*
 * password.c: ferry_host_password, the device's backup password (spec/device-protocol.md §7.5): the
 * host checks WillEncrypt first (set needs none, change and remove need one), sends ChangePassword with
 * OldPassword and/or NewPassword, and waits for the device's verdict through the DeviceLink loop (no
 * backup folder: any file request is refused). A wrong old password is MBErrorDomain 207,
 * FERRY_EPASSWORD. Invariants: passwords are copied only into the request, whose strings are wiped
 * before it is freed.
 */
#include "host_internal.h"

#include <stdlib.h>
#include <string.h>

static void put_secret(plist_t dict, const char *key, const char *pw, size_t len)
{
    char *s = strndup(pw, len);
    if (!s)
        return;
    plist_dict_set_item(dict, key, plist_new_string(s));
    ferry_wipe(s, strlen(s));
    free(s);
}

static void wipe_key(plist_t dict, const char *key)
{
    uint64_t len = 0;
    plist_t n = plist_dict_get_item(dict, key);
    const char *p = n ? plist_get_string_ptr(n, &len) : NULL;
    if (p)
        ferry_wipe((void *)p, (size_t)len);
}

/* Set needs no password on the device, change and remove need one. */
static int precondition(const ferry_host_device_t *d, const char *old_pw, const char *new_pw)
{
    if (!old_pw && !new_pw)
        return ferry_error_set(FERRY_EINVAL, "a password change needs an old or a new password");
    if (!old_pw && d->password_set == 1)
        return ferry_error_set(FERRY_EEXIST, "device %s already has a backup password: use `ferry password change`",
                               d->udid);
    if (old_pw && d->password_set != 1)
        return ferry_error_set(FERRY_ENOTFOUND, "device %s has no backup password: use `ferry password set`", d->udid);
    if (!new_pw && d->encryption_required == 1)
        return ferry_error_set(FERRY_EDEVICE, "device %s requires encrypted backups (forceEncryptedBackup): its "
                               "backup password cannot be removed, only changed", d->udid);
    return 0;
}

int ferry_host_password(const char *udid, const char *old_pw, size_t old_len, const char *new_pw,
                        size_t new_len, const ferry_host_opts_t *opts, ferry_host_result_t *res)
{
    ferry_host_result_t local;
    if (!res)
        res = &local;
    memset(res, 0, sizeof *res);
    host_conn_t c;
    int rc = host_conn_open(udid, opts, &c);
    if (rc)
        return rc;
    ferry_host_device_t d;
    rc = host_conn_describe(&c, &d);
    if (!rc)
        rc = precondition(&d, old_pw, new_pw);
    if (!rc)
        rc = host_conn_start_mb2(&c, 0);
    if (!rc) {
        plist_t m = plist_new_dict();
        plist_dict_set_item(m, "MessageName", plist_new_string("ChangePassword"));
        plist_dict_set_item(m, "TargetIdentifier", plist_new_string(c.udid));
        if (old_pw)
            put_secret(m, "OldPassword", old_pw, old_len);
        if (new_pw)
            put_secret(m, "NewPassword", new_pw, new_len);
        rc = host_wire_process_message(&c.wire, m);
        wipe_key(m, "OldPassword");
        wipe_key(m, "NewPassword");
        plist_free(m);
    }
    if (!rc) {
        host_dl_t dl = {.wire = &c.wire, .udid = c.udid, .root = NULL, .read_only = 1, .opts = opts,
                        .stage = FERRY_HOST_STAGE_TRANSFER, .res = res};
        rc = host_dl_run(&dl);
        free(dl.content);
    }
    host_conn_close(&c);
    return rc;
}
