/*
 * file_reader.c: streaming the plaintext of one regular file of a backup (backup-format.md §6.6,
 * §15.2): plaintext blobs are passed through, encrypted ones are decrypted chunk by chunk with the
 * file's own key and checked for PKCS#7 padding at the end, and the length is compared with
 * MBFile.Size. Invariants: memory stays bounded (two buffers of READ_CHUNK per reader, whatever the
 * file size); a blob is opened only through a validated record, without following a symbolic link in
 * the bucket directory or the blob itself, and only when it is a regular file; the file key is wiped
 * as soon as the cipher holds it; an error, once hit, is returned by every later read.
 */
#include "ferry/backup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_CHUNK (256u * 1024u)

struct ferry_file_reader {
    int fd;              /* -1: no blob, reads as empty */
    ferry_cbc_t *cbc;    /* NULL: plaintext */
    int strict;
    char *name;          /* "domain/relativePath (fileID ...)" for messages */
    char *path;          /* the blob path */
    int64_t expected;    /* MBFile.Size */
    uint64_t produced;   /* plaintext bytes handed out so far */
    uint8_t *in, *out;   /* encrypted only */
    size_t out_pos, out_len;
    int at_eof;          /* the source is exhausted and its last block flushed */
    int done;            /* the size check ran: every later read returns 0 */
    int err;             /* sticky error code and its message */
    char errmsg[512];
};

/* Remembers an error so that a caller retrying read() keeps getting it. */
static ssize_t fail(ferry_file_reader_t *r, int code)
{
    r->err = code;
    snprintf(r->errmsg, sizeof r->errmsg, "%s", ferry_error_last());
    return code;
}

/* Opens <dir>/<xx>/<fileID> step by step so that neither the bucket directory nor the blob may be a
 * symbolic link. Returns the fd, FERRY_ENOTFOUND (no message) when the blob does not exist, or an
 * error. */
static int open_blob(const char *dir, const char *fileid, const char *path, const char *name)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return ferry_error_errno("cannot open backup folder %s", dir);
    char bucket[3] = {fileid[0], fileid[1], '\0'};
    int bfd = openat(dfd, bucket, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int saved = errno;
    close(dfd);
    if (bfd < 0) {
        errno = saved;
        if (errno == ENOENT)
            return FERRY_ENOTFOUND;
        if (errno == ELOOP || errno == ENOTDIR)
            return ferry_error_set(FERRY_EUNSAFE, "bucket folder %s/%s of %s is a symbolic link or not a folder: "
                                   "refused", dir, bucket, name);
        return ferry_error_errno("cannot open bucket folder %s/%s", dir, bucket);
    }
    int fd = openat(bfd, fileid, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    saved = errno;
    close(bfd);
    if (fd < 0) {
        errno = saved;
        if (errno == ENOENT)
            return FERRY_ENOTFOUND;
        if (errno == ELOOP)
            return ferry_error_set(FERRY_EUNSAFE, "blob %s of %s is a symbolic link: refused", path, name);
        return ferry_error_errno("cannot open blob %s of %s", path, name);
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int code = ferry_error_errno("cannot stat blob %s", path);
        close(fd);
        return code;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return ferry_error_set(FERRY_EUNSAFE, "blob %s of %s is not a regular file: refused", path, name);
    }
    return fd;
}

/* The file key: the class comes from ProtectionClass when the record has one (as Apple's own readers
 * do), else from the EncryptionKey prefix (pyiosbackup's synthetic backup has no ProtectionClass). */
static int setup_cipher(ferry_backup_t *b, const ferry_record_t *rec, ferry_file_reader_t *r)
{
    const ferry_mbfile_t *mb = &rec->mb;
    if (!mb->has_encryption_key)
        return ferry_error_set(FERRY_EFORMAT, "%s has no EncryptionKey although the backup is encrypted", r->name);
    uint8_t wrapped[FERRY_PREFIXED_KEY_LEN];
    memcpy(wrapped, mb->encryption_key, sizeof wrapped);
    if (mb->has_protection_class) {
        uint32_t pc = (uint32_t)mb->protection_class;
        wrapped[0] = (uint8_t)pc;
        wrapped[1] = (uint8_t)(pc >> 8);
        wrapped[2] = (uint8_t)(pc >> 16);
        wrapped[3] = (uint8_t)(pc >> 24);
    }
    uint8_t key[FERRY_KEY_LEN];
    uint32_t clas = 0;
    int rc = ferry_keybag_unwrap_prefixed(ferry_backup_keybag(b), wrapped, key, &clas);
    if (rc == 0)
        rc = ferry_cbc_new(key, 0, 1, &r->cbc);
    ferry_wipe(key, sizeof key);
    ferry_wipe(wrapped, sizeof wrapped);
    if (rc != 0)
        /* The keybag is unlocked, so an unwrap failure is a damaged key, not a wrong password. */
        return ferry_error_wrap(rc == FERRY_EPASSWORD ? FERRY_EINTEGRITY : rc,
                                "cannot unwrap the file key of %s (protection class %u)", r->name, (unsigned)clas);
    r->in = malloc(READ_CHUNK);
    r->out = malloc(READ_CHUNK + 32);
    if (!r->in || !r->out)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    return 0;
}

static int check_cipher_length(ferry_file_reader_t *r)
{
    struct stat st;
    if (fstat(r->fd, &st) != 0)
        return ferry_error_errno("cannot stat blob %s", r->path);
    if (st.st_size == 0 || st.st_size % 16 != 0)
        return ferry_error_set(FERRY_EINTEGRITY,
                               "truncated blob %s of %s: %lld bytes is not a positive multiple of 16 (MBFile Size "
                               "%lld)", r->path, r->name, (long long)st.st_size, (long long)r->expected);
    return 0;
}

/* A missing blob is an empty file when Size is 0 (§2); otherwise there is no content to give. */
static int missing_blob(ferry_file_reader_t *r)
{
    if (r->expected == 0)
        return 0;
    int code = ferry_error_set(r->strict ? FERRY_EINTEGRITY : FERRY_ENOTFOUND,
                               "missing blob for %s: MBFile Size is %lld bytes but %s does not exist", r->name,
                               (long long)r->expected, r->path);
    if (!r->strict)
        ferry_log(FERRY_LOG_WARN, "%s", ferry_error_last());
    return code;
}

int ferry_backup_file_open(ferry_backup_t *b, const ferry_record_t *rec, int strict, ferry_file_reader_t **out)
{
    *out = NULL;
    if (rec->flags != FERRY_FLAG_FILE)
        return ferry_error_set(FERRY_EINVAL, "%s/%s is not a regular file", rec->domain ? rec->domain : "?",
                               rec->relative_path ? rec->relative_path : "?");
    ferry_file_reader_t *r = calloc(1, sizeof *r);
    if (!r)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    r->fd = -1;
    r->strict = strict;
    r->expected = rec->mb.size;
    int rc;
    if (!(r->path = ferry_backup_blob_path(b, rec))) {
        rc = ferry_error_code();
        goto fail;
    }
    if (asprintf(&r->name, "%s/%s (fileID %s)", rec->domain, rec->relative_path, rec->fileid) < 0) {
        r->name = NULL;
        rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
        goto fail;
    }
    rc = open_blob(ferry_backup_dir(b), rec->fileid, r->path, r->name);
    if (rc == FERRY_ENOTFOUND) {
        if ((rc = missing_blob(r)) != 0)
            goto fail;
        *out = r;
        return 0;
    }
    if (rc < 0)
        goto fail;
    r->fd = rc;
    if (ferry_backup_is_encrypted(b) &&
        ((rc = check_cipher_length(r)) != 0 || (rc = setup_cipher(b, rec, r)) != 0))
        goto fail;
    *out = r;
    return 0;
fail:
    ferry_file_reader_close(r);
    return rc;
}

/* At the end: the length must be MBFile.Size (a file can change during a device backup, so lenient
 * readers only warn, but never silently). */
static int check_size(ferry_file_reader_t *r)
{
    if ((int64_t)r->produced == r->expected)
        return 0;
    int code = ferry_error_set(FERRY_EINTEGRITY, "size mismatch for %s: MBFile Size is %lld bytes, the blob holds %llu",
                               r->name, (long long)r->expected, (unsigned long long)r->produced);
    if (r->strict)
        return code;
    ferry_log(FERRY_LOG_WARN, "%s", ferry_error_last());
    ferry_error_clear();
    return 0;
}

/* Decrypts the next chunk into r->out. */
static int refill(ferry_file_reader_t *r)
{
    ssize_t n = ferry_read_full(r->fd, r->in, READ_CHUNK, r->path);
    if (n < 0)
        return (int)n;
    size_t ol = 0;
    int rc;
    if (n == 0) {
        r->at_eof = 1;
        rc = ferry_cbc_final(r->cbc, r->out, &ol);
        if (rc != 0)
            return ferry_error_wrap(rc, "cannot decrypt %s (blob %s)", r->name, r->path);
    } else if ((rc = ferry_cbc_update(r->cbc, r->in, (size_t)n, r->out, &ol)) != 0) {
        return ferry_error_wrap(rc, "cannot decrypt %s (blob %s)", r->name, r->path);
    }
    r->out_pos = 0;
    r->out_len = ol;
    r->produced += ol;
    return 0;
}

ssize_t ferry_file_reader_read(ferry_file_reader_t *r, void *buf, size_t len)
{
    if (r->err)
        return ferry_error_set(r->err, "%s", r->errmsg);
    if (len == 0)
        return 0;
    for (;;) {
        if (r->out_pos < r->out_len) {
            size_t n = r->out_len - r->out_pos < len ? r->out_len - r->out_pos : len;
            memcpy(buf, r->out + r->out_pos, n);
            r->out_pos += n;
            return (ssize_t)n;
        }
        if (r->done)
            return 0;
        if (r->at_eof || r->fd < 0) {
            r->done = 1;
            int rc = check_size(r);
            return rc ? fail(r, rc) : 0;
        }
        if (r->cbc) {
            int rc = refill(r);
            if (rc != 0)
                return fail(r, rc);
            continue;
        }
        ssize_t n = ferry_read_full(r->fd, buf, len < READ_CHUNK ? len : READ_CHUNK, r->path);
        if (n < 0)
            return fail(r, (int)n);
        if (n == 0) {
            r->at_eof = 1;
            continue;
        }
        r->produced += (uint64_t)n;
        return n;
    }
}

void ferry_file_reader_close(ferry_file_reader_t *r)
{
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    ferry_cbc_free(r->cbc);
    free(r->in);
    free(r->out);
    free(r->name);
    free(r->path);
    free(r);
}
