/*
 * restore_report.c: `ferry restore`'s report. Each plan item is compared with the device as read back
 * after the restore (ferry_host_device_facts): the management configuration, the MDM enrollment, each
 * profile and each app binary are visible over the wire; app data, books, data categories and
 * biometrics are not, and are reported "unverified" rather than guessed. With the MDM answer unknown
 * the plan holds two branches; the device matches when it shows either. Output is a table per device
 * or one JSON result object (docs/cli.md); events are single JSON lines written under the run's lock,
 * so that lines from concurrent devices never interleave.
 */
#include "restore.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"

const char *restore_check_name(restore_check_t c)
{
    switch (c) {
    case RESTORE_CHECK_MATCH: return "match";
    case RESTORE_CHECK_MISMATCH: return "mismatch";
    default: return "unverified";
    }
}

/* What the device should show for an outcome: 1 present, 0 absent, -1 nothing to check. "skipped"
 * is an app already installed (U2) or, for the management items, something not present at all. */
static int expected(ferry_item_kind_t k, ferry_outcome_t o)
{
    switch (o) {
    case FERRY_OUT_SKIPPED:
        if (k == FERRY_ITEM_APP)
            return 1;
        return k == FERRY_ITEM_MANAGEMENT_CONFIGURATION || k == FERRY_ITEM_MDM_ENROLLMENT ||
                       k == FERRY_ITEM_PROFILE
                   ? 0
                   : -1;
    case FERRY_OUT_RESTORED:
    case FERRY_OUT_RE_ENROLLED: return 1;
    case FERRY_OUT_DROPPED:
    case FERRY_OUT_REMOVED_AFTER_CHECKIN:
    case FERRY_OUT_NOT_IN_BACKUP:
    case FERRY_OUT_PLACEHOLDER:
    case FERRY_OUT_REINSTALL_NEEDED: return 0;
    default: return -1;
    }
}

/* Real devices may not say which payloads a profile holds (facts_parse.c): then the enrollment is
 * unknown rather than absent. */
static int payloads_known(const ferry_device_facts_t *f)
{
    if (f->n_profiles == 0)
        return 1;
    for (size_t i = 0; i < f->n_profiles; i++)
        if (f->profiles[i].n_payloads)
            return 1;
    return 0;
}

/* What the device shows for an item: 1 present, 0 absent, -1 not visible over the wire. */
static int actual(const ferry_plan_item_t *it, const ferry_device_facts_t *f)
{
    switch (it->kind) {
    case FERRY_ITEM_MANAGEMENT_CONFIGURATION: return f->has_management_config;
    case FERRY_ITEM_MDM_ENROLLMENT: return payloads_known(f) ? f->enrollment != FERRY_ENROLL_NONE : -1;
    case FERRY_ITEM_PROFILE:
        for (size_t i = 0; i < f->n_profiles; i++)
            if (!strcmp(f->profiles[i].identifier, it->name))
                return 1;
        return 0;
    case FERRY_ITEM_APP:
        for (size_t i = 0; i < f->n_apps; i++)
            if (!strcmp(f->apps[i].bundle_id, it->name))
                return f->apps[i].installed;
        return 0;
    case FERRY_ITEM_PASSCODE: return f->has_passcode;
    default: return -1;
    }
}

int restore_report_compare(restore_target_t *t)
{
    t->mismatches = 0;
    t->checks = calloc(t->plan.n_items ? t->plan.n_items : 1, sizeof *t->checks);
    if (!t->checks)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    for (size_t i = 0; i < t->plan.n_items; i++) {
        const ferry_plan_item_t *it = &t->plan.items[i];
        int want = expected(it->kind, it->d.outcome);
        int alt = it->has_if_rejected ? expected(it->kind, it->if_rejected.outcome) : want;
        int got = actual(it, &t->after);
        if (got < 0 || (want < 0 && alt < 0))
            t->checks[i] = RESTORE_CHECK_UNVERIFIED;
        else if (got == want || got == alt)
            t->checks[i] = RESTORE_CHECK_MATCH;
        else
            t->checks[i] = RESTORE_CHECK_MISMATCH;
        t->mismatches += t->checks[i] == RESTORE_CHECK_MISMATCH;
    }
    return 0;
}

static const char *status_of(const restore_target_t *t)
{
    if (!t->restored && !t->attempts)
        return t->have_plan && t->plan.verdict == FERRY_VERDICT_REFUSED ? "refused" : "not-started";
    if (!t->restored)
        return "failed";
    if (!t->have_after)
        return "not-read-back";
    return t->mismatches ? "mismatch" : "ok";
}

/* ---- text ------------------------------------------------------------------------------------------ */

static void text_target(const restore_target_t *t, FILE *out)
{
    fprintf(out, "\nDevice %s: %s", t->udid, status_of(t));
    if (t->attempts > 1)
        fprintf(out, " after %d attempts", t->attempts);
    fputc('\n', out);
    if (!t->restored) {
        fprintf(out, "  %s\n", t->error[0] ? t->error : "the restore failed");
        if (t->res.device_error)
            fprintf(out, "  device error %d: %s\n", t->res.device_error, ferry_host_mberror_message(t->res.device_error));
        return;
    }
    fprintf(out, "  %llu files, %llu bytes sent\n", (unsigned long long)t->res.files, (unsigned long long)t->res.bytes);
    if (!t->have_after) {
        fprintf(out, "  could not read the device back: %s\n", t->error);
        return;
    }
    fprintf(out, "  %-26s %-40s %-34s %s\n", "KIND", "ITEM", "PREDICTED", "ACTUAL");
    for (size_t i = 0; i < t->plan.n_items; i++) {
        const ferry_plan_item_t *it = &t->plan.items[i];
        char pred[64];
        snprintf(pred, sizeof pred, "%s%s%s", ferry_policy_outcome_name(it->d.outcome),
                 it->has_if_rejected ? "|" : "", it->has_if_rejected ? ferry_policy_outcome_name(it->if_rejected.outcome) : "");
        fprintf(out, "  %-26s %-40s %-34s %s\n", ferry_policy_item_kind_name(it->kind), it->name[0] ? it->name : "-",
                pred, restore_check_name(t->checks[i]));
    }
}

void restore_report_text(const restore_run_t *run, FILE *out)
{
    size_t ok = 0;
    for (size_t i = 0; i < run->n_targets; i++) {
        text_target(&run->targets[i], out);
        ok += !strcmp(status_of(&run->targets[i]), "ok");
    }
    fprintf(out, "\n%zu of %zu device(s) restored as planned\n", ok, run->n_targets);
}

/* ---- JSON ------------------------------------------------------------------------------------------ */

static void json_items(cli_json_t *j, const restore_target_t *t)
{
    cli_json_key(j, "items");
    cli_json_array_begin(j);
    for (size_t i = 0; t->have_after && i < t->plan.n_items; i++) {
        const ferry_plan_item_t *it = &t->plan.items[i];
        cli_json_object_begin(j);
        cli_json_kv_string(j, "kind", ferry_policy_item_kind_name(it->kind));
        cli_json_kv_string(j, "item", it->name);
        cli_json_kv_string(j, "predicted", ferry_policy_outcome_name(it->d.outcome));
        cli_json_kv_string(j, "ifMdmRejects", it->has_if_rejected ? ferry_policy_outcome_name(it->if_rejected.outcome) : NULL);
        cli_json_kv_string(j, "actual", restore_check_name(t->checks[i]));
        cli_json_object_end(j);
    }
    cli_json_array_end(j);
}

static void json_target(cli_json_t *j, const restore_target_t *t)
{
    cli_json_object_begin(j);
    cli_json_kv_string(j, "udid", t->udid);
    cli_json_kv_string(j, "status", status_of(t));
    cli_json_kv_int(j, "attempts", t->attempts);
    cli_json_kv_string(j, "error", t->error[0] ? t->error : NULL);
    if (t->res.device_error) {
        cli_json_kv_int(j, "deviceError", t->res.device_error);
        cli_json_kv_string(j, "deviceErrorText", ferry_host_mberror_message(t->res.device_error));
    }
    cli_json_kv_int(j, "filesSent", (int64_t)t->res.files);
    cli_json_kv_int(j, "bytesSent", (int64_t)t->res.bytes);
    cli_json_kv_int(j, "mismatches", (int64_t)t->mismatches);
    json_items(j, t);
    cli_json_object_end(j);
}

void restore_report_json(const restore_run_t *run, FILE *out)
{
    cli_json_t j;
    cli_json_init(&j, out);
    cli_json_object_begin(&j);
    cli_json_kv_string(&j, "event", "result");
    cli_json_kv_string(&j, "snapshot", run->snapshot_id[0] ? run->snapshot_id : NULL);
    cli_json_kv_string(&j, "sourceUdid", run->source_udid);
    size_t ok = 0;
    for (size_t i = 0; i < run->n_targets; i++)
        ok += !strcmp(status_of(&run->targets[i]), "ok");
    cli_json_kv_bool(&j, "ok", ok == run->n_targets);
    cli_json_key(&j, "devices");
    cli_json_array_begin(&j);
    for (size_t i = 0; i < run->n_targets; i++)
        json_target(&j, &run->targets[i]);
    cli_json_array_end(&j);
    cli_json_object_end(&j);
    cli_json_finish(&j);
    fflush(out);
}

void restore_json_escape(const char *in, char *out, size_t n)
{
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && k + 7 < n; p++) {
        if (*p == '"' || *p == '\\') {
            out[k++] = '\\';
            out[k++] = (char)*p;
        } else if (*p < 0x20) {
            k += (size_t)snprintf(out + k, n - k, "\\u%04x", *p);
        } else {
            out[k++] = (char)*p;
        }
    }
    out[k] = 0;
}

void restore_event(restore_run_t *run, const char *name, const char *udid, const char *fmt, ...)
{
    if (!run->json)
        return;
    char *extra = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&extra, fmt, ap);
    va_end(ap);
    if (n < 0)
        return; /* out of memory: an event is lost, the final result object still says everything */
    cli_progress_lock(run->progress);
    /* udid passed ferry_store_check_udid and name is ours: neither needs escaping. */
    fprintf(stdout, "{\"event\":\"%s\",\"udid\":\"%s\"%s%s}\n", name, udid, extra[0] ? "," : "", extra);
    fflush(stdout);
    cli_progress_unlock(run->progress);
    free(extra);
}
