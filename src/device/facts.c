/*
 * facts.c: the device as the rules engine sees it. ferry/policy.h decides backups and restores from
 * plain facts (ferry_device_facts_t); this file fills them from a loaded device directory, so the
 * emulated device and `ferry plan` reason about exactly the same state. The facts struct points at
 * arrays it does not own by contract (policy never frees); here they are allocated together and
 * released by ferry_device_facts_free().
 */
#include "device_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

static int bool_key(plist_t d, const char *key)
{
    plist_t n = plist_dict_get_item(d, key);
    return n && plist_get_node_type(n) == PLIST_BOOLEAN && plist_bool_val_is_true(n);
}

/* The payload's private key is a ThisDeviceOnly keychain item (B3, D5). */
static int this_device_only(const ferry_device_t *dev, const char *uuid)
{
    for (size_t i = 0; i < dev->n_keychain; i++) {
        const ferry_keychain_item_t *it = &dev->keychain[i];
        int cls = ferry_keychain_protection_class(it->pdmn);
        if (!strcmp(it->klass, "keys") && it->PayloadUUID && !strcmp(it->PayloadUUID, uuid) && (cls == 0 || cls >= 9))
            return 1;
    }
    return 0;
}

static int profiles(const ferry_device_t *dev, ferry_device_facts_t *f)
{
    ferry_profile_facts_t *pf = calloc(dev->n_profiles ? dev->n_profiles : 1, sizeof *pf);
    if (!pf)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    f->profiles = pf;
    for (size_t i = 0; i < dev->n_profiles; i++) {
        const ferry_profile_t *p = dev->profiles[i].profile;
        copy(pf[i].identifier, sizeof pf[i].identifier, p->PayloadIdentifier);
        copy(pf[i].uuid, sizeof pf[i].uuid, p->PayloadUUID);
        copy(pf[i].display_name, sizeof pf[i].display_name, p->PayloadDisplayName);
        pf[i].installed_by_mdm = dev->profiles[i].source == FERRY_SOURCE_MDM;
        ferry_payload_facts_t *pl = calloc(p->n_payloads ? p->n_payloads : 1, sizeof *pl);
        if (!pl)
            return ferry_error_set(FERRY_ENOMEM, "out of memory");
        pf[i].payloads = pl;
        pf[i].n_payloads = p->n_payloads;
        f->n_profiles = i + 1;
        for (size_t j = 0; j < p->n_payloads; j++) {
            const ferry_payload_t *x = &p->payloads[j];
            copy(pl[j].type, sizeof pl[j].type, x->PayloadType);
            copy(pl[j].uuid, sizeof pl[j].uuid, x->PayloadUUID);
            pl[j].hardware_bound = !strcmp(x->PayloadType, "com.apple.security.acme") && bool_key(x->dict, "HardwareBound");
            pl[j].this_device_only = this_device_only(dev, x->PayloadUUID);
        }
    }
    return 0;
}

static int apps_books(const ferry_device_t *dev, ferry_device_facts_t *f)
{
    ferry_app_facts_t *a = calloc(dev->n_apps ? dev->n_apps : 1, sizeof *a);
    ferry_book_facts_t *b = calloc(dev->n_books ? dev->n_books : 1, sizeof *b);
    f->apps = a;
    f->books = b;
    if (!a || !b)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    for (size_t i = 0; i < dev->n_apps; i++) {
        const ferry_app_t *x = &dev->apps[i];
        copy(a[i].bundle_id, sizeof a[i].bundle_id, x->Identifier);
        a[i].managed = x->IsManaged;
        a[i].declarative = x->DeclarationIdentifier != NULL;
        a[i].management_flags = (uint32_t)x->ManagementFlags;
        a[i].include_in_backup = x->DeclarationIdentifier ? x->IncludeInBackup : 1;
        a[i].installed = x->Installed;
    }
    f->n_apps = dev->n_apps;
    for (size_t i = 0; i < dev->n_books; i++) {
        const ferry_book_t *x = &dev->books[i];
        if (x->PersistentID)
            copy(b[i].id, sizeof b[i].id, x->PersistentID);
        else
            snprintf(b[i].id, sizeof b[i].id, "%lld", (long long)x->iTunesStoreID);
        copy(b[i].title, sizeof b[i].title, x->Title);
        b[i].enterprise = x->PersistentID != NULL;
    }
    f->n_books = dev->n_books;
    return 0;
}

static int restrictions(const ferry_device_t *dev, ferry_device_facts_t *f)
{
    plist_t eff = NULL, multi = NULL;
    int rc = ferry_device_effective_restrictions(dev, &eff, &multi);
    if (rc)
        return rc;
    ferry_policy_restrictions_from_plist(eff, &f->restrictions);
    uint32_t n = multi ? plist_array_get_size(multi) : 0;
    char **keys = calloc(n ? n : 1, sizeof *keys);
    if (!keys)
        rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
    for (uint32_t i = 0; !rc && i < n; i++) {
        keys[i] = ferry_plist_string_dup(plist_array_get_item(multi, i));
        if (!keys[i])
            rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
        f->n_multi_set_keys = i + 1;
    }
    f->multi_set_keys = (const char *const *)keys;
    plist_free(eff);
    if (multi)
        plist_free(multi);
    return rc;
}

static int add_category(const ferry_device_file_t *file, void *ctx)
{
    *(unsigned *)ctx |= file->category;
    return 0;
}

static void state(const ferry_device_t *dev, ferry_device_facts_t *f)
{
    copy(f->udid, sizeof f->udid, dev->UniqueDeviceID);
    copy(f->serial, sizeof f->serial, dev->SerialNumber);
    if (ferry_policy_os_parse(dev->ProductVersion, &f->os))
        ferry_log(FERRY_LOG_WARN, "device %s: ProductVersion '%s' is not a version number; the version gates "
                  "treat it as 0", dev->dir, dev->ProductVersion);
    f->enrollment = ferry_device_enrollment(dev);
    f->supervised = dev->IsSupervised;
    f->multi_user = dev->IsMultiUser;
    f->has_management_config = dev->CloudConfigurationDetails != NULL;
    f->registered_in_abm = dev->AssignmentService != NULL;
    f->assignment.assigned = f->registered_in_abm && f->has_management_config;
    f->assignment.is_supervised = dev->IsSupervised;
    f->assignment.is_multi_user = dev->IsMultiUser;
    f->assignment.do_not_use_profile_from_backup = dev->do_not_use_profile_from_backup;
    f->assignment.abe_employee_plan = dev->EmployeePlan;
    f->personal_account = dev->PersonalAppleAccount != NULL;
    f->managed_account = dev->ManagedAppleAccount != NULL;
    copy(f->managed_account_id, sizeof f->managed_account_id, dev->ManagedAppleAccount);
    f->locked = dev->IsLocked;
    f->on_power = dev->ExternalConnected;
    f->on_wifi = dev->WiFiConnected && dev->InternetReachable;
    f->icloud_photos = dev->IsCloudPhotoLibraryEnabled;
    f->backup_password_set = dev->has_backup_password;
    f->has_passcode = dev->PasscodePresent;
    f->has_biometrics = dev->BiometricsEnrolled;
    const ferry_payload_t *id = ferry_device_mdm_identity(dev);
    if (id) {
        copy(f->mdm_identity_uuid, sizeof f->mdm_identity_uuid, id->PayloadUUID);
        f->mdm_identity_hardware_bound = !strcmp(id->PayloadType, "com.apple.security.acme") &&
                                         bool_key(id->dict, "HardwareBound");
    }
}

int ferry_device_facts(const ferry_device_t *dev, int walk_files, ferry_device_facts_t *out)
{
    memset(out, 0, sizeof *out);
    state(dev, out);
    int rc = profiles(dev, out);
    if (!rc)
        rc = apps_books(dev, out);
    if (!rc)
        rc = restrictions(dev, out);
    for (size_t i = 0; !rc && i < dev->n_keychain; i++)
        out->categories |= ferry_keychain_item_category(&dev->keychain[i]);
    if (!rc && walk_files)
        rc = ferry_device_files_walk(dev, add_category, &out->categories);
    if (rc)
        ferry_device_facts_free(out);
    return rc;
}

void ferry_device_facts_free(ferry_device_facts_t *f)
{
    for (size_t i = 0; f->profiles && i < f->n_profiles; i++)
        free((void *)f->profiles[i].payloads);
    free((void *)f->profiles);
    free((void *)f->apps);
    free((void *)f->books);
    for (size_t i = 0; f->multi_set_keys && i < f->n_multi_set_keys; i++)
        free((void *)f->multi_set_keys[i]);
    free((void *)f->multi_set_keys);
    memset(f, 0, sizeof *f);
}
