/*
 * walk.c: visiting the data files of a device (files/<domain>/<relativePath>) in a deterministic
 * order (byte order of names at every level), with each file's size, B3 category and default
 * protection class. The device directory is edited by people and by tests, so the walk refuses what a
 * backup must never follow: symbolic links, special files, and names that fail ferry's safe-path
 * checks. Directories are read one at a time, so memory stays bounded by the widest directory.
 */
#include "device_internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    const char *root;   /* <dir>/files */
    const char *domain;
    ferry_device_file_cb cb;
    void *ctx;
} walk_t;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* Sorted names of a directory, without "." and "..". */
static int read_names(const char *path, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(path);
    if (!d)
        return errno == ENOENT ? 0 : ferry_error_errno("cannot list %s", path);
    size_t cap = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 32;
            char **nn = realloc(*out, cap * sizeof *nn);
            if (!nn) {
                rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
                break;
            }
            *out = nn;
        }
        if (!((*out)[*n] = strdup(e->d_name))) {
            rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
            break;
        }
        (*n)++;
    }
    closedir(d);
    if (rc) {
        free_names(*out, *n);
        *out = NULL;
        *n = 0;
        return rc;
    }
    if (*n)
        qsort(*out, *n, sizeof **out, cmp_str);
    return 0;
}

static int walk_dir(walk_t *w, const char *rel)
{
    char *path = NULL;
    if (asprintf(&path, "%s/%s%s%s", w->root, w->domain, *rel ? "/" : "", rel) < 0)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    char **names = NULL;
    size_t n = 0;
    int rc = read_names(path, &names, &n);
    for (size_t i = 0; i < n && !rc; i++) {
        char *sub = NULL, *full = NULL;
        if (asprintf(&sub, "%s%s%s", rel, *rel ? "/" : "", names[i]) < 0 ||
            asprintf(&full, "%s/%s", path, names[i]) < 0) {
            free(sub);
            rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
            break;
        }
        struct stat st;
        if ((rc = ferry_path_check_relative(sub, strlen(sub))))
            ferry_error_wrap(rc, "files/%s", w->domain);
        else if (lstat(full, &st) != 0)
            rc = ferry_error_errno("cannot stat %s", full);
        else if (S_ISDIR(st.st_mode))
            rc = walk_dir(w, sub);
        else if (S_ISREG(st.st_mode)) {
            ferry_device_file_t f = {w->domain, sub, (uint64_t)st.st_size, ferry_device_file_category(w->domain, sub),
                                     ferry_device_file_protection_class(w->domain, sub)};
            rc = w->cb(&f, w->ctx);
        } else
            rc = ferry_error_set(FERRY_EUNSAFE, "files/%s/%s is a symbolic link or special file; a device directory "
                                 "holds regular files only", w->domain, sub);
        free(sub);
        free(full);
    }
    free_names(names, n);
    free(path);
    return rc;
}

int ferry_device_files_walk(const ferry_device_t *dev, ferry_device_file_cb cb, void *ctx)
{
    char *root = dev_path(dev->dir, "files", NULL);
    if (!root)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    char **domains = NULL;
    size_t n = 0;
    int rc = read_names(root, &domains, &n);
    walk_t w = {root, NULL, cb, ctx};
    for (size_t i = 0; i < n && !rc; i++) {
        struct stat st;
        char *full = dev_path(root, domains[i], NULL);
        if ((rc = ferry_path_check_domain(domains[i], strlen(domains[i]))))
            ;
        else if (!full || lstat(full, &st) != 0)
            rc = full ? ferry_error_errno("cannot stat %s", full) : ferry_error_set(FERRY_ENOMEM, "out of memory");
        else if (!S_ISDIR(st.st_mode))
            rc = ferry_error_set(FERRY_EUNSAFE, "files/%s is not a directory; files/ holds one directory per backup "
                                 "domain", domains[i]);
        else {
            w.domain = domains[i];
            rc = walk_dir(&w, "");
        }
        free(full);
    }
    free_names(domains, n);
    free(root);
    return rc;
}
