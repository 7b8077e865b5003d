/*
 * writer_internal.h: the writer's private state and the helpers that writer.c (open, entries, commit)
 * and writer_file.c (streaming regular files) share. Not a public header: nothing outside
 * src/backup/writer*.c includes it.
 */
#ifndef FERRY_WRITER_INTERNAL_H
#define FERRY_WRITER_INTERNAL_H

#include "ferry/backup.h"

#define WRITER_CHUNK (1u << 20)            /* largest piece encrypted or read at once */
#define BUILDING_DB ".Manifest.db.building"
#define ENCRYPTING_DB ".Manifest.db.encrypting"
#define MANIFEST_CLASS 4                   /* ManifestKey is wrapped with class 4 (§6.5) */
#define DEFAULT_UID 501
#define DEFAULT_FILE_CLASS 3

/* The set of fileIDs already in the backup, so that a duplicate path is refused before its blob
 * overwrites the first one. Open addressing over the 20 SHA-1 bytes, which are uniform already. */
typedef struct {
    uint8_t id[20];
    uint8_t used;
} idslot_t;

typedef struct {
    idslot_t *slots;
    size_t cap, count; /* cap is a power of two; count <= cap / 2 */
} idset_t;

struct ferry_writer_file {
    ferry_writer_t *w;
    int active;
    int fd;
    int err;                       /* first write error; the file can then only be ended (discarded) */
    char fileid[41];
    uint8_t idbin[20];
    char tmpname[64];              /* "ab/.<fileID>.part", relative to the UDID directory */
    char *domain, *relpath;
    ferry_file_meta_t meta;        /* meta.xattrs points into xattrs */
    uint8_t *xattrs;
    int32_t pclass;
    int64_t size;
    ferry_cbc_t *cbc;
    uint8_t ekey[FERRY_PREFIXED_KEY_LEN];
};

struct ferry_writer {
    char *dir;
    int dirfd;
    int encrypted;
    int committed, dead;
    ferry_keybag_t *kb;
    uint8_t *kb_bytes;
    size_t kb_len;
    uint8_t dbkey[FERRY_KEY_LEN];
    ferry_manifest_db_t *db;
    char *building_path, *encrypting_path;
    plist_t status, applications, info;
    ferry_device_ident_t ident;
    char *ident_strs[7];
    int64_t date;
    int is_full;
    int no_sync;                   /* opts.no_sync: nothing is fsync'ed or syncfs'ed */
    int64_t next_inode;
    uint8_t buckets[32];           /* bit per bucket directory known to exist */
    idset_t ids;
    uint8_t *cbuf;                 /* ciphertext: WRITER_CHUNK + one block */
    uint8_t *rbuf;                 /* source reads of add_file_path, allocated on first use */
    ferry_writer_file_t file;      /* the one file that may be open */
};

int writer_check_entry(ferry_writer_t *w, const char *domain, const char *relpath, int needs_name,
                       char fileid[41], uint8_t idbin[20]);
void writer_fill_mbfile(ferry_writer_t *w, ferry_mbfile_t *mb, const char *relpath, int32_t type_bits,
                        int32_t def_perm, int32_t def_class, const ferry_file_meta_t *m);
int writer_insert_row(ferry_writer_t *w, const char *fileid, const uint8_t idbin[20], const char *domain,
                      const char *relpath, int flags, const ferry_mbfile_t *mb);
int writer_ensure_bucket(ferry_writer_t *w, const char *fileid);
void writer_unlink_quiet(int dirfd, const char *name);
void writer_file_discard(ferry_writer_file_t *f);

#endif
