/*
 * ferry/backup.h: the on-disk backup format (Finder / iTunes / Apple Configurator / idevicebackup2
 * layout, Manifest.db era): MBFile records, the backup keybag and its cryptography, the three plists,
 * Manifest.db, a reader with streaming decryption, a streaming writer, extraction and verification.
 * The format is specified in ../shared/spec/backup-format.md; section numbers below refer to it.
 *
 * This module knows nothing of devices, MDM or policy. It never trusts a byte it reads: every record
 * is validated before a path is built from it.
 *
 * Ownership: *_free / *_clear release what the matching constructor or decoder allocated; pointers
 * returned by accessors are borrowed and live as long as their owner.
 */
#ifndef FERRY_BACKUP_H
#define FERRY_BACKUP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <plist/plist.h>
#include "ferry/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- constants --------------------------------------------------------------------------------- */

enum { FERRY_FLAG_FILE = 1, FERRY_FLAG_DIR = 2, FERRY_FLAG_SYMLINK = 4 }; /* Files.flags (§4.1) */

#define FERRY_KEY_LEN 32        /* AES-256 keys: class keys, file keys, KEK, ManifestDBKey */
#define FERRY_WRAPPED_LEN 40    /* RFC 3394 wrap of a 32-byte key */
#define FERRY_PREFIXED_KEY_LEN 44 /* u32LE class | 40-byte wrap: ManifestKey, EncryptionKey (§6.5) */

/* Denial-of-service guards on keybag KDF parameters (§15.2). Raise them explicitly with
 * ferry_kdf_limits_t; both are checked before any derivation. */
#define FERRY_DEFAULT_MAX_DPIC 100000000u
#define FERRY_DEFAULT_MAX_ITER 10000000u
#define FERRY_DEFAULT_DPIC 10000000u   /* what devices use (§6.3) */
#define FERRY_DEFAULT_ITER 10000u

/* ---- data categories (backup-format.md §11.2; RULES.md B1, B3) ------------------------------------ */

/* The data categories a backup's files belong to, as bits: the five of B3 (what an unencrypted backup
 * never holds) and photos (B1). ferry/policy.h's FERRY_CAT_* have the same values. */
typedef enum {
    FERRY_BACKUP_CAT_NONE = 0,
    FERRY_BACKUP_CAT_PASSWORDS = 1u << 0,
    FERRY_BACKUP_CAT_CALL_HISTORY = 1u << 1,
    FERRY_BACKUP_CAT_HEALTH = 1u << 2,
    FERRY_BACKUP_CAT_WEBSITE_HISTORY = 1u << 3,
    FERRY_BACKUP_CAT_WIFI = 1u << 4,
    FERRY_BACKUP_CAT_PHOTOS = 1u << 5,
} ferry_backup_category_t;

/* The domain where a device keeps its configuration profiles and management state (§11.2). */
#define FERRY_BACKUP_CONFIG_DOMAIN "SysSharedContainerDomain-systemgroup.com.apple.configurationprofiles"
#define FERRY_BACKUP_CONFIG_DIR "Library/ConfigurationProfiles"

/* The category (one FERRY_BACKUP_CAT_* bit, or 0) of the file (domain, relpath), from the single table
 * in src/backup/categories.c; NULL arguments give 0. */
unsigned ferry_backup_path_category(const char *domain, const char *relpath);
/* The default file protection class (1-4, §10.1) of that file: 3 unless the table says otherwise. */
int ferry_backup_path_protection_class(const char *domain, const char *relpath);

/* ---- fileID (§3) ------------------------------------------------------------------------------- */

/* out = lower-case hex SHA-1(domain "-" relativePath). */
void ferry_fileid(const char *domain, const char *relpath, char out[41]);
/* 0 when fileid is 40 lower-case hex characters equal to the rule for (domain, relpath); otherwise
 * FERRY_EUNSAFE with a message naming the fileID. */
int ferry_fileid_check(const char *fileid, size_t fileid_len, const char *domain, const char *relpath);

/* ---- MBFile record: the NSKeyedArchiver `file` column (§5) -------------------------------------- */

typedef struct {
    char *relative_path;          /* RelativePath ("" for a domain root) */
    char *target;                 /* Target, symlinks only; NULL when absent */
    int has_digest;
    uint8_t digest[20];           /* Digest */
    int has_encryption_key;
    uint8_t encryption_key[FERRY_PREFIXED_KEY_LEN]; /* EncryptionKey NS.data: u32LE class | wrap */
    int32_t mode;                 /* Mode, full st_mode with type bits */
    int64_t inode;                /* InodeNumber */
    int32_t uid, gid;             /* UserID, GroupID (signed: -2 occurs) */
    int64_t mtime, ctime, birth;  /* LastModified, LastStatusChange, Birth: Unix seconds */
    int64_t size;                 /* Size: plaintext length */
    int has_protection_class;
    int32_t protection_class;     /* ProtectionClass */
    uint8_t *xattrs;              /* ExtendedAttributes: binary-plist bytes as stored, or NULL */
    size_t xattrs_len;
    int32_t bsd_flags;            /* Flags (st_flags) */
} ferry_mbfile_t;

/* Decodes a record defensively (§5.3, §15.2 "Malformed MBFile"): bplist or XML, $top.root resolved
 * without assuming index 1, every UID bounds-checked, EncryptionKey as {NS.data}, raw data or nested
 * UID. FERRY_EFORMAT with a message naming the key on any problem. */
int ferry_mbfile_decode(const uint8_t *data, size_t len, ferry_mbfile_t *out);
/* Encodes as Apple does (§5.2): $version 100000, fewer than 128 objects, binary plist. *out is
 * malloc'd. */
int ferry_mbfile_encode(const ferry_mbfile_t *f, uint8_t **out, size_t *len);
void ferry_mbfile_clear(ferry_mbfile_t *f);

/* ---- cryptography (§6) ------------------------------------------------------------------------- */

int ferry_aes_wrap(const uint8_t kek[FERRY_KEY_LEN], const uint8_t key[FERRY_KEY_LEN],
                   uint8_t out[FERRY_WRAPPED_LEN]);
/* FERRY_EPASSWORD when the RFC 3394 integrity check fails. */
int ferry_aes_unwrap(const uint8_t kek[FERRY_KEY_LEN], const uint8_t wrapped[FERRY_WRAPPED_LEN],
                     uint8_t out[FERRY_KEY_LEN]);

/* Streaming AES-256-CBC with a zero IV. pad=1: PKCS#7 (encrypt adds it; decrypt checks and strips it
 * at final, FERRY_EINTEGRITY "bad padding" when invalid). pad=0: no padding, input must be 16-aligned. */
typedef struct ferry_cbc ferry_cbc_t;
int ferry_cbc_new(const uint8_t key[FERRY_KEY_LEN], int encrypt, int pad, ferry_cbc_t **out);
/* out must have room for inlen + 16 bytes. */
int ferry_cbc_update(ferry_cbc_t *c, const uint8_t *in, size_t inlen, uint8_t *out, size_t *outlen);
/* out must have room for 16 bytes. */
int ferry_cbc_final(ferry_cbc_t *c, uint8_t *out, size_t *outlen);
void ferry_cbc_free(ferry_cbc_t *c);

/* ---- keybag (§6.1-6.3, §6.8) ------------------------------------------------------------------- */

#define FERRY_KEYBAG_MAX_CLASSES 32

typedef struct {
    uint8_t uuid[16];
    uint32_t clas;                /* CLAS */
    uint32_t wrap;                /* WRAP: 2 = password, 1 = device UID key, 3 = both */
    uint32_t ktyp;                /* KTYP */
    int has_wpky;
    uint8_t wpky[FERRY_WRAPPED_LEN];
    int unwrapped;                /* the password layer was removed: key holds the result */
    uint8_t key[FERRY_KEY_LEN];   /* usable as a class key only when wrap == 2 */
} ferry_keybag_class_t;

typedef struct {
    uint32_t version;             /* VERS */
    uint32_t type;                /* TYPE (1 = backup) */
    uint8_t uuid[16];
    int has_hmck;
    uint8_t hmck[40];
    uint32_t wrap;                /* keybag WRAP */
    uint8_t salt[20];             /* SALT */
    uint32_t iter;                /* ITER */
    int has_dp;                   /* DPWT/DPIC/DPSL present (iOS >= 10.2 password keybags) */
    uint32_t dpwt, dpic;
    uint8_t dpsl[20];
    size_t nclasses;
    ferry_keybag_class_t classes[FERRY_KEYBAG_MAX_CLASSES]; /* in file order */
    int unlocked;
} ferry_keybag_t;

typedef struct {
    uint64_t max_dpic;            /* 0 = FERRY_DEFAULT_MAX_DPIC */
    uint64_t max_iter;            /* 0 = FERRY_DEFAULT_MAX_ITER */
} ferry_kdf_limits_t;

/* Parses the TLV container; FERRY_EFORMAT on overruns, wrong lengths (SALT/DPSL 20, WPKY 40) or too
 * many classes. *out is malloc'd; free with ferry_keybag_free. */
int ferry_keybag_parse(const uint8_t *buf, size_t len, ferry_keybag_t **out);
/* Checks the limits (FERRY_ELIMIT, before deriving anything), then KEK = PBKDF2-SHA1(PBKDF2-SHA256(pw,
 * DPSL, DPIC) or pw, SALT, ITER). */
int ferry_keybag_derive_kek(const ferry_keybag_t *kb, const char *pw, size_t pwlen,
                            const ferry_kdf_limits_t *limits, uint8_t kek[FERRY_KEY_LEN]);
/* Removes the password layer of every class with WRAP & 2. FERRY_EPASSWORD when any fails. */
int ferry_keybag_unlock(ferry_keybag_t *kb, const uint8_t kek[FERRY_KEY_LEN]);
/* The usable class key (WRAP == 2, unlocked) or FERRY_ENOTFOUND / FERRY_EPASSWORD. */
int ferry_keybag_class_key(const ferry_keybag_t *kb, uint32_t clas, const uint8_t **key);
/* wrapped = u32LE class | 40-byte wrap: unwraps with that class key; *clas gets the prefix. */
int ferry_keybag_unwrap_prefixed(const ferry_keybag_t *kb, const uint8_t wrapped[FERRY_PREFIXED_KEY_LEN],
                                 uint8_t key[FERRY_KEY_LEN], uint32_t *clas);
int ferry_keybag_wrap_prefixed(const ferry_keybag_t *kb, uint32_t clas, const uint8_t key[FERRY_KEY_LEN],
                               uint8_t out[FERRY_PREFIXED_KEY_LEN]);

typedef struct {
    uint32_t dpic;                /* 0 = FERRY_DEFAULT_DPIC */
    uint32_t iter;                /* 0 = FERRY_DEFAULT_ITER */
} ferry_keybag_params_t;

/* A new, unlocked backup keybag for a password (§6.8): classes 1-11, WRAP 2, random keys. kek_out
 * (may be NULL) receives the KEK. */
int ferry_keybag_create(const char *pw, size_t pwlen, const ferry_keybag_params_t *params,
                        ferry_keybag_t **out, uint8_t kek_out[FERRY_KEY_LEN]);
/* A keybag for an unencrypted backup, in the layout real devices use (no DPWT/DPIC/DPSL, blank
 * password; §6.7). Unlocked. */
int ferry_keybag_create_unencrypted(ferry_keybag_t **out);
/* Re-wraps every unlocked class under a new password with fresh SALT/DPSL, keeping WRAP values
 * (§6.8, password change). The keybag must be unlocked. kek_out may be NULL. */
int ferry_keybag_rewrap(ferry_keybag_t *kb, const char *newpw, size_t pwlen,
                        const ferry_keybag_params_t *params, uint8_t kek_out[FERRY_KEY_LEN]);
/* TLV bytes in the order of §6.8; *out malloc'd. */
int ferry_keybag_serialize(const ferry_keybag_t *kb, uint8_t **out, size_t *len);
/* Wipes keys and frees. NULL is fine. */
void ferry_keybag_free(ferry_keybag_t *kb);

/* ---- the three plists (§7-§9) ------------------------------------------------------------------ */

typedef struct {
    plist_t raw;                  /* the whole dict, owned */
    int is_encrypted;             /* IsEncrypted (absent = false) */
    char *version;                /* Version, or NULL */
    char *system_domains_version; /* SystemDomainsVersion, or NULL */
    int has_date;
    int64_t date;                 /* Date, Unix seconds */
    int was_passcode_set;         /* WasPasscodeSet */
    /* Lockdown: each NULL when absent */
    char *udid, *product_type, *product_version, *build_version, *serial_number, *device_name;
    uint8_t *keybag;              /* BackupKeyBag, or NULL */
    size_t keybag_len;
    int has_manifest_key;
    uint8_t manifest_key[FERRY_PREFIXED_KEY_LEN]; /* ManifestKey */
    plist_t applications;         /* Applications dict, borrowed from raw; may be NULL */
} ferry_manifest_plist_t;

/* Reads and validates types (FERRY_EFORMAT names the key); ManifestKey must be 44 bytes. */
int ferry_manifest_plist_read(const char *path, ferry_manifest_plist_t *out);
int ferry_manifest_plist_from_plist(plist_t dict, ferry_manifest_plist_t *out); /* takes ownership */
void ferry_manifest_plist_clear(ferry_manifest_plist_t *m);

typedef struct {
    plist_t raw;                  /* owned */
    char *version, *uuid, *backup_state, *snapshot_state; /* each NULL when absent */
    int has_date;
    int64_t date;
    int is_full_backup;
} ferry_status_plist_t;

int ferry_status_plist_read(const char *path, ferry_status_plist_t *out);
void ferry_status_plist_clear(ferry_status_plist_t *s);

/* What the writer and the host need to describe the device a backup comes from. */
typedef struct {
    const char *udid;             /* UniqueDeviceID, as lockdown reports it */
    const char *product_type;     /* "iPhone15,2" */
    const char *product_version;  /* "17.5.1" */
    const char *build_version;    /* "21F90" */
    const char *serial_number;
    const char *device_name;
    const char *product_name;     /* marketing name for Info.plist, may be NULL */
    int was_passcode_set;
} ferry_device_ident_t;

/* Builders. Each returns a new dict (caller frees). */
plist_t ferry_info_plist_build(const ferry_device_ident_t *id, plist_t installed_apps /* array, borrowed, may be NULL */,
                               int64_t date);
plist_t ferry_status_plist_build(const char *snapshot_state, int is_full, int64_t date);
plist_t ferry_manifest_plist_build(const ferry_device_ident_t *id, int encrypted, const uint8_t *keybag,
                                   size_t keybag_len, const uint8_t *manifest_key /* 44 or NULL */,
                                   plist_t applications /* dict, borrowed, may be NULL */, int64_t date);

/* ---- Manifest.db (§4) -------------------------------------------------------------------------- */

typedef struct ferry_manifest_db ferry_manifest_db_t;

/* Opens a plaintext database read-only with immutable=1; FERRY_EFORMAT when it is not a database or
 * lacks the Files table. */
int ferry_manifest_db_open(const char *path, ferry_manifest_db_t **out);
/* Creates a new database with the exact schema of §4.1 (page size 4096). path must not exist. */
int ferry_manifest_db_create(const char *path, ferry_manifest_db_t **out);
int ferry_manifest_db_begin(ferry_manifest_db_t *db);
int ferry_manifest_db_commit(ferry_manifest_db_t *db);
/* FERRY_EEXIST for a duplicate fileID. */
int ferry_manifest_db_insert(ferry_manifest_db_t *db, const char *fileid, const char *domain,
                             const char *relpath, int flags, const uint8_t *file, size_t file_len);
int ferry_manifest_db_count(ferry_manifest_db_t *db, int64_t *n);
void ferry_manifest_db_close(ferry_manifest_db_t *db);

/* Raw rows, ordered by domain then relativePath. Pointers are valid until the next call. Byte
 * lengths are given so that embedded NULs are detected. */
typedef struct {
    const char *fileid; size_t fileid_len;
    const char *domain; size_t domain_len;
    const char *relpath; size_t relpath_len;
    int64_t flags;
    const uint8_t *file; size_t file_len; /* NULL when the column is NULL */
} ferry_db_row_t;

typedef struct ferry_db_iter ferry_db_iter_t;
/* domain NULL = all domains. */
int ferry_db_iter_new(ferry_manifest_db_t *db, const char *domain, ferry_db_iter_t **out);
/* Only the rows of one (domain, relativePath), for lookups. */
int ferry_db_iter_new_path(ferry_manifest_db_t *db, const char *domain, const char *relpath, ferry_db_iter_t **out);
/* 1 = a row, 0 = end, negative = error. */
int ferry_db_iter_next(ferry_db_iter_t *it, ferry_db_row_t *row);
void ferry_db_iter_free(ferry_db_iter_t *it);

/* Decrypts an encrypted Manifest.db file to out_path (mode 0600): PKCS#7 stripped when the last block
 * is valid padding, else kept (§4.2). */
int ferry_manifest_db_decrypt_file(const char *in_path, const char *out_path, const uint8_t key[FERRY_KEY_LEN]);
/* Encrypts a plaintext database file with PKCS#7, always (§4.2). */
int ferry_manifest_db_encrypt_file(const char *in_path, const char *out_path, const uint8_t key[FERRY_KEY_LEN]);

/* ---- reading a backup (§6.9) ------------------------------------------------------------------- */

typedef struct {
    const char *password;         /* UTF-8, or NULL */
    size_t password_len;
    const uint8_t *kek;           /* a precomputed 32-byte KEK instead of a password, or NULL */
    ferry_kdf_limits_t limits;
} ferry_credentials_t;

typedef struct ferry_backup ferry_backup_t;

/* dir is the <UDID> directory (the one with Manifest.db). Reads Manifest.plist (its absence is a
 * warning: the backup is treated as unencrypted), Info.plist and Status.plist when present; for an
 * encrypted backup derives the KEK (or takes cred->kek), unlocks the keybag (FERRY_EPASSWORD before any
 * file is touched), and decrypts Manifest.db to a private temporary file removed at close. An
 * encrypted backup without credentials gives FERRY_EPASSWORD "a password is needed". */
int ferry_backup_open(const char *dir, const ferry_credentials_t *cred, ferry_backup_t **out);
void ferry_backup_close(ferry_backup_t *b);

const char *ferry_backup_dir(const ferry_backup_t *b);
int ferry_backup_is_encrypted(const ferry_backup_t *b);
const ferry_manifest_plist_t *ferry_backup_manifest(const ferry_backup_t *b); /* NULL if absent */
plist_t ferry_backup_info_plist(const ferry_backup_t *b);                     /* NULL if absent */
const ferry_status_plist_t *ferry_backup_status(const ferry_backup_t *b);     /* NULL if absent */
const ferry_keybag_t *ferry_backup_keybag(const ferry_backup_t *b);           /* NULL if none */
/* The KEK used to unlock (to save with --derived-key-file); NULL when unencrypted. */
const uint8_t *ferry_backup_kek(const ferry_backup_t *b);
ferry_manifest_db_t *ferry_backup_db(ferry_backup_t *b);
/* For an encrypted backup: 1 when Manifest.db carried valid PKCS#7 padding, 0 when it was accepted
 * unpadded (§4.2: tolerated by readers, a conformance problem for verify). -1 when unencrypted. */
int ferry_backup_manifest_db_padded(const ferry_backup_t *b);

/* One validated record. */
typedef struct {
    char fileid[41];
    char *domain;
    char *relative_path;
    int flags;                    /* FERRY_FLAG_*, derived from Mode when Files.flags is 0 */
    ferry_mbfile_t mb;
} ferry_record_t;

void ferry_record_clear(ferry_record_t *r);

typedef struct ferry_backup_iter ferry_backup_iter_t;
/* domain NULL = all. Rows with a NULL `file` are skipped silently. */
int ferry_backup_iter_new(ferry_backup_t *b, const char *domain, ferry_backup_iter_t **out);
/* 1 = *rec filled (valid until the next call), 0 = end, negative = this row is refused (message says
 * which fileID and why: bad fileID, unsafe path, malformed MBFile, flags/Mode disagreement); the
 * iterator stays usable and the next call moves on. */
int ferry_backup_iter_next(ferry_backup_iter_t *it, const ferry_record_t **rec);
void ferry_backup_iter_free(ferry_backup_iter_t *it);

/* Looks a record up by domain and relativePath; FERRY_ENOTFOUND when absent. rec is cleared first;
 * free its fields with ferry_record_clear. */
int ferry_backup_lookup(ferry_backup_t *b, const char *domain, const char *relpath, ferry_record_t *rec);

/* The blob path <dir>/<fileID[0:2]>/<fileID>, malloc'd. Only for validated records. */
char *ferry_backup_blob_path(const ferry_backup_t *b, const ferry_record_t *rec);

/* Streams a regular file's plaintext. strict=1: a missing blob, bad padding or a length different from
 * mb.size is FERRY_EINTEGRITY (reported by read at EOF). strict=0: size mismatches become warnings; a
 * missing blob is logged as a warning and open returns FERRY_ENOTFOUND (there is no content: the caller
 * skips the file). A missing blob with size 0 reads as empty. A truncated blob, bad padding, or a blob
 * that is a symbolic link (FERRY_EUNSAFE) is an error in both modes. */
typedef struct ferry_file_reader ferry_file_reader_t;
int ferry_backup_file_open(ferry_backup_t *b, const ferry_record_t *rec, int strict, ferry_file_reader_t **out);
/* Bytes read, 0 at a clean end, negative on error. */
ssize_t ferry_file_reader_read(ferry_file_reader_t *r, void *buf, size_t len);
void ferry_file_reader_close(ferry_file_reader_t *r);

/* ---- what a backup holds about its device (content.c) --------------------------------------------
 * The management state a device keeps in the configuration-profiles domain (§11.2), and what kinds of
 * data the backup holds, read from any backup in this layout through the reader (Finder,
 * idevicebackup2, Apple Configurator or ferry). Only the format is interpreted here: turning this into
 * the facts of RULES.md is ferry/policy.h's job (ferry_policy_backup_facts_from_content). A backup
 * without these files (an unmanaged device) gives NULL plists, not an error. */

#define FERRY_BACKUP_APP_MANAGEMENT_FILE "MDMAppManagement.plist" /* docs/backup-format.md: ferry's layout */
#define FERRY_BACKUP_CONTENT_MAX_PLIST (16u * 1024 * 1024)

typedef struct {
    char *udid;                   /* Manifest.plist Lockdown UniqueDeviceID, or NULL */
    char *info_udid;              /* Info.plist Unique Identifier (else Target Identifier), or NULL */
    char *product_version;        /* Info.plist Product Version, else Lockdown ProductVersion, or NULL */
    int encrypted;
    /* Info.plist keys ferry writes when it builds a backup itself (docs/backup-format.md); NULL/0 in
     * backups made by anything else, which are host backups. */
    char *backup_method;          /* "Ferry Backup Method": "host" or "icloud" */
    char *backup_account;         /* "Ferry Backup Account": "personal" or "managed" */
    char *backup_account_id;      /* "Ferry Backup Account ID" */
    int managed_apps_only;        /* "Ferry Managed Apps Only" (RULES.md B11) */
    /* Library/ConfigurationProfiles of the configuration-profiles domain; each a dict, or NULL */
    plist_t cloud_configuration;  /* CloudConfigurationDetails.plist */
    plist_t mdm;                  /* MDM.plist: the com.apple.mdm payload */
    plist_t app_management;       /* MDMAppManagement.plist */
    plist_t profiles;             /* array of the profile-*.stub dictionaries, in path order (never NULL
                                     after a successful read) */
    char **app_domains;           /* bundle IDs of the AppDomain-<id> domains that hold records */
    size_t n_app_domains;
    char **book_paths;            /* relativePaths of the files of BooksDomain */
    size_t n_book_paths;
    unsigned categories;          /* FERRY_BACKUP_CAT_* bits of the records present */
    uint64_t records;             /* records looked at */
    uint64_t refused;             /* rows refused by the reader (logged as warnings, then skipped) */
} ferry_backup_content_t;

/* Reads the above from an open backup. A management file that is not a plist dict, or is larger than
 * FERRY_BACKUP_CONTENT_MAX_PLIST, is FERRY_EFORMAT naming it; refused rows are skipped with a warning.
 * Clear with ferry_backup_content_clear (also after a failure). */
int ferry_backup_content_read(ferry_backup_t *b, ferry_backup_content_t *out);
void ferry_backup_content_clear(ferry_backup_content_t *c);

/* ---- extracting (ferry extract) ---------------------------------------------------------------- */

typedef struct {
    const char *domain;           /* only this domain, or NULL */
    int lenient;                  /* size mismatches and missing blobs become warnings */
} ferry_extract_opts_t;

typedef struct {
    uint64_t files, dirs, symlinks, bytes;
    uint64_t skipped;             /* rows not extracted (e.g. symlinks that would leave OUT) */
    uint64_t errors;              /* rows refused or failed */
} ferry_extract_stats_t;

/* Writes each record at OUT/<domain>/<relativePath> with its mode (permission bits only) and mtime,
 * never following a symlink and never writing outside OUT; symlinks are created only when their target
 * stays inside OUT. Returns 0 when every row was extracted, FERRY_EINTEGRITY (or the first row's error)
 * when some were refused; stats says how many. */
int ferry_backup_extract(ferry_backup_t *b, const char *out_dir, const ferry_extract_opts_t *opts,
                         ferry_extract_stats_t *stats);

/* ---- verifying (ferry verify) ------------------------------------------------------------------ */

typedef enum { FERRY_VERIFY_OK = 0, FERRY_VERIFY_WARNING = 1, FERRY_VERIFY_PROBLEM = 2 } ferry_verify_severity_t;
typedef void (*ferry_verify_cb)(void *ctx, ferry_verify_severity_t sev, const char *what, const char *msg);

typedef struct {
    int decrypt_content;          /* decrypt (or read) every file and check padding and size */
} ferry_verify_opts_t;

typedef struct {
    uint64_t records, files, dirs, symlinks, bytes;
    uint64_t problems, warnings;
} ferry_verify_report_t;

/* Checks structure (the plists parse with the required keys, SnapshotState finished), the database,
 * every record, that every Files row has its blob of the right length, and with decrypt_content the
 * content of every file. Each finding goes to cb. Returns 0 when there is no problem, FERRY_EINTEGRITY
 * when there are problems, or another error when the backup cannot be opened at all. */
int ferry_backup_verify(const char *dir, const ferry_credentials_t *cred, const ferry_verify_opts_t *opts,
                        ferry_verify_cb cb, void *ctx, ferry_verify_report_t *report);

/* ---- writing a backup (§15.1) ------------------------------------------------------------------ */

typedef struct {
    ferry_device_ident_t ident;
    plist_t applications;         /* Manifest.plist Applications dict, borrowed; NULL = empty */
    plist_t info_plist;           /* Info.plist to write, borrowed; NULL = ferry_info_plist_build() */
    const char *password;         /* NULL = unencrypted */
    size_t password_len;
    ferry_keybag_params_t kdf;    /* for a new keybag */
    const ferry_keybag_t *keybag; /* an unlocked keybag to use instead of creating one, or NULL (copied;
                                     the backup is then encrypted exactly when password is set) */
    int64_t date;                 /* 0 = now */
    int is_full_backup;
    int no_sync;                  /* a private folder the caller reads and removes (the emulator's
                                     staging): nothing is fsync'ed or syncfs'ed */
} ferry_writer_opts_t;

/* Metadata of one entry; zero fields take defaults: mode 0644 files / 0755 dirs and symlinks, uid/gid
 * 501, times now, protection class 3 for files (0 otherwise). Type bits of mode are set by the
 * writer. */
typedef struct {
    int32_t mode;
    int32_t uid, gid;
    int64_t mtime, ctime, birth;
    int64_t inode;
    int32_t protection_class;
    int32_t bsd_flags;
    const uint8_t *xattrs;        /* binary plist dict or NULL */
    size_t xattrs_len;
    /* Encrypted backups: this FERRY_KEY_LEN-byte file key instead of a random one, or NULL. A device
     * that gives an unchanged file the key it had in its previous backup (same keybag) gets the same
     * EncryptionKey and blob bytes, so an incremental backup need not send the blob again. Read only
     * while the file is begun. */
    const uint8_t *file_key;
} ferry_file_meta_t;

typedef struct ferry_writer ferry_writer_t;
typedef struct ferry_writer_file ferry_writer_file_t;

/* udid_dir is created (0700) if missing; FERRY_EEXIST when it already holds a Manifest.db. Status.plist
 * says SnapshotState "uploading" until commit. */
int ferry_writer_open(const char *udid_dir, const ferry_writer_opts_t *opts, ferry_writer_t **out);
int ferry_writer_add_dir(ferry_writer_t *w, const char *domain, const char *relpath, const ferry_file_meta_t *m);
int ferry_writer_add_symlink(ferry_writer_t *w, const char *domain, const char *relpath, const char *target,
                             const ferry_file_meta_t *m);
/* A regular file streamed in pieces: begin, write..., end. One file open at a time, and no other entry
 * may be added while it is open. After a failed write the file can only be ended, which discards it
 * (its blob is removed, nothing is indexed) and returns the error; the writer stays usable. */
int ferry_writer_file_begin(ferry_writer_t *w, const char *domain, const char *relpath, const ferry_file_meta_t *m,
                            ferry_writer_file_t **f);
int ferry_writer_file_write(ferry_writer_file_t *f, const void *buf, size_t len);
int ferry_writer_file_end(ferry_writer_file_t *f);
int ferry_writer_add_file_mem(ferry_writer_t *w, const char *domain, const char *relpath, const ferry_file_meta_t *m,
                              const void *data, size_t len);
int ferry_writer_add_file_path(ferry_writer_t *w, const char *domain, const char *relpath, const ferry_file_meta_t *m,
                               const char *src_path);
/* As add_file_path, but in an unencrypted backup the blob is a hard link to src_path, not a copy
 * (writer_link.c; a copy when linking is impossible, and always in an encrypted backup). Only for a
 * private folder whose blobs are read and never written: a later in-place write into src_path would
 * show in the backup. */
int ferry_writer_add_file_link(ferry_writer_t *w, const char *domain, const char *relpath, const ferry_file_meta_t *m,
                               const char *src_path);
/* Records a regular file of `size` plaintext bytes without writing its blob (writer_known.c), for a
 * producer whose receiver already holds that exact blob: the row is the one add_file_path would insert
 * for the same content; an encrypted backup needs m->file_key (the key that content gets). */
int ferry_writer_add_file_known(ferry_writer_t *w, const char *domain, const char *relpath,
                                const ferry_file_meta_t *m, int64_t size);
/* Writes Manifest.db (encrypted when a password is set), Manifest.plist, Info.plist and finally
 * Status.plist with SnapshotState "finished", each atomically, after syncing the blobs. */
int ferry_writer_commit(ferry_writer_t *w);
/* Frees; an uncommitted writer leaves its directory marked "uploading" and removes its temporaries. */
void ferry_writer_free(ferry_writer_t *w);

/* ---- review: the private data a backup holds (review.c; RULES.md X1) ------------------------------ */

/* The groups `ferry review` lists. The first six are the data categories (FERRY_BACKUP_CAT_*, in bit
 * order: a restore can leave them out, X1); the others are private data the seed names ("app data,
 * account and password information, browser history") that a restore always brings back. */
typedef enum {
    FERRY_REVIEW_PASSWORDS = 0, FERRY_REVIEW_CALL_HISTORY, FERRY_REVIEW_HEALTH, FERRY_REVIEW_WEBSITE_HISTORY,
    FERRY_REVIEW_WIFI, FERRY_REVIEW_PHOTOS,
    FERRY_REVIEW_ACCOUNTS,      /* HomeDomain Library/Accounts/ */
    FERRY_REVIEW_MESSAGES,      /* HomeDomain Library/SMS/ */
    FERRY_REVIEW_CONTACTS,      /* HomeDomain Library/AddressBook/ */
    FERRY_REVIEW_CERTIFICATES,  /* an unencrypted backup's keychain export: no saved passwords (B3) */
    FERRY_REVIEW_APP_DATA,      /* AppDomain-*, AppDomainGroup-*, AppDomainPlugin-*: one item per app */
    FERRY_REVIEW_NONE,          /* not private data of its own (system settings, profiles, books ...) */
} ferry_review_group_t;
#define FERRY_REVIEW_GROUPS FERRY_REVIEW_NONE

/* One item: a file (domain, relative_path) or, in the app-data group, an app (domain = bundle ID,
 * relative_path = NULL) with the sum of its files. */
typedef struct {
    char *domain;
    char *relative_path;
    uint64_t files, bytes;
} ferry_review_item_t;

typedef struct {
    int encrypted;
    struct {
        ferry_review_item_t *items; /* in domain and path order (apps: by bundle ID) */
        size_t n, cap;
        uint64_t files, bytes;
    } groups[FERRY_REVIEW_GROUPS];
    uint64_t refused;           /* records the reader refused (not listed) */
} ferry_review_t;

/* The group of a file of a backup that is (or not) encrypted: the category table first (an
 * unencrypted backup's keychain export counts as certificates, not passwords: B3), then the review
 * table. Pure. */
ferry_review_group_t ferry_backup_review_group(const char *domain, const char *relpath, int encrypted);
/* "passwords", ..., "photos", "accounts", "messages", "contacts", "certificates", "app-data". */
const char *ferry_backup_review_group_name(ferry_review_group_t g);
/* The category bit a restore can leave out for the group (X1), 0 for the groups it cannot. */
unsigned ferry_backup_review_group_category(ferry_review_group_t g);
/* Lists every regular file of b by group. *out is cleared first; ferry_review_clear releases it. */
int ferry_backup_review(ferry_backup_t *b, ferry_review_t *out);
void ferry_review_clear(ferry_review_t *r);

#ifdef __cplusplus
}
#endif
#endif
