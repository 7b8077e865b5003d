/*
 * s3_backend.h: what the files of the S3 repository backend share (docs/fleet.md has the layout and
 * the protocols). Objects under the repository prefix:
 *
 *     data/<h2>/<sha256>         a large file's bytes, key = SHA-256 of the bytes (write once)
 *     packs/<h2>/<sha256>        small files concatenated, key = SHA-256 of the pack (write once)
 *     packidx/<sha256>           the pack's index: content hash -> offset, size (written after the pack)
 *     snapshots/<UDID>/<ID>      a snapshot's index: metadata and every path -> blob or pack+offset,
 *                                written LAST: the commit point
 *     locks/upload-<ID>          an upload's lease; locks/prune-<rand>: a prune's marker
 *
 * Keys use only [A-Za-z0-9/._-].
 */
#ifndef FERRY_S3_BACKEND_H
#define FERRY_S3_BACKEND_H

#include "s3_client.h"
#include "store_backend.h"

#define S3_SMALL_FILE (1024u * 1024)          /* files below this go into packs */
#define S3_PACK_TARGET (16u * 1024 * 1024)    /* a pack is written once it reaches this */
#define S3_PACK_MAX (64u * 1024 * 1024)       /* a pack read back larger than this is refused */
#define S3_INDEX_MAX (1024u * 1024 * 1024)    /* a snapshot index read back larger than this is refused */

typedef struct {
    ferry_s3_t *s3;
    char *prefix; /* "" or ending in '/' */
} s3repo_t;

/* One path of a snapshot, relative to its <UDID> folder. */
typedef struct {
    char *path;
    int dir;
    uint64_t size;
    char hash[65];  /* content SHA-256, hex */
    char pack[65];  /* "" when the content is its own data/ object */
    uint64_t off;   /* offset in the pack */
} s3_entry_t;

typedef struct {
    ferry_snapshot_info_t info;
    s3_entry_t *v;
    size_t n, cap;
} s3_index_t;

/* Keys (malloc'd). */
char *s3_key(const s3repo_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *s3_blob_key(const s3repo_t *r, const char *hash);
char *s3_pack_key(const s3repo_t *r, const char *hash);
char *s3_snapshot_key(const s3repo_t *r, const char *udid, const char *id);

/* s3_index.c */
int s3_index_add(s3_index_t *ix, const s3_entry_t *e); /* copies e->path */
void s3_index_free(s3_index_t *ix);
int s3_index_encode(const s3_index_t *ix, char **out, uint32_t *len);
int s3_index_decode(const uint8_t *data, size_t len, const char *what, s3_index_t *ix);
int s3_index_load(s3repo_t *r, const char *udid, const char *id, s3_index_t *ix);
/* Pack indexes: arrays of {H, O, S}. */
int s3_packidx_encode(const s3_entry_t *v, size_t n, char **out, uint32_t *len);
int s3_packidx_decode(const uint8_t *data, size_t len, const char *what, s3_entry_t **v, size_t *n);
int s3_check_hash(const char *h);

/* s3_upload.c: a snapshot of the <UDID> folder dir. */
int s3_upload(ferry_store_t *st, const char *udid, const char *dir, const ferry_commit_opts_t *opts,
              ferry_snapshot_info_t *out);

/* s3_export.c: writes the snapshot's files under dest (the <UDID> folder itself, which must not exist). */
int s3_export_to(ferry_store_t *st, const ferry_snapshot_info_t *snap, const char *dest);

/* s3_lease.c */
typedef struct {
    char *key;
} s3_lease_t;
int s3_lease_take_upload(s3repo_t *r, const char *id, s3_lease_t *out);
int s3_lease_take_prune(s3repo_t *r, s3_lease_t *out, int *uploads_running);
void s3_lease_release(s3repo_t *r, s3_lease_t *l);

/* s3_prune.c */
int s3_prune(ferry_store_t *st, const char *udid, size_t keep, ferry_prune_report_t *report,
             ferry_snapshot_info_t **removed, size_t *nremoved);
int s3_list(ferry_store_t *st, const char *udid, ferry_snapshot_info_t **out, size_t *n);
int s3_usage(ferry_store_t *st, uint64_t *bytes, uint64_t *objects);

#endif
