/*
 * backup_facts.c: the facts of a backup that has not been made yet, derived from a device and the
 * backup plan for it, so that `ferry plan restore --from-device` and the emulated device (when it
 * builds a backup) describe exactly what the B rules put in. Invariant: an item is in the derived
 * backup exactly when the backup plan says `included`; nothing here decides a rule of its own.
 */
#include "plan_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int included(const ferry_plan_t *p, ferry_item_kind_t kind, const char *name)
{
    const ferry_plan_item_t *it = ferry_plan_find(p, kind, name);
    return it && it->d.outcome == FERRY_OUT_INCLUDED;
}

static int copy_apps(const ferry_device_facts_t *dev, const ferry_plan_t *p, ferry_backup_facts_t *out)
{
    if (!dev->apps || dev->n_apps == 0)
        return 0;
    ferry_app_facts_t *apps = calloc(dev->n_apps, sizeof *apps);
    if (!apps)
        return ferry_error_set(FERRY_ENOMEM, "out of memory deriving backup facts");
    size_t n = 0;
    for (size_t i = 0; i < dev->n_apps; i++) {
        if (!dev->apps[i].managed)
            continue;
        apps[n] = dev->apps[i];
        apps[n].installed = 0; /* B2: a backup holds no binaries */
        apps[n].in_backup = included(p, FERRY_ITEM_APP_DATA, dev->apps[i].bundle_id);
        n++;
    }
    out->apps = apps;
    out->n_apps = n;
    return 0;
}

static int copy_books(const ferry_device_facts_t *dev, const ferry_plan_t *p, ferry_backup_facts_t *out)
{
    if (!dev->books || dev->n_books == 0)
        return 0;
    ferry_book_facts_t *books = calloc(dev->n_books, sizeof *books);
    if (!books)
        return ferry_error_set(FERRY_ENOMEM, "out of memory deriving backup facts");
    for (size_t i = 0; i < dev->n_books; i++) {
        books[i] = dev->books[i];
        books[i].in_backup = included(p, FERRY_ITEM_BOOK, dev->books[i].id);
    }
    out->books = books;
    out->n_books = dev->n_books;
    return 0;
}

static void copy_scalars(const ferry_device_facts_t *dev, const ferry_plan_t *p, ferry_backup_facts_t *out)
{
    snprintf(out->source_udid, sizeof out->source_udid, "%s", dev->udid);
    snprintf(out->info_udid, sizeof out->info_udid, "%s", dev->udid);
    out->os = dev->os;
    out->encrypted = p->encrypted;
    out->method = p->method;
    out->account = p->account;
    if (p->account == FERRY_ACCOUNT_MANAGED)
        snprintf(out->account_id, sizeof out->account_id, "%s", dev->managed_account_id);
    out->source_enrollment = dev->enrollment;
    out->source_supervised = dev->supervised;
    out->source_multi_user = dev->multi_user;
    out->has_management_config = included(p, FERRY_ITEM_MANAGEMENT_CONFIGURATION,
                                           "management-configuration");
    out->has_mdm_profile = included(p, FERRY_ITEM_MDM_ENROLLMENT, "mdm-enrollment");
    snprintf(out->mdm_identity_uuid, sizeof out->mdm_identity_uuid, "%s", dev->mdm_identity_uuid);
    out->mdm_identity_hardware_bound = identity_is_hardware_bound(
        dev->mdm_identity_hardware_bound, dev->mdm_identity_uuid, dev->profiles, dev->n_profiles);
    out->managed_apps_only = p->managed_apps_only;
    for (unsigned i = 0; i < FERRY_CAT_COUNT; i++)
        if (included(p, FERRY_ITEM_CATEGORY, ferry_policy_category_name(1u << i)))
            out->categories |= 1u << i;
}

int ferry_policy_backup_facts_derive(const ferry_device_facts_t *dev, const ferry_backup_options_t *opts,
                                     ferry_backup_facts_t *out)
{
    if (!out)
        return ferry_error_set(FERRY_EINVAL, "backup facts: NULL argument");
    memset(out, 0, sizeof *out);
    ferry_plan_t p;
    int rc = ferry_policy_backup_plan(dev, opts, &p);
    if (rc != 0)
        return rc;
    if (p.verdict == FERRY_VERDICT_REFUSED) {
        rc = ferry_error_set(FERRY_EINVAL, "the device would not make this backup: %s", p.refusal.why);
        ferry_plan_free(&p);
        return rc;
    }
    copy_scalars(dev, &p, out);
    if (!p.managed_apps_only) { /* B10: a B11 backup holds no profiles */
        out->profiles = dev->profiles;
        out->n_profiles = dev->n_profiles;
    }
    rc = copy_apps(dev, &p, out);
    if (rc == 0)
        rc = copy_books(dev, &p, out);
    ferry_plan_free(&p);
    if (rc != 0)
        ferry_policy_backup_facts_free_derived(out);
    return rc;
}

void ferry_policy_backup_facts_free_derived(ferry_backup_facts_t *facts)
{
    if (!facts)
        return;
    free((void *)facts->apps);
    free((void *)facts->books);
    facts->apps = NULL;
    facts->books = NULL;
    facts->n_apps = facts->n_books = 0;
}
