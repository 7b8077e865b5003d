/*
 * cmd_restore.c: `ferry restore`: restores one snapshot (or backup folder) onto one or more attached
 * devices. Order matters and is the safety of the command: the password is checked on the host, every
 * target is read (ferry_host_device_facts) and planned by the rules engine, the plans are shown, and
 * only when no plan is refused (R3 always, R4 under configurator semantics and an enrolled target
 * unless --force) and the administrator confirmed (a terminal question, or --yes) does any device
 * receive a byte. Then restore_queue.c restores up to --jobs devices at once and restore_report.c
 * compares each device with its plan. Exit codes: docs/cli.md.
 */
/* cli.h comes through restore_source.h (cli.h may be included only once) */

#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restore.h"
#include "restore_source.h"

#define MAX_TARGETS 256
#define MAX_JOBS 64

enum {
    OPT_TO = 1200, OPT_LATEST, OPT_BACKUP, OPT_YES, OPT_FORCE, OPT_JOBS, OPT_REPO, OPT_SYSTEM,
    OPT_SETTINGS, OPT_REMOVE, OPT_SKIP, OPT_TIMEOUT, OPT_AS, OPT_RETRIES, OPT_REBOOT_WAIT,
    OPT_ASSIGNMENT_URL,
};

static const char USAGE[] =
    "usage: ferry restore (SNAPSHOT | --latest -u UDID | --backup DIR) --to UDID [--to UDID ...]\n"
    "                     [--yes] [--force] [--jobs N] [--repo R] [--json] [--system] [--settings]\n"
    "                     [--remove] [--skip CATEGORY ...] [--as finder|configurator] [--timeout S]\n"
    "                     [--retries N] [--reboot-wait S] [--assignment-url URL]\n"
    "Restores a snapshot onto attached devices: reads each device, shows the rules engine's plan, asks\n"
    "(unless --yes), refuses R3 and R4 (see --force), restores up to --jobs devices at once (default 8)\n"
    "with retries of transient failures, then reads each device back and reports, item by item,\n"
    "predicted versus actual.\n"
    "  --to UDID         a device to restore onto (repeat for several)\n"
    "  --yes             do not ask; required when there is no terminal\n"
    "  --force           restore despite R4 under --as configurator, or onto an enrolled device\n"
    "  --jobs N          devices restored at once (1-64, default 8)\n"
    "  --system          also restore system files (RestoreSystemFiles)\n"
    "  --settings        restore the settings from the backup (else the device keeps its own)\n"
    "  --remove          remove items the backup does not hold (RemoveItemsNotRestored)\n"
    "  --skip CATEGORY   leave a data category out (X1): passwords, call-history, health,\n"
    "                    website-history, wifi, photos (repeat, or a comma list)\n"
    "  --as HOST         host type of the restore (finder, the default, or configurator: R4)\n"
    "  --timeout S       deadline of every wait on a device (default 30 s); a device gets 4 x S\n"
    "                    (at least 120 s) to come back after its restore\n"
    "  --retries N       further attempts after a transient failure (default 2)\n"
    "  --reboot-wait S   how long a device may take to go away for its reboot before it is read\n"
    "                    back (default 5 s; 0 reads it at once)\n"
    "  --assignment-url URL  ask this device-assignment service which targets are assigned in\n"
    "                    Apple Business Manager: they enroll again after the restore (D2, V1)\n"
    "Exit codes: 0 every device restored as planned, 1 a device failed, 2 usage, 3 wrong password,\n"
    "4 a device does not match its plan, 5 a plan is refused (nothing was restored), 6 a device\n"
    "refused (MBErrorDomain), 7 a device did not answer in time, 130 Ctrl-C. docs/cli.md.\n"
    "Password of an encrypted backup:\n" CLI_BACKUP_OPTIONS_HELP;

typedef struct {
    restore_source_args_t src;
    cli_backup_opts_t pw;
    const char *to[MAX_TARGETS];
    size_t n_to;
    int yes, json, jobs, timeout_s, retries, reboot_wait_s;
    ferry_restore_options_t ro;
    ferry_host_restore_opts_t hro;
    const char *assignment_url; /* --assignment-url: D2 and V1 in the plans */
} args_t;

static volatile sig_atomic_t canceled;
static void on_signal(int sig)
{
    (void)sig;
    canceled = 1;
}

static int skip_list(const char *arg, unsigned *bits)
{
    char *copy = strdup(arg), *save = NULL;
    int rc = copy ? 0 : -1;
    for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t && !rc; t = strtok_r(NULL, ",", &save)) {
        unsigned b;
        if (ferry_policy_category_parse(t, &b))
            rc = cli_usage_error("restore", "--skip: unknown category '%s'", t);
        else
            *bits |= b;
    }
    free(copy);
    return rc;
}

static int int_arg(const char *opt, const char *s, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi)
        return cli_usage_error("restore", "%s takes a number from %d to %d, not '%s'", opt, lo, hi, s);
    *out = (int)v;
    return 0;
}

static int parse_opt(args_t *a, int opt, const char *arg)
{
    switch (opt) {
    case OPT_TO:
        if (a->n_to == MAX_TARGETS)
            return cli_usage_error("restore", "at most %d --to devices", MAX_TARGETS);
        if (ferry_store_check_udid(arg))
            return cli_usage_error("restore", "--to '%s' is not a UDID", arg);
        a->to[a->n_to++] = arg;
        return 0;
    case 'u': a->src.udid = arg; return 0;
    case OPT_LATEST: a->src.latest = 1; return 0;
    case OPT_BACKUP: a->src.backup_dir = arg; return 0;
    case OPT_YES: a->yes = 1; return 0;
    case OPT_FORCE: a->ro.force = 1; return 0;
    case OPT_JOBS: return int_arg("--jobs", arg, 1, MAX_JOBS, &a->jobs);
    case OPT_REPO: a->src.repo = arg; return 0;
    case OPT_JSON: a->json = 1; return 0;
    case OPT_SYSTEM: a->hro.system_files = 1; return 0;
    case OPT_SETTINGS: a->hro.preserve_settings = 0; return 0;
    case OPT_REMOVE: a->hro.remove_items_not_restored = 1; return 0;
    case OPT_SKIP: return skip_list(arg, &a->ro.skip_categories);
    case OPT_TIMEOUT: return int_arg("--timeout", arg, 1, 86400, &a->timeout_s);
    case OPT_RETRIES: return int_arg("--retries", arg, 0, 10, &a->retries);
    case OPT_REBOOT_WAIT: return int_arg("--reboot-wait", arg, 0, 600, &a->reboot_wait_s);
    case OPT_ASSIGNMENT_URL: a->assignment_url = arg; return 0;
    case OPT_AS:
        if (ferry_policy_host_parse(arg, &a->ro.host))
            return cli_usage_error("restore", "--as is finder or configurator, not '%s'", arg);
        return 0;
    case OPT_HELP: fputs(USAGE, stdout); return -1;
    default: return EXIT_USAGE;
    }
}

static int parse(int argc, char **argv, args_t *a)
{
    static const struct option longopts[] = {
        {"to", required_argument, NULL, OPT_TO},         {"udid", required_argument, NULL, 'u'},
        {"latest", no_argument, NULL, OPT_LATEST},       {"backup", required_argument, NULL, OPT_BACKUP},
        {"yes", no_argument, NULL, OPT_YES},             {"force", no_argument, NULL, OPT_FORCE},
        {"jobs", required_argument, NULL, OPT_JOBS},     {"repo", required_argument, NULL, OPT_REPO},
        {"json", no_argument, NULL, OPT_JSON},           {"system", no_argument, NULL, OPT_SYSTEM},
        {"settings", no_argument, NULL, OPT_SETTINGS},   {"remove", no_argument, NULL, OPT_REMOVE},
        {"skip", required_argument, NULL, OPT_SKIP},     {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"as", required_argument, NULL, OPT_AS},         {"retries", required_argument, NULL, OPT_RETRIES},
        {"reboot-wait", required_argument, NULL, OPT_REBOOT_WAIT},
        {"assignment-url", required_argument, NULL, OPT_ASSIGNMENT_URL},
        CLI_BACKUP_LONGOPTS, {0}};
    int opt, h;
    optind = 0;
    while ((opt = getopt_long(argc, argv, "u:y", longopts, NULL)) != -1) {
        if ((h = cli_backup_opt(&a->pw, "restore", opt, optarg)) != 0) {
            if (h != 1)
                return h;
            continue;
        }
        if ((h = parse_opt(a, opt == 'y' ? OPT_YES : opt, optarg)) != 0)
            return h;
    }
    int n = argc - optind;
    int sources = (n == 1) + a->src.latest + (a->src.backup_dir != NULL);
    if (n > 1 || sources != 1)
        return cli_usage_error("restore", "name one source: SNAPSHOT, --latest -u UDID, or --backup DIR");
    if (a->src.latest && !a->src.udid)
        return cli_usage_error("restore", "--latest needs -u UDID");
    if (!a->n_to)
        return cli_usage_error("restore", "--to UDID names a device to restore onto");
    for (size_t i = 0; i < a->n_to; i++)
        for (size_t k = 0; k < i; k++)
            if (ferry_policy_udid_equal(a->to[i], a->to[k]))
                return cli_usage_error("restore", "--to %s is given twice", a->to[i]);
    a->src.snapshot = n == 1 ? argv[optind] : NULL;
    return 0;
}

/* One line of JSON: the renderer's document without its layout newlines (strings escape theirs). */
static void print_plan(restore_run_t *run, const restore_target_t *t)
{
    char *s = run->json ? ferry_policy_plan_to_json(&t->plan) : ferry_policy_plan_to_table(&t->plan);
    if (!s) {
        fprintf(stderr, "ferry: out of memory rendering the plan\n");
        return;
    }
    if (run->json) {
        size_t k = 0;
        for (size_t i = 0; s[i]; i++)
            if (s[i] != '\n')
                s[k++] = s[i];
        s[k] = 0;
        restore_event(run, "plan", t->udid, "\"plan\":%s", s);
    } else {
        printf("Restore plan for %s:\n%s%s", t->udid, s, *s && s[strlen(s) - 1] == '\n' ? "" : "\n");
    }
    free(s);
}

/* Reads every target and plans it; 0, or an exit code (nothing has been sent to any device). */
static int plan_targets(restore_run_t *run, const args_t *a, const restore_source_t *src)
{
    int refused = 0;
    for (size_t i = 0; i < run->n_targets; i++) {
        restore_target_t *t = &run->targets[i];
        int rc = ferry_host_device_facts(t->udid, &run->hopts, &t->before);
        if (rc)
            return cli_fail(rc); /* the message names the device; nothing was sent to any device */
        t->have_before = 1;
        if (a->assignment_url && (rc = cli_target_assignment(a->assignment_url, &t->before, 0)) != 0)
            return cli_fail(ferry_error_wrap(rc, "device %s: cannot ask the assignment service %s", t->udid,
                                             a->assignment_url));
        ferry_restore_options_t ro = a->ro;
        ro.mdm = FERRY_MDM_BOTH; /* the server answers after the restore: both branches */
        if ((rc = ferry_policy_restore_plan(&src->facts.facts, &t->before, &ro, &t->plan)) != 0)
            return cli_fail(rc);
        t->have_plan = 1;
        print_plan(run, t);
        if (t->plan.verdict == FERRY_VERDICT_REFUSED) {
            refused = 1;
            fprintf(stderr, "ferry restore: %s: refused (%s): %s\n", t->udid,
                    t->plan.refusal.n_rules ? t->plan.refusal.rules[0] : "ferry", t->plan.refusal.why);
        }
    }
    if (refused)
        fprintf(stderr, "ferry restore: nothing was restored; a refused plan stops the whole restore\n");
    return refused ? EXIT_REFUSED : 0;
}

/* The question on the controlling terminal; no terminal and no --yes is a refusal. */
static int confirm(const restore_run_t *run)
{
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
    if (fd < 0 || !isatty(fd)) {
        if (fd >= 0)
            close(fd);
        fprintf(stderr, "ferry restore: no terminal to ask for confirmation: read the plans above and pass --yes "
                        "to restore without asking\n");
        return EXIT_USAGE;
    }
    char q[256], ans[16] = {0};
    int n = snprintf(q, sizeof q, "Restore %s onto %zu device(s)? [y/N] ",
                     run->snapshot_id[0] ? run->snapshot_id : run->source_udid, run->n_targets);
    (void)!write(fd, q, (size_t)n);
    ssize_t r = read(fd, ans, sizeof ans - 1);
    close(fd);
    if (r > 0 && (ans[0] == 'y' || ans[0] == 'Y'))
        return 0;
    fprintf(stderr, "ferry restore: not confirmed; nothing was restored\n");
    return EXIT_REFUSED;
}

/* One code for the whole run: the most telling failure wins (password, then a device's own answer,
 * then a deadline, then anything else), and a mismatch only when every device was restored. */
static int exit_code(const restore_run_t *run)
{
    int password = 0, device = 0, timeout = 0, other = 0, mismatch = 0;
    for (size_t i = 0; i < run->n_targets; i++) {
        const restore_target_t *t = &run->targets[i];
        if (!t->restored) {
            password |= t->res.device_error == 207 || t->rc == FERRY_EPASSWORD;
            device |= t->res.device_error != 0 || t->rc == FERRY_EDEVICE || t->rc == FERRY_ENOSPC;
            timeout |= t->rc == FERRY_ETIMEOUT;
            other = 1;
        } else if (!t->have_after) {
            other = 1;
        } else if (t->mismatches) {
            mismatch = 1;
        }
    }
    if (password)
        return EXIT_PASSWORD;
    if (device)
        return EXIT_DEVICE;
    if (timeout)
        return EXIT_TIMEOUT;
    if (other)
        return EXIT_FAILURE_GENERIC;
    return mismatch ? EXIT_INTEGRITY : EXIT_OK;
}

static void run_free(restore_run_t *run)
{
    for (size_t i = 0; run->targets && i < run->n_targets; i++) {
        restore_target_t *t = &run->targets[i];
        if (t->have_before)
            ferry_host_facts_free(&t->before);
        if (t->have_after)
            ferry_host_facts_free(&t->after);
        if (t->have_plan)
            ferry_plan_free(&t->plan);
        free(t->checks);
    }
    free(run->targets);
    cli_progress_free(run->progress);
    run->progress = NULL;
    pthread_mutex_destroy(&run->lock);
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static int run_restore(const args_t *a, restore_source_t *src)
{
    restore_run_t run;
    memset(&run, 0, sizeof run);
    pthread_mutex_init(&run.lock, NULL);
    run.backup_root = src->root;
    run.source_udid = src->source_udid;
    run.snapshot_id = src->snapshot_id;
    run.ropts = a->hro;
    run.ropts.host_type = a->ro.host;                 /* S5 on the device */
    run.ropts.skip_categories = a->ro.skip_categories; /* X1 on the device */
    run.ropts.password = src->cred.password;
    run.ropts.password_len = src->cred.password_len;
    run.hopts.timeout_ms = a->timeout_s * 1000;
    run.hopts.cancel = &canceled;
    run.cancel = &canceled;
    run.jobs = a->jobs;
    run.retries = a->retries;
    run.back_deadline_ms = a->timeout_s * 4000 > 120000 ? a->timeout_s * 4000 : 120000;
    run.reboot_wait_ms = a->reboot_wait_s * 1000;
    run.json = a->json;
    run.n_targets = a->n_to;
    run.targets = calloc(a->n_to, sizeof *run.targets);
    run.progress = cli_progress_new(a->json);
    if (!run.targets || !run.progress) {
        run_free(&run);
        return cli_fail(ferry_error_set(FERRY_ENOMEM, "out of memory"));
    }
    for (size_t i = 0; i < a->n_to; i++)
        snprintf(run.targets[i].udid, sizeof run.targets[i].udid, "%s", a->to[i]);
    int ec = plan_targets(&run, a, src);
    if (!ec && !a->yes)
        ec = confirm(&run);
    if (ec == EXIT_REFUSED && a->json) { /* machines get a result object also when nothing ran */
        for (size_t i = 0; i < run.n_targets; i++)
            snprintf(run.targets[i].error, sizeof run.targets[i].error, "%s",
                     run.targets[i].have_plan && run.targets[i].plan.verdict == FERRY_VERDICT_REFUSED
                         ? run.targets[i].plan.refusal.why
                         : "not restored: another device's plan was refused, or the restore was not confirmed");
        restore_report_json(&run, stdout);
    }
    if (!ec) {
        install_signals();
        restore_queue_run(&run);
        cli_progress_free(run.progress); /* ends the bars before the report */
        run.progress = NULL;
        if (a->json)
            restore_report_json(&run, stdout);
        else
            restore_report_text(&run, stdout);
        ec = canceled ? EXIT_CANCELED : exit_code(&run);
    }
    run_free(&run);
    return ec;
}

int cmd_restore(int argc, char **argv)
{
    args_t a;
    memset(&a, 0, sizeof a);
    cli_backup_opts_init(&a.pw);
    a.src.pw = &a.pw;
    a.jobs = 8;
    a.timeout_s = 30;
    a.retries = 2;
    a.reboot_wait_s = 5;
    a.hro.reboot = 1;
    a.hro.preserve_settings = 1; /* as idevicebackup2: --settings restores them from the backup */
    a.ro.host = FERRY_HOST_FINDER;
    int ec = parse(argc, argv, &a);
    if (ec)
        return ec < 0 ? EXIT_OK : ec;
    /* A device that goes away mid-write (unplugged, rebooting) must fail that write with EPIPE, not
     * end the whole command: libimobiledevice writes to usbmuxd sockets without MSG_NOSIGNAL. */
    signal(SIGPIPE, SIG_IGN);
    restore_source_t src;
    int rc = restore_source_open(&a.src, &src);
    ec = rc ? cli_fail(rc) : run_restore(&a, &src);
    restore_source_free(&src);
    return ec;
}
