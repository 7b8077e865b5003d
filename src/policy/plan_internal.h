/*
 * plan_internal.h: helpers the policy files share to build plans: decisions with rule IDs and a
 * formatted "why", items, warnings and refusals. Private to src/policy.
 */
#ifndef FERRY_POLICY_PLAN_INTERNAL_H
#define FERRY_POLICY_PLAN_INTERNAL_H

#include "ferry/policy.h"

/* Fills d: outcome, rules as space-separated IDs ("S2 S3"), why as printf. */
void pd_set(ferry_decision_t *d, ferry_outcome_t o, const char *rules, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Appends more rule IDs (space-separated) that are not there yet. */
void pd_add_rules(ferry_decision_t *d, const char *rules);
/* Appends text to why (truncated at FERRY_PLAN_WHY_MAX). */
void pd_append(ferry_decision_t *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int pd_has_rule(const ferry_decision_t *d, const char *id);
int pd_equal(const ferry_decision_t *a, const ferry_decision_t *b);

void plan_init(ferry_plan_t *p, ferry_plan_kind_t kind);
/* Appends an item (copy of d); FERRY_ENOMEM on allocation failure. */
int plan_add(ferry_plan_t *p, ferry_item_kind_t kind, const char *name, const ferry_decision_t *d);
void plan_warn(ferry_plan_t *p, const char *rules, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void plan_refuse(ferry_plan_t *p, const char *rules, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A category in words for "why" sentences ("saved passwords", "Wi-Fi settings"). */
const char *category_words(unsigned bit);

/* Profile helpers shared by the backup and restore plans. */
int profile_is_mdm_enrollment(const ferry_profile_facts_t *pr);
int profile_has_hardware_bound_acme(const ferry_profile_facts_t *pr);
int profile_has_keychain_items(const ferry_profile_facts_t *pr);
int profile_has_this_device_only_key(const ferry_profile_facts_t *pr);
/* The MDM identity is a hardware-bound ACME key: the flag, or a profile payload whose UUID is the
 * identity UUID and which is hardware-bound (S4). */
int identity_is_hardware_bound(int flag, const char *identity_uuid, const ferry_profile_facts_t *profiles,
                               size_t n_profiles);

/* A growable NUL-terminated string for the renderers; on ENOMEM it turns failed and drops input. */
typedef struct {
    char *s;
    size_t len, cap;
    int failed;
} sbuf_t;
void sb_printf(sbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_json_string(sbuf_t *b, const char *s); /* a quoted, escaped JSON string */
/* The buffer's string (caller frees), or NULL after a failure (the buffer is freed). */
char *sb_finish(sbuf_t *b);

#endif
