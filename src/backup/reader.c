/*
 * reader.c: opening a backup for reading (backup-format.md §6.9): the three plists, the decision
 * whether the backup is encrypted (by Manifest.plist IsEncrypted only, never by the presence of keys),
 * unlocking the keybag, and getting a readable Manifest.db. Invariants: a wrong or missing password
 * fails before any file besides Manifest.plist is read; a decrypted Manifest.db lives only in a
 * private 0600 temporary file that is removed at close; the KEK and keybag are wiped at close; nothing
 * is ever written inside the backup directory. Records, iteration and lookup are in record.c, file
 * content in file_reader.c.
 */
#include "ferry/backup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct ferry_backup {
    char *dir;
    int encrypted;
    int has_manifest;
    ferry_manifest_plist_t manifest;
    plist_t info;
    int has_status;
    ferry_status_plist_t status;
    ferry_keybag_t *keybag;
    int has_kek;
    uint8_t kek[FERRY_KEY_LEN];
    char *tmp_db; /* decrypted Manifest.db, removed at close */
    ferry_manifest_db_t *db;
};

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static char *join(const char *dir, const char *name)
{
    char *p = ferry_path_join(dir, name);
    if (!p)
        ferry_error_set(FERRY_ENOMEM, "out of memory");
    return p;
}

/* Manifest.plist decides everything else; its absence (mvt's decrypted copies) means plaintext. */
static int read_manifest_plist(ferry_backup_t *b)
{
    char *path = join(b->dir, "Manifest.plist");
    if (!path)
        return FERRY_ENOMEM;
    int rc = 0;
    if (!exists(path)) {
        ferry_log(FERRY_LOG_WARN, "%s has no Manifest.plist: reading it as an unencrypted backup", b->dir);
    } else if ((rc = ferry_manifest_plist_read(path, &b->manifest)) == 0) {
        b->has_manifest = 1;
        b->encrypted = b->manifest.is_encrypted;
    } else {
        ferry_error_wrap(rc, "cannot read the backup in %s", b->dir);
    }
    free(path);
    return rc;
}

/* Info.plist and Status.plist are not needed to read the content: a broken one is a warning here and
 * a problem for `ferry verify`. */
static int read_other_plists(ferry_backup_t *b)
{
    char *info = join(b->dir, "Info.plist");
    char *status = join(b->dir, "Status.plist");
    if (!info || !status) {
        free(info);
        free(status);
        return FERRY_ENOMEM;
    }
    if (exists(info) && ferry_plist_read_file(info, 0, &b->info) != 0) {
        ferry_log(FERRY_LOG_WARN, "ignoring %s: %s", info, ferry_error_last());
        b->info = NULL;
    }
    if (exists(status)) {
        if (ferry_status_plist_read(status, &b->status) == 0)
            b->has_status = 1;
        else
            ferry_log(FERRY_LOG_WARN, "ignoring %s: %s", status, ferry_error_last());
    }
    free(info);
    free(status);
    return 0;
}

static int unlock_keybag(ferry_backup_t *b, const ferry_credentials_t *cred)
{
    if (!cred || (!cred->password && !cred->kek))
        return ferry_error_set(FERRY_EPASSWORD,
                               "the backup in %s is encrypted: a password is needed (or a derived key file)",
                               b->dir);
    if (!b->manifest.keybag || b->manifest.keybag_len == 0)
        return ferry_error_set(FERRY_EFORMAT, "%s/Manifest.plist says IsEncrypted but has no BackupKeyBag", b->dir);
    int rc = ferry_keybag_parse(b->manifest.keybag, b->manifest.keybag_len, &b->keybag);
    if (rc != 0)
        return ferry_error_wrap(rc, "the BackupKeyBag of %s/Manifest.plist", b->dir);
    if (cred->kek) {
        memcpy(b->kek, cred->kek, FERRY_KEY_LEN);
    } else if ((rc = ferry_keybag_derive_kek(b->keybag, cred->password, cred->password_len, &cred->limits,
                                              b->kek)) != 0) {
        ferry_wipe(b->kek, sizeof b->kek);
        return ferry_error_wrap(rc, "cannot derive the key of the backup in %s", b->dir);
    }
    b->has_kek = 1;
    if ((rc = ferry_keybag_unlock(b->keybag, b->kek)) != 0) {
        if (rc == FERRY_EPASSWORD)
            return ferry_error_set(FERRY_EPASSWORD, "wrong %s for the backup in %s",
                                   cred->kek ? "derived key" : "password", b->dir);
        return ferry_error_wrap(rc, "cannot unlock the keybag of %s", b->dir);
    }
    return 0;
}

/* Decrypts Manifest.db to a private temporary file: readers never need the plaintext beside the
 * backup, and the backup directory may be read-only. */
static int decrypt_db(ferry_backup_t *b, const char *db_path)
{
    uint8_t dbkey[FERRY_KEY_LEN];
    uint32_t clas = 0;
    int rc = ferry_keybag_unwrap_prefixed(b->keybag, b->manifest.manifest_key, dbkey, &clas);
    if (rc != 0) {
        ferry_wipe(dbkey, sizeof dbkey);
        return ferry_error_wrap(rc == FERRY_EPASSWORD ? FERRY_EFORMAT : rc,
                                "cannot unwrap the ManifestKey (class %u) of %s", (unsigned)clas, b->dir);
    }
    const char *tmpdir = getenv("TMPDIR");
    if (!tmpdir || !*tmpdir)
        tmpdir = "/tmp";
    char *tmpl = ferry_path_join(tmpdir, "ferry-manifest-XXXXXX");
    if (!tmpl) {
        ferry_wipe(dbkey, sizeof dbkey);
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    int fd = mkostemp(tmpl, O_CLOEXEC);
    if (fd < 0) {
        ferry_wipe(dbkey, sizeof dbkey);
        rc = ferry_error_errno("cannot create a temporary file in %s for the decrypted Manifest.db", tmpdir);
        free(tmpl);
        return rc;
    }
    close(fd);
    b->tmp_db = tmpl;
    rc = ferry_manifest_db_decrypt_file(db_path, tmpl, dbkey);
    ferry_wipe(dbkey, sizeof dbkey);
    if (rc != 0)
        return ferry_error_wrap(rc, "cannot decrypt the Manifest.db of %s", b->dir);
    return 0;
}

static int open_db(ferry_backup_t *b)
{
    char *db_path = join(b->dir, "Manifest.db");
    if (!db_path)
        return FERRY_ENOMEM;
    int rc;
    if (!exists(db_path)) {
        char *mbdb = join(b->dir, "Manifest.mbdb");
        int old = mbdb && exists(mbdb);
        free(mbdb);
        rc = old ? ferry_error_set(FERRY_EUNSUPPORTED,
                                   "%s is a backup from before iOS 10 (Manifest.mbdb): ferry reads Manifest.db "
                                   "backups only", b->dir)
                 : ferry_error_set(FERRY_ENOTFOUND, "%s has no Manifest.db: it is not a backup folder (the one "
                                   "named after the device UDID)", b->dir);
        free(db_path);
        return rc;
    }
    if (b->encrypted && b->manifest.has_manifest_key) {
        if ((rc = decrypt_db(b, db_path)) == 0 && (rc = ferry_manifest_db_open(b->tmp_db, &b->db)) != 0)
            ferry_error_wrap(rc, "the decrypted Manifest.db of %s (wrong ManifestKey or damaged file)", b->dir);
    } else {
        /* Unencrypted, or encrypted before iOS 10.2 (no ManifestKey): the database is plaintext. */
        rc = ferry_manifest_db_open(db_path, &b->db);
    }
    free(db_path);
    return rc;
}

int ferry_backup_open(const char *dir, const ferry_credentials_t *cred, ferry_backup_t **out)
{
    *out = NULL;
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno == ENOENT)
            return ferry_error_set(FERRY_ENOTFOUND, "backup folder %s does not exist", dir);
        return ferry_error_errno("cannot access backup folder %s", dir);
    }
    if (!S_ISDIR(st.st_mode))
        return ferry_error_set(FERRY_EINVAL, "%s is not a folder: give the backup folder named after the UDID", dir);
    ferry_backup_t *b = calloc(1, sizeof *b);
    if (!b || !(b->dir = strdup(dir))) {
        free(b);
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    int rc;
    if ((rc = read_manifest_plist(b)) != 0 || (b->encrypted && (rc = unlock_keybag(b, cred)) != 0) ||
        (rc = read_other_plists(b)) != 0 || (rc = open_db(b)) != 0) {
        ferry_backup_close(b);
        return rc;
    }
    *out = b;
    return 0;
}

void ferry_backup_close(ferry_backup_t *b)
{
    if (!b)
        return;
    ferry_manifest_db_close(b->db);
    if (b->tmp_db) {
        unlink(b->tmp_db);
        free(b->tmp_db);
    }
    ferry_keybag_free(b->keybag);
    ferry_wipe(b->kek, sizeof b->kek);
    if (b->has_manifest)
        ferry_manifest_plist_clear(&b->manifest);
    if (b->has_status)
        ferry_status_plist_clear(&b->status);
    if (b->info)
        plist_free(b->info);
    free(b->dir);
    free(b);
}

const char *ferry_backup_dir(const ferry_backup_t *b) { return b->dir; }
int ferry_backup_is_encrypted(const ferry_backup_t *b) { return b->encrypted; }
const ferry_manifest_plist_t *ferry_backup_manifest(const ferry_backup_t *b)
{
    return b->has_manifest ? &b->manifest : NULL;
}
plist_t ferry_backup_info_plist(const ferry_backup_t *b) { return b->info; }
const ferry_status_plist_t *ferry_backup_status(const ferry_backup_t *b) { return b->has_status ? &b->status : NULL; }
const ferry_keybag_t *ferry_backup_keybag(const ferry_backup_t *b) { return b->keybag; }
const uint8_t *ferry_backup_kek(const ferry_backup_t *b) { return b->has_kek ? b->kek : NULL; }
ferry_manifest_db_t *ferry_backup_db(ferry_backup_t *b) { return b->db; }
