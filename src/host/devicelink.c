/*
 * devicelink.c: the host side of the DeviceLink loop of mobilebackup2 (spec/device-protocol.md §10.5):
 * it waits for the device's next DL message, dispatches it (file transfers in devicelink_files.c,
 * directory operations in devicelink_fsop.c), answers with exactly one DLMessageStatusResponse where
 * the protocol wants one, and ends on DLMessageProcessMessage (the device's verdict) or
 * DLMessageDisconnect (never a success). Invariants: every wait on the device is bounded by the
 * deadline (see host_internal.h) and checks the cancel flag; every path the device names is confined
 * to the root (host_dl_path); in read-only mode nothing under the root is changed; outside bytes are
 * checked for type and arity before use, and an unknown message ends the loop as a protocol error
 * instead of a guess.
 */
#include "host_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

int host_timeout_ms(const ferry_host_opts_t *opts)
{
    return opts && opts->timeout_ms > 0 ? opts->timeout_ms : HOST_DEFAULT_TIMEOUT_MS;
}

int host_check_cancel(const ferry_host_opts_t *opts, const char *udid, const char *step)
{
    if (opts && opts->cancel && *opts->cancel)
        return ferry_error_set(FERRY_ECANCELED, "device %s: canceled while %s", udid, step);
    return 0;
}

int host_dl_errno_code(int err)
{
    if (err == ENOENT)
        return -6;
    if (err == EEXIST)
        return -7;
    return err > 0 ? -err : -1;
}

int host_dl_recv_exact(host_dl_t *dl, void *buf, size_t len, const char *step)
{
    return host_wire_recv(dl->wire, buf, len, step);
}

int host_dl_send_raw(host_dl_t *dl, const void *buf, size_t len, const char *step)
{
    return host_wire_send(dl->wire, buf, len, step);
}

int host_dl_status(host_dl_t *dl, int64_t code, const char *msg, plist_t content)
{
    return host_wire_status(dl->wire, code, msg, content);
}

/* Refuses every component that is a symbolic link, so that nothing resolves outside the root. */
static int no_symlinks(const char *root, const char *rel, const char *udid)
{
    size_t rl = strlen(root), n = strlen(rel);
    char *p = malloc(rl + 1 + n + 1);
    if (!p)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    memcpy(p, root, rl);
    p[rl] = '/';
    for (size_t i = 0; i <= n; i++) {
        if (i < n && rel[i] != '/')
            continue;
        memcpy(p + rl + 1, rel, i);
        p[rl + 1 + i] = '\0';
        struct stat st;
        if (lstat(p, &st) != 0)
            break; /* the rest does not exist yet */
        if (S_ISLNK(st.st_mode)) {
            free(p);
            return ferry_error_set(FERRY_EUNSAFE, "device %s named '%s', which goes through a symbolic link: "
                                   "refused (the backup folder must hold no links)", udid, rel);
        }
    }
    free(p);
    return 0;
}

int host_dl_path(host_dl_t *dl, const char *rel, char **out)
{
    *out = NULL;
    if (!dl->root)
        return ferry_error_set(FERRY_EINVAL, "device %s asked for a file where no backup folder is in use", dl->udid);
    size_t n = strlen(rel);
    if (n == 0 || n > 4096 || ferry_path_check_relative(rel, n))
        return ferry_error_set(FERRY_EUNSAFE, "device %s named an unsafe path '%.200s' (absolute, empty, with "
                               "'..' or too long): refused", dl->udid, rel);
    int rc = no_symlinks(dl->root, rel, dl->udid);
    if (rc)
        return rc;
    *out = ferry_path_join(dl->root, rel);
    return *out ? 0 : ferry_error_set(FERRY_ENOMEM, "out of memory");
}

void host_dl_progress(host_dl_t *dl, const char *file)
{
    if (!dl->opts || !dl->opts->progress)
        return;
    ferry_host_progress_t p = {
        .udid = dl->udid,
        .stage = dl->stage,
        .files_done = dl->res->files,
        .bytes_done = dl->res->bytes,
        .bytes_total = dl->bytes_total,
        .percent = dl->percent,
        .file = file,
    };
    dl->opts->progress(&p, dl->opts->progress_ctx);
}

static int free_space(host_dl_t *dl)
{
    struct statvfs sv;
    if (!dl->root || statvfs(dl->root, &sv) != 0)
        return host_dl_status(dl, -1, NULL, NULL);
    /* Keep the reserve back, so that the device stops (MBErrorDomain 105-like) before the disk fills. */
    uint64_t avail = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
    plist_t n = plist_new_uint(avail > dl->reserve ? avail - dl->reserve : 0);
    int rc = host_dl_status(dl, 0, NULL, n);
    plist_free(n);
    return rc;
}

/* The device's verdict: ErrorCode 0 is success; anything else (or no integer) is its error. */
static int process_message(host_dl_t *dl, plist_t msg)
{
    plist_t d = plist_array_get_size(msg) >= 2 ? plist_array_get_item(msg, 1) : NULL;
    if (!d || plist_get_node_type(d) != PLIST_DICT)
        return ferry_error_set(FERRY_EFORMAT, "device %s ended with a DLMessageProcessMessage without a dict",
                               dl->udid);
    int64_t code = -1;
    if (ferry_plist_get_int(d, "ErrorCode", &code)) {
        ferry_error_clear();
        code = -1;
    }
    char *desc = NULL;
    if (ferry_plist_get_string(d, "ErrorDescription", &desc))
        ferry_error_clear();
    free(dl->content);
    dl->content = NULL;
    if (ferry_plist_get_string(d, "Content", &dl->content))
        ferry_error_clear();
    snprintf(dl->res->device_message, sizeof dl->res->device_message, "%s", desc ? desc : "");
    free(desc);
    dl->res->device_error = code == 0 ? 0 : (code > 0 && code < 1000000 ? (int)code : 1);
    if (code == 0)
        return 0;
    int fc = code == 207 ? FERRY_EPASSWORD : code == 105 ? FERRY_ENOSPC : FERRY_EDEVICE;
    if (!dl->res->device_message[0])
        return ferry_error_set(fc, "device %s: MBErrorDomain %d: %s", dl->udid, dl->res->device_error,
                               ferry_host_mberror_message(dl->res->device_error));
    return ferry_error_set(fc, "device %s: MBErrorDomain %d: %s (the device says: %s)", dl->udid,
                           dl->res->device_error, ferry_host_mberror_message(dl->res->device_error),
                           dl->res->device_message);
}

/* One message; *done set when it ended the loop. */
static int dispatch(host_dl_t *dl, const char *name, plist_t msg, int *done)
{
    if (!strcmp(name, "DLMessageUploadFiles"))
        return host_dl_upload(dl, msg);
    if (!strcmp(name, "DLMessageDownloadFiles"))
        return host_dl_download(dl, msg);
    if (!strcmp(name, "DLMessageGetFreeDiskSpace"))
        return free_space(dl);
    if (!strcmp(name, "DLMessageProcessMessage")) {
        *done = 1;
        return process_message(dl, msg);
    }
    if (!strcmp(name, "DLMessageDisconnect")) {
        *done = 1;
        return ferry_error_set(FERRY_EDEVICE, "device %s disconnected before it finished (no result): run again",
                               dl->udid);
    }
    if (!strcmp(name, "DLMessagePurgeDiskSpace")) {
        *done = 1;
        host_dl_status(dl, -1, "not enough disk space", NULL);
        return ferry_error_set(FERRY_ENOSPC, "device %s: not enough free space on the host for the backup: free "
                               "space in the repository's file system and run again", dl->udid);
    }
    int handled = 0;
    int rc = host_dl_fsop(dl, name, msg, &handled);
    if (handled)
        return rc;
    *done = 1;
    return ferry_error_set(FERRY_EFORMAT, "device %s sent an unknown DeviceLink message %.64s: stopped", dl->udid,
                           name);
}

int host_dl_run(host_dl_t *dl)
{
    dl->percent = -1;
    int done = 0, rc = 0;
    while (!done && !rc) {
        plist_t msg = NULL;
        char *name = NULL;
        rc = host_wire_recv_dl(dl->wire, &msg, &name, "waiting for the device's next message");
        if (!rc)
            rc = dispatch(dl, name, msg, &done);
        plist_free(msg);
        free(name);
        if (!rc && !done)
            host_dl_progress(dl, NULL);
    }
    return rc;
}
