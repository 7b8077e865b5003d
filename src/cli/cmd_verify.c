/*
 * cmd_verify.c: `ferry verify DIR [--quick] [--json]`, or a repository snapshot with
 * `--repo DIR (--latest -u UDID | SNAPSHOT_ID)` (resolved by cmd_repo.c): checks a backup's structure,
 * plists, database, records and blobs, and (unless --quick) reads and decrypts every file against its record. Prints each
 * finding and a verdict; exits non-zero when anything is wrong.
 */
#include "cli.h"
#include "json.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    int json;
    cli_json_t j;
} verify_out_t;

static void on_finding(void *ctx, ferry_verify_severity_t sev, const char *what, const char *msg)
{
    verify_out_t *v = ctx;
    const char *level = sev == FERRY_VERIFY_PROBLEM ? "problem" : sev == FERRY_VERIFY_WARNING ? "warning" : "ok";
    if (v->json) {
        cli_json_object_begin(&v->j);
        cli_json_kv_string(&v->j, "severity", level);
        cli_json_kv_string(&v->j, "what", what);
        cli_json_kv_string(&v->j, "message", msg);
        cli_json_object_end(&v->j);
    } else if (sev != FERRY_VERIFY_OK) {
        printf("%-8s %s: %s\n", level, what ? what : "backup", msg);
    }
}

int cmd_verify(int argc, char **argv)
{
    static const struct option longopts[] = {{"quick", no_argument, NULL, OPT_QUICK},
                                             {"json", no_argument, NULL, OPT_JSON},
                                             {"repo", required_argument, NULL, 'r'},
                                             {"latest", no_argument, NULL, 'L'},
                                             CLI_BACKUP_LONGOPTS,
                                             {0}};
    cli_backup_opts_t o;
    cli_backup_opts_init(&o);
    ferry_verify_opts_t vo = {.decrypt_content = 1};
    verify_out_t v = {0};
    int opt, h, latest = 0;
    const char *repo = NULL, *udid = NULL;
    while ((opt = getopt_long(argc, argv, "u:", longopts, NULL)) != -1) {
        if ((h = cli_backup_opt(&o, "verify", opt, optarg)) != 0) {
            if (h != 1)
                return h;
        } else if (opt == OPT_QUICK) {
            vo.decrypt_content = 0;
        } else if (opt == OPT_JSON) {
            v.json = 1;
        } else if (opt == 'r') {
            repo = optarg;
        } else if (opt == 'u') {
            udid = optarg;
        } else if (opt == 'L') {
            latest = 1;
        } else if (opt == OPT_HELP) {
            printf("usage: ferry verify DIR [--quick] [--json]\n"
                   "       ferry verify [--repo DIR] (--latest -u UDID | SNAPSHOT_ID) [--quick] [--json]\n"
                   "  --quick   check structure, records and blob lengths, without reading file contents\n"
                   CLI_BACKUP_OPTIONS_HELP);
            return EXIT_OK;
        } else {
            return EXIT_USAGE;
        }
    }
    if (latest ? optind != argc : optind + 1 != argc)
        return cli_usage_error("verify", "expected one backup directory (see ferry verify --help)");
    char *dir;
    int rc = repo || latest ? cli_repo_resolve(repo, latest ? NULL : argv[optind], udid, latest, &dir)
                            : cli_backup_resolve_dir(argv[optind], &dir);
    if (rc)
        return cli_fail(rc);
    ferry_credentials_t cred;
    uint8_t kek[32];
    memset(&cred, 0, sizeof cred);
    /* verify opens the backup itself; an encrypted one needs credentials before its database can be
     * read at all. */
    char *mp = ferry_path_join(dir, "Manifest.plist");
    ferry_manifest_plist_t m;
    if (mp && ferry_manifest_plist_read(mp, &m) == 0) {
        if (m.is_encrypted)
            rc = cli_credentials_get(&o, &cred, kek);
        ferry_manifest_plist_clear(&m);
    }
    free(mp);
    if (rc) {
        free(dir);
        return cli_fail(rc);
    }
    cred.limits.max_dpic = cred.limits.max_iter = o.kdf_max;
    if (v.json) {
        cli_json_init(&v.j, stdout);
        cli_json_object_begin(&v.j);
        cli_json_kv_string(&v.j, "backup", dir);
        cli_json_key(&v.j, "findings");
        cli_json_array_begin(&v.j);
    }
    ferry_verify_report_t rep = {0};
    rc = ferry_backup_verify(dir, &cred, &vo, on_finding, &v, &rep);
    cli_credentials_clear(&cred);
    ferry_wipe(kek, sizeof kek);
    const char *verdict = rc == 0 ? "ok" : rc == FERRY_EINTEGRITY ? "problems" : "error";
    if (v.json) {
        cli_json_array_end(&v.j);
        cli_json_kv_string(&v.j, "verdict", verdict);
        if (rc && rc != FERRY_EINTEGRITY)
            cli_json_kv_string(&v.j, "error", ferry_error_last());
        cli_json_kv_int(&v.j, "records", (int64_t)rep.records);
        cli_json_kv_int(&v.j, "files", (int64_t)rep.files);
        cli_json_kv_int(&v.j, "bytes", (int64_t)rep.bytes);
        cli_json_kv_int(&v.j, "problems", (int64_t)rep.problems);
        cli_json_kv_int(&v.j, "warnings", (int64_t)rep.warnings);
        cli_json_object_end(&v.j);
        cli_json_finish(&v.j);
    } else if (rc == 0 || rc == FERRY_EINTEGRITY) {
        printf("%s: %s: %llu records, %llu files (%llu bytes)%s; %llu problems, %llu warnings\n",
               rc == 0 ? "OK" : "FAILED", dir, (unsigned long long)rep.records, (unsigned long long)rep.files,
               (unsigned long long)rep.bytes, vo.decrypt_content ? " read and checked" : " checked by length",
               (unsigned long long)rep.problems, (unsigned long long)rep.warnings);
    }
    free(dir);
    if (rc == FERRY_EINTEGRITY)
        return EXIT_INTEGRITY;
    return rc ? cli_fail(rc) : EXIT_OK;
}
