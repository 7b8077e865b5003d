/*
 * test_backup_review.c: ferry_backup_review and its grouping (RULES.md X1): the data categories
 * come from the one category table, an unencrypted backup's keychain export counts as certificates
 * (B3: no saved passwords), app containers are one item per app, and a real backup written by the
 * emulated device lists exactly what its backup plan included (B8: an app whose data is kept out of
 * the backup is not listed).
 */
#include "device_tu.h"

#include "ferry/backup.h"
#include "ferry/policy.h"

static void test_X1_review_group_of_paths(void **state)
{
    (void)state;
    assert_int_equal(ferry_backup_review_group("KeychainDomain", "keychain-backup.plist", 1), FERRY_REVIEW_PASSWORDS);
    assert_int_equal(ferry_backup_review_group("KeychainDomain", "keychain-backup.plist", 0), FERRY_REVIEW_CERTIFICATES);
    assert_int_equal(ferry_backup_review_group("HomeDomain", "Library/Safari/History.db", 1),
                     FERRY_REVIEW_WEBSITE_HISTORY);
    assert_int_equal(ferry_backup_review_group("CameraRollDomain", "Media/DCIM/100APPLE/IMG_0001.HEIC", 0),
                     FERRY_REVIEW_PHOTOS);
    assert_int_equal(ferry_backup_review_group("HomeDomain", "Library/SMS/sms.db", 0), FERRY_REVIEW_MESSAGES);
    assert_int_equal(ferry_backup_review_group("HomeDomain", "Library/Accounts/Accounts3.sqlite", 0),
                     FERRY_REVIEW_ACCOUNTS);
    assert_int_equal(ferry_backup_review_group("HomeDomain", "Library/AddressBook/AddressBook.sqlitedb", 0),
                     FERRY_REVIEW_CONTACTS);
    assert_int_equal(ferry_backup_review_group("AppDomain-com.example.a", "Documents/x", 0), FERRY_REVIEW_APP_DATA);
    assert_int_equal(ferry_backup_review_group("AppDomainGroup-group.example", "x", 0), FERRY_REVIEW_APP_DATA);
    assert_int_equal(ferry_backup_review_group("AppDomain-", "x", 0), FERRY_REVIEW_NONE);
    assert_int_equal(ferry_backup_review_group("HomeDomain", "Library/Preferences/a.plist", 1), FERRY_REVIEW_NONE);
    assert_int_equal(ferry_backup_review_group(NULL, "x", 1), FERRY_REVIEW_NONE);
    /* the categories are the ones a restore can leave out, with the policy's names */
    for (unsigned g = 0; g < FERRY_REVIEW_GROUPS; g++) {
        unsigned cat = ferry_backup_review_group_category((ferry_review_group_t)g);
        if (g <= FERRY_REVIEW_PHOTOS)
            assert_string_equal(ferry_policy_category_name(cat), ferry_backup_review_group_name((ferry_review_group_t)g));
        else
            assert_int_equal(cat, 0);
    }
    assert_string_equal(ferry_backup_review_group_name(FERRY_REVIEW_APP_DATA), "app-data");
    assert_string_equal(ferry_backup_review_group_name(FERRY_REVIEW_NONE), "none");
}

/* A backup of a template device, written by the device module, reviewed. */
static void review_of(const char *tmpl, int encrypted, ferry_review_t *r, char **tmp_out)
{
    dt_dev_t d = dt_create(tmpl, 7);
    ferry_device_t *dev = dt_load(d.dir);
    ferry_device_backup_opts_t o;
    ferry_device_backup_opts_init(&o);
    o.plan.encrypted = encrypted;
    o.password = "review pw";
    o.password_len = strlen(o.password);
    o.kdf.dpic = 1000;
    o.kdf.iter = 10;
    char *out = NULL;
    assert_true(asprintf(&out, "%s/backup", d.tmp) > 0);
    if (ferry_device_backup_write(dev, &o, out, NULL))
        fail_msg("backup of %s: %s", tmpl, ferry_error_last());
    ferry_credentials_t cred = {.password = o.password, .password_len = o.password_len};
    ferry_backup_t *b = NULL;
    if (ferry_backup_open(out, &cred, &b))
        fail_msg("open: %s", ferry_error_last());
    assert_int_equal(ferry_backup_review(b, r), 0);
    ferry_backup_close(b);
    ferry_device_free(dev);
    free(out);
    free(d.dir);
    *tmp_out = d.tmp;
}

static const ferry_review_item_t *find_item(const ferry_review_t *r, ferry_review_group_t g, const char *domain)
{
    for (size_t i = 0; i < r->groups[g].n; i++)
        if (!strcmp(r->groups[g].items[i].domain, domain))
            return &r->groups[g].items[i];
    return NULL;
}

static void test_X1_review_encrypted_backup_by_category_and_item(void **state)
{
    (void)state;
    ferry_review_t r;
    char *tmp;
    review_of("ade-iphone", 1, &r, &tmp);
    assert_true(r.encrypted);
    assert_int_equal(r.groups[FERRY_REVIEW_PASSWORDS].n, 1);
    assert_string_equal(r.groups[FERRY_REVIEW_PASSWORDS].items[0].relative_path, "keychain-backup.plist");
    assert_int_equal(r.groups[FERRY_REVIEW_CERTIFICATES].n, 0);
    for (unsigned g = FERRY_REVIEW_CALL_HISTORY; g <= FERRY_REVIEW_PHOTOS; g++)
        assert_true(r.groups[g].n > 0);
    /* B8: ManagementFlags 4 keeps com.acme.vault's data out, so the review does not list it */
    const ferry_review_item_t *exp = find_item(&r, FERRY_REVIEW_APP_DATA, "com.acme.expenses");
    assert_non_null(exp);
    assert_null(exp->relative_path);
    assert_true(exp->files >= 1 && exp->bytes > 0);
    assert_null(find_item(&r, FERRY_REVIEW_APP_DATA, "com.acme.vault"));
    /* apps in bundle-ID order, group totals are the sums of their items */
    uint64_t files = 0, bytes = 0;
    for (size_t i = 0; i < r.groups[FERRY_REVIEW_APP_DATA].n; i++) {
        if (i)
            assert_true(strcmp(r.groups[FERRY_REVIEW_APP_DATA].items[i - 1].domain,
                               r.groups[FERRY_REVIEW_APP_DATA].items[i].domain) < 0);
        files += r.groups[FERRY_REVIEW_APP_DATA].items[i].files;
        bytes += r.groups[FERRY_REVIEW_APP_DATA].items[i].bytes;
    }
    assert_int_equal(files, r.groups[FERRY_REVIEW_APP_DATA].files);
    assert_int_equal(bytes, r.groups[FERRY_REVIEW_APP_DATA].bytes);
    ferry_review_clear(&r);
    ferry_review_clear(&r); /* clearing twice is harmless */
    tu_rmtree(tmp);
    free(tmp);
}

static void test_X1_review_unencrypted_backup_has_no_passwords(void **state)
{
    (void)state;
    ferry_review_t r;
    char *tmp;
    review_of("profile-de-ipad", 0, &r, &tmp);
    assert_false(r.encrypted);
    for (unsigned g = FERRY_REVIEW_PASSWORDS; g <= FERRY_REVIEW_WIFI; g++)
        assert_int_equal(r.groups[g].n, 0); /* B3 */
    /* the keychain export of an unencrypted backup holds certificates only: never listed as passwords */
    assert_true(r.groups[FERRY_REVIEW_CERTIFICATES].n <= 1);
    assert_true(r.groups[FERRY_REVIEW_APP_DATA].n > 0);
    ferry_review_clear(&r);
    tu_rmtree(tmp);
    free(tmp);
}

static void test_X1_review_refuses_null(void **state)
{
    (void)state;
    ferry_review_t r;
    assert_int_equal(ferry_backup_review(NULL, &r), FERRY_EINVAL);
}

static void test_X1_category_list_parse(void **state)
{
    (void)state;
    unsigned bits = 0;
    assert_int_equal(ferry_policy_category_list_parse("passwords,wifi", &bits), 0);
    assert_int_equal(bits, FERRY_CAT_PASSWORDS | FERRY_CAT_WIFI);
    assert_int_equal(ferry_policy_category_list_parse("photos", &bits), 0);
    assert_int_equal(bits, FERRY_CAT_PHOTOS);
    assert_int_equal(ferry_policy_category_list_parse("passwords,,wifi", &bits), FERRY_EINVAL);
    assert_int_equal(ferry_policy_category_list_parse("passwords,", &bits), FERRY_EINVAL);
    assert_int_equal(ferry_policy_category_list_parse("", &bits), FERRY_EINVAL);
    assert_int_equal(ferry_policy_category_list_parse("app-data", &bits), FERRY_EINVAL);
    assert_int_equal(ferry_policy_category_list_parse(NULL, &bits), FERRY_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_X1_review_group_of_paths),
        cmocka_unit_test(test_X1_review_encrypted_backup_by_category_and_item),
        cmocka_unit_test(test_X1_review_unencrypted_backup_has_no_passwords),
        cmocka_unit_test(test_X1_review_refuses_null),
        cmocka_unit_test(test_X1_category_list_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
