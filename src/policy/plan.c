/*
 * plan.c: the plan data structure shared by the backup and the restore plan: decisions carrying rule
 * IDs and a sentence, the growing item list, warnings and the refusal, plus the names of outcomes and
 * item kinds that the renderers print. Invariants: every rule ID fits FERRY_RULE_ID_MAX, a decision
 * never lists the same ID twice, and an item list is either NULL or owned by its plan.
 */
#include "plan_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const OUTCOME_NAMES[] = {
    "included", "excluded",        "skipped",     "restored",         "dropped",
    "removed-after-checkin",       "not-in-backup", "placeholder",    "reinstall-needed",
    "re-enrolled"};
static const char *const KIND_NAMES[] = {"management-configuration", "mdm-enrollment", "profile",
                                         "app-data", "app", "book", "category", "passcode",
                                         "biometrics"};

const char *category_words(unsigned bit)
{
    switch (bit) {
    case FERRY_CAT_PASSWORDS: return "saved passwords";
    case FERRY_CAT_CALL_HISTORY: return "call history";
    case FERRY_CAT_HEALTH: return "Health data";
    case FERRY_CAT_WEBSITE_HISTORY: return "website history";
    case FERRY_CAT_WIFI: return "Wi-Fi settings (networks the user joined)";
    case FERRY_CAT_PHOTOS: return "photos and videos";
    default: return "?";
    }
}

const char *ferry_policy_outcome_name(ferry_outcome_t o)
{
    return (unsigned)o < sizeof OUTCOME_NAMES / sizeof *OUTCOME_NAMES ? OUTCOME_NAMES[o] : "?";
}

const char *ferry_policy_item_kind_name(ferry_item_kind_t k)
{
    return (unsigned)k < sizeof KIND_NAMES / sizeof *KIND_NAMES ? KIND_NAMES[k] : "?";
}

const char *ferry_policy_verdict_name(ferry_verdict_t v)
{
    return v == FERRY_VERDICT_REFUSED ? "refused" : "ok";
}

int pd_has_rule(const ferry_decision_t *d, const char *id)
{
    for (size_t i = 0; i < d->n_rules; i++)
        if (strcmp(d->rules[i], id) == 0)
            return 1;
    return 0;
}

void pd_add_rules(ferry_decision_t *d, const char *rules)
{
    const char *p = rules;
    while (p && *p) {
        while (*p == ' ')
            p++;
        size_t len = strcspn(p, " ");
        if (len > 0 && len < FERRY_RULE_ID_MAX && d->n_rules < FERRY_PLAN_RULES_MAX) {
            char id[FERRY_RULE_ID_MAX];
            memcpy(id, p, len);
            id[len] = '\0';
            if (!pd_has_rule(d, id))
                memcpy(d->rules[d->n_rules++], id, len + 1);
        }
        p += len;
    }
}

static void vformat_why(ferry_decision_t *d, size_t at, const char *fmt, va_list ap)
{
    if (at >= sizeof d->why)
        return;
    vsnprintf(d->why + at, sizeof d->why - at, fmt, ap);
}

void pd_set(ferry_decision_t *d, ferry_outcome_t o, const char *rules, const char *fmt, ...)
{
    memset(d, 0, sizeof *d);
    d->outcome = o;
    pd_add_rules(d, rules);
    va_list ap;
    va_start(ap, fmt);
    vformat_why(d, 0, fmt, ap);
    va_end(ap);
}

void pd_append(ferry_decision_t *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vformat_why(d, strlen(d->why), fmt, ap);
    va_end(ap);
}

int pd_equal(const ferry_decision_t *a, const ferry_decision_t *b)
{
    if (a->outcome != b->outcome || a->n_rules != b->n_rules || strcmp(a->why, b->why) != 0)
        return 0;
    for (size_t i = 0; i < a->n_rules; i++)
        if (strcmp(a->rules[i], b->rules[i]) != 0)
            return 0;
    return 1;
}

void plan_init(ferry_plan_t *p, ferry_plan_kind_t kind)
{
    memset(p, 0, sizeof *p);
    p->kind = kind;
    p->verdict = FERRY_VERDICT_OK;
}

int plan_add(ferry_plan_t *p, ferry_item_kind_t kind, const char *name, const ferry_decision_t *d)
{
    if (p->n_items == p->cap_items) {
        size_t cap = p->cap_items ? p->cap_items * 2 : 16;
        ferry_plan_item_t *items = realloc(p->items, cap * sizeof *items);
        if (!items)
            return ferry_error_set(FERRY_ENOMEM, "out of memory building the plan's item list");
        p->items = items;
        p->cap_items = cap;
    }
    ferry_plan_item_t *it = &p->items[p->n_items++];
    memset(it, 0, sizeof *it);
    it->kind = kind;
    snprintf(it->name, sizeof it->name, "%s", name);
    it->d = *d;
    return 0;
}

void plan_warn(ferry_plan_t *p, const char *rules, const char *fmt, ...)
{
    if (p->n_warnings >= FERRY_PLAN_WARN_MAX)
        return;
    ferry_decision_t *w = &p->warnings[p->n_warnings++];
    memset(w, 0, sizeof *w);
    pd_add_rules(w, rules);
    va_list ap;
    va_start(ap, fmt);
    vformat_why(w, 0, fmt, ap);
    va_end(ap);
}

void plan_refuse(ferry_plan_t *p, const char *rules, const char *fmt, ...)
{
    p->verdict = FERRY_VERDICT_REFUSED;
    memset(&p->refusal, 0, sizeof p->refusal);
    pd_add_rules(&p->refusal, rules);
    va_list ap;
    va_start(ap, fmt);
    vformat_why(&p->refusal, 0, fmt, ap);
    va_end(ap);
}

void ferry_plan_free(ferry_plan_t *plan)
{
    if (!plan)
        return;
    free(plan->items);
    plan->items = NULL;
    plan->n_items = plan->cap_items = 0;
}

const ferry_plan_item_t *ferry_plan_find(const ferry_plan_t *plan, ferry_item_kind_t kind,
                                         const char *name)
{
    for (size_t i = 0; plan && i < plan->n_items; i++)
        if (plan->items[i].kind == kind && strcmp(plan->items[i].name, name) == 0)
            return &plan->items[i];
    return NULL;
}
