/*
 * cmd_device.c: `ferry device create|show|install-profile|remove-profile|install-app|remove-app|set|
 * backup`: argument parsing and output only; the device directory, templates and profile parsing live in
 * src/device (include/ferry/device.h). The backup password is never taken from argv: `set DIR
 * backup-password` reads FERRY_BACKUP_PASSWORD or --password-file.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ferry/device.h"
#include "plist_json.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: ferry device <command> DIR ...\n\n"
            "  create DIR --template T [--files N] [--size BYTES] [--seed K] [--mdm-url URL] [--name NAME]\n"
            "  show DIR [--json] [--no-files]\n"
            "  install-profile DIR FILE [--source Manual|Enrollment|MDM|Configurator]\n"
            "  remove-profile DIR IDENTIFIER|FILE\n"
            "  install-app DIR BUNDLE_ID [--name N] [--managed] [--flags 0|1|4|5] [--declarative ID]\n"
            "              [--no-backup] [--placeholder] [--data-size BYTES] [--seed K]\n"
            "  remove-app DIR BUNDLE_ID\n"
            "  set DIR KEY VALUE\n"
            "  set DIR backup-password [--password-file FILE | --clear]   (else $FERRY_BACKUP_PASSWORD)\n"
            "  backup DIR OUT [--encrypted] [--icloud] [--account personal|managed] [--password-file FILE]\n"
            "              [--kdf-dpic N]   offline backup of the emulated device into OUT/<UDID>\n"
            "  checkin DIR [--url URL] [--restored] [--json]   check in with the MDM server (--help)\n"
            "  serve DIR... --listen UNIX:PATH|HOST:PORT [--state DIR] [--verbose] [--kdf-dpic N]\n"
            "  icloud-backup DIR --store STORE [--account personal|managed] [--manual] [--kdf-dpic N]\n"
            "  icloud-restore DIR --store STORE --from UDID [--account ID] [--enrollment-flow] [--decline]\n"
            "              [--host finder|configurator] [--skip CATEGORIES]   (simulated iCloud Backup)\n\n"
            "Templates:\n");
    for (const char *const *t = ferry_device_template_names(); *t; t++)
        fprintf(out, "  %-20s %s\n", *t, ferry_device_template_summary(*t));
    fprintf(out, "\nKeys for set (alias in brackets):\n ");
    int col = 1;
    for (const char *const *k = ferry_device_set_keys(); *k; k++) {
        const char *a = ferry_device_set_alias(*k);
        char item[96];
        snprintf(item, sizeof item, " %s%s%s%s", *k, a ? " [" : "", a ? a : "", a ? "]" : "");
        if (col + (int)strlen(item) > 100) {
            fprintf(out, "\n ");
            col = 1;
        }
        fputs(item, out);
        col += (int)strlen(item);
    }
    fprintf(out, "\n\nBYTES accept K, M, G, T (powers of 1024). The format is described in docs/device-format.md.\n");
}

static int parse_u64(const char *s, uint64_t *out, int allow_suffix)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *s == '-' || errno || end == s)
        return -1;
    uint64_t mul = 1;
    if (allow_suffix && *end) {
        static const char *suf[] = {"K", "M", "G", "T"};
        int found = 0;
        for (int i = 0; i < 4 && !found; i++) {
            char a[8], b[8];
            snprintf(a, sizeof a, "%s", suf[i]);
            snprintf(b, sizeof b, "%siB", suf[i]);
            if (!strcasecmp(end, a) || !strcasecmp(end, b)) {
                mul = 1ULL << (10 * (i + 1));
                found = 1;
            }
        }
        if (!found)
            return -1;
    } else if (*end)
        return -1;
    if (v > UINT64_MAX / mul)
        return -1;
    *out = v * mul;
    return 0;
}

static int create(int argc, char **argv)
{
    static const struct option opts[] = {{"template", 1, 0, 't'}, {"files", 1, 0, 'f'}, {"size", 1, 0, 's'},
                                         {"seed", 1, 0, 'k'},     {"mdm-url", 1, 0, 'u'}, {"name", 1, 0, 'n'},
                                         {"help", 0, 0, 'h'},     {0, 0, 0, 0}};
    ferry_device_create_opts_t o;
    ferry_device_create_opts_init(&o);
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 't': o.template_name = optarg; break;
        case 'f':
            if (parse_u64(optarg, &o.files, 0))
                return cli_usage_error("device create", "--files takes a number, not '%s'", optarg);
            break;
        case 's':
            if (parse_u64(optarg, &o.size, 1))
                return cli_usage_error("device create", "--size takes bytes (e.g. 10G), not '%s'", optarg);
            break;
        case 'k':
            if (parse_u64(optarg, &o.seed, 0))
                return cli_usage_error("device create", "--seed takes a number, not '%s'", optarg);
            break;
        case 'u': o.mdm_url = optarg; break;
        case 'n': o.name = optarg; break;
        case 'h': usage(stdout); return EXIT_OK;
        default: return EXIT_USAGE;
        }
    }
    if (optind != argc - 1)
        return cli_usage_error("device create", "needs exactly one DIR (see `ferry device --help`)");
    if (!o.template_name)
        return cli_usage_error("device create", "--template is required (see `ferry device --help` for the list)");
    int rc = ferry_device_create(argv[optind], &o);
    if (rc)
        return cli_fail(rc);
    printf("created %s from template %s (seed %llu)\n", argv[optind], o.template_name, (unsigned long long)o.seed);
    return EXIT_OK;
}

static int load(const char *dir, ferry_device_t **dev)
{
    int rc = ferry_device_load(dir, dev);
    return rc ? cli_fail(rc) : EXIT_OK;
}

/* ---- show ---------------------------------------------------------------------------------------- */

static const char *yes(int v)
{
    return v ? "yes" : "no";
}

static void human_size(uint64_t n, char *buf, size_t len)
{
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)n;
    int i = 0;
    while (v >= 1024 && i < 4) {
        v /= 1024;
        i++;
    }
    snprintf(buf, len, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

static void show_restrictions(plist_t d)
{
    plist_t r = plist_dict_get_item(d, "Restrictions"), m = plist_dict_get_item(d, "RestrictionsSetInSeveralPayloads");
    plist_dict_iter it = NULL;
    printf("Restrictions (effective, B13):");
    plist_dict_new_iter(r, &it);
    int any = 0;
    for (;;) {
        char *k = NULL;
        plist_t v = NULL;
        plist_dict_next_item(r, it, &k, &v);
        if (!k)
            break;
        if (plist_get_node_type(v) == PLIST_BOOLEAN) {
            printf(" %s=%s", k, plist_bool_val_is_true(v) ? "true" : "false");
            any = 1;
        }
        free(k);
    }
    free(it);
    printf("%s\n", any ? "" : " none");
    for (uint32_t i = 0; m && i < plist_array_get_size(m); i++)
        printf("  warning: %s is set in more than one payload\n", plist_get_string_ptr(plist_array_get_item(m, i), NULL));
}

static void show_human(const ferry_device_t *d, plist_t desc)
{
    char sz[32];
    printf("Device       %s (%s %s, version %s, build %s)\n", d->DeviceName, d->DeviceClass, d->ProductType, d->ProductVersion,
           d->BuildVersion);
    printf("UDID         %s   Serial %s   ECID 0x%016llX\n", d->UniqueDeviceID, d->SerialNumber,
           (unsigned long long)d->UniqueChipID);
    plist_t mdm = plist_dict_get_item(desc, "MDM");
    plist_t url = mdm ? plist_dict_get_item(mdm, "ServerURL") : NULL;
    plist_t idt = mdm ? plist_dict_get_item(mdm, "IdentityPayloadType") : NULL;
    printf("Enrollment   %s, supervised %s, multi-user %s%s%s%s%s\n", ferry_policy_enrollment_name(ferry_device_enrollment(d)),
           yes(d->IsSupervised), yes(d->IsMultiUser), url ? ", MDM " : "", url ? plist_get_string_ptr(url, NULL) : "",
           idt ? ", identity " : "", idt ? plist_get_string_ptr(idt, NULL) : "");
    printf("Management   configuration %s, assignment %s, employee plan %s\n",
           d->CloudConfigurationDetails ? "present" : "none", d->AssignmentService ? d->AssignmentService : "none",
           yes(d->EmployeePlan));
    printf("State        locked %s, passcode %s, power %s, Wi-Fi %s, online %s, backup password %s, iCloud Backup %s\n",
           yes(d->IsLocked), yes(d->PasscodePresent), yes(d->ExternalConnected), yes(d->WiFiConnected),
           yes(d->InternetReachable), yes(d->has_backup_password), yes(d->IsCloudBackupEnabled));
    printf("Accounts     personal %s, managed %s\n", d->PersonalAppleAccount ? d->PersonalAppleAccount : "-",
           d->ManagedAppleAccount ? d->ManagedAppleAccount : "-");
    show_restrictions(desc);
    printf("Profiles (%zu)\n", d->n_profiles);
    for (size_t i = 0; i < d->n_profiles; i++) {
        const ferry_profile_t *p = d->profiles[i].profile;
        printf("  %-32s %-6s %-10s", p->PayloadIdentifier, ferry_profile_format_name(p->format),
               ferry_profile_source_name(d->profiles[i].source));
        for (size_t j = 0; j < p->n_payloads; j++)
            printf(" %s", p->payloads[j].PayloadType);
        printf("\n");
    }
    printf("Apps (%zu)\n", d->n_apps);
    for (size_t i = 0; i < d->n_apps; i++) {
        const ferry_app_t *a = &d->apps[i];
        human_size(a->DynamicSize, sz, sizeof sz);
        printf("  %-32s %-9s", a->Identifier, a->DeclarationIdentifier ? "ddm" : a->IsManaged ? "managed" : "unmanaged");
        if (a->DeclarationIdentifier)
            printf(" IncludeInBackup=%s", a->IncludeInBackup ? "true" : "false");
        else if (a->IsManaged)
            printf(" ManagementFlags=%lld", (long long)a->ManagementFlags);
        printf(" %s %s\n", a->Installed ? "installed" : "placeholder", sz);
    }
    printf("Books (%zu)\n", d->n_books);
    for (size_t i = 0; i < d->n_books; i++)
        printf("  %-32s %s\n", d->books[i].Title ? d->books[i].Title : "(untitled)",
               d->books[i].PersistentID ? d->books[i].PersistentID : "store book");
    printf("Keychain     %zu items\n", d->n_keychain);
    plist_t f = plist_dict_get_item(desc, "Files");
    if (f) {
        uint64_t n = 0, s = 0;
        plist_get_uint_val(plist_dict_get_item(f, "Count"), &n);
        plist_get_uint_val(plist_dict_get_item(f, "TotalSize"), &s);
        human_size(s, sz, sizeof sz);
        printf("Files        %llu files, %s;", (unsigned long long)n, sz);
        plist_t cats = plist_dict_get_item(f, "Categories");
        for (int c = 0; c < FERRY_CAT_COUNT; c++) {
            const char *name = ferry_policy_category_name(1u << c);
            uint64_t cn = 0;
            plist_get_uint_val(plist_dict_get_item(plist_dict_get_item(cats, name), "Files"), &cn);
            printf(" %s %llu", name, (unsigned long long)cn);
        }
        printf("\n");
    }
}

static int show(int argc, char **argv)
{
    static const struct option opts[] = {{"json", 0, 0, 'j'}, {"no-files", 0, 0, 'n'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int json = 0, walk = 1, c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'j')
            json = 1;
        else if (c == 'n')
            walk = 0;
        else if (c == 'h') {
            usage(stdout);
            return EXIT_OK;
        } else
            return EXIT_USAGE;
    }
    if (optind != argc - 1)
        return cli_usage_error("device show", "needs exactly one DIR");
    ferry_device_t *d = NULL;
    plist_t desc = NULL;
    int rc = load(argv[optind], &d);
    if (rc)
        return rc;
    int frc = ferry_device_describe(d, walk, &desc);
    if (frc) {
        ferry_device_free(d);
        return cli_fail(frc);
    }
    if (json) {
        cli_json_t j;
        cli_json_init(&j, stdout);
        cli_json_plist(&j, desc);
        cli_json_finish(&j);
    }
    else
        show_human(d, desc);
    plist_free(desc);
    ferry_device_free(d);
    return EXIT_OK;
}

/* ---- edits --------------------------------------------------------------------------------------- */

static int finish(ferry_device_t *d, int rc, const char *done)
{
    ferry_device_free(d);
    if (rc)
        return cli_fail(rc);
    printf("%s\n", done);
    return EXIT_OK;
}

static int install_profile(int argc, char **argv)
{
    static const struct option opts[] = {{"source", 1, 0, 's'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    ferry_profile_source_t src = FERRY_SOURCE_AUTO;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 's') {
            if (ferry_profile_source_parse(optarg, &src))
                return cli_usage_error("device install-profile", "%s", ferry_error_last());
        } else if (c == 'h') {
            usage(stdout);
            return EXIT_OK;
        } else
            return EXIT_USAGE;
    }
    if (optind != argc - 2)
        return cli_usage_error("device install-profile", "needs DIR and FILE");
    ferry_device_t *d = NULL;
    int rc = load(argv[optind], &d);
    if (rc)
        return rc;
    return finish(d, ferry_device_install_profile(d, argv[optind + 1], src), "profile installed");
}

static int remove_profile(int argc, char **argv)
{
    if (argc != 3)
        return cli_usage_error("device remove-profile", "needs DIR and a PayloadIdentifier or file name");
    ferry_device_t *d = NULL;
    int rc = load(argv[1], &d);
    return rc ? rc : finish(d, ferry_device_remove_profile(d, argv[2]), "profile removed");
}

static int install_app(int argc, char **argv)
{
    static const struct option opts[] = {{"name", 1, 0, 'n'},        {"managed", 0, 0, 'm'},   {"flags", 1, 0, 'f'},
                                         {"declarative", 1, 0, 'd'}, {"no-backup", 0, 0, 'b'}, {"placeholder", 0, 0, 'p'},
                                         {"data-size", 1, 0, 's'},   {"seed", 1, 0, 'k'},      {"help", 0, 0, 'h'},
                                         {0, 0, 0, 0}};
    ferry_app_install_t a;
    ferry_app_install_init(&a);
    uint64_t v;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'n': a.name = optarg; break;
        case 'm': a.managed = 1; break;
        case 'f':
            if (parse_u64(optarg, &v, 0) || v > 5)
                return cli_usage_error("device install-app", "--flags takes 0, 1, 4 or 5, not '%s'", optarg);
            a.management_flags = (int64_t)v;
            a.managed = 1;
            break;
        case 'd': a.declaration_id = optarg; break;
        case 'b': a.include_in_backup = 0; break;
        case 'p': a.placeholder = 1; break;
        case 's':
            if (parse_u64(optarg, &a.data_size, 1))
                return cli_usage_error("device install-app", "--data-size takes bytes, not '%s'", optarg);
            break;
        case 'k':
            if (parse_u64(optarg, &a.seed, 0))
                return cli_usage_error("device install-app", "--seed takes a number, not '%s'", optarg);
            break;
        case 'h': usage(stdout); return EXIT_OK;
        default: return EXIT_USAGE;
        }
    }
    if (optind != argc - 2)
        return cli_usage_error("device install-app", "needs DIR and BUNDLE_ID");
    a.bundle_id = argv[optind + 1];
    ferry_device_t *d = NULL;
    int rc = load(argv[optind], &d);
    return rc ? rc : finish(d, ferry_device_install_app(d, &a), "app installed");
}

static int remove_app(int argc, char **argv)
{
    if (argc != 3)
        return cli_usage_error("device remove-app", "needs DIR and BUNDLE_ID");
    ferry_device_t *d = NULL;
    int rc = load(argv[1], &d);
    return rc ? rc : finish(d, ferry_device_remove_app(d, argv[2]), "app removed");
}

/* The password comes from a file (first line) or the environment, never from argv. */
static int read_password(const char *cmd, const char *file, char **pw, size_t *len)
{
    *pw = NULL;
    if (file) {
        FILE *f = fopen(file, "r");
        if (!f) {
            fprintf(stderr, "ferry: cannot open %s: %s\n", file, strerror(errno));
            return EXIT_PASSWORD;
        }
        size_t cap = 0;
        ssize_t n = getline(pw, &cap, f);
        fclose(f);
        if (n < 0) {
            free(*pw);
            *pw = NULL;
            fprintf(stderr, "ferry: %s is empty; it must hold the password on its first line\n", file);
            return EXIT_PASSWORD;
        }
        while (n > 0 && ((*pw)[n - 1] == '\n' || (*pw)[n - 1] == '\r'))
            (*pw)[--n] = 0;
        *len = (size_t)n;
        return EXIT_OK;
    }
    const char *env = getenv("FERRY_BACKUP_PASSWORD");
    if (!env) {
        fprintf(stderr, "ferry %s: set FERRY_BACKUP_PASSWORD or pass --password-file FILE (a password is "
                        "never read from the command line)\n", cmd);
        return EXIT_PASSWORD;
    }
    *pw = strdup(env);
    *len = strlen(env);
    return *pw ? EXIT_OK : EXIT_FAILURE_GENERIC;
}

static int set_password(const char *dir, int argc, char **argv)
{
    static const struct option opts[] = {{"password-file", 1, 0, 'p'}, {"clear", 0, 0, 'c'}, {0, 0, 0, 0}};
    const char *file = NULL;
    int clear = 0, c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'p')
            file = optarg;
        else if (c == 'c')
            clear = 1;
        else
            return EXIT_USAGE;
    }
    if (optind != argc)
        return cli_usage_error("device set", "backup-password takes no value on the command line; use "
                                             "FERRY_BACKUP_PASSWORD or --password-file FILE");
    char *pw = NULL;
    size_t len = 0;
    int ec = clear ? EXIT_OK : read_password("device set", file, &pw, &len);
    if (ec)
        return ec;
    if (!clear && len == 0) {
        free(pw);
        return cli_usage_error("device set", "the backup password is empty; use --clear to remove it");
    }
    ferry_device_t *d = NULL;
    int rc = load(dir, &d);
    if (!rc) {
        int frc = ferry_device_set_backup_password(d, pw, len);
        rc = finish(d, frc, clear ? "backup password removed" : "backup password set");
    }
    if (pw) {
        memset(pw, 0, len);
        free(pw);
    }
    return rc;
}

static int set(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[2], "backup-password"))
        return set_password(argv[1], argc - 2, argv + 2);
    if (argc != 4)
        return cli_usage_error("device set", "needs DIR KEY VALUE (see `ferry device --help` for the keys)");
    ferry_device_t *d = NULL;
    int rc = load(argv[1], &d);
    return rc ? rc : finish(d, ferry_device_set(d, argv[2], argv[3]), "set");
}

/* ---- backup: the backup the emulated device makes, written offline -------------------------------- */

static int backup_parse(int argc, char **argv, ferry_device_backup_opts_t *o, const char **pwfile)
{
    static const struct option opts[] = {{"encrypted", 0, 0, 'e'}, {"icloud", 0, 0, 'i'},
                                         {"account", 1, 0, 'a'},   {"password-file", 1, 0, 'p'},
                                         {"kdf-dpic", 1, 0, 'k'},  {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        uint64_t v = 0;
        switch (c) {
        case 'e': o->plan.encrypted = 1; break;
        case 'i': o->plan.method = FERRY_BACKUP_ICLOUD; break;
        case 'a':
            if (ferry_policy_account_parse(optarg, &o->plan.account) || o->plan.account == FERRY_ACCOUNT_NONE)
                return cli_usage_error("device backup", "--account is personal or managed, not '%s'", optarg);
            break;
        case 'p': *pwfile = optarg; break;
        case 'k':
            if (parse_u64(optarg, &v, 0) || v == 0 || v > UINT32_MAX)
                return cli_usage_error("device backup", "--kdf-dpic takes a positive number, not '%s'", optarg);
            o->kdf.dpic = (uint32_t)v;
            break;
        case 'h': usage(stdout); return -1;
        default: return EXIT_USAGE;
        }
    }
    if (optind + 2 != argc)
        return cli_usage_error("device backup", "needs DIR OUT");
    if (o->plan.method == FERRY_BACKUP_ICLOUD && o->plan.account == FERRY_ACCOUNT_NONE)
        o->plan.account = FERRY_ACCOUNT_PERSONAL;
    if (o->plan.method == FERRY_BACKUP_HOST && o->plan.account != FERRY_ACCOUNT_NONE)
        return cli_usage_error("device backup", "--account applies to --icloud only");
    return EXIT_OK;
}

static int backup(int argc, char **argv)
{
    ferry_device_backup_opts_t o;
    ferry_device_backup_opts_init(&o);
    const char *pwfile = NULL;
    int ec = backup_parse(argc, argv, &o, &pwfile);
    if (ec)
        return ec < 0 ? EXIT_OK : ec;
    const char *dir = argv[optind], *out = argv[optind + 1];
    ferry_device_t *d = NULL;
    if ((ec = load(dir, &d)) != 0)
        return ec;
    char *pw = NULL;
    size_t pwlen = 0;
    /* an iCloud Backup is encrypted with the account's key, never the device's backup password */
    int wants_pw = o.plan.method == FERRY_BACKUP_ICLOUD || (o.plan.encrypted && !d->has_backup_password);
    if (wants_pw && (ec = read_password("device backup", pwfile, &pw, &pwlen)) != 0) {
        ferry_device_free(d);
        return ec;
    }
    o.password = pw;
    o.password_len = pwlen;
    char *udir = NULL;
    int rc = 0, made = mkdir(out, 0700) == 0;
    if (!made && errno != EEXIST)
        rc = ferry_error_errno("cannot create %s", out);
    if (!rc && asprintf(&udir, "%s/%s", out, d->UniqueDeviceID) < 0)
        rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
    ferry_plan_t plan;
    memset(&plan, 0, sizeof plan);
    if (!rc)
        rc = ferry_device_backup_write(d, &o, udir, &plan);
    if (pw) {
        ferry_wipe(pw, pwlen);
        free(pw);
    }
    if (rc && made)
        rmdir(out); /* nothing was written: leave no empty folder behind */
    if (!rc)
        printf("backup of %s written to %s (%s, %s)\n", dir, udir, plan.method == FERRY_BACKUP_ICLOUD ? "iCloud" : "host",
               plan.encrypted ? "encrypted" : "not encrypted");
    ec = rc == 0 ? EXIT_OK : plan.verdict == FERRY_VERDICT_REFUSED ? (cli_fail(rc), EXIT_REFUSED) : cli_fail(rc);
    ferry_plan_free(&plan);
    free(udir);
    ferry_device_free(d);
    return ec;
}

int cmd_device(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } subs[] = {{"create", create},         {"show", show},           {"install-profile", install_profile},
                {"remove-profile", remove_profile}, {"install-app", install_app}, {"remove-app", remove_app},
                {"set", set},           {"backup", backup},       {"checkin", cmd_device_checkin},
                {"serve", cmd_device_serve}, {"icloud-backup", cmd_device_icloud_backup},
                {"icloud-restore", cmd_device_icloud_restore}};
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
        if (!strcmp(subs[i].name, argv[1])) {
            optind = 0; /* each subcommand parses its own options from the start */
            return subs[i].fn(argc - 1, argv + 1);
        }
    fprintf(stderr, "ferry device: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
