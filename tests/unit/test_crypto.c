/*
 * test_crypto.c: the two ciphers of the backup format: RFC 3394 key wrap (known answer from the RFC,
 * integrity failures as wrong passwords) and streaming AES-256-CBC with a zero IV (chunking does not
 * change the result, ciphertext lengths, PKCS#7 padding errors, the unpadded mode).
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "ferry/backup.h"

static void hex(const char *h, uint8_t *out, size_t len)
{
    assert_int_equal(ferry_hex_decode(h, out, len), 0);
}

/* ---- RFC 3394 ---------------------------------------------------------------------------------- */

static void test_aes_wrap_rfc3394_4_6(void **state)
{
    (void)state;
    uint8_t kek[32], key[32], want[40], got[40], back[32];
    hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", kek, 32);
    hex("00112233445566778899aabbccddeeff000102030405060708090a0b0c0d0e0f", key, 32);
    hex("28c9f404c4b810f4cbccb35cfb87f8263f5786e2d80ed326cbc7f0e71a99f43bfb988b9b7a02dd21", want, 40);
    assert_int_equal(ferry_aes_wrap(kek, key, got), 0);
    assert_memory_equal(got, want, 40);
    assert_int_equal(ferry_aes_unwrap(kek, want, back), 0);
    assert_memory_equal(back, key, 32);
}

static void test_aes_unwrap_integrity_failure_is_password_error(void **state)
{
    (void)state;
    uint8_t kek[32], key[32], wrapped[40], out[32];
    hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", kek, 32);
    hex("00112233445566778899aabbccddeeff000102030405060708090a0b0c0d0e0f", key, 32);
    assert_int_equal(ferry_aes_wrap(kek, key, wrapped), 0);

    uint8_t other[32];
    memcpy(other, kek, 32);
    other[31] ^= 1;
    memset(out, 0x5a, sizeof out);
    assert_int_equal(ferry_aes_unwrap(other, wrapped, out), FERRY_EPASSWORD);
    assert_int_equal(ferry_error_code(), FERRY_EPASSWORD);
    /* a failed unwrap leaves nothing of a would-be key in the output */
    for (size_t i = 0; i < sizeof out; i++)
        assert_int_equal(out[i], 0x5a);

    for (size_t i = 0; i < 40; i += 13) {
        uint8_t bad[40];
        memcpy(bad, wrapped, 40);
        bad[i] ^= 0x80;
        assert_int_equal(ferry_aes_unwrap(kek, bad, out), FERRY_EPASSWORD);
    }
}

/* ---- AES-256-CBC ------------------------------------------------------------------------------- */

static const uint8_t cbc_key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

static uint8_t *pattern(size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 7 + (i >> 8));
    return p;
}

/* Runs a whole stream through a new context, feeding it `chunk` bytes at a time (0 = all at once).
 * Returns the final call's result; *out is malloc'd. */
static int cbc_run(int encrypt, int pad, const uint8_t *in, size_t n, size_t chunk, uint8_t **out, size_t *outlen)
{
    ferry_cbc_t *c = NULL;
    assert_int_equal(ferry_cbc_new(cbc_key, encrypt, pad, &c), 0);
    uint8_t *buf = malloc(n + 32);
    assert_non_null(buf);
    size_t total = 0, step = chunk ? chunk : (n ? n : 1);
    for (size_t off = 0; off < n; off += step) {
        size_t len = n - off < step ? n - off : step, got = 0;
        assert_int_equal(ferry_cbc_update(c, in + off, len, buf + total, &got), 0);
        assert_true(got <= len + 16);
        total += got;
    }
    size_t got = 0;
    int rc = ferry_cbc_final(c, buf + total, &got);
    total += got;
    ferry_cbc_free(c);
    *out = buf;
    *outlen = total;
    return rc;
}

static void test_cbc_lengths_and_round_trip(void **state)
{
    (void)state;
    static const size_t lens[] = {0, 1, 15, 16, 17, 4097};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        size_t n = lens[i];
        uint8_t *pt = pattern(n), *ct, *back;
        size_t ctlen, backlen;
        assert_int_equal(cbc_run(1, 1, pt, n, 0, &ct, &ctlen), 0);
        assert_int_equal(ctlen, (n / 16 + 1) * 16);
        assert_int_equal(cbc_run(0, 1, ct, ctlen, 0, &back, &backlen), 0);
        assert_int_equal(backlen, n);
        if (n)
            assert_memory_equal(back, pt, n);
        free(pt);
        free(ct);
        free(back);
    }
}

static void test_cbc_streaming_in_odd_chunks_equals_one_shot(void **state)
{
    (void)state;
    const size_t n = 10007;
    static const size_t chunks[] = {1, 3, 7, 15, 16, 17, 4095, 9999};
    uint8_t *pt = pattern(n), *ref, *back;
    size_t reflen, backlen;
    assert_int_equal(cbc_run(1, 1, pt, n, 0, &ref, &reflen), 0);
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        uint8_t *ct;
        size_t ctlen;
        assert_int_equal(cbc_run(1, 1, pt, n, chunks[i], &ct, &ctlen), 0);
        assert_int_equal(ctlen, reflen);
        assert_memory_equal(ct, ref, reflen);
        free(ct);
        assert_int_equal(cbc_run(0, 1, ref, reflen, chunks[i], &back, &backlen), 0);
        assert_int_equal(backlen, n);
        assert_memory_equal(back, pt, n);
        free(back);
    }
    free(pt);
    free(ref);
}

/* With a zero IV the first CBC block is ECB: NIST SP 800-38A F.1.5 (ECB-AES256) is a known answer. */
static void test_cbc_zero_iv_known_answer_unpadded(void **state)
{
    (void)state;
    uint8_t key[32], pt[16], want[16], out[48];
    hex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4", key, 32);
    hex("6bc1bee22e409f96e93d7e117393172a", pt, 16);
    hex("f3eed1bdb5d2a03c064b5a7e3db181f8", want, 16);
    ferry_cbc_t *c;
    size_t l1, l2;
    assert_int_equal(ferry_cbc_new(key, 1, 0, &c), 0);
    assert_int_equal(ferry_cbc_update(c, pt, 16, out, &l1), 0);
    assert_int_equal(ferry_cbc_final(c, out + l1, &l2), 0);
    ferry_cbc_free(c);
    assert_int_equal(l1 + l2, 16);
    assert_memory_equal(out, want, 16);

    assert_int_equal(ferry_cbc_new(key, 0, 0, &c), 0);
    assert_int_equal(ferry_cbc_update(c, want, 16, out, &l1), 0);
    assert_int_equal(ferry_cbc_final(c, out + l1, &l2), 0);
    ferry_cbc_free(c);
    assert_int_equal(l1 + l2, 16);
    assert_memory_equal(out, pt, 16);
}

static void test_cbc_unpadded_mode(void **state)
{
    (void)state;
    uint8_t *pt = pattern(4096), *ct, *back;
    size_t ctlen, backlen;
    assert_int_equal(cbc_run(1, 0, pt, 4096, 100, &ct, &ctlen), 0);
    assert_int_equal(ctlen, 4096);
    assert_int_equal(cbc_run(0, 0, ct, ctlen, 33, &back, &backlen), 0);
    assert_int_equal(backlen, 4096);
    assert_memory_equal(back, pt, 4096);
    /* the padded and unpadded ciphertexts agree on every full block */
    uint8_t *padded;
    size_t paddedlen;
    assert_int_equal(cbc_run(1, 1, pt, 4096, 0, &padded, &paddedlen), 0);
    assert_int_equal(paddedlen, 4096 + 16);
    assert_memory_equal(padded, ct, 4096);
    free(padded);
    free(back);
    free(ct);

    /* unaligned input is refused in both directions */
    assert_int_equal(cbc_run(1, 0, pt, 17, 0, &ct, &ctlen), FERRY_EINVAL);
    free(ct);
    assert_int_equal(cbc_run(0, 0, pt, 17, 0, &back, &backlen), FERRY_EINTEGRITY);
    free(back);
    free(pt);
}

static void test_cbc_bad_padding_is_integrity_error(void **state)
{
    (void)state;
    /* Plaintext blocks whose decryption ends in invalid PKCS#7: last byte 0, last byte > 16, and a
     * 0x03 byte preceded by bytes that are not 0x03. */
    uint8_t blocks[3][32];
    memset(blocks, 0, sizeof blocks);
    memset(blocks[0], 0xaa, 32);
    blocks[0][31] = 0x00;
    memset(blocks[1], 0x11, 32);
    memset(blocks[2], 0x41, 32);
    blocks[2][31] = 0x03;
    blocks[2][30] = 0x03;
    for (int i = 0; i < 3; i++) {
        uint8_t *ct, *back;
        size_t ctlen, backlen;
        assert_int_equal(cbc_run(1, 0, blocks[i], 32, 0, &ct, &ctlen), 0);
        assert_int_equal(cbc_run(0, 1, ct, ctlen, 5, &back, &backlen), FERRY_EINTEGRITY);
        assert_non_null(strstr(ferry_error_last(), "bad padding"));
        free(back);
        /* unpadded decryption of the same bytes is fine: it is only the padding that is wrong */
        assert_int_equal(cbc_run(0, 0, ct, ctlen, 0, &back, &backlen), 0);
        assert_memory_equal(back, blocks[i], 32);
        free(back);
        free(ct);
    }
}

static void test_cbc_unaligned_ciphertext_is_integrity_error(void **state)
{
    (void)state;
    uint8_t *pt = pattern(100), *ct, *back;
    size_t ctlen, backlen;
    assert_int_equal(cbc_run(1, 1, pt, 100, 0, &ct, &ctlen), 0);
    assert_int_equal(ctlen, 112);
    static const size_t cuts[] = {1, 15, 17, 111};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        assert_int_equal(cbc_run(0, 1, ct, cuts[i], 7, &back, &backlen), FERRY_EINTEGRITY);
        assert_non_null(strstr(ferry_error_last(), "bad padding"));
        assert_non_null(strstr(ferry_error_last(), "not a multiple of 16"));
        free(back);
    }
    /* an empty ciphertext has no padding block at all */
    assert_int_equal(cbc_run(0, 1, ct, 0, 0, &back, &backlen), FERRY_EINTEGRITY);
    free(back);
    free(ct);
    free(pt);
}

static void test_cbc_wrong_key_does_not_yield_plaintext(void **state)
{
    (void)state;
    /* With the wrong key the padding check catches it (or, rarely, garbage comes out): never the
     * original plaintext. */
    uint8_t *pt = pattern(64), *ct;
    size_t ctlen;
    assert_int_equal(cbc_run(1, 1, pt, 64, 0, &ct, &ctlen), 0);
    uint8_t other[32];
    memcpy(other, cbc_key, 32);
    other[0] ^= 1;
    ferry_cbc_t *c;
    uint8_t out[128];
    size_t l1, l2 = 0;
    assert_int_equal(ferry_cbc_new(other, 0, 1, &c), 0);
    assert_int_equal(ferry_cbc_update(c, ct, ctlen, out, &l1), 0);
    int rc = ferry_cbc_final(c, out + l1, &l2);
    ferry_cbc_free(c);
    if (rc == 0)
        assert_memory_not_equal(out, pt, 16);
    else
        assert_int_equal(rc, FERRY_EINTEGRITY);
    free(ct);
    free(pt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aes_wrap_rfc3394_4_6),
        cmocka_unit_test(test_aes_unwrap_integrity_failure_is_password_error),
        cmocka_unit_test(test_cbc_lengths_and_round_trip),
        cmocka_unit_test(test_cbc_streaming_in_odd_chunks_equals_one_shot),
        cmocka_unit_test(test_cbc_zero_iv_known_answer_unpadded),
        cmocka_unit_test(test_cbc_unpadded_mode),
        cmocka_unit_test(test_cbc_bad_padding_is_integrity_error),
        cmocka_unit_test(test_cbc_unaligned_ciphertext_is_integrity_error),
        cmocka_unit_test(test_cbc_wrong_key_does_not_yield_plaintext),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
