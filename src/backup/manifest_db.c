/*
 * manifest_db.c: Manifest.db, the SQLite index of a backup (backup-format.md §4): opening a device's
 * database read-only without ever writing next to it, creating one with the exact schema a device
 * uses, inserting rows, iterating rows in a stable order, and the whole-file AES-256-CBC layer of an
 * encrypted backup (§4.2). Invariants: a database from a backup is opened only with immutable=1 and
 * SQLITE_OPEN_READONLY, so no -wal/-shm/-journal file appears beside it; rows are handed out raw with
 * their byte lengths and SQLite types checked, and are validated by the reader (reader.c) before any
 * path is built from them; encrypted files are streamed in bounded chunks and every output goes to a
 * temporary file that is renamed into place only when complete.
 */
#include "ferry/backup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DB_CHUNK (256u * 1024u) /* streaming unit of the file encryption: bounded memory */

struct ferry_manifest_db {
    sqlite3 *db;
    sqlite3_stmt *insert; /* prepared on first insert, reused */
    char *path;           /* for messages */
};

struct ferry_db_iter {
    ferry_manifest_db_t *db;
    sqlite3_stmt *st;
    uint64_t rowno; /* position in sort order, for messages about rows without a usable fileID */
    int done;
};

static const char SCHEMA[] =
    "CREATE TABLE Files (fileID TEXT PRIMARY KEY, domain TEXT, relativePath TEXT, flags INTEGER, file BLOB);"
    "CREATE INDEX FilesDomainIdx ON Files(domain);"
    "CREATE INDEX FilesRelativePathIdx ON Files(relativePath);"
    "CREATE INDEX FilesFlagsIdx ON Files(flags);"
    "CREATE TABLE Properties (key TEXT PRIMARY KEY, value BLOB);";

/* ---- opening ----------------------------------------------------------------------------------- */

/* "file:" URI for path with everything but unreserved characters and '/' percent-encoded, so that
 * '?', '#', '%' and spaces in a backup path are not read as URI syntax. An absolute path gets an
 * empty authority ("file:///...") so that a path starting with "//" is not taken for a host. */
static char *path_to_uri(const char *path, const char *query)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t len = strlen(path);
    size_t qlen = strlen(query);
    char *uri = malloc(7 + 3 * len + qlen + 2);
    if (!uri)
        return NULL;
    char *o = uri;
    memcpy(o, "file:", 5);
    o += 5;
    if (path[0] == '/') {
        memcpy(o, "//", 2);
        o += 2;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)path[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
            c == '.' || c == '~' || c == '/') {
            *o++ = (char)c;
        } else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    if (qlen) {
        *o++ = '?';
        memcpy(o, query, qlen);
        o += qlen;
    }
    *o = '\0';
    return uri;
}

/* A backup's database is hostile input: no triggers or views run with elevated trust, and no
 * statement can corrupt the file (it is read-only anyway; this is defence in depth). */
static void harden(sqlite3 *db)
{
    sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_VIEW, 0, NULL);
}

static ferry_manifest_db_t *db_new(const char *path)
{
    ferry_manifest_db_t *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->path = strdup(path);
    if (!m->path) {
        free(m);
        return NULL;
    }
    return m;
}

/* Files must be a real table (not a view) with the five columns ferry reads. */
static int check_files_table(ferry_manifest_db_t *m)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(m->db, "SELECT type = 'table' FROM sqlite_master WHERE name = 'Files'", -1, &st,
                                NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    int is_table = rc == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        rc = ferry_error_set(FERRY_EFORMAT, "%s is not a Manifest.db (%s)", m->path, sqlite3_errmsg(m->db));
        sqlite3_finalize(st);
        return rc;
    }
    sqlite3_finalize(st);
    if (!is_table)
        return ferry_error_set(FERRY_EFORMAT, "%s is not a Manifest.db (it has no Files table)", m->path);
    rc = sqlite3_prepare_v2(m->db, "SELECT fileID, domain, relativePath, flags, file FROM Files LIMIT 0", -1,
                            &st, NULL);
    sqlite3_finalize(st);
    if (rc != SQLITE_OK)
        return ferry_error_set(FERRY_EFORMAT, "%s is not a Manifest.db (its Files table: %s)", m->path,
                               sqlite3_errmsg(m->db));
    return 0;
}

int ferry_manifest_db_open(const char *path, ferry_manifest_db_t **out)
{
    *out = NULL;
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT)
            return ferry_error_set(FERRY_ENOTFOUND, "%s does not exist", path);
        return ferry_error_errno("cannot access %s", path);
    }
    if (!S_ISREG(st.st_mode))
        return ferry_error_set(FERRY_EFORMAT, "%s is not a Manifest.db (not a regular file)", path);
    ferry_manifest_db_t *m = db_new(path);
    char *uri = path_to_uri(path, "immutable=1");
    if (!m || !uri) {
        free(uri);
        ferry_manifest_db_close(m);
        return ferry_error_set(FERRY_ENOMEM, "out of memory opening %s", path);
    }
    int rc = sqlite3_open_v2(uri, &m->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
    free(uri);
    if (rc != SQLITE_OK) {
        int code = ferry_error_set(FERRY_EFORMAT, "%s is not a Manifest.db (%s)", path,
                                   m->db ? sqlite3_errmsg(m->db) : sqlite3_errstr(rc));
        ferry_manifest_db_close(m);
        return code;
    }
    harden(m->db);
    if ((rc = check_files_table(m)) != 0) {
        ferry_manifest_db_close(m);
        return rc;
    }
    *out = m;
    return 0;
}

/* ---- creating and writing ---------------------------------------------------------------------- */

static int exec(ferry_manifest_db_t *m, const char *sql, const char *what)
{
    char *err = NULL;
    int rc = sqlite3_exec(m->db, sql, NULL, NULL, &err);
    if (rc != SQLITE_OK) {
        int code = ferry_error_set(rc == SQLITE_FULL ? FERRY_ENOSPC : FERRY_EIO, "cannot %s in %s: %s", what, m->path,
                                   err ? err : "unknown error");
        sqlite3_free(err);
        return code;
    }
    return 0;
}

int ferry_manifest_db_create(const char *path, ferry_manifest_db_t **out)
{
    *out = NULL;
    /* O_EXCL creates the file with mode 0600 and refuses an existing one in a single step; SQLite
     * accepts an empty file as an empty database. */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            return ferry_error_set(FERRY_EEXIST, "%s already exists: refusing to overwrite a Manifest.db", path);
        return ferry_error_errno("cannot create %s", path);
    }
    close(fd);
    ferry_manifest_db_t *m = db_new(path);
    char *uri = path_to_uri(path, "mode=rw");
    int rc = 0;
    if (!m || !uri) {
        rc = ferry_error_set(FERRY_ENOMEM, "out of memory creating %s", path);
        goto fail;
    }
    if (sqlite3_open_v2(uri, &m->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_URI, NULL) != SQLITE_OK) {
        rc = ferry_error_set(FERRY_EIO, "cannot create %s: %s", path,
                             m->db ? sqlite3_errmsg(m->db) : "out of memory");
        goto fail;
    }
    /* The database is built under a temporary name and fsync'ed by the writer before it is renamed
     * into place, so its own transactions need neither a journal file nor a sync: each sync of the
     * schema's statements cost the writer about 4 fdatasyncs, a tenth of a second per backup. */
    if ((rc = exec(m, "PRAGMA page_size=4096; PRAGMA journal_mode=MEMORY; PRAGMA synchronous=OFF;",
                   "set the page size")) != 0 ||
        (rc = exec(m, SCHEMA, "create the schema")) != 0)
        goto fail;
    free(uri);
    *out = m;
    return 0;
fail:
    free(uri);
    ferry_manifest_db_close(m);
    unlink(path);
    return rc;
}

int ferry_manifest_db_begin(ferry_manifest_db_t *db) { return exec(db, "BEGIN", "begin a transaction"); }

int ferry_manifest_db_commit(ferry_manifest_db_t *db) { return exec(db, "COMMIT", "commit"); }

int ferry_manifest_db_insert(ferry_manifest_db_t *db, const char *fileid, const char *domain, const char *relpath,
                             int flags, const uint8_t *file, size_t file_len)
{
    if (!db->insert &&
        sqlite3_prepare_v2(db->db, "INSERT INTO Files (fileID, domain, relativePath, flags, file) VALUES (?,?,?,?,?)",
                           -1, &db->insert, NULL) != SQLITE_OK)
        return ferry_error_set(FERRY_EIO, "cannot prepare an insert into %s: %s", db->path, sqlite3_errmsg(db->db));
    sqlite3_stmt *st = db->insert;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    sqlite3_bind_text(st, 1, fileid, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, domain, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, relpath, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, flags);
    if (file)
        sqlite3_bind_blob64(st, 5, file, file_len, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 5);
    int rc = sqlite3_step(st);
    int ext = sqlite3_extended_errcode(db->db);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return 0;
    if (ext == SQLITE_CONSTRAINT_PRIMARYKEY || ext == SQLITE_CONSTRAINT_UNIQUE)
        return ferry_error_set(FERRY_EEXIST, "fileID %s (%s/%s) is already in %s", fileid, domain, relpath,
                               db->path);
    if (rc == SQLITE_FULL)
        return ferry_error_set(FERRY_ENOSPC, "no space left writing %s", db->path);
    return ferry_error_set(FERRY_EIO, "cannot insert %s into %s: %s", fileid, db->path, sqlite3_errmsg(db->db));
}

int ferry_manifest_db_count(ferry_manifest_db_t *db, int64_t *n)
{
    sqlite3_stmt *st = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(db->db, "SELECT COUNT(*) FROM Files", -1, &st, NULL) != SQLITE_OK)
        return ferry_error_set(FERRY_EFORMAT, "cannot count the rows of %s: %s", db->path, sqlite3_errmsg(db->db));
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *n = sqlite3_column_int64(st, 0);
    else
        rc = ferry_error_set(FERRY_EFORMAT, "cannot count the rows of %s: %s", db->path, sqlite3_errmsg(db->db));
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : rc;
}

void ferry_manifest_db_close(ferry_manifest_db_t *db)
{
    if (!db)
        return;
    sqlite3_finalize(db->insert);
    /* close_v2 defers the close until a forgotten iterator is freed instead of leaking the handle. */
    sqlite3_close_v2(db->db);
    free(db->path);
    free(db);
}

/* ---- iterating --------------------------------------------------------------------------------- */

static int iter_prepare(ferry_manifest_db_t *db, const char *sql, const char *domain, const char *relpath,
                        ferry_db_iter_t **out)
{
    *out = NULL;
    ferry_db_iter_t *it = calloc(1, sizeof *it);
    if (!it)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    if (sqlite3_prepare_v2(db->db, sql, -1, &it->st, NULL) != SQLITE_OK) {
        int code = ferry_error_set(FERRY_EFORMAT, "cannot read the Files table of %s: %s", db->path,
                                   sqlite3_errmsg(db->db));
        free(it);
        return code;
    }
    if ((domain && sqlite3_bind_text(it->st, 1, domain, -1, SQLITE_TRANSIENT) != SQLITE_OK) ||
        (relpath && sqlite3_bind_text(it->st, 2, relpath, -1, SQLITE_TRANSIENT) != SQLITE_OK)) {
        sqlite3_finalize(it->st);
        free(it);
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    it->db = db;
    *out = it;
    return 0;
}

#define ROW_COLUMNS "SELECT fileID, domain, relativePath, flags, file FROM Files "

int ferry_db_iter_new(ferry_manifest_db_t *db, const char *domain, ferry_db_iter_t **out)
{
    /* Row order in a device's file is not sorted (§4.1): the order is ours. NOT INDEXED makes SQLite
     * read the whole table into its sorter at the first step, so the rows handed out never depend on
     * the file's indexes again: a damaged index whose keys are out of order made a cursor that was
     * re-positioned by key (after a lookup on the same connection hit the damage) come back to rows
     * it had already passed, and an iteration with lookups never ended (found by fuzz/fuzz_backup.c). */
    if (domain)
        return iter_prepare(db, ROW_COLUMNS "NOT INDEXED WHERE domain = ?1 ORDER BY domain, relativePath", domain,
                            NULL, out);
    return iter_prepare(db, ROW_COLUMNS "NOT INDEXED ORDER BY domain, relativePath", NULL, NULL, out);
}

int ferry_db_iter_new_path(ferry_manifest_db_t *db, const char *domain, const char *relpath, ferry_db_iter_t **out)
{
    /* Indexed: a lookup must stay fast on large databases, and it runs to its end before anything else
     * uses the connection (record.c), so no other statement can move its cursor. */
    return iter_prepare(db, ROW_COLUMNS "WHERE domain = ?1 AND relativePath = ?2 ORDER BY fileID", domain, relpath,
                        out);
}

static const char *type_name(int t)
{
    switch (t) {
    case SQLITE_INTEGER: return "an integer";
    case SQLITE_FLOAT: return "a float";
    case SQLITE_TEXT: return "text";
    case SQLITE_BLOB: return "a blob";
    default: return "NULL";
    }
}

/* Checks the SQLite types of the current row before anything is read as text, since reading a blob
 * or number as text would convert it in place. */
static int check_row_types(ferry_db_iter_t *it)
{
    static const char *names[] = {"fileID", "domain", "relativePath", "flags", "file"};
    static const int want[] = {SQLITE_TEXT, SQLITE_TEXT, SQLITE_TEXT, SQLITE_INTEGER, SQLITE_BLOB};
    sqlite3_stmt *st = it->st;
    for (int c = 0; c < 5; c++) {
        int t = sqlite3_column_type(st, c);
        if (t == want[c] || (c == 4 && t == SQLITE_NULL))
            continue;
        if (c > 0 && sqlite3_column_type(st, 0) == SQLITE_TEXT) {
            const unsigned char *id = sqlite3_column_text(st, 0);
            return ferry_error_set(FERRY_EFORMAT, "Manifest.db row %.64s: column %s is %s, not %s", (const char *)id,
                                   names[c], type_name(t), c == 3 ? "an integer" : c == 4 ? "a blob" : "text");
        }
        return ferry_error_set(FERRY_EFORMAT, "Manifest.db row %llu (in domain/path order): column %s is %s, not %s",
                               (unsigned long long)it->rowno, names[c], type_name(t),
                               c == 3 ? "an integer" : c == 4 ? "a blob" : "text");
    }
    return 0;
}

int ferry_db_iter_next(ferry_db_iter_t *it, ferry_db_row_t *row)
{
    memset(row, 0, sizeof *row);
    if (it->done)
        return 0;
    int rc = sqlite3_step(it->st);
    if (rc == SQLITE_DONE) {
        it->done = 1;
        return 0;
    }
    if (rc != SQLITE_ROW) {
        it->done = 1; /* SQLite cannot continue a statement after an error */
        return ferry_error_set(FERRY_EFORMAT, "cannot read the Files table of %s: %s", it->db->path,
                               sqlite3_errmsg(it->db->db));
    }
    it->rowno++;
    if ((rc = check_row_types(it)) != 0)
        return rc;
    sqlite3_stmt *st = it->st;
    /* The pointer first, then the length, as SQLite documents; lengths include embedded NULs. */
    row->fileid = (const char *)sqlite3_column_text(st, 0);
    row->fileid_len = (size_t)sqlite3_column_bytes(st, 0);
    row->domain = (const char *)sqlite3_column_text(st, 1);
    row->domain_len = (size_t)sqlite3_column_bytes(st, 1);
    row->relpath = (const char *)sqlite3_column_text(st, 2);
    row->relpath_len = (size_t)sqlite3_column_bytes(st, 2);
    row->flags = sqlite3_column_int64(st, 3);
    if (!row->fileid || !row->domain || !row->relpath)
        return ferry_error_set(FERRY_ENOMEM, "out of memory reading %s", it->db->path);
    if (sqlite3_column_type(st, 4) == SQLITE_BLOB) {
        row->file = sqlite3_column_blob(st, 4);
        row->file_len = (size_t)sqlite3_column_bytes(st, 4);
        if (!row->file) /* SQLite gives NULL for an empty blob; an empty record is not a NULL column */
            row->file = (const uint8_t *)"";
    }
    return 1;
}

void ferry_db_iter_free(ferry_db_iter_t *it)
{
    if (!it)
        return;
    sqlite3_finalize(it->st);
    free(it);
}

/* ---- the encryption layer of an encrypted Manifest.db (§4.2) ------------------------------------ */

/* A temporary beside out_path, so that the final rename stays on one filesystem. */
static int tmp_beside(const char *out_path, char **tmp, int *fd)
{
    *tmp = NULL;
    if (asprintf(tmp, "%s.tmp-XXXXXX", out_path) < 0) {
        *tmp = NULL;
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    *fd = mkostemp(*tmp, O_CLOEXEC);
    if (*fd < 0) {
        int code = ferry_error_errno("cannot create a temporary file for %s", out_path);
        free(*tmp);
        *tmp = NULL;
        return code;
    }
    if (fchmod(*fd, 0600) != 0) {
        int code = ferry_error_errno("cannot set the mode of %s", *tmp);
        close(*fd);
        unlink(*tmp);
        free(*tmp);
        *tmp = NULL;
        return code;
    }
    return 0;
}

static int finish_tmp(int fd, char *tmp, const char *out_path, int rc)
{
    if (rc == 0 && fsync(fd) != 0)
        rc = ferry_error_errno("cannot sync %s", out_path);
    if (close(fd) != 0 && rc == 0)
        rc = ferry_error_errno("cannot close %s", out_path);
    if (rc == 0 && rename(tmp, out_path) != 0)
        rc = ferry_error_errno("cannot rename %s to %s", tmp, out_path);
    if (rc != 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

static int open_input(const char *in_path, off_t *size)
{
    int fd = open(in_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT)
            return ferry_error_set(FERRY_ENOTFOUND, "%s does not exist", in_path);
        if (errno == ELOOP)
            return ferry_error_set(FERRY_EUNSAFE, "%s is a symbolic link: refused", in_path);
        return ferry_error_errno("cannot open %s", in_path);
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int code = ferry_error_errno("cannot stat %s", in_path);
        close(fd);
        return code;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return ferry_error_set(FERRY_EFORMAT, "%s is not a regular file", in_path);
    }
    *size = st.st_size;
    return fd;
}

/* The database's own page size when buf starts with an SQLite header, else 0. */
static unsigned sqlite_page_size(const uint8_t *hdr, size_t len)
{
    if (len < 18 || memcmp(hdr, "SQLite format 3", 16) != 0)
        return 0;
    unsigned p = ((unsigned)hdr[16] << 8) | hdr[17];
    if (p == 1)
        p = 65536;
    if (p < 512 || (p & (p - 1)) != 0)
        return 0;
    return p;
}

/* How many bytes of PKCS#7 padding end the plaintext `last` (the final 16 bytes of a plaintext of
 * total length `total`), or 0 when the file is kept whole. A padded database is always n pages + 16
 * bytes; an unpadded one is a whole number of pages, so a valid-looking padding byte at the end of
 * an unpadded database's last page is not mistaken for padding. */
static size_t padding_to_strip(const uint8_t last[16], uint64_t total, unsigned page_size)
{
    unsigned p = last[15];
    if (p < 1 || p > 16)
        return 0;
    for (unsigned i = 16 - p; i < 16; i++)
        if (last[i] != p)
            return 0;
    if (page_size && total % page_size == 0)
        return 0;
    return p;
}

int ferry_manifest_db_decrypt_file(const char *in_path, const char *out_path, const uint8_t key[FERRY_KEY_LEN])
{
    off_t size = 0;
    int in = open_input(in_path, &size);
    if (in < 0)
        return in;
    if (size <= 0 || size % 16 != 0) {
        close(in);
        return ferry_error_set(FERRY_EFORMAT,
                               "encrypted Manifest.db %s is %lld bytes, not a positive multiple of 16: it is "
                               "truncated or not an encrypted database",
                               in_path, (long long)size);
    }
    uint8_t *ibuf = malloc(DB_CHUNK), *obuf = malloc(DB_CHUNK + 48);
    ferry_cbc_t *cbc = NULL;
    char *tmp = NULL;
    int out = -1, rc;
    if (!ibuf || !obuf) {
        rc = ferry_error_set(FERRY_ENOMEM, "out of memory decrypting %s", in_path);
        goto done;
    }
    if ((rc = ferry_cbc_new(key, 0, 0, &cbc)) != 0 || (rc = tmp_beside(out_path, &tmp, &out)) != 0)
        goto done;
    uint8_t hdr[18];
    size_t hdr_len = 0;
    uint64_t total = 0;
    size_t held = 0; /* plaintext bytes at the start of obuf not yet written: the last block is held
                        back until the end decides whether it is padding */
    for (;;) {
        ssize_t n = ferry_read_full(in, ibuf, DB_CHUNK, in_path);
        if (n < 0) {
            rc = (int)n;
            goto done;
        }
        size_t ol = 0;
        if (n == 0) {
            if ((rc = ferry_cbc_final(cbc, obuf + held, &ol)) != 0)
                goto done;
            held += ol;
            total += ol;
            break;
        }
        if (n % 16 != 0) { /* the file changed size while being read */
            rc = ferry_error_set(FERRY_EFORMAT, "encrypted Manifest.db %s changed while it was read", in_path);
            goto done;
        }
        if ((rc = ferry_cbc_update(cbc, ibuf, (size_t)n, obuf + held, &ol)) != 0)
            goto done;
        if (hdr_len < sizeof hdr) {
            size_t take = ol < sizeof hdr - hdr_len ? ol : sizeof hdr - hdr_len;
            memcpy(hdr + hdr_len, obuf + held, take); /* while hdr is short, hdr_len == total */
            hdr_len += take;
        }
        held += ol;
        total += ol;
        if (held > 16) {
            if ((rc = ferry_write_full(out, obuf, held - 16, out_path)) != 0)
                goto done;
            memmove(obuf, obuf + held - 16, 16);
            held = 16;
        }
    }
    if (held != 16 || total < 16) {
        rc = ferry_error_set(FERRY_ECRYPTO, "decrypting %s gave %llu bytes for %lld bytes of ciphertext", in_path,
                             (unsigned long long)total, (long long)size);
        goto done;
    }
    size_t strip = padding_to_strip(obuf, total, sqlite_page_size(hdr, hdr_len));
    rc = ferry_write_full(out, obuf, 16 - strip, out_path);
done:
    if (out >= 0)
        rc = finish_tmp(out, tmp, out_path, rc);
    close(in);
    ferry_cbc_free(cbc);
    free(ibuf);
    free(obuf);
    return rc;
}

int ferry_manifest_db_encrypt_file(const char *in_path, const char *out_path, const uint8_t key[FERRY_KEY_LEN])
{
    off_t size = 0;
    int in = open_input(in_path, &size);
    if (in < 0)
        return in;
    uint8_t *ibuf = malloc(DB_CHUNK), *obuf = malloc(DB_CHUNK + 32);
    ferry_cbc_t *cbc = NULL;
    char *tmp = NULL;
    int out = -1, rc;
    if (!ibuf || !obuf) {
        rc = ferry_error_set(FERRY_ENOMEM, "out of memory encrypting %s", in_path);
        goto done;
    }
    if ((rc = ferry_cbc_new(key, 1, 1, &cbc)) != 0 || (rc = tmp_beside(out_path, &tmp, &out)) != 0)
        goto done;
    for (;;) {
        ssize_t n = ferry_read_full(in, ibuf, DB_CHUNK, in_path);
        size_t ol = 0;
        if (n < 0) {
            rc = (int)n;
            goto done;
        }
        if (n == 0) {
            if ((rc = ferry_cbc_final(cbc, obuf, &ol)) == 0)
                rc = ferry_write_full(out, obuf, ol, out_path);
            break;
        }
        if ((rc = ferry_cbc_update(cbc, ibuf, (size_t)n, obuf, &ol)) != 0 ||
            (rc = ferry_write_full(out, obuf, ol, out_path)) != 0)
            goto done;
    }
done:
    if (out >= 0)
        rc = finish_tmp(out, tmp, out_path, rc);
    close(in);
    ferry_cbc_free(cbc);
    free(ibuf);
    free(obuf);
    return rc;
}
