/*
 * devicelink_files.c: the two raw file streams of DeviceLink (spec/device-protocol.md §10.6):
 * DLMessageUploadFiles (device -> host: a backup's blobs and manifests) and DLMessageDownloadFiles
 * (host -> device: the previous Status.plist, or a whole backup during a restore).
 * Invariants: an uploaded file is written to a new temporary file (O_EXCL) next to its destination and
 * renamed over it only once complete, so an existing file, which may be a hard link shared with an
 * older snapshot, is never opened for writing and a half-received file never has its final name;
 * every length from the device is bounded before use; a path outside the root, a write in read-only
 * mode or a local write failure stops the transfer (the caller drops the staging folder) rather than
 * leaving a backup that silently lacks a file. Files sent to the device are opened with O_NOFOLLOW.
 */
#include "host_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DL_MAX_PATH 4096
#define DL_CHUNK 32768
#define DL_BUF (256 * 1024)
#define DL_MAX_ERRTEXT 65536

enum { CODE_SUCCESS = 0x00, CODE_ERROR_LOCAL = 0x06, CODE_ERROR_REMOTE = 0x0B, CODE_FILE_DATA = 0x0C };

static int recv_u32(host_dl_t *dl, uint32_t *v, const char *step)
{
    uint8_t b[4];
    int rc = host_dl_recv_exact(dl, b, 4, step);
    *v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    return rc;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Receives a u32BE-length string of at most DL_MAX_PATH bytes; *s malloc'd; *s NULL at the end marker. */
static int recv_name(host_dl_t *dl, char **s, const char *step)
{
    uint32_t n;
    *s = NULL;
    int rc = recv_u32(dl, &n, step);
    if (rc || n == 0)
        return rc;
    if (n > DL_MAX_PATH)
        return ferry_error_set(FERRY_EFORMAT, "device %s sent a file name of %u bytes (at most %d): stopped",
                               dl->udid, n, DL_MAX_PATH);
    char *b = malloc(n + 1);
    if (!b)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    if ((rc = host_dl_recv_exact(dl, b, n, step))) {
        free(b);
        return rc;
    }
    b[n] = '\0';
    if (strlen(b) != n) {
        free(b);
        return ferry_error_set(FERRY_EUNSAFE, "device %s sent a file name with a NUL byte: refused", dl->udid);
    }
    *s = b;
    return 0;
}

/* Discards n bytes of the stream. */
static int skip(host_dl_t *dl, uint8_t *buf, uint64_t n, const char *step)
{
    while (n > 0) {
        size_t k = n > DL_BUF ? DL_BUF : (size_t)n;
        int rc = host_dl_recv_exact(dl, buf, k, step);
        if (rc)
            return rc;
        n -= k;
    }
    return 0;
}

/* A new temporary file next to dest (its folder made when missing). */
static int open_temp(const char *dest, char **tmp, int *fd)
{
    const char *slash = strrchr(dest, '/');
    size_t dl = slash ? (size_t)(slash - dest) : 0;
    char *t = malloc(dl + 32);
    if (!t)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    memcpy(t, dest, dl);
    t[dl] = '\0';
    int rc = dl ? ferry_mkdir_p(t, 0700) : 0;
    if (rc) {
        free(t);
        return rc;
    }
    strcpy(t + dl, "/.ferry-upload-XXXXXX");
    *fd = mkostemp(t, O_CLOEXEC);
    if (*fd < 0) {
        rc = ferry_error_errno("cannot create a file next to %s", dest);
        free(t);
        return rc;
    }
    *tmp = t;
    return 0;
}

/* Receives one file's blocks into rel. *end is set when the device ended the whole transfer. */
static int receive_file(host_dl_t *dl, const char *rel, uint8_t *buf, int *end)
{
    if (dl->read_only)
        return ferry_error_set(FERRY_EUNSAFE, "device %s tried to write %.200s during a restore: the backup is "
                               "read-only; stopped", dl->udid, rel);
    char *dest = NULL, *tmp = NULL;
    int fd = -1;
    int rc = host_dl_path(dl, rel, &dest);
    if (!rc)
        rc = open_temp(dest, &tmp, &fd);
    const char *step = "receiving a file of the backup";
    while (!rc) {
        uint32_t blen;
        uint8_t code;
        if ((rc = recv_u32(dl, &blen, step)))
            break;
        if (blen == 0) {
            *end = 1;
            break;
        }
        if ((rc = host_dl_recv_exact(dl, &code, 1, step)))
            break;
        uint64_t n = blen - 1;
        if (code == CODE_FILE_DATA) {
            while (!rc && n > 0) {
                size_t k = n > DL_BUF ? DL_BUF : (size_t)n;
                rc = host_dl_recv_exact(dl, buf, k, step);
                if (!rc)
                    rc = ferry_write_full(fd, buf, k, tmp);
                n -= k;
                dl->res->bytes += k;
            }
        } else if (code == CODE_SUCCESS) {
            if ((rc = skip(dl, buf, n, step)))
                break;
            if (close(fd) != 0) {
                fd = -1;
                rc = ferry_error_errno("cannot write %s", dest);
                break;
            }
            fd = -1;
            if (rename(tmp, dest) != 0) {
                rc = ferry_error_errno("cannot rename %s to %s", tmp, dest);
                break;
            }
            free(tmp);
            tmp = NULL;
            dl->res->files++;
            host_dl_progress(dl, rel);
            break;
        } else if (code == CODE_ERROR_REMOTE || code == CODE_ERROR_LOCAL) {
            size_t k = n > DL_MAX_ERRTEXT ? DL_MAX_ERRTEXT : (size_t)n;
            if ((rc = host_dl_recv_exact(dl, buf, k, step)) || (rc = skip(dl, buf, n - k, step)))
                break;
            ferry_log(FERRY_LOG_WARN, "device %s could not send %s: %.*s", dl->udid, rel, (int)(k > 200 ? 200 : k),
                      (const char *)buf);
            break;
        } else {
            rc = ferry_error_set(FERRY_EFORMAT, "device %s sent an unknown block code 0x%02x for %.200s: stopped",
                                 dl->udid, code, rel);
        }
    }
    if (fd >= 0)
        close(fd);
    if (tmp)
        unlink(tmp);
    free(tmp);
    free(dest);
    return rc;
}

int host_dl_upload(host_dl_t *dl, plist_t msg)
{
    /* With fewer than 4 items libimobiledevice ignores the message and both sides wait forever. */
    if (plist_array_get_size(msg) < 4)
        return ferry_error_set(FERRY_EFORMAT, "device %s sent a DLMessageUploadFiles with %u items (4 needed)",
                               dl->udid, plist_array_get_size(msg));
    plist_t pr = plist_array_get_item(msg, 2), tot = plist_array_get_item(msg, 3);
    if (plist_get_node_type(pr) == PLIST_REAL)
        plist_get_real_val(pr, &dl->percent);
    if (plist_get_node_type(tot) == PLIST_UINT) {
        uint64_t t = 0;
        plist_get_uint_val(tot, &t);
        dl->bytes_total = t;
    }
    uint8_t *buf = malloc(DL_BUF);
    if (!buf)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    int rc = 0, end = 0;
    while (!rc && !end) {
        char *devpath = NULL, *rel = NULL;
        rc = recv_name(dl, &devpath, "receiving a file name");
        if (!rc && devpath)
            rc = recv_name(dl, &rel, "receiving a file name");
        if (!rc && rel)
            rc = receive_file(dl, rel, buf, &end);
        else
            end = 1;
        free(devpath);
        free(rel);
    }
    free(buf);
    return rc ? rc : host_dl_status(dl, 0, NULL, NULL);
}

/* ---- host -> device ------------------------------------------------------------------------------ */

static int send_block(host_dl_t *dl, uint8_t code, const void *data, size_t n, uint8_t *frame)
{
    put_u32(frame, (uint32_t)n + 1);
    frame[4] = code;
    if (n)
        memcpy(frame + 5, data, n);
    return host_dl_send_raw(dl, frame, n + 5, "sending a file to the device");
}

static void add_error(plist_t errs, const char *path, int err)
{
    plist_t e = plist_new_dict();
    plist_dict_set_item(e, "DLFileErrorCode", plist_new_uint((uint64_t)(int64_t)host_dl_errno_code(err)));
    plist_dict_set_item(e, "DLFileErrorString", plist_new_string(strerror(err)));
    plist_dict_set_item(errs, path, e);
}

/* Sends one file's blocks; a local failure is an error block plus an entry in errs (not fatal). */
static int send_file(host_dl_t *dl, const char *rel, plist_t errs, uint8_t *frame)
{
    char *abs = NULL;
    int err = 0;
    if (host_dl_path(dl, rel, &abs)) {
        ferry_log(FERRY_LOG_WARN, "%s", ferry_error_last());
        ferry_error_clear();
        err = EACCES;
    }
    int fd = abs ? open(abs, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
    struct stat st;
    if (!err && fd < 0)
        err = errno;
    else if (!err && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)))
        err = EISDIR;
    int rc = 0;
    while (!err && !rc) {
        ssize_t r = read(fd, frame + 5, DL_CHUNK);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            err = errno;
        else if (r == 0)
            break;
        else {
            put_u32(frame, (uint32_t)r + 1);
            frame[4] = CODE_FILE_DATA;
            rc = host_dl_send_raw(dl, frame, (size_t)r + 5, "sending a file to the device");
            if (dl->read_only) /* a restore's payload; during a backup only protocol state */
                dl->res->bytes += (uint64_t)r;
        }
    }
    if (fd >= 0)
        close(fd);
    free(abs);
    if (rc)
        return rc;
    if (err) {
        const char *t = strerror(err);
        add_error(errs, rel, err);
        return send_block(dl, CODE_ERROR_LOCAL, t, strlen(t), frame);
    }
    if (dl->read_only) {
        dl->res->files++;
        host_dl_progress(dl, rel);
    }
    return send_block(dl, CODE_SUCCESS, NULL, 0, frame);
}

int host_dl_download(host_dl_t *dl, plist_t msg)
{
    plist_t paths = plist_array_get_size(msg) >= 2 ? plist_array_get_item(msg, 1) : NULL;
    if (!paths || plist_get_node_type(paths) != PLIST_ARRAY)
        return ferry_error_set(FERRY_EFORMAT, "device %s sent a DLMessageDownloadFiles without a list of paths",
                               dl->udid);
    plist_t pr = plist_array_get_size(msg) >= 4 ? plist_array_get_item(msg, 3) : NULL;
    if (pr && plist_get_node_type(pr) == PLIST_REAL)
        plist_get_real_val(pr, &dl->percent);
    uint8_t *frame = malloc(DL_CHUNK + 5 > DL_MAX_PATH + 4 ? DL_CHUNK + 5 : DL_MAX_PATH + 4);
    plist_t errs = plist_new_dict();
    if (!frame) {
        plist_free(errs);
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    int rc = 0;
    uint32_t n = plist_array_get_size(paths);
    for (uint32_t i = 0; !rc && i < n; i++) {
        char *rel = ferry_plist_string_dup(plist_array_get_item(paths, i));
        size_t len = rel ? strlen(rel) : 0;
        if (!rel || len == 0 || len > DL_MAX_PATH) {
            free(rel);
            rc = ferry_error_set(FERRY_EFORMAT, "device %s asked for a file with a bad name", dl->udid);
            break;
        }
        put_u32(frame, (uint32_t)len);
        memcpy(frame + 4, rel, len);
        rc = host_dl_send_raw(dl, frame, len + 4, "sending a file name");
        if (!rc)
            rc = send_file(dl, rel, errs, frame);
        free(rel);
    }
    if (!rc) {
        put_u32(frame, 0);
        rc = host_dl_send_raw(dl, frame, 4, "ending a file transfer");
    }
    free(frame);
    if (!rc) {
        if (plist_dict_get_size(errs) == 0)
            rc = host_dl_status(dl, 0, NULL, errs);
        else
            rc = host_dl_status(dl, -13, "Multi status", errs);
    }
    plist_free(errs);
    return rc;
}
