/*
 * writer.c: the streaming backup writer (backup-format.md §15.1). It produces a complete <UDID>
 * folder in the Finder layout, encrypted (keybag §6.8, per-file keys §6.6, encrypted Manifest.db
 * §4.2) or not, one entry at a time, without ever holding a file's content: a regular file is
 * encrypted in pieces of at most WRITER_CHUNK bytes straight into its blob, in one AES pass.
 *
 * Invariants: every name is checked with the same rules a reader applies before it becomes a fileID,
 * so a writer never produces a hostile backup; a blob is written to a temporary name in its bucket
 * and renamed only when complete, and its Manifest.db row is inserted only after that rename; the
 * database is built under a temporary name in one transaction and renamed to Manifest.db at commit,
 * so a folder with a Manifest.db is a finished (or at least fully indexed) backup; Status.plist says
 * "uploading" from open until the very last step of commit. Temporaries (the building database, a
 * half-written blob) are removed on every failure path and by ferry_writer_free. Keys are wiped.
 *
 * Encryption is decided by opts->password alone: when opts->keybag is given the password is not used
 * to derive anything (the keybag is already unlocked), it only says that the backup is encrypted.
 */
#include "ferry/backup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "writer_internal.h"

/* ---- fileID set -------------------------------------------------------------------------------- */

static size_t idset_find(const idset_t *s, const uint8_t id[20])
{
    uint64_t h;
    memcpy(&h, id, sizeof h);
    size_t mask = s->cap - 1, i = (size_t)h & mask;
    while (s->slots[i].used && memcmp(s->slots[i].id, id, 20) != 0)
        i = (i + 1) & mask;
    return i;
}

static int idset_contains(const idset_t *s, const uint8_t id[20])
{
    return s->cap && s->slots[idset_find(s, id)].used;
}

/* Makes room for one more id, so that idset_add after a successful insert cannot fail. */
static int idset_reserve(idset_t *s)
{
    if (s->cap && (s->count + 1) * 2 <= s->cap)
        return 0;
    size_t ncap = s->cap ? s->cap * 2 : 1024;
    idslot_t *old = s->slots;
    size_t ocap = s->cap;
    s->slots = calloc(ncap, sizeof *s->slots);
    if (!s->slots) {
        s->slots = old;
        return ferry_error_set(FERRY_ENOMEM, "out of memory indexing the backup's entries");
    }
    s->cap = ncap;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].used)
            s->slots[idset_find(s, old[i].id)] = old[i];
    free(old);
    return 0;
}

static void idset_add(idset_t *s, const uint8_t id[20])
{
    size_t i = idset_find(s, id);
    if (!s->slots[i].used) {
        memcpy(s->slots[i].id, id, 20);
        s->slots[i].used = 1;
        s->count++;
    }
}

/* ---- small helpers ----------------------------------------------------------------------------- */

static int64_t now_or(int64_t t)
{
    return t ? t : (int64_t)time(NULL);
}

/* Validates an entry's names and the writer's state; fills the fileID (hex and binary) and refuses a
 * path already in the backup. */
int writer_check_entry(ferry_writer_t *w, const char *domain, const char *relpath, int needs_name,
                       char fileid[41], uint8_t idbin[20])
{
    if (!w || !domain || !relpath)
        return ferry_error_set(FERRY_EINVAL, "backup writer: missing writer, domain or relativePath");
    if (w->committed || w->dead)
        return ferry_error_set(FERRY_EINVAL, "the backup writer for %s is %s; open a new one", w->dir,
                               w->committed ? "already committed" : "unusable after a failed commit");
    if (w->file.active)
        return ferry_error_set(FERRY_EINVAL, "cannot add %s/%s: the file %s/%s is still open (end it first)",
                               domain, relpath, w->file.domain, w->file.relpath);
    int rc = ferry_path_check_domain(domain, strlen(domain));
    if (rc == 0)
        rc = ferry_path_check_relative(relpath, strlen(relpath));
    if (rc)
        return ferry_error_wrap(rc, "refusing to write %s/%s into the backup", domain, relpath);
    if (needs_name && relpath[0] == '\0')
        return ferry_error_set(FERRY_EINVAL, "refusing to write a file or symlink as the root of domain %s",
                               domain);
    ferry_fileid(domain, relpath, fileid);
    if ((rc = ferry_hex_decode(fileid, idbin, 20)) != 0)
        return rc;
    if (idset_contains(&w->ids, idbin))
        return ferry_error_set(FERRY_EEXIST, "%s/%s is already in the backup (a path may be written once)",
                               domain, relpath);
    return idset_reserve(&w->ids);
}

/* The MBFile of an entry, with the defaults of backup.h for zero fields. Borrowed pointers only. */
void writer_fill_mbfile(ferry_writer_t *w, ferry_mbfile_t *mb, const char *relpath, int32_t type_bits,
                        int32_t def_perm, int32_t def_class, const ferry_file_meta_t *m)
{
    static const ferry_file_meta_t zero;
    if (!m)
        m = &zero;
    memset(mb, 0, sizeof *mb);
    mb->relative_path = (char *)relpath;
    int32_t perm = m->mode & 07777;
    mb->mode = type_bits | (perm ? perm : def_perm);
    mb->inode = m->inode ? m->inode : w->next_inode++;
    mb->uid = m->uid ? m->uid : DEFAULT_UID;
    mb->gid = m->gid ? m->gid : DEFAULT_UID;
    mb->mtime = m->mtime ? m->mtime : w->date;
    mb->ctime = m->ctime ? m->ctime : w->date;
    mb->birth = m->birth ? m->birth : w->date;
    mb->has_protection_class = 1;
    mb->protection_class = m->protection_class ? m->protection_class : def_class;
    mb->xattrs = (uint8_t *)m->xattrs;
    mb->xattrs_len = m->xattrs ? m->xattrs_len : 0;
    mb->bsd_flags = m->bsd_flags;
}

int writer_insert_row(ferry_writer_t *w, const char *fileid, const uint8_t idbin[20], const char *domain,
                      const char *relpath, int flags, const ferry_mbfile_t *mb)
{
    uint8_t *enc = NULL;
    size_t enc_len = 0;
    int rc = ferry_mbfile_encode(mb, &enc, &enc_len);
    if (rc == 0)
        rc = ferry_manifest_db_insert(w->db, fileid, domain, relpath, flags, enc, enc_len);
    free(enc);
    if (rc)
        return ferry_error_wrap(rc, "cannot index %s/%s in Manifest.db", domain, relpath);
    idset_add(&w->ids, idbin);
    return 0;
}

int writer_ensure_bucket(ferry_writer_t *w, const char *fileid)
{
    uint8_t b;
    ferry_hex_decode(fileid, &b, 1);
    if (w->buckets[b >> 3] & (1u << (b & 7)))
        return 0;
    char name[3] = {fileid[0], fileid[1], '\0'};
    if (mkdirat(w->dirfd, name, 0700) != 0) {
        if (errno != EEXIST)
            return ferry_error_errno("cannot create the bucket directory %s/%s", w->dir, name);
        /* A bucket left by an earlier run must be a real directory, never a symlink out of the folder. */
        struct stat st;
        if (fstatat(w->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode))
            return ferry_error_set(FERRY_EUNSAFE, "%s/%s exists and is not a directory; remove it", w->dir, name);
    }
    w->buckets[b >> 3] |= (uint8_t)(1u << (b & 7));
    return 0;
}

void writer_unlink_quiet(int dirfd, const char *name)
{
    if (unlinkat(dirfd, name, 0) != 0 && errno != ENOENT)
        ferry_log(FERRY_LOG_WARN, "cannot remove the temporary file %s: %s", name, strerror(errno));
}

/* The building database and whatever journal SQLite may have left next to it. */
static void remove_db_temporaries(ferry_writer_t *w)
{
    static const char *const names[] = {BUILDING_DB, BUILDING_DB "-journal", BUILDING_DB "-wal",
                                        BUILDING_DB "-shm", ENCRYPTING_DB};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        writer_unlink_quiet(w->dirfd, names[i]);
}

/* Temporaries with a random suffix (ferry_file_write_atomic's "<name>.tmp-XXXXXX", the encrypted
 * database's) that a crashed run may have left at the top of the folder. */
static void remove_stale_atomic_temporaries(ferry_writer_t *w)
{
    int fd = openat(w->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return;
    }
    static const char *const prefixes[] = {"Status.plist.tmp-", "Manifest.plist.tmp-", "Info.plist.tmp-",
                                           ENCRYPTING_DB ".tmp-", "Manifest.db.tmp-"};
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
            if (strncmp(e->d_name, prefixes[i], strlen(prefixes[i])) == 0)
                writer_unlink_quiet(w->dirfd, e->d_name);
    closedir(d);
}

/* Opens, fixes the mode of and (durable) fsyncs a file we produced before it is renamed into place. */
static int sync_file(const char *path, int durable)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return ferry_error_errno("cannot open %s", path);
    int rc = 0;
    if (fchmod(fd, 0600) != 0)
        rc = ferry_error_errno("cannot set the mode of %s", path);
    else if (durable && fsync(fd) != 0)
        rc = ferry_error_errno("cannot sync %s", path);
    close(fd);
    return rc;
}

static char *xstrdup_opt(const char *s, int *oom)
{
    if (!s)
        return NULL;
    char *c = strdup(s);
    if (!c)
        *oom = 1;
    return c;
}

/* ---- open / free ------------------------------------------------------------------------------- */

static int copy_ident(ferry_writer_t *w, const ferry_device_ident_t *id)
{
    int oom = 0;
    const char *udid = id->udid;
    if (!udid) { /* the folder is named after the device (§2) */
        const char *slash = strrchr(w->dir, '/');
        udid = slash ? slash + 1 : w->dir;
    }
    w->ident.udid = w->ident_strs[0] = xstrdup_opt(udid, &oom);
    w->ident.product_type = w->ident_strs[1] = xstrdup_opt(id->product_type, &oom);
    w->ident.product_version = w->ident_strs[2] = xstrdup_opt(id->product_version, &oom);
    w->ident.build_version = w->ident_strs[3] = xstrdup_opt(id->build_version, &oom);
    w->ident.serial_number = w->ident_strs[4] = xstrdup_opt(id->serial_number, &oom);
    w->ident.device_name = w->ident_strs[5] = xstrdup_opt(id->device_name, &oom);
    w->ident.product_name = w->ident_strs[6] = xstrdup_opt(id->product_name, &oom);
    w->ident.was_passcode_set = id->was_passcode_set;
    return oom ? ferry_error_set(FERRY_ENOMEM, "out of memory") : 0;
}

static int make_keys(ferry_writer_t *w, const ferry_writer_opts_t *opts)
{
    int rc;
    if (opts->keybag) {
        if (!opts->keybag->unlocked)
            return ferry_error_set(FERRY_EINVAL, "the keybag given to the backup writer is locked; unlock it first");
        w->kb = malloc(sizeof *w->kb);
        if (!w->kb)
            return ferry_error_set(FERRY_ENOMEM, "out of memory");
        memcpy(w->kb, opts->keybag, sizeof *w->kb);
    } else if (w->encrypted) {
        rc = ferry_keybag_create(opts->password, opts->password_len, &opts->kdf, &w->kb, NULL);
        if (rc)
            return ferry_error_wrap(rc, "cannot create the backup keybag");
    } else if ((rc = ferry_keybag_create_unencrypted(&w->kb)) != 0) {
        return ferry_error_wrap(rc, "cannot create the backup keybag");
    }
    if ((rc = ferry_keybag_serialize(w->kb, &w->kb_bytes, &w->kb_len)) != 0)
        return rc;
    if (w->encrypted) {
        if ((rc = ferry_random_bytes(w->dbkey, sizeof w->dbkey)) != 0)
            return rc;
        w->cbuf = malloc(WRITER_CHUNK + 16);
        if (!w->cbuf)
            return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    return 0;
}

static int start_database(ferry_writer_t *w)
{
    w->building_path = ferry_path_join(w->dir, BUILDING_DB);
    w->encrypting_path = ferry_path_join(w->dir, ENCRYPTING_DB);
    if (!w->building_path || !w->encrypting_path)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    remove_db_temporaries(w); /* left by a run that crashed; we hold the folder's lock */
    remove_stale_atomic_temporaries(w);
    int rc = ferry_manifest_db_create(w->building_path, &w->db);
    if (rc == 0)
        rc = ferry_manifest_db_begin(w->db);
    return rc ? ferry_error_wrap(rc, "cannot start Manifest.db in %s", w->dir) : 0;
}

static int write_status(ferry_writer_t *w, const char *snapshot_state)
{
    plist_dict_set_item(w->status, "SnapshotState", plist_new_string(snapshot_state));
    plist_dict_set_item(w->status, "BackupState", plist_new_string("new"));
    char *path = ferry_path_join(w->dir, "Status.plist");
    if (!path)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    int rc = ferry_plist_write_file_ex(path, w->status, 0, !w->no_sync);
    free(path);
    return rc;
}

static int open_folder(ferry_writer_t *w)
{
    int rc = ferry_mkdir_p(w->dir, 0700);
    if (rc)
        return rc;
    w->dirfd = open(w->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (w->dirfd < 0)
        return ferry_error_errno("cannot open the backup folder %s", w->dir);
    if (flock(w->dirfd, LOCK_EX | LOCK_NB) != 0)
        return ferry_error_set(FERRY_EEXIST, "another writer is writing into %s", w->dir);
    struct stat st;
    if (fstatat(w->dirfd, "Manifest.db", &st, AT_SYMLINK_NOFOLLOW) == 0)
        return ferry_error_set(FERRY_EEXIST, "%s already holds a backup (Manifest.db); choose an empty folder",
                               w->dir);
    if (errno != ENOENT)
        return ferry_error_errno("cannot check %s/Manifest.db", w->dir);
    return 0;
}

int ferry_writer_open(const char *udid_dir, const ferry_writer_opts_t *opts, ferry_writer_t **out)
{
    if (!out)
        return ferry_error_set(FERRY_EINVAL, "ferry_writer_open: out is NULL");
    *out = NULL;
    if (!udid_dir || !*udid_dir || !opts)
        return ferry_error_set(FERRY_EINVAL, "ferry_writer_open: a folder and options are needed");
    ferry_writer_t *w = calloc(1, sizeof *w);
    if (!w)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    w->dirfd = -1;
    w->file.fd = -1;
    w->file.w = w;
    w->dir = strdup(udid_dir);
    size_t dl = w->dir ? strlen(w->dir) : 0;
    while (dl > 1 && w->dir[dl - 1] == '/')
        w->dir[--dl] = '\0';
    w->encrypted = opts->password != NULL;
    w->date = now_or(opts->date);
    w->is_full = opts->is_full_backup;
    w->no_sync = opts->no_sync;
    w->next_inode = 1;
    int rc = w->dir ? copy_ident(w, &opts->ident) : ferry_error_set(FERRY_ENOMEM, "out of memory");
    if (rc == 0) {
        w->applications = opts->applications ? plist_copy(opts->applications) : plist_new_dict();
        w->info = opts->info_plist ? plist_copy(opts->info_plist) : NULL;
        w->status = ferry_status_plist_build("uploading", w->is_full, w->date);
        if (!w->applications || (opts->info_plist && !w->info) || !w->status)
            rc = ferry_error_set(FERRY_ENOMEM, "cannot build the backup's property lists");
    }
    if (rc == 0)
        rc = open_folder(w);
    if (rc == 0)
        rc = write_status(w, "uploading");
    if (rc == 0)
        rc = make_keys(w, opts);
    if (rc == 0)
        rc = start_database(w);
    if (rc) {
        w->dead = 1;
        ferry_writer_free(w);
        return rc;
    }
    *out = w;
    return 0;
}

/* Drops the open file: its temporary blob is removed and nothing is indexed. */
void writer_file_discard(ferry_writer_file_t *f)
{
    if (f->fd >= 0) {
        close(f->fd);
        f->fd = -1;
    }
    if (f->active)
        writer_unlink_quiet(f->w->dirfd, f->tmpname);
    ferry_cbc_free(f->cbc);
    f->cbc = NULL;
    free(f->domain);
    free(f->relpath);
    free(f->xattrs);
    ferry_wipe(f->ekey, sizeof f->ekey);
    ferry_writer_t *w = f->w;
    memset(f, 0, sizeof *f);
    f->w = w;
    f->fd = -1;
}

void ferry_writer_free(ferry_writer_t *w)
{
    if (!w)
        return;
    if (w->file.active)
        writer_file_discard(&w->file);
    if (w->db) {
        ferry_manifest_db_close(w->db);
        w->db = NULL;
    }
    if (!w->committed && w->dirfd >= 0 && w->building_path)
        remove_db_temporaries(w);
    if (w->dirfd >= 0)
        close(w->dirfd);
    ferry_keybag_free(w->kb);
    if (w->kb_bytes)
        ferry_wipe(w->kb_bytes, w->kb_len);
    free(w->kb_bytes);
    ferry_wipe(w->dbkey, sizeof w->dbkey);
    if (w->cbuf)
        ferry_wipe(w->cbuf, WRITER_CHUNK + 16);
    free(w->cbuf);
    free(w->rbuf);
    free(w->ids.slots);
    if (w->status)
        plist_free(w->status);
    if (w->applications)
        plist_free(w->applications);
    if (w->info)
        plist_free(w->info);
    for (size_t i = 0; i < 7; i++)
        free(w->ident_strs[i]);
    free(w->building_path);
    free(w->encrypting_path);
    free(w->dir);
    free(w);
}

/* ---- directories and symlinks ------------------------------------------------------------------ */

int ferry_writer_add_dir(ferry_writer_t *w, const char *domain, const char *relpath, const ferry_file_meta_t *m)
{
    char fileid[41];
    uint8_t idbin[20];
    int rc = writer_check_entry(w, domain, relpath, 0, fileid, idbin);
    if (rc)
        return rc;
    ferry_mbfile_t mb;
    writer_fill_mbfile(w, &mb, relpath, 0040000, 0755, 0, m);
    return writer_insert_row(w, fileid, idbin, domain, relpath, FERRY_FLAG_DIR, &mb);
}

int ferry_writer_add_symlink(ferry_writer_t *w, const char *domain, const char *relpath, const char *target,
                             const ferry_file_meta_t *m)
{
    char fileid[41];
    uint8_t idbin[20];
    int rc = writer_check_entry(w, domain, relpath, 1, fileid, idbin);
    if (rc)
        return rc;
    if (!target || !*target)
        return ferry_error_set(FERRY_EINVAL, "symlink %s/%s has no target", domain, relpath);
    ferry_mbfile_t mb;
    writer_fill_mbfile(w, &mb, relpath, 0120000, 0755, 0, m);
    mb.target = (char *)target;
    return writer_insert_row(w, fileid, idbin, domain, relpath, FERRY_FLAG_SYMLINK, &mb);
}

/* ---- commit ------------------------------------------------------------------------------------ */

/* Renames the finished database into place as Manifest.db, encrypting it first when needed. */
static int place_manifest_db(ferry_writer_t *w)
{
    const char *ready = w->building_path;
    int rc;
    if (w->encrypted) {
        writer_unlink_quiet(w->dirfd, ENCRYPTING_DB);
        rc = ferry_manifest_db_encrypt_file(w->building_path, w->encrypting_path, w->dbkey);
        if (rc)
            return ferry_error_wrap(rc, "cannot encrypt Manifest.db in %s", w->dir);
        ready = w->encrypting_path;
    }
    if ((rc = sync_file(ready, !w->no_sync)) != 0)
        return rc;
    if (renameat(w->dirfd, w->encrypted ? ENCRYPTING_DB : BUILDING_DB, w->dirfd, "Manifest.db") != 0)
        return ferry_error_errno("cannot rename %s to %s/Manifest.db", ready, w->dir);
    return 0;
}

static int write_manifest_plist(ferry_writer_t *w)
{
    uint8_t mk[FERRY_PREFIXED_KEY_LEN];
    int rc = 0;
    if (w->encrypted && (rc = ferry_keybag_wrap_prefixed(w->kb, MANIFEST_CLASS, w->dbkey, mk)) != 0)
        return ferry_error_wrap(rc, "cannot wrap the Manifest.db key");
    plist_t p = ferry_manifest_plist_build(&w->ident, w->encrypted, w->kb_bytes, w->kb_len,
                                           w->encrypted ? mk : NULL, w->applications, w->date);
    ferry_wipe(mk, sizeof mk);
    if (!p)
        return ferry_error_set(FERRY_ENOMEM, "cannot build Manifest.plist");
    char *path = ferry_path_join(w->dir, "Manifest.plist");
    rc = path ? ferry_plist_write_file_ex(path, p, 0, !w->no_sync) : ferry_error_set(FERRY_ENOMEM, "out of memory");
    free(path);
    plist_free(p);
    return rc;
}

/* Info.plist "Installed Applications": the user apps among Manifest.plist's containers. */
static plist_t installed_apps(plist_t applications)
{
    plist_t arr = plist_new_array();
    plist_dict_iter it = NULL;
    plist_dict_new_iter(applications, &it);
    for (;;) {
        char *key = NULL;
        plist_t val = NULL;
        plist_dict_next_item(applications, it, &key, &val);
        if (!key)
            break;
        plist_t cls = val && plist_get_node_type(val) == PLIST_DICT ? plist_dict_get_item(val, "ContainerContentClass")
                                                                     : NULL;
        /* compared in place: plist_get_string_val aborts on a NUL byte in a device-supplied string */
        if (cls && plist_get_node_type(cls) == PLIST_STRING &&
            plist_string_val_compare(cls, "Data/Application") == 0)
            plist_array_append_item(arr, plist_new_string(key));
        free(key);
    }
    free(it);
    return arr;
}

static int write_info_plist(ferry_writer_t *w)
{
    plist_t p = w->info;
    if (!p) {
        plist_t apps = installed_apps(w->applications);
        p = ferry_info_plist_build(&w->ident, apps, w->date);
        plist_free(apps);
    }
    if (!p)
        return ferry_error_set(FERRY_ENOMEM, "cannot build Info.plist");
    /* idevicebackup2 restore aborts without Applications (§15.1 item 1). */
    if (!plist_dict_get_item(p, "Applications"))
        plist_dict_set_item(p, "Applications", plist_new_dict());
    char *path = ferry_path_join(w->dir, "Info.plist");
    int rc = path ? ferry_plist_write_file_ex(path, p, 1, !w->no_sync) : ferry_error_set(FERRY_ENOMEM, "out of memory");
    free(path);
    if (p != w->info)
        plist_free(p);
    return rc;
}

static int sync_blobs(ferry_writer_t *w)
{
    if (syncfs(w->dirfd) != 0)
        return ferry_error_errno("cannot sync the files of the backup in %s", w->dir);
    return 0;
}

int ferry_writer_commit(ferry_writer_t *w)
{
    if (!w)
        return ferry_error_set(FERRY_EINVAL, "ferry_writer_commit: no writer");
    if (w->committed || w->dead)
        return ferry_error_set(FERRY_EINVAL, "the backup writer for %s is %s", w->dir,
                               w->committed ? "already committed" : "unusable after a failed commit");
    if (w->file.active)
        return ferry_error_set(FERRY_EINVAL, "cannot commit %s: the file %s/%s is still open", w->dir,
                               w->file.domain, w->file.relpath);
    int placed = 0;
    int rc = w->no_sync ? 0 : sync_blobs(w);
    if (rc == 0 && (rc = ferry_manifest_db_commit(w->db)) != 0)
        rc = ferry_error_wrap(rc, "cannot write Manifest.db in %s", w->dir);
    ferry_manifest_db_close(w->db);
    w->db = NULL;
    if (rc == 0 && (rc = place_manifest_db(w)) == 0)
        placed = 1;
    if (rc == 0)
        rc = write_manifest_plist(w);
    if (rc == 0)
        rc = write_info_plist(w);
    if (rc == 0)
        rc = write_status(w, "finished");
    if (rc == 0) {
        w->committed = 1;
        remove_db_temporaries(w);
        return 0;
    }
    /* A folder with a Manifest.db is taken for a backup: do not leave one for a failed commit. */
    if (placed)
        writer_unlink_quiet(w->dirfd, "Manifest.db");
    remove_db_temporaries(w);
    w->dead = 1;
    return rc;
}
