/*
 * cmd_cat.c: `ferry cat DIR DOMAIN PATH`: one file's plaintext on standard output, decrypted and
 * checked against its record (padding and size) as it streams.
 */
#include "cli.h"

#include <stdlib.h>
#include <unistd.h>

#define CAT_CHUNK (1 << 20)

static int stream_to_stdout(ferry_backup_t *b, const ferry_record_t *rec)
{
    ferry_file_reader_t *r;
    int rc = ferry_backup_file_open(b, rec, 1, &r);
    if (rc)
        return rc;
    uint8_t *buf = malloc(CAT_CHUNK);
    if (!buf) {
        ferry_file_reader_close(r);
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    ssize_t n;
    while ((n = ferry_file_reader_read(r, buf, CAT_CHUNK)) > 0)
        if ((rc = ferry_write_full(STDOUT_FILENO, buf, (size_t)n, "standard output")) != 0)
            break;
    if (n < 0)
        rc = (int)n;
    free(buf);
    ferry_file_reader_close(r);
    return rc;
}

int cmd_cat(int argc, char **argv)
{
    static const struct option longopts[] = {CLI_BACKUP_LONGOPTS, {0}};
    cli_backup_opts_t o;
    cli_backup_opts_init(&o);
    int opt, h;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if ((h = cli_backup_opt(&o, "cat", opt, optarg)) != 0) {
            if (h != 1)
                return h;
        } else if (opt == OPT_HELP) {
            printf("usage: ferry cat DIR DOMAIN PATH\n" CLI_BACKUP_OPTIONS_HELP);
            return EXIT_OK;
        } else {
            return EXIT_USAGE;
        }
    }
    if (optind + 3 != argc)
        return cli_usage_error("cat", "expected DIR DOMAIN PATH (see ferry cat --help)");
    ferry_backup_t *b;
    int rc = cli_backup_open(argv[optind], &o, &b);
    if (rc)
        return cli_fail(rc);
    ferry_record_t rec;
    rc = ferry_backup_lookup(b, argv[optind + 1], argv[optind + 2], &rec);
    if (rc == 0) {
        if (rec.flags != FERRY_FLAG_FILE)
            rc = ferry_error_set(FERRY_EINVAL, "%s/%s is a %s, not a file", rec.domain, rec.relative_path,
                                 rec.flags == FERRY_FLAG_DIR ? "directory" : "symbolic link");
        else
            rc = stream_to_stdout(b, &rec);
        ferry_record_clear(&rec);
    }
    ferry_backup_close(b);
    return rc ? cli_fail(rc) : EXIT_OK;
}
