/*
 * local.c: the local directory backend: opening a repository folder, its lock, listing snapshots,
 * staging folders (begin, seed, abort) and cleaning up after processes that died. Layout
 * (docs/repository.md): REPO/lock, REPO/snapshots/<UDID>/<id>/{snapshot.plist,<UDID>/},
 * REPO/.staging/<name>/ with REPO/.staging/<name>.lock, REPO/.trash/.
 *
 * Invariants: a folder under snapshots/ is complete (it got there by one rename after its metadata was
 * written); a staging folder belongs to the process holding the flock on its .lock file, so one whose
 * lock can be taken is stale; stale folders are removed only under the exclusive repository lock, and
 * staging folders are created under the shared one, so a cleaner never removes one being created.
 */
#include "local_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static const ferry_store_ops_t local_ops;

static char *join3(const char *a, const char *b, const char *c)
{
    char *ab = ferry_path_join(a, b);
    char *r = ab ? ferry_path_join(ab, c) : NULL;
    free(ab);
    return r;
}

int local_lock(local_t *l, int op, int *fd)
{
    *fd = open(l->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (*fd < 0)
        return ferry_error_errno("cannot open the repository lock %s", l->lock_path);
    int r;
    do
        r = flock(*fd, op);
    while (r != 0 && errno == EINTR);
    if (r != 0) {
        int busy = errno == EWOULDBLOCK;
        int rc = busy ? FERRY_EEXIST : ferry_error_errno("cannot lock %s", l->lock_path);
        close(*fd);
        *fd = -1;
        return rc;
    }
    return 0;
}

void local_unlock(int fd)
{
    if (fd >= 0)
        close(fd); /* releases the flock */
}

static void local_free(local_t *l)
{
    if (!l)
        return;
    free(l->root);
    free(l->snap_dir);
    free(l->stage_dir);
    free(l->trash_dir);
    free(l->lock_path);
    free(l);
}

int ferry_store_local_open(const char *path, int create, ferry_store_t **out)
{
    *out = NULL;
    local_t *l = calloc(1, sizeof *l);
    ferry_store_t *st = calloc(1, sizeof *st);
    if (!l || !st)
        goto nomem;
    l->root = strdup(path);
    l->snap_dir = ferry_path_join(path, "snapshots");
    l->stage_dir = ferry_path_join(path, ".staging");
    l->trash_dir = ferry_path_join(path, ".trash");
    l->lock_path = ferry_path_join(path, "lock");
    st->location = strdup(path);
    if (!l->root || !l->snap_dir || !l->stage_dir || !l->trash_dir || !l->lock_path || !st->location)
        goto nomem;
    int rc;
    struct stat sb;
    if (!create && (stat(l->snap_dir, &sb) != 0 || !S_ISDIR(sb.st_mode))) {
        rc = ferry_error_set(FERRY_ENOTFOUND,
                             "no repository at %s (a backup or `ferry snapshot import` creates it; see --repo)", path);
        local_free(l);
        free(st->location);
        free(st);
        return rc;
    }
    if ((rc = ferry_mkdir_p(l->snap_dir, 0700)) || (rc = ferry_mkdir_p(l->stage_dir, 0700)) ||
        (rc = ferry_mkdir_p(l->trash_dir, 0700))) {
        ferry_error_wrap(rc, "cannot create the repository %s", path);
        local_free(l);
        free(st->location);
        free(st);
        return rc;
    }
    st->ops = &local_ops;
    st->impl = l;
    *out = st;
    return 0;
nomem:
    local_free(l);
    if (st)
        free(st->location);
    free(st);
    return ferry_error_set(FERRY_ENOMEM, "out of memory");
}

static void local_close(ferry_store_t *st)
{
    local_free(st->impl);
}

/* ---- listing ----------------------------------------------------------------------------------- */

static int push(ferry_snapshot_info_t **v, size_t *n, size_t *cap, const ferry_snapshot_info_t *s)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        ferry_snapshot_info_t *nv = realloc(*v, nc * sizeof *nv);
        if (!nv)
            return ferry_error_set(FERRY_ENOMEM, "out of memory");
        *v = nv;
        *cap = nc;
    }
    (*v)[(*n)++] = *s;
    return 0;
}

static int list_udid(local_t *l, const char *udid, ferry_snapshot_info_t **v, size_t *n, size_t *cap)
{
    char *dir = ferry_path_join(l->snap_dir, udid);
    if (!dir)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    DIR *d = opendir(dir);
    if (!d) {
        int rc = errno == ENOENT ? 0 : ferry_error_errno("cannot list %s", dir);
        free(dir);
        return rc;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (ferry_snapshot_check_id(e->d_name))
            continue;
        char *meta = join3(dir, e->d_name, FERRY_SNAPSHOT_META);
        ferry_snapshot_info_t s;
        if (!meta) {
            rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
        } else if (ferry_snapshot_meta_read(meta, &s) != 0) {
            ferry_log(FERRY_LOG_WARN, "skipping snapshot %s: %s", e->d_name, ferry_error_last());
        } else if (strcmp(s.id, e->d_name) || strcmp(s.udid, udid)) {
            ferry_log(FERRY_LOG_WARN, "skipping snapshot %s/%s: its metadata names %s/%s", udid, e->d_name, s.udid,
                      s.id);
        } else {
            rc = push(v, n, cap, &s);
        }
        free(meta);
    }
    closedir(d);
    free(dir);
    return rc;
}

int local_list(ferry_store_t *st, const char *udid, ferry_snapshot_info_t **out, size_t *n)
{
    local_t *l = st->impl;
    ferry_snapshot_info_t *v = NULL;
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    int rc = 0;
    if (udid) {
        rc = list_udid(l, udid, &v, n, &cap);
    } else {
        DIR *d = opendir(l->snap_dir);
        if (!d)
            return ferry_error_errno("cannot list %s", l->snap_dir);
        struct dirent *e;
        while (rc == 0 && (e = readdir(d)))
            if (e->d_name[0] != '.' && ferry_store_check_udid(e->d_name) == 0)
                rc = list_udid(l, e->d_name, &v, n, &cap);
        closedir(d);
        ferry_error_clear();
    }
    if (rc) {
        free(v);
        *n = 0;
        return rc;
    }
    ferry_snapshot_sort(v, *n);
    *out = v;
    return 0;
}

char *local_snapshot_dir(local_t *l, const ferry_snapshot_info_t *s)
{
    return join3(l->snap_dir, s->udid, s->id);
}

static int local_snapshot_path(ferry_store_t *st, const ferry_snapshot_info_t *s, char **out)
{
    char *d = local_snapshot_dir(st->impl, s);
    *out = d ? ferry_path_join(d, s->udid) : NULL;
    free(d);
    return *out ? 0 : ferry_error_set(FERRY_ENOMEM, "out of memory");
}

int local_latest(ferry_store_t *st, const char *udid, ferry_snapshot_info_t *out)
{
    ferry_snapshot_info_t *v;
    size_t n;
    int rc = local_list(st, udid, &v, &n);
    if (rc)
        return rc;
    if (n == 0) {
        free(v);
        return FERRY_ENOTFOUND; /* no message: having no snapshot yet is normal here */
    }
    *out = v[n - 1];
    free(v);
    return 0;
}

/* ---- cleaning up after dead processes ---------------------------------------------------------- */

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

/* Only under the exclusive repository lock. */
static void remove_stale(local_t *l, const char *name)
{
    char *lock = ferry_path_join(l->stage_dir, name);
    if (!lock)
        return;
    int fd = open(lock, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0) {
        lock[strlen(lock) - strlen(".lock")] = '\0';
        if (ferry_tree_remove(lock, NULL) == 0) {
            ferry_log(FERRY_LOG_INFO, "removed the stale staging folder %s", lock);
            strcat(lock, ".lock");
            unlink(lock);
        }
    }
    if (fd >= 0)
        close(fd);
    free(lock);
}

void local_cleanup(local_t *l)
{
    DIR *d = opendir(l->stage_dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            if (ends_with(e->d_name, ".lock")) {
                remove_stale(l, e->d_name);
                continue;
            }
            /* A folder whose lock file is gone: its cleaner died before finishing. */
            char *lock = malloc(strlen(l->stage_dir) + strlen(e->d_name) + 8);
            if (!lock)
                break;
            sprintf(lock, "%s/%s.lock", l->stage_dir, e->d_name);
            if (access(lock, F_OK) != 0 && errno == ENOENT) {
                lock[strlen(lock) - 5] = '\0';
                ferry_tree_remove(lock, NULL);
            }
            free(lock);
        }
        closedir(d);
    }
    DIR *t = opendir(l->trash_dir);
    if (t) {
        struct dirent *e;
        while ((e = readdir(t))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char *p = ferry_path_join(l->trash_dir, e->d_name);
            if (p)
                ferry_tree_remove(p, NULL);
            free(p);
        }
        closedir(t);
    }
    ferry_error_clear();
}

/* ---- staging ----------------------------------------------------------------------------------- */

static int local_begin(ferry_store_t *st, ferry_staging_t *stg)
{
    local_t *l = st->impl;
    int fd;
    if (local_lock(l, LOCK_EX | LOCK_NB, &fd) == 0) {
        local_cleanup(l);
        local_unlock(fd);
    }
    int rc = local_lock(l, LOCK_SH, &fd);
    if (rc)
        return rc;
    local_staging_t *ls = calloc(1, sizeof *ls);
    uint8_t r[8];
    char hex[17], name[FERRY_UDID_MAX + 32];
    if (!ls) {
        rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
        goto done;
    }
    ls->lock_fd = -1;
    stg->impl = ls;
    if ((rc = ferry_random_bytes(r, sizeof r)) != 0)
        goto done;
    ferry_hex_encode(r, sizeof r, hex);
    snprintf(name, sizeof name, "%s.%s", stg->udid, hex);
    stg->root = ferry_path_join(l->stage_dir, name);
    ls->lock_path = stg->root ? malloc(strlen(stg->root) + 6) : NULL;
    stg->backup_dir = stg->root ? ferry_path_join(stg->root, stg->udid) : NULL;
    if (!stg->root || !ls->lock_path || !stg->backup_dir) {
        rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
        goto done;
    }
    sprintf(ls->lock_path, "%s.lock", stg->root);
    /* The lock file first, then the folder: a folder without its lock file is stale. */
    ls->lock_fd = open(ls->lock_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (ls->lock_fd < 0 || flock(ls->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        rc = ferry_error_errno("cannot create the staging lock %s", ls->lock_path);
        goto done;
    }
    if (mkdir(stg->root, 0700) != 0 || mkdir(stg->backup_dir, 0700) != 0)
        rc = ferry_error_errno("cannot create the staging folder %s", stg->backup_dir);
done:
    local_unlock(fd);
    return rc;
}

static void local_abort(ferry_staging_t *stg)
{
    local_staging_t *ls = stg->impl;
    if (!ls)
        return;
    if (stg->root && ls->lock_fd >= 0) {
        ferry_tree_remove(stg->root, NULL);
        unlink(ls->lock_path);
    }
    if (ls->lock_fd >= 0)
        close(ls->lock_fd);
    free(ls->lock_path);
    free(ls);
    stg->impl = NULL;
}

/* Mirrors the tree at src into dst: directories created 0700, files hard-linked (copied when the
 * filesystem refuses the link). */
static int seed_tree(const char *src, const char *dst)
{
    DIR *d = opendir(src);
    if (!d)
        return ferry_error_errno("cannot list %s", src);
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char *s = ferry_path_join(src, e->d_name), *t = ferry_path_join(dst, e->d_name);
        struct stat st;
        if (!s || !t)
            rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
        else if (lstat(s, &st) != 0)
            rc = ferry_error_errno("cannot inspect %s", s);
        else if (S_ISDIR(st.st_mode))
            rc = (mkdir(t, 0700) != 0 && errno != EEXIST) ? ferry_error_errno("cannot create %s", t) : seed_tree(s, t);
        else if (S_ISREG(st.st_mode) && link(s, t) != 0)
            rc = (errno == EMLINK || errno == EXDEV || errno == EPERM) ? ferry_tree_copy_file(s, t)
                                                                        : ferry_error_errno("cannot link %s", t);
        free(s);
        free(t);
    }
    closedir(d);
    return rc;
}

static int local_seed(ferry_staging_t *stg, char seeded_from[FERRY_SNAPSHOT_ID_MAX])
{
    local_t *l = stg->st->impl;
    local_staging_t *ls = stg->impl;
    int fd, rc = local_lock(l, LOCK_SH, &fd);
    if (rc)
        return rc;
    ferry_snapshot_info_t p;
    rc = local_latest(stg->st, stg->udid, &p);
    if (rc == FERRY_ENOTFOUND) {
        rc = 0;
    } else if (rc == 0) {
        char *src = NULL;
        if ((rc = local_snapshot_path(stg->st, &p, &src)) == 0)
            rc = seed_tree(src, stg->backup_dir);
        free(src);
        if (rc == 0)
            snprintf(ls->seeded_from, sizeof ls->seeded_from, "%s", p.id);
    }
    local_unlock(fd);
    if (seeded_from)
        snprintf(seeded_from, FERRY_SNAPSHOT_ID_MAX, "%s", rc == 0 ? ls->seeded_from : "");
    return rc;
}

static const ferry_store_ops_t local_ops = {
    .name = "local",
    .close = local_close,
    .list = local_list,
    .snapshot_path = local_snapshot_path,
    .begin = local_begin,
    .seed = local_seed,
    .commit = local_commit,
    .abort = local_abort,
    .prune = local_prune,
};
