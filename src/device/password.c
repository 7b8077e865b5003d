/*
 * password.c: the backup password of the emulated device. A real device keeps it in its keychain,
 * protected by a key that never leaves the hardware, so that it can encrypt every backup without
 * asking (WillEncrypt). The emulated device keeps it in keybag.plist, wrapped (AES-256-GCM, OpenSSL)
 * with the device's hardware key in hardware.key (mode 0600). Both files sit in the same directory,
 * so this models the separation rather than providing it: a device directory is a test artefact and
 * must be protected like the password itself. Plaintext copies are wiped after use.
 */
#include "device_internal.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HWKEY_LEN 32
#define NONCE_LEN 12
#define TAG_LEN 16
#define MAX_PASSWORD 4096

static int hardware_key(const ferry_device_t *dev, int create, uint8_t key[HWKEY_LEN])
{
    char *path = dev_path(dev->dir, "hardware.key", NULL);
    if (!path)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc;
    if (access(path, F_OK) != 0 && create) {
        rc = ferry_random_bytes(key, HWKEY_LEN);
        if (!rc)
            rc = ferry_file_write_atomic(path, key, HWKEY_LEN, 0600);
    } else if (!(rc = ferry_file_read_all(path, 1024, &buf, &len))) {
        if (len != HWKEY_LEN)
            rc = ferry_error_set(FERRY_EFORMAT, "%s must hold %d bytes, not %zu", path, HWKEY_LEN, len);
        else
            memcpy(key, buf, HWKEY_LEN);
        ferry_wipe(buf, len);
        free(buf);
    }
    free(path);
    return rc;
}

static int gcm(int enc, const uint8_t key[HWKEY_LEN], const uint8_t nonce[NONCE_LEN], const uint8_t *in, size_t len,
               uint8_t *out, uint8_t tag[TAG_LEN])
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, ok = c && EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce, enc) &&
                    EVP_CipherUpdate(c, out, &n, in, (int)len);
    if (ok && !enc)
        ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag);
    ok = ok && EVP_CipherFinal_ex(c, out + n, &n);
    if (ok && enc)
        ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag);
    EVP_CIPHER_CTX_free(c);
    return ok ? 0 : -1;
}

int ferry_device_set_backup_password(ferry_device_t *dev, const char *pw, size_t pwlen)
{
    char *path = dev_path(dev->dir, "keybag.plist", NULL);
    if (!path)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    int rc = 0;
    if (!pw || pwlen == 0) {
        if (unlink(path) != 0 && access(path, F_OK) == 0)
            rc = ferry_error_errno("cannot remove %s", path);
        if (!rc)
            dev->has_backup_password = 0;
        free(path);
        return rc;
    }
    if (pwlen > MAX_PASSWORD) {
        free(path);
        return ferry_error_set(FERRY_ELIMIT, "a backup password is at most %d bytes", MAX_PASSWORD);
    }
    uint8_t key[HWKEY_LEN], *blob = malloc(NONCE_LEN + pwlen + TAG_LEN);
    if (!blob)
        rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
    if (!rc)
        rc = hardware_key(dev, 1, key);
    if (!rc)
        rc = ferry_random_bytes(blob, NONCE_LEN);
    if (!rc && gcm(1, key, blob, (const uint8_t *)pw, pwlen, blob + NONCE_LEN, blob + NONCE_LEN + pwlen))
        rc = ferry_error_set(FERRY_ECRYPTO, "cannot wrap the backup password");
    if (!rc) {
        plist_t d = plist_new_dict();
        dev_dict_set_uint(d, "Version", 1);
        dev_dict_set_bool(d, "WillEncrypt", 1);
        dev_dict_set_data(d, "BackupPasswordWrapped", blob, NONCE_LEN + pwlen + TAG_LEN);
        rc = ferry_plist_write_file(path, d, 1);
        plist_free(d);
    }
    if (!rc)
        dev->has_backup_password = 1;
    ferry_wipe(key, sizeof key);
    free(blob);
    free(path);
    return rc;
}

int ferry_device_get_backup_password(const ferry_device_t *dev, char **pw, size_t *pwlen)
{
    *pw = NULL;
    *pwlen = 0;
    char *path = dev_path(dev->dir, "keybag.plist", NULL);
    if (!path)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    if (access(path, F_OK) != 0) {
        free(path);
        return ferry_error_set(FERRY_ENOTFOUND, "device %s has no backup password (WillEncrypt is false)", dev->dir);
    }
    plist_t d = NULL;
    uint8_t *blob = NULL, key[HWKEY_LEN];
    size_t len = 0;
    int rc = ferry_plist_read_file(path, 1 << 20, &d);
    if (!rc)
        rc = ferry_plist_get_data(d, "BackupPasswordWrapped", &blob, &len);
    if (!rc && len < NONCE_LEN + TAG_LEN + 1)
        rc = ferry_error_set(FERRY_EFORMAT, "%s: key 'BackupPasswordWrapped' is too short", path);
    if (!rc)
        rc = hardware_key(dev, 0, key);
    size_t n = len - NONCE_LEN - TAG_LEN;
    char *out = rc ? NULL : malloc(n + 1);
    if (!rc && !out)
        rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
    if (!rc && gcm(0, key, blob, blob + NONCE_LEN, n, (uint8_t *)out, blob + NONCE_LEN + n))
        rc = ferry_error_set(FERRY_EINTEGRITY, "%s does not unwrap with hardware.key (one of them was replaced)", path);
    if (!rc) {
        out[n] = 0;
        *pw = out;
        *pwlen = n;
    } else if (out) {
        ferry_wipe(out, n);
        free(out);
    }
    ferry_wipe(key, sizeof key);
    free(blob);
    if (d)
        plist_free(d);
    free(path);
    return rc;
}

int ferry_device_check_backup_password(const ferry_device_t *dev, const char *pw, size_t pwlen)
{
    char *have = NULL;
    size_t n = 0;
    int rc = ferry_device_get_backup_password(dev, &have, &n);
    if (rc)
        return rc;
    int same = n == pwlen && CRYPTO_memcmp(have, pw, n) == 0;
    ferry_wipe(have, n);
    free(have);
    return same ? 0 : ferry_error_set(FERRY_EPASSWORD, "the backup password is wrong");
}
