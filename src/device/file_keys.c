/*
 * file_keys.c: the per-file keys the emulated device uses in encrypted backups when it keeps its
 * backup keybag from one backup to the next. A real device re-uses an unchanged file's record (and so
 * its key and blob) in an incremental backup; the emulated device, which writes every backup afresh,
 * gets the same effect by deriving each file key from the class key and the file's content: the same
 * content in the same keybag gives the same key, hence (AES-CBC with a zero IV, §6.6) the same blob.
 * Invariants: a changed file, another path or another keybag gives an unrelated key; the class key
 * never leaves the keybag, and every intermediate secret is wiped.
 */
#include "device_internal.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <string.h>
#include <unistd.h>

#define LABEL "ferry device file key v1"

static int derive(const ferry_keybag_t *kb, int32_t pclass, const char *domain, const char *relpath,
                  const uint8_t digest[32], uint8_t key[FERRY_KEY_LEN])
{
    const uint8_t *ck = NULL;
    int rc = ferry_keybag_class_key(kb, (uint32_t)(pclass > 0 ? pclass : 3), &ck);
    if (rc)
        return rc;
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0), OSSL_PARAM_construct_end()};
    size_t outlen = 0;
    int ok = ctx && EVP_MAC_init(ctx, ck, FERRY_KEY_LEN, params) &&
             EVP_MAC_update(ctx, (const uint8_t *)LABEL, sizeof LABEL) &&
             EVP_MAC_update(ctx, (const uint8_t *)domain, strlen(domain) + 1) &&
             EVP_MAC_update(ctx, (const uint8_t *)relpath, strlen(relpath) + 1) &&
             EVP_MAC_update(ctx, digest, 32) && EVP_MAC_final(ctx, key, &outlen, FERRY_KEY_LEN) &&
             outlen == FERRY_KEY_LEN;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return ok ? 0 : ferry_error_set(FERRY_ECRYPTO, "cannot derive the file key of %s/%s", domain, relpath);
}

int dev_file_key_mem(const ferry_keybag_t *kb, int32_t pclass, const char *domain, const char *relpath,
                     const void *data, size_t len, uint8_t key[FERRY_KEY_LEN])
{
    uint8_t digest[32];
    unsigned dlen = 0;
    if (!EVP_Digest(data, len, digest, &dlen, EVP_sha256(), NULL))
        return ferry_error_set(FERRY_ECRYPTO, "SHA-256 of %s/%s failed", domain, relpath);
    int rc = derive(kb, pclass, domain, relpath, digest, key);
    ferry_wipe(digest, sizeof digest);
    return rc;
}

int dev_file_key_path(const ferry_keybag_t *kb, int32_t pclass, const char *domain, const char *relpath,
                      const char *path, uint8_t key[FERRY_KEY_LEN])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return ferry_error_errno("cannot open %s", path);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int rc = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) ? 0 : ferry_error_set(FERRY_ENOMEM, "out of memory");
    uint8_t buf[65536], digest[32];
    while (!rc) {
        ssize_t n = ferry_read_full(fd, buf, sizeof buf, path);
        if (n < 0)
            rc = (int)n;
        else if (n == 0)
            break;
        else if (!EVP_DigestUpdate(md, buf, (size_t)n))
            rc = ferry_error_set(FERRY_ECRYPTO, "SHA-256 of %s failed", path);
    }
    unsigned dlen = 0;
    if (!rc && !EVP_DigestFinal_ex(md, digest, &dlen))
        rc = ferry_error_set(FERRY_ECRYPTO, "SHA-256 of %s failed", path);
    EVP_MD_CTX_free(md);
    close(fd);
    if (!rc)
        rc = derive(kb, pclass, domain, relpath, digest, key);
    ferry_wipe(buf, sizeof buf);
    ferry_wipe(digest, sizeof digest);
    return rc;
}
