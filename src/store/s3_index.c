/*
 * s3_index.c: the S3 backend's index objects as binary plists (libplist): a snapshot's index (its
 * metadata, then every path with its size and content SHA-256 and where the bytes are: their own data/
 * object, or a pack and an offset) and a pack's index (content hash -> offset, size). Decoding checks
 * every field's type and range, every path with ferry_path_check_relative, and every hash's shape, so
 * an index edited by someone else cannot point export outside its folder.
 */
#include "s3_backend.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INDEX_VERSION 1

char *s3_key(const s3repo_t *r, const char *fmt, ...)
{
    char tail[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tail, sizeof tail, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tail)
        return NULL;
    size_t len = strlen(r->prefix) + (size_t)n + 1;
    char *k = malloc(len);
    if (k)
        snprintf(k, len, "%s%s", r->prefix, tail);
    return k;
}

char *s3_blob_key(const s3repo_t *r, const char *h) { return s3_key(r, "data/%.2s/%s", h, h); }
char *s3_pack_key(const s3repo_t *r, const char *h) { return s3_key(r, "packs/%.2s/%s", h, h); }
char *s3_snapshot_key(const s3repo_t *r, const char *udid, const char *id)
{
    return s3_key(r, "snapshots/%s/%s", udid, id);
}

int s3_check_hash(const char *h)
{
    if (strlen(h) != 64)
        return FERRY_EFORMAT;
    for (const char *p = h; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return FERRY_EFORMAT;
    return 0;
}

int s3_index_add(s3_index_t *ix, const s3_entry_t *e)
{
    if (ix->n == ix->cap) {
        size_t cap = ix->cap ? ix->cap * 2 : 256;
        s3_entry_t *v = realloc(ix->v, cap * sizeof *v);
        if (!v)
            return ferry_error_set(FERRY_ENOMEM, "out of memory");
        ix->v = v;
        ix->cap = cap;
    }
    s3_entry_t *d = &ix->v[ix->n];
    *d = *e;
    if (!(d->path = strdup(e->path)))
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    ix->n++;
    return 0;
}

void s3_index_free(s3_index_t *ix)
{
    for (size_t i = 0; i < ix->n; i++)
        free(ix->v[i].path);
    free(ix->v);
    ix->v = NULL;
    ix->n = ix->cap = 0;
}

/* ---- encoding ---------------------------------------------------------------------------------- */

static plist_t meta_dict(const ferry_snapshot_info_t *in)
{
    plist_t d = plist_new_dict();
    plist_dict_set_item(d, "ID", plist_new_string(in->id));
    plist_dict_set_item(d, "UDID", plist_new_string(in->udid));
    plist_dict_set_item(d, "Parent", plist_new_string(in->parent));
    plist_dict_set_item(d, "Date", plist_new_uint((uint64_t)in->date));
    plist_dict_set_item(d, "BackupDate", plist_new_uint((uint64_t)in->backup_date));
    plist_dict_set_item(d, "IsEncrypted", plist_new_bool(in->encrypted != 0));
    plist_dict_set_item(d, "Files", plist_new_uint(in->files));
    plist_dict_set_item(d, "Bytes", plist_new_uint(in->bytes));
    plist_dict_set_item(d, "AddedBytes", plist_new_uint(in->added_bytes));
    return d;
}

static int to_bin(plist_t root, char **out, uint32_t *len)
{
    *out = NULL;
    plist_to_bin(root, out, len);
    plist_free(root);
    return *out ? 0 : ferry_error_set(FERRY_ENOMEM, "cannot encode an index (out of memory)");
}

int s3_index_encode(const s3_index_t *ix, char **out, uint32_t *len)
{
    plist_t root = plist_new_dict(), arr = plist_new_array();
    plist_dict_set_item(root, "FerryS3IndexVersion", plist_new_uint(INDEX_VERSION));
    plist_dict_set_item(root, "Meta", meta_dict(&ix->info));
    for (size_t i = 0; i < ix->n; i++) {
        const s3_entry_t *e = &ix->v[i];
        plist_t d = plist_new_dict();
        plist_dict_set_item(d, "P", plist_new_string(e->path));
        if (e->dir) {
            plist_dict_set_item(d, "D", plist_new_bool(1));
        } else {
            plist_dict_set_item(d, "S", plist_new_uint(e->size));
            plist_dict_set_item(d, "H", plist_new_string(e->hash));
            if (e->pack[0]) {
                plist_dict_set_item(d, "K", plist_new_string(e->pack));
                plist_dict_set_item(d, "O", plist_new_uint(e->off));
            }
        }
        plist_array_append_item(arr, d);
    }
    plist_dict_set_item(root, "Entries", arr);
    return to_bin(root, out, len);
}

int s3_packidx_encode(const s3_entry_t *v, size_t n, char **out, uint32_t *len)
{
    plist_t arr = plist_new_array();
    for (size_t i = 0; i < n; i++) {
        plist_t d = plist_new_dict();
        plist_dict_set_item(d, "H", plist_new_string(v[i].hash));
        plist_dict_set_item(d, "O", plist_new_uint(v[i].off));
        plist_dict_set_item(d, "S", plist_new_uint(v[i].size));
        plist_array_append_item(arr, d);
    }
    return to_bin(arr, out, len);
}

/* ---- decoding ---------------------------------------------------------------------------------- */

static int get_u64(plist_t d, const char *k, uint64_t *v)
{
    plist_t n = plist_dict_get_item(d, k);
    if (!n || plist_get_node_type(n) != PLIST_UINT)
        return FERRY_EFORMAT;
    plist_get_uint_val(n, v);
    return 0;
}

static int get_str(plist_t d, const char *k, char *out, size_t cap)
{
    plist_t n = plist_dict_get_item(d, k);
    if (!n || plist_get_node_type(n) != PLIST_STRING)
        return FERRY_EFORMAT;
    char *s = NULL;
    s = ferry_plist_string_dup(n);
    int rc = s && strlen(s) < cap ? 0 : FERRY_EFORMAT;
    if (rc == 0)
        memcpy(out, s, strlen(s) + 1);
    free(s);
    return rc;
}

static int decode_meta(plist_t m, ferry_snapshot_info_t *o)
{
    uint64_t date, bdate;
    plist_t enc = m ? plist_dict_get_item(m, "IsEncrypted") : NULL;
    uint8_t b = 0;
    if (!m || plist_get_node_type(m) != PLIST_DICT || get_str(m, "ID", o->id, sizeof o->id) ||
        get_str(m, "UDID", o->udid, sizeof o->udid) || get_str(m, "Parent", o->parent, sizeof o->parent) ||
        get_u64(m, "Date", &date) || get_u64(m, "BackupDate", &bdate) || get_u64(m, "Files", &o->files) ||
        get_u64(m, "Bytes", &o->bytes) || get_u64(m, "AddedBytes", &o->added_bytes) || !enc ||
        plist_get_node_type(enc) != PLIST_BOOLEAN || date > INT64_MAX || bdate > INT64_MAX)
        return FERRY_EFORMAT;
    plist_get_bool_val(enc, &b);
    o->encrypted = b != 0;
    o->date = (int64_t)date;
    o->backup_date = (int64_t)bdate;
    if (ferry_snapshot_check_id(o->id) || ferry_store_check_udid(o->udid))
        return FERRY_EFORMAT;
    ferry_error_clear();
    return 0;
}

static int decode_entry(plist_t d, s3_entry_t *e)
{
    memset(e, 0, sizeof *e);
    plist_t p = plist_get_node_type(d) == PLIST_DICT ? plist_dict_get_item(d, "P") : NULL;
    if (!p || plist_get_node_type(p) != PLIST_STRING)
        return FERRY_EFORMAT;
    e->path = ferry_plist_string_dup(p);
    if (!e->path || !e->path[0] || ferry_path_check_relative(e->path, strlen(e->path)) != 0)
        return FERRY_EFORMAT;
    plist_t dir = plist_dict_get_item(d, "D");
    if (dir) {
        e->dir = 1;
        return plist_get_node_type(dir) == PLIST_BOOLEAN ? 0 : FERRY_EFORMAT;
    }
    if (get_u64(d, "S", &e->size) || get_str(d, "H", e->hash, sizeof e->hash) || s3_check_hash(e->hash))
        return FERRY_EFORMAT;
    if (plist_dict_get_item(d, "K")) {
        if (get_str(d, "K", e->pack, sizeof e->pack) || s3_check_hash(e->pack) || get_u64(d, "O", &e->off) ||
            e->size > S3_PACK_MAX || e->off > S3_PACK_MAX - e->size)
            return FERRY_EFORMAT;
    }
    return 0;
}

int s3_index_decode(const uint8_t *data, size_t len, const char *what, s3_index_t *ix)
{
    memset(ix, 0, sizeof *ix);
    plist_t root = NULL;
    int rc = ferry_plist_parse(data, len, &root, what);
    if (rc)
        return rc;
    uint64_t ver = 0;
    plist_t arr = plist_get_node_type(root) == PLIST_DICT ? plist_dict_get_item(root, "Entries") : NULL;
    if (!arr || plist_get_node_type(arr) != PLIST_ARRAY || get_u64(root, "FerryS3IndexVersion", &ver) ||
        decode_meta(plist_dict_get_item(root, "Meta"), &ix->info)) {
        rc = ferry_error_set(FERRY_EFORMAT, "snapshot index %s is malformed (metadata or entry list)", what);
    } else if (ver != INDEX_VERSION) {
        rc = ferry_error_set(FERRY_EUNSUPPORTED, "snapshot index %s has version %llu; this ferry reads %d", what,
                             (unsigned long long)ver, INDEX_VERSION);
    }
    uint32_t n = rc ? 0 : plist_array_get_size(arr);
    for (uint32_t i = 0; rc == 0 && i < n; i++) {
        s3_entry_t e;
        if (decode_entry(plist_array_get_item(arr, i), &e) != 0)
            rc = ferry_error_set(FERRY_EFORMAT, "snapshot index %s: entry %u is malformed or unsafe", what, i);
        else
            rc = s3_index_add(ix, &e);
        free(e.path);
    }
    plist_free(root);
    if (rc)
        s3_index_free(ix);
    return rc;
}

int s3_packidx_decode(const uint8_t *data, size_t len, const char *what, s3_entry_t **out, size_t *nout)
{
    *out = NULL;
    *nout = 0;
    plist_t root = NULL;
    int rc = ferry_plist_parse(data, len, &root, what);
    if (rc)
        return rc;
    if (plist_get_node_type(root) != PLIST_ARRAY) {
        plist_free(root);
        return ferry_error_set(FERRY_EFORMAT, "pack index %s is not an array", what);
    }
    uint32_t n = plist_array_get_size(root);
    s3_entry_t *v = calloc(n ? n : 1, sizeof *v);
    if (!v)
        rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
    for (uint32_t i = 0; rc == 0 && i < n; i++) {
        plist_t d = plist_array_get_item(root, i);
        if (plist_get_node_type(d) != PLIST_DICT || get_str(d, "H", v[i].hash, sizeof v[i].hash) ||
            s3_check_hash(v[i].hash) || get_u64(d, "O", &v[i].off) || get_u64(d, "S", &v[i].size) ||
            v[i].size > S3_PACK_MAX || v[i].off > S3_PACK_MAX - v[i].size)
            rc = ferry_error_set(FERRY_EFORMAT, "pack index %s: entry %u is malformed", what, i);
    }
    plist_free(root);
    if (rc) {
        free(v);
        return rc;
    }
    *out = v;
    *nout = n;
    return 0;
}

int s3_index_load(s3repo_t *r, const char *udid, const char *id, s3_index_t *ix)
{
    char *key = s3_snapshot_key(r, udid, id);
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = key ? ferry_s3_get(r->s3, key, S3_INDEX_MAX, &data, &len) : ferry_error_set(FERRY_ENOMEM, "out of memory");
    if (rc == 0)
        rc = s3_index_decode(data, len, key, ix);
    if (rc == 0 && (strcmp(ix->info.id, id) || strcmp(ix->info.udid, udid))) {
        s3_index_free(ix);
        rc = ferry_error_set(FERRY_EFORMAT, "snapshot index %s names another snapshot (%s of %s)", key, ix->info.id,
                             ix->info.udid);
    }
    free(data);
    free(key);
    return rc;
}
