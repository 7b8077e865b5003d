/*
 * test_store_local.c: the local repository backend: committing a backup made by the writer into a
 * staging folder (listing, metadata, modes, the snapshot verifies); an unfinished backup refused with
 * nothing visible; ten snapshots of an unchanged backup costing about one on disk (through a fresh
 * write each time and through seeding); a changed file getting a new blob while an older snapshot still
 * verifies and reads its old content; prune keeping the newest N per device; concurrent staging folders
 * of two devices; stale staging folders removed; import of a backup folder and of the shared reference
 * fixtures (skipped when absent).
 */
#include "store_tu.h"

#include <fcntl.h>
#include <sys/file.h>

#define UDID_A "00008030-000A1B2C3D4E5F60"
#define UDID_B "00008101-00FEDCBA98765432"

typedef struct {
    char *tmp, *repo;
    ferry_store_t *st;
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    f->tmp = tu_mkdtemp();
    f->repo = ferry_path_join(f->tmp, "repo");
    if (ferry_store_open(f->repo, &f->st) != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    ferry_store_close(f->st);
    tu_rmtree(f->tmp);
    free(f->repo);
    free(f->tmp);
    free(f);
    return 0;
}

static char *snap_blob(ferry_store_t *st, const char *id, const char *rel)
{
    char *dir = NULL, fid[41];
    assert_int_equal(ferry_store_snapshot_path(st, id, &dir), 0);
    ferry_fileid("HomeDomain", rel, fid);
    char *p = NULL;
    assert_true(asprintf(&p, "%s/%.2s/%s", dir, fid, fid) > 0);
    free(dir);
    return p;
}

static ino_t inode_of(const char *p)
{
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    return st.st_ino;
}

static void test_commit_lists_and_verifies(void **state)
{
    fx_t *f = *state;
    ferry_snapshot_info_t s = stu_snapshot(f->st, UDID_A, 12, 3000, 0, 1);
    assert_int_equal(strlen(s.id), 29); /* 20261128T155047.123Z-1a2b3c4d */
    assert_int_equal(s.id[8], 'T');
    ferry_snapshot_info_t *v = NULL;
    size_t n = 0;
    assert_int_equal(ferry_store_list(f->st, NULL, &v, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].id, s.id);
    assert_string_equal(v[0].udid, UDID_A);
    assert_string_equal(v[0].parent, "");
    assert_int_equal(v[0].encrypted, 0);
    assert_int_equal(v[0].files, 12);
    assert_int_equal(v[0].backup_date, TU_DATE);
    assert_true(v[0].bytes >= 12 * 3000);
    assert_true(v[0].added_bytes > 0);
    free(v);
    stu_verify(f->st, s.id);
    /* read-only modes: files 0600, folders 0700 */
    char *blob = snap_blob(f->st, s.id, "Documents/file001.bin");
    struct stat st;
    assert_int_equal(stat(blob, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    free(blob);
    char *dir = NULL;
    assert_int_equal(ferry_store_snapshot_path(f->st, s.id, &dir), 0);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    free(dir);
    /* latest, get by a prefix, and nothing left in .staging */
    ferry_snapshot_info_t l;
    assert_int_equal(ferry_store_latest(f->st, UDID_A, &l), 0);
    assert_string_equal(l.id, s.id);
    char prefix[20];
    snprintf(prefix, sizeof prefix, "%.19s", s.id);
    assert_int_equal(ferry_store_get(f->st, prefix, &l), 0);
    assert_int_equal(ferry_store_latest(f->st, UDID_B, &l), FERRY_ENOTFOUND);
    char *staging = ferry_path_join(f->repo, ".staging");
    assert_int_equal(stu_count_entries(staging), 0);
    free(staging);
}

static void test_unfinished_backup_is_refused(void **state)
{
    fx_t *f = *state;
    ferry_staging_t *stg = NULL;
    assert_int_equal(ferry_store_begin(f->st, UDID_A, &stg), 0);
    stu_write_backup(ferry_staging_backup_dir(stg), UDID_A, 5, 100, 0, 0, 0); /* not committed */
    assert_int_equal(ferry_staging_commit(stg, NULL, NULL), FERRY_EINTEGRITY);
    assert_non_null(strstr(ferry_error_last(), "finished"));
    ferry_snapshot_info_t *v = NULL;
    size_t n = 9;
    assert_int_equal(ferry_store_list(f->st, NULL, &v, &n), 0);
    assert_int_equal(n, 0);
    free(v);
    char *staging = ferry_path_join(f->repo, ".staging");
    assert_int_equal(stu_count_entries(staging), 0);
    free(staging);
    /* an empty staging folder (no backup at all) is refused too */
    assert_int_equal(ferry_store_begin(f->st, UDID_A, &stg), 0);
    assert_int_equal(ferry_staging_commit(stg, NULL, NULL), FERRY_EINTEGRITY);
    assert_int_equal(ferry_store_begin(f->st, "../evil", &stg), FERRY_EINVAL);
}

static void test_ten_unchanged_snapshots_cost_about_one(void **state)
{
    fx_t *f = *state;
    ferry_snapshot_info_t first = stu_snapshot(f->st, UDID_A, 48, 256 * 1024, 0, 0);
    char *snapdir = ferry_path_join(f->repo, "snapshots");
    uint64_t one = stu_du(snapdir);
    ferry_snapshot_info_t s = first;
    for (int i = 1; i < 10; i++) {
        s = stu_snapshot(f->st, UDID_A, 48, 256 * 1024, 0, 0);
        assert_true(s.added_bytes < first.added_bytes / 10);
    }
    uint64_t ten = stu_du(snapdir);
    printf("one snapshot %llu bytes on disk, ten %llu (%.2fx)\n", (unsigned long long)one, (unsigned long long)ten,
           (double)ten / (double)one);
    assert_true(ten * 10 < one * 13);
    /* every blob of the last is the first's */
    char *a = snap_blob(f->st, first.id, "Documents/file007.bin"), *b = snap_blob(f->st, s.id, "Documents/file007.bin");
    assert_true(inode_of(a) == inode_of(b));
    free(a);
    free(b);
    stu_verify(f->st, first.id);
    stu_verify(f->st, s.id);
    free(snapdir);
}

static void test_seeded_snapshots_share_everything(void **state)
{
    fx_t *f = *state;
    ferry_snapshot_info_t first = stu_snapshot(f->st, UDID_A, 30, 64 * 1024, 0, 0);
    char from[FERRY_SNAPSHOT_ID_MAX];
    for (int i = 0; i < 9; i++) {
        ferry_staging_t *stg = NULL;
        assert_int_equal(ferry_store_begin(f->st, UDID_A, &stg), 0);
        assert_int_equal(ferry_staging_seed(stg, from), 0);
        assert_true(from[0] != '\0');
        ferry_snapshot_info_t s;
        assert_int_equal(ferry_staging_commit(stg, NULL, &s), 0);
        assert_string_equal(s.parent, from);
        /* nothing new on disk but the metadata: the seeded files are the parent's inodes */
        assert_int_equal(s.added_bytes, 0);
        assert_int_equal(s.files, first.files);
    }
    ferry_snapshot_info_t latest;
    assert_int_equal(ferry_store_latest(f->st, UDID_A, &latest), 0);
    stu_verify(f->st, latest.id);
    /* a device with no snapshot seeds nothing */
    ferry_staging_t *stg = NULL;
    assert_int_equal(ferry_store_begin(f->st, UDID_B, &stg), 0);
    assert_int_equal(ferry_staging_seed(stg, from), 0);
    assert_string_equal(from, "");
    ferry_staging_abort(stg);
}

/* Replaces dst by a copy of src the way mobilebackup2 and the writer do: new file, then rename. */
static void replace_by_rename(const char *src, const char *dst)
{
    size_t len;
    uint8_t *data = tu_read_file(src, &len);
    char *tmp = NULL;
    assert_true(asprintf(&tmp, "%s.incoming", dst) > 0);
    assert_int_equal(ferry_file_write_atomic(tmp, data, len, 0600), 0);
    assert_int_equal(rename(tmp, dst), 0);
    free(tmp);
    free(data);
}

static void test_changed_file_new_blob_old_snapshot_intact(void **state)
{
    fx_t *f = *state;
    ferry_snapshot_info_t s1 = stu_snapshot(f->st, UDID_A, 10, 5000, 0, 0);
    /* An incremental: seed from s1, then apply a newer backup (variant 1: file 0 changed) by replacing
     * only the files that differ, plus the new Manifest.db and plists, all by rename. */
    char *newer = ferry_path_join(f->tmp, "newer");
    stu_write_backup(newer, UDID_A, 10, 5000, 1, 0, 1);
    ferry_staging_t *stg = NULL;
    assert_int_equal(ferry_store_begin(f->st, UDID_A, &stg), 0);
    assert_int_equal(ferry_staging_seed(stg, NULL), 0);
    char fid[41];
    ferry_fileid("HomeDomain", "Documents/changed.txt", fid);
    const char *names[] = {"Manifest.db", "Manifest.plist", "Info.plist", "Status.plist", NULL};
    char *src = NULL, *dst = NULL;
    for (int i = 0; names[i]; i++) {
        src = ferry_path_join(newer, names[i]);
        dst = ferry_path_join(ferry_staging_backup_dir(stg), names[i]);
        replace_by_rename(src, dst);
        free(src);
        free(dst);
    }
    assert_true(asprintf(&src, "%s/%.2s/%s", newer, fid, fid) > 0);
    assert_true(asprintf(&dst, "%s/%.2s/%s", ferry_staging_backup_dir(stg), fid, fid) > 0);
    replace_by_rename(src, dst);
    free(src);
    free(dst);
    ferry_snapshot_info_t s2;
    ferry_commit_opts_t co = {.verify = 1};
    assert_int_equal(ferry_staging_commit(stg, &co, &s2), 0);
    assert_string_equal(s2.parent, s1.id);

    char *b1 = snap_blob(f->st, s1.id, "Documents/changed.txt"), *b2 = snap_blob(f->st, s2.id, "Documents/changed.txt");
    assert_true(inode_of(b1) != inode_of(b2));
    free(b1);
    free(b2);
    b1 = snap_blob(f->st, s1.id, "Documents/file003.bin");
    b2 = snap_blob(f->st, s2.id, "Documents/file003.bin");
    assert_true(inode_of(b1) == inode_of(b2));
    free(b1);
    free(b2);

    stu_verify(f->st, s1.id);
    stu_verify(f->st, s2.id);
    size_t len, elen;
    char *d1 = NULL, *d2 = NULL;
    assert_int_equal(ferry_store_snapshot_path(f->st, s1.id, &d1), 0);
    assert_int_equal(ferry_store_snapshot_path(f->st, s2.id, &d2), 0);
    uint8_t *old = stu_read(d1, "Documents/changed.txt", &len);
    uint8_t *exp = stu_content(0, 0, 5000, &elen);
    assert_int_equal(len, elen);
    assert_memory_equal(old, exp, len);
    free(old);
    free(exp);
    uint8_t *cur = stu_read(d2, "Documents/changed.txt", &len);
    exp = stu_content(0, 1, 5000, &elen);
    assert_int_equal(len, elen);
    assert_memory_equal(cur, exp, len);
    free(cur);
    free(exp);
    free(d1);
    free(d2);

    /* The same change written whole by the writer (no seeding): commit shares all but the changed blob. */
    ferry_snapshot_info_t s3 = stu_snapshot(f->st, UDID_A, 10, 5000, 2, 0);
    assert_string_equal(s3.parent, s2.id);
    b1 = snap_blob(f->st, s2.id, "Documents/file005.bin");
    b2 = snap_blob(f->st, s3.id, "Documents/file005.bin");
    assert_true(inode_of(b1) == inode_of(b2));
    free(b1);
    free(b2);
    b1 = snap_blob(f->st, s2.id, "Documents/changed.txt");
    b2 = snap_blob(f->st, s3.id, "Documents/changed.txt");
    assert_true(inode_of(b1) != inode_of(b2));
    free(b1);
    free(b2);
    stu_verify(f->st, s1.id);
    stu_verify(f->st, s2.id);
    stu_verify(f->st, s3.id);

    /* An import of a folder with the change and two files fewer: the changed blob is new, the
     * missing files are gone from the new snapshot only, the rest is shared. */
    char *fewer = ferry_path_join(f->tmp, "fewer");
    stu_write_backup(fewer, UDID_A, 8, 5000, 4, 0, 1);
    ferry_snapshot_info_t s4;
    assert_int_equal(ferry_store_import(f->st, fewer, NULL, &s4), 0);
    assert_string_equal(s4.parent, s3.id);
    assert_int_equal(s4.files, 8);
    b1 = snap_blob(f->st, s3.id, "Documents/file009.bin");
    b2 = snap_blob(f->st, s4.id, "Documents/file009.bin");
    assert_int_equal(access(b1, F_OK), 0);
    assert_int_equal(access(b2, F_OK), -1);
    free(b1);
    free(b2);
    b1 = snap_blob(f->st, s3.id, "Documents/file004.bin");
    b2 = snap_blob(f->st, s4.id, "Documents/file004.bin");
    assert_true(inode_of(b1) == inode_of(b2));
    free(b1);
    free(b2);
    assert_int_equal(ferry_store_snapshot_path(f->st, s4.id, &d2), 0);
    cur = stu_read(d2, "Documents/changed.txt", &len);
    exp = stu_content(0, 4, 5000, &elen);
    assert_int_equal(len, elen);
    assert_memory_equal(cur, exp, len);
    free(cur);
    free(exp);
    free(d2);
    for (const char *const *id = (const char *const[]){s1.id, s2.id, s3.id, s4.id, NULL}; *id; id++)
        stu_verify(f->st, *id);
    free(fewer);
    free(newer);
}

static void test_prune_keeps_newest(void **state)
{
    fx_t *f = *state;
    ferry_snapshot_info_t a[4], b[2];
    for (int i = 0; i < 4; i++)
        a[i] = stu_snapshot(f->st, UDID_A, 6, 2000, (unsigned)i, 0);
    for (int i = 0; i < 2; i++)
        b[i] = stu_snapshot(f->st, UDID_B, 6, 2000, (unsigned)i, 0);
    ferry_prune_report_t rep;
    ferry_snapshot_info_t *gone = NULL;
    size_t ngone = 0;
    assert_int_equal(ferry_store_prune(f->st, NULL, 2, &rep, &gone, &ngone), 0);
    assert_int_equal(rep.removed, 2);
    assert_int_equal(rep.kept, 4);
    assert_int_equal(ngone, 2);
    assert_string_equal(gone[0].id, a[0].id);
    assert_string_equal(gone[1].id, a[1].id);
    free(gone);
    ferry_snapshot_info_t *v = NULL;
    size_t n = 0;
    assert_int_equal(ferry_store_list(f->st, NULL, &v, &n), 0);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++)
        stu_verify(f->st, v[i].id);
    free(v);
    ferry_snapshot_info_t g;
    assert_int_equal(ferry_store_get(f->st, a[0].id, &g), FERRY_ENOTFOUND);
    /* one device only */
    assert_int_equal(ferry_store_prune(f->st, UDID_B, 1, &rep, NULL, NULL), 0);
    assert_int_equal(rep.removed, 1);
    ferry_snapshot_info_t l;
    assert_int_equal(ferry_store_latest(f->st, UDID_B, &l), 0);
    assert_string_equal(l.id, b[1].id);
    assert_int_equal(ferry_store_latest(f->st, UDID_A, &l), 0);
    assert_string_equal(l.id, a[3].id);
    assert_int_equal(ferry_store_prune(f->st, NULL, 0, &rep, NULL, NULL), FERRY_EINVAL);
    char *trash = ferry_path_join(f->repo, ".trash");
    assert_int_equal(stu_count_entries(trash), 0);
    free(trash);
}

static void test_two_devices_at_once_and_stale_cleanup(void **state)
{
    fx_t *f = *state;
    ferry_staging_t *sa = NULL, *sb = NULL;
    assert_int_equal(ferry_store_begin(f->st, UDID_A, &sa), 0);
    /* A dead process's staging folder: its lock file exists and nobody holds it. */
    char *stale = ferry_path_join(f->repo, ".staging/" UDID_A ".deadbeefdeadbeef");
    char *stale_lock = ferry_path_join(f->repo, ".staging/" UDID_A ".deadbeefdeadbeef.lock");
    assert_int_equal(ferry_mkdir_p(stale, 0700), 0);
    assert_int_equal(ferry_file_write_atomic(stale_lock, "", 0, 0600), 0);
    /* and a folder whose lock file is gone */
    char *orphan = ferry_path_join(f->repo, ".staging/orphan.0123");
    assert_int_equal(ferry_mkdir_p(orphan, 0700), 0);
    /* begin of another device cleans those, but not A's live staging folder */
    assert_int_equal(ferry_store_begin(f->st, UDID_B, &sb), 0);
    assert_int_equal(access(stale, F_OK), -1);
    assert_int_equal(access(stale_lock, F_OK), -1);
    assert_int_equal(access(orphan, F_OK), -1);
    assert_int_equal(access(ferry_staging_backup_dir(sa), F_OK), 0);
    stu_write_backup(ferry_staging_backup_dir(sb), UDID_B, 4, 100, 0, 0, 1);
    stu_write_backup(ferry_staging_backup_dir(sa), UDID_A, 4, 100, 0, 0, 1);
    ferry_snapshot_info_t x, y;
    assert_int_equal(ferry_staging_commit(sb, NULL, &x), 0);
    assert_int_equal(ferry_staging_commit(sa, NULL, &y), 0);
    stu_verify(f->st, x.id);
    stu_verify(f->st, y.id);
    /* prune waits for the exclusive lock: while another holder has it shared, a non-blocking try fails */
    char *lock = ferry_path_join(f->repo, "lock");
    int fd = open(lock, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_SH), 0);
    int fd2 = open(lock, O_RDWR);
    assert_int_equal(flock(fd2, LOCK_EX | LOCK_NB), -1);
    close(fd2);
    close(fd);
    free(lock);
    free(stale);
    free(stale_lock);
    free(orphan);
}

static void test_import_folder(void **state)
{
    fx_t *f = *state;
    char *src = ferry_path_join(f->tmp, UDID_B);
    stu_write_backup(src, UDID_B, 8, 1000, 0, 1, 1); /* encrypted */
    ferry_credentials_t cred;
    memset(&cred, 0, sizeof cred);
    cred.password = TU_PW;
    cred.password_len = strlen(TU_PW);
    ferry_commit_opts_t co = {.verify = 1, .cred = &cred};
    ferry_snapshot_info_t s, t;
    assert_int_equal(ferry_store_import(f->st, src, &co, &s), 0);
    assert_string_equal(s.udid, UDID_B);
    assert_int_equal(s.encrypted, 1);
    assert_int_equal(s.files, 8);
    /* the same folder again: every file is shared */
    assert_int_equal(ferry_store_import(f->st, src, NULL, &t), 0);
    assert_string_equal(t.parent, s.id);
    assert_int_equal(t.added_bytes, 0);
    char *dir = NULL;
    assert_int_equal(ferry_store_snapshot_path(f->st, t.id, &dir), 0);
    ferry_verify_opts_t vo = {.decrypt_content = 1};
    ferry_verify_report_t rep;
    assert_int_equal(ferry_backup_verify(dir, &cred, &vo, NULL, NULL, &rep), 0);
    free(dir);
    /* the wrong password fails the verify and commits nothing */
    cred.password = "wrong";
    cred.password_len = 5;
    assert_true(ferry_store_import(f->st, src, &co, &t) != 0);
    ferry_snapshot_info_t *v = NULL;
    size_t n = 0;
    assert_int_equal(ferry_store_list(f->st, UDID_B, &v, &n), 0);
    assert_int_equal(n, 2);
    free(v);
    free(src);
}

static void test_import_reference_fixtures(void **state)
{
    fx_t *f = *state;
    TU_FIXTURE_OR_SKIP(unenc, "reference/unencrypted/00008030-000A1B2C3D4E5F60");
    char *enc = tu_fixture("reference/encrypted_pw_test1234_dpic1000/00008101-00FEDCBA98765432");
    assert_non_null(enc);
    ferry_snapshot_info_t s;
    ferry_commit_opts_t co = {.verify = 1};
    assert_int_equal(ferry_store_import(f->st, unenc, &co, &s), 0);
    assert_string_equal(s.udid, "00008030-000A1B2C3D4E5F60");
    stu_verify(f->st, s.id);
    ferry_credentials_t cred;
    memset(&cred, 0, sizeof cred);
    cred.password = "test1234";
    cred.password_len = 8;
    co.cred = &cred;
    assert_int_equal(ferry_store_import(f->st, enc, &co, &s), 0);
    assert_int_equal(s.encrypted, 1);
    char *dir = NULL;
    assert_int_equal(ferry_store_snapshot_path(f->st, s.id, &dir), 0);
    ferry_verify_opts_t vo = {.decrypt_content = 1};
    ferry_verify_report_t rep;
    assert_int_equal(ferry_backup_verify(dir, &cred, &vo, NULL, NULL, &rep), 0);
    assert_int_equal(rep.problems, 0);
    free(dir);
    free(unenc);
    free(enc);
}

static void test_default_location(void **state)
{
    (void)state;
    char *old = getenv("FERRY_REPO") ? strdup(getenv("FERRY_REPO")) : NULL;
    char *loc = NULL;
    setenv("FERRY_REPO", "/some/where", 1);
    assert_int_equal(ferry_store_default_location(&loc), 0);
    assert_string_equal(loc, "/some/where");
    free(loc);
    unsetenv("FERRY_REPO");
    char *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    setenv("HOME", "/home/x", 1);
    assert_int_equal(ferry_store_default_location(&loc), 0);
    assert_string_equal(loc, "/home/x/.local/share/ferry/repo");
    free(loc);
    if (home)
        setenv("HOME", home, 1);
    if (old)
        setenv("FERRY_REPO", old, 1);
    free(home);
    free(old);
    ferry_store_t *st = NULL;
    assert_int_equal(ferry_store_open("ftp://bucket/x", &st), FERRY_EUNSUPPORTED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_commit_lists_and_verifies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unfinished_backup_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ten_unchanged_snapshots_cost_about_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seeded_snapshots_share_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changed_file_new_blob_old_snapshot_intact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune_keeps_newest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_devices_at_once_and_stale_cleanup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_folder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_reference_fixtures, setup, teardown),
        cmocka_unit_test(test_default_location),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
