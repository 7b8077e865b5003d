/*
 * cmd_info.c: `ferry info DIR [--json]`: what a backup is (device, OS, dates, encryption, snapshot
 * state) and what it holds (records by kind, domains, bytes), read from its plists and Manifest.db.
 */
#include "cli.h"
#include "json.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    uint64_t files, dirs, symlinks, refused, bytes, domains;
} info_counts_t;

static int count_records(ferry_backup_t *b, info_counts_t *c)
{
    ferry_backup_iter_t *it;
    int rc = ferry_backup_iter_new(b, NULL, &it);
    if (rc)
        return rc;
    const ferry_record_t *r;
    char *last_domain = NULL;
    while ((rc = ferry_backup_iter_next(it, &r)) != 0) {
        if (rc < 0) {
            c->refused++;
            continue;
        }
        if (!last_domain || strcmp(last_domain, r->domain) != 0) {
            free(last_domain);
            last_domain = strdup(r->domain);
            c->domains++;
        }
        if (r->flags == FERRY_FLAG_FILE) {
            c->files++;
            c->bytes += (uint64_t)r->mb.size;
        } else if (r->flags == FERRY_FLAG_DIR) {
            c->dirs++;
        } else {
            c->symlinks++;
        }
    }
    free(last_domain);
    ferry_backup_iter_free(it);
    return 0;
}

static void format_date(int has, int64_t t, char *out, size_t n)
{
    if (!has) {
        snprintf(out, n, "-");
        return;
    }
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *or_dash(const char *s) { return s ? s : "-"; }

/* Who the backup is from: Manifest.plist's Lockdown values (written by the device), or the host's
 * Info.plist when there is no Manifest.plist (decrypted copies such as mvt's). */
typedef struct {
    const char *udid, *device_name, *product_type, *product_version, *build_version, *serial_number;
    int has_date;
    int64_t date;
} info_ident_t;

static const char *info_string(plist_t info, const char *key)
{
    plist_t n = info ? plist_dict_get_item(info, key) : NULL;
    if (!n || plist_get_node_type(n) != PLIST_STRING)
        return NULL;
    return plist_get_string_ptr(n, NULL);
}

static void ident_fill(ferry_backup_t *b, info_ident_t *id)
{
    const ferry_manifest_plist_t *m = ferry_backup_manifest(b);
    plist_t info = ferry_backup_info_plist(b);
    memset(id, 0, sizeof *id);
    if (m) {
        id->udid = m->udid;
        id->device_name = m->device_name;
        id->product_type = m->product_type;
        id->product_version = m->product_version;
        id->build_version = m->build_version;
        id->serial_number = m->serial_number;
        id->has_date = m->has_date;
        id->date = m->date;
    }
    if (!id->udid)
        id->udid = info_string(info, "Target Identifier");
    if (!id->device_name)
        id->device_name = info_string(info, "Device Name");
    if (!id->product_type)
        id->product_type = info_string(info, "Product Type");
    if (!id->product_version)
        id->product_version = info_string(info, "Product Version");
    if (!id->build_version)
        id->build_version = info_string(info, "Build Version");
    if (!id->serial_number)
        id->serial_number = info_string(info, "Serial Number");
    if (!id->has_date && info)
        id->has_date = ferry_plist_get_date(info, "Last Backup Date", &id->date) == 0;
    ferry_error_clear();
}

static void print_json(ferry_backup_t *b, const info_counts_t *c)
{
    const ferry_manifest_plist_t *m = ferry_backup_manifest(b);
    const ferry_status_plist_t *s = ferry_backup_status(b);
    info_ident_t id;
    ident_fill(b, &id);
    char date[32];
    cli_json_t j;
    cli_json_init(&j, stdout);
    cli_json_object_begin(&j);
    cli_json_kv_string(&j, "path", ferry_backup_dir(b));
    cli_json_kv_bool(&j, "encrypted", ferry_backup_is_encrypted(b));
    cli_json_kv_string(&j, "udid", id.udid);
    cli_json_kv_string(&j, "deviceName", id.device_name);
    cli_json_kv_string(&j, "productType", id.product_type);
    cli_json_kv_string(&j, "productVersion", id.product_version);
    cli_json_kv_string(&j, "buildVersion", id.build_version);
    cli_json_kv_string(&j, "serialNumber", id.serial_number);
    cli_json_kv_string(&j, "manifestVersion", m ? m->version : NULL);
    format_date(id.has_date, id.date, date, sizeof date);
    cli_json_kv_string(&j, "date", id.has_date ? date : NULL);
    cli_json_kv_bool(&j, "wasPasscodeSet", m ? m->was_passcode_set : 0);
    cli_json_kv_string(&j, "snapshotState", s ? s->snapshot_state : NULL);
    cli_json_kv_string(&j, "backupState", s ? s->backup_state : NULL);
    cli_json_kv_bool(&j, "isFullBackup", s ? s->is_full_backup : 0);
    cli_json_kv_int(&j, "applications", m && m->applications ? plist_dict_get_size(m->applications) : 0);
    cli_json_key(&j, "records");
    cli_json_object_begin(&j);
    cli_json_kv_int(&j, "files", (int64_t)c->files);
    cli_json_kv_int(&j, "directories", (int64_t)c->dirs);
    cli_json_kv_int(&j, "symlinks", (int64_t)c->symlinks);
    cli_json_kv_int(&j, "refused", (int64_t)c->refused);
    cli_json_object_end(&j);
    cli_json_kv_int(&j, "domains", (int64_t)c->domains);
    cli_json_kv_int(&j, "bytes", (int64_t)c->bytes);
    cli_json_object_end(&j);
    cli_json_finish(&j);
}

static void print_human(ferry_backup_t *b, const info_counts_t *c)
{
    const ferry_manifest_plist_t *m = ferry_backup_manifest(b);
    const ferry_status_plist_t *s = ferry_backup_status(b);
    info_ident_t id;
    ident_fill(b, &id);
    char date[32];
    format_date(id.has_date, id.date, date, sizeof date);
    printf("Backup          %s\n", ferry_backup_dir(b));
    printf("Device          %s (%s, iOS %s, build %s)\n", or_dash(id.device_name),
           or_dash(id.product_type), or_dash(id.product_version),
           or_dash(id.build_version));
    printf("UDID            %s\n", or_dash(id.udid));
    printf("Serial number   %s\n", or_dash(id.serial_number));
    printf("Date            %s\n", date);
    printf("Encrypted       %s\n", ferry_backup_is_encrypted(b) ? "yes" : "no");
    printf("Passcode set    %s\n", m && m->was_passcode_set ? "yes" : "no");
    printf("Snapshot        %s%s\n", or_dash(s ? s->snapshot_state : NULL),
           s && s->is_full_backup ? " (full backup)" : "");
    printf("Applications    %u\n", m && m->applications ? plist_dict_get_size(m->applications) : 0);
    printf("Records         %llu files, %llu directories, %llu symlinks in %llu domains\n",
           (unsigned long long)c->files, (unsigned long long)c->dirs, (unsigned long long)c->symlinks,
           (unsigned long long)c->domains);
    printf("Content         %llu bytes\n", (unsigned long long)c->bytes);
    if (!m)
        printf("Note            no Manifest.plist: treated as an unencrypted (decrypted) backup\n");
    if (c->refused)
        printf("Refused         %llu records are malformed or unsafe (run `ferry verify` for details)\n",
               (unsigned long long)c->refused);
}

int cmd_info(int argc, char **argv)
{
    static const struct option longopts[] = {{"json", no_argument, NULL, OPT_JSON}, CLI_BACKUP_LONGOPTS, {0}};
    cli_backup_opts_t o;
    cli_backup_opts_init(&o);
    int json = 0, opt, h;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if ((h = cli_backup_opt(&o, "info", opt, optarg)) != 0) {
            if (h != 1)
                return h;
        } else if (opt == OPT_JSON) {
            json = 1;
        } else if (opt == OPT_HELP) {
            printf("usage: ferry info DIR [--json]\n" CLI_BACKUP_OPTIONS_HELP);
            return EXIT_OK;
        } else {
            return EXIT_USAGE;
        }
    }
    if (optind + 1 != argc)
        return cli_usage_error("info", "expected one backup directory (see ferry info --help)");
    ferry_backup_t *b;
    int rc = cli_backup_open(argv[optind], &o, &b);
    if (rc)
        return cli_fail(rc);
    info_counts_t c = {0};
    rc = count_records(b, &c);
    if (rc == 0) {
        if (json)
            print_json(b, &c);
        else
            print_human(b, &c);
    }
    ferry_backup_close(b);
    return rc ? cli_fail(rc) : EXIT_OK;
}
