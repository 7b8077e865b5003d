/*
 * fuzz_manifest_db.c: libFuzzer target for reading Manifest.db (backup-format.md §4): the bytes are
 * written to a file in the scratch folder, opened with ferry_manifest_db_open (read-only, immutable)
 * and every row is iterated in all three ways ferry iterates (all domains, one domain, one path), each
 * row's bytes are touched at the lengths the iterator claims and its MBFile is decoded. The same bytes,
 * taken as a decrypted database, are encrypted with a fixed key and decrypted with
 * ferry_manifest_db_decrypt_file: the result must be the bytes, or the bytes less a valid PKCS#7 tail
 * (§4.2), so the padding decision is fuzzed with the plaintext under the fuzzer's control.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

static char *db_path, *enc_path, *dec_path;
static const uint8_t fixed_key[FERRY_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                                 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

static void drain(ferry_db_iter_t *it)
{
    ferry_db_row_t row;
    int rc;
    while ((rc = ferry_db_iter_next(it, &row)) == 1) {
        fuzz_touch(row.fileid, row.fileid_len);
        fuzz_touch(row.domain, row.domain_len);
        fuzz_touch(row.relpath, row.relpath_len);
        if (row.file) {
            ferry_mbfile_t mb;
            fuzz_touch(row.file, row.file_len);
            if (ferry_mbfile_decode(row.file, row.file_len, &mb) == 0)
                ferry_mbfile_clear(&mb);
        }
    }
    ferry_db_iter_free(it);
}

static void read_db(void)
{
    ferry_manifest_db_t *db = NULL;
    if (ferry_manifest_db_open(db_path, &db) != 0)
        return;
    int64_t n = 0;
    ferry_manifest_db_count(db, &n);
    ferry_db_iter_t *it = NULL;
    if (ferry_db_iter_new(db, NULL, &it) == 0)
        drain(it);
    if (ferry_db_iter_new(db, "HomeDomain", &it) == 0)
        drain(it);
    if (ferry_db_iter_new_path(db, "HomeDomain", "Library", &it) == 0)
        drain(it);
    ferry_manifest_db_close(db);
}

/* Encrypts data (a multiple of 16 bytes) without adding padding, as if it were the plaintext. */
static void encrypt_raw(const uint8_t *data, size_t size)
{
    ferry_cbc_t *c = NULL;
    uint8_t *out = malloc(size + 32);
    size_t ol = 0, fl = 0;
    if (!out || ferry_cbc_new(fixed_key, 1, 0, &c) != 0 || ferry_cbc_update(c, data, size, out, &ol) != 0 ||
        ferry_cbc_final(c, out + ol, &fl) != 0 || ol + fl != size)
        fuzz_fail("cannot encrypt the input");
    ferry_cbc_free(c);
    fuzz_write_file(enc_path, out, size);
    free(out);
}

static int valid_pkcs7_tail(const uint8_t *data, size_t size, size_t *pad)
{
    unsigned p = data[size - 1];
    if (p < 1 || p > 16)
        return 0;
    for (size_t i = size - p; i < size; i++)
        if (data[i] != p)
            return 0;
    *pad = p;
    return 1;
}

static void decrypt_round_trip(const uint8_t *data, size_t size)
{
    if (size == 0 || size % 16 != 0)
        return;
    encrypt_raw(data, size);
    if (ferry_manifest_db_decrypt_file(enc_path, dec_path, fixed_key) != 0)
        fuzz_fail("a well-formed ciphertext does not decrypt");
    uint8_t *out = NULL;
    size_t len = 0, pad = 0;
    if (ferry_file_read_all(dec_path, size + 1, &out, &len) != 0)
        fuzz_fail("the decrypted Manifest.db cannot be read back");
    int same = len == size && memcmp(out, data, size) == 0;
    int stripped = valid_pkcs7_tail(data, size, &pad) && len == size - pad && memcmp(out, data, len) == 0;
    if (!same && !stripped)
        fuzz_fail("decrypting Manifest.db gave neither the plaintext nor the plaintext less its padding");
    free(out);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_quiet();
    db_path = fuzz_path("Manifest.db");
    enc_path = fuzz_path("Manifest.db.enc");
    dec_path = fuzz_path("Manifest.db.dec");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_write_file(db_path, data, size);
    read_db();
    decrypt_round_trip(data, size);
    ferry_error_clear();
    return 0;
}
