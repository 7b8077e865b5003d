/*
 * cmd_backup.c: `ferry backup [-u UDID | --all] [--repo DIR] [--encrypt] [--full] [--json]
 * [--timeout S]`: for each device, a new staging folder of the repository, seeded with the device's
 * latest snapshot (incremental unless --full), the preflight and the device's backup into it
 * (ferry_host_backup, one lockdownd session), and the commit with a quick verify; any failure aborts
 * the staging folder, so the repository only ever shows complete snapshots. --all backs up every
 * attached device at once, one thread each (each with its own repository handle). Ctrl-C sets the
 * cancel flag every device checks between messages; a second Ctrl-C ends the process at once (the
 * next run removes what it left).
 * Passwords never come from argv (cli_secret_read).
 */
#include "cli.h"
#include "json.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/store.h"

enum { OPT_REPO = 3100, OPT_ALL, OPT_ENCRYPT, OPT_FULL, OPT_TIMEOUT };

#define BACKUP_HELP                                                                                      \
    "usage: ferry backup [-u UDID | --all] [--repo DIR] [--encrypt] [--full] [--json] [--timeout S]\n"  \
    "Backs up a device (the only attached one, -u UDID, or --all at once) into the repository as a\n"  \
    "new immutable snapshot; unchanged files are shared with the device's previous snapshot.\n"        \
    "  --repo DIR             the repository (default: $FERRY_REPO, else ~/.local/share/ferry/repo)\n"  \
    "  --encrypt              set a backup password on devices that have none (the device encrypts)\n" \
    "  --full                 ask the device for a full backup instead of an incremental one\n"        \
    "  --timeout S            deadline of every wait on a device, in seconds (default 120)\n"          \
    "  --json                 JSON-lines progress events and a final result object (docs/cli.md)\n"     \
    "  --password-file FILE, --password-fd N   the new password for --encrypt (else\n"                \
    "                         FERRY_BACKUP_PASSWORD, else a prompt); never on the command line\n"

static volatile sig_atomic_t g_cancel;

static void on_sigint(int sig)
{
    g_cancel = 1;
    signal(sig, SIG_DFL); /* a second Ctrl-C stops at once */
}

typedef struct {
    char udid[FERRY_UDID_MAX];
    const char *repo;
    int full, encrypt, needs_password;
    const char *password;        /* for --encrypt, shared, read-only */
    size_t password_len;
    ferry_host_opts_t hopts;
    cli_progress_t *pr;
    /* results */
    int rc, code;
    char error[1024];
    ferry_host_result_t res;
    ferry_snapshot_info_t snap;
    char seeded[FERRY_SNAPSHOT_ID_MAX];
    int password_was_set;
    pthread_t th;
} job_t;

static int open_repo(const char *repo, ferry_store_t **st)
{
    char *loc = NULL;
    int rc = repo ? ((loc = strdup(repo)) ? 0 : ferry_error_set(FERRY_ENOMEM, "out of memory"))
                  : ferry_store_default_location(&loc);
    if (!rc)
        rc = ferry_store_open(loc, st);
    free(loc);
    return rc;
}

static void report_stage(job_t *j, ferry_host_stage_t s)
{
    ferry_host_progress_t p = {.udid = j->udid, .stage = s, .files_done = j->res.files,
                               .bytes_done = j->res.bytes, .percent = -1};
    cli_progress_host(&p, j->pr);
}

/* The transfer and commit, in a staging folder that is dropped on any failure. */
static int backup_into_repo(job_t *j)
{
    ferry_store_t *st = NULL;
    ferry_staging_t *stg = NULL;
    int rc = open_repo(j->repo, &st);
    if (!rc)
        rc = ferry_store_begin(st, j->udid, &stg);
    /* ferry_host_backup makes the preflight checks on its own lockdownd session */
    if (!rc && !j->full)
        rc = ferry_staging_seed(stg, j->seeded);
    if (!rc) {
        ferry_host_backup_opts_t b = {.full = j->full};
        rc = ferry_host_backup(j->udid, ferry_staging_root(stg), &b, &j->hopts, &j->res);
    }
    if (!rc && g_cancel)
        rc = ferry_error_set(FERRY_ECANCELED, "device %s: canceled before the commit", j->udid);
    if (rc) {
        ferry_staging_abort(stg);
    } else {
        report_stage(j, FERRY_HOST_STAGE_COMMIT);
        ferry_credentials_t cred = {.password = j->password, .password_len = j->password_len};
        ferry_commit_opts_t co = {.verify = 1, .cred = j->password_was_set ? &cred : NULL};
        rc = ferry_staging_commit(stg, &co, &j->snap);
    }
    ferry_store_close(st);
    return rc;
}

static int backup_one(job_t *j)
{
    if (j->needs_password) {
        ferry_host_result_t r;
        int rc = ferry_host_password(j->udid, NULL, 0, j->password, j->password_len, &j->hopts, &r);
        if (rc)
            return rc;
        j->password_was_set = 1;
        cli_progress_event(j->pr, "password-set", j->udid, "backup password set (--encrypt)");
    }
    return backup_into_repo(j);
}

static void *job_main(void *arg)
{
    job_t *j = arg;
    j->rc = backup_one(j);
    j->code = cli_exit_code(j->rc);
    if (j->rc) {
        snprintf(j->error, sizeof j->error, "%s", ferry_error_last()[0] ? ferry_error_last() : ferry_error_name(j->rc));
        cli_progress_event(j->pr, "error", j->udid, j->error);
    } else {
        report_stage(j, FERRY_HOST_STAGE_DONE);
    }
    return NULL;
}

static void print_results(job_t *jobs, size_t n, int json, int code)
{
    for (size_t i = 0; i < n; i++)
        if (jobs[i].rc)
            fprintf(stderr, "ferry: %s\n", jobs[i].error);
    if (!json) {
        for (size_t i = 0; i < n; i++) {
            job_t *j = &jobs[i];
            if (!j->rc)
                printf("%s: snapshot %s (%llu files received, %llu bytes%s%s)\n", j->udid, j->snap.id,
                       (unsigned long long)j->res.files, (unsigned long long)j->res.bytes,
                       j->snap.parent[0] ? "; shares unchanged files with " : "", j->snap.parent);
        }
        return;
    }
    cli_json_t o;
    cli_json_init(&o, stdout);
    cli_json_object_begin(&o);
    cli_json_kv_string(&o, "event", "result");
    cli_json_kv_int(&o, "exitCode", code);
    cli_json_key(&o, "devices");
    cli_json_array_begin(&o);
    for (size_t i = 0; i < n; i++) {
        job_t *j = &jobs[i];
        cli_json_object_begin(&o);
        cli_json_kv_string(&o, "udid", j->udid);
        cli_json_kv_bool(&o, "ok", j->rc == 0);
        cli_json_kv_int(&o, "exitCode", j->code);
        cli_json_kv_string(&o, "snapshot", j->rc ? NULL : j->snap.id);
        cli_json_kv_string(&o, "parent", !j->rc && j->snap.parent[0] ? j->snap.parent : NULL);
        cli_json_kv_int(&o, "filesReceived", (int64_t)j->res.files);
        cli_json_kv_int(&o, "bytesReceived", (int64_t)j->res.bytes);
        cli_json_kv_int(&o, "snapshotFiles", j->rc ? 0 : (int64_t)j->snap.files);
        cli_json_kv_int(&o, "snapshotBytes", j->rc ? 0 : (int64_t)j->snap.bytes);
        cli_json_kv_int(&o, "addedBytes", j->rc ? 0 : (int64_t)j->snap.added_bytes);
        cli_json_kv_bool(&o, "encrypted", !j->rc && j->snap.encrypted);
        cli_json_key(&o, "deviceError");
        if (j->res.device_error)
            cli_json_int(&o, j->res.device_error);
        else
            cli_json_null(&o);
        cli_json_kv_string(&o, "error", j->rc ? j->error : NULL);
        cli_json_object_end(&o);
    }
    cli_json_array_end(&o);
    cli_json_object_end(&o);
    cli_json_finish(&o);
}

/* The devices to back up: -u, --all, or the only attached one. With -u and no --encrypt only
 * usbmuxd is asked (whether a password must be set is the one thing a description is needed for). */
static int select_devices(const char *udid, int all, int encrypt, const ferry_host_opts_t *ho, job_t **jobs,
                          size_t *n)
{
    ferry_host_device_t *d = NULL;
    size_t nd = 0;
    int rc;
    if (udid && !encrypt) {
        if ((rc = ferry_host_attached(udid)))
            return rc;
        if (!(*jobs = calloc(1, sizeof **jobs)))
            return ferry_error_set(FERRY_ENOMEM, "out of memory");
        snprintf((*jobs)[0].udid, sizeof (*jobs)[0].udid, "%s", udid);
        *n = 1;
        return 0;
    }
    if (udid) {
        nd = 1;
        if (!(d = calloc(1, sizeof *d)))
            return ferry_error_set(FERRY_ENOMEM, "out of memory");
        if ((rc = ferry_host_device_info(udid, ho, d))) {
            free(d);
            return rc;
        }
    } else if ((rc = ferry_host_list(ho, &d, &nd))) {
        return rc;
    }
    size_t k = 0;
    *jobs = calloc(nd ? nd : 1, sizeof **jobs);
    for (size_t i = 0; *jobs && i < nd; i++) {
        if (udid && strcmp(udid, d[i].udid))
            continue;
        snprintf((*jobs)[k].udid, sizeof (*jobs)[k].udid, "%s", d[i].udid);
        (*jobs)[k].needs_password = d[i].password_set != 1;
        k++;
    }
    free(d);
    if (!*jobs)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    if (udid && k == 0)
        rc = ferry_error_set(FERRY_ENOTFOUND, "device %s is not attached: connect it (see `ferry devices`)", udid);
    else if (k == 0)
        rc = ferry_error_set(FERRY_ENOTFOUND, "no device is attached: connect one (see `ferry devices`)");
    else if (!udid && !all && k > 1)
        rc = ferry_error_set(FERRY_EINVAL, "%zu devices are attached: name one with -u UDID, or use --all", k);
    if (rc) {
        free(*jobs);
        *jobs = NULL;
        return rc;
    }
    *n = k;
    return 0;
}

typedef struct {
    const char *udid, *repo;
    int all, encrypt, full, json;
    int timeout_ms;
    cli_backup_opts_t bo;
} args_t;

static int parse(int argc, char **argv, args_t *a)
{
    static const struct option longopts[] = {{"repo", required_argument, NULL, OPT_REPO},
                                             {"all", no_argument, NULL, OPT_ALL},
                                             {"encrypt", no_argument, NULL, OPT_ENCRYPT},
                                             {"full", no_argument, NULL, OPT_FULL},
                                             {"timeout", required_argument, NULL, OPT_TIMEOUT},
                                             {"json", no_argument, NULL, OPT_JSON},
                                             CLI_BACKUP_LONGOPTS,
                                             {0}};
    int opt, h;
    char *end;
    a->timeout_ms = 120000;
    cli_backup_opts_init(&a->bo);
    optind = 1;
    while ((opt = getopt_long(argc, argv, "u:", longopts, NULL)) != -1) {
        if ((h = cli_backup_opt(&a->bo, "backup", opt, optarg)) != 0) {
            if (h != 1)
                return h;
            continue;
        }
        switch (opt) {
        case 'u': a->udid = optarg; break;
        case OPT_REPO: a->repo = optarg; break;
        case OPT_ALL: a->all = 1; break;
        case OPT_ENCRYPT: a->encrypt = 1; break;
        case OPT_FULL: a->full = 1; break;
        case OPT_JSON: a->json = 1; break;
        case OPT_TIMEOUT: {
            errno = 0;
            long s = strtol(optarg, &end, 10);
            if (errno || *end || s <= 0 || s > 86400)
                return cli_usage_error("backup", "--timeout takes a number of seconds (1-86400), not '%s'", optarg);
            a->timeout_ms = (int)s * 1000;
            break;
        }
        case OPT_HELP: fputs(BACKUP_HELP, stdout); return -1;
        default: fputs(BACKUP_HELP, stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc)
        return cli_usage_error("backup", "unexpected argument '%s'", argv[optind]);
    if (a->udid && a->all)
        return cli_usage_error("backup", "-u and --all exclude each other");
    return 0;
}

static int run_jobs(job_t *jobs, size_t n, int all)
{
    if (!all || n == 1) {
        job_main(&jobs[0]);
        return 0;
    }
    size_t started = 0;
    for (; started < n; started++)
        if (pthread_create(&jobs[started].th, NULL, job_main, &jobs[started]) != 0)
            break;
    for (size_t i = 0; i < started; i++)
        pthread_join(jobs[i].th, NULL);
    for (size_t i = started; i < n; i++)
        job_main(&jobs[i]);
    return 0;
}

int cmd_backup(int argc, char **argv)
{
    args_t a = {0};
    int code = parse(argc, argv, &a);
    if (code)
        return code < 0 ? EXIT_OK : code;
    ferry_host_opts_t ho = {.timeout_ms = a.timeout_ms, .cancel = &g_cancel};
    job_t *jobs = NULL;
    size_t n = 0;
    int rc = select_devices(a.udid, a.all, a.encrypt, &ho, &jobs, &n);
    if (rc)
        return cli_fail(rc);
    char *pw = NULL;
    size_t pwlen = 0;
    int need = 0;
    for (size_t i = 0; i < n; i++)
        need |= a.encrypt && jobs[i].needs_password;
    if (need && (rc = cli_secret_read(a.bo.password_file, a.bo.password_fd, "FERRY_BACKUP_PASSWORD",
                                      "New backup password: ", &pw, &pwlen))) {
        free(jobs);
        return cli_fail(rc);
    }
    cli_progress_t *pr = cli_progress_new(a.json);
    ho.progress = cli_progress_host;
    ho.progress_ctx = pr;
    for (size_t i = 0; i < n; i++) {
        jobs[i].repo = a.repo;
        jobs[i].full = a.full;
        jobs[i].needs_password = a.encrypt && jobs[i].needs_password;
        jobs[i].password = pw;
        jobs[i].password_len = pwlen;
        jobs[i].hopts = ho;
        jobs[i].pr = pr;
    }
    struct sigaction sa = {0}, old;
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);
    run_jobs(jobs, n, a.all);
    sigaction(SIGINT, &old, NULL);
    code = EXIT_OK;
    for (size_t i = 0; i < n && code == EXIT_OK; i++)
        code = jobs[i].code;
    cli_progress_lock(pr);
    print_results(jobs, n, a.json, code);
    cli_progress_unlock(pr);
    cli_progress_free(pr);
    if (pw) {
        ferry_wipe(pw, pwlen);
        free(pw);
    }
    free(jobs);
    return code;
}
