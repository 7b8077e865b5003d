/*
 * restore_files.c: the device's side of a restore once the backup is readable, whatever carried it
 * (mobilebackup2 in mb2_restore.c, or the simulated iCloud store in icloud.c): the rules engine's
 * restore plan is asked first (a refused restore stops before anything is written), then the data
 * files are written into files/<domain>/<relativePath>, each through a temporary name, only when the
 * plan item that governs them (a data category or a managed app's data) says restored or
 * placeholder, and only within the restore's scope (RestoreSystemFiles, RestorePreserveSettings);
 * RemoveItemsNotRestored removes the device files of that scope the backup does not hold. Last,
 * restore_apply.c carries out the plan's other items on the device model. Invariants: every record
 * comes from the validating reader; the device is planned as an erased target except in the
 * enrollment flow (U1), where the restore goes into the device as it is and only managed app data
 * moves.
 */
#include "device_internal.h"
#include "ferry/backup.h"
#include "ferry/policy.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- applying ------------------------------------------------------------------------------------ */

static int is_app_domain(const char *domain)
{
    return !strncmp(domain, "AppDomain", 9);
}

static int is_settings(const char *domain, const char *relpath)
{
    return !strcmp(domain, "SystemPreferencesDomain") ||
           (!strcmp(domain, "HomeDomain") && !strncmp(relpath, "Library/Preferences/", 20));
}

/* The plan item that governs a file (a data category or a managed app's data) must say restored. */
static int plan_allows(const dev_restore_job_t *j, const char *domain, const char *relpath)
{
    if (!j->have_plan)
        return 1;
    const ferry_plan_item_t *it = NULL;
    unsigned cat = ferry_device_file_category(domain, relpath);
    if (cat)
        it = ferry_plan_find(&j->plan, FERRY_ITEM_CATEGORY, ferry_policy_category_name(cat));
    if (!it && !strncmp(domain, "AppDomain-", 10))
        it = ferry_plan_find(&j->plan, FERRY_ITEM_APP_DATA, domain + 10);
    return !it || it->d.outcome == FERRY_OUT_RESTORED || it->d.outcome == FERRY_OUT_PLACEHOLDER;
}

/* The part of the device a restore with these options replaces. */
static int in_scope(const dev_restore_job_t *j, const char *domain, const char *relpath)
{
    if (!j->system && !is_app_domain(domain))
        return 0;
    return !(j->preserve_settings && is_settings(domain, relpath));
}

static int wanted(const dev_restore_job_t *j, const char *domain, const char *relpath)
{
    return in_scope(j, domain, relpath) && plan_allows(j, domain, relpath);
}

/* Streams one record's plaintext to files/<domain>/<relpath> through a temporary name. */
static int apply_file(dev_restore_job_t *j, ferry_backup_t *b, const ferry_record_t *rec)
{
    char *rel = malloc(strlen(rec->domain) + strlen(rec->relative_path) + 16);
    if (!rel)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    sprintf(rel, "files/%s/%s", rec->domain, rec->relative_path);
    char *dst = ferry_path_join(j->dir, rel);
    free(rel);
    char *tmp = dst ? malloc(strlen(dst) + 16) : NULL;
    if (!tmp) {
        free(dst);
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    sprintf(tmp, "%s.ferry-tmp", dst);
    char *slash = strrchr(dst, '/');
    *slash = '\0';
    int rc = ferry_mkdir_p(dst, 0700);
    *slash = '/';
    ferry_file_reader_t *fr = NULL;
    int fd = -1;
    if (!rc)
        rc = ferry_backup_file_open(b, rec, 1, &fr);
    if (!rc && (fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
        rc = ferry_error_errno("restore: cannot create %s", tmp);
    uint8_t buf[65536];
    while (!rc) {
        ssize_t n = ferry_file_reader_read(fr, buf, sizeof buf);
        if (n < 0)
            rc = (int)n;
        else if (n == 0)
            break;
        else
            rc = ferry_write_full(fd, buf, (size_t)n, tmp);
    }
    if (fd >= 0 && close(fd) && !rc)
        rc = ferry_error_errno("restore: cannot close %s", tmp);
    if (!rc && rename(tmp, dst))
        rc = ferry_error_errno("restore: cannot rename %s", tmp);
    if (rc)
        unlink(tmp);
    else
        j->restored++;
    ferry_file_reader_close(fr);
    free(tmp);
    free(dst);
    return rc;
}

typedef struct {
    dev_restore_job_t *j;
    ferry_backup_t *b;
    char **doomed;
    size_t n, cap;
} sweep_t;

/* Device files in the restore's scope that the backup does not hold (also those of categories the
 * backup cannot hold: the restore replaces the device's data). */
static int sweep_one(const ferry_device_file_t *f, void *ctx)
{
    sweep_t *s = ctx;
    if (!in_scope(s->j, f->domain, f->relpath))
        return 0;
    ferry_record_t rec;
    memset(&rec, 0, sizeof rec);
    int rc = ferry_backup_lookup(s->b, f->domain, f->relpath, &rec);
    ferry_record_clear(&rec);
    if (rc != FERRY_ENOTFOUND)
        return 0;
    ferry_error_clear();
    if (s->n == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 32;
        char **nd = realloc(s->doomed, ncap * sizeof *nd);
        if (!nd)
            return ferry_error_set(FERRY_ENOMEM, "out of memory");
        s->doomed = nd;
        s->cap = ncap;
    }
    char *p = malloc(strlen(f->domain) + strlen(f->relpath) + 8);
    if (!p)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    sprintf(p, "files/%s/%s", f->domain, f->relpath);
    s->doomed[s->n++] = p;
    return 0;
}

static int remove_missing(dev_restore_job_t *j, ferry_backup_t *b)
{
    sweep_t s = {.j = j, .b = b};
    int rc = ferry_device_files_walk(j->model, sweep_one, &s);
    for (size_t i = 0; i < s.n; i++) {
        char *p = ferry_path_join(j->dir, s.doomed[i]);
        if (!rc && p && unlink(p) == 0)
            j->removed++;
        free(p);
        free(s.doomed[i]);
    }
    free(s.doomed);
    return rc;
}

#define KEYCHAIN_MAX (16u * 1024 * 1024)

static int is_keychain_export(const ferry_record_t *rec)
{
    return !strcmp(rec->domain, "KeychainDomain") && !strcmp(rec->relative_path, "keychain-backup.plist");
}

/* The keychain export is not a data file: the device imports it into its keychain (restore_keychain.c). */
static int read_keychain(dev_restore_job_t *j, ferry_backup_t *b, const ferry_record_t *rec)
{
    ferry_file_reader_t *fr = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = ferry_backup_file_open(b, rec, 1, &fr);
    while (!rc) {
        uint8_t *n = realloc(buf, len + 65536);
        if (!n) {
            rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
            break;
        }
        buf = n;
        ssize_t got = ferry_file_reader_read(fr, buf + len, 65536);
        if (got < 0)
            rc = (int)got;
        else if (got == 0)
            break;
        else if ((len += (size_t)got) > KEYCHAIN_MAX)
            rc = ferry_error_set(FERRY_ELIMIT, "restore: the keychain export is larger than 16 MiB");
    }
    ferry_file_reader_close(fr);
    plist_free(j->keychain);
    j->keychain = NULL;
    if (!rc)
        rc = ferry_plist_parse(buf, len, &j->keychain, "the backup's keychain export");
    if (buf)
        ferry_wipe(buf, len);
    free(buf);
    return rc;
}

int dev_restore_job_apply(dev_restore_job_t *j, ferry_backup_t *b)
{
    ferry_backup_iter_t *it = NULL;
    int rc = ferry_backup_iter_new(b, NULL, &it);
    const ferry_record_t *rec;
    int k;
    while (!rc && (k = ferry_backup_iter_next(it, &rec)) != 0)
        if (k > 0 && rec->flags == FERRY_FLAG_FILE && wanted(j, rec->domain, rec->relative_path))
            rc = is_keychain_export(rec) ? read_keychain(j, b, rec) : apply_file(j, b, rec);
    if (it)
        ferry_backup_iter_free(it);
    if (!rc && j->remove_missing)
        rc = remove_missing(j, b);
    /* B3: the keychain export replaces the keychain, ThisDeviceOnly items only on the same device */
    if (!rc && j->keychain)
        rc = dev_restore_keychain(j->model, j->keychain, j->have_plan && j->plan.path == 'S', &j->keychain_in,
                                  &j->keychain_out);
    /* then the plan's items on the model: profiles, enrollment, apps, books, categories, R1 */
    if (!rc && j->have_plan && j->have_facts)
        rc = j->plan.path == 'U' ? dev_restore_apply_enrollment_flow(j->model, &j->plan, &j->facts)
                                 : dev_restore_apply(j->model, &j->plan, &j->content, &j->facts);
    return rc;
}

/* The plaintext bytes of the regular files the restore would write. */
uint64_t dev_restore_job_size(dev_restore_job_t *j, ferry_backup_t *b)
{
    ferry_backup_iter_t *it = NULL;
    uint64_t total = 0;
    const ferry_record_t *rec;
    int k;
    if (ferry_backup_iter_new(b, NULL, &it))
        return 0;
    while ((k = ferry_backup_iter_next(it, &rec)) != 0)
        if (k > 0 && rec->flags == FERRY_FLAG_FILE && wanted(j, rec->domain, rec->relative_path) && rec->mb.size > 0)
            total += (uint64_t)rec->mb.size;
    ferry_backup_iter_free(it);
    return total;
}

/* Asks the rules engine (caller holds the device lock, blobs are staged). FERRY_EINVAL with the
 * refusal in why when the device refuses this restore. */
int dev_restore_job_plan(dev_restore_job_t *j, ferry_backup_t *b, char *why, size_t whylen)
{
    ferry_device_facts_t tf, erased;
    memset(&tf, 0, sizeof tf);
    int rc = ferry_backup_content_read(b, &j->content);
    if (!rc && !(rc = ferry_policy_backup_facts_from_content(&j->content, &j->facts)))
        j->have_facts = 1;
    if (!rc)
        rc = ferry_device_facts(j->model, 1, &tf);
    /* ferry restores onto an erased device; the server's answer comes at the check-in after the
     * restore (S2, S3 run by the check-in), so the restore itself plans with the server accepting.
     * Idevicebackup2 and Finder are the same host type (finder); ferry may send configurator. R4 is a
     * host check, not device behaviour (RULES.md): the host's preflight refuses a supervision
     * mismatch, so the device plans with force and never refuses on R4 itself. */
    if (j->target_as_is)
        erased = tf; /* U1: the enrollment flow restores into the device as it is */
    else
        dev_restore_target_erased(&tf, &erased);
    ferry_restore_options_t ro = j->ro;
    ro.mdm = FERRY_MDM_ACCEPT;
    ro.force = 1;
    if (!rc && !(rc = ferry_policy_restore_plan(&j->facts, &erased, &ro, &j->plan))) {
        j->have_plan = 1;
        if (j->plan.verdict == FERRY_VERDICT_REFUSED) {
            snprintf(why, whylen, "%s (%s)", j->plan.refusal.why,
                     j->plan.refusal.n_rules ? j->plan.refusal.rules[0] : "");
            rc = FERRY_EINVAL;
        }
    }
    ferry_device_facts_free(&tf);
    return rc;
}

void dev_restore_job_clear(dev_restore_job_t *j)
{
    if (j->have_plan)
        ferry_plan_free(&j->plan);
    if (j->have_facts)
        ferry_policy_backup_facts_free_content(&j->facts);
    ferry_backup_content_clear(&j->content);
    plist_free(j->keychain);
    j->keychain = NULL;
    j->have_plan = j->have_facts = 0;
}
