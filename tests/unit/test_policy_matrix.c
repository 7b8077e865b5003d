/*
 * test_policy_matrix.c: the whole outcome table of a host backup and its restore, for every
 * combination of enrollment type x encrypted x same/different device x MDM accept/reject x
 * hardware-bound ACME x assigned in Apple Business Manager x target OS 26.3/26.4 (6 x 2^6 = 384 cases).
 *
 * The expectations below are written out by hand from RULES.md, not computed by the code under test.
 * A row may leave a dimension open ("*" = -1) when RULES.md makes the outcome independent of it;
 * every case must match a row (the first that matches), and every row must be used.
 *
 * The device is the fixture of test_policy_fixture.h (backed up on 26.3). "Assigned in ABM" means
 * the target's serial has an ADE profile with do_not_use_profile_from_backup = true, so V1 is in
 * force on 26.x and V2 from 26.4. "ACME" makes the MDM identity and the hand-installed profile
 * hardware-bound ACME keys. The target is erased, supervised like the source, host type finder.
 */
#include "testutil.h"

#include <stdlib.h>

#include "test_policy_fixture.h"

#define M(e) (1u << FERRY_ENROLL_##e)
#define ACCT (M(UE_PROFILE) | M(UE_ACCOUNT) | M(DE_ACCOUNT))
#define DE_ADE (M(PROFILE_DE) | M(ADE))

#define CATS_ENC                                                                                       \
    " passwords=restored call-history=restored health=restored website-history=restored wifi=restored" \
    " photos=restored passcode=not-in-backup biometrics=not-in-backup"
#define CATS_PLAIN                                                                                     \
    " passwords=not-in-backup call-history=not-in-backup health=not-in-backup"                         \
    " website-history=not-in-backup wifi=not-in-backup photos=restored passcode=not-in-backup"         \
    " biometrics=not-in-backup"
#define BOOKS " book:handbook=restored book:123456789=not-in-backup"
/* managed apps on a profile-de / ade device whose enrollment is gone (E1, D3) */
#define APPS_UNENROLLED                                                                                \
    " data:keep=placeholder app:keep=reinstall-needed data:remove=dropped app:remove=dropped"          \
    " data:nobackup=not-in-backup app:nobackup=reinstall-needed"
/* managed apps of a ue-* / de-account enrollment: always go (R2c, U3) */
#define APPS_ACCT                                                                                      \
    " data:keep=dropped app:keep=dropped data:remove=dropped app:remove=dropped"                       \
    " data:nobackup=not-in-backup app:nobackup=dropped"

typedef struct {
    unsigned enroll; /* mask of M(...) */
    int enc, same, reject, acme, abm, minor;
    const char *expect;
} row_t;

static const row_t ROWS[] = {
    /* ---- none: nothing managed; V1/V2 still decide on an assigned target ---- */
    {M(NONE), 1, -1, -1, 0, 0, -1,
     "verdict=ok mc=skipped en=skipped manual=restored book:123456789=not-in-backup" CATS_ENC},
    {M(NONE), 0, -1, -1, 0, 0, -1,
     "verdict=ok mc=skipped en=skipped manual=restored book:123456789=not-in-backup" CATS_PLAIN},
    {M(NONE), 1, -1, -1, 1, 0, -1, /* R6 */
     "verdict=ok mc=skipped en=skipped manual=dropped book:123456789=not-in-backup" CATS_ENC},
    {M(NONE), 0, -1, -1, 1, 0, -1,
     "verdict=ok mc=skipped en=skipped manual=dropped book:123456789=not-in-backup" CATS_PLAIN},
    {M(NONE), 1, -1, -1, 0, 1, 3, /* V1 */
     "verdict=ok mc=re-enrolled en=re-enrolled manual=restored book:123456789=not-in-backup" CATS_ENC},
    {M(NONE), 0, -1, -1, 0, 1, 3,
     "verdict=ok mc=re-enrolled en=re-enrolled manual=restored book:123456789=not-in-backup" CATS_PLAIN},
    {M(NONE), 1, -1, -1, -1, 1, -1, /* R6, or V2 on 26.4 */
     "verdict=ok mc=re-enrolled en=re-enrolled manual=dropped book:123456789=not-in-backup" CATS_ENC},
    {M(NONE), 0, -1, -1, -1, 1, -1,
     "verdict=ok mc=re-enrolled en=re-enrolled manual=dropped book:123456789=not-in-backup" CATS_PLAIN},

    /* ---- V1 in force (assigned): the backed-up management is not used, on any device ---- */
    {DE_ADE, 1, -1, -1, 0, 1, 3,
     "verdict=ok mc=re-enrolled en=re-enrolled wifi=dropped manual=restored" APPS_UNENROLLED BOOKS CATS_ENC},
    {DE_ADE, 0, -1, -1, 0, 1, 3,
     "verdict=ok mc=re-enrolled en=re-enrolled wifi=dropped manual=restored" APPS_UNENROLLED BOOKS CATS_PLAIN},
    {DE_ADE, 1, -1, -1, -1, 1, -1, /* R6 or V2 */
     "verdict=ok mc=re-enrolled en=re-enrolled wifi=dropped manual=dropped" APPS_UNENROLLED BOOKS CATS_ENC},
    {DE_ADE, 0, -1, -1, -1, 1, -1,
     "verdict=ok mc=re-enrolled en=re-enrolled wifi=dropped manual=dropped" APPS_UNENROLLED BOOKS CATS_PLAIN},
    {ACCT, 1, -1, -1, 0, 1, 3,
     "verdict=ok mc=re-enrolled en=re-enrolled wifi=dropped manual=restored" APPS_ACCT BOOKS CATS_ENC},
    {ACCT, 0, -1, -1, 0, 1, 3,
     "verdict=ok mc=re-enrolled en=re-enrolled wifi=dropped manual=restored" APPS_ACCT BOOKS CATS_PLAIN},
    {ACCT, 1, -1, -1, -1, 1, -1,
     "verdict=ok mc=re-enrolled en=re-enrolled wifi=dropped manual=dropped" APPS_ACCT BOOKS CATS_ENC},
    {ACCT, 0, -1, -1, -1, 1, -1,
     "verdict=ok mc=re-enrolled en=re-enrolled wifi=dropped manual=dropped" APPS_ACCT BOOKS CATS_PLAIN},

    /* ---- ue-* / de-account, not assigned: the enrollment is never in a backup (B10), its
     *      profiles and apps go (E2, U3); same and different device alike ---- */
    {ACCT, 1, -1, -1, 0, 0, -1,
     "verdict=ok mc=skipped en=not-in-backup wifi=dropped manual=restored" APPS_ACCT BOOKS CATS_ENC},
    {ACCT, 0, -1, -1, 0, 0, -1,
     "verdict=ok mc=skipped en=not-in-backup wifi=dropped manual=restored" APPS_ACCT BOOKS CATS_PLAIN},
    {ACCT, 1, -1, -1, 1, 0, -1,
     "verdict=ok mc=skipped en=not-in-backup wifi=dropped manual=dropped" APPS_ACCT BOOKS CATS_ENC},
    {ACCT, 0, -1, -1, 1, 0, -1,
     "verdict=ok mc=skipped en=not-in-backup wifi=dropped manual=dropped" APPS_ACCT BOOKS CATS_PLAIN},

    /* ---- profile-de / ade to a different device, not assigned: D1, D3, D4, D5 ---- */
    {M(PROFILE_DE), 1, 0, -1, 0, 0, -1,
     "verdict=ok mc=skipped en=dropped wifi=dropped manual=restored" APPS_UNENROLLED BOOKS CATS_ENC},
    {M(PROFILE_DE), 1, 0, -1, 1, 0, -1,
     "verdict=ok mc=skipped en=dropped wifi=dropped manual=dropped" APPS_UNENROLLED BOOKS CATS_ENC},
    {M(PROFILE_DE), 0, 0, -1, 0, 0, -1,
     "verdict=ok mc=skipped en=not-in-backup wifi=dropped manual=restored" APPS_UNENROLLED BOOKS CATS_PLAIN},
    {M(PROFILE_DE), 0, 0, -1, 1, 0, -1,
     "verdict=ok mc=skipped en=not-in-backup wifi=dropped manual=dropped" APPS_UNENROLLED BOOKS CATS_PLAIN},
    {M(ADE), 1, 0, -1, 0, 0, -1,
     "verdict=ok mc=dropped en=dropped wifi=dropped manual=restored" APPS_UNENROLLED BOOKS CATS_ENC},
    {M(ADE), 1, 0, -1, 1, 0, -1,
     "verdict=ok mc=dropped en=dropped wifi=dropped manual=dropped" APPS_UNENROLLED BOOKS CATS_ENC},
    {M(ADE), 0, 0, -1, 0, 0, -1,
     "verdict=ok mc=dropped en=not-in-backup wifi=dropped manual=restored" APPS_UNENROLLED BOOKS CATS_PLAIN},
    {M(ADE), 0, 0, -1, 1, 0, -1,
     "verdict=ok mc=dropped en=not-in-backup wifi=dropped manual=dropped" APPS_UNENROLLED BOOKS CATS_PLAIN},

    /* ---- same device, unencrypted: S7 (no enrollment in the backup, E1) ---- */
    {M(PROFILE_DE), 0, 1, -1, 0, 0, -1,
     "verdict=ok mc=skipped en=not-in-backup wifi=dropped manual=restored" APPS_UNENROLLED BOOKS CATS_PLAIN},
    {M(PROFILE_DE), 0, 1, -1, 1, 0, -1,
     "verdict=ok mc=skipped en=not-in-backup wifi=dropped manual=dropped" APPS_UNENROLLED BOOKS CATS_PLAIN},
    {M(ADE), 0, 1, -1, 0, 0, -1,
     "verdict=ok mc=restored en=not-in-backup wifi=dropped manual=restored" APPS_UNENROLLED BOOKS CATS_PLAIN},
    {M(ADE), 0, 1, -1, 1, 0, -1,
     "verdict=ok mc=restored en=not-in-backup wifi=dropped manual=dropped" APPS_UNENROLLED BOOKS CATS_PLAIN},

    /* ---- same device, encrypted, hardware-bound identity: S4 (not registered: no ADE), R6 ---- */
    {M(PROFILE_DE), 1, 1, -1, 1, 0, -1,
     "verdict=ok mc=skipped en=dropped wifi=dropped manual=dropped" APPS_UNENROLLED BOOKS CATS_ENC},
    {M(ADE), 1, 1, -1, 1, 0, -1,
     "verdict=ok mc=restored en=dropped wifi=dropped manual=dropped" APPS_UNENROLLED BOOKS CATS_ENC},

    /* ---- same device, encrypted: S1, then the check-in (S2) decides (S3 on rejection) ---- */
    {M(PROFILE_DE), 1, 1, 0, 0, 0, -1,
     "verdict=ok mc=skipped en=restored wifi=restored manual=restored"
     " data:keep=placeholder app:keep=reinstall-needed data:remove=placeholder app:remove=reinstall-needed"
     " data:nobackup=not-in-backup app:nobackup=reinstall-needed" BOOKS CATS_ENC},
    {M(ADE), 1, 1, 0, 0, 0, -1,
     "verdict=ok mc=restored en=restored wifi=restored manual=restored"
     " data:keep=placeholder app:keep=reinstall-needed data:remove=placeholder app:remove=reinstall-needed"
     " data:nobackup=not-in-backup app:nobackup=reinstall-needed" BOOKS CATS_ENC},
    {M(PROFILE_DE), 1, 1, 1, 0, 0, -1,
     "verdict=ok mc=skipped en=removed-after-checkin wifi=removed-after-checkin manual=restored"
     " data:keep=placeholder app:keep=reinstall-needed data:remove=removed-after-checkin"
     " app:remove=removed-after-checkin data:nobackup=not-in-backup app:nobackup=reinstall-needed"
     BOOKS CATS_ENC},
    {M(ADE), 1, 1, 1, 0, 0, -1,
     "verdict=ok mc=restored en=removed-after-checkin wifi=removed-after-checkin manual=restored"
     " data:keep=placeholder app:keep=reinstall-needed data:remove=removed-after-checkin"
     " app:remove=removed-after-checkin data:nobackup=not-in-backup app:nobackup=reinstall-needed"
     BOOKS CATS_ENC},
};
#define N_ROWS (sizeof ROWS / sizeof *ROWS)

static int dim_ok(int want, int have)
{
    return want < 0 || want == have;
}

static const row_t *match(ferry_enrollment_t e, int enc, int same, int reject, int acme, int abm, int minor,
                          size_t *index)
{
    for (size_t i = 0; i < N_ROWS; i++) {
        const row_t *r = &ROWS[i];
        if ((r->enroll & (1u << e)) && dim_ok(r->enc, enc) && dim_ok(r->same, same) &&
            dim_ok(r->reject, reject) && dim_ok(r->acme, acme) && dim_ok(r->abm, abm) &&
            dim_ok(r->minor, minor)) {
            *index = i;
            return r;
        }
    }
    return NULL;
}

static const char *short_name(const char *name)
{
    return strncmp(name, "com.example.", 12) == 0 ? name + 12 : name;
}

/* The plan as "verdict=ok mc=restored en=... data:keep=placeholder ...". */
static void compact(const ferry_plan_t *p, char *out, size_t len)
{
    size_t at = (size_t)snprintf(out, len, "verdict=%s", ferry_policy_verdict_name(p->verdict));
    for (size_t i = 0; i < p->n_items && at < len; i++) {
        const ferry_plan_item_t *it = &p->items[i];
        const char *prefix = "", *name = short_name(it->name);
        switch (it->kind) {
        case FERRY_ITEM_MANAGEMENT_CONFIGURATION: name = "mc"; break;
        case FERRY_ITEM_MDM_ENROLLMENT: name = "en"; break;
        case FERRY_ITEM_APP_DATA: prefix = "data:"; break;
        case FERRY_ITEM_APP: prefix = "app:"; break;
        case FERRY_ITEM_BOOK: prefix = "book:"; break;
        default: break;
        }
        at += (size_t)snprintf(out + at, len - at, " %s%s=%s", prefix, name,
                               ferry_policy_outcome_name(it->d.outcome));
    }
}

static void run_case(ferry_enrollment_t e, int enc, int same, int reject, int acme, int abm, int minor,
                     char *out, size_t len)
{
    tp_device_t d;
    tp_device_init(&d, e);
    if (acme)
        tp_device_acme(&d);
    ferry_backup_options_t bo = {FERRY_BACKUP_HOST, enc, FERRY_ACCOUNT_NONE, 0};
    ferry_backup_facts_t bf;
    assert_int_equal(ferry_policy_backup_facts_derive(&d.dev, &bo, &bf), 0);
    ferry_device_facts_t t;
    tp_target_init(&t, same, (ferry_os_version_t){26, minor, 0});
    t.supervised = d.dev.supervised;
    if (abm)
        tp_target_assigned(&t, 1);
    ferry_restore_options_t ro;
    memset(&ro, 0, sizeof ro);
    ro.mdm = reject ? FERRY_MDM_REJECT_401 : FERRY_MDM_ACCEPT;
    ferry_plan_t p;
    assert_int_equal(ferry_policy_restore_plan(&bf, &t, &ro, &p), 0);
    compact(&p, out, len);
    ferry_plan_free(&p);
    ferry_policy_backup_facts_free_derived(&bf);
}

static void test_matrix_whole_outcome_tables(void **state)
{
    (void)state;
    int used[N_ROWS] = {0};
    int failures = 0, cases = 0;
    static const int minors[2] = {3, 4};
    for (int e = FERRY_ENROLL_NONE; e <= FERRY_ENROLL_DE_ACCOUNT; e++)
        for (int bits = 0; bits < 64; bits++) {
            int enc = bits & 1, same = (bits >> 1) & 1, reject = (bits >> 2) & 1;
            int acme = (bits >> 3) & 1, abm = (bits >> 4) & 1, minor = minors[(bits >> 5) & 1];
            char actual[2048];
            size_t idx = 0;
            cases++;
            run_case((ferry_enrollment_t)e, enc, same, reject, acme, abm, minor, actual, sizeof actual);
            const row_t *r = match((ferry_enrollment_t)e, enc, same, reject, acme, abm, minor, &idx);
            if (!r || strcmp(r->expect, actual) != 0) {
                failures++;
                printf("MISMATCH %s enc=%d same=%d reject=%d acme=%d abm=%d os=26.%d (row %d)\n"
                       "  expected: %s\n  actual:   %s\n",
                       ferry_policy_enrollment_name((ferry_enrollment_t)e), enc, same, reject, acme, abm,
                       minor, r ? (int)idx : -1, r ? r->expect : "(no row)", actual);
            }
            if (r)
                used[idx] = 1;
        }
    for (size_t i = 0; i < N_ROWS; i++)
        if (!used[i]) {
            printf("row %zu matches no case\n", i);
            failures++;
        }
    assert_int_equal(cases, 6 * 64);
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matrix_whole_outcome_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
