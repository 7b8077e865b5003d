/*
 * ferry/device.h: the emulated managed device as a directory that administrators can read and edit
 * (docs/device-format.md): identity, state, accounts and management in device.plist, real
 * .mobileconfig profiles under profiles/, apps.plist, books.plist, keychain.plist and the data of each
 * backup domain under files/<domain>/<relativePath>. This module loads and saves that directory,
 * parses configuration profiles (XML, binary, CMS-signed), creates devices from templates with
 * deterministic synthetic data, and edits them (profiles, apps, state).
 *
 * Key names are Apple's wherever Apple has one (spec/mdm.md); ferry's own names are marked in
 * docs/device-format.md. Ownership: every pointer inside a loaded ferry_device_t belongs to it and is
 * released by ferry_device_free(); functions that return allocated memory say who frees it.
 */
#ifndef FERRY_DEVICE_H
#define FERRY_DEVICE_H

#include <stddef.h>
#include <stdint.h>
#include <plist/plist.h>

#include "ferry/backup.h"
#include "ferry/common.h"
#include "ferry/policy.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- vocabulary ----------------------------------------------------------------------------------
 * The enrollment types (ferry_enrollment_t, FERRY_ENROLL_*) and the data categories (FERRY_CAT_* bits:
 * the five of B3 plus photos) are the policy module's (ferry/policy.h), so that the device and the
 * rules speak one vocabulary; names come from ferry_policy_enrollment_name/ferry_policy_category_name. */

/* The category (one FERRY_CAT_* bit, or 0 for none) and default file protection class (1-4,
 * backup-format.md §10.1) of a data file, from the single table of the backup format
 * (src/backup/categories.c, ferry_backup_path_category). */
unsigned ferry_device_file_category(const char *domain, const char *relpath);
int ferry_device_file_protection_class(const char *domain, const char *relpath);
/* ferry_policy_category_name(), and "none" for 0. */
const char *ferry_device_category_name(unsigned cat);

/* ---- configuration profiles --------------------------------------------------------------------- */

typedef enum { FERRY_PROFILE_XML = 0, FERRY_PROFILE_BINARY, FERRY_PROFILE_SIGNED } ferry_profile_format_t;
const char *ferry_profile_format_name(ferry_profile_format_t f); /* "xml", "binary", "signed" */

typedef struct {
    char *PayloadType;
    char *PayloadIdentifier;
    char *PayloadUUID;
    plist_t dict; /* the payload dictionary (a node of the profile's top, not separately owned) */
} ferry_payload_t;

typedef struct {
    ferry_profile_format_t format;
    int is_signed;          /* CMS SignedData whose signature verified against its own signer */
    char *signer;           /* one-line subject of the signer certificate, or NULL */
    char *PayloadIdentifier;
    char *PayloadUUID;
    char *PayloadDisplayName;  /* NULL when absent */
    char *PayloadOrganization; /* NULL when absent */
    int PayloadRemovalDisallowed;
    plist_t top;               /* the whole profile dictionary (owned) */
    ferry_payload_t *payloads; /* PayloadContent, in file order */
    size_t n_payloads;
    uint8_t *raw;              /* the file's bytes exactly as read */
    size_t raw_len;
} ferry_profile_t;

/* Parses .mobileconfig bytes: XML or binary plist, or CMS SignedData (DER) whose signature is checked
 * against the signer certificate it carries (the signer need not be trusted). Checks the top-level
 * keys and every payload's PayloadType/PayloadIdentifier/PayloadUUID and the keys documented in
 * docs/device-format.md for the payload types ferry knows. name (a file name) starts every error
 * message, followed by the key that is missing or of the wrong type. *out: free with
 * ferry_profile_free. */
int ferry_profile_parse(const uint8_t *data, size_t len, const char *name, ferry_profile_t **out);
int ferry_profile_read_file(const char *path, ferry_profile_t **out);
void ferry_profile_free(ferry_profile_t *p);
/* The first payload of that PayloadType, or NULL. */
const ferry_payload_t *ferry_profile_find_payload(const ferry_profile_t *p, const char *type);
/* The payload whose PayloadUUID is uuid, or NULL. */
const ferry_payload_t *ferry_profile_find_uuid(const ferry_profile_t *p, const char *uuid);

/* How a profile came onto the device (profiles/index.plist "Source"). */
typedef enum {
    FERRY_SOURCE_MANUAL = 0,   /* the user installed it (Settings), or an administrator dropped the file */
    FERRY_SOURCE_ENROLLMENT,   /* the MDM enrollment profile itself (ADE, OTA, account-driven flow) */
    FERRY_SOURCE_MDM,          /* installed by the MDM server (InstallProfile); ProfileList IsManaged */
    FERRY_SOURCE_CONFIGURATOR, /* installed by Apple Configurator */
    FERRY_SOURCE_AUTO = 100,   /* for installing: Enrollment when it carries com.apple.mdm, else Manual */
} ferry_profile_source_t;
const char *ferry_profile_source_name(ferry_profile_source_t s); /* "Manual", "Enrollment", "MDM", "Configurator" */
int ferry_profile_source_parse(const char *s, ferry_profile_source_t *out);

typedef struct {
    char *file;                   /* base name under profiles/ */
    ferry_profile_source_t source;
    ferry_profile_t *profile;     /* owned */
} ferry_installed_profile_t;

/* ---- apps, books, keychain ---------------------------------------------------------------------- */

typedef struct {
    char *Identifier;        /* bundle ID */
    char *Name;              /* may be NULL */
    char *Version;           /* may be NULL */
    int64_t iTunesStoreID;   /* 0 when absent */
    int IsManaged;
    int64_t ManagementFlags; /* bits 1 and 4 (RULES.md vocabulary); 0 for unmanaged apps */
    char *DeclarationIdentifier; /* set for apps managed declaratively (DDM); NULL otherwise */
    int IncludeInBackup;     /* DDM com.apple.configuration.app.managed; default true */
    int Installed;           /* 0: a placeholder (ManagedButUninstalled) */
    uint64_t DynamicSize;    /* bytes of app data */
    char **AppGroups;        /* AppDomainGroup-<id> containers the app uses */
    size_t n_app_groups;
} ferry_app_t;

typedef struct {
    char *Title, *Author, *Version, *Kind; /* may be NULL */
    int64_t iTunesStoreID;   /* store (VPP) book; 0 when absent */
    char *PersistentID;      /* enterprise book; NULL for store books */
    char *MediaURL;          /* enterprise book URL; may be NULL */
    char *State;             /* ManagedMediaList State, e.g. "Managed", "Installed" */
    int IsManaged;
} ferry_book_t;

/* The book's file under files/BooksDomain/: "Managed/<PersistentID>.<Kind>" for enterprise books,
 * "Purchases/<iTunesStoreID>.<Kind>" for store books (malloc'd; NULL on ENOMEM). */
char *ferry_book_relpath(const ferry_book_t *b);

typedef struct {
    char *klass;        /* "class": genp, inet, cert, keys */
    char *pdmn;         /* accessibility: ak, ck, dk, aku, cku, dku, akpu */
    char *agrp, *svce, *acct, *srvr, *labl; /* may be NULL */
    char *PayloadUUID;  /* the profile payload that installed it, or NULL */
    int HardwareBound;  /* key generated in the Secure Enclave; never exported */
    uint8_t *v_Data;    /* the secret or DER; may be NULL */
    size_t v_Data_len;
} ferry_keychain_item_t;

/* Protection class number of a keychain accessibility (6-11), 0 for akpu (never migrates), -1 when
 * unknown. ThisDeviceOnly: 9-11 and akpu. */
int ferry_keychain_protection_class(const char *pdmn);
unsigned ferry_keychain_item_category(const ferry_keychain_item_t *it); /* FERRY_CAT_* bit or 0 */

/* ---- the device --------------------------------------------------------------------------------- */

typedef struct {
    char *dir;     /* the device directory */
    plist_t plist; /* device.plist as loaded; keys ferry does not know are kept on save (owned) */

    /* Identity (Apple's lockdown names). */
    char *UniqueDeviceID;   /* 40 lower-case hex, or "XXXXXXXX-XXXXXXXXXXXXXXXX" (A12+) */
    char *SerialNumber;
    uint64_t UniqueChipID;  /* the ECID */
    char *ProductType;      /* "iPhone15,2", "iPad13,16", "RealityDevice14,1" */
    char *ProductVersion;
    char *BuildVersion;
    char *DeviceName;
    char *DeviceClass;      /* "iPhone", "iPad", "RealityDevice" */

    /* State. */
    int PasscodePresent, BiometricsEnrolled, IsLocked, ExternalConnected, WiFiConnected;
    int InternetReachable, IsDeviceLocatorServiceEnabled, IsActivationLockEnabled, SetupComplete;
    int IsCloudPhotoLibraryEnabled, IsCloudBackupEnabled;
    int64_t LastCloudBackupDate; /* Unix seconds; 0 when never */
    uint64_t TotalDiskCapacity, TotalDataAvailable;

    /* Accounts (NULL when not signed in). */
    char *PersonalAppleAccount;
    char *ManagedAppleAccount;

    /* Management. */
    int IsSupervised, IsMultiUser;
    plist_t CloudConfigurationDetails; /* dict, or NULL when the device has no management config */
    char *AssignmentService;           /* "ABM", "ASM", or NULL: not registered */
    int EmployeePlan;                  /* Apple Business Essentials Employee plan */
    int do_not_use_profile_from_backup; /* the ADE profile's key (V1) */

    ferry_installed_profile_t *profiles; size_t n_profiles; /* sorted by file name */
    ferry_app_t *apps; size_t n_apps;
    ferry_book_t *books; size_t n_books;
    ferry_keychain_item_t *keychain; size_t n_keychain;
    int has_backup_password; /* keybag.plist holds a wrapped backup password (WillEncrypt) */
} ferry_device_t;

/* Loads and checks a device directory. Errors name the file and the key. Free with ferry_device_free. */
int ferry_device_load(const char *dir, ferry_device_t **out);
void ferry_device_free(ferry_device_t *dev);
/* Writes device.plist, apps.plist, books.plist, keychain.plist and profiles/index.plist atomically
 * (each file), then regenerates the derived files of the configuration-profiles domain
 * (CloudConfigurationDetails.plist, MDM.plist, profile-<hash>.stub). */
int ferry_device_save(ferry_device_t *dev);

/* The facts the rules engine reads (ferry/policy.h), filled from the device: identity, enrollment,
 * accounts, state, profiles with their payloads (hardware-bound ACME keys, ThisDeviceOnly private
 * keys), apps, books, the effective restrictions after B13 and, when walk_files is set, the data
 * categories present under files/ and in the keychain. The assignment is the device directory's view
 * (AssignmentService, EmployeePlan, do_not_use_profile_from_backup); a device-assignment service may
 * answer otherwise. The arrays are allocated: release them with ferry_device_facts_free(). */
int ferry_device_facts(const ferry_device_t *dev, int walk_files, ferry_device_facts_t *out);
void ferry_device_facts_free(ferry_device_facts_t *f);

/* The enrollment type, derived from the installed com.apple.mdm payload and the cloud configuration
 * (mdm.md §6.2 step 2). */
ferry_enrollment_t ferry_device_enrollment(const ferry_device_t *dev);
/* The installed profile carrying com.apple.mdm, or NULL. */
const ferry_installed_profile_t *ferry_device_enrollment_profile(const ferry_device_t *dev);
/* The payload named by the MDM payload's IdentityCertificateUUID (ACME, SCEP or PKCS12), or NULL. */
const ferry_payload_t *ferry_device_mdm_identity(const ferry_device_t *dev);
const ferry_app_t *ferry_device_find_app(const ferry_device_t *dev, const char *bundle_id);

/* Every com.apple.applicationaccess payload dictionary, in profile order (borrowed pointers into dev;
 * *out malloc'd, free() it). */
int ferry_device_restrictions_payloads(const ferry_device_t *dev, plist_t **out, size_t *n);
/* The effective restrictions after rule B13 (a new dict; plist_free it). *conflicts (optional) gets a
 * new array of the keys set in more than one payload. */
int ferry_device_effective_restrictions(const ferry_device_t *dev, plist_t *out, plist_t *conflicts);

/* A summary for `ferry device show`, under Apple's key names (a new dict; plist_free it). Secrets
 * (passwords, challenges, keys, v_Data) are left out. walk_files=1 also counts files/ per category. */
int ferry_device_describe(const ferry_device_t *dev, int walk_files, plist_t *out);

/* ---- data files --------------------------------------------------------------------------------- */

typedef struct {
    const char *domain;
    const char *relpath;
    uint64_t size;
    unsigned category; /* FERRY_CAT_* bit, 0 for none */
    int protection_class;
} ferry_device_file_t;

typedef int (*ferry_device_file_cb)(const ferry_device_file_t *f, void *ctx);
/* Calls cb for every regular file under files/, domains and paths in byte order; stops at the first
 * non-zero return and returns it. Symlinks and names that fail the safe-path checks are refused. */
int ferry_device_files_walk(const ferry_device_t *dev, ferry_device_file_cb cb, void *ctx);

/* ---- writing a backup without the protocol (backup_build.c) -------------------------------------- */

typedef struct {
    ferry_backup_options_t plan;   /* host or iCloud, --encrypted, account (ferry/policy.h) */
    /* The password of an encrypted backup when the device has none set (a host that turns encryption
     * on sets one first; an iCloud Backup is always encrypted). The device's own backup password,
     * when set, always wins. Borrowed; NULL when none. */
    const char *password;
    size_t password_len;
    ferry_keybag_params_t kdf;     /* 0 = a device's defaults (DPIC 10,000,000, ITER 10,000) */
    int64_t date;                  /* 0 = now */
    /* An unlocked keybag the device keeps from one encrypted backup to the next (the served device's
     * backup keybag), or NULL for a new one. With it, each file's key is derived from the keybag and
     * the file's content, so a file that did not change has the same EncryptionKey and blob bytes as in
     * the previous backup, and an incremental backup re-sends only what changed. Borrowed. */
    const ferry_keybag_t *keybag;
} ferry_device_backup_opts_t;

void ferry_device_backup_opts_init(ferry_device_backup_opts_t *o);

/* Writes the backup the device makes (the same content it serves over mobilebackup2) into
 * out_udid_dir with the backup writer: the backup plan of ferry/policy.h (B rules) decides what goes
 * in, and this follows it item by item: categories, app data (B8, B11, B14), enterprise books (B7),
 * the management configuration (B9), the MDM enrollment profile and MDM.plist (B10), profiles; store
 * books and app binaries never (B2). The keychain export (KeychainDomain/keychain-backup.plist) is
 * generated from keychain.plist when the plan includes passwords; items that never migrate (akpu,
 * hardware-bound keys) are left out. Encrypted when the plan says so, with the device's backup
 * password or opts->password (FERRY_EPASSWORD when neither is available). A backup the device would
 * not start (B4, B5, B6) is FERRY_EINVAL with the refusal as message, and nothing is written. When
 * plan_out is not NULL it receives the plan (free with ferry_plan_free), also on a refusal. */
int ferry_device_backup_write(const ferry_device_t *dev, const ferry_device_backup_opts_t *opts,
                              const char *out_udid_dir, ferry_plan_t *plan_out);

/* ---- templates and creation --------------------------------------------------------------------- */

typedef struct {
    const char *template_name;
    uint64_t seed;
    uint64_t files;     /* bulk synthetic files (camera roll, app data); default 20 */
    uint64_t size;      /* their total bytes; default 2 MiB */
    const char *mdm_url; /* ServerURL/CheckInURL of the MDM payload, or NULL for the default */
    const char *name;    /* DeviceName, or NULL for the template's */
} ferry_device_create_opts_t;

void ferry_device_create_opts_init(ferry_device_create_opts_t *o);
/* Creates the device directory dir (which must not exist, or be empty) from a template, atomically:
 * it is built under a temporary sibling and renamed into place. Same template, options and seed give
 * byte-identical files (docs/device-format.md). */
int ferry_device_create(const char *dir, const ferry_device_create_opts_t *opts);
/* Template names, NULL-terminated, and a one-line description of each. */
const char *const *ferry_device_template_names(void);
const char *ferry_device_template_summary(const char *name);

/* ---- editing -----------------------------------------------------------------------------------
 * Each call changes the in-memory device, checks the result (the same checks as loading), and only
 * then writes the directory. A failure leaves the directory unchanged; the in-memory device may then
 * differ from it, so free it and load the directory again before further use. */

/* Installs a .mobileconfig (copied byte for byte into profiles/). A profile with the same
 * PayloadIdentifier is replaced; a second com.apple.mdm payload is refused. */
int ferry_device_install_profile(ferry_device_t *dev, const char *path, ferry_profile_source_t source);
/* The same from bytes (an InstallProfile command); name is used in messages. */
int ferry_device_install_profile_data(ferry_device_t *dev, const uint8_t *data, size_t len, const char *name,
                                      ferry_profile_source_t source);
/* Removes the profile whose PayloadIdentifier (or file name) is id, with the keychain items its
 * payloads installed. */
int ferry_device_remove_profile(ferry_device_t *dev, const char *id);

typedef struct {
    const char *bundle_id;
    const char *name;         /* NULL: the bundle ID */
    int managed;
    int64_t management_flags; /* MDM-managed */
    const char *declaration_id; /* non-NULL: managed declaratively */
    int include_in_backup;    /* DDM only */
    int placeholder;
    uint64_t data_size;       /* synthetic data written under files/AppDomain-<id>/Documents */
    uint64_t seed;
} ferry_app_install_t;
void ferry_app_install_init(ferry_app_install_t *a);
int ferry_device_install_app(ferry_device_t *dev, const ferry_app_install_t *a);
/* Removes the app and its AppDomain-<id> data. */
int ferry_device_remove_app(ferry_device_t *dev, const char *bundle_id);

/* Sets one identity/state/account/management key from its text form ("true", "off", "12.5"...).
 * key is the device.plist name (e.g. "IsLocked") or an alias listed by ferry_device_set_keys()
 * ("locked", "power", "wifi", "passcode"...). The backup password is not set here. */
int ferry_device_set(ferry_device_t *dev, const char *key, const char *value);
/* The settable keys: NULL-terminated array of "Name" strings, and the alias of each (or NULL). */
const char *const *ferry_device_set_keys(void);
const char *ferry_device_set_alias(const char *key);

/* Backup password (the emulated device keybag, keybag.plist): wrapped with the device's hardware key
 * (hardware.key). pw==NULL or pwlen==0 removes it. */
int ferry_device_set_backup_password(ferry_device_t *dev, const char *pw, size_t pwlen);
/* *pw is malloc'd and NUL-terminated; the caller ferry_wipe()s and frees it. FERRY_ENOTFOUND when
 * none is set. */
int ferry_device_get_backup_password(const ferry_device_t *dev, char **pw, size_t *pwlen);
/* 0 when pw is the device's backup password, FERRY_EPASSWORD otherwise. */
int ferry_device_check_backup_password(const ferry_device_t *dev, const char *pw, size_t pwlen);

/* ---- the device's side of MDM (mdm_apply.c, unenroll.c, enroll.c, identity.c) -------------------
 * What a check-in does to the device directory, on the device model only: the check-in client and
 * the HTTP transport are the MDM module's, glued to these functions by `ferry device checkin`. */

/* Runs one MDM command on the device: command is the server's {CommandUUID, Command} dict or the
 * Command dict itself ({RequestType, ...}), borrowed. *result gets a new dict of Apple's result keys
 * (DeviceInformation QueryResponses, ProfileList, ManagedApplicationList, InstalledApplicationList,
 * ManagedMediaList, InstallApplication/InstallMedia state; ErrorChain on failure), *status the
 * Status to send: "Acknowledged", "Error" or "CommandFormatError". Each change is saved at once;
 * when a change fails, *dev is reloaded from its directory (which the failure left unchanged).
 * Returns 0 whenever the command was answered (also with Error), a FERRY_E* code when the device
 * could not be reloaded (then *dev is NULL). */
int ferry_device_mdm_command(ferry_device_t **dev, plist_t command, plist_t *result, const char **status);

/* Ends the enrollment as the rules say (ferry_policy_unenroll_plan: S3, E1, E2, U3; cause as there):
 * removes the enrollment profile and the profiles the MDM installed (with their keychain items),
 * removes the apps the plan removes with their data, turns the other managed apps into unmanaged
 * ones, keeps books, the management configuration and everything else, clears the check-in state,
 * and saves. done (may be NULL) receives the plan that was carried out (ferry_policy_unenroll_free).
 * FERRY_ENOTFOUND when the device is not enrolled, except for the restore causes "S7" and "D1",
 * which remove what a missing enrollment installed (E1; the caller of a restore that knows the
 * backup's enrollment was ue-* or de-account removes its managed apps itself, U3). */
int ferry_device_unenroll(ferry_device_t *dev, const char *cause, ferry_unenroll_plan_t *done);

/* Automated Device Enrollment (D2, S4, V1): sets the management configuration from ade_profile (a
 * dict with the define-profile keys of spec/mdm.md §12.4: url, is_supervised, is_mandatory,
 * is_mdm_removable, is_multi_user, await_device_configured, do_not_use_profile_from_backup,
 * profile_name, org_name) and installs the enrollment profile (the .mobileconfig bytes the
 * assignment service returned) as the Enrollment source, then saves. FERRY_EEXIST when enrolled. */
int ferry_device_enroll_ade(ferry_device_t *dev, plist_t ade_profile, const uint8_t *enrollment_profile,
                            size_t len);

/* The MDM identity's key material as the device keeps it (docs/device-format.md "MDM identity"):
 * a com.apple.security.pkcs12 payload gives its PKCS#12 blob and Password; an ACME or SCEP payload
 * (whose key the device generates) gives the DER certificate and PKCS#8 key stored in the v_Data of
 * that payload's keychain items, when the device has them. */
typedef struct {
    char *payload_type;      /* the identity payload's PayloadType */
    char *payload_uuid;
    int hardware_bound;      /* ACME HardwareBound (S4) */
    uint8_t *pkcs12; size_t pkcs12_len; char *password; /* pkcs12 only */
    uint8_t *cert_der; size_t cert_len;                 /* acme/scep, when stored */
    uint8_t *key_der; size_t key_len;                   /* acme/scep, when stored */
} ferry_device_identity_t;

/* FERRY_ENOTFOUND when the device is not enrolled or has no identity payload. */
int ferry_device_identity_get(const ferry_device_t *dev, ferry_device_identity_t *out);
/* Wipes the secrets and frees. */
void ferry_device_identity_clear(ferry_device_identity_t *id);
/* Stores a certificate and PKCS#8 private key (DER) for the ACME or SCEP identity payload in its
 * keychain items (cert and keys of that PayloadUUID) and saves. */
int ferry_device_identity_store(ferry_device_t *dev, const uint8_t *cert, size_t cert_len, const uint8_t *key,
                                size_t key_len);

/* The device's check-in state, device.plist "MDMCheckIn" (ferry). */
typedef struct {
    int Authenticated;   /* this enrollment sent an accepted Authenticate */
    int TokenUpdated;    /* and an accepted TokenUpdate: later check-ins only poll for commands */
    int RestorePending;  /* a restore completed: the next check-in is the S2 TokenUpdate */
    int64_t LastCheckIn; /* Unix seconds, 0 when never */
    int64_t LastStatus;  /* HTTP status of the last answer, 0 when none */
    char LastOutcome[64]; /* "accepted", "rejected-401", "rejected-403", "kept", "unenrolled", ... */
} ferry_device_checkin_state_t;
void ferry_device_checkin_state(const ferry_device_t *dev, ferry_device_checkin_state_t *out);
/* Writes the state into device.plist and saves. */
int ferry_device_set_checkin_state(ferry_device_t *dev, const ferry_device_checkin_state_t *st);
/* ---- iCloud Backup, simulated (icloud.c; RULES.md B4, B5, B11, U1) --------------------------------
 * The store is a folder standing for iCloud: STORE/<Apple Account>/<UDID>/ holds the latest backup
 * of that device to that account (Finder layout, always encrypted with the account's key, kept in
 * STORE/<Apple Account>/key). */

typedef struct {
    ferry_backup_account_t account; /* personal (default) or managed */
    int manual;                     /* "Back Up Now": needs only Wi-Fi (B4); else the automatic backup */
    ferry_keybag_params_t kdf;      /* 0 = a device's defaults; tests use small values */
    int64_t date;                   /* 0 = now */
} ferry_icloud_backup_opts_t;
void ferry_icloud_backup_opts_init(ferry_icloud_backup_opts_t *o);
/* The device backs itself up to the account's store when the rules let it (B4: a signed-in account,
 * locked + power + Wi-Fi for the automatic backup, which also needs IsCloudBackupEnabled; Wi-Fi for
 * Back Up Now; B5: allowCloudBackup), with the content of the iCloud backup plan (B11 for a Managed
 * Apple Account on ue-* and de-account), replacing the previous backup only once the new one is
 * complete, and records LastCloudBackupDate. A refusal is FERRY_EINVAL naming the rule; nothing is
 * written. *path_out (may be NULL) receives the backup's folder; plan_out (may be NULL) the plan. */
int ferry_device_icloud_backup(ferry_device_t *dev, const char *store, const ferry_icloud_backup_opts_t *o,
                               char **path_out, ferry_plan_t *plan_out);

typedef struct {
    const char *account;      /* the Apple Account signed in at the restore (Setup Assistant), or the
                                 Managed Apple Account that started the enrollment (enrollment_flow) */
    const char *source_udid;  /* the device whose backup is restored */
    int enrollment_flow;      /* U1: offered inside a ue-* or de-account enrollment; the device is not erased */
    int user_declines;        /* U1: the user does not accept the offered restore */
    ferry_host_type_t host;   /* S5 */
    unsigned skip_categories; /* X1 */
} ferry_icloud_restore_opts_t;
void ferry_icloud_restore_opts_init(ferry_icloud_restore_opts_t *o);
/* Restores the account's backup of source_udid onto the device directory: erase and restore (every
 * file of the device comes from the backup, then the plan's items as after a host restore; the
 * device then checks in at its next opportunity, S2), or inside the enrollment flow only the managed
 * app data the plan restores (U1, U2). A refused restore (R3, R5, U1, ...) is FERRY_EINVAL with the
 * reason and changes nothing. plan_out (may be NULL) receives the plan the device followed. */
int ferry_device_icloud_restore(const char *dir, const char *store, const ferry_icloud_restore_opts_t *o,
                                ferry_plan_t *plan_out);

/* ==== the emulated device on the wire (ferry device serve) =======================================
 * src/device/serve.c and the protocol files next to it: usbmuxd, lockdownd with session TLS,
 * notification_proxy, installation_proxy, AFC and mobilebackup2 over DeviceLink, as the unmodified
 * libimobiledevice 1.3.0 tools expect them (spec/device-protocol.md). */

typedef struct {
    const char *listen;        /* "UNIX:/path/to/socket" or "HOST:PORT" */
    const char *state_dir;     /* pair records, device keys, AFC roots; NULL: "<socket path>.d" (UNIX)
                                  or "ferry-serve-<port>.d" (TCP) */
    int verbose;               /* log every request at FERRY_LOG_INFO */
    uint32_t kdf_dpic;         /* DPIC of the keybags of encrypted backups; 0 = what devices use
                                  (FERRY_DEFAULT_DPIC, 10 million); smaller only for tests and demos */
    void (*ready)(void *ctx);  /* called once the socket listens, or NULL */
    void *ready_ctx;
    /* Called after each completed restore (the host already has its result: the device "reboots"),
     * with the device directory, holding that device's lock; the served model is reloaded from the
     * directory afterwards. For the S2 check-in, which the CLI glues in (the device module knows no
     * MDM client). Its return value is only logged. NULL: nothing happens. */
    int (*restored)(const char *dir, void *ctx);
    void *restored_ctx;
    /* Restore request options a host may send (mobilebackup2 Restore Options `HostType`, a string
     * "finder"/"configurator": S5, R4; `SkipCategories`, an array of category names: X1). These are
     * the device's defaults when a request does not carry them, for hosts that cannot send them
     * (idevicebackup2). Zero: finder, nothing skipped. */
    ferry_host_type_t restore_host;
    unsigned restore_skip_categories;
} ferry_serve_opts_t;

/* Serves the device directories until ferry_device_serve_stop() is called (from a signal handler:
 * it only sets a flag), then closes every connection and returns 0. Errors (a directory that is not a
 * device, the same device twice, a socket that cannot be bound) are returned before serving starts. */
int ferry_device_serve(const char *const *dirs, size_t n, const ferry_serve_opts_t *opts);
void ferry_device_serve_stop(void);
/* Relays com.apple.itunes-client.syncCancelRequest to every host connection of every served device
 * that observes it (within 200 ms), as when the user cancels a sync on the device. Only sets a flag:
 * safe in a signal handler. */
void ferry_device_serve_cancel_sync(void);

#ifdef __cplusplus
}
#endif
#endif
