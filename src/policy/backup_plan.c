/*
 * backup_plan.c: the B rules. Given a device's state and how it is backed up (host or iCloud,
 * encrypted, to which account), decides whether the device starts the backup at all (B4, B5, B6) and
 * what each item of the backup holds (B1-B3, B7-B11, B14), citing the rule IDs. Invariants: the
 * decision for an item depends only on the facts and the options; every managed app, every book and
 * every category yields exactly one item, in the facts' order, so that the emulated device and
 * `ferry plan` list the same rows.
 */
#include "plan_internal.h"

#include <string.h>

typedef struct {
    const ferry_device_facts_t *dev;
    const ferry_backup_options_t *opts;
    int encrypted;
    int b11;              /* B11: managed-account iCloud Backup of a ue-* / de-account device */
    int personal_of_acct; /* B11 ferry choice: personal-account iCloud Backup of such a device */
    int shared_host;      /* B14: host backup of a Shared iPad */
} bctx_t;

/* ---- verdict: does the device start the backup? ------------------------------------------------- */

static void check_icloud(const bctx_t *c, ferry_plan_t *p)
{
    const ferry_device_facts_t *d = c->dev;
    int ue = d->enrollment == FERRY_ENROLL_UE_PROFILE || d->enrollment == FERRY_ENROLL_UE_ACCOUNT;
    if (!d->restrictions.allow_cloud_backup && ue)
        plan_warn(p, "B5", "allowCloudBackup is ignored under User Enrollment");
    if (!d->restrictions.allow_cloud_backup && !ue && !d->supervised)
        plan_warn(p, "B5", "allowCloudBackup is deprecated when unsupervised; ferry honours it");
    /* B4: iCloud Backup goes to a signed-in account. */
    if (c->opts->account == FERRY_ACCOUNT_PERSONAL && !d->personal_account)
        plan_refuse(p, "B4", "iCloud Backup needs a signed-in personal Apple Account; none is signed "
                             "in on the device");
    else if (c->opts->account == FERRY_ACCOUNT_MANAGED && !d->managed_account)
        plan_refuse(p, "B4", "iCloud Backup needs a signed-in Managed Apple Account; none is signed in "
                             "on the device");
    /* B5: allowCloudBackup = false turns iCloud Backup off, except under User Enrollment. */
    else if (!d->restrictions.allow_cloud_backup && !ue)
        plan_refuse(p, "B5", "a restrictions payload sets allowCloudBackup to false, so iCloud Backup "
                             "is off");
    /* B4: the automatic backup waits for locked + power + Wi-Fi; Back Up Now needs only Wi-Fi. */
    else if (c->opts->manual && !d->on_wifi)
        plan_refuse(p, "B4", "Back Up Now needs Wi-Fi with internet access");
    else if (!c->opts->manual && !(d->locked && d->on_power && d->on_wifi))
        plan_refuse(p, "B4", "the automatic iCloud Backup runs only when the device is locked, on "
                             "power and on Wi-Fi; it waits (Back Up Now needs only Wi-Fi)");
}

static void check_host(const bctx_t *c, ferry_plan_t *p)
{
    /* B6: RequiresEncryption without a backup password: the device refuses to start. */
    if (c->dev->restrictions.force_encrypted_backup && !c->encrypted)
        plan_refuse(p, "B6", "a configuration profile requires an encrypted backup "
                             "(forceEncryptedBackup); set a backup password first");
}

static void warn_multi_set(const ferry_device_facts_t *d, ferry_plan_t *p)
{
    for (size_t i = 0; d->multi_set_keys && i < d->n_multi_set_keys; i++)
        if (d->multi_set_keys[i])
            plan_warn(p, "B13", "restriction %s is set in more than one payload; the most "
                                "restrictive value wins",
                      d->multi_set_keys[i]);
}

/* ---- items -------------------------------------------------------------------------------------- */

static void decide_management_config(const bctx_t *c, ferry_decision_t *d)
{
    if (c->b11) /* B9: B11 backups hold none */
        pd_set(d, FERRY_OUT_EXCLUDED, "B9 B11", "a Managed Apple Account backup of this enrollment holds "
                                                "only managed-app data");
    else if (c->dev->has_management_config)
        pd_set(d, FERRY_OUT_INCLUDED, "B9", "every full backup holds the management configuration");
    else
        pd_set(d, FERRY_OUT_SKIPPED, "B9", "not present: the device has no management configuration");
}

static void decide_enrollment(const bctx_t *c, ferry_decision_t *d)
{
    ferry_enrollment_t e = c->dev->enrollment;
    if (e == FERRY_ENROLL_NONE)
        pd_set(d, FERRY_OUT_SKIPPED, "B10", "not present: the device is not enrolled in MDM");
    else if (c->b11)
        pd_set(d, FERRY_OUT_EXCLUDED, "B10 B11", "a Managed Apple Account backup holds no profiles");
    else if (ferry_policy_enrollment_is_account_based(e))
        pd_set(d, FERRY_OUT_EXCLUDED, "B10", "ferry leaves the %s enrollment profile out (ferry "
                                             "choice: the enrollment flow creates it before a restore)",
               ferry_policy_enrollment_name(e));
    else if (c->encrypted)
        pd_set(d, FERRY_OUT_INCLUDED, "B10", "the backup is encrypted and the enrollment is %s",
               ferry_policy_enrollment_name(e));
    else
        pd_set(d, FERRY_OUT_EXCLUDED, "B10", "the MDM enrollment profile is in a backup only when the "
                                             "backup is encrypted");
}

static void decide_profile(const bctx_t *c, const ferry_profile_facts_t *pr, ferry_decision_t *d)
{
    if (c->b11) {
        pd_set(d, FERRY_OUT_EXCLUDED, "B10 B11", "a Managed Apple Account backup holds no profiles");
        return;
    }
    pd_set(d, FERRY_OUT_INCLUDED, "B1", "configuration profiles are in every full backup");
    if (profile_has_hardware_bound_acme(pr)) {
        pd_add_rules(d, "R6");
        pd_append(d, "; its hardware-bound ACME key cannot be restored, so the profile will be dropped");
    }
    if (profile_has_keychain_items(pr) && !c->encrypted) {
        pd_add_rules(d, "B3");
        pd_append(d, "; its certificates go into the keychain export, which restores only to this "
                     "device");
    } else if (profile_has_this_device_only_key(pr)) {
        pd_add_rules(d, "B3");
        pd_append(d, "; its ThisDeviceOnly key restores only to this device");
    }
}

static void decide_app_data(const bctx_t *c, const ferry_app_facts_t *a, ferry_decision_t *d)
{
    int prevent = (a->management_flags & 4) != 0; /* B8 */
    int no_ddm = a->declarative && !a->include_in_backup;
    if (c->personal_of_acct) {
        pd_set(d, FERRY_OUT_EXCLUDED, "B11", "ferry leaves managed-app data out of a personal-account "
                                             "backup of a %s device (ferry choice: data separation)",
               ferry_policy_enrollment_name(c->dev->enrollment));
    } else if (prevent) {
        pd_set(d, FERRY_OUT_EXCLUDED, c->b11 ? "B8 B11" : "B8",
               "ManagementFlags %u has bit 4: prevent backup of app data", a->management_flags);
    } else if (no_ddm) {
        pd_set(d, FERRY_OUT_EXCLUDED, c->b11 ? "B8 B11" : "B8", "its declaration sets IncludeInBackup "
                                                                 "to false");
    } else if (c->b11) {
        pd_set(d, FERRY_OUT_INCLUDED, "B11", "managed-app data is all a Managed Apple Account backup "
                                             "holds");
    } else if (c->shared_host && a->user_channel) {
        pd_set(d, FERRY_OUT_EXCLUDED, "B14", "Shared iPad user data lives in iCloud");
    } else {
        pd_set(d, FERRY_OUT_INCLUDED, "B1", "app data is in every full backup");
        if (ferry_policy_enrollment_is_account_based(c->dev->enrollment)) {
            pd_add_rules(d, "B11 U3");
            pd_append(d, "; on restore U3 governs it (ferry choice)");
        }
    }
}

static void decide_book(const bctx_t *c, const ferry_book_facts_t *b, ferry_decision_t *d)
{
    if (!b->enterprise)
        pd_set(d, FERRY_OUT_EXCLUDED, "B2 B7", "store books are never in a backup; they are downloaded "
                                               "again");
    else if (c->b11)
        pd_set(d, FERRY_OUT_EXCLUDED, "B11", "a Managed Apple Account backup holds only managed-app data");
    else if (c->dev->multi_user)
        pd_set(d, FERRY_OUT_EXCLUDED, "B14", "Shared iPads hold no enterprise books");
    else if (!c->dev->restrictions.allow_enterprise_book_backup)
        pd_set(d, FERRY_OUT_EXCLUDED, "B7", "allowEnterpriseBookBackup is false");
    else
        pd_set(d, FERRY_OUT_INCLUDED, "B7", "enterprise books are backed up while "
                                            "allowEnterpriseBookBackup is true");
}

static void decide_category(const bctx_t *c, unsigned bit, ferry_decision_t *d)
{
    const char *rule = bit == FERRY_CAT_PHOTOS ? "B1" : "B3";
    if (c->b11)
        pd_set(d, FERRY_OUT_EXCLUDED, "B11", "a Managed Apple Account backup holds only managed-app data");
    else if (!(c->dev->categories & bit))
        pd_set(d, FERRY_OUT_SKIPPED, rule, "not present on the device");
    else if (bit == FERRY_CAT_PHOTOS && c->dev->icloud_photos)
        pd_set(d, FERRY_OUT_EXCLUDED, "B1 B2", "iCloud Photos is on: the photos are in iCloud");
    else if (bit != FERRY_CAT_PHOTOS && !c->encrypted)
        pd_set(d, FERRY_OUT_EXCLUDED, "B3", "an unencrypted backup never holds %s",
               category_words(bit));
    else if (c->shared_host && bit != FERRY_CAT_WIFI)
        pd_set(d, FERRY_OUT_EXCLUDED, "B14", "Shared iPad user data lives in iCloud");
    else if (bit == FERRY_CAT_PHOTOS)
        pd_set(d, FERRY_OUT_INCLUDED, "B1 X1", "iCloud Photos is off; private data: review before "
                                               "backing up");
    else
        pd_set(d, FERRY_OUT_INCLUDED, "B3 X1", "the backup is encrypted; private data: review before "
                                               "backing up");
}

static int add_items(const bctx_t *c, ferry_plan_t *p)
{
    const ferry_device_facts_t *dev = c->dev;
    ferry_decision_t d;
    int rc = 0;
    decide_management_config(c, &d);
    rc |= plan_add(p, FERRY_ITEM_MANAGEMENT_CONFIGURATION, "management-configuration", &d);
    decide_enrollment(c, &d);
    rc |= plan_add(p, FERRY_ITEM_MDM_ENROLLMENT, "mdm-enrollment", &d);
    for (size_t i = 0; dev->profiles && i < dev->n_profiles; i++) {
        if (profile_is_mdm_enrollment(&dev->profiles[i]))
            continue; /* the mdm-enrollment item, B10 */
        decide_profile(c, &dev->profiles[i], &d);
        rc |= plan_add(p, FERRY_ITEM_PROFILE, dev->profiles[i].identifier, &d);
    }
    for (size_t i = 0; dev->apps && i < dev->n_apps; i++) {
        if (!dev->apps[i].managed)
            continue;
        decide_app_data(c, &dev->apps[i], &d);
        rc |= plan_add(p, FERRY_ITEM_APP_DATA, dev->apps[i].bundle_id, &d);
        pd_set(&d, FERRY_OUT_EXCLUDED, "B2", "app binaries are never in a backup; the app is installed "
                                             "again after a restore");
        rc |= plan_add(p, FERRY_ITEM_APP, dev->apps[i].bundle_id, &d);
    }
    for (size_t i = 0; dev->books && i < dev->n_books; i++) {
        decide_book(c, &dev->books[i], &d);
        rc |= plan_add(p, FERRY_ITEM_BOOK, dev->books[i].id, &d);
    }
    for (unsigned i = 0; i < FERRY_CAT_COUNT; i++) {
        decide_category(c, 1u << i, &d);
        rc |= plan_add(p, FERRY_ITEM_CATEGORY, ferry_policy_category_name(1u << i), &d);
    }
    pd_set(&d, FERRY_OUT_EXCLUDED, "B3", "no backup ever holds the device passcode");
    rc |= plan_add(p, FERRY_ITEM_PASSCODE, "passcode", &d);
    pd_set(&d, FERRY_OUT_EXCLUDED, "B3", "no backup ever holds Face ID, Touch ID or Optic ID data");
    rc |= plan_add(p, FERRY_ITEM_BIOMETRICS, "biometrics", &d);
    return rc ? FERRY_ENOMEM : 0;
}

int ferry_policy_backup_plan(const ferry_device_facts_t *dev, const ferry_backup_options_t *opts,
                             ferry_plan_t *out)
{
    if (!dev || !opts || !out)
        return ferry_error_set(FERRY_EINVAL, "backup plan: NULL argument");
    plan_init(out, FERRY_PLAN_BACKUP);
    if ((unsigned)opts->method > FERRY_BACKUP_ICLOUD || (unsigned)opts->account > FERRY_ACCOUNT_MANAGED ||
        (unsigned)dev->enrollment > FERRY_ENROLL_DE_ACCOUNT)
        return ferry_error_set(FERRY_EINVAL, "backup plan: method, account or enrollment type out of "
                                             "range");
    int icloud = opts->method == FERRY_BACKUP_ICLOUD;
    if (!icloud && opts->account != FERRY_ACCOUNT_NONE)
        return ferry_error_set(FERRY_EINVAL, "a host backup has no account; --account applies to "
                                             "iCloud Backup only");
    if (icloud && opts->account == FERRY_ACCOUNT_NONE)
        return ferry_error_set(FERRY_EINVAL, "iCloud Backup goes to an account: choose personal or "
                                             "managed");
    bctx_t c = {dev, opts, 0, 0, 0, 0};
    /* B4: iCloud Backup is always encrypted; a host backup exactly when a password is set. */
    c.encrypted = icloud ? 1 : (opts->encrypted || dev->backup_password_set);
    int acct_based = ferry_policy_enrollment_is_account_based(dev->enrollment);
    c.b11 = icloud && opts->account == FERRY_ACCOUNT_MANAGED && acct_based;
    c.personal_of_acct = icloud && opts->account == FERRY_ACCOUNT_PERSONAL && acct_based;
    c.shared_host = !icloud && dev->multi_user; /* B14 */
    out->encrypted = c.encrypted;
    out->method = opts->method;
    out->account = opts->account;
    out->managed_apps_only = c.b11;
    warn_multi_set(dev, out);
    if (icloud)
        check_icloud(&c, out);
    else
        check_host(&c, out);
    if (out->verdict == FERRY_VERDICT_REFUSED)
        return 0; /* the device does not start the backup: nothing to list */
    int rc = add_items(&c, out);
    if (rc != 0)
        ferry_plan_free(out);
    return rc;
}
