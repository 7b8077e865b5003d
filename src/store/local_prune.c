/*
 * local_prune.c: removing old snapshots from the local repository. Under the exclusive repository lock
 * (so no commit or seed is reading the snapshots being removed), each snapshot to remove is first
 * renamed into .trash/ (one atomic step: it is gone from listings at once), and only then deleted.
 * Blobs still linked from kept snapshots survive, because deleting a hard link never touches the
 * others. An interrupted prune leaves only trash, which the next prune or begin removes.
 */
#include "local_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static int trash_one(local_t *l, const ferry_snapshot_info_t *s, char **trashed)
{
    char *src = local_snapshot_dir(l, s);
    char *dst = ferry_path_join(l->trash_dir, s->id);
    int rc = 0;
    if (!src || !dst)
        rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
    else if (rename(src, dst) != 0)
        rc = ferry_error_errno("cannot move snapshot %s to %s", src, dst);
    free(src);
    if (rc) {
        free(dst);
        return rc;
    }
    *trashed = dst;
    return 0;
}

int local_prune(ferry_store_t *st, const char *udid, size_t keep, ferry_prune_report_t *report,
                ferry_snapshot_info_t **removed, size_t *nremoved)
{
    local_t *l = st->impl;
    int fd, rc = local_lock(l, LOCK_EX, &fd);
    if (rc)
        return rc;
    local_cleanup(l);
    ferry_snapshot_info_t *v = NULL;
    size_t n = 0;
    if ((rc = local_list(st, udid, &v, &n)) != 0) {
        local_unlock(fd);
        return rc;
    }
    ferry_snapshot_info_t *gone = calloc(n ? n : 1, sizeof *gone);
    char **trashed = calloc(n ? n : 1, sizeof *trashed);
    size_t ngone = 0;
    if (!gone || !trashed)
        rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
    /* v is sorted by UDID then id: each device's run ends with its newest. */
    for (size_t i = 0, j; rc == 0 && i < n; i = j) {
        for (j = i; j < n && !strcmp(v[j].udid, v[i].udid); j++)
            ;
        size_t count = j - i, drop = count > keep ? count - keep : 0;
        report->kept += count - drop;
        for (size_t k = i; rc == 0 && k < i + drop; k++) {
            if ((rc = trash_one(l, &v[k], &trashed[ngone])) == 0)
                gone[ngone++] = v[k];
        }
    }
    if (ngone && ferry_fsync_dir(l->snap_dir) == 0)
        ferry_fsync_dir(l->trash_dir);
    for (size_t k = 0; k < ngone; k++) {
        ferry_store_test_pause("trashed");
        int r = ferry_tree_remove(trashed[k], &report->freed_bytes);
        if (r && rc == 0)
            rc = r; /* the snapshot is already gone from the listing; the next prune retries */
        free(trashed[k]);
    }
    report->removed = ngone;
    local_unlock(fd);
    free(trashed);
    free(v);
    if (removed && rc == 0) {
        *removed = gone;
        *nremoved = ngone;
    } else {
        free(gone);
    }
    return rc;
}
