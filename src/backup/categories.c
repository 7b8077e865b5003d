/*
 * categories.c: the one table that says which files of a backup belong to a data category of RULES.md
 * (the five of B3 that an unencrypted backup never holds: passwords, call history, Health, website
 * history, Wi-Fi; and photos, B1) and which file protection class a file gets by default. It is format
 * knowledge: the paths are the real relative paths of backup-format.md §11.2, so the same table
 * classifies the files of an emulated device and the records of any backup (Finder, idevicebackup2,
 * ferry). A rule matches a whole path or, when it ends in '/', everything below it, and a rule ending
 * in '*' matches that prefix (History.db, History.db-wal, ...). First match wins, so specific rules
 * come before general ones.
 */
#include "ferry/backup.h"

#include <string.h>

typedef struct {
    const char *domain;
    const char *path;
    unsigned category; /* FERRY_BACKUP_CAT_* bit, 0 for none */
    int protection_class;
} category_rule_t;

static const category_rule_t rules[] = {
    {"KeychainDomain", "keychain-backup.plist", FERRY_BACKUP_CAT_PASSWORDS, 1},
    {"HomeDomain", "Library/CallHistoryDB/", FERRY_BACKUP_CAT_CALL_HISTORY, 1},
    {"HomeDomain", "Library/Safari/History.db*", FERRY_BACKUP_CAT_WEBSITE_HISTORY, 3},
    {"HomeDomain", "Library/Safari/SafariTabs.db*", FERRY_BACKUP_CAT_WEBSITE_HISTORY, 3},
    {"HealthDomain", "Health/", FERRY_BACKUP_CAT_HEALTH, 2},
    {"SystemPreferencesDomain", "com.apple.wifi.known-networks.plist", FERRY_BACKUP_CAT_WIFI, 3},
    {"SystemPreferencesDomain", "SystemConfiguration/com.apple.wifi.plist", FERRY_BACKUP_CAT_WIFI, 3},
    {"SystemPreferencesDomain", "SystemConfiguration/com.apple.wifi-private-mac-networks.plist",
     FERRY_BACKUP_CAT_WIFI, 3},
    {FERRY_BACKUP_CONFIG_DOMAIN, "", 0, 4},
    {"CameraRollDomain", "Media/DCIM/", FERRY_BACKUP_CAT_PHOTOS, 3},
    {"CameraRollDomain", "Media/PhotoData/", FERRY_BACKUP_CAT_PHOTOS, 3},
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
    if (!domain || !rel)
        return NULL;
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (matches(&rules[i], domain, rel))
            return &rules[i];
    return NULL;
}

unsigned ferry_backup_path_category(const char *domain, const char *relpath)
{
    const category_rule_t *r = find(domain, relpath);
    return r ? r->category : FERRY_BACKUP_CAT_NONE;
}

int ferry_backup_path_protection_class(const char *domain, const char *relpath)
{
    const category_rule_t *r = find(domain, relpath);
    return r ? r->protection_class : 3; /* C: what most files of a real backup carry (§10.1) */
}
