/*
 * cmd_password.c: `ferry password set|change|remove [-u UDID]`: the device's backup password
 * (ferry_host_password). The current password comes from --password-file, --password-fd,
 * FERRY_BACKUP_PASSWORD or a prompt; the new one from --new-password-file, --new-password-fd,
 * FERRY_NEW_BACKUP_PASSWORD or a prompt (for `set`, which has no current password, the first set of
 * sources also gives the new one). Never from argv. A wrong current password exits with code 3.
 */
#include "cli.h"
#include "json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_NEW_FILE = 3200, OPT_NEW_FD, OPT_TIMEOUT };

#define PASSWORD_HELP                                                                                    \
    "usage: ferry password set|change|remove [-u UDID] [--json] [--timeout S]\n"                        \
    "Sets, changes or removes the backup password of a device (the only attached one, or -u UDID).\n"  \
    "With a password set the device encrypts its backups.\n"                                           \
    "  --password-file FILE, --password-fd N        the current password (change, remove), else\n"     \
    "                                               FERRY_BACKUP_PASSWORD, else a prompt\n"            \
    "  --new-password-file FILE, --new-password-fd N  the new password (set, change), else\n"          \
    "                                               FERRY_NEW_BACKUP_PASSWORD, else a prompt; for\n"    \
    "                                               set, the current-password sources work too\n"      \
    "  --timeout S   deadline of every wait on the device (default 60)\n"                               \
    "  --json        {\"udid\", \"action\", \"ok\", \"deviceError\", \"error\"}\n"                     \
    "Passwords are never taken from the command line.\n"

typedef struct {
    const char *action, *udid, *new_file;
    int new_fd, json;
    cli_backup_opts_t bo;
    ferry_host_opts_t ho;
} args_t;

static int parse(int argc, char **argv, args_t *a)
{
    static const struct option longopts[] = {{"new-password-file", required_argument, NULL, OPT_NEW_FILE},
                                             {"new-password-fd", required_argument, NULL, OPT_NEW_FD},
                                             {"timeout", required_argument, NULL, OPT_TIMEOUT},
                                             {"json", no_argument, NULL, OPT_JSON},
                                             CLI_BACKUP_LONGOPTS,
                                             {0}};
    int opt, h;
    char *end;
    long v;
    a->new_fd = -1;
    a->ho.timeout_ms = 60000;
    cli_backup_opts_init(&a->bo);
    optind = 1;
    while ((opt = getopt_long(argc, argv, "u:", longopts, NULL)) != -1) {
        if ((h = cli_backup_opt(&a->bo, "password", opt, optarg)) != 0) {
            if (h != 1)
                return h;
            continue;
        }
        switch (opt) {
        case 'u': a->udid = optarg; break;
        case OPT_JSON: a->json = 1; break;
        case OPT_NEW_FILE: a->new_file = optarg; break;
        case OPT_NEW_FD:
            errno = 0;
            v = strtol(optarg, &end, 10);
            if (errno || *end || v < 0 || v > 1 << 20)
                return cli_usage_error("password", "--new-password-fd takes a file descriptor number, not '%s'", optarg);
            a->new_fd = (int)v;
            break;
        case OPT_TIMEOUT:
            errno = 0;
            v = strtol(optarg, &end, 10);
            if (errno || *end || v <= 0 || v > 86400)
                return cli_usage_error("password", "--timeout takes a number of seconds (1-86400), not '%s'", optarg);
            a->ho.timeout_ms = (int)v * 1000;
            break;
        case OPT_HELP: fputs(PASSWORD_HELP, stdout); return -1;
        default: fputs(PASSWORD_HELP, stderr); return EXIT_USAGE;
        }
    }
    if (optind >= argc)
        return cli_usage_error("password", "say set, change or remove (ferry password --help)");
    a->action = argv[optind++];
    if (strcmp(a->action, "set") && strcmp(a->action, "change") && strcmp(a->action, "remove"))
        return cli_usage_error("password", "unknown action '%s': set, change or remove", a->action);
    if (optind < argc)
        return cli_usage_error("password", "unexpected argument '%s'", argv[optind]);
    return 0;
}

/* The only attached device when -u is not given. */
static int pick_device(args_t *a, char udid[FERRY_UDID_MAX])
{
    if (a->udid) {
        snprintf(udid, FERRY_UDID_MAX, "%s", a->udid);
        return 0;
    }
    ferry_host_device_t *d = NULL;
    size_t n = 0;
    int rc = ferry_host_list(&a->ho, &d, &n);
    if (!rc && n != 1)
        rc = n == 0 ? ferry_error_set(FERRY_ENOTFOUND, "no device is attached: connect one (see `ferry devices`)")
                    : ferry_error_set(FERRY_EINVAL, "%zu devices are attached: name one with -u UDID", n);
    if (!rc)
        snprintf(udid, FERRY_UDID_MAX, "%s", d[0].udid);
    free(d);
    return rc;
}

static int read_passwords(const args_t *a, int set, int change, char **oldp, size_t *oldl, char **newp,
                          size_t *newl)
{
    int rc = 0;
    if (!set)
        rc = cli_secret_read(a->bo.password_file, a->bo.password_fd, "FERRY_BACKUP_PASSWORD",
                             "Current backup password: ", oldp, oldl);
    if (!rc && set && !a->new_file && a->new_fd < 0 && !getenv("FERRY_NEW_BACKUP_PASSWORD") &&
        (a->bo.password_file || a->bo.password_fd >= 0 || getenv("FERRY_BACKUP_PASSWORD")))
        return cli_secret_read(a->bo.password_file, a->bo.password_fd, "FERRY_BACKUP_PASSWORD",
                               "New backup password: ", newp, newl);
    if (!rc && (set || change))
        rc = cli_secret_read(a->new_file, a->new_fd, "FERRY_NEW_BACKUP_PASSWORD", "New backup password: ", newp,
                             newl);
    if (!rc && *newp && *newl == 0)
        rc = ferry_error_set(FERRY_EINVAL, "the new backup password is empty: use `ferry password remove` instead");
    return rc;
}

static void wipe_free(char *p, size_t len)
{
    if (p) {
        ferry_wipe(p, len);
        free(p);
    }
}

int cmd_password(int argc, char **argv)
{
    args_t a = {0};
    int code = parse(argc, argv, &a);
    if (code)
        return code < 0 ? EXIT_OK : code;
    int set = !strcmp(a.action, "set"), change = !strcmp(a.action, "change");
    char udid[FERRY_UDID_MAX];
    char *oldp = NULL, *newp = NULL;
    size_t oldl = 0, newl = 0;
    ferry_host_result_t res = {0};
    int rc = pick_device(&a, udid);
    if (!rc)
        rc = read_passwords(&a, set, change, &oldp, &oldl, &newp, &newl);
    if (!rc)
        rc = ferry_host_password(udid, oldp, oldl, newp, newl, &a.ho, &res);
    wipe_free(oldp, oldl);
    wipe_free(newp, newl);
    code = cli_exit_code(rc);
    if (a.json) {
        cli_json_t j;
        cli_json_init(&j, stdout);
        cli_json_object_begin(&j);
        cli_json_kv_string(&j, "udid", rc && !a.udid && rc != FERRY_EPASSWORD ? NULL : udid);
        cli_json_kv_string(&j, "action", a.action);
        cli_json_kv_bool(&j, "ok", rc == 0);
        cli_json_key(&j, "deviceError");
        if (res.device_error)
            cli_json_int(&j, res.device_error);
        else
            cli_json_null(&j);
        cli_json_kv_string(&j, "error", rc ? ferry_error_last() : NULL);
        cli_json_object_end(&j);
        cli_json_finish(&j);
    }
    if (rc)
        return a.json ? code : cli_fail(rc);
    if (!a.json)
        printf("%s: backup password %s\n", udid, set ? "set" : change ? "changed" : "removed");
    return EXIT_OK;
}
