/*
 * synth.c: writing data files of a device: synthetic content streamed to disk in bounded chunks
 * (a 10 GB device never holds more than one chunk in memory), plist data files, and measuring a
 * tree. Every data file gets the same fixed modification time so that a device, and any backup made
 * of it, is identical for the same seed. Synthetic bytes come from the labelled generator of rng.c,
 * one stream per file, so a file's content depends only on (seed, domain, path).
 */
#include "device_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK (256u * 1024)

static int mkparent(const char *path)
{
    char *dir = strdup(path);
    if (!dir)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    char *slash = strrchr(dir, '/');
    int rc = 0;
    if (slash) {
        *slash = 0;
        struct stat st;
        if (stat(dir, &st) != 0) /* cheap check first: bulk files share few directories */
            rc = ferry_mkdir_p(dir, 0700);
    }
    free(dir);
    return rc;
}

static int set_fixed_time(const char *path)
{
    struct timespec ts[2] = {{DEV_BASE_TIME, 0}, {DEV_BASE_TIME, 0}};
    if (utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) != 0)
        return ferry_error_errno("cannot set the time of %s", path);
    return 0;
}

int dev_write_synthetic(const char *path, uint64_t size, uint64_t seed, const char *label)
{
    int rc = mkparent(path);
    if (rc)
        return rc;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return ferry_error_errno("cannot create %s", path);
    uint8_t *buf = malloc(CHUNK);
    if (!buf) {
        close(fd);
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    dev_rng_t r;
    dev_rng_seed(&r, seed, label);
    for (uint64_t left = size; left > 0 && !rc;) {
        size_t n = left < CHUNK ? (size_t)left : CHUNK;
        dev_rng_fill(&r, buf, n);
        rc = ferry_write_full(fd, buf, n, path);
        left -= n;
    }
    free(buf);
    if (close(fd) != 0 && !rc)
        rc = ferry_error_errno("cannot write %s", path);
    return rc ? rc : set_fixed_time(path);
}

static int data_path(const char *dir, const char *domain, const char *relpath, char **out)
{
    int rc = ferry_path_check_domain(domain, strlen(domain));
    if (!rc)
        rc = ferry_path_check_relative(relpath, strlen(relpath));
    if (!rc && asprintf(out, "%s/files/%s/%s", dir, domain, relpath) < 0)
        rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
    return rc;
}

int dev_write_data_plist(const char *dir, const char *domain, const char *relpath, plist_t p, int xml)
{
    char *path = NULL;
    int rc = data_path(dir, domain, relpath, &path);
    if (rc)
        return rc;
    rc = mkparent(path);
    if (!rc)
        rc = ferry_plist_write_file(path, p, xml);
    if (!rc)
        rc = set_fixed_time(path);
    free(path);
    return rc;
}

int dev_write_data_synthetic(const char *dir, const char *domain, const char *relpath, uint64_t size, uint64_t seed)
{
    char *path = NULL, *label = NULL;
    int rc = data_path(dir, domain, relpath, &path);
    if (rc)
        return rc;
    rc = asprintf(&label, "file:%s/%s", domain, relpath) < 0 ? ferry_error_set(FERRY_ENOMEM, "out of memory")
                                                                   : dev_write_synthetic(path, size, seed, label);
    free(label);
    free(path);
    return rc;
}

static __thread uint64_t tree_total;

static int add_size(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)path;
    (void)ftw;
    if (flag == FTW_F && S_ISREG(st->st_mode))
        tree_total += (uint64_t)st->st_size;
    return 0;
}

int dev_tree_size(const char *path, uint64_t *out)
{
    *out = 0;
    if (access(path, F_OK) != 0)
        return 0;
    tree_total = 0;
    if (nftw(path, add_size, 32, FTW_PHYS) != 0)
        return ferry_error_errno("cannot measure %s", path);
    *out = tree_total;
    return 0;
}
