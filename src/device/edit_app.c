/*
 * edit_app.c: installing and removing apps, and setting one state key, on a device directory. An app
 * is checked by the same code that loads apps.plist (so the messages are the same), its synthetic
 * data goes to files/AppDomain-<bundleID>/ at the container's real relative paths, and DynamicSize is
 * measured from what is on disk. Removing an app moves its data out of files/ first and deletes it
 * only after apps.plist no longer lists it, so a failure never leaves a listed app without data.
 */
#include "device_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void ferry_app_install_init(ferry_app_install_t *a)
{
    memset(a, 0, sizeof *a);
    a->include_in_backup = 1;
}

static plist_t app_dict(const ferry_app_install_t *a)
{
    plist_t d = plist_new_dict();
    dev_dict_set_str(d, "Identifier", a->bundle_id);
    dev_dict_set_str(d, "Name", a->name ? a->name : a->bundle_id);
    dev_dict_set_bool(d, "IsManaged", a->managed || a->declaration_id);
    if (a->management_flags)
        dev_dict_set_uint(d, "ManagementFlags", (uint64_t)a->management_flags);
    if (a->declaration_id) {
        dev_dict_set_str(d, "DeclarationIdentifier", a->declaration_id);
        dev_dict_set_bool(d, "IncludeInBackup", a->include_in_backup);
    } else if (!a->include_in_backup)
        dev_dict_set_bool(d, "IncludeInBackup", 0); /* let the shared check explain why this is wrong */
    dev_dict_set_bool(d, "Installed", !a->placeholder);
    return d;
}

static int write_app_data(ferry_device_t *dev, const ferry_app_t *app, uint64_t size, uint64_t seed)
{
    char domain[300], *prefs = NULL;
    snprintf(domain, sizeof domain, "AppDomain-%s", app->Identifier);
    if (asprintf(&prefs, "Library/Preferences/%s.plist", app->Identifier) < 0)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    plist_t p = plist_new_dict();
    dev_dict_set_str(p, "FerrySyntheticData", app->Identifier);
    int rc = dev_write_data_plist(dev->dir, domain, prefs, p, 0);
    plist_free(p);
    free(prefs);
    char *path = NULL;
    if (!rc && size) {
        if (asprintf(&path, "%s/files/%s/Documents/ferry-data.bin", dev->dir, domain) < 0)
            return ferry_error_set(FERRY_ENOMEM, "out of memory");
        unlink(path); /* a reinstall replaces the synthetic data */
        char label[400];
        snprintf(label, sizeof label, "file:%s/Documents/ferry-data.bin", domain);
        rc = dev_write_synthetic(path, size, seed, label);
        free(path);
    }
    return rc;
}

int ferry_device_install_app(ferry_device_t *dev, const ferry_app_install_t *a)
{
    if (!a->bundle_id || !dev_is_bundle_id(a->bundle_id))
        return ferry_error_set(FERRY_EINVAL, "'%s' is not a valid bundle ID", a->bundle_id ? a->bundle_id : "");
    ferry_app_t *parsed = calloc(1, sizeof *parsed);
    if (!parsed)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    char what[300];
    snprintf(what, sizeof what, "app %s", a->bundle_id);
    plist_t d = app_dict(a);
    int rc = dev_app_from_dict(d, parsed, what);
    plist_free(d);
    if (rc) {
        dev_app_clear(parsed);
        free(parsed);
        return rc;
    }
    char *ddir = NULL;
    if (asprintf(&ddir, "%s/files/AppDomain-%s", dev->dir, a->bundle_id) < 0) {
        dev_app_clear(parsed);
        free(parsed);
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    int existed = access(ddir, F_OK) == 0;
    rc = write_app_data(dev, parsed, a->data_size, a->seed);
    if (!rc)
        rc = dev_tree_size(ddir, &parsed->DynamicSize);
    ferry_app_t *slot = (ferry_app_t *)ferry_device_find_app(dev, a->bundle_id);
    if (!rc && !slot) {
        ferry_app_t *na = realloc(dev->apps, (dev->n_apps + 1) * sizeof *na);
        if (!na)
            rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
        else {
            dev->apps = na;
            slot = &na[dev->n_apps++];
            memset(slot, 0, sizeof *slot);
        }
    }
    if (!rc) {
        dev_app_clear(slot);
        *slot = *parsed; /* moves the strings */
        memset(parsed, 0, sizeof *parsed);
        rc = ferry_device_save(dev);
    }
    if (rc && !existed)
        dev_rmtree(ddir);
    dev_app_clear(parsed);
    free(parsed);
    free(ddir);
    return rc;
}

int ferry_device_remove_app(ferry_device_t *dev, const char *bundle_id)
{
    const ferry_app_t *app = ferry_device_find_app(dev, bundle_id);
    if (!app)
        return ferry_error_set(FERRY_ENOTFOUND, "no app with bundle ID '%s' is installed", bundle_id);
    size_t i = (size_t)(app - dev->apps);
    char *ddir = NULL, *trash = NULL;
    if (asprintf(&ddir, "%s/files/AppDomain-%s", dev->dir, bundle_id) < 0 ||
        asprintf(&trash, "%s/.removing-AppDomain-%s", dev->dir, bundle_id) < 0) {
        free(ddir);
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    dev_rmtree(trash);
    int moved = access(ddir, F_OK) == 0 && rename(ddir, trash) == 0;
    ferry_app_t gone = dev->apps[i];
    memmove(&dev->apps[i], &dev->apps[i + 1], (dev->n_apps - i - 1) * sizeof gone);
    dev->n_apps--;
    dev_app_clear(&gone);
    int rc = ferry_device_save(dev);
    if (rc && moved)
        rename(trash, ddir);
    else if (moved)
        rc = dev_rmtree(trash);
    free(ddir);
    free(trash);
    return rc;
}

int ferry_device_set(ferry_device_t *dev, const char *key, const char *value)
{
    const dev_key_t *k = dev_key_find(key);
    if (!k)
        return ferry_error_set(FERRY_EINVAL, "unknown device key '%s' (see `ferry device set --help`)", key);
    if (!k->settable)
        return ferry_error_set(FERRY_EINVAL, "%s is part of the device's identity and cannot be changed; create another "
                               "device instead", k->name);
    int rc = dev_key_parse_value(k, value, dev);
    if (!rc)
        rc = dev_check_invariants(dev, "device.plist");
    return rc ? rc : ferry_device_save(dev);
}
