/*
 * test_backup_categories.c: the path -> category table of the backup format (src/backup/categories.c):
 * every B3 category and photos at their real paths (backup-format.md §11.2), prefixes and folders,
 * near misses that must not match, the default protection classes, and that policy's FERRY_CAT_* are
 * the same values as the format's.
 */
#include "testutil.h"

#include "ferry/backup.h"
#include "ferry/policy.h"

static void test_B3_path_categories(void **state)
{
    (void)state;
    static const struct {
        const char *domain, *path;
        unsigned cat;
    } cases[] = {
        {"KeychainDomain", "keychain-backup.plist", FERRY_BACKUP_CAT_PASSWORDS},
        {"HomeDomain", "Library/CallHistoryDB/CallHistory.storedata", FERRY_BACKUP_CAT_CALL_HISTORY},
        {"HomeDomain", "Library/CallHistoryDB", 0}, /* the folder rule needs the slash */
        {"HomeDomain", "Library/Safari/History.db", FERRY_BACKUP_CAT_WEBSITE_HISTORY},
        {"HomeDomain", "Library/Safari/History.db-wal", FERRY_BACKUP_CAT_WEBSITE_HISTORY},
        {"HomeDomain", "Library/Safari/SafariTabs.db", FERRY_BACKUP_CAT_WEBSITE_HISTORY},
        {"HomeDomain", "Library/Safari/Bookmarks.db", 0},
        {"HealthDomain", "Health/healthdb.sqlite", FERRY_BACKUP_CAT_HEALTH},
        {"SystemPreferencesDomain", "com.apple.wifi.known-networks.plist", FERRY_BACKUP_CAT_WIFI},
        {"SystemPreferencesDomain", "SystemConfiguration/com.apple.wifi.plist", FERRY_BACKUP_CAT_WIFI},
        {"CameraRollDomain", "Media/DCIM/100APPLE/IMG_0001.HEIC", FERRY_BACKUP_CAT_PHOTOS},
        {"CameraRollDomain", "Media/PhotoData/Photos.sqlite", FERRY_BACKUP_CAT_PHOTOS},
        {FERRY_BACKUP_CONFIG_DOMAIN, FERRY_BACKUP_CONFIG_DIR "/MDM.plist", 0},
        {"AppDomain-com.example", "Library/CallHistoryDB/x", 0},
        {"HomeDomain", "Library/SMS/sms.db", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(ferry_backup_path_category(cases[i].domain, cases[i].path), cases[i].cat);
    assert_int_equal(ferry_backup_path_category(NULL, "x"), 0);
    assert_int_equal(ferry_backup_path_category("HomeDomain", NULL), 0);
}

static void test_protection_classes(void **state)
{
    (void)state;
    assert_int_equal(ferry_backup_path_protection_class("KeychainDomain", "keychain-backup.plist"), 1);
    assert_int_equal(ferry_backup_path_protection_class("HealthDomain", "Health/x"), 2);
    assert_int_equal(ferry_backup_path_protection_class(FERRY_BACKUP_CONFIG_DOMAIN, "Library/x"), 4);
    assert_int_equal(ferry_backup_path_protection_class("HomeDomain", "Library/SMS/sms.db"), 3);
}

static void test_policy_categories_are_the_formats(void **state)
{
    (void)state;
    assert_int_equal(FERRY_CAT_PASSWORDS, FERRY_BACKUP_CAT_PASSWORDS);
    assert_int_equal(FERRY_CAT_CALL_HISTORY, FERRY_BACKUP_CAT_CALL_HISTORY);
    assert_int_equal(FERRY_CAT_HEALTH, FERRY_BACKUP_CAT_HEALTH);
    assert_int_equal(FERRY_CAT_WEBSITE_HISTORY, FERRY_BACKUP_CAT_WEBSITE_HISTORY);
    assert_int_equal(FERRY_CAT_WIFI, FERRY_BACKUP_CAT_WIFI);
    assert_int_equal(FERRY_CAT_PHOTOS, FERRY_BACKUP_CAT_PHOTOS);
    assert_string_equal(ferry_policy_category_name(ferry_backup_path_category("HealthDomain", "Health/a")),
                        "health");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_B3_path_categories),
        cmocka_unit_test(test_protection_classes),
        cmocka_unit_test(test_policy_categories_are_the_formats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
