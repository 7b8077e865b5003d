/*
 * main.c: `ferry`: dispatches to the command groups. Each command lives in its own cmd_*.c file and
 * only parses arguments, calls libferry and prints; exit codes are listed in cli.h and docs/cli.md.
 */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ferry/common.h"

static const cli_command_t commands[] = {
    {"info", cmd_info, "what a backup is and holds"},
    {"ls", cmd_ls, "list a backup's records"},
    {"cat", cmd_cat, "write one file of a backup to standard output"},
    {"extract", cmd_extract, "extract a backup's files to a folder"},
    {"verify", cmd_verify, "check a backup's structure and contents"},
    {"device", cmd_device, "create, inspect and edit emulated device directories"},
    {"mdm", cmd_mdm, "run the MDM server and device-assignment service, administer it"},
    {"plan", cmd_plan, "predict what a backup holds or a restore does, with the rule IDs"},
    {"snapshots", cmd_snapshots, "list a backup repository's snapshots; path, import"},
    {"snapshot", cmd_snapshots, "the same as snapshots (ferry snapshot import DIR)"},
    {"prune", cmd_prune, "remove all but the newest snapshots of each device"},
    {"export", cmd_export, "write a repository snapshot as a Finder-layout backup folder"},
    {"restore", cmd_restore, "restore a snapshot onto attached devices, with the plan and a report"},
    {"devices", cmd_devices, "list the attached devices (USB, usbmuxd) and their backup settings"},
    {"backup", cmd_backup, "back up devices into the repository (incremental snapshots)"},
    {"password", cmd_password, "set, change or remove a device's backup password"},
    {NULL, NULL, NULL},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: ferry <command> [options]\n\ncommands:\n");
    for (const cli_command_t *c = commands; c->name; c++)
        fprintf(out, "  %-10s %s\n", c->name, c->summary);
    fprintf(out, "\nRun `ferry <command> --help` for a command's options. See docs/cli.md.\n");
}

int cli_exit_code(int code)
{
    switch (code) {
    case FERRY_OK: return EXIT_OK;
    case FERRY_EPASSWORD: return EXIT_PASSWORD;
    case FERRY_EINTEGRITY:
    case FERRY_EUNSAFE: return EXIT_INTEGRITY;
    case FERRY_EINVAL: return EXIT_USAGE;
    case FERRY_EDEVICE: return EXIT_DEVICE;
    case FERRY_ETIMEOUT: return EXIT_TIMEOUT;
    case FERRY_ECANCELED: return EXIT_CANCELED;
    default: return EXIT_FAILURE_GENERIC;
    }
}

int cli_fail(int code)
{
    fprintf(stderr, "ferry: %s\n", ferry_error_last()[0] ? ferry_error_last() : ferry_error_name(code));
    if (code == FERRY_ELIMIT)
        fprintf(stderr, "ferry: if you trust this backup, raise the cap with --kdf-max-iterations N\n");
    return cli_exit_code(code);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "ferry %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    for (const cli_command_t *c = commands; c->name; c++)
        if (!strcmp(c->name, argv[1]))
            return c->fn(argc - 1, argv + 1);
    fprintf(stderr, "ferry: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
