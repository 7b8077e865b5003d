/*
 * cmd_export.c: `ferry export SNAPSHOT DIR [--repo R]`: writes a repository snapshot as a Finder-layout
 * backup (DIR/<UDID>/), from either backend; from S3 it streams from the store and checks every byte
 * (ferry_store_export). The result is an ordinary backup folder: ferry verify, idevicebackup2 and
 * `ferry snapshots import` into another repository read it. Argument parsing and output only.
 */
#include "cli.h"
#include "json.h"

#include <stdlib.h>
#include <string.h>

#include "ferry/store.h"

enum { OPT_EXPORT_REPO = 2100 };

#define EXPORT_HELP                                                                                    \
    "usage: ferry export SNAPSHOT DIR [--repo DIR|s3://BUCKET/PREFIX] [--json]\n"                      \
    "  writes the snapshot (an id or a unique prefix of one) as DIR/<UDID>/, a Finder-layout backup;\n" \
    "  DIR is created when missing, DIR/<UDID> must not exist\n"                                        \
    "  --repo R   the repository (default: $FERRY_REPO, else ~/.local/share/ferry/repo)\n"

int cmd_export(int argc, char **argv)
{
    static const struct option longopts[] = {{"repo", required_argument, NULL, OPT_EXPORT_REPO},
                                             {"json", no_argument, NULL, OPT_JSON},
                                             {"help", no_argument, NULL, OPT_HELP},
                                             {0}};
    const char *repo = NULL;
    int json = 0, opt;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_EXPORT_REPO: repo = optarg; break;
        case OPT_JSON: json = 1; break;
        case OPT_HELP: printf(EXPORT_HELP); return EXIT_OK;
        default: return EXIT_USAGE;
        }
    }
    if (optind + 2 != argc)
        return cli_usage_error("export", "takes a snapshot id and a destination folder (see ferry export --help)");
    char *loc = NULL;
    int rc = repo ? ((loc = strdup(repo)) ? 0 : FERRY_ENOMEM) : ferry_store_default_location(&loc);
    ferry_store_t *st = NULL;
    char *out = NULL;
    if (rc == 0)
        rc = ferry_store_open_existing(loc, &st);
    if (rc == 0)
        rc = ferry_store_export(st, argv[optind], argv[optind + 1], &out);
    ferry_store_close(st);
    free(loc);
    if (rc)
        return cli_fail(rc);
    if (json) {
        cli_json_t j;
        cli_json_init(&j, stdout);
        cli_json_object_begin(&j);
        cli_json_kv_string(&j, "snapshot", argv[optind]);
        cli_json_kv_string(&j, "path", out);
        cli_json_object_end(&j);
        cli_json_finish(&j);
    } else {
        printf("exported %s to %s\n", argv[optind], out);
    }
    free(out);
    return EXIT_OK;
}
