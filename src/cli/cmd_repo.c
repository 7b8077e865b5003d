/*
 * cmd_repo.c: the backup repository commands: `ferry snapshots [list|path|import]` and `ferry prune`,
 * and the resolution of `--repo`/`--latest`/SNAPSHOT_ID into a backup folder for `ferry verify`.
 * Argument parsing and output only; the repository itself is src/store (ferry/store.h).
 */
#include "cli.h"
#include "json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ferry/store.h"

enum { OPT_REPO = 2000, OPT_LATEST, OPT_KEEP, OPT_VERIFY_IMPORT };

static void iso_date(int64_t t, char *out, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!t || !gmtime_r(&tt, &tm) || !strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(out, n, "-");
}

static void human_bytes(uint64_t b, char *out, size_t n)
{
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)b;
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    snprintf(out, n, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

/* Opens --repo DIR, or the default location; only an import creates it. */
static int open_repo_how(const char *repo, int create, ferry_store_t **st)
{
    char *loc = NULL;
    int rc = repo ? ((loc = strdup(repo)) ? 0 : ferry_error_set(FERRY_ENOMEM, "out of memory"))
                  : ferry_store_default_location(&loc);
    if (rc == 0)
        rc = create ? ferry_store_open(loc, st) : ferry_store_open_existing(loc, st);
    free(loc);
    return rc;
}

static int open_repo(const char *repo, ferry_store_t **st)
{
    return open_repo_how(repo, 0, st);
}

int cli_repo_resolve(const char *repo, const char *id, const char *udid, int latest, char **dir)
{
    *dir = NULL;
    ferry_store_t *st;
    int rc = open_repo(repo, &st);
    if (rc)
        return rc;
    ferry_snapshot_info_t s;
    if (latest)
        rc = udid ? ferry_store_latest(st, udid, &s)
                  : ferry_error_set(FERRY_EINVAL, "--latest needs -u UDID (ferry snapshots lists the devices)");
    if (rc == 0)
        rc = ferry_store_snapshot_path(st, latest ? s.id : id, dir);
    ferry_store_close(st);
    return rc;
}

static void json_snapshot(cli_json_t *j, ferry_store_t *st, const ferry_snapshot_info_t *s)
{
    char date[32], bdate[32];
    char *path = NULL;
    iso_date(s->date, date, sizeof date);
    iso_date(s->backup_date, bdate, sizeof bdate);
    /* A remote backend would materialise the whole snapshot to give a path: only local ones have it. */
    if (strcmp(ferry_store_backend_name(st), "local") || ferry_store_snapshot_path(st, s->id, &path) != 0)
        path = NULL;
    cli_json_object_begin(j);
    cli_json_kv_string(j, "id", s->id);
    cli_json_kv_string(j, "udid", s->udid);
    cli_json_kv_string(j, "date", date);
    cli_json_kv_string(j, "backupDate", s->backup_date ? bdate : NULL);
    cli_json_kv_bool(j, "encrypted", s->encrypted);
    cli_json_kv_int(j, "files", (int64_t)s->files);
    cli_json_kv_int(j, "bytes", (int64_t)s->bytes);
    cli_json_kv_int(j, "addedBytes", (int64_t)s->added_bytes);
    cli_json_kv_string(j, "parent", s->parent[0] ? s->parent : NULL);
    cli_json_kv_string(j, "path", path);
    cli_json_object_end(j);
    free(path);
}

static void print_table(const ferry_snapshot_info_t *v, size_t n)
{
    printf("%-29s %-25s %-20s %-4s %9s %10s %10s\n", "ID", "UDID", "DATE", "ENC", "FILES", "SIZE", "ADDED");
    for (size_t i = 0; i < n; i++) {
        char date[32], size[32], added[32];
        iso_date(v[i].date, date, sizeof date);
        human_bytes(v[i].bytes, size, sizeof size);
        human_bytes(v[i].added_bytes, added, sizeof added);
        printf("%-29s %-25s %-20s %-4s %9llu %10s %10s\n", v[i].id, v[i].udid, date, v[i].encrypted ? "yes" : "no",
               (unsigned long long)v[i].files, size, added);
    }
}

typedef struct {
    const char *repo, *udid;
    int json, latest, verify;
    size_t keep;
    cli_backup_opts_t bo;
} repo_args_t;

#define REPO_HELP                                                                                        \
    "usage: ferry snapshots [list] [--repo DIR] [-u UDID] [--json]\n"                                   \
    "       ferry snapshots path (ID | --latest -u UDID) [--repo DIR]\n"                                 \
    "       ferry snapshots import DIR [--repo DIR] [--verify] [--json]\n"                               \
    "       ferry snapshots usage [--repo s3://BUCKET/PREFIX] [--json]\n"                               \
    "  --repo DIR   the repository (default: $FERRY_REPO, else ~/.local/share/ferry/repo); a folder or\n" \
    "               s3://BUCKET/PREFIX (docs/fleet.md)\n"                                                \
    "  -u UDID      only this device's snapshots\n"                                                     \
    "  --latest     the device's newest snapshot\n"                                                     \
    "  --verify     import: verify (quick) before committing; an encrypted backup needs its password\n"  \
    "  --json       machine-readable output (docs/cli.md)\n"

static int parse(int argc, char **argv, const char *cmd, repo_args_t *a)
{
    static const struct option longopts[] = {{"repo", required_argument, NULL, OPT_REPO},
                                             {"latest", no_argument, NULL, OPT_LATEST},
                                             {"keep", required_argument, NULL, OPT_KEEP},
                                             {"verify", no_argument, NULL, OPT_VERIFY_IMPORT},
                                             {"json", no_argument, NULL, OPT_JSON},
                                             CLI_BACKUP_LONGOPTS,
                                             {0}};
    int opt, h;
    char *end;
    while ((opt = getopt_long(argc, argv, "u:", longopts, NULL)) != -1) {
        if ((h = cli_backup_opt(&a->bo, cmd, opt, optarg)) != 0) {
            if (h != 1)
                return h;
            continue;
        }
        switch (opt) {
        case OPT_REPO: a->repo = optarg; break;
        case 'u': a->udid = optarg; break;
        case OPT_LATEST: a->latest = 1; break;
        case OPT_VERIFY_IMPORT: a->verify = 1; break;
        case OPT_JSON: a->json = 1; break;
        case OPT_KEEP:
            errno = 0;
            unsigned long long k = strtoull(optarg, &end, 10);
            if (errno || *end || k < 1 || optarg[0] == '-')
                return cli_usage_error(cmd, "--keep takes a number of snapshots >= 1, not '%s'", optarg);
            a->keep = (size_t)k;
            break;
        case OPT_HELP:
            if (!strcmp(cmd, "prune"))
                printf("usage: ferry prune --keep N [-u UDID] [--repo DIR] [--json]\n"
                       "  keeps the N newest snapshots of each device (or of UDID) and removes the others\n");
            else
                printf(REPO_HELP);
            return -1;
        default: return EXIT_USAGE;
        }
    }
    return 0;
}

static int snapshots_list(repo_args_t *a)
{
    ferry_store_t *st;
    int rc = open_repo(a->repo, &st);
    if (rc)
        return cli_fail(rc);
    ferry_snapshot_info_t *v;
    size_t n;
    if ((rc = ferry_store_list(st, a->udid, &v, &n)) != 0) {
        ferry_store_close(st);
        return cli_fail(rc);
    }
    if (a->json) {
        cli_json_t j;
        cli_json_init(&j, stdout);
        cli_json_object_begin(&j);
        cli_json_kv_string(&j, "repository", ferry_store_location(st));
        cli_json_kv_string(&j, "backend", ferry_store_backend_name(st));
        cli_json_key(&j, "snapshots");
        cli_json_array_begin(&j);
        for (size_t i = 0; i < n; i++)
            json_snapshot(&j, st, &v[i]);
        cli_json_array_end(&j);
        cli_json_kv_int(&j, "count", (int64_t)n);
        cli_json_object_end(&j);
        cli_json_finish(&j);
    } else {
        print_table(v, n);
    }
    free(v);
    ferry_store_close(st);
    return EXIT_OK;
}

static int snapshots_path(repo_args_t *a, int argc, char **argv)
{
    if (a->latest ? optind != argc : optind + 1 != argc)
        return cli_usage_error("snapshots", "path takes one snapshot ID, or --latest -u UDID");
    char *dir;
    int rc = cli_repo_resolve(a->repo, a->latest ? NULL : argv[optind], a->udid, a->latest, &dir);
    if (rc)
        return cli_fail(rc);
    printf("%s\n", dir);
    free(dir);
    return EXIT_OK;
}

/* The password only matters for --verify of an encrypted backup. */
static int import_credentials(const repo_args_t *a, const char *dir, ferry_credentials_t *cred, uint8_t kek[32])
{
    memset(cred, 0, sizeof *cred);
    if (!a->verify)
        return 0;
    char *mp = ferry_path_join(dir, "Manifest.plist");
    ferry_manifest_plist_t m;
    int enc = 0;
    if (mp && ferry_manifest_plist_read(mp, &m) == 0) {
        enc = m.is_encrypted;
        ferry_manifest_plist_clear(&m);
    }
    free(mp);
    ferry_error_clear();
    cred->limits.max_dpic = cred->limits.max_iter = a->bo.kdf_max;
    return enc ? cli_credentials_get(&a->bo, cred, kek) : 0;
}

static int snapshots_import(repo_args_t *a, int argc, char **argv)
{
    if (optind + 1 != argc)
        return cli_usage_error("snapshots", "import takes one backup folder (a <UDID> folder with Manifest.db)");
    char *dir;
    int rc = cli_backup_resolve_dir(argv[optind], &dir);
    if (rc)
        return cli_fail(rc);
    ferry_credentials_t cred;
    uint8_t kek[32];
    if ((rc = import_credentials(a, dir, &cred, kek)) != 0) {
        free(dir);
        return cli_fail(rc);
    }
    ferry_store_t *st = NULL;
    ferry_snapshot_info_t s;
    ferry_commit_opts_t co = {.verify = a->verify, .cred = &cred};
    if ((rc = open_repo_how(a->repo, 1, &st)) == 0)
        rc = ferry_store_import(st, dir, &co, &s);
    cli_credentials_clear(&cred);
    ferry_wipe(kek, sizeof kek);
    free(dir);
    if (rc) {
        ferry_store_close(st);
        return cli_fail(rc);
    }
    if (a->json) {
        cli_json_t j;
        cli_json_init(&j, stdout);
        json_snapshot(&j, st, &s);
        cli_json_finish(&j);
    } else {
        char size[32], added[32];
        human_bytes(s.bytes, size, sizeof size);
        human_bytes(s.added_bytes, added, sizeof added);
        printf("snapshot %s of %s: %llu files, %s (%s added)\n", s.id, s.udid, (unsigned long long)s.files, size,
               added);
    }
    ferry_store_close(st);
    return EXIT_OK;
}

/* What the repository stores (the S3 backend: the sum of its objects), for the deduplication figures. */
static int snapshots_usage(repo_args_t *a, int argc, char **argv)
{
    if (optind != argc)
        return cli_usage_error("snapshots", "usage takes no argument");
    ferry_store_t *st;
    int rc = open_repo(a->repo, &st);
    if (rc)
        return cli_fail(rc);
    uint64_t bytes, objects;
    ferry_snapshot_info_t *v = NULL;
    size_t n = 0;
    uint64_t logical = 0;
    rc = ferry_store_usage(st, &bytes, &objects);
    if (rc == 0)
        rc = ferry_store_list(st, NULL, &v, &n);
    for (size_t i = 0; i < n; i++)
        logical += v[i].bytes;
    free(v);
    ferry_store_close(st);
    if (rc)
        return cli_fail(rc);
    if (a->json) {
        cli_json_t j;
        cli_json_init(&j, stdout);
        cli_json_object_begin(&j);
        cli_json_kv_int(&j, "storedBytes", (int64_t)bytes);
        cli_json_kv_int(&j, "objects", (int64_t)objects);
        cli_json_kv_int(&j, "snapshots", (int64_t)n);
        cli_json_kv_int(&j, "snapshotBytes", (int64_t)logical);
        cli_json_object_end(&j);
        cli_json_finish(&j);
    } else {
        char sb[32], lb[32];
        human_bytes(bytes, sb, sizeof sb);
        human_bytes(logical, lb, sizeof lb);
        printf("stored %llu bytes (%s) in %llu objects for %zu snapshots of %llu bytes (%s)\n",
               (unsigned long long)bytes, sb, (unsigned long long)objects, n, (unsigned long long)logical, lb);
    }
    return EXIT_OK;
}

int cmd_snapshots(int argc, char **argv)
{
    repo_args_t a;
    memset(&a, 0, sizeof a);
    cli_backup_opts_init(&a.bo);
    const char *sub = "list";
    if (argc > 1 && argv[1][0] != '-') {
        sub = argv[1];
        argc--;
        argv++;
    }
    int rc = parse(argc, argv, "snapshots", &a);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    if (!strcmp(sub, "list")) {
        if (optind != argc)
            return cli_usage_error("snapshots", "unexpected argument '%s' (see ferry snapshots --help)", argv[optind]);
        return snapshots_list(&a);
    }
    if (!strcmp(sub, "path"))
        return snapshots_path(&a, argc, argv);
    if (!strcmp(sub, "import"))
        return snapshots_import(&a, argc, argv);
    if (!strcmp(sub, "usage"))
        return snapshots_usage(&a, argc, argv);
    return cli_usage_error("snapshots", "unknown subcommand '%s' (list, path, import or usage)", sub);
}

int cmd_prune(int argc, char **argv)
{
    repo_args_t a;
    memset(&a, 0, sizeof a);
    cli_backup_opts_init(&a.bo);
    int rc = parse(argc, argv, "prune", &a);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    if (optind != argc)
        return cli_usage_error("prune", "unexpected argument '%s'", argv[optind]);
    if (!a.keep)
        return cli_usage_error("prune", "--keep N is required (the number of newest snapshots to keep per device)");
    ferry_store_t *st;
    if ((rc = open_repo(a.repo, &st)) != 0)
        return cli_fail(rc);
    ferry_prune_report_t rep;
    ferry_snapshot_info_t *gone = NULL;
    size_t ngone = 0;
    rc = ferry_store_prune(st, a.udid, a.keep, &rep, &gone, &ngone);
    ferry_store_close(st);
    if (rc)
        return cli_fail(rc);
    if (a.json) {
        cli_json_t j;
        cli_json_init(&j, stdout);
        cli_json_object_begin(&j);
        cli_json_kv_int(&j, "kept", (int64_t)rep.kept);
        cli_json_kv_int(&j, "removed", (int64_t)rep.removed);
        cli_json_kv_int(&j, "freedBytes", (int64_t)rep.freed_bytes);
        cli_json_key(&j, "removedIds");
        cli_json_array_begin(&j);
        for (size_t i = 0; i < ngone; i++)
            cli_json_string(&j, gone[i].id);
        cli_json_array_end(&j);
        cli_json_object_end(&j);
        cli_json_finish(&j);
    } else {
        char freed[32];
        human_bytes(rep.freed_bytes, freed, sizeof freed);
        for (size_t i = 0; i < ngone; i++)
            printf("removed %s (%s)\n", gone[i].id, gone[i].udid);
        printf("kept %zu snapshots, removed %zu, freed %s\n", rep.kept, rep.removed, freed);
    }
    free(gone);
    return EXIT_OK;
}
