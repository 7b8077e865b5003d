/*
 * s3_export.c: writes a snapshot of the S3 repository as a Finder-layout <UDID> folder, streaming from
 * the store: a large file goes from its data/ object to its destination file as it arrives, and each
 * pack is fetched once (at most 64 MiB in memory) and cut into the small files that reference it.
 * Every byte is checked: a pack's SHA-256 against its key, every file's SHA-256 against the index, so
 * a damaged or substituted object is FERRY_EINTEGRITY, never silently restored. Files are created new
 * (O_EXCL, no symlink followed) under a destination that must not exist yet; on failure the
 * destination is removed again.
 */
#include "s3_backend.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int create_file(const char *dest, const char *rel, int *fd, char **path)
{
    *path = ferry_path_join(dest, rel);
    if (!*path)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    *fd = open(*path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (*fd < 0) {
        int rc = ferry_error_errno("cannot create %s", *path);
        free(*path);
        *path = NULL;
        return rc;
    }
    return 0;
}

static void hex_sha256(const uint8_t *d, size_t n, char out[65])
{
    uint8_t md[32];
    unsigned len = 0;
    EVP_Digest(d, n, md, &len, EVP_sha256(), NULL);
    ferry_hex_encode(md, 32, out);
}

typedef struct {
    int fd;
    EVP_MD_CTX *md;
    const char *path;
} sink_t;

static int to_file(void *ctx, const uint8_t *buf, size_t n)
{
    sink_t *s = ctx;
    EVP_DigestUpdate(s->md, buf, n);
    return ferry_write_full(s->fd, buf, n, s->path);
}

static int export_blob(s3repo_t *r, const char *dest, const s3_entry_t *e)
{
    int fd;
    char *path, *key = s3_blob_key(r, e->hash);
    if (!key)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    int rc = create_file(dest, e->path, &fd, &path);
    if (rc) {
        free(key);
        return rc;
    }
    sink_t s = {.fd = fd, .md = EVP_MD_CTX_new(), .path = path};
    if (!s.md || !EVP_DigestInit_ex(s.md, EVP_sha256(), NULL))
        rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
    if (rc == 0)
        rc = ferry_s3_get_range(r->s3, key, 0, 0, to_file, &s);
    if (rc == 0) {
        uint8_t md[32];
        unsigned len = 0;
        char hex[65];
        EVP_DigestFinal_ex(s.md, md, &len);
        ferry_hex_encode(md, 32, hex);
        struct stat sb;
        if (strcmp(hex, e->hash) || fstat(fd, &sb) != 0 || (uint64_t)sb.st_size != e->size)
            rc = ferry_error_set(FERRY_EINTEGRITY, "object %s does not hold the content of %s (hash or size differ)",
                                 key, e->path);
    }
    if (close(fd) != 0 && rc == 0)
        rc = ferry_error_errno("cannot write %s", path);
    EVP_MD_CTX_free(s.md);
    free(path);
    free(key);
    return rc;
}

/* Empty files have no object (s3_upload.c). */
static int export_empty(const char *dest, const s3_entry_t *e)
{
    int fd;
    char *path, empty[65];
    hex_sha256((const uint8_t *)"", 0, empty);
    if (strcmp(e->hash, empty))
        return ferry_error_set(FERRY_EFORMAT, "snapshot index: %s is empty but names content %s", e->path, e->hash);
    int rc = create_file(dest, e->path, &fd, &path);
    if (rc == 0 && close(fd) != 0)
        rc = ferry_error_errno("cannot write %s", path);
    free(path);
    return rc;
}

static int cmp_pack(const void *a, const void *b)
{
    const s3_entry_t *x = *(const s3_entry_t *const *)a, *y = *(const s3_entry_t *const *)b;
    int c = strcmp(x->pack, y->pack);
    return c ? c : (x->off < y->off ? -1 : x->off > y->off);
}

/* Writes the files v[0..n) that all live in one pack. */
static int export_pack(s3repo_t *r, const char *dest, s3_entry_t **v, size_t n)
{
    char *key = s3_pack_key(r, v[0]->pack);
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = key ? ferry_s3_get(r->s3, key, S3_PACK_MAX, &data, &len) : ferry_error_set(FERRY_ENOMEM, "out of memory");
    char hex[65];
    if (rc == 0) {
        hex_sha256(data, len, hex);
        if (strcmp(hex, v[0]->pack))
            rc = ferry_error_set(FERRY_EINTEGRITY, "pack %s is damaged (its SHA-256 differs from its name)", key);
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const s3_entry_t *e = v[i];
        if (e->off > len || e->size > len - e->off) {
            rc = ferry_error_set(FERRY_EINTEGRITY, "pack %s is shorter than the index says (%s)", key, e->path);
            break;
        }
        hex_sha256(data + e->off, (size_t)e->size, hex);
        if (strcmp(hex, e->hash)) {
            rc = ferry_error_set(FERRY_EINTEGRITY, "pack %s does not hold the content of %s", key, e->path);
            break;
        }
        int fd;
        char *path;
        if ((rc = create_file(dest, e->path, &fd, &path)) != 0)
            break;
        rc = ferry_write_full(fd, data + e->off, (size_t)e->size, path);
        if (close(fd) != 0 && rc == 0)
            rc = ferry_error_errno("cannot write %s", path);
        free(path);
    }
    free(data);
    free(key);
    return rc;
}

int s3_export_to(ferry_store_t *st, const ferry_snapshot_info_t *snap, const char *dest)
{
    s3repo_t *r = st->impl;
    s3_index_t ix;
    int rc = s3_index_load(r, snap->udid, snap->id, &ix);
    if (rc)
        return rc;
    if (mkdir(dest, 0700) != 0) {
        rc = errno == EEXIST ? ferry_error_set(FERRY_EEXIST, "%s exists: export writes a new folder", dest)
                             : ferry_error_errno("cannot create %s", dest);
        s3_index_free(&ix);
        return rc;
    }
    s3_entry_t **packed = calloc(ix.n ? ix.n : 1, sizeof *packed);
    size_t np = 0;
    if (!packed)
        rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
    /* Folders first (the index lists a folder before what it holds), then the data/ objects. */
    for (size_t i = 0; rc == 0 && i < ix.n; i++) {
        const s3_entry_t *e = &ix.v[i];
        if (e->dir) {
            char *p = ferry_path_join(dest, e->path);
            rc = !p ? ferry_error_set(FERRY_ENOMEM, "out of memory")
                 : mkdir(p, 0700) != 0 ? ferry_error_errno("cannot create %s", p) : 0;
            free(p);
        }
    }
    for (size_t i = 0; rc == 0 && i < ix.n; i++) {
        s3_entry_t *e = &ix.v[i];
        if (e->dir)
            continue;
        if (e->pack[0])
            packed[np++] = e;
        else if (e->size == 0)
            rc = export_empty(dest, e);
        else
            rc = export_blob(r, dest, e);
    }
    if (rc == 0 && np)
        qsort(packed, np, sizeof *packed, cmp_pack);
    for (size_t i = 0; rc == 0 && i < np;) {
        size_t j = i + 1;
        while (j < np && !strcmp(packed[j]->pack, packed[i]->pack))
            j++;
        rc = export_pack(r, dest, packed + i, j - i);
        i = j;
    }
    free(packed);
    s3_index_free(&ix);
    if (rc) {
        ferry_error_wrap(rc, "cannot export snapshot %s to %s", snap->id, dest);
        /* dest is ours (created above): leave no half-written backup that looks like a whole one. */
        ferry_tree_remove(dest, NULL);
    }
    return rc;
}
