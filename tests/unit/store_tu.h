/*
 * store_tu.h: helpers for the repository tests (test_store_*.c): deterministic backups written with
 * ferry's writer (file i's content depends on i and, for the files named "changed", on a variant),
 * committing one into a repository, disk usage counted once per inode (as du does), and reading one
 * file of a snapshot back. Header-only, static: each test executable includes it once.
 */
#ifndef FERRY_STORE_TU_H
#define FERRY_STORE_TU_H

#include "testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ferry/backup.h"
#include "ferry/store.h"

#define TU_DATE 1710000000
#define TU_PW "store-test-pw"

static inline ferry_writer_opts_t stu_opts(const char *udid, int encrypted)
{
    ferry_writer_opts_t o;
    memset(&o, 0, sizeof o);
    o.ident.udid = udid;
    o.ident.product_type = "iPhone15,2";
    o.ident.product_version = "17.5.1";
    o.ident.build_version = "21F90";
    o.ident.serial_number = "F00TESTSERIAL";
    o.ident.device_name = "Store test";
    if (encrypted) {
        o.password = TU_PW;
        o.password_len = strlen(TU_PW);
        o.kdf.dpic = 1000;
        o.kdf.iter = 10;
    }
    o.date = TU_DATE;
    o.is_full_backup = 1;
    return o;
}

/* File i's content: size and bytes depend on i; file 0 ("Documents/changed.txt") also on variant. */
static inline uint8_t *stu_content(unsigned i, unsigned variant, size_t file_size, size_t *len)
{
    size_t n = file_size + i * 7;
    uint8_t *buf = malloc(n ? n : 1);
    assert_non_null(buf);
    uint32_t x = 2463534242u ^ (i * 2654435761u) ^ (i == 0 ? variant * 40503u : 0);
    for (size_t k = 0; k < n; k++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        buf[k] = (uint8_t)x;
    }
    *len = n;
    return buf;
}

static inline void stu_path(unsigned i, char *rel, size_t n)
{
    if (i == 0)
        snprintf(rel, n, "Documents/changed.txt");
    else
        snprintf(rel, n, "Documents/file%03u.bin", i);
}

/* Writes a finished backup of nfiles files into udid_dir (commit=0 leaves it "uploading"). */
static inline void stu_write_backup(const char *udid_dir, const char *udid, unsigned nfiles, size_t file_size,
                             unsigned variant, int encrypted, int commit)
{
    ferry_writer_opts_t o = stu_opts(udid, encrypted);
    ferry_writer_t *w = NULL;
    assert_int_equal(ferry_writer_open(udid_dir, &o, &w), 0);
    ferry_file_meta_t m;
    memset(&m, 0, sizeof m);
    m.mtime = m.ctime = m.birth = TU_DATE;
    m.inode = 1;
    assert_int_equal(ferry_writer_add_dir(w, "HomeDomain", "Documents", &m), 0);
    for (unsigned i = 0; i < nfiles; i++) {
        char rel[64];
        size_t len;
        uint8_t *data = stu_content(i, variant, file_size, &len);
        stu_path(i, rel, sizeof rel);
        m.inode = 100 + i;
        assert_int_equal(ferry_writer_add_file_mem(w, "HomeDomain", rel, &m, data, len), 0);
        free(data);
    }
    if (commit)
        assert_int_equal(ferry_writer_commit(w), 0);
    ferry_writer_free(w);
}

/* begin, write, commit; returns the snapshot. */
static inline ferry_snapshot_info_t stu_snapshot(ferry_store_t *st, const char *udid, unsigned nfiles, size_t file_size,
                                          unsigned variant, int verify)
{
    ferry_staging_t *stg = NULL;
    assert_int_equal(ferry_store_begin(st, udid, &stg), 0);
    stu_write_backup(ferry_staging_backup_dir(stg), udid, nfiles, file_size, variant, 0, 1);
    ferry_commit_opts_t co = {.verify = verify, .cred = NULL};
    ferry_snapshot_info_t s;
    int rc = ferry_staging_commit(stg, &co, &s);
    if (rc)
        fail_msg("commit: %s", ferry_error_last());
    return s;
}

/* ---- disk usage, once per inode ---------------------------------------------------------------- */

typedef struct {
    dev_t dev;
    ino_t ino;
} stu_inode_t;

typedef struct {
    stu_inode_t *v;
    size_t n, cap;
    uint64_t bytes;
} stu_du_t;

static inline int stu_seen(stu_du_t *du, const struct stat *st)
{
    for (size_t i = 0; i < du->n; i++)
        if (du->v[i].dev == st->st_dev && du->v[i].ino == st->st_ino)
            return 1;
    if (du->n == du->cap) {
        du->cap = du->cap ? du->cap * 2 : 256;
        du->v = realloc(du->v, du->cap * sizeof *du->v);
        assert_non_null(du->v);
    }
    du->v[du->n].dev = st->st_dev;
    du->v[du->n].ino = st->st_ino;
    du->n++;
    return 0;
}

static inline void stu_du_walk(stu_du_t *du, const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (!stu_seen(du, &st))
        du->bytes += (uint64_t)st.st_blocks * 512u;
    if (!S_ISDIR(st.st_mode))
        return;
    DIR *d = opendir(path);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char *p = ferry_path_join(path, e->d_name);
        stu_du_walk(du, p);
        free(p);
    }
    closedir(d);
}

static inline uint64_t stu_du(const char *path)
{
    stu_du_t du = {NULL, 0, 0, 0};
    stu_du_walk(&du, path);
    free(du.v);
    return du.bytes;
}

/* ---- reading back ------------------------------------------------------------------------------ */

/* The plaintext of HomeDomain/<rel> in a backup folder (malloc'd). */
static inline uint8_t *stu_read(const char *dir, const char *rel, size_t *len)
{
    ferry_credentials_t cred;
    memset(&cred, 0, sizeof cred);
    ferry_backup_t *b = NULL;
    assert_int_equal(ferry_backup_open(dir, &cred, &b), 0);
    ferry_record_t rec;
    memset(&rec, 0, sizeof rec);
    assert_int_equal(ferry_backup_lookup(b, "HomeDomain", rel, &rec), 0);
    ferry_file_reader_t *r = NULL;
    assert_int_equal(ferry_backup_file_open(b, &rec, 1, &r), 0);
    size_t cap = (size_t)rec.mb.size + 1, n = 0;
    uint8_t *buf = malloc(cap);
    assert_non_null(buf);
    ssize_t got;
    while ((got = ferry_file_reader_read(r, buf + n, cap - n)) > 0)
        n += (size_t)got;
    assert_true(got == 0);
    ferry_file_reader_close(r);
    ferry_record_clear(&rec);
    ferry_backup_close(b);
    *len = n;
    return buf;
}

/* Full verify (every file read and checked) of a snapshot; fails the test on any problem. */
static inline void stu_verify(ferry_store_t *st, const char *id)
{
    char *dir = NULL;
    assert_int_equal(ferry_store_snapshot_path(st, id, &dir), 0);
    ferry_credentials_t cred;
    memset(&cred, 0, sizeof cred);
    ferry_verify_opts_t vo = {.decrypt_content = 1};
    ferry_verify_report_t rep;
    memset(&rep, 0, sizeof rep);
    int rc = ferry_backup_verify(dir, &cred, &vo, NULL, NULL, &rep);
    if (rc || rep.problems)
        fail_msg("verify %s: rc %d, %llu problems: %s", dir, rc, (unsigned long long)rep.problems, ferry_error_last());
    free(dir);
}

/* Number of entries in a folder other than . and .. */
static inline size_t stu_count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

#endif
