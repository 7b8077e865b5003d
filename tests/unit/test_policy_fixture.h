/*
 * test_policy_fixture.h: device and backup facts the policy tests share: a managed device with an
 * MDM enrollment profile, a profile the MDM installed, one installed by hand, managed apps with
 * ManagementFlags 0, 1 and 4, an enterprise and a store book, every data category; and erased
 * targets. Everything lives in the fixture struct, so a test needs no allocation.
 */
#ifndef TEST_POLICY_FIXTURE_H
#define TEST_POLICY_FIXTURE_H

#include <stdio.h>
#include <string.h>

#include "ferry/policy.h"

#define TP_UDID "00008030-000A1B2C3D4E5F60"
#define TP_OTHER_UDID "00008110-0011223344556677"
#define TP_ACCOUNT "pat@example.org"

typedef struct {
    ferry_payload_facts_t mdm_payloads[2];
    ferry_payload_facts_t wifi_payloads[1];
    ferry_payload_facts_t manual_payloads[2];
    ferry_profile_facts_t profiles[3];
    ferry_app_facts_t apps[4];
    ferry_book_facts_t books[2];
    ferry_device_facts_t dev;
} tp_device_t;

static inline void tp_payload(ferry_payload_facts_t *p, const char *type, const char *uuid, int hw)
{
    memset(p, 0, sizeof *p);
    snprintf(p->type, sizeof p->type, "%s", type);
    snprintf(p->uuid, sizeof p->uuid, "%s", uuid);
    p->hardware_bound = hw;
}

static inline void tp_profile(ferry_profile_facts_t *p, const char *id, int by_mdm,
                              const ferry_payload_facts_t *payloads, size_t n)
{
    memset(p, 0, sizeof *p);
    snprintf(p->identifier, sizeof p->identifier, "%s", id);
    snprintf(p->uuid, sizeof p->uuid, "%s-uuid", id);
    p->installed_by_mdm = by_mdm;
    p->payloads = payloads;
    p->n_payloads = n;
}

static inline void tp_app(ferry_app_facts_t *a, const char *id, int managed, uint32_t flags)
{
    memset(a, 0, sizeof *a);
    snprintf(a->bundle_id, sizeof a->bundle_id, "%s", id);
    a->managed = managed;
    a->management_flags = flags;
    a->include_in_backup = 1;
    a->installed = 1;
}

/* A device on 26.3 with enrollment e. Enrolled devices carry, in this order: profiles
 * com.example.mdm (enrollment, SCEP identity ID-1), com.example.wifi (installed by the MDM),
 * com.example.manual (by hand, with a PKCS#12 identity); apps com.example.keep (flags 0),
 * com.example.remove (1), com.example.nobackup (4), com.example.own (unmanaged); books
 * com.example.handbook (enterprise) and 123456789 (store). A device with enrollment none has only
 * com.example.manual, com.example.own and the store book. */
static inline void tp_device_init(tp_device_t *d, ferry_enrollment_t e)
{
    memset(d, 0, sizeof *d);
    ferry_device_facts_t *v = &d->dev;
    snprintf(v->udid, sizeof v->udid, "%s", TP_UDID);
    snprintf(v->serial, sizeof v->serial, "F2LXTEST0001");
    v->os = (ferry_os_version_t){26, 3, 0};
    v->enrollment = e;
    v->supervised = e == FERRY_ENROLL_ADE;
    v->has_management_config = e == FERRY_ENROLL_ADE;
    v->personal_account = 1;
    v->managed_account = ferry_policy_enrollment_is_account_based(e);
    snprintf(v->managed_account_id, sizeof v->managed_account_id, "%s", v->managed_account ? TP_ACCOUNT : "");
    v->locked = v->on_power = v->on_wifi = 1;
    v->categories = FERRY_CAT_ALL;
    v->has_passcode = v->has_biometrics = 1;
    ferry_policy_restrictions_default(&v->restrictions);
    tp_payload(&d->mdm_payloads[0], "com.apple.mdm", "MDM-1", 0);
    tp_payload(&d->mdm_payloads[1], "com.apple.security.scep", "ID-1", 0);
    tp_payload(&d->wifi_payloads[0], "com.apple.wifi.managed", "WIFI-1", 0);
    tp_payload(&d->manual_payloads[0], "com.apple.webClip.managed", "CLIP-1", 0);
    tp_payload(&d->manual_payloads[1], "com.apple.security.pkcs12", "P12-1", 0);
    tp_profile(&d->profiles[0], "com.example.mdm", 0, d->mdm_payloads, 2);
    tp_profile(&d->profiles[1], "com.example.wifi", 1, d->wifi_payloads, 1);
    tp_profile(&d->profiles[2], "com.example.manual", 0, d->manual_payloads, 2);
    tp_app(&d->apps[0], "com.example.keep", 1, 0);
    tp_app(&d->apps[1], "com.example.remove", 1, 1);
    tp_app(&d->apps[2], "com.example.nobackup", 1, 4);
    tp_app(&d->apps[3], "com.example.own", 0, 0);
    snprintf(d->books[0].id, sizeof d->books[0].id, "com.example.handbook");
    d->books[0].enterprise = 1;
    snprintf(d->books[1].id, sizeof d->books[1].id, "123456789");
    if (e == FERRY_ENROLL_NONE) {
        v->profiles = &d->profiles[2];
        v->n_profiles = 1;
        v->apps = &d->apps[3];
        v->n_apps = 1;
        v->books = &d->books[1];
        v->n_books = 1;
    } else {
        snprintf(v->mdm_identity_uuid, sizeof v->mdm_identity_uuid, "ID-1");
        v->profiles = d->profiles;
        v->n_profiles = 3;
        v->apps = d->apps;
        v->n_apps = 4;
        v->books = d->books;
        v->n_books = 2;
    }
}

/* The MDM identity becomes a hardware-bound ACME key (S4), and the profile installed by hand gets a
 * hardware-bound ACME payload instead of its PKCS#12 identity (R6). */
static inline void tp_device_acme(tp_device_t *d)
{
    tp_payload(&d->mdm_payloads[1], "com.apple.security.acme", "ID-1", 1);
    tp_payload(&d->manual_payloads[1], "com.apple.security.acme", "ACME-2", 1);
}

/* An erased target on os: the same device as tp_device_init's (same UDID) or another one. */
static inline void tp_target_init(ferry_device_facts_t *t, int same, ferry_os_version_t os)
{
    memset(t, 0, sizeof *t);
    snprintf(t->udid, sizeof t->udid, "%s", same ? TP_UDID : TP_OTHER_UDID);
    snprintf(t->serial, sizeof t->serial, "%s", same ? "F2LXTEST0001" : "F2LXTEST0002");
    t->os = os;
    ferry_policy_restrictions_default(&t->restrictions);
}

/* The target's serial is in Apple Business Manager with an ADE profile assigned. */
static inline void tp_target_assigned(ferry_device_facts_t *t, int do_not_use_backup)
{
    t->registered_in_abm = 1;
    t->assignment.assigned = 1;
    t->assignment.is_supervised = 1;
    t->assignment.do_not_use_profile_from_backup = do_not_use_backup;
}

static inline const char *tp_outcome(const ferry_plan_t *p, ferry_item_kind_t kind, const char *name)
{
    const ferry_plan_item_t *it = ferry_plan_find(p, kind, name);
    return it ? ferry_policy_outcome_name(it->d.outcome) : "(absent)";
}

static inline int tp_decision_has_rule(const ferry_decision_t *d, const char *rule)
{
    for (size_t i = 0; i < d->n_rules; i++)
        if (strcmp(d->rules[i], rule) == 0)
            return 1;
    return 0;
}

static inline int tp_has_rule(const ferry_plan_t *p, ferry_item_kind_t kind, const char *name,
                              const char *rule)
{
    const ferry_plan_item_t *it = ferry_plan_find(p, kind, name);
    for (size_t i = 0; it && i < it->d.n_rules; i++)
        if (strcmp(it->d.rules[i], rule) == 0)
            return 1;
    return 0;
}

#endif
