/*
 * categories.c: the device's view of the data categories. The table that maps a file to its B3
 * category (or photos) and its default protection class is format knowledge and lives in the backup
 * module (src/backup/categories.c, ferry_backup_path_category); the device classifies its files/ tree
 * with it, so a file of a device and the record of a backup made from it always agree. Keychain items
 * carry their own category (keychain.c).
 */
#include "device_internal.h"

#include "ferry/backup.h"

unsigned ferry_device_file_category(const char *domain, const char *relpath)
{
    return ferry_backup_path_category(domain, relpath);
}

int ferry_device_file_protection_class(const char *domain, const char *relpath)
{
    return ferry_backup_path_protection_class(domain, relpath);
}

const char *ferry_device_category_name(unsigned cat)
{
    return cat ? ferry_policy_category_name(cat) : "none";
}
