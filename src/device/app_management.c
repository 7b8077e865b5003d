/*
 * app_management.c: the device's record of what its MDM manages beyond profiles, written as
 * Library/ConfigurationProfiles/MDMAppManagement.plist in the configuration-profiles domain so that a
 * backup carries it and `ferry plan restore BACKUP_DIR` can read managed apps, their ManagementFlags /
 * IsManaged / declarative IncludeInBackup, books, the profiles the MDM installed and the enrollment
 * the backup was made under. The file name follows iOS, which keeps the MDM's app management state in
 * this domain; the layout is ferry's (docs/device-format.md, docs/backup-format.md), unverified
 * against a device. Invariant: the file exists exactly when there is something to record (an MDM
 * enrollment, a managed app or a book), so an unmanaged device's backup has no management files.
 */
#include "device_internal.h"

#include <string.h>

static plist_t managed_apps(const ferry_device_t *dev)
{
    plist_t d = plist_new_dict();
    for (size_t i = 0; i < dev->n_apps; i++) {
        const ferry_app_t *a = &dev->apps[i];
        if (!a->IsManaged)
            continue;
        plist_t e = plist_new_dict();
        dev_dict_set_bool(e, "IsManaged", 1);
        if (a->DeclarationIdentifier) {
            dev_dict_set_str(e, "DeclarationIdentifier", a->DeclarationIdentifier);
            dev_dict_set_bool(e, "IncludeInBackup", a->IncludeInBackup);
        } else {
            dev_dict_set_uint(e, "ManagementFlags", (uint64_t)a->ManagementFlags);
        }
        plist_dict_set_item(d, a->Identifier, e);
    }
    return d;
}

static plist_t books(const ferry_device_t *dev)
{
    plist_t arr = plist_new_array();
    for (size_t i = 0; i < dev->n_books; i++) {
        const ferry_book_t *b = &dev->books[i];
        plist_t e = plist_new_dict();
        if (b->PersistentID)
            dev_dict_set_str(e, "PersistentID", b->PersistentID);
        else
            dev_dict_set_uint(e, "iTunesStoreID", (uint64_t)b->iTunesStoreID);
        dev_dict_set_str(e, "Title", b->Title);
        dev_dict_set_str(e, "Kind", b->Kind);
        dev_dict_set_bool(e, "IsManaged", b->IsManaged);
        plist_array_append_item(arr, e);
    }
    return arr;
}

static int bool_key(plist_t d, const char *key)
{
    plist_t n = plist_dict_get_item(d, key);
    return n && plist_get_node_type(n) == PLIST_BOOLEAN && plist_bool_val_is_true(n);
}

static void enrollment(const ferry_device_t *dev, plist_t d)
{
    ferry_enrollment_t e = ferry_device_enrollment(dev);
    if (e == FERRY_ENROLL_NONE)
        return;
    dev_dict_set_str(d, "EnrollmentType", ferry_policy_enrollment_name(e));
    const ferry_payload_t *id = ferry_device_mdm_identity(dev);
    if (id) {
        dev_dict_set_str(d, "IdentityCertificateUUID", id->PayloadUUID);
        dev_dict_set_bool(d, "IdentityHardwareBound",
                          !strcmp(id->PayloadType, "com.apple.security.acme") && bool_key(id->dict, "HardwareBound"));
    }
}

int dev_app_management_needed(const ferry_device_t *dev)
{
    if (dev->n_books || ferry_device_enrollment_profile(dev))
        return 1;
    for (size_t i = 0; i < dev->n_apps; i++)
        if (dev->apps[i].IsManaged)
            return 1;
    return 0;
}

plist_t dev_app_management_build(const ferry_device_t *dev)
{
    if (!dev_app_management_needed(dev))
        return NULL;
    plist_t d = plist_new_dict();
    dev_dict_set_uint(d, "FerryFormat", 1);
    enrollment(dev, d);
    dev_dict_set_bool(d, "IsSupervised", dev->IsSupervised);
    dev_dict_set_bool(d, "IsMultiUser", dev->IsMultiUser);
    plist_dict_set_item(d, "ManagedApps", managed_apps(dev));
    plist_dict_set_item(d, "Books", books(dev));
    plist_t mdm = plist_new_array();
    for (size_t i = 0; i < dev->n_profiles; i++)
        if (dev->profiles[i].source == FERRY_SOURCE_MDM)
            plist_array_append_item(mdm, plist_new_string(dev->profiles[i].profile->PayloadIdentifier));
    plist_dict_set_item(d, "MDMInstalledProfiles", mdm);
    return d;
}
