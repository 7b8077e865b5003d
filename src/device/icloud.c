/*
 * icloud.c: iCloud Backup, simulated (RULES.md B4, B5, B11) and the restore from it (erase and
 * restore, or U1's restore inside the enrollment flow). The device decides, as for a host backup,
 * with the rules engine's backup plan: an account must be signed in, allowCloudBackup must not turn it
 * off (B5), the automatic backup runs only when the device is locked, on power and on Wi-Fi, "Back Up
 * Now" needs only Wi-Fi (B4); a Managed Apple Account's backup of a ue-* or de-account device holds only
 * managed app data and is marked so (B11). The "cloud" is a folder: STORE/<account>/<UDID>/ holds the
 * latest backup in the Finder layout, always encrypted with the account's key, which the store keeps in
 * STORE/<account>/key (0600, 32 random bytes as hex; the host backup password never applies). The
 * previous backup is replaced only once the new one is complete (written beside it, then renamed).
 * A restore reads the backup with that key, plans it (erased target; in the enrollment flow, the
 * device as it is) and writes it through restore_files.c; the S2 check-in is the caller's.
 */
#include "device_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KEY_BYTES 32

/* STORE/<account>: the account folder. Account names are Apple Account IDs: checked as one safe
 * path component. */
static int account_dir(const char *store, const char *account, char **out)
{
    if (!account || !*account || ferry_path_check_domain(account, strlen(account)))
        return ferry_error_set(FERRY_EINVAL, "iCloud store: '%s' cannot name an account folder",
                               account ? account : "");
    *out = ferry_path_join(store, account);
    return *out ? 0 : ferry_error_set(FERRY_ENOMEM, "out of memory");
}

/* The account's backup key as a password (hex), created at the account's first backup. */
static int account_key(const char *adir, int create, char pw[2 * KEY_BYTES + 1])
{
    char *kp = ferry_path_join(adir, "key");
    if (!kp)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = ferry_file_read_all(kp, 256, &data, &len);
    if (rc == 0) {
        uint8_t key[KEY_BYTES];
        if (len < 2 * KEY_BYTES || ferry_hex_decode((const char *)data, key, KEY_BYTES))
            rc = ferry_error_set(FERRY_EFORMAT, "iCloud store: %s is not a key (64 hex digits)", kp);
        else
            memcpy(pw, data, 2 * KEY_BYTES);
        ferry_wipe(key, sizeof key);
        ferry_wipe(data, len);
    } else if (create) {
        ferry_error_clear();
        uint8_t key[KEY_BYTES];
        rc = ferry_mkdir_p(adir, 0700);
        if (!rc)
            rc = ferry_random_bytes(key, sizeof key);
        if (!rc) {
            ferry_hex_encode(key, sizeof key, pw);
            rc = ferry_file_write_atomic(kp, pw, 2 * KEY_BYTES, 0600);
        }
        ferry_wipe(key, sizeof key);
    } else {
        rc = ferry_error_wrap(rc, "iCloud store: the account has no backup key");
    }
    pw[2 * KEY_BYTES] = '\0';
    free(data);
    free(kp);
    return rc;
}

static const char *account_id(const ferry_device_t *dev, ferry_backup_account_t a)
{
    return a == FERRY_ACCOUNT_MANAGED ? dev->ManagedAppleAccount : dev->PersonalAppleAccount;
}

void ferry_icloud_backup_opts_init(ferry_icloud_backup_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->account = FERRY_ACCOUNT_PERSONAL;
}

/* B4, B5: the rules engine's backup plan decides whether the device starts this backup at all, before
 * the store is touched. FERRY_EINVAL with the refusal and its rule; a refused plan goes to plan_out
 * (when not NULL). */
static int device_decides(ferry_device_t *dev, const ferry_backup_options_t *bo, ferry_plan_t *plan_out)
{
    ferry_device_facts_t f;
    ferry_plan_t p;
    int rc = ferry_device_facts(dev, 1, &f);
    if (rc)
        return rc;
    if ((rc = ferry_policy_backup_plan(&f, bo, &p)) == 0) {
        if (p.verdict == FERRY_VERDICT_REFUSED)
            rc = ferry_error_set(FERRY_EINVAL, "device %s does not start this iCloud Backup [%s]: %s", dev->dir,
                                 p.refusal.n_rules ? p.refusal.rules[0] : "", p.refusal.why);
        if (rc && plan_out)
            *plan_out = p;
        else
            ferry_plan_free(&p);
    }
    ferry_device_facts_free(&f);
    return rc;
}

/* Writes the backup beside the previous one and swaps it in. */
static int write_and_swap(ferry_device_t *dev, const ferry_device_backup_opts_t *bo, const char *adir,
                          char **path_out, ferry_plan_t *plan)
{
    char *final = ferry_path_join(adir, dev->UniqueDeviceID);
    char *tmp = final ? malloc(strlen(final) + 16) : NULL;
    char *old = final ? malloc(strlen(final) + 16) : NULL;
    int rc = tmp && old ? 0 : ferry_error_set(FERRY_ENOMEM, "out of memory");
    if (!rc) {
        sprintf(tmp, "%s.new", final);
        sprintf(old, "%s.old", final);
        dev_rmtree(tmp); /* a backup interrupted earlier */
        dev_rmtree(old);
        rc = ferry_device_backup_write(dev, bo, tmp, plan);
    }
    if (rc && tmp)
        dev_rmtree(tmp);
    if (!rc && rename(final, old) != 0 && errno != ENOENT)
        rc = ferry_error_errno("iCloud store: cannot move the previous backup %s aside", final);
    if (!rc && rename(tmp, final) != 0)
        rc = ferry_error_errno("iCloud store: cannot put the new backup in place at %s", final);
    if (!rc)
        dev_rmtree(old);
    if (!rc && path_out)
        *path_out = final, final = NULL;
    free(final);
    free(tmp);
    free(old);
    return rc;
}

int ferry_device_icloud_backup(ferry_device_t *dev, const char *store, const ferry_icloud_backup_opts_t *o,
                               char **path_out, ferry_plan_t *plan_out)
{
    if (!dev || !store || !o)
        return ferry_error_set(FERRY_EINVAL, "iCloud Backup: NULL argument");
    ferry_device_backup_opts_t bo;
    ferry_device_backup_opts_init(&bo);
    bo.plan.method = FERRY_BACKUP_ICLOUD;
    bo.plan.account = o->account;
    bo.plan.manual = o->manual;
    bo.plan.encrypted = 1; /* B4: always encrypted */
    bo.kdf = o->kdf;
    bo.date = o->date;
    /* the automatic backup is a setting of the device; Back Up Now is the user's explicit request */
    if (!o->manual && !dev->IsCloudBackupEnabled)
        return ferry_error_set(FERRY_EINVAL, "device %s does not start an automatic iCloud Backup [B4]: iCloud "
                               "Backup is off in its settings (IsCloudBackupEnabled)", dev->dir);
    char *adir = NULL;
    char pw[2 * KEY_BYTES + 1];
    int rc = device_decides(dev, &bo.plan, plan_out);
    if (!rc)
        rc = account_dir(store, account_id(dev, o->account), &adir);
    if (rc)
        return rc;
    if ((rc = account_key(adir, 1, pw)) == 0) {
        bo.password = pw;
        bo.password_len = strlen(pw);
        rc = write_and_swap(dev, &bo, adir, path_out, plan_out);
    }
    ferry_wipe(pw, sizeof pw);
    free(adir);
    if (!rc) { /* B4: the observable state */
        dev->LastCloudBackupDate = o->date ? o->date : (int64_t)time(NULL);
        rc = ferry_device_save(dev);
    }
    return rc;
}

/* ---- the restore ---------------------------------------------------------------------------------- */

void ferry_icloud_restore_opts_init(ferry_icloud_restore_opts_t *o)
{
    memset(o, 0, sizeof *o);
}

static int open_backup(const char *store, const ferry_icloud_restore_opts_t *o, ferry_backup_t **b)
{
    char *adir = NULL, *bdir = NULL;
    char pw[2 * KEY_BYTES + 1];
    int rc = account_dir(store, o->account, &adir);
    if (!rc && (!o->source_udid || ferry_path_check_domain(o->source_udid, strlen(o->source_udid))))
        rc = ferry_error_set(FERRY_EINVAL, "iCloud restore: name the backup's device (its UDID)");
    if (!rc && !(bdir = ferry_path_join(adir, o->source_udid)))
        rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
    if (!rc && access(bdir, F_OK) != 0)
        rc = ferry_error_set(FERRY_ENOTFOUND, "iCloud restore: the account %s has no backup of %s", o->account,
                             o->source_udid);
    if (!rc)
        rc = account_key(adir, 0, pw);
    if (!rc) {
        ferry_credentials_t cred = {.password = pw, .password_len = strlen(pw)};
        rc = ferry_backup_open(bdir, &cred, b);
    }
    ferry_wipe(pw, sizeof pw);
    free(adir);
    free(bdir);
    return rc;
}

int ferry_device_icloud_restore(const char *dir, const char *store, const ferry_icloud_restore_opts_t *o,
                                ferry_plan_t *plan_out)
{
    if (!dir || !store || !o)
        return ferry_error_set(FERRY_EINVAL, "iCloud restore: NULL argument");
    ferry_device_t *dev = NULL;
    ferry_backup_t *b = NULL;
    int rc = ferry_device_load(dir, &dev);
    if (!rc && dev->IsDeviceLocatorServiceEnabled)
        rc = ferry_error_set(FERRY_EDEVICE, "device %s: Find My must be turned off before a restore "
                             "(ferry device set DIR findmy false)", dir);
    if (!rc)
        rc = open_backup(store, o, &b);
    dev_restore_job_t j;
    memset(&j, 0, sizeof j);
    j.dir = dir;
    j.model = dev;
    j.ro.host = o->host;
    j.ro.skip_categories = o->skip_categories;
    j.ro.user_declines = o->user_declines;
    if (o->enrollment_flow) { /* U1: into the device as it is; nothing of it is erased */
        snprintf(j.ro.enrollment_account, sizeof j.ro.enrollment_account, "%s", o->account);
        j.target_as_is = 1;
    } else { /* erase and restore: everything of the restore's scope comes from the backup */
        j.system = 1;
        j.remove_missing = 1;
    }
    char why[FERRY_PLAN_WHY_MAX + 16];
    if (!rc && (rc = dev_restore_job_plan(&j, b, why, sizeof why)) == FERRY_EINVAL)
        rc = ferry_error_set(FERRY_EINVAL, "device %s refuses the restore: %s", dir, why);
    if (!rc && dev_restore_job_size(&j, b) > dev->TotalDataAvailable)
        rc = ferry_error_set(FERRY_ENOSPC, "device %s: not enough space for this restore", dir);
    if (!rc)
        rc = dev_restore_job_apply(&j, b);
    if (plan_out && j.have_plan) {
        *plan_out = j.plan;
        j.have_plan = 0;
    }
    dev_restore_job_clear(&j);
    ferry_backup_close(b);
    ferry_device_free(dev);
    return rc;
}
