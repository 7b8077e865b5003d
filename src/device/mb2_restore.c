/*
 * mb2_restore.c: the device side of a mobilebackup2 Restore (§7.3, §10.4, §10.8). The device pulls
 * Manifest.plist, Manifest.db and Status.plist of the source backup with DLMessageDownloadFiles into a
 * private staging folder, opens it with ferry's reader (an encrypted backup needs the Password
 * option: a wrong one is MBErrorDomain 207, before any data file moves), pulls the data files, and
 * hands the readable backup to restore_files.c, which plans and writes the files. Options: without
 * RestoreSystemFiles only app domains are restored; RestorePreserveSettings keeps the device's
 * preference files; RemoveItemsNotRestored removes device files of the restored domains that the
 * backup does not hold. Then the passcode and biometrics are cleared (R1), the backup's keychain
 * export is loaded into the keychain (B3), and the device "reboots" (RestoreShouldReboot, default
 * true: mb2_reboot.c, once the host disconnects). RestoreDontCopyBackup false or absent makes the
 * host copy the backup first and the device read the copy (see "CopyFirst" below).
 * Refusals: Find My on (211), not enough space on the device (105). Invariants: every path from the
 * host is confined to the staging folder; every record comes from the validating reader; device
 * files are replaced atomically (temporary name, rename); the staging folder is always removed.
 * The rules engine's restore plan (restore_files.c) is asked once the files are staged: a
 * refused restore (R3 older OS, R4, R5, another device's UDID where it matters, ...) ends with its
 * reason before anything is written, and data files of categories and managed apps are written only
 * when their plan item says restored (or placeholder). Then restore_apply.c carries out the plan's
 * other items on the device model (profiles, enrollment, management, apps, books, categories, R1)
 * and marks the device restored; the server (ferry_serve_opts_t.restored) may then run the S2
 * check-in, as the device boots (or at once with RestoreShouldReboot false). The plan's host type (S5, R4) and the categories left out (X1) come from the request's
 * Options `HostType` and `SkipCategories` (ferry's hosts send them), else from the server's defaults.
 */
#include "mb2_internal.h"
#include "device_internal.h"
#include "ferry/backup.h"
#include "ferry/policy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BATCH 256

typedef struct {
    emu_conn_t *c;
    char *src;           /* SourceIdentifier: the backup's UDID folder name on the host */
    char *dl;            /* the folder the device reads: src, or its copy (CopyFirst) */
    int copy, copied;    /* RestoreDontCopyBackup false: the host copies the backup first */
    char *staging;       /* <state>/<udid>/restore-XXXXXX */
    int fd;              /* file being received, or -1 */
    char *cur;           /* its staging path */
    dev_restore_job_t job; /* the plan and the files (restore_files.c) */
    int code;            /* the final ProcessMessage: ErrorCode and description */
    char msg[512];
} restore_t;

/* ---- receiving files from the host ----------------------------------------------------------------- */

static int recv_cb(void *ctx, const char *path, int state, const uint8_t *data, size_t len)
{
    restore_t *r = ctx;
    if (state == EMU_DL_FILE_BEGIN) {
        size_t n = strlen(r->dl);
        if (strncmp(path, r->dl, n) || path[n] != '/' || ferry_path_check_relative(path, strlen(path)))
            return ferry_error_set(FERRY_EUNSAFE, "restore: the host sent '%s', outside the backup", path);
        free(r->cur);
        r->cur = ferry_path_join(r->staging, path);
        char *slash = r->cur ? strrchr(r->cur, '/') : NULL;
        if (!slash)
            return ferry_error_set(FERRY_ENOMEM, "out of memory");
        *slash = '\0';
        int rc = ferry_mkdir_p(r->cur, 0700);
        *slash = '/';
        if (rc)
            return rc;
        r->fd = open(r->cur, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
        return r->fd < 0 ? ferry_error_errno("restore: cannot create %s", r->cur) : 0;
    }
    if (r->fd < 0)
        return ferry_error_set(FERRY_EFORMAT, "restore: data outside a file");
    if (state == EMU_DL_FILE_DATA)
        return ferry_write_full(r->fd, data, len, r->cur);
    close(r->fd);
    r->fd = -1;
    if (state == EMU_DL_FILE_ERROR)
        unlink(r->cur); /* the host could not send it: the reader reports it missing */
    return 0;
}

/* One DLMessageDownloadFiles round: paths (an array, consumed), raw stream, status. */
static int download(restore_t *r, plist_t paths)
{
    plist_t m = plist_new_array();
    plist_array_append_item(m, plist_new_string("DLMessageDownloadFiles"));
    plist_array_append_item(m, paths);
    plist_array_append_item(m, plist_new_dict());
    plist_array_append_item(m, plist_new_real(0.0));
    plist_array_append_item(m, plist_new_uint(0));
    int rc = emu_dl_send(r->c, m);
    plist_free(m);
    if (!rc)
        rc = emu_dl_recv_files(r->c, recv_cb, r);
    if (r->fd >= 0) {
        close(r->fd);
        r->fd = -1;
    }
    plist_t reply;
    char *name;
    if (!rc && !(rc = emu_dl_recv(r->c, &reply, &name))) {
        int64_t code;
        rc = emu_dl_parse_status(reply, &code, NULL);
        free(name);
        plist_free(reply);
    }
    return rc;
}

static int download_manifests(restore_t *r)
{
    static const char *const names[] = {"Manifest.plist", "Manifest.db", "Status.plist", "Info.plist"};
    plist_t paths = plist_new_array();
    char p[512];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", r->dl, names[i]);
        plist_array_append_item(paths, plist_new_string(p));
    }
    return download(r, paths);
}

/* ---- CopyFirst: the host copies the backup, the device reads the copy ------------------------------
 * RestoreDontCopyBackup false (`idevicebackup2 restore --copy`): before it reads anything the device
 * asks the host to copy the backup folder to <src>.copy (DLMessageCreateDirectory and
 * DLMessageCopyItem, file by file: the host copies one directory level only, §10.5), reads the
 * restore from the copy, and removes the copy at the end (ferry choice: the original backup stays as
 * it was and no second backup folder is left behind). */

static int dl_simple(restore_t *r, plist_t m)
{
    int64_t code = 0;
    int rc = emu_dl_request(r->c, m, &code, NULL);
    if (!rc && code != 0)
        rc = ferry_error_set(FERRY_EIO, "the host could not copy the backup (status %lld)", (long long)code);
    return rc;
}

static int host_mkdir(restore_t *r, const char *rel)
{
    plist_t m = plist_new_array();
    plist_array_append_item(m, plist_new_string("DLMessageCreateDirectory"));
    plist_array_append_item(m, plist_new_string(rel));
    plist_array_append_item(m, plist_new_dict());
    plist_array_append_item(m, plist_new_real(0.0));
    return dl_simple(r, m);
}

static int host_copy(restore_t *r, const char *rel)
{
    char from[512], to[512];
    snprintf(from, sizeof from, "%s/%s", r->src, rel);
    snprintf(to, sizeof to, "%s/%s", r->dl, rel);
    plist_t m = plist_new_array();
    plist_array_append_item(m, plist_new_string("DLMessageCopyItem"));
    plist_array_append_item(m, plist_new_string(from));
    plist_array_append_item(m, plist_new_string(to));
    plist_array_append_item(m, plist_new_dict());
    plist_array_append_item(m, plist_new_real(0.0));
    r->copied++;
    return dl_simple(r, m);
}

static int copy_manifests(restore_t *r)
{
    static const char *const names[] = {"Info.plist", "Manifest.plist", "Manifest.db", "Status.plist"};
    int rc = host_mkdir(r, r->dl);
    for (size_t i = 0; !rc && i < sizeof names / sizeof names[0]; i++)
        rc = host_copy(r, names[i]);
    return rc;
}

static int copy_blobs(restore_t *r, ferry_backup_t *b)
{
    ferry_backup_iter_t *it = NULL;
    int rc = ferry_backup_iter_new(b, NULL, &it);
    uint8_t made[256] = {0};
    const ferry_record_t *rec;
    int k;
    char rel[512];
    while (!rc && (k = ferry_backup_iter_next(it, &rec)) != 0) {
        if (k < 0 || rec->flags != FERRY_FLAG_FILE)
            continue;
        uint8_t v = 0;
        ferry_hex_decode(rec->fileid, &v, 1);
        if (!made[v]++) {
            snprintf(rel, sizeof rel, "%s/%.2s", r->dl, rec->fileid);
            rc = host_mkdir(r, rel);
        }
        snprintf(rel, sizeof rel, "%.2s/%s", rec->fileid, rec->fileid);
        if (!rc)
            rc = host_copy(r, rel);
    }
    if (it)
        ferry_backup_iter_free(it);
    return rc;
}

static int remove_copy(restore_t *r)
{
    plist_t m = plist_new_array(), paths = plist_new_array();
    plist_array_append_item(paths, plist_new_string(r->dl));
    plist_array_append_item(m, plist_new_string("DLMessageRemoveItems"));
    plist_array_append_item(m, paths);
    plist_array_append_item(m, plist_new_dict());
    plist_array_append_item(m, plist_new_real(100.0));
    return dl_simple(r, m);
}

static int download_blobs(restore_t *r, ferry_backup_t *b)
{
    ferry_backup_iter_t *it;
    int rc = ferry_backup_iter_new(b, NULL, &it);
    if (rc)
        return rc;
    plist_t paths = plist_new_array();
    const ferry_record_t *rec;
    int k;
    char p[512];
    while (!rc && (k = ferry_backup_iter_next(it, &rec)) != 0) {
        if (k < 0 || rec->flags != FERRY_FLAG_FILE)
            continue;
        snprintf(p, sizeof p, "%s/%.2s/%s", r->dl, rec->fileid, rec->fileid);
        plist_array_append_item(paths, plist_new_string(p));
        if (plist_array_get_size(paths) == BATCH) {
            rc = download(r, paths);
            paths = plist_new_array();
        }
    }
    ferry_backup_iter_free(it);
    if (!rc && plist_array_get_size(paths) > 0)
        return download(r, paths);
    plist_free(paths);
    return rc;
}

/* ---- the request ------------------------------------------------------------------------------------ */

/* Records the final ProcessMessage (sent by mb2_restore, after the copy is removed). */
static int fail_with(restore_t *r, int code, const char *fallback, int use_last)
{
    r->code = code;
    const char *m = use_last && ferry_error_last()[0] ? ferry_error_last() : fallback;
    size_t n = strlen(m);
    if (n >= sizeof r->msg)
        n = sizeof r->msg - 1; /* a long message is cut, as the device's ErrorDescription would be */
    memcpy(r->msg, m, n);
    r->msg[n] = '\0';
    return 0;
}

/* S2: once the device is back, the server's hook (the check-in) runs on the directory; the served
 * model then follows whatever the check-in changed. */
void mb2_after_restore(emu_device_t *d)
{
    emu_server_t *s = d->srv;
    if (!s->restored)
        return;
    pthread_mutex_lock(&d->lock);
    if (s->restored(d->dir, s->restored_ctx))
        ferry_log(FERRY_LOG_WARN, "%s: the check-in after the restore did not complete: %s", d->dir,
                  ferry_error_last());
    ferry_device_t *m = NULL;
    if (ferry_device_load(d->dir, &m) == 0) {
        ferry_device_free(d->model);
        d->model = m;
    }
    pthread_mutex_unlock(&d->lock);
}

/* Everything after the manifests arrived; sets r->code/r->msg, returns non-zero only for a broken
 * connection. */
static int restore_staged(restore_t *r, plist_t req)
{
    emu_device_t *d = r->c->dev;
    char *dir = ferry_path_join(r->staging, r->dl);
    char *pw = emu_dict_string(plist_dict_get_item(req, "Options"), "Password");
    if (!pw)
        pw = emu_dict_string(req, "Password");
    ferry_credentials_t cred = {.password = pw, .password_len = pw ? strlen(pw) : 0};
    ferry_backup_t *b = NULL;
    int rc = dir ? ferry_backup_open(dir, &cred, &b) : FERRY_ENOMEM;
    if (pw) {
        ferry_wipe(pw, strlen(pw));
        free(pw);
    }
    free(dir);
    if (rc == FERRY_EPASSWORD)
        return fail_with(r, MB2_E_WRONG_PASSWORD, "wrong or missing backup password", 1);
    if (rc)
        return fail_with(r, MB2_E_GENERIC, "the backup cannot be read", 1);
    const ferry_status_plist_t *st = ferry_backup_status(b);
    if (!st || !st->snapshot_state || strcmp(st->snapshot_state, "finished")) {
        ferry_backup_close(b);
        return fail_with(r, MB2_E_GENERIC, "the backup is not finished (Status.plist)", 0);
    }
    if (dev_restore_job_size(&r->job, b) > d->model->TotalDataAvailable) {
        ferry_backup_close(b);
        return fail_with(r, MB2_E_NO_SPACE, "not enough space on the device for this restore", 0);
    }
    if ((r->copy && (rc = copy_blobs(r, b))) || (rc = download_blobs(r, b))) {
        ferry_backup_close(b);
        return rc;
    }
    pthread_mutex_lock(&d->lock);
    char why[FERRY_PLAN_WHY_MAX + 16];
    rc = dev_restore_job_plan(&r->job, b, why, sizeof why);
    if (rc == FERRY_EINVAL) {
        pthread_mutex_unlock(&d->lock);
        ferry_backup_close(b);
        return fail_with(r, MB2_E_INVALID, why, 0);
    }
    if (!rc)
        rc = dev_restore_job_apply(&r->job, b);
    ferry_device_t *m = NULL;
    if (ferry_device_load(d->dir, &m) == 0) {
        ferry_device_free(d->model);
        d->model = m;
    }
    pthread_mutex_unlock(&d->lock);
    ferry_backup_close(b);
    if (rc)
        return fail_with(r, MB2_E_GENERIC, "the restore failed", 1);
    if (r->c->srv->verbose) {
        ferry_log(FERRY_LOG_INFO, "mobilebackup2 %s: restored %llu files, removed %llu%s", d->udid,
                  (unsigned long long)r->job.restored, (unsigned long long)r->job.removed,
                  r->copy ? ", read from the host's copy of the backup" : "");
        if (r->job.keychain_in || r->job.keychain_out)
            ferry_log(FERRY_LOG_INFO, "mobilebackup2 %s: keychain export: %zu item(s) imported, %zu left out "
                      "(ThisDeviceOnly on another device, hardware-bound, akpu)", d->udid, r->job.keychain_in,
                      r->job.keychain_out);
    }
    return 0;
}

/* HostType and SkipCategories of the request's Options (ferry's extension of the Restore request);
 * absent keys keep the server's defaults. FERRY_EINVAL on a value the device does not know. */
static int restore_options(restore_t *r, plist_t req)
{
    plist_t opts = plist_dict_get_item(req, "Options");
    if (!opts || plist_get_node_type(opts) != PLIST_DICT)
        return 0;
    char *host = emu_dict_string(opts, "HostType");
    int rc = host ? ferry_policy_host_parse(host, &r->job.ro.host) : 0;
    free(host);
    plist_t skip = plist_dict_get_item(opts, "SkipCategories");
    if (!rc && skip) {
        if (plist_get_node_type(skip) != PLIST_ARRAY)
            return ferry_error_set(FERRY_EINVAL, "SkipCategories is not an array of category names");
        r->job.ro.skip_categories = 0;
        for (uint32_t i = 0; !rc && i < plist_array_get_size(skip); i++) {
            plist_t it = plist_array_get_item(skip, i);
            char *name = plist_get_node_type(it) == PLIST_STRING ? ferry_plist_string_dup(it) : NULL;
            unsigned bit = 0;
            if (!name)
                rc = ferry_error_set(FERRY_EINVAL, "SkipCategories holds something that is not a category name");
            else if (!(rc = ferry_policy_category_parse(name, &bit)))
                r->job.ro.skip_categories |= bit;
            free(name);
        }
    }
    return rc;
}

int mb2_restore(emu_conn_t *c, plist_t req)
{
    emu_device_t *d = c->dev;
    restore_t r = {.c = c, .fd = -1};
    r.job.dir = d->dir;
    r.job.model = d->model;
    r.job.system = mb2_opt_bool(req, "RestoreSystemFiles", 0);
    r.job.preserve_settings = mb2_opt_bool(req, "RestorePreserveSettings", 1);
    r.job.remove_missing = mb2_opt_bool(req, "RemoveItemsNotRestored", 0);
    r.job.ro.host = c->srv->restore_host;
    r.job.ro.skip_categories = c->srv->restore_skip;
    if (restore_options(&r, req))
        return emu_dl_finish(c, MB2_E_INVALID, ferry_error_last(), NULL);
    r.copy = !mb2_opt_bool(req, "RestoreDontCopyBackup", 0); /* absent (idevicebackup2 --copy): copy */
    int reboot = mb2_opt_bool(req, "RestoreShouldReboot", 1);
    r.src = emu_dict_string(req, "SourceIdentifier");
    if (!r.src)
        r.src = strdup(d->udid);
    if (!r.src || ferry_path_check_domain(r.src, strlen(r.src))) {
        free(r.src);
        return emu_dl_finish(c, MB2_E_INVALID, "SourceIdentifier cannot name a folder", NULL);
    }
    if (d->model->IsDeviceLocatorServiceEnabled) {
        free(r.src);
        return emu_dl_finish(c, MB2_E_FIND_MY, "Find My must be turned off before a restore", NULL);
    }
    if (r.copy && asprintf(&r.dl, "%s.copy", r.src) < 0)
        r.dl = NULL;
    else if (!r.copy)
        r.dl = strdup(r.src);
    r.staging = r.dl ? ferry_path_join(d->state_dir, "restore-XXXXXX") : NULL;
    if (!r.staging || !mkdtemp(r.staging)) {
        free(r.staging);
        free(r.src);
        free(r.dl);
        return emu_dl_finish(c, MB2_E_GENERIC, "the device cannot create a staging folder", NULL);
    }
    int rc = r.copy ? copy_manifests(&r) : 0;
    if (!rc)
        rc = download_manifests(&r);
    if (!rc)
        rc = restore_staged(&r, req);
    if (!rc && r.copy && (rc = remove_copy(&r)) == 0 && c->srv->verbose)
        ferry_log(FERRY_LOG_INFO, "mobilebackup2 %s: the host copied %llu file(s) to %s first; copy removed", d->udid,
                  (unsigned long long)r.copied, r.dl);
    if (!rc)
        rc = emu_dl_finish(c, r.code, r.code ? r.msg : NULL, NULL);
    dev_rmtree(r.staging);
    dev_restore_job_clear(&r.job);
    free(r.staging);
    free(r.cur);
    free(r.src);
    free(r.dl);
    if (!rc && r.code == 0) {
        /* the device reboots once the host lets go of it (emu_device_reboot), and checks in as it boots;
         * with --no-reboot it checks in at once */
        if (reboot)
            atomic_store(&d->reboot_pending, 1);
        else
            mb2_after_restore(d);
    }
    return rc;
}
