/*
 * fuzz_encrypted_file.c: libFuzzer target for the encrypted-file reader (backup-format.md §6.6,
 * §15.2): a small fixed encrypted backup is written once per process with ferry's writer and opened
 * (KDF counts of 2, caps of FUZZ_KDF_CAP); every input replaces the blob of its one FUZZ_ENC_PATH file
 * (MBFile Size FUZZ_ENC_SIZE), which is then read to the end with ferry_backup_file_open in strict or
 * lenient mode. Because the file key is random per process, the first input byte chooses how the rest
 * becomes the blob: taken as ciphertext as is, encrypted with the file key and PKCS#7 (valid padding,
 * any length), or encrypted without padding (the fuzzer controls the decrypted last block, so every
 * padding the check must refuse is reachable), or the blob is removed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_common.h"

enum { MODE_RAW, MODE_PADDED, MODE_UNPADDED, MODE_MISSING, MODES };

static ferry_backup_t *backup;
static ferry_record_t record;
static char *blob_path;
static uint8_t file_key[FERRY_KEY_LEN];

static void open_fixed_backup(void)
{
    char *dir = fuzz_path("backup");
    if (fuzz_make_backup(dir, FUZZ_PASSWORD) != 0)
        fuzz_fail("cannot write the fixed encrypted backup");
    ferry_credentials_t cred;
    memset(&cred, 0, sizeof cred);
    cred.password = FUZZ_PASSWORD;
    cred.password_len = strlen(FUZZ_PASSWORD);
    cred.limits.max_dpic = cred.limits.max_iter = FUZZ_KDF_CAP;
    if (ferry_backup_open(dir, &cred, &backup) != 0 ||
        ferry_backup_lookup(backup, FUZZ_ENC_DOMAIN, FUZZ_ENC_PATH, &record) != 0 ||
        !(blob_path = ferry_backup_blob_path(backup, &record)))
        fuzz_fail("cannot open the fixed encrypted backup");
    uint8_t wrapped[FERRY_PREFIXED_KEY_LEN];
    memcpy(wrapped, record.mb.encryption_key, sizeof wrapped);
    if (ferry_keybag_unwrap_prefixed(ferry_backup_keybag(backup), wrapped, file_key, NULL) != 0)
        fuzz_fail("cannot unwrap the file key of the fixed backup");
    free(dir);
}

/* The blob for the rest of the input in the chosen mode, malloc'd in *out. */
static size_t make_blob(int mode, const uint8_t *in, size_t len, uint8_t **out)
{
    if (mode == MODE_RAW) {
        *out = malloc(len ? len : 1);
        if (!*out)
            abort();
        memcpy(*out, in, len);
        return len;
    }
    if (mode == MODE_UNPADDED)
        len -= len % 16;
    *out = malloc(len + 32);
    ferry_cbc_t *c = NULL;
    size_t ol = 0, fl = 0;
    if (!*out || ferry_cbc_new(file_key, 1, mode == MODE_PADDED, &c) != 0 ||
        ferry_cbc_update(c, in, len, *out, &ol) != 0 || ferry_cbc_final(c, *out + ol, &fl) != 0)
        fuzz_fail("cannot encrypt the input");
    ferry_cbc_free(c);
    return ol + fl;
}

static void read_all(int strict, size_t expect_ok_len, int expect_ok)
{
    ferry_file_reader_t *r = NULL;
    if (ferry_backup_file_open(backup, &record, strict, &r) != 0) {
        if (expect_ok)
            fuzz_fail("a well-formed blob does not open");
        return;
    }
    uint8_t buf[7]; /* an odd size, so that reads never line up with cipher blocks */
    size_t total = 0;
    ssize_t n;
    while ((n = ferry_file_reader_read(r, buf, sizeof buf)) > 0)
        total += (size_t)n;
    if (n < 0 && ferry_file_reader_read(r, buf, sizeof buf) >= 0)
        fuzz_fail("a file reader error is not sticky");
    if (expect_ok && (n != 0 || total != expect_ok_len))
        fuzz_fail("a well-formed blob of the right length does not read back");
    if (n == 0 && strict && total != FUZZ_ENC_SIZE)
        fuzz_fail("a strict read accepted a length different from MBFile Size");
    ferry_file_reader_close(r);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_quiet();
    open_fixed_backup();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    int mode = data[0] % MODES, strict = (data[0] / MODES) & 1;
    if (mode == MODE_MISSING) {
        unlink(blob_path);
    } else {
        uint8_t *blob = NULL;
        size_t len = make_blob(mode, data + 1, size - 1, &blob);
        fuzz_write_file(blob_path, blob, len);
        free(blob);
    }
    /* Padded plaintext of exactly MBFile Size must read back in both modes. */
    int ok = mode == MODE_PADDED && size - 1 == FUZZ_ENC_SIZE;
    read_all(strict, FUZZ_ENC_SIZE, ok);
    ferry_error_clear();
    return 0;
}
