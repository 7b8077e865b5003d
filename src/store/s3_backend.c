/*
 * s3_backend.c: the S3 repository backend (`--repo s3://BUCKET/PREFIX`, docs/fleet.md): opening and
 * checking the location, the store vtable, local staging folders for backups in progress (a backup is
 * still written to a local folder by mobilebackup2; the commit uploads it), and the read-only cache
 * that gives the reading commands (verify, ls, extract) a local folder of a snapshot. Export and import
 * do not go through local copies: they stream between the folder and the store (s3_export.c,
 * s3_upload.c). Prefixes are restricted to [A-Za-z0-9/._-] without empty or dot segments so that every
 * key the backend builds is safe in a URL path and in a cache path.
 */
#include "s3_backend.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int check_prefix(const char *p)
{
    size_t n = strlen(p);
    if (n > 200)
        return ferry_error_set(FERRY_EINVAL, "S3 repository prefix '%s' is longer than 200 characters", p);
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              c == '.' || c == '/'))
            return ferry_error_set(FERRY_EINVAL, "S3 repository prefix '%s': use A-Z a-z 0-9 - _ . / only", p);
    }
    /* Segments: not empty, not "." or "..". */
    const char *s = p;
    while (*s) {
        const char *e = strchr(s, '/');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if ((len == 0 && e && e[1]) || (len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
            return ferry_error_set(FERRY_EINVAL, "S3 repository prefix '%s' has an empty, '.' or '..' part", p);
        if (!e)
            break;
        s = e + 1;
    }
    return 0;
}

static void s3_close(ferry_store_t *st)
{
    s3repo_t *r = st->impl;
    if (!r)
        return;
    ferry_s3_close(r->s3);
    free(r->prefix);
    free(r);
}

/* ---- a local cache for the reading commands ----------------------------------------------------- */

static char *cache_base(void)
{
    const char *v = getenv("FERRY_CACHE_DIR");
    if (v && *v)
        return strdup(v);
    v = getenv("XDG_CACHE_HOME");
    if (v && *v)
        return ferry_path_join(v, "ferry");
    v = getenv("HOME");
    return v && *v ? ferry_path_join(v, ".cache/ferry") : NULL;
}

static int s3_snapshot_path(ferry_store_t *st, const ferry_snapshot_info_t *snap, char **out)
{
    s3repo_t *r = st->impl;
    *out = NULL;
    char *base = cache_base(), rel[512], tmprel[600];
    if (!base)
        return ferry_error_set(FERRY_ENOTFOUND, "no cache folder for S3 snapshots: set FERRY_CACHE_DIR or HOME");
    uint8_t rnd[6];
    char hex[13];
    ferry_random_bytes(rnd, sizeof rnd);
    ferry_hex_encode(rnd, sizeof rnd, hex);
    snprintf(rel, sizeof rel, "s3/%s/%s%s", ferry_s3_bucket(r->s3), r->prefix, snap->id);
    snprintf(tmprel, sizeof tmprel, "%s.tmp-%s", rel, hex);
    char *dir = ferry_path_join(base, rel), *tmp = ferry_path_join(base, tmprel);
    char *done = dir ? ferry_path_join(dir, "complete") : NULL;
    char *udir = dir ? ferry_path_join(dir, snap->udid) : NULL;
    char *tudir = tmp ? ferry_path_join(tmp, snap->udid) : NULL;
    char *tdone = tmp ? ferry_path_join(tmp, "complete") : NULL;
    int rc = dir && tmp && done && udir && tudir && tdone ? 0 : ferry_error_set(FERRY_ENOMEM, "out of memory");
    struct stat sb;
    if (rc == 0 && stat(done, &sb) == 0) {
        *out = udir;
        udir = NULL;
        goto end;
    }
    /* Snapshots are immutable: materialise once into a temporary, then rename into place. */
    if (rc == 0)
        rc = ferry_mkdir_p(tmp, 0700);
    if (rc == 0)
        rc = s3_export_to(st, snap, tudir);
    if (rc == 0)
        rc = ferry_file_write_atomic(tdone, "ok\n", 3, 0600);
    if (rc == 0 && rename(tmp, dir) != 0 && errno != EEXIST && errno != ENOTEMPTY)
        rc = ferry_error_errno("cannot move the cached snapshot into %s", dir);
    ferry_tree_remove(tmp, NULL);
    if (rc == 0) {
        *out = udir;
        udir = NULL;
    }
end:
    free(base), free(dir), free(tmp), free(done), free(udir), free(tudir), free(tdone);
    return rc;
}

/* ---- staging (a backup in progress is a local folder) ------------------------------------------ */

static int s3_begin(ferry_store_t *st, ferry_staging_t *stg)
{
    (void)st;
    const char *t = getenv("TMPDIR");
    char *tmpl = ferry_path_join(t && *t ? t : "/tmp", "ferry-s3-stage-XXXXXX");
    if (!tmpl)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    if (!mkdtemp(tmpl)) {
        int rc = ferry_error_errno("cannot create a staging folder %s", tmpl);
        free(tmpl);
        return rc;
    }
    stg->root = tmpl;
    stg->backup_dir = ferry_path_join(tmpl, stg->udid);
    if (!stg->backup_dir)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    if (mkdir(stg->backup_dir, 0700) != 0)
        return ferry_error_errno("cannot create %s", stg->backup_dir);
    return 0;
}

/* An incremental backup needs the previous backup in the staging folder: the device compares it with
 * its own state and sends only what changed, and every file it does not send must be there for the
 * commit. So the latest snapshot is exported into the staging folder (every byte checked against its
 * hash). That costs a download from the store (fast, local network) to save the transfer from the
 * device (slow, USB); the upload then stores only contents the repository does not hold yet. A
 * snapshot that cannot be read back is not fatal: the backup becomes a full one, with a warning. */
static int s3_seed(ferry_staging_t *stg, char seeded_from[FERRY_SNAPSHOT_ID_MAX])
{
    if (seeded_from)
        seeded_from[0] = '\0';
    ferry_snapshot_info_t prev;
    int rc = ferry_store_latest(stg->st, stg->udid, &prev);
    if (rc == FERRY_ENOTFOUND) {
        ferry_error_clear();
        return 0;
    }
    if (rc)
        return rc;
    if (rmdir(stg->backup_dir) != 0)
        return ferry_error_errno("cannot prepare %s for the previous snapshot", stg->backup_dir);
    rc = s3_export_to(stg->st, &prev, stg->backup_dir);
    if (rc) {
        ferry_log(FERRY_LOG_WARN, "cannot seed the backup of %s with snapshot %s (%s): the device sends a full backup",
                  stg->udid, prev.id, ferry_error_last());
        ferry_error_clear();
        if ((rc = ferry_tree_remove(stg->backup_dir, NULL)) != 0 && rc != FERRY_ENOTFOUND)
            return rc;
        ferry_error_clear();
        if (mkdir(stg->backup_dir, 0700) != 0)
            return ferry_error_errno("cannot create %s", stg->backup_dir);
        return 0;
    }
    if (seeded_from)
        snprintf(seeded_from, FERRY_SNAPSHOT_ID_MAX, "%s", prev.id);
    return 0;
}

static int s3_commit(ferry_staging_t *stg, const ferry_commit_opts_t *opts, ferry_snapshot_info_t *out)
{
    return s3_upload(stg->st, stg->udid, stg->backup_dir, opts, out);
}

static void s3_abort(ferry_staging_t *stg)
{
    if (stg->root)
        ferry_tree_remove(stg->root, NULL);
}

static int s3_import(ferry_store_t *st, const char *udid, const char *dir, const ferry_commit_opts_t *opts,
                     ferry_snapshot_info_t *out)
{
    return s3_upload(st, udid, dir, opts, out);
}

static int s3_export(ferry_store_t *st, const ferry_snapshot_info_t *snap, const char *dest)
{
    return s3_export_to(st, snap, dest);
}

static const ferry_store_ops_t s3_ops = {
    .name = "s3",
    .close = s3_close,
    .list = s3_list,
    .snapshot_path = s3_snapshot_path,
    .begin = s3_begin,
    .seed = s3_seed,
    .commit = s3_commit,
    .abort = s3_abort,
    .prune = s3_prune,
    .import_dir = s3_import,
    .export_to = s3_export,
    .usage = s3_usage,
};

int ferry_store_s3_open(const char *location, int create, ferry_store_t **out)
{
    *out = NULL;
    const char *p = location + 5; /* after "s3://" */
    const char *slash = strchr(p, '/');
    size_t blen = slash ? (size_t)(slash - p) : strlen(p);
    char bucket[64];
    if (blen == 0 || blen >= sizeof bucket)
        return ferry_error_set(FERRY_EINVAL, "repository %s: expected s3://BUCKET/PREFIX", location);
    memcpy(bucket, p, blen);
    bucket[blen] = '\0';
    const char *prefix = slash ? slash + 1 : "";
    int rc = check_prefix(prefix);
    if (rc)
        return rc;
    ferry_store_t *st = calloc(1, sizeof *st);
    s3repo_t *r = calloc(1, sizeof *r);
    size_t plen = strlen(prefix);
    if (r)
        r->prefix = malloc(plen + 2);
    if (!st || !r || !r->prefix || !(st->location = strdup(location))) {
        free(st ? st->location : NULL), free(st), free(r ? r->prefix : NULL), free(r);
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    snprintf(r->prefix, plen + 2, "%s%s", prefix, plen && prefix[plen - 1] != '/' ? "/" : "");
    st->ops = &s3_ops;
    st->impl = r;
    rc = ferry_s3_open(bucket, &r->s3);
    if (rc == 0) {
        rc = ferry_s3_check_bucket(r->s3);
        if (rc == FERRY_ENOTFOUND && create) {
            ferry_error_clear();
            rc = ferry_s3_create_bucket(r->s3);
        }
    }
    if (rc) {
        ferry_store_close(st);
        return rc;
    }
    *out = st;
    return 0;
}
