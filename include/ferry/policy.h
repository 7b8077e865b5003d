/*
 * ferry/policy.h: the rules of ../shared/spec/RULES.md as pure functions. Facts about a device and a
 * backup go in (plain C structs that the device module and the backup reader fill); decisions come
 * out, each with the rule IDs that made it and a plain sentence saying why. No I/O: nothing here
 * reads a file, a socket or the clock, so the emulated device and `ferry plan` reach the same answer.
 *
 * Dependencies: backup and common (policy -> backup -> common): the data categories are the backup
 * format's (ferry/backup.h). Never include device, host or mdm headers.
 *
 * Ownership: *_free releases what the matching function allocated; plist_t results are the caller's
 * to plist_free(). Input structs are borrowed and never modified.
 */
#ifndef FERRY_POLICY_H
#define FERRY_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <plist/plist.h>
#include "ferry/common.h"
#include "ferry/backup.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- B13: restrictions (com.apple.applicationaccess) ------------------------------------------- */

#define FERRY_RESTRICTIONS_PAYLOAD_TYPE "com.apple.applicationaccess"

/* Combines several restrictions payloads into one dict of effective values (B13). payloads[i] is a
 * payload dict as found in a profile's PayloadContent (Payload* keys are ignored; a dict whose
 * PayloadType is present and is not com.apple.applicationaccess is skipped, so callers may pass every
 * payload of every profile). For each key the most restrictive value wins:
 *   - booleans named allow* (or <lowercase>Allow*, e.g. safariAllowPopups): false beats true;
 *   - booleans named force* / require* (or <lowercase>Force*): true beats false;
 *   - rating* and safariAcceptCookies: the lowest number wins; enforcedSoftwareUpdate*Delay: the
 *     highest wins (ferry choice: a longer delay restricts more);
 *   - arrays of blocked/blacklisted IDs: union; allow-lists (allowListed*, whitelisted*, allowed*,
 *     *Permitted*): intersection, in the order of the first payload that set them;
 *   - any other key or any other type: the first payload (in array order) that sets it wins (ferry
 *     choice: deterministic when the direction is unknown), and the key is reported as multi-set.
 * A value whose type differs from the first value seen for that key is ignored (malformed payload).
 * *out_combined receives a new dict (empty when no restrictions payload). When out_multi_set is not
 * NULL it receives a new array of the key names set in more than one payload, in first-seen order:
 * `ferry plan` warns about each (B13: Apple's developer documentation calls this "unexpected
 * behavior"). Returns FERRY_EINVAL on NULL arguments, FERRY_EFORMAT when an element is not a dict. */
int ferry_policy_restrictions_combine(const plist_t *payloads, size_t n, plist_t *out_combined,
                                      plist_t *out_multi_set);

/* Typed lookup on a combined (or single) restrictions dict: the bool value of key, or dflt when the
 * key is absent, not a bool, or dict is NULL. */
int ferry_policy_restriction_bool(plist_t dict, const char *key, int dflt);

/* The effective restrictions the B rules read, with Apple's defaults for absent keys. */
typedef struct {
    int allow_cloud_backup;             /* allowCloudBackup, default 1 (B5) */
    int force_encrypted_backup;         /* forceEncryptedBackup, default 0 (B6) */
    int allow_enterprise_book_backup;   /* allowEnterpriseBookBackup, default 1 (B7) */
    int allow_cloud_photo_library;      /* allowCloudPhotoLibrary, default 1 (B1: photos) */
    int allow_managed_apps_cloud_sync;  /* allowManagedAppsCloudSync, default 1 (informational) */
    int allow_host_pairing;             /* allowHostPairing, default 1 (informational) */
} ferry_restrictions_t;

/* Apple's defaults: every allow* 1, every force* 0. */
void ferry_policy_restrictions_default(ferry_restrictions_t *out);
/* Fills out from a combined dict (NULL dict gives the defaults). */
void ferry_policy_restrictions_from_plist(plist_t combined, ferry_restrictions_t *out);

/* ---- vocabulary (RULES.md "Vocabulary") ---------------------------------------------------------- */

typedef enum {
    FERRY_ENROLL_NONE = 0,
    FERRY_ENROLL_PROFILE_DE,  /* "profile-de": profile-based Device Enrollment */
    FERRY_ENROLL_ADE,         /* "ade": Automated Device Enrollment (Shared iPad: ade + multi_user) */
    FERRY_ENROLL_UE_PROFILE,  /* "ue-profile": legacy profile-based User Enrollment */
    FERRY_ENROLL_UE_ACCOUNT,  /* "ue-account": account-driven User Enrollment (EnrollmentMode=BYOD) */
    FERRY_ENROLL_DE_ACCOUNT,  /* "de-account": account-driven Device Enrollment (EnrollmentMode=ADDE) */
} ferry_enrollment_t;

typedef enum { FERRY_BACKUP_HOST = 0, FERRY_BACKUP_ICLOUD } ferry_backup_method_t;
typedef enum { FERRY_ACCOUNT_NONE = 0, FERRY_ACCOUNT_PERSONAL, FERRY_ACCOUNT_MANAGED } ferry_backup_account_t;
/* "ferry" and "finder" both parse to FINDER (RULES.md: finder is the default, also for ferry). */
typedef enum { FERRY_HOST_FINDER = 0, FERRY_HOST_CONFIGURATOR } ferry_host_type_t;
typedef enum {
    FERRY_MDM_BOTH = 0,       /* not given: the plan reports the accept and the reject branch */
    FERRY_MDM_ACCEPT,         /* HTTP 200 */
    FERRY_MDM_REJECT_401,
    FERRY_MDM_REJECT_403,     /* 403 com.apple.unrecognized.device; honoured from iOS 17 (S2) */
    FERRY_MDM_UNREACHABLE,    /* any other answer, timeout, no network (S2: retried later) */
} ferry_mdm_answer_t;

/* Data categories of B3 (plus photos, B1), as bits: the backup format's (ferry_backup_category_t,
 * classified by ferry_backup_path_category), so a category read from a backup is a policy category. */
enum {
    FERRY_CAT_PASSWORDS = FERRY_BACKUP_CAT_PASSWORDS,
    FERRY_CAT_CALL_HISTORY = FERRY_BACKUP_CAT_CALL_HISTORY,
    FERRY_CAT_HEALTH = FERRY_BACKUP_CAT_HEALTH,
    FERRY_CAT_WEBSITE_HISTORY = FERRY_BACKUP_CAT_WEBSITE_HISTORY,
    FERRY_CAT_WIFI = FERRY_BACKUP_CAT_WIFI,
    FERRY_CAT_PHOTOS = FERRY_BACKUP_CAT_PHOTOS,
    FERRY_CAT_B3_ALL = 0x1f, /* the five an unencrypted backup never holds */
    FERRY_CAT_ALL = 0x3f,
};
#define FERRY_CAT_COUNT 6

typedef struct {
    int major, minor, patch;
} ferry_os_version_t;

const char *ferry_policy_enrollment_name(ferry_enrollment_t e); /* "none", "profile-de", ... */
int ferry_policy_enrollment_parse(const char *s, ferry_enrollment_t *out);
const char *ferry_policy_account_name(ferry_backup_account_t a); /* "none", "personal", "managed" */
int ferry_policy_account_parse(const char *s, ferry_backup_account_t *out);
const char *ferry_policy_host_name(ferry_host_type_t h);         /* "finder", "configurator" */
int ferry_policy_host_parse(const char *s, ferry_host_type_t *out); /* ferry|finder|configurator */
const char *ferry_policy_mdm_name(ferry_mdm_answer_t m);         /* "both", "accept", "reject-401" ... */
int ferry_policy_mdm_parse(const char *s, ferry_mdm_answer_t *out);
const char *ferry_policy_category_name(unsigned cat_bit);        /* "passwords", ..., "photos" */
int ferry_policy_category_parse(const char *s, unsigned *out_bit);
/* X1: a comma-separated list of category names ("passwords,wifi") as FERRY_CAT_* bits; FERRY_EINVAL
 * on an unknown or empty name. */
int ferry_policy_category_list_parse(const char *s, unsigned *out_bits);
/* "26.4" / "26.4.1" / "17"; FERRY_EINVAL on anything else. */
int ferry_policy_os_parse(const char *s, ferry_os_version_t *out);
int ferry_policy_os_compare(ferry_os_version_t a, ferry_os_version_t b); /* <0, 0, >0 */
/* 1 when two UDIDs name the same device: case-insensitive, hyphens ignored (RULES.md "Same device").
 * Empty strings never match. */
int ferry_policy_udid_equal(const char *a, const char *b);
/* ue-profile, ue-account, de-account: the enrollments whose managed apps always go at unenrollment. */
int ferry_policy_enrollment_is_account_based(ferry_enrollment_t e);

/* ---- facts: what the device module and the backup reader fill ------------------------------------ */

#define FERRY_POLICY_NAME_MAX 256
#define FERRY_POLICY_UUID_MAX 64

/* One payload of an installed configuration profile. */
typedef struct {
    char type[FERRY_POLICY_NAME_MAX];  /* PayloadType, e.g. "com.apple.mdm", "com.apple.security.acme" */
    char uuid[FERRY_POLICY_UUID_MAX];  /* PayloadUUID (matched against IdentityCertificateUUID) */
    int hardware_bound;                /* com.apple.security.acme with HardwareBound = true (R6) */
    int this_device_only;              /* its private key is a ThisDeviceOnly keychain item (B3, D5) */
} ferry_payload_facts_t;

/* One installed configuration profile. A profile that carries a com.apple.mdm payload is the MDM
 * enrollment profile: it is reported as the `mdm-enrollment` item, never as a `profile` item. */
typedef struct {
    char identifier[FERRY_POLICY_NAME_MAX]; /* PayloadIdentifier: the item name */
    char uuid[FERRY_POLICY_UUID_MAX];       /* PayloadUUID */
    char display_name[FERRY_POLICY_NAME_MAX]; /* PayloadDisplayName, may be "" */
    int installed_by_mdm;                   /* installed through the MDM enrollment (E1, E2, D5) */
    const ferry_payload_facts_t *payloads;  /* caller-owned array */
    size_t n_payloads;
} ferry_profile_facts_t;

/* One app. Only managed apps become items; unmanaged ones matter for U2 (already installed). */
typedef struct {
    char bundle_id[FERRY_POLICY_NAME_MAX];
    int managed;              /* managed by MDM (ManagedApplicationList) or by DDM */
    int declarative;          /* managed by DDM app.managed: no ManagementFlags bit 1 (E1) */
    uint32_t management_flags;/* ManagementFlags: & 1 remove on unenrollment, & 4 prevent backup */
    int include_in_backup;    /* DDM IncludeInBackup; 1 when not declarative (B8) */
    int installed;            /* device: the binary is installed (U2, S5 placeholder) */
    int user_channel;         /* Shared iPad: installed for a user, not the device channel (B14) */
    int in_backup;            /* backup facts only: the backup holds this app's data */
} ferry_app_facts_t;

/* One managed book. */
typedef struct {
    char id[FERRY_POLICY_NAME_MAX]; /* PersistentID (enterprise) or the iTunesStoreID as text */
    char title[FERRY_POLICY_NAME_MAX];
    int enterprise;           /* PersistentID/MediaURL: organisation's book (B7); else a store book (B2) */
    int in_backup;            /* backup facts only: the backup holds this book */
} ferry_book_facts_t;

/* The device-assignment service's answer for a serial number (ADE profile, mdm.md §12.4). */
typedef struct {
    int assigned;                       /* a profile is assigned to the serial (D2) */
    int is_supervised;                  /* is_supervised (ignored from iOS 13: ADE supervises) */
    int is_multi_user;                  /* is_multi_user (Shared iPad) */
    int do_not_use_profile_from_backup; /* V1, V2 */
    int abe_employee_plan;              /* Apple Business Essentials Employee plan (S6) */
} ferry_assignment_t;

/* The state of a device: the source of a backup plan, or the target of a restore plan. */
typedef struct {
    char udid[FERRY_POLICY_UUID_MAX];   /* UniqueDeviceID */
    char serial[FERRY_POLICY_UUID_MAX]; /* SerialNumber */
    ferry_os_version_t os;              /* ProductVersion */
    ferry_enrollment_t enrollment;
    int supervised;                     /* IsSupervised */
    int multi_user;                     /* IsMultiUser: Shared iPad (B14) */
    int has_management_config;          /* CloudConfigurationDetails present (B9) */
    int registered_in_abm;              /* serial registered in Apple School/Business Manager (D2, S4) */
    ferry_assignment_t assignment;      /* what the device-assignment service answers (D2, V1, S6) */
    int personal_account;               /* a personal Apple Account is signed in (B4) */
    int managed_account;                /* a Managed Apple Account is signed in (B4, B11) */
    char managed_account_id[FERRY_POLICY_NAME_MAX]; /* that account (U1) */
    int locked, on_power, on_wifi;      /* automatic iCloud Backup conditions (B4) */
    int icloud_photos;                  /* iCloud Photos on: photos are not in a backup (B1) */
    int backup_password_set;            /* WillEncrypt (B4, B6) */
    char mdm_identity_uuid[FERRY_POLICY_UUID_MAX]; /* com.apple.mdm IdentityCertificateUUID */
    int mdm_identity_hardware_bound;    /* the identity is a hardware-bound ACME key (S4); also
                                           derived from the profiles when the UUID matches */
    const ferry_profile_facts_t *profiles; size_t n_profiles; /* caller-owned */
    const ferry_app_facts_t *apps; size_t n_apps;             /* caller-owned */
    const ferry_book_facts_t *books; size_t n_books;          /* caller-owned */
    unsigned categories;                /* FERRY_CAT_* bits of data present on the device */
    int has_passcode, has_biometrics;   /* informational: never in a backup (B3) */
    ferry_restrictions_t restrictions;  /* effective, after B13 */
    const char *const *multi_set_keys;  /* B13: keys set in more than one restrictions payload, */
    size_t n_multi_set_keys;            /* from ferry_policy_restrictions_combine; plans warn */
} ferry_device_facts_t;

/* What a backup holds, as read from the backup (or derived from a backup plan). */
typedef struct {
    char source_udid[FERRY_POLICY_UUID_MAX]; /* Manifest.plist Lockdown.UniqueDeviceID */
    char info_udid[FERRY_POLICY_UUID_MAX];   /* Info.plist Unique Identifier, "" when unknown */
    ferry_os_version_t os;                   /* Info.plist Product Version (R3) */
    int encrypted;                           /* Manifest.plist IsEncrypted */
    ferry_backup_method_t method;
    ferry_backup_account_t account;
    char account_id[FERRY_POLICY_NAME_MAX];  /* the Apple Account of an iCloud Backup (U1) */
    ferry_enrollment_t source_enrollment;    /* enrollment when backed up (R2c); none if unknown */
    int source_supervised;                   /* from the management configuration (R4) */
    int source_multi_user;                   /* Shared iPad (B14) */
    int has_management_config;               /* CloudConfigurationDetails.plist (B9) */
    int has_mdm_profile;                     /* the MDM enrollment profile (B10) */
    char mdm_identity_uuid[FERRY_POLICY_UUID_MAX]; /* IdentityCertificateUUID of the backed-up MDM payload */
    int mdm_identity_hardware_bound;         /* S4; also derived from profiles by UUID, as for devices */
    int managed_apps_only;                   /* B11 marking: not usable for a full restore (R5) */
    const ferry_profile_facts_t *profiles; size_t n_profiles; /* profiles in the backup */
    const ferry_app_facts_t *apps; size_t n_apps;  /* managed apps known to the backup; in_backup */
    const ferry_book_facts_t *books; size_t n_books; /* books known to the backup; in_backup */
    unsigned categories;                     /* FERRY_CAT_* bits the backup holds */
} ferry_backup_facts_t;

/* ---- plans -------------------------------------------------------------------------------------- */

typedef enum {
    FERRY_ITEM_MANAGEMENT_CONFIGURATION = 0,
    FERRY_ITEM_MDM_ENROLLMENT,
    FERRY_ITEM_PROFILE,
    FERRY_ITEM_APP_DATA,
    FERRY_ITEM_APP,           /* the app binary (B2) */
    FERRY_ITEM_BOOK,
    FERRY_ITEM_CATEGORY,
    FERRY_ITEM_PASSCODE,
    FERRY_ITEM_BIOMETRICS,
} ferry_item_kind_t;

typedef enum {
    FERRY_OUT_INCLUDED = 0,   /* backup plans */
    FERRY_OUT_EXCLUDED,       /* backup plans */
    FERRY_OUT_SKIPPED,        /* both: U2, X1, or not present */
    FERRY_OUT_RESTORED,
    FERRY_OUT_DROPPED,
    FERRY_OUT_REMOVED_AFTER_CHECKIN,
    FERRY_OUT_NOT_IN_BACKUP,
    FERRY_OUT_PLACEHOLDER,
    FERRY_OUT_REINSTALL_NEEDED,
    FERRY_OUT_RE_ENROLLED,
} ferry_outcome_t;

typedef enum { FERRY_VERDICT_OK = 0, FERRY_VERDICT_REFUSED } ferry_verdict_t;

#define FERRY_PLAN_RULES_MAX 6
#define FERRY_PLAN_WHY_MAX 512
#define FERRY_PLAN_WARN_MAX 16

#define FERRY_RULE_ID_MAX 4

/* One decision: an outcome, the rule IDs that decided it ("S3", "B14"), and why. */
typedef struct {
    ferry_outcome_t outcome;
    char rules[FERRY_PLAN_RULES_MAX][FERRY_RULE_ID_MAX];
    size_t n_rules;
    char why[FERRY_PLAN_WHY_MAX];
} ferry_decision_t;

typedef struct {
    ferry_item_kind_t kind;
    char name[FERRY_POLICY_NAME_MAX];
    ferry_decision_t d;       /* restore plans with FERRY_MDM_BOTH: the accept branch */
    int has_if_rejected;      /* FERRY_MDM_BOTH only, when the reject branch differs */
    ferry_decision_t if_rejected;
} ferry_plan_item_t;

typedef enum { FERRY_PLAN_BACKUP = 0, FERRY_PLAN_RESTORE } ferry_plan_kind_t;

typedef struct {
    ferry_plan_kind_t kind;
    ferry_verdict_t verdict;
    ferry_decision_t refusal;            /* verdict refused: rules and reason (outcome unused) */
    ferry_decision_t warnings[FERRY_PLAN_WARN_MAX]; /* outcome unused */
    size_t n_warnings;
    /* context, echoed by the renderers */
    int encrypted;                       /* backup: effective encryption; restore: the backup's */
    ferry_backup_method_t method;
    ferry_backup_account_t account;
    int managed_apps_only;               /* backup: a B11 backup */
    char path;                           /* restore: 'S' same device, 'D' different, 'U' enrollment */
    ferry_host_type_t host;
    ferry_mdm_answer_t mdm;
    ferry_plan_item_t *items;            /* owned */
    size_t n_items, cap_items;
} ferry_plan_t;

void ferry_plan_free(ferry_plan_t *plan);
const char *ferry_policy_outcome_name(ferry_outcome_t o);   /* "included", "removed-after-checkin" */
const char *ferry_policy_item_kind_name(ferry_item_kind_t k); /* "management-configuration", ... */
const char *ferry_policy_verdict_name(ferry_verdict_t v);   /* "ok", "refused" */
/* The item of that kind and name, or NULL. */
const ferry_plan_item_t *ferry_plan_find(const ferry_plan_t *plan, ferry_item_kind_t kind,
                                         const char *name);

/* ---- backup plan (B1-B11, B13, B14, X1) ----------------------------------------------------------- */

typedef struct {
    ferry_backup_method_t method;
    int encrypted;                 /* host: a backup password will be set (OR-ed with the device's) */
    ferry_backup_account_t account;/* iCloud: personal or managed; host: none */
    int manual;                    /* iCloud "Back Up Now": needs only Wi-Fi (B4) */
} ferry_backup_options_t;

/* Decides what a backup of dev with opts holds. On success *out is filled (free with
 * ferry_plan_free); a backup the device would not start has verdict refused. FERRY_EINVAL on bad
 * arguments (an account with a host backup). */
int ferry_policy_backup_plan(const ferry_device_facts_t *dev, const ferry_backup_options_t *opts,
                             ferry_plan_t *out);

/* The facts of the backup that plan describes (for `ferry plan restore --from-device`, and for the
 * emulated device when it builds a backup). Profiles are borrowed from dev (dev must outlive out) and
 * may include the MDM enrollment profile even when has_mdm_profile is 0: the restore plan reads the
 * enrollment from has_mdm_profile only. Apps (managed ones, installed = 0, in_backup set) and books
 * (in_backup set) are allocated: release with ferry_policy_backup_facts_free_derived(). A backup the
 * device would not start gives FERRY_EINVAL with the refusal as message. */
int ferry_policy_backup_facts_derive(const ferry_device_facts_t *dev, const ferry_backup_options_t *opts,
                                     ferry_backup_facts_t *out);
void ferry_policy_backup_facts_free_derived(ferry_backup_facts_t *facts);

/* ---- backup facts read from a backup ------------------------------------------------------------ */

/* The facts of a backup as read from the backup itself (ferry_backup_content_read): identity, OS,
 * encryption, the management configuration (B9: a CloudConfigurationDetails.plist that names an
 * organisation or a ConfigurationURL, or says IsSupervised, IsMandatory or IsMDMUnremovable; devices
 * that nobody manages keep a minimal one), the MDM enrollment (B10) and the enrollment type
 * (from MDM.plist as in mdm.md §6.2, else the EnrollmentType ferry records in MDMAppManagement.plist),
 * the profiles (stubs) and their payloads, managed apps with their flags and whether their data is in
 * the backup (an AppDomain-<id> record), books (an enterprise book is in the backup when a file
 * BooksDomain/Managed/<PersistentID>.* is), and the categories. Pure: no I/O. A backup without
 * management files gives the facts of an unmanaged device (enrollment none, no apps, no profiles).
 * Payloads of type acme, scep and pkcs12 count as ThisDeviceOnly keys (their private key is a dku
 * keychain item on the device). The arrays are allocated: release with
 * ferry_policy_backup_facts_free_content(). */
int ferry_policy_backup_facts_from_content(const ferry_backup_content_t *c, ferry_backup_facts_t *out);
void ferry_policy_backup_facts_free_content(ferry_backup_facts_t *facts);

/* ---- restore plan (R, S, D, U, E, V, X1) ---------------------------------------------------------- */

typedef struct {
    ferry_host_type_t host;        /* S5, R4 */
    ferry_mdm_answer_t mdm;        /* S2; FERRY_MDM_BOTH reports both branches */
    int force;                     /* R4 mismatch under configurator; an enrolled target */
    unsigned skip_categories;      /* X1: categories the administrator leaves out of this restore */
    /* U1: the Managed Apple Account starting a ue-* or de-account enrollment on the target, "" for a
     * plain restore. A B11 backup restores only when this equals its account. */
    char enrollment_account[FERRY_POLICY_NAME_MAX];
    int user_declines;             /* U1: the user does not accept the offered restore */
} ferry_restore_options_t;

/* Predicts (and, for the emulated device, decides) a restore of backup onto target. With
 * opts->mdm == FERRY_MDM_BOTH the items carry the accept branch in d and, where it differs, the
 * reject branch in if_rejected. A refused restore (R3, R4, R5, U1, UDID mismatch, enrolled target)
 * has verdict refused and no items. */
int ferry_policy_restore_plan(const ferry_backup_facts_t *backup, const ferry_device_facts_t *target,
                              const ferry_restore_options_t *opts, ferry_plan_t *out);

/* ---- unenrollment on the device (S3, S4, S6, S7, D1, V1 with E1, E2, U3) ---------------------------
 * What a device removes when its MDM enrollment ends: after a rejected check-in (S3) or when the
 * enrollment cannot stay (S4, S6, S7, D1, V1). The emulated device runs this plan item by item, so the
 * device and `ferry plan` read the same rules. */

typedef enum {
    FERRY_UNENROLL_KEEP = 0, /* stays as it is */
    FERRY_UNENROLL_REMOVE,   /* removed; an app with its data */
    FERRY_UNENROLL_UNMANAGE, /* an app that stays, no longer managed (E1) */
} ferry_unenroll_action_t;

typedef struct {
    ferry_item_kind_t kind;   /* MDM_ENROLLMENT, MANAGEMENT_CONFIGURATION, PROFILE, APP, BOOK */
    char name[FERRY_POLICY_NAME_MAX]; /* PayloadIdentifier, bundle ID, book ID; "" for the config */
    ferry_unenroll_action_t action;
    ferry_decision_t d;       /* rules and why; outcome DROPPED (removed), RESTORED (kept/unmanaged),
                                 REMOVED_AFTER_CHECKIN (removed because of S3) */
} ferry_unenroll_item_t;

typedef struct {
    ferry_unenroll_item_t *items; /* owned */
    size_t n;
} ferry_unenroll_plan_t;

/* S2: whether a device unenrolls on this answer to a check-in or command poll: 401 always; 403 with
 * the com.apple.unrecognized.device body when the device runs version 17 or later (earlier ones
 * honour only 401; the same test as the restore plan's); anything else (other 4xx, 5xx, no answer:
 * http_status 0) keeps the enrollment (ferry choice). */
int ferry_policy_checkin_unenrolls(int http_status, int unrecognized_device_body, ferry_os_version_t os);
const char *ferry_policy_unenroll_action_name(ferry_unenroll_action_t a); /* "keep", "remove", "unmanage" */
/* Decides, for every profile, managed app and book of dev and for its management configuration,
 * what ending the enrollment does. cause is the rule that ends it ("S3" rejected check-in; "S4",
 * "S6", "S7", "D1", "V1" or NULL for an unenrollment as such): profile-de and ade follow E1 (the
 * enrollment profile, the profiles the MDM installed and the apps with ManagementFlags & 1 go; other
 * managed apps stay unmanaged; books and the management configuration stay); ue-* and de-account
 * follow E2/U3 (every profile installed through the enrollment and every managed app go). Unmanaged
 * apps and profiles installed by hand or by Configurator are kept. *out: ferry_policy_unenroll_free. */
int ferry_policy_unenroll_plan(const ferry_device_facts_t *dev, const char *cause, ferry_unenroll_plan_t *out);
void ferry_policy_unenroll_free(ferry_unenroll_plan_t *p);

/* ---- rendering (no I/O: strings the caller prints) ------------------------------------------------ */

/* JSON: {"plan": "backup"|"restore", "verdict": ..., "items": [{"item", "kind", "outcome", "rules",
 * "why"}], ...} as documented in docs/cli.md. malloc'd, NUL-terminated; NULL on ENOMEM. */
char *ferry_policy_plan_to_json(const ferry_plan_t *plan);
/* The same in words, one row per item, for a terminal. malloc'd; NULL on ENOMEM. */
char *ferry_policy_plan_to_table(const ferry_plan_t *plan);

#ifdef __cplusplus
}
#endif
#endif
