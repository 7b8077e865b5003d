/*
 * writer_file.c: the streaming half of the backup writer: a regular file is begun, written in pieces
 * (encrypted on the fly with its own key when the backup is encrypted, one AES pass, at most
 * WRITER_CHUNK bytes at a time) into a temporary blob in its bucket, and at the end renamed into place
 * before its Manifest.db row is inserted, so a row never points at a half-written blob.
 */
#include "writer_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- regular files ----------------------------------------------------------------------------- */

static int file_start_crypto(ferry_writer_file_t *f)
{
    ferry_writer_t *w = f->w;
    uint8_t key[FERRY_KEY_LEN];
    int rc = 0;
    if (f->meta.file_key)
        memcpy(key, f->meta.file_key, sizeof key); /* the caller's key: the same blob as last time */
    else
        rc = ferry_random_bytes(key, sizeof key);
    if (rc == 0 && (rc = ferry_keybag_wrap_prefixed(w->kb, (uint32_t)f->pclass, key, f->ekey)) != 0)
        rc = ferry_error_wrap(rc, "cannot add %s/%s: protection class %d has no usable key in the keybag",
                              f->domain, f->relpath, (int)f->pclass);
    if (rc == 0)
        rc = ferry_cbc_new(key, 1, 1, &f->cbc);
    ferry_wipe(key, sizeof key);
    return rc;
}

int ferry_writer_file_begin(ferry_writer_t *w, const char *domain, const char *relpath, const ferry_file_meta_t *m,
                            ferry_writer_file_t **out)
{
    if (out)
        *out = NULL;
    ferry_writer_file_t *f = w ? &w->file : NULL;
    char fileid[41];
    uint8_t idbin[20];
    int rc = writer_check_entry(w, domain, relpath, 1, fileid, idbin);
    if (rc)
        return rc;
    if (!out)
        return ferry_error_set(FERRY_EINVAL, "ferry_writer_file_begin: out is NULL");
    int32_t pclass = m && m->protection_class ? m->protection_class : DEFAULT_FILE_CLASS;
    if (pclass < 0 || (w->encrypted && pclass > (int32_t)FERRY_KEYBAG_MAX_CLASSES))
        return ferry_error_set(FERRY_EINVAL, "%s/%s: protection class %d is not valid", domain, relpath, (int)pclass);
    if ((rc = writer_ensure_bucket(w, fileid)) != 0)
        return ferry_error_wrap(rc, "cannot add %s/%s to the backup in %s", domain, relpath, w->dir);

    memcpy(f->fileid, fileid, sizeof fileid);
    memcpy(f->idbin, idbin, sizeof idbin);
    snprintf(f->tmpname, sizeof f->tmpname, "%.2s/.%s.part", fileid, fileid);
    f->pclass = pclass;
    f->size = 0;
    f->err = 0;
    f->domain = strdup(domain);
    f->relpath = strdup(relpath);
    if (m)
        f->meta = *m;
    f->meta.xattrs = NULL;
    if (m && m->xattrs && m->xattrs_len) {
        f->xattrs = malloc(m->xattrs_len);
        if (f->xattrs)
            memcpy(f->xattrs, m->xattrs, m->xattrs_len);
        f->meta.xattrs = f->xattrs;
    }
    if (!f->domain || !f->relpath || (m && m->xattrs && m->xattrs_len && !f->xattrs)) {
        writer_file_discard(f);
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    f->active = 1;
    rc = w->encrypted ? file_start_crypto(f) : 0;
    f->meta.file_key = NULL; /* borrowed for the begin only */
    if (rc) {
        writer_file_discard(f);
        return rc;
    }
    f->fd = openat(w->dirfd, f->tmpname, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (f->fd < 0) {
        rc = ferry_error_errno("cannot create the blob %s/%s for %s/%s", w->dir, f->tmpname, domain, relpath);
        writer_file_discard(f);
        return rc;
    }
    *out = f;
    return 0;
}

/* Records a write failure on the open file and says which entry and blob it was. */
static int file_fail(ferry_writer_file_t *f, int rc)
{
    f->err = rc;
    if (rc == FERRY_ENOSPC)
        return ferry_error_wrap(rc, "no space left for %s/%s in %s (free some space and back up again)",
                                f->domain, f->relpath, f->w->dir);
    return ferry_error_wrap(rc, "cannot write %s/%s into the backup in %s", f->domain, f->relpath, f->w->dir);
}

static int file_put(ferry_writer_file_t *f, const uint8_t *p, size_t n)
{
    return ferry_write_full(f->fd, p, n, f->tmpname);
}

int ferry_writer_file_write(ferry_writer_file_t *f, const void *buf, size_t len)
{
    if (!f || !f->active)
        return ferry_error_set(FERRY_EINVAL, "ferry_writer_file_write: no file is open");
    if (f->err)
        return ferry_error_set(f->err, "%s/%s: an earlier write failed; end the file to discard it", f->domain,
                               f->relpath);
    if (len && !buf)
        return ferry_error_set(FERRY_EINVAL, "ferry_writer_file_write: no data for %s/%s", f->domain, f->relpath);
    ferry_writer_t *w = f->w;
    const uint8_t *p = buf;
    if (!w->encrypted) {
        int rc = file_put(f, p, len);
        if (rc)
            return file_fail(f, rc);
        f->size += (int64_t)len;
        return 0;
    }
    while (len > 0) {
        size_t n = len > WRITER_CHUNK ? WRITER_CHUNK : len, outl = 0;
        int rc = ferry_cbc_update(f->cbc, p, n, w->cbuf, &outl);
        if (rc == 0)
            rc = file_put(f, w->cbuf, outl);
        if (rc)
            return file_fail(f, rc);
        f->size += (int64_t)n;
        p += n;
        len -= n;
    }
    return 0;
}

/* Finishes the ciphertext and closes the blob; close() can report a delayed write error. */
static int file_finish_blob(ferry_writer_file_t *f)
{
    ferry_writer_t *w = f->w;
    int rc = 0;
    if (w->encrypted) {
        size_t outl = 0;
        rc = ferry_cbc_final(f->cbc, w->cbuf, &outl);
        if (rc == 0)
            rc = file_put(f, w->cbuf, outl);
    }
    int fd = f->fd;
    f->fd = -1;
    if (close(fd) != 0 && rc == 0)
        rc = ferry_error_errno("cannot close %s", f->tmpname);
    return rc;
}

int ferry_writer_file_end(ferry_writer_file_t *f)
{
    if (!f || !f->active)
        return ferry_error_set(FERRY_EINVAL, "ferry_writer_file_end: no file is open");
    ferry_writer_t *w = f->w;
    if (f->err) {
        int rc = ferry_error_set(f->err, "%s/%s was not added to the backup: an earlier write failed", f->domain,
                                 f->relpath);
        writer_file_discard(f);
        return rc;
    }
    int rc = file_finish_blob(f);
    if (rc) {
        rc = file_fail(f, rc);
        writer_file_discard(f);
        return rc;
    }
    char final[44];
    snprintf(final, sizeof final, "%.2s/%s", f->fileid, f->fileid);
    if (renameat(w->dirfd, f->tmpname, w->dirfd, final) != 0) {
        rc = file_fail(f, ferry_error_errno("cannot rename %s to %s", f->tmpname, final));
        writer_file_discard(f);
        return rc;
    }
    ferry_mbfile_t mb;
    writer_fill_mbfile(w, &mb, f->relpath, 0100000, 0644, DEFAULT_FILE_CLASS, &f->meta);
    mb.protection_class = f->pclass;
    mb.size = f->size;
    if (w->encrypted) {
        mb.has_encryption_key = 1;
        memcpy(mb.encryption_key, f->ekey, sizeof f->ekey);
    }
    rc = writer_insert_row(w, f->fileid, f->idbin, f->domain, f->relpath, FERRY_FLAG_FILE, &mb);
    ferry_wipe(mb.encryption_key, sizeof mb.encryption_key);
    if (rc)
        writer_unlink_quiet(w->dirfd, final); /* a blob without its row would be an orphan */
    f->active = 0;                     /* the temporary name is gone: nothing to unlink */
    writer_file_discard(f);
    return rc;
}

int ferry_writer_add_file_mem(ferry_writer_t *w, const char *domain, const char *relpath, const ferry_file_meta_t *m,
                              const void *data, size_t len)
{
    ferry_writer_file_t *f;
    int rc = ferry_writer_file_begin(w, domain, relpath, m, &f);
    if (rc)
        return rc;
    if ((rc = ferry_writer_file_write(f, data, len)) != 0) {
        writer_file_discard(f);
        return rc;
    }
    return ferry_writer_file_end(f);
}

int ferry_writer_add_file_path(ferry_writer_t *w, const char *domain, const char *relpath, const ferry_file_meta_t *m,
                               const char *src_path)
{
    if (!w || !src_path)
        return ferry_error_set(FERRY_EINVAL, "ferry_writer_add_file_path: missing writer or source");
    if (!w->rbuf && !(w->rbuf = malloc(WRITER_CHUNK)))
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    int src = open(src_path, O_RDONLY | O_CLOEXEC);
    if (src < 0)
        return ferry_error_errno("cannot open %s to add it as %s/%s", src_path, domain ? domain : "?",
                                 relpath ? relpath : "?");
    struct stat st;
    if (fstat(src, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(src);
        return ferry_error_set(FERRY_EINVAL, "%s is not a regular file", src_path);
    }
    ferry_writer_file_t *f;
    int rc = ferry_writer_file_begin(w, domain, relpath, m, &f);
    int begun = rc == 0;
    while (rc == 0) {
        ssize_t n = ferry_read_full(src, w->rbuf, WRITER_CHUNK, src_path);
        if (n <= 0) {
            rc = (int)n;
            break;
        }
        rc = ferry_writer_file_write(f, w->rbuf, (size_t)n);
    }
    close(src);
    if (rc == 0)
        return ferry_writer_file_end(f);
    if (begun)
        writer_file_discard(f);
    return rc;
}

