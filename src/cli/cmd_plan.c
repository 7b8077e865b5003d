/*
 * cmd_plan.c: `ferry plan backup|restore`: argument parsing and output only. The facts come from
 * libferry (ferry_device_facts for device directories, cli_backup_facts_read (backup_facts.c, shared
 * with `ferry restore`) for a backup in the Finder layout, or
 * ferry_policy_backup_facts_derive for --from-device), the decisions from the rules engine
 * (ferry/policy.h) and the text from its renderers. A refused verdict exits EXIT_REFUSED (5). A
 * backup password is read through the shared helpers (cli_backup_open), never from argv.
 */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/device.h"
#include "ferry/policy.h"

enum { OPT_ENCRYPTED = 1100, OPT_ICLOUD, OPT_ACCOUNT, OPT_FROM_DEVICE, OPT_TO, OPT_MDM, OPT_HOST, OPT_FORCE, OPT_SKIP,
       OPT_ASSIGNMENT_URL, OPT_ENROLLMENT_ACCOUNT, OPT_DECLINE };

static const char USAGE[] =
    "usage: ferry plan backup DEVICE_DIR [--encrypted] [--icloud] [--account personal|managed] [--json]\n"
    "       ferry plan restore (BACKUP_DIR | --from-device DEVICE_DIR [--encrypted]) --to DEVICE_DIR\n"
    "                          [--mdm accept|reject-401|reject-403|unreachable]\n"
    "                          [--host ferry|finder|configurator] [--force] [--json]\n"
    "                          [--skip CATEGORY[,CATEGORY...]] [--assignment-url URL]\n"
    "                          [--enrollment-account MANAGED_APPLE_ACCOUNT [--decline]]\n"
    "Predicts what a backup holds or what a restore does, item by item, with the rule IDs of RULES.md.\n"
    "Exit codes: 0 ok, 5 the verdict is refused, 1-4 as for every command (docs/cli.md).\n"
    "Options for an encrypted BACKUP_DIR:\n" CLI_BACKUP_OPTIONS_HELP;

typedef struct {
    int json, force;
    ferry_backup_options_t bopts;
    ferry_restore_options_t ropts;
    const char *from_device, *to;
    const char *assignment_url; /* ask this device-assignment service about the target (D2, V1) */
    cli_backup_opts_t backup;
} plan_args_t;

static int print_plan(const ferry_plan_t *p, int json)
{
    char *s = json ? ferry_policy_plan_to_json(p) : ferry_policy_plan_to_table(p);
    if (!s) {
        fprintf(stderr, "ferry: out of memory rendering the plan\n");
        return EXIT_FAILURE_GENERIC;
    }
    fputs(s, stdout);
    if (!*s || s[strlen(s) - 1] != '\n')
        fputc('\n', stdout);
    free(s);
    return p->verdict == FERRY_VERDICT_REFUSED ? EXIT_REFUSED : EXIT_OK;
}

static int load_facts(const char *dir, ferry_device_t **dev, ferry_device_facts_t *f)
{
    int rc = ferry_device_load(dir, dev);
    if (rc == 0 && (rc = ferry_device_facts(*dev, 1, f)) != 0) {
        ferry_device_free(*dev);
        *dev = NULL;
    }
    return rc;
}

static int parse(const char *cmd, int argc, char **argv, plan_args_t *a)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, OPT_JSON},          {"encrypted", no_argument, NULL, OPT_ENCRYPTED},
        {"icloud", no_argument, NULL, OPT_ICLOUD},      {"account", required_argument, NULL, OPT_ACCOUNT},
        {"from-device", required_argument, NULL, OPT_FROM_DEVICE}, {"to", required_argument, NULL, OPT_TO},
        {"mdm", required_argument, NULL, OPT_MDM},      {"host", required_argument, NULL, OPT_HOST},
        {"force", no_argument, NULL, OPT_FORCE},        {"skip", required_argument, NULL, OPT_SKIP},
        {"assignment-url", required_argument, NULL, OPT_ASSIGNMENT_URL},
        {"enrollment-account", required_argument, NULL, OPT_ENROLLMENT_ACCOUNT},
        {"decline", no_argument, NULL, OPT_DECLINE}, CLI_BACKUP_LONGOPTS, {0}};
    int opt, h;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if ((h = cli_backup_opt(&a->backup, cmd, opt, optarg)) != 0) {
            if (h != 1)
                return h;
            continue;
        }
        switch (opt) {
        case OPT_JSON: a->json = 1; break;
        case OPT_ENCRYPTED: a->bopts.encrypted = 1; break;
        case OPT_ICLOUD: a->bopts.method = FERRY_BACKUP_ICLOUD; break;
        case OPT_ACCOUNT:
            if (ferry_policy_account_parse(optarg, &a->bopts.account) || a->bopts.account == FERRY_ACCOUNT_NONE)
                return cli_usage_error(cmd, "--account is personal or managed, not '%s'", optarg);
            break;
        case OPT_FROM_DEVICE: a->from_device = optarg; break;
        case OPT_TO: a->to = optarg; break;
        case OPT_MDM:
            if (ferry_policy_mdm_parse(optarg, &a->ropts.mdm) || a->ropts.mdm == FERRY_MDM_BOTH)
                return cli_usage_error(cmd, "--mdm is accept, reject-401, reject-403 or unreachable, not '%s'", optarg);
            break;
        case OPT_HOST:
            if (ferry_policy_host_parse(optarg, &a->ropts.host))
                return cli_usage_error(cmd, "--host is ferry, finder or configurator, not '%s'", optarg);
            break;
        case OPT_FORCE: a->ropts.force = 1; break;
        case OPT_SKIP:
            if (ferry_policy_category_list_parse(optarg, &a->ropts.skip_categories))
                return cli_usage_error(cmd, "--skip: %s", ferry_error_last());
            break;
        case OPT_ASSIGNMENT_URL: a->assignment_url = optarg; break;
        case OPT_ENROLLMENT_ACCOUNT: /* U1: the Managed Apple Account that starts the enrollment */
            if (strlen(optarg) >= sizeof a->ropts.enrollment_account)
                return cli_usage_error(cmd, "--enrollment-account is too long");
            snprintf(a->ropts.enrollment_account, sizeof a->ropts.enrollment_account, "%s", optarg);
            break;
        case OPT_DECLINE: a->ropts.user_declines = 1; break;
        case OPT_HELP: fputs(USAGE, stdout); return -1;
        default: return EXIT_USAGE;
        }
    }
    if (a->bopts.method == FERRY_BACKUP_ICLOUD && a->bopts.account == FERRY_ACCOUNT_NONE)
        a->bopts.account = FERRY_ACCOUNT_PERSONAL; /* iCloud Backup goes to the personal account by default */
    if (a->bopts.method == FERRY_BACKUP_HOST && a->bopts.account != FERRY_ACCOUNT_NONE)
        return cli_usage_error(cmd, "--account applies to --icloud only");
    return EXIT_OK;
}

static int plan_backup(int argc, char **argv, plan_args_t *a)
{
    if (a->from_device || a->to || optind + 1 != argc)
        return cli_usage_error("plan backup", "expected one device directory (see ferry plan --help)");
    ferry_device_t *dev = NULL;
    ferry_device_facts_t f;
    int rc = load_facts(argv[optind], &dev, &f);
    if (rc)
        return cli_fail(rc);
    ferry_plan_t p;
    rc = ferry_policy_backup_plan(&f, &a->bopts, &p);
    int ec = rc ? cli_fail(rc) : print_plan(&p, a->json);
    if (!rc)
        ferry_plan_free(&p);
    ferry_device_facts_free(&f);
    ferry_device_free(dev);
    return ec;
}

/* The source backup's facts from a device: its backup plan must let the backup start. */
static int restore_from_device(plan_args_t *a, const ferry_device_facts_t *target)
{
    ferry_device_t *src = NULL;
    ferry_device_facts_t sf;
    int rc = load_facts(a->from_device, &src, &sf);
    if (rc)
        return cli_fail(rc);
    ferry_plan_t bp;
    ferry_backup_facts_t bf;
    memset(&bp, 0, sizeof bp);
    memset(&bf, 0, sizeof bf);
    int ec = EXIT_OK;
    rc = ferry_policy_backup_plan(&sf, &a->bopts, &bp);
    if (rc == 0 && bp.verdict == FERRY_VERDICT_REFUSED) {
        fprintf(stderr, "ferry plan restore: the source device does not make this backup:\n");
        ec = print_plan(&bp, a->json);
    } else if (rc == 0) {
        rc = ferry_policy_backup_facts_derive(&sf, &a->bopts, &bf);
        ferry_plan_t p;
        if (rc == 0 && (rc = ferry_policy_restore_plan(&bf, target, &a->ropts, &p)) == 0) {
            ec = print_plan(&p, a->json);
            ferry_plan_free(&p);
        }
    }
    if (rc)
        ec = cli_fail(rc);
    ferry_policy_backup_facts_free_derived(&bf);
    ferry_plan_free(&bp);
    ferry_device_facts_free(&sf);
    ferry_device_free(src);
    return ec;
}

static int restore_from_backup(const char *dir, plan_args_t *a, const ferry_device_facts_t *target)
{
    ferry_backup_t *b = NULL;
    int rc = cli_backup_open(dir, &a->backup, &b);
    if (rc)
        return cli_fail(rc);
    cli_backup_facts_t h;
    ferry_plan_t p;
    int ec = EXIT_OK;
    rc = cli_backup_facts_read(b, &h);
    if (rc == 0 && (rc = ferry_policy_restore_plan(&h.facts, target, &a->ropts, &p)) == 0) {
        ec = print_plan(&p, a->json);
        ferry_plan_free(&p);
    }
    if (rc)
        ec = cli_fail(rc);
    cli_backup_facts_free(&h);
    return ec;
}

static int plan_restore(int argc, char **argv, plan_args_t *a)
{
    int n = argc - optind;
    if (!a->to)
        return cli_usage_error("plan restore", "--to DEVICE_DIR names the device to restore to");
    if ((a->from_device && n != 0) || (!a->from_device && n != 1))
        return cli_usage_error("plan restore", "expected BACKUP_DIR or --from-device DEVICE_DIR, not both");
    if (!a->from_device && (a->bopts.encrypted || a->bopts.method != FERRY_BACKUP_HOST))
        return cli_usage_error("plan restore", "--encrypted and --icloud describe the backup --from-device makes; "
                                               "a BACKUP_DIR says itself whether it is encrypted");
    ferry_device_t *to = NULL;
    ferry_device_facts_t tf;
    int rc = load_facts(a->to, &to, &tf);
    if (rc)
        return cli_fail(rc);
    if (a->assignment_url && (rc = cli_target_assignment(a->assignment_url, &tf, 1)) != 0) {
        ferry_device_facts_free(&tf);
        ferry_device_free(to);
        return cli_fail(rc);
    }
    int ec = a->from_device ? restore_from_device(a, &tf) : restore_from_backup(argv[optind], a, &tf);
    ferry_device_facts_free(&tf);
    ferry_device_free(to);
    return ec;
}

int cmd_plan(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        fputs(USAGE, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    int restore = !strcmp(argv[1], "restore");
    if (!restore && strcmp(argv[1], "backup"))
        return cli_usage_error("plan", "unknown plan '%s': backup or restore", argv[1]);
    plan_args_t a;
    memset(&a, 0, sizeof a);
    cli_backup_opts_init(&a.backup);
    optind = 0;
    int ec = parse(restore ? "plan restore" : "plan backup", argc - 1, argv + 1, &a);
    if (ec)
        return ec < 0 ? EXIT_OK : ec;
    return restore ? plan_restore(argc - 1, argv + 1, &a) : plan_backup(argc - 1, argv + 1, &a);
}
