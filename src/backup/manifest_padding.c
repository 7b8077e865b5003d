/*
 * manifest_padding.c: whether an encrypted Manifest.db carried PKCS#7 padding (backup-format.md §4.2).
 * Readers accept both forms, so the reader does not keep the answer; `ferry verify` needs it because
 * strict readers (iTunes-Backup-Explorer, crabapple) reject an unpadded database. The answer is found
 * from the public reader state only: the ManifestDBKey is unwrapped again with the unlocked keybag, and
 * just the first two and the last two ciphertext blocks are decrypted (in CBC the last plaintext block
 * depends only on the last two ciphertext blocks). The decision rule is the reader's: valid PKCS#7 in
 * the last block, and a length that is not a whole number of database pages (an unpadded database is
 * whole pages, whose last byte may look like padding by chance). The key is wiped after use.
 */
#include "ferry/backup.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Decrypts in[0..len) (a multiple of 16) with a zero IV and no padding handling. */
static int cbc_decrypt_raw(const uint8_t key[FERRY_KEY_LEN], const uint8_t *in, size_t len, uint8_t *out)
{
    ferry_cbc_t *c = NULL;
    size_t ol = 0, fl = 0;
    int rc = ferry_cbc_new(key, 0, 0, &c);
    if (rc == 0)
        rc = ferry_cbc_update(c, in, len, out, &ol);
    if (rc == 0)
        rc = ferry_cbc_final(c, out + ol, &fl);
    ferry_cbc_free(c);
    return rc;
}

static unsigned page_size_of(const uint8_t hdr[32])
{
    if (memcmp(hdr, "SQLite format 3", 16) != 0)
        return 0;
    unsigned p = ((unsigned)hdr[16] << 8) | hdr[17];
    if (p == 1)
        p = 65536;
    return (p >= 512 && (p & (p - 1)) == 0) ? p : 0;
}

static int valid_pkcs7(const uint8_t last[16])
{
    unsigned p = last[15];
    if (p < 1 || p > 16)
        return 0;
    for (unsigned i = 16 - p; i < 16; i++)
        if (last[i] != p)
            return 0;
    return 1;
}

int ferry_backup_manifest_db_padded(const ferry_backup_t *b)
{
    const ferry_manifest_plist_t *m = ferry_backup_manifest(b);
    const ferry_keybag_t *kb = ferry_backup_keybag(b);
    if (!ferry_backup_is_encrypted(b) || !m || !m->has_manifest_key || !kb)
        return -1; /* plaintext database: padding does not apply */
    uint8_t key[FERRY_KEY_LEN];
    uint32_t clas = 0;
    if (ferry_keybag_unwrap_prefixed(kb, m->manifest_key, key, &clas) != 0) {
        ferry_wipe(key, sizeof key);
        return -1;
    }
    char *path = ferry_path_join(ferry_backup_dir(b), "Manifest.db");
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    free(path);
    int result = -1;
    struct stat st;
    uint8_t head[32], tail[32], ph[32], pt[32];
    if (fd >= 0 && fstat(fd, &st) == 0 && st.st_size >= 32 && st.st_size % 16 == 0 &&
        pread(fd, head, sizeof head, 0) == (ssize_t)sizeof head &&
        pread(fd, tail, sizeof tail, st.st_size - 32) == (ssize_t)sizeof tail &&
        cbc_decrypt_raw(key, head, sizeof head, ph) == 0 && cbc_decrypt_raw(key, tail, sizeof tail, pt) == 0) {
        unsigned page = page_size_of(ph);
        result = valid_pkcs7(pt + 16) && !(page && (uint64_t)st.st_size % page == 0);
    }
    if (fd >= 0)
        close(fd);
    ferry_wipe(key, sizeof key);
    ferry_wipe(ph, sizeof ph);
    ferry_wipe(pt, sizeof pt);
    return result;
}
