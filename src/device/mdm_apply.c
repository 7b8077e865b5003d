/*
 * mdm_apply.c: the device running one MDM command on its directory (spec/mdm.md §4, §5, §10):
 * DeviceInformation, ProfileList, InstallProfile, RemoveProfile, InstallApplication (with
 * ManagementFlags), RemoveApplication, ManagedApplicationList, InstalledApplicationList,
 * InstallMedia, ManagedMediaList, RemoveMedia, Settings and DeviceConfigured. Results use Apple's
 * keys. Every change goes through the device's editing functions, which check and save; a failed
 * change reloads the device from its unchanged directory, so the model never drifts from the disk.
 * The MDM may only remove what it installed: RemoveProfile refuses the enrollment profile and
 * profiles installed by hand, RemoveApplication refuses unmanaged apps.
 */
#include "device_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    ferry_device_t *dev;
    plist_t cmd;    /* the Command dict */
    plist_t result; /* owned until returned */
    int changed_failed; /* an edit failed: reload */
} cmdctx_t;

static const char *cmd_error(cmdctx_t *c, int code, const char *msg)
{
    plist_t chain = plist_new_array(), e = plist_new_dict();
    dev_dict_set_uint(e, "ErrorCode", (uint64_t)(code < 0 ? -code : code));
    dev_dict_set_str(e, "ErrorDomain", "ferry.device");
    dev_dict_set_str(e, "LocalizedDescription", msg);
    dev_dict_set_str(e, "USEnglishDescription", msg);
    plist_array_append_item(chain, e);
    plist_dict_set_item(c->result, "ErrorChain", chain);
    return "Error";
}

/* An edit failed: record the error and make the caller reload the device. */
static const char *edit_failed(cmdctx_t *c, int rc)
{
    c->changed_failed = 1;
    return cmd_error(c, rc, ferry_error_last());
}

static char *str_param(plist_t d, const char *key)
{
    char *s = NULL;
    if (ferry_plist_get_string(d, key, &s))
        return NULL;
    return s;
}

static int wanted(plist_t filter, const char *name)
{
    if (!filter || plist_get_node_type(filter) != PLIST_ARRAY)
        return 1;
    for (uint32_t i = 0; i < plist_array_get_size(filter); i++) {
        plist_t n = plist_array_get_item(filter, i);
        const char *v = plist_get_node_type(n) == PLIST_STRING ? plist_get_string_ptr(n, NULL) : NULL;
        if (v && !strcmp(v, name))
            return 1;
    }
    return 0;
}

/* ---- DeviceInformation -------------------------------------------------------------------------- */

static plist_t device_information(const ferry_device_t *d)
{
    plist_t q = plist_new_dict();
    dev_dict_set_str(q, "UDID", d->UniqueDeviceID);
    dev_dict_set_str(q, "SerialNumber", d->SerialNumber);
    dev_dict_set_str(q, "DeviceName", d->DeviceName);
    dev_dict_set_str(q, "OSVersion", d->ProductVersion);
    dev_dict_set_str(q, "BuildVersion", d->BuildVersion);
    dev_dict_set_str(q, "ProductName", d->ProductType);
    dev_dict_set_str(q, "Model", d->ProductType);
    dev_dict_set_str(q, "ModelName", d->DeviceClass);
    dev_dict_set_bool(q, "IsSupervised", d->IsSupervised);
    dev_dict_set_bool(q, "IsMultiUser", d->IsMultiUser);
    dev_dict_set_bool(q, "IsCloudBackupEnabled", d->IsCloudBackupEnabled);
    if (d->LastCloudBackupDate)
        plist_dict_set_item(q, "LastCloudBackupDate", ferry_plist_new_date_unix(d->LastCloudBackupDate));
    dev_dict_set_bool(q, "IsDeviceLocatorServiceEnabled", d->IsDeviceLocatorServiceEnabled);
    dev_dict_set_bool(q, "IsActivationLockEnabled", d->IsActivationLockEnabled);
    dev_dict_set_bool(q, "IsMDMLostModeEnabled", 0);
    dev_dict_set_bool(q, "AwaitingConfiguration", !d->SetupComplete);
    plist_dict_set_item(q, "DeviceCapacity", plist_new_real((double)d->TotalDiskCapacity / 1e9));
    plist_dict_set_item(q, "AvailableDeviceCapacity", plist_new_real((double)d->TotalDataAvailable / 1e9));
    if (d->ManagedAppleAccount)
        dev_dict_set_str(q, "ManagedAppleID", d->ManagedAppleAccount);
    return q;
}

static const char *do_device_information(cmdctx_t *c)
{
    plist_t all = device_information(c->dev), filter = plist_dict_get_item(c->cmd, "Queries");
    plist_t out = all;
    if (filter && plist_get_node_type(filter) == PLIST_ARRAY) {
        out = plist_new_dict();
        for (uint32_t i = 0; i < plist_array_get_size(filter); i++) {
            plist_t n = plist_array_get_item(filter, i);
            const char *k = plist_get_node_type(n) == PLIST_STRING ? plist_get_string_ptr(n, NULL) : NULL;
            plist_t v = k ? plist_dict_get_item(all, k) : NULL;
            if (v)
                plist_dict_set_item(out, k, plist_copy(v));
        }
        plist_free(all);
    }
    plist_dict_set_item(c->result, "QueryResponses", out);
    return "Acknowledged";
}

/* ---- profiles ----------------------------------------------------------------------------------- */

static const char *do_profile_list(cmdctx_t *c)
{
    plist_t list = plist_new_array();
    for (size_t i = 0; i < c->dev->n_profiles; i++) {
        const ferry_installed_profile_t *ip = &c->dev->profiles[i];
        const ferry_profile_t *p = ip->profile;
        plist_t d = plist_new_dict();
        dev_dict_set_str(d, "PayloadIdentifier", p->PayloadIdentifier);
        dev_dict_set_str(d, "PayloadUUID", p->PayloadUUID);
        dev_dict_set_str(d, "PayloadDisplayName", p->PayloadDisplayName);
        dev_dict_set_str(d, "PayloadOrganization", p->PayloadOrganization);
        dev_dict_set_bool(d, "PayloadRemovalDisallowed", p->PayloadRemovalDisallowed);
        dev_dict_set_uint(d, "PayloadVersion", 1);
        dev_dict_set_bool(d, "IsManaged", ip->source == FERRY_SOURCE_MDM || ip->source == FERRY_SOURCE_ENROLLMENT);
        dev_dict_set_bool(d, "IsEncrypted", 0);
        dev_dict_set_bool(d, "HasRemovalPasscode", 0);
        plist_t content = plist_new_array();
        for (size_t k = 0; k < p->n_payloads; k++) {
            plist_t pl = plist_new_dict();
            dev_dict_set_str(pl, "PayloadType", p->payloads[k].PayloadType);
            dev_dict_set_str(pl, "PayloadIdentifier", p->payloads[k].PayloadIdentifier);
            dev_dict_set_str(pl, "PayloadUUID", p->payloads[k].PayloadUUID);
            dev_dict_set_uint(pl, "PayloadVersion", 1);
            plist_array_append_item(content, pl);
        }
        plist_dict_set_item(d, "PayloadContent", content);
        plist_array_append_item(list, d);
    }
    plist_dict_set_item(c->result, "ProfileList", list);
    return "Acknowledged";
}

static const char *do_install_profile(cmdctx_t *c)
{
    uint8_t *data = NULL;
    size_t len = 0;
    if (ferry_plist_get_data(c->cmd, "Payload", &data, &len))
        return "CommandFormatError";
    int rc = ferry_device_install_profile_data(c->dev, data, len, "InstallProfile Payload", FERRY_SOURCE_MDM);
    free(data);
    return rc ? edit_failed(c, rc) : "Acknowledged";
}

static const char *do_remove_profile(cmdctx_t *c)
{
    char *id = str_param(c->cmd, "Identifier");
    if (!id)
        return "CommandFormatError";
    const char *st = "Acknowledged";
    const ferry_installed_profile_t *ip = NULL;
    for (size_t i = 0; i < c->dev->n_profiles && !ip; i++)
        if (!strcmp(c->dev->profiles[i].profile->PayloadIdentifier, id))
            ip = &c->dev->profiles[i];
    if (!ip) {
        st = cmd_error(c, FERRY_ENOTFOUND, "no installed profile has this PayloadIdentifier");
    } else if (ip->source != FERRY_SOURCE_MDM) {
        st = cmd_error(c, FERRY_EINVAL, "the MDM server may remove only the profiles it installed");
    } else {
        int rc = ferry_device_remove_profile(c->dev, id);
        if (rc)
            st = edit_failed(c, rc);
    }
    free(id);
    return st;
}

/* ---- apps --------------------------------------------------------------------------------------- */

static uint64_t name_seed(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a: deterministic synthetic data per bundle ID */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static const char *do_install_application(cmdctx_t *c)
{
    char *id = str_param(c->cmd, "Identifier");
    int64_t flags = 0, store_id = 0;
    ferry_plist_get_int(c->cmd, "ManagementFlags", &flags);
    ferry_plist_get_int(c->cmd, "iTunesStoreID", &store_id);
    if (!id) {
        const char *st = cmd_error(c, FERRY_EUNSUPPORTED, "ferry's emulated device installs apps by Identifier "
                                                          "(bundle ID)");
        return st;
    }
    if (flags & ~(int64_t)5) {
        free(id);
        return "CommandFormatError";
    }
    const ferry_app_t *old = ferry_device_find_app(c->dev, id);
    ferry_app_install_t a;
    ferry_app_install_init(&a);
    a.bundle_id = id;
    a.name = old && old->Name ? old->Name : NULL;
    a.managed = 1;
    a.management_flags = flags;
    a.data_size = old ? 0 : 4096; /* an update keeps the app's data */
    a.seed = name_seed(id);
    int rc = ferry_device_install_app(c->dev, &a);
    const char *st = "Acknowledged";
    if (!rc && store_id > 0) {
        ferry_app_t *app = (ferry_app_t *)ferry_device_find_app(c->dev, id);
        app->iTunesStoreID = store_id;
        rc = ferry_device_save(c->dev);
    }
    if (rc) {
        st = edit_failed(c, rc);
    } else {
        dev_dict_set_str(c->result, "Identifier", id);
        dev_dict_set_str(c->result, "State", "Managed");
    }
    free(id);
    return st;
}

static const char *do_remove_application(cmdctx_t *c)
{
    char *id = str_param(c->cmd, "Identifier");
    if (!id)
        return "CommandFormatError";
    const ferry_app_t *a = ferry_device_find_app(c->dev, id);
    const char *st = "Acknowledged";
    if (!a || !a->IsManaged || a->DeclarationIdentifier) {
        st = cmd_error(c, FERRY_ENOTFOUND, "no app with this Identifier is managed by the MDM server");
    } else {
        int rc = ferry_device_remove_app(c->dev, id);
        if (rc)
            st = edit_failed(c, rc);
    }
    free(id);
    return st;
}

static const char *do_managed_app_list(cmdctx_t *c)
{
    plist_t filter = plist_dict_get_item(c->cmd, "Identifiers"), list = plist_new_dict();
    for (size_t i = 0; i < c->dev->n_apps; i++) {
        const ferry_app_t *a = &c->dev->apps[i];
        if (!a->IsManaged || a->DeclarationIdentifier || !wanted(filter, a->Identifier))
            continue; /* the response excludes DDM-managed apps */
        plist_t d = plist_new_dict();
        dev_dict_set_str(d, "Status", a->Installed ? "Managed" : "ManagedButUninstalled");
        dev_dict_set_uint(d, "ManagementFlags", (uint64_t)a->ManagementFlags);
        dev_dict_set_bool(d, "HasConfiguration", 0);
        dev_dict_set_bool(d, "HasFeedback", 0);
        dev_dict_set_bool(d, "IsValidated", 1);
        dev_dict_set_uint(d, "ExternalVersionIdentifier", 0);
        plist_dict_set_item(list, a->Identifier, d);
    }
    plist_dict_set_item(c->result, "ManagedApplicationList", list);
    return "Acknowledged";
}

static const char *do_installed_app_list(cmdctx_t *c)
{
    plist_t filter = plist_dict_get_item(c->cmd, "Identifiers"), list = plist_new_array();
    int managed_only = 0;
    ferry_plist_get_bool(c->cmd, "ManagedAppsOnly", &managed_only);
    for (size_t i = 0; i < c->dev->n_apps; i++) {
        const ferry_app_t *a = &c->dev->apps[i];
        if (!a->Installed || (managed_only && !a->IsManaged) || !wanted(filter, a->Identifier))
            continue;
        plist_t d = plist_new_dict();
        dev_dict_set_str(d, "Identifier", a->Identifier);
        dev_dict_set_str(d, "Name", a->Name ? a->Name : a->Identifier);
        dev_dict_set_str(d, "Version", a->Version ? a->Version : "1.0");
        dev_dict_set_str(d, "ShortVersion", a->Version ? a->Version : "1.0");
        dev_dict_set_uint(d, "DynamicSize", a->DynamicSize);
        dev_dict_set_uint(d, "BundleSize", 0);
        dev_dict_set_bool(d, "IsValidated", 1);
        dev_dict_set_bool(d, "Installing", 0);
        dev_dict_set_bool(d, "AppStoreVendable", a->iTunesStoreID != 0);
        if (a->iTunesStoreID)
            dev_dict_set_uint(d, "ExternalVersionIdentifier", 0);
        plist_array_append_item(list, d);
    }
    plist_dict_set_item(c->result, "InstalledApplicationList", list);
    return "Acknowledged";
}

/* ---- books -------------------------------------------------------------------------------------- */

static ssize_t find_book(const ferry_device_t *d, const char *pid, int64_t store_id)
{
    for (size_t i = 0; i < d->n_books; i++) {
        const ferry_book_t *b = &d->books[i];
        if ((pid && b->PersistentID && !strcmp(b->PersistentID, pid)) ||
            (!pid && store_id && b->iTunesStoreID == store_id))
            return (ssize_t)i;
    }
    return -1;
}

static void copy_str(plist_t from, plist_t to, const char *key)
{
    plist_t v = plist_dict_get_item(from, key);
    if (v && plist_get_node_type(v) == PLIST_STRING)
        plist_dict_set_item(to, key, plist_copy(v));
}

static int write_book_file(ferry_device_t *dev, const ferry_book_t *b)
{
    char *rel = ferry_book_relpath(b);
    if (!rel)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    int rc = dev_write_data_synthetic(dev->dir, "BooksDomain", rel, 2048, name_seed(rel));
    free(rel);
    return rc;
}

static const char *do_install_media(cmdctx_t *c)
{
    char *type = str_param(c->cmd, "MediaType"), *pid = str_param(c->cmd, "PersistentID");
    int64_t store_id = 0;
    ferry_plist_get_int(c->cmd, "iTunesStoreID", &store_id);
    const char *st = "Acknowledged";
    if (!type || strcmp(type, "Book") || (!pid && store_id <= 0)) {
        dev_dict_set_str(c->result, "RejectionReason", "WrongMediaType");
        st = type && !strcmp(type, "Book") ? cmd_error(c, FERRY_EINVAL, "a book needs PersistentID or iTunesStoreID")
                                            : "CommandFormatError";
    } else if (pid && c->dev->IsMultiUser) {
        dev_dict_set_str(c->result, "State", "Failed");
        dev_dict_set_str(c->result, "RejectionReason", "EnterpriseBooksNotSupportedInMultiUser");
        st = cmd_error(c, FERRY_EUNSUPPORTED, "enterprise books are not supported on Shared iPad");
    } else {
        plist_t d = plist_new_dict(), arr = plist_new_array();
        copy_str(c->cmd, d, "Title");
        copy_str(c->cmd, d, "Author");
        copy_str(c->cmd, d, "Version");
        copy_str(c->cmd, d, "MediaURL");
        if (plist_dict_get_item(c->cmd, "Kind"))
            copy_str(c->cmd, d, "Kind");
        else
            dev_dict_set_str(d, "Kind", "pdf");
        if (pid) {
            dev_dict_set_str(d, "PersistentID", pid);
            dev_dict_set_str(d, "State", "Managed");
        } else {
            dev_dict_set_uint(d, "iTunesStoreID", (uint64_t)store_id);
            dev_dict_set_str(d, "State", "Installed");
        }
        dev_dict_set_bool(d, "IsManaged", 1);
        plist_array_append_item(arr, d);
        ferry_book_t *parsed = NULL;
        size_t n = 0;
        int rc = dev_books_from_plist(arr, "InstallMedia", &parsed, &n);
        plist_free(arr);
        ssize_t old = rc ? -1 : find_book(c->dev, pid, store_id);
        if (!rc && old < 0) {
            ferry_book_t *nb = realloc(c->dev->books, (c->dev->n_books + 1) * sizeof *nb);
            if (!nb)
                rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
            else {
                c->dev->books = nb;
                old = (ssize_t)c->dev->n_books++;
                memset(&nb[old], 0, sizeof nb[old]);
            }
        }
        if (!rc) {
            dev_book_clear(&c->dev->books[old]);
            c->dev->books[old] = parsed[0];
            memset(&parsed[0], 0, sizeof parsed[0]);
            rc = write_book_file(c->dev, &c->dev->books[old]);
        }
        if (!rc)
            rc = ferry_device_save(c->dev);
        for (size_t i = 0; i < n; i++)
            dev_book_clear(&parsed[i]);
        free(parsed);
        if (rc) {
            st = edit_failed(c, rc);
        } else {
            dev_dict_set_str(c->result, "State", pid ? "Managed" : "Installed");
            if (pid)
                dev_dict_set_str(c->result, "PersistentID", pid);
            else
                dev_dict_set_uint(c->result, "iTunesStoreID", (uint64_t)store_id);
        }
    }
    free(type);
    free(pid);
    return st;
}

static const char *do_managed_media_list(cmdctx_t *c)
{
    plist_t list = plist_new_array();
    for (size_t i = 0; i < c->dev->n_books; i++) {
        const ferry_book_t *b = &c->dev->books[i];
        plist_t d = plist_new_dict();
        dev_dict_set_uint(d, "iTunesStoreID", (uint64_t)b->iTunesStoreID);
        dev_dict_set_str(d, "State", b->State ? b->State : (b->PersistentID ? "Managed" : "Installed"));
        dev_dict_set_str(d, "PersistentID", b->PersistentID);
        dev_dict_set_str(d, "Kind", b->Kind);
        dev_dict_set_str(d, "Version", b->Version);
        dev_dict_set_str(d, "Author", b->Author);
        dev_dict_set_str(d, "Title", b->Title);
        plist_array_append_item(list, d);
    }
    plist_dict_set_item(c->result, "Books", list);
    return "Acknowledged";
}

/* "returns Acknowledged even if the item is not found" (spec/mdm.md §5). */
static const char *do_remove_media(cmdctx_t *c)
{
    char *pid = str_param(c->cmd, "PersistentID");
    int64_t store_id = 0;
    ferry_plist_get_int(c->cmd, "iTunesStoreID", &store_id);
    ssize_t i = find_book(c->dev, pid, store_id);
    const char *st = "Acknowledged";
    if (i >= 0) {
        char *rel = ferry_book_relpath(&c->dev->books[i]);
        char *path = rel ? dev_path(c->dev->dir, "files/BooksDomain", rel) : NULL;
        ferry_book_t gone = c->dev->books[i];
        memmove(&c->dev->books[i], &c->dev->books[i + 1], (c->dev->n_books - (size_t)i - 1) * sizeof gone);
        c->dev->n_books--;
        dev_book_clear(&gone);
        int rc = ferry_device_save(c->dev);
        if (rc)
            st = edit_failed(c, rc);
        else if (path)
            remove(path);
        free(rel);
        free(path);
    }
    free(pid);
    return st;
}

/* ---- Settings, DeviceConfigured ----------------------------------------------------------------- */

static const char *do_settings(cmdctx_t *c)
{
    plist_t items = plist_dict_get_item(c->cmd, "Settings");
    if (!items || plist_get_node_type(items) != PLIST_ARRAY)
        return "CommandFormatError";
    plist_t statuses = plist_new_array();
    int changed = 0;
    for (uint32_t i = 0; i < plist_array_get_size(items); i++) {
        plist_t it = plist_array_get_item(items, i);
        char *item = plist_get_node_type(it) == PLIST_DICT ? str_param(it, "Item") : NULL;
        char *name = item && !strcmp(item, "DeviceName") ? str_param(it, "DeviceName") : NULL;
        plist_t s = plist_new_dict();
        dev_dict_set_str(s, "Item", item ? item : "");
        if (name && *name) {
            free(c->dev->DeviceName);
            c->dev->DeviceName = name;
            name = NULL;
            changed = 1;
            dev_dict_set_str(s, "Status", "Acknowledged");
        } else {
            dev_dict_set_str(s, "Status", item && !strcmp(item, "DeviceName") ? "Error" : "Acknowledged");
        }
        plist_array_append_item(statuses, s);
        free(item);
        free(name);
    }
    plist_dict_set_item(c->result, "Settings", statuses);
    if (changed) {
        int rc = ferry_device_save(c->dev);
        if (rc)
            return edit_failed(c, rc);
    }
    return "Acknowledged";
}

static const char *do_device_configured(cmdctx_t *c)
{
    c->dev->SetupComplete = 1;
    if (c->dev->CloudConfigurationDetails)
        plist_dict_set_item(c->dev->CloudConfigurationDetails, "AwaitDeviceConfigured", plist_new_bool(0));
    int rc = ferry_device_save(c->dev);
    return rc ? edit_failed(c, rc) : "Acknowledged";
}

/* ---- dispatch ----------------------------------------------------------------------------------- */

static const struct {
    const char *type;
    const char *(*fn)(cmdctx_t *c);
} HANDLERS[] = {
    {"DeviceInformation", do_device_information}, {"ProfileList", do_profile_list},
    {"InstallProfile", do_install_profile},       {"RemoveProfile", do_remove_profile},
    {"InstallApplication", do_install_application}, {"RemoveApplication", do_remove_application},
    {"ManagedApplicationList", do_managed_app_list}, {"InstalledApplicationList", do_installed_app_list},
    {"InstallMedia", do_install_media},           {"ManagedMediaList", do_managed_media_list},
    {"RemoveMedia", do_remove_media},             {"Settings", do_settings},
    {"DeviceConfigured", do_device_configured},
};

int ferry_device_mdm_command(ferry_device_t **devp, plist_t command, plist_t *result, const char **status)
{
    *result = NULL;
    *status = "CommandFormatError";
    if (!devp || !*devp)
        return ferry_error_set(FERRY_EINVAL, "ferry_device_mdm_command: no device");
    plist_t cmd = command;
    if (cmd && plist_get_node_type(cmd) == PLIST_DICT && plist_dict_get_item(cmd, "Command"))
        cmd = plist_dict_get_item(cmd, "Command");
    cmdctx_t c = {*devp, cmd, plist_new_dict(), 0};
    char *rt = cmd && plist_get_node_type(cmd) == PLIST_DICT ? str_param(cmd, "RequestType") : NULL;
    if (rt) {
        size_t i = 0;
        while (i < sizeof HANDLERS / sizeof *HANDLERS && strcmp(HANDLERS[i].type, rt))
            i++;
        if (i < sizeof HANDLERS / sizeof *HANDLERS)
            *status = HANDLERS[i].fn(&c);
        else
            *status = cmd_error(&c, FERRY_EUNSUPPORTED, "ferry's emulated device does not support this "
                                                        "RequestType");
    }
    free(rt);
    *result = c.result;
    if (c.changed_failed) {
        char *dir = strdup((*devp)->dir);
        ferry_device_free(*devp);
        *devp = NULL;
        int rc = dir ? ferry_device_load(dir, devp) : ferry_error_set(FERRY_ENOMEM, "out of memory");
        free(dir);
        if (rc)
            return rc;
    }
    return 0;
}
