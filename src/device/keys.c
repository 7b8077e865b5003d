/*
 * keys.c: the one table of device.plist keys (identity, state, accounts, management) with their
 * type, section, default and `ferry device set` alias. Loading, saving, `set` and the documentation
 * all follow this table, so a key exists everywhere or nowhere. Names are Apple's (lockdown,
 * DeviceInformation, the ADE profile) wherever Apple has one; docs/device-format.md marks ferry's own.
 * CloudConfigurationDetails is a whole dictionary and is handled in load.c, not here.
 */
#include "device_internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define F(field) offsetof(ferry_device_t, field)

const dev_key_t dev_keys[] = {
    /* section, name, alias, type, offset, required, settable, default */
    {"Identity", "UniqueDeviceID", NULL, DK_STRING, F(UniqueDeviceID), 1, 0, 0},
    {"Identity", "SerialNumber", NULL, DK_STRING, F(SerialNumber), 1, 0, 0},
    {"Identity", "UniqueChipID", "ecid", DK_UINT, F(UniqueChipID), 1, 0, 0},
    {"Identity", "ProductType", NULL, DK_STRING, F(ProductType), 1, 0, 0},
    {"Identity", "ProductVersion", "version", DK_STRING, F(ProductVersion), 1, 1, 0},
    {"Identity", "BuildVersion", "build", DK_STRING, F(BuildVersion), 1, 1, 0},
    {"Identity", "DeviceName", "name", DK_STRING, F(DeviceName), 1, 1, 0},
    {"Identity", "DeviceClass", NULL, DK_STRING, F(DeviceClass), 1, 0, 0},
    {"State", "PasscodePresent", "passcode", DK_BOOL, F(PasscodePresent), 0, 1, 1},
    {"State", "BiometricsEnrolled", "biometrics", DK_BOOL, F(BiometricsEnrolled), 0, 1, 0},
    {"State", "IsLocked", "locked", DK_BOOL, F(IsLocked), 0, 1, 1},
    {"State", "ExternalConnected", "power", DK_BOOL, F(ExternalConnected), 0, 1, 0},
    {"State", "WiFiConnected", "wifi", DK_BOOL, F(WiFiConnected), 0, 1, 1},
    {"State", "InternetReachable", "online", DK_BOOL, F(InternetReachable), 0, 1, 1},
    {"State", "IsDeviceLocatorServiceEnabled", "findmy", DK_BOOL, F(IsDeviceLocatorServiceEnabled), 0, 1, 0},
    {"State", "IsActivationLockEnabled", "activation-lock", DK_BOOL, F(IsActivationLockEnabled), 0, 1, 0},
    {"State", "SetupComplete", "setup-complete", DK_BOOL, F(SetupComplete), 0, 1, 1},
    {"State", "IsCloudPhotoLibraryEnabled", "icloud-photos", DK_BOOL, F(IsCloudPhotoLibraryEnabled), 0, 1, 0},
    {"State", "IsCloudBackupEnabled", "icloud-backup", DK_BOOL, F(IsCloudBackupEnabled), 0, 1, 0},
    {"State", "LastCloudBackupDate", "last-icloud-backup", DK_DATE, F(LastCloudBackupDate), 0, 1, 0},
    {"State", "TotalDiskCapacity", "capacity", DK_UINT, F(TotalDiskCapacity), 0, 1, 128000000000LL},
    {"State", "TotalDataAvailable", "free-space", DK_UINT, F(TotalDataAvailable), 0, 1, 64000000000LL},
    {"Accounts", "PersonalAppleAccount", "personal-account", DK_STRING, F(PersonalAppleAccount), 0, 1, 0},
    {"Accounts", "ManagedAppleAccount", "managed-account", DK_STRING, F(ManagedAppleAccount), 0, 1, 0},
    {"Management", "IsSupervised", "supervised", DK_BOOL, F(IsSupervised), 0, 1, 0},
    {"Management", "IsMultiUser", "multi-user", DK_BOOL, F(IsMultiUser), 0, 1, 0},
    {"Management", "AssignmentService", "assignment", DK_STRING, F(AssignmentService), 0, 1, 0},
    {"Management", "EmployeePlan", "employee-plan", DK_BOOL, F(EmployeePlan), 0, 1, 0},
    {"Management", "do_not_use_profile_from_backup", NULL, DK_BOOL, F(do_not_use_profile_from_backup), 0, 1, 0},
};
const size_t dev_n_keys = sizeof dev_keys / sizeof dev_keys[0];

const dev_key_t *dev_key_find(const char *name)
{
    for (size_t i = 0; i < dev_n_keys; i++)
        if (!strcmp(dev_keys[i].name, name) || (dev_keys[i].alias && !strcmp(dev_keys[i].alias, name)))
            return &dev_keys[i];
    return NULL;
}

static void *field(ferry_device_t *dev, const dev_key_t *k)
{
    return (char *)dev + k->offset;
}

static const void *cfield(const ferry_device_t *dev, const dev_key_t *k)
{
    return (const char *)dev + k->offset;
}

static void set_default(ferry_device_t *dev, const dev_key_t *k)
{
    switch (k->type) {
    case DK_BOOL: *(int *)field(dev, k) = (int)k->dflt; break;
    case DK_UINT: *(uint64_t *)field(dev, k) = (uint64_t)k->dflt; break;
    case DK_DATE: *(int64_t *)field(dev, k) = 0; break;
    case DK_STRING: break;
    }
}

static int load_one(ferry_device_t *dev, const dev_key_t *k, plist_t sect, const char *what)
{
    plist_t n = sect ? plist_dict_get_item(sect, k->name) : NULL;
    if (!n) {
        if (k->required)
            return ferry_error_set(FERRY_EFORMAT, "%s: %s: key '%s' is missing", what, k->section, k->name);
        set_default(dev, k);
        return 0;
    }
    plist_type t = plist_get_node_type(n);
    switch (k->type) {
    case DK_STRING: {
        if (t != PLIST_STRING)
            break;
        char *s = NULL;
        s = ferry_plist_string_dup(n);
        if (!s || (k->required && !*s)) {
            free(s);
            return ferry_error_set(FERRY_EFORMAT, "%s: %s: key '%s' is empty", what, k->section, k->name);
        }
        *(char **)field(dev, k) = s;
        return 0;
    }
    case DK_BOOL:
        if (t != PLIST_BOOLEAN)
            break;
        *(int *)field(dev, k) = plist_bool_val_is_true(n) ? 1 : 0;
        return 0;
    case DK_UINT:
        if (t != PLIST_UINT)
            break;
        plist_get_uint_val(n, (uint64_t *)field(dev, k));
        return 0;
    case DK_DATE: {
        if (t != PLIST_DATE)
            break;
        int32_t sec = 0, usec = 0;
        plist_get_date_val(n, &sec, &usec);
        *(int64_t *)field(dev, k) = (int64_t)sec + 978307200;
        return 0;
    }
    }
    static const char *names[] = {"a string", "a boolean", "an integer", "a date"};
    return ferry_error_set(FERRY_EFORMAT, "%s: %s: key '%s' must be %s", what, k->section, k->name,
                           names[k->type]);
}

int dev_keys_load(ferry_device_t *dev, const char *what)
{
    for (size_t i = 0; i < dev_n_keys; i++) {
        const dev_key_t *k = &dev_keys[i];
        plist_t sect = plist_dict_get_item(dev->plist, k->section);
        if (sect && plist_get_node_type(sect) != PLIST_DICT)
            return ferry_error_set(FERRY_EFORMAT, "%s: key '%s' must be a dictionary", what, k->section);
        int rc = load_one(dev, k, sect, what);
        if (rc)
            return rc;
    }
    return 0;
}

static plist_t section(plist_t root, const char *name)
{
    plist_t s = plist_dict_get_item(root, name);
    if (!s || plist_get_node_type(s) != PLIST_DICT) {
        s = plist_new_dict();
        plist_dict_set_item(root, name, s);
    }
    return s;
}

plist_t dev_keys_build(const ferry_device_t *dev)
{
    plist_t root = dev->plist && plist_get_node_type(dev->plist) == PLIST_DICT ? plist_copy(dev->plist)
                                                                               : plist_new_dict();
    dev_dict_set_uint(root, "FerryDeviceFormat", DEV_FORMAT_VERSION);
    /* sections in a fixed order so that new files read top-down: identity first */
    static const char *order[] = {"Identity", "State", "Accounts", "Management"};
    for (size_t s = 0; s < 4; s++) {
        plist_t sect = section(root, order[s]);
        for (size_t i = 0; i < dev_n_keys; i++) {
            const dev_key_t *k = &dev_keys[i];
            if (strcmp(k->section, order[s]))
                continue;
            switch (k->type) {
            case DK_STRING: {
                const char *v = *(char *const *)cfield(dev, k);
                if (v)
                    plist_dict_set_item(sect, k->name, plist_new_string(v));
                else
                    plist_dict_remove_item(sect, k->name);
                break;
            }
            case DK_BOOL: dev_dict_set_bool(sect, k->name, *(const int *)cfield(dev, k)); break;
            case DK_UINT: dev_dict_set_uint(sect, k->name, *(const uint64_t *)cfield(dev, k)); break;
            case DK_DATE: {
                int64_t t = *(const int64_t *)cfield(dev, k);
                if (t)
                    plist_dict_set_item(sect, k->name, ferry_plist_new_date_unix(t));
                else
                    plist_dict_remove_item(sect, k->name);
                break;
            }
            }
        }
    }
    plist_t mgmt = section(root, "Management");
    if (dev->CloudConfigurationDetails)
        plist_dict_set_item(mgmt, "CloudConfigurationDetails", plist_copy(dev->CloudConfigurationDetails));
    else
        plist_dict_remove_item(mgmt, "CloudConfigurationDetails");
    return root;
}

static int parse_bool(const char *s, int *out)
{
    static const char *yes[] = {"true", "yes", "on", "1"}, *no[] = {"false", "no", "off", "0"};
    for (int i = 0; i < 4; i++) {
        if (!strcasecmp(s, yes[i])) {
            *out = 1;
            return 0;
        }
        if (!strcasecmp(s, no[i])) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

int dev_key_parse_value(const dev_key_t *k, const char *text, ferry_device_t *dev)
{
    switch (k->type) {
    case DK_BOOL: {
        int b;
        if (parse_bool(text, &b))
            return ferry_error_set(FERRY_EINVAL, "%s takes true/false (or on/off, yes/no, 1/0), not '%s'",
                                   k->name, text);
        *(int *)field(dev, k) = b;
        return 0;
    }
    case DK_UINT:
    case DK_DATE: {
        char *end = NULL;
        errno = 0;
        unsigned long long v = strtoull(text, &end, 10);
        if (!*text || *text == '-' || *end || errno)
            return ferry_error_set(FERRY_EINVAL, "%s takes a non-negative integer%s, not '%s'", k->name,
                                   k->type == DK_DATE ? " (Unix seconds, 0 = never)" : "", text);
        if (k->type == DK_DATE) {
            if (v > INT32_MAX)
                return ferry_error_set(FERRY_EINVAL, "%s: %s is out of range", k->name, text);
            *(int64_t *)field(dev, k) = (int64_t)v;
        } else
            *(uint64_t *)field(dev, k) = v;
        return 0;
    }
    case DK_STRING: {
        char **p = field(dev, k);
        if (k->required && !*text)
            return ferry_error_set(FERRY_EINVAL, "%s cannot be empty", k->name);
        char *v = *text ? strdup(text) : NULL; /* an empty optional string removes the key */
        if (*text && !v)
            return ferry_error_set(FERRY_ENOMEM, "out of memory");
        free(*p);
        *p = v;
        return 0;
    }
    }
    return ferry_error_set(FERRY_EINVAL, "unknown key type");
}

const char *const *ferry_device_set_keys(void)
{
    static const char *names[sizeof dev_keys / sizeof dev_keys[0] + 1];
    size_t j = 0;
    if (!names[0])
        for (size_t i = 0; i < dev_n_keys; i++)
            if (dev_keys[i].settable)
                names[j++] = dev_keys[i].name;
    return names;
}

const char *ferry_device_set_alias(const char *key)
{
    const dev_key_t *k = dev_key_find(key);
    return k ? k->alias : NULL;
}
