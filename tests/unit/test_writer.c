/*
 * test_writer.c: the streaming backup writer, read back through the reader. Round trips of more than
 * 10,000 records (directories, symlinks, empty files, sizes that are not multiples of 16, every
 * protection class 1-4, non-ASCII paths and password), encrypted and not; the conformance items of
 * backup-format.md §15.1 (plists, exact Manifest.db schema, PKCS#7 on Manifest.db and blobs, layout
 * and modes of the folder); refusals (hostile names, duplicates, an existing backup); an uncommitted
 * writer; and writing to a full disk (a small tmpfs in a user namespace when the system allows it,
 * and RLIMIT_FSIZE always). The 1 GiB streaming case is in test_writer_big.c.
 */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ferry/backup.h"

#define PW "p@ss w\xc3\xb6rd"
#define NONASCII "Documents/note \xc3\xa9\xc3\xa8 \xe6\x97\xa5\xe6\x9c\xac.txt"
#define NONASCII_DIR "Documents/\xc3\x9cn\xc3\xaf" "c\xc3\xb8" "d\xc3\xa9" /* Ünïcødé */
#define UDID "00008030-00AABBCCDDEEFF00"
#define DATE 1710000000
#define TEST_DPIC 1000

/* ---- helpers ----------------------------------------------------------------------------------- */

static ferry_writer_opts_t make_opts(int encrypted, plist_t apps)
{
    ferry_writer_opts_t o;
    memset(&o, 0, sizeof o);
    o.ident.udid = UDID;
    o.ident.product_type = "iPhone15,2";
    o.ident.product_version = "17.5.1";
    o.ident.build_version = "21F90";
    o.ident.serial_number = "F00TESTSERIAL";
    o.ident.device_name = "Test iPhone";
    o.ident.product_name = "iPhone 14 Pro";
    o.ident.was_passcode_set = 1;
    o.applications = apps;
    if (encrypted) {
        o.password = PW;
        o.password_len = strlen(PW);
    }
    o.kdf.dpic = TEST_DPIC;
    o.date = DATE;
    return o;
}

static plist_t make_apps(void)
{
    plist_t apps = plist_new_dict();
    plist_t e = plist_new_dict();
    plist_dict_set_item(e, "CFBundleIdentifier", plist_new_string("com.example.app"));
    plist_dict_set_item(e, "CFBundleVersion", plist_new_string("1"));
    plist_dict_set_item(e, "ContainerContentClass", plist_new_string("Data/Application"));
    plist_dict_set_item(e, "Path", plist_new_string("/private/var/containers/Bundle/Application/X/Example.app"));
    plist_dict_set_item(apps, "com.example.app", e);
    return apps;
}

static ferry_backup_t *open_backup(const char *dir, int encrypted, const char *pw)
{
    ferry_credentials_t cred;
    memset(&cred, 0, sizeof cred);
    if (encrypted) {
        cred.password = pw;
        cred.password_len = strlen(pw);
    }
    ferry_backup_t *b = NULL;
    int rc = ferry_backup_open(dir, &cred, &b);
    if (rc)
        fail_msg("ferry_backup_open(%s): %s", dir, ferry_error_last());
    return b;
}

static char *udid_path(const char *parent)
{
    char *p = ferry_path_join(parent, UDID);
    assert_non_null(p);
    return p;
}

static char *child_path(const char *dir, const char *name)
{
    char *p = ferry_path_join(dir, name);
    assert_non_null(p);
    return p;
}

static void read_status(const char *dir, const char *want_snapshot)
{
    char *p = child_path(dir, "Status.plist");
    ferry_status_plist_t s;
    memset(&s, 0, sizeof s);
    assert_int_equal(ferry_status_plist_read(p, &s), 0);
    assert_non_null(s.snapshot_state);
    assert_string_equal(s.snapshot_state, want_snapshot);
    ferry_status_plist_clear(&s);
    free(p);
}

static int exists_at(const char *dir, const char *name)
{
    char *p = child_path(dir, name);
    struct stat st;
    int r = lstat(p, &st) == 0;
    free(p);
    return r;
}

static int is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return s[n] == '\0';
}

/* Checks the folder layout of §15.1 item 6 and the modes: only the four top-level files and bucket
 * directories named by two hex digits, holding blobs whose names start with them; no temporaries;
 * directories 0700, files 0600. Returns the number of blobs. */
static size_t check_layout(const char *dir)
{
    struct stat st;
    assert_int_equal(lstat(dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0700);
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t blobs = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *n = e->d_name;
        if (!strcmp(n, ".") || !strcmp(n, ".."))
            continue;
        char *p = child_path(dir, n);
        assert_int_equal(lstat(p, &st), 0);
        if (!strcmp(n, "Info.plist") || !strcmp(n, "Manifest.plist") || !strcmp(n, "Manifest.db") ||
            !strcmp(n, "Status.plist")) {
            assert_true(S_ISREG(st.st_mode));
            assert_int_equal(st.st_mode & 07777, 0600);
        } else {
            if (!is_hex(n, 2))
                fail_msg("unexpected entry %s in the backup folder", p);
            assert_true(S_ISDIR(st.st_mode));
            assert_int_equal(st.st_mode & 07777, 0700);
            DIR *b = opendir(p);
            assert_non_null(b);
            struct dirent *f;
            while ((f = readdir(b)) != NULL) {
                if (!strcmp(f->d_name, ".") || !strcmp(f->d_name, ".."))
                    continue;
                if (!is_hex(f->d_name, 40) || strncmp(f->d_name, n, 2) != 0)
                    fail_msg("unexpected entry %s/%s in a bucket", p, f->d_name);
                char *fp = child_path(p, f->d_name);
                assert_int_equal(lstat(fp, &st), 0);
                assert_true(S_ISREG(st.st_mode));
                assert_int_equal(st.st_mode & 07777, 0600);
                free(fp);
                blobs++;
            }
            closedir(b);
        }
        free(p);
    }
    closedir(d);
    return blobs;
}

/* The parent of the UDID folder holds nothing else: the writer wrote no file outside it. */
static void check_only_child(const char *parent, const char *name)
{
    DIR *d = opendir(parent);
    assert_non_null(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        assert_string_equal(e->d_name, name);
        n++;
    }
    closedir(d);
    assert_int_equal(n, 1);
}

/* No temporary of the writer is left: no building database, no half-written blob. */
static void check_no_temporaries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *n = e->d_name;
        if (!strcmp(n, ".") || !strcmp(n, ".."))
            continue;
        if (n[0] == '.' || strstr(n, ".tmp") || strstr(n, "-journal") || strstr(n, "-wal"))
            fail_msg("temporary %s/%s was left behind", dir, n);
        if (is_hex(n, 2)) {
            char *p = child_path(dir, n);
            DIR *b = opendir(p);
            assert_non_null(b);
            struct dirent *f;
            while ((f = readdir(b)) != NULL)
                if (strcmp(f->d_name, ".") && strcmp(f->d_name, "..") && !is_hex(f->d_name, 40))
                    fail_msg("temporary %s/%s was left behind", p, f->d_name);
            closedir(b);
            free(p);
        }
    }
    closedir(d);
}

/* Compares sqlite_master of a plaintext database with §4.1 exactly (and with the real device file
 * when the fixtures are there), and checks that Properties is empty and the page size 4096. */
static void check_schema(const char *db_path, int64_t want_rows)
{
    static const char *const want[][4] = {
        {"index", "FilesDomainIdx", "Files", "CREATE INDEX FilesDomainIdx ON Files(domain)"},
        {"index", "FilesFlagsIdx", "Files", "CREATE INDEX FilesFlagsIdx ON Files(flags)"},
        {"index", "FilesRelativePathIdx", "Files", "CREATE INDEX FilesRelativePathIdx ON Files(relativePath)"},
        {"index", "sqlite_autoindex_Files_1", "Files", NULL},
        {"index", "sqlite_autoindex_Properties_1", "Properties", NULL},
        {"table", "Files", "Files",
         "CREATE TABLE Files (fileID TEXT PRIMARY KEY, domain TEXT, relativePath TEXT, flags INTEGER, file BLOB)"},
        {"table", "Properties", "Properties", "CREATE TABLE Properties (key TEXT PRIMARY KEY, value BLOB)"},
    };
    char *uri = NULL;
    assert_true(asprintf(&uri, "file:%s?immutable=1", db_path) > 0);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL), SQLITE_OK);
    free(uri);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name",
                                        -1, &st, NULL),
                     SQLITE_OK);
    size_t n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        assert_true(n < sizeof want / sizeof want[0]);
        for (int c = 0; c < 4; c++) {
            const char *v = (const char *)sqlite3_column_text(st, c);
            if (!want[n][c])
                assert_null(v);
            else {
                assert_non_null(v);
                assert_string_equal(v, want[n][c]);
            }
        }
        n++;
    }
    sqlite3_finalize(st);
    assert_int_equal(n, sizeof want / sizeof want[0]);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM Properties), (SELECT count(*) FROM Files)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(st, 0), 0);
    assert_int_equal(sqlite3_column_int64(st, 1), want_rows);
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 4096);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* Decrypts <dir>/Manifest.db with the ManifestDBKey, requiring PKCS#7 (pad=1), into out_path. */
static void decrypt_manifest_db_strict(ferry_backup_t *b, const char *dir, const char *out_path)
{
    const ferry_manifest_plist_t *m = ferry_backup_manifest(b);
    assert_non_null(m);
    assert_true(m->has_manifest_key);
    assert_int_equal(m->manifest_key[0], 4);
    assert_int_equal(m->manifest_key[1] | m->manifest_key[2] | m->manifest_key[3], 0);
    uint8_t key[FERRY_KEY_LEN];
    uint32_t clas = 0;
    assert_int_equal(ferry_keybag_unwrap_prefixed(ferry_backup_keybag(b), m->manifest_key, key, &clas), 0);
    assert_int_equal(clas, 4);
    char *path = child_path(dir, "Manifest.db");
    size_t len;
    uint8_t *ct = tu_read_file(path, &len);
    free(path);
    assert_int_equal(len % 16, 0);
    assert_true(len >= 4096 + 16);
    uint8_t *pt = malloc(len + 16);
    assert_non_null(pt);
    ferry_cbc_t *c = NULL;
    assert_int_equal(ferry_cbc_new(key, 0, 1, &c), 0);
    size_t o1 = 0, o2 = 0;
    assert_int_equal(ferry_cbc_update(c, ct, len, pt, &o1), 0);
    assert_int_equal(ferry_cbc_final(c, pt + o1, &o2), 0); /* valid PKCS#7: the writer always pads */
    ferry_cbc_free(c);
    ferry_wipe(key, sizeof key);
    assert_int_equal(o1 + o2, len - 16); /* a 4096-aligned database gets a full padding block */
    assert_int_equal((o1 + o2) % 4096, 0);
    assert_memory_equal(pt, "SQLite format 3", 16);
    assert_int_equal(ferry_file_write_atomic(out_path, pt, o1 + o2, 0600), 0);
    free(pt);
    free(ct);
}

/* ---- the large round trip ---------------------------------------------------------------------- */

#define N_DOMAINS 5
#define N_SUBDIRS 20
#define N_FILES 10000
#define N_LINKS 20

static const char *const domains[N_DOMAINS] = {
    "HomeDomain", "CameraRollDomain", "AppDomain-com.example.app", "AppDomainGroup-group.com.example.shared",
    "SysSharedContainerDomain-systemgroup.com.apple.configurationprofiles"};

typedef struct {
    char domain[80];
    char rel[96];
    int flags;
    int64_t size;
    int32_t pclass, perm;
    int explicit_meta;
    int64_t mtime;
    int32_t uid, gid;
    int64_t inode;
    char target[64];
    char sha[65];
} expect_t;

typedef struct {
    expect_t *e;
    size_t n, cap;
} expects_t;

static expect_t *push(expects_t *x)
{
    if (x->n == x->cap) {
        x->cap = x->cap ? x->cap * 2 : 1024;
        x->e = realloc(x->e, x->cap * sizeof *x->e);
        assert_non_null(x->e);
    }
    expect_t *e = &x->e[x->n++];
    memset(e, 0, sizeof *e);
    return e;
}

static void content(size_t i, uint8_t *buf, size_t len)
{
    uint32_t s = (uint32_t)i * 2654435761u + 1;
    for (size_t j = 0; j < len; j++) {
        s = s * 1103515245u + 12345u;
        buf[j] = (uint8_t)(s >> 16);
    }
}

static void meta_for(const expect_t *e, ferry_file_meta_t *m)
{
    memset(m, 0, sizeof *m);
    m->mode = e->perm;
    m->uid = e->uid;
    m->gid = e->gid;
    m->mtime = e->mtime;
    m->ctime = e->mtime + 1;
    m->birth = e->mtime - 1;
    m->inode = e->inode;
    m->protection_class = e->pclass;
}

static void add_dir_expect(ferry_writer_t *w, expects_t *x, const char *domain, const char *rel, int explicit_meta)
{
    expect_t *e = push(x);
    snprintf(e->domain, sizeof e->domain, "%s", domain);
    snprintf(e->rel, sizeof e->rel, "%s", rel);
    e->flags = FERRY_FLAG_DIR;
    e->explicit_meta = explicit_meta;
    ferry_file_meta_t m;
    if (explicit_meta) {
        e->perm = 0700;
        e->uid = 0x7fffffff;
        e->gid = -2;
        e->mtime = 1600000000;
        e->inode = 424242;
        meta_for(e, &m);
    }
    if (ferry_writer_add_dir(w, domain, rel, explicit_meta ? &m : NULL) != 0)
        fail_msg("add_dir %s/%s: %s", domain, rel, ferry_error_last());
}

/* File i: a size from 0 to 299 (zero, 16, 32 and many non-multiples of 16), explicit metadata and a
 * class 1-4 for odd i, defaults for even i; written in one of three ways. */
static void add_file_expect(ferry_writer_t *w, expects_t *x, size_t i, const char *domain, const char *rel,
                            const char *srcdir)
{
    expect_t *e = push(x);
    snprintf(e->domain, sizeof e->domain, "%s", domain);
    snprintf(e->rel, sizeof e->rel, "%s", rel);
    e->flags = FERRY_FLAG_FILE;
    e->size = (int64_t)((i * 37) % 300);
    e->explicit_meta = (int)(i & 1);
    if (e->explicit_meta) {
        e->pclass = (int32_t)(1 + (i / 2) % 4);
        e->perm = i % 3 ? 0600 : 0640;
        e->uid = 501 + (int32_t)(i % 3);
        e->gid = i % 5 ? 501 : -2;
        e->mtime = 1600000000 + (int64_t)i;
        e->inode = 1000000 + (int64_t)i;
    }
    uint8_t buf[300];
    content(i, buf, (size_t)e->size);
    tu_sha256_mem(buf, (size_t)e->size, e->sha);
    ferry_file_meta_t m;
    meta_for(e, &m);
    const ferry_file_meta_t *mp = e->explicit_meta ? &m : NULL;
    int rc;
    switch (i % 4) {
    case 0:
        rc = ferry_writer_add_file_mem(w, domain, rel, mp, buf, (size_t)e->size);
        break;
    case 3: {
        char name[32];
        snprintf(name, sizeof name, "src%zu", i);
        char *src = child_path(srcdir, name);
        assert_int_equal(ferry_file_write_atomic(src, buf, (size_t)e->size, 0600), 0);
        rc = ferry_writer_add_file_path(w, domain, rel, mp, src);
        unlink(src);
        free(src);
        break;
    }
    default: {
        ferry_writer_file_t *f = NULL;
        rc = ferry_writer_file_begin(w, domain, rel, mp, &f);
        size_t half = (size_t)e->size / 2;
        if (rc == 0)
            rc = ferry_writer_file_write(f, buf, half);
        if (rc == 0)
            rc = ferry_writer_file_write(f, buf + half, 0);
        if (rc == 0)
            rc = ferry_writer_file_write(f, buf + half, (size_t)e->size - half);
        if (rc == 0)
            rc = ferry_writer_file_end(f);
        break;
    }
    }
    if (rc)
        fail_msg("adding %s/%s: %s", domain, rel, ferry_error_last());
}

static void write_many(ferry_writer_t *w, expects_t *x, const char *srcdir)
{
    char rel[96];
    for (int d = 0; d < N_DOMAINS; d++) {
        add_dir_expect(w, x, domains[d], "", d == 0);
        add_dir_expect(w, x, domains[d], "Documents", 0);
        for (int k = 0; k < N_SUBDIRS; k++) {
            snprintf(rel, sizeof rel, "Documents/d%03d", k);
            add_dir_expect(w, x, domains[d], rel, k % 2);
        }
    }
    add_dir_expect(w, x, "AppDomain-com.example.app", NONASCII_DIR, 0);
    for (int l = 0; l < N_LINKS; l++) {
        expect_t *e = push(x);
        snprintf(e->domain, sizeof e->domain, "%s", domains[l % N_DOMAINS]);
        snprintf(e->rel, sizeof e->rel, "Documents/d%03d/link%02d", l % N_SUBDIRS, l);
        snprintf(e->target, sizeof e->target, "/var/mobile/Library/target%02d", l);
        e->flags = FERRY_FLAG_SYMLINK;
        if (ferry_writer_add_symlink(w, e->domain, e->rel, e->target, NULL) != 0)
            fail_msg("add_symlink: %s", ferry_error_last());
    }
    add_file_expect(w, x, 1, "AppDomain-com.example.app", NONASCII, srcdir);
    add_file_expect(w, x, 3, "AppDomain-com.example.app", NONASCII_DIR "/\xe6\x97\xa5\xe6\x9c\xac.bin", srcdir);
    for (size_t i = 4; i < N_FILES + 2; i++) {
        snprintf(rel, sizeof rel, "Documents/d%03zu/f%05zu.bin", (i / N_DOMAINS) % N_SUBDIRS, i);
        add_file_expect(w, x, i, domains[i % N_DOMAINS], rel, srcdir);
    }
}

static void check_record(ferry_backup_t *b, const char *dir, const expect_t *e, int encrypted, uint8_t *buf,
                         size_t bufsz)
{
    ferry_record_t r;
    memset(&r, 0, sizeof r);
    if (ferry_backup_lookup(b, e->domain, e->rel, &r) != 0)
        fail_msg("lookup %s/%s: %s", e->domain, e->rel, ferry_error_last());
    char fid[41];
    ferry_fileid(e->domain, e->rel, fid);
    assert_string_equal(r.fileid, fid);
    assert_int_equal(r.flags, e->flags);
    assert_string_equal(r.mb.relative_path, e->rel);
    int32_t type = e->flags == FERRY_FLAG_FILE ? 0100000 : e->flags == FERRY_FLAG_DIR ? 0040000 : 0120000;
    int32_t defperm = e->flags == FERRY_FLAG_FILE ? 0644 : 0755;
    assert_int_equal(r.mb.mode, type | (e->explicit_meta ? e->perm : defperm));
    assert_int_equal(r.mb.size, e->flags == FERRY_FLAG_FILE ? e->size : 0);
    assert_true(r.mb.has_protection_class);
    int32_t defclass = e->flags == FERRY_FLAG_FILE ? 3 : 0;
    int32_t pclass = e->explicit_meta && e->pclass ? e->pclass : defclass;
    assert_int_equal(r.mb.protection_class, pclass);
    if (e->explicit_meta) {
        assert_int_equal(r.mb.uid, e->uid);
        assert_int_equal(r.mb.gid, e->gid);
        assert_int_equal(r.mb.mtime, e->mtime);
        assert_int_equal(r.mb.ctime, e->mtime + 1);
        assert_int_equal(r.mb.birth, e->mtime - 1);
        assert_int_equal(r.mb.inode, e->inode);
    } else {
        assert_int_equal(r.mb.uid, 501);
        assert_int_equal(r.mb.gid, 501);
        assert_int_equal(r.mb.mtime, DATE);
        assert_int_equal(r.mb.ctime, DATE);
        assert_int_equal(r.mb.birth, DATE);
        assert_true(r.mb.inode > 0);
    }
    if (e->flags == FERRY_FLAG_SYMLINK) {
        assert_non_null(r.mb.target);
        assert_string_equal(r.mb.target, e->target);
    } else {
        assert_null(r.mb.target);
    }
    assert_int_equal(r.mb.has_encryption_key, encrypted && e->flags == FERRY_FLAG_FILE);
    if (r.mb.has_encryption_key) {
        uint32_t prefix = (uint32_t)r.mb.encryption_key[0] | (uint32_t)r.mb.encryption_key[1] << 8 |
                          (uint32_t)r.mb.encryption_key[2] << 16 | (uint32_t)r.mb.encryption_key[3] << 24;
        assert_int_equal(prefix, (uint32_t)pclass);
    }
    if (e->flags == FERRY_FLAG_FILE) {
        char *blob = ferry_backup_blob_path(b, &r);
        assert_non_null(blob);
        char want_blob[200];
        snprintf(want_blob, sizeof want_blob, "%s/%.2s/%s", dir, fid, fid);
        assert_string_equal(blob, want_blob);
        struct stat st;
        assert_int_equal(stat(blob, &st), 0);
        assert_int_equal(st.st_size, encrypted ? (e->size / 16 + 1) * 16 : e->size);
        free(blob);
        ferry_file_reader_t *fr = NULL;
        if (ferry_backup_file_open(b, &r, 1, &fr) != 0)
            fail_msg("file_open %s/%s: %s", e->domain, e->rel, ferry_error_last());
        size_t got = 0;
        ssize_t n;
        while ((n = ferry_file_reader_read(fr, buf + got, bufsz - got)) > 0)
            got += (size_t)n;
        if (n < 0)
            fail_msg("reading %s/%s: %s", e->domain, e->rel, ferry_error_last());
        ferry_file_reader_close(fr);
        assert_int_equal(got, e->size);
        char sha[65];
        tu_sha256_mem(buf, got, sha);
        assert_string_equal(sha, e->sha);
    }
    ferry_record_clear(&r);
}

static void roundtrip_many(int encrypted)
{
    char *parent = tu_mkdtemp();
    char *scratch = tu_mkdtemp(); /* sources and the decrypted database live outside the backup's parent */
    char *dir = udid_path(parent);
    plist_t apps = make_apps();
    ferry_writer_opts_t o = make_opts(encrypted, apps);
    ferry_writer_t *w = NULL;
    if (ferry_writer_open(dir, &o, &w) != 0)
        fail_msg("open: %s", ferry_error_last());
    read_status(dir, "uploading");
    expects_t x = {0};
    write_many(w, &x, scratch);
    assert_true(x.n >= 10000);
    if (ferry_writer_commit(w) != 0)
        fail_msg("commit: %s", ferry_error_last());
    ferry_writer_free(w);
    plist_free(apps);

    check_only_child(parent, UDID);
    size_t nfiles = 0;
    for (size_t i = 0; i < x.n; i++)
        nfiles += x.e[i].flags == FERRY_FLAG_FILE;
    assert_int_equal(check_layout(dir), nfiles);
    read_status(dir, "finished");

    ferry_backup_t *b = open_backup(dir, encrypted, PW);
    assert_int_equal(ferry_backup_is_encrypted(b), encrypted);
    /* every row is accepted by the reader's validation (fileID, names, MBFile, flags/Mode) */
    ferry_backup_iter_t *it = NULL;
    assert_int_equal(ferry_backup_iter_new(b, NULL, &it), 0);
    const ferry_record_t *rec;
    size_t rows = 0;
    int rc;
    while ((rc = ferry_backup_iter_next(it, &rec)) != 0) {
        if (rc < 0)
            fail_msg("row refused: %s", ferry_error_last());
        rows++;
    }
    ferry_backup_iter_free(it);
    assert_int_equal(rows, x.n);
    uint8_t *buf = malloc(1024);
    assert_non_null(buf);
    for (size_t i = 0; i < x.n; i++)
        check_record(b, dir, &x.e[i], encrypted, buf, 1024);
    free(buf);

    char *plain = child_path(scratch, "Manifest.plain.db");
    if (encrypted) {
        decrypt_manifest_db_strict(b, dir, plain);
        check_schema(plain, (int64_t)x.n);
    } else {
        char *db = child_path(dir, "Manifest.db");
        struct stat st;
        assert_int_equal(stat(db, &st), 0);
        assert_int_equal(st.st_size % 4096, 0); /* a plaintext database is not padded */
        check_schema(db, (int64_t)x.n);
        free(db);
    }
    free(plain);
    ferry_backup_close(b);

    if (encrypted) { /* the wrong password fails at open, before any file is touched */
        ferry_credentials_t cred;
        memset(&cred, 0, sizeof cred);
        cred.password = "p@ss word";
        cred.password_len = strlen(cred.password);
        ferry_backup_t *bad = NULL;
        assert_int_equal(ferry_backup_open(dir, &cred, &bad), FERRY_EPASSWORD);
        assert_null(bad);
    }
    free(x.e);
    tu_rmtree(parent);
    tu_rmtree(scratch);
    free(dir);
    free(parent);
    free(scratch);
}

static void test_roundtrip_10000_unencrypted(void **state)
{
    (void)state;
    roundtrip_many(0);
}

static void test_roundtrip_10000_encrypted(void **state)
{
    (void)state;
    roundtrip_many(1);
}

/* ---- conformance of the plists (§15.1 items 1, 2) ---------------------------------------------- */

static void check_plists(const char *dir, int encrypted)
{
    size_t len;
    char *p = child_path(dir, "Info.plist");
    uint8_t *raw = tu_read_file(p, &len);
    assert_true(len > 5 && memcmp(raw, "<?xml", 5) == 0); /* XML, as idevicebackup2 writes it */
    free(raw);
    plist_t info = NULL;
    assert_int_equal(ferry_plist_read_file(p, 0, &info), 0);
    free(p);
    plist_t apps = plist_dict_get_item(info, "Applications");
    assert_non_null(apps);
    assert_int_equal(plist_get_node_type(apps), PLIST_DICT);
    plist_t installed = plist_dict_get_item(info, "Installed Applications"); /* the user apps */
    assert_non_null(installed);
    assert_int_equal(plist_array_get_size(installed), 1);
    char *id = NULL;
    plist_get_string_val(plist_array_get_item(installed, 0), &id);
    assert_string_equal(id, "com.example.app");
    free(id);
    plist_free(info);

    p = child_path(dir, "Status.plist");
    raw = tu_read_file(p, &len);
    assert_true(len > 8 && memcmp(raw, "bplist00", 8) == 0);
    free(raw);
    plist_t st = NULL;
    assert_int_equal(ferry_plist_read_file(p, 0, &st), 0);
    free(p);
    char *s = NULL;
    int64_t date = 0;
    int bv = -1;
    assert_int_equal(ferry_plist_get_string(st, "SnapshotState", &s), 0);
    assert_string_equal(s, "finished");
    free(s);
    assert_int_equal(ferry_plist_get_string(st, "BackupState", &s), 0);
    assert_string_equal(s, "new");
    free(s);
    assert_int_equal(ferry_plist_get_string(st, "Version", &s), 0);
    assert_string_equal(s, "3.3");
    free(s);
    assert_int_equal(ferry_plist_get_string(st, "UUID", &s), 0);
    assert_true(strlen(s) > 0);
    free(s);
    assert_int_equal(ferry_plist_get_date(st, "Date", &date), 0);
    assert_int_equal(date, DATE);
    assert_int_equal(ferry_plist_get_bool(st, "IsFullBackup", &bv), 0);
    assert_int_equal(bv, 1);
    plist_free(st);

    p = child_path(dir, "Manifest.plist");
    raw = tu_read_file(p, &len);
    assert_true(len > 8 && memcmp(raw, "bplist00", 8) == 0);
    free(raw);
    plist_t m = NULL;
    assert_int_equal(ferry_plist_read_file(p, 0, &m), 0);
    free(p);
    assert_int_equal(ferry_plist_get_bool(m, "IsEncrypted", &bv), 0);
    assert_int_equal(bv, encrypted);
    assert_int_equal(ferry_plist_get_string(m, "Version", &s), 0);
    assert_string_equal(s, "10.0");
    free(s);
    assert_int_equal(ferry_plist_get_string(m, "SystemDomainsVersion", &s), 0);
    free(s);
    assert_int_equal(ferry_plist_get_date(m, "Date", &date), 0);
    assert_int_equal(ferry_plist_get_bool(m, "WasPasscodeSet", &bv), 0);
    assert_int_equal(bv, 1);
    plist_t lock = plist_dict_get_item(m, "Lockdown");
    assert_non_null(lock);
    static const char *const lk[][2] = {{"BuildVersion", "21F90"},          {"DeviceName", "Test iPhone"},
                                        {"ProductType", "iPhone15,2"},      {"ProductVersion", "17.5.1"},
                                        {"SerialNumber", "F00TESTSERIAL"}, {"UniqueDeviceID", UDID}};
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(ferry_plist_get_string(lock, lk[i][0], &s), 0);
        assert_string_equal(s, lk[i][1]);
        free(s);
    }
    plist_t mapps = plist_dict_get_item(m, "Applications");
    assert_non_null(mapps);
    assert_int_equal(plist_get_node_type(mapps), PLIST_DICT);
    plist_t app = plist_dict_get_item(mapps, "com.example.app");
    assert_non_null(app);
    assert_int_equal(ferry_plist_get_string(app, "ContainerContentClass", &s), 0);
    assert_string_equal(s, "Data/Application");
    free(s);
    uint8_t *data = NULL;
    assert_int_equal(ferry_plist_get_data(m, "BackupKeyBag", &data, &len), 0); /* also unencrypted */
    assert_true(len > 0);
    ferry_keybag_t *kb = NULL;
    assert_int_equal(ferry_keybag_parse(data, len, &kb), 0);
    assert_int_equal(kb->type, 1);
    if (encrypted) { /* §6.8: DPIC as asked, and classes 1-4 usable with the password */
        assert_true(kb->has_dp);
        assert_int_equal(kb->dpic, TEST_DPIC);
        for (uint32_t c = 1; c <= 4; c++) {
            int found = 0;
            for (size_t i = 0; i < kb->nclasses; i++)
                if (kb->classes[i].clas == c && (kb->classes[i].wrap & 2))
                    found = 1;
            assert_true(found);
        }
    }
    ferry_keybag_free(kb);
    free(data);
    int rc = ferry_plist_get_data(m, "ManifestKey", &data, &len);
    if (encrypted) {
        assert_int_equal(rc, 0);
        assert_int_equal(len, 44);
        assert_memory_equal(data, "\x04\x00\x00\x00", 4);
        free(data);
    } else {
        assert_int_equal(rc, FERRY_ENOTFOUND);
    }
    plist_free(m);
}

static void conformance(int encrypted)
{
    char *parent = tu_mkdtemp();
    char *dir = udid_path(parent);
    plist_t apps = make_apps();
    ferry_writer_opts_t o = make_opts(encrypted, apps);
    o.is_full_backup = 1;
    ferry_writer_t *w = NULL;
    assert_int_equal(ferry_writer_open(dir, &o, &w), 0);
    plist_free(apps); /* borrowed only during open: the writer keeps its own copy */
    assert_int_equal(ferry_writer_add_dir(w, "HomeDomain", "", NULL), 0);
    assert_int_equal(ferry_writer_add_dir(w, "HomeDomain", "Library", NULL), 0);
    assert_int_equal(ferry_writer_add_file_mem(w, "HomeDomain", "Library/empty", NULL, "", 0), 0);
    assert_int_equal(ferry_writer_add_file_mem(w, "HomeDomain", "Library/sixteen", NULL, "0123456789abcdef", 16), 0);
    assert_int_equal(ferry_writer_add_symlink(w, "HomeDomain", "Library/link", "/var/mobile/x", NULL), 0);
    assert_int_equal(ferry_writer_commit(w), 0);
    ferry_writer_free(w);

    check_only_child(parent, UDID);
    assert_int_equal(check_layout(dir), 2);
    check_plists(dir, encrypted);
    /* blob lengths: empty -> 0 or 16, 16 bytes -> 16 or 32 */
    const char *rels[] = {"Library/empty", "Library/sixteen"};
    const off_t want[2][2] = {{0, 16}, {16, 32}};
    for (int i = 0; i < 2; i++) {
        char fid[41], path[300];
        ferry_fileid("HomeDomain", rels[i], fid);
        snprintf(path, sizeof path, "%s/%.2s/%s", dir, fid, fid);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_size, want[i][encrypted]);
    }
    tu_rmtree(parent);
    free(dir);
    free(parent);
}

static void test_conformance_unencrypted(void **state)
{
    (void)state;
    conformance(0);
}

static void test_conformance_encrypted(void **state)
{
    (void)state;
    conformance(1);
}

/* A caller's Info.plist without Applications still gets one; the given keybag is used as is. */
static void test_given_info_plist_and_keybag(void **state)
{
    (void)state;
    char *parent = tu_mkdtemp();
    char *dir = udid_path(parent);
    ferry_keybag_t *kb = NULL;
    ferry_keybag_params_t kp = {.dpic = TEST_DPIC};
    assert_int_equal(ferry_keybag_create("other", 5, &kp, &kb, NULL), 0);
    plist_t info = plist_new_dict();
    plist_dict_set_item(info, "Device Name", plist_new_string("given"));
    ferry_writer_opts_t o = make_opts(1, NULL);
    o.password = "other";
    o.password_len = 5;
    o.keybag = kb;
    o.info_plist = info;
    ferry_writer_t *w = NULL;
    assert_int_equal(ferry_writer_open(dir, &o, &w), 0);
    ferry_keybag_free(kb);
    plist_free(info);
    assert_int_equal(ferry_writer_add_file_mem(w, "HomeDomain", "a", NULL, "abc", 3), 0);
    assert_int_equal(ferry_writer_commit(w), 0);
    ferry_writer_free(w);
    char *p = child_path(dir, "Info.plist");
    plist_t got = NULL;
    assert_int_equal(ferry_plist_read_file(p, 0, &got), 0);
    char *s = NULL;
    assert_int_equal(ferry_plist_get_string(got, "Device Name", &s), 0);
    assert_string_equal(s, "given");
    free(s);
    assert_non_null(plist_dict_get_item(got, "Applications"));
    plist_free(got);
    free(p);
    ferry_backup_t *b = open_backup(dir, 1, "other");
    ferry_record_t r;
    memset(&r, 0, sizeof r);
    assert_int_equal(ferry_backup_lookup(b, "HomeDomain", "a", &r), 0);
    ferry_file_reader_t *fr = NULL;
    assert_int_equal(ferry_backup_file_open(b, &r, 1, &fr), 0);
    char buf[8];
    assert_int_equal(ferry_file_reader_read(fr, buf, sizeof buf), 3);
    assert_memory_equal(buf, "abc", 3);
    ferry_file_reader_close(fr);
    ferry_record_clear(&r);
    ferry_backup_close(b);
    tu_rmtree(parent);
    free(dir);
    free(parent);
}

/* ---- the reference fixture, rewritten by the writer --------------------------------------------- */

static void copy_backup(ferry_backup_t *src, const char *out, int encrypted)
{
    ferry_writer_opts_t o = make_opts(encrypted, NULL);
    o.password = encrypted ? "test1234" : NULL;
    o.password_len = encrypted ? 8 : 0;
    ferry_writer_t *w = NULL;
    assert_int_equal(ferry_writer_open(out, &o, &w), 0);
    ferry_backup_iter_t *it = NULL;
    assert_int_equal(ferry_backup_iter_new(src, NULL, &it), 0);
    const ferry_record_t *r;
    int rc;
    static uint8_t buf[4096];
    while ((rc = ferry_backup_iter_next(it, &r)) != 0) {
        assert_true(rc > 0);
        ferry_file_meta_t m = {.mode = r->mb.mode, .uid = r->mb.uid, .gid = r->mb.gid, .mtime = r->mb.mtime,
                               .ctime = r->mb.ctime, .birth = r->mb.birth, .inode = r->mb.inode,
                               .protection_class = r->mb.protection_class, .bsd_flags = r->mb.bsd_flags,
                               .xattrs = r->mb.xattrs, .xattrs_len = r->mb.xattrs_len};
        if (r->flags == FERRY_FLAG_DIR) {
            assert_int_equal(ferry_writer_add_dir(w, r->domain, r->relative_path, &m), 0);
        } else if (r->flags == FERRY_FLAG_SYMLINK) {
            assert_int_equal(ferry_writer_add_symlink(w, r->domain, r->relative_path, r->mb.target, &m), 0);
        } else {
            ferry_file_reader_t *fr = NULL;
            assert_int_equal(ferry_backup_file_open(src, r, 1, &fr), 0);
            ferry_writer_file_t *f = NULL;
            assert_int_equal(ferry_writer_file_begin(w, r->domain, r->relative_path, &m, &f), 0);
            ssize_t n;
            while ((n = ferry_file_reader_read(fr, buf, sizeof buf)) > 0)
                assert_int_equal(ferry_writer_file_write(f, buf, (size_t)n), 0);
            assert_int_equal(n, 0);
            ferry_file_reader_close(fr);
            assert_int_equal(ferry_writer_file_end(f), 0);
        }
    }
    ferry_backup_iter_free(it);
    assert_int_equal(ferry_writer_commit(w), 0);
    ferry_writer_free(w);
}

static void sha_of(ferry_backup_t *b, const ferry_record_t *r, char out[65])
{
    ferry_file_reader_t *fr = NULL;
    assert_int_equal(ferry_backup_file_open(b, r, 1, &fr), 0);
    size_t cap = (size_t)r->mb.size + 1, got = 0;
    uint8_t *buf = malloc(cap);
    assert_non_null(buf);
    ssize_t n;
    while ((n = ferry_file_reader_read(fr, buf + got, cap - got)) > 0)
        got += (size_t)n;
    assert_int_equal(n, 0);
    assert_int_equal(got, r->mb.size);
    ferry_file_reader_close(fr);
    tu_sha256_mem(buf, got, out);
    free(buf);
}

/* fixtures/README.md "Writer round trip": the writer, given the reference backup's entries, produces
 * backups that read back to the same listing (domain, path, flags, Mode, class, size, sha256, target). */
static void test_rewrites_reference_fixture(void **state)
{
    (void)state;
    TU_FIXTURE_OR_SKIP(ref, "reference/unencrypted/00008030-000A1B2C3D4E5F60");
    ferry_backup_t *src = open_backup(ref, 0, NULL);
    for (int enc = 0; enc <= 1; enc++) {
        char *parent = tu_mkdtemp();
        char *out = udid_path(parent);
        copy_backup(src, out, enc);
        ferry_backup_t *b = open_backup(out, enc, "test1234");
        ferry_backup_iter_t *it = NULL;
        assert_int_equal(ferry_backup_iter_new(src, NULL, &it), 0);
        const ferry_record_t *r;
        int rc, rows = 0;
        while ((rc = ferry_backup_iter_next(it, &r)) != 0) {
            assert_true(rc > 0);
            rows++;
            ferry_record_t g;
            memset(&g, 0, sizeof g);
            assert_int_equal(ferry_backup_lookup(b, r->domain, r->relative_path, &g), 0);
            assert_string_equal(g.fileid, r->fileid);
            assert_int_equal(g.flags, r->flags);
            assert_int_equal(g.mb.mode, r->mb.mode);
            assert_int_equal(g.mb.size, r->mb.size);
            assert_int_equal(g.mb.protection_class, r->mb.protection_class);
            assert_int_equal(g.mb.mtime, r->mb.mtime);
            if (r->mb.target)
                assert_string_equal(g.mb.target, r->mb.target);
            if (r->flags == FERRY_FLAG_FILE) {
                char a[65], bsha[65];
                sha_of(src, r, a);
                sha_of(b, &g, bsha);
                assert_string_equal(a, bsha);
            }
            ferry_record_clear(&g);
        }
        ferry_backup_iter_free(it);
        assert_int_equal(rows, 18);
        ferry_backup_close(b);
        tu_rmtree(parent);
        free(out);
        free(parent);
    }
    ferry_backup_close(src);
    free(ref);
}

/* ---- refusals and an uncommitted writer -------------------------------------------------------- */

static void test_refuses_hostile_names_and_duplicates(void **state)
{
    (void)state;
    char *parent = tu_mkdtemp();
    char *dir = udid_path(parent);
    ferry_writer_opts_t o = make_opts(0, NULL);
    ferry_writer_t *w = NULL;
    assert_int_equal(ferry_writer_open(dir, &o, &w), 0);
    assert_int_equal(ferry_writer_add_file_mem(w, "HomeDomain", "../x", NULL, "x", 1), FERRY_EUNSAFE);
    assert_non_null(strstr(ferry_error_last(), "../x"));
    assert_int_equal(ferry_writer_add_dir(w, "HomeDomain", "a/../../b", NULL), FERRY_EUNSAFE);
    assert_int_equal(ferry_writer_add_dir(w, "HomeDomain", "/etc", NULL), FERRY_EUNSAFE);
    assert_int_equal(ferry_writer_add_symlink(w, "HomeDomain", "a//b", "/x", NULL), FERRY_EUNSAFE);
    assert_int_equal(ferry_writer_add_dir(w, "Home/Domain", "x", NULL), FERRY_EUNSAFE);
    assert_non_null(strstr(ferry_error_last(), "Home/Domain"));
    assert_int_equal(ferry_writer_add_dir(w, "..", "", NULL), FERRY_EUNSAFE);
    assert_int_equal(ferry_writer_add_dir(w, "", "x", NULL), FERRY_EUNSAFE);
    ferry_writer_file_t *f = NULL;
    assert_int_equal(ferry_writer_file_begin(w, "HomeDomain", "", NULL, &f), FERRY_EINVAL);
    assert_null(f);

    /* duplicates, of every kind, name the path, and the first blob is untouched */
    assert_int_equal(ferry_writer_add_dir(w, "HomeDomain", "Library", NULL), 0);
    assert_int_equal(ferry_writer_add_dir(w, "HomeDomain", "Library", NULL), FERRY_EEXIST);
    assert_non_null(strstr(ferry_error_last(), "HomeDomain/Library"));
    assert_int_equal(ferry_writer_add_file_mem(w, "HomeDomain", "Library/a", NULL, "first", 5), 0);
    assert_int_equal(ferry_writer_add_file_mem(w, "HomeDomain", "Library/a", NULL, "second!", 7), FERRY_EEXIST);
    assert_non_null(strstr(ferry_error_last(), "HomeDomain/Library/a"));
    assert_int_equal(ferry_writer_file_begin(w, "HomeDomain", "Library/a", NULL, &f), FERRY_EEXIST);
    assert_int_equal(ferry_writer_add_symlink(w, "HomeDomain", "Library", "/x", NULL), FERRY_EEXIST);
    assert_int_equal(ferry_writer_add_dir(w, "HomeDomain", "Library/a", NULL), FERRY_EEXIST);
    /* the same path in another domain is another entry */
    assert_int_equal(ferry_writer_add_file_mem(w, "MediaDomain", "Library/a", NULL, "other", 5), 0);

    /* one file at a time */
    assert_int_equal(ferry_writer_file_begin(w, "HomeDomain", "Library/open", NULL, &f), 0);
    assert_int_equal(ferry_writer_add_dir(w, "HomeDomain", "Library/b", NULL), FERRY_EINVAL);
    assert_int_equal(ferry_writer_commit(w), FERRY_EINVAL);
    assert_int_equal(ferry_writer_file_write(f, "zz", 2), 0);
    assert_int_equal(ferry_writer_file_end(f), 0);

    assert_int_equal(ferry_writer_commit(w), 0);
    assert_int_equal(ferry_writer_commit(w), FERRY_EINVAL);
    assert_int_equal(ferry_writer_add_dir(w, "HomeDomain", "late", NULL), FERRY_EINVAL);
    ferry_writer_free(w);

    ferry_backup_t *b = open_backup(dir, 0, NULL);
    ferry_record_t r;
    memset(&r, 0, sizeof r);
    assert_int_equal(ferry_backup_lookup(b, "HomeDomain", "Library/a", &r), 0);
    assert_int_equal(r.mb.size, 5);
    char sha[65], want[65];
    sha_of(b, &r, sha);
    tu_sha256_mem("first", 5, want);
    assert_string_equal(sha, want);
    ferry_record_clear(&r);
    assert_int_equal(ferry_backup_lookup(b, "HomeDomain", "../x", &r), FERRY_ENOTFOUND);
    ferry_backup_close(b);

    /* a folder that already holds a backup is refused, and left as it was */
    ferry_writer_t *w2 = NULL;
    assert_int_equal(ferry_writer_open(dir, &o, &w2), FERRY_EEXIST);
    assert_null(w2);
    assert_non_null(strstr(ferry_error_last(), "Manifest.db"));
    read_status(dir, "finished");
    check_no_temporaries(dir);
    tu_rmtree(parent);
    free(dir);
    free(parent);
}

static void uncommitted(int encrypted)
{
    char *parent = tu_mkdtemp();
    char *dir = udid_path(parent);
    ferry_writer_opts_t o = make_opts(encrypted, NULL);
    ferry_writer_t *w = NULL;
    assert_int_equal(ferry_writer_open(dir, &o, &w), 0);
    /* a second writer on the same folder is refused while the first holds it */
    ferry_writer_t *w2 = NULL;
    assert_int_equal(ferry_writer_open(dir, &o, &w2), FERRY_EEXIST);
    assert_int_equal(ferry_writer_add_dir(w, "HomeDomain", "", NULL), 0);
    assert_int_equal(ferry_writer_add_file_mem(w, "HomeDomain", "done", NULL, "complete", 8), 0);
    ferry_writer_file_t *f = NULL;
    assert_int_equal(ferry_writer_file_begin(w, "HomeDomain", "half", NULL, &f), 0);
    static uint8_t buf[100000];
    assert_int_equal(ferry_writer_file_write(f, buf, sizeof buf), 0);
    ferry_writer_free(w); /* never committed, a file still open */
    read_status(dir, "uploading");
    assert_false(exists_at(dir, "Manifest.db"));
    assert_false(exists_at(dir, "Manifest.plist"));
    check_no_temporaries(dir);
    check_only_child(parent, UDID);
    /* the folder can be written again */
    assert_int_equal(ferry_writer_open(dir, &o, &w), 0);
    assert_int_equal(ferry_writer_add_file_mem(w, "HomeDomain", "half", NULL, "x", 1), 0);
    assert_int_equal(ferry_writer_commit(w), 0);
    ferry_writer_free(w);
    read_status(dir, "finished");
    check_no_temporaries(dir);
    tu_rmtree(parent);
    free(dir);
    free(parent);
}

static void test_uncommitted_writer_unencrypted(void **state)
{
    (void)state;
    uncommitted(0);
}

static void test_uncommitted_writer_encrypted(void **state)
{
    (void)state;
    uncommitted(1);
}

/* ---- a full disk ------------------------------------------------------------------------------- */

/* Runs in a child; reports with exit codes (cmocka's asserts belong to the parent). */
#define CHILD_CHECK(cond, code)                                                                        \
    do {                                                                                               \
        if (!(cond)) {                                                                                 \
            fprintf(stderr, "child check failed (%d): %s [last error: %s]\n", code, #cond,             \
                    ferry_error_last());                                                               \
            _exit(code);                                                                               \
        }                                                                                              \
    } while (0)

/* Writes a few small entries, then a file larger than the space left; expects a clear no-space error
 * naming the file. then_commit: the writer stays usable and commits without the failed file. */
static void child_fill(const char *dir, int encrypted, size_t big, int then_commit)
{
    ferry_writer_opts_t o = make_opts(encrypted, NULL);
    ferry_writer_t *w = NULL;
    CHILD_CHECK(ferry_writer_open(dir, &o, &w) == 0, 10);
    CHILD_CHECK(ferry_writer_add_dir(w, "HomeDomain", "", NULL) == 0, 11);
    CHILD_CHECK(ferry_writer_add_file_mem(w, "HomeDomain", "small", NULL, "small", 5) == 0, 12);
    ferry_writer_file_t *f = NULL;
    CHILD_CHECK(ferry_writer_file_begin(w, "HomeDomain", "Library/too-big.bin", NULL, &f) == 0, 13);
    static uint8_t buf[1 << 16];
    int rc = 0;
    for (size_t done = 0; rc == 0 && done < big; done += sizeof buf)
        rc = ferry_writer_file_write(f, buf, sizeof buf);
    CHILD_CHECK(rc == FERRY_ENOSPC, 14);
    CHILD_CHECK(strstr(ferry_error_last(), "HomeDomain/Library/too-big.bin") != NULL, 15);
    CHILD_CHECK(strstr(ferry_error_last(), "no space") != NULL, 16);
    CHILD_CHECK(ferry_writer_file_write(f, buf, 1) == FERRY_ENOSPC, 17);
    CHILD_CHECK(ferry_writer_file_end(f) == FERRY_ENOSPC, 18);
    CHILD_CHECK(strstr(ferry_error_last(), "too-big.bin") != NULL, 19);
    if (then_commit) {
        CHILD_CHECK(ferry_writer_add_file_mem(w, "HomeDomain", "after", NULL, "after", 5) == 0, 20);
        CHILD_CHECK(ferry_writer_commit(w) == 0, 21);
    }
    ferry_writer_free(w);
}

static int wait_child(pid_t pid)
{
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status))
        fail_msg("child died with status %d", status);
    return WEXITSTATUS(status);
}

static void check_after_failed_file(const char *dir, int encrypted, int committed)
{
    check_no_temporaries(dir);
    if (!committed) {
        read_status(dir, "uploading");
        assert_false(exists_at(dir, "Manifest.db"));
        return;
    }
    read_status(dir, "finished");
    ferry_backup_t *b = open_backup(dir, encrypted, PW);
    ferry_record_t r;
    memset(&r, 0, sizeof r);
    assert_int_equal(ferry_backup_lookup(b, "HomeDomain", "Library/too-big.bin", &r), FERRY_ENOTFOUND);
    assert_int_equal(ferry_backup_lookup(b, "HomeDomain", "after", &r), 0);
    ferry_record_clear(&r);
    ferry_backup_close(b);
    char fid[41], blob[300];
    ferry_fileid("HomeDomain", "Library/too-big.bin", fid);
    snprintf(blob, sizeof blob, "%s/%.2s/%s", dir, fid, fid);
    struct stat st;
    assert_int_not_equal(stat(blob, &st), 0);
}

/* RLIMIT_FSIZE makes a write fail with EFBIG, which ferry reports as no space (works everywhere). */
static void test_full_disk_rlimit(void **state)
{
    (void)state;
    for (int enc = 0; enc <= 1; enc++) {
        for (int then_commit = 0; then_commit <= 1; then_commit++) {
            char *parent = tu_mkdtemp();
            char *dir = udid_path(parent);
            fflush(NULL);
            pid_t pid = fork();
            assert_true(pid >= 0);
            if (pid == 0) {
                signal(SIGXFSZ, SIG_IGN);
                struct rlimit rl = {1 << 20, 1 << 20};
                CHILD_CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0, 2);
                child_fill(dir, enc, 4u << 20, then_commit);
                _exit(0);
            }
            assert_int_equal(wait_child(pid), 0);
            check_after_failed_file(dir, enc, then_commit);
            tu_rmtree(parent);
            free(dir);
            free(parent);
        }
    }
}

static int write_str(const char *path, const char *s)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, s, strlen(s));
    close(fd);
    return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* A real ENOSPC: a 2 MiB tmpfs mounted in a private user and mount namespace (no root needed where
 * unprivileged user namespaces are allowed). Exit 77 when the system does not allow it. */
static void child_tmpfs(const char *mnt, int enc)
{
    uid_t uid = getuid();
    gid_t gid = getgid();
    char map[64];
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
        _exit(77);
    write_str("/proc/self/setgroups", "deny");
    snprintf(map, sizeof map, "0 %u 1", (unsigned)uid);
    if (write_str("/proc/self/uid_map", map) != 0)
        _exit(77);
    snprintf(map, sizeof map, "0 %u 1", (unsigned)gid);
    if (write_str("/proc/self/gid_map", map) != 0)
        _exit(77);
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
        mount("tmpfs", mnt, "tmpfs", 0, "size=2m,mode=0700") != 0)
        _exit(77);
    char *dir = ferry_path_join(mnt, UDID);
    CHILD_CHECK(dir != NULL, 3);
    child_fill(dir, enc, 8u << 20, 0);
    /* no temporaries, Status.plist still "uploading", no Manifest.db */
    char *bucket = NULL, fid[41];
    ferry_fileid("HomeDomain", "Library/too-big.bin", fid);
    CHILD_CHECK(asprintf(&bucket, "%s/%.2s", dir, fid) > 0, 4);
    DIR *d = opendir(bucket);
    CHILD_CHECK(d != NULL, 5);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        CHILD_CHECK(e->d_name[0] != '.' || !strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."), 6);
    closedir(d);
    d = opendir(dir);
    CHILD_CHECK(d != NULL, 7);
    while ((e = readdir(d)) != NULL)
        CHILD_CHECK(e->d_name[0] != '.' || !strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."), 8);
    closedir(d);
    char *mdb = ferry_path_join(dir, "Manifest.db");
    struct stat st;
    CHILD_CHECK(stat(mdb, &st) != 0, 9);
    char *sp = ferry_path_join(dir, "Status.plist");
    ferry_status_plist_t s;
    memset(&s, 0, sizeof s);
    CHILD_CHECK(ferry_status_plist_read(sp, &s) == 0, 30);
    CHILD_CHECK(s.snapshot_state && !strcmp(s.snapshot_state, "uploading"), 31);
    ferry_status_plist_clear(&s);
    free(sp);
    free(mdb);
    free(bucket);
    free(dir);
}

/* Commit on a full disk: the database cannot be written; no Manifest.db, no temporaries. */
static void child_tmpfs_commit(const char *mnt, int enc)
{
    uid_t uid = getuid();
    gid_t gid = getgid();
    char map[64];
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
        _exit(77);
    write_str("/proc/self/setgroups", "deny");
    snprintf(map, sizeof map, "0 %u 1", (unsigned)uid);
    if (write_str("/proc/self/uid_map", map) != 0)
        _exit(77);
    snprintf(map, sizeof map, "0 %u 1", (unsigned)gid);
    if (write_str("/proc/self/gid_map", map) != 0)
        _exit(77);
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
        mount("tmpfs", mnt, "tmpfs", 0, "size=2m,mode=0700") != 0)
        _exit(77);
    char *dir = ferry_path_join(mnt, UDID);
    ferry_writer_opts_t o = make_opts(enc, NULL);
    ferry_writer_t *w = NULL;
    CHILD_CHECK(ferry_writer_open(dir, &o, &w) == 0, 40);
    char rel[64];
    for (int i = 0; i < 300; i++) {
        snprintf(rel, sizeof rel, "Library/entry-with-a-long-name-%04d", i);
        CHILD_CHECK(ferry_writer_add_dir(w, "HomeDomain", rel, NULL) == 0, 41);
    }
    /* fill what is left */
    char *filler = ferry_path_join(mnt, "filler");
    int fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHILD_CHECK(fd >= 0, 42);
    static uint8_t buf[4096];
    while (write(fd, buf, sizeof buf) > 0)
        ;
    close(fd);
    int rc = ferry_writer_commit(w);
    CHILD_CHECK(rc != 0, 43);
    CHILD_CHECK(strstr(ferry_error_last(), dir) != NULL || strstr(ferry_error_last(), "Manifest") != NULL, 44);
    ferry_writer_free(w);
    unlink(filler); /* room again, so that what is left can be inspected */
    char *mdb = ferry_path_join(dir, "Manifest.db");
    struct stat st;
    CHILD_CHECK(stat(mdb, &st) != 0, 45);
    DIR *d = opendir(dir);
    CHILD_CHECK(d != NULL, 46);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        CHILD_CHECK(e->d_name[0] != '.' || !strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."), 47);
    closedir(d);
    free(mdb);
    free(filler);
    free(dir);
}

static void run_tmpfs(void (*fn)(const char *, int))
{
    for (int enc = 0; enc <= 1; enc++) {
        char *mnt = tu_mkdtemp();
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            fn(mnt, enc);
            _exit(0);
        }
        int code = wait_child(pid);
        tu_rmtree(mnt);
        free(mnt);
        if (code == 77) {
            printf("SKIP: cannot mount a small tmpfs in a user namespace here; RLIMIT_FSIZE covers ENOSPC\n");
            skip();
        }
        assert_int_equal(code, 0);
    }
}

static void test_full_disk_tmpfs(void **state)
{
    (void)state;
    run_tmpfs(child_tmpfs);
}

static void test_full_disk_at_commit_tmpfs(void **state)
{
    (void)state;
    run_tmpfs(child_tmpfs_commit);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conformance_unencrypted),
        cmocka_unit_test(test_conformance_encrypted),
        cmocka_unit_test(test_given_info_plist_and_keybag),
        cmocka_unit_test(test_refuses_hostile_names_and_duplicates),
        cmocka_unit_test(test_uncommitted_writer_unencrypted),
        cmocka_unit_test(test_uncommitted_writer_encrypted),
        cmocka_unit_test(test_full_disk_rlimit),
        cmocka_unit_test(test_full_disk_tmpfs),
        cmocka_unit_test(test_full_disk_at_commit_tmpfs),
        cmocka_unit_test(test_rewrites_reference_fixture),
        cmocka_unit_test(test_roundtrip_10000_unencrypted),
        cmocka_unit_test(test_roundtrip_10000_encrypted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
