/*
 * file.c: file I/O with ferry's durability rules: every file the host writes goes to a temporary name
 * in the same directory, is fsynced and renamed over the target, and the directory is fsynced, so a
 * crash leaves either the old or the new file, never half of one. Short reads/writes and EINTR are
 * handled here once.
 */
#include "ferry/common.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ferry_write_full(int fd, const void *buf, size_t len, const char *what)
{
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return ferry_error_errno("cannot write %s", what);
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

ssize_t ferry_read_full(int fd, void *buf, size_t len, const char *what)
{
    uint8_t *p = buf;
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, p + got, len - got);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return ferry_error_errno("cannot read %s", what);
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

int ferry_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return ferry_error_errno("cannot open directory %s", dir);
    int rc = 0;
    if (fsync(fd) != 0 && errno != EINVAL)
        rc = ferry_error_errno("cannot sync directory %s", dir);
    close(fd);
    return rc;
}

int ferry_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
    return ferry_file_write_replace(path, data, len, mode, 1);
}

int ferry_file_write_replace(const char *path, const void *data, size_t len, mode_t mode, int durable)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 32);
    char *dircopy = strdup(path);
    if (!tmp || !dircopy) {
        free(tmp);
        free(dircopy);
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    /* The temporary sits next to the target so that rename() stays within one filesystem. */
    snprintf(tmp, plen + 32, "%s.tmp-XXXXXX", path);
    int rc = 0;
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        rc = ferry_error_errno("cannot create a temporary file for %s", path);
        goto out;
    }
    if (fchmod(fd, mode) != 0) {
        rc = ferry_error_errno("cannot set the mode of %s", tmp);
    } else if ((rc = ferry_write_full(fd, data, len, path)) == 0) {
        if (durable && fsync(fd) != 0)
            rc = ferry_error_errno("cannot sync %s", path);
    }
    if (close(fd) != 0 && rc == 0)
        rc = ferry_error_errno("cannot close %s", path);
    if (rc == 0 && rename(tmp, path) != 0)
        rc = ferry_error_errno("cannot rename %s to %s", tmp, path);
    if (rc != 0)
        unlink(tmp);
    else if (durable)
        rc = ferry_fsync_dir(dirname(dircopy));
out:
    free(tmp);
    free(dircopy);
    return rc;
}

int ferry_file_read_all(const char *path, size_t max_len, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return ferry_error_set(FERRY_ENOTFOUND, "%s does not exist", path);
        return ferry_error_errno("cannot open %s", path);
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int rc = ferry_error_errno("cannot stat %s", path);
        close(fd);
        return rc;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return ferry_error_set(FERRY_EFORMAT, "%s is not a regular file", path);
    }
    if ((uint64_t)st.st_size > max_len) {
        close(fd);
        return ferry_error_set(FERRY_ELIMIT, "%s is %lld bytes, more than the %zu this reader accepts", path,
                               (long long)st.st_size, max_len);
    }
    uint8_t *buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        close(fd);
        return ferry_error_set(FERRY_ENOMEM, "out of memory reading %s", path);
    }
    ssize_t n = ferry_read_full(fd, buf, (size_t)st.st_size, path);
    close(fd);
    if (n < 0) {
        free(buf);
        return (int)n;
    }
    buf[n] = '\0';
    *out = buf;
    *len = (size_t)n;
    return 0;
}
