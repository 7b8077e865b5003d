/*
 * unenroll.c: what a device removes when its MDM enrollment ends (E1, E2, U3), whether a server
 * rejected the check-in (S3) or the enrollment could not stay (S4, S6, S7, D1, V1). It is the device
 * side of what restore_items.c predicts: the enrollment profile and the profiles installed through it
 * go; apps with ManagementFlags & 1 go with their data under profile-de/ade, every managed app goes
 * under ue-* and de-account (U3); the rest stays (other managed apps unmanaged, enterprise books, the
 * management configuration, profiles installed by hand). Pure: facts in, one decision per item out,
 * in the order profiles, apps, books, so that a caller can run and report the list as it stands.
 */
#include "plan_internal.h"

#include <stdlib.h>
#include <string.h>

const char *ferry_policy_unenroll_action_name(ferry_unenroll_action_t a)
{
    switch (a) {
    case FERRY_UNENROLL_KEEP: return "keep";
    case FERRY_UNENROLL_REMOVE: return "remove";
    case FERRY_UNENROLL_UNMANAGE: return "unmanage";
    }
    return "unknown";
}

int ferry_policy_checkin_unenrolls(int http_status, int unrecognized_device_body, ferry_os_version_t os)
{
    if (http_status == 401)
        return 1;
    return http_status == 403 && unrecognized_device_body && os.major >= 17;
}

typedef struct {
    const char *cause; /* "S3", "S4", ... or "" */
    const char *erule; /* "E1" or "E2" */
    int account;       /* ue-*, de-account: E2/U3 */
    int rejected;      /* S3 */
    ferry_unenroll_plan_t *p;
} uctx_t;

static ferry_unenroll_item_t *add(uctx_t *c, ferry_item_kind_t kind, const char *name,
                                  ferry_unenroll_action_t a)
{
    ferry_unenroll_item_t *n = realloc(c->p->items, (c->p->n + 1) * sizeof *n);
    if (!n)
        return NULL;
    c->p->items = n;
    ferry_unenroll_item_t *it = &n[c->p->n++];
    memset(it, 0, sizeof *it);
    it->kind = kind;
    it->action = a;
    strncpy(it->name, name ? name : "", sizeof it->name - 1);
    return it;
}

/* Rule IDs of a removal: the cause, then E1 or E2. */
static void removed(const uctx_t *c, ferry_decision_t *d, const char *fmt_why)
{
    pd_set(d, c->rejected ? FERRY_OUT_REMOVED_AFTER_CHECKIN : FERRY_OUT_DROPPED, c->cause, "%s", fmt_why);
    pd_add_rules(d, c->erule);
}

static void kept(const uctx_t *c, ferry_decision_t *d, const char *extra, const char *why)
{
    pd_set(d, FERRY_OUT_RESTORED, c->cause, "%s", why);
    pd_add_rules(d, c->erule);
    if (extra)
        pd_add_rules(d, extra);
}

static int do_profiles(uctx_t *c, const ferry_device_facts_t *dev)
{
    for (size_t i = 0; dev->profiles && i < dev->n_profiles; i++) {
        const ferry_profile_facts_t *pr = &dev->profiles[i];
        int enr = profile_is_mdm_enrollment(pr);
        int go = enr || pr->installed_by_mdm;
        ferry_unenroll_item_t *it = add(c, enr ? FERRY_ITEM_MDM_ENROLLMENT : FERRY_ITEM_PROFILE,
                                        pr->identifier, go ? FERRY_UNENROLL_REMOVE : FERRY_UNENROLL_KEEP);
        if (!it)
            return ferry_error_set(FERRY_ENOMEM, "out of memory");
        if (enr)
            removed(c, &it->d, "the MDM enrollment profile is removed, with the identity and "
                               "certificates it installed");
        else if (go)
            removed(c, &it->d, "installed by the MDM server through the enrollment: removed with the "
                               "networks, certificates and identities it installed");
        else
            kept(c, &it->d, NULL, "installed by hand or by Apple Configurator, not through the enrollment: "
                                  "it stays");
    }
    return 0;
}

static int do_apps(uctx_t *c, const ferry_device_facts_t *dev)
{
    for (size_t i = 0; dev->apps && i < dev->n_apps; i++) {
        const ferry_app_facts_t *a = &dev->apps[i];
        if (!a->managed)
            continue; /* personal apps are not the enrollment's */
        ferry_unenroll_action_t act;
        if (c->account || ((a->management_flags & 1) && !a->declarative))
            act = FERRY_UNENROLL_REMOVE;
        else
            act = FERRY_UNENROLL_UNMANAGE;
        ferry_unenroll_item_t *it = add(c, FERRY_ITEM_APP, a->bundle_id, act);
        if (!it)
            return ferry_error_set(FERRY_ENOMEM, "out of memory");
        if (c->account) {
            removed(c, &it->d, "a managed app of an account-based enrollment: removed with its data, "
                               "whatever ManagementFlags says");
            pd_add_rules(&it->d, "U3");
        } else if (act == FERRY_UNENROLL_REMOVE) {
            removed(c, &it->d, "ManagementFlags has bit 1: removed with its data");
        } else if (a->declarative) {
            kept(c, &it->d, NULL, "managed declaratively: no equivalent of ManagementFlags bit 1, it "
                                  "stays, unmanaged (ferry choice)");
        } else {
            kept(c, &it->d, NULL, "ManagementFlags without bit 1: the app and its data stay, unmanaged");
        }
    }
    return 0;
}

static int do_books(uctx_t *c, const ferry_device_facts_t *dev)
{
    for (size_t i = 0; dev->books && i < dev->n_books; i++) {
        const ferry_book_facts_t *b = &dev->books[i];
        ferry_unenroll_item_t *it = add(c, FERRY_ITEM_BOOK, b->id, FERRY_UNENROLL_KEEP);
        if (!it)
            return ferry_error_set(FERRY_ENOMEM, "out of memory");
        kept(c, &it->d, b->enterprise ? "D4" : NULL,
             b->enterprise ? "enterprise books stay (ferry choice, consistent with D4)"
                           : "Book Store books belong to the account and stay");
    }
    return 0;
}

int ferry_policy_unenroll_plan(const ferry_device_facts_t *dev, const char *cause, ferry_unenroll_plan_t *out)
{
    if (!dev || !out)
        return ferry_error_set(FERRY_EINVAL, "ferry_policy_unenroll_plan: NULL argument");
    memset(out, 0, sizeof *out);
    uctx_t c = {cause ? cause : "", "E1", ferry_policy_enrollment_is_account_based(dev->enrollment),
                cause && !strcmp(cause, "S3"), out};
    if (c.account)
        c.erule = "E2";
    int rc = 0;
    if (dev->has_management_config) {
        ferry_unenroll_item_t *it = add(&c, FERRY_ITEM_MANAGEMENT_CONFIGURATION, "", FERRY_UNENROLL_KEEP);
        if (!it)
            rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
        else
            kept(&c, &it->d, c.rejected ? "S1" : NULL,
                 "the management configuration stays: only the enrollment and what it installed go");
    }
    if (!rc)
        rc = do_profiles(&c, dev);
    if (!rc)
        rc = do_apps(&c, dev);
    if (!rc)
        rc = do_books(&c, dev);
    if (rc)
        ferry_policy_unenroll_free(out);
    return rc;
}

void ferry_policy_unenroll_free(ferry_unenroll_plan_t *p)
{
    if (!p)
        return;
    free(p->items);
    p->items = NULL;
    p->n = 0;
}
