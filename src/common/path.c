/*
 * path.c: checks on names that come from a backup (domains and relative paths) before any of them
 * becomes part of a filesystem path, and small path utilities. A backup is hostile input: a name is
 * rejected unless it is plainly a relative path below its domain (backup-format.md §15.2).
 */
#include "ferry/common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int ferry_path_check_relative(const char *rel, size_t len)
{
    if (!rel)
        return ferry_error_set(FERRY_EUNSAFE, "relativePath is missing");
    if (memchr(rel, '\0', len))
        return ferry_error_set(FERRY_EUNSAFE, "relativePath contains a NUL byte");
    if (len == 0)
        return 0; /* the domain root */
    if (rel[0] == '/')
        return ferry_error_set(FERRY_EUNSAFE, "relativePath '%.*s' is absolute", (int)len, rel);
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && rel[i] != '/')
            continue;
        size_t clen = i - start;
        if (clen == 0)
            return ferry_error_set(FERRY_EUNSAFE, "relativePath '%.*s' has an empty component", (int)len, rel);
        if ((clen == 1 && rel[start] == '.') || (clen == 2 && rel[start] == '.' && rel[start + 1] == '.'))
            return ferry_error_set(FERRY_EUNSAFE, "relativePath '%.*s' has a '%.*s' component", (int)len, rel,
                                   (int)clen, rel + start);
        start = i + 1;
    }
    return 0;
}

int ferry_path_check_domain(const char *domain, size_t len)
{
    if (!domain || len == 0)
        return ferry_error_set(FERRY_EUNSAFE, "domain is empty");
    if (memchr(domain, '\0', len))
        return ferry_error_set(FERRY_EUNSAFE, "domain contains a NUL byte");
    if (memchr(domain, '/', len))
        return ferry_error_set(FERRY_EUNSAFE, "domain '%.*s' contains '/'", (int)len, domain);
    if ((len == 1 && domain[0] == '.') || (len == 2 && domain[0] == '.' && domain[1] == '.'))
        return ferry_error_set(FERRY_EUNSAFE, "domain '%.*s' is not a name", (int)len, domain);
    return 0;
}

char *ferry_path_join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (lb == 0)
        return strdup(a);
    int slash = la > 0 && a[la - 1] != '/';
    char *p = malloc(la + slash + lb + 1);
    if (!p)
        return NULL;
    memcpy(p, a, la);
    if (slash)
        p[la] = '/';
    memcpy(p + la + slash, b, lb + 1);
    return p;
}

int ferry_mkdir_p(const char *path, mode_t mode)
{
    char *copy = strdup(path);
    if (!copy)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    int rc = 0;
    for (char *p = copy + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(copy, mode) != 0 && errno != EEXIST) {
            rc = ferry_error_errno("cannot create directory %s", copy);
            break;
        }
        *p = saved;
        if (saved == '\0')
            break;
    }
    free(copy);
    if (rc == 0) {
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
            rc = ferry_error_set(FERRY_EIO, "%s exists and is not a directory", path);
    }
    return rc;
}
