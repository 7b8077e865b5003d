/*
 * hexhash.c: hex encoding, the SHA-1 behind backup fileIDs, random bytes and wiping of secrets, all
 * over OpenSSL so that nothing cryptographic is written by hand.
 */
#include "ferry/common.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

void ferry_hex_encode(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int ferry_hex_decode(const char *hex, uint8_t *out, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        int hi = hexval(hex[2 * i]);
        int lo = hi < 0 ? -1 : hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return ferry_error_set(FERRY_EFORMAT, "not a hexadecimal string of %zu bytes", len);
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

void ferry_sha1_pair_hex(const char *a, size_t alen, const char *b, size_t blen, char out[41])
{
    uint8_t md[20];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha1(), NULL);
    EVP_DigestUpdate(ctx, a, alen);
    EVP_DigestUpdate(ctx, "-", 1);
    EVP_DigestUpdate(ctx, b, blen);
    EVP_DigestFinal_ex(ctx, md, &mdlen);
    EVP_MD_CTX_free(ctx);
    ferry_hex_encode(md, 20, out);
}

int ferry_random_bytes(void *buf, size_t len)
{
    if (len > INT32_MAX || RAND_bytes(buf, (int)len) != 1)
        return ferry_error_set(FERRY_ECRYPTO, "the random number generator failed");
    return 0;
}

void ferry_wipe(void *p, size_t len)
{
    if (p && len)
        OPENSSL_cleanse(p, len);
}
