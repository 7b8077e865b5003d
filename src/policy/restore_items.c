/*
 * restore_items.c: what a restore does to each item, for one branch of the MDM answer: the S rules on
 * the same device, the D rules on a different one, the U rules inside an enrollment flow, with E1/E2
 * for what an unenrollment takes away and V1/V2 for the newer OS gates. The enrollment is decided
 * first; its fate (kept, rejected, removed) then decides the profiles and apps it installed.
 * Invariant: the item list (kinds, names, order) depends only on the backup and the target, never on
 * the MDM answer, so that the accept and reject branches can be merged row by row.
 */
#include "restore_internal.h"

#include <string.h>

static const char *unenroll_rule(const rctx_t *c)
{
    return c->acct_src ? "E2" : "E1";
}

/* ---- management configuration and enrollment ----------------------------------------------------- */

static void decide_management_config(const rctx_t *c, ferry_decision_t *d)
{
    const ferry_backup_facts_t *b = c->b;
    if (c->path == 'U') {
        pd_set(d, FERRY_OUT_NOT_IN_BACKUP, "B9 B11", "a Managed Apple Account backup holds no management "
                                                     "configuration; the enrollment flow sets up the "
                                                     "device (U1)");
    } else if (c->v1) { /* V1: S1 does not apply to the backed-up configuration */
        pd_set(d, FERRY_OUT_RE_ENROLLED, "V1 D2", "the ADE profile sets do_not_use_profile_from_backup: "
                                                  "the device reads its current profile from the "
                                                  "device-assignment service instead");
    } else if (c->path == 'D') {
        if (b->has_management_config && c->dep)
            pd_set(d, FERRY_OUT_RE_ENROLLED, "D1 D2", "the backup's configuration is deleted; the device "
                                                      "is registered in Apple Business/School Manager "
                                                      "and applies the configuration assigned to it");
        else if (b->has_management_config)
            pd_set(d, FERRY_OUT_DROPPED, "D1", "deleted during the restore: it never applies to a "
                                               "different device");
        else if (c->dep)
            pd_set(d, FERRY_OUT_RE_ENROLLED, "D2", "the device is registered in Apple Business/School "
                                                   "Manager and applies the configuration assigned to it");
        else
            pd_set(d, FERRY_OUT_SKIPPED, "B9", "not present: the backup holds no management "
                                               "configuration");
    } else if (c->s4_reenrolled) {
        pd_set(d, FERRY_OUT_RE_ENROLLED, "S4 D2", "the enrollment could not be restored; the device is "
                                                  "registered in Apple Business/School Manager and "
                                                  "enrolls by Automated Device Enrollment");
    } else if (!b->has_management_config) {
        pd_set(d, FERRY_OUT_SKIPPED, "B9", "not present: the backup holds no management configuration");
    } else if (c->fate == FATE_REJECTED) {
        pd_set(d, FERRY_OUT_RESTORED, "S1 S3", "restored; it stays after the MDM server rejects the "
                                               "check-in");
    } else {
        pd_set(d, FERRY_OUT_RESTORED, "S1", "restored from the backup of this device");
    }
}

static void set_fate(rctx_t *c, enroll_fate_t f, const char *rules, const char *why)
{
    c->fate = f;
    c->fate_rules = rules;
    c->fate_why = why;
}

/* S2: the check-in after a same-device restore of the enrollment. */
static void decide_checkin(rctx_t *c, ferry_decision_t *d)
{
    int rejects = c->mdm == FERRY_MDM_REJECT_401 ||
                  (c->mdm == FERRY_MDM_REJECT_403 && c->t->os.major >= 17);
    if (rejects) {
        set_fate(c, FATE_REJECTED, "S3", "the MDM server rejects the check-in");
        pd_set(d, FERRY_OUT_REMOVED_AFTER_CHECKIN, "S2 S3", "restored, then removed: the MDM server "
                                                            "rejects the check-in (%s)",
               c->mdm == FERRY_MDM_REJECT_401 ? "401" : "403 com.apple.unrecognized.device");
        return;
    }
    set_fate(c, FATE_KEPT, "S1", "");
    if (c->mdm == FERRY_MDM_ACCEPT)
        pd_set(d, FERRY_OUT_RESTORED, "S1 S2", "restored; the MDM server accepts the check-in");
    else if (c->mdm == FERRY_MDM_REJECT_403)
        pd_set(d, FERRY_OUT_RESTORED, "S1 S2", "restored; a device before iOS 17 honours only 401, so "
                                               "the 403 leaves the enrollment in place and the device "
                                               "checks in again later");
    else
        pd_set(d, FERRY_OUT_RESTORED, "S1 S2", "restored; the check-in does not complete, so the "
                                               "enrollment stays and the device tries again at its "
                                               "next check-in");
}

static void decide_enrollment_same(rctx_t *c, ferry_decision_t *d)
{
    const ferry_backup_facts_t *b = c->b;
    if (!c->src_enrolled) {
        pd_set(d, FERRY_OUT_SKIPPED, "B10", "not present: the backup's device was not enrolled in MDM");
    } else if (!b->has_mdm_profile && c->acct_src) { /* R2c, B10 ferry choice */
        set_fate(c, FATE_REMOVED, "R2 E2", "the User Enrollment is not in the backup");
        pd_set(d, FERRY_OUT_NOT_IN_BACKUP, "B10 R2", "ferry leaves a %s enrollment out of backups; the "
                                                     "device is restored unenrolled",
               ferry_policy_enrollment_name(b->source_enrollment));
    } else if (!b->has_mdm_profile) { /* S7 */
        set_fate(c, FATE_REMOVED, "S7 E1", "the backup holds no enrollment");
        pd_set(d, FERRY_OUT_NOT_IN_BACKUP, "B10 S7", "an unencrypted backup holds no MDM enrollment "
                                                     "profile: the device is restored unenrolled and no "
                                                     "check-in takes place");
    } else if (c->identity_hw) { /* S4 */
        set_fate(c, FATE_REMOVED, "S4 E1", "the enrollment cannot be restored");
        c->s4_reenrolled = c->dep;
        if (c->dep)
            pd_set(d, FERRY_OUT_RE_ENROLLED, "S4 D2", "the MDM identity is a hardware-bound ACME key, so "
                                                      "the enrollment cannot be restored; the device "
                                                      "enrolls by Automated Device Enrollment instead");
        else
            pd_set(d, FERRY_OUT_DROPPED, "S4 E1", "the MDM identity is a hardware-bound ACME key: the "
                                                  "enrollment cannot be restored and is removed");
    } else if (c->t->assignment.abe_employee_plan && b->source_enrollment == FERRY_ENROLL_ADE) {
        set_fate(c, FATE_REMOVED, "S6 E1", "the enrollment is not resumed");
        pd_set(d, FERRY_OUT_DROPPED, "S6", "Apple Business Essentials Employee plan: the restored "
                                           "enrollment is not resumed; the user enrolls again with "
                                           "their Managed Apple Account");
    } else {
        decide_checkin(c, d);
    }
}

static void decide_enrollment(rctx_t *c, ferry_decision_t *d)
{
    set_fate(c, FATE_NONE, "", "");
    c->s4_reenrolled = 0;
    if (c->path == 'U') {
        pd_set(d, FERRY_OUT_NOT_IN_BACKUP, "B10 B11 U1", "the enrollment is the one the enrollment flow "
                                                         "creates before the restore");
        return;
    }
    if (c->v1) { /* V1 (ferry choice): the backed-up enrollment is dropped */
        if (c->src_enrolled)
            set_fate(c, FATE_REMOVED, c->acct_src ? "V1 E2" : "V1 E1",
                     "the backed-up enrollment is dropped");
        pd_set(d, FERRY_OUT_RE_ENROLLED, "V1 D2", "do_not_use_profile_from_backup: %sthe device "
                                                  "enrolls through its current ADE profile",
               c->src_enrolled ? "ferry drops the backed-up enrollment and " : "");
        return;
    }
    if (c->path == 'S') {
        decide_enrollment_same(c, d);
        return;
    }
    /* D1: a different device never applies the backed-up enrollment; D2 may enroll it afresh. */
    if (c->src_enrolled)
        set_fate(c, FATE_REMOVED, c->acct_src ? "D1 E2" : "D1 E1", "the enrollment is deleted");
    if (c->dep)
        pd_set(d, FERRY_OUT_RE_ENROLLED, c->src_enrolled ? "D1 D2" : "D2",
               "the device is registered in Apple Business/School Manager and enrolls by Automated "
               "Device Enrollment");
    else if (!c->src_enrolled)
        pd_set(d, FERRY_OUT_SKIPPED, "B10", "not present: the backup's device was not enrolled in MDM");
    else if (!c->b->has_mdm_profile)
        pd_set(d, FERRY_OUT_NOT_IN_BACKUP, "B10 D1", "the backup holds no MDM enrollment profile, and a "
                                                     "different device would delete it anyway");
    else
        pd_set(d, FERRY_OUT_DROPPED, "D1", "deleted during the restore: it never applies to a different "
                                           "device");
}

/* ---- profiles ----------------------------------------------------------------------------------- */

static void keychain_notes(const rctx_t *c, const ferry_profile_facts_t *pr, ferry_decision_t *d)
{
    if (c->path != 'D')
        return;
    if (!c->b->encrypted && profile_has_keychain_items(pr)) {
        pd_add_rules(d, "B3");
        pd_append(d, "; without its certificates and identities: the keychain export of an "
                     "unencrypted backup restores only to the same device");
    } else if (profile_has_this_device_only_key(pr)) {
        pd_add_rules(d, "B3 D5");
        pd_append(d, "; without the ThisDeviceOnly private key of its identity");
    }
}

static void decide_profile(const rctx_t *c, const ferry_profile_facts_t *pr, ferry_decision_t *d)
{
    if (c->path == 'U') {
        pd_set(d, FERRY_OUT_NOT_IN_BACKUP, "B10 B11", "a Managed Apple Account backup holds no profiles");
    } else if (profile_has_hardware_bound_acme(pr)) { /* R6 */
        pd_set(d, FERRY_OUT_DROPPED, "R6", "it holds a hardware-bound ACME key, whose private key never "
                                           "leaves the Secure Enclave");
    } else if (c->v2) { /* V2 */
        pd_set(d, FERRY_OUT_DROPPED, "V2", "iOS 26.4 or later with do_not_use_profile_from_backup: the "
                                           "device removes all configuration profiles when it restores");
    } else if (pr->installed_by_mdm && c->fate == FATE_REMOVED) {
        pd_set(d, FERRY_OUT_DROPPED, c->fate_rules, "installed through the MDM enrollment: %s",
               c->fate_why);
        if (c->path == 'D')
            pd_add_rules(d, "D5");
    } else if (pr->installed_by_mdm && c->fate == FATE_REJECTED) {
        pd_set(d, FERRY_OUT_REMOVED_AFTER_CHECKIN, "S3", "installed through the MDM enrollment, which is "
                                                         "removed when the server rejects the check-in");
    } else if (pr->installed_by_mdm && c->fate == FATE_KEPT) {
        pd_set(d, FERRY_OUT_RESTORED, "B1 S1", "restored with the MDM enrollment");
    } else {
        pd_set(d, FERRY_OUT_RESTORED, c->path == 'D' ? "B1 D5" : "B1", "installed by hand or by Apple "
                                                                       "Configurator: restored");
        keychain_notes(c, pr, d);
    }
}

/* ---- managed apps ------------------------------------------------------------------------------- */

static int target_has_app(const ferry_device_facts_t *t, const char *bundle_id)
{
    for (size_t i = 0; t->apps && i < t->n_apps; i++)
        if (t->apps[i].installed && strcmp(t->apps[i].bundle_id, bundle_id) == 0)
            return 1;
    return 0;
}

static void not_in_backup_app(const rctx_t *c, const ferry_app_facts_t *a, ferry_decision_t *d)
{
    const ferry_backup_facts_t *b = c->b;
    if (a->management_flags & 4)
        pd_set(d, FERRY_OUT_NOT_IN_BACKUP, "B8", "ManagementFlags %u has bit 4: prevent backup of app "
                                                 "data", a->management_flags);
    else if (a->declarative && !a->include_in_backup)
        pd_set(d, FERRY_OUT_NOT_IN_BACKUP, "B8", "its declaration sets IncludeInBackup to false");
    else if (b->method == FERRY_BACKUP_ICLOUD && b->account == FERRY_ACCOUNT_PERSONAL && c->acct_src)
        pd_set(d, FERRY_OUT_NOT_IN_BACKUP, "B11", "ferry leaves managed-app data out of a "
                                                  "personal-account backup of this enrollment");
    else if (b->source_multi_user && a->user_channel)
        pd_set(d, FERRY_OUT_NOT_IN_BACKUP, "B14", "Shared iPad user data lives in iCloud");
    else
        pd_set(d, FERRY_OUT_NOT_IN_BACKUP, "B8", "the backup does not hold this app's data");
}

/* Data that comes back: restored when the app is there or under Configurator, else a placeholder. */
static void data_returns(const rctx_t *c, const ferry_app_facts_t *a, const char *rules, ferry_decision_t *d)
{
    if (target_has_app(c->t, a->bundle_id))
        pd_set(d, FERRY_OUT_RESTORED, rules, "restored; the app is installed on the device");
    else if (c->o->host == FERRY_HOST_CONFIGURATOR)
        pd_set(d, FERRY_OUT_RESTORED, rules, "restored; Apple Configurator shows no placeholder");
    else
        pd_set(d, FERRY_OUT_PLACEHOLDER, rules, "restored; the app is not installed, so a placeholder is "
                                                "shown and MDM sees ManagedButUninstalled");
}

/* Whether the restore takes the app away with its enrollment (R2c/U3, D3, S3, E1); fills d if so.
 * Decided apart from the data, because an app goes even when its data was not in the backup. */
static int app_removed(const rctx_t *c, const ferry_app_facts_t *a, ferry_decision_t *d)
{
    /* E1: bit 1 removes the app with the enrollment; DDM apps have no such bit and stay. */
    int removable = (a->management_flags & 1) && !a->declarative;
    if (c->path == 'U')
        return 0;
    if (c->acct_src) { /* R2c: U3 governs it, not D3 */
        pd_set(d, FERRY_OUT_DROPPED, "R2 U3", "apps of a %s enrollment go with their data when the "
                                              "enrollment goes, and the restored device is not in it",
               ferry_policy_enrollment_name(c->b->source_enrollment));
        return 1;
    }
    if (!removable)
        return 0;
    if (c->path == 'D') { /* D3 */
        pd_set(d, FERRY_OUT_DROPPED, "D3", "ManagementFlags 1: an app removed on unenrollment is not "
                                           "restored to a different device");
        return 1;
    }
    if (c->fate == FATE_REMOVED) {
        pd_set(d, FERRY_OUT_DROPPED, c->fate_rules, "ManagementFlags 1: removed with its data, because "
                                                    "%s", c->fate_why);
        return 1;
    }
    if (c->fate == FATE_REJECTED) {
        pd_set(d, FERRY_OUT_REMOVED_AFTER_CHECKIN, "S3", "ManagementFlags 1: removed with its data when "
                                                         "the MDM server rejects the check-in");
        return 1;
    }
    return 0;
}

static void decide_app_data(const rctx_t *c, const ferry_app_facts_t *a, ferry_decision_t *d)
{
    if (!a->in_backup) {
        not_in_backup_app(c, a, d);
    } else if (c->path == 'U') {
        if (target_has_app(c->t, a->bundle_id)) /* U2 */
            pd_set(d, FERRY_OUT_SKIPPED, "U2", "an app with this bundle ID is already installed: its "
                                               "data is skipped and the user is told");
        else
            pd_set(d, FERRY_OUT_RESTORED, "U1 U2", "restored in the enrollment flow");
    } else if (app_removed(c, a, d)) {
        return;
    } else if (c->path == 'D') {
        data_returns(c, a, "D3 S5", d);
    } else {
        data_returns(c, a, "S5", d);
        if (c->fate == FATE_REMOVED || c->fate == FATE_REJECTED) {
            pd_add_rules(d, c->fate == FATE_REJECTED ? "S3" : unenroll_rule(c));
            pd_append(d, "; the app stays, unmanaged");
        }
    }
}

/* B2: the binary is never in a backup; it goes when the restore takes the app away. */
static void decide_app(const rctx_t *c, const ferry_app_facts_t *a, ferry_decision_t *d)
{
    if (app_removed(c, a, d))
        return;
    pd_set(d, FERRY_OUT_REINSTALL_NEEDED, "B2", "app binaries are not in a backup: the app must be "
                                                "installed again");
}

/* ---- books, categories, passcode ---------------------------------------------------------------- */

static void decide_book(const rctx_t *c, const ferry_book_facts_t *bk, ferry_decision_t *d)
{
    if (c->path == 'U')
        pd_set(d, FERRY_OUT_NOT_IN_BACKUP, "B11", "a Managed Apple Account backup holds only managed-app "
                                                  "data");
    else if (!bk->enterprise)
        pd_set(d, FERRY_OUT_NOT_IN_BACKUP, "B2", "store books are never in a backup; they are downloaded "
                                                 "again");
    else if (!bk->in_backup)
        pd_set(d, FERRY_OUT_NOT_IN_BACKUP, c->b->source_multi_user ? "B14" : "B7",
               c->b->source_multi_user ? "Shared iPads hold no enterprise books"
                                       : "allowEnterpriseBookBackup was false when the backup was made");
    else if (c->path == 'D')
        pd_set(d, FERRY_OUT_RESTORED, "D4", "enterprise books in the backup are restored");
    else if (c->fate == FATE_REJECTED)
        pd_set(d, FERRY_OUT_RESTORED, "S5 S3", "restored; enterprise books stay after a rejected check-in");
    else if (c->fate == FATE_REMOVED && !c->acct_src)
        pd_set(d, FERRY_OUT_RESTORED, "S5 E1", "restored; enterprise books stay when the enrollment goes");
    else
        pd_set(d, FERRY_OUT_RESTORED, "S5", "enterprise books in the backup are restored");
}

static void decide_category(const rctx_t *c, unsigned bit, ferry_decision_t *d)
{
    const ferry_backup_facts_t *b = c->b;
    int photos = bit == FERRY_CAT_PHOTOS;
    if (c->o->skip_categories & bit) { /* X1 */
        pd_set(d, FERRY_OUT_SKIPPED, "X1", "left out of this restore by the administrator");
    } else if (c->path == 'U' || b->managed_apps_only) {
        pd_set(d, FERRY_OUT_NOT_IN_BACKUP, "B11", "a Managed Apple Account backup holds only managed-app "
                                                  "data");
    } else if (b->categories & bit) {
        pd_set(d, FERRY_OUT_RESTORED, photos ? "B1" : "B3", "restored from the backup");
        if (bit == FERRY_CAT_PASSWORDS && c->path == 'D') {
            pd_append(d, " (keychain items of the ThisDeviceOnly classes restore only to the same device)");
        } else if (bit == FERRY_CAT_WIFI && c->fate == FATE_REJECTED) {
            pd_add_rules(d, "S3");
            pd_append(d, "; networks the user joined stay after a rejected check-in");
        }
    } else if (!photos && !b->encrypted) {
        pd_set(d, FERRY_OUT_NOT_IN_BACKUP, "B3", "an unencrypted backup never holds %s",
               category_words(bit));
    } else if (b->source_multi_user && bit != FERRY_CAT_WIFI && b->method == FERRY_BACKUP_HOST) {
        pd_set(d, FERRY_OUT_NOT_IN_BACKUP, "B14", "Shared iPad user data lives in iCloud");
    } else if (photos) {
        pd_set(d, FERRY_OUT_NOT_IN_BACKUP, "B1", "photos are in a backup only when iCloud Photos is off");
    } else {
        pd_set(d, FERRY_OUT_SKIPPED, "B3", "not present in the backup");
    }
}

int restore_items(rctx_t *c, ferry_plan_t *p)
{
    const ferry_backup_facts_t *b = c->b;
    ferry_decision_t d, mc;
    int rc = 0;
    decide_enrollment(c, &d); /* first: its fate decides the rest */
    decide_management_config(c, &mc);
    rc |= plan_add(p, FERRY_ITEM_MANAGEMENT_CONFIGURATION, "management-configuration", &mc);
    rc |= plan_add(p, FERRY_ITEM_MDM_ENROLLMENT, "mdm-enrollment", &d);
    for (size_t i = 0; b->profiles && i < b->n_profiles; i++) {
        if (profile_is_mdm_enrollment(&b->profiles[i]))
            continue; /* reported as mdm-enrollment */
        decide_profile(c, &b->profiles[i], &d);
        rc |= plan_add(p, FERRY_ITEM_PROFILE, b->profiles[i].identifier, &d);
    }
    for (size_t i = 0; b->apps && i < b->n_apps; i++) {
        const ferry_app_facts_t *a = &b->apps[i];
        decide_app_data(c, a, &d);
        rc |= plan_add(p, FERRY_ITEM_APP_DATA, a->bundle_id, &d);
        if (!target_has_app(c->t, a->bundle_id)) {
            ferry_decision_t app;
            decide_app(c, a, &app);
            rc |= plan_add(p, FERRY_ITEM_APP, a->bundle_id, &app);
        }
    }
    for (size_t i = 0; b->books && i < b->n_books; i++) {
        decide_book(c, &b->books[i], &d);
        rc |= plan_add(p, FERRY_ITEM_BOOK, b->books[i].id, &d);
    }
    for (unsigned i = 0; i < FERRY_CAT_COUNT; i++) {
        decide_category(c, 1u << i, &d);
        rc |= plan_add(p, FERRY_ITEM_CATEGORY, ferry_policy_category_name(1u << i), &d);
    }
    pd_set(&d, FERRY_OUT_NOT_IN_BACKUP, "B3 R1", "no backup holds the passcode: the user creates a new "
                                                 "one after the restore");
    rc |= plan_add(p, FERRY_ITEM_PASSCODE, "passcode", &d);
    pd_set(&d, FERRY_OUT_NOT_IN_BACKUP, "B3 R1", "Face ID, Touch ID and Optic ID are not enrolled after a "
                                                 "restore; the user can set them up again");
    rc |= plan_add(p, FERRY_ITEM_BIOMETRICS, "biometrics", &d);
    return rc ? FERRY_ENOMEM : 0;
}
