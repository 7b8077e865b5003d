/*
 * extract.c: `ferry extract`: writes every record of a backup at OUT/<domain>/<relativePath>. A backup
 * is hostile input (backup-format.md §15.2), so the invariants are: OUT is opened once and everything
 * below it is reached through directory file descriptors, one component at a time, with O_NOFOLLOW —
 * no symlink, whether it came from the backup or was planted in OUT beforehand, is ever followed;
 * files are written to a temporary name in their directory and renamed over the destination (renaming
 * replaces a planted symlink instead of writing through it); a symlink is created only with a target
 * that, resolved lexically, stays inside OUT/<domain>, and is always written as a normalised relative
 * path. Permission bits are masked to 0777 (no setuid/setgid/sticky); directories get at least 0700
 * so that extraction can go on, and their mtimes are applied in a second pass because creating
 * entries changes them. One refused row never stops the others; memory stays bounded (one 1 MiB copy
 * buffer, one cached directory descriptor, and the list of directory mtimes).
 */
#include "ferry/backup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COPY_BUF_SIZE (1u << 20)
#define TMP_PREFIX ".ferry-extract-"

typedef struct {
    char *path;    /* "domain/relativePath" of a directory row */
    int64_t mtime;
} dir_time_t;

typedef struct {
    ferry_backup_t *b;
    int lenient;
    int root_fd;             /* OUT */
    char *cache_path;        /* the directory behind cache_fd, relative to OUT, or NULL */
    size_t cache_len;
    int cache_fd;
    uint8_t *buf;            /* COPY_BUF_SIZE */
    dir_time_t *dirs;        /* second pass: directory mtimes */
    size_t ndirs, capdirs;
    ferry_extract_stats_t *st;
    int first_err;
    char first_msg[1024];
} xctx_t;

/* ---- device roots (backup-format.md §11.1) ----------------------------------------------------- */

/* Where each fixed domain lives on the device, so that an absolute symlink target can be turned into
 * a path inside OUT/<domain>. Container domains (AppDomain-*, SysContainerDomain-*, ...) live under a
 * per-install UUID that a backup does not record: their absolute targets cannot be mapped. */
static const struct {
    const char *domain;
    const char *root;
} device_roots[] = {
    {"HomeDomain", "/var/mobile"},
    {"CameraRollDomain", "/var/mobile"},
    {"MediaDomain", "/var/mobile"},
    {"KeyboardDomain", "/var/mobile"},
    {"TonesDomain", "/var/mobile"},
    {"HomeKitDomain", "/var/mobile"},
    {"HealthDomain", "/var/mobile/Library"},
    {"BooksDomain", "/var/mobile/Media/Books"},
    {"RootDomain", "/var/root"},
    {"SystemPreferencesDomain", "/var/preferences"},
    {"WirelessDomain", "/var/wireless"},
    {"KeychainDomain", "/var/Keychains"},
    {"ManagedPreferencesDomain", "/var/Managed Preferences"},
    {"MobileDeviceDomain", "/var/MobileDevice"},
    {"DatabaseDomain", "/var/db"},
    {"InstallDomain", "/var/installd"},
    {"NetworkDomain", "/var/networkd"},
    {"ProtectedDomain", "/var/protected"},
};

static const char *device_root(const char *domain)
{
    for (size_t i = 0; i < sizeof device_roots / sizeof device_roots[0]; i++)
        if (strcmp(device_roots[i].domain, domain) == 0)
            return device_roots[i].root;
    return NULL;
}

/* ---- lexical path handling for symlink targets ------------------------------------------------- */

typedef struct {
    const char **p;   /* component starts (not NUL-terminated) */
    size_t *len;
    size_t n, cap;
} comps_t;

static void comps_free(comps_t *c)
{
    free(c->p);
    free(c->len);
    memset(c, 0, sizeof *c);
}

static int comps_push(comps_t *c, const char *p, size_t len)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        const char **np = realloc(c->p, cap * sizeof *np);
        if (!np)
            return ferry_error_set(FERRY_ENOMEM, "out of memory");
        c->p = np;
        size_t *nl = realloc(c->len, cap * sizeof *nl);
        if (!nl)
            return ferry_error_set(FERRY_ENOMEM, "out of memory");
        c->len = nl;
        c->cap = cap;
    }
    c->p[c->n] = p;
    c->len[c->n] = len;
    c->n++;
    return 0;
}

static int comp_is(const char *p, size_t len, const char *s)
{
    return strlen(s) == len && memcmp(p, s, len) == 0;
}

/* Pushes the '/'-separated components of s[0..len) onto c (no interpretation of "." or ".."). */
static int comps_split(comps_t *c, const char *s, size_t len)
{
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '/')
            continue;
        if (i > start) {
            int rc = comps_push(c, s + start, i - start);
            if (rc)
                return rc;
        }
        start = i + 1;
    }
    return 0;
}

/* Applies a target's components to the position c, lexically: "" and "." vanish, ".." pops. *min_n
 * is lowered to the shallowest depth reached; *above counts ".." beyond the start of c (position 0),
 * unless clamp is set (an absolute path, where "/.." is "/"). */
static int comps_walk(comps_t *c, const char *target, int clamp, size_t *min_n, size_t *above)
{
    size_t len = strlen(target), start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && target[i] != '/')
            continue;
        const char *p = target + start;
        size_t l = i - start;
        start = i + 1;
        if (l == 0 || comp_is(p, l, "."))
            continue;
        if (comp_is(p, l, "..")) {
            if (c->n == 0) {
                if (!clamp)
                    (*above)++;
            } else
                c->n--;
            if (c->n < *min_n)
                *min_n = c->n;
            continue;
        }
        if (*above)
            continue; /* already outside: the rest does not matter */
        int rc = comps_push(c, p, l);
        if (rc)
            return rc;
    }
    return 0;
}

/* The relative link text that leads from directory `from` to `to` (both relative to the same root). */
static char *relative_link(const comps_t *from, const comps_t *to, size_t skip_to)
{
    size_t k = 0;
    while (k < from->n && skip_to + k < to->n && from->len[k] == to->len[skip_to + k] &&
           memcmp(from->p[k], to->p[skip_to + k], from->len[k]) == 0)
        k++;
    size_t ups = from->n - k, size = ups * 3 + 2;
    for (size_t i = skip_to + k; i < to->n; i++)
        size += to->len[i] + 1;
    char *out = malloc(size);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < ups; i++) {
        memcpy(out + o, "../", 3);
        o += 3;
    }
    for (size_t i = skip_to + k; i < to->n; i++) {
        memcpy(out + o, to->p[i], to->len[i]);
        o += to->len[i];
        out[o++] = '/';
    }
    if (o == 0)
        out[o++] = '.'; /* the link's own directory */
    else
        o--;            /* drop the trailing '/' */
    out[o] = '\0';
    return out;
}

enum { PLAN_CREATE = 0, PLAN_SKIP = 1 };

/* Decides what a symlink row becomes. PLAN_CREATE: *link is the malloc'd relative target to write.
 * PLAN_SKIP: not created, *why says why (a warning). FERRY_EUNSAFE: the target would escape OUT. */
static int symlink_plan(const char *domain, const char *relpath, const char *target, char **link, char *why,
                        size_t whylen)
{
    *link = NULL;
    if (!target || !*target) {
        snprintf(why, whylen, "the symlink has no Target");
        return PLAN_SKIP;
    }
    const char *slash = strrchr(relpath, '/');
    comps_t dir = {0}, pos = {0};
    int rc = comps_split(&dir, relpath, slash ? (size_t)(slash - relpath) : 0);
    size_t min_n, above = 0, skip = 0;
    if (rc)
        goto out;
    if (target[0] != '/') {
        /* Relative: resolved from the link's directory; position 0 of pos is OUT itself. */
        if ((rc = comps_push(&pos, domain, strlen(domain))) != 0)
            goto out;
        for (size_t i = 0; i < dir.n; i++)
            if ((rc = comps_push(&pos, dir.p[i], dir.len[i])) != 0)
                goto out;
        min_n = pos.n;
        if ((rc = comps_walk(&pos, target, 0, &min_n, &above)) != 0)
            goto out;
        if (above > 0) {
            rc = ferry_error_set(FERRY_EUNSAFE, "symlink target '%s' leads outside the output directory", target);
            goto out;
        }
        if (min_n < 1) {
            snprintf(why, whylen, "the symlink target '%s' leaves the domain directory", target);
            rc = PLAN_SKIP;
            goto out;
        }
        skip = 1;
    } else {
        /* Absolute: a device path; "/private/var" is the real name of "/var" on iOS. */
        min_n = 0;
        if ((rc = comps_walk(&pos, target, 1, &min_n, &above)) != 0)
            goto out;
        size_t first = 0;
        if (pos.n >= 2 && comp_is(pos.p[0], pos.len[0], "private") && comp_is(pos.p[1], pos.len[1], "var"))
            first = 1;
        if (pos.n <= first || !comp_is(pos.p[first], pos.len[first], "var")) {
            rc = ferry_error_set(FERRY_EUNSAFE,
                                 "symlink target '%s' is outside the device's data area (/var) and would point "
                                 "outside the output directory",
                                 target);
            goto out;
        }
        const char *root = device_root(domain);
        comps_t rootc = {0};
        if (root && (rc = comps_split(&rootc, root, strlen(root))) != 0) {
            comps_free(&rootc);
            goto out;
        }
        int inside = root != NULL && pos.n - first >= rootc.n;
        for (size_t i = 0; inside && i < rootc.n; i++)
            inside = rootc.len[i] == pos.len[first + i] &&
                     memcmp(rootc.p[i], pos.p[first + i], rootc.len[i]) == 0;
        skip = first + rootc.n;
        comps_free(&rootc);
        if (!inside) {
            if (root)
                snprintf(why, whylen, "the symlink target '%s' is outside %s's device root %s", target, domain, root);
            else
                snprintf(why, whylen, "the symlink target '%s' cannot be mapped: %s has no fixed device root", target,
                         domain);
            rc = PLAN_SKIP;
            goto out;
        }
    }
    *link = relative_link(&dir, &pos, skip);
    rc = *link ? PLAN_CREATE : ferry_error_set(FERRY_ENOMEM, "out of memory");
out:
    comps_free(&dir);
    comps_free(&pos);
    return rc;
}

/* ---- directories through descriptors ----------------------------------------------------------- */

/* Opens (creating when allowed) the directory `name` in `dirfd` without following a symlink. */
static int open_subdir(int dirfd, const char *name, int create, const char *shown, int *out)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0) {
            *out = fd;
            return 0;
        }
        if (errno == ELOOP || errno == ENOTDIR) {
            struct stat st;
            if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
                return ferry_error_set(FERRY_EUNSAFE, "%s is a symlink where a directory is needed; not following it",
                                       shown);
            return ferry_error_set(FERRY_EEXIST, "%s exists and is not a directory", shown);
        }
        if (errno != ENOENT || !create || attempt)
            return ferry_error_errno("cannot open directory %s", shown);
        if (mkdirat(dirfd, name, 0700) != 0 && errno != EEXIST)
            return ferry_error_errno("cannot create directory %s", shown);
    }
    return ferry_error_set(FERRY_EIO, "cannot open directory %s", shown);
}

/* A borrowed descriptor of the directory OUT/path[0..len) (len 0 = OUT), walked one component at a
 * time from OUT or from the cached directory when it is an ancestor. The result becomes the cache. */
static int get_dir(xctx_t *x, const char *path, size_t len, int create, int *out)
{
    if (len == 0) {
        *out = x->root_fd;
        return 0;
    }
    if (x->cache_path && x->cache_len == len && memcmp(x->cache_path, path, len) == 0) {
        *out = x->cache_fd;
        return 0;
    }
    int cur = x->root_fd;
    size_t pos = 0;
    if (x->cache_path && len > x->cache_len && path[x->cache_len] == '/' &&
        memcmp(x->cache_path, path, x->cache_len) == 0) {
        cur = x->cache_fd;
        pos = x->cache_len + 1;
    }
    if (pos >= len || path[len - 1] == '/')
        return ferry_error_set(FERRY_EUNSAFE, "'%.*s' is not a plain directory path", (int)len, path);
    char *copy = malloc(len + 1);
    if (!copy)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    memcpy(copy, path, len);
    copy[len] = '\0';
    int rc = 0;
    while (pos < len) {
        char *end = memchr(copy + pos, '/', len - pos);
        size_t clen = end ? (size_t)(end - (copy + pos)) : len - pos;
        char saved = copy[pos + clen];
        copy[pos + clen] = '\0';
        int next = -1;
        rc = open_subdir(cur, copy + pos, create, copy, &next);
        copy[pos + clen] = saved;
        if (cur != x->root_fd && cur != x->cache_fd)
            close(cur);
        if (rc) {
            cur = -1;
            break;
        }
        cur = next;
        pos += clen + 1;
    }
    if (rc) {
        free(copy);
        return rc;
    }
    if (x->cache_path)
        close(x->cache_fd);
    free(x->cache_path);
    x->cache_path = copy;
    x->cache_len = len;
    x->cache_fd = cur;
    *out = cur;
    return 0;
}

/* ---- rows -------------------------------------------------------------------------------------- */

/* A fresh temporary name in dirfd; the caller creates it with O_EXCL (or symlinkat) and retries. */
static int tmp_name(char out[64])
{
    uint8_t rnd[8];
    char hex[17];
    int rc = ferry_random_bytes(rnd, sizeof rnd);
    if (rc)
        return rc;
    ferry_hex_encode(rnd, sizeof rnd, hex);
    snprintf(out, 64, TMP_PREFIX "%s", hex);
    return 0;
}

static void row_times(int64_t mtime, struct timespec ts[2])
{
    ts[0].tv_sec = (time_t)mtime;
    ts[0].tv_nsec = 0;
    ts[1] = ts[0];
}

static int extract_dir(xctx_t *x, const ferry_record_t *rec, const char *full, size_t flen)
{
    int fd;
    int rc = get_dir(x, full, flen, 1, &fd);
    if (rc)
        return rc;
    if (fchmod(fd, ((mode_t)rec->mb.mode & 0777) | 0700) != 0)
        return ferry_error_errno("cannot set the mode of %s", full);
    if (x->ndirs == x->capdirs) {
        size_t cap = x->capdirs ? x->capdirs * 2 : 64;
        dir_time_t *nd = realloc(x->dirs, cap * sizeof *nd);
        if (!nd)
            return ferry_error_set(FERRY_ENOMEM, "out of memory");
        x->dirs = nd;
        x->capdirs = cap;
    }
    char *copy = strdup(full);
    if (!copy)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    x->dirs[x->ndirs].path = copy;
    x->dirs[x->ndirs].mtime = rec->mb.mtime;
    x->ndirs++;
    x->st->dirs++;
    return 0;
}

static int copy_content(xctx_t *x, ferry_file_reader_t *r, int fd, const char *full, uint64_t *total)
{
    for (;;) {
        ssize_t n = ferry_file_reader_read(r, x->buf, COPY_BUF_SIZE);
        if (n < 0)
            return (int)n;
        if (n == 0)
            break;
        int rc = ferry_write_full(fd, x->buf, (size_t)n, full);
        if (rc)
            return rc;
        *total += (uint64_t)n;
    }
    return 0;
}

/* Streams the content into a temporary file in the target directory, applies mode and mtime, and
 * renames it over the destination (which replaces a file or a planted symlink, never follows it). */
static int write_file(xctx_t *x, const ferry_record_t *rec, ferry_file_reader_t *r, const char *full,
                      size_t parent_len, const char *name)
{
    int dirfd;
    int rc = get_dir(x, full, parent_len, 1, &dirfd);
    if (rc)
        return rc;
    char tmp[64];
    int fd = -1;
    for (int attempt = 0; fd < 0 && attempt < 8; attempt++) {
        if ((rc = tmp_name(tmp)) != 0)
            return rc;
        fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 && errno != EEXIST)
            return ferry_error_errno("cannot create a temporary file for %s", full);
    }
    if (fd < 0)
        return ferry_error_set(FERRY_EIO, "cannot create a temporary file for %s", full);
    uint64_t total = 0;
    rc = copy_content(x, r, fd, full, &total);
    struct timespec ts[2];
    row_times(rec->mb.mtime, ts);
    if (rc == 0 && fchmod(fd, (mode_t)rec->mb.mode & 0777) != 0)
        rc = ferry_error_errno("cannot set the mode of %s", full);
    if (rc == 0 && futimens(fd, ts) != 0)
        rc = ferry_error_errno("cannot set the time of %s", full);
    if (close(fd) != 0 && rc == 0)
        rc = ferry_error_errno("cannot write %s", full);
    if (rc == 0 && renameat(dirfd, tmp, dirfd, name) != 0)
        rc = ferry_error_errno("cannot move the extracted file into place at %s", full);
    if (rc)
        unlinkat(dirfd, tmp, 0);
    else
        x->st->bytes += total;
    return rc;
}

/* The content is opened first: in lenient mode a missing blob of a non-empty file is FERRY_ENOTFOUND,
 * already logged as a warning by the reader, and the row is skipped without touching OUT. */
static int extract_file(xctx_t *x, const ferry_record_t *rec, const char *full, size_t parent_len, const char *name)
{
    ferry_file_reader_t *r = NULL;
    int rc = ferry_backup_file_open(x->b, rec, !x->lenient, &r);
    if (rc == FERRY_ENOTFOUND && x->lenient) {
        x->st->skipped++;
        return 0;
    }
    if (rc)
        return rc;
    rc = write_file(x, rec, r, full, parent_len, name);
    ferry_file_reader_close(r);
    if (rc == 0)
        x->st->files++;
    return rc;
}

static int extract_symlink(xctx_t *x, const ferry_record_t *rec, const char *full, size_t parent_len,
                           const char *name)
{
    char why[1024];
    char *link = NULL;
    int rc = symlink_plan(rec->domain, rec->relative_path, rec->mb.target, &link, why, sizeof why);
    if (rc == PLAN_SKIP) {
        ferry_log(FERRY_LOG_WARN, "%s (fileID %s): %s; the symlink is not created", full, rec->fileid, why);
        x->st->skipped++;
        return 0;
    }
    if (rc)
        return rc;
    int dirfd;
    if ((rc = get_dir(x, full, parent_len, 1, &dirfd)) != 0) {
        free(link);
        return rc;
    }
    char tmp[64];
    int made = 0;
    for (int attempt = 0; !made && attempt < 8; attempt++) {
        if ((rc = tmp_name(tmp)) != 0)
            break;
        if (symlinkat(link, dirfd, tmp) == 0)
            made = 1;
        else if (errno != EEXIST) {
            rc = ferry_error_errno("cannot create the symlink %s", full);
            break;
        }
    }
    free(link);
    if (!made)
        return rc ? rc : ferry_error_set(FERRY_EIO, "cannot create the symlink %s", full);
    struct timespec ts[2];
    row_times(rec->mb.mtime, ts);
    utimensat(dirfd, tmp, ts, AT_SYMLINK_NOFOLLOW); /* best effort: some filesystems refuse it */
    if (renameat(dirfd, tmp, dirfd, name) != 0) {
        rc = ferry_error_errno("cannot move the symlink into place at %s", full);
        unlinkat(dirfd, tmp, 0);
        return rc;
    }
    x->st->symlinks++;
    return 0;
}

/* One record. Names were validated by the iterator; they are checked again because a path is about to
 * be built from them. */
static int extract_record(xctx_t *x, const ferry_record_t *rec)
{
    size_t dlen = strlen(rec->domain), rlen = strlen(rec->relative_path);
    int rc = ferry_path_check_domain(rec->domain, dlen);
    if (rc == 0)
        rc = ferry_path_check_relative(rec->relative_path, rlen);
    if (rc)
        return rc;
    char *full = ferry_path_join(rec->domain, rec->relative_path);
    if (!full)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    size_t flen = strlen(full);
    const char *slash = strrchr(full, '/');
    size_t parent_len = slash ? (size_t)(slash - full) : 0;
    const char *name = slash ? slash + 1 : full;
    if (rlen == 0 && rec->flags != FERRY_FLAG_DIR) {
        rc = ferry_error_set(FERRY_EUNSAFE, "a non-directory row (flags %d) has an empty relativePath, the domain root",
                             rec->flags);
    } else if (strlen(name) > NAME_MAX) {
        rc = ferry_error_set(FERRY_EINVAL, "the name '%.40s...' is longer than %d bytes", name, NAME_MAX);
    } else if (rec->flags == FERRY_FLAG_DIR) {
        rc = extract_dir(x, rec, full, flen);
    } else if (rec->flags == FERRY_FLAG_FILE) {
        rc = extract_file(x, rec, full, parent_len, name);
    } else if (rec->flags == FERRY_FLAG_SYMLINK) {
        rc = extract_symlink(x, rec, full, parent_len, name);
    } else {
        ferry_log(FERRY_LOG_WARN, "%s (fileID %s): flags %d is not a file, directory or symlink; skipped", full,
                  rec->fileid, rec->flags);
        x->st->skipped++;
    }
    free(full);
    return rc;
}

static void row_failed(xctx_t *x, int code)
{
    x->st->errors++;
    ferry_log(FERRY_LOG_ERROR, "%s", ferry_error_last());
    if (!x->first_err) {
        x->first_err = code;
        snprintf(x->first_msg, sizeof x->first_msg, "%s", ferry_error_last());
    }
}

/* Second pass: directory mtimes, now that nothing more is created inside them. */
static void apply_dir_times(xctx_t *x)
{
    for (size_t i = 0; i < x->ndirs; i++) {
        int fd;
        const char *p = x->dirs[i].path;
        if (get_dir(x, p, strlen(p), 0, &fd) != 0) {
            ferry_log(FERRY_LOG_WARN, "cannot set the time of %s: %s", p, ferry_error_last());
            continue;
        }
        struct timespec ts[2];
        row_times(x->dirs[i].mtime, ts);
        if (futimens(fd, ts) != 0)
            ferry_log(FERRY_LOG_WARN, "cannot set the time of %s: %s", p, strerror(errno));
    }
}

static void ctx_release(xctx_t *x)
{
    if (x->cache_path)
        close(x->cache_fd);
    free(x->cache_path);
    x->cache_path = NULL;
    for (size_t i = 0; i < x->ndirs; i++)
        free(x->dirs[i].path);
    free(x->dirs);
    free(x->buf);
    if (x->root_fd >= 0)
        close(x->root_fd);
}

static int open_out(const char *out_dir, int *fd)
{
    int rc = ferry_mkdir_p(out_dir, 0700);
    if (rc)
        return ferry_error_wrap(rc, "cannot create the output directory %s", out_dir);
    *fd = open(out_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (*fd < 0)
        return ferry_error_errno("cannot open the output directory %s", out_dir);
    return 0;
}

static int is_fatal(int code)
{
    return code == FERRY_ENOSPC || code == FERRY_ENOMEM;
}

int ferry_backup_extract(ferry_backup_t *b, const char *out_dir, const ferry_extract_opts_t *opts,
                         ferry_extract_stats_t *stats)
{
    ferry_extract_stats_t local;
    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof *stats);
    if (!b || !out_dir || !*out_dir)
        return ferry_error_set(FERRY_EINVAL, "extract needs a backup and an output directory");
    xctx_t x = {.b = b, .lenient = opts ? opts->lenient : 0, .root_fd = -1, .cache_fd = -1, .st = stats};
    int rc = open_out(out_dir, &x.root_fd);
    if (rc)
        return rc;
    x.buf = malloc(COPY_BUF_SIZE);
    if (!x.buf) {
        ctx_release(&x);
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    ferry_backup_iter_t *it = NULL;
    if ((rc = ferry_backup_iter_new(b, opts ? opts->domain : NULL, &it)) != 0) {
        ctx_release(&x);
        return rc;
    }
    uint64_t rows = 0;
    for (;;) {
        const ferry_record_t *rec = NULL;
        int n = ferry_backup_iter_next(it, &rec);
        if (n == 0)
            break;
        rows++;
        if (n < 0) { /* the iterator's message names the row and the reason */
            row_failed(&x, n);
            if (is_fatal(n))
                break;
            continue;
        }
        if ((rc = extract_record(&x, rec)) != 0) {
            ferry_error_wrap(rc, "%s%s%s (fileID %s) not extracted", rec->domain, *rec->relative_path ? "/" : "",
                             rec->relative_path, rec->fileid);
            row_failed(&x, rc);
            if (is_fatal(rc))
                break;
        }
    }
    ferry_backup_iter_free(it);
    apply_dir_times(&x);
    if (syncfs(x.root_fd) != 0 && !x.first_err) {
        x.first_err = ferry_error_errno("cannot sync the output directory %s", out_dir);
        snprintf(x.first_msg, sizeof x.first_msg, "%s", ferry_error_last());
        stats->errors++;
    }
    ctx_release(&x);
    if (!x.first_err)
        return 0;
    return ferry_error_set(x.first_err, "%llu of %llu rows were not extracted to %s; first: %s",
                           (unsigned long long)stats->errors, (unsigned long long)rows, out_dir, x.first_msg);
}
