/*
 * store.c: the repository's public entry points: argument checks, finding snapshots by id or as a
 * device's newest, the default location, importing an existing backup folder, and dispatch to the
 * backend's vtable (store_backend.h). Nothing here knows how a backend keeps its snapshots.
 */
#include "store_backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

int ferry_store_default_location(char **out)
{
    const char *env = getenv("FERRY_REPO");
    *out = NULL;
    if (env && *env) {
        *out = strdup(env);
    } else {
        const char *home = getenv("HOME");
        if (!home || !*home)
            return ferry_error_set(FERRY_ENOTFOUND, "no repository given: set FERRY_REPO or HOME, or pass --repo DIR");
        *out = ferry_path_join(home, ".local/share/ferry/repo");
    }
    return *out ? 0 : ferry_error_set(FERRY_ENOMEM, "out of memory");
}

static int open_location(const char *location, int create, ferry_store_t **out)
{
    if (!location || !*location || !out)
        return ferry_error_set(FERRY_EINVAL, "ferry_store_open: no repository location");
    if (!strncmp(location, "s3://", 5))
        return ferry_store_s3_open(location, create, out);
    if (strstr(location, "://"))
        return ferry_error_set(FERRY_EUNSUPPORTED, "repository %s: local folders and s3://BUCKET/PREFIX only",
                               location);
    return ferry_store_local_open(location, create, out);
}

int ferry_store_open(const char *location, ferry_store_t **out)
{
    return open_location(location, 1, out);
}

int ferry_store_open_existing(const char *location, ferry_store_t **out)
{
    return open_location(location, 0, out);
}

void ferry_store_close(ferry_store_t *st)
{
    if (!st)
        return;
    st->ops->close(st);
    free(st->location);
    free(st);
}

const char *ferry_store_backend_name(const ferry_store_t *st)
{
    return st->ops->name;
}

const char *ferry_store_location(const ferry_store_t *st)
{
    return st->location;
}

int ferry_store_list(ferry_store_t *st, const char *udid, ferry_snapshot_info_t **out, size_t *n)
{
    int rc;
    if (udid && (rc = ferry_store_check_udid(udid)) != 0)
        return rc;
    return st->ops->list(st, udid, out, n);
}

int ferry_store_get(ferry_store_t *st, const char *id, ferry_snapshot_info_t *out)
{
    if (!id || !*id)
        return ferry_error_set(FERRY_EINVAL, "no snapshot id given");
    ferry_snapshot_info_t *v;
    size_t n, hits = 0, len = strlen(id);
    int rc = st->ops->list(st, NULL, &v, &n);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(v[i].id, id)) {
            *out = v[i];
            hits = 1;
            break;
        }
        if (!strncmp(v[i].id, id, len)) {
            *out = v[i];
            hits++;
        }
    }
    free(v);
    if (hits == 0)
        return ferry_error_set(FERRY_ENOTFOUND, "no snapshot %s in %s (ferry snapshots lists them)", id, st->location);
    if (hits > 1)
        return ferry_error_set(FERRY_EINVAL, "%s names %zu snapshots in %s: give more of the id", id, hits,
                               st->location);
    return 0;
}

int ferry_store_latest(ferry_store_t *st, const char *udid, ferry_snapshot_info_t *out)
{
    ferry_snapshot_info_t *v;
    size_t n;
    int rc = ferry_store_list(st, udid, &v, &n);
    if (rc)
        return rc;
    if (n == 0) {
        free(v);
        return ferry_error_set(FERRY_ENOTFOUND, "no snapshot of %s in %s", udid, st->location);
    }
    *out = v[n - 1];
    free(v);
    return 0;
}

int ferry_store_snapshot_path(ferry_store_t *st, const char *id, char **out)
{
    ferry_snapshot_info_t s;
    *out = NULL;
    int rc = ferry_store_get(st, id, &s);
    return rc ? rc : st->ops->snapshot_path(st, &s, out);
}

/* ---- staging ----------------------------------------------------------------------------------- */

static void staging_free(ferry_staging_t *stg)
{
    free(stg->root);
    free(stg->backup_dir);
    free(stg);
}

int ferry_store_begin(ferry_store_t *st, const char *udid, ferry_staging_t **out)
{
    *out = NULL;
    int rc = ferry_store_check_udid(udid);
    if (rc)
        return rc;
    ferry_staging_t *stg = calloc(1, sizeof *stg);
    if (!stg)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    stg->st = st;
    snprintf(stg->udid, sizeof stg->udid, "%s", udid);
    if ((rc = st->ops->begin(st, stg)) != 0) {
        st->ops->abort(stg);
        staging_free(stg);
        return rc;
    }
    *out = stg;
    return 0;
}

const char *ferry_staging_root(const ferry_staging_t *stg) { return stg->root; }
const char *ferry_staging_backup_dir(const ferry_staging_t *stg) { return stg->backup_dir; }
const char *ferry_staging_udid(const ferry_staging_t *stg) { return stg->udid; }

int ferry_staging_seed(ferry_staging_t *stg, char seeded_from[FERRY_SNAPSHOT_ID_MAX])
{
    return stg->st->ops->seed(stg, seeded_from);
}

int ferry_staging_commit(ferry_staging_t *stg, const ferry_commit_opts_t *opts, ferry_snapshot_info_t *out)
{
    int rc = stg->st->ops->commit(stg, opts, out);
    /* After a successful commit the folder has moved: abort only releases the staging lock. */
    stg->st->ops->abort(stg);
    staging_free(stg);
    return rc;
}

void ferry_staging_abort(ferry_staging_t *stg)
{
    if (!stg)
        return;
    stg->st->ops->abort(stg);
    staging_free(stg);
}

/* ---- importing --------------------------------------------------------------------------------- */

/* The device's UDID from Manifest.plist (Lockdown UniqueDeviceID), else the folder's name. */
static int import_udid(const char *dir, char out[FERRY_UDID_MAX])
{
    char *mp = ferry_path_join(dir, "Manifest.plist");
    ferry_manifest_plist_t m;
    out[0] = '\0';
    if (mp && ferry_manifest_plist_read(mp, &m) == 0) {
        if (m.udid && ferry_store_check_udid(m.udid) == 0)
            snprintf(out, FERRY_UDID_MAX, "%s", m.udid);
        ferry_manifest_plist_clear(&m);
    }
    free(mp);
    if (!out[0]) {
        const char *base = strrchr(dir, '/');
        char name[FERRY_UDID_MAX];
        snprintf(name, sizeof name, "%s", base && base[1] ? base + 1 : dir);
        char *slash = strchr(name, '/');
        if (slash)
            *slash = '\0';
        if (ferry_store_check_udid(name) != 0)
            return ferry_error_set(FERRY_EINVAL, "cannot tell the UDID of the backup in %s: no Manifest.plist "
                                                 "UniqueDeviceID and the folder name is not a UDID", dir);
        snprintf(out, FERRY_UDID_MAX, "%s", name);
    }
    ferry_error_clear();
    return 0;
}

int ferry_store_import(ferry_store_t *st, const char *udid_dir, const ferry_commit_opts_t *opts,
                       ferry_snapshot_info_t *out)
{
    char udid[FERRY_UDID_MAX];
    ferry_snapshot_info_t probe;
    memset(&probe, 0, sizeof probe);
    /* Refuse an unfinished backup before copying anything. */
    int rc = ferry_snapshot_check_finished(udid_dir, &probe);
    if (rc == 0)
        rc = import_udid(udid_dir, udid);
    if (rc)
        return rc;
    if (st->ops->import_dir)
        return st->ops->import_dir(st, udid, udid_dir, opts, out);
    ferry_staging_t *stg;
    if ((rc = ferry_store_begin(st, udid, &stg)) != 0)
        return rc;
    /* Start from the device's newest snapshot and replace only what differs, by rename, as an
     * incremental backup does: unchanged files are never copied. */
    if ((rc = ferry_staging_seed(stg, NULL)) != 0 || (rc = ferry_tree_sync(udid_dir, ferry_staging_backup_dir(stg))) != 0) {
        ferry_error_wrap(rc, "cannot import %s", udid_dir);
        ferry_staging_abort(stg);
        return rc;
    }
    return ferry_staging_commit(stg, opts, out);
}

/* ---- exporting --------------------------------------------------------------------------------- */

int ferry_store_export(ferry_store_t *st, const char *id, const char *dest_dir, char **out_dir)
{
    ferry_snapshot_info_t s;
    if (out_dir)
        *out_dir = NULL;
    int rc = ferry_store_get(st, id, &s);
    if (rc)
        return rc;
    if ((rc = ferry_mkdir_p(dest_dir, 0700)) != 0)
        return rc;
    char *dest = ferry_path_join(dest_dir, s.udid);
    if (!dest)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    if (st->ops->export_to) {
        rc = st->ops->export_to(st, &s, dest);
    } else {
        char *src = NULL;
        rc = st->ops->snapshot_path(st, &s, &src);
        if (rc == 0 && mkdir(dest, 0700) != 0)
            rc = errno == EEXIST ? ferry_error_set(FERRY_EEXIST, "%s exists: export writes a new folder", dest)
                                 : ferry_error_errno("cannot create %s", dest);
        if (rc == 0)
            rc = ferry_tree_sync(src, dest);
        free(src);
    }
    if (rc == 0 && out_dir)
        *out_dir = dest;
    else
        free(dest);
    return rc;
}

int ferry_store_usage(ferry_store_t *st, uint64_t *bytes, uint64_t *objects)
{
    *bytes = *objects = 0;
    if (!st->ops->usage)
        return ferry_error_set(FERRY_EUNSUPPORTED, "the %s backend does not measure its storage (use du)",
                               st->ops->name);
    return st->ops->usage(st, bytes, objects);
}

/* ---- pruning ----------------------------------------------------------------------------------- */

int ferry_store_prune(ferry_store_t *st, const char *udid, size_t keep, ferry_prune_report_t *report,
                      ferry_snapshot_info_t **removed, size_t *nremoved)
{
    ferry_prune_report_t local;
    ferry_prune_report_t *r = report ? report : &local;
    memset(r, 0, sizeof *r);
    if (removed) {
        *removed = NULL;
        *nremoved = 0;
    }
    if (keep < 1)
        return ferry_error_set(FERRY_EINVAL, "prune must keep at least one snapshot per device");
    int rc;
    if (udid && (rc = ferry_store_check_udid(udid)) != 0)
        return rc;
    return st->ops->prune(st, udid, keep, r, removed, nremoved);
}
