/*
 * record.c: turning raw Manifest.db rows into validated records (backup-format.md §3, §4.1, §5,
 * §15.2), iterating them, looking one up, and building blob paths. Invariants: a record leaves this
 * file only when its domain and relativePath are safe names, its fileID is the SHA-1 rule applied to
 * them (so a blob path built from it stays inside the backup folder), its MBFile decodes and names the
 * same relativePath, and its type (flags) agrees with Mode. A refused row is reported with its fileID
 * and the reason, and never stops the iteration.
 */
#include "ferry/backup.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct ferry_backup_iter {
    ferry_db_iter_t *it;
    ferry_record_t rec;
};

void ferry_record_clear(ferry_record_t *r)
{
    if (!r)
        return;
    free(r->domain);
    free(r->relative_path);
    ferry_mbfile_clear(&r->mb);
    memset(r, 0, sizeof *r);
}

/* A printable rendering of a fileID from the database, for messages only. */
static void row_name(const ferry_db_row_t *row, char out[41])
{
    size_t n = row->fileid_len < 40 ? row->fileid_len : 40;
    for (size_t i = 0; i < n; i++) {
        char c = row->fileid[i];
        out[i] = (c >= 0x21 && c <= 0x7e) ? c : '?';
    }
    out[n] = '\0';
}

static int type_from_mode(int32_t mode)
{
    switch ((uint32_t)mode & S_IFMT) {
    case S_IFREG: return FERRY_FLAG_FILE;
    case S_IFDIR: return FERRY_FLAG_DIR;
    case S_IFLNK: return FERRY_FLAG_SYMLINK;
    default: return 0;
    }
}

static const char *type_word(int flags)
{
    return flags == FERRY_FLAG_FILE ? "regular file" : flags == FERRY_FLAG_DIR ? "directory" : "symbolic link";
}

/* Files.flags and MBFile.Mode must describe the same type: some readers key off one, some off the
 * other (§4.1). flags 0 (pyiosbackup's synthetic backup) takes the type from Mode. */
static int check_type(const ferry_db_row_t *row, const ferry_mbfile_t *mb, int *flags)
{
    int from_mode = type_from_mode(mb->mode);
    if (row->flags != 0 && row->flags != FERRY_FLAG_FILE && row->flags != FERRY_FLAG_DIR &&
        row->flags != FERRY_FLAG_SYMLINK)
        return ferry_error_set(FERRY_EFORMAT, "flags %lld is not a file (1), directory (2) or symlink (4)",
                               (long long)row->flags);
    if (!from_mode)
        return ferry_error_set(FERRY_EFORMAT, "Mode 0%o is not a regular file, directory or symbolic link",
                               (unsigned)mb->mode);
    if (row->flags != 0 && row->flags != from_mode)
        return ferry_error_set(FERRY_EFORMAT, "flags %lld (%s) disagrees with Mode 0%o (%s)", (long long)row->flags,
                               type_word((int)row->flags), (unsigned)mb->mode, type_word(from_mode));
    *flags = from_mode;
    return 0;
}

static int check_mbfile(const ferry_db_row_t *row, ferry_record_t *rec)
{
    int rc = ferry_mbfile_decode(row->file, row->file_len, &rec->mb);
    if (rc != 0)
        return ferry_error_wrap(rc, "malformed MBFile record");
    const ferry_mbfile_t *mb = &rec->mb;
    if (!mb->relative_path)
        return ferry_error_set(FERRY_EFORMAT, "the MBFile record has no RelativePath");
    if (strlen(mb->relative_path) != row->relpath_len || memcmp(mb->relative_path, row->relpath, row->relpath_len))
        return ferry_error_set(FERRY_EUNSAFE, "the MBFile RelativePath '%.200s' differs from the row's '%.200s'",
                               mb->relative_path, row->relpath);
    if ((rc = check_type(row, mb, &rec->flags)) != 0)
        return rc;
    if (mb->size < 0)
        return ferry_error_set(FERRY_EFORMAT, "Size %lld is negative", (long long)mb->size);
    if (rec->flags == FERRY_FLAG_SYMLINK && !mb->target)
        return ferry_error_set(FERRY_EFORMAT, "symbolic link without a Target");
    return 0;
}

static int validate(const ferry_db_row_t *row, ferry_record_t *rec)
{
    int rc;
    if ((rc = ferry_path_check_domain(row->domain, row->domain_len)) != 0 ||
        (rc = ferry_path_check_relative(row->relpath, row->relpath_len)) != 0 ||
        (rc = ferry_fileid_check(row->fileid, row->fileid_len, row->domain, row->relpath)) != 0)
        return rc;
    memcpy(rec->fileid, row->fileid, 40);
    rec->fileid[40] = '\0';
    rec->domain = strdup(row->domain);
    rec->relative_path = strdup(row->relpath);
    if (!rec->domain || !rec->relative_path)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    return check_mbfile(row, rec);
}

/* Fills rec from row or returns the reason, naming the row; rec is left cleared on failure. */
static int record_from_row(const ferry_db_row_t *row, ferry_record_t *rec)
{
    memset(rec, 0, sizeof *rec);
    int rc = validate(row, rec);
    if (rc != 0) {
        char name[41];
        row_name(row, name);
        ferry_record_clear(rec);
        int dl = (int)(row->domain_len > 200 ? 200 : row->domain_len);
        int rl = (int)(row->relpath_len > 300 ? 300 : row->relpath_len);
        return ferry_error_wrap(rc, "refusing Manifest.db row %s (%.*s/%.*s)", name, dl, row->domain, rl,
                                row->relpath);
    }
    return 0;
}

int ferry_backup_iter_new(ferry_backup_t *b, const char *domain, ferry_backup_iter_t **out)
{
    *out = NULL;
    ferry_backup_iter_t *bi = calloc(1, sizeof *bi);
    if (!bi)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    int rc = ferry_db_iter_new(ferry_backup_db(b), domain, &bi->it);
    if (rc != 0) {
        free(bi);
        return rc;
    }
    *out = bi;
    return 0;
}

int ferry_backup_iter_next(ferry_backup_iter_t *bi, const ferry_record_t **rec)
{
    *rec = NULL;
    ferry_record_clear(&bi->rec);
    for (;;) {
        ferry_db_row_t row;
        int rc = ferry_db_iter_next(bi->it, &row);
        if (rc <= 0)
            return rc;
        if (!row.file)
            continue; /* a placeholder row (§4.1): devices leave `file` NULL */
        if ((rc = record_from_row(&row, &bi->rec)) != 0)
            return rc;
        *rec = &bi->rec;
        return 1;
    }
}

void ferry_backup_iter_free(ferry_backup_iter_t *bi)
{
    if (!bi)
        return;
    ferry_record_clear(&bi->rec);
    ferry_db_iter_free(bi->it);
    free(bi);
}

int ferry_backup_lookup(ferry_backup_t *b, const char *domain, const char *relpath, ferry_record_t *rec)
{
    memset(rec, 0, sizeof *rec);
    ferry_db_iter_t *it = NULL;
    int rc = ferry_db_iter_new_path(ferry_backup_db(b), domain, relpath, &it);
    if (rc != 0)
        return rc;
    /* A hostile database may hold several rows for one path: the first valid one wins, and when none
     * is valid the last refusal is the answer. */
    for (;;) {
        ferry_db_row_t row;
        int r = ferry_db_iter_next(it, &row);
        if (r == 0)
            break;
        if (r < 0) {
            rc = r;
            continue;
        }
        if (!row.file)
            continue;
        if ((rc = record_from_row(&row, rec)) == 0)
            break;
    }
    ferry_db_iter_free(it);
    if (rc == 0 && !rec->domain)
        rc = ferry_error_set(FERRY_ENOTFOUND, "%s/%s is not in the backup", domain, relpath);
    return rc;
}

char *ferry_backup_blob_path(const ferry_backup_t *b, const ferry_record_t *rec)
{
    /* Re-checked here because a caller may have built or altered the record itself. */
    if (!rec->domain || !rec->relative_path) {
        ferry_error_set(FERRY_EINVAL, "a blob path was asked for a record without domain or relativePath");
        return NULL;
    }
    if (ferry_fileid_check(rec->fileid, strnlen(rec->fileid, sizeof rec->fileid), rec->domain,
                           rec->relative_path) != 0)
        return NULL;
    char rel[2 + 1 + 40 + 1];
    memcpy(rel, rec->fileid, 2);
    rel[2] = '/';
    memcpy(rel + 3, rec->fileid, 41);
    char *p = ferry_path_join(ferry_backup_dir(b), rel);
    if (!p)
        ferry_error_set(FERRY_ENOMEM, "out of memory");
    return p;
}
