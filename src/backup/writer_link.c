/*
 * writer_link.c: a regular file of an unencrypted backup whose blob is a hard link to its source
 * instead of a copy, for a producer whose staging folder is private and only ever read (the emulated
 * device's backups: the blob is then uploaded and the folder removed). A copy would allocate an inode
 * per file, and ext4 skips recently freed inodes one by one, so a device backed up over and over with
 * copies spent most of a full backup in the kernel's inode allocator; a link allocates nothing and
 * copies no byte. The row is ferry_writer_add_file_known's, which is add_file_path's for the same content.
 * When linking is impossible (another filesystem, a filesystem without hard links) the file is copied.
 * Invariant: an encrypted backup never links (its blobs are ciphertext).
 */
#include "writer_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

/* Links src_path as the blob `final`; 1 when linked, 0 when a copy must be made, < 0 on error. */
static int link_blob(ferry_writer_t *w, const char *src_path, const char *final, const struct stat *st)
{
    if (linkat(AT_FDCWD, src_path, w->dirfd, final, 0) == 0) {
        struct stat now;
        /* the name may have been replaced between the caller's stat and the link */
        if (fstatat(w->dirfd, final, &now, AT_SYMLINK_NOFOLLOW) == 0 && now.st_ino == st->st_ino &&
            now.st_dev == st->st_dev)
            return 1;
        writer_unlink_quiet(w->dirfd, final);
        return 0;
    }
    if (errno == EXDEV || errno == EPERM || errno == EMLINK || errno == ENOTSUP || errno == EOPNOTSUPP)
        return 0;
    return ferry_error_errno("cannot link %s into the backup in %s", src_path, w->dir);
}

int ferry_writer_add_file_link(ferry_writer_t *w, const char *domain, const char *relpath, const ferry_file_meta_t *m,
                               const char *src_path)
{
    if (!w || !src_path)
        return ferry_error_set(FERRY_EINVAL, "ferry_writer_add_file_link: missing writer or source");
    struct stat st;
    if (w->encrypted || lstat(src_path, &st) != 0 || !S_ISREG(st.st_mode))
        return ferry_writer_add_file_path(w, domain, relpath, m, src_path); /* says what is wrong */
    char fileid[41];
    uint8_t idbin[20];
    int rc = writer_check_entry(w, domain, relpath, 1, fileid, idbin);
    if (rc)
        return rc;
    if ((rc = writer_ensure_bucket(w, fileid)) != 0)
        return ferry_error_wrap(rc, "cannot add %s/%s to the backup in %s", domain, relpath, w->dir);
    char final[44];
    snprintf(final, sizeof final, "%.2s/%s", fileid, fileid);
    int linked = link_blob(w, src_path, final, &st);
    if (linked <= 0)
        return linked < 0 ? linked : ferry_writer_add_file_path(w, domain, relpath, m, src_path);
    /* the blob is in place: the row is the one of a file whose blob the receiver holds */
    rc = ferry_writer_add_file_known(w, domain, relpath, m, (int64_t)st.st_size);
    if (rc)
        writer_unlink_quiet(w->dirfd, final); /* a blob without its row would be an orphan */
    return rc;
}
