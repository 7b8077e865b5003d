/*
 * derived.c: the files a real device keeps about its management in the configuration-profiles domain
 * (SysSharedContainerDomain-systemgroup.com.apple.configurationprofiles, Library/ConfigurationProfiles,
 * backup-format.md §11.2), generated from the model so that a backup of the device finds them at
 * their real paths: CloudConfigurationDetails.plist (the management configuration, present only when
 * the device has one: B9), MDM.plist (the MDM payload, only when enrolled), and one
 * profile-<hash>.stub per installed profile (the profile dictionary, binary). They are outputs:
 * editing them by hand is undone by the next save; edit device.plist and profiles/ instead.
 */
#include "device_internal.h"

#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *dev_profile_stub_name(const char *identifier)
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    char hex[65], *name = NULL;
    if (!EVP_Digest(identifier, strlen(identifier), md, &mdlen, EVP_sha256(), NULL))
        return NULL;
    ferry_hex_encode(md, 20, hex); /* 40 hex digits, like the device's names */
    return asprintf(&name, "profile-%s.stub", hex) < 0 ? NULL : name;
}

static int expected(const ferry_device_t *dev, const char *name)
{
    if (!strcmp(name, "CloudConfigurationDetails.plist"))
        return dev->CloudConfigurationDetails != NULL;
    if (!strcmp(name, "MDM.plist"))
        return ferry_device_enrollment_profile(dev) != NULL;
    if (!strcmp(name, FERRY_BACKUP_APP_MANAGEMENT_FILE))
        return dev_app_management_needed(dev);
    if (strncmp(name, "profile-", 8))
        return 1; /* not ours: leave it */
    for (size_t i = 0; i < dev->n_profiles; i++) {
        char *s = dev_profile_stub_name(dev->profiles[i].profile->PayloadIdentifier);
        int same = s && !strcmp(s, name);
        free(s);
        if (same)
            return 1;
    }
    return 0;
}

static int remove_stale(const ferry_device_t *dev, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : ferry_error_errno("cannot list %s", dir);
    int rc = 0;
    struct dirent *e;
    while (!rc && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || expected(dev, e->d_name))
            continue;
        char *p = dev_path(dir, e->d_name, NULL);
        if (!p || unlink(p) != 0)
            rc = p ? ferry_error_errno("cannot remove %s", p) : ferry_error_set(FERRY_ENOMEM, "out of memory");
        free(p);
    }
    closedir(d);
    return rc;
}

static int write_one(const ferry_device_t *dev, const char *name, plist_t p, int xml)
{
    char rel[512];
    snprintf(rel, sizeof rel, "%s/%s", DEV_CONFIG_DIR, name);
    return dev_write_data_plist(dev->dir, DEV_CONFIG_DOMAIN, rel, p, xml);
}

int dev_derived_write(const ferry_device_t *dev)
{
    char *dir = NULL;
    if (asprintf(&dir, "%s/files/%s/%s", dev->dir, DEV_CONFIG_DOMAIN, DEV_CONFIG_DIR) < 0)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    int rc = remove_stale(dev, dir);
    if (!rc && dev->CloudConfigurationDetails)
        rc = write_one(dev, "CloudConfigurationDetails.plist", dev->CloudConfigurationDetails, 1);
    const ferry_installed_profile_t *enr = ferry_device_enrollment_profile(dev);
    if (!rc && enr)
        rc = write_one(dev, "MDM.plist", ferry_profile_find_payload(enr->profile, "com.apple.mdm")->dict, 1);
    plist_t am = rc ? NULL : dev_app_management_build(dev);
    if (am) {
        rc = write_one(dev, FERRY_BACKUP_APP_MANAGEMENT_FILE, am, 1);
        plist_free(am);
    }
    for (size_t i = 0; i < dev->n_profiles && !rc; i++) {
        char *s = dev_profile_stub_name(dev->profiles[i].profile->PayloadIdentifier);
        rc = s ? write_one(dev, s, dev->profiles[i].profile->top, 0) : ferry_error_set(FERRY_ENOMEM, "out of memory");
        free(s);
    }
    free(dir);
    return rc;
}
