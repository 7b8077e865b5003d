/*
 * edit_profile.c: installing and removing configuration profiles on a device directory, as a device
 * does: the whole profile is parsed and checked first; a profile with the PayloadIdentifier of an
 * installed one replaces it (an update); a second MDM enrollment is refused; the keychain gains the
 * certificates, identities and Wi-Fi passwords the payloads carry and loses them with the profile.
 * The file is kept byte for byte, so a signed profile stays verifiable. Nothing is written until the
 * resulting device passes the same checks as loading.
 */
#include "device_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_profile(const void *a, const void *b)
{
    return strcmp(((const ferry_installed_profile_t *)a)->file, ((const ferry_installed_profile_t *)b)->file);
}

static ssize_t find_profile(const ferry_device_t *dev, const char *id)
{
    for (size_t i = 0; i < dev->n_profiles; i++)
        if (!strcmp(dev->profiles[i].profile->PayloadIdentifier, id) || !strcmp(dev->profiles[i].file, id))
            return (ssize_t)i;
    return -1;
}

/* A file name not used by another installed profile. */
static char *unique_file(const ferry_device_t *dev, const char *identifier)
{
    char *base = dev_profile_file_name(identifier);
    if (!base)
        return NULL;
    char *name = strdup(base);
    for (int k = 2; name && find_profile(dev, name) >= 0 && k < 1000; k++) {
        free(name);
        name = NULL;
        size_t stem = strlen(base) - strlen(".mobileconfig");
        if (asprintf(&name, "%.*s-%d.mobileconfig", (int)stem, base, k) < 0)
            name = NULL;
    }
    free(base);
    return name;
}

/* Takes ownership of *pp (setting it to NULL) once the profile is in the device's list. */
static int add_profile(ferry_device_t *dev, ferry_profile_t **pp, ferry_profile_source_t source)
{
    ferry_profile_t *p = *pp;
    ssize_t old = find_profile(dev, p->PayloadIdentifier);
    const ferry_installed_profile_t *enr = ferry_device_enrollment_profile(dev);
    if (ferry_profile_find_payload(p, "com.apple.mdm") && enr && (old < 0 || &dev->profiles[old] != enr))
        return ferry_error_set(FERRY_EEXIST, "the device is already enrolled through profiles/%s (%s); remove that "
                               "profile before installing another MDM enrollment", enr->file,
                               enr->profile->PayloadIdentifier);
    if (source == FERRY_SOURCE_AUTO)
        source = ferry_profile_find_payload(p, "com.apple.mdm") ? FERRY_SOURCE_ENROLLMENT : FERRY_SOURCE_MANUAL;
    if (old >= 0) { /* an update keeps the file name and replaces the content */
        ferry_installed_profile_t *ip = &dev->profiles[old];
        dev_keychain_drop_profile(dev, ip->profile);
        ferry_profile_free(ip->profile);
        ip->profile = p;
        ip->source = source;
        *pp = NULL;
        return dev_keychain_sync_profile(dev, p);
    }
    char *file = unique_file(dev, p->PayloadIdentifier);
    ferry_installed_profile_t *n = file ? realloc(dev->profiles, (dev->n_profiles + 1) * sizeof *n) : NULL;
    if (!n) {
        free(file);
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    dev->profiles = n;
    n[dev->n_profiles].file = file;
    n[dev->n_profiles].profile = p;
    n[dev->n_profiles].source = source;
    dev->n_profiles++;
    *pp = NULL;
    qsort(dev->profiles, dev->n_profiles, sizeof *dev->profiles, cmp_profile);
    return dev_keychain_sync_profile(dev, p);
}

int ferry_device_install_profile_data(ferry_device_t *dev, const uint8_t *data, size_t len, const char *name,
                                      ferry_profile_source_t source)
{
    ferry_profile_t *p = NULL;
    int rc = ferry_profile_parse(data, len, name, &p);
    if (rc)
        return rc;
    rc = add_profile(dev, &p, source);
    ferry_profile_free(p); /* NULL once the device owns it */
    if (rc)
        return rc;
    if ((rc = dev_check_invariants(dev, "device.plist")))
        return ferry_error_wrap(rc, "%s cannot be installed", name);
    return ferry_device_save(dev);
}

int ferry_device_install_profile(ferry_device_t *dev, const char *path, ferry_profile_source_t source)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = ferry_file_read_all(path, DEV_MAX_PROFILE, &buf, &len);
    if (rc)
        return rc;
    const char *base = strrchr(path, '/');
    rc = ferry_device_install_profile_data(dev, buf, len, base ? base + 1 : path, source);
    free(buf);
    return rc;
}

int ferry_device_remove_profile(ferry_device_t *dev, const char *id)
{
    ssize_t i = find_profile(dev, id);
    if (i < 0)
        return ferry_error_set(FERRY_ENOTFOUND, "no installed profile has PayloadIdentifier or file name '%s'", id);
    ferry_installed_profile_t ip = dev->profiles[i];
    dev_keychain_drop_profile(dev, ip.profile);
    memmove(&dev->profiles[i], &dev->profiles[i + 1], (dev->n_profiles - (size_t)i - 1) * sizeof ip);
    dev->n_profiles--;
    free(ip.file);
    ferry_profile_free(ip.profile);
    int rc = dev_check_invariants(dev, "device.plist");
    if (rc)
        return ferry_error_wrap(rc, "profile %s cannot be removed", id);
    return ferry_device_save(dev);
}
