/*
 * test_reader_slow.c: the reader on backups whose keybag uses DPIC 10,000,000 (about 2.3 s of key
 * derivation each): the reference backup encrypted with "test1234", and pyiosbackup's synthetic
 * backup (password "0000"), which is lenient input: flags 0 classified by Mode, no ProtectionClass
 * (the class comes from the EncryptionKey prefix), a nested NS.data UID, an unpadded Manifest.db,
 * keybag classes in reverse order and empty Info/Status plists.
 */
#include "reader_testlib.h"

static void test_reference_encrypted_dpic10M(void **state)
{
    (void)state;
    rt_check_reference("encrypted_pw_test1234_dpic10M", "test1234");
}

static void test_pyiosbackup_synthetic(void **state)
{
    (void)state;
    TU_FIXTURE_OR_SKIP(dir, "third-party/pyiosbackup-synthetic-pw0000");
    ferry_backup_t *b = rt_open(dir, "0000");
    assert_true(ferry_backup_is_encrypted(b));
    const ferry_status_plist_t *st = ferry_backup_status(b);
    assert_non_null(st);
    assert_null(st->snapshot_state); /* the reader does not insist on it; `ferry verify` reports it */

    ferry_backup_iter_t *it = NULL;
    assert_int_equal(ferry_backup_iter_new(b, NULL, &it), 0);
    const ferry_record_t *rec;
    int n = 0, rc;
    while ((rc = ferry_backup_iter_next(it, &rec)) != 0) {
        if (rc < 0)
            fail_msg("refused: %s", ferry_error_last());
        n++;
        assert_string_equal(rec->fileid, "5727bd1c5fa1055e15d8b4a75a74793c84b5ffdc");
        assert_string_equal(rec->domain, "MyTestDomain");
        assert_string_equal(rec->relative_path, "Media/Test.txt");
        assert_int_equal(rec->flags, FERRY_FLAG_FILE); /* Files.flags is 0: from Mode 0100755 */
        assert_false(rec->mb.has_protection_class);
        assert_int_equal(rec->mb.size, 9);
        uint8_t *data;
        size_t len;
        if (rt_read_file(b, rec, 1, &data, &len) != 0)
            fail_msg("reading: %s", ferry_error_last());
        assert_int_equal(len, 9);
        assert_memory_equal(data, "Test data", 9);
        free(data);
    }
    assert_int_equal(n, 1);
    ferry_backup_iter_free(it);
    ferry_backup_close(b);

    /* any other password fails before anything is decrypted */
    ferry_credentials_t cred = {.password = "0001", .password_len = 4};
    assert_int_equal(ferry_backup_open(dir, &cred, &b), FERRY_EPASSWORD);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_encrypted_dpic10M),
        cmocka_unit_test(test_pyiosbackup_synthetic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
