/*
 * mb2_backup.c: the device side of a mobilebackup2 Backup (§10.7, §10.8). As a real device does, the
 * emulated device decides the content and builds the backup itself: ferry_device_backup_write (the
 * device module; the B rules of the rules engine decide what goes in) writes it with the backup
 * writer into a private staging folder under the device's state directory, encrypted when a backup
 * password is set; this file then creates the bucket
 * directories on the host and uploads the blobs, Manifest.plist, Manifest.db and finally Status.plist
 * (SnapshotState "finished"), and ends with ProcessMessage {ErrorCode: 0}. Info.plist is the host's.
 * Incremental backups re-send only changed blobs (see "incremental backups" below).
 * Invariants: the staging folder is removed whatever happens; every DL message except the final
 * ProcessMessage waits for the host's status response before anything else is sent.
 */
#include "mb2_internal.h"
#include "device_internal.h"
#include "ferry/backup.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    char fileid[41];
    char *device_path;         /* "/var/mobile/<Domain>/<relpath>", informational for the host */
    char digest[41];           /* SHA-1 of the staged blob (incremental backups) */
    int unchanged;             /* the host already holds this blob from our last backup */
} staged_file_t;

/* One blob of the last backup: its SHA-1 and, for a file of files/ in an unencrypted backup, the
 * stat it had (NULL otherwise). libplist 2.2 looks dictionary keys up one by one, so the tens of
 * thousands of entries live in sorted arrays, never in a plist dictionary. */
typedef struct {
    char fileid[41];
    char digest[41];
    char *stat;
    int seen;
    char *path;                /* stat cache entries being made: the device file, and its stat */
    struct stat st;
} last_entry_t;

typedef struct {
    emu_conn_t *c;
    ferry_writer_t *w;
    char *staging;             /* <state>/<udid>/staging-XXXXXX */
    char *udid_dir;            /* <staging>/<udid> */
    staged_file_t *files;
    size_t nfiles, cap;
    uint64_t total_bytes;
    uint8_t *prev_status;      /* the host's Status.plist, when it has one */
    size_t prev_status_len;
    size_t uploaded;
    last_entry_t *last;        /* last_backup.plist's blobs, sorted by fileID */
    size_t nlast;
    int incremental;           /* the host holds our last backup and no full one was asked for */
    last_entry_t *stats;       /* the stat key of each file of files/ that went in (digest unused) */
    size_t nstats, capstats;
} backup_t;

static plist_t dl_msg(const char *name)
{
    plist_t m = plist_new_array();
    plist_array_append_item(m, plist_new_string(name));
    return m;
}

/* Keeps the previous Status.plist in memory (bounded); an error from the host drops it. */
static int keep_status(void *ctx, const char *path, int state, const uint8_t *data, size_t len)
{
    backup_t *b = ctx;
    (void)path;
    if (state == EMU_DL_FILE_BEGIN || state == EMU_DL_FILE_ERROR) {
        free(b->prev_status);
        b->prev_status = NULL;
        b->prev_status_len = 0;
    } else if (state == EMU_DL_FILE_DATA) {
        if (b->prev_status_len + len > (1u << 20))
            return ferry_error_set(FERRY_ELIMIT, "the host's Status.plist is larger than 1 MiB");
        uint8_t *n = realloc(b->prev_status, b->prev_status_len + len);
        if (!n)
            return ferry_error_set(FERRY_ENOMEM, "out of memory");
        memcpy(n + b->prev_status_len, data, len);
        b->prev_status = n;
        b->prev_status_len += len;
    }
    return 0;
}

/* Step 1: the previous Status.plist (absent on a first backup: the host answers -13). */
static int fetch_previous_status(backup_t *b)
{
    char path[512];
    snprintf(path, sizeof path, "%s/Status.plist", b->c->dev->udid);
    plist_t m = dl_msg("DLMessageDownloadFiles");
    plist_t list = plist_new_array();
    plist_array_append_item(list, plist_new_string(path));
    plist_array_append_item(m, list);
    plist_array_append_item(m, plist_new_dict());
    plist_array_append_item(m, plist_new_real(0.0));
    plist_array_append_item(m, plist_new_uint(0));
    int rc = emu_dl_send(b->c, m);
    plist_free(m);
    if (rc || (rc = emu_dl_recv_files(b->c, keep_status, b)))
        return rc;
    plist_t reply;
    char *name;
    if ((rc = emu_dl_recv(b->c, &reply, &name)))
        return rc;
    int64_t code;
    rc = emu_dl_parse_status(reply, &code, NULL);
    free(name);
    plist_free(reply);
    return rc;
}

static int free_space(backup_t *b, uint64_t *bytes)
{
    plist_t m = dl_msg("DLMessageGetFreeDiskSpace");
    plist_array_append_item(m, plist_new_dict());
    int64_t code;
    plist_t content = NULL;
    int rc = emu_dl_request(b->c, m, &code, &content);
    *bytes = UINT64_MAX;
    if (!rc && code == 0 && content && plist_get_node_type(content) == PLIST_UINT)
        plist_get_uint_val(content, bytes);
    plist_free(content);
    return rc;
}

static int add_staged(backup_t *b, const char *fileid, uint64_t size)
{
    if (b->nfiles == b->cap) {
        size_t ncap = b->cap ? b->cap * 2 : 64;
        staged_file_t *nf = realloc(b->files, ncap * sizeof *nf);
        if (!nf)
            return ferry_error_set(FERRY_ENOMEM, "out of memory");
        b->files = nf;
        b->cap = ncap;
    }
    staged_file_t *sf = &b->files[b->nfiles];
    memset(sf, 0, sizeof *sf);
    memcpy(sf->fileid, fileid, 40);
    /* the device-side path is informational: the host reads and ignores it (§10.6.2) */
    if (asprintf(&sf->device_path, "/var/mobile/Library/Backup/%s", fileid) < 0) {
        sf->device_path = NULL;
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    b->nfiles++;
    b->total_bytes += size;
    return 0;
}

static int is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return s[n] == '\0';
}

/* The blobs the writer left in the staging folder: <xx>/<fileID>, in bucket order. */
static int collect_blobs(backup_t *b)
{
    int rc = 0;
    for (int k = 0; !rc && k < 256; k++) {
        char bucket[3];
        snprintf(bucket, sizeof bucket, "%02x", k);
        char *dir = ferry_path_join(b->udid_dir, bucket);
        DIR *dh = dir ? opendir(dir) : NULL;
        struct dirent *e;
        while (!rc && dh && (e = readdir(dh))) {
            struct stat st;
            if (!is_hex(e->d_name, 40) || strncmp(e->d_name, bucket, 2) || fstatat(dirfd(dh), e->d_name, &st,
                                                                                     AT_SYMLINK_NOFOLLOW) ||
                !S_ISREG(st.st_mode))
                continue;
            rc = add_staged(b, e->d_name, (uint64_t)st.st_size);
        }
        if (dh)
            closedir(dh);
        free(dir);
    }
    return rc;
}

/* ---- the stat cache of unencrypted incremental backups ----------------------------------------------
 * last_backup.plist also keeps, for each file of files/ in an unencrypted backup, the stat it had
 * (size, mtime and ctime to the nanosecond, inode, device). In the next incremental backup a file
 * with the very same stat has the very same bytes (ctime moves on any write or metadata change, and
 * the device is locked while it stages), and an unencrypted blob is the file's bytes: its blob is the
 * one the host holds, whose SHA-1 the last backup recorded, so the device writes only its Manifest.db
 * row and neither reads, copies nor hashes it. Anything else (no record, another stat, an encrypted
 * backup, a full backup) goes the long way. Staging links each file (writer_link.c), and the link and
 * its removal move the file's ctime: the stat kept is the one the file has once the staging folder is
 * gone, and only when its size, mtime, inode and device are still those it had when it was staged
 * (refresh_stats). */

static void stat_key(const struct stat *st, char out[160])
{
    snprintf(out, 160, "%lld %lld.%09ld %lld.%09ld %llu %llu", (long long)st->st_size, (long long)st->st_mtim.tv_sec,
             (long)st->st_mtim.tv_nsec, (long long)st->st_ctim.tv_sec, (long)st->st_ctim.tv_nsec,
             (unsigned long long)st->st_ino, (unsigned long long)st->st_dev);
}

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const last_entry_t *)a)->fileid, ((const last_entry_t *)b)->fileid);
}

static last_entry_t *entry_find(last_entry_t *v, size_t n, const char *fileid)
{
    last_entry_t k;
    memcpy(k.fileid, fileid, 41);
    return n ? bsearch(&k, v, n, sizeof *v, entry_cmp) : NULL;
}

static int stat_known(void *ctx, const char *domain, const char *relpath, const struct stat *st)
{
    backup_t *b = ctx;
    if (!b->incremental)
        return 0;
    char fileid[41], key[160];
    ferry_fileid(domain, relpath, fileid);
    stat_key(st, key);
    const last_entry_t *e = entry_find(b->last, b->nlast, fileid);
    if (!e || !e->stat || strcmp(e->stat, key))
        return 0;
    int rc = add_staged(b, fileid, (uint64_t)st->st_size);
    if (rc)
        return rc;
    memcpy(b->files[b->nfiles - 1].digest, e->digest, 41);
    b->files[b->nfiles - 1].unchanged = 1;
    return 1;
}

static int stat_added(void *ctx, const char *domain, const char *relpath, const struct stat *st, int known)
{
    backup_t *b = ctx;
    (void)known;
    if (b->nstats == b->capstats) {
        size_t cap = b->capstats ? b->capstats * 2 : 256;
        last_entry_t *v = realloc(b->stats, cap * sizeof *v);
        if (!v)
            return ferry_error_set(FERRY_ENOMEM, "out of memory");
        b->stats = v;
        b->capstats = cap;
    }
    last_entry_t *e = &b->stats[b->nstats];
    memset(e, 0, sizeof *e);
    ferry_fileid(domain, relpath, e->fileid);
    e->st = *st;
    if (asprintf(&e->path, "%s/files/%s/%s", b->c->dev->model->dir, domain, relpath) < 0) {
        e->path = NULL;
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    b->nstats++;
    return 0;
}

/* After the staging folder is gone: each staged file's stat key, from its stat now when nothing but
 * the ctime moved since it was staged; none (the next backup reads the file) otherwise. */
static int refresh_stats(backup_t *b)
{
    for (size_t i = 0; i < b->nstats; i++) {
        last_entry_t *e = &b->stats[i];
        struct stat now;
        if (lstat(e->path, &now) != 0 || now.st_size != e->st.st_size || now.st_ino != e->st.st_ino ||
            now.st_dev != e->st.st_dev || now.st_mtim.tv_sec != e->st.st_mtim.tv_sec ||
            now.st_mtim.tv_nsec != e->st.st_mtim.tv_nsec)
            continue;
        char key[160];
        stat_key(&now, key);
        if (!(e->stat = strdup(key)))
            return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    return 0;
}

/* Writes the backup the device makes of itself (ferry_device_backup_write: the B rules decide the
 * content) into the staging folder. */
static int stage(backup_t *b)
{
    emu_device_t *d = b->c->dev;
    b->staging = ferry_path_join(d->state_dir, "staging-XXXXXX");
    if (!b->staging || !mkdtemp(b->staging))
        return ferry_error_errno("device %s: cannot create a staging folder", d->udid);
    b->udid_dir = ferry_path_join(b->staging, d->udid);
    if (!b->udid_dir)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    ferry_device_backup_opts_t o;
    ferry_device_backup_opts_init(&o);
    o.plan.method = FERRY_BACKUP_HOST;
    o.plan.encrypted = d->will_encrypt;
    o.kdf.dpic = b->c->srv->kdf_dpic;
    ferry_keybag_t *kb = NULL;
    int rc = d->will_encrypt ? mb2_keybag_get(d, &kb) : 0;
    o.keybag = kb;
    /* the staging folder is ours and only read: its plain blobs are links, not copies (writer_link.c) */
    dev_backup_hook_t hook = {stat_known, stat_added, b, 1};
    if (!rc)
        rc = dev_backup_write_hooked(d->model, &o, b->udid_dir, NULL, d->will_encrypt ? NULL : &hook);
    ferry_keybag_free(kb);
    return rc ? rc : collect_blobs(b);
}

static int create_dir(backup_t *b, const char *rel)
{
    plist_t m = dl_msg("DLMessageCreateDirectory");
    plist_array_append_item(m, plist_new_string(rel));
    plist_array_append_item(m, plist_new_dict());
    plist_array_append_item(m, plist_new_real(0.0));
    int64_t code;
    int rc = emu_dl_request(b->c, m, &code, NULL);
    if (!rc && code != 0)
        rc = ferry_error_set(FERRY_EIO, "the host could not create %s (status %lld)", rel, (long long)code);
    return rc;
}

/* Device path, backup path, blocks of at most 32 KiB, then success (§10.6.2). */
static int upload_file(backup_t *b, const char *device_path, const char *rel)
{
    char *src = ferry_path_join(b->staging, rel);
    int fd = src ? open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
    int rc = fd < 0 ? ferry_error_errno("cannot open the staged %s", rel) : 0;
    free(src);
    if (!rc && !(rc = emu_dl_send_string(b->c, device_path)))
        rc = emu_dl_send_string(b->c, rel);
    uint8_t *buf = rc ? NULL : malloc(EMU_DL_CHUNK);
    if (!rc && !buf)
        rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
    while (!rc) {
        ssize_t n = read(fd, buf, EMU_DL_CHUNK);
        if (n < 0)
            rc = ferry_error_errno("cannot read the staged %s", rel);
        else if (n == 0)
            break;
        else
            rc = emu_dl_send_block(b->c, 0x0C, buf, (size_t)n);
    }
    if (!rc)
        rc = emu_dl_send_block(b->c, 0x00, NULL, 0);
    free(buf);
    if (fd >= 0)
        close(fd);
    return rc;
}

static int upload(backup_t *b)
{
    const char *udid = b->c->dev->udid;
    char rel[512];
    int rc = 0;
    /* buckets first: the host never creates parent directories (§10.6.2) */
    uint8_t seen[256] = {0};
    for (size_t i = 0; !rc && i < b->nfiles; i++) {
        uint8_t v;
        if (b->files[i].unchanged)
            continue;
        ferry_hex_decode(b->files[i].fileid, &v, 1);
        if (seen[v]++)
            continue;
        snprintf(rel, sizeof rel, "%s/%.2s", udid, b->files[i].fileid);
        rc = create_dir(b, rel);
    }
    if (rc)
        return rc;
    plist_t m = dl_msg("DLMessageUploadFiles");
    plist_array_append_item(m, plist_new_dict());
    plist_array_append_item(m, plist_new_real(0.0));
    plist_array_append_item(m, plist_new_uint(b->total_bytes));
    rc = emu_dl_send(b->c, m);
    plist_free(m);
    for (size_t i = 0; !rc && i < b->nfiles; i++) {
        if (b->files[i].unchanged)
            continue;
        snprintf(rel, sizeof rel, "%s/%.2s/%s", udid, b->files[i].fileid, b->files[i].fileid);
        rc = upload_file(b, b->files[i].device_path, rel);
        b->uploaded++;
    }
    static const char *const tail[] = {"Manifest.plist", "Manifest.db", "Status.plist"};
    for (size_t i = 0; !rc && i < 3; i++) {
        snprintf(rel, sizeof rel, "%s/%s", udid, tail[i]);
        rc = upload_file(b, rel, rel);
    }
    if (!rc)
        rc = emu_dl_send_u32(b->c, 0);
    plist_t reply;
    char *name;
    if (!rc && !(rc = emu_dl_recv(b->c, &reply, &name))) {
        int64_t code;
        rc = emu_dl_parse_status(reply, &code, NULL);
        if (!rc && code != 0)
            rc = ferry_error_set(FERRY_EIO, "the host refused the upload (status %lld)", (long long)code);
        free(name);
        plist_free(reply);
    }
    return rc;
}

/* ---- incremental backups ----------------------------------------------------------------------------
 * The device remembers what its last finished backup uploaded (<state>/<udid>/last_backup.plist:
 * Status.plist UUID, encryption, "Blobs": one string of lines "<fileID> <SHA-1 of the blob>[ <stat key>]",
 * a single node because ferry_plist_parse checks every node of a tree). When the host's current Status.plist
 * carries that UUID, the host holds that backup, so a non-forced backup re-sends only blobs whose
 * bytes changed and removes the blobs of files that are gone. Encrypted backups too: the device keeps
 * its backup keybag and derives each file key from the content (mb2_keybag.c, file_keys.c), so an
 * unchanged file has the same blob; a new keybag (password changed) changes every blob. */

static int sha1_file(const char *path, char out[41])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return ferry_error_errno("cannot open the staged %s", path);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t *buf = malloc(EMU_DL_CHUNK);
    int rc = ctx && buf && EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) ? 0 : FERRY_ENOMEM;
    while (!rc) {
        ssize_t n = read(fd, buf, EMU_DL_CHUNK);
        if (n < 0)
            rc = ferry_error_errno("cannot read the staged %s", path);
        else if (n == 0)
            break;
        else if (!EVP_DigestUpdate(ctx, buf, (size_t)n))
            rc = FERRY_ECRYPTO;
    }
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    if (!rc && !EVP_DigestFinal_ex(ctx, md, &mdlen))
        rc = FERRY_ECRYPTO;
    if (!rc)
        ferry_hex_encode(md, 20, out);
    else if (rc == FERRY_ENOMEM || rc == FERRY_ECRYPTO)
        ferry_error_set(rc, "SHA-1 of %s failed", path);
    EVP_MD_CTX_free(ctx);
    free(buf);
    close(fd);
    return rc;
}

static char *last_path(backup_t *b)
{
    return ferry_path_join(b->c->dev->state_dir, "last_backup.plist");
}

static char *plist_uuid(const uint8_t *data, size_t len)
{
    plist_t p = NULL;
    if (!data || ferry_plist_parse(data, len, &p, "Status.plist")) {
        ferry_error_clear();
        return NULL;
    }
    char *u = emu_dict_string(p, "UUID");
    plist_free(p);
    return u;
}

/* "<fileID> <SHA-1>[ <stat key>]" (len bytes, no newline): one blob of last_backup.plist. */
static int parse_entry(const char *str, size_t len, last_entry_t *e)
{
    memset(e, 0, sizeof *e);
    if (len < 81 || len > 255 || str[40] != ' ' || (len > 81 && str[81] != ' '))
        return 0;
    memcpy(e->fileid, str, 40);
    memcpy(e->digest, str + 41, 40);
    if (!is_hex(e->fileid, 40) || !is_hex(e->digest, 40))
        return 0;
    if (len > 82 && !(e->stat = strndup(str + 82, len - 82)))
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    return 1;
}

static int load_entries(backup_t *b, plist_t blobs)
{
    uint64_t len = 0;
    const char *text = plist_get_string_ptr(blobs, &len);
    size_t n = 1;
    for (uint64_t i = 0; text && i < len; i++)
        n += text[i] == '\n';
    if (!text || !(b->last = calloc(n, sizeof *b->last)))
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    for (const char *p = text, *end = text + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
        int ok = parse_entry(p, l, &b->last[b->nlast]);
        if (ok < 0)
            return ok;
        b->nlast += (size_t)ok;
        p += l + 1;
    }
    qsort(b->last, b->nlast, sizeof *b->last, entry_cmp);
    return 0;
}

/* Before staging: whether the host holds our last backup (its Status.plist has that UUID). A state
 * folder that cannot be read only makes the backup complete. */
static void decide_incremental(backup_t *b, int full)
{
    char *path = last_path(b);
    plist_t last = NULL;
    if (!path || ferry_plist_read_file(path, 0, &last))
        ferry_error_clear();
    free(path);
    char *prev = plist_uuid(b->prev_status, b->prev_status_len);
    char *mine = emu_dict_string(last, "UUID");
    plist_t blobs = last ? plist_dict_get_item(last, "Blobs") : NULL;
    b->incremental = !full && prev && mine && !strcmp(prev, mine) && blobs && plist_get_node_type(blobs) == PLIST_STRING;
    if (b->incremental && load_entries(b, blobs)) {
        ferry_log(FERRY_LOG_WARN, "device %s: %s: this backup is complete", b->c->dev->udid, ferry_error_last());
        b->incremental = 0;
    }
    free(prev);
    free(mine);
    plist_free(last);
}

/* Marks unchanged files (the same blob bytes as last time) and removes, on the host, the blobs of
 * files that are gone. */
static int plan_incremental(backup_t *b)
{
    if (!b->incremental)
        return 0;
    for (size_t i = 0; i < b->nfiles; i++) {
        last_entry_t *e = entry_find(b->last, b->nlast, b->files[i].fileid);
        b->files[i].unchanged = e && !strcmp(e->digest, b->files[i].digest); /* stat-known: true */
        if (e)
            e->seen = 1;
    }
    plist_t gone = plist_new_array();
    char rel[512];
    for (size_t i = 0; i < b->nlast; i++) {
        if (b->last[i].seen)
            continue;
        snprintf(rel, sizeof rel, "%s/%.2s/%s", b->c->dev->udid, b->last[i].fileid, b->last[i].fileid);
        plist_array_append_item(gone, plist_new_string(rel));
    }
    if (plist_array_get_size(gone) == 0) {
        plist_free(gone);
        return 0;
    }
    plist_t m = dl_msg("DLMessageRemoveItems");
    plist_array_append_item(m, gone);
    plist_array_append_item(m, plist_new_dict());
    plist_array_append_item(m, plist_new_real(0.0));
    int64_t code;
    return emu_dl_request(b->c, m, &code, NULL);
}

static int hash_staged(backup_t *b)
{
    int rc = 0;
    char rel[128];
    for (size_t i = 0; !rc && i < b->nfiles; i++) {
        if (b->files[i].unchanged)
            continue; /* stat-known: no staged blob, the digest is the last backup's */
        snprintf(rel, sizeof rel, "%.2s/%s", b->files[i].fileid, b->files[i].fileid);
        char *p = ferry_path_join(b->udid_dir, rel);
        rc = p ? sha1_file(p, b->files[i].digest) : ferry_error_set(FERRY_ENOMEM, "out of memory");
        free(p);
    }
    return rc;
}

/* The UUID of the staged Status.plist (NULL with the error set), read before the folder goes. */
static char *staged_uuid(backup_t *b)
{
    char *st = ferry_path_join(b->udid_dir, "Status.plist");
    plist_t status = NULL;
    int rc = st ? ferry_plist_read_file(st, 0, &status) : ferry_error_set(FERRY_ENOMEM, "out of memory");
    free(st);
    char *uuid = rc ? NULL : emu_dict_string(status, "UUID");
    plist_free(status);
    if (!uuid && !rc)
        ferry_error_set(FERRY_EFORMAT, "the staged Status.plist has no UUID");
    return uuid;
}

static int save_last(backup_t *b, char *uuid, int encrypted)
{
    if (!uuid)
        return FERRY_EFORMAT;
    if (!encrypted && b->nstats)
        qsort(b->stats, b->nstats, sizeof *b->stats, entry_cmp);
    plist_t last = plist_new_dict();
    char *text = malloc(b->nfiles * 256 + 1);
    if (!text) {
        free(uuid);
        plist_free(last);
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    size_t off = 0;
    text[0] = '\0';
    for (size_t i = 0; i < b->nfiles; i++) {
        const last_entry_t *e = encrypted ? NULL : entry_find(b->stats, b->nstats, b->files[i].fileid);
        if (e && !e->stat)
            e = NULL;
        int n = snprintf(text + off, 256, "%s %s%s%s\n", b->files[i].fileid, b->files[i].digest, e ? " " : "",
                         e ? e->stat : "");
        off += n > 0 && n < 256 ? (size_t)n : 0;
    }
    plist_t blobs = plist_new_string(text);
    free(text);
    plist_dict_set_item(last, "UUID", plist_new_string(uuid));
    plist_dict_set_item(last, "Encrypted", plist_new_bool(encrypted));
    plist_dict_set_item(last, "Blobs", blobs);
    char *path = last_path(b);
    /* replaced atomically, not synced: a lost or torn state file only makes the next backup complete */
    int rc = path ? ferry_plist_write_file_ex(path, last, 0, 0) : ferry_error_set(FERRY_ENOMEM, "out of memory");
    free(path);
    free(uuid);
    plist_free(last);
    return rc;
}

static void backup_clear(backup_t *b)
{
    ferry_writer_free(b->w);
    if (b->staging)
        dev_rmtree(b->staging);
    free(b->staging);
    free(b->udid_dir);
    for (size_t i = 0; i < b->nfiles; i++)
        free(b->files[i].device_path);
    free(b->files);
    free(b->prev_status);
    for (size_t i = 0; i < b->nlast; i++)
        free(b->last[i].stat);
    free(b->last);
    for (size_t i = 0; i < b->nstats; i++) {
        free(b->stats[i].stat);
        free(b->stats[i].path);
    }
    free(b->stats);
}

int mb2_backup(emu_conn_t *c, plist_t req)
{
    backup_t b = {.c = c};
    emu_device_t *d = c->dev;
    int full = mb2_opt_bool(req, "ForceFullBackup", 0);
    uint64_t space = 0;
    int rc = fetch_previous_status(&b);
    if (!rc)
        rc = free_space(&b, &space);
    if (rc) {
        backup_clear(&b);
        return rc; /* the stream is out of step: drop the connection */
    }
    if (!d->model->SetupComplete) {
        backup_clear(&b);
        return emu_dl_finish(c, MB2_E_SETUP, "the device has not finished Setup Assistant", NULL);
    }
    if (d->requires_encryption && !d->will_encrypt) {
        backup_clear(&b);
        return emu_dl_finish(c, MB2_E_INVALID, "backups of this device must be encrypted "
                             "(forceEncryptedBackup): set a backup password first", NULL);
    }
    decide_incremental(&b, full);
    pthread_mutex_lock(&d->lock);
    int srs = stage(&b);
    pthread_mutex_unlock(&d->lock);
    if (srs) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", ferry_error_last());
        backup_clear(&b);
        return emu_dl_finish(c, MB2_E_GENERIC, msg, NULL);
    }
    if (space < b.total_bytes) {
        backup_clear(&b);
        return emu_dl_finish(c, MB2_E_NO_SPACE, "not enough space on the host for the backup", NULL);
    }
    int encrypted = d->will_encrypt;
    if ((rc = hash_staged(&b))) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", ferry_error_last());
        backup_clear(&b);
        return emu_dl_finish(c, MB2_E_GENERIC, msg, NULL);
    }
    rc = plan_incremental(&b);
    if (!rc)
        rc = upload(&b);
    char *uuid = rc ? NULL : staged_uuid(&b);
    if (!rc) { /* the staged links go first: removing them moves the files' ctime (refresh_stats) */
        dev_rmtree(b.staging);
        free(b.staging);
        b.staging = NULL;
    }
    if (!rc && !encrypted && refresh_stats(&b))
        ferry_log(FERRY_LOG_WARN, "device %s: %s", d->udid, ferry_error_last());
    if (!rc && save_last(&b, uuid, encrypted))
        ferry_log(FERRY_LOG_WARN, "device %s: cannot remember the backup (%s): the next one is complete",
                  d->udid, ferry_error_last());
    if (c->srv->verbose)
        ferry_log(FERRY_LOG_INFO, "mobilebackup2 %s: backup of %zu blobs, %zu uploaded (%s)", d->udid, b.nfiles,
                  b.uploaded, rc ? ferry_error_last() : "ok");
    backup_clear(&b);
    return rc ? rc : emu_dl_finish(c, 0, NULL, NULL);
}
