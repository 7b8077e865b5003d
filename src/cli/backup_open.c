/*
 * backup_open.c: the command-line side of opening a backup: the options every reading command shares,
 * finding the UDID directory inside a backup folder, asking for a password only when the backup is
 * encrypted, and saving the derived key when asked to.
 */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void cli_backup_opts_init(cli_backup_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->password_fd = -1;
}

int cli_backup_opt(cli_backup_opts_t *o, const char *cmd, int opt, const char *arg)
{
    char *end;
    switch (opt) {
    case OPT_PASSWORD_FILE: o->password_file = arg; return 1;
    case OPT_DERIVED_KEY_FILE: o->derived_key_file = arg; return 1;
    case OPT_VERBOSE: ferry_log_set_level(FERRY_LOG_DEBUG); return 1;
    case OPT_PASSWORD_FD:
        errno = 0;
        o->password_fd = (int)strtol(arg, &end, 10);
        if (errno || *end || o->password_fd < 0)
            return cli_usage_error(cmd, "--password-fd takes a file descriptor number, not '%s'", arg);
        return 1;
    case OPT_KDF_MAX:
        errno = 0;
        o->kdf_max = strtoull(arg, &end, 10);
        if (errno || *end || o->kdf_max == 0)
            return cli_usage_error(cmd, "--kdf-max-iterations takes a positive number, not '%s'", arg);
        return 1;
    default: return 0;
    }
}

static int has_manifest_db(const char *dir)
{
    char *p = ferry_path_join(dir, "Manifest.db");
    int ok = p && access(p, F_OK) == 0;
    free(p);
    return ok;
}

int cli_backup_resolve_dir(const char *dir, char **out)
{
    *out = NULL;
    struct stat st;
    if (stat(dir, &st) != 0)
        return ferry_error_errno("cannot open backup %s", dir);
    if (!S_ISDIR(st.st_mode))
        return ferry_error_set(FERRY_EINVAL, "%s is not a directory", dir);
    if (has_manifest_db(dir)) {
        *out = strdup(dir);
        return *out ? 0 : ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    /* A folder such as MobileSync/Backup or a reference fixture holding one <UDID> directory. */
    DIR *d = opendir(dir);
    if (!d)
        return ferry_error_errno("cannot list %s", dir);
    char *found = NULL;
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *sub = ferry_path_join(dir, e->d_name);
        if (sub && has_manifest_db(sub)) {
            count++;
            free(found);
            found = sub;
        } else {
            free(sub);
        }
    }
    closedir(d);
    if (count == 1) {
        *out = found;
        return 0;
    }
    free(found);
    if (count == 0)
        return ferry_error_set(FERRY_ENOTFOUND, "%s holds no backup (no Manifest.db in it or in a folder below it)",
                               dir);
    return ferry_error_set(FERRY_EINVAL, "%s holds %d backups: name one of its <UDID> folders", dir, count);
}

/* Encryption is decided by Manifest.plist IsEncrypted alone (backup-format.md §6.7). */
static int backup_wants_password(const char *udid_dir)
{
    char *p = ferry_path_join(udid_dir, "Manifest.plist");
    if (!p)
        return 0;
    ferry_manifest_plist_t m;
    int enc = 0;
    if (access(p, F_OK) == 0 && ferry_manifest_plist_read(p, &m) == 0) {
        enc = m.is_encrypted;
        ferry_manifest_plist_clear(&m);
    }
    ferry_error_clear();
    free(p);
    return enc;
}

int cli_backup_open(const char *dir, const cli_backup_opts_t *o, ferry_backup_t **out)
{
    char *udid_dir;
    int rc = cli_backup_resolve_dir(dir, &udid_dir);
    if (rc)
        return rc;
    ferry_credentials_t cred;
    uint8_t kek[32];
    memset(&cred, 0, sizeof cred);
    cred.limits.max_dpic = o->kdf_max;
    cred.limits.max_iter = o->kdf_max;
    if (backup_wants_password(udid_dir))
        rc = cli_credentials_get(o, &cred, kek);
    if (rc == 0)
        rc = ferry_backup_open(udid_dir, &cred, out);
    if (rc == 0 && (rc = cli_backup_save_kek(o, ferry_backup_kek(*out))) != 0) {
        ferry_backup_close(*out);
        *out = NULL;
    }
    cli_credentials_clear(&cred);
    ferry_wipe(kek, sizeof kek);
    free(udid_dir);
    return rc;
}
