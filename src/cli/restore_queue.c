/*
 * restore_queue.c: restores the targets of `ferry restore`, at most --jobs at once: a fixed pool of
 * threads takes the next target from a shared index until none is left. Devices are independent: one
 * failing never stops the others, and each thread touches only its own restore_target_t (the index and
 * the output stream are under run->lock). A transient failure (timeout, dropped connection, device
 * busy) is retried with a doubling pause; a refusal by the device is not. After a successful transfer
 * the device reboots: it is read back (ferry_host_device_facts) as soon as it answers again, within a
 * deadline, and compared with its plan. Ctrl-C (run->cancel) stops every device at its next message
 * and starts no new one.
 */
#include "restore.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

#define BACKOFF_FIRST_MS 1000
#define POLL_MS 1000

int restore_is_transient(int rc, int device_error)
{
    switch (device_error) {
    case 4:  /* the device's backup service is busy */
    case 11: /* the transfer was interrupted */
        return 1;
    case 0: break;
    default: return 0; /* 207, 105, 211, 212 and every other answer of the device */
    }
    /* ENOTFOUND: the device was read before the transfer, so it is reconnecting (a cable, a reboot). */
    return rc == FERRY_ETIMEOUT || rc == FERRY_EIO || rc == FERRY_ENOTFOUND;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleeps ms, in short steps so that Ctrl-C is not kept waiting; 1 when canceled. */
static int pause_ms(restore_run_t *run, int ms)
{
    for (int waited = 0; waited < ms; waited += 100) {
        if (run->cancel && *run->cancel)
            return 1;
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return run->cancel && *run->cancel;
}

/* The failure in words: the device's own code and text when it gave one, else ferry's message. */
static void note_failure(restore_target_t *t, int rc)
{
    const ferry_host_result_t *r = &t->res;
    const char *m = ferry_error_last();
    if (r->device_error)
        snprintf(t->error, sizeof t->error, "device error %d: %s%s%s%s", r->device_error,
                 ferry_host_mberror_message(r->device_error), r->device_message[0] ? " (" : "", r->device_message,
                 r->device_message[0] ? ")" : "");
    else
        snprintf(t->error, sizeof t->error, "%s", m[0] ? m : ferry_error_name(rc));
}

static void transfer(restore_run_t *run, restore_target_t *t)
{
    ferry_host_opts_t opts = run->hopts;
    opts.progress = cli_progress_host;
    opts.progress_ctx = run->progress;
    opts.cancel = run->cancel;
    int delay = BACKOFF_FIRST_MS;
    for (int attempt = 1; attempt <= 1 + run->retries; attempt++) {
        t->attempts = attempt;
        memset(&t->res, 0, sizeof t->res);
        ferry_error_clear();
        int rc = ferry_host_restore(t->udid, run->backup_root, run->source_udid, &run->ropts, &opts, &t->res);
        t->rc = rc;
        if (rc == 0) {
            t->restored = 1;
            t->error[0] = 0;
            return;
        }
        note_failure(t, rc);
        if ((run->cancel && *run->cancel) || !restore_is_transient(rc, t->res.device_error) || attempt > run->retries)
            return;
        char esc[600];
        restore_json_escape(t->error, esc, sizeof esc);
        restore_event(run, "retry", t->udid, "\"attempt\":%d,\"delayMs\":%d,\"error\":\"%s\"", attempt, delay, esc);
        if (!run->json) {
            cli_progress_lock(run->progress);
            fprintf(stderr, "%s: %s; trying again in %d s\n", t->udid, t->error, delay / 1000);
            cli_progress_unlock(run->progress);
        }
        if (pause_ms(run, delay))
            return;
        delay *= 2;
    }
}

/* A device reboots a moment after it reported the end of its restore; reading it before that would
 * read the state it is about to leave. Waits (up to reboot_wait_ms) for it to go away; one that
 * stays (the emulated device does not reboot) is read as it is. */
static void wait_reboot(restore_run_t *run, restore_target_t *t)
{
    int64_t until = now_ms() + run->reboot_wait_ms;
    while (now_ms() < until) {
        ferry_host_device_t info;
        /* not listed, usbmuxd gone with it (an emulator), silent, or not answering lockdownd as it did
         * a moment ago: away (read_back then waits until it answers properly) */
        if (ferry_host_device_info(t->udid, &run->hopts, &info) != 0) {
            restore_event(run, "rebooting", t->udid, "%s", "");
            return;
        }
        if (pause_ms(run, 500))
            return;
    }
}

/* Reads the device back as soon as it answers again, within the deadline. */
static void read_back(restore_run_t *run, restore_target_t *t)
{
    if (run->reboot_wait_ms > 0 && run->ropts.reboot)
        wait_reboot(run, t);
    int64_t deadline = now_ms() + run->back_deadline_ms;
    for (;;) {
        ferry_error_clear();
        if (ferry_host_device_facts(t->udid, &run->hopts, &t->after) == 0) {
            t->have_after = 1;
            t->error[0] = 0;
            if (restore_report_compare(t))
                snprintf(t->error, sizeof t->error, "%s", ferry_error_last());
            return;
        }
        snprintf(t->error, sizeof t->error, "%s", ferry_error_last());
        if (now_ms() + POLL_MS > deadline || pause_ms(run, POLL_MS)) {
            size_t n = strlen(t->error);
            snprintf(t->error + n, sizeof t->error - n, " (the device did not come back within %d s)",
                     run->back_deadline_ms / 1000);
            return;
        }
    }
}

static void restore_one(restore_run_t *run, restore_target_t *t)
{
    restore_event(run, "start", t->udid, "\"items\":%zu", t->plan.n_items);
    transfer(run, t);
    if (t->restored) {
        restore_event(run, "transferred", t->udid, "\"files\":%llu,\"bytes\":%llu", (unsigned long long)t->res.files,
                      (unsigned long long)t->res.bytes);
        read_back(run, t);
    }
    char esc[600];
    restore_json_escape(t->error, esc, sizeof esc);
    restore_event(run, "done", t->udid, "\"restored\":%s,\"attempts\":%d,\"deviceError\":%d,"
                  "\"mismatches\":%zu,\"error\":%s%s%s", t->restored ? "true" : "false", t->attempts,
                  t->res.device_error, t->mismatches, esc[0] ? "\"" : "null", esc, esc[0] ? "\"" : "");
}

static void *worker(void *arg)
{
    restore_run_t *run = arg;
    for (;;) {
        pthread_mutex_lock(&run->lock);
        size_t i = run->next < run->n_targets && !(run->cancel && *run->cancel) ? run->next++ : run->n_targets;
        pthread_mutex_unlock(&run->lock);
        if (i >= run->n_targets)
            return NULL;
        restore_one(run, &run->targets[i]);
    }
}

void restore_queue_run(restore_run_t *run)
{
    size_t n = run->jobs > 0 ? (size_t)run->jobs : 1;
    if (n > run->n_targets)
        n = run->n_targets;
    pthread_t *th = calloc(n ? n : 1, sizeof *th);
    size_t started = 0;
    for (size_t i = 0; th && i < n; i++)
        if (pthread_create(&th[i], NULL, worker, run) == 0)
            started++;
        else
            break;
    if (!started) /* no thread at all: do the work here, one device after the other */
        worker(run);
    for (size_t i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    free(th);
    for (size_t i = 0; i < run->n_targets; i++)
        if (!run->targets[i].restored && !run->targets[i].error[0])
            snprintf(run->targets[i].error, sizeof run->targets[i].error, "not started: the restore was canceled");
}
