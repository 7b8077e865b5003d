/*
 * s3_upload.c: makes a snapshot of a local <UDID> folder in the S3 repository. Order is the protocol:
 * take an upload lease (s3_lease.c), learn which contents the repository already holds (every pack
 * index and the data/ keys), upload what is missing -- files from 1 MiB as their own write-once data/
 * object keyed by their SHA-256 (multipart when large), smaller files appended to a pack that is
 * written, with its pack index after it, once it reaches 16 MiB -- and only then write the snapshot's
 * index object, the commit point, and release the lease. A process that dies before the index is
 * written leaves only objects no snapshot references, which a later prune sweeps. Identical contents
 * are stored once, whichever device or snapshot they come from. Only regular files and folders are
 * accepted in the folder (FERRY_EUNSAFE otherwise), as for the local backend.
 *
 * Uploads of one process (`ferry backup --all` commits several devices from threads) run one at a
 * time: each learns the table of contents after the previous one wrote its packs, so small files
 * that several devices share (a golden master restored onto a cart of iPads) are packed once. The
 * device transfers still run in parallel; only the uploads queue. Uploads from different processes
 * or hosts at the same moment can each pack the same small file (never wrong, only bigger).
 */
#include "s3_backend.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- the table of contents the repository holds: hash -> where ------------------------------- */

typedef struct {
    char hash[65];
    char pack[65]; /* "" for a data/ object */
    uint64_t off;
    int pending;   /* in the pack being filled */
} slot_t;

typedef struct {
    slot_t *v;
    size_t cap, n;
} table_t;

static size_t slot_of(const table_t *t, const char *h)
{
    uint64_t x = 0;
    for (int i = 0; i < 16; i++)
        x = x * 16 + (uint64_t)(h[i] <= '9' ? h[i] - '0' : h[i] - 'a' + 10);
    size_t i = (size_t)x & (t->cap - 1);
    while (t->v[i].hash[0] && strcmp(t->v[i].hash, h))
        i = (i + 1) & (t->cap - 1);
    return i;
}

static slot_t *table_find(table_t *t, const char *h)
{
    if (!t->cap)
        return NULL;
    slot_t *s = &t->v[slot_of(t, h)];
    return s->hash[0] ? s : NULL;
}

static int table_put(table_t *t, const slot_t *in)
{
    if ((t->n + 1) * 2 > t->cap) {
        table_t g = {.cap = t->cap ? t->cap * 2 : 1024};
        if (!(g.v = calloc(g.cap, sizeof *g.v)))
            return ferry_error_set(FERRY_ENOMEM, "out of memory");
        for (size_t i = 0; i < t->cap; i++)
            if (t->v[i].hash[0])
                g.v[slot_of(&g, t->v[i].hash)] = t->v[i];
        g.n = t->n;
        free(t->v);
        *t = g;
    }
    slot_t *s = &t->v[slot_of(t, in->hash)];
    if (!s->hash[0])
        t->n++;
    *s = *in;
    return 0;
}

typedef struct {
    s3repo_t *r;
    table_t *t;
} load_t;

static int load_packidx(void *ctx, const ferry_s3_object_t *o)
{
    load_t *l = ctx;
    const char *base = strrchr(o->key, '/');
    base = base ? base + 1 : o->key;
    if (s3_check_hash(base))
        return 0;
    uint8_t *data;
    size_t len;
    int rc = ferry_s3_get(l->r->s3, o->key, S3_PACK_MAX, &data, &len);
    if (rc == FERRY_ENOTFOUND) { /* swept meanwhile (only possible without our lease) */
        ferry_error_clear();
        return 0;
    }
    s3_entry_t *v;
    size_t n;
    if (rc == 0)
        rc = s3_packidx_decode(data, len, o->key, &v, &n);
    free(data);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        slot_t s = {.off = v[i].off};
        memcpy(s.hash, v[i].hash, 65);
        memcpy(s.pack, base, 65);
        rc = table_put(l->t, &s);
    }
    if (rc == 0)
        free(v);
    return rc;
}

static int load_blob(void *ctx, const ferry_s3_object_t *o)
{
    load_t *l = ctx;
    const char *base = strrchr(o->key, '/');
    base = base ? base + 1 : o->key;
    if (s3_check_hash(base))
        return 0;
    slot_t s = {.off = 0};
    memcpy(s.hash, base, 65);
    return table_put(l->t, &s);
}

static int load_table(s3repo_t *r, table_t *t)
{
    load_t l = {r, t};
    char *pi = s3_key(r, "packidx/"), *da = s3_key(r, "data/");
    int rc = pi && da ? ferry_s3_list(r->s3, pi, load_packidx, &l) : ferry_error_set(FERRY_ENOMEM, "out of memory");
    if (rc == 0)
        rc = ferry_s3_list(r->s3, da, load_blob, &l);
    free(pi);
    free(da);
    return rc;
}

/* ---- the upload -------------------------------------------------------------------------------- */

typedef struct {
    s3repo_t *r;
    table_t table;
    s3_index_t ix;
    uint8_t *pack;       /* the pack being filled */
    size_t pack_len, pack_cap;
    s3_entry_t *pending; /* its contents (hash, off, size) */
    size_t npending, cap_pending;
    uint64_t added;
    unsigned packs_written;
} up_t;

static void hash_hex(const uint8_t *d, size_t n, char out[65])
{
    uint8_t md[32];
    unsigned len = 0;
    EVP_Digest(d, n, md, &len, EVP_sha256(), NULL);
    ferry_hex_encode(md, 32, out);
}

static int flush_pack(up_t *u)
{
    if (!u->npending)
        return 0;
    char ph[65];
    hash_hex(u->pack, u->pack_len, ph);
    char *pk = s3_pack_key(u->r, ph), *ik = s3_key(u->r, "packidx/%s", ph);
    char *idx = NULL;
    uint32_t idx_len = 0;
    int rc = pk && ik ? 0 : ferry_error_set(FERRY_ENOMEM, "out of memory");
    /* The pack before its index: an index never names a pack that is not there. */
    if (rc == 0)
        rc = ferry_s3_put(u->r->s3, pk, u->pack, u->pack_len);
    if (rc == 0)
        rc = s3_packidx_encode(u->pending, u->npending, &idx, &idx_len);
    if (rc == 0)
        rc = ferry_s3_put(u->r->s3, ik, idx, idx_len);
    if (rc == 0) {
        u->added += u->pack_len + idx_len;
        for (size_t i = 0; i < u->npending; i++) {
            slot_t *s = table_find(&u->table, u->pending[i].hash);
            if (s && s->pending) {
                s->pending = 0;
                memcpy(s->pack, ph, 65);
            }
        }
        for (size_t i = 0; i < u->ix.n; i++)
            if (!u->ix.v[i].dir && u->ix.v[i].pack[0] == '*') /* waiting for this pack */
                memcpy(u->ix.v[i].pack, ph, 65);
        u->pack_len = 0;
        u->npending = 0;
        if (!u->packs_written++)
            ferry_store_test_pause("s3-pack-written"); /* after the first pack only */
    }
    free(idx);
    free(pk);
    free(ik);
    return rc;
}

static int read_small(const char *path, uint64_t size, uint8_t **out)
{
    size_t len;
    int rc = ferry_file_read_all(path, (size_t)size + 1, out, &len);
    if (rc == 0 && len != size) {
        free(*out);
        rc = ferry_error_set(FERRY_EINTEGRITY, "%s changed size while it was read", path);
    }
    return rc;
}

static int add_small(up_t *u, const char *path, s3_entry_t *e)
{
    uint8_t *data;
    int rc = read_small(path, e->size, &data);
    if (rc)
        return rc;
    hash_hex(data, (size_t)e->size, e->hash);
    slot_t *s = table_find(&u->table, e->hash);
    if (s && s->pack[0] && !s->pending) {
        memcpy(e->pack, s->pack, 65);
        e->off = s->off;
    } else if (s && s->pending) {
        e->pack[0] = '*';
        e->pack[1] = '\0';
        e->off = s->off;
    } else if (s) {
        e->pack[0] = '\0'; /* already a data/ object */
    } else {
        if (u->pack_len + e->size > u->pack_cap) {
            size_t cap = u->pack_cap ? u->pack_cap : S3_PACK_TARGET + S3_SMALL_FILE;
            while (cap < u->pack_len + e->size)
                cap *= 2;
            uint8_t *p = realloc(u->pack, cap);
            if (!p) {
                free(data);
                return ferry_error_set(FERRY_ENOMEM, "out of memory");
            }
            u->pack = p;
            u->pack_cap = cap;
        }
        if (u->npending == u->cap_pending) {
            size_t cap = u->cap_pending ? u->cap_pending * 2 : 256;
            s3_entry_t *p = realloc(u->pending, cap * sizeof *p);
            if (!p) {
                free(data);
                return ferry_error_set(FERRY_ENOMEM, "out of memory");
            }
            u->pending = p;
            u->cap_pending = cap;
        }
        if (e->size)
            memcpy(u->pack + u->pack_len, data, (size_t)e->size);
        e->off = u->pack_len;
        e->pack[0] = '*';
        e->pack[1] = '\0';
        s3_entry_t pe = {.size = e->size, .off = e->off};
        memcpy(pe.hash, e->hash, 65);
        u->pending[u->npending++] = pe;
        slot_t ns = {.off = e->off, .pending = 1};
        memcpy(ns.hash, e->hash, 65);
        rc = table_put(&u->table, &ns);
        u->pack_len += (size_t)e->size;
    }
    free(data);
    if (rc == 0)
        rc = s3_index_add(&u->ix, e);
    if (rc == 0 && u->pack_len >= S3_PACK_TARGET)
        rc = flush_pack(u);
    return rc;
}

static int hash_file(const char *path, char out[65])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return ferry_error_errno("cannot open %s", path);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    uint8_t *buf = malloc(1 << 20);
    int rc = c && buf && EVP_DigestInit_ex(c, EVP_sha256(), NULL) ? 0 : ferry_error_set(FERRY_ENOMEM, "out of memory");
    ssize_t k;
    while (rc == 0 && (k = read(fd, buf, 1 << 20)) != 0) {
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            rc = ferry_error_errno("cannot read %s", path);
        else
            EVP_DigestUpdate(c, buf, (size_t)k);
    }
    uint8_t md[32];
    unsigned len = 0;
    if (rc == 0) {
        EVP_DigestFinal_ex(c, md, &len);
        ferry_hex_encode(md, 32, out);
    }
    EVP_MD_CTX_free(c);
    free(buf);
    close(fd);
    return rc;
}

static int add_large(up_t *u, const char *path, s3_entry_t *e)
{
    int rc = hash_file(path, e->hash);
    if (rc)
        return rc;
    e->pack[0] = '\0';
    slot_t *s = table_find(&u->table, e->hash);
    if (s && s->pack[0] && !s->pending) {
        memcpy(e->pack, s->pack, 65); /* a small file's twin in a pack (cannot happen by size, but cheap) */
        e->off = s->off;
    } else if (!s) {
        char *key = s3_blob_key(u->r, e->hash);
        rc = key ? ferry_s3_put_file(u->r->s3, key, path) : ferry_error_set(FERRY_ENOMEM, "out of memory");
        free(key);
        slot_t ns = {.off = 0};
        memcpy(ns.hash, e->hash, 65);
        if (rc == 0)
            rc = table_put(&u->table, &ns);
        if (rc == 0)
            u->added += e->size;
        ferry_store_test_pause("s3-blob-written");
    }
    return rc ? rc : s3_index_add(&u->ix, e);
}

static int add_empty(up_t *u, s3_entry_t *e)
{
    hash_hex((const uint8_t *)"", 0, e->hash);
    e->pack[0] = '\0';
    return s3_index_add(&u->ix, e);
}

static int walk(up_t *u, const char *root, const char *rel)
{
    char *dir = rel[0] ? ferry_path_join(root, rel) : strdup(root);
    if (!dir)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort);
    int rc = n < 0 ? ferry_error_errno("cannot list %s", dir) : 0;
    for (int i = 0; i < n; i++) {
        const char *nm = names[i]->d_name;
        if (rc == 0 && strcmp(nm, ".") && strcmp(nm, "..")) {
            char *r2 = rel[0] ? ferry_path_join(rel, nm) : strdup(nm);
            char *full = r2 ? ferry_path_join(root, r2) : NULL;
            struct stat sb;
            s3_entry_t e;
            memset(&e, 0, sizeof e);
            e.path = r2;
            if (!r2 || !full)
                rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
            else if (lstat(full, &sb) != 0)
                rc = ferry_error_errno("cannot inspect %s", full);
            else if (S_ISDIR(sb.st_mode)) {
                e.dir = 1;
                rc = s3_index_add(&u->ix, &e);
                if (rc == 0)
                    rc = walk(u, root, r2);
            } else if (S_ISREG(sb.st_mode)) {
                e.size = (uint64_t)sb.st_size;
                u->ix.info.bytes += e.size;
                if (strchr(r2, '/'))
                    u->ix.info.files++;
                if (e.size == 0) /* empty files need no object (and never tie a pack to a snapshot) */
                    rc = add_empty(u, &e);
                else
                    rc = e.size < S3_SMALL_FILE ? add_small(u, full, &e) : add_large(u, full, &e);
            } else {
                rc = ferry_error_set(FERRY_EUNSAFE, "%s is neither a file nor a folder: not stored", full);
            }
            free(r2);
            free(full);
        }
        free(names[i]);
    }
    free(names);
    free(dir);
    return rc;
}

static int maybe_verify(const char *dir, const ferry_commit_opts_t *o, const ferry_snapshot_info_t *info)
{
    if (!o || !o->verify || (info->encrypted && !o->cred))
        return 0;
    ferry_credentials_t none;
    memset(&none, 0, sizeof none);
    ferry_verify_opts_t vo = {.decrypt_content = 0};
    ferry_verify_report_t rep;
    memset(&rep, 0, sizeof rep);
    int rc = ferry_backup_verify(dir, o->cred ? o->cred : &none, &vo, store_log_verify_finding, NULL, &rep);
    if (rc == FERRY_EINTEGRITY)
        return ferry_error_set(FERRY_EINTEGRITY, "the backup in %s has %llu problems (ferry verify shows them): "
                                                 "not uploaded", dir, (unsigned long long)rep.problems);
    return rc ? ferry_error_wrap(rc, "cannot verify the backup in %s before upload", dir) : 0;
}

static int s3_upload_locked(ferry_store_t *st, const char *udid, const char *dir, const ferry_commit_opts_t *opts,
                            ferry_snapshot_info_t *out);

int s3_upload(ferry_store_t *st, const char *udid, const char *dir, const ferry_commit_opts_t *opts,
              ferry_snapshot_info_t *out)
{
    static pthread_mutex_t one_upload_at_a_time = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&one_upload_at_a_time);
    int rc = s3_upload_locked(st, udid, dir, opts, out);
    pthread_mutex_unlock(&one_upload_at_a_time);
    return rc;
}

static int s3_upload_locked(ferry_store_t *st, const char *udid, const char *dir, const ferry_commit_opts_t *opts,
                            ferry_snapshot_info_t *out)
{
    s3repo_t *r = st->impl;
    up_t u;
    memset(&u, 0, sizeof u);
    u.r = r;
    ferry_snapshot_info_t *info = &u.ix.info;
    snprintf(info->udid, sizeof info->udid, "%s", udid);
    int rc = ferry_snapshot_check_finished(dir, info);
    if (rc == 0)
        rc = maybe_verify(dir, opts, info);
    if (rc == 0)
        rc = ferry_snapshot_new_id(info->id);
    if (rc)
        return rc;
    ferry_snapshot_info_t parent;
    if (ferry_store_latest(st, udid, &parent) == 0)
        snprintf(info->parent, sizeof info->parent, "%s", parent.id);
    ferry_error_clear();
    s3_lease_t lease = {0};
    if ((rc = s3_lease_take_upload(r, info->id, &lease)) != 0)
        return rc;
    rc = load_table(r, &u.table);
    if (rc == 0)
        rc = walk(&u, dir, "");
    if (rc == 0)
        rc = flush_pack(&u);
    char *idx = NULL, *key = NULL;
    uint32_t idx_len = 0;
    if (rc == 0) {
        ferry_store_test_pause("s3-data-written");
        info->date = (int64_t)time(NULL);
        info->added_bytes = u.added;
        rc = s3_index_encode(&u.ix, &idx, &idx_len);
    }
    if (rc == 0 && !(key = s3_snapshot_key(r, udid, info->id)))
        rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
    /* The commit point. */
    if (rc == 0)
        rc = ferry_s3_put(r->s3, key, idx, idx_len);
    s3_lease_release(r, &lease);
    if (rc == 0 && out)
        *out = *info;
    if (rc)
        ferry_error_wrap(rc, "cannot upload the backup in %s to %s", dir, st->location);
    free(idx);
    free(key);
    free(u.table.v);
    free(u.pack);
    free(u.pending);
    s3_index_free(&u.ix);
    return rc;
}
