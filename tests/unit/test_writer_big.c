/*
 * test_writer_big.c: one file larger than 1 GiB streamed through the writer in 1 MiB pieces from a
 * generator, encrypted and not, then read back through the reader in pieces and hashed: the content
 * is never held in memory on either side. The output is deleted right after each case.
 */
#include "testutil.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ferry/backup.h"

#define PIECE (1u << 20)
#define BIG_SIZE ((int64_t)(1u << 30) + 12345) /* a bit over 1 GiB, not a multiple of 16 */
#define PW "p@ss w\xc3\xb6rd"

static void generate(uint64_t *s, uint8_t *buf, size_t len)
{
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        memcpy(buf + i, s, 8);
    }
    for (; i < len; i++)
        buf[i] = (uint8_t)(*s >> (i % 8));
}

static void big_case(const char *parent, int encrypted)
{
    char *dir = ferry_path_join(parent, "00008030-0000000000B16B16");
    assert_non_null(dir);
    ferry_writer_opts_t o;
    memset(&o, 0, sizeof o);
    o.ident.udid = "00008030-0000000000B16B16";
    o.ident.product_type = "iPhone15,2";
    o.ident.product_version = "17.5.1";
    o.ident.build_version = "21F90";
    o.ident.serial_number = "F00BIG";
    o.ident.device_name = "Big";
    if (encrypted) {
        o.password = PW;
        o.password_len = strlen(PW);
    }
    o.kdf.dpic = 1000;
    uint8_t *buf = malloc(PIECE);
    assert_non_null(buf);

    ferry_writer_t *w = NULL;
    assert_int_equal(ferry_writer_open(dir, &o, &w), 0);
    assert_int_equal(ferry_writer_add_dir(w, "CameraRollDomain", "", NULL), 0);
    ferry_writer_file_t *f = NULL;
    assert_int_equal(ferry_writer_file_begin(w, "CameraRollDomain", "Media/DCIM/100APPLE/IMG_0001.MOV", NULL, &f), 0);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    uint64_t s = 0x243F6A8885A308D3ull;
    for (int64_t left = BIG_SIZE; left > 0;) {
        size_t n = left > PIECE ? PIECE : (size_t)left;
        generate(&s, buf, n);
        EVP_DigestUpdate(md, buf, n);
        if (ferry_writer_file_write(f, buf, n) != 0)
            fail_msg("write: %s", ferry_error_last());
        left -= (int64_t)n;
    }
    uint8_t want[32], got[32];
    unsigned int l;
    EVP_DigestFinal_ex(md, want, &l);
    assert_int_equal(ferry_writer_file_end(f), 0);
    assert_int_equal(ferry_writer_commit(w), 0);
    ferry_writer_free(w);

    ferry_credentials_t cred;
    memset(&cred, 0, sizeof cred);
    cred.password = encrypted ? PW : NULL;
    cred.password_len = encrypted ? strlen(PW) : 0;
    ferry_backup_t *b = NULL;
    if (ferry_backup_open(dir, &cred, &b) != 0)
        fail_msg("open: %s", ferry_error_last());
    ferry_record_t r;
    memset(&r, 0, sizeof r);
    assert_int_equal(ferry_backup_lookup(b, "CameraRollDomain", "Media/DCIM/100APPLE/IMG_0001.MOV", &r), 0);
    assert_int_equal(r.mb.size, BIG_SIZE);
    char *blob = ferry_backup_blob_path(b, &r);
    struct stat st;
    assert_int_equal(stat(blob, &st), 0);
    assert_int_equal(st.st_size, encrypted ? (BIG_SIZE / 16 + 1) * 16 : BIG_SIZE);
    free(blob);
    ferry_file_reader_t *fr = NULL;
    assert_int_equal(ferry_backup_file_open(b, &r, 1, &fr), 0);
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    int64_t total = 0;
    ssize_t n;
    while ((n = ferry_file_reader_read(fr, buf, PIECE)) > 0) {
        EVP_DigestUpdate(md, buf, (size_t)n);
        total += n;
    }
    if (n < 0)
        fail_msg("read: %s", ferry_error_last());
    ferry_file_reader_close(fr);
    EVP_DigestFinal_ex(md, got, &l);
    EVP_MD_CTX_free(md);
    assert_int_equal(total, BIG_SIZE);
    assert_memory_equal(got, want, 32);
    ferry_record_clear(&r);
    ferry_backup_close(b);
    free(buf);
    tu_rmtree(dir); /* 1 GiB: delete at once (the teardown also does when an assertion fails) */
    free(dir);
}

static int make_parent(void **state)
{
    *state = tu_mkdtemp();
    return 0;
}

static int remove_parent(void **state)
{
    tu_rmtree(*state);
    free(*state);
    return 0;
}

static void test_big_file_unencrypted(void **state)
{
    big_case(*state, 0);
}

static void test_big_file_encrypted(void **state)
{
    big_case(*state, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_big_file_unencrypted, make_parent, remove_parent),
        cmocka_unit_test_setup_teardown(test_big_file_encrypted, make_parent, remove_parent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
