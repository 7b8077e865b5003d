/*
 * test_reader.c: reading backups (backup-format.md §6.9, §15.2): the real iOS 14.3 backup without a
 * Manifest.plist (strict reading gives exactly the documented size mismatches and missing blobs), the
 * generated reference backups against their expected.json (unencrypted, encrypted, and encrypted
 * with an unpadded Manifest.db), passwords and derived keys, and hostile input built in a temporary
 * copy: unsafe paths, bad fileIDs, records that contradict their row, truncated or tampered blobs and
 * symbolic links where a blob should be. The DPIC 10,000,000 backups are in test_reader_slow.c.
 */
#include "reader_testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#define MVT "real/ios14.3-mvt-decrypted"
#define REF_PLAIN "reference/unencrypted"
#define REF_ENC "reference/encrypted_pw_test1234_dpic1000"

static char *listing(const char *dir)
{
    char *cmd = NULL, *out = calloc(1, 65536);
    if (asprintf(&cmd, "ls -la --time-style=full-iso '%s'", dir) < 0)
        fail_msg("asprintf");
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, 65535, p);
    out[n] = '\0';
    pclose(p);
    free(cmd);
    return out;
}

/* ---- the real iOS 14.3 backup ------------------------------------------------------------------ */

static void test_mvt_real_backup_strict(void **state)
{
    (void)state;
    TU_FIXTURE_OR_SKIP(dir, MVT);
    char *before = listing(dir);
    unsigned long warnings = ferry_log_warning_count();
    ferry_backup_t *b = rt_open(dir, NULL);
    assert_true(ferry_log_warning_count() > warnings); /* "no Manifest.plist" */
    assert_false(ferry_backup_is_encrypted(b));
    assert_null(ferry_backup_manifest(b));
    assert_null(ferry_backup_keybag(b));
    assert_null(ferry_backup_kek(b));
    assert_non_null(ferry_backup_info_plist(b));
    assert_null(ferry_backup_status(b));

    ferry_backup_iter_t *it = NULL;
    assert_int_equal(ferry_backup_iter_new(b, NULL, &it), 0);
    const ferry_record_t *rec;
    int rc, files = 0, dirs = 0, links = 0, clean = 0, mismatches = 0, missing = 0, empty_missing = 0, tcc = 0;
    while ((rc = ferry_backup_iter_next(it, &rec)) != 0) {
        if (rc < 0)
            fail_msg("refused: %s", ferry_error_last());
        char want[41];
        ferry_fileid(rec->domain, rec->relative_path, want);
        assert_string_equal(want, rec->fileid);
        if (rec->flags == FERRY_FLAG_DIR)
            dirs++;
        if (rec->flags == FERRY_FLAG_SYMLINK)
            links++;
        if (rec->flags != FERRY_FLAG_FILE)
            continue;
        files++;
        char *blob = ferry_backup_blob_path(b, rec);
        int present = access(blob, F_OK) == 0;
        free(blob);
        uint8_t *data;
        size_t len;
        rc = rt_read_file(b, rec, 1, &data, &len);
        free(data);
        if (rc == 0) {
            clean++;
            if (!present) {
                assert_int_equal(rec->mb.size, 0);
                empty_missing++;
            }
            if (!strcmp(rec->fileid, "64d0019cb3d46bfc8cce545a8ba54b93e7ea9347")) {
                assert_int_equal(len, 57344);
                tcc++;
            }
            continue;
        }
        assert_int_equal(rc, FERRY_EINTEGRITY);
        const char *msg = ferry_error_last();
        assert_non_null(strstr(msg, rec->relative_path));
        if (strstr(msg, "size mismatch")) {
            mismatches++;
            assert_true(present);
        } else if (strstr(msg, "missing blob")) {
            missing++;
            assert_false(present);
        } else {
            fail_msg("unexpected error: %s", msg);
        }
    }
    ferry_backup_iter_free(it);
    assert_int_equal(files, 1089);
    assert_int_equal(dirs, 2618);
    assert_int_equal(links, 14);
    assert_int_equal(mismatches, 9);
    assert_int_equal(missing, 1055);
    assert_int_equal(empty_missing, 24);
    assert_int_equal(clean, 25);
    assert_int_equal(tcc, 1);
    ferry_backup_close(b);

    char *after = listing(dir);
    assert_string_equal(before, after); /* no -wal/-shm, nothing touched */
    free(before);
    free(after);
    free(dir);
}

static void test_mvt_lenient_and_lookup(void **state)
{
    (void)state;
    TU_FIXTURE_OR_SKIP(dir, MVT);
    ferry_backup_t *b = rt_open(dir, NULL);
    ferry_record_t rec;
    /* size mismatch: a warning in lenient mode, never silent */
    assert_int_equal(ferry_backup_lookup(b, "HomeDomain", "Library/SMS/sms.db", &rec), 0);
    assert_string_equal(rec.fileid, "3d0d7e5fb2ce288813306e4d4636395e047a3d28");
    unsigned long w = ferry_log_warning_count();
    uint8_t *data;
    size_t len;
    assert_int_equal(rt_read_file(b, &rec, 0, &data, &len), 0);
    assert_int_equal(len, 28672);
    assert_int_equal(ferry_log_warning_count(), w + 1);
    free(data);
    assert_int_equal(rt_read_file(b, &rec, 1, &data, &len), FERRY_EINTEGRITY);
    assert_non_null(strstr(ferry_error_last(), "278528"));
    assert_non_null(strstr(ferry_error_last(), "28672"));
    assert_non_null(strstr(ferry_error_last(), "HomeDomain/Library/SMS/sms.db"));
    free(data);
    ferry_record_clear(&rec);

    /* missing blob: lenient gives ENOTFOUND with a warning, strict EINTEGRITY */
    assert_int_equal(ferry_backup_lookup(b, "HomeDomain", "Library/CallHistoryDB/CallHistory.storedata", &rec), 0);
    assert_true(rec.mb.size > 0);
    ferry_file_reader_t *r = NULL;
    w = ferry_log_warning_count();
    assert_int_equal(ferry_backup_file_open(b, &rec, 0, &r), FERRY_ENOTFOUND);
    assert_null(r);
    assert_int_equal(ferry_log_warning_count(), w + 1);
    assert_int_equal(ferry_backup_file_open(b, &rec, 1, &r), FERRY_EINTEGRITY);
    assert_non_null(strstr(ferry_error_last(), "missing blob"));
    assert_non_null(strstr(ferry_error_last(), "5a4935c78a5255723f707230a451d79c540d2741"));
    ferry_record_clear(&rec);

    /* directories are not files */
    assert_int_equal(ferry_backup_lookup(b, "HomeDomain", "", &rec), 0);
    assert_string_equal(rec.fileid, "70765829101933f25994c71bbee6dfd685535bff");
    assert_int_equal(rec.flags, FERRY_FLAG_DIR);
    assert_int_equal(ferry_backup_file_open(b, &rec, 1, &r), FERRY_EINVAL);
    ferry_record_clear(&rec);

    assert_int_equal(ferry_backup_lookup(b, "HomeDomain", "Library/none", &rec), FERRY_ENOTFOUND);
    assert_int_equal(ferry_backup_lookup(b, "NoSuchDomain", "", &rec), FERRY_ENOTFOUND);

    /* iterating one domain */
    ferry_backup_iter_t *it = NULL;
    assert_int_equal(ferry_backup_iter_new(b, "SysSharedContainerDomain-systemgroup.com.apple.configurationprofiles",
                                           &it), 0);
    const ferry_record_t *pr;
    int n = 0, rc;
    while ((rc = ferry_backup_iter_next(it, &pr)) == 1) {
        assert_string_equal(pr->domain, "SysSharedContainerDomain-systemgroup.com.apple.configurationprofiles");
        n++;
    }
    assert_int_equal(rc, 0);
    assert_true(n > 0);
    ferry_backup_iter_free(it);
    ferry_backup_close(b);
    free(dir);
}

/* ---- reference backups -------------------------------------------------------------------------- */

static void test_reference_unencrypted(void **state)
{
    (void)state;
    rt_check_reference("unencrypted", NULL);
}

static void test_reference_encrypted_dpic1000(void **state)
{
    (void)state;
    rt_check_reference("encrypted_pw_test1234_dpic1000", "test1234");
}

static void test_reference_negative_unpadded_manifest_db(void **state)
{
    (void)state;
    rt_check_reference("NEGATIVE_manifest_db_without_pkcs7", "test1234");
}

static char *ref_udid_dir(const char *rel, char **json)
{
    char *root = tu_fixture(rel);
    if (!root)
        return NULL;
    char *j = NULL;
    char *dir = rt_reference_dir(root, &j);
    free(root);
    if (json)
        *json = j;
    else
        free(j);
    return dir;
}

static void test_passwords_and_kek(void **state)
{
    (void)state;
    char *json = NULL;
    char *dir = ref_udid_dir(REF_ENC, &json);
    if (!dir)
        skip();
    /* a private TMPDIR shows that no decrypted database is left behind */
    char *tmp = tu_mkdtemp();
    char *old_tmpdir = getenv("TMPDIR") ? strdup(getenv("TMPDIR")) : NULL;
    setenv("TMPDIR", tmp, 1);

    ferry_backup_t *b = NULL;
    assert_int_equal(ferry_backup_open(dir, NULL, &b), FERRY_EPASSWORD);
    assert_non_null(strstr(ferry_error_last(), "password is needed"));
    ferry_credentials_t cred = {0};
    assert_int_equal(ferry_backup_open(dir, &cred, &b), FERRY_EPASSWORD);
    cred.password = "test1235";
    cred.password_len = 8;
    assert_int_equal(ferry_backup_open(dir, &cred, &b), FERRY_EPASSWORD);
    assert_non_null(strstr(ferry_error_last(), "wrong password"));
    assert_null(b);
    char *l = listing(tmp);
    assert_null(strstr(l, "ferry-manifest")); /* nothing decrypted with a wrong password */
    free(l);

    /* the limits are passed on: DPIC 1,000 above a cap of 999 is refused before deriving */
    cred.password = "test1234";
    cred.limits.max_dpic = 999;
    assert_int_equal(ferry_backup_open(dir, &cred, &b), FERRY_ELIMIT);
    cred.limits.max_dpic = 0;

    assert_int_equal(ferry_backup_open(dir, &cred, &b), 0);
    assert_true(ferry_backup_is_encrypted(b));
    assert_non_null(ferry_backup_keybag(b));
    uint8_t kek[32];
    assert_non_null(ferry_backup_kek(b));
    memcpy(kek, ferry_backup_kek(b), 32);
    l = listing(tmp);
    assert_non_null(strstr(l, "-rw------- ")); /* the decrypted database is private */
    assert_non_null(strstr(l, "ferry-manifest-"));
    free(l);
    ferry_backup_close(b);
    l = listing(tmp);
    assert_null(strstr(l, "ferry-manifest"));
    free(l);

    /* a supplied KEK instead of the password */
    ferry_credentials_t kcred = {0};
    kcred.kek = kek;
    assert_int_equal(ferry_backup_open(dir, &kcred, &b), 0);
    rt_check_listing(b, json);
    ferry_backup_close(b);
    kek[0] ^= 1;
    assert_int_equal(ferry_backup_open(dir, &kcred, &b), FERRY_EPASSWORD);

    if (old_tmpdir) {
        setenv("TMPDIR", old_tmpdir, 1);
        free(old_tmpdir);
    } else {
        unsetenv("TMPDIR");
    }
    tu_rmtree(tmp);
    free(tmp);
    free(json);
    free(dir);
}

/* Before iOS 10.2 an encrypted backup had no ManifestKey and a plaintext Manifest.db (§4.2): made
 * here from the encrypted reference by decrypting its database and dropping the key. */
static char *copy_reference(const char *rel, char **tmp);

static void test_encrypted_without_manifest_key(void **state)
{
    (void)state;
    char *tmp = NULL, *json = NULL;
    char *dir = copy_reference(REF_ENC, &tmp);
    if (!dir)
        skip();
    free(ref_udid_dir(REF_ENC, &json));
    ferry_backup_t *b = rt_open(dir, "test1234");
    const ferry_manifest_plist_t *m = ferry_backup_manifest(b);
    assert_non_null(m);
    assert_true(m->has_manifest_key);
    uint8_t dbkey[32];
    uint32_t clas = 0;
    assert_int_equal(ferry_keybag_unwrap_prefixed(ferry_backup_keybag(b), m->manifest_key, dbkey, &clas), 0);
    assert_int_equal(clas, 4);
    ferry_backup_close(b);
    char *db = ferry_path_join(dir, "Manifest.db");
    assert_int_equal(ferry_manifest_db_decrypt_file(db, db, dbkey), 0);
    char *mp = ferry_path_join(dir, "Manifest.plist");
    plist_t p = NULL;
    assert_int_equal(ferry_plist_read_file(mp, 0, &p), 0);
    plist_dict_remove_item(p, "ManifestKey");
    assert_int_equal(ferry_plist_write_file(mp, p, 0), 0);
    plist_free(p);

    b = rt_open(dir, "test1234");
    assert_true(ferry_backup_is_encrypted(b));
    assert_false(ferry_backup_manifest(b)->has_manifest_key);
    rt_check_listing(b, json);
    ferry_backup_close(b);
    tu_rmtree(tmp);
    free(tmp);
    free(mp);
    free(db);
    free(json);
    free(dir);
}

/* ---- hostile rows ------------------------------------------------------------------------------ */

#define PLIST_ID "3320889f87c145bee648c0b5c5078fbf503e49a7" /* HomeDomain Library/Preferences/com.example.test.plist */
#define EMPTY_ID "271f5125c117e163df89773b7ad585edf63694f5"   /* HomeDomain Library/SMS/empty.txt */
#define SIXTEEN_ID "da43a82b060da6053e0f515c9c68eba9103b5736" /* HomeDomain Library/SMS/sixteen.bin */
#define BIG_ID "6aba4fac24a3cf23f40c40e08fa7cea596dc8462"     /* HomeDomain Library/SMS/big.bin */
#define SHARED_ID "677bef619713291101c515fb5e4ef77f496f8eb1"  /* AppDomainGroup-... shared.db */
#define CLOUD_ID "1e6c0783f9b33d00b152067a0661c8fc8841073f"   /* CloudConfigurationDetails.plist */

/* A private copy of a reference backup's <UDID> folder; *tmp gets the folder to remove. */
static char *copy_reference(const char *rel, char **tmp)
{
    char *src = ref_udid_dir(rel, NULL);
    if (!src)
        return NULL;
    *tmp = tu_mkdtemp();
    char *dst = ferry_path_join(*tmp, "backup");
    tu_copytree(src, dst);
    free(src);
    return dst;
}

static void exec_sql(const char *dir, const char *sql)
{
    char *path = ferry_path_join(dir, "Manifest.db");
    sqlite3 *s = NULL;
    assert_int_equal(sqlite3_open(path, &s), SQLITE_OK);
    char *err = NULL;
    if (sqlite3_exec(s, sql, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s: %s", sql, err);
    sqlite3_close(s);
    free(path);
}

/* Applies sql to a fresh copy of the unencrypted reference, then lists it: the one row refused must
 * give `code` with a message naming `named` and saying `reason`; every other row still lists. */
static void expect_refused(const char *sql, int code, const char *named, const char *reason)
{
    char *tmp = NULL;
    char *dir = copy_reference(REF_PLAIN, &tmp);
    if (!dir)
        skip();
    exec_sql(dir, sql);
    ferry_backup_t *b = rt_open(dir, NULL);
    ferry_backup_iter_t *it = NULL;
    assert_int_equal(ferry_backup_iter_new(b, NULL, &it), 0);
    const ferry_record_t *rec;
    int rc, ok = 0, refused = 0;
    while ((rc = ferry_backup_iter_next(it, &rec)) != 0) {
        if (rc > 0) {
            ok++;
            continue;
        }
        refused++;
        const char *msg = ferry_error_last();
        printf("refused as expected: %s\n", msg);
        assert_int_equal(rc, code);
        if (!strstr(msg, named))
            fail_msg("message does not name %s: %s", named, msg);
        if (!strstr(msg, reason))
            fail_msg("message does not say '%s': %s", reason, msg);
    }
    ferry_backup_iter_free(it);
    assert_int_equal(refused, code ? 1 : 0);
    assert_int_equal(ok, 17);
    ferry_backup_close(b);
    tu_rmtree(tmp);
    free(tmp);
    free(dir);
}

static void set_path_sql(char *sql, size_t n, const char *domain, const char *rel)
{
    char id[41];
    ferry_fileid(domain, rel, id);
    snprintf(sql, n, "UPDATE Files SET domain = '%s', relativePath = '%s', fileID = '%s' WHERE fileID = '" PLIST_ID "'",
             domain, rel, id);
}

static void test_hostile_relative_path_traversal(void **state)
{
    (void)state;
    char sql[512], id[41];
    set_path_sql(sql, sizeof sql, "HomeDomain", "../../etc/passwd");
    ferry_fileid("HomeDomain", "../../etc/passwd", id);
    expect_refused(sql, FERRY_EUNSAFE, id, "'..' component");
}

static void test_hostile_absolute_path(void **state)
{
    (void)state;
    char sql[512], id[41];
    set_path_sql(sql, sizeof sql, "HomeDomain", "/etc/passwd");
    ferry_fileid("HomeDomain", "/etc/passwd", id);
    expect_refused(sql, FERRY_EUNSAFE, id, "absolute");
}

static void test_hostile_domain_with_slash(void **state)
{
    (void)state;
    char sql[512], id[41];
    set_path_sql(sql, sizeof sql, "Home/../Domain", "Library/Preferences/com.example.test.plist");
    ferry_fileid("Home/../Domain", "Library/Preferences/com.example.test.plist", id);
    expect_refused(sql, FERRY_EUNSAFE, id, "contains '/'");
}

static void test_hostile_fileid_mismatch(void **state)
{
    (void)state;
    char sql[512], id[41];
    ferry_fileid("HomeDomain", "something/else", id);
    snprintf(sql, sizeof sql, "UPDATE Files SET fileID = '%s' WHERE fileID = '" PLIST_ID "'", id);
    expect_refused(sql, FERRY_EUNSAFE, id, "does not match");
}

static void test_hostile_fileid_upper_case_and_non_hex(void **state)
{
    (void)state;
    expect_refused("UPDATE Files SET fileID = upper(fileID) WHERE fileID = '" PLIST_ID "'", FERRY_EUNSAFE,
                   "3320889F87C145BEE648C0B5C5078FBF503E49A7", "lower-case");
    expect_refused("UPDATE Files SET fileID = 'g' || substr(fileID, 2) WHERE fileID = '" PLIST_ID "'", FERRY_EUNSAFE,
                   "g320889f87c145bee648c0b5c5078fbf503e49a7", "hexadecimal");
    expect_refused("UPDATE Files SET fileID = fileID || '00' WHERE fileID = '" PLIST_ID "'", FERRY_EUNSAFE,
                   PLIST_ID, "40 hexadecimal");
}

static void test_hostile_mbfile_relative_path_differs(void **state)
{
    (void)state;
    expect_refused("UPDATE Files SET file = (SELECT file FROM Files WHERE fileID = '" EMPTY_ID "') "
                   "WHERE fileID = '" PLIST_ID "'",
                   FERRY_EUNSAFE, PLIST_ID, "differs");
}

static void test_hostile_flags_disagree_with_mode(void **state)
{
    (void)state;
    char sql[256], id[41];
    ferry_fileid("HomeDomain", "Library", id);
    snprintf(sql, sizeof sql, "UPDATE Files SET flags = 1 WHERE fileID = '%s'", id);
    expect_refused(sql, FERRY_EFORMAT, id, "disagrees with Mode");
    expect_refused("UPDATE Files SET flags = 16 WHERE fileID = '" PLIST_ID "'", FERRY_EFORMAT, PLIST_ID, "flags 16");
}

static void test_hostile_garbage_and_null_file(void **state)
{
    (void)state;
    expect_refused("UPDATE Files SET file = randomblob(300) WHERE fileID = '" PLIST_ID "'", FERRY_EFORMAT, PLIST_ID,
                   "malformed MBFile");
    expect_refused("UPDATE Files SET file = X'' WHERE fileID = '" PLIST_ID "'", FERRY_EFORMAT, PLIST_ID,
                   "malformed MBFile");
    expect_refused("UPDATE Files SET file = 'text' WHERE fileID = '" PLIST_ID "'", FERRY_EFORMAT, PLIST_ID,
                   "not a blob");
    /* NULL `file`: a placeholder row, skipped silently (17 rows, nothing refused) */
    expect_refused("UPDATE Files SET file = NULL WHERE fileID = '" PLIST_ID "'", 0, "", "");
}

static void test_not_a_manifest_db(void **state)
{
    (void)state;
    char *tmp = NULL;
    char *dir = copy_reference(REF_PLAIN, &tmp);
    if (!dir)
        skip();
    char *db = ferry_path_join(dir, "Manifest.db");
    uint8_t junk[4096];
    assert_int_equal(ferry_random_bytes(junk, sizeof junk), 0);
    assert_int_equal(ferry_file_write_atomic(db, junk, sizeof junk, 0600), 0);
    ferry_backup_t *b = NULL;
    assert_int_equal(ferry_backup_open(dir, NULL, &b), FERRY_EFORMAT);
    assert_non_null(strstr(ferry_error_last(), "is not a Manifest.db"));
    assert_non_null(strstr(ferry_error_last(), db));
    unlink(db);
    assert_int_equal(ferry_backup_open(dir, NULL, &b), FERRY_ENOTFOUND);
    assert_non_null(strstr(ferry_error_last(), "no Manifest.db"));
    tu_rmtree(tmp);
    free(tmp);
    free(db);
    free(dir);

    /* an encrypted database that is not a multiple of 16 bytes */
    dir = copy_reference(REF_ENC, &tmp);
    db = ferry_path_join(dir, "Manifest.db");
    assert_int_equal(truncate(db, 45072 - 5), 0);
    ferry_credentials_t cred = {.password = "test1234", .password_len = 8};
    assert_int_equal(ferry_backup_open(dir, &cred, &b), FERRY_EFORMAT);
    assert_non_null(strstr(ferry_error_last(), "multiple of 16"));
    tu_rmtree(tmp);
    free(tmp);
    free(db);
    free(dir);
}

/* ---- hostile blobs ----------------------------------------------------------------------------- */

static char *blob_at(const char *dir, const char *id)
{
    char rel[64];
    snprintf(rel, sizeof rel, "%.2s/%s", id, id);
    return ferry_path_join(dir, rel);
}

static void lookup(ferry_backup_t *b, const char *domain, const char *rel, ferry_record_t *rec)
{
    if (ferry_backup_lookup(b, domain, rel, rec) != 0)
        fail_msg("lookup %s/%s: %s", domain, rel, ferry_error_last());
}

static void test_hostile_encrypted_blobs(void **state)
{
    (void)state;
    char *tmp = NULL;
    char *dir = copy_reference(REF_ENC, &tmp);
    if (!dir)
        skip();
    char *big = blob_at(dir, BIG_ID), *shared = blob_at(dir, SHARED_ID), *plist = blob_at(dir, PLIST_ID);
    char *empty = blob_at(dir, EMPTY_ID), *cloud = blob_at(dir, CLOUD_ID);
    assert_int_equal(truncate(big, 20), 0);
    /* flip the last byte: the last plaintext block becomes garbage, so its padding is invalid */
    int fd = open(shared, O_RDWR);
    assert_true(fd >= 0);
    uint8_t c;
    assert_int_equal(pread(fd, &c, 1, 4111), 1);
    c ^= 0xff;
    assert_int_equal(pwrite(fd, &c, 1, 4111), 1);
    close(fd);
    assert_int_equal(unlink(plist), 0);
    assert_int_equal(symlink("../27/" EMPTY_ID, plist), 0);
    assert_int_equal(unlink(empty), 0);
    assert_int_equal(unlink(cloud), 0);
    char *bucket = ferry_path_join(dir, "da"), *moved = ferry_path_join(dir, "da-real");
    assert_int_equal(rename(bucket, moved), 0);
    assert_int_equal(symlink("da-real", bucket), 0);

    ferry_backup_t *b = rt_open(dir, "test1234");
    ferry_record_t rec;
    ferry_file_reader_t *r = NULL;
    uint8_t *data;
    size_t len;

    lookup(b, "HomeDomain", "Library/SMS/big.bin", &rec);
    assert_int_equal(ferry_backup_file_open(b, &rec, 1, &r), FERRY_EINTEGRITY);
    assert_non_null(strstr(ferry_error_last(), "truncated blob"));
    assert_non_null(strstr(ferry_error_last(), "Library/SMS/big.bin"));
    assert_int_equal(ferry_backup_file_open(b, &rec, 0, &r), FERRY_EINTEGRITY); /* not a size question */
    ferry_record_clear(&rec);

    lookup(b, "AppDomainGroup-group.com.example.shared", "shared.db", &rec);
    assert_int_equal(rt_read_file(b, &rec, 1, &data, &len), FERRY_EINTEGRITY);
    assert_non_null(strstr(ferry_error_last(), "shared.db"));
    printf("flipped byte: %s\n", ferry_error_last());
    free(data);
    assert_int_equal(rt_read_file(b, &rec, 0, &data, &len), FERRY_EINTEGRITY);
    free(data);
    /* the error sticks: a caller reading again gets it again */
    assert_int_equal(ferry_backup_file_open(b, &rec, 1, &r), 0);
    uint8_t buf[8192];
    ssize_t n;
    while ((n = ferry_file_reader_read(r, buf, sizeof buf)) > 0)
        ;
    assert_int_equal(n, FERRY_EINTEGRITY);
    assert_int_equal(ferry_file_reader_read(r, buf, sizeof buf), FERRY_EINTEGRITY);
    assert_non_null(strstr(ferry_error_last(), "shared.db"));
    ferry_file_reader_close(r);
    ferry_record_clear(&rec);

    lookup(b, "HomeDomain", "Library/Preferences/com.example.test.plist", &rec);
    assert_int_equal(ferry_backup_file_open(b, &rec, 1, &r), FERRY_EUNSAFE);
    assert_non_null(strstr(ferry_error_last(), "symbolic link"));
    assert_non_null(strstr(ferry_error_last(), PLIST_ID));
    ferry_record_clear(&rec);

    lookup(b, "HomeDomain", "Library/SMS/sixteen.bin", &rec);
    assert_int_equal(ferry_backup_file_open(b, &rec, 1, &r), FERRY_EUNSAFE);
    assert_non_null(strstr(ferry_error_last(), "Library/SMS/sixteen.bin"));
    ferry_record_clear(&rec);

    /* a missing blob with Size 0 reads as empty; with Size > 0 it is reported */
    lookup(b, "HomeDomain", "Library/SMS/empty.txt", &rec);
    assert_int_equal(rt_read_file(b, &rec, 1, &data, &len), 0);
    assert_int_equal(len, 0);
    free(data);
    ferry_record_clear(&rec);
    lookup(b, "SysSharedContainerDomain-systemgroup.com.apple.configurationprofiles",
           "Library/ConfigurationProfiles/CloudConfigurationDetails.plist", &rec);
    assert_int_equal(ferry_backup_file_open(b, &rec, 1, &r), FERRY_EINTEGRITY);
    assert_non_null(strstr(ferry_error_last(), "missing blob"));
    assert_non_null(strstr(ferry_error_last(), CLOUD_ID));
    ferry_record_clear(&rec);

    /* the untouched file still reads */
    lookup(b, "AppDomain-com.example.app", "Documents/note éè 日本.txt", &rec);
    assert_int_equal(rt_read_file(b, &rec, 1, &data, &len), 0);
    assert_int_equal(len, 13);
    free(data);
    char *path = ferry_backup_blob_path(b, &rec);
    char *want = blob_at(dir, "480a9a99407c4bea45b088a0f7865f4f21360e98");
    assert_string_equal(path, want);
    free(path);
    free(want);
    /* a record altered by a caller gets no blob path */
    rec.fileid[0] = 'X';
    assert_null(ferry_backup_blob_path(b, &rec));
    ferry_record_clear(&rec);

    ferry_backup_close(b);
    tu_rmtree(tmp);
    free(tmp);
    free(dir);
    free(big);
    free(shared);
    free(plist);
    free(empty);
    free(cloud);
    free(bucket);
    free(moved);
}

/* Plaintext blobs: a length different from Size is an error when strict, a warning otherwise. */
static void test_plaintext_size_mismatch(void **state)
{
    (void)state;
    char *tmp = NULL;
    char *dir = copy_reference(REF_PLAIN, &tmp);
    if (!dir)
        skip();
    char *sixteen = blob_at(dir, SIXTEEN_ID);
    int fd = open(sixteen, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "x", 1), 1);
    close(fd);
    ferry_backup_t *b = rt_open(dir, NULL);
    ferry_record_t rec;
    lookup(b, "HomeDomain", "Library/SMS/sixteen.bin", &rec);
    uint8_t *data;
    size_t len;
    assert_int_equal(rt_read_file(b, &rec, 1, &data, &len), FERRY_EINTEGRITY);
    assert_non_null(strstr(ferry_error_last(), "size mismatch"));
    assert_non_null(strstr(ferry_error_last(), "HomeDomain/Library/SMS/sixteen.bin"));
    assert_non_null(strstr(ferry_error_last(), "16 bytes"));
    assert_non_null(strstr(ferry_error_last(), "17"));
    free(data);
    unsigned long w = ferry_log_warning_count();
    assert_int_equal(rt_read_file(b, &rec, 0, &data, &len), 0);
    assert_int_equal(len, 17);
    assert_int_equal(ferry_log_warning_count(), w + 1);
    free(data);
    ferry_record_clear(&rec);

    /* a blob that is a directory or a FIFO is refused, not opened */
    char *big = blob_at(dir, BIG_ID);
    assert_int_equal(unlink(big), 0);
    assert_int_equal(mkfifo(big, 0600), 0);
    lookup(b, "HomeDomain", "Library/SMS/big.bin", &rec);
    ferry_file_reader_t *r = NULL;
    assert_int_equal(ferry_backup_file_open(b, &rec, 1, &r), FERRY_EUNSAFE);
    assert_non_null(strstr(ferry_error_last(), "not a regular file"));
    ferry_record_clear(&rec);
    ferry_backup_close(b);
    tu_rmtree(tmp);
    free(tmp);
    free(big);
    free(sixteen);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mvt_real_backup_strict),
        cmocka_unit_test(test_mvt_lenient_and_lookup),
        cmocka_unit_test(test_reference_unencrypted),
        cmocka_unit_test(test_reference_encrypted_dpic1000),
        cmocka_unit_test(test_reference_negative_unpadded_manifest_db),
        cmocka_unit_test(test_passwords_and_kek),
        cmocka_unit_test(test_encrypted_without_manifest_key),
        cmocka_unit_test(test_hostile_relative_path_traversal),
        cmocka_unit_test(test_hostile_absolute_path),
        cmocka_unit_test(test_hostile_domain_with_slash),
        cmocka_unit_test(test_hostile_fileid_mismatch),
        cmocka_unit_test(test_hostile_fileid_upper_case_and_non_hex),
        cmocka_unit_test(test_hostile_mbfile_relative_path_differs),
        cmocka_unit_test(test_hostile_flags_disagree_with_mode),
        cmocka_unit_test(test_hostile_garbage_and_null_file),
        cmocka_unit_test(test_not_a_manifest_db),
        cmocka_unit_test(test_hostile_encrypted_blobs),
        cmocka_unit_test(test_plaintext_size_mismatch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
