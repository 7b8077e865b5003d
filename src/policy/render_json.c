/*
 * render_json.c: a plan as the JSON document of docs/cli.md ("ferry plan"), for machines. The shape
 * is stable: keys are only ever added. Every string from outside (bundle IDs, profile identifiers)
 * goes through the JSON escaper. No I/O: the caller prints the returned string.
 */
#include "plan_internal.h"

static const char *path_name(char path)
{
    switch (path) {
    case 'S': return "same-device";
    case 'D': return "different-device";
    case 'U': return "enrollment-flow";
    default: return "";
    }
}

static void json_rules(sbuf_t *b, const ferry_decision_t *d)
{
    sb_printf(b, "[");
    for (size_t i = 0; i < d->n_rules; i++) {
        sb_printf(b, i ? ", " : "");
        sb_json_string(b, d->rules[i]);
    }
    sb_printf(b, "]");
}

/* "outcome", "rules", "why" of a decision, without braces. */
static void json_decision(sbuf_t *b, const ferry_decision_t *d)
{
    sb_printf(b, "\"outcome\": ");
    sb_json_string(b, ferry_policy_outcome_name(d->outcome));
    sb_printf(b, ", \"rules\": ");
    json_rules(b, d);
    sb_printf(b, ", \"why\": ");
    sb_json_string(b, d->why);
}

static void json_item(sbuf_t *b, const ferry_plan_item_t *it)
{
    sb_printf(b, "    {\"item\": ");
    sb_json_string(b, it->name);
    sb_printf(b, ", \"kind\": ");
    sb_json_string(b, ferry_policy_item_kind_name(it->kind));
    sb_printf(b, ", ");
    json_decision(b, &it->d);
    if (it->has_if_rejected) {
        sb_printf(b, ", \"if_mdm_rejects\": {");
        json_decision(b, &it->if_rejected);
        sb_printf(b, "}");
    }
    sb_printf(b, "}");
}

static void json_context(sbuf_t *b, const ferry_plan_t *p)
{
    sb_printf(b, "  \"context\": {\"encrypted\": %s, \"method\": \"%s\", \"account\": \"%s\", "
                 "\"managed_apps_only\": %s",
              p->encrypted ? "true" : "false", p->method == FERRY_BACKUP_ICLOUD ? "icloud" : "host",
              ferry_policy_account_name(p->account), p->managed_apps_only ? "true" : "false");
    if (p->kind == FERRY_PLAN_RESTORE) {
        sb_printf(b, ", \"host\": \"%s\", \"mdm\": \"%s\"", ferry_policy_host_name(p->host),
                  ferry_policy_mdm_name(p->mdm));
        if (p->path)
            sb_printf(b, ", \"path\": \"%s\"", path_name(p->path));
    }
    sb_printf(b, "},\n");
}

char *ferry_policy_plan_to_json(const ferry_plan_t *p)
{
    sbuf_t b = {0};
    sb_printf(&b, "{\n  \"plan\": \"%s\",\n  \"verdict\": \"%s\",\n",
              p->kind == FERRY_PLAN_RESTORE ? "restore" : "backup", ferry_policy_verdict_name(p->verdict));
    if (p->verdict == FERRY_VERDICT_REFUSED) {
        sb_printf(&b, "  \"reason\": ");
        sb_json_string(&b, p->refusal.why);
        sb_printf(&b, ",\n  \"rules\": ");
        json_rules(&b, &p->refusal);
        sb_printf(&b, ",\n");
    }
    json_context(&b, p);
    sb_printf(&b, "  \"warnings\": [");
    for (size_t i = 0; i < p->n_warnings; i++) {
        sb_printf(&b, "%s{\"rules\": ", i ? ", " : "");
        json_rules(&b, &p->warnings[i]);
        sb_printf(&b, ", \"text\": ");
        sb_json_string(&b, p->warnings[i].why);
        sb_printf(&b, "}");
    }
    sb_printf(&b, "],\n  \"items\": [");
    for (size_t i = 0; i < p->n_items; i++) {
        sb_printf(&b, i ? ",\n" : "\n");
        json_item(&b, &p->items[i]);
    }
    sb_printf(&b, "%s]\n}\n", p->n_items ? "\n  " : "");
    return sb_finish(&b);
}
