/*
 * crypto.c: the two ciphers of the backup format (backup-format.md §6), both over OpenSSL EVP so that
 * nothing cryptographic is written by hand: RFC 3394 AES key wrap with a 256-bit KEK and the default
 * IV (class keys, file keys, ManifestDBKey), and streaming AES-256-CBC with a zero IV (file blobs,
 * Manifest.db). Invariants: an RFC 3394 integrity failure is always reported as FERRY_EPASSWORD (it is
 * how a wrong password shows itself); a CBC stream with padding reports invalid padding or a ciphertext
 * that is not 16-aligned as FERRY_EINTEGRITY "bad padding" at final, never as garbage plaintext; key
 * material on the stack is wiped before returning, and OpenSSL's error queue is left empty.
 */
#include "ferry/backup.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#define CBC_BLOCK 16
/* EVP lengths are ints: feed large buffers in slices that cannot overflow one. */
#define CBC_SLICE (1u << 30)

int ferry_aes_wrap(const uint8_t kek[FERRY_KEY_LEN], const uint8_t key[FERRY_KEY_LEN],
                   uint8_t out[FERRY_WRAPPED_LEN])
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (!c)
        return ferry_error_set(FERRY_ENOMEM, "out of memory creating an AES key-wrap context");
    /* Needed on OpenSSL 1.1, harmless on 3: wrap modes are refused by EVP without it. */
    EVP_CIPHER_CTX_set_flags(c, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
    int l1 = 0, l2 = 0;
    int ok = EVP_EncryptInit_ex(c, EVP_aes_256_wrap(), NULL, kek, NULL) == 1 &&
             EVP_EncryptUpdate(c, out, &l1, key, FERRY_KEY_LEN) == 1 &&
             EVP_EncryptFinal_ex(c, out + l1, &l2) == 1 && l1 + l2 == FERRY_WRAPPED_LEN;
    EVP_CIPHER_CTX_free(c);
    ERR_clear_error();
    if (!ok)
        return ferry_error_set(FERRY_ECRYPTO, "AES key wrap (RFC 3394) failed in OpenSSL");
    return 0;
}

int ferry_aes_unwrap(const uint8_t kek[FERRY_KEY_LEN], const uint8_t wrapped[FERRY_WRAPPED_LEN],
                     uint8_t out[FERRY_KEY_LEN])
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (!c)
        return ferry_error_set(FERRY_ENOMEM, "out of memory creating an AES key-wrap context");
    EVP_CIPHER_CTX_set_flags(c, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
    if (EVP_DecryptInit_ex(c, EVP_aes_256_wrap(), NULL, kek, NULL) != 1) {
        EVP_CIPHER_CTX_free(c);
        ERR_clear_error();
        return ferry_error_set(FERRY_ECRYPTO, "AES key unwrap (RFC 3394) could not be set up in OpenSSL");
    }
    /* OpenSSL checks the A6A6... integrity value inside Update; unwrap into a scratch buffer so that a
     * failed unwrap never leaves partial output in the caller's key. */
    uint8_t tmp[FERRY_WRAPPED_LEN];
    int l1 = 0, l2 = 0;
    int ok = EVP_DecryptUpdate(c, tmp, &l1, wrapped, FERRY_WRAPPED_LEN) == 1 &&
             EVP_DecryptFinal_ex(c, tmp + l1, &l2) == 1 && l1 + l2 == FERRY_KEY_LEN;
    EVP_CIPHER_CTX_free(c);
    ERR_clear_error();
    if (ok)
        memcpy(out, tmp, FERRY_KEY_LEN);
    ferry_wipe(tmp, sizeof tmp);
    if (!ok)
        return ferry_error_set(FERRY_EPASSWORD,
                               "AES key unwrap failed its integrity check (wrong password or key)");
    return 0;
}

struct ferry_cbc {
    EVP_CIPHER_CTX *ctx;
    int encrypt;
    int pad;
    uint64_t total_in; /* to tell "not 16-aligned" from "bad padding" in the message */
};

int ferry_cbc_new(const uint8_t key[FERRY_KEY_LEN], int encrypt, int pad, ferry_cbc_t **out)
{
    static const uint8_t zero_iv[CBC_BLOCK] = {0};
    *out = NULL;
    ferry_cbc_t *c = calloc(1, sizeof *c);
    if (!c)
        return ferry_error_set(FERRY_ENOMEM, "out of memory creating an AES-CBC context");
    c->encrypt = encrypt ? 1 : 0;
    c->pad = pad ? 1 : 0;
    c->ctx = EVP_CIPHER_CTX_new();
    if (!c->ctx) {
        free(c);
        return ferry_error_set(FERRY_ENOMEM, "out of memory creating an AES-CBC context");
    }
    if (EVP_CipherInit_ex(c->ctx, EVP_aes_256_cbc(), NULL, key, zero_iv, c->encrypt) != 1 ||
        EVP_CIPHER_CTX_set_padding(c->ctx, c->pad) != 1) {
        ferry_cbc_free(c);
        ERR_clear_error();
        return ferry_error_set(FERRY_ECRYPTO, "AES-256-CBC could not be set up in OpenSSL");
    }
    *out = c;
    return 0;
}

int ferry_cbc_update(ferry_cbc_t *c, const uint8_t *in, size_t inlen, uint8_t *out, size_t *outlen)
{
    size_t done = 0, produced = 0;
    *outlen = 0;
    while (done < inlen) {
        size_t n = inlen - done < CBC_SLICE ? inlen - done : CBC_SLICE;
        int l = 0;
        if (EVP_CipherUpdate(c->ctx, out + produced, &l, in + done, (int)n) != 1) {
            ERR_clear_error();
            return ferry_error_set(FERRY_ECRYPTO, "AES-256-CBC %s failed in OpenSSL",
                                   c->encrypt ? "encryption" : "decryption");
        }
        done += n;
        produced += (size_t)l;
    }
    c->total_in += inlen;
    *outlen = produced;
    return 0;
}

int ferry_cbc_final(ferry_cbc_t *c, uint8_t *out, size_t *outlen)
{
    int l = 0;
    *outlen = 0;
    int ok = EVP_CipherFinal_ex(c->ctx, out, &l) == 1;
    ERR_clear_error();
    if (ok) {
        *outlen = (size_t)l;
        return 0;
    }
    int aligned = c->total_in % CBC_BLOCK == 0;
    if (c->encrypt)
        return ferry_error_set(FERRY_EINVAL,
                               "AES-256-CBC without padding needs a multiple of 16 bytes, got %llu",
                               (unsigned long long)c->total_in);
    if (!aligned)
        return ferry_error_set(FERRY_EINTEGRITY,
                               "bad padding: the ciphertext is %llu bytes, not a multiple of 16 (truncated or "
                               "corrupt data)",
                               (unsigned long long)c->total_in);
    return ferry_error_set(FERRY_EINTEGRITY,
                           "bad padding: the last block is not valid PKCS#7 (wrong key or corrupt data)");
}

void ferry_cbc_free(ferry_cbc_t *c)
{
    if (!c)
        return;
    EVP_CIPHER_CTX_free(c->ctx); /* cleanses the key schedule */
    free(c);
}
