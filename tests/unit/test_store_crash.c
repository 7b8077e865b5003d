/*
 * test_store_crash.c: kill -9 in the middle of committing a snapshot and of pruning. A child process
 * commits with FERRY_STORE_TEST_PAUSE naming a step, which makes it stop itself (SIGSTOP) exactly
 * there; the parent sees it stopped (waitpid WUNTRACED, no timing involved), kills it with SIGKILL, and
 * checks that no partial snapshot is visible (everything listed verifies, and the snapshot appears
 * only when the kill came after the rename), that the older snapshots are intact, and that the next
 * commit succeeds and leaves no staging folder behind.
 */
#include "store_tu.h"

#include <signal.h>
#include <sys/wait.h>

#define UDID "00008030-00C0FFEE00000001"

static char *g_tmp;

static size_t count_snapshots(ferry_store_t *st)
{
    ferry_snapshot_info_t *v = NULL;
    size_t n = 0;
    assert_int_equal(ferry_store_list(st, NULL, &v, &n), 0);
    for (size_t i = 0; i < n; i++)
        stu_verify(st, v[i].id);
    free(v);
    return n;
}

/* Runs fn in a child with FERRY_STORE_TEST_PAUSE=step, waits until it stops there, and kills it. */
static void run_and_kill(const char *repo, const char *step, void (*fn)(ferry_store_t *, unsigned), unsigned arg)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv("FERRY_STORE_TEST_PAUSE", step, 1);
        ferry_store_t *st = NULL;
        if (ferry_store_open(repo, &st) != 0)
            _exit(3);
        fn(st, arg);
        _exit(0); /* not reached when the step exists: the parent kills the stopped child */
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, WUNTRACED), pid);
    if (!WIFSTOPPED(status))
        fail_msg("the child did not stop at step %s (status %#x)", step, status);
    assert_int_equal(kill(pid, SIGKILL), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

static void child_commit(ferry_store_t *st, unsigned variant)
{
    ferry_staging_t *stg = NULL;
    if (ferry_store_begin(st, UDID, &stg) != 0)
        _exit(4);
    if (ferry_staging_seed(stg, NULL) != 0)
        _exit(5);
    /* a fresh backup written over the seeded one, the way a full backup would */
    char *dir = strdup(ferry_staging_backup_dir(stg));
    tu_rmtree(dir);
    stu_write_backup(dir, UDID, 20, 4000, variant, 0, 1);
    free(dir);
    ferry_staging_commit(stg, NULL, NULL);
}

static void child_prune(ferry_store_t *st, unsigned keep)
{
    ferry_prune_report_t rep;
    ferry_store_prune(st, NULL, keep, &rep, NULL, NULL);
}

static void test_kill_during_commit(void **state)
{
    (void)state;
    char *repo = ferry_path_join(g_tmp, "repo-commit");
    ferry_store_t *st = NULL;
    assert_int_equal(ferry_store_open(repo, &st), 0);
    ferry_snapshot_info_t first = stu_snapshot(st, UDID, 20, 4000, 0, 0);
    static const char *steps[] = {"checked", "deduped", "synced", "metadata", "renamed"};
    size_t expect = 1;
    for (unsigned i = 0; i < sizeof steps / sizeof *steps; i++) {
        run_and_kill(repo, steps[i], child_commit, i + 1);
        if (!strcmp(steps[i], "renamed"))
            expect++; /* killed after the atomic rename: a complete snapshot */
        assert_int_equal(count_snapshots(st), expect);
        /* the next run cleans up and succeeds */
        ferry_snapshot_info_t s = stu_snapshot(st, UDID, 20, 4000, 10 + i, 1);
        expect++;
        assert_int_equal(count_snapshots(st), expect);
        char *staging = ferry_path_join(repo, ".staging");
        assert_int_equal(stu_count_entries(staging), 0);
        free(staging);
        /* the older snapshot reads its own content */
        char *dir = NULL;
        size_t len, elen;
        assert_int_equal(ferry_store_snapshot_path(st, first.id, &dir), 0);
        uint8_t *got = stu_read(dir, "Documents/changed.txt", &len);
        uint8_t *exp = stu_content(0, 0, 4000, &elen);
        assert_int_equal(len, elen);
        assert_memory_equal(got, exp, len);
        free(got);
        free(exp);
        free(dir);
        assert_string_not_equal(s.id, first.id);
    }
    ferry_store_close(st);
    free(repo);
}

static void test_kill_during_prune(void **state)
{
    (void)state;
    char *repo = ferry_path_join(g_tmp, "repo-prune");
    ferry_store_t *st = NULL;
    assert_int_equal(ferry_store_open(repo, &st), 0);
    for (unsigned i = 0; i < 4; i++)
        stu_snapshot(st, UDID, 10, 3000, i, 0);
    ferry_snapshot_info_t last;
    assert_int_equal(ferry_store_latest(st, UDID, &last), 0);
    run_and_kill(repo, "trashed", child_prune, 2);
    /* the snapshots were moved out of sight before the kill; the kept ones are whole */
    assert_int_equal(count_snapshots(st), 2);
    char *trash = ferry_path_join(repo, ".trash");
    assert_true(stu_count_entries(trash) > 0);
    ferry_prune_report_t rep;
    assert_int_equal(ferry_store_prune(st, NULL, 1, &rep, NULL, NULL), 0);
    assert_int_equal(stu_count_entries(trash), 0);
    assert_int_equal(count_snapshots(st), 1);
    ferry_snapshot_info_t now;
    assert_int_equal(ferry_store_latest(st, UDID, &now), 0);
    assert_string_equal(now.id, last.id);
    free(trash);
    ferry_store_close(st);
    free(repo);
}

static int setup(void **state)
{
    (void)state;
    g_tmp = tu_mkdtemp();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(g_tmp);
    free(g_tmp);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_during_commit),
        cmocka_unit_test(test_kill_during_prune),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
