/*
 * cmd_review.c: `ferry review BACKUP [--json]`: the private data a backup holds, by group and item,
 * to review before a backup is restored to other devices (RULES.md X1, the seed's advice to review a
 * device's content). The grouping is libferry's (ferry_backup_review); this file parses arguments and
 * prints. The groups a restore can leave out (the data categories) say how: `--skip NAME`.
 */
#include "cli.h"
#include "json.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "usage: ferry review BACKUP [--json]\n"
    "Lists the private data BACKUP holds, by category and item (X1): saved passwords, call history,\n"
    "Health, website history, Wi-Fi networks, photos, accounts, messages, contacts, the keychain\n"
    "export of an unencrypted backup (certificates only, B3) and each app's data. The categories can\n"
    "be left out of a restore (ferry plan restore --skip, ferry device serve --restore-skip).\n"
    "Options for an encrypted BACKUP:\n" CLI_BACKUP_OPTIONS_HELP;

/* Why a group is there, in the rules' words. */
static const char *group_rules(ferry_review_group_t g)
{
    switch (g) {
    case FERRY_REVIEW_PHOTOS: return "X1 B1";
    case FERRY_REVIEW_PASSWORDS: case FERRY_REVIEW_CALL_HISTORY: case FERRY_REVIEW_HEALTH:
    case FERRY_REVIEW_WEBSITE_HISTORY: case FERRY_REVIEW_WIFI: case FERRY_REVIEW_CERTIFICATES: return "X1 B3";
    default: return "X1";
    }
}

static const char *empty_note(const ferry_review_t *r, ferry_review_group_t g)
{
    if (!r->encrypted && ferry_backup_review_group_category(g) & FERRY_BACKUP_CAT_PASSWORDS)
        return "none: an unencrypted backup never holds saved passwords (B3)";
    if (!r->encrypted && g < FERRY_REVIEW_PHOTOS)
        return "none: an unencrypted backup never holds this category (B3)";
    return "none";
}

static void human_size(uint64_t n, char *out, size_t len)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)n;
    size_t u = 0;
    while (v >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(out, len, "%llu B", (unsigned long long)n);
    else
        snprintf(out, len, "%.1f %s", v, units[u]);
}

static void print_human(const char *path, const ferry_review_t *r)
{
    printf("Private data in %s (%s), to review before restoring it to other devices (X1):\n", path,
           r->encrypted ? "encrypted" : "not encrypted");
    char sz[32];
    for (unsigned g = 0; g < FERRY_REVIEW_GROUPS; g++) {
        const char *name = ferry_backup_review_group_name((ferry_review_group_t)g);
        if (!r->groups[g].n) {
            printf("%-16s %s\n", name, empty_note(r, (ferry_review_group_t)g));
            continue;
        }
        human_size(r->groups[g].bytes, sz, sizeof sz);
        printf("%-16s %llu %s, %s [%s]%s%s\n", name, (unsigned long long)r->groups[g].files,
               r->groups[g].files == 1 ? "file" : "files", sz, group_rules((ferry_review_group_t)g),
               ferry_backup_review_group_category((ferry_review_group_t)g) ? "; leave out with --skip " : "",
               ferry_backup_review_group_category((ferry_review_group_t)g) ? name : "");
        for (size_t i = 0; i < r->groups[g].n; i++) {
            const ferry_review_item_t *it = &r->groups[g].items[i];
            human_size(it->bytes, sz, sizeof sz);
            if (it->relative_path)
                printf("  %s/%s  %s\n", it->domain, it->relative_path, sz);
            else
                printf("  %-40s %llu %s, %s\n", it->domain, (unsigned long long)it->files,
                       it->files == 1 ? "file" : "files", sz);
        }
    }
    if (r->refused)
        printf("%llu records were refused by the reader and are not listed (ferry verify says why)\n",
               (unsigned long long)r->refused);
}

static void print_json(const char *path, const ferry_review_t *r)
{
    cli_json_t j;
    cli_json_init(&j, stdout);
    cli_json_object_begin(&j);
    cli_json_kv_string(&j, "backup", path);
    cli_json_kv_bool(&j, "encrypted", r->encrypted);
    cli_json_key(&j, "groups");
    cli_json_array_begin(&j);
    for (unsigned g = 0; g < FERRY_REVIEW_GROUPS; g++) {
        cli_json_object_begin(&j);
        cli_json_kv_string(&j, "group", ferry_backup_review_group_name((ferry_review_group_t)g));
        cli_json_kv_bool(&j, "skippable", ferry_backup_review_group_category((ferry_review_group_t)g) != 0);
        cli_json_key(&j, "rules");
        cli_json_array_begin(&j);
        char rules[16];
        snprintf(rules, sizeof rules, "%s", group_rules((ferry_review_group_t)g));
        for (char *save = NULL, *t = strtok_r(rules, " ", &save); t; t = strtok_r(NULL, " ", &save))
            cli_json_string(&j, t);
        cli_json_array_end(&j);
        cli_json_kv_int(&j, "files", (int64_t)r->groups[g].files);
        cli_json_kv_int(&j, "bytes", (int64_t)r->groups[g].bytes);
        cli_json_key(&j, "items");
        cli_json_array_begin(&j);
        for (size_t i = 0; i < r->groups[g].n; i++) {
            const ferry_review_item_t *it = &r->groups[g].items[i];
            cli_json_object_begin(&j);
            if (it->relative_path) {
                cli_json_kv_string(&j, "domain", it->domain);
                cli_json_kv_string(&j, "path", it->relative_path);
            } else {
                cli_json_kv_string(&j, "app", it->domain);
                cli_json_kv_int(&j, "files", (int64_t)it->files);
            }
            cli_json_kv_int(&j, "bytes", (int64_t)it->bytes);
            cli_json_object_end(&j);
        }
        cli_json_array_end(&j);
        cli_json_object_end(&j);
    }
    cli_json_array_end(&j);
    cli_json_kv_int(&j, "refused", (int64_t)r->refused);
    cli_json_object_end(&j);
    cli_json_finish(&j);
}

int cmd_review(int argc, char **argv)
{
    static const struct option longopts[] = {{"json", no_argument, NULL, OPT_JSON}, CLI_BACKUP_LONGOPTS, {0}};
    cli_backup_opts_t o;
    cli_backup_opts_init(&o);
    int json = 0, opt, h;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if ((h = cli_backup_opt(&o, "review", opt, optarg)) != 0) {
            if (h != 1)
                return h;
        } else if (opt == OPT_JSON) {
            json = 1;
        } else if (opt == OPT_HELP) {
            fputs(USAGE, stdout);
            return EXIT_OK;
        } else {
            return EXIT_USAGE;
        }
    }
    if (optind + 1 != argc)
        return cli_usage_error("review", "expected one backup directory (see ferry review --help)");
    ferry_backup_t *b;
    int rc = cli_backup_open(argv[optind], &o, &b);
    if (rc)
        return cli_fail(rc);
    ferry_review_t r;
    rc = ferry_backup_review(b, &r);
    if (rc == 0) {
        if (json)
            print_json(ferry_backup_dir(b), &r);
        else
            print_human(ferry_backup_dir(b), &r);
        ferry_review_clear(&r);
    }
    ferry_backup_close(b);
    return rc ? cli_fail(rc) : EXIT_OK;
}
