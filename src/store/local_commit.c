/*
 * local_commit.c: committing a staging folder into the local repository. Steps, in this order: the
 * backup is complete (SnapshotState finished) and optionally verified; under the shared repository
 * lock the parent (the device's newest snapshot) is found; every file is made 0600 and every folder
 * 0700, and each file whose path, size and content equal the parent's is replaced by a reflink or
 * hard link to it (by rename, never by writing into a shared inode); the filesystem is synced; the
 * metadata file is written atomically; the folder is renamed into snapshots/<UDID>/<id>; the
 * directories are synced. A process killed at any point before the rename leaves only a staging folder
 * that the next run removes; after it, a complete snapshot.
 *
 * FERRY_STORE_TEST_PAUSE=<step> stops the process at a step (checked, deduped, synced, metadata,
 * renamed) so that tests can kill -9 it there.
 */
#include "local_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    uint64_t files, bytes, added;
} walk_stats_t;

static int is_bucket(const char *name)
{
    return strlen(name) == 2 && strspn(name, "0123456789abcdef") == 2;
}

/* Shares path with parent_path when the parent has the same content. Returns 1 when shared. */
static int dedup_file(const char *path, struct stat *st, const char *parent_path)
{
    struct stat ps;
    if (!parent_path || lstat(parent_path, &ps) != 0 || !S_ISREG(ps.st_mode))
        return 0;
    if (ps.st_dev == st->st_dev && ps.st_ino == st->st_ino)
        return 1; /* seeded, unchanged */
    int same = ferry_tree_same_content(path, parent_path, st, &ps);
    if (same < 0)
        return same;
    if (!same)
        return 0;
    return ferry_tree_share(parent_path, path);
}

enum { LEVEL_TOP, LEVEL_BUCKET, LEVEL_OTHER };

/* dir: a staging folder; parent: the same folder in the parent snapshot, or NULL. level: LEVEL_TOP for
 * the <UDID> folder, LEVEL_BUCKET for its two-hex-digit subfolders (which hold the blobs). */
static int walk(const char *dir, const char *parent, int level, walk_stats_t *ws)
{
    DIR *d = opendir(dir);
    if (!d)
        return ferry_error_errno("cannot list %s", dir);
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (errno = 0, e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char *p = ferry_path_join(dir, e->d_name);
        char *pp = parent ? ferry_path_join(parent, e->d_name) : NULL;
        struct stat st;
        if (!p || (parent && !pp)) {
            rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
        } else if (lstat(p, &st) != 0) {
            rc = ferry_error_errno("cannot inspect %s", p);
        } else if (S_ISDIR(st.st_mode)) {
            if ((st.st_mode & 07777) != 0700 && chmod(p, 0700) != 0)
                rc = ferry_error_errno("cannot set the mode of %s", p);
            else
                rc = walk(p, pp, level == LEVEL_TOP && is_bucket(e->d_name) ? LEVEL_BUCKET : LEVEL_OTHER, ws);
        } else if (S_ISREG(st.st_mode)) {
            if ((st.st_mode & 07777) != 0600 && chmod(p, 0600) != 0) {
                rc = ferry_error_errno("cannot set the mode of %s", p);
            } else {
                int shared = dedup_file(p, &st, pp);
                if (shared < 0) {
                    rc = shared;
                } else {
                    ws->bytes += (uint64_t)st.st_size;
                    ws->files += level == LEVEL_BUCKET ? 1 : 0;
                    if (!shared)
                        ws->added += (uint64_t)st.st_blocks * 512u;
                }
            }
        } else {
            rc = ferry_error_set(FERRY_EUNSAFE, "%s is neither a file nor a folder: a backup holds only those", p);
        }
        free(p);
        free(pp);
    }
    if (rc == 0 && errno)
        rc = ferry_error_errno("cannot list %s", dir);
    closedir(d);
    return rc;
}

void store_log_verify_finding(void *ctx, ferry_verify_severity_t sev, const char *what, const char *msg)
{
    (void)ctx;
    if (sev != FERRY_VERIFY_OK)
        ferry_log(sev == FERRY_VERIFY_PROBLEM ? FERRY_LOG_ERROR : FERRY_LOG_DEBUG, "verify: %s: %s",
                  what ? what : "backup", msg);
}

static int maybe_verify(ferry_staging_t *stg, const ferry_commit_opts_t *o, const ferry_snapshot_info_t *info)
{
    if (!o || !o->verify)
        return 0;
    if (info->encrypted && !o->cred) {
        ferry_log(FERRY_LOG_INFO, "not verifying the encrypted backup of %s before commit: no password given",
                  stg->udid);
        return 0;
    }
    ferry_credentials_t none;
    memset(&none, 0, sizeof none);
    ferry_verify_opts_t vo = {.decrypt_content = 0};
    ferry_verify_report_t rep;
    memset(&rep, 0, sizeof rep);
    int rc = ferry_backup_verify(stg->backup_dir, o->cred ? o->cred : &none, &vo, store_log_verify_finding, NULL, &rep);
    if (rc == FERRY_EINTEGRITY)
        return ferry_error_set(FERRY_EINTEGRITY,
                               "the backup of %s has %llu problems (ferry verify shows them): not committed",
                               stg->udid, (unsigned long long)rep.problems);
    return rc ? ferry_error_wrap(rc, "cannot verify the backup of %s before commit", stg->udid) : 0;
}

static int sync_fs(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return ferry_error_errno("cannot open %s", dir);
    int rc = syncfs(fd) != 0 ? ferry_error_errno("cannot sync the filesystem of %s", dir) : 0;
    close(fd);
    return rc;
}

/* Renames the finished folder into snapshots/<UDID>/<id> and makes the rename durable. */
static int publish(local_t *l, ferry_staging_t *stg, const ferry_snapshot_info_t *info)
{
    char *udir = ferry_path_join(l->snap_dir, stg->udid);
    char *dst = udir ? ferry_path_join(udir, info->id) : NULL;
    int rc = 0;
    if (!dst) {
        rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
    } else if (mkdir(udir, 0700) != 0 && errno != EEXIST) {
        rc = ferry_error_errno("cannot create %s", udir);
    } else if ((rc = ferry_fsync_dir(l->snap_dir)) == 0) {
        if (rename(stg->root, dst) != 0)
            rc = ferry_error_errno("cannot move %s to %s", stg->root, dst);
        else if ((rc = ferry_fsync_dir(udir)) == 0)
            rc = ferry_fsync_dir(l->stage_dir);
    }
    free(udir);
    free(dst);
    return rc;
}

int local_commit(ferry_staging_t *stg, const ferry_commit_opts_t *opts, ferry_snapshot_info_t *out)
{
    local_t *l = stg->st->impl;
    ferry_snapshot_info_t info;
    memset(&info, 0, sizeof info);
    snprintf(info.udid, sizeof info.udid, "%s", stg->udid);
    int rc = ferry_snapshot_check_finished(stg->backup_dir, &info);
    if (rc == 0)
        rc = maybe_verify(stg, opts, &info);
    if (rc)
        return rc;
    ferry_store_test_pause("checked");
    int fd;
    if ((rc = local_lock(l, LOCK_SH, &fd)) != 0)
        return rc;
    ferry_snapshot_info_t parent;
    char *parent_dir = NULL;
    rc = local_latest(stg->st, stg->udid, &parent);
    if (rc == 0) {
        char *sd = local_snapshot_dir(l, &parent);
        parent_dir = sd ? ferry_path_join(sd, stg->udid) : NULL;
        free(sd);
        snprintf(info.parent, sizeof info.parent, "%s", parent.id);
        if (!parent_dir)
            rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
    } else if (rc == FERRY_ENOTFOUND) {
        rc = 0;
    }
    walk_stats_t ws = {0, 0, 0};
    if (rc == 0)
        rc = walk(stg->backup_dir, parent_dir, LEVEL_TOP, &ws);
    free(parent_dir);
    if (rc == 0) {
        ferry_store_test_pause("deduped");
        rc = sync_fs(stg->root);
    }
    if (rc == 0) {
        ferry_store_test_pause("synced");
        info.files = ws.files;
        info.bytes = ws.bytes;
        info.added_bytes = ws.added;
        info.date = (int64_t)time(NULL);
        rc = ferry_snapshot_new_id(info.id);
        if (rc == 0 && info.parent[0] && strcmp(info.id, info.parent) <= 0)
            ferry_log(FERRY_LOG_WARN, "the clock is behind the newest snapshot %s: %s will not sort after it",
                      info.parent, info.id);
    }
    if (rc == 0) {
        char *meta = ferry_path_join(stg->root, FERRY_SNAPSHOT_META);
        rc = meta ? ferry_snapshot_meta_write(meta, &info) : ferry_error_set(FERRY_ENOMEM, "out of memory");
        free(meta);
    }
    if (rc == 0) {
        ferry_store_test_pause("metadata");
        rc = publish(l, stg, &info);
    }
    local_unlock(fd);
    if (rc)
        return ferry_error_wrap(rc, "cannot commit the snapshot of %s", stg->udid);
    ferry_store_test_pause("renamed");
    if (out)
        *out = info;
    return 0;
}
