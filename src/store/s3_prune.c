/*
 * s3_prune.c: listing the S3 repository's snapshots (their index objects), measuring what it stores,
 * and prune: remove the snapshots beyond the newest keep of each device (deleting an index object is
 * atomic), then mark and sweep -- every data/ object, pack and pack index that no remaining snapshot
 * references is deleted. The sweep runs only under a prune lease that saw no live upload lease
 * (s3_lease.c): an upload in progress may be about to reference an object that looks unreferenced, so
 * with one running the sweep is skipped (said on the log) and left to the next prune.
 */
#include "s3_backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- listing ----------------------------------------------------------------------------------- */

typedef struct {
    s3repo_t *r;
    size_t plen;
    ferry_snapshot_info_t *v;
    size_t n, cap;
} list_t;

static int list_one(void *ctx, const ferry_s3_object_t *o)
{
    list_t *l = ctx;
    const char *rest = o->key + l->plen; /* <UDID>/<ID> */
    const char *slash = strchr(rest, '/');
    char udid[FERRY_UDID_MAX];
    if (!slash || (size_t)(slash - rest) >= sizeof udid || ferry_snapshot_check_id(slash + 1))
        return 0;
    memcpy(udid, rest, (size_t)(slash - rest));
    udid[slash - rest] = '\0';
    if (ferry_store_check_udid(udid)) {
        ferry_error_clear();
        return 0;
    }
    s3_index_t ix;
    int rc = s3_index_load(l->r, udid, slash + 1, &ix);
    if (rc == FERRY_ENOTFOUND) { /* pruned meanwhile */
        ferry_error_clear();
        return 0;
    }
    if (rc)
        return rc;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        ferry_snapshot_info_t *v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            s3_index_free(&ix);
            return ferry_error_set(FERRY_ENOMEM, "out of memory");
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = ix.info;
    s3_index_free(&ix);
    return 0;
}

int s3_list(ferry_store_t *st, const char *udid, ferry_snapshot_info_t **out, size_t *n)
{
    s3repo_t *r = st->impl;
    *out = NULL;
    *n = 0;
    char *base = s3_key(r, "snapshots/"), *prefix = udid ? s3_key(r, "snapshots/%s/", udid) : s3_key(r, "snapshots/");
    list_t l = {.r = r, .plen = base ? strlen(base) : 0};
    int rc = base && prefix ? ferry_s3_list(r->s3, prefix, list_one, &l) : ferry_error_set(FERRY_ENOMEM, "out of memory");
    free(base);
    free(prefix);
    if (rc) {
        free(l.v);
        return rc;
    }
    ferry_snapshot_sort(l.v, l.n);
    *out = l.v;
    *n = l.n;
    return 0;
}

typedef struct {
    uint64_t bytes, objects;
} usage_t;

static int usage_one(void *ctx, const ferry_s3_object_t *o)
{
    usage_t *u = ctx;
    u->bytes += o->size;
    u->objects++;
    return 0;
}

int s3_usage(ferry_store_t *st, uint64_t *bytes, uint64_t *objects)
{
    s3repo_t *r = st->impl;
    usage_t u = {0, 0};
    int rc = ferry_s3_list(r->s3, r->prefix, usage_one, &u);
    *bytes = u.bytes;
    *objects = u.objects;
    return rc;
}

/* ---- mark -------------------------------------------------------------------------------------- */

typedef struct {
    char (*v)[65];
    size_t n, cap;
} set_t;

static int set_add(set_t *s, const char *h)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        char(*v)[65] = realloc(s->v, cap * sizeof *v);
        if (!v)
            return ferry_error_set(FERRY_ENOMEM, "out of memory");
        s->v = v;
        s->cap = cap;
    }
    memcpy(s->v[s->n++], h, 65);
    return 0;
}

static int cmp65(const void *a, const void *b) { return strcmp(a, b); }

static int set_has(const set_t *s, const char *h)
{
    return s->n && bsearch(h, s->v, s->n, sizeof *s->v, cmp65) != NULL;
}

static int mark(s3repo_t *r, const ferry_snapshot_info_t *v, size_t n, const char *removed_mask, set_t *blobs,
                set_t *packs)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (removed_mask[i])
            continue;
        s3_index_t ix;
        if ((rc = s3_index_load(r, v[i].udid, v[i].id, &ix)) != 0)
            return ferry_error_wrap(rc, "prune: cannot read snapshot %s; nothing swept", v[i].id);
        for (size_t k = 0; rc == 0 && k < ix.n; k++)
            if (!ix.v[k].dir && (ix.v[k].size || ix.v[k].pack[0]))
                rc = ix.v[k].pack[0] ? set_add(packs, ix.v[k].pack) : set_add(blobs, ix.v[k].hash);
        s3_index_free(&ix);
    }
    if (blobs->n)
        qsort(blobs->v, blobs->n, sizeof *blobs->v, cmp65);
    if (packs->n)
        qsort(packs->v, packs->n, sizeof *packs->v, cmp65);
    return rc;
}

/* ---- sweep ------------------------------------------------------------------------------------- */

typedef struct {
    s3repo_t *r;
    const set_t *keep;
    uint64_t freed;
} sweep_t;

static int sweep_one(void *ctx, const ferry_s3_object_t *o)
{
    sweep_t *s = ctx;
    const char *base = strrchr(o->key, '/');
    base = base ? base + 1 : o->key;
    if (s3_check_hash(base) || set_has(s->keep, base))
        return 0;
    s->freed += o->size;
    return ferry_s3_delete(s->r->s3, o->key);
}

static int sweep(s3repo_t *r, const set_t *blobs, const set_t *packs, uint64_t *freed)
{
    /* Pack indexes before packs: an upload never learns of a pack that is about to go. */
    static const struct { const char *dir; int blobs; } steps[] = {{"packidx/", 0}, {"packs/", 0}, {"data/", 1}};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < 3; i++) {
        char *prefix = s3_key(r, "%s", steps[i].dir);
        sweep_t s = {.r = r, .keep = steps[i].blobs ? blobs : packs};
        rc = prefix ? ferry_s3_list(r->s3, prefix, sweep_one, &s) : ferry_error_set(FERRY_ENOMEM, "out of memory");
        *freed += s.freed;
        free(prefix);
    }
    return rc;
}

/* ---- prune ------------------------------------------------------------------------------------- */

int s3_prune(ferry_store_t *st, const char *udid, size_t keep, ferry_prune_report_t *report,
             ferry_snapshot_info_t **removed, size_t *nremoved)
{
    s3repo_t *r = st->impl;
    s3_lease_t lease = {0};
    int uploads = 0;
    int rc = s3_lease_take_prune(r, &lease, &uploads);
    if (rc)
        return rc;
    ferry_snapshot_info_t *v = NULL;
    size_t n = 0;
    char *gone = NULL;
    set_t blobs = {0}, packs = {0};
    if ((rc = s3_list(st, NULL, &v, &n)) != 0)
        goto done;
    gone = calloc(n ? n : 1, 1);
    if (!gone || (removed && !(*removed = calloc(n ? n : 1, sizeof **removed)))) {
        rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
        goto done;
    }
    /* v is sorted by UDID then id: the last keep of each run of a UDID stay. */
    for (size_t i = 0; rc == 0 && i < n; i++) {
        size_t later = 0;
        for (size_t k = i + 1; k < n && !strcmp(v[k].udid, v[i].udid); k++)
            later++;
        if ((udid && strcmp(v[i].udid, udid)) || later < keep) {
            report->kept++;
            continue;
        }
        char *key = s3_snapshot_key(r, v[i].udid, v[i].id);
        rc = key ? ferry_s3_delete(r->s3, key) : ferry_error_set(FERRY_ENOMEM, "out of memory");
        free(key);
        if (rc == 0) {
            gone[i] = 1;
            report->removed++;
            if (removed)
                (*removed)[(*nremoved)++] = v[i];
        }
    }
    if (rc)
        goto done;
    if (uploads) {
        ferry_log(FERRY_LOG_WARN, "prune: %d upload(s) in progress in %s: unreferenced objects are left for the "
                                  "next prune", uploads, st->location);
        goto done;
    }
    if ((rc = mark(r, v, n, gone, &blobs, &packs)) == 0)
        rc = sweep(r, &blobs, &packs, &report->freed_bytes);
done:
    s3_lease_release(r, &lease);
    free(blobs.v);
    free(packs.v);
    free(gone);
    free(v);
    return rc;
}
