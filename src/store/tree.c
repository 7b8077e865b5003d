/*
 * tree.c: file-tree helpers for the repository's local folders: making one tree equal another
 * (import), removing a tree without following symbolic links, copying a file (reflink when the
 * filesystem can), comparing two files' content, and sharing one file's data with another path. The invariant that keeps older snapshots intact: nothing
 * here ever opens an existing file for writing; a file is replaced by creating a new one under a
 * temporary name and renaming it over the old name, which leaves any other hard link untouched.
 */
#include "store_backend.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define COPY_BUF (1u << 20)

static int remove_at(int dirfd, const char *name, const char *path, uint64_t *freed);

static int remove_children(int fd, const char *path, uint64_t *freed)
{
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return ferry_error_errno("cannot list %s", path);
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (errno = 0, e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char *sub = ferry_path_join(path, e->d_name);
        rc = sub ? remove_at(dirfd(d), e->d_name, sub, freed) : ferry_error_set(FERRY_ENOMEM, "out of memory");
        free(sub);
    }
    if (rc == 0 && errno)
        rc = ferry_error_errno("cannot list %s", path);
    closedir(d);
    return rc;
}

static int remove_at(int dirfd, const char *name, const char *path, uint64_t *freed)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? 0 : ferry_error_errno("cannot inspect %s", path);
    if (S_ISDIR(st.st_mode)) {
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return ferry_error_errno("cannot open %s", path);
        int rc = remove_children(fd, path, freed);
        if (rc)
            return rc;
        if (unlinkat(dirfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
            return ferry_error_errno("cannot remove %s", path);
        return 0;
    }
    if (freed && S_ISREG(st.st_mode) && st.st_nlink == 1)
        *freed += (uint64_t)st.st_blocks * 512u;
    if (unlinkat(dirfd, name, 0) != 0 && errno != ENOENT)
        return ferry_error_errno("cannot remove %s", path);
    return 0;
}

int ferry_tree_remove(const char *path, uint64_t *freed)
{
    return remove_at(AT_FDCWD, path, path, freed);
}

static int copy_bytes(int in, int out, const char *src, const char *dst)
{
    char *buf = malloc(COPY_BUF);
    if (!buf)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    int rc = 0;
    for (;;) {
        ssize_t n = ferry_read_full(in, buf, COPY_BUF, src);
        if (n < 0) {
            rc = (int)n;
            break;
        }
        if (n == 0)
            break;
        if ((rc = ferry_write_full(out, buf, (size_t)n, dst)) != 0)
            break;
    }
    free(buf);
    return rc;
}

int ferry_tree_copy_file(const char *src, const char *dst)
{
    int in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0)
        return ferry_error_errno("cannot open %s", src);
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (out < 0) {
        int rc = ferry_error_errno("cannot create %s", dst);
        close(in);
        return rc;
    }
    int rc = 0;
    if (ioctl(out, FICLONE, in) != 0)
        rc = copy_bytes(in, out, src, dst);
    close(in);
    if (close(out) != 0 && rc == 0)
        rc = ferry_error_errno("cannot write %s", dst);
    if (rc)
        unlink(dst);
    return rc;
}

int ferry_tree_same_content(const char *a, const char *b, const struct stat *sa, const struct stat *sb)
{
    if (sa->st_size != sb->st_size)
        return 0;
    if (sa->st_dev == sb->st_dev && sa->st_ino == sb->st_ino)
        return 1;
    int fa = open(a, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fa < 0)
        return ferry_error_errno("cannot open %s", a);
    int fb = open(b, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fb < 0) {
        int rc = ferry_error_errno("cannot open %s", b);
        close(fa);
        return rc;
    }
    char *ba = malloc(2 * (size_t)COPY_BUF);
    int rc = ba ? 1 : ferry_error_set(FERRY_ENOMEM, "out of memory");
    while (rc == 1) {
        ssize_t na = ferry_read_full(fa, ba, COPY_BUF, a);
        ssize_t nb = na < 0 ? 0 : ferry_read_full(fb, ba + COPY_BUF, COPY_BUF, b);
        if (na < 0 || nb < 0)
            rc = na < 0 ? (int)na : (int)nb;
        else if (na != nb || memcmp(ba, ba + COPY_BUF, (size_t)na) != 0)
            rc = 0;
        else if (na == 0)
            break;
    }
    free(ba);
    close(fa);
    close(fb);
    return rc;
}

/* A temporary name next to dst; the pid and a counter keep concurrent sharers apart. */
static char *temp_name(const char *dst)
{
    static unsigned long counter;
    size_t n = strlen(dst) + 64;
    char *t = malloc(n);
    if (t)
        snprintf(t, n, "%s.ferry-tmp-%ld-%lu", dst, (long)getpid(), __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
    return t;
}

static int try_reflink(const char *src, const char *tmp)
{
    int in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0)
        return -1;
    int out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (out < 0) {
        close(in);
        return -1;
    }
    int ok = ioctl(out, FICLONE, in) == 0 && fsync(out) == 0;
    close(in);
    close(out);
    if (!ok)
        unlink(tmp);
    return ok ? 0 : -1;
}

int ferry_tree_share(const char *src, const char *dst)
{
    char *tmp = temp_name(dst);
    if (!tmp)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    int rc = 1;
    if (try_reflink(src, tmp) != 0 && link(src, tmp) != 0) {
        /* Too many links to one inode, or another filesystem: keep dst's own copy. */
        rc = errno == EMLINK || errno == EXDEV || errno == EPERM ? 0
                                                                 : ferry_error_errno("cannot link %s to %s", src, tmp);
        free(tmp);
        return rc;
    }
    if (rename(tmp, dst) != 0) {
        rc = ferry_error_errno("cannot rename %s to %s", tmp, dst);
        unlink(tmp);
    }
    free(tmp);
    return rc;
}

/* Copies src over dst by a temporary and a rename. */
static int replace_file(const char *src, const char *dst)
{
    char *tmp = temp_name(dst);
    if (!tmp)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    int rc = ferry_tree_copy_file(src, tmp);
    if (rc == 0 && rename(tmp, dst) != 0) {
        rc = ferry_error_errno("cannot rename %s to %s", tmp, dst);
        unlink(tmp);
    }
    free(tmp);
    return rc;
}

static int sync_entry(const char *s, const char *t)
{
    struct stat ss, ts;
    if (lstat(s, &ss) != 0)
        return ferry_error_errno("cannot inspect %s", s);
    int have = lstat(t, &ts) == 0;
    if (!have && errno != ENOENT)
        return ferry_error_errno("cannot inspect %s", t);
    int rc;
    if (S_ISDIR(ss.st_mode)) {
        if (have && !S_ISDIR(ts.st_mode) && (rc = ferry_tree_remove(t, NULL)) != 0)
            return rc;
        if ((!have || !S_ISDIR(ts.st_mode)) && mkdir(t, 0700) != 0)
            return ferry_error_errno("cannot create %s", t);
        return ferry_tree_sync(s, t);
    }
    if (!S_ISREG(ss.st_mode))
        return ferry_error_set(FERRY_EUNSAFE, "%s is neither a file nor a folder: a backup folder holds only those", s);
    if (have && S_ISDIR(ts.st_mode) && (rc = ferry_tree_remove(t, NULL)) != 0)
        return rc;
    if (have && S_ISREG(ts.st_mode)) {
        int same = ferry_tree_same_content(s, t, &ss, &ts);
        if (same != 0)
            return same < 0 ? same : 0;
    }
    return replace_file(s, t);
}

/* Removes what dst holds and src does not. */
static int sync_prune(const char *src, const char *dst)
{
    DIR *d = opendir(dst);
    if (!d)
        return ferry_error_errno("cannot list %s", dst);
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char *s = ferry_path_join(src, e->d_name), *t = ferry_path_join(dst, e->d_name);
        struct stat st;
        if (!s || !t)
            rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
        else if (lstat(s, &st) != 0 && errno == ENOENT)
            rc = ferry_tree_remove(t, NULL);
        free(s);
        free(t);
    }
    closedir(d);
    return rc;
}

int ferry_tree_sync(const char *src, const char *dst)
{
    DIR *d = opendir(src);
    if (!d)
        return ferry_error_errno("cannot list %s", src);
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (errno = 0, e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char *s = ferry_path_join(src, e->d_name), *t = ferry_path_join(dst, e->d_name);
        rc = s && t ? sync_entry(s, t) : ferry_error_set(FERRY_ENOMEM, "out of memory");
        free(s);
        free(t);
    }
    if (rc == 0 && errno)
        rc = ferry_error_errno("cannot list %s", src);
    closedir(d);
    return rc ? rc : sync_prune(src, dst);
}

void ferry_store_test_pause(const char *step)
{
    const char *want = getenv("FERRY_STORE_TEST_PAUSE");
    if (want && !strcmp(want, step)) {
        fprintf(stderr, "ferry: test pause at %s (pid %ld)\n", step, (long)getpid());
        raise(SIGSTOP);
    }
}
