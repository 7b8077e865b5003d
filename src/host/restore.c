/*
 * restore.c: ferry_host_restore, the transfer of one Finder-layout backup onto one device (spec/
 * device-protocol.md §7.3, §10.8, §11.2): local checks first (Info.plist present, Status.plist
 * finished, a password when Manifest.plist says IsEncrypted), then the Restore request and the
 * DeviceLink loop in read-only mode, serving DLMessageDownloadFiles from the backup. The device
 * decrypts, checks the password and applies the backup; its verdict ends the transfer.
 * Invariants: RestoreDontCopyBackup is always true and the loop refuses every write, so a snapshot is
 * never changed by a restore; the password is wiped from the request before it is freed. Planning,
 * queues and reports around restores live elsewhere (cmd_restore).
 */
#include "host_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int check_backup(const char *dir, int *encrypted)
{
    char *info = ferry_path_join(dir, "Info.plist");
    char *man = ferry_path_join(dir, "Manifest.plist");
    char *st = ferry_path_join(dir, "Status.plist");
    int rc = info && man && st ? 0 : ferry_error_set(FERRY_ENOMEM, "out of memory");
    if (!rc && access(info, F_OK) != 0)
        rc = ferry_error_set(FERRY_ENOTFOUND, "%s has no Info.plist: not a complete backup", dir);
    ferry_manifest_plist_t m;
    if (!rc && !(rc = ferry_manifest_plist_read(man, &m))) {
        *encrypted = m.is_encrypted;
        ferry_manifest_plist_clear(&m);
    }
    ferry_status_plist_t s;
    if (!rc && !(rc = ferry_status_plist_read(st, &s))) {
        if (!s.snapshot_state || strcmp(s.snapshot_state, "finished"))
            rc = ferry_error_set(FERRY_EINTEGRITY, "%s: Status.plist SnapshotState is not \"finished\": the backup "
                                 "is incomplete and cannot be restored", dir);
        ferry_status_plist_clear(&s);
    }
    free(info);
    free(man);
    free(st);
    return rc;
}

/* Wipes a string node's bytes in place before the plist is freed. */
static void wipe_string(plist_t node)
{
    uint64_t len = 0;
    const char *p = node ? plist_get_string_ptr(node, &len) : NULL;
    if (p)
        ferry_wipe((void *)p, (size_t)len);
}

static plist_t restore_options(const ferry_host_restore_opts_t *r)
{
    plist_t o = plist_new_dict();
    plist_dict_set_item(o, "RestoreSystemFiles", plist_new_bool(r ? r->system_files != 0 : 0));
    plist_dict_set_item(o, "RestoreShouldReboot", plist_new_bool(r ? r->reboot != 0 : 1));
    plist_dict_set_item(o, "RestoreDontCopyBackup", plist_new_bool(1));
    plist_dict_set_item(o, "RestorePreserveSettings", plist_new_bool(r ? r->preserve_settings != 0 : 1));
    plist_dict_set_item(o, "RemoveItemsNotRestored", plist_new_bool(r ? r->remove_items_not_restored != 0 : 0));
    if (r && r->host_type != FERRY_HOST_FINDER)
        plist_dict_set_item(o, "HostType", plist_new_string(ferry_policy_host_name(r->host_type)));
    if (r && r->skip_categories) {
        plist_t cats = plist_new_array();
        for (unsigned bit = 1; bit; bit <<= 1)
            if ((r->skip_categories & bit) && ferry_policy_category_name(bit))
                plist_array_append_item(cats, plist_new_string(ferry_policy_category_name(bit)));
        plist_dict_set_item(o, "SkipCategories", cats);
    }
    if (r && r->password) {
        char *pw = strndup(r->password, r->password_len);
        if (pw) {
            plist_dict_set_item(o, "Password", plist_new_string(pw));
            ferry_wipe(pw, strlen(pw));
            free(pw);
        }
    }
    return o;
}

int ferry_host_restore(const char *target_udid, const char *backup_root, const char *source_udid,
                       const ferry_host_restore_opts_t *ropts, const ferry_host_opts_t *opts,
                       ferry_host_result_t *res)
{
    ferry_host_result_t local;
    if (!res)
        res = &local;
    memset(res, 0, sizeof *res);
    if (!target_udid || !backup_root || !source_udid)
        return ferry_error_set(FERRY_EINVAL, "ferry_host_restore needs a target, a backup folder and its UDID");
    int rc = ferry_store_check_udid(source_udid);
    if (rc)
        return rc;
    char *dir = ferry_path_join(backup_root, source_udid);
    int encrypted = 0;
    rc = dir ? check_backup(dir, &encrypted) : ferry_error_set(FERRY_ENOMEM, "out of memory");
    free(dir);
    if (rc)
        return rc;
    if (encrypted && (!ropts || !ropts->password))
        return ferry_error_set(FERRY_EPASSWORD, "the backup of %s is encrypted: give its password to restore it",
                               source_udid);
    host_conn_t c;
    if ((rc = host_conn_open(target_udid, opts, &c)))
        return rc;
    rc = host_conn_start_mb2(&c, 1);
    if (!rc)
        rc = host_check_cancel(opts, target_udid, "starting the restore");
    if (!rc) {
        plist_t o = restore_options(ropts);
        rc = host_wire_request(&c.wire, "Restore", target_udid, source_udid, o);
        wipe_string(plist_dict_get_item(o, "Password"));
        plist_free(o);
    }
    if (!rc) {
        host_dl_t dl = {.wire = &c.wire, .udid = target_udid, .root = backup_root, .read_only = 1, .opts = opts,
                        .stage = FERRY_HOST_STAGE_TRANSFER, .res = res};
        rc = host_dl_run(&dl);
        free(dl.content);
    }
    host_conn_close(&c);
    return rc;
}
