/*
 * backup_build.c: the backup a device makes of itself, written with the backup writer without any
 * protocol: the content the emulated device serves over mobilebackup2, and `ferry device backup`.
 * The rules engine decides (ferry_policy_backup_plan over ferry_device_facts); this file only follows
 * the plan, mapping each file of files/ to the plan item it belongs to. Invariants: a file goes in
 * exactly when its item is `included` (files that belong to no item are in every full backup and in
 * no B11 backup); a refused plan writes nothing; the device's backup password, when set, decides the
 * encryption key; the keychain export is generated here, never copied from files/.
 */
#include "device_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define APP_PREFIX "AppDomain-"
#define GROUP_PREFIX "AppDomainGroup-"
#define KEYCHAIN_DOMAIN "KeychainDomain"
#define KEYCHAIN_FILE "keychain-backup.plist"

typedef struct {
    const ferry_device_t *dev;
    const ferry_plan_t *plan;
    const ferry_keybag_t *kb;  /* the kept keybag: content-derived file keys (file_keys.c), or NULL */
    const dev_backup_hook_t *hook; /* incremental: blobs the receiver holds (unencrypted only), or NULL */
    ferry_writer_t *w;
    char domain[512];          /* the domain of the directory stack */
    char **dirs;               /* directory records written for the current domain, ancestors only */
    size_t n_dirs, cap_dirs;
    uint64_t files, skipped;
} build_t;

void ferry_device_backup_opts_init(ferry_device_backup_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->plan.method = FERRY_BACKUP_HOST;
}

static int included(const ferry_plan_t *p, ferry_item_kind_t kind, const char *name)
{
    const ferry_plan_item_t *it = ferry_plan_find(p, kind, name);
    return it && it->d.outcome == FERRY_OUT_INCLUDED;
}

/* ---- which plan item a file belongs to ----------------------------------------------------------- */

static int app_included(const build_t *b, const char *bundle_id)
{
    const ferry_app_t *a = ferry_device_find_app(b->dev, bundle_id);
    if (a && a->IsManaged)
        return included(b->plan, FERRY_ITEM_APP_DATA, bundle_id);
    return !b->plan->managed_apps_only; /* unmanaged (or unknown) app: B1 full backups only */
}

static int group_included(const build_t *b, const char *group)
{
    int owned = 0;
    for (size_t i = 0; i < b->dev->n_apps; i++) {
        const ferry_app_t *a = &b->dev->apps[i];
        for (size_t g = 0; g < a->n_app_groups; g++) {
            if (strcmp(a->AppGroups[g], group))
                continue;
            owned = 1;
            if (app_included(b, a->Identifier))
                return 1;
        }
    }
    return !owned && !b->plan->managed_apps_only;
}

static int book_included(const build_t *b, const char *rel)
{
    if (!strncmp(rel, "Purchases/", 10))
        return 0; /* B2: store books are downloaded again */
    for (size_t i = 0; i < b->dev->n_books; i++) {
        const ferry_book_t *bk = &b->dev->books[i];
        if (!bk->PersistentID)
            continue;
        size_t n = strlen(bk->PersistentID);
        if (!strncmp(rel, "Managed/", 8) && !strncmp(rel + 8, bk->PersistentID, n) && rel[8 + n] == '.')
            return included(b->plan, FERRY_ITEM_BOOK, bk->PersistentID);
    }
    return !b->plan->managed_apps_only;
}

static int stub_included(const build_t *b, const char *name)
{
    const ferry_installed_profile_t *enr = ferry_device_enrollment_profile(b->dev);
    for (size_t i = 0; i < b->dev->n_profiles; i++) {
        const ferry_installed_profile_t *ip = &b->dev->profiles[i];
        char *s = dev_profile_stub_name(ip->profile->PayloadIdentifier);
        int same = s && !strcmp(s, name);
        free(s);
        if (!same)
            continue;
        if (ip == enr)
            return included(b->plan, FERRY_ITEM_MDM_ENROLLMENT, "mdm-enrollment");
        return included(b->plan, FERRY_ITEM_PROFILE, ip->profile->PayloadIdentifier);
    }
    return 0; /* a stale stub of no installed profile */
}

static int config_included(const build_t *b, const char *rel)
{
    static const char dir[] = DEV_CONFIG_DIR "/";
    const char *name = strncmp(rel, dir, sizeof dir - 1) ? NULL : rel + sizeof dir - 1;
    if (name && !strcmp(name, "CloudConfigurationDetails.plist"))
        return included(b->plan, FERRY_ITEM_MANAGEMENT_CONFIGURATION, "management-configuration");
    if (name && !strcmp(name, "MDM.plist"))
        return included(b->plan, FERRY_ITEM_MDM_ENROLLMENT, "mdm-enrollment");
    if (name && !strcmp(name, FERRY_BACKUP_APP_MANAGEMENT_FILE))
        return 1; /* describes the managed apps whose data any backup may hold (B11 included) */
    if (name && !strncmp(name, "profile-", 8) && !strchr(name, '/'))
        return stub_included(b, name);
    return !b->plan->managed_apps_only;
}

static int file_included(const build_t *b, const ferry_device_file_t *f)
{
    if (!strcmp(f->domain, KEYCHAIN_DOMAIN) && !strcmp(f->relpath, KEYCHAIN_FILE))
        return 0; /* generated from keychain.plist, never copied */
    if (f->category)
        return included(b->plan, FERRY_ITEM_CATEGORY, ferry_policy_category_name(f->category));
    if (!strncmp(f->domain, APP_PREFIX, sizeof APP_PREFIX - 1))
        return app_included(b, f->domain + sizeof APP_PREFIX - 1);
    if (!strncmp(f->domain, GROUP_PREFIX, sizeof GROUP_PREFIX - 1))
        return group_included(b, f->domain + sizeof GROUP_PREFIX - 1);
    if (!strcmp(f->domain, "BooksDomain"))
        return book_included(b, f->relpath);
    if (!strcmp(f->domain, DEV_CONFIG_DOMAIN))
        return config_included(b, f->relpath);
    return !b->plan->managed_apps_only;
}

/* ---- writing ------------------------------------------------------------------------------------ */

static void dirs_clear(build_t *b)
{
    for (size_t i = 0; i < b->n_dirs; i++)
        free(b->dirs[i]);
    b->n_dirs = 0;
}

/* "a/b" is an ancestor directory of rel "a/b/c" ("" of everything). */
static int is_ancestor(const char *dir, const char *rel)
{
    size_t n = strlen(dir);
    return n == 0 || (!strncmp(rel, dir, n) && rel[n] == '/');
}

static int add_dir(build_t *b, const char *domain, const char *rel)
{
    ferry_file_meta_t m = {0};
    m.mtime = m.ctime = m.birth = DEV_BASE_TIME;
    int rc = ferry_writer_add_dir(b->w, domain, rel, &m);
    if (rc == FERRY_EEXIST && !*rel)
        rc = 0; /* KeychainDomain: its root came with the generated keychain export */
    if (rc)
        return rc;
    if (b->n_dirs == b->cap_dirs) {
        size_t cap = b->cap_dirs ? b->cap_dirs * 2 : 16;
        char **d = realloc(b->dirs, cap * sizeof *d);
        if (!d)
            return ferry_error_set(FERRY_ENOMEM, "out of memory");
        b->dirs = d;
        b->cap_dirs = cap;
    }
    if (!(b->dirs[b->n_dirs] = strdup(rel)))
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    b->n_dirs++;
    return 0;
}

/* Writes the directory records from the domain root down to rel's parent that are not written yet.
 * The walk is depth-first in byte order, so the written directories form a stack of ancestors. */
static int ensure_dirs(build_t *b, const char *domain, const char *rel)
{
    if (strcmp(b->domain, domain)) {
        dirs_clear(b);
        snprintf(b->domain, sizeof b->domain, "%s", domain);
    }
    while (b->n_dirs && !is_ancestor(b->dirs[b->n_dirs - 1], rel))
        free(b->dirs[--b->n_dirs]);
    if (b->n_dirs == 0) {
        int rc = add_dir(b, domain, "");
        if (rc)
            return rc;
    }
    for (const char *s = strchr(rel, '/'); s; s = strchr(s + 1, '/')) {
        char *parent = strndup(rel, (size_t)(s - rel));
        if (!parent)
            return ferry_error_set(FERRY_ENOMEM, "out of memory");
        int have = 0;
        for (size_t i = 0; i < b->n_dirs && !have; i++)
            have = !strcmp(b->dirs[i], parent);
        int rc = have ? 0 : add_dir(b, domain, parent);
        free(parent);
        if (rc)
            return rc;
    }
    return 0;
}

static int on_file(const ferry_device_file_t *f, void *ctx)
{
    build_t *b = ctx;
    if (!file_included(b, f)) {
        b->skipped++;
        return 0;
    }
    char *path = NULL;
    if (asprintf(&path, "%s/files/%s/%s", b->dev->dir, f->domain, f->relpath) < 0)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    struct stat st;
    int have = stat(path, &st) == 0;
    ferry_file_meta_t m = {0};
    m.protection_class = f->protection_class;
    m.mtime = m.ctime = m.birth = have ? (int64_t)st.st_mtime : DEV_BASE_TIME;
    uint8_t key[FERRY_KEY_LEN];
    int rc = ensure_dirs(b, f->domain, f->relpath);
    int known = 0;
    if (!rc && have && b->hook && !b->plan->encrypted && S_ISREG(st.st_mode))
        rc = (known = b->hook->known(b->hook->ctx, f->domain, f->relpath, &st)) < 0 ? known : 0;
    if (!rc && known)
        rc = ferry_writer_add_file_known(b->w, f->domain, f->relpath, &m, (int64_t)st.st_size);
    else if (!rc && b->kb && !(rc = dev_file_key_path(b->kb, m.protection_class, f->domain, f->relpath, path, key)))
        m.file_key = key;
    if (!rc && !known && b->hook && b->hook->private_staging && !b->plan->encrypted)
        rc = ferry_writer_add_file_link(b->w, f->domain, f->relpath, &m, path);
    else if (!rc && !known)
        rc = ferry_writer_add_file_path(b->w, f->domain, f->relpath, &m, path);
    if (!rc && have && b->hook)
        rc = b->hook->added(b->hook->ctx, f->domain, f->relpath, &st, known > 0);
    ferry_wipe(key, sizeof key);
    free(path);
    b->files += rc == 0;
    return rc;
}

/* KeychainDomain/keychain-backup.plist: what migrates of keychain.plist, by included category. */
static int write_keychain(build_t *b)
{
    if (!included(b->plan, FERRY_ITEM_CATEGORY, "passwords"))
        return 0;
    int wifi = included(b->plan, FERRY_ITEM_CATEGORY, "wifi");
    ferry_keychain_item_t *items = calloc(b->dev->n_keychain ? b->dev->n_keychain : 1, sizeof *items);
    if (!items)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < b->dev->n_keychain; i++) {
        const ferry_keychain_item_t *it = &b->dev->keychain[i];
        unsigned cat = ferry_keychain_item_category(it);
        if (it->HardwareBound || ferry_keychain_protection_class(it->pdmn) == 0 || (cat == FERRY_CAT_WIFI && !wifi))
            continue; /* R6 / akpu: never leave the device */
        items[n++] = *it; /* shallow: the device keeps ownership */
    }
    plist_t p = dev_keychain_to_plist(items, n);
    free(items);
    char *bin = NULL;
    uint32_t len = 0;
    plist_to_bin(p, &bin, &len);
    plist_free(p);
    if (!bin)
        return ferry_error_set(FERRY_ENOMEM, "out of memory encoding the keychain export");
    ferry_file_meta_t m = {0};
    m.protection_class = ferry_backup_path_protection_class(KEYCHAIN_DOMAIN, KEYCHAIN_FILE);
    m.mtime = m.ctime = m.birth = DEV_BASE_TIME;
    uint8_t key[FERRY_KEY_LEN];
    int rc = ferry_writer_add_dir(b->w, KEYCHAIN_DOMAIN, "", &m);
    if ((!rc || rc == FERRY_EEXIST) && b->kb &&
        !(rc = dev_file_key_mem(b->kb, m.protection_class, KEYCHAIN_DOMAIN, KEYCHAIN_FILE, bin, len, key)))
        m.file_key = key;
    if (!rc || rc == FERRY_EEXIST)
        rc = ferry_writer_add_file_mem(b->w, KEYCHAIN_DOMAIN, KEYCHAIN_FILE, &m, bin, len);
    ferry_wipe(key, sizeof key);
    ferry_wipe(bin, len);
    free(bin);
    return rc;
}

static plist_t info_plist(const ferry_device_ident_t *id, const ferry_plan_t *plan, const char *account_id,
                          int64_t date)
{
    plist_t d = ferry_info_plist_build(id, NULL, date);
    if (!d)
        return NULL;
    /* ferry's own keys (docs/backup-format.md): how the backup was made, for `ferry plan restore` */
    plist_dict_set_item(d, "Ferry Backup Method",
                        plist_new_string(plan->method == FERRY_BACKUP_ICLOUD ? "icloud" : "host"));
    if (plan->method == FERRY_BACKUP_ICLOUD) {
        plist_dict_set_item(d, "Ferry Backup Account", plist_new_string(ferry_policy_account_name(plan->account)));
        if (account_id && *account_id)
            plist_dict_set_item(d, "Ferry Backup Account ID", plist_new_string(account_id));
    }
    plist_dict_set_item(d, "Ferry Managed Apps Only", plist_new_bool(plan->managed_apps_only));
    return d;
}

static int plan_for(const ferry_device_t *dev, const ferry_device_backup_opts_t *opts, ferry_plan_t *plan)
{
    ferry_device_facts_t facts;
    int rc = ferry_device_facts(dev, 1, &facts);
    if (rc)
        return rc;
    rc = ferry_policy_backup_plan(&facts, &opts->plan, plan);
    ferry_device_facts_free(&facts);
    if (rc == 0 && plan->verdict == FERRY_VERDICT_REFUSED)
        rc = ferry_error_set(FERRY_EINVAL, "device %s does not start this backup [%s%s%s]: %s", dev->dir,
                             plan->refusal.n_rules ? plan->refusal.rules[0] : "",
                             plan->refusal.n_rules > 1 ? " " : "", plan->refusal.n_rules > 1 ? plan->refusal.rules[1] : "",
                             plan->refusal.why);
    return rc;
}

static int write_all(const ferry_device_t *dev, const ferry_device_backup_opts_t *opts, const char *out,
                     const ferry_plan_t *plan, const char *pw, size_t pwlen, const dev_backup_hook_t *hook)
{
    ferry_device_ident_t id = {dev->UniqueDeviceID, dev->ProductType, dev->ProductVersion, dev->BuildVersion,
                               dev->SerialNumber, dev->DeviceName, NULL, dev->PasscodePresent};
    int64_t date = opts->date ? opts->date : (int64_t)time(NULL);
    const char *acct = plan->account == FERRY_ACCOUNT_MANAGED ? dev->ManagedAppleAccount
                       : plan->account == FERRY_ACCOUNT_PERSONAL ? dev->PersonalAppleAccount : NULL;
    ferry_writer_opts_t wo = {0};
    wo.ident = id;
    wo.info_plist = info_plist(&id, plan, acct, date);
    if (!wo.info_plist)
        return ferry_error_set(FERRY_ENOMEM, "out of memory building Info.plist");
    wo.password = pw;
    wo.password_len = pwlen;
    wo.kdf = opts->kdf;
    wo.date = date;
    wo.is_full_backup = 1;
    wo.no_sync = hook && hook->private_staging;
    build_t b = {0};
    b.dev = dev;
    b.plan = plan;
    b.hook = hook;
    if (plan->encrypted && opts->keybag) {
        wo.keybag = opts->keybag; /* kept from the last backup: unchanged files keep their blobs */
        b.kb = opts->keybag;
    }
    int rc = ferry_writer_open(out, &wo, &b.w);
    if (!rc)
        rc = write_keychain(&b);
    if (!rc)
        rc = ferry_device_files_walk(dev, on_file, &b);
    if (!rc)
        rc = ferry_writer_commit(b.w);
    if (!rc)
        ferry_log(FERRY_LOG_INFO, "backup of %s: %llu files written, %llu left out by the plan", dev->dir,
                  (unsigned long long)b.files, (unsigned long long)b.skipped);
    ferry_writer_free(b.w);
    dirs_clear(&b);
    free(b.dirs);
    plist_free(wo.info_plist);
    return rc;
}

int ferry_device_backup_write(const ferry_device_t *dev, const ferry_device_backup_opts_t *opts,
                              const char *out_udid_dir, ferry_plan_t *plan_out)
{
    return dev_backup_write_hooked(dev, opts, out_udid_dir, plan_out, NULL);
}

int dev_backup_write_hooked(const ferry_device_t *dev, const ferry_device_backup_opts_t *opts,
                            const char *out_udid_dir, ferry_plan_t *plan_out, const dev_backup_hook_t *hook)
{
    if (!dev || !opts || !out_udid_dir)
        return ferry_error_set(FERRY_EINVAL, "device backup: NULL argument");
    ferry_plan_t plan;
    memset(&plan, 0, sizeof plan);
    int rc = plan_for(dev, opts, &plan);
    char *pw = NULL;
    size_t pwlen = 0;
    if (rc == 0 && plan.encrypted) {
        /* the backup password is the host backups' key; an iCloud Backup is encrypted with the
         * account's key (B4), which the caller passes */
        if (dev->has_backup_password && opts->plan.method == FERRY_BACKUP_HOST)
            rc = ferry_device_get_backup_password(dev, &pw, &pwlen);
        else if (!opts->password)
            rc = ferry_error_set(FERRY_EPASSWORD, "this backup of %s is encrypted and the device has no backup "
                                 "password: give one (FERRY_BACKUP_PASSWORD or --password-file)", dev->dir);
    }
    if (rc == 0)
        rc = write_all(dev, opts, out_udid_dir, &plan, pw ? pw : (plan.encrypted ? opts->password : NULL),
                       pw ? pwlen : (plan.encrypted ? opts->password_len : 0), hook);
    if (pw) {
        ferry_wipe(pw, pwlen);
        free(pw);
    }
    if (plan_out)
        *plan_out = plan;
    else
        ferry_plan_free(&plan);
    return rc;
}
