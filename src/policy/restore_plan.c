/*
 * restore_plan.c: the restore plan. The preflight decides whether the restore happens at all (the
 * backup's own UDIDs agree, R5 and U1 for Managed Apple Account backups, R3 for OS versions, R4 for
 * supervision, ferry's erased-target check); R2 then picks the path (S same device, D different
 * device, U enrollment flow); restore_items.c decides the items. When the MDM answer is not given,
 * both branches are decided and merged: the accept branch in each item, the reject branch beside it
 * where it differs ("What a restore reports"). Invariant: a refused plan has no items.
 */
#include "restore_internal.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* R4: an assigned ADE profile makes the target supervised (D2 will apply it; from iOS 13 every
 * ADE enrollment is supervised, whatever is_supervised says). */
static int target_supervised(const ferry_device_facts_t *t)
{
    int ade = t->registered_in_abm && t->assignment.assigned &&
              (t->assignment.is_supervised || t->os.major >= 13);
    return t->supervised || ade;
}

static const char *os_str(ferry_os_version_t v, char *buf, size_t len)
{
    if (v.patch)
        snprintf(buf, len, "%d.%d.%d", v.major, v.minor, v.patch);
    else
        snprintf(buf, len, "%d.%d", v.major, v.minor);
    return buf;
}

/* B11 backups: R5 refuses a full restore; U1 offers one only to the same Managed Apple Account. */
static void preflight_managed_only(const ferry_backup_facts_t *b, const ferry_restore_options_t *o,
                                   ferry_plan_t *p)
{
    if (!o->enrollment_account[0])
        plan_refuse(p, "R5 R2", "this backup was taken with a Managed Apple Account and holds only "
                                "managed-app data: it cannot be used for a full device restore; it is "
                                "offered inside a User Enrollment or account-driven Device Enrollment "
                                "flow started with the same account (U1)");
    else if (strcasecmp(o->enrollment_account, b->account_id) != 0)
        plan_refuse(p, "U1 R5", "the restore is offered only to the Managed Apple Account that made the "
                                "backup (%s), not to %s",
                    b->account_id[0] ? b->account_id : "unknown", o->enrollment_account);
    else if (o->user_declines)
        plan_refuse(p, "U1", "the user did not accept the restore offered in the enrollment flow");
}

static void preflight_full(const ferry_backup_facts_t *b, const ferry_device_facts_t *t,
                           const ferry_restore_options_t *o, ferry_plan_t *p)
{
    /* RULES.md "Restore target": ferry restores onto an erased device. */
    if (t->enrollment != FERRY_ENROLL_NONE && !o->force) {
        plan_refuse(p, "", "the target is enrolled in MDM (%s); ferry restores only onto an erased "
                           "device: erase it first, or pass --force",
                    ferry_policy_enrollment_name(t->enrollment));
        return;
    }
    if (t->enrollment != FERRY_ENROLL_NONE)
        plan_warn(p, "", "--force: the target is enrolled (%s) and is treated as erased",
                  ferry_policy_enrollment_name(t->enrollment));
    int src = b->source_supervised, dst = target_supervised(t);
    if (src == dst)
        return;
    /* R4: a host check; Apple Configurator refuses, Finder only warns. */
    if (o->host == FERRY_HOST_CONFIGURATOR && !o->force)
        plan_refuse(p, "R4", "a %s device's backup restores only to a %s device with Apple "
                             "Configurator; pass --force to restore anyway",
                    src ? "supervised" : "unsupervised", src ? "supervised" : "unsupervised");
    else
        plan_warn(p, "R4", "the backup's device was %s and the target is %s; Apple Configurator would "
                       "refuse this restore",
              src ? "supervised" : "unsupervised", dst ? "supervised" : "unsupervised");
}

static void preflight(const ferry_backup_facts_t *b, const ferry_device_facts_t *t,
                      const ferry_restore_options_t *o, ferry_plan_t *p)
{
    /* RULES.md "Same device": the two UDIDs a backup records must agree. */
    if (b->info_udid[0] && !ferry_policy_udid_equal(b->info_udid, b->source_udid)) {
        plan_refuse(p, "", "the backup is inconsistent: Info.plist Unique Identifier %s disagrees with "
                           "Manifest.plist Lockdown.UniqueDeviceID %s",
                    b->info_udid, b->source_udid);
        return;
    }
    if (b->managed_apps_only)
        preflight_managed_only(b, o, p);
    if (p->verdict == FERRY_VERDICT_REFUSED)
        return;
    /* R3: the device fails a restore from a newer OS before writing anything. */
    if (ferry_policy_os_compare(b->os, t->os) > 0) {
        char bv[32], tv[32];
        plan_refuse(p, "R3", "the backup was made on %s, newer than the target's %s: update the target "
                             "first",
                    os_str(b->os, bv, sizeof bv), os_str(t->os, tv, sizeof tv));
        return;
    }
    if (!b->managed_apps_only)
        preflight_full(b, t, o, p);
}

static void init_ctx(rctx_t *c, const ferry_backup_facts_t *b, const ferry_device_facts_t *t,
                     const ferry_restore_options_t *o, ferry_mdm_answer_t mdm)
{
    memset(c, 0, sizeof *c);
    c->b = b;
    c->t = t;
    c->o = o;
    c->mdm = mdm;
    /* R2: a B11 backup goes through U; others through S on the same device, D elsewhere. */
    if (b->managed_apps_only)
        c->path = 'U';
    else
        c->path = ferry_policy_udid_equal(b->source_udid, t->udid) ? 'S' : 'D';
    c->dep = t->registered_in_abm && t->assignment.assigned;
    /* V1: the target's version and its current ADE profile decide; V2 adds 26.4. */
    c->v1 = c->path != 'U' && c->dep && t->assignment.do_not_use_profile_from_backup && t->os.major >= 26;
    c->v2 = c->v1 && ferry_policy_os_compare(t->os, (ferry_os_version_t){26, 4, 0}) >= 0;
    c->acct_src = ferry_policy_enrollment_is_account_based(b->source_enrollment);
    c->src_enrolled = b->source_enrollment != FERRY_ENROLL_NONE || b->has_mdm_profile;
    c->identity_hw = identity_is_hardware_bound(b->mdm_identity_hardware_bound, b->mdm_identity_uuid,
                                                b->profiles, b->n_profiles);
}

static int run_branch(const ferry_backup_facts_t *b, const ferry_device_facts_t *t,
                      const ferry_restore_options_t *o, ferry_mdm_answer_t mdm, ferry_plan_t *p)
{
    rctx_t c;
    init_ctx(&c, b, t, o, mdm);
    p->path = c.path;
    return restore_items(&c, p);
}

/* Both branches: accept in d, reject in if_rejected where they differ. */
static int run_both(const ferry_backup_facts_t *b, const ferry_device_facts_t *t,
                    const ferry_restore_options_t *o, ferry_plan_t *p)
{
    ferry_plan_t rej;
    plan_init(&rej, FERRY_PLAN_RESTORE);
    int rc = run_branch(b, t, o, FERRY_MDM_ACCEPT, p);
    if (rc == 0)
        rc = run_branch(b, t, o, FERRY_MDM_REJECT_401, &rej);
    if (rc == 0 && rej.n_items != p->n_items)
        rc = ferry_error_set(FERRY_EINVAL, "internal: restore branches list different items");
    for (size_t i = 0; rc == 0 && i < p->n_items; i++) {
        /* Only a different outcome is a different branch; a changed sentence alone is not. */
        if (p->items[i].d.outcome != rej.items[i].d.outcome) {
            p->items[i].has_if_rejected = 1;
            p->items[i].if_rejected = rej.items[i].d;
        }
    }
    ferry_plan_free(&rej);
    return rc;
}

int ferry_policy_restore_plan(const ferry_backup_facts_t *backup, const ferry_device_facts_t *target,
                              const ferry_restore_options_t *opts, ferry_plan_t *out)
{
    if (!backup || !target || !opts || !out)
        return ferry_error_set(FERRY_EINVAL, "restore plan: NULL argument");
    plan_init(out, FERRY_PLAN_RESTORE);
    if ((unsigned)opts->host > FERRY_HOST_CONFIGURATOR || (unsigned)opts->mdm > FERRY_MDM_UNREACHABLE ||
        (unsigned)backup->source_enrollment > FERRY_ENROLL_DE_ACCOUNT ||
        (unsigned)target->enrollment > FERRY_ENROLL_DE_ACCOUNT)
        return ferry_error_set(FERRY_EINVAL, "restore plan: host type, MDM answer or enrollment type out "
                                             "of range");
    out->encrypted = backup->encrypted;
    out->method = backup->method;
    out->account = backup->account;
    out->managed_apps_only = backup->managed_apps_only;
    out->host = opts->host;
    out->mdm = opts->mdm;
    preflight(backup, target, opts, out);
    if (out->verdict == FERRY_VERDICT_REFUSED)
        return 0;
    int rc = opts->mdm == FERRY_MDM_BOTH ? run_both(backup, target, opts, out)
                                         : run_branch(backup, target, opts, opts->mdm, out);
    if (rc != 0)
        ferry_plan_free(out);
    return rc;
}
