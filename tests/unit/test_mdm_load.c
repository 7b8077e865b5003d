/*
 * test_mdm_load.c: a bounded load test on loopback: 50 emulated devices enroll, then 200 check-ins
 * (TokenUpdate, signed) start at once from 200 threads; every one must be answered 200 and be
 * counted in the server's database (none lost), and each device then still gets its queued command
 * exactly once. Bounded in count; every request has a timeout, so the test stops by itself.
 */
#include "mdm_testlib.h"

#include <pthread.h>

#define N_DEVICES 50
#define N_CHECKINS 200

static tl_server_t T;
static tl_device_t DEV[N_DEVICES];
static pthread_barrier_t START;

static void *checkin_thread(void *arg)
{
    size_t i = (size_t)arg;
    tl_device_t *d = &DEV[i % N_DEVICES];
    uint8_t tok[32] = {(uint8_t)i};
    ferry_mdm_reply_t r = {0};
    pthread_barrier_wait(&START);
    int rc = ferry_mdm_client_token_update(&d->o, tok, sizeof tok, "MAGIC-LOAD", 0, &r);
    intptr_t ok = rc == 0 && r.http_status == 200;
    ferry_mdm_reply_clear(&r);
    return (void *)ok;
}

static const char *ack(void *ctx, plist_t req, plist_t *resp)
{
    (*(int *)ctx)++;
    return "Acknowledged";
}

static void test_load_200_concurrent_checkins_none_lost(void **state)
{
    tl_server_start(&T, 403);
    ferry_mdm_db_t *db;
    assert_int_equal(ferry_mdm_db_open(T.db_path, &db), 0);
    for (size_t i = 0; i < N_DEVICES; i++) {
        char udid[40];
        snprintf(udid, sizeof udid, "LOAD-%04zu", i);
        tl_device_init(&DEV[i], &T, udid);
        assert_int_equal(tl_enroll(&DEV[i]), 200);
        plist_t c;
        assert_int_equal(ferry_mdm_command_new("DeviceInformation", NULL, &c), 0);
        assert_int_equal(ferry_mdm_db_enqueue(db, udid, c), 0);
        plist_free(c);
    }
    pthread_barrier_init(&START, NULL, N_CHECKINS);
    pthread_t th[N_CHECKINS];
    for (size_t i = 0; i < N_CHECKINS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, checkin_thread, (void *)i), 0);
    int ok = 0;
    for (size_t i = 0; i < N_CHECKINS; i++) {
        void *res;
        pthread_join(th[i], &res);
        ok += res != NULL;
    }
    pthread_barrier_destroy(&START);
    assert_int_equal(ok, N_CHECKINS);
    int64_t n;
    assert_int_equal(ferry_mdm_db_count_messages(db, "TokenUpdate", 200, &n), 0);
    assert_int_equal(n, N_DEVICES + N_CHECKINS);
    ferry_mdm_device_t *devs;
    size_t nd;
    assert_int_equal(ferry_mdm_db_list_devices(db, &devs, &nd), 0);
    assert_int_equal(nd, N_DEVICES);
    ferry_mdm_devices_free(devs, nd);
    for (size_t i = 0; i < N_DEVICES; i++) {
        int ran = 0;
        unsigned nrun;
        ferry_mdm_reply_t r = {0};
        assert_int_equal(ferry_mdm_client_command_loop(&DEV[i].o, ack, &ran, 0, &nrun, &r), 0);
        assert_int_equal(ran, 1);
        ferry_mdm_reply_clear(&r);
    }
    assert_int_equal(ferry_mdm_db_count_messages(db, "Acknowledged", 200, &n), 0);
    assert_int_equal(n, N_DEVICES);
    ferry_mdm_db_close(db);
    for (size_t i = 0; i < N_DEVICES; i++)
        tl_device_free(&DEV[i]);
    tl_server_stop(&T);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_200_concurrent_checkins_none_lost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
