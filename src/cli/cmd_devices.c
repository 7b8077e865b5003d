/*
 * cmd_devices.c: `ferry devices [--json] [--timeout S]`: the attached devices (usbmuxd) with what
 * lockdownd says of them: UDID, name, type, OS, supervision, whether a backup password is set and
 * whether a profile requires encrypted backups. Argument parsing and output only (ferry/host.h).
 */
#include "cli.h"
#include "json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_TIMEOUT = 3000 };

#define DEVICES_HELP                                                                                     \
    "usage: ferry devices [--json] [--timeout SECONDS]\n"                                               \
    "Lists the attached devices: UDID, name, product type, class, OS version, whether supervised,\n"   \
    "whether a backup password is set (PW) and whether a profile requires encrypted backups (ENC).\n"   \
    "  --timeout S   deadline of every wait on a device (default 30)\n"                                 \
    "  --json        {\"devices\": [...]} (docs/cli.md)\n"

static const char *tri(int v)
{
    return v < 0 ? "?" : v ? "yes" : "no";
}

static void kv_tri(cli_json_t *j, const char *key, int v)
{
    cli_json_key(j, key);
    if (v < 0)
        cli_json_null(j);
    else
        cli_json_bool(j, v);
}

static void kv_num(cli_json_t *j, const char *key, int64_t v)
{
    cli_json_key(j, key);
    if (v < 0)
        cli_json_null(j);
    else
        cli_json_int(j, v);
}

static void kv_str(cli_json_t *j, const char *key, const char *s)
{
    cli_json_kv_string(j, key, s[0] ? s : NULL);
}

static void print_json(const ferry_host_device_t *d, size_t n)
{
    cli_json_t j;
    cli_json_init(&j, stdout);
    cli_json_object_begin(&j);
    cli_json_key(&j, "devices");
    cli_json_array_begin(&j);
    for (size_t i = 0; i < n; i++) {
        cli_json_object_begin(&j);
        cli_json_kv_string(&j, "udid", d[i].udid);
        kv_str(&j, "name", d[i].name);
        kv_str(&j, "productType", d[i].product_type);
        kv_str(&j, "deviceClass", d[i].device_class);
        kv_str(&j, "productVersion", d[i].os_version);
        kv_str(&j, "buildVersion", d[i].build_version);
        kv_str(&j, "serialNumber", d[i].serial);
        cli_json_kv_bool(&j, "paired", d[i].paired == 1);
        kv_tri(&j, "supervised", d[i].supervised);
        kv_tri(&j, "passwordSet", d[i].paired == 1 ? d[i].password_set : -1);
        kv_tri(&j, "encryptionRequired", d[i].paired == 1 ? d[i].encryption_required : -1);
        kv_tri(&j, "setupDone", d[i].setup_done);
        kv_num(&j, "dataCapacity", d[i].data_capacity);
        kv_num(&j, "dataAvailable", d[i].data_available);
        cli_json_object_end(&j);
    }
    cli_json_array_end(&j);
    cli_json_object_end(&j);
    cli_json_finish(&j);
}

static void print_table(const ferry_host_device_t *d, size_t n)
{
    if (n == 0) {
        printf("no device attached\n");
        return;
    }
    printf("%-40s %-20s %-12s %-13s %-8s %-10s %-3s %-3s\n", "UDID", "NAME", "TYPE", "CLASS", "OS", "SUPERVISED",
           "PW", "ENC");
    for (size_t i = 0; i < n; i++) {
        if (d[i].paired != 1) {
            printf("%-40s (not paired, locked or not trusted: unlock it and tap Trust)\n", d[i].udid);
            continue;
        }
        printf("%-40s %-20.20s %-12.12s %-13.13s %-8.8s %-10s %-3s %-3s\n", d[i].udid, d[i].name, d[i].product_type,
               d[i].device_class, d[i].os_version, tri(d[i].supervised), tri(d[i].password_set),
               tri(d[i].encryption_required));
    }
}

/* --timeout SECONDS, shared with the other device commands' parsing style. */
static int parse_timeout(const char *arg, int *ms)
{
    char *end;
    errno = 0;
    long s = strtol(arg, &end, 10);
    if (errno || *end || s <= 0 || s > 86400)
        return cli_usage_error("devices", "--timeout takes a number of seconds (1-86400), not '%s'", arg);
    *ms = (int)s * 1000;
    return 0;
}

int cmd_devices(int argc, char **argv)
{
    static const struct option longopts[] = {{"json", no_argument, NULL, OPT_JSON},
                                             {"timeout", required_argument, NULL, OPT_TIMEOUT},
                                             {"help", no_argument, NULL, OPT_HELP},
                                             {0}};
    int json = 0, opt;
    ferry_host_opts_t o = {0};
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_JSON: json = 1; break;
        case OPT_TIMEOUT:
            if (parse_timeout(optarg, &o.timeout_ms))
                return EXIT_USAGE;
            break;
        case OPT_HELP: fputs(DEVICES_HELP, stdout); return EXIT_OK;
        default: fputs(DEVICES_HELP, stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc)
        return cli_usage_error("devices", "unexpected argument '%s'", argv[optind]);
    ferry_host_device_t *d = NULL;
    size_t n = 0;
    int rc = ferry_host_list(&o, &d, &n);
    if (rc)
        return cli_fail(rc);
    if (json)
        print_json(d, n);
    else
        print_table(d, n);
    free(d);
    return EXIT_OK;
}
