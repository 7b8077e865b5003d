/*
 * backup.c: ferry_host_backup, one device's backup into a staging folder (spec/device-protocol.md
 * §7.2, §11.1): on one lockdownd session, the preflight checks on the device's description (each
 * TLS handshake of libimobiledevice 1.3 sleeps 100 ms, so the session is not opened twice); then the
 * host writes <UDID>/Info.plist from lockdownd's values, asks mobilebackup2 for a
 * Backup (ForceFullBackup with full), and serves the DeviceLink loop until the device's verdict. The
 * device decides the content, encrypts, and uploads Manifest.plist, Manifest.db and Status.plist;
 * success needs both ErrorCode 0 and Status.plist SnapshotState "finished", as idevicebackup2 checks.
 * Invariants: nothing outside staging_root is written; the caller commits or aborts the folder.
 */
#include "host_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static int write_info_plist(const char *udid_dir, const ferry_host_device_t *d)
{
    ferry_device_ident_t id = {
        .udid = d->udid,
        .product_type = d->product_type[0] ? d->product_type : NULL,
        .product_version = d->os_version[0] ? d->os_version : NULL,
        .build_version = d->build_version[0] ? d->build_version : NULL,
        .serial_number = d->serial[0] ? d->serial : NULL,
        .device_name = d->name[0] ? d->name : NULL,
    };
    plist_t info = ferry_info_plist_build(&id, NULL, (int64_t)time(NULL));
    if (!info)
        return ferry_error_set(FERRY_ENOMEM, "cannot build Info.plist for device %s", d->udid);
    char *path = ferry_path_join(udid_dir, "Info.plist");
    int rc = path ? ferry_plist_write_file(path, info, 1) : ferry_error_set(FERRY_ENOMEM, "out of memory");
    free(path);
    plist_free(info);
    return rc;
}

/* The device's success is only believed with a finished Status.plist. */
static int check_finished(const char *udid_dir, const char *udid)
{
    char *path = ferry_path_join(udid_dir, "Status.plist");
    if (!path)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    ferry_status_plist_t st;
    int rc = ferry_status_plist_read(path, &st);
    free(path);
    if (rc)
        return ferry_error_wrap(FERRY_EINTEGRITY, "device %s reported success but its Status.plist is unusable", udid);
    if (!st.snapshot_state || strcmp(st.snapshot_state, "finished"))
        rc = ferry_error_set(FERRY_EINTEGRITY, "device %s reported success but Status.plist says SnapshotState "
                             "\"%s\", not \"finished\": the backup is incomplete; run again", udid,
                             st.snapshot_state ? st.snapshot_state : "(none)");
    ferry_status_plist_clear(&st);
    return rc;
}

static void stage(const ferry_host_opts_t *opts, const char *udid, ferry_host_stage_t s, const ferry_host_result_t *r)
{
    if (!opts || !opts->progress)
        return;
    ferry_host_progress_t p = {.udid = udid, .stage = s, .files_done = r->files, .bytes_done = r->bytes,
                               .percent = -1};
    opts->progress(&p, opts->progress_ctx);
}

int ferry_host_backup(const char *udid, const char *staging_root, const ferry_host_backup_opts_t *bopts,
                      const ferry_host_opts_t *opts, ferry_host_result_t *res)
{
    ferry_host_result_t local;
    if (!res)
        res = &local;
    memset(res, 0, sizeof *res);
    if (!udid || !staging_root)
        return ferry_error_set(FERRY_EINVAL, "ferry_host_backup needs a UDID and a staging folder");
    int rc = ferry_store_check_udid(udid);
    if (rc)
        return rc;
    stage(opts, udid, FERRY_HOST_STAGE_CONNECT, res);
    host_conn_t c;
    if ((rc = host_conn_open(udid, opts, &c)))
        return rc;
    ferry_host_device_t d;
    char *udid_dir = ferry_path_join(staging_root, udid);
    rc = udid_dir ? host_conn_describe(&c, &d) : ferry_error_set(FERRY_ENOMEM, "out of memory");
    if (!rc) {
        stage(opts, udid, FERRY_HOST_STAGE_PREFLIGHT, res);
        rc = ferry_host_preflight_check(&d, staging_root);
    }
    if (!rc)
        rc = ferry_mkdir_p(udid_dir, 0700);
    if (!rc)
        rc = write_info_plist(udid_dir, &d);
    if (!rc)
        rc = host_check_cancel(opts, udid, "starting the backup");
    if (!rc)
        rc = host_conn_start_mb2(&c, 1);
    plist_t o = NULL;
    if (!rc && bopts && bopts->full) {
        o = plist_new_dict();
        plist_dict_set_item(o, "ForceFullBackup", plist_new_bool(1));
    }
    if (!rc)
        rc = host_wire_request(&c.wire, "Backup", udid, udid, o);
    plist_free(o);
    if (!rc) {
        stage(opts, udid, FERRY_HOST_STAGE_TRANSFER, res);
        host_dl_t dl = {.wire = &c.wire, .udid = udid, .root = staging_root, .opts = opts, .stage = FERRY_HOST_STAGE_TRANSFER, .res = res,
                        .reserve = bopts && bopts->host_free_margin ? bopts->host_free_margin : 512ull << 20};
        rc = host_dl_run(&dl);
        free(dl.content);
    }
    if (!rc)
        rc = check_finished(udid_dir, udid);
    host_conn_close(&c);
    free(udid_dir);
    return rc;
}
