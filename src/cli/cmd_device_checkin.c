/*
 * cmd_device_checkin.c: `ferry device checkin DIR [--url URL] [--restored] [--json]`: options and the
 * report (text, or one JSON object documented in docs/cli.md) of the emulated device's check-in with
 * its MDM server; the flow itself is checkin_flow.c. cli_device_checkin_run() is the same check-in
 * for code, so that the emulated device can check in after a restore.
 */
#include "checkin.h"
#include "cli.h"
#include "json.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

/* ---- output -------------------------------------------------------------------------------------- */

static void print_text(const checkin_t *c, FILE *out)
{
    fprintf(out, "check-in of %s (%s)\n", c->dir, c->enrollment_before);
    for (size_t i = 0; i < c->n_steps; i++) {
        const step_t *s = &c->steps[i];
        char http[16] = "";
        if (s->http_status)
            snprintf(http, sizeof http, "%d ", s->http_status);
        fprintf(out, "  %-13s %s%-14s %-8s %s\n", s->step, http, s->result, s->rules, s->detail);
    }
    for (size_t i = 0; i < c->removed.n; i++) {
        const ferry_unenroll_item_t *it = &c->removed.items[i];
        char rules[40] = "";
        for (size_t k = 0; k < it->d.n_rules; k++)
            snprintf(rules + strlen(rules), sizeof rules - strlen(rules), "%s%s", k ? " " : "", it->d.rules[k]);
        fprintf(out, "    %-8s %-24s %-40s %-10s %s\n", ferry_policy_unenroll_action_name(it->action),
               ferry_policy_item_kind_name(it->kind), it->name[0] ? it->name : "-", rules, it->d.why);
    }
    fprintf(out, "outcome: %s\n", c->outcome ? c->outcome : "failed");
}

static void print_json(const checkin_t *c, FILE *out)
{
    cli_json_t j;
    cli_json_init(&j, out);
    cli_json_object_begin(&j);
    cli_json_kv_string(&j, "device", c->dir);
    cli_json_kv_string(&j, "udid", c->dev ? c->dev->UniqueDeviceID : NULL);
    cli_json_kv_string(&j, "outcome", c->outcome ? c->outcome : "failed");
    cli_json_kv_string(&j, "enrollment_before", c->enrollment_before);
    cli_json_kv_string(&j, "enrollment_after",
                       c->dev ? ferry_policy_enrollment_name(ferry_device_enrollment(c->dev)) : NULL);
    cli_json_kv_int(&j, "last_http_status", c->last_status);
    cli_json_key(&j, "steps");
    cli_json_array_begin(&j);
    for (size_t i = 0; i < c->n_steps; i++) {
        const step_t *s = &c->steps[i];
        cli_json_object_begin(&j);
        cli_json_kv_string(&j, "step", s->step);
        cli_json_kv_int(&j, "http_status", s->http_status);
        cli_json_kv_string(&j, "result", s->result);
        cli_json_kv_string(&j, "rules", s->rules);
        cli_json_kv_string(&j, "detail", s->detail);
        cli_json_object_end(&j);
    }
    cli_json_array_end(&j);
    cli_json_key(&j, "unenroll");
    cli_json_array_begin(&j);
    for (size_t i = 0; i < c->removed.n; i++) {
        const ferry_unenroll_item_t *it = &c->removed.items[i];
        cli_json_object_begin(&j);
        cli_json_kv_string(&j, "kind", ferry_policy_item_kind_name(it->kind));
        cli_json_kv_string(&j, "item", it->name);
        cli_json_kv_string(&j, "action", ferry_policy_unenroll_action_name(it->action));
        cli_json_kv_string(&j, "outcome", ferry_policy_outcome_name(it->d.outcome));
        cli_json_key(&j, "rules");
        cli_json_array_begin(&j);
        for (size_t k = 0; k < it->d.n_rules; k++)
            cli_json_string(&j, it->d.rules[k]);
        cli_json_array_end(&j);
        cli_json_kv_string(&j, "why", it->d.why);
        cli_json_object_end(&j);
    }
    cli_json_array_end(&j);
    cli_json_object_end(&j);
    cli_json_finish(&j);
}

enum { C_URL = 3000, C_JSON, C_RESTORED, C_CA, C_TIMEOUT, C_HELP };

static const char CHECKIN_USAGE[] =
    "usage: ferry device checkin DIR [--url URL] [--restored] [--ca-file PEM] [--timeout SECONDS] [--json]\n"
    "  The device checks in with its MDM server: Authenticate and TokenUpdate (new enrollment), TokenUpdate\n"
    "  (after a restore), then the command loop; 401 or 403 com.apple.unrecognized.device unenroll it (S3, E1, E2, U3); a registered device\n"
    "  without enrollment enrolls by ADE from the assignment service (D2).\n"
    "  --url URL     the server's base URL (URL/checkin, URL/mdm, URL/ade/...), instead of the enrollment\n"
    "                profile's ServerURL/CheckInURL\n"
    "  --restored    the first check-in after a restore: TokenUpdate without Authenticate (S2), and S4\n"
    "                for a hardware-bound ACME identity; from version 26, V1 when the ADE profile sets\n"
    "                do_not_use_profile_from_backup\n"
    "Exit status: 0 accepted, unenrolled, re-enrolled or nothing to do; 1 when the enrollment is kept\n"
    "because the server gave no usable answer (S2), or on an error.\n";

int cmd_device_checkin(int argc, char **argv)
{
    static const struct option opts[] = {
        {"url", required_argument, NULL, C_URL},       {"json", no_argument, NULL, C_JSON},
        {"restored", no_argument, NULL, C_RESTORED},   {"ca-file", required_argument, NULL, C_CA},
        {"timeout", required_argument, NULL, C_TIMEOUT}, {"help", no_argument, NULL, C_HELP},
        {NULL, 0, NULL, 0}};
    const char *url = NULL, *ca = NULL;
    long timeout = 0;
    int json = 0, restored = 0, o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case C_URL: url = optarg; break;
        case C_JSON: json = 1; break;
        case C_RESTORED: restored = 1; break;
        case C_CA: ca = optarg; break;
        case C_TIMEOUT: {
            char *end = NULL;
            timeout = strtol(optarg, &end, 10);
            if (!*optarg || *end || timeout <= 0 || timeout > 3600)
                return cli_usage_error("device checkin", "--timeout takes 1..3600 seconds");
            break;
        }
        case C_HELP: fputs(CHECKIN_USAGE, stdout); return EXIT_OK;
        default: fputs(CHECKIN_USAGE, stderr); return EXIT_USAGE;
        }
    }
    if (optind + 1 != argc) {
        fputs(CHECKIN_USAGE, stderr);
        return EXIT_USAGE;
    }
    return cli_device_checkin_run(argv[optind], url, restored, ca, timeout, json, stdout);
}

int cli_device_checkin_run(const char *dir, const char *url_arg, int restored, const char *ca_file, long timeout,
                           int json, FILE *out)
{
    checkin_t c;
    memset(&c, 0, sizeof c);
    c.dir = dir;
    c.url = url_arg;
    c.restored = restored;
    c.ca_file = ca_file;
    c.timeout = timeout;
    size_t ul = c.url ? strlen(c.url) : 0;
    char *url = NULL;
    if (ul && c.url[ul - 1] == '/') { /* "http://h:p/" and "http://h:p" are one server */
        url = strndup(c.url, ul - 1);
        c.url = url;
    }
    int rc = checkin_run(&c);
    if (checkin_record_state(&c))
        fprintf(stderr, "ferry device checkin: the check-in state was not saved: %s\n", ferry_error_last());
    if (json)
        print_json(&c, out);
    else if (c.dev || c.n_steps) /* a directory that is not a device gets only the error message */
        print_text(&c, out);
    int ec = EXIT_OK;
    if (rc)
        ec = cli_fail(rc);
    else if (!c.outcome || !strcmp(c.outcome, "kept") || !strcmp(c.outcome, "failed"))
        ec = EXIT_FAILURE_GENERIC;
    checkin_clear(&c);
    free(url);
    return ec;
}
