/*
 * cmd_extract.c: `ferry extract DIR OUT [--domain D] [--lenient]`: every file of a backup written to
 * OUT/<domain>/<relativePath> with its mode and mtime. Unsafe rows are refused one by one and the
 * exit code says so; nothing is ever written outside OUT.
 */
#include "cli.h"

#include <stdlib.h>
#include <sys/stat.h>

int cmd_extract(int argc, char **argv)
{
    static const struct option longopts[] = {{"domain", required_argument, NULL, OPT_DOMAIN},
                                             {"lenient", no_argument, NULL, OPT_LENIENT},
                                             CLI_BACKUP_LONGOPTS,
                                             {0}};
    cli_backup_opts_t o;
    cli_backup_opts_init(&o);
    ferry_extract_opts_t eo = {0};
    int opt, h;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if ((h = cli_backup_opt(&o, "extract", opt, optarg)) != 0) {
            if (h != 1)
                return h;
        } else if (opt == OPT_DOMAIN) {
            eo.domain = optarg;
        } else if (opt == OPT_LENIENT) {
            eo.lenient = 1;
        } else if (opt == OPT_HELP) {
            printf("usage: ferry extract DIR OUT [--domain D] [--lenient]\n"
                   "  --domain D     extract only domain D\n"
                   "  --lenient      extract files whose size disagrees with their record, and skip missing\n"
                   "                 blobs, with a warning each (default: such files are errors)\n" CLI_BACKUP_OPTIONS_HELP);
            return EXIT_OK;
        } else {
            return EXIT_USAGE;
        }
    }
    if (optind + 2 != argc)
        return cli_usage_error("extract", "expected DIR OUT (see ferry extract --help)");
    const char *out = argv[optind + 1];
    ferry_backup_t *b;
    int rc = cli_backup_open(argv[optind], &o, &b);
    if (rc)
        return cli_fail(rc);
    if ((rc = ferry_mkdir_p(out, 0700)) != 0) {
        ferry_backup_close(b);
        return cli_fail(rc);
    }
    ferry_extract_stats_t st = {0};
    rc = ferry_backup_extract(b, out, &eo, &st);
    ferry_backup_close(b);
    fprintf(stderr, "ferry extract: %llu files (%llu bytes), %llu directories, %llu symlinks written to %s",
            (unsigned long long)st.files, (unsigned long long)st.bytes, (unsigned long long)st.dirs,
            (unsigned long long)st.symlinks, out);
    if (st.skipped)
        fprintf(stderr, "; %llu skipped", (unsigned long long)st.skipped);
    if (st.errors)
        fprintf(stderr, "; %llu refused or failed", (unsigned long long)st.errors);
    fprintf(stderr, "\n");
    return rc ? cli_fail(rc) : EXIT_OK;
}
