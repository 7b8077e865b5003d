/*
 * test_common.c: the foundation: error messages, path checks on hostile names, atomic writes and the
 * fileID hash helper.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ferry/common.h"

static void test_error_wrap_keeps_cause(void **state)
{
    (void)state;
    assert_int_equal(ferry_error_set(FERRY_EFORMAT, "key '%s' is missing", "Size"), FERRY_EFORMAT);
    ferry_error_wrap(FERRY_EFORMAT, "record %s", "abc");
    assert_string_equal(ferry_error_last(), "record abc: key 'Size' is missing");
    assert_int_equal(ferry_error_code(), FERRY_EFORMAT);
    assert_string_equal(ferry_error_name(FERRY_EPASSWORD), "password");
}

static void test_relative_path_checks(void **state)
{
    (void)state;
    assert_int_equal(ferry_path_check_relative("", 0), 0);
    assert_int_equal(ferry_path_check_relative("Library/SMS/sms.db", 18), 0);
    assert_int_equal(ferry_path_check_relative("a/..b/c..", 9), 0);
    assert_int_equal(ferry_path_check_relative("/etc/passwd", 11), FERRY_EUNSAFE);
    assert_int_equal(ferry_path_check_relative("a/../../x", 9), FERRY_EUNSAFE);
    assert_int_equal(ferry_path_check_relative("..", 2), FERRY_EUNSAFE);
    assert_int_equal(ferry_path_check_relative("a/./b", 5), FERRY_EUNSAFE);
    assert_int_equal(ferry_path_check_relative("a//b", 4), FERRY_EUNSAFE);
    assert_int_equal(ferry_path_check_relative("a/", 2), FERRY_EUNSAFE);
    assert_int_equal(ferry_path_check_relative("a\0b", 3), FERRY_EUNSAFE);
    assert_non_null(strstr(ferry_error_last(), "NUL"));
}

static void test_domain_checks(void **state)
{
    (void)state;
    assert_int_equal(ferry_path_check_domain("HomeDomain", 10), 0);
    assert_int_equal(ferry_path_check_domain("AppDomain-com.example.app", 25), 0);
    assert_int_equal(ferry_path_check_domain("", 0), FERRY_EUNSAFE);
    assert_int_equal(ferry_path_check_domain("..", 2), FERRY_EUNSAFE);
    assert_int_equal(ferry_path_check_domain("Home/../x", 9), FERRY_EUNSAFE);
}

static void test_atomic_write_replaces_and_sets_mode(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = ferry_path_join(dir, "f.bin");
    assert_int_equal(ferry_file_write_atomic(path, "one", 3, 0600), 0);
    assert_int_equal(ferry_file_write_atomic(path, "second", 6, 0600), 0);
    size_t len;
    uint8_t *buf = tu_read_file(path, &len);
    assert_int_equal(len, 6);
    assert_memory_equal(buf, "second", 6);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    free(buf);
    free(path);
    tu_rmtree(dir);
    free(dir);
}

static void test_fileid_vectors(void **state)
{
    (void)state;
    char out[41];
    ferry_sha1_pair_hex("HomeDomain", 10, "Library/SMS/sms.db", 18, out);
    assert_string_equal(out, "3d0d7e5fb2ce288813306e4d4636395e047a3d28");
    ferry_sha1_pair_hex("HomeDomain", 10, "", 0, out);
    assert_string_equal(out, "70765829101933f25994c71bbee6dfd685535bff");
}

static void test_hex_roundtrip(void **state)
{
    (void)state;
    uint8_t in[3] = {0x00, 0xab, 0xff}, back[3];
    char hex[7];
    ferry_hex_encode(in, 3, hex);
    assert_string_equal(hex, "00abff");
    assert_int_equal(ferry_hex_decode("00ABff", back, 3), 0);
    assert_memory_equal(in, back, 3);
    assert_int_equal(ferry_hex_decode("zz0000", back, 3), FERRY_EFORMAT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_wrap_keeps_cause),
        cmocka_unit_test(test_relative_path_checks),
        cmocka_unit_test(test_domain_checks),
        cmocka_unit_test(test_atomic_write_replaces_and_sets_mode),
        cmocka_unit_test(test_fileid_vectors),
        cmocka_unit_test(test_hex_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
