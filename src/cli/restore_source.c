/*
 * restore_source.c: what `ferry restore` restores from: a repository snapshot (by id, or the newest of
 * a device) or a backup folder (--backup), opened with its password when it is encrypted. The
 * password is checked here, on the host, before any device is touched: a wrong password ends the
 * command with nothing changed. A snapshot of a local repository is restored in place (snapshots are
 * immutable and the device only reads them); one of a remote (S3) repository is first exported to a
 * private temporary folder, removed again by restore_source_free (docs/cli.md, known limits).
 */
#include "restore_source.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    if (flag == FTW_DP)
        return rmdir(path) ? -1 : 0;
    return unlink(path) ? -1 : 0;
}

static int export_snapshot(ferry_store_t *st, const char *id, restore_source_t *s)
{
    const char *tmpdir = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/ferry-restore-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (!mkdtemp(tmpl)) /* mode 0700: the export may hold an encrypted backup's files */
        return ferry_error_errno("cannot make a temporary folder for the snapshot under %s", tmpl);
    s->tmp_root = strdup(tmpl);
    if (!s->tmp_root) {
        rmdir(tmpl);
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    ferry_log(FERRY_LOG_INFO, "exporting snapshot %s from %s to %s", id, ferry_store_location(st), tmpl);
    return ferry_store_export(st, id, tmpl, &s->udid_dir);
}

static int from_repo(const restore_source_args_t *a, restore_source_t *s)
{
    char *loc = NULL;
    int rc = a->repo ? 0 : ferry_store_default_location(&loc);
    ferry_store_t *st = NULL;
    if (rc == 0)
        rc = ferry_store_open_existing(a->repo ? a->repo : loc, &st);
    free(loc);
    if (rc)
        return rc;
    ferry_snapshot_info_t info;
    rc = a->latest ? ferry_store_latest(st, a->udid, &info) : ferry_store_get(st, a->snapshot, &info);
    if (rc == 0) {
        snprintf(s->snapshot_id, sizeof s->snapshot_id, "%s", info.id);
        rc = strcmp(ferry_store_backend_name(st), "local") ? export_snapshot(st, info.id, s)
                                                            : ferry_store_snapshot_path(st, info.id, &s->udid_dir);
    }
    ferry_store_close(st);
    return rc;
}

/* backup_root/source_udid from the <UDID> folder's path. */
static int split_dir(restore_source_t *s)
{
    size_t n = strlen(s->udid_dir);
    while (n > 1 && s->udid_dir[n - 1] == '/')
        s->udid_dir[--n] = 0;
    char *slash = strrchr(s->udid_dir, '/');
    s->root = slash ? strndup(s->udid_dir, slash == s->udid_dir ? 1 : (size_t)(slash - s->udid_dir)) : strdup(".");
    s->source_udid = strdup(slash ? slash + 1 : s->udid_dir);
    if (!s->root || !s->source_udid)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    return ferry_store_check_udid(s->source_udid);
}

static int is_encrypted(const char *udid_dir)
{
    char *p = ferry_path_join(udid_dir, "Manifest.plist");
    ferry_manifest_plist_t m;
    int enc = 0;
    if (p && ferry_manifest_plist_read(p, &m) == 0) {
        enc = m.is_encrypted;
        ferry_manifest_plist_clear(&m);
    }
    ferry_error_clear();
    free(p);
    return enc;
}

static int open_backup(const restore_source_args_t *a, restore_source_t *s)
{
    uint8_t kek[32];
    int rc = 0;
    if (is_encrypted(s->udid_dir)) {
        if ((rc = cli_credentials_get(a->pw, &s->cred, kek)) == 0 && !s->cred.password)
            rc = ferry_error_set(FERRY_EPASSWORD, "the device decrypts an encrypted backup itself and needs its password: "
                                                  "--derived-key-file is not enough for a restore");
    }
    ferry_backup_t *b = NULL;
    if (rc == 0)
        rc = ferry_backup_open(s->udid_dir, &s->cred, &b);
    ferry_wipe(kek, sizeof kek);
    if (rc == 0)
        rc = cli_backup_facts_read(b, &s->facts);
    return rc;
}

int restore_source_open(const restore_source_args_t *a, restore_source_t *s)
{
    memset(s, 0, sizeof *s);
    int rc = a->backup_dir ? cli_backup_resolve_dir(a->backup_dir, &s->udid_dir) : from_repo(a, s);
    if (rc == 0)
        rc = split_dir(s);
    if (rc == 0)
        rc = open_backup(a, s);
    return rc;
}

void restore_source_free(restore_source_t *s)
{
    cli_backup_facts_free(&s->facts);
    cli_credentials_clear(&s->cred);
    if (s->tmp_root && nftw(s->tmp_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        ferry_log(FERRY_LOG_WARN, "could not remove the temporary export %s: remove it by hand", s->tmp_root);
    free(s->tmp_root);
    free(s->udid_dir);
    free(s->root);
    free(s->source_udid);
    memset(s, 0, sizeof *s);
}
