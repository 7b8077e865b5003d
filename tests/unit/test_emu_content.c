/*
 * test_emu_content.c: the emulated device decides file by file what a host backup holds from the
 * rules engine's backup plan (src/device/backup_content.c). Each test builds a device from a template
 * and checks the decision and the deciding rule for the files a B rule governs.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/policy.h"
#include "../../src/device/mb2_internal.h"

typedef struct {
    emu_content_t *c;
    unsigned cat;             /* check files of these categories ... */
    const char *domain;       /* ... or of this domain (prefix) ... */
    const char *relpath;      /* ... and, when set, this relative path */
    int want;                 /* expected decision */
    const char *rule;         /* expected rule when excluded */
    int seen;
} expect_t;

static int check_file(const ferry_device_file_t *f, void *ctx)
{
    expect_t *e = ctx;
    int match = e->cat ? (f->category & e->cat) != 0
                       : !strncmp(f->domain, e->domain, strlen(e->domain)) &&
                             (!e->relpath || !strcmp(f->relpath, e->relpath));
    if (!match)
        return 0;
    const char *rule = NULL;
    int got = emu_content_wants(e->c, f, &rule);
    if (got != e->want || (!got && e->rule && strcmp(rule, e->rule))) {
        fprintf(stderr, "%s/%s: %s by %s, expected %s by %s\n", f->domain, f->relpath,
                got ? "included" : "excluded", rule ? rule : "-", e->want ? "included" : "excluded",
                e->rule ? e->rule : "-");
        return -1;
    }
    e->seen++;
    return 0;
}

static ferry_device_t *make(const char *tmpl, char **dir)
{
    *dir = tu_mkdtemp();
    char *path = ferry_path_join(*dir, "dev");
    ferry_device_create_opts_t o;
    ferry_device_create_opts_init(&o);
    o.template_name = tmpl;
    o.files = 4;
    o.size = 16384;
    assert_int_equal(ferry_device_create(path, &o), 0);
    ferry_device_t *d = NULL;
    assert_int_equal(ferry_device_load(path, &d), 0);
    free(path);
    return d;
}

static void done(ferry_device_t *d, char *dir)
{
    ferry_device_free(d);
    tu_rmtree(dir);
    free(dir);
}

/* Runs the expectation; returns how many files it covered. */
static int expect(const ferry_device_t *d, int encrypted, expect_t e)
{
    char why[600];
    int prc = emu_content_plan(d, encrypted, &e.c, why, sizeof why);
    if (prc)
        fprintf(stderr, "plan: %s\n", ferry_error_last());
    assert_int_equal(prc, 0);
    assert_int_equal(ferry_device_files_walk(d, check_file, &e), 0);
    emu_content_free(e.c);
    return e.seen;
}

static void test_B3_unencrypted_backup_leaves_out_categories(void **state)
{
    (void)state;
    char *dir;
    ferry_device_t *d = make("unmanaged-personal", &dir);
    unsigned b3 = FERRY_CAT_B3_ALL;
    assert_true(expect(d, 0, (expect_t){.cat = b3, .want = 0, .rule = "B3"}) > 0);
    assert_true(expect(d, 1, (expect_t){.cat = b3, .want = 1}) > 0);
    done(d, dir);
}

static void test_B1_photos_only_when_icloud_photos_is_off(void **state)
{
    (void)state;
    char *dir;
    ferry_device_t *d = make("unmanaged-personal", &dir);
    assert_true(d->IsCloudPhotoLibraryEnabled);
    assert_true(expect(d, 1, (expect_t){.cat = FERRY_CAT_PHOTOS, .want = 0, .rule = "B1"}) > 0);
    assert_int_equal(ferry_device_set(d, "IsCloudPhotoLibraryEnabled", "false"), 0);
    assert_true(expect(d, 1, (expect_t){.cat = FERRY_CAT_PHOTOS, .want = 1}) > 0);
    done(d, dir);
}

static void test_B6_forced_encryption_refuses_unencrypted_backup(void **state)
{
    (void)state;
    char *dir;
    ferry_device_t *d = make("ade-iphone", &dir);
    emu_content_t *c = NULL;
    char why[600] = "";
    assert_int_equal(emu_content_plan(d, 0, &c, why, sizeof why), FERRY_EINVAL);
    assert_null(c);
    assert_non_null(strstr(why, "B6"));
    assert_int_equal(emu_content_plan(d, 1, &c, why, sizeof why), 0);
    emu_content_free(c);
    done(d, dir);
}

static void test_B8_prevent_backup_flag_leaves_app_data_out(void **state)
{
    (void)state;
    char *dir;
    ferry_device_t *d = make("ade-iphone", &dir);
    int flagged = 0, plain = 0;
    for (size_t i = 0; i < d->n_apps; i++) {
        const ferry_app_t *a = &d->apps[i];
        if (!a->IsManaged || a->DeclarationIdentifier)
            continue;
        char dom[300];
        snprintf(dom, sizeof dom, "AppDomain-%s", a->Identifier);
        if (a->ManagementFlags & 4)
            flagged += expect(d, 1, (expect_t){.domain = dom, .want = 0, .rule = "B8"});
        else
            plain += expect(d, 1, (expect_t){.domain = dom, .want = 1});
    }
    assert_true(flagged > 0);
    assert_true(plain > 0);
    done(d, dir);
}

static void test_B9_B10_management_configuration_and_enrollment_profile(void **state)
{
    (void)state;
    char *dir;
    ferry_device_t *d = make("profile-de-ipad", &dir);
    const char *dom = "SysSharedContainerDomain-systemgroup.com.apple.configurationprofiles";
    /* B10: the MDM payload only in encrypted backups of profile-de and ade devices */
    assert_int_equal(expect(d, 1, (expect_t){.domain = dom, .relpath = "Library/ConfigurationProfiles/MDM.plist",
                                             .want = 1}), 1);
    assert_int_equal(expect(d, 0, (expect_t){.domain = dom, .relpath = "Library/ConfigurationProfiles/MDM.plist",
                                             .want = 0, .rule = "B10"}), 1);
    done(d, dir);
    d = make("ade-iphone", &dir);
    assert_int_equal(expect(d, 1, (expect_t){.domain = dom, .relpath = "Library/ConfigurationProfiles/MDM.plist",
                                             .want = 1}), 1);
    /* B9: the management configuration is in every full backup */
    assert_int_equal(expect(d, 1, (expect_t){.domain = dom,
                                             .relpath = "Library/ConfigurationProfiles/CloudConfigurationDetails.plist",
                                             .want = 1}), 1);
    done(d, dir);
    /* B10 (ferry choice): never for ue-* and de-account enrollments, even encrypted */
    d = make("ue-account-iphone", &dir);
    assert_int_equal(expect(d, 1, (expect_t){.domain = dom, .relpath = "Library/ConfigurationProfiles/MDM.plist",
                                             .want = 0, .rule = "B10"}), 1);
    done(d, dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_B3_unencrypted_backup_leaves_out_categories),
        cmocka_unit_test(test_B1_photos_only_when_icloud_photos_is_off),
        cmocka_unit_test(test_B6_forced_encryption_refuses_unencrypted_backup),
        cmocka_unit_test(test_B8_prevent_backup_flag_leaves_app_data_out),
        cmocka_unit_test(test_B9_B10_management_configuration_and_enrollment_profile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
