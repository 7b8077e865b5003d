/*
 * restore.h: what the files of `ferry restore` share (cmd_restore.c: arguments, the snapshot, the
 * plans and the confirmation; restore_queue.c: restoring up to --jobs devices at once with retries;
 * restore_report.c: each device read back and compared with its plan, as text or JSON). Not a public
 * header.
 */
#ifndef FERRY_CLI_RESTORE_H
#define FERRY_CLI_RESTORE_H

#include <pthread.h>
#include <signal.h>
#include <stdio.h>

#include "ferry/host.h"
#include "ferry/policy.h"
#include "ferry/store.h"

/* How one plan item compares with the device read back after the restore. */
typedef enum {
    RESTORE_CHECK_MATCH = 0,   /* the device shows what the plan predicted */
    RESTORE_CHECK_MISMATCH,    /* it does not: reported, exit code non-zero */
    RESTORE_CHECK_UNVERIFIED,  /* the device does not tell this over the wire (docs/cli.md) */
} restore_check_t;

typedef struct {
    char udid[FERRY_UDID_MAX];
    ferry_device_facts_t before;     /* read before the restore (owned: ferry_host_facts_free) */
    ferry_plan_t plan;               /* the predicted plan for this device (owned) */
    int have_before, have_plan;
    /* filled by the queue */
    int rc;                          /* 0, or the FERRY_E* code of the last attempt */
    ferry_host_result_t res;         /* the device's own result of the last attempt */
    char error[512];                 /* the message of the failure, "" on success */
    int attempts;
    int restored;                    /* the transfer succeeded */
    ferry_device_facts_t after;      /* read back after the restore (owned) */
    int have_after;
    restore_check_t *checks;         /* one per plan item (owned), when have_after */
    size_t mismatches;
} restore_target_t;

typedef struct {
    /* what to restore */
    const char *backup_root;         /* the folder holding <source_udid>/ */
    const char *source_udid;
    const char *snapshot_id;         /* "" for --backup DIR */
    ferry_host_restore_opts_t ropts; /* password borrowed */
    ferry_host_opts_t hopts;
    int jobs;
    int retries;                     /* further attempts after a transient failure */
    int back_deadline_ms;            /* how long to wait for a device to come back after the restore */
    int reboot_wait_ms;              /* how long a device may take to go away for its reboot */
    int json;
    /* the targets */
    restore_target_t *targets;
    size_t n_targets;
    struct cli_progress *progress;   /* bars or JSON progress events (progress.c); also serialises output */
    /* shared by the workers */
    pthread_mutex_t lock;            /* guards next */
    size_t next;
    volatile sig_atomic_t *cancel;
} restore_run_t;

/* Restores every target, at most run->jobs at once; each target's outcome lands in its struct. */
void restore_queue_run(restore_run_t *run);
/* 1 when a failure is worth another attempt: timeouts, I/O drops, a device gone for a moment, the
 * device busy (4) or interrupted (11); never a refusal, a wrong password, no space, Find My or Setup Assistant (207, 105, 211, 212). */
int restore_is_transient(int rc, int device_error);

/* Compares t->plan with t->after (sets t->checks and t->mismatches). */
int restore_report_compare(restore_target_t *t);
/* The final report: a table per device on out, or one JSON result object. */
void restore_report_text(const restore_run_t *run, FILE *out);
void restore_report_json(const restore_run_t *run, FILE *out);
/* A JSON-lines event {"event": name, "udid": udid, ...extra}: extra is "" or `"key": value, ...`
 * already encoded. Written under the progress lock, so that lines never interleave. */
void restore_event(restore_run_t *run, const char *name, const char *udid, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* s as the inside of a JSON string (quotes, backslashes and control characters escaped), cut to fit. */
void restore_json_escape(const char *s, char *out, size_t n);
const char *restore_check_name(restore_check_t c);

#endif
