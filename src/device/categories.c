/*
 * categories.c: the one table that says which data files belong to a B3 category (passwords, call
 * history, Health, website history, Wi-Fi: what an unencrypted backup never holds) and which file
 * protection class a file gets by default. Paths are the real relative paths of backup-format.md
 * §11.2; a rule matches a whole path or, when it ends in '/', everything below it, and a rule ending
 * in '*' matches that prefix (History.db, History.db-wal, ...). First match wins, so specific rules
 * come before general ones. Photos (B1: in a backup only when iCloud Photos is off) are a category
 * too. Keychain items carry their own category (keychain.c).
 */
#include "device_internal.h"

#include <string.h>

typedef struct {
    const char *domain;
    const char *path;
    unsigned category; /* FERRY_CAT_* bit, 0 for none */
    int protection_class;
} category_rule_t;

static const category_rule_t rules[] = {
    {"KeychainDomain", "keychain-backup.plist", FERRY_CAT_PASSWORDS, 1},
    {"HomeDomain", "Library/CallHistoryDB/", FERRY_CAT_CALL_HISTORY, 1},
    {"HomeDomain", "Library/Safari/History.db*", FERRY_CAT_WEBSITE_HISTORY, 3},
    {"HomeDomain", "Library/Safari/SafariTabs.db*", FERRY_CAT_WEBSITE_HISTORY, 3},
    {"HealthDomain", "Health/", FERRY_CAT_HEALTH, 2},
    {"SystemPreferencesDomain", "com.apple.wifi.known-networks.plist", FERRY_CAT_WIFI, 3},
    {"SystemPreferencesDomain", "SystemConfiguration/com.apple.wifi.plist", FERRY_CAT_WIFI, 3},
    {"SystemPreferencesDomain", "SystemConfiguration/com.apple.wifi-private-mac-networks.plist", FERRY_CAT_WIFI, 3},
    {DEV_CONFIG_DOMAIN, "", 0, 4},
    {"CameraRollDomain", "Media/DCIM/", FERRY_CAT_PHOTOS, 3},
    {"CameraRollDomain", "Media/PhotoData/", FERRY_CAT_PHOTOS, 3},
};

static int matches(const category_rule_t *r, const char *domain, const char *rel)
{
    if (strcmp(r->domain, domain))
        return 0;
    size_t n = strlen(r->path);
    if (n == 0)
        return 1;
    if (r->path[n - 1] == '*')
        return !strncmp(rel, r->path, n - 1);
    if (r->path[n - 1] == '/')
        return !strncmp(rel, r->path, n);
    return !strcmp(rel, r->path);
}

static const category_rule_t *find(const char *domain, const char *rel)
{
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (matches(&rules[i], domain, rel))
            return &rules[i];
    return NULL;
}

unsigned ferry_device_file_category(const char *domain, const char *relpath)
{
    const category_rule_t *r = find(domain, relpath);
    return r ? r->category : 0;
}

int ferry_device_file_protection_class(const char *domain, const char *relpath)
{
    const category_rule_t *r = find(domain, relpath);
    return r ? r->protection_class : 3; /* C: what most files of a real backup carry (§10.1) */
}

const char *ferry_device_category_name(unsigned cat)
{
    return cat ? ferry_policy_category_name(cat) : "none";
}
