/*
 * local_internal.h: what the files of the local directory backend share (local.c, local_commit.c,
 * local_prune.c): the backend's state, the repository lock and listing helpers.
 */
#ifndef FERRY_STORE_LOCAL_INTERNAL_H
#define FERRY_STORE_LOCAL_INTERNAL_H

#include "store_backend.h"

typedef struct {
    char *root;
    char *snap_dir;               /* root/snapshots */
    char *stage_dir;              /* root/.staging */
    char *trash_dir;              /* root/.trash */
    char *lock_path;              /* root/lock */
} local_t;

typedef struct {
    int lock_fd;                  /* flock held on lock_path for the staging folder's life */
    char *lock_path;              /* <root>.lock */
    char seeded_from[FERRY_SNAPSHOT_ID_MAX];
} local_staging_t;

/* flock(op) on the repository lock; FERRY_EEXIST (no message) when LOCK_NB finds it busy. */
int local_lock(local_t *l, int op, int *fd);
void local_unlock(int fd);
int local_list(ferry_store_t *st, const char *udid, ferry_snapshot_info_t **out, size_t *n);
/* FERRY_ENOTFOUND without a message when the device has no snapshot. */
int local_latest(ferry_store_t *st, const char *udid, ferry_snapshot_info_t *out);
/* snapshots/<UDID>/<id>, malloc'd. */
char *local_snapshot_dir(local_t *l, const ferry_snapshot_info_t *s);
/* Removes stale staging folders and the trash; only under the exclusive lock. */
void local_cleanup(local_t *l);

int local_commit(ferry_staging_t *stg, const ferry_commit_opts_t *opts, ferry_snapshot_info_t *out);
int local_prune(ferry_store_t *st, const char *udid, size_t keep, ferry_prune_report_t *report,
                ferry_snapshot_info_t **removed, size_t *nremoved);

#endif
