/*
 * store_backend.h: the repository interface that every backend implements (a vtable), and the parts
 * the backends share: snapshot ids, the metadata file, tree helpers over local folders. The generic
 * entry points of store.h (store.c) check their arguments and dispatch here; a backend never sees a
 * NULL handle or an unchecked UDID.
 */
#ifndef FERRY_STORE_BACKEND_H
#define FERRY_STORE_BACKEND_H

#include <stdint.h>
#include <sys/stat.h>
#include "ferry/store.h"

typedef struct {
    const char *name;
    void (*close)(ferry_store_t *st);
    int (*list)(ferry_store_t *st, const char *udid, ferry_snapshot_info_t **out, size_t *n);
    /* Gives a local folder holding the snapshot's <UDID> folder (the local backend: the snapshot
     * itself; a remote backend would materialise it in a cache). */
    int (*snapshot_path)(ferry_store_t *st, const ferry_snapshot_info_t *snap, char **out);
    int (*begin)(ferry_store_t *st, ferry_staging_t *stg);
    int (*seed)(ferry_staging_t *stg, char seeded_from[FERRY_SNAPSHOT_ID_MAX]);
    int (*commit)(ferry_staging_t *stg, const ferry_commit_opts_t *opts, ferry_snapshot_info_t *out);
    void (*abort)(ferry_staging_t *stg);
    int (*prune)(ferry_store_t *st, const char *udid, size_t keep, ferry_prune_report_t *report,
                 ferry_snapshot_info_t **removed, size_t *nremoved);
    /* Optional (NULL: the generic path of store.c). import_dir commits a folder without staging a
     * copy; export_to writes the snapshot's <UDID> folder at dest (which must not exist); usage
     * measures what the repository stores. */
    int (*import_dir)(ferry_store_t *st, const char *udid, const char *dir, const ferry_commit_opts_t *opts,
                      ferry_snapshot_info_t *out);
    int (*export_to)(ferry_store_t *st, const ferry_snapshot_info_t *snap, const char *dest);
    int (*usage)(ferry_store_t *st, uint64_t *bytes, uint64_t *objects);
} ferry_store_ops_t;

struct ferry_store {
    const ferry_store_ops_t *ops;
    char *location;
    void *impl;                   /* the backend's state */
};

struct ferry_staging {
    ferry_store_t *st;
    char udid[FERRY_UDID_MAX];
    char *root;                   /* local folder handed to mobilebackup2 */
    char *backup_dir;             /* root/<UDID> */
    void *impl;
};

/* The local directory backend (local.c); create=0: FERRY_ENOTFOUND when path holds no repository. */
int ferry_store_local_open(const char *path, int create, ferry_store_t **out);

/* The S3 backend (s3_backend.c), location "s3://BUCKET/PREFIX"; create=0: FERRY_ENOTFOUND when the
 * bucket does not exist. */
int ferry_store_s3_open(const char *location, int create, ferry_store_t **out);

/* ---- shared helpers (snapmeta.c) --------------------------------------------------------------- */

#define FERRY_SNAPSHOT_META "snapshot.plist"

/* A new id: UTC time with milliseconds and 32 random bits, "20261128T155047.123Z-1a2b3c4d". */
int ferry_snapshot_new_id(char out[FERRY_SNAPSHOT_ID_MAX]);
/* 0 when name looks like an id (so that listing skips anything else). */
int ferry_snapshot_check_id(const char *name);
int ferry_snapshot_meta_write(const char *path, const ferry_snapshot_info_t *info);
int ferry_snapshot_meta_read(const char *path, ferry_snapshot_info_t *out);
/* Reads encrypted and the backup date from a <UDID> folder's Manifest.plist / Status.plist, and
 * checks that Status.plist says SnapshotState "finished". */
int ferry_snapshot_check_finished(const char *backup_dir, ferry_snapshot_info_t *info);
/* Sorts by UDID then id. */
void ferry_snapshot_sort(ferry_snapshot_info_t *v, size_t n);

/* ---- local tree helpers (tree.c) --------------------------------------------------------------- */

/* rm -rf that never follows symbolic links; ENOENT is success. *freed (may be NULL) adds the bytes of
 * files that had no other link. */
int ferry_tree_remove(const char *path, uint64_t *freed);
/* Copies one regular file to a new file dst (O_EXCL, mode 0600): a reflink when the filesystem has
 * them, else bytes; fsync is left to the caller. */
int ferry_tree_copy_file(const char *src, const char *dst);
/* 1 when the two regular files have the same size and content, 0 when not, negative on error. */
int ferry_tree_same_content(const char *a, const char *b, const struct stat *sa, const struct stat *sb);
/* Replaces dst by a file sharing src's data: a reflink into a temporary then rename, else a hard link
 * to a temporary then rename. Never writes into an existing inode. Returns 1 when shared, 0 when the
 * filesystem refused (too many links, another device; dst is left as it was), negative on error. */
int ferry_tree_share(const char *src, const char *dst);

/* Makes the tree at dst hold exactly what the tree at src holds: files that differ (or are missing)
 * are copied to a temporary and renamed into place, files and folders absent from src are removed,
 * identical files are left as they are (so links to older snapshots survive). Only regular files and
 * folders are accepted in src (FERRY_EUNSAFE otherwise). */
int ferry_tree_sync(const char *src, const char *dst);

/* The ferry_verify_cb both backends give the verify that runs before a commit: problems are logged as
 * errors, warnings only at debug level (local_commit.c). */
void store_log_verify_finding(void *ctx, ferry_verify_severity_t sev, const char *what, const char *msg);

/* Test hook: when FERRY_STORE_TEST_PAUSE names this step, the process stops itself (SIGSTOP) so that a
 * test can kill -9 it exactly there. A no-op otherwise. */
void ferry_store_test_pause(const char *step);

#endif
