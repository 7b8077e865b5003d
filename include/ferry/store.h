/*
 * ferry/store.h: the backup repository: immutable snapshots of device backups, each a complete backup
 * in the Finder layout (the <UDID> folder as Finder, idevicebackup2 and ferry's reader use it), plus a
 * small metadata file. A snapshot is made in a private staging folder and becomes visible only when it
 * is committed, in one atomic step, so an interrupted backup never leaves a half-made snapshot.
 *
 * The repository is an interface over backends (a small vtable in src/store/store_backend.h): today the
 * local directory backend (docs/repository.md) and the S3 backend (docs/fleet.md).
 * Staging folders are always local directories, whatever the backend: the host (mobilebackup2) or the
 * writer fills them, and the backend's commit moves the result into the repository.
 *
 * Snapshots are read-only once committed: unchanged files are shared with older snapshots (hard links
 * or reflinks), so whoever writes into a staging folder must replace files (create a new file, or
 * write a temporary and rename it over), never open an existing file for writing.
 *
 * Ownership: *_free releases what the matching call allocated; strings in ferry_snapshot_info_t are
 * inline arrays.
 */
#ifndef FERRY_STORE_H
#define FERRY_STORE_H

#include <stddef.h>
#include <stdint.h>
#include "ferry/backup.h"
#include "ferry/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FERRY_SNAPSHOT_ID_MAX 48  /* "20261128T155047.123Z-1a2b3c4d" + NUL, with room */
#define FERRY_UDID_MAX 128

/* What the repository knows of one snapshot (from its metadata file). */
typedef struct {
    char id[FERRY_SNAPSHOT_ID_MAX];         /* sortable: later ids sort after earlier ones */
    char udid[FERRY_UDID_MAX];
    char parent[FERRY_SNAPSHOT_ID_MAX];     /* the snapshot it was deduplicated against, "" for none */
    int64_t date;                           /* when it was committed, Unix seconds */
    int64_t backup_date;                    /* Status.plist Date, or 0 when absent */
    int encrypted;                          /* Manifest.plist IsEncrypted */
    uint64_t files;                         /* blobs in the hashed file store */
    uint64_t bytes;                         /* apparent size of every file of the backup */
    uint64_t added_bytes;                   /* bytes not shared with its parent when it was committed */
} ferry_snapshot_info_t;

typedef struct ferry_store ferry_store_t;
typedef struct ferry_staging ferry_staging_t;

/* The default repository location: $FERRY_REPO when set and non-empty, else
 * $HOME/.local/share/ferry/repo. *out is malloc'd. FERRY_ENOTFOUND when neither is set. */
int ferry_store_default_location(char **out);

/* Opens (and creates, 0700, when missing) the repository at location: a directory path for the local
 * backend, "s3://BUCKET/PREFIX" for the S3 backend (docs/fleet.md; the bucket is created when missing). */
int ferry_store_open(const char *location, ferry_store_t **out);
/* As ferry_store_open, but a repository that does not exist yet is FERRY_ENOTFOUND (for commands that
 * only read or remove, so that a mistyped --repo does not create a folder). */
int ferry_store_open_existing(const char *location, ferry_store_t **out);
void ferry_store_close(ferry_store_t *st);
/* "local" (or the scheme of another backend). */
const char *ferry_store_backend_name(const ferry_store_t *st);
/* The location the repository was opened with (borrowed). */
const char *ferry_store_location(const ferry_store_t *st);

/* Every snapshot (udid NULL) or one device's, ordered by UDID then id (oldest first). *out is
 * malloc'd (free()); *n may be 0 with *out NULL. */
int ferry_store_list(ferry_store_t *st, const char *udid, ferry_snapshot_info_t **out, size_t *n);
/* Finds a snapshot by id (or by a unique prefix of one); FERRY_ENOTFOUND / FERRY_EINVAL (ambiguous). */
int ferry_store_get(ferry_store_t *st, const char *id, ferry_snapshot_info_t *out);
/* The newest snapshot of a device; FERRY_ENOTFOUND when it has none. */
int ferry_store_latest(ferry_store_t *st, const char *udid, ferry_snapshot_info_t *out);
/* The snapshot's backup folder (the <UDID> folder, with Manifest.db), malloc'd, for the reading
 * commands. Treat it as read-only. */
int ferry_store_snapshot_path(ferry_store_t *st, const char *id, char **out);

/* ---- making a snapshot ------------------------------------------------------------------------- */

/* Starts a snapshot of device udid in a new private staging folder. Also removes staging folders
 * left by processes that died (kill -9) when no other process holds the repository. */
int ferry_store_begin(ferry_store_t *st, const char *udid, ferry_staging_t **out);
/* The folder to hand to mobilebackup2 / idevicebackup2 (it holds <UDID>/). */
const char *ferry_staging_root(const ferry_staging_t *stg);
/* The <UDID> folder itself, for ferry_writer_open. */
const char *ferry_staging_backup_dir(const ferry_staging_t *stg);
const char *ferry_staging_udid(const ferry_staging_t *stg);
/* Fills the staging folder with the device's latest snapshot (shared, not copied, where the backend
 * can), so that an incremental backup only sends what changed. *seeded_from gets the snapshot id or ""
 * when the device has no snapshot yet (may be NULL). */
int ferry_staging_seed(ferry_staging_t *stg, char seeded_from[FERRY_SNAPSHOT_ID_MAX]);

typedef struct {
    int verify;                         /* run ferry_backup_verify (quick) before committing */
    const ferry_credentials_t *cred;    /* for verifying an encrypted backup; without it an encrypted
                                           backup is checked for SnapshotState only */
} ferry_commit_opts_t;

/* Commits: the backup must be complete (Status.plist SnapshotState "finished"), optionally verified;
 * files identical to the parent snapshot's (same path, size and content) are shared with it; data is
 * synced; the metadata file is written; and the snapshot appears atomically. The staging handle is
 * freed whatever the result (on failure its folder is removed). out may be NULL. */
int ferry_staging_commit(ferry_staging_t *stg, const ferry_commit_opts_t *opts, ferry_snapshot_info_t *out);
/* Drops a staging folder and frees the handle. NULL is fine. */
void ferry_staging_abort(ferry_staging_t *stg);

/* Commits a copy of an existing backup folder (a <UDID> folder made by Finder, idevicebackup2 or
 * ferry) as a new snapshot through the same commit path. The source is only read. */
int ferry_store_import(ferry_store_t *st, const char *udid_dir, const ferry_commit_opts_t *opts,
                       ferry_snapshot_info_t *out);

/* ---- exporting (both backends) ------------------------------------------------------------------ */

/* Writes snapshot id as a Finder-layout backup: dest_dir/<UDID>/ (dest_dir is created when missing;
 * dest_dir/<UDID> must not exist). The S3 backend streams from the store and checks every byte's hash.
 * *out_dir (may be NULL) gets the <UDID> folder, malloc'd. */
int ferry_store_export(ferry_store_t *st, const char *id, const char *dest_dir, char **out_dir);
/* What the repository stores (S3: the sum of its objects' sizes); FERRY_EUNSUPPORTED for the local
 * backend. */
int ferry_store_usage(ferry_store_t *st, uint64_t *bytes, uint64_t *objects);

/* ---- removing snapshots ------------------------------------------------------------------------ */

typedef struct {
    size_t kept, removed;
    uint64_t freed_bytes;               /* bytes no longer referenced by any kept snapshot */
} ferry_prune_report_t;

/* Keeps the keep (>= 1) newest snapshots of each device (or of udid only) and removes the others,
 * each atomically; blobs still used by kept snapshots stay. Waits for commits in progress. removed
 * (may be NULL) gets a malloc'd array of the removed snapshots (free()). */
int ferry_store_prune(ferry_store_t *st, const char *udid, size_t keep, ferry_prune_report_t *report,
                      ferry_snapshot_info_t **removed, size_t *nremoved);

/* A UDID usable as a folder name: 1-127 characters of [A-Za-z0-9._-], not starting with '.'. */
int ferry_store_check_udid(const char *udid);

#ifdef __cplusplus
}
#endif
#endif
