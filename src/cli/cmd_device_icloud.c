/*
 * cmd_device_icloud.c: `ferry device icloud-backup` and `ferry device icloud-restore`: argument
 * parsing and output for the simulated iCloud Backup of an emulated device (src/device/icloud.c:
 * B4, B5, B11, U1). A backup or restore the rules refuse exits EXIT_REFUSED (5) with the reason; with
 * --json the plan the device followed (or refused) is printed as `ferry plan --json` prints it.
 */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/device.h"
#include "ferry/policy.h"

static void usage(FILE *out)
{
    fputs("usage: ferry device icloud-backup DIR --store STORE [--account personal|managed] [--manual]\n"
          "                                  [--kdf-dpic N] [--json]\n"
          "       ferry device icloud-restore DIR --store STORE --from UDID [--account APPLE_ACCOUNT]\n"
          "                                  [--enrollment-flow] [--decline] [--host finder|configurator]\n"
          "                                  [--skip CATEGORY[,CATEGORY...]] [--json]\n"
          "icloud-backup: the device backs itself up to STORE/<account>/<UDID> when the rules let it: a\n"
          "signed-in account (B4), allowCloudBackup (B5), locked + power + Wi-Fi for the automatic backup\n"
          "(which also needs iCloud Backup on), Wi-Fi only for --manual (Back Up Now). Always encrypted.\n"
          "icloud-restore: erases the device and restores the account's backup of UDID onto it (the account\n"
          "defaults to the device's personal Apple Account); with --enrollment-flow the restore is the step\n"
          "of a User Enrollment or account-driven Device Enrollment (U1: the Managed Apple Account that\n"
          "started it, by default the device's), into the device as it is (U2). Exit 5: refused by the rules.\n",
          out);
}

/* refused: the rules refused (exit 5); any other failure is cli_fail's code. */
static int finish(int rc, const ferry_plan_t *plan, int have_plan, int json, int refused)
{
    if (json && have_plan) {
        char *s = ferry_policy_plan_to_json(plan);
        if (s)
            fputs(s, stdout);
        free(s);
    }
    if (!rc)
        return EXIT_OK;
    int ec = cli_fail(rc);
    return refused ? EXIT_REFUSED : ec;
}

int cmd_device_icloud_backup(int argc, char **argv)
{
    static const struct option opts[] = {{"store", 1, 0, 's'}, {"account", 1, 0, 'a'}, {"manual", 0, 0, 'm'},
                                         {"kdf-dpic", 1, 0, 'k'}, {"json", 0, 0, 'j'}, {"help", 0, 0, 'h'},
                                         {0, 0, 0, 0}};
    ferry_icloud_backup_opts_t o;
    ferry_icloud_backup_opts_init(&o);
    const char *store = NULL;
    int json = 0, c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's': store = optarg; break;
        case 'a':
            if (ferry_policy_account_parse(optarg, &o.account) || o.account == FERRY_ACCOUNT_NONE)
                return cli_usage_error("device icloud-backup", "--account is personal or managed, not '%s'", optarg);
            break;
        case 'm': o.manual = 1; break;
        case 'k': {
            char *end = NULL;
            unsigned long v = strtoul(optarg, &end, 10);
            if (!*optarg || *end || v == 0 || v > UINT32_MAX)
                return cli_usage_error("device icloud-backup", "--kdf-dpic takes a positive number, not '%s'", optarg);
            o.kdf.dpic = (uint32_t)v;
            break;
        }
        case 'j': json = 1; break;
        case 'h': usage(stdout); return EXIT_OK;
        default: return EXIT_USAGE;
        }
    }
    if (optind + 1 != argc || !store)
        return cli_usage_error("device icloud-backup", "needs DIR and --store STORE");
    ferry_device_t *d = NULL;
    int rc = ferry_device_load(argv[optind], &d);
    if (rc)
        return cli_fail(rc);
    ferry_plan_t plan;
    memset(&plan, 0, sizeof plan);
    plan.verdict = FERRY_VERDICT_OK;
    char *path = NULL;
    rc = ferry_device_icloud_backup(d, store, &o, &path, &plan);
    int have_plan = plan.n_items > 0 || plan.verdict == FERRY_VERDICT_REFUSED;
    if (!rc && !json)
        printf("iCloud Backup of %s to its %s account: %s (encrypted%s)\n", argv[optind],
               ferry_policy_account_name(o.account), path, plan.managed_apps_only ? ", managed app data only: B11" : "");
    /* every refusal of icloud-backup is a rule's (B4, B5): FERRY_EINVAL */
    int ec = finish(rc, &plan, have_plan, json, rc == FERRY_EINVAL);
    ferry_plan_free(&plan);
    free(path);
    ferry_device_free(d);
    return ec;
}

int cmd_device_icloud_restore(int argc, char **argv)
{
    static const struct option opts[] = {{"store", 1, 0, 's'},          {"from", 1, 0, 'f'},
                                         {"account", 1, 0, 'a'},        {"enrollment-flow", 0, 0, 'e'},
                                         {"decline", 0, 0, 'd'},        {"host", 1, 0, 'H'},
                                         {"skip", 1, 0, 'S'},           {"json", 0, 0, 'j'},
                                         {"help", 0, 0, 'h'},           {0, 0, 0, 0}};
    ferry_icloud_restore_opts_t o;
    ferry_icloud_restore_opts_init(&o);
    const char *store = NULL;
    int json = 0, c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's': store = optarg; break;
        case 'f': o.source_udid = optarg; break;
        case 'a': o.account = optarg; break;
        case 'e': o.enrollment_flow = 1; break;
        case 'd': o.user_declines = 1; break;
        case 'H':
            if (ferry_policy_host_parse(optarg, &o.host))
                return cli_usage_error("device icloud-restore", "--host is finder or configurator, not '%s'", optarg);
            break;
        case 'S':
            if (ferry_policy_category_list_parse(optarg, &o.skip_categories))
                return cli_usage_error("device icloud-restore", "--skip: %s", ferry_error_last());
            break;
        case 'j': json = 1; break;
        case 'h': usage(stdout); return EXIT_OK;
        default: return EXIT_USAGE;
        }
    }
    if (optind + 1 != argc || !store || !o.source_udid)
        return cli_usage_error("device icloud-restore", "needs DIR, --store STORE and --from UDID");
    const char *dir = argv[optind];
    ferry_device_t *d = NULL;
    int rc = ferry_device_load(dir, &d);
    if (rc)
        return cli_fail(rc);
    char *acct = NULL;
    const char *dflt = o.enrollment_flow ? d->ManagedAppleAccount : d->PersonalAppleAccount;
    if (!o.account && dflt)
        o.account = acct = strdup(dflt);
    ferry_device_free(d);
    if (!o.account)
        return cli_usage_error("device icloud-restore", "no Apple Account is signed in on %s: give --account", dir);
    ferry_plan_t plan;
    memset(&plan, 0, sizeof plan);
    rc = ferry_device_icloud_restore(dir, store, &o, &plan);
    int have_plan = plan.n_items > 0 || plan.verdict == FERRY_VERDICT_REFUSED;
    if (!rc && !json)
        printf("restored %s from the iCloud Backup of %s (account %s)%s\n", dir, o.source_udid, o.account,
               o.enrollment_flow ? " inside the enrollment flow (U1)" : "");
    int ec = finish(rc, &plan, have_plan, json, have_plan && plan.verdict == FERRY_VERDICT_REFUSED);
    ferry_plan_free(&plan);
    free(acct);
    return ec;
}
