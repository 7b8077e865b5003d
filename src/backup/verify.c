/*
 * verify.c: `ferry verify`: checks that a backup folder is complete and that every independent reader
 * will accept it (backup-format.md §2, §9, §15). Each finding goes to the caller's callback as a
 * problem (the backup is not conformant or not restorable) or a warning (tolerated, worth knowing),
 * with a message that names the file or record. Invariants: verification never writes into the backup
 * folder; a path is built only from a validated record or from a directory listing of the folder
 * itself; content is streamed in bounded buffers; a wrong password is returned as FERRY_EPASSWORD
 * rather than reported as a finding, because the backup itself may be fine.
 */
#include "ferry/backup.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define READ_BUF_SIZE (1u << 20)

typedef struct {
    const char *dir;
    ferry_verify_cb cb;
    void *ctx;
    ferry_verify_report_t *rep;
    uint8_t (*ids)[20];      /* every fileID of Manifest.db, sorted, for the orphan scan */
    size_t nids;
} vctx_t;

static void finding(vctx_t *v, ferry_verify_severity_t sev, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void finding(vctx_t *v, ferry_verify_severity_t sev, const char *what, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (sev == FERRY_VERIFY_PROBLEM)
        v->rep->problems++;
    else if (sev == FERRY_VERIFY_WARNING)
        v->rep->warnings++;
    if (v->cb)
        v->cb(v->ctx, sev, what, msg);
}

/* ---- the three plists -------------------------------------------------------------------------- */

static const char *type_name(plist_type t)
{
    switch (t) {
    case PLIST_BOOLEAN: return "boolean";
    case PLIST_UINT: return "integer";
    case PLIST_REAL: return "real";
    case PLIST_STRING: return "string";
    case PLIST_ARRAY: return "array";
    case PLIST_DICT: return "dict";
    case PLIST_DATE: return "date";
    case PLIST_DATA: return "data";
    case PLIST_KEY: return "key";
    case PLIST_UID: return "UID";
    default: return "unknown";
    }
}

/* Reads name from the backup folder. NULL when absent or unreadable (a problem is reported then). */
static plist_t read_plist(vctx_t *v, const char *name, const char *why_needed)
{
    char *path = ferry_path_join(v->dir, name);
    if (!path) {
        finding(v, FERRY_VERIFY_PROBLEM, name, "%s: out of memory", name);
        return NULL;
    }
    struct stat st;
    plist_t p = NULL;
    if (lstat(path, &st) != 0 && errno == ENOENT) {
        finding(v, FERRY_VERIFY_PROBLEM, name, "%s is missing%s", name, why_needed);
    } else if (ferry_plist_read_file(path, 0, &p) != 0) {
        finding(v, FERRY_VERIFY_PROBLEM, name, "%s cannot be read or parsed: %s", name, ferry_error_last());
        p = NULL;
    } else if (plist_get_node_type(p) != PLIST_DICT) {
        finding(v, FERRY_VERIFY_PROBLEM, name, "%s is a %s, not a dictionary", name,
                type_name(plist_get_node_type(p)));
        plist_free(p);
        p = NULL;
    }
    free(path);
    return p;
}

/* 1 when dict[key] exists with type t; reports a problem otherwise. */
static int require_key(vctx_t *v, const char *file, plist_t dict, const char *prefix, const char *key, plist_type t)
{
    plist_t node = plist_dict_get_item(dict, key);
    if (!node) {
        finding(v, FERRY_VERIFY_PROBLEM, file, "%s: required key '%s%s' is missing", file, prefix, key);
        return 0;
    }
    if (plist_get_node_type(node) != t) {
        finding(v, FERRY_VERIFY_PROBLEM, file, "%s: key '%s%s' is a %s, expected a %s", file, prefix, key,
                type_name(plist_get_node_type(node)), type_name(t));
        return 0;
    }
    return 1;
}

static void check_info_plist(vctx_t *v)
{
    plist_t p = read_plist(v, "Info.plist", " (written by the host; idevicebackup2 refuses to restore without it)");
    if (!p)
        return;
    if (!plist_dict_get_item(p, "Applications"))
        finding(v, FERRY_VERIFY_WARNING, "Info.plist",
                "Info.plist has no 'Applications' dict; idevicebackup2 restore aborts without it");
    plist_free(p);
}

/* §15.1 item 2. */
static void check_manifest_plist(vctx_t *v)
{
    static const char *lockdown_keys[] = {"BuildVersion", "DeviceName", "ProductType", "ProductVersion",
                                          "SerialNumber", "UniqueDeviceID"};
    const char *f = "Manifest.plist";
    plist_t p = read_plist(v, f, " (written by the device; readers cannot tell whether the backup is encrypted)");
    if (!p)
        return;
    int enc = 0;
    if (require_key(v, f, p, "", "IsEncrypted", PLIST_BOOLEAN)) {
        uint8_t b = 0;
        plist_get_bool_val(plist_dict_get_item(p, "IsEncrypted"), &b);
        enc = b != 0;
    }
    require_key(v, f, p, "", "Version", PLIST_STRING);
    require_key(v, f, p, "", "SystemDomainsVersion", PLIST_STRING);
    require_key(v, f, p, "", "Date", PLIST_DATE);
    require_key(v, f, p, "", "WasPasscodeSet", PLIST_BOOLEAN);
    require_key(v, f, p, "", "Applications", PLIST_DICT);
    require_key(v, f, p, "", "BackupKeyBag", PLIST_DATA);
    if (require_key(v, f, p, "", "Lockdown", PLIST_DICT)) {
        plist_t lock = plist_dict_get_item(p, "Lockdown");
        for (size_t i = 0; i < sizeof lockdown_keys / sizeof lockdown_keys[0]; i++)
            require_key(v, f, lock, "Lockdown.", lockdown_keys[i], PLIST_STRING);
    }
    if (enc && require_key(v, f, p, "", "ManifestKey", PLIST_DATA)) {
        uint64_t len = 0;
        const char *data = plist_get_data_ptr(plist_dict_get_item(p, "ManifestKey"), &len);
        if (!data || len != FERRY_PREFIXED_KEY_LEN)
            finding(v, FERRY_VERIFY_PROBLEM, f, "Manifest.plist: ManifestKey is %llu bytes, expected %d",
                    (unsigned long long)len, FERRY_PREFIXED_KEY_LEN);
    }
    plist_free(p);
}

static void check_status_plist(vctx_t *v)
{
    const char *f = "Status.plist";
    plist_t p = read_plist(v, f, " (idevicebackup2 only restores a backup whose SnapshotState is 'finished')");
    if (!p)
        return;
    plist_t node = plist_dict_get_item(p, "SnapshotState");
    if (!node) {
        finding(v, FERRY_VERIFY_PROBLEM, f, "backup incomplete: Status.plist has no SnapshotState");
    } else if (plist_get_node_type(node) != PLIST_STRING) {
        finding(v, FERRY_VERIFY_PROBLEM, f, "backup incomplete: SnapshotState is a %s, not a string",
                type_name(plist_get_node_type(node)));
    } else {
        /* plist_get_string_val would abort on a NUL byte inside the string (libplist 2.2 asserts) */
        uint64_t len = 0;
        const char *state = plist_get_string_ptr(node, &len);
        if (!state || strlen(state) != len)
            finding(v, FERRY_VERIFY_PROBLEM, f, "backup incomplete: SnapshotState holds a NUL byte");
        else if (strcmp(state, "finished") != 0)
            finding(v, FERRY_VERIFY_PROBLEM, f, "backup incomplete: SnapshotState is '%s'", state);
    }
    plist_free(p);
}

/* ---- fileIDs, for the orphan scan -------------------------------------------------------------- */

static int is_lower_hex(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

static int cmp_id(const void *a, const void *b) { return memcmp(a, b, 20); }

/* Every fileID of the database, valid rows or not, so that a refused row's blob is not also called an
 * orphan. */
static int collect_ids(vctx_t *v, ferry_backup_t *b)
{
    ferry_db_iter_t *it = NULL;
    int rc = ferry_db_iter_new(ferry_backup_db(b), NULL, &it);
    if (rc)
        return rc;
    size_t cap = 0;
    ferry_db_row_t row;
    while ((rc = ferry_db_iter_next(it, &row)) == 1) {
        if (!row.fileid || row.fileid_len != 40 || !is_lower_hex(row.fileid, 40))
            continue;
        if (v->nids == cap) {
            cap = cap ? cap * 2 : 1024;
            uint8_t(*n)[20] = realloc(v->ids, cap * sizeof *n);
            if (!n) {
                rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
                break;
            }
            v->ids = n;
        }
        ferry_hex_decode(row.fileid, v->ids[v->nids++], 20);
    }
    ferry_db_iter_free(it);
    if (rc < 0)
        return rc;
    if (v->nids)
        qsort(v->ids, v->nids, sizeof *v->ids, cmp_id);
    return 0;
}

static int known_id(const vctx_t *v, const char *name)
{
    uint8_t id[20];
    if (ferry_hex_decode(name, id, 20) != 0)
        return 0;
    return v->nids && bsearch(id, v->ids, v->nids, sizeof *v->ids, cmp_id) != NULL;
}

/* ---- records ----------------------------------------------------------------------------------- */

/* Blob presence, type and length. 1 when the blob is there and plausible, so its content can be read. */
static int check_blob(vctx_t *v, ferry_backup_t *b, const ferry_record_t *rec, const char *what)
{
    char *path = ferry_backup_blob_path(b, rec);
    if (!path) {
        finding(v, FERRY_VERIFY_PROBLEM, what, "%s (fileID %s): out of memory", what, rec->fileid);
        return 0;
    }
    struct stat st;
    int ok = 0;
    /* lstat does not follow the last component only: the bucket must be a real directory too, as the
     * reader requires. */
    char bucket[3] = {rec->fileid[0], rec->fileid[1], '\0'};
    char *bpath = ferry_path_join(v->dir, bucket);
    int bucket_bad = bpath && lstat(bpath, &st) == 0 && !S_ISDIR(st.st_mode);
    free(bpath);
    if (bucket_bad) {
        finding(v, FERRY_VERIFY_PROBLEM, what, "%s (fileID %s): bucket %s is a symlink or not a directory", what,
                rec->fileid, bucket);
    } else if (lstat(path, &st) != 0) {
        if (errno != ENOENT)
            finding(v, FERRY_VERIFY_PROBLEM, what, "%s (fileID %s): blob %.2s/%s cannot be examined: %s", what,
                    rec->fileid, rec->fileid, rec->fileid, strerror(errno));
        else if (rec->mb.size > 0)
            finding(v, FERRY_VERIFY_PROBLEM, what, "%s (fileID %s): missing blob %.2s/%s (Size %lld)", what,
                    rec->fileid, rec->fileid, rec->fileid, (long long)rec->mb.size);
        else
            finding(v, FERRY_VERIFY_WARNING, what,
                    "%s (fileID %s): missing blob %.2s/%s for an empty file (tolerated; strict readers such as "
                    "iTunes-Backup-Explorer want one)",
                    what, rec->fileid, rec->fileid, rec->fileid);
    } else if (!S_ISREG(st.st_mode)) {
        finding(v, FERRY_VERIFY_PROBLEM, what, "%s (fileID %s): blob %.2s/%s is not a regular file", what,
                rec->fileid, rec->fileid, rec->fileid);
    } else if (rec->mb.size < 0) {
        finding(v, FERRY_VERIFY_PROBLEM, what, "%s (fileID %s): Size %lld is negative", what, rec->fileid,
                (long long)rec->mb.size);
    } else if (ferry_backup_is_encrypted(b)) {
        long long want = ((long long)rec->mb.size / 16 + 1) * 16;
        if ((long long)st.st_size != want)
            finding(v, FERRY_VERIFY_PROBLEM, what,
                    "%s (fileID %s): size mismatch: the encrypted blob is %lld bytes, Size %lld needs %lld", what,
                    rec->fileid, (long long)st.st_size, (long long)rec->mb.size, want);
        else
            ok = 1;
    } else if ((long long)st.st_size != (long long)rec->mb.size) {
        finding(v, FERRY_VERIFY_PROBLEM, what, "%s (fileID %s): size mismatch: the blob is %lld bytes, Size is %lld",
                what, rec->fileid, (long long)st.st_size, (long long)rec->mb.size);
    } else {
        ok = 1;
    }
    free(path);
    return ok;
}

/* Reads the whole plaintext in strict mode: padding and length are checked by the reader. */
static void check_content(vctx_t *v, ferry_backup_t *b, const ferry_record_t *rec, const char *what, uint8_t *buf)
{
    ferry_file_reader_t *r = NULL;
    if (ferry_backup_file_open(b, rec, 1, &r) != 0) {
        finding(v, FERRY_VERIFY_PROBLEM, what, "%s (fileID %s): content cannot be read: %s", what, rec->fileid,
                ferry_error_last());
        return;
    }
    ssize_t n;
    while ((n = ferry_file_reader_read(r, buf, READ_BUF_SIZE)) > 0)
        ;
    if (n < 0)
        finding(v, FERRY_VERIFY_PROBLEM, what, "%s (fileID %s): content: %s", what, rec->fileid, ferry_error_last());
    ferry_file_reader_close(r);
}

static int check_records(vctx_t *v, ferry_backup_t *b, const ferry_verify_opts_t *opts)
{
    uint8_t *buf = NULL;
    if (opts && opts->decrypt_content && !(buf = malloc(READ_BUF_SIZE)))
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    ferry_backup_iter_t *it = NULL;
    int rc = ferry_backup_iter_new(b, NULL, &it);
    if (rc) {
        free(buf);
        return rc;
    }
    for (;;) {
        const ferry_record_t *rec = NULL;
        int n = ferry_backup_iter_next(it, &rec);
        if (n == 0)
            break;
        v->rep->records++;
        if (n == FERRY_ENOMEM) {
            rc = n;
            break;
        }
        if (n < 0) {
            finding(v, FERRY_VERIFY_PROBLEM, "Manifest.db", "%s", ferry_error_last());
            continue;
        }
        char *what = ferry_path_join(rec->domain, rec->relative_path);
        if (!what) {
            rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
            break;
        }
        if (rec->flags == FERRY_FLAG_FILE) {
            v->rep->files++;
            v->rep->bytes += rec->mb.size > 0 ? (uint64_t)rec->mb.size : 0;
            if (check_blob(v, b, rec, what) && buf)
                check_content(v, b, rec, what, buf);
        } else if (rec->flags == FERRY_FLAG_DIR) {
            v->rep->dirs++;
        } else if (rec->flags == FERRY_FLAG_SYMLINK) {
            v->rep->symlinks++;
            if (!rec->mb.target || !*rec->mb.target)
                finding(v, FERRY_VERIFY_PROBLEM, what, "%s (fileID %s): symlink row without a Target", what,
                        rec->fileid);
        } else {
            finding(v, FERRY_VERIFY_WARNING, what, "%s (fileID %s): flags %d is not a file, directory or symlink",
                    what, rec->fileid, rec->flags);
        }
        free(what);
    }
    ferry_backup_iter_free(it);
    free(buf);
    return rc;
}

/* ---- the folder itself ------------------------------------------------------------------------- */

static int is_bucket_name(const char *s)
{
    return strlen(s) == 2 && is_lower_hex(s, 2);
}

static void scan_bucket(vctx_t *v, const char *bucket)
{
    char *path = ferry_path_join(v->dir, bucket);
    DIR *d = path ? opendir(path) : NULL;
    free(path);
    if (!d) {
        finding(v, FERRY_VERIFY_WARNING, bucket, "bucket directory %s cannot be listed", bucket);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *n = e->d_name;
        if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
            continue;
        if (strlen(n) == 40 && is_lower_hex(n, 40) && memcmp(n, bucket, 2) == 0) {
            if (!known_id(v, n))
                finding(v, FERRY_VERIFY_WARNING, n, "orphan blob %s/%s: no Manifest.db row has this fileID", bucket,
                        n);
        } else {
            finding(v, FERRY_VERIFY_WARNING, n, "unexpected file %s/%s in a bucket directory", bucket, n);
        }
    }
    closedir(d);
}

static void scan_folder(vctx_t *v)
{
    static const char *known[] = {"Info.plist", "Manifest.plist", "Manifest.db", "Status.plist",
                                  "Manifest.db-wal", "Manifest.db-shm", "Snapshot"};
    DIR *d = opendir(v->dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *n = e->d_name;
        if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
            continue;
        int is_known = 0;
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
            is_known |= strcmp(n, known[i]) == 0;
        if (is_known)
            continue;
        struct stat st;
        char *path = ferry_path_join(v->dir, n);
        int isdir = path && lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
        free(path);
        if (isdir && is_bucket_name(n))
            scan_bucket(v, n);
        else
            finding(v, FERRY_VERIFY_WARNING, n, "unexpected %s '%s' in the backup folder", isdir ? "directory" : "file",
                    n);
    }
    closedir(d);
}

/* ---- entry point ------------------------------------------------------------------------------- */

/* Errors that say nothing about the backup's conformance: the caller reports them. */
static int is_caller_error(int code)
{
    return code == FERRY_EPASSWORD || code == FERRY_ENOMEM || code == FERRY_EINVAL || code == FERRY_ELIMIT;
}

int ferry_backup_verify(const char *dir, const ferry_credentials_t *cred, const ferry_verify_opts_t *opts,
                        ferry_verify_cb cb, void *ctx, ferry_verify_report_t *report)
{
    ferry_verify_report_t local;
    if (!report)
        report = &local;
    memset(report, 0, sizeof *report);
    if (!dir || !*dir)
        return ferry_error_set(FERRY_EINVAL, "verify needs a backup directory");
    struct stat st;
    if (stat(dir, &st) != 0)
        return ferry_error_errno("cannot open the backup directory %s", dir);
    if (!S_ISDIR(st.st_mode))
        return ferry_error_set(FERRY_EINVAL, "%s is not a directory", dir);
    vctx_t v = {.dir = dir, .cb = cb, .ctx = ctx, .rep = report};

    check_info_plist(&v);
    check_manifest_plist(&v);
    check_status_plist(&v);

    ferry_backup_t *b = NULL;
    int rc = ferry_backup_open(dir, cred, &b);
    if (rc && is_caller_error(rc))
        return rc;
    if (rc) {
        finding(&v, FERRY_VERIFY_PROBLEM, "Manifest.db", "the backup cannot be opened: %s", ferry_error_last());
    } else {
        if (ferry_backup_is_encrypted(b) && ferry_backup_manifest_db_padded(b) == 0)
            finding(&v, FERRY_VERIFY_PROBLEM, "Manifest.db",
                    "Manifest.db is not PKCS#7-padded; strict readers such as iTunes-Backup-Explorer reject it");
        rc = collect_ids(&v, b);
        if (rc == 0)
            rc = check_records(&v, b, opts);
        if (rc == 0)
            scan_folder(&v);
        ferry_backup_close(b);
        free(v.ids);
        if (rc == FERRY_ENOMEM)
            return rc;
        if (rc)
            finding(&v, FERRY_VERIFY_PROBLEM, "Manifest.db", "Manifest.db cannot be read: %s", ferry_error_last());
    }
    if (report->problems == 0) {
        ferry_error_clear();
        return 0;
    }
    return ferry_error_set(FERRY_EINTEGRITY, "%s: %llu problem(s) and %llu warning(s)", dir,
                           (unsigned long long)report->problems, (unsigned long long)report->warnings);
}
