/*
 * test_fuzz_regressions.c: the inputs the libFuzzer targets of fuzz/ found to break ferry, each
 * embedded here (small generated inputs, not fixtures) with the behaviour the fix gives:
 *   1. A plist string holding a raw NUL byte (an XML plist carries it as is) made libplist 2.2's
 *      plist_get_string_val assert and abort the process (fuzz_plist: Manifest.plist, Status.plist);
 *      ferry now refuses it as FERRY_EFORMAT, and `ferry verify` reports it as a problem.
 *   2. A decoded MBFile whose path or symlink target is not UTF-8 came out of an encode/decode round
 *      trip with other bytes (libplist converts non-ASCII strings through UTF-16); the encoder now
 *      refuses what it cannot write faithfully, and writes valid UTF-8 unchanged (fuzz_mbfile).
 *   3. A Manifest.db whose indexes disagree with their rows (two bytes changed in a copy of the
 *      reference fixture: one domain index key, one relativePath index rowid) made an iteration
 *      interleaved with lookups run forever: after the lookup hit the damaged index, SQLite moved the
 *      iterator's index cursor back by key (fuzz_backup timeout). The iterator now reads the table,
 *      not the indexes, so it ends. Only this case needs a fixture (skipped when absent): the
 *      damage is given as two byte patches, not as a copy.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ferry/backup.h"
#include "ferry/policy.h"

#define REFERENCE_DB "reference/unencrypted/00008030-000A1B2C3D4E5F60/Manifest.db"

/* fuzz_plist crash, minimised: <string>1\0</string> under a key every reader reads as a string. */
static const uint8_t nul_version_plist[] = "<plist><dict><key>Version</key><string>1\0</string></dict></plist>";
static const uint8_t nul_lockdown_plist[] =
    "<plist><dict><key>Lockdown</key><dict><key>ProductVersion</key><string>\xff\xff_\x80\0\x02\xee\xa0"
    "10.3</string></dict></dict></plist>";
static const uint8_t nul_snapshot_plist[] =
    "<plist><dict><key>SnapshotState</key><string>finished\0</string></dict></plist>";

/* The same libplist 2.2 abort reached through a restrictions payload (src/policy/restrictions.c)
 * and through any string node: ferry_plist_string_dup refuses it instead. */
static const uint8_t nul_restrictions_plist[] =
    "<plist><dict><key>PayloadType</key><string>com.apple.applicationaccess</string>"
    "<key>ratingRegion</key><string>us\0x</string></dict></plist>";

static void test_string_node_with_nul_is_refused_not_aborted(void **state)
{
    (void)state;
    plist_t p = NULL;
    assert_int_equal(ferry_plist_parse(nul_restrictions_plist, sizeof nul_restrictions_plist - 1, &p, "input"), 0);
    assert_null(ferry_plist_string_dup(plist_dict_get_item(p, "ratingRegion")));
    char *type = ferry_plist_string_dup(plist_dict_get_item(p, "PayloadType"));
    assert_string_equal(type, "com.apple.applicationaccess");
    free(type);
    plist_t payloads[2] = {p, p};
    plist_t combined = NULL, multi = NULL;
    ferry_policy_restrictions_combine(payloads, 2, &combined, &multi); /* must return, whatever it says */
    plist_free(combined);
    plist_free(multi);
    plist_free(p);
}

static void write_bytes(const char *path, const uint8_t *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void test_manifest_plist_string_with_nul_is_format_error(void **state)
{
    const uint8_t *inputs[] = {nul_version_plist, nul_lockdown_plist};
    size_t lens[] = {sizeof nul_version_plist - 1, sizeof nul_lockdown_plist - 1};
    for (size_t i = 0; i < 2; i++) {
        plist_t p = NULL;
        assert_int_equal(ferry_plist_parse(inputs[i], lens[i], &p, "regression input"), 0);
        ferry_manifest_plist_t m;
        assert_int_equal(ferry_manifest_plist_from_plist(p, &m), FERRY_EFORMAT); /* takes p */
        assert_non_null(strstr(ferry_error_last(), "NUL byte"));
    }
}

static void test_status_plist_string_with_nul_is_format_error(void **state)
{
    char *dir = tu_mkdtemp();
    char *path = ferry_path_join(dir, "Status.plist");
    write_bytes(path, nul_version_plist, sizeof nul_version_plist - 1);
    ferry_status_plist_t s;
    assert_int_equal(ferry_status_plist_read(path, &s), FERRY_EFORMAT);
    assert_non_null(strstr(ferry_error_last(), "'Version'"));
    write_bytes(path, nul_snapshot_plist, sizeof nul_snapshot_plist - 1);
    assert_int_equal(ferry_status_plist_read(path, &s), FERRY_EFORMAT);
    assert_non_null(strstr(ferry_error_last(), "'SnapshotState'"));
    free(path);
    tu_rmtree(dir);
    free(dir);
}

static int snapshot_problems;

static void count_snapshot_problem(void *ctx, ferry_verify_severity_t sev, const char *what, const char *msg)
{
    if (sev == FERRY_VERIFY_PROBLEM && strstr(msg, "SnapshotState") && strstr(msg, "NUL"))
        snapshot_problems++;
}

static void test_verify_reports_snapshot_state_with_nul(void **state)
{
    char *dir = tu_mkdtemp();
    char *udid = ferry_path_join(dir, "udid");
    ferry_writer_opts_t o;
    memset(&o, 0, sizeof o);
    o.ident.udid = "00008030-00F0220000000001";
    o.ident.product_type = "iPhone15,2";
    o.ident.product_version = "17.5.1";
    o.ident.build_version = "21F90";
    o.ident.serial_number = "F00REGRESSION";
    o.ident.device_name = "Regression iPhone";
    o.date = 1700000000;
    ferry_writer_t *w = NULL;
    assert_int_equal(ferry_writer_open(udid, &o, &w), 0);
    assert_int_equal(ferry_writer_add_file_mem(w, "HomeDomain", "Library/a.txt", NULL, "abc", 3), 0);
    assert_int_equal(ferry_writer_commit(w), 0);
    ferry_writer_free(w);
    char *status = ferry_path_join(udid, "Status.plist");
    write_bytes(status, nul_snapshot_plist, sizeof nul_snapshot_plist - 1);
    ferry_verify_opts_t vo = {1};
    ferry_verify_report_t report;
    snapshot_problems = 0;
    assert_int_equal(ferry_backup_verify(udid, NULL, &vo, count_snapshot_problem, NULL, &report), FERRY_EINTEGRITY);
    assert_int_equal(snapshot_problems, 1);
    free(status);
    free(udid);
    tu_rmtree(dir);
    free(dir);
}

static void test_mbfile_encoder_refuses_what_it_cannot_write(void **state)
{
    /* the fuzz_mbfile finding: a symlink target with a 0xff byte; then other malformed UTF-8 */
    static const char *const bad[] = {"Libra\xffy/WebKit", "a\xc0\xaf" "b", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                                      "\xe2\x82", "\xc3"};
    ferry_mbfile_t f;
    uint8_t *enc = NULL;
    size_t len = 0;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&f, 0, sizeof f);
        f.relative_path = "Library/link";
        f.target = (char *)bad[i];
        f.mode = 0120755;
        assert_int_equal(ferry_mbfile_encode(&f, &enc, &len), FERRY_EINVAL);
        assert_null(enc);
        assert_non_null(strstr(ferry_error_last(), "symlink target is not valid UTF-8"));
        f.relative_path = (char *)bad[i];
        f.target = NULL;
        f.mode = 0100644;
        assert_int_equal(ferry_mbfile_encode(&f, &enc, &len), FERRY_EINVAL);
        assert_non_null(strstr(ferry_error_last(), "path is not valid UTF-8"));
    }
}

static void test_mbfile_encoder_keeps_valid_utf8(void **state)
{
    static const char *const good[] = {"Documents/note \xc3\xa9\xc3\xa8 \xe6\x97\xa5\xe6\x9c\xac.txt",
                                       "emoji \xf0\x9f\x98\x80", "max \xf4\x8f\xbf\xbf", "\xef\xbf\xbd", ""};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        ferry_mbfile_t f, back;
        memset(&f, 0, sizeof f);
        f.relative_path = (char *)good[i];
        f.target = (char *)good[i];
        f.mode = 0120755;
        uint8_t *enc = NULL;
        size_t len = 0;
        assert_int_equal(ferry_mbfile_encode(&f, &enc, &len), 0);
        assert_int_equal(ferry_mbfile_decode(enc, len, &back), 0);
        assert_string_equal(back.relative_path, good[i]);
        assert_string_equal(back.target, good[i]);
        ferry_mbfile_clear(&back);
        free(enc);
    }
}

/* The two bytes of the fuzz_backup timeout input that differ from the fixture (found by delta
 * debugging the 882 bytes libFuzzer had changed): {offset, byte in the fixture, byte in the input}. */
static const struct {
    long off;
    uint8_t from, to;
} damaged_index_patch[] = {
    {16313, 'e', 'd'}, /* FilesDomainIdx: "AppDomain-com.example.app" -> "...dxample..." (out of order) */
    {20465, 0x01, 0x00}, /* FilesRelativePathIdx: the rowid of "Documents" becomes NULL */
};

static void test_iteration_with_lookups_ends_on_damaged_indexes(void **state)
{
    TU_FIXTURE_OR_SKIP(fixture, REFERENCE_DB);
    char *dir = tu_mkdtemp();
    char *path = ferry_path_join(dir, "Manifest.db");
    size_t len = 0;
    uint8_t *db_bytes = tu_read_file(fixture, &len);
    for (size_t i = 0; i < sizeof damaged_index_patch / sizeof damaged_index_patch[0]; i++) {
        assert_true((size_t)damaged_index_patch[i].off < len);
        assert_int_equal(db_bytes[damaged_index_patch[i].off], damaged_index_patch[i].from);
        db_bytes[damaged_index_patch[i].off] = damaged_index_patch[i].to;
    }
    write_bytes(path, db_bytes, len);

    ferry_manifest_db_t *db = NULL;
    assert_int_equal(ferry_manifest_db_open(path, &db), 0);
    ferry_db_iter_t *it = NULL;
    assert_int_equal(ferry_db_iter_new(db, NULL, &it), 0);
    ferry_db_row_t row;
    int rc;
    unsigned rows = 0;
    while ((rc = ferry_db_iter_next(it, &row)) != 0 && rows < 1000) {
        if (rc < 0)
            continue;
        rows++;
        /* a lookup of the row just read, on the same connection, as ferry_backup_lookup does */
        char *domain = strndup(row.domain, row.domain_len), *rel = strndup(row.relpath, row.relpath_len);
        ferry_db_iter_t *look = NULL;
        if (ferry_db_iter_new_path(db, domain, rel, &look) == 0) {
            ferry_db_row_t r2;
            while (ferry_db_iter_next(look, &r2) > 0)
                ;
            ferry_db_iter_free(look);
        }
        free(domain);
        free(rel);
    }
    assert_int_equal(rows, 18); /* every row once (the fixture has 18), and the iteration ended */
    ferry_db_iter_free(it);
    ferry_manifest_db_close(db);
    free(db_bytes);
    free(path);
    free(fixture);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    ferry_log_set_level(FERRY_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_manifest_plist_string_with_nul_is_format_error),
        cmocka_unit_test(test_string_node_with_nul_is_refused_not_aborted),
        cmocka_unit_test(test_status_plist_string_with_nul_is_format_error),
        cmocka_unit_test(test_verify_reports_snapshot_state_with_nul),
        cmocka_unit_test(test_mbfile_encoder_refuses_what_it_cannot_write),
        cmocka_unit_test(test_mbfile_encoder_keeps_valid_utf8),
        cmocka_unit_test(test_iteration_with_lookups_ends_on_damaged_indexes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
