/*
 * test_device_icloud.c: the simulated iCloud Backup of the emulated device (src/device/icloud.c):
 * the device starts it only when B4 and B5 let it and then writes nothing else than the store's
 * backup; every iCloud Backup is encrypted with the account's key (never the host backup password)
 * and records LastCloudBackupDate; a new backup replaces the previous one whole; a Managed Apple
 * Account backup of a User Enrollment (B11) restores only inside the enrollment flow (R5, U1), and an
 * erase-and-restore brings the device to what its plan says.
 */
#include "device_tu.h"

#include <sys/stat.h>
#include <unistd.h>

#include "ferry/backup.h"
#include "ferry/policy.h"

#define DATE 1790000000

static ferry_device_t *dev_with(const char *dir, const char *key, const char *value)
{
    ferry_device_t *d = dt_load(dir);
    if (key && ferry_device_set(d, key, value))
        fail_msg("set %s: %s", key, ferry_error_last());
    return d;
}

static ferry_icloud_backup_opts_t opts(ferry_backup_account_t a, int manual)
{
    ferry_icloud_backup_opts_t o;
    ferry_icloud_backup_opts_init(&o);
    o.account = a;
    o.manual = manual;
    o.kdf.dpic = 1000;
    o.kdf.iter = 10;
    o.date = DATE;
    return o;
}

static char *store_of(const dt_dev_t *d)
{
    char *s = NULL;
    assert_true(asprintf(&s, "%s/icloud", d->tmp) > 0);
    return s;
}

static int is_encrypted(const char *bdir)
{
    char *p = NULL;
    assert_true(asprintf(&p, "%s/Manifest.plist", bdir) > 0);
    ferry_manifest_plist_t m;
    assert_int_equal(ferry_manifest_plist_read(p, &m), 0);
    int enc = m.is_encrypted;
    ferry_manifest_plist_clear(&m);
    free(p);
    return enc;
}

static void test_icloud_restore_needs_find_my_off(void **state)
{
    (void)state;
    dt_dev_t d = dt_create("unmanaged-personal", 68);
    ferry_device_t *t = dev_with(d.dir, "IsDeviceLocatorServiceEnabled", "true");
    ferry_device_free(t);
    char *store = store_of(&d);
    ferry_icloud_restore_opts_t r;
    ferry_icloud_restore_opts_init(&r);
    r.account = "someone@icloud.example";
    r.source_udid = "0000";
    assert_int_equal(ferry_device_icloud_restore(d.dir, store, &r, NULL), FERRY_EDEVICE);
    free(store);
    dt_done(&d);
}

static void test_B4_refused_icloud_backup_writes_nothing(void **state)
{
    (void)state;
    dt_dev_t d = dt_create("unmanaged-personal", 61);
    ferry_device_t *dev = dev_with(d.dir, "ExternalConnected", "false");
    char *store = store_of(&d);
    ferry_icloud_backup_opts_t o = opts(FERRY_ACCOUNT_PERSONAL, 0);
    ferry_plan_t plan;
    memset(&plan, 0, sizeof plan);
    assert_int_equal(ferry_device_icloud_backup(dev, store, &o, NULL, &plan), FERRY_EINVAL);
    assert_non_null(strstr(ferry_error_last(), "[B4]"));
    assert_int_equal(plan.verdict, FERRY_VERDICT_REFUSED);
    ferry_plan_free(&plan);
    assert_int_equal(access(store, F_OK), -1); /* not even the account's key */
    /* the automatic backup also needs iCloud Backup on; Back Up Now does not */
    ferry_device_free(dev);
    dev = dev_with(d.dir, "ExternalConnected", "true");
    assert_int_equal(ferry_device_set(dev, "IsCloudBackupEnabled", "false"), 0);
    assert_int_equal(ferry_device_icloud_backup(dev, store, &o, NULL, NULL), FERRY_EINVAL);
    assert_int_equal(access(store, F_OK), -1);
    /* no Managed Apple Account signed in */
    ferry_icloud_backup_opts_t m = opts(FERRY_ACCOUNT_MANAGED, 1);
    assert_int_equal(ferry_device_icloud_backup(dev, store, &m, NULL, NULL), FERRY_EINVAL);
    ferry_device_free(dev);
    free(store);
    dt_done(&d);
}

static void test_B4_icloud_backup_is_encrypted_with_the_account_key_and_dated(void **state)
{
    (void)state;
    dt_dev_t d = dt_create("unmanaged-personal", 62);
    ferry_device_t *dev = dev_with(d.dir, "ExternalConnected", "true");
    /* a host backup password must not become the iCloud key */
    assert_int_equal(ferry_device_set_backup_password(dev, "host pw", 7), 0);
    char *store = store_of(&d), *path = NULL;
    ferry_icloud_backup_opts_t o = opts(FERRY_ACCOUNT_PERSONAL, 0);
    if (ferry_device_icloud_backup(dev, store, &o, &path, NULL))
        fail_msg("%s", ferry_error_last());
    assert_true(is_encrypted(path));
    assert_int_equal(dev->LastCloudBackupDate, DATE);
    ferry_device_t *again = dt_load(d.dir); /* saved */
    assert_int_equal(again->LastCloudBackupDate, DATE);
    ferry_device_free(again);
    char *key = NULL;
    assert_true(asprintf(&key, "%s/%s/key", store, dev->PersonalAppleAccount) > 0);
    struct stat st;
    assert_int_equal(stat(key, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    size_t len = 0;
    uint8_t *k = tu_read_file(key, &len);
    assert_int_equal(len, 64);
    ferry_credentials_t cred = {.password = (const char *)k, .password_len = len};
    ferry_backup_t *b = NULL;
    assert_int_equal(ferry_backup_open(path, &cred, &b), 0);
    ferry_backup_close(b);
    ferry_credentials_t host = {.password = "host pw", .password_len = 7};
    assert_int_equal(ferry_backup_open(path, &host, &b), FERRY_EPASSWORD);
    /* a second backup replaces the first whole: nothing beside it */
    o.manual = 1;
    assert_int_equal(ferry_device_icloud_backup(dev, store, &o, NULL, NULL), 0);
    char *side = NULL;
    assert_true(asprintf(&side, "%s.new", path) > 0);
    assert_int_equal(access(side, F_OK), -1);
    side[strlen(side) - 3] = 'o', side[strlen(side) - 2] = 'l', side[strlen(side) - 1] = 'd';
    assert_int_equal(access(side, F_OK), -1);
    free(side);
    free(k);
    free(key);
    free(path);
    free(store);
    ferry_device_free(dev);
    dt_done(&d);
}

static void test_B5_allow_cloud_backup_false_refuses_back_up_now(void **state)
{
    (void)state;
    dt_dev_t d = dt_create("ade-iphone", 63);
    ferry_device_t *dev = dt_load(d.dir);
    char *store = store_of(&d);
    ferry_icloud_backup_opts_t o = opts(FERRY_ACCOUNT_PERSONAL, 1);
    int64_t before = dev->LastCloudBackupDate;
    assert_int_equal(ferry_device_icloud_backup(dev, store, &o, NULL, NULL), FERRY_EINVAL);
    assert_non_null(strstr(ferry_error_last(), "[B5]"));
    assert_int_equal(dev->LastCloudBackupDate, before);
    free(store);
    ferry_device_free(dev);
    dt_done(&d);
}

static void test_R5_U1_managed_account_backup_restores_only_in_the_enrollment_flow(void **state)
{
    (void)state;
    dt_dev_t src = dt_create("ue-account-iphone", 64), dst = dt_create("ue-account-iphone", 65);
    ferry_device_t *dev = dt_load(src.dir);
    char *store = store_of(&src);
    ferry_icloud_backup_opts_t o = opts(FERRY_ACCOUNT_MANAGED, 1);
    ferry_plan_t bp;
    assert_int_equal(ferry_device_icloud_backup(dev, store, &o, NULL, &bp), 0);
    assert_true(bp.managed_apps_only); /* B11 */
    ferry_plan_free(&bp);
    ferry_device_t *t = dev_with(dst.dir, "ManagedAppleAccount", dev->ManagedAppleAccount);
    assert_int_equal(ferry_device_set(t, "IsDeviceLocatorServiceEnabled", "false"), 0);
    ferry_device_free(t);
    ferry_icloud_restore_opts_t r;
    ferry_icloud_restore_opts_init(&r);
    r.account = dev->ManagedAppleAccount;
    r.source_udid = dev->UniqueDeviceID;
    ferry_plan_t p;
    memset(&p, 0, sizeof p);
    assert_int_equal(ferry_device_icloud_restore(dst.dir, store, &r, &p), FERRY_EINVAL); /* R5 */
    assert_int_equal(p.verdict, FERRY_VERDICT_REFUSED);
    assert_string_equal(p.refusal.rules[0], "R5");
    ferry_plan_free(&p);
    r.enrollment_flow = 1;
    r.user_declines = 1;
    memset(&p, 0, sizeof p);
    assert_int_equal(ferry_device_icloud_restore(dst.dir, store, &r, &p), FERRY_EINVAL); /* U1 */
    ferry_plan_free(&p);
    r.user_declines = 0;
    memset(&p, 0, sizeof p);
    if (ferry_device_icloud_restore(dst.dir, store, &r, &p))
        fail_msg("%s", ferry_error_last());
    assert_int_equal(p.path, 'U');
    /* U2: com.acme.mail is installed on the target: its data is skipped, the app is untouched */
    const ferry_plan_item_t *mail = ferry_plan_find(&p, FERRY_ITEM_APP_DATA, "com.acme.mail");
    assert_non_null(mail);
    assert_int_equal(mail->d.outcome, FERRY_OUT_SKIPPED);
    ferry_plan_free(&p);
    t = dt_load(dst.dir);
    assert_int_equal(ferry_device_enrollment(t), FERRY_ENROLL_UE_ACCOUNT); /* not erased */
    ferry_device_free(t);
    free(store);
    ferry_device_free(dev);
    dt_done(&src);
    dt_done(&dst);
}

static void test_X1_icloud_erase_and_restore_leaves_skipped_categories_out(void **state)
{
    (void)state;
    dt_dev_t src = dt_create("unmanaged-personal", 66), dst = dt_create("unmanaged-personal", 67);
    ferry_device_t *dev = dev_with(src.dir, "ExternalConnected", "true");
    char *store = store_of(&src);
    ferry_icloud_backup_opts_t o = opts(FERRY_ACCOUNT_PERSONAL, 0);
    assert_int_equal(ferry_device_icloud_backup(dev, store, &o, NULL, NULL), 0);
    ferry_device_t *t = dev_with(dst.dir, "IsDeviceLocatorServiceEnabled", "false");
    ferry_device_free(t);
    ferry_icloud_restore_opts_t r;
    ferry_icloud_restore_opts_init(&r);
    r.account = dev->PersonalAppleAccount;
    r.source_udid = dev->UniqueDeviceID;
    r.skip_categories = FERRY_CAT_CALL_HISTORY;
    ferry_plan_t p;
    memset(&p, 0, sizeof p);
    if (ferry_device_icloud_restore(dst.dir, store, &r, &p))
        fail_msg("%s", ferry_error_last());
    assert_int_equal(p.path, 'D');
    const ferry_plan_item_t *ch = ferry_plan_find(&p, FERRY_ITEM_CATEGORY, "call-history");
    assert_int_equal(ch->d.outcome, FERRY_OUT_SKIPPED);
    ferry_plan_free(&p);
    char *f = NULL;
    assert_true(asprintf(&f, "%s/files/HomeDomain/Library/CallHistoryDB/CallHistory.storedata", dst.dir) > 0);
    assert_int_equal(access(f, F_OK), -1);
    free(f);
    assert_true(asprintf(&f, "%s/files/HomeDomain/Library/SMS/sms.db", dst.dir) > 0);
    char *g = NULL;
    assert_true(asprintf(&g, "%s/files/HomeDomain/Library/SMS/sms.db", src.dir) > 0);
    char a[65], b[65];
    tu_sha256_file(f, a);
    tu_sha256_file(g, b);
    assert_string_equal(a, b); /* the erased device holds the backup's messages */
    free(f);
    free(g);
    t = dt_load(dst.dir);
    assert_false(t->PasscodePresent); /* R1 */
    ferry_device_free(t);
    free(store);
    ferry_device_free(dev);
    dt_done(&src);
    dt_done(&dst);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_icloud_restore_needs_find_my_off),
        cmocka_unit_test(test_B4_refused_icloud_backup_writes_nothing),
        cmocka_unit_test(test_B4_icloud_backup_is_encrypted_with_the_account_key_and_dated),
        cmocka_unit_test(test_B5_allow_cloud_backup_false_refuses_back_up_now),
        cmocka_unit_test(test_R5_U1_managed_account_backup_restores_only_in_the_enrollment_flow),
        cmocka_unit_test(test_X1_icloud_erase_and_restore_leaves_skipped_categories_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
