/*
 * test_extract.c: `ferry extract` (ferry_backup_extract): the reference backups come out byte-exact
 * with their modes, mtimes and the one symlink; the --domain filter; the real mvt backup in strict
 * and lenient mode; and hostile backups (backup-format.md §15.2) built with the writer and then
 * tampered with through SQLite: each hostile row is refused with a message that names it, the other
 * rows are still extracted, and nothing appears outside OUT.
 *
 * Layout of every hostile case: T/s1/s2/out is OUT, T/s1/s2/sentinel is an empty directory next to
 * it; escapes through ".." would land in T/s1/s2, T/s1 or T, which must hold nothing new.
 */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ferry/backup.h"

#define MTIME_BASE 1600000000

/* ---- small helpers ----------------------------------------------------------------------------- */

static char *cat(const char *a, const char *b)
{
    char *p = ferry_path_join(a, b);
    assert_non_null(p);
    return p;
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    char *p = NULL;
    assert_true(vasprintf(&p, f, ap) >= 0);
    va_end(ap);
    return p;
}

/* Number of entries of a directory (without . and ..). */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

static int exists_nofollow(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* stderr goes to a file while the library logs, so that messages can be asserted (and the thousands
 * of warnings of the real fixture do not flood the test output). */
typedef struct {
    int saved;
    char *path;
} capture_t;

static void cap_begin(capture_t *c, const char *dir)
{
    fflush(stderr);
    c->path = cat(dir, "stderr.txt");
    c->saved = dup(2);
    int fd = open(c->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    dup2(fd, 2);
    close(fd);
}

static char *cap_end(capture_t *c)
{
    fflush(stderr);
    dup2(c->saved, 2);
    close(c->saved);
    size_t len;
    char *text = (char *)tu_read_file(c->path, &len);
    unlink(c->path);
    free(c->path);
    return text;
}

static size_t count_substr(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* ---- the temp layout --------------------------------------------------------------------------- */

typedef struct {
    char *t;        /* T */
    char *udid;     /* T/backup/UDID */
    char *out;      /* T/s1/s2/out */
    char *sentinel; /* T/s1/s2/sentinel */
} layout_t;

static void layout_new(layout_t *l)
{
    l->t = tu_mkdtemp();
    char *backup = cat(l->t, "backup");
    assert_int_equal(mkdir(backup, 0700), 0);
    l->udid = cat(backup, "00008030-0000000000000001");
    free(backup);
    char *s2 = cat(l->t, "s1/s2");
    assert_int_equal(ferry_mkdir_p(s2, 0700), 0);
    l->out = cat(s2, "out");
    l->sentinel = cat(s2, "sentinel");
    assert_int_equal(mkdir(l->sentinel, 0700), 0);
    free(s2);
}

/* Nothing outside OUT: the sentinel stays empty; T, T/s1 and T/s1/s2 hold only what the layout put
 * there. */
static void layout_assert_contained(const layout_t *l)
{
    char *s1 = cat(l->t, "s1"), *s2 = cat(l->t, "s1/s2");
    assert_int_equal(count_entries(l->sentinel), 0);
    assert_int_equal(count_entries(s2), 2); /* out, sentinel */
    assert_int_equal(count_entries(s1), 1); /* s2 */
    assert_int_equal(count_entries(l->t), 2); /* backup, s1 */
    free(s1);
    free(s2);
}

static void layout_free(layout_t *l)
{
    tu_rmtree(l->t);
    free(l->t);
    free(l->udid);
    free(l->out);
    free(l->sentinel);
}

/* ---- building backups with the writer ---------------------------------------------------------- */

static ferry_file_meta_t meta(int32_t mode, int64_t mtime)
{
    ferry_file_meta_t m;
    memset(&m, 0, sizeof m);
    m.mode = mode;
    m.mtime = m.ctime = m.birth = mtime;
    m.protection_class = 0;
    return m;
}

/* A small backup: two domains, nested directories, files of several sizes (one of 40,000 bytes so
 * that an encrypted blob has many blocks), distinct modes and mtimes. */
static void write_backup(const char *udid, const char *pw)
{
    ferry_writer_opts_t o;
    memset(&o, 0, sizeof o);
    o.ident.udid = "00008030-0000000000000001";
    o.ident.product_type = "iPhone15,2";
    o.ident.product_version = "17.5.1";
    o.ident.build_version = "21F90";
    o.ident.serial_number = "F00TESTSERIAL";
    o.ident.device_name = "Test iPhone";
    o.date = MTIME_BASE;
    if (pw) {
        o.password = pw;
        o.password_len = strlen(pw);
        o.kdf.dpic = 1000;
        o.kdf.iter = 1000;
    }
    ferry_writer_t *w = NULL;
    assert_int_equal(ferry_writer_open(udid, &o, &w), 0);
    ferry_file_meta_t d = meta(0755, MTIME_BASE + 1);
    assert_int_equal(ferry_writer_add_dir(w, "HomeDomain", "", &d), 0);
    d.mtime = MTIME_BASE + 2;
    assert_int_equal(ferry_writer_add_dir(w, "HomeDomain", "Library", &d), 0);
    d.mtime = MTIME_BASE + 3;
    d.mode = 0750;
    assert_int_equal(ferry_writer_add_dir(w, "HomeDomain", "Library/Preferences", &d), 0);
    ferry_file_meta_t f = meta(0640, MTIME_BASE + 10);
    assert_int_equal(ferry_writer_add_file_mem(w, "HomeDomain", "Library/Preferences/a.plist", &f, "hello plist", 11), 0);
    static uint8_t big[40000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7);
    f = meta(04755, MTIME_BASE + 11); /* setuid must not survive */
    assert_int_equal(ferry_writer_add_file_mem(w, "HomeDomain", "Library/big.bin", &f, big, sizeof big), 0);
    f = meta(0600, MTIME_BASE + 12);
    assert_int_equal(ferry_writer_add_file_mem(w, "HomeDomain", "Library/x.txt", &f, "0123456789abcdef", 16), 0);
    d = meta(0755, MTIME_BASE + 4);
    assert_int_equal(ferry_writer_add_dir(w, "AppDomain-com.example.app", "", &d), 0);
    assert_int_equal(ferry_writer_add_dir(w, "AppDomain-com.example.app", "Documents", &d), 0);
    f = meta(0644, MTIME_BASE + 13);
    assert_int_equal(ferry_writer_add_file_mem(w, "AppDomain-com.example.app", "Documents/doc.txt", &f, "doc", 3), 0);
    assert_int_equal(ferry_writer_commit(w), 0);
    ferry_writer_free(w);
}

/* ---- tampering with Manifest.db (unencrypted backups) ------------------------------------------ */

static sqlite3 *db_open(const char *udid)
{
    char *path = cat(udid, "Manifest.db");
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    free(path);
    assert_int_equal(sqlite3_exec(db, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL), SQLITE_OK);
    return db;
}

static void write_blob(const char *udid, const char *fileid, const void *data, size_t len)
{
    char bucket[3] = {fileid[0], fileid[1], 0};
    char *dir = cat(udid, bucket);
    mkdir(dir, 0700);
    char *path = cat(dir, fileid);
    assert_int_equal(ferry_file_write_atomic(path, data, len, 0600), 0);
    free(dir);
    free(path);
}

/* Adds a row as a hostile device would: any domain, path and fileID (NULL = the correct hash); for a
 * file, its blob is stored at the fileID's place when the fileID makes a plain name. */
static void add_row(const char *udid, const char *fileid, const char *domain, const char *rel, int flags,
                    const char *target, const char *content)
{
    ferry_mbfile_t mb;
    memset(&mb, 0, sizeof mb);
    mb.relative_path = (char *)rel;
    mb.target = (char *)target;
    mb.mode = (flags == FERRY_FLAG_FILE ? 0100644 : flags == FERRY_FLAG_DIR ? 040755 : 0120755);
    mb.uid = mb.gid = 501;
    mb.mtime = mb.ctime = mb.birth = MTIME_BASE + 100;
    mb.size = content ? (int64_t)strlen(content) : 0;
    mb.has_protection_class = 1;
    mb.protection_class = flags == FERRY_FLAG_FILE ? 3 : 0;
    uint8_t *enc = NULL;
    size_t enc_len = 0;
    assert_int_equal(ferry_mbfile_encode(&mb, &enc, &enc_len), 0);
    char id[41];
    if (fileid)
        snprintf(id, sizeof id, "%s", fileid);
    else
        ferry_sha1_pair_hex(domain, strlen(domain), rel, strlen(rel), id);
    sqlite3 *db = db_open(udid);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO Files (fileID, domain, relativePath, flags, file) "
                                            "VALUES (?, ?, ?, ?, ?)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, domain, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, rel, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 4, flags);
    sqlite3_bind_blob(st, 5, enc, (int)enc_len, SQLITE_TRANSIENT);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(enc);
    int plain = strlen(id) == 40 && strspn(id, "0123456789abcdef") == 40;
    if (content && plain)
        write_blob(udid, id, content, strlen(content));
}

static char *blob_of(const char *udid, const char *domain, const char *rel)
{
    char id[41];
    ferry_fileid(domain, rel, id);
    return fmt("%s/%.2s/%s", udid, id, id);
}

/* ---- extraction -------------------------------------------------------------------------------- */

typedef struct {
    int rc;
    ferry_extract_stats_t st;
    char *log;      /* captured stderr */
    char *err;      /* ferry_error_last() after the call */
} run_t;

static void run_free(run_t *r)
{
    free(r->log);
    free(r->err);
}

/* Opens (with a password when given), extracts, captures what was logged. */
static run_t extract(const char *udid, const char *pw, const char *out, const char *domain, int lenient,
                     const char *capdir)
{
    run_t r;
    memset(&r, 0, sizeof r);
    ferry_credentials_t cred;
    memset(&cred, 0, sizeof cred);
    cred.password = pw;
    cred.password_len = pw ? strlen(pw) : 0;
    ferry_backup_t *b = NULL;
    int rc = ferry_backup_open(udid, pw ? &cred : NULL, &b);
    if (rc)
        fail_msg("ferry_backup_open(%s): %s", udid, ferry_error_last());
    ferry_extract_opts_t o = {.domain = domain, .lenient = lenient};
    capture_t c;
    cap_begin(&c, capdir);
    r.rc = ferry_backup_extract(b, out, &o, &r.st);
    r.err = strdup(ferry_error_last());
    r.log = cap_end(&c);
    ferry_backup_close(b);
    return r;
}

static void assert_file(const char *root, const char *rel, const void *data, size_t len)
{
    char *p = cat(root, rel);
    struct stat st;
    assert_int_equal(lstat(p, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    size_t got_len;
    uint8_t *got = tu_read_file(p, &got_len);
    assert_int_equal(got_len, len);
    assert_memory_equal(got, data, len);
    free(got);
    free(p);
}

/* ---- reference fixtures ------------------------------------------------------------------------ */

/* Extracts the string value of "key" in the JSON object text [obj, end); malloc'd or NULL. The
 * fixture JSON has no escapes other than \" and \\, which are handled. */
static char *json_str(const char *obj, const char *end, const char *key)
{
    char *pat = fmt("\"%s\":", key);
    const char *p = strstr(obj, pat);
    size_t plen = strlen(pat);
    free(pat);
    if (!p || p >= end)
        return NULL;
    p += plen;
    while (*p == ' ')
        p++;
    if (*p != '"')
        return NULL;
    p++;
    char *out = malloc(strlen(p) + 1);
    size_t o = 0;
    for (; *p && *p != '"'; p++) {
        if (*p == '\\' && p[1])
            p++;
        out[o++] = *p;
    }
    out[o] = '\0';
    return out;
}

static long long json_int(const char *obj, const char *end, const char *key)
{
    char *pat = fmt("\"%s\":", key);
    const char *p = strstr(obj, pat);
    size_t plen = strlen(pat);
    free(pat);
    if (!p || p >= end)
        return -1;
    return strtoll(p + plen, NULL, 10);
}

/* Checks every entry of <UDID>.expected.json against OUT, and modes and mtimes against the records. */
static void check_against_json(const char *json_path, const char *udid, const char *pw, const char *out)
{
    size_t len;
    char *json = (char *)tu_read_file(json_path, &len);
    ferry_credentials_t cred;
    memset(&cred, 0, sizeof cred);
    cred.password = pw;
    cred.password_len = pw ? strlen(pw) : 0;
    ferry_backup_t *b = NULL;
    assert_int_equal(ferry_backup_open(udid, pw ? &cred : NULL, &b), 0);
    int files = 0, dirs = 0, links = 0;
    const char *p = strstr(json, "\"entries\"");
    assert_non_null(p);
    while ((p = strchr(p, '{')) != NULL) {
        const char *end = strchr(p, '}');
        assert_non_null(end);
        char *domain = json_str(p, end, "domain"), *rel = json_str(p, end, "relativePath");
        long long flags = json_int(p, end, "flags");
        assert_non_null(domain);
        assert_non_null(rel);
        char *dpath = cat(out, domain);
        char *path = cat(dpath, rel);
        struct stat st;
        assert_int_equal(lstat(path, &st), 0);
        ferry_record_t rec;
        memset(&rec, 0, sizeof rec);
        assert_int_equal(ferry_backup_lookup(b, domain, rel, &rec), 0);
        if (flags == 1) {
            files++;
            assert_true(S_ISREG(st.st_mode));
            assert_int_equal(st.st_size, json_int(p, end, "size"));
            char sha[65];
            tu_sha256_file(path, sha);
            char *want = json_str(p, end, "sha256");
            assert_string_equal(sha, want);
            free(want);
            assert_int_equal(st.st_mode & 07777, rec.mb.mode & 0777);
            assert_int_equal(st.st_mtime, rec.mb.mtime);
        } else if (flags == 2) {
            dirs++;
            assert_true(S_ISDIR(st.st_mode));
            assert_int_equal(st.st_mode & 07777, (rec.mb.mode & 0777) | 0700);
            assert_int_equal(st.st_mtime, rec.mb.mtime);
        } else if (flags == 4) {
            links++;
            assert_true(S_ISLNK(st.st_mode));
            char target[PATH_MAX];
            ssize_t n = readlink(path, target, sizeof target - 1);
            assert_true(n > 0);
            target[n] = '\0';
            /* HomeDomain/Library/SMS/link -> /var/mobile/Library/SMS/big.bin, mapped to a relative link */
            assert_string_equal(domain, "HomeDomain");
            assert_string_equal(rel, "Library/SMS/link");
            assert_string_equal(target, "big.bin");
            char *resolved = realpath(path, NULL);
            char *want = cat(dpath, "Library/SMS/big.bin");
            char *want_real = realpath(want, NULL);
            assert_non_null(resolved);
            assert_string_equal(resolved, want_real);
            free(resolved);
            free(want);
            free(want_real);
        }
        ferry_record_clear(&rec);
        free(domain);
        free(rel);
        free(dpath);
        free(path);
        p = end + 1;
    }
    assert_int_equal(files, 7);
    assert_int_equal(dirs, 10);
    assert_int_equal(links, 1);
    ferry_backup_close(b);
    free(json);
}

static void extract_reference(const char *name, const char *udid_name, const char *pw)
{
    char *rel = fmt("reference/%s", name);
    TU_FIXTURE_OR_SKIP(src, rel);
    free(rel);
    char *t = tu_mkdtemp();
    char *copy = cat(t, "backup");
    tu_copytree(src, copy);
    char *udid = cat(copy, udid_name);
    char *json = fmt("%s/%s.expected.json", copy, udid_name);
    char *out = cat(t, "out");

    run_t r = extract(udid, pw, out, NULL, 0, t);
    if (r.rc)
        fail_msg("extract: %s\n%s", r.err, r.log);
    assert_int_equal(r.st.files, 7);
    assert_int_equal(r.st.dirs, 10);
    assert_int_equal(r.st.symlinks, 1);
    assert_int_equal(r.st.bytes, 81210);
    assert_int_equal(r.st.skipped, 0);
    assert_int_equal(r.st.errors, 0);
    check_against_json(json, udid, pw, out);
    assert_int_equal(count_entries(out), 4); /* four domains, nothing else */
    run_free(&r);

    /* Extracting again over the result replaces every file in place. */
    r = extract(udid, pw, out, NULL, 0, t);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.st.files, 7);
    check_against_json(json, udid, pw, out);
    run_free(&r);

    /* --domain: only that domain. */
    char *out2 = cat(t, "out-domain");
    r = extract(udid, pw, out2, "AppDomain-com.example.app", 0, t);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.st.files, 1);
    assert_int_equal(r.st.dirs, 2);
    assert_int_equal(r.st.symlinks, 0);
    assert_int_equal(count_entries(out2), 1);
    char *one = cat(out2, "AppDomain-com.example.app/Documents/note éè 日本.txt");
    assert_true(exists_nofollow(one));
    free(one);
    run_free(&r);

    tu_rmtree(t);
    free(t);
    free(copy);
    free(udid);
    free(json);
    free(out);
    free(out2);
    free(src);
}

static void test_extract_reference_unencrypted(void **state)
{
    (void)state;
    extract_reference("unencrypted", "00008030-000A1B2C3D4E5F60", NULL);
}

static void test_extract_reference_encrypted(void **state)
{
    (void)state;
    extract_reference("encrypted_pw_test1234_dpic1000", "00008101-00FEDCBA98765432", "test1234");
}

/* The real mvt backup: 10 of 1,089 file blobs are present, 9 of them with another size than the
 * record says (fixtures README §5). */
static void test_extract_real_mvt_strict_and_lenient(void **state)
{
    (void)state;
    TU_FIXTURE_OR_SKIP(src, "real/ios14.3-mvt-decrypted");
    char *t = tu_mkdtemp();
    char *udid = cat(t, "backup");
    tu_copytree(src, udid);
    char *out = cat(t, "strict"), *out2 = cat(t, "lenient");

    run_t r = extract(udid, NULL, out, NULL, 0, t);
    assert_int_equal(r.st.dirs, 2618);
    assert_int_equal(r.st.files, 1 + 24);      /* the matching blob, and the empty files without blob */
    assert_int_equal(r.st.errors, 1055 + 9);   /* missing blobs and size mismatches */
    assert_int_equal(r.st.symlinks, 8);        /* HomeDomain and DatabaseDomain targets map */
    assert_int_equal(r.st.skipped, 6);         /* AppDomain targets cannot be mapped */
    assert_true(r.rc < 0);
    assert_non_null(strstr(r.err, "1064 of 3721 rows"));
    char *tcc = cat(out, "HomeDomain/Library/TCC/TCC.db");
    assert_true(exists_nofollow(tcc));
    char *sms = cat(out, "HomeDomain/Library/SMS/sms.db");
    assert_false(exists_nofollow(sms)); /* size mismatch: strict refuses it */
    char target[PATH_MAX];
    char *tz = cat(out, "DatabaseDomain/timezone/localtime");
    ssize_t n = readlink(tz, target, sizeof target - 1);
    assert_true(n > 0);
    target[n] = '\0';
    assert_string_equal(target, "zoneinfo/Europe/London");
    assert_non_null(strstr(r.log, "3d0d7e5fb2ce288813306e4d4636395e047a3d28"));
    assert_non_null(strstr(r.log, "/var/mobile/Containers/Data/Application/"));
    run_free(&r);

    r = extract(udid, NULL, out2, NULL, 1, t);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.st.errors, 0);
    assert_int_equal(r.st.files, 10 + 24);
    assert_int_equal(r.st.skipped, 1055 + 6);
    assert_int_equal(r.st.bytes, 410327 - 8192); /* every blob but the orphan */
    free(sms);
    sms = cat(out2, "HomeDomain/Library/SMS/sms.db");
    struct stat st;
    assert_int_equal(lstat(sms, &st), 0);
    assert_int_equal(st.st_size, 28672); /* what is there, not what the record claims */
    assert_true(count_substr(r.log, "warning") >= 1055);
    run_free(&r);

    tu_rmtree(t);
    free(t);
    free(udid);
    free(out);
    free(out2);
    free(tcc);
    free(sms);
    free(tz);
    free(src);
}

/* ---- the writer's own output ------------------------------------------------------------------- */

static void test_extract_writer_backup_modes_and_times(void **state)
{
    (void)state;
    layout_t l;
    layout_new(&l);
    write_backup(l.udid, NULL);
    run_t r = extract(l.udid, NULL, l.out, NULL, 0, l.t);
    if (r.rc)
        fail_msg("%s\n%s", r.err, r.log);
    assert_int_equal(r.st.files, 4);
    assert_int_equal(r.st.dirs, 5);
    assert_int_equal(r.st.errors, 0);
    assert_file(l.out, "HomeDomain/Library/Preferences/a.plist", "hello plist", 11);
    assert_file(l.out, "AppDomain-com.example.app/Documents/doc.txt", "doc", 3);
    struct stat st;
    char *p = cat(l.out, "HomeDomain/Library/big.bin");
    assert_int_equal(lstat(p, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0755); /* setuid dropped */
    assert_int_equal(st.st_mtime, MTIME_BASE + 11);
    free(p);
    p = cat(l.out, "HomeDomain/Library/Preferences");
    assert_int_equal(lstat(p, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0750);
    assert_int_equal(st.st_mtime, MTIME_BASE + 3);
    free(p);
    p = cat(l.out, "HomeDomain");
    assert_int_equal(lstat(p, &st), 0);
    assert_int_equal(st.st_mtime, MTIME_BASE + 1);
    free(p);
    layout_assert_contained(&l);
    run_free(&r);
    layout_free(&l);
}

/* ---- hostile backups --------------------------------------------------------------------------- */

/* The good rows of write_backup() were all extracted. */
static void assert_good_rows(const layout_t *l)
{
    assert_file(l->out, "HomeDomain/Library/Preferences/a.plist", "hello plist", 11);
    assert_file(l->out, "HomeDomain/Library/x.txt", "0123456789abcdef", 16);
    assert_file(l->out, "AppDomain-com.example.app/Documents/doc.txt", "doc", 3);
}

static void test_hostile_relative_path_dotdot(void **state)
{
    (void)state;
    layout_t l;
    layout_new(&l);
    write_backup(l.udid, NULL);
    add_row(l.udid, NULL, "HomeDomain", "../../../escape-dotdot.txt", FERRY_FLAG_FILE, NULL, "evil");
    add_row(l.udid, NULL, "HomeDomain", "Library/../../../../escape-dotdot2.txt", FERRY_FLAG_FILE, NULL, "evil");
    run_t r = extract(l.udid, NULL, l.out, NULL, 0, l.t);
    assert_true(r.rc < 0);
    assert_int_equal(r.st.errors, 2);
    assert_int_equal(r.st.files, 4);
    assert_non_null(strstr(r.log, "'..'"));
    assert_non_null(strstr(r.err, "2 of"));
    assert_good_rows(&l);
    layout_assert_contained(&l);
    assert_false(exists_nofollow("/tmp/escape-dotdot.txt"));
    run_free(&r);
    layout_free(&l);
}

static void test_hostile_absolute_relative_path(void **state)
{
    (void)state;
    layout_t l;
    layout_new(&l);
    write_backup(l.udid, NULL);
    char *abs = fmt("%s/escape-abs.txt", l.t);
    add_row(l.udid, NULL, "HomeDomain", abs, FERRY_FLAG_FILE, NULL, "evil");
    run_t r = extract(l.udid, NULL, l.out, NULL, 0, l.t);
    assert_true(r.rc < 0);
    assert_int_equal(r.st.errors, 1);
    assert_non_null(strstr(r.log, "absolute"));
    assert_false(exists_nofollow(abs));
    assert_good_rows(&l);
    layout_assert_contained(&l);
    free(abs);
    run_free(&r);
    layout_free(&l);
}

static void test_hostile_domain_with_slash(void **state)
{
    (void)state;
    layout_t l;
    layout_new(&l);
    write_backup(l.udid, NULL);
    add_row(l.udid, NULL, "../../..", "escape-domain.txt", FERRY_FLAG_FILE, NULL, "evil");
    add_row(l.udid, NULL, "Home/../../x", "escape-domain2.txt", FERRY_FLAG_FILE, NULL, "evil");
    add_row(l.udid, NULL, "..", "escape-domain3.txt", FERRY_FLAG_FILE, NULL, "evil");
    run_t r = extract(l.udid, NULL, l.out, NULL, 0, l.t);
    assert_true(r.rc < 0);
    assert_int_equal(r.st.errors, 3);
    assert_non_null(strstr(r.log, "contains '/'"));
    assert_good_rows(&l);
    layout_assert_contained(&l);
    run_free(&r);
    layout_free(&l);
}

static void test_hostile_symlink_targets(void **state)
{
    (void)state;
    layout_t l;
    layout_new(&l);
    write_backup(l.udid, NULL);
    add_row(l.udid, NULL, "HomeDomain", "Library/up", FERRY_FLAG_SYMLINK, "../../../../etc", NULL);
    add_row(l.udid, NULL, "HomeDomain", "Library/passwd", FERRY_FLAG_SYMLINK, "/etc/passwd", NULL);
    /* a relative target that stays in OUT but leaves its domain, and one outside HomeDomain's root */
    add_row(l.udid, NULL, "HomeDomain", "Library/other", FERRY_FLAG_SYMLINK, "../../AppDomain-com.example.app", NULL);
    add_row(l.udid, NULL, "HomeDomain", "Library/var", FERRY_FLAG_SYMLINK, "/var/root/x", NULL);
    /* good ones: relative inside, absolute mapped through /var/mobile and /private/var/mobile */
    add_row(l.udid, NULL, "HomeDomain", "Library/ok1", FERRY_FLAG_SYMLINK, "Preferences/./a.plist", NULL);
    add_row(l.udid, NULL, "HomeDomain", "Library/ok2", FERRY_FLAG_SYMLINK, "/var/mobile/Library/x.txt", NULL);
    add_row(l.udid, NULL, "HomeDomain", "Library/ok3", FERRY_FLAG_SYMLINK,
            "/private/var/mobile/Library/Preferences/../x.txt", NULL);
    run_t r = extract(l.udid, NULL, l.out, NULL, 0, l.t);
    assert_true(r.rc < 0);
    assert_int_equal(r.st.errors, 2);
    assert_int_equal(r.st.skipped, 2);
    assert_int_equal(r.st.symlinks, 3);
    assert_non_null(strstr(r.log, "'../../../../etc' leads outside the output directory"));
    assert_non_null(strstr(r.log, "'/etc/passwd' is outside the device's data area"));
    assert_non_null(strstr(r.log, "leaves the domain directory"));
    assert_non_null(strstr(r.log, "'/var/root/x' is outside HomeDomain's device root"));
    char *lib = cat(l.out, "HomeDomain/Library");
    const char *none[] = {"up", "passwd", "other", "var"};
    for (size_t i = 0; i < 4; i++) {
        char *p = cat(lib, none[i]);
        assert_false(exists_nofollow(p));
        free(p);
    }
    const char *ok[][2] = {{"ok1", "Preferences/a.plist"}, {"ok2", "x.txt"}, {"ok3", "x.txt"}};
    for (size_t i = 0; i < 3; i++) {
        char *p = cat(lib, ok[i][0]);
        char target[PATH_MAX];
        ssize_t n = readlink(p, target, sizeof target - 1);
        assert_true(n > 0);
        target[n] = '\0';
        assert_string_equal(target, ok[i][1]);
        free(p);
    }
    assert_good_rows(&l);
    layout_assert_contained(&l);
    free(lib);
    run_free(&r);
    layout_free(&l);
}

/* A symlink row, then a file row below it: the file must not be written through the link. */
static void test_hostile_write_through_backup_symlink(void **state)
{
    (void)state;
    layout_t l;
    layout_new(&l);
    write_backup(l.udid, NULL);
    /* "Library/lnk" -> "Preferences" is inside, so it is created; "Library/lnk/inside" would land in
     * Preferences through it. Sorted by relativePath the link comes first. */
    add_row(l.udid, NULL, "HomeDomain", "Library/lnk", FERRY_FLAG_SYMLINK, "Preferences", NULL);
    add_row(l.udid, NULL, "HomeDomain", "Library/lnk/inside", FERRY_FLAG_FILE, NULL, "through");
    /* the same with an escaping link: the link is refused; the file then goes into a real directory */
    add_row(l.udid, NULL, "HomeDomain", "Library/esc", FERRY_FLAG_SYMLINK, "../../../sentinel", NULL);
    add_row(l.udid, NULL, "HomeDomain", "Library/esc/inside", FERRY_FLAG_FILE, NULL, "through");
    run_t r = extract(l.udid, NULL, l.out, NULL, 0, l.t);
    assert_true(r.rc < 0);
    assert_int_equal(r.st.errors, 2);
    assert_non_null(strstr(r.log, "HomeDomain/Library/lnk is a symlink where a directory is needed"));
    char *p = cat(l.out, "HomeDomain/Library/Preferences/inside");
    assert_false(exists_nofollow(p));
    free(p);
    p = cat(l.out, "HomeDomain/Library/lnk");
    struct stat st;
    assert_int_equal(lstat(p, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    free(p);
    assert_file(l.out, "HomeDomain/Library/esc/inside", "through", 7);
    assert_good_rows(&l);
    layout_assert_contained(&l);
    run_free(&r);
    layout_free(&l);
}

/* Symlinks planted in OUT before extraction, where the backup needs a directory and where it writes a
 * file. */
static void test_hostile_planted_symlinks_in_out(void **state)
{
    (void)state;
    layout_t l;
    layout_new(&l);
    write_backup(l.udid, NULL);
    assert_int_equal(mkdir(l.out, 0700), 0);
    char *home = cat(l.out, "HomeDomain");
    assert_int_equal(symlink(l.sentinel, home), 0);
    char *app = cat(l.out, "AppDomain-com.example.app/Documents");
    assert_int_equal(ferry_mkdir_p(app, 0700), 0);
    char *victim = cat(l.sentinel, "victim");
    char *doc = cat(app, "doc.txt");
    assert_int_equal(symlink(victim, doc), 0);

    run_t r = extract(l.udid, NULL, l.out, NULL, 0, l.t);
    assert_true(r.rc < 0);
    /* every HomeDomain row fails: 3 directories and 3 files */
    assert_int_equal(r.st.errors, 6);
    assert_non_null(strstr(r.log, "HomeDomain is a symlink where a directory is needed; not following it"));
    /* the planted link at doc.txt was replaced by the file, not written through */
    assert_file(l.out, "AppDomain-com.example.app/Documents/doc.txt", "doc", 3);
    assert_false(exists_nofollow(victim));
    assert_int_equal(count_entries(l.sentinel), 0);
    layout_assert_contained(&l);
    free(home);
    free(app);
    free(victim);
    free(doc);
    run_free(&r);
    layout_free(&l);
}

static void test_hostile_fileid_not_the_hash(void **state)
{
    (void)state;
    layout_t l;
    layout_new(&l);
    write_backup(l.udid, NULL);
    add_row(l.udid, "0123456789abcdef0123456789abcdef01234567", "HomeDomain", "Library/wrong.txt", FERRY_FLAG_FILE,
            NULL, "wrong");
    add_row(l.udid, "../../../../tmp/escape-fileid", "HomeDomain", "Library/wrong2.txt", FERRY_FLAG_FILE, NULL,
            "wrong");
    run_t r = extract(l.udid, NULL, l.out, NULL, 0, l.t);
    assert_true(r.rc < 0);
    assert_int_equal(r.st.errors, 2);
    assert_non_null(strstr(r.log, "0123456789abcdef0123456789abcdef01234567"));
    char *p = cat(l.out, "HomeDomain/Library/wrong.txt");
    assert_false(exists_nofollow(p));
    free(p);
    assert_good_rows(&l);
    layout_assert_contained(&l);
    run_free(&r);
    layout_free(&l);
}

static void test_hostile_truncated_blob(void **state)
{
    (void)state;
    layout_t l;
    layout_new(&l);
    write_backup(l.udid, NULL);
    char *blob = blob_of(l.udid, "HomeDomain", "Library/big.bin");
    assert_int_equal(truncate(blob, 1000), 0);
    run_t r = extract(l.udid, NULL, l.out, NULL, 0, l.t);
    assert_true(r.rc < 0);
    assert_int_equal(r.st.errors, 1);
    assert_non_null(strstr(r.log, "HomeDomain/Library/big.bin"));
    char *p = cat(l.out, "HomeDomain/Library/big.bin");
    assert_false(exists_nofollow(p));
    /* no temporary file is left behind */
    char *lib = cat(l.out, "HomeDomain/Library");
    assert_int_equal(count_entries(lib), 2); /* Preferences, x.txt */
    assert_good_rows(&l);
    run_free(&r);

    /* lenient: a warning, and what is there is extracted */
    tu_rmtree(l.out);
    r = extract(l.udid, NULL, l.out, NULL, 1, l.t);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.st.errors, 0);
    struct stat st;
    assert_int_equal(lstat(p, &st), 0);
    assert_int_equal(st.st_size, 1000);
    assert_non_null(strstr(r.log, "warning"));
    layout_assert_contained(&l);
    free(lib);
    free(p);
    free(blob);
    run_free(&r);
    layout_free(&l);
}

static void test_hostile_bad_padding_encrypted(void **state)
{
    (void)state;
    layout_t l;
    layout_new(&l);
    write_backup(l.udid, "pw");
    char *blob = blob_of(l.udid, "HomeDomain", "Library/x.txt");
    /* 16 plaintext bytes -> 32 bytes; flipping the last byte of the first block flips the last byte
     * of the padding block (CBC), so 0x10 becomes 0x11: invalid padding, deterministically. */
    int fd = open(blob, O_RDWR);
    assert_true(fd >= 0);
    uint8_t byte;
    assert_int_equal(pread(fd, &byte, 1, 15), 1);
    byte ^= 0x01;
    assert_int_equal(pwrite(fd, &byte, 1, 15), 1);
    close(fd);
    run_t r = extract(l.udid, "pw", l.out, NULL, 0, l.t);
    assert_true(r.rc < 0);
    assert_int_equal(r.st.errors, 1);
    assert_non_null(strstr(r.log, "HomeDomain/Library/x.txt"));
    assert_non_null(strstr(r.log, "padding"));
    char *p = cat(l.out, "HomeDomain/Library/x.txt");
    assert_false(exists_nofollow(p));
    assert_file(l.out, "HomeDomain/Library/Preferences/a.plist", "hello plist", 11);
    assert_file(l.out, "AppDomain-com.example.app/Documents/doc.txt", "doc", 3);
    layout_assert_contained(&l);
    free(p);
    free(blob);
    run_free(&r);
    layout_free(&l);
}

static void test_hostile_manifest_db_random_bytes(void **state)
{
    (void)state;
    layout_t l;
    layout_new(&l);
    write_backup(l.udid, NULL);
    char *db = cat(l.udid, "Manifest.db");
    uint8_t junk[8192];
    assert_int_equal(ferry_random_bytes(junk, sizeof junk), 0);
    assert_int_equal(ferry_file_write_atomic(db, junk, sizeof junk, 0600), 0);
    ferry_backup_t *b = NULL;
    int rc = ferry_backup_open(l.udid, NULL, &b);
    assert_true(rc < 0);
    assert_null(b);
    assert_non_null(strstr(ferry_error_last(), "Manifest.db"));
    assert_false(exists_nofollow(l.out));
    free(db);
    layout_free(&l);
}

/* A file row where a directory already is, and a directory row where a file already is. */
static void test_existing_entries_of_the_wrong_type(void **state)
{
    (void)state;
    layout_t l;
    layout_new(&l);
    write_backup(l.udid, NULL);
    char *x = cat(l.out, "HomeDomain/Library/x.txt");
    assert_int_equal(ferry_mkdir_p(x, 0700), 0);
    char *app = cat(l.out, "AppDomain-com.example.app");
    assert_int_equal(ferry_file_write_atomic(app, "plain", 5, 0600), 0);
    run_t r = extract(l.udid, NULL, l.out, NULL, 0, l.t);
    assert_true(r.rc < 0);
    assert_int_equal(r.st.errors, 1 + 3); /* x.txt; the AppDomain root, Documents, doc.txt */
    assert_non_null(strstr(r.log, "AppDomain-com.example.app exists and is not a directory"));
    assert_file(l.out, "HomeDomain/Library/Preferences/a.plist", "hello plist", 11);
    layout_assert_contained(&l);
    free(x);
    free(app);
    run_free(&r);
    layout_free(&l);
}

int main(void)
{
    ferry_log_set_level(FERRY_LOG_DEBUG);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_extract_reference_unencrypted),
        cmocka_unit_test(test_extract_reference_encrypted),
        cmocka_unit_test(test_extract_real_mvt_strict_and_lenient),
        cmocka_unit_test(test_extract_writer_backup_modes_and_times),
        cmocka_unit_test(test_hostile_relative_path_dotdot),
        cmocka_unit_test(test_hostile_absolute_relative_path),
        cmocka_unit_test(test_hostile_domain_with_slash),
        cmocka_unit_test(test_hostile_symlink_targets),
        cmocka_unit_test(test_hostile_write_through_backup_symlink),
        cmocka_unit_test(test_hostile_planted_symlinks_in_out),
        cmocka_unit_test(test_hostile_fileid_not_the_hash),
        cmocka_unit_test(test_hostile_truncated_blob),
        cmocka_unit_test(test_hostile_bad_padding_encrypted),
        cmocka_unit_test(test_hostile_manifest_db_random_bytes),
        cmocka_unit_test(test_existing_entries_of_the_wrong_type),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
