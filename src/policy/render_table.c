/*
 * render_table.c: a plan in words, for an administrator at a terminal: a header with the context and
 * the verdict, the warnings, then one row per item (kind, item, outcome, rules) followed by the
 * sentence saying why and, when the MDM answer was not given, what changes if the server rejects the
 * check-in. It says the same as the JSON (render_json.c). No I/O: the caller prints the string.
 */
#include "plan_internal.h"

#include <string.h>

/* Names and sentences carry bytes from devices and backups: no control character reaches a
 * terminal. */
static const char *clean(const char *src, char *dst, size_t len)
{
    size_t i = 0;
    for (; src[i] && i + 1 < len; i++)
        dst[i] = ((unsigned char)src[i] < 0x20 || src[i] == 0x7f) ? '?' : src[i];
    dst[i] = '\0';
    return dst;
}

static void rules_text(sbuf_t *b, const ferry_decision_t *d)
{
    for (size_t i = 0; i < d->n_rules; i++)
        sb_printf(b, "%s%s", i ? "," : "", d->rules[i]);
    if (d->n_rules == 0)
        sb_printf(b, "-");
}

static const char *path_words(char path)
{
    switch (path) {
    case 'S': return "to the same device (S rules)";
    case 'D': return "to a different device (D rules)";
    case 'U': return "inside the enrollment flow (U rules)";
    default: return "";
    }
}

static void header(sbuf_t *b, const ferry_plan_t *p)
{
    const char *how = p->method == FERRY_BACKUP_ICLOUD ? "iCloud" : "host";
    if (p->kind == FERRY_PLAN_BACKUP) {
        sb_printf(b, "Backup plan: %s backup, %s", how, p->encrypted ? "encrypted" : "unencrypted");
        if (p->method == FERRY_BACKUP_ICLOUD)
            sb_printf(b, ", to the %s account", ferry_policy_account_name(p->account));
        sb_printf(b, "%s\n", p->managed_apps_only ? " (managed-app data only, B11)" : "");
    } else {
        sb_printf(b, "Restore plan: %s %s backup %s, host type %s, MDM answer %s\n", how,
                  p->encrypted ? "encrypted" : "unencrypted", path_words(p->path),
                  ferry_policy_host_name(p->host),
                  p->mdm == FERRY_MDM_BOTH ? "not given (both branches shown)" : ferry_policy_mdm_name(p->mdm));
    }
    sb_printf(b, "Verdict: %s", ferry_policy_verdict_name(p->verdict));
    if (p->verdict == FERRY_VERDICT_REFUSED) {
        sb_printf(b, " [");
        rules_text(b, &p->refusal);
        char why[FERRY_PLAN_WHY_MAX];
        sb_printf(b, "]: %s", clean(p->refusal.why, why, sizeof why));
    }
    sb_printf(b, "\n");
    for (size_t i = 0; i < p->n_warnings; i++) {
        sb_printf(b, "Warning [");
        rules_text(b, &p->warnings[i]);
        char why[FERRY_PLAN_WHY_MAX];
        sb_printf(b, "]: %s\n", clean(p->warnings[i].why, why, sizeof why));
    }
}

static void row(sbuf_t *b, const ferry_plan_item_t *it)
{
    const char *kind = ferry_policy_item_kind_name(it->kind);
    char name[FERRY_POLICY_NAME_MAX], why[FERRY_PLAN_WHY_MAX];
    int named = strcmp(kind, it->name) != 0;
    sb_printf(b, "%-25s %-38s %-22s ", named ? kind : it->name,
              named ? clean(it->name, name, sizeof name) : "", ferry_policy_outcome_name(it->d.outcome));
    rules_text(b, &it->d);
    sb_printf(b, "\n    %s\n", clean(it->d.why, why, sizeof why));
    if (it->has_if_rejected) {
        sb_printf(b, "    if the MDM server rejects the check-in: %s [",
                  ferry_policy_outcome_name(it->if_rejected.outcome));
        rules_text(b, &it->if_rejected);
        sb_printf(b, "] %s\n", clean(it->if_rejected.why, why, sizeof why));
    }
}

char *ferry_policy_plan_to_table(const ferry_plan_t *p)
{
    sbuf_t b = {0};
    header(&b, p);
    if (p->n_items) {
        sb_printf(&b, "\n%-25s %-38s %-22s %s\n", "KIND", "ITEM", "OUTCOME", "RULES");
        for (size_t i = 0; i < p->n_items; i++)
            row(&b, &p->items[i]);
    }
    return sb_finish(&b);
}
