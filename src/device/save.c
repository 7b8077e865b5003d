/*
 * save.c: writing a device directory back. Each file is replaced atomically (temporary name, fsync,
 * rename), profiles are written byte for byte as they were installed (a signed profile stays signed),
 * profiles no longer in the model are removed, and the generated files of the configuration-profiles
 * domain are rewritten from the model last, so that files/ always mirrors device.plist and
 * profiles/. Callers validate before calling save: nothing here decides whether a change is allowed.
 */
#include "device_internal.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int write_plist(const char *dir, const char *name, plist_t p)
{
    char *path = dev_path(dir, name, NULL);
    int rc = path ? ferry_plist_write_file(path, p, 1) : ferry_error_set(FERRY_ENOMEM, "out of memory");
    free(path);
    plist_free(p);
    return rc;
}

static int in_model(const ferry_device_t *dev, const char *file)
{
    for (size_t i = 0; i < dev->n_profiles; i++)
        if (!strcmp(dev->profiles[i].file, file))
            return 1;
    return 0;
}

static int remove_stale_profiles(const ferry_device_t *dev, const char *pdir)
{
    DIR *d = opendir(pdir);
    if (!d)
        return ferry_error_errno("cannot list %s", pdir);
    int rc = 0;
    struct dirent *e;
    while (!rc && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (e->d_name[0] == '.' || n <= 13 || strcmp(e->d_name + n - 13, ".mobileconfig") || in_model(dev, e->d_name))
            continue;
        char *p = dev_path(pdir, e->d_name, NULL);
        if (!p || unlink(p) != 0)
            rc = p ? ferry_error_errno("cannot remove %s", p) : ferry_error_set(FERRY_ENOMEM, "out of memory");
        free(p);
    }
    closedir(d);
    return rc;
}

static int save_profiles(const ferry_device_t *dev)
{
    char *pdir = dev_path(dev->dir, "profiles", NULL);
    if (!pdir)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    int rc = ferry_mkdir_p(pdir, 0700);
    for (size_t i = 0; i < dev->n_profiles && !rc; i++) {
        const ferry_installed_profile_t *ip = &dev->profiles[i];
        char *path = dev_path(pdir, ip->file, NULL);
        rc = path ? ferry_file_write_atomic(path, ip->profile->raw, ip->profile->raw_len, 0600)
                  : ferry_error_set(FERRY_ENOMEM, "out of memory");
        free(path);
    }
    if (!rc)
        rc = remove_stale_profiles(dev, pdir);
    if (!rc)
        rc = write_plist(pdir, "index.plist", dev_profile_index_build(dev));
    free(pdir);
    return rc;
}

int ferry_device_save(ferry_device_t *dev)
{
    int rc = ferry_mkdir_p(dev->dir, 0700);
    if (rc)
        return rc;
    plist_t info = dev_keys_build(dev);
    plist_t copy = plist_copy(info);
    if ((rc = write_plist(dev->dir, "device.plist", info))) {
        plist_free(copy);
        return rc;
    }
    if (dev->plist)
        plist_free(dev->plist);
    dev->plist = copy;
    if ((rc = write_plist(dev->dir, "apps.plist", dev_apps_to_plist(dev->apps, dev->n_apps))) ||
        (rc = write_plist(dev->dir, "books.plist", dev_books_to_plist(dev->books, dev->n_books))) ||
        (rc = write_plist(dev->dir, "keychain.plist", dev_keychain_to_plist(dev->keychain, dev->n_keychain))) ||
        (rc = save_profiles(dev)))
        return rc;
    return dev_derived_write(dev);
}
