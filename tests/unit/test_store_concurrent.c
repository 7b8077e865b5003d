/*
 * test_store_concurrent.c: several processes on one repository at once: two children back up two
 * devices (seed, rewrite, commit, repeatedly) while the parent prunes over and over. Whatever the
 * interleaving, every commit succeeds, every snapshot listed at any moment verifies, each device keeps
 * its newest snapshots, and no staging folder is left. Only the final state and the exit statuses are
 * checked: no timing.
 */
#include "store_tu.h"

#include <sys/wait.h>

#define UDID_A "00008030-00000000000000AA"
#define UDID_B "00008030-00000000000000BB"
#define ROUNDS 5

static void child_backups(const char *repo, const char *udid)
{
    ferry_store_t *st = NULL;
    if (ferry_store_open(repo, &st) != 0)
        _exit(2);
    for (unsigned i = 0; i < ROUNDS; i++) {
        ferry_staging_t *stg = NULL;
        if (ferry_store_begin(st, udid, &stg) != 0 || ferry_staging_seed(stg, NULL) != 0)
            _exit(3);
        char *dir = strdup(ferry_staging_backup_dir(stg));
        tu_rmtree(dir);
        stu_write_backup(dir, udid, 12, 3000, i, 0, 1);
        free(dir);
        ferry_commit_opts_t co = {.verify = 1};
        if (ferry_staging_commit(stg, &co, NULL) != 0) {
            fprintf(stderr, "commit %s %u: %s\n", udid, i, ferry_error_last());
            _exit(4);
        }
    }
    ferry_store_close(st);
    _exit(0);
}

static void test_two_devices_and_prune_at_once(void **state)
{
    (void)state;
    char *tmp = tu_mkdtemp();
    char *repo = ferry_path_join(tmp, "repo");
    ferry_store_t *st = NULL;
    assert_int_equal(ferry_store_open(repo, &st), 0);
    fflush(NULL);
    pid_t a = fork();
    assert_true(a >= 0);
    if (a == 0)
        child_backups(repo, UDID_A);
    pid_t b = fork();
    assert_true(b >= 0);
    if (b == 0)
        child_backups(repo, UDID_B);
    int alive = 2, status;
    while (alive > 0) {
        ferry_prune_report_t rep;
        assert_int_equal(ferry_store_prune(st, NULL, 2, &rep, NULL, NULL), 0);
        ferry_snapshot_info_t *v = NULL;
        size_t n = 0;
        assert_int_equal(ferry_store_list(st, NULL, &v, &n), 0);
        for (size_t i = 0; i < n; i++)
            stu_verify(st, v[i].id);
        free(v);
        pid_t done;
        while ((done = waitpid(-1, &status, WNOHANG)) > 0) {
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                fail_msg("a backup process failed (status %#x)", status);
            alive--;
        }
    }
    ferry_prune_report_t rep;
    assert_int_equal(ferry_store_prune(st, NULL, 2, &rep, NULL, NULL), 0);
    ferry_snapshot_info_t *v = NULL;
    size_t n = 0;
    assert_int_equal(ferry_store_list(st, NULL, &v, &n), 0);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++)
        stu_verify(st, v[i].id);
    free(v);
    /* each device's newest holds its last round's content */
    const char *udids[] = {UDID_A, UDID_B};
    for (int k = 0; k < 2; k++) {
        ferry_snapshot_info_t l;
        char *dir = NULL;
        size_t len, elen;
        assert_int_equal(ferry_store_latest(st, udids[k], &l), 0);
        assert_int_equal(ferry_store_snapshot_path(st, l.id, &dir), 0);
        uint8_t *got = stu_read(dir, "Documents/changed.txt", &len);
        uint8_t *exp = stu_content(0, ROUNDS - 1, 3000, &elen);
        assert_int_equal(len, elen);
        assert_memory_equal(got, exp, len);
        free(got);
        free(exp);
        free(dir);
    }
    char *staging = ferry_path_join(repo, ".staging");
    assert_int_equal(stu_count_entries(staging), 0);
    free(staging);
    ferry_store_close(st);
    tu_rmtree(tmp);
    free(repo);
    free(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_devices_and_prune_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
