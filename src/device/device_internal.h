/*
 * device_internal.h: what the files of src/device share and nobody else uses: the deterministic
 * random generator, the device.plist key table, plist and string helpers, the deterministic PKI used
 * by templates, the payload rules of the profile parser, and the writers of data files.
 */
#ifndef FERRY_DEVICE_INTERNAL_H
#define FERRY_DEVICE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ferry/backup.h"
#include "ferry/device.h"

#define DEV_CONFIG_DOMAIN FERRY_BACKUP_CONFIG_DOMAIN
#define DEV_CONFIG_DIR FERRY_BACKUP_CONFIG_DIR
#define DEV_FORMAT_VERSION 1
#define DEV_MAX_PLIST (64u * 1024 * 1024)
#define DEV_MAX_PROFILE (16u * 1024 * 1024)
/* Fixed modification time of generated data files (2025-01-01T00:00:00Z), so that backups of two
 * devices made from the same seed are identical too. */
#define DEV_BASE_TIME 1735689600

/* ---- deterministic randomness (xoshiro256**, seeded through splitmix64) ------------------------- */

typedef struct {
    uint64_t s[4];
} dev_rng_t;

/* Seeds from the user's seed and a label, so that every stream (one per file, key, UUID) is
 * independent of the order in which the others are drawn. */
void dev_rng_seed(dev_rng_t *r, uint64_t seed, const char *label);
uint64_t dev_rng_next(dev_rng_t *r);
uint64_t dev_rng_below(dev_rng_t *r, uint64_t n); /* uniform in [0, n), n > 0 */
void dev_rng_fill(dev_rng_t *r, void *buf, size_t len);
/* An upper-case RFC 4122-looking UUID derived from (seed, label); out holds 37 bytes. */
void dev_uuid(uint64_t seed, const char *label, char out[37]);

/* ---- small helpers ------------------------------------------------------------------------------ */

char *dev_strdup(const char *s);                   /* NULL-safe; NULL on NULL */
void dev_dict_set_str(plist_t d, const char *k, const char *v);   /* skips NULL v */
void dev_dict_set_bool(plist_t d, const char *k, int v);
void dev_dict_set_uint(plist_t d, const char *k, uint64_t v);
void dev_dict_set_data(plist_t d, const char *k, const void *v, size_t len);
/* Optional typed getters for checked loading: a missing key keeps *out and returns 0; a key of
 * another type is an error naming what/key. */
int dev_opt_str(plist_t d, const char *key, char **out, const char *what);
int dev_opt_bool(plist_t d, const char *key, int *out, const char *what);
int dev_opt_int(plist_t d, const char *key, int64_t *out, const char *what);
int dev_opt_data(plist_t d, const char *key, uint8_t **out, size_t *len, const char *what);
int dev_is_bundle_id(const char *s); /* safe as a domain suffix: [A-Za-z0-9.-_], not empty */
/* rm -rf path; 0 when absent. */
int dev_rmtree(const char *path);
/* malloc'd dir/a/b... joined by '/'. */
char *dev_path(const char *a, const char *b, const char *c);

/* ---- device.plist key table (keys.c) ------------------------------------------------------------ */

typedef enum { DK_STRING, DK_BOOL, DK_UINT, DK_DATE } dev_key_type_t;

typedef struct {
    const char *section;   /* "Identity", "State", "Accounts", "Management" */
    const char *name;      /* the key in that section */
    const char *alias;     /* `ferry device set` alias, or NULL */
    dev_key_type_t type;
    size_t offset;         /* into ferry_device_t */
    int required;          /* must be in device.plist */
    int settable;          /* `ferry device set` may change it */
    int64_t dflt;          /* default of optional bool/uint keys */
} dev_key_t;

extern const dev_key_t dev_keys[];
extern const size_t dev_n_keys;
const dev_key_t *dev_key_find(const char *name_or_alias);
/* Reads the table's keys from device.plist (dev->plist) into dev's fields; errors name the key. */
int dev_keys_load(ferry_device_t *dev, const char *what);
/* Writes dev's fields into a copy of dev->plist (unknown keys kept); returns the new dict. */
plist_t dev_keys_build(const ferry_device_t *dev);
int dev_key_parse_value(const dev_key_t *k, const char *text, ferry_device_t *dev);
/* The invariants every loaded or edited device satisfies (device.c); what names device.plist. */
int dev_check_invariants(const ferry_device_t *dev, const char *what);

/* ---- lists: apps, books, keychain, profile index (lists.c, keychain.c) -------------------------- */

/* One app dictionary (the checks of apps.plist); what starts every message. */
int dev_app_from_dict(plist_t d, ferry_app_t *a, const char *what);
int dev_apps_from_plist(plist_t arr, const char *what, ferry_app_t **out, size_t *n);
plist_t dev_apps_to_plist(const ferry_app_t *apps, size_t n);
void dev_app_clear(ferry_app_t *a);
int dev_books_from_plist(plist_t arr, const char *what, ferry_book_t **out, size_t *n);
plist_t dev_books_to_plist(const ferry_book_t *b, size_t n);
void dev_book_clear(ferry_book_t *b);
int dev_keychain_from_plist(plist_t dict, const char *what, ferry_keychain_item_t **out, size_t *n);
plist_t dev_keychain_to_plist(const ferry_keychain_item_t *it, size_t n);
void dev_keychain_item_clear(ferry_keychain_item_t *it);
/* Replaces the keychain items installed by the payloads of profile p (PayloadUUID) with the items the
 * device derives from it: certificates, identities, Wi-Fi passwords, ACME/SCEP keys. */
int dev_keychain_sync_profile(ferry_device_t *dev, const ferry_profile_t *p);
/* Removes the items whose PayloadUUID belongs to p. */
void dev_keychain_drop_profile(ferry_device_t *dev, const ferry_profile_t *p);

/* ---- profiles (profile.c, payload_rules.c, cms.c) ---------------------------------------------- */

typedef struct {
    const char *type;   /* PayloadType */
    const char *key;
    plist_type ptype;
    int required;
} dev_payload_rule_t;

extern const dev_payload_rule_t dev_payload_rules[];
extern const size_t dev_n_payload_rules;
/* Type and semantic checks of one payload (index i in PayloadContent) of profile p. */
int dev_payload_check(const ferry_profile_t *p, size_t i, const char *name);
/* CMS SignedData: checks the signature against the embedded signer and returns the content. */
int dev_cms_unwrap(const uint8_t *der, size_t len, const char *name, uint8_t **content, size_t *clen,
                   char **signer);
/* A file name for a profile: the sanitised PayloadIdentifier + ".mobileconfig" (malloc'd). */
char *dev_profile_file_name(const char *identifier);
int dev_profile_index_load(ferry_device_t *dev);
plist_t dev_profile_index_build(const ferry_device_t *dev);

/* ---- deterministic PKI for templates (pki.c) ---------------------------------------------------- */

typedef struct dev_pki dev_pki_t;
int dev_pki_new(uint64_t seed, dev_pki_t **out);
void dev_pki_free(dev_pki_t *p);
int dev_pki_rsa(dev_pki_t *p, int bits, EVP_PKEY **out);
int dev_pki_ec(dev_pki_t *p, EVP_PKEY **out); /* P-256 */
/* A certificate for key, issued by (issuer, issuer_key) or self-signed when issuer is NULL. */
int dev_pki_cert(EVP_PKEY *key, const char *cn, const char *org, uint64_t serial, int is_ca, X509 *issuer,
                 EVP_PKEY *issuer_key, X509 **out);
/* DER outputs of dev_pki_cert_der, dev_pki_pkcs12 and dev_pki_cms_sign: OPENSSL_free() them. */
int dev_pki_cert_der(X509 *c, uint8_t **der, size_t *len);
int dev_pki_pkcs12(dev_pki_t *p, EVP_PKEY *key, X509 *cert, const char *password, const char *name,
                   uint8_t **der, size_t *len);
/* CMS SignedData with the content embedded, a fixed signing time, RSA PKCS#1 v1.5: deterministic. */
int dev_pki_cms_sign(dev_pki_t *p, const uint8_t *content, size_t len, X509 *cert, EVP_PKEY *key,
                     uint8_t **out, size_t *outlen);

/* ---- data files (synth.c, datafiles.c, derived.c) ---------------------------------------------- */

/* Writes size bytes of deterministic content (stream label) to path in bounded chunks; creates the
 * parent directories (0700) and the file (0600, O_EXCL) and sets the fixed mtime. */
int dev_write_synthetic(const char *path, uint64_t size, uint64_t seed, const char *label);
/* Writes a plist data file (XML or binary) under files/<domain>/<relpath> with the fixed mtime. */
int dev_write_data_plist(const char *dir, const char *domain, const char *relpath, plist_t p, int xml);
int dev_write_data_synthetic(const char *dir, const char *domain, const char *relpath, uint64_t size,
                             uint64_t seed);
/* Total bytes of the regular files under path (0 when absent). */
int dev_tree_size(const char *path, uint64_t *out);
/* MDMAppManagement.plist (app_management.c): whether the device has anything to record, and the dict
 * (a new plist, or NULL when nothing to record). */
int dev_app_management_needed(const ferry_device_t *dev);
plist_t dev_app_management_build(const ferry_device_t *dev);
/* "profile-<40 hex>.stub": the generated stub's name for a profile (malloc'd; NULL on ENOMEM). */
char *dev_profile_stub_name(const char *identifier);
/* Rewrites the generated files of the configuration-profiles domain from the model. */
int dev_derived_write(const ferry_device_t *dev);

/* ---- restore (restore_apply.c) ------------------------------------------------------------------ */

/* Carries out every item of a restore plan on the model after the data files were written (profiles,
 * enrollment, management configuration, apps, books, categories, R1) and marks the device restored
 * (MDMCheckIn RestorePending). c and bf are the restored backup's content and facts. */
/* ---- a restore's plan and files (restore_files.c), whatever carried the backup ---------------------- */
typedef struct {
    const char *dir;               /* the device directory */
    ferry_device_t *model;         /* its model (the caller holds the device's lock) */
    int system, preserve_settings, remove_missing; /* RestoreSystemFiles, ...PreserveSettings, RemoveItemsNotRestored */
    ferry_restore_options_t ro;    /* host type (S5, R4), skip_categories (X1), enrollment_account (U1) */
    int target_as_is;              /* U1: plan against the device as it is, not as an erased one */
    ferry_plan_t plan;
    int have_plan;
    ferry_backup_content_t content; /* the backup's management files (restore_apply.c) */
    ferry_backup_facts_t facts;
    int have_facts;
    uint64_t restored, removed;    /* files written, device files removed */
    plist_t keychain;              /* the backup's keychain export, when the plan restores passwords */
    size_t keychain_in, keychain_out; /* its items imported, and left out (ThisDeviceOnly elsewhere, ...) */
} dev_restore_job_t;
/* Asks the rules engine; FERRY_EINVAL with the refusal in why when the device refuses the restore. */
int dev_restore_job_plan(dev_restore_job_t *j, ferry_backup_t *b, char *why, size_t whylen);
/* The plaintext bytes the restore would write. */
uint64_t dev_restore_job_size(dev_restore_job_t *j, ferry_backup_t *b);
/* Writes the files the plan allows, removes what RemoveItemsNotRestored says, then applies the plan's
 * other items (dev_restore_apply, or dev_restore_apply_enrollment_flow on the U path). */
int dev_restore_job_apply(dev_restore_job_t *j, ferry_backup_t *b);
void dev_restore_job_clear(dev_restore_job_t *j);
/* U1-U3: inside the enrollment flow only managed app data moves: placeholders for the apps the plan
 * restores, installed apps left as they are (U2); nothing else on the device changes. */
int dev_restore_apply_enrollment_flow(ferry_device_t *dev, const ferry_plan_t *plan, const ferry_backup_facts_t *bf);
int dev_restore_apply(ferry_device_t *dev, const ferry_plan_t *plan, const ferry_backup_content_t *c,
                      const ferry_backup_facts_t *bf);
/* restore_keychain.c: replaces the keychain with the importable items of a backup's keychain export
 * (B3 ThisDeviceOnly only onto the same device, R6/akpu never) and saves; counts in imported/left. */
int dev_restore_keychain(ferry_device_t *dev, plist_t export, int same_device, size_t *imported, size_t *left);
/* The restore target as the rules see it: dev's facts as an erased device (shallow copy). */
void dev_restore_target_erased(const ferry_device_facts_t *dev, ferry_device_facts_t *t);

/* ---- file_keys.c: content-derived file keys of encrypted backups ----------------------------------- */

/* key = HMAC-SHA256(class key of pclass, domain | relpath | SHA-256 of the content): the same key (and
 * so the same blob) for the same content in the same keybag. From a file, or from memory. */
int dev_file_key_path(const ferry_keybag_t *kb, int32_t pclass, const char *domain, const char *relpath,
                      const char *path, uint8_t key[FERRY_KEY_LEN]);
int dev_file_key_mem(const ferry_keybag_t *kb, int32_t pclass, const char *domain, const char *relpath,
                     const void *data, size_t len, uint8_t key[FERRY_KEY_LEN]);

/* ---- backup_build.c: a backup that skips the blobs the receiver already holds (mb2_backup.c) ------- */

struct stat;
/* known: 1 when the receiver already holds the blob of this file of files/ (unchanged since the last
 * backup as st tells), then only its Manifest.db row is written; 0 to write it; < 0 an error. Consulted
 * for unencrypted backups only. added: each file of files/ that went in, with the stat it was decided
 * on and whether it was known. */
typedef struct {
    int (*known)(void *ctx, const char *domain, const char *relpath, const struct stat *st);
    int (*added)(void *ctx, const char *domain, const char *relpath, const struct stat *st, int known);
    void *ctx;
    int private_staging; /* a folder the caller reads and removes: plain blobs are hard links to the
                            device's files, and the writer does not sync it */
} dev_backup_hook_t;
/* ferry_device_backup_write with a hook (NULL: the same). */
int dev_backup_write_hooked(const ferry_device_t *dev, const ferry_device_backup_opts_t *opts,
                            const char *out_udid_dir, ferry_plan_t *plan_out, const dev_backup_hook_t *hook);

#endif
