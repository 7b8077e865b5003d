/*
 * cmd_ls.c: `ferry ls DIR [--domain D] [--json]`: every record of a backup, in domain and path order,
 * with its kind, mode, size, protection class and modification time. Refused (malformed or unsafe)
 * records are reported on stderr and make the exit code non-zero, so a script never mistakes a
 * partial listing for a whole one.
 */
#include "cli.h"
#include "json.h"

#include <stdlib.h>
#include <time.h>

static char kind_char(int flags)
{
    return flags == FERRY_FLAG_DIR ? 'd' : flags == FERRY_FLAG_SYMLINK ? 'l' : '-';
}

static const char *kind_name(int flags)
{
    return flags == FERRY_FLAG_DIR ? "directory" : flags == FERRY_FLAG_SYMLINK ? "symlink" : "file";
}

static void print_record_json(cli_json_t *j, const ferry_record_t *r)
{
    cli_json_object_begin(j);
    cli_json_kv_string(j, "fileID", r->fileid);
    cli_json_kv_string(j, "domain", r->domain);
    cli_json_kv_string(j, "relativePath", r->relative_path);
    cli_json_kv_int(j, "flags", r->flags);
    cli_json_kv_string(j, "kind", kind_name(r->flags));
    cli_json_kv_int(j, "size", r->mb.size);
    cli_json_kv_int(j, "mode", r->mb.mode);
    if (r->mb.has_protection_class)
        cli_json_kv_int(j, "protectionClass", r->mb.protection_class);
    else
        cli_json_kv_string(j, "protectionClass", NULL);
    cli_json_kv_int(j, "mtime", r->mb.mtime);
    cli_json_kv_int(j, "uid", r->mb.uid);
    cli_json_kv_int(j, "gid", r->mb.gid);
    if (r->mb.target)
        cli_json_kv_string(j, "target", r->mb.target);
    cli_json_object_end(j);
}

static void print_record_human(const ferry_record_t *r)
{
    char date[32];
    time_t t = (time_t)r->mb.mtime;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M", &tm);
    char cls[8] = "-";
    if (r->mb.has_protection_class)
        snprintf(cls, sizeof cls, "%d", r->mb.protection_class);
    printf("%c %04o %12lld %2s %s %s/%s%s%s\n", kind_char(r->flags), (unsigned)r->mb.mode & 07777,
           (long long)r->mb.size, cls, date, r->domain, r->relative_path, r->mb.target ? " -> " : "",
           r->mb.target ? r->mb.target : "");
}

int cmd_ls(int argc, char **argv)
{
    static const struct option longopts[] = {{"json", no_argument, NULL, OPT_JSON},
                                             {"domain", required_argument, NULL, OPT_DOMAIN},
                                             CLI_BACKUP_LONGOPTS,
                                             {0}};
    cli_backup_opts_t o;
    cli_backup_opts_init(&o);
    int json = 0, opt, h;
    const char *domain = NULL;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if ((h = cli_backup_opt(&o, "ls", opt, optarg)) != 0) {
            if (h != 1)
                return h;
        } else if (opt == OPT_JSON) {
            json = 1;
        } else if (opt == OPT_DOMAIN) {
            domain = optarg;
        } else if (opt == OPT_HELP) {
            printf("usage: ferry ls DIR [--domain D] [--json]\n" CLI_BACKUP_OPTIONS_HELP);
            return EXIT_OK;
        } else {
            return EXIT_USAGE;
        }
    }
    if (optind + 1 != argc)
        return cli_usage_error("ls", "expected one backup directory (see ferry ls --help)");
    ferry_backup_t *b;
    int rc = cli_backup_open(argv[optind], &o, &b);
    if (rc)
        return cli_fail(rc);
    ferry_backup_iter_t *it;
    if ((rc = ferry_backup_iter_new(b, domain, &it)) != 0) {
        ferry_backup_close(b);
        return cli_fail(rc);
    }
    cli_json_t j;
    if (json) {
        cli_json_init(&j, stdout);
        cli_json_object_begin(&j);
        cli_json_kv_string(&j, "backup", ferry_backup_dir(b));
        cli_json_kv_bool(&j, "encrypted", ferry_backup_is_encrypted(b));
        cli_json_key(&j, "records");
        cli_json_array_begin(&j);
    }
    uint64_t listed = 0, refused = 0;
    const ferry_record_t *r;
    while ((rc = ferry_backup_iter_next(it, &r)) != 0) {
        if (rc < 0) {
            refused++;
            fprintf(stderr, "ferry ls: refused: %s\n", ferry_error_last());
            continue;
        }
        listed++;
        if (json)
            print_record_json(&j, r);
        else
            print_record_human(r);
    }
    if (json) {
        cli_json_array_end(&j);
        cli_json_kv_int(&j, "count", (int64_t)listed);
        cli_json_kv_int(&j, "refused", (int64_t)refused);
        cli_json_object_end(&j);
        cli_json_finish(&j);
    }
    ferry_backup_iter_free(it);
    ferry_backup_close(b);
    if (refused) {
        fprintf(stderr, "ferry ls: %llu records refused as malformed or unsafe\n", (unsigned long long)refused);
        return EXIT_INTEGRITY;
    }
    return EXIT_OK;
}
