/*
 * device.c: loading a device directory into a ferry_device_t and the questions every consumer asks of
 * it (enrollment type, MDM identity, an app by bundle ID). Loading checks everything an administrator
 * could have typed wrong and names the file and key; it also checks the invariants of RULES.md's
 * vocabulary: the UDID has one of Apple's two forms, IsSupervised/IsMultiUser agree with the cloud
 * configuration, at most one MDM payload is installed, and ue-* and de-account devices have a signed-in
 * Managed Apple Account. A loaded device is always consistent; ferry_device_save() keeps it so.
 */
#include "device_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void ferry_device_free(ferry_device_t *dev)
{
    if (!dev)
        return;
    for (size_t i = 0; i < dev_n_keys; i++)
        if (dev_keys[i].type == DK_STRING)
            free(*(char **)((char *)dev + dev_keys[i].offset));
    for (size_t i = 0; i < dev->n_profiles; i++) {
        free(dev->profiles[i].file);
        ferry_profile_free(dev->profiles[i].profile);
    }
    free(dev->profiles);
    for (size_t i = 0; i < dev->n_apps; i++)
        dev_app_clear(&dev->apps[i]);
    free(dev->apps);
    for (size_t i = 0; i < dev->n_books; i++)
        dev_book_clear(&dev->books[i]);
    free(dev->books);
    for (size_t i = 0; i < dev->n_keychain; i++)
        dev_keychain_item_clear(&dev->keychain[i]);
    free(dev->keychain);
    if (dev->CloudConfigurationDetails)
        plist_free(dev->CloudConfigurationDetails);
    if (dev->plist)
        plist_free(dev->plist);
    free(dev->dir);
    free(dev);
}

const ferry_installed_profile_t *ferry_device_enrollment_profile(const ferry_device_t *dev)
{
    for (size_t i = 0; i < dev->n_profiles; i++)
        if (ferry_profile_find_payload(dev->profiles[i].profile, "com.apple.mdm"))
            return &dev->profiles[i];
    return NULL;
}

static const char *mdm_str(const ferry_device_t *dev, const char *key)
{
    const ferry_installed_profile_t *ip = ferry_device_enrollment_profile(dev);
    const ferry_payload_t *m = ip ? ferry_profile_find_payload(ip->profile, "com.apple.mdm") : NULL;
    plist_t n = m ? plist_dict_get_item(m->dict, key) : NULL;
    return n && plist_get_node_type(n) == PLIST_STRING ? plist_get_string_ptr(n, NULL) : NULL;
}

/* spec/mdm.md §6.2, step 2, top to bottom. */
ferry_enrollment_t ferry_device_enrollment(const ferry_device_t *dev)
{
    if (!ferry_device_enrollment_profile(dev))
        return FERRY_ENROLL_NONE;
    const char *mode = mdm_str(dev, "EnrollmentMode");
    if (mode && !strcmp(mode, "BYOD"))
        return FERRY_ENROLL_UE_ACCOUNT;
    if (mode && !strcmp(mode, "ADDE"))
        return FERRY_ENROLL_DE_ACCOUNT;
    if (mdm_str(dev, "ManagedAppleID"))
        return FERRY_ENROLL_UE_PROFILE;
    return dev->CloudConfigurationDetails ? FERRY_ENROLL_ADE : FERRY_ENROLL_PROFILE_DE;
}

const ferry_payload_t *ferry_device_mdm_identity(const ferry_device_t *dev)
{
    const ferry_installed_profile_t *ip = ferry_device_enrollment_profile(dev);
    const char *id = mdm_str(dev, "IdentityCertificateUUID");
    return ip && id ? ferry_profile_find_uuid(ip->profile, id) : NULL;
}

const ferry_app_t *ferry_device_find_app(const ferry_device_t *dev, const char *bundle_id)
{
    for (size_t i = 0; i < dev->n_apps; i++)
        if (!strcmp(dev->apps[i].Identifier, bundle_id))
            return &dev->apps[i];
    return NULL;
}

static int is_udid(const char *u)
{
    size_t n = strlen(u);
    if (n == 40) {
        for (size_t i = 0; i < 40; i++)
            if (!isxdigit((unsigned char)u[i]) || isupper((unsigned char)u[i]))
                return 0;
        return 1;
    }
    if (n != 25 || u[8] != '-')
        return 0;
    for (size_t i = 0; i < 25; i++)
        if (i != 8 && (!isxdigit((unsigned char)u[i]) || islower((unsigned char)u[i])))
            return 0;
    return 1;
}

static int cloud_bool(const ferry_device_t *dev, const char *key, int *out)
{
    plist_t n = plist_dict_get_item(dev->CloudConfigurationDetails, key);
    if (!n)
        return 0;
    *out = plist_get_node_type(n) == PLIST_BOOLEAN && plist_bool_val_is_true(n);
    return 1;
}

int dev_check_invariants(const ferry_device_t *dev, const char *what)
{
    if (!is_udid(dev->UniqueDeviceID))
        return ferry_error_set(FERRY_EFORMAT, "%s: Identity: key 'UniqueDeviceID' '%s' is neither 40 lower-case hex "
                               "digits nor the XXXXXXXX-XXXXXXXXXXXXXXXX form", what, dev->UniqueDeviceID);
    if (dev->AssignmentService && strcmp(dev->AssignmentService, "ABM") && strcmp(dev->AssignmentService, "ASM"))
        return ferry_error_set(FERRY_EFORMAT, "%s: Management: key 'AssignmentService' must be ABM or ASM", what);
    if (dev->CloudConfigurationDetails) {
        int v;
        if (cloud_bool(dev, "IsSupervised", &v) && v != dev->IsSupervised)
            return ferry_error_set(FERRY_EFORMAT, "%s: Management: key 'IsSupervised' disagrees with "
                                   "CloudConfigurationDetails.IsSupervised", what);
        if (cloud_bool(dev, "IsMultiUser", &v) && v != dev->IsMultiUser)
            return ferry_error_set(FERRY_EFORMAT, "%s: Management: key 'IsMultiUser' disagrees with "
                                   "CloudConfigurationDetails.IsMultiUser", what);
    }
    const ferry_installed_profile_t *enr = ferry_device_enrollment_profile(dev);
    for (size_t i = 0; i < dev->n_profiles; i++)
        if (&dev->profiles[i] != enr && ferry_profile_find_payload(dev->profiles[i].profile, "com.apple.mdm"))
            return ferry_error_set(FERRY_EFORMAT, "profiles/%s: a second com.apple.mdm payload (already in %s); a device "
                                   "has one MDM enrollment", dev->profiles[i].file, enr->file);
    ferry_enrollment_t e = ferry_device_enrollment(dev);
    if ((e == FERRY_ENROLL_UE_ACCOUNT || e == FERRY_ENROLL_UE_PROFILE || e == FERRY_ENROLL_DE_ACCOUNT) &&
        !dev->ManagedAppleAccount)
        return ferry_error_set(FERRY_EFORMAT, "%s: Accounts: key 'ManagedAppleAccount' is missing; a %s enrollment needs a "
                               "signed-in Managed Apple Account", what, ferry_policy_enrollment_name(e));
    return 0;
}

static int read_optional_plist(const char *dir, const char *name, plist_t *out)
{
    *out = NULL;
    char *path = dev_path(dir, name, NULL);
    if (!path)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    int rc = access(path, F_OK) == 0 ? ferry_plist_read_file(path, DEV_MAX_PLIST, out) : 0;
    free(path);
    return rc;
}

static int load_lists(ferry_device_t *dev)
{
    plist_t p = NULL;
    int rc = read_optional_plist(dev->dir, "apps.plist", &p);
    if (!rc)
        rc = dev_apps_from_plist(p, "apps.plist", &dev->apps, &dev->n_apps);
    if (p)
        plist_free(p);
    p = NULL;
    if (!rc)
        rc = read_optional_plist(dev->dir, "books.plist", &p);
    if (!rc)
        rc = dev_books_from_plist(p, "books.plist", &dev->books, &dev->n_books);
    if (p)
        plist_free(p);
    p = NULL;
    if (!rc)
        rc = read_optional_plist(dev->dir, "keychain.plist", &p);
    if (!rc)
        rc = dev_keychain_from_plist(p, "keychain.plist", &dev->keychain, &dev->n_keychain);
    if (p)
        plist_free(p);
    return rc;
}

static int load_device_plist(ferry_device_t *dev)
{
    char *path = dev_path(dev->dir, "device.plist", NULL);
    if (!path)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    int rc = ferry_plist_read_file(path, DEV_MAX_PLIST, &dev->plist);
    if (rc == FERRY_ENOTFOUND || (rc && access(path, F_OK) != 0))
        rc = ferry_error_set(FERRY_ENOTFOUND, "%s is not a device directory (no device.plist); create one with "
                             "`ferry device create`", dev->dir);
    free(path);
    if (rc)
        return rc;
    if (plist_get_node_type(dev->plist) != PLIST_DICT)
        return ferry_error_set(FERRY_EFORMAT, "device.plist: the top level must be a dictionary");
    int64_t ver = DEV_FORMAT_VERSION;
    if ((rc = dev_opt_int(dev->plist, "FerryDeviceFormat", &ver, "device.plist")))
        return rc;
    if (ver != DEV_FORMAT_VERSION)
        return ferry_error_set(FERRY_EUNSUPPORTED, "device.plist: FerryDeviceFormat %lld is not supported (this ferry "
                               "reads version %d)", (long long)ver, DEV_FORMAT_VERSION);
    if ((rc = dev_keys_load(dev, "device.plist")))
        return rc;
    plist_t mgmt = plist_dict_get_item(dev->plist, "Management");
    plist_t cc = mgmt ? plist_dict_get_item(mgmt, "CloudConfigurationDetails") : NULL;
    if (cc && plist_get_node_type(cc) != PLIST_DICT)
        return ferry_error_set(FERRY_EFORMAT, "device.plist: Management: key 'CloudConfigurationDetails' must be a "
                               "dictionary");
    dev->CloudConfigurationDetails = cc ? plist_copy(cc) : NULL;
    return 0;
}

int ferry_device_load(const char *dir, ferry_device_t **out)
{
    *out = NULL;
    ferry_device_t *dev = calloc(1, sizeof *dev);
    if (!dev || !(dev->dir = strdup(dir))) {
        free(dev);
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    int rc = load_device_plist(dev);
    if (!rc)
        rc = load_lists(dev);
    if (!rc)
        rc = dev_profile_index_load(dev);
    if (!rc)
        rc = dev_check_invariants(dev, "device.plist");
    if (!rc) {
        char *kb = dev_path(dir, "keybag.plist", NULL);
        dev->has_backup_password = kb && access(kb, F_OK) == 0;
        free(kb);
    }
    if (rc) {
        ferry_error_wrap(rc, "device %s", dir);
        ferry_device_free(dev);
        return rc;
    }
    *out = dev;
    return 0;
}
