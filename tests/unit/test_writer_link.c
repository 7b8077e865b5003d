/*
 * test_writer_link.c: ferry_writer_add_file_link, the writer's linked blobs (writer_link.c). In an
 * unencrypted backup the blob is the source's own inode (no copy, no new inode) and the row is the one
 * add_file_path writes for the same file; the backup verifies and reads back. In an encrypted backup
 * nothing is linked (the blob is ciphertext). A source that is not a regular file is refused as
 * add_file_path refuses it.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ferry/backup.h"

#define UDID "00008030-00AABBCCDDEE0042"
#define PW "link test"

static ferry_writer_opts_t opts_for(int encrypted)
{
    ferry_writer_opts_t o;
    memset(&o, 0, sizeof o);
    o.ident.udid = UDID;
    o.ident.product_type = "iPhone15,2";
    o.ident.product_version = "17.5.1";
    o.ident.build_version = "21F90";
    o.ident.serial_number = "F00LINKTEST";
    o.ident.device_name = "Link iPhone";
    if (encrypted) {
        o.password = PW;
        o.password_len = strlen(PW);
    }
    o.kdf.dpic = 1000;
    o.date = 1710000000;
    return o;
}

static char *write_source(const char *dir, const char *name, const char *text)
{
    char *p = ferry_path_join(dir, name);
    assert_non_null(p);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
    return p;
}

/* Writes a.txt linked and b.txt copied from the same source; returns the backup folder. */
static char *write_pair(const char *tmp, const char *src, int encrypted)
{
    char *dir = ferry_path_join(tmp, UDID);
    assert_non_null(dir);
    ferry_writer_opts_t o = opts_for(encrypted);
    ferry_writer_t *w = NULL;
    assert_int_equal(ferry_writer_open(dir, &o, &w), 0);
    ferry_file_meta_t m = {.mode = 0640, .mtime = 1700000000, .ctime = 1700000000, .birth = 1700000000,
                           .inode = 4242, .protection_class = 3};
    assert_int_equal(ferry_writer_add_file_link(w, "HomeDomain", "Library/a.txt", &m, src), 0);
    assert_int_equal(ferry_writer_add_file_path(w, "HomeDomain", "Library/b.txt", &m, src), 0);
    /* a source that is not a regular file: refused, nothing added */
    assert_int_not_equal(ferry_writer_add_file_link(w, "HomeDomain", "Library/c", &m, tmp), 0);
    ferry_error_clear();
    assert_int_equal(ferry_writer_commit(w), 0);
    ferry_writer_free(w);
    return dir;
}

static void check_pair(const char *dir, const char *src, int encrypted, const char *text)
{
    ferry_credentials_t cred = {0};
    if (encrypted) {
        cred.password = PW;
        cred.password_len = strlen(PW);
    }
    ferry_verify_report_t rep;
    ferry_verify_opts_t vo = {.decrypt_content = 1};
    assert_int_equal(ferry_backup_verify(dir, &cred, &vo, NULL, NULL, &rep), 0);
    assert_int_equal(rep.files, 2);
    ferry_backup_t *b = NULL;
    assert_int_equal(ferry_backup_open(dir, &cred, &b), 0);
    ferry_record_t ra, rb;
    assert_int_equal(ferry_backup_lookup(b, "HomeDomain", "Library/a.txt", &ra), 0);
    assert_int_equal(ferry_backup_lookup(b, "HomeDomain", "Library/b.txt", &rb), 0);
    /* the same row apart from the path */
    assert_int_equal(ra.mb.size, (int64_t)strlen(text));
    assert_int_equal(ra.mb.size, rb.mb.size);
    assert_int_equal(ra.mb.mode, rb.mb.mode);
    assert_int_equal(ra.mb.inode, rb.mb.inode);
    assert_int_equal(ra.mb.mtime, rb.mb.mtime);
    assert_int_equal(ra.mb.protection_class, rb.mb.protection_class);
    char *pa = ferry_backup_blob_path(b, &ra), *pb = ferry_backup_blob_path(b, &rb);
    struct stat ss, sa, sb;
    assert_int_equal(stat(src, &ss), 0);
    assert_int_equal(stat(pa, &sa), 0);
    assert_int_equal(stat(pb, &sb), 0);
    if (encrypted)
        assert_true(sa.st_ino != ss.st_ino); /* ciphertext: never the source */
    else
        assert_true(sa.st_ino == ss.st_ino && sa.st_dev == ss.st_dev);
    assert_true(sb.st_ino != ss.st_ino);
    for (int k = 0; k < 2; k++) {
        ferry_file_reader_t *r = NULL;
        assert_int_equal(ferry_backup_file_open(b, k ? &rb : &ra, 1, &r), 0);
        char buf[256];
        size_t n = 0;
        ssize_t got;
        while ((got = ferry_file_reader_read(r, buf + n, sizeof buf - n)) > 0)
            n += (size_t)got;
        assert_int_equal(got, 0);
        assert_int_equal(n, strlen(text));
        assert_memory_equal(buf, text, strlen(text));
        ferry_file_reader_close(r);
    }
    free(pa);
    free(pb);
    ferry_record_clear(&ra);
    ferry_record_clear(&rb);
    ferry_backup_close(b);
}

static void run(int encrypted)
{
    char *tmp = tu_mkdtemp();
    const char *text = "linked, not copied: seventeen+ bytes";
    char *src = write_source(tmp, "source.txt", text);
    struct stat before;
    assert_int_equal(stat(src, &before), 0);
    int mode_before = (int)(before.st_mode & 07777);
    char *dir = write_pair(tmp, src, encrypted);
    check_pair(dir, src, encrypted, text);
    struct stat ss;
    assert_int_equal(stat(src, &ss), 0);
    assert_int_equal(ss.st_mode & 07777, mode_before); /* the source's mode is untouched */
    free(dir);
    free(src);
    tu_rmtree(tmp);
    free(tmp);
}

static void test_link_unencrypted(void **state)
{
    (void)state;
    run(0);
}

static void test_link_encrypted_copies(void **state)
{
    (void)state;
    run(1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_link_unencrypted),
        cmocka_unit_test(test_link_encrypted_copies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
