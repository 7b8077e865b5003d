/*
 * test_verify.c: `ferry verify` (ferry_backup_verify): the reference backups and the writer's output
 * verify clean; the NEGATIVE fixture fails on its unpadded Manifest.db; the real mvt backup reports
 * the counts of fixtures README §5; a wrong password is FERRY_EPASSWORD; and each kind of damage to a
 * good backup (a deleted, truncated or corrupted blob, an unfinished or missing Status.plist, a
 * missing Info.plist or Manifest.plist key, a bucket that is a symlink, a refused row, a Manifest.db of
 * random bytes, an orphan blob) is reported with a message that names it.
 */
#include "testutil.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ferry/backup.h"

#define MTIME_BASE 1600000000
#define UDID "00008030-0000000000000002"

static char *cat(const char *a, const char *b)
{
    char *p = ferry_path_join(a, b);
    assert_non_null(p);
    return p;
}

/* ---- collecting findings ----------------------------------------------------------------------- */

#define MAX_FINDINGS 4096

typedef struct {
    size_t n;
    ferry_verify_severity_t sev[MAX_FINDINGS];
    char *what[MAX_FINDINGS];
    char *msg[MAX_FINDINGS];
    size_t dropped;
} findings_t;

static void collect(void *ctx, ferry_verify_severity_t sev, const char *what, const char *msg)
{
    findings_t *f = ctx;
    assert_non_null(what);
    assert_non_null(msg);
    if (f->n == MAX_FINDINGS) {
        f->dropped++;
        return;
    }
    f->sev[f->n] = sev;
    f->what[f->n] = strdup(what);
    f->msg[f->n] = strdup(msg);
    f->n++;
}

static void findings_free(findings_t *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->what[i]);
        free(f->msg[i]);
    }
    free(f);
}

/* Findings of severity sev whose message contains needle. */
static size_t count(const findings_t *f, ferry_verify_severity_t sev, const char *needle)
{
    size_t n = 0;
    for (size_t i = 0; i < f->n; i++)
        if (f->sev[i] == sev && strstr(f->msg[i], needle))
            n++;
    return n;
}

/* The one problem whose message contains needle; fails unless there is exactly one. */
static const char *the_problem(const findings_t *f, const char *needle)
{
    const char *found = NULL;
    for (size_t i = 0; i < f->n; i++)
        if (f->sev[i] == FERRY_VERIFY_PROBLEM && strstr(f->msg[i], needle)) {
            if (found)
                fail_msg("two problems contain '%s'", needle);
            found = f->msg[i];
        }
    if (!found)
        fail_msg("no problem contains '%s'", needle);
    return found;
}

static void dump(const findings_t *f)
{
    for (size_t i = 0; i < f->n; i++)
        printf("  [%d] %s: %s\n", (int)f->sev[i], f->what[i], f->msg[i]);
}

typedef struct {
    int rc;
    ferry_verify_report_t rep;
    findings_t *f;
} vrun_t;

static vrun_t verify(const char *dir, const char *pw, int decrypt)
{
    vrun_t r;
    memset(&r, 0, sizeof r);
    r.f = calloc(1, sizeof *r.f);
    assert_non_null(r.f);
    ferry_credentials_t cred;
    memset(&cred, 0, sizeof cred);
    cred.password = pw;
    cred.password_len = pw ? strlen(pw) : 0;
    ferry_verify_opts_t o = {.decrypt_content = decrypt};
    r.rc = ferry_backup_verify(dir, pw ? &cred : NULL, &o, collect, r.f, &r.rep);
    return r;
}

static void assert_clean(const vrun_t *r)
{
    if (r->rc != 0 || r->rep.problems || r->rep.warnings) {
        dump(r->f);
        fail_msg("expected a clean verify, got rc %d, %llu problems, %llu warnings (%s)", r->rc,
                 (unsigned long long)r->rep.problems, (unsigned long long)r->rep.warnings, ferry_error_last());
    }
    assert_int_equal(r->f->n, 0);
}

/* ---- a backup written by the writer ------------------------------------------------------------ */

static ferry_file_meta_t meta(int32_t mode, int64_t mtime)
{
    ferry_file_meta_t m;
    memset(&m, 0, sizeof m);
    m.mode = mode;
    m.mtime = m.ctime = m.birth = mtime;
    return m;
}

static char *write_backup(const char *t, const char *pw)
{
    char *udid = cat(t, UDID);
    ferry_writer_opts_t o;
    memset(&o, 0, sizeof o);
    o.ident.udid = UDID;
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
    ferry_file_meta_t d = meta(0755, MTIME_BASE);
    assert_int_equal(ferry_writer_add_dir(w, "HomeDomain", "", &d), 0);
    assert_int_equal(ferry_writer_add_dir(w, "HomeDomain", "Library", &d), 0);
    ferry_file_meta_t f = meta(0644, MTIME_BASE);
    assert_int_equal(ferry_writer_add_file_mem(w, "HomeDomain", "Library/a.txt", &f, "hello", 5), 0);
    assert_int_equal(ferry_writer_add_file_mem(w, "HomeDomain", "Library/sixteen.bin", &f, "0123456789abcdef", 16), 0);
    assert_int_equal(ferry_writer_add_file_mem(w, "HomeDomain", "Library/empty", &f, "", 0), 0);
    assert_int_equal(ferry_writer_add_symlink(w, "HomeDomain", "Library/link", "/var/mobile/Library/a.txt", &d), 0);
    assert_int_equal(ferry_writer_commit(w), 0);
    ferry_writer_free(w);
    return udid;
}

static char *blob_of(const char *udid, const char *domain, const char *rel)
{
    char id[41];
    ferry_fileid(domain, rel, id);
    char *p = NULL;
    assert_true(asprintf(&p, "%s/%.2s/%s", udid, id, id) > 0);
    return p;
}

/* ---- fixtures ---------------------------------------------------------------------------------- */

static void verify_reference(const char *rel, const char *pw)
{
    TU_FIXTURE_OR_SKIP(dir, rel);
    for (int decrypt = 0; decrypt <= 1; decrypt++) {
        vrun_t r = verify(dir, pw, decrypt);
        assert_clean(&r);
        assert_int_equal(r.rep.records, 18);
        assert_int_equal(r.rep.files, 7);
        assert_int_equal(r.rep.dirs, 10);
        assert_int_equal(r.rep.symlinks, 1);
        assert_int_equal(r.rep.bytes, 81210);
        findings_free(r.f);
    }
    free(dir);
}

static void test_verify_reference_unencrypted_clean(void **state)
{
    (void)state;
    verify_reference("reference/unencrypted/00008030-000A1B2C3D4E5F60", NULL);
}

static void test_verify_reference_encrypted_clean(void **state)
{
    (void)state;
    verify_reference("reference/encrypted_pw_test1234_dpic1000/00008101-00FEDCBA98765432", "test1234");
}

static void test_verify_reference_encrypted_dpic10M_clean(void **state)
{
    (void)state;
    TU_FIXTURE_OR_SKIP(dir, "reference/encrypted_pw_test1234_dpic10M/00008101-0012345678ABCDEF");
    vrun_t r = verify(dir, "test1234", 1);
    assert_clean(&r);
    assert_int_equal(r.rep.files, 7);
    findings_free(r.f);
    free(dir);
}

static void test_verify_wrong_password(void **state)
{
    (void)state;
    TU_FIXTURE_OR_SKIP(dir, "reference/encrypted_pw_test1234_dpic1000/00008101-00FEDCBA98765432");
    vrun_t r = verify(dir, "wrong", 1);
    assert_int_equal(r.rc, FERRY_EPASSWORD);
    findings_free(r.f);
    r = verify(dir, NULL, 1);
    assert_int_equal(r.rc, FERRY_EPASSWORD);
    findings_free(r.f);
    free(dir);
}

static void test_verify_negative_unpadded_manifest_db(void **state)
{
    (void)state;
    TU_FIXTURE_OR_SKIP(dir, "reference/NEGATIVE_manifest_db_without_pkcs7/00008101-0000000000BADBAD");
    vrun_t r = verify(dir, "test1234", 1);
    assert_int_equal(r.rc, FERRY_EINTEGRITY);
    assert_int_equal(r.rep.problems, 1);
    assert_string_equal(the_problem(r.f, "PKCS#7"),
                        "Manifest.db is not PKCS#7-padded; strict readers such as iTunes-Backup-Explorer reject it");
    assert_int_equal(r.rep.files, 7); /* the rows themselves are fine */
    findings_free(r.f);
    free(dir);
}

/* fixtures README §5: 9 size mismatches, 1,055 missing blobs, 24 tolerated empty files, one orphan,
 * an Info.plist without Applications, and neither Manifest.plist nor Status.plist. */
static void test_verify_real_mvt_counts(void **state)
{
    (void)state;
    TU_FIXTURE_OR_SKIP(dir, "real/ios14.3-mvt-decrypted");
    for (int decrypt = 0; decrypt <= 1; decrypt++) {
        vrun_t r = verify(dir, NULL, decrypt);
        assert_int_equal(r.rc, FERRY_EINTEGRITY);
        assert_int_equal(r.f->dropped, 0);
        assert_int_equal(r.rep.records, 3721);
        assert_int_equal(r.rep.files, 1089);
        assert_int_equal(r.rep.dirs, 2618);
        assert_int_equal(r.rep.symlinks, 14);
        assert_int_equal(count(r.f, FERRY_VERIFY_PROBLEM, "size mismatch"), 9);
        assert_int_equal(count(r.f, FERRY_VERIFY_PROBLEM, "missing blob"), 1055);
        assert_int_equal(count(r.f, FERRY_VERIFY_WARNING, "missing blob"), 24);
        assert_int_equal(count(r.f, FERRY_VERIFY_WARNING, "orphan blob e7/e794f6ffcc3c222535f47684a63d5178da3c4500"), 1);
        the_problem(r.f, "Manifest.plist is missing");
        the_problem(r.f, "Status.plist is missing");
        the_problem(r.f, "HomeDomain/Library/SMS/sms.db (fileID 3d0d7e5fb2ce288813306e4d4636395e047a3d28): size "
                         "mismatch: the blob is 28672 bytes, Size is 278528");
        assert_int_equal(r.rep.problems, 9 + 1055 + 2);
        assert_int_equal(count(r.f, FERRY_VERIFY_WARNING, "Info.plist has no 'Applications'"), 1);
        assert_int_equal(r.rep.warnings, 24 + 1 + 1);
        findings_free(r.f);
    }
    free(dir);
}

/* ---- the writer's output, and damage to it ----------------------------------------------------- */

static void test_verify_writer_backup_clean(void **state)
{
    (void)state;
    char *t = tu_mkdtemp();
    char *plain = cat(t, "plain"), *enc = cat(t, "enc");
    assert_int_equal(mkdir(plain, 0700), 0);
    assert_int_equal(mkdir(enc, 0700), 0);
    char *u1 = write_backup(plain, NULL), *u2 = write_backup(enc, "pw");
    vrun_t r = verify(u1, NULL, 1);
    assert_clean(&r);
    assert_int_equal(r.rep.files, 3);
    assert_int_equal(r.rep.symlinks, 1);
    findings_free(r.f);
    r = verify(u2, "pw", 1);
    assert_clean(&r);
    assert_int_equal(r.rep.files, 3);
    findings_free(r.f);
    tu_rmtree(t);
    free(t);
    free(plain);
    free(enc);
    free(u1);
    free(u2);
}

/* One damaged copy per case; each gives exactly the expected problem. */
typedef void (*damage_fn)(const char *udid);

static void damage_delete_blob(const char *udid)
{
    char *b = blob_of(udid, "HomeDomain", "Library/a.txt");
    assert_int_equal(unlink(b), 0);
    free(b);
}

static void damage_truncate_blob(const char *udid)
{
    char *b = blob_of(udid, "HomeDomain", "Library/sixteen.bin");
    assert_int_equal(truncate(b, 16), 0); /* encrypted: 32 -> 16 */
    free(b);
}

/* CBC: flipping the last byte of the first ciphertext block flips the last padding byte. */
static void damage_flip_byte(const char *udid)
{
    char *b = blob_of(udid, "HomeDomain", "Library/sixteen.bin");
    int fd = open(b, O_RDWR);
    assert_true(fd >= 0);
    uint8_t x;
    assert_int_equal(pread(fd, &x, 1, 15), 1);
    x ^= 1;
    assert_int_equal(pwrite(fd, &x, 1, 15), 1);
    close(fd);
    free(b);
}

static void damage_uploading(const char *udid)
{
    char *p = cat(udid, "Status.plist");
    plist_t s = NULL;
    assert_int_equal(ferry_plist_read_file(p, 0, &s), 0);
    plist_dict_set_item(s, "SnapshotState", plist_new_string("uploading"));
    assert_int_equal(ferry_plist_write_file(p, s, 0), 0);
    plist_free(s);
    free(p);
}

static void damage_remove_status(const char *udid)
{
    char *p = cat(udid, "Status.plist");
    assert_int_equal(unlink(p), 0);
    free(p);
}

static void damage_remove_info(const char *udid)
{
    char *p = cat(udid, "Info.plist");
    assert_int_equal(unlink(p), 0);
    free(p);
}

static void damage_manifest_key(const char *udid)
{
    char *p = cat(udid, "Manifest.plist");
    plist_t m = NULL;
    assert_int_equal(ferry_plist_read_file(p, 0, &m), 0);
    plist_dict_remove_item(plist_dict_get_item(m, "Lockdown"), "SerialNumber");
    assert_int_equal(ferry_plist_write_file(p, m, 0), 0);
    plist_free(m);
    free(p);
}

static void damage_orphan(const char *udid)
{
    char *dir = cat(udid, "ab");
    mkdir(dir, 0700);
    char *p = cat(dir, "abababababababababababababababababababab");
    assert_int_equal(ferry_file_write_atomic(p, "x", 1, 0600), 0);
    free(p);
    p = cat(udid, "stray.txt");
    assert_int_equal(ferry_file_write_atomic(p, "x", 1, 0600), 0);
    free(p);
    free(dir);
}

static void expect_damage(const char *pw, damage_fn damage, const char *needle, const char *what, int is_problem)
{
    char *t = tu_mkdtemp();
    char *udid = write_backup(t, pw);
    damage(udid);
    vrun_t r = verify(udid, pw, 1);
    if (is_problem) {
        assert_int_equal(r.rc, FERRY_EINTEGRITY);
        if (r.rep.problems != 1) {
            dump(r.f);
            fail_msg("expected exactly one problem");
        }
        const char *msg = the_problem(r.f, needle);
        for (size_t i = 0; i < r.f->n; i++)
            if (r.f->msg[i] == msg)
                assert_non_null(strstr(r.f->what[i], what));
    } else {
        assert_int_equal(r.rc, 0);
        assert_int_equal(r.rep.problems, 0);
        assert_true(count(r.f, FERRY_VERIFY_WARNING, needle) >= 1);
    }
    findings_free(r.f);
    tu_rmtree(t);
    free(t);
    free(udid);
}

static void test_verify_deleted_blob(void **state)
{
    (void)state;
    expect_damage(NULL, damage_delete_blob, "HomeDomain/Library/a.txt (fileID", "Library/a.txt", 1);
    expect_damage(NULL, damage_delete_blob, "missing blob", "Library/a.txt", 1);
}

static void test_verify_truncated_blob(void **state)
{
    (void)state;
    expect_damage("pw", damage_truncate_blob, "HomeDomain/Library/sixteen.bin (fileID", "sixteen.bin", 1);
    expect_damage("pw", damage_truncate_blob, "size mismatch: the encrypted blob is 16 bytes, Size 16 needs 32",
                  "sixteen.bin", 1);
}

static void test_verify_flipped_byte(void **state)
{
    (void)state;
    expect_damage("pw", damage_flip_byte, "HomeDomain/Library/sixteen.bin (fileID", "sixteen.bin", 1);
    expect_damage("pw", damage_flip_byte, "padding", "sixteen.bin", 1);
}

static void test_verify_snapshot_uploading(void **state)
{
    (void)state;
    expect_damage(NULL, damage_uploading, "backup incomplete: SnapshotState is 'uploading'", "Status.plist", 1);
}

static void test_verify_status_plist_missing(void **state)
{
    (void)state;
    expect_damage(NULL, damage_remove_status, "Status.plist is missing", "Status.plist", 1);
}

static void test_verify_info_plist_missing(void **state)
{
    (void)state;
    expect_damage(NULL, damage_remove_info, "Info.plist is missing", "Info.plist", 1);
}

static void test_verify_manifest_plist_required_key(void **state)
{
    (void)state;
    expect_damage(NULL, damage_manifest_key, "required key 'Lockdown.SerialNumber' is missing", "Manifest.plist", 1);
}

static void test_verify_orphans_are_warnings(void **state)
{
    (void)state;
    expect_damage(NULL, damage_orphan, "orphan blob ab/abababababababababababababababababababab", "abab", 0);
    expect_damage(NULL, damage_orphan, "unexpected file 'stray.txt'", "stray", 0);
}

/* A bucket directory replaced by a symlink to a copy elsewhere: the blob is "there" only through it. */
static void test_verify_bucket_symlink(void **state)
{
    (void)state;
    char *t = tu_mkdtemp();
    char *udid = write_backup(t, NULL);
    char id[41];
    ferry_fileid("HomeDomain", "Library/a.txt", id);
    char bucket[3] = {id[0], id[1], 0};
    char *bdir = cat(udid, bucket), *moved = cat(t, "moved");
    assert_int_equal(rename(bdir, moved), 0);
    assert_int_equal(symlink(moved, bdir), 0);
    for (int decrypt = 0; decrypt <= 1; decrypt++) {
        vrun_t r = verify(udid, NULL, decrypt);
        assert_int_equal(r.rc, FERRY_EINTEGRITY);
        char *needle = NULL;
        assert_true(asprintf(&needle, "HomeDomain/Library/a.txt (fileID %s): bucket %s is a symlink", id, bucket) > 0);
        the_problem(r.f, needle);
        free(needle);
        findings_free(r.f);
    }
    tu_rmtree(t);
    free(t);
    free(udid);
    free(bdir);
    free(moved);
}

/* A refused row (its fileID is not the hash) and a Manifest.db of random bytes. */
static void test_verify_refused_row_and_random_db(void **state)
{
    (void)state;
    char *t = tu_mkdtemp();
    char *udid = write_backup(t, NULL);
    char *db = cat(udid, "Manifest.db");
    sqlite3 *s = NULL;
    assert_int_equal(sqlite3_open_v2(db, &s, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(s, "PRAGMA journal_mode=DELETE; UPDATE Files SET fileID = "
                                     "'0123456789abcdef0123456789abcdef01234567' WHERE relativePath = 'Library/a.txt'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(s);
    vrun_t r = verify(udid, NULL, 1);
    assert_int_equal(r.rc, FERRY_EINTEGRITY);
    the_problem(r.f, "0123456789abcdef0123456789abcdef01234567");
    /* its blob now has no row: an orphan warning */
    assert_int_equal(count(r.f, FERRY_VERIFY_WARNING, "orphan blob"), 1);
    findings_free(r.f);

    uint8_t junk[8192];
    assert_int_equal(ferry_random_bytes(junk, sizeof junk), 0);
    assert_int_equal(ferry_file_write_atomic(db, junk, sizeof junk, 0600), 0);
    r = verify(udid, NULL, 1);
    assert_int_equal(r.rc, FERRY_EINTEGRITY);
    assert_int_equal(r.rep.problems, 1);
    the_problem(r.f, "the backup cannot be opened");
    findings_free(r.f);
    tu_rmtree(t);
    free(t);
    free(udid);
    free(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verify_reference_unencrypted_clean),
        cmocka_unit_test(test_verify_reference_encrypted_clean),
        cmocka_unit_test(test_verify_reference_encrypted_dpic10M_clean),
        cmocka_unit_test(test_verify_wrong_password),
        cmocka_unit_test(test_verify_negative_unpadded_manifest_db),
        cmocka_unit_test(test_verify_real_mvt_counts),
        cmocka_unit_test(test_verify_writer_backup_clean),
        cmocka_unit_test(test_verify_deleted_blob),
        cmocka_unit_test(test_verify_truncated_blob),
        cmocka_unit_test(test_verify_flipped_byte),
        cmocka_unit_test(test_verify_snapshot_uploading),
        cmocka_unit_test(test_verify_status_plist_missing),
        cmocka_unit_test(test_verify_info_plist_missing),
        cmocka_unit_test(test_verify_manifest_plist_required_key),
        cmocka_unit_test(test_verify_orphans_are_warnings),
        cmocka_unit_test(test_verify_bucket_symlink),
        cmocka_unit_test(test_verify_refused_row_and_random_db),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
