/*
 * test_host_paths.c: the host's DeviceLink path confinement (host_dl_path, spec/device-protocol.md
 * §11.3): a path a device names must be relative, without "." or ".." or empty components, at most
 * 4096 bytes, and must not pass through a symbolic link; the errno mapping of status responses
 * (ENOENT -6, EEXIST -7, else -errno); the plain messages of MBErrorDomain codes; and the cancel flag.
 * The DeviceLink loop itself runs against the emulator in tests/integration/test_host_*.sh.
 */
#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/host/host_internal.h"

static host_dl_t dl_for(const char *root, ferry_host_result_t *res)
{
    host_dl_t dl = {.udid = "UNIT", .root = root, .res = res};
    return dl;
}

static void test_path_accepts_backup_paths(void **state)
{
    (void)state;
    char *root = tu_mkdtemp();
    ferry_host_result_t res = {0};
    host_dl_t dl = dl_for(root, &res);
    char *p = NULL;
    assert_int_equal(host_dl_path(&dl, "0123abcd/Manifest.plist", &p), 0);
    char want[4200];
    snprintf(want, sizeof want, "%s/0123abcd/Manifest.plist", root);
    assert_string_equal(p, want);
    free(p);
    assert_int_equal(host_dl_path(&dl, "UDID/0a/0a6add080123e69c8052f33fa2b8d1a3f541bb52", &p), 0);
    free(p);
    tu_rmtree(root);
    free(root);
}

static void test_path_refuses_escapes(void **state)
{
    (void)state;
    char *root = tu_mkdtemp();
    ferry_host_result_t res = {0};
    host_dl_t dl = dl_for(root, &res);
    static const char *bad[] = {"../x", "a/../../x", "/etc/passwd", "a//b", "a/./b", ".", "..", "", "a/", "a/.."};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *p = (char *)1;
        assert_int_equal(host_dl_path(&dl, bad[i], &p), FERRY_EUNSAFE);
        assert_null(p);
        assert_non_null(strstr(ferry_error_last(), "UNIT"));
    }
    char *longp = malloc(5000);
    memset(longp, 'a', 4999);
    longp[4999] = '\0';
    char *p = NULL;
    assert_int_equal(host_dl_path(&dl, longp, &p), FERRY_EUNSAFE);
    free(longp);
    tu_rmtree(root);
    free(root);
}

static void test_path_refuses_symlinks(void **state)
{
    (void)state;
    char *root = tu_mkdtemp();
    char link[4200], dir[4200];
    snprintf(link, sizeof link, "%s/UDID", root);
    assert_int_equal(symlink("/tmp", link), 0);
    ferry_host_result_t res = {0};
    host_dl_t dl = dl_for(root, &res);
    char *p = NULL;
    assert_int_equal(host_dl_path(&dl, "UDID/Status.plist", &p), FERRY_EUNSAFE);
    assert_int_equal(host_dl_path(&dl, "UDID", &p), FERRY_EUNSAFE);
    /* a real folder on the way, and a name that does not exist yet, are fine */
    snprintf(dir, sizeof dir, "%s/REAL", root);
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(host_dl_path(&dl, "REAL/new/file", &p), 0);
    free(p);
    tu_rmtree(root);
    free(root);
}

static void test_path_without_root(void **state)
{
    (void)state;
    ferry_host_result_t res = {0};
    host_dl_t dl = dl_for(NULL, &res);
    char *p = NULL;
    assert_int_equal(host_dl_path(&dl, "UDID/Status.plist", &p), FERRY_EINVAL);
    assert_null(p);
}

static void test_errno_codes(void **state)
{
    (void)state;
    assert_int_equal(host_dl_errno_code(ENOENT), -6);
    assert_int_equal(host_dl_errno_code(EEXIST), -7);
    assert_int_equal(host_dl_errno_code(EACCES), -EACCES);
    assert_int_equal(host_dl_errno_code(0), -1);
}

static void test_mberror_messages(void **state)
{
    (void)state;
    const char *generic = ferry_host_mberror_message(99999);
    assert_non_null(generic);
    static const int known[] = {105, 207, 211, 212};
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        assert_string_not_equal(ferry_host_mberror_message(known[i]), generic);
    assert_non_null(strstr(ferry_host_mberror_message(207), "password"));
    assert_non_null(strstr(ferry_host_mberror_message(211), "Find My"));
    assert_non_null(strstr(ferry_host_mberror_message(212), "Setup"));
    assert_non_null(strstr(ferry_host_mberror_message(105), "space"));
}

static void test_cancel_and_timeout(void **state)
{
    (void)state;
    volatile sig_atomic_t flag = 0;
    ferry_host_opts_t o = {.cancel = &flag};
    assert_int_equal(host_check_cancel(&o, "UNIT", "testing"), 0);
    flag = 1;
    assert_int_equal(host_check_cancel(&o, "UNIT", "testing"), FERRY_ECANCELED);
    assert_non_null(strstr(ferry_error_last(), "UNIT"));
    assert_int_equal(host_check_cancel(NULL, "UNIT", "testing"), 0);
    assert_int_equal(host_timeout_ms(NULL), HOST_DEFAULT_TIMEOUT_MS);
    o.timeout_ms = 1234;
    assert_int_equal(host_timeout_ms(&o), 1234);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_accepts_backup_paths), cmocka_unit_test(test_path_refuses_escapes),
        cmocka_unit_test(test_path_refuses_symlinks),     cmocka_unit_test(test_path_without_root),
        cmocka_unit_test(test_errno_codes),               cmocka_unit_test(test_mberror_messages),
        cmocka_unit_test(test_cancel_and_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
