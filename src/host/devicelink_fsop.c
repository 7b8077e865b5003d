/*
 * devicelink_fsop.c: the DeviceLink messages that work on the backup folder without a file stream
 * (spec/device-protocol.md §10.5): DLContentsOfDirectory, DLMessageCreateDirectory,
 * DLMessageMoveItems/MoveFiles, DLMessageRemoveItems/RemoveFiles and DLMessageCopyItem. Each gets
 * exactly one DLMessageStatusResponse. Invariants: every path is confined to the root (host_dl_path);
 * removals never follow symbolic links; a copy writes a new file and renames it (the source may be
 * shared with older snapshots); in read-only mode (restores) every change is answered with an error
 * status and nothing is touched; a path outside the root stops the loop.
 */
#include "host_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int status_errno(host_dl_t *dl, int err)
{
    return host_dl_status(dl, host_dl_errno_code(err), strerror(err), NULL);
}

/* The string at index i of msg, or NULL (FERRY_EFORMAT set). */
static char *arg_string(host_dl_t *dl, plist_t msg, uint32_t i, const char *name)
{
    char *s = plist_array_get_size(msg) > i ? ferry_plist_string_dup(plist_array_get_item(msg, i)) : NULL;
    if (!s)
        ferry_error_set(FERRY_EFORMAT, "device %s sent a %s without its path argument", dl->udid, name);
    return s;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)f;
    int r = (flag == FTW_DP || flag == FTW_D) ? rmdir(p) : unlink(p);
    return r != 0 && errno != ENOENT ? -1 : 0;
}

/* rm -r without following links; ENOENT is success. Returns 0 or an errno. */
static int remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : errno;
    if (!S_ISDIR(st.st_mode))
        return unlink(path) == 0 || errno == ENOENT ? 0 : errno;
    return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : (errno ? errno : EIO);
}

static int contents(host_dl_t *dl, plist_t msg)
{
    char *rel = arg_string(dl, msg, 1, "DLContentsOfDirectory"), *abs = NULL;
    if (!rel)
        return ferry_error_code();
    int rc = host_dl_path(dl, rel, &abs);
    free(rel);
    if (rc)
        return rc;
    plist_t d = plist_new_dict();
    DIR *dir = opendir(abs);
    struct dirent *e;
    while (dir && (e = readdir(dir))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        struct stat st;
        if (fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        plist_t f = plist_new_dict();
        const char *type = S_ISDIR(st.st_mode) ? "DLFileTypeDirectory"
                           : S_ISREG(st.st_mode) ? "DLFileTypeRegular" : "DLFileTypeUnknown";
        plist_dict_set_item(f, "DLFileType", plist_new_string(type));
        plist_dict_set_item(f, "DLFileSize", plist_new_uint((uint64_t)st.st_size));
        plist_dict_set_item(f, "DLFileModificationDate", ferry_plist_new_date_unix(st.st_mtime));
        plist_dict_set_item(d, e->d_name, f);
    }
    if (dir)
        closedir(dir);
    free(abs);
    rc = host_dl_status(dl, 0, NULL, d);
    plist_free(d);
    return rc;
}

static int create_dir(host_dl_t *dl, plist_t msg)
{
    char *rel = arg_string(dl, msg, 1, "DLMessageCreateDirectory"), *abs = NULL;
    if (!rel)
        return ferry_error_code();
    int rc = host_dl_path(dl, rel, &abs);
    free(rel);
    if (rc)
        return rc;
    if (ferry_mkdir_p(abs, 0700)) {
        ferry_log(FERRY_LOG_WARN, "device %s: %s", dl->udid, ferry_error_last());
        ferry_error_clear();
        free(abs);
        return status_errno(dl, errno ? errno : EIO);
    }
    free(abs);
    return host_dl_status(dl, 0, NULL, NULL);
}

static int move_items(host_dl_t *dl, plist_t msg)
{
    plist_t map = plist_array_get_size(msg) >= 2 ? plist_array_get_item(msg, 1) : NULL;
    if (!map || plist_get_node_type(map) != PLIST_DICT)
        return ferry_error_set(FERRY_EFORMAT, "device %s sent a DLMessageMoveItems without a dict", dl->udid);
    plist_dict_iter it = NULL;
    plist_dict_new_iter(map, &it);
    int rc = 0, err = 0;
    for (;;) {
        char *key = NULL;
        plist_t val = NULL;
        plist_dict_next_item(map, it, &key, &val);
        if (!key)
            break;
        char *dst = ferry_plist_string_dup(val), *asrc = NULL, *adst = NULL;
        if (!dst)
            rc = ferry_error_set(FERRY_EFORMAT, "device %s sent a move without a destination", dl->udid);
        if (!rc)
            rc = host_dl_path(dl, key, &asrc);
        if (!rc)
            rc = host_dl_path(dl, dst, &adst);
        if (!rc && !err && (err = remove_tree(adst)) == 0 && rename(asrc, adst) != 0)
            err = errno;
        free(key);
        free(dst);
        free(asrc);
        free(adst);
        if (rc)
            break;
    }
    free(it);
    if (rc)
        return rc;
    return err ? status_errno(dl, err) : host_dl_status(dl, 0, NULL, NULL);
}

static int remove_items(host_dl_t *dl, plist_t msg)
{
    plist_t list = plist_array_get_size(msg) >= 2 ? plist_array_get_item(msg, 1) : NULL;
    if (!list || plist_get_node_type(list) != PLIST_ARRAY)
        return ferry_error_set(FERRY_EFORMAT, "device %s sent a DLMessageRemoveItems without a list", dl->udid);
    int err = 0;
    uint32_t n = plist_array_get_size(list);
    for (uint32_t i = 0; i < n; i++) {
        char *rel = ferry_plist_string_dup(plist_array_get_item(list, i)), *abs = NULL;
        if (!rel)
            return ferry_error_set(FERRY_EFORMAT, "device %s asked to remove a path that is not a string", dl->udid);
        int rc = host_dl_path(dl, rel, &abs);
        free(rel);
        if (rc)
            return rc;
        int e = remove_tree(abs);
        if (e && !err)
            err = e;
        free(abs);
    }
    return err ? status_errno(dl, err) : host_dl_status(dl, 0, NULL, NULL);
}

/* Copies one regular file to a new temporary name next to dst, then renames it. Returns an errno. */
static int copy_file(const char *src, const char *dst)
{
    int in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0)
        return errno;
    size_t n = strlen(dst);
    char *tmp = malloc(n + 24);
    if (!tmp) {
        close(in);
        return ENOMEM;
    }
    snprintf(tmp, n + 24, "%s.ferry-copy-XXXXXX", dst);
    int out = mkostemp(tmp, O_CLOEXEC), err = 0;
    if (out < 0)
        err = errno;
    char buf[65536];
    while (!err) {
        ssize_t r = read(in, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            err = r < 0 ? errno : 0;
            break;
        }
        if (ferry_write_full(out, buf, (size_t)r, dst)) {
            ferry_error_clear();
            err = EIO;
        }
    }
    close(in);
    if (out >= 0 && close(out) != 0 && !err)
        err = errno;
    if (!err && rename(tmp, dst) != 0)
        err = errno;
    if (err && out >= 0)
        unlink(tmp);
    free(tmp);
    return err;
}

/* A file, or one level of a directory (as idevicebackup2 does). Returns an errno. */
static int copy_item(const char *src, const char *dst)
{
    struct stat st;
    if (lstat(src, &st) != 0)
        return errno;
    if (S_ISREG(st.st_mode))
        return copy_file(src, dst);
    if (!S_ISDIR(st.st_mode))
        return EINVAL;
    if (mkdir(dst, 0700) != 0 && errno != EEXIST)
        return errno;
    DIR *d = opendir(src);
    if (!d)
        return errno;
    struct dirent *e;
    int err = 0;
    while (!err && (e = readdir(d))) {
        struct stat es;
        if (fstatat(dirfd(d), e->d_name, &es, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(es.st_mode))
            continue;
        char *s = ferry_path_join(src, e->d_name), *t = ferry_path_join(dst, e->d_name);
        err = s && t ? copy_file(s, t) : ENOMEM;
        free(s);
        free(t);
    }
    closedir(d);
    return err;
}

static int copy(host_dl_t *dl, plist_t msg)
{
    char *src = arg_string(dl, msg, 1, "DLMessageCopyItem");
    char *dst = src ? arg_string(dl, msg, 2, "DLMessageCopyItem") : NULL;
    char *asrc = NULL, *adst = NULL;
    int rc = src && dst ? 0 : ferry_error_code();
    if (!rc)
        rc = host_dl_path(dl, src, &asrc);
    if (!rc)
        rc = host_dl_path(dl, dst, &adst);
    if (!rc) {
        int err = copy_item(asrc, adst);
        rc = err ? status_errno(dl, err) : host_dl_status(dl, 0, NULL, NULL);
    }
    free(src);
    free(dst);
    free(asrc);
    free(adst);
    return rc;
}

int host_dl_fsop(host_dl_t *dl, const char *name, plist_t msg, int *handled)
{
    *handled = 1;
    if (!strcmp(name, "DLContentsOfDirectory"))
        return contents(dl, msg);
    int change = 1;
    int (*fn)(host_dl_t *, plist_t) = NULL;
    if (!strcmp(name, "DLMessageCreateDirectory"))
        fn = create_dir;
    else if (!strcmp(name, "DLMessageMoveItems") || !strcmp(name, "DLMessageMoveFiles"))
        fn = move_items;
    else if (!strcmp(name, "DLMessageRemoveItems") || !strcmp(name, "DLMessageRemoveFiles"))
        fn = remove_items;
    else if (!strcmp(name, "DLMessageCopyItem"))
        fn = copy;
    else
        change = 0;
    if (!change) {
        *handled = 0;
        return 0;
    }
    if (dl->read_only || !dl->root) {
        ferry_log(FERRY_LOG_WARN, "device %s asked for %s on a read-only backup: refused", dl->udid, name);
        return status_errno(dl, EROFS);
    }
    return fn(dl, msg);
}
