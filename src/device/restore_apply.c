/*
 * restore_apply.c: carries out a restore plan (ferry_policy_restore_plan) on the device model after
 * the data files of a restore have been written (mb2_restore.c), so that the device ends as `ferry
 * plan restore` predicts item by item: the management configuration and the MDM enrollment profile
 * restored from the backup (S1) or gone (D1, S7; D2, S4 and V1 leave the device to enroll again),
 * profiles restored from the backup's stubs or dropped (D5, R6, V2, E1), managed apps shown as
 * placeholders or removed with their data, books kept or removed, the data of categories that are not
 * restored removed, and the check-in state set so that the next check-in is the S2 TokenUpdate.
 * The device restores onto itself as onto an erased target: whatever the plan does not restore does
 * not stay. Order matters for a crash half-way (each step is saved atomically by the editing function
 * that makes it): apps and data first, then profiles, the enrollment profile and the management
 * configuration, the check-in state last, so that an interrupted device still looks enrolled and a
 * repeated restore finishes the job.
 */
#include "device_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const ferry_plan_item_t *item(const ferry_plan_t *plan, ferry_item_kind_t kind, const char *name)
{
    return ferry_plan_find(plan, kind, name);
}

static int outcome_is(const ferry_plan_item_t *it, ferry_outcome_t o)
{
    return it && it->d.outcome == o;
}

/* ---- profiles ------------------------------------------------------------------------------------ */

static const char *dict_str(plist_t d, const char *key)
{
    plist_t n = d && plist_get_node_type(d) == PLIST_DICT ? plist_dict_get_item(d, key) : NULL;
    return n && plist_get_node_type(n) == PLIST_STRING ? plist_get_string_ptr(n, NULL) : NULL;
}

static int stub_is_enrollment(plist_t stub)
{
    plist_t pc = plist_dict_get_item(stub, "PayloadContent");
    if (!pc || plist_get_node_type(pc) != PLIST_ARRAY)
        return 0;
    for (uint32_t i = 0; i < plist_array_get_size(pc); i++) {
        const char *t = dict_str(plist_array_get_item(pc, i), "PayloadType");
        if (t && !strcmp(t, "com.apple.mdm"))
            return 1;
    }
    return 0;
}

/* The backup's stub of the profile with that PayloadIdentifier (enrollment: the one carrying
 * com.apple.mdm when id is NULL). */
static plist_t find_stub(const ferry_backup_content_t *c, const char *id)
{
    for (uint32_t i = 0; c->profiles && i < plist_array_get_size(c->profiles); i++) {
        plist_t s = plist_array_get_item(c->profiles, i);
        if (plist_get_node_type(s) != PLIST_DICT)
            continue;
        const char *sid = dict_str(s, "PayloadIdentifier");
        if (id ? sid && !strcmp(sid, id) : stub_is_enrollment(s))
            return s;
    }
    return NULL;
}

static ssize_t installed_index(const ferry_device_t *dev, const char *id)
{
    for (size_t i = 0; i < dev->n_profiles; i++)
        if (!strcmp(dev->profiles[i].profile->PayloadIdentifier, id))
            return (ssize_t)i;
    return -1;
}

static ferry_profile_source_t stub_source(const ferry_backup_facts_t *bf, const char *id, plist_t stub)
{
    if (stub_is_enrollment(stub))
        return FERRY_SOURCE_ENROLLMENT;
    for (size_t i = 0; i < bf->n_profiles; i++)
        if (!strcmp(bf->profiles[i].identifier, id))
            return bf->profiles[i].installed_by_mdm ? FERRY_SOURCE_MDM : FERRY_SOURCE_MANUAL;
    return FERRY_SOURCE_MANUAL;
}

/* Installs the backed-up profile unless the device already has it (a same-device restore). */
static int restore_profile(ferry_device_t *dev, const ferry_backup_content_t *c, const ferry_backup_facts_t *bf,
                           const char *id)
{
    plist_t stub = find_stub(c, id);
    const char *sid = stub ? dict_str(stub, "PayloadIdentifier") : NULL;
    if (!sid)
        return ferry_error_set(FERRY_ENOTFOUND, "restore: the backup holds no profile stub for %s",
                               id ? id : "the MDM enrollment");
    if (installed_index(dev, sid) >= 0)
        return 0;
    char *xml = NULL;
    uint32_t len = 0;
    plist_to_xml(stub, &xml, &len);
    if (!xml)
        return ferry_error_set(FERRY_ENOMEM, "restore: cannot serialise the profile %s", sid);
    int rc = ferry_device_install_profile_data(dev, (const uint8_t *)xml, len, sid, stub_source(bf, sid, stub));
    free(xml);
    return rc;
}

/* Every installed profile other than the enrollment profile goes unless its item says restored. */
static int apply_profiles(ferry_device_t *dev, const ferry_plan_t *plan, const ferry_backup_content_t *c,
                          const ferry_backup_facts_t *bf)
{
    const ferry_installed_profile_t *enr = ferry_device_enrollment_profile(dev);
    for (size_t i = dev->n_profiles; i-- > 0;) {
        const ferry_installed_profile_t *ip = &dev->profiles[i];
        if (ip == enr || outcome_is(item(plan, FERRY_ITEM_PROFILE, ip->profile->PayloadIdentifier), FERRY_OUT_RESTORED))
            continue;
        int rc = ferry_device_remove_profile(dev, ip->profile->PayloadIdentifier);
        if (rc)
            return rc;
        enr = ferry_device_enrollment_profile(dev);
    }
    for (size_t i = 0; i < plan->n_items; i++) {
        const ferry_plan_item_t *it = &plan->items[i];
        int rc = 0;
        if (it->kind == FERRY_ITEM_PROFILE && it->d.outcome == FERRY_OUT_RESTORED)
            rc = restore_profile(dev, c, bf, it->name);
        if (rc)
            return rc;
    }
    return 0;
}

/* S1 restores the enrollment profile; every other outcome leaves the device unenrolled (D1, S4, S6,
 * S7, V1: D2 and V1 enroll again through the assignment service at the check-in). */
static int apply_enrollment(ferry_device_t *dev, const ferry_plan_t *plan, const ferry_backup_content_t *c,
                            const ferry_backup_facts_t *bf)
{
    const ferry_plan_item_t *it = NULL;
    for (size_t i = 0; i < plan->n_items && !it; i++)
        if (plan->items[i].kind == FERRY_ITEM_MDM_ENROLLMENT)
            it = &plan->items[i];
    const ferry_installed_profile_t *enr = ferry_device_enrollment_profile(dev);
    if (outcome_is(it, FERRY_OUT_RESTORED)) {
        plist_t stub = find_stub(c, NULL);
        const char *sid = stub ? dict_str(stub, "PayloadIdentifier") : NULL;
        if (enr && sid && strcmp(enr->profile->PayloadIdentifier, sid)) {
            int rc = ferry_device_remove_profile(dev, enr->profile->PayloadIdentifier);
            if (rc)
                return rc;
        }
        return restore_profile(dev, c, bf, NULL);
    }
    return enr ? ferry_device_remove_profile(dev, enr->profile->PayloadIdentifier) : 0;
}

static int apply_management(ferry_device_t *dev, const ferry_plan_t *plan, const ferry_backup_content_t *c)
{
    const ferry_plan_item_t *it = NULL;
    for (size_t i = 0; i < plan->n_items && !it; i++)
        if (plan->items[i].kind == FERRY_ITEM_MANAGEMENT_CONFIGURATION)
            it = &plan->items[i];
    plist_t next = outcome_is(it, FERRY_OUT_RESTORED) && c->cloud_configuration &&
                           plist_get_node_type(c->cloud_configuration) == PLIST_DICT
                       ? plist_copy(c->cloud_configuration)
                       : NULL;
    plist_free(dev->CloudConfigurationDetails);
    dev->CloudConfigurationDetails = next;
    return ferry_device_save(dev);
}

/* ---- apps and books ------------------------------------------------------------------------------ */

static const ferry_app_facts_t *backup_app(const ferry_backup_facts_t *bf, const char *id)
{
    for (size_t i = 0; i < bf->n_apps; i++)
        if (!strcmp(bf->apps[i].bundle_id, id))
            return &bf->apps[i];
    return NULL;
}

/* S5/D3: the data is restored and the app waits for its binary (ManagedButUninstalled). */
static int make_placeholder(ferry_device_t *dev, const ferry_backup_facts_t *bf, const char *id)
{
    const ferry_app_facts_t *ba = backup_app(bf, id);
    ferry_app_t *a = (ferry_app_t *)ferry_device_find_app(dev, id);
    if (!a) {
        ferry_app_install_t in;
        ferry_app_install_init(&in);
        in.bundle_id = id;
        in.managed = 1;
        in.placeholder = 1;
        in.management_flags = ba ? (int64_t)ba->management_flags : 0;
        return ferry_device_install_app(dev, &in);
    }
    a->Installed = 0;
    a->IsManaged = 1;
    if (ba)
        a->ManagementFlags = (int64_t)ba->management_flags;
    return ferry_device_save(dev);
}

/* Managed apps: placeholder, restored (data only: Configurator shows no placeholder, the app keeps
 * what the device had), skipped (U2: the installed app stays); any other outcome removes the app with
 * its data, as on an erased device. */
static int apply_apps(ferry_device_t *dev, const ferry_plan_t *plan, const ferry_backup_facts_t *bf)
{
    for (size_t i = 0; i < plan->n_items; i++) {
        const ferry_plan_item_t *it = &plan->items[i];
        if (it->kind != FERRY_ITEM_APP_DATA)
            continue;
        int rc = 0;
        if (it->d.outcome == FERRY_OUT_PLACEHOLDER)
            rc = make_placeholder(dev, bf, it->name);
        else if (it->d.outcome != FERRY_OUT_RESTORED && it->d.outcome != FERRY_OUT_SKIPPED &&
                 ferry_device_find_app(dev, it->name))
            rc = ferry_device_remove_app(dev, it->name);
        if (rc)
            return ferry_error_wrap(rc, "restore stopped at the app %s", it->name);
    }
    return 0;
}

/* Enterprise books stay only when restored (S5, D4); store books are downloaded again (B2), so the
 * device keeps them. */
static int book_stays(const ferry_plan_t *plan, const ferry_book_t *b)
{
    return !b->PersistentID || outcome_is(item(plan, FERRY_ITEM_BOOK, b->PersistentID), FERRY_OUT_RESTORED);
}

/* The kind (file extension) of an enterprise book's file in the backup: BooksDomain Managed/<id>.<kind>. */
static char *book_kind(const ferry_backup_content_t *c, const char *id)
{
    size_t n = strlen(id);
    for (size_t i = 0; i < c->n_book_paths; i++) {
        const char *p = c->book_paths[i];
        if (!strncmp(p, "Managed/", 8) && !strncmp(p + 8, id, n) && p[8 + n] == '.' && p[9 + n])
            return dev_strdup(p + 9 + n);
    }
    return NULL;
}

/* D4 on another device: an enterprise book the backup restores joins the device's books. */
static int add_book(ferry_device_t *dev, const ferry_backup_content_t *c, const ferry_book_facts_t *bk)
{
    for (size_t i = 0; i < dev->n_books; i++)
        if (dev->books[i].PersistentID && !strcmp(dev->books[i].PersistentID, bk->id))
            return 0;
    ferry_book_t *nb = realloc(dev->books, (dev->n_books + 1) * sizeof *nb);
    if (!nb)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    dev->books = nb;
    ferry_book_t *b = &nb[dev->n_books];
    memset(b, 0, sizeof *b);
    b->PersistentID = dev_strdup(bk->id);
    b->Title = bk->title[0] ? dev_strdup(bk->title) : NULL;
    b->Kind = book_kind(c, bk->id);
    b->State = dev_strdup("Installed");
    b->IsManaged = 1;
    if (!b->PersistentID || !b->State) {
        dev_book_clear(b);
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    dev->n_books++;
    return 0;
}

static int apply_books(ferry_device_t *dev, const ferry_plan_t *plan, const ferry_backup_content_t *c,
                       const ferry_backup_facts_t *bf)
{
    int changed = 0;
    for (size_t i = 0; i < bf->n_books; i++) {
        if (!bf->books[i].enterprise ||
            !outcome_is(item(plan, FERRY_ITEM_BOOK, bf->books[i].id), FERRY_OUT_RESTORED))
            continue;
        size_t before = dev->n_books;
        int rc = add_book(dev, c, &bf->books[i]);
        if (rc)
            return rc;
        changed |= dev->n_books != before;
    }
    for (size_t i = dev->n_books; i-- > 0;) {
        if (book_stays(plan, &dev->books[i]))
            continue;
        char *rel = ferry_book_relpath(&dev->books[i]);
        char *p = rel ? dev_path(dev->dir, "files/BooksDomain", rel) : NULL;
        if (p)
            unlink(p);
        free(p);
        free(rel);
        ferry_book_t gone = dev->books[i];
        memmove(&dev->books[i], &dev->books[i + 1], (dev->n_books - i - 1) * sizeof gone);
        dev->n_books--;
        dev_book_clear(&gone);
        changed = 1;
    }
    return changed ? ferry_device_save(dev) : 0;
}

/* ---- data categories ----------------------------------------------------------------------------- */

typedef struct {
    unsigned drop;    /* FERRY_CAT_* bits whose data does not stay */
    char **paths;
    size_t n, cap;
} cat_sweep_t;

static int collect(const ferry_device_file_t *f, void *ctx)
{
    cat_sweep_t *s = ctx;
    if (!(f->category & s->drop))
        return 0;
    if (s->n == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 32;
        char **np = realloc(s->paths, ncap * sizeof *np);
        if (!np)
            return ferry_error_set(FERRY_ENOMEM, "out of memory");
        s->paths = np;
        s->cap = ncap;
    }
    if (asprintf(&s->paths[s->n], "files/%s/%s", f->domain, f->relpath) < 0)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    s->n++;
    return 0;
}

static int drop_keychain(ferry_device_t *dev, unsigned drop)
{
    size_t kept = 0;
    for (size_t i = 0; i < dev->n_keychain; i++) {
        if (ferry_keychain_item_category(&dev->keychain[i]) & drop)
            dev_keychain_item_clear(&dev->keychain[i]);
        else
            dev->keychain[kept++] = dev->keychain[i];
    }
    int changed = kept != dev->n_keychain;
    dev->n_keychain = kept;
    return changed ? ferry_device_save(dev) : 0;
}

/* A category that the plan does not restore leaves no data behind (files and keychain items). */
static int apply_categories(ferry_device_t *dev, const ferry_plan_t *plan)
{
    cat_sweep_t s = {0};
    for (unsigned bit = 1; bit <= FERRY_CAT_ALL; bit <<= 1) {
        const ferry_plan_item_t *it = item(plan, FERRY_ITEM_CATEGORY, ferry_policy_category_name(bit));
        if (it && it->d.outcome != FERRY_OUT_RESTORED)
            s.drop |= bit;
    }
    if (!s.drop)
        return 0;
    int rc = ferry_device_files_walk(dev, collect, &s);
    for (size_t i = 0; i < s.n; i++) {
        char *p = rc ? NULL : dev_path(dev->dir, s.paths[i], NULL);
        if (p && unlink(p) != 0)
            rc = ferry_error_errno("restore: cannot remove %s", p);
        free(p);
        free(s.paths[i]);
    }
    free(s.paths);
    return rc ? rc : drop_keychain(dev, s.drop);
}

/* U path (U1, U2): the enrollment already exists and the device is not erased, so only the managed
 * apps' items are carried out; the restore is not a device restore (no passcode reset, no S2). An
 * app whose data came back and which is not installed waits, managed, for the MDM server to install
 * it again (B2), so that U3 removes it with its data at unenrollment; installed apps (U2) stay. */
int dev_restore_apply_enrollment_flow(ferry_device_t *dev, const ferry_plan_t *plan, const ferry_backup_facts_t *bf)
{
    for (size_t i = 0; i < plan->n_items; i++) {
        const ferry_plan_item_t *it = &plan->items[i];
        int back = it->d.outcome == FERRY_OUT_PLACEHOLDER || it->d.outcome == FERRY_OUT_RESTORED;
        if (it->kind == FERRY_ITEM_APP_DATA && back && !ferry_device_find_app(dev, it->name)) {
            int rc = make_placeholder(dev, bf, it->name);
            if (rc)
                return ferry_error_wrap(rc, "restore stopped at the app %s", it->name);
        }
    }
    return 0;
}

/* ---- the whole plan ------------------------------------------------------------------------------ */

/* S2: a restored enrollment checks in (TokenUpdate) at the first opportunity; without one there is
 * nothing to check in with, unless the device enrolls again (D2, S4, V1), which the check-in does. */
static int mark_restored(ferry_device_t *dev)
{
    ferry_device_checkin_state_t st;
    ferry_device_checkin_state(dev, &st);
    st.RestorePending = 1;
    st.Authenticated = ferry_device_enrollment_profile(dev) ? st.Authenticated : 0;
    st.TokenUpdated = 0;
    snprintf(st.LastOutcome, sizeof st.LastOutcome, "restored");
    return ferry_device_set_checkin_state(dev, &st);
}

int dev_restore_apply(ferry_device_t *dev, const ferry_plan_t *plan, const ferry_backup_content_t *c,
                      const ferry_backup_facts_t *bf)
{
    int rc = apply_apps(dev, plan, bf);
    if (!rc)
        rc = apply_books(dev, plan, c, bf);
    if (!rc)
        rc = apply_categories(dev, plan);
    if (!rc)
        rc = apply_profiles(dev, plan, c, bf);
    if (!rc)
        rc = apply_enrollment(dev, plan, c, bf);
    if (!rc)
        rc = apply_management(dev, plan, c);
    /* R1: after a restore the device asks for a new passcode; biometrics are not enrolled */
    if (!rc)
        rc = ferry_device_set(dev, "PasscodePresent", "false");
    if (!rc)
        rc = ferry_device_set(dev, "BiometricsEnrolled", "false");
    if (!rc)
        rc = mark_restored(dev);
    return rc;
}

/* The device as the rules engine sees a restore target: ferry restores onto an erased device, so the
 * device's identity, OS, supervision and assignment count, and nothing it holds. *t is a shallow copy
 * of dev (its arrays stay dev's: free dev, never t). */
void dev_restore_target_erased(const ferry_device_facts_t *dev, ferry_device_facts_t *t)
{
    *t = *dev;
    t->enrollment = FERRY_ENROLL_NONE;
    t->has_management_config = 0;
    t->mdm_identity_uuid[0] = '\0';
    t->mdm_identity_hardware_bound = 0;
    t->n_profiles = 0;
    t->n_apps = 0;
    t->n_books = 0;
    t->categories = 0;
    t->personal_account = 0;
    t->managed_account = 0;
}
