/*
 * templates.c: the device templates (one row each) and what a template says about a device's
 * identity, state, accounts, management configuration, apps, books and personal keychain items.
 * Everything variable comes from the seed through labelled streams (rng.c): serial number, ECID,
 * UDID, UUIDs, synthetic passwords. Product types, versions and builds are plausible real values so
 * that version gates (R3, V1, V2) and the two UDID forms (40-hex before A12, 8-16 from A12 on) are
 * exercised; `ferry device set` changes the versions afterwards.
 */
#include "template.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const dev_template_t templates[] = {
    {"ade-iphone", "supervised ADE iPhone: forceEncryptedBackup, managed apps with ManagementFlags 0/1/4/5, "
     "enterprise book, Wi-Fi/VPN/certificate/font/web-clip profiles, personal data in every B3 category",
     "iPhone15,2", "iPhone", "18.1", "22B83", "ACME iPhone", 0x8120, FERRY_ENROLL_ADE, 0, 0, "ABM", TI_PKCS12, 1,
     TX_WIFI | TX_VPN | TX_CERT | TX_FONT | TX_WEBCLIP | TX_ENTERPRISE_BOOK | TX_STORE_BOOK, TA_FULL | TA_PERSONAL,
     TP_ALL, "forceEncryptedBackup=1,allowCloudBackup=1,allowEnterpriseBookBackup=1,allowHostPairing=1",
     "allowCloudBackup=0,forceEncryptedBackup=0,allowManagedAppsCloudSync=0", 1, 0, 1, 0, 256000000000ULL,
     "ACME Corp", "com.acme"},
    {"ade-ipad-acme", "supervised ADE iPad whose MDM identity is a hardware-bound ACME key (R6, S4)",
     "iPad13,16", "iPad", "17.6.1", "21G93", "ACME iPad", 0x8103, FERRY_ENROLL_ADE, 0, 0, "ABM", TI_ACME_HW, 0,
     TX_WIFI | TX_ENTERPRISE_BOOK, TA_WORK,
     TP(FERRY_CAT_PASSWORDS) | TP(FERRY_CAT_WEBSITE_HISTORY) | TP(FERRY_CAT_WIFI),
     "forceEncryptedBackup=1", NULL, 0, 0, 0, 0, 128000000000ULL, "ACME Corp", "com.acme"},
    {"shared-ipad", "Shared iPad (ADE, IsMultiUser): device-channel apps only, no enterprise books (B14)",
     "iPad12,1", "iPad", "17.6.1", "21G93", "Classroom iPad", 0x8030, FERRY_ENROLL_ADE, 1, 0, "ASM", TI_SCEP, 0,
     TX_WIFI | TX_WEBCLIP, TA_SCHOOL, TP(FERRY_CAT_WIFI), "allowCloudBackup=1", NULL, 0, 0, 0, 0,
     64000000000ULL, "Springfield School", "edu.springfield"},
    {"profile-de-ipad", "unsupervised iPad with profile-based Device Enrollment: no management configuration (B9)",
     "iPad7,5", "iPad", "17.7", "21H16", "Lab iPad", 0, FERRY_ENROLL_PROFILE_DE, 0, 0, NULL, TI_SCEP, 0,
     TX_WIFI | TX_CERT, TA_WORK | TA_PERSONAL,
     TP(FERRY_CAT_PASSWORDS) | TP(FERRY_CAT_WEBSITE_HISTORY) | TP(FERRY_CAT_WIFI) | TP(FERRY_CAT_HEALTH),
     "allowCloudBackup=0", NULL, 1, 0, 0, 0, 32000000000ULL, "ACME Corp", "com.acme"},
    {"ue-account-iphone", "personal iPhone with account-driven User Enrollment (EnrollmentMode BYOD), personal "
     "and Managed Apple Accounts",
     "iPhone14,5", "iPhone", "18.1", "22B83", "Jane's iPhone", 0x8110, FERRY_ENROLL_UE_ACCOUNT, 0, 0, NULL, TI_ACME, 0,
     TX_WIFI | TX_VPN, TA_WORK | TA_PERSONAL, TP_ALL, "forceEncryptedBackup=1,allowCloudBackup=0", NULL, 1, 1, 1, 1,
     128000000000ULL, "ACME Corp", "com.acme"},
    {"de-account-iphone", "iPhone with account-driven Device Enrollment (EnrollmentMode ADDE) and a Managed Apple "
     "Account",
     "iPhone14,2", "iPhone", "18.1", "22B83", "ACME Field iPhone", 0x8110, FERRY_ENROLL_DE_ACCOUNT, 0, 0, NULL,
     TI_ACME_HW, 0, TX_WIFI, TA_WORK,
     TP(FERRY_CAT_PASSWORDS) | TP(FERRY_CAT_CALL_HISTORY) | TP(FERRY_CAT_WEBSITE_HISTORY) | TP(FERRY_CAT_WIFI),
     "forceEncryptedBackup=1", NULL, 0, 1, 1, 0, 128000000000ULL, "ACME Corp", "com.acme"},
    {"abe-employee-iphone", "supervised ADE iPhone under Apple Business Essentials with an Employee plan (S6)",
     "iPhone15,4", "iPhone", "18.1", "22B83", "Employee iPhone", 0x8120, FERRY_ENROLL_ADE, 0, 1, "ABM", TI_SCEP, 0,
     TX_WIFI | TX_WEBCLIP, TA_WORK, TP_ALL, "forceEncryptedBackup=1", NULL, 0, 1, 1, 0, 128000000000ULL,
     "ACME Corp", "com.acme"},
    {"vision-pro-ade", "supervised ADE Apple Vision Pro (RealityDevice)",
     "RealityDevice14,1", "RealityDevice", "2.1", "22N580", "ACME Vision Pro", 0x8112, FERRY_ENROLL_ADE, 0, 0, "ABM",
     TI_SCEP, 0, TX_WIFI | TX_WEBCLIP, TA_VISION,
     TP(FERRY_CAT_PASSWORDS) | TP(FERRY_CAT_WEBSITE_HISTORY) | TP(FERRY_CAT_WIFI), "allowCloudBackup=1", NULL, 0, 0,
     0, 0, 256000000000ULL, "ACME Corp", "com.acme"},
    {"unmanaged-personal", "personal iPhone without MDM (older A11: 40-hex UDID), iCloud Backup and iCloud Photos on",
     "iPhone10,4", "iPhone", "16.7.10", "20H350", "My iPhone", 0, FERRY_ENROLL_NONE, 0, 0, NULL, TI_NONE, 0,
     TX_WEBCLIP | TX_STORE_BOOK, TA_PERSONAL, TP_ALL, NULL, NULL, 1, 0, 1, 1, 64000000000ULL, "Jane Appleseed",
     "com.example.personal"},
};

static const char *const names[] = {"ade-iphone", "ade-ipad-acme", "shared-ipad", "profile-de-ipad",
                                    "ue-account-iphone", "de-account-iphone", "abe-employee-iphone",
                                    "vision-pro-ade", "unmanaged-personal", NULL};

const char *const *ferry_device_template_names(void)
{
    return names;
}

const dev_template_t *dev_template_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof templates / sizeof templates[0]; i++)
        if (!strcmp(templates[i].name, name))
            return &templates[i];
    return NULL;
}

const char *ferry_device_template_summary(const char *name)
{
    const dev_template_t *t = dev_template_find(name);
    return t ? t->summary : NULL;
}

/* ---- identity ------------------------------------------------------------------------------------ */

static void rand_chars(uint64_t seed, const char *label, const char *alphabet, char *out, size_t n)
{
    dev_rng_t r;
    dev_rng_seed(&r, seed, label);
    size_t m = strlen(alphabet);
    for (size_t i = 0; i < n; i++)
        out[i] = alphabet[dev_rng_below(&r, m)];
    out[n] = 0;
}

static int identity(dev_build_t *b)
{
    ferry_device_t *d = b->dev;
    const dev_template_t *t = b->t;
    uint64_t seed = b->o->seed;
    dev_rng_t r;
    dev_rng_seed(&r, seed, "identity:ecid");
    d->UniqueChipID = 0x0001000000000000ULL | (dev_rng_next(&r) & 0x0000ffffffffffffULL);
    char serial[16], udid[64];
    if (t->chip_id) { /* randomized serials since 2021: 10 characters */
        rand_chars(seed, "identity:serial", "BCDFGHJKLMNPQRSTVWXYZ0123456789", serial, 10);
        snprintf(udid, sizeof udid, "%08X-%016llX", t->chip_id, (unsigned long long)d->UniqueChipID);
    } else { /* 12-character serial; UDID = SHA-1 over the hardware identifiers, as older devices */
        rand_chars(seed, "identity:serial", "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", serial, 12);
        char in[128];
        unsigned char md[20];
        snprintf(in, sizeof in, "%s%016llx%016llx", serial, (unsigned long long)d->UniqueChipID,
                 (unsigned long long)dev_rng_next(&r));
        if (!EVP_Digest(in, strlen(in), md, NULL, EVP_sha1(), NULL))
            return ferry_error_set(FERRY_ECRYPTO, "SHA-1 failed");
        ferry_hex_encode(md, 20, udid);
    }
    d->UniqueDeviceID = strdup(udid);
    d->SerialNumber = strdup(serial);
    d->ProductType = strdup(t->ProductType);
    d->ProductVersion = strdup(t->ProductVersion);
    d->BuildVersion = strdup(t->BuildVersion);
    d->DeviceName = strdup(b->o->name ? b->o->name : t->DeviceName);
    d->DeviceClass = strdup(t->DeviceClass);
    if (!d->UniqueDeviceID || !d->SerialNumber || !d->ProductType || !d->ProductVersion || !d->BuildVersion ||
        !d->DeviceName || !d->DeviceClass)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    return 0;
}

/* ---- state, accounts, management ----------------------------------------------------------------- */

static void state(dev_build_t *b)
{
    ferry_device_t *d = b->dev;
    const dev_template_t *t = b->t;
    d->PasscodePresent = 1;
    d->BiometricsEnrolled = 1;
    d->IsLocked = 1;
    d->WiFiConnected = 1;
    d->InternetReachable = 1;
    d->SetupComplete = 1;
    d->IsDeviceLocatorServiceEnabled = t->personal_account;
    d->IsActivationLockEnabled = t->personal_account && t->enrollment == FERRY_ENROLL_NONE;
    d->IsCloudBackupEnabled = t->icloud_backup;
    d->IsCloudPhotoLibraryEnabled = t->icloud_photos;
    d->LastCloudBackupDate = t->icloud_backup ? DEV_BASE_TIME - 86400 : 0;
    d->TotalDiskCapacity = t->capacity;
    d->TotalDataAvailable = t->capacity / 5 * 3;
}

static int accounts(dev_build_t *b)
{
    char buf[128];
    if (b->t->personal_account) {
        rand_chars(b->o->seed, "account:personal", "abcdefghijklmnopqrstuvwxyz", buf, 6);
        strcat(buf, "@icloud.example");
        if (!(b->dev->PersonalAppleAccount = strdup(buf)))
            return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    if (b->t->managed_account) {
        rand_chars(b->o->seed, "account:managed", "abcdefghijklmnopqrstuvwxyz", buf, 6);
        strcat(buf, "@acme.example");
        if (!(b->dev->ManagedAppleAccount = strdup(buf)))
            return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    return 0;
}

static int management(dev_build_t *b)
{
    ferry_device_t *d = b->dev;
    const dev_template_t *t = b->t;
    d->IsSupervised = t->enrollment == FERRY_ENROLL_ADE;
    d->IsMultiUser = t->multi_user;
    d->EmployeePlan = t->employee_plan;
    if (t->assignment && !(d->AssignmentService = strdup(t->assignment)))
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    if (t->enrollment != FERRY_ENROLL_ADE)
        return 0;
    /* The management configuration: keys of CloudConfigurationDetails.plist (mdm.md §12.2). */
    char magic[37], url[1024];
    dev_uuid(b->o->seed, "cloud:OrganizationMagic", magic);
    snprintf(url, sizeof url, "%s/enroll", b->mdm_url);
    plist_t c = plist_new_dict();
    dev_dict_set_bool(c, "AllowPairing", 1);
    dev_dict_set_bool(c, "AwaitDeviceConfigured", 1);
    dev_dict_set_bool(c, "CloudConfigurationUIComplete", 1);
    dev_dict_set_str(c, "ConfigurationURL", url);
    dev_dict_set_bool(c, "ConfigurationWasApplied", 1);
    dev_dict_set_bool(c, "IsMDMUnremovable", 1);
    dev_dict_set_bool(c, "IsMandatory", 1);
    dev_dict_set_bool(c, "IsMultiUser", t->multi_user);
    dev_dict_set_bool(c, "IsSupervised", 1);
    dev_dict_set_str(c, "OrganizationMagic", magic);
    dev_dict_set_str(c, "OrganizationName", t->org_name);
    dev_dict_set_bool(c, "PostSetupProfileWasInstalled", 1);
    plist_t skip = plist_new_array();
    plist_array_append_item(skip, plist_new_string("Siri"));
    plist_array_append_item(skip, plist_new_string("ScreenTime"));
    plist_dict_set_item(c, "SkipSetup", skip);
    d->CloudConfigurationDetails = c;
    return 0;
}

/* ---- apps, books, keychain ----------------------------------------------------------------------- */

typedef struct {
    unsigned sets;
    const char *id, *name;
    int managed, flags, ddm, include, placeholder;
    const char *group;
    int64_t store_id;
} app_row_t;

static const app_row_t app_rows[] = {
    {TA_FULL, "com.acme.expenses", "Expenses", 1, 0, 0, 1, 0, NULL, 1400000001},
    {TA_FULL | TA_WORK, "com.acme.mail", "ACME Mail", 1, 1, 0, 1, 0, "group.com.acme.shared", 1400000002},
    {TA_FULL, "com.acme.vault", "Vault", 1, 4, 0, 1, 0, NULL, 1400000003},
    {TA_FULL | TA_WORK, "com.acme.crm", "CRM", 1, 5, 0, 1, 0, "group.com.acme.shared", 1400000004},
    {TA_FULL, "com.acme.notes", "Team Notes", 1, 0, 1, 0, 0, NULL, 1400000005},
    {TA_FULL, "com.acme.timesheet", "Timesheet", 1, 1, 0, 1, 1, NULL, 1400000006},
    {TA_PERSONAL, "net.whatsapp.WhatsApp", "WhatsApp", 0, 0, 0, 1, 0, "group.net.whatsapp.WhatsApp.shared",
     310633997},
    {TA_PERSONAL, "com.google.chrome.ios", "Chrome", 0, 0, 0, 1, 0, NULL, 535886823},
    {TA_SCHOOL, "edu.springfield.reader", "Reader", 1, 1, 0, 1, 0, NULL, 1400000101},
    {TA_SCHOOL, "edu.springfield.math", "Math Lab", 1, 5, 0, 1, 0, NULL, 1400000102},
    {TA_VISION, "com.acme.training", "Immersive Training", 1, 1, 0, 1, 0, NULL, 1400000201},
    {TA_VISION, "com.acme.viewer", "Model Viewer", 1, 4, 0, 1, 0, NULL, 1400000202},
};

static int apps(dev_build_t *b)
{
    ferry_device_t *d = b->dev;
    size_t n = 0;
    for (size_t i = 0; i < sizeof app_rows / sizeof app_rows[0]; i++)
        n += (app_rows[i].sets & b->t->apps) != 0;
    d->apps = calloc(n ? n : 1, sizeof *d->apps);
    if (!d->apps)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    for (size_t i = 0; i < sizeof app_rows / sizeof app_rows[0]; i++) {
        const app_row_t *r = &app_rows[i];
        if (!(r->sets & b->t->apps))
            continue;
        ferry_app_t *a = &d->apps[d->n_apps++];
        a->Identifier = strdup(r->id);
        a->Name = strdup(r->name);
        a->Version = strdup("1.0");
        a->iTunesStoreID = r->store_id;
        a->IsManaged = r->managed;
        a->ManagementFlags = r->ddm ? 0 : r->flags;
        a->IncludeInBackup = r->include;
        a->Installed = !r->placeholder;
        if (r->ddm) {
            char decl[128];
            snprintf(decl, sizeof decl, "%s.app", r->id);
            a->DeclarationIdentifier = strdup(decl);
        }
        if (r->group) {
            a->AppGroups = calloc(1, sizeof(char *));
            if (a->AppGroups && (a->AppGroups[0] = strdup(r->group)))
                a->n_app_groups = 1;
        }
        if (!a->Identifier || !a->Name || !a->Version || (r->ddm && !a->DeclarationIdentifier) ||
            (r->group && !a->n_app_groups))
            return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    return 0;
}

static int books(dev_build_t *b)
{
    ferry_device_t *d = b->dev;
    d->books = calloc(2, sizeof *d->books);
    if (!d->books)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    if (b->t->extras & TX_ENTERPRISE_BOOK) {
        ferry_book_t *k = &d->books[d->n_books++];
        char pid[128], url[256];
        snprintf(pid, sizeof pid, "%s.handbook", b->t->org_prefix);
        snprintf(url, sizeof url, "https://books.example.com/%s/handbook.epub", b->t->org_prefix);
        k->Title = strdup("Employee Handbook");
        k->Author = strdup(b->t->org_name);
        k->Version = strdup("1.2");
        k->Kind = strdup("epub");
        k->PersistentID = strdup(pid);
        k->MediaURL = strdup(url);
        k->State = strdup("Managed");
        k->IsManaged = 1;
    }
    if (b->t->extras & TX_STORE_BOOK) {
        ferry_book_t *k = &d->books[d->n_books++];
        k->Title = strdup("The Swift Programming Language");
        k->Author = strdup("Apple Inc.");
        k->Version = strdup("6.0");
        k->Kind = strdup("epub");
        k->iTunesStoreID = 881256329;
        k->State = strdup("Installed");
        k->IsManaged = b->t->enrollment != FERRY_ENROLL_NONE;
    }
    for (size_t i = 0; i < d->n_books; i++)
        if (!d->books[i].Title || !d->books[i].State)
            return ferry_error_set(FERRY_ENOMEM, "out of memory");
    return 0;
}

static int add_secret(ferry_device_t *d, uint64_t seed, const char *klass, const char *pdmn, const char *svce,
                      const char *acct, const char *srvr)
{
    ferry_keychain_item_t *n = realloc(d->keychain, (d->n_keychain + 1) * sizeof *n);
    if (!n)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    d->keychain = n;
    ferry_keychain_item_t *it = &n[d->n_keychain++];
    memset(it, 0, sizeof *it);
    char label[256], pw[17];
    snprintf(label, sizeof label, "keychain:%s:%s", acct, srvr ? srvr : svce);
    rand_chars(seed, label, "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789", pw, 16);
    it->klass = strdup(klass);
    it->pdmn = strdup(pdmn);
    it->agrp = strdup(srvr ? "com.apple.cfnetwork" : "apple");
    it->svce = dev_strdup(svce);
    it->acct = strdup(acct);
    it->srvr = dev_strdup(srvr);
    it->labl = strdup(srvr ? srvr : svce);
    it->v_Data = (uint8_t *)strdup(pw);
    it->v_Data_len = 16;
    if (!it->klass || !it->pdmn || !it->agrp || !it->acct || !it->labl || !it->v_Data)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    return 0;
}

/* Personal keychain items: saved website passwords (migratable, ak), an app token that must stay on
 * this device (aku, ThisDeviceOnly), and the password of the network the user joined (wifi). */
static int keychain(dev_build_t *b)
{
    int rc = 0;
    if (b->t->personal & TP(FERRY_CAT_PASSWORDS)) {
        rc = add_secret(b->dev, b->o->seed, "inet", "ak", NULL, "jane", "accounts.example.com");
        if (!rc)
            rc = add_secret(b->dev, b->o->seed, "genp", "aku", "com.example.bank.token", "device", NULL);
    }
    if (!rc && (b->t->personal & TP(FERRY_CAT_WIFI)))
        rc = add_secret(b->dev, b->o->seed, "genp", "ck", "AirPort", "Home-Network", NULL);
    return rc;
}

int dev_template_model(dev_build_t *b)
{
    int rc;
    state(b);
    if ((rc = identity(b)) || (rc = accounts(b)) || (rc = management(b)) || (rc = apps(b)) || (rc = books(b)) ||
        (rc = keychain(b)))
        return rc;
    return 0;
}
