/*
 * fuzz_common.c: helpers shared by the fuzz targets (see fuzz_common.h). The scratch folder is private
 * to the process so that parallel fuzzing jobs never share a file; the fixed backup is written with
 * ferry's own writer, with constant paths and metadata, so that the seeds made by ferry_fuzz_seeds in
 * another process name the same fileIDs and blobs.
 */
#include "fuzz_common.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FIXED_DATE 1700000000

static char *scratch;

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    return remove(path) == 0 ? 0 : -1;
}

static void remove_scratch(void)
{
    if (scratch && nftw(scratch, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        fprintf(stderr, "fuzz: could not remove %s\n", scratch);
}

const char *fuzz_scratch(void)
{
    if (scratch)
        return scratch;
    const char *tmp = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/ferry-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(tmpl)) {
        perror("fuzz: mkdtemp");
        abort();
    }
    scratch = strdup(tmpl);
    if (!scratch)
        abort();
    atexit(remove_scratch);
    return scratch;
}

char *fuzz_path(const char *name)
{
    char *p = ferry_path_join(fuzz_scratch(), name);
    if (!p)
        abort();
    return p;
}

void fuzz_write_file(const char *path, const uint8_t *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || ferry_write_full(fd, data, len, path) != 0) {
        fprintf(stderr, "fuzz: cannot write %s: %s\n", path, ferry_error_last());
        abort();
    }
    close(fd);
}

void fuzz_quiet(void) { ferry_log_set_level(FERRY_LOG_ERROR); }

void fuzz_fail(const char *what)
{
    fprintf(stderr, "fuzz: property broken: %s (last error: %s)\n", what, ferry_error_last());
    abort();
}

uint64_t fuzz_touch(const void *p, size_t len)
{
    const volatile uint8_t *b = p;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

/* ---- the fixed backup -------------------------------------------------------------------------- */

static ferry_file_meta_t meta(int32_t mode, int32_t pclass)
{
    ferry_file_meta_t m;
    memset(&m, 0, sizeof m);
    m.mode = mode;
    m.uid = m.gid = 501;
    m.mtime = m.ctime = m.birth = FIXED_DATE;
    m.inode = 1000;
    m.protection_class = pclass;
    return m;
}

static int add_entries(ferry_writer_t *w)
{
    static const char *const dirs[][2] = {
        {"HomeDomain", ""}, {"HomeDomain", "Library"}, {"HomeDomain", "Library/Preferences"},
        {"HomeDomain", "Documents"}, {"AppDomain-com.example.app", ""},
        {"AppDomain-com.example.app", "Documents"},
    };
    uint8_t big[5000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7);
    ferry_file_meta_t d = meta(0755, 0), f = meta(0644, 3), f4 = meta(0600, 4), l = meta(0755, 0);
    int rc = 0;
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0] && rc == 0; i++)
        rc = ferry_writer_add_dir(w, dirs[i][0], dirs[i][1], &d);
    if (rc == 0)
        rc = ferry_writer_add_file_mem(w, FUZZ_ENC_DOMAIN, FUZZ_ENC_PATH, &f4, "0123456789abcdefghij", FUZZ_ENC_SIZE);
    if (rc == 0)
        rc = ferry_writer_add_file_mem(w, "HomeDomain", "Library/empty.txt", &f, "", 0);
    if (rc == 0)
        rc = ferry_writer_add_file_mem(w, "HomeDomain", "Library/Preferences/sixteen.bin", &f, "0123456789abcdef",
                                       16);
    if (rc == 0)
        rc = ferry_writer_add_file_mem(w, "HomeDomain", "Documents/note \xc3\xa9\xc3\xa8.txt", &f, "note", 4);
    if (rc == 0)
        rc = ferry_writer_add_symlink(w, "HomeDomain", "Library/link", "Preferences/sixteen.bin", &l);
    if (rc == 0)
        rc = ferry_writer_add_file_mem(w, "AppDomain-com.example.app", "Documents/big.bin", &f, big, sizeof big);
    return rc;
}

int fuzz_make_backup(const char *udid_dir, const char *password)
{
    ferry_writer_opts_t o;
    memset(&o, 0, sizeof o);
    o.ident.udid = "00008030-00F0220000000000";
    o.ident.product_type = "iPhone15,2";
    o.ident.product_version = "17.5.1";
    o.ident.build_version = "21F90";
    o.ident.serial_number = "F00FUZZSERIAL";
    o.ident.device_name = "Fuzz iPhone";
    o.password = password;
    o.password_len = password ? strlen(password) : 0;
    o.kdf.dpic = FUZZ_KDF_COUNT;
    o.kdf.iter = FUZZ_KDF_COUNT;
    o.date = FIXED_DATE;
    ferry_writer_t *w = NULL;
    int rc = ferry_writer_open(udid_dir, &o, &w);
    if (rc == 0 && (rc = add_entries(w)) == 0)
        rc = ferry_writer_commit(w);
    ferry_writer_free(w);
    return rc;
}
