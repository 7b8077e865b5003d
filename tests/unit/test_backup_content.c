/*
 * test_backup_content.c: backup facts read from a backup itself (ferry_backup_content_read +
 * ferry_policy_backup_facts_from_content). For every device template a backup written by the device
 * (ferry_device_backup_write) gives the facts written out below (enrollment, management configuration,
 * MDM profile, managed apps and whether their data is in, books, categories) and agrees with the facts
 * the policy derives from the device and its plan; the reference fixtures (Finder-layout backups of an
 * unmanaged device) give "no management"; malformed management files are refused, wrong types ignored.
 */
#include "device_tu.h"

#include "ferry/backup.h"
#include "ferry/policy.h"

#define PW "pw"
#define UNENC_DIR "reference/unencrypted/00008030-000A1B2C3D4E5F60"
#define ENC_DIR "reference/encrypted_pw_test1234_dpic1000/00008101-00FEDCBA98765432"

enum { A = FERRY_CAT_PASSWORDS, C = FERRY_CAT_CALL_HISTORY, H = FERRY_CAT_HEALTH, W = FERRY_CAT_WEBSITE_HISTORY,
       F = FERRY_CAT_WIFI, P = FERRY_CAT_PHOTOS };

typedef struct {
    const char *tmpl;
    int encrypted;
    ferry_enrollment_t enrollment;
    int has_cc, has_mdm, supervised, multi_user, hw_bound;
    unsigned categories;
    const char *apps_in;   /* managed apps whose data is in the backup, space-separated, in order */
    const char *apps_out;  /* managed apps whose data is not */
    const char *book_in;   /* the enterprise book in the backup, or NULL */
} expect_t;

/* Written out from RULES.md and the templates (docs/device-format.md), not computed by the code. */
static const expect_t EXPECT[] = {
    {"ade-iphone", 1, FERRY_ENROLL_ADE, 1, 1, 1, 0, 0, A | C | H | W | F | P,
     "com.acme.expenses com.acme.mail com.acme.timesheet", "com.acme.vault com.acme.crm com.acme.notes",
     "com.acme.handbook"},
    {"ade-ipad-acme", 1, FERRY_ENROLL_ADE, 1, 1, 1, 0, 1, A | W | F | P, "com.acme.mail", "com.acme.crm",
     "com.acme.handbook"},
    {"shared-ipad", 1, FERRY_ENROLL_ADE, 1, 1, 1, 1, 0, F, "edu.springfield.reader", "edu.springfield.math", NULL},
    /* unencrypted: B10 leaves the MDM profile out, B3 the categories; the enrollment comes from
     * MDMAppManagement.plist */
    {"profile-de-ipad", 0, FERRY_ENROLL_PROFILE_DE, 0, 0, 0, 0, 0, P, "com.acme.mail", "com.acme.crm", NULL},
    {"ue-account-iphone", 1, FERRY_ENROLL_UE_ACCOUNT, 0, 0, 0, 0, 0, A | C | H | W | F, "com.acme.mail",
     "com.acme.crm", NULL},
    {"de-account-iphone", 1, FERRY_ENROLL_DE_ACCOUNT, 0, 0, 0, 0, 1, A | C | W | F | P, "com.acme.mail",
     "com.acme.crm", NULL},
    {"abe-employee-iphone", 1, FERRY_ENROLL_ADE, 1, 1, 1, 0, 0, A | C | H | W | F | P, "com.acme.mail",
     "com.acme.crm", NULL},
    {"vision-pro-ade", 1, FERRY_ENROLL_ADE, 1, 1, 1, 0, 0, A | W | F | P, "com.acme.training", "com.acme.viewer",
     NULL},
    {"unmanaged-personal", 0, FERRY_ENROLL_NONE, 0, 0, 0, 0, 0, 0, "", "", NULL},
};

typedef struct {
    dt_dev_t d;
    char *bdir;
    ferry_device_t *dev;
    ferry_backup_t *b;
    ferry_backup_content_t c;
    ferry_backup_facts_t f;
} built_t;

static void build(built_t *x, const char *tmpl, const ferry_backup_options_t *plan)
{
    ferry_device_create_opts_t co;
    ferry_device_create_opts_init(&co);
    co.template_name = tmpl;
    co.seed = 7;
    co.files = 6;
    co.size = 64 * 1024;
    x->d = dt_create_opts(&co);
    x->dev = dt_load(x->d.dir);
    assert_true(asprintf(&x->bdir, "%s/backup", x->d.tmp) > 0);
    ferry_device_backup_opts_t o;
    ferry_device_backup_opts_init(&o);
    o.plan = *plan;
    o.password = PW;
    o.password_len = strlen(PW);
    o.kdf.dpic = 10;
    o.kdf.iter = 10;
    int rc = ferry_device_backup_write(x->dev, &o, x->bdir, NULL);
    if (rc)
        fail_msg("backup of %s: %s", tmpl, ferry_error_last());
    ferry_credentials_t cred = {PW, strlen(PW), NULL, {0, 0}};
    assert_int_equal(ferry_backup_open(x->bdir, &cred, &x->b), 0);
    rc = ferry_backup_content_read(x->b, &x->c);
    if (rc)
        fail_msg("content of %s: %s", tmpl, ferry_error_last());
    assert_int_equal(ferry_policy_backup_facts_from_content(&x->c, &x->f), 0);
}

static void built_done(built_t *x)
{
    ferry_policy_backup_facts_free_content(&x->f);
    ferry_backup_content_clear(&x->c);
    ferry_backup_close(x->b);
    ferry_device_free(x->dev);
    free(x->bdir);
    dt_done(&x->d);
}

static const ferry_app_facts_t *find_app(const ferry_backup_facts_t *f, const char *id)
{
    for (size_t i = 0; i < f->n_apps; i++)
        if (!strcmp(f->apps[i].bundle_id, id))
            return &f->apps[i];
    return NULL;
}

static void check_apps(const ferry_backup_facts_t *f, const char *list, int in)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *id = strtok_r(buf, " ", &save); id; id = strtok_r(NULL, " ", &save)) {
        const ferry_app_facts_t *a = find_app(f, id);
        if (!a)
            fail_msg("app %s missing from the backup facts", id);
        assert_true(a->managed);
        assert_int_equal(a->installed, 0);
        if (a->in_backup != in)
            fail_msg("app %s: in_backup %d, expected %d", id, a->in_backup, in);
    }
}

/* The facts read from the backup equal the facts the policy derives from the device and its plan. */
static void check_agrees_with_derive(const built_t *x, const ferry_backup_options_t *plan)
{
    ferry_device_facts_t df;
    ferry_backup_facts_t d;
    assert_int_equal(ferry_device_facts(x->dev, 1, &df), 0);
    assert_int_equal(ferry_policy_backup_facts_derive(&df, plan, &d), 0);
    const ferry_backup_facts_t *f = &x->f;
    assert_true(ferry_policy_udid_equal(f->source_udid, d.source_udid));
    assert_true(ferry_policy_udid_equal(f->info_udid, d.info_udid));
    assert_int_equal(ferry_policy_os_compare(f->os, d.os), 0);
    assert_int_equal(f->encrypted, d.encrypted);
    assert_int_equal(f->method, d.method);
    assert_int_equal(f->account, d.account);
    assert_int_equal(f->managed_apps_only, d.managed_apps_only);
    assert_int_equal(f->source_enrollment, d.source_enrollment);
    assert_int_equal(f->source_supervised, d.source_supervised);
    assert_int_equal(f->source_multi_user, d.source_multi_user);
    assert_int_equal(f->has_management_config, d.has_management_config);
    assert_int_equal(f->has_mdm_profile, d.has_mdm_profile);
    assert_string_equal(f->mdm_identity_uuid, d.mdm_identity_uuid);
    assert_int_equal(f->mdm_identity_hardware_bound, d.mdm_identity_hardware_bound);
    if (f->categories != d.categories)
        fail_msg("categories read 0x%x, derived 0x%x", f->categories, d.categories);
    assert_int_equal(f->n_apps, d.n_apps);
    for (size_t i = 0; i < d.n_apps; i++) {
        const ferry_app_facts_t *a = find_app(f, d.apps[i].bundle_id);
        assert_non_null(a);
        assert_int_equal(a->management_flags, d.apps[i].management_flags);
        assert_int_equal(a->declarative, d.apps[i].declarative);
        assert_int_equal(a->include_in_backup, d.apps[i].include_in_backup);
        if (a->in_backup != d.apps[i].in_backup)
            fail_msg("app %s: in_backup read %d, derived %d", a->bundle_id, a->in_backup, d.apps[i].in_backup);
    }
    assert_int_equal(f->n_books, d.n_books);
    for (size_t i = 0; i < d.n_books; i++) {
        assert_string_equal(f->books[i].id, d.books[i].id);
        assert_int_equal(f->books[i].enterprise, d.books[i].enterprise);
        assert_int_equal(f->books[i].in_backup, d.books[i].in_backup);
    }
    ferry_policy_backup_facts_free_derived(&d);
    ferry_device_facts_free(&df);
}

static void run_template(const expect_t *e)
{
    ferry_backup_options_t plan = {FERRY_BACKUP_HOST, e->encrypted, FERRY_ACCOUNT_NONE, 0};
    built_t x;
    memset(&x, 0, sizeof x);
    build(&x, e->tmpl, &plan);
    const ferry_backup_facts_t *f = &x.f;
    assert_int_equal(f->encrypted, e->encrypted);
    assert_int_equal(f->method, FERRY_BACKUP_HOST);
    if (f->source_enrollment != e->enrollment)
        fail_msg("%s: enrollment %s", e->tmpl, ferry_policy_enrollment_name(f->source_enrollment));
    assert_int_equal(f->has_management_config, e->has_cc);
    assert_int_equal(f->has_mdm_profile, e->has_mdm);
    assert_int_equal(f->source_supervised, e->supervised);
    assert_int_equal(f->source_multi_user, e->multi_user);
    assert_int_equal(f->mdm_identity_hardware_bound, e->hw_bound);
    if (f->categories != e->categories)
        fail_msg("%s: categories 0x%x, expected 0x%x", e->tmpl, f->categories, e->categories);
    check_apps(f, e->apps_in, 1);
    check_apps(f, e->apps_out, 0);
    for (size_t i = 0; i < f->n_books; i++) {
        int want = e->book_in && !strcmp(f->books[i].id, e->book_in);
        assert_int_equal(f->books[i].in_backup, want);
    }
    assert_string_equal(f->source_udid, x.dev->UniqueDeviceID);
    check_agrees_with_derive(&x, &plan);
    built_done(&x);
}

static void test_templates_give_expected_facts(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof EXPECT / sizeof EXPECT[0]; i++)
        run_template(&EXPECT[i]);
}

/* B10: the MDM enrollment profile and MDM.plist are only in an encrypted backup. */
static void test_B10_unencrypted_backup_has_no_mdm_profile(void **state)
{
    (void)state;
    ferry_backup_options_t plan = {FERRY_BACKUP_HOST, 0, FERRY_ACCOUNT_NONE, 0};
    built_t x;
    memset(&x, 0, sizeof x);
    build(&x, "shared-ipad", &plan);
    assert_null(x.c.mdm);
    assert_non_null(x.c.cloud_configuration); /* B9: in every full backup */
    assert_int_equal(x.f.has_mdm_profile, 0);
    assert_int_equal(x.f.source_enrollment, FERRY_ENROLL_ADE);
    for (size_t i = 0; i < x.f.n_profiles; i++)
        for (size_t j = 0; j < x.f.profiles[i].n_payloads; j++)
            assert_string_not_equal(x.f.profiles[i].payloads[j].type, "com.apple.mdm");
    assert_int_equal(x.f.categories, 0); /* B3 all out; photos B14 */
    check_agrees_with_derive(&x, &plan);
    built_done(&x);
}

/* B11: a Managed Apple Account iCloud Backup of a User Enrollment holds only managed-app data. */
static void test_B11_managed_account_backup_is_marked(void **state)
{
    (void)state;
    ferry_backup_options_t plan = {FERRY_BACKUP_ICLOUD, 0, FERRY_ACCOUNT_MANAGED, 1};
    built_t x;
    memset(&x, 0, sizeof x);
    build(&x, "ue-account-iphone", &plan);
    assert_int_equal(x.f.method, FERRY_BACKUP_ICLOUD);
    assert_int_equal(x.f.account, FERRY_ACCOUNT_MANAGED);
    assert_int_equal(x.f.managed_apps_only, 1);
    assert_int_equal(x.f.encrypted, 1);
    assert_int_equal(x.f.n_profiles, 0);
    assert_int_equal(x.f.categories, 0);
    assert_string_equal(x.f.account_id, x.dev->ManagedAppleAccount);
    check_apps(&x.f, "com.acme.mail", 1);
    check_apps(&x.f, "com.acme.crm", 0);
    check_agrees_with_derive(&x, &plan);
    built_done(&x);
}

static void check_no_management(const char *rel, const char *pw)
{
    char *dir = tu_fixture(rel);
    if (!dir)
        return;
    char *tmp = tu_mkdtemp(), *copy = NULL;
    assert_true(asprintf(&copy, "%s/b", tmp) > 0);
    tu_copytree(dir, copy);
    ferry_credentials_t cred = {pw, pw ? strlen(pw) : 0, NULL, {0, 0}};
    ferry_backup_t *b = NULL;
    assert_int_equal(ferry_backup_open(copy, pw ? &cred : NULL, &b), 0);
    ferry_backup_content_t c;
    ferry_backup_facts_t f;
    assert_int_equal(ferry_backup_content_read(b, &c), 0);
    assert_int_equal(ferry_policy_backup_facts_from_content(&c, &f), 0);
    assert_int_equal(f.source_enrollment, FERRY_ENROLL_NONE);
    assert_int_equal(f.has_management_config, 0);
    assert_int_equal(f.has_mdm_profile, 0);
    assert_int_equal(f.n_profiles, 0);
    assert_int_equal(f.n_apps, 0);
    assert_int_equal(f.n_books, 0);
    assert_int_equal(f.method, FERRY_BACKUP_HOST);
    assert_int_equal(f.encrypted, pw != NULL);
    assert_true(f.source_udid[0] != 0);
    assert_non_null(strstr(rel, f.source_udid));
    assert_true(f.os.major > 0);
    assert_true(c.records > 0);
    ferry_policy_backup_facts_free_content(&f);
    ferry_backup_content_clear(&c);
    ferry_backup_close(b);
    tu_rmtree(tmp);
    free(tmp);
    free(copy);
    free(dir);
}

static void test_reference_fixtures_have_no_management(void **state)
{
    (void)state;
    TU_FIXTURE_OR_SKIP(root, "reference");
    free(root);
    check_no_management(UNENC_DIR, NULL);
    check_no_management(ENC_DIR, "test1234");
}

/* A hand-made backup: a management file that is not a dict is refused naming it; keys of the wrong
 * type are ignored; a book is in the backup when its file is. */
static void write_raw(const char *dir, const char *mgmt, size_t len, int with_book)
{
    ferry_writer_opts_t o;
    memset(&o, 0, sizeof o);
    ferry_device_ident_t id = {"00008030-000A1B2C3D4E5F61", "iPhone15,2", "17.5", "21F90", "X", "n", NULL, 1};
    o.ident = id;
    ferry_writer_t *w = NULL;
    assert_int_equal(ferry_writer_open(dir, &o, &w), 0);
    assert_int_equal(ferry_writer_add_file_mem(w, FERRY_BACKUP_CONFIG_DOMAIN,
                                               FERRY_BACKUP_CONFIG_DIR "/" FERRY_BACKUP_APP_MANAGEMENT_FILE, NULL,
                                               mgmt, len), 0);
    if (with_book)
        assert_int_equal(ferry_writer_add_file_mem(w, "BooksDomain", "Managed/com.x.book.pdf", NULL, "%PDF", 4), 0);
    assert_int_equal(ferry_writer_commit(w), 0);
    ferry_writer_free(w);
}

static void test_malformed_management_files(void **state)
{
    (void)state;
    char *tmp = tu_mkdtemp(), *d1 = NULL, *d2 = NULL;
    assert_true(asprintf(&d1, "%s/bad", tmp) > 0);
    assert_true(asprintf(&d2, "%s/types", tmp) > 0);
    write_raw(d1, "not a plist", 11, 0);
    ferry_backup_t *b = NULL;
    ferry_backup_content_t c;
    assert_int_equal(ferry_backup_open(d1, NULL, &b), 0);
    assert_int_equal(ferry_backup_content_read(b, &c), FERRY_EFORMAT);
    assert_non_null(strstr(ferry_error_last(), FERRY_BACKUP_APP_MANAGEMENT_FILE));
    ferry_backup_content_clear(&c);
    ferry_backup_close(b);

    static const char xml[] =
        "<?xml version=\"1.0\"?><plist version=\"1.0\"><dict>"
        "<key>EnrollmentType</key><integer>3</integer>"
        "<key>IsSupervised</key><string>yes</string>"
        "<key>ManagedApps</key><dict><key>com.x.a</key><dict><key>ManagementFlags</key><string>4</string></dict>"
        "<key>com.x.b</key><string>oops</string></dict>"
        "<key>Books</key><array><dict><key>PersistentID</key><string>com.x.book</string></dict>"
        "<string>not a book</string><dict><key>Title</key><string>no id</string></dict></array>"
        "</dict></plist>";
    write_raw(d2, xml, sizeof xml - 1, 1);
    assert_int_equal(ferry_backup_open(d2, NULL, &b), 0);
    assert_int_equal(ferry_backup_content_read(b, &c), 0);
    ferry_backup_facts_t f;
    assert_int_equal(ferry_policy_backup_facts_from_content(&c, &f), 0);
    assert_int_equal(f.source_enrollment, FERRY_ENROLL_NONE);
    assert_int_equal(f.source_supervised, 0);
    assert_int_equal(f.n_apps, 1);
    assert_string_equal(f.apps[0].bundle_id, "com.x.a");
    assert_int_equal(f.apps[0].management_flags, 0);
    assert_int_equal(f.apps[0].in_backup, 0);
    assert_int_equal(f.n_books, 1);
    assert_string_equal(f.books[0].id, "com.x.book");
    assert_int_equal(f.books[0].enterprise, 1);
    assert_int_equal(f.books[0].in_backup, 1);
    ferry_policy_backup_facts_free_content(&f);
    ferry_backup_content_clear(&c);
    ferry_backup_close(b);
    tu_rmtree(tmp);
    free(tmp);
    free(d1);
    free(d2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_templates_give_expected_facts),
        cmocka_unit_test(test_B10_unencrypted_backup_has_no_mdm_profile),
        cmocka_unit_test(test_B11_managed_account_backup_is_marked),
        cmocka_unit_test(test_reference_fixtures_have_no_management),
        cmocka_unit_test(test_malformed_management_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
