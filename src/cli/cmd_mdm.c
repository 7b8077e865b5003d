/*
 * cmd_mdm.c: `ferry mdm serve|devices|commands|enqueue|block|unblock|assign`: runs ferry's MDM server
 * and administers its database (the same SQLite file a running server uses; writes are safe while it
 * runs). Argument parsing and printing only: the protocol, the command table and the database live
 * in src/mdm. The database is --db FILE, else $FERRY_MDM_DB, else ./ferry-mdm.db.
 */
#include "cli.h"
#include "json.h"
#include "plist_json.h"

#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ferry/mdm.h"

enum {
    M_DB = 2000, M_JSON, M_LISTEN, M_TLS_CERT, M_TLS_KEY, M_UNKNOWN, M_PUBLIC_URL, M_READY_FILE,
    M_MAX_BODY, M_THREADS, M_STATUS, M_RESTORE_ONLY, M_URL, M_NAME, M_ORG, M_SUPERVISED, M_MANDATORY,
    M_NOT_REMOVABLE, M_MULTI_USER, M_AWAIT, M_NO_BACKUP_PROFILE, M_ACME_HW, M_UNASSIGN, M_HELP,
    M_SERVER_URL, M_ADMIN_TOKEN_FILE, M_CA_FILE,
};

static const char USAGE[] =
    "usage: ferry mdm <subcommand> [options]\n"
    "  serve --listen HOST:PORT [--db FILE] [--tls-cert F --tls-key F]\n"
    "        [--unknown-device accept|401|403] [--public-url URL] [--ready-file F]\n"
    "        [--max-body BYTES] [--threads N] [--admin-token-file FILE]\n"
    "                      run the MDM server and device-assignment service until SIGINT/SIGTERM\n"
    "  devices [--json]    devices the server knows, their state and the decision they get\n"
    "  commands [UDID] [--json]\n"
    "                      queued and answered commands, with the device's results\n"
    "  enqueue UDID REQUESTTYPE [KEY=VALUE...] [--json]\n"
    "                      queue a command (values: integers, true/false, text, a,b,c lists,\n"
    "                      @FILE for data or for a plist dictionary/array)\n"
    "  block UDID [--status 401|403] [--restore-only]\n"
    "                      reject the device (default 403 com.apple.unrecognized.device); with\n"
    "                      --restore-only only its TokenUpdate after a restore (S2)\n"
    "  unblock UDID        accept the device again (200)\n"
    "  assign SERIAL [--enroll-url URL] [--name NAME] [--org ORG] [--is-supervised] [--is-mandatory]\n"
    "        [--not-mdm-removable] [--is-multi-user] [--await-device-configured]\n"
    "        [--do-not-use-profile-from-backup] [--acme-hardware-bound] [--json]\n"
    "  assign SERIAL --unassign\n"
    "                      register (or remove) a serial number's ADE profile\n"
    "Every subcommand takes --db FILE (default $FERRY_MDM_DB, else ./ferry-mdm.db). Instead of\n"
    "--db, devices|commands|enqueue|block|unblock|assign can talk to a running server with\n"
    "--url URL --admin-token-file FILE [--ca-file PEM]; the server enables that admin API with\n"
    "`serve --admin-token-file FILE` (a token of 16 or more characters on the first line).\n";

static const struct option LONGOPTS[] = {
    {"db", required_argument, NULL, M_DB},
    {"json", no_argument, NULL, M_JSON},
    {"listen", required_argument, NULL, M_LISTEN},
    {"tls-cert", required_argument, NULL, M_TLS_CERT},
    {"tls-key", required_argument, NULL, M_TLS_KEY},
    {"unknown-device", required_argument, NULL, M_UNKNOWN},
    {"public-url", required_argument, NULL, M_PUBLIC_URL},
    {"ready-file", required_argument, NULL, M_READY_FILE},
    {"max-body", required_argument, NULL, M_MAX_BODY},
    {"threads", required_argument, NULL, M_THREADS},
    {"status", required_argument, NULL, M_STATUS},
    {"restore-only", no_argument, NULL, M_RESTORE_ONLY},
    {"enroll-url", required_argument, NULL, M_URL},
    {"name", required_argument, NULL, M_NAME},
    {"org", required_argument, NULL, M_ORG},
    {"is-supervised", no_argument, NULL, M_SUPERVISED},
    {"is-mandatory", no_argument, NULL, M_MANDATORY},
    {"not-mdm-removable", no_argument, NULL, M_NOT_REMOVABLE},
    {"is-multi-user", no_argument, NULL, M_MULTI_USER},
    {"await-device-configured", no_argument, NULL, M_AWAIT},
    {"do-not-use-profile-from-backup", no_argument, NULL, M_NO_BACKUP_PROFILE},
    {"acme-hardware-bound", no_argument, NULL, M_ACME_HW},
    {"unassign", no_argument, NULL, M_UNASSIGN},
    {"help", no_argument, NULL, M_HELP},
    {"url", required_argument, NULL, M_SERVER_URL},
    {"admin-token-file", required_argument, NULL, M_ADMIN_TOKEN_FILE},
    {"ca-file", required_argument, NULL, M_CA_FILE},
    {NULL, 0, NULL, 0},
};

typedef struct {
    const char *db, *listen, *tls_cert, *tls_key, *public_url, *ready_file;
    const char *server_url, *token_file, *ca_file;
    int json, unknown, status, restore_only, unassign;
    size_t max_body;
    unsigned threads;
    ferry_mdm_ade_profile_t ade; /* strings borrowed from argv */
    char **pos;                  /* positional arguments after the subcommand */
    int npos;
} mdm_args_t;

static int parse_decision(const char *s, int *out)
{
    if (!strcmp(s, "accept") || !strcmp(s, "200"))
        *out = 200;
    else if (!strcmp(s, "401"))
        *out = 401;
    else if (!strcmp(s, "403"))
        *out = 403;
    else
        return -1;
    return 0;
}

static int parse_args(const char *sub, int argc, char **argv, mdm_args_t *a)
{
    memset(a, 0, sizeof *a);
    ferry_mdm_ade_profile_init(&a->ade);
    a->unknown = 403;
    a->status = 403;
    a->db = getenv("FERRY_MDM_DB");
    if (!a->db || !a->db[0])
        a->db = "ferry-mdm.db";
    optind = 1;
    opterr = 0;
    int c;
    char cmd[32];
    snprintf(cmd, sizeof cmd, "mdm %s", sub);
    while ((c = getopt_long(argc, argv, "+", LONGOPTS, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case M_DB: a->db = optarg; break;
        case M_JSON: a->json = 1; break;
        case M_LISTEN: a->listen = optarg; break;
        case M_TLS_CERT: a->tls_cert = optarg; break;
        case M_TLS_KEY: a->tls_key = optarg; break;
        case M_PUBLIC_URL: a->public_url = optarg; break;
        case M_READY_FILE: a->ready_file = optarg; break;
        case M_UNKNOWN:
            if (parse_decision(optarg, &a->unknown))
                return cli_usage_error(cmd, "--unknown-device takes accept, 401 or 403");
            break;
        case M_STATUS:
            if (parse_decision(optarg, &a->status) || a->status == 200)
                return cli_usage_error(cmd, "--status takes 401 or 403");
            break;
        case M_MAX_BODY:
            a->max_body = strtoul(optarg, &end, 10);
            if (!*optarg || *end || a->max_body < 1024 || a->max_body > (64u << 20))
                return cli_usage_error(cmd, "--max-body takes 1024 to 67108864 bytes");
            break;
        case M_THREADS:
            a->threads = (unsigned)strtoul(optarg, &end, 10);
            if (!*optarg || *end || a->threads < 1 || a->threads > 64)
                return cli_usage_error(cmd, "--threads takes 1 to 64");
            break;
        case M_RESTORE_ONLY: a->restore_only = 1; break;
        case M_URL: a->ade.url = optarg; break;
        case M_NAME: a->ade.profile_name = optarg; break;
        case M_ORG: a->ade.org_name = optarg; break;
        case M_SUPERVISED: a->ade.is_supervised = 1; break;
        case M_MANDATORY: a->ade.is_mandatory = 1; break;
        case M_NOT_REMOVABLE: a->ade.is_mdm_removable = 0; break;
        case M_MULTI_USER: a->ade.is_multi_user = 1; break;
        case M_AWAIT: a->ade.await_device_configured = 1; break;
        case M_NO_BACKUP_PROFILE: a->ade.do_not_use_profile_from_backup = 1; break;
        case M_ACME_HW: a->ade.acme_hardware_bound = 1; break;
        case M_UNASSIGN: a->unassign = 1; break;
        case M_SERVER_URL: a->server_url = optarg; break;
        case M_ADMIN_TOKEN_FILE: a->token_file = optarg; break;
        case M_CA_FILE: a->ca_file = optarg; break;
        case M_HELP: fputs(USAGE, stdout); return -1;
        default: return cli_usage_error(cmd, "unknown option '%s' (see ferry mdm --help)", argv[optind - 1]);
        }
        /* getopt with "+" stops at the first positional: collect it and go on. */
    }
    return 0;
}

/* getopt_long with "+" stops at positionals; this variant gathers positionals anywhere. */
static int parse_all(const char *sub, int argc, char **argv, mdm_args_t *a)
{
    char **pos = calloc((size_t)argc + 1, sizeof *pos);
    char **opts = calloc((size_t)argc + 2, sizeof *opts);
    if (!pos || !opts) {
        free(pos);
        free(opts);
        return cli_fail(ferry_error_set(FERRY_ENOMEM, "out of memory"));
    }
    int np = 0, no = 0;
    opts[no++] = argv[0];
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1]) {
            opts[no++] = argv[i];
            const struct option *o = NULL;
            for (const struct option *l = LONGOPTS; l->name; l++)
                if (!strncmp(argv[i], "--", 2) && !strcmp(argv[i] + 2, l->name))
                    o = l;
            if (o && o->has_arg == required_argument && i + 1 < argc)
                opts[no++] = argv[++i];
        } else {
            pos[np++] = argv[i];
        }
    }
    int rc = parse_args(sub, no, opts, a);
    free(opts);
    if (rc) {
        free(pos);
        return rc < 0 ? -1 : rc;
    }
    a->pos = pos;
    a->npos = np;
    return 0;
}

/* The admin token: first line of the file, at least 16 characters. The caller wipes and frees. */
static int read_token(const char *path, char **out)
{
    uint8_t *buf;
    size_t len;
    *out = NULL;
    int rc = ferry_file_read_all(path, 4096, &buf, &len);
    if (rc)
        return rc;
    size_t n = strcspn((char *)buf, "\r\n");
    buf[n] = 0;
    if (n < 16) {
        ferry_wipe(buf, len);
        free(buf);
        return ferry_error_set(FERRY_EINVAL, "the admin token in %s is shorter than 16 characters", path);
    }
    *out = (char *)buf;
    return 0;
}

static void free_token(char *t)
{
    if (t) {
        ferry_wipe(t, strlen(t));
        free(t);
    }
}

/* --url mode: fills *adm (token malloc'd in *token). Returns 0, or an exit code. */
static int remote(const mdm_args_t *a, const char *sub, ferry_mdm_admin_t *adm, char **token)
{
    *token = NULL;
    if (!a->token_file)
        return cli_usage_error(sub, "--url needs --admin-token-file FILE");
    int rc = read_token(a->token_file, token);
    if (rc)
        return cli_fail(rc);
    adm->url = a->server_url;
    adm->token = *token;
    adm->ca_file = a->ca_file;
    return 0;
}

static int open_db(const mdm_args_t *a, ferry_mdm_db_t **db)
{
    int rc = ferry_mdm_db_open(a->db, db);
    return rc ? cli_fail(rc) : 0;
}

static const char *decision_name(int d)
{
    return d == 200 ? "accept" : d == 401 ? "401" : d == 403 ? "403" : "?";
}

/* ---- serve ------------------------------------------------------------------------------------- */

static int split_listen(const char *s, char *host, size_t hn, uint16_t *port)
{
    const char *colon = s ? strrchr(s, ':') : NULL;
    if (!colon || colon == s || (size_t)(colon - s) >= hn)
        return -1;
    char *end;
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (!colon[1] || *end || p > 65535)
        return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = 0;
    *port = (uint16_t)p;
    return 0;
}

static int mdm_serve(mdm_args_t *a)
{
    char host[64];
    ferry_mdm_server_opts_t o;
    ferry_mdm_server_opts_init(&o);
    if (!a->listen || split_listen(a->listen, host, sizeof host, &o.port))
        return cli_usage_error("mdm serve", "--listen HOST:PORT is required (PORT 0: any free port)");
    o.host = host;
    o.db_path = a->db;
    o.tls_cert_path = a->tls_cert;
    o.tls_key_path = a->tls_key;
    o.unknown_decision = a->unknown;
    o.public_url = a->public_url;
    o.max_body = a->max_body;
    o.threads = a->threads;
    char *token = NULL;
    if (a->token_file) {
        int trc = read_token(a->token_file, &token);
        if (trc)
            return cli_fail(trc);
        o.admin_token = token;
    }
    /* Block the stop signals before the server's threads exist, so that only sigwait sees them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    ferry_mdm_server_t *s;
    int rc = ferry_mdm_server_start(&o, &s);
    free_token(token); /* the server keeps its own copy */
    if (rc)
        return cli_fail(rc);
    const char *url = ferry_mdm_server_url(s);
    fprintf(stderr, "ferry mdm: serving %s (database %s, unknown devices: %s)\n", url, a->db,
            decision_name(a->unknown));
    if (a->ready_file) {
        char line[600];
        int n = snprintf(line, sizeof line, "%s\n", url);
        rc = ferry_file_write_atomic(a->ready_file, line, (size_t)n, 0600);
        if (rc) {
            ferry_mdm_server_stop(s);
            return cli_fail(rc);
        }
    }
    int sig = 0;
    sigwait(&set, &sig);
    fprintf(stderr, "ferry mdm: stopping (signal %d)\n", sig);
    ferry_mdm_server_stop(s);
    return EXIT_OK;
}

/* ---- devices, commands ------------------------------------------------------------------------- */

static void fmt_time(int64_t t, char *out, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int mdm_devices(mdm_args_t *a)
{
    ferry_mdm_device_t *d;
    size_t n;
    int rc;
    if (a->server_url) {
        ferry_mdm_admin_t adm;
        char *token;
        if ((rc = remote(a, "mdm devices", &adm, &token)))
            return rc;
        rc = ferry_mdm_admin_list_devices(&adm, &d, &n);
        free_token(token);
    } else {
        ferry_mdm_db_t *db;
        if (open_db(a, &db))
            return EXIT_FAILURE_GENERIC;
        rc = ferry_mdm_db_list_devices(db, &d, &n);
        ferry_mdm_db_close(db);
    }
    if (rc)
        return cli_fail(rc);
    if (a->json) {
        cli_json_t j;
        cli_json_init(&j, stdout);
        cli_json_array_begin(&j);
        for (size_t i = 0; i < n; i++) {
            char ts[32];
            fmt_time(d[i].last_seen, ts, sizeof ts);
            cli_json_object_begin(&j);
            cli_json_kv_string(&j, "udid", d[i].udid);
            cli_json_kv_string(&j, "serial_number", d[i].serial);
            cli_json_kv_string(&j, "product_name", d[i].product_name);
            cli_json_kv_string(&j, "os_version", d[i].os_version);
            cli_json_kv_string(&j, "topic", d[i].topic);
            cli_json_kv_string(&j, "state", d[i].state);
            cli_json_kv_int(&j, "decision", d[i].decision);
            cli_json_kv_int(&j, "restore_decision", d[i].restore_decision);
            cli_json_kv_int(&j, "last_reply", d[i].last_reply);
            cli_json_kv_bool(&j, "has_identity", d[i].has_identity);
            cli_json_kv_int(&j, "pending_commands", d[i].pending_commands);
            cli_json_kv_string(&j, "last_seen", ts);
            cli_json_object_end(&j);
        }
        cli_json_array_end(&j);
        cli_json_finish(&j);
    } else {
        printf("%-40s %-14s %-13s %-8s %-8s %-5s %s\n", "UDID", "SERIAL", "STATE", "DECISION",
               "RESTORE", "LAST", "PENDING");
        for (size_t i = 0; i < n; i++)
            printf("%-40s %-14s %-13s %-8s %-8s %-5d %lld\n", d[i].udid, d[i].serial ? d[i].serial : "-",
                   d[i].state, decision_name(d[i].decision), decision_name(d[i].restore_decision),
                   d[i].last_reply, (long long)d[i].pending_commands);
    }
    ferry_mdm_devices_free(d, n);
    return EXIT_OK;
}

static int mdm_commands(mdm_args_t *a)
{
    ferry_mdm_command_rec_t *c;
    size_t n;
    int rc;
    const char *udid = a->npos > 0 ? a->pos[0] : NULL;
    if (a->server_url) {
        ferry_mdm_admin_t adm;
        char *token;
        if ((rc = remote(a, "mdm commands", &adm, &token)))
            return rc;
        rc = ferry_mdm_admin_list_commands(&adm, udid, &c, &n);
        free_token(token);
    } else {
        ferry_mdm_db_t *db;
        if (open_db(a, &db))
            return EXIT_FAILURE_GENERIC;
        rc = ferry_mdm_db_list_commands(db, udid, &c, &n);
        ferry_mdm_db_close(db);
    }
    if (rc)
        return cli_fail(rc);
    if (a->json) {
        cli_json_t j;
        cli_json_init(&j, stdout);
        cli_json_array_begin(&j);
        for (size_t i = 0; i < n; i++) {
            cli_json_object_begin(&j);
            cli_json_kv_string(&j, "command_uuid", c[i].uuid);
            cli_json_kv_string(&j, "udid", c[i].udid);
            cli_json_kv_string(&j, "request_type", c[i].request_type);
            cli_json_kv_string(&j, "status", c[i].status);
            cli_json_key(&j, "result");
            if (c[i].result)
                cli_json_plist(&j, c[i].result);
            else
                cli_json_null(&j);
            cli_json_object_end(&j);
        }
        cli_json_array_end(&j);
        cli_json_finish(&j);
    } else {
        printf("%-36s %-40s %-24s %s\n", "COMMANDUUID", "UDID", "REQUESTTYPE", "STATUS");
        for (size_t i = 0; i < n; i++)
            printf("%-36s %-40s %-24s %s\n", c[i].uuid, c[i].udid, c[i].request_type, c[i].status);
    }
    ferry_mdm_commands_free(c, n);
    return EXIT_OK;
}

/* ---- enqueue, block, unblock, assign ----------------------------------------------------------- */

static int mdm_enqueue(mdm_args_t *a)
{
    if (a->npos < 2)
        return cli_usage_error("mdm enqueue", "give UDID and REQUESTTYPE [KEY=VALUE...]");
    plist_t params = plist_new_dict(), cmd = NULL;
    int rc = 0;
    for (int i = 2; i < a->npos && !rc; i++)
        rc = ferry_mdm_command_param(a->pos[1], a->pos[i], params);
    if (!rc)
        rc = ferry_mdm_command_new(a->pos[1], params, &cmd); /* checked here as well as remotely */
    if (rc) {
        plist_free(params);
        return cli_fail(rc);
    }
    char *uuid = NULL;
    if (a->server_url) {
        ferry_mdm_admin_t adm;
        char *token;
        if ((rc = remote(a, "mdm enqueue", &adm, &token))) {
            plist_free(params);
            plist_free(cmd);
            return rc;
        }
        rc = ferry_mdm_admin_enqueue(&adm, a->pos[0], a->pos[1], params, &uuid);
        free_token(token);
    } else {
        ferry_mdm_db_t *db;
        if (open_db(a, &db)) {
            plist_free(params);
            plist_free(cmd);
            return EXIT_FAILURE_GENERIC;
        }
        rc = ferry_mdm_db_enqueue(db, a->pos[0], cmd);
        ferry_mdm_db_close(db);
        if (!rc && !(uuid = strdup(plist_get_string_ptr(plist_dict_get_item(cmd, "CommandUUID"), NULL))))
            rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    plist_free(params);
    if (!rc) {
        if (a->json) {
            cli_json_t j;
            cli_json_init(&j, stdout);
            cli_json_object_begin(&j);
            cli_json_kv_string(&j, "command_uuid", uuid);
            cli_json_kv_string(&j, "udid", a->pos[0]);
            cli_json_kv_string(&j, "request_type", a->pos[1]);
            cli_json_object_end(&j);
            cli_json_finish(&j);
        } else {
            printf("%s\n", uuid);
        }
    }
    free(uuid);
    plist_free(cmd);
    return rc ? cli_fail(rc) : EXIT_OK;
}

static int mdm_block(mdm_args_t *a, int unblock)
{
    const char *sub = unblock ? "mdm unblock" : "mdm block";
    if (a->npos != 1)
        return cli_usage_error(sub, "give exactly one UDID");
    int rc, decision = unblock ? 200 : a->status;
    if (a->server_url) {
        ferry_mdm_admin_t adm;
        char *token;
        if ((rc = remote(a, sub, &adm, &token)))
            return rc;
        rc = ferry_mdm_admin_set_decision(&adm, a->pos[0], decision, a->restore_only);
        free_token(token);
    } else {
        ferry_mdm_db_t *db;
        if (open_db(a, &db))
            return EXIT_FAILURE_GENERIC;
        rc = ferry_mdm_db_set_decision(db, a->pos[0], decision, a->restore_only);
        ferry_mdm_db_close(db);
    }
    if (rc)
        return cli_fail(rc);
    if (!a->json)
        fprintf(stderr, "ferry %s: %s now gets %s%s\n", sub, a->pos[0],
                unblock ? "200" : decision_name(a->status), a->restore_only ? " after a restore" : "");
    return EXIT_OK;
}

static void print_profile_json(plist_t p)
{
    cli_json_t j;
    cli_json_init(&j, stdout);
    cli_json_plist(&j, p);
    cli_json_finish(&j);
}

static int mdm_assign(mdm_args_t *a)
{
    if (a->npos != 1)
        return cli_usage_error("mdm assign", "give exactly one SERIAL");
    int rc;
    ferry_mdm_db_t *db = NULL;
    ferry_mdm_admin_t adm;
    char *token = NULL;
    if (a->server_url) {
        if ((rc = remote(a, "mdm assign", &adm, &token)))
            return rc;
    } else if (open_db(a, &db)) {
        return EXIT_FAILURE_GENERIC;
    }
    a->ade.serial = a->pos[0];
    if (a->unassign) {
        rc = db ? ferry_mdm_db_unassign(db, a->pos[0]) : ferry_mdm_admin_unassign(&adm, a->pos[0]);
    } else {
        rc = db ? ferry_mdm_db_assign(db, &a->ade) : ferry_mdm_admin_assign(&adm, &a->ade);
        if (!rc) {
            plist_t p = ferry_mdm_ade_profile_to_plist(&a->ade, NULL);
            if (a->json)
                print_profile_json(p);
            else
                fprintf(stderr, "ferry mdm assign: %s assigned (url %s)\n", a->pos[0],
                        a->ade.url ? a->ade.url : "this server's /ade/enroll");
            plist_free(p);
        }
    }
    ferry_mdm_db_close(db);
    free_token(token);
    return rc ? cli_fail(rc) : EXIT_OK;
}

int cmd_mdm(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        fputs(USAGE, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *sub = argv[1];
    mdm_args_t a;
    int rc = parse_all(sub, argc - 1, argv + 1, &a);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    if (!strcmp(sub, "serve"))
        rc = mdm_serve(&a);
    else if (!strcmp(sub, "devices"))
        rc = mdm_devices(&a);
    else if (!strcmp(sub, "commands"))
        rc = mdm_commands(&a);
    else if (!strcmp(sub, "enqueue"))
        rc = mdm_enqueue(&a);
    else if (!strcmp(sub, "block"))
        rc = mdm_block(&a, 0);
    else if (!strcmp(sub, "unblock"))
        rc = mdm_block(&a, 1);
    else if (!strcmp(sub, "assign"))
        rc = mdm_assign(&a);
    else
        rc = cli_usage_error("mdm", "unknown subcommand '%s' (see ferry mdm --help)", sub);
    free(a.pos);
    return rc;
}
