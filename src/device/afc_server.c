/*
 * afc_server.c: com.apple.afc on the emulated device (§9): the operations idevicebackup2 uses (sync
 * lock file, file info, open/read/write/close, lock, make dir, remove) plus READ_DIR, GET_DEVINFO,
 * SEEK and TELL, over the device's media root (<state>/<udid>/media). Invariants: every path is
 * confined to that root (no "..", never following a symlink); every reply carries the request's
 * packet number and is written header, header-data and payload in one buffer (the client reads the
 * header and header-data with one recv each); STATUS replies always carry their 8-byte code; a
 * malformed packet ends the connection.
 */
#include "serve_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define AFC_MAGIC "CFA6LPAA"
#define AFC_HDR 40
#define AFC_MAX_HEADER_DATA (64u * 1024)
#define AFC_MAX_PAYLOAD (16u * 1024 * 1024)
#define AFC_MAX_READ (4u * 1024 * 1024)
#define AFC_MAX_HANDLES 64

enum {
    OP_STATUS = 0x01, OP_DATA = 0x02, OP_READ_DIR = 0x03, OP_REMOVE_PATH = 0x08, OP_MAKE_DIR = 0x09,
    OP_GET_FILE_INFO = 0x0A, OP_GET_DEVINFO = 0x0B, OP_FILE_OPEN = 0x0D, OP_FILE_OPEN_RES = 0x0E,
    OP_FILE_READ = 0x0F, OP_FILE_WRITE = 0x10, OP_FILE_SEEK = 0x11, OP_FILE_TELL = 0x12,
    OP_FILE_TELL_RES = 0x13, OP_FILE_CLOSE = 0x14, OP_FILE_LOCK = 0x1B,
};
enum {
    E_SUCCESS = 0, E_UNKNOWN = 1, E_READ = 4, E_WRITE = 5, E_INVALID_ARG = 7, E_NOT_FOUND = 8,
    E_IS_DIR = 9, E_PERM = 10, E_NOT_SUPPORTED = 15, E_EXISTS = 16, E_NO_SPACE = 18, E_WOULD_BLOCK = 19,
    E_IO = 20,
};

typedef struct {
    emu_conn_t *c;
    int fds[AFC_MAX_HANDLES]; /* handle h is fds[h - 1]; -1 when free */
    uint64_t num;             /* packet number of the request being answered */
} afc_t;

static uint64_t le64(const uint8_t *b)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | b[i];
    return v;
}

static void put_le64(uint8_t *b, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

static int afc_send(afc_t *a, uint64_t op, const void *hdata, size_t hlen, const void *payload, size_t plen)
{
    size_t total = AFC_HDR + hlen + plen;
    uint8_t *buf = malloc(total);
    if (!buf)
        return ferry_error_set(FERRY_ENOMEM, "afc: out of memory");
    memcpy(buf, AFC_MAGIC, 8);
    put_le64(buf + 8, total);
    put_le64(buf + 16, AFC_HDR + hlen);
    put_le64(buf + 24, a->num);
    put_le64(buf + 32, op);
    if (hlen)
        memcpy(buf + AFC_HDR, hdata, hlen);
    if (plen)
        memcpy(buf + AFC_HDR + hlen, payload, plen);
    int rc = emu_write(a->c, buf, total);
    free(buf);
    return rc;
}

static int send_status(afc_t *a, uint64_t code)
{
    uint8_t b[8];
    put_le64(b, code);
    return afc_send(a, OP_STATUS, b, 8, NULL, 0);
}

static uint64_t errno_status(int e)
{
    switch (e) {
    case ENOENT: return E_NOT_FOUND;
    case EISDIR: return E_IS_DIR;
    case EACCES: case EPERM: case ELOOP: return E_PERM;
    case EEXIST: return E_EXISTS;
    case ENOTEMPTY: return E_UNKNOWN; /* the client maps 1 on REMOVE_PATH to DIR_NOT_EMPTY */
    case ENOSPC: return E_NO_SPACE;
    case EWOULDBLOCK: return E_WOULD_BLOCK;
    case EINVAL: return E_INVALID_ARG;
    default: return E_IO;
    }
}

/* Maps an AFC path (absolute within the media root) to a host path; NULL when it would escape. */
static char *afc_path(afc_t *a, const uint8_t *p, size_t len)
{
    const uint8_t *nul = memchr(p, '\0', len);
    size_t n = nul ? (size_t)(nul - p) : len;
    char *out = malloc(strlen(a->c->dev->afc_root) + n + 2);
    if (!out)
        return NULL;
    strcpy(out, a->c->dev->afc_root);
    size_t o = strlen(out), i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && p[j] != '/')
            j++;
        size_t clen = j - i;
        if (clen == 2 && p[i] == '.' && p[i + 1] == '.') {
            free(out);
            return NULL;
        }
        if (clen && !(clen == 1 && p[i] == '.')) {
            out[o++] = '/';
            memcpy(out + o, p + i, clen);
            o += clen;
        }
        i = j + 1;
    }
    out[o] = '\0';
    return out;
}

static int file_info(afc_t *a, const char *path)
{
    struct stat st;
    if (lstat(path, &st))
        return send_status(a, errno_status(errno));
    char buf[512];
    uint64_t mt = (uint64_t)st.st_mtim.tv_sec * 1000000000ULL + (uint64_t)st.st_mtim.tv_nsec;
    const char *fmt = S_ISDIR(st.st_mode) ? "S_IFDIR" : S_ISLNK(st.st_mode) ? "S_IFLNK" : "S_IFREG";
    int n = snprintf(buf, sizeof buf, "st_size%c%lld%cst_blocks%c%lld%cst_nlink%c%lu%cst_ifmt%c%s%c"
                     "st_mtime%c%llu%cst_birthtime%c%llu%c", 0, (long long)st.st_size, 0, 0,
                     (long long)st.st_blocks, 0, 0, (unsigned long)st.st_nlink, 0, 0, fmt, 0, 0,
                     (unsigned long long)mt, 0, 0, (unsigned long long)mt, 0);
    return afc_send(a, OP_DATA, NULL, 0, buf, (size_t)n);
}

static int read_dir(afc_t *a, const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return send_status(a, errno_status(errno));
    size_t cap = 1024, len = 0;
    char *buf = malloc(cap);
    struct dirent *e;
    while (buf && (e = readdir(d))) {
        size_t n = strlen(e->d_name) + 1;
        if (len + n > cap) {
            char *nb = realloc(buf, (cap = (len + n) * 2));
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
        }
        memcpy(buf + len, e->d_name, n);
        len += n;
    }
    closedir(d);
    int rc = buf ? afc_send(a, OP_DATA, NULL, 0, buf, len) : send_status(a, E_IO);
    free(buf);
    return rc;
}

static int dev_info(afc_t *a)
{
    char buf[256];
    int n = snprintf(buf, sizeof buf, "Model%c%s%cFSTotalBytes%c%s%cFSFreeBytes%c%s%cFSBlockSize%c4096%c", 0,
                     a->c->dev->product_type, 0, 0, "128000000000", 0, 0, "64000000000", 0, 0, 0);
    return afc_send(a, OP_DATA, NULL, 0, buf, (size_t)n);
}

static int file_open(afc_t *a, uint64_t mode, const char *path)
{
    static const int flags[] = {0, O_RDONLY, O_RDWR | O_CREAT, O_WRONLY | O_CREAT | O_TRUNC,
                                O_RDWR | O_CREAT | O_TRUNC, O_WRONLY | O_APPEND | O_CREAT,
                                O_RDWR | O_APPEND | O_CREAT};
    if (mode < 1 || mode > 6)
        return send_status(a, E_INVALID_ARG);
    int slot = -1;
    for (int i = 0; i < AFC_MAX_HANDLES && slot < 0; i++)
        if (a->fds[i] < 0)
            slot = i;
    if (slot < 0)
        return send_status(a, 3 /* NO_RESOURCES */);
    int fd = open(path, flags[mode] | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return send_status(a, errno_status(errno));
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        close(fd);
        return send_status(a, E_IS_DIR);
    }
    a->fds[slot] = fd;
    uint8_t b[8];
    put_le64(b, (uint64_t)slot + 1);
    return afc_send(a, OP_FILE_OPEN_RES, b, 8, NULL, 0);
}

static int handle_fd(afc_t *a, uint64_t h)
{
    return h >= 1 && h <= AFC_MAX_HANDLES ? a->fds[h - 1] : -1;
}

static int file_read(afc_t *a, int fd, uint64_t len)
{
    if (len > AFC_MAX_READ)
        len = AFC_MAX_READ;
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return send_status(a, E_IO);
    ssize_t n = read(fd, buf, len);
    int rc = n < 0 ? send_status(a, E_READ) : afc_send(a, OP_DATA, NULL, 0, buf, (size_t)n);
    free(buf);
    return rc;
}

/* The operation is flock()'s: 1 shared, 2 exclusive, 8 unlock, 4 non-blocking (libimobiledevice
 * always sets 4). The device never waits: a lock held elsewhere, by another connection or by this
 * one through another handle, answers would-block and the client retries (idevicebackup2 and ferry
 * do). A blocking flock here waited forever on a lock of the same connection (fuzz finding 5). */
static int file_lock(afc_t *a, int fd, uint64_t op)
{
    int how = (op & 8) ? LOCK_UN : (op & 2) ? LOCK_EX : LOCK_SH;
    how |= LOCK_NB;
    if (flock(fd, how))
        return send_status(a, errno == EWOULDBLOCK ? E_WOULD_BLOCK : E_IO);
    return send_status(a, E_SUCCESS);
}

static int file_seek(afc_t *a, int fd, const uint8_t *hd, size_t hlen)
{
    if (hlen < 24)
        return send_status(a, E_INVALID_ARG);
    uint64_t whence = le64(hd + 8);
    int64_t off = (int64_t)le64(hd + 16);
    int w = whence == 0 ? SEEK_SET : whence == 1 ? SEEK_CUR : whence == 2 ? SEEK_END : -1;
    if (w < 0 || lseek(fd, off, w) < 0)
        return send_status(a, E_INVALID_ARG);
    return send_status(a, E_SUCCESS);
}

/* Operations on a path in the header-data (after `skip` bytes of fixed fields). */
static int path_op(afc_t *a, uint64_t op, const uint8_t *hd, size_t hlen)
{
    size_t skip = op == OP_FILE_OPEN ? 8 : 0;
    if (hlen < skip + 1)
        return send_status(a, E_INVALID_ARG);
    char *path = afc_path(a, hd + skip, hlen - skip);
    if (!path)
        return send_status(a, E_PERM);
    int rc;
    switch (op) {
    case OP_GET_FILE_INFO: rc = file_info(a, path); break;
    case OP_READ_DIR: rc = read_dir(a, path); break;
    case OP_FILE_OPEN: rc = file_open(a, le64(hd), path); break;
    case OP_MAKE_DIR: rc = send_status(a, ferry_mkdir_p(path, 0700) ? E_IO : E_SUCCESS); break;
    default: /* OP_REMOVE_PATH */
        rc = send_status(a, remove(path) ? errno_status(errno) : E_SUCCESS);
        break;
    }
    free(path);
    return rc;
}

static int handle_op(afc_t *a, uint64_t op, const uint8_t *hd, size_t hlen, const uint8_t *pl, size_t plen)
{
    int fd = hlen >= 8 ? handle_fd(a, le64(hd)) : -1;
    switch (op) {
    case OP_GET_FILE_INFO: case OP_READ_DIR: case OP_FILE_OPEN: case OP_MAKE_DIR: case OP_REMOVE_PATH:
        return path_op(a, op, hd, hlen);
    case OP_GET_DEVINFO:
        return dev_info(a);
    case OP_FILE_READ:
        return fd < 0 || hlen < 16 ? send_status(a, E_INVALID_ARG) : file_read(a, fd, le64(hd + 8));
    case OP_FILE_WRITE:
        if (fd < 0)
            return send_status(a, E_INVALID_ARG);
        return send_status(a, ferry_write_full(fd, pl, plen, "afc file") ? E_WRITE : E_SUCCESS);
    case OP_FILE_SEEK:
        return fd < 0 ? send_status(a, E_INVALID_ARG) : file_seek(a, fd, hd, hlen);
    case OP_FILE_TELL: {
        off_t pos = fd < 0 ? -1 : lseek(fd, 0, SEEK_CUR);
        if (pos < 0)
            return send_status(a, E_INVALID_ARG);
        uint8_t b[8];
        put_le64(b, (uint64_t)pos);
        return afc_send(a, OP_FILE_TELL_RES, b, 8, NULL, 0);
    }
    case OP_FILE_LOCK:
        return fd < 0 || hlen < 16 ? send_status(a, E_INVALID_ARG) : file_lock(a, fd, le64(hd + 8));
    case OP_FILE_CLOSE:
        if (fd < 0)
            return send_status(a, E_INVALID_ARG);
        close(fd);
        a->fds[le64(hd) - 1] = -1;
        return send_status(a, E_SUCCESS);
    default:
        return send_status(a, E_NOT_SUPPORTED);
    }
}

/* One packet; non-zero ends the connection (end of stream or a malformed header). */
static int afc_packet(afc_t *a)
{
    uint8_t h[AFC_HDR];
    if (emu_read(a->c, h, sizeof h))
        return -1;
    uint64_t entire = le64(h + 8), this_len = le64(h + 16);
    if (memcmp(h, AFC_MAGIC, 8) || this_len < AFC_HDR || entire < this_len ||
        this_len - AFC_HDR > AFC_MAX_HEADER_DATA || entire - this_len > AFC_MAX_PAYLOAD)
        return ferry_error_set(FERRY_EFORMAT, "afc: malformed packet header");
    a->num = le64(h + 24);
    size_t hlen = (size_t)(this_len - AFC_HDR), plen = (size_t)(entire - this_len);
    uint8_t *buf = malloc(hlen + plen + 1);
    if (!buf)
        return ferry_error_set(FERRY_ENOMEM, "afc: out of memory");
    int rc = emu_read(a->c, buf, hlen + plen);
    if (!rc) {
        if (a->c->srv->verbose)
            ferry_log(FERRY_LOG_INFO, "afc %s: op 0x%02llx", a->c->dev->udid, (unsigned long long)le64(h + 32));
        rc = handle_op(a, le64(h + 32), buf, hlen, buf + hlen, plen);
    }
    free(buf);
    return rc;
}

void emu_afc_serve(emu_conn_t *c)
{
    afc_t a = {.c = c};
    for (int i = 0; i < AFC_MAX_HANDLES; i++)
        a.fds[i] = -1;
    while (afc_packet(&a) == 0)
        ;
    for (int i = 0; i < AFC_MAX_HANDLES; i++)
        if (a.fds[i] >= 0)
            close(a.fds[i]);
}
