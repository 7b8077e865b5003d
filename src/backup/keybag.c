/*
 * keybag.c: the backup keybag (backup-format.md §6.1-6.3, §6.8): parsing the TLV container that
 * Manifest.plist's BackupKeyBag holds, deriving the key-encryption key from a password, removing the
 * password layer from the class keys, and creating, re-wrapping and serialising keybags. Invariants:
 * every length read from outside is checked against the buffer and against the tag's fixed size before
 * a byte is copied; the first UUID is the keybag's and each later UUID opens a class record; KDF
 * parameters are checked against the caps (§15.2) before any derivation starts, so a hostile keybag
 * cannot make us burn CPU; a keybag is either fully unlocked (every WRAP & 2 class unwrapped) or holds
 * no unwrapped key at all; serialising writes the §6.8 order, which reproduces a real keybag
 * byte-for-byte; keys and KEKs are wiped after use.
 */
#include "ferry/backup.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#define TAG(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define T_VERS TAG('V', 'E', 'R', 'S')
#define T_TYPE TAG('T', 'Y', 'P', 'E')
#define T_UUID TAG('U', 'U', 'I', 'D')
#define T_HMCK TAG('H', 'M', 'C', 'K')
#define T_WRAP TAG('W', 'R', 'A', 'P')
#define T_SALT TAG('S', 'A', 'L', 'T')
#define T_ITER TAG('I', 'T', 'E', 'R')
#define T_DPWT TAG('D', 'P', 'W', 'T')
#define T_DPIC TAG('D', 'P', 'I', 'C')
#define T_DPSL TAG('D', 'P', 'S', 'L')
#define T_CLAS TAG('C', 'L', 'A', 'S')
#define T_KTYP TAG('K', 'T', 'Y', 'P')
#define T_WPKY TAG('W', 'P', 'K', 'Y')
#define T_PBKY TAG('P', 'B', 'K', 'Y')

#define TLV_HEADER 8
#define SALT_LEN 20
#define UUID_LEN 16
#define HMCK_LEN 40
#define BACKUP_CLASSES 11 /* protection classes 1..11 (§10.1) */

/* ---- parsing ----------------------------------------------------------------------------------- */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* The tag as text for messages; hostile tags may hold any byte. */
static void tag_text(uint32_t tag, char out[5])
{
    for (int i = 0; i < 4; i++) {
        char c = (char)(tag >> (24 - 8 * i));
        out[i] = (c >= 0x20 && c < 0x7f) ? c : '?';
    }
    out[4] = '\0';
}

typedef struct {
    ferry_keybag_t *kb;
    ferry_keybag_class_t *cls; /* the class record being read, NULL while in the header */
    int have_uuid, have_salt, have_iter, have_dpic, have_dpsl;
    int cls_have_clas;
} parse_state_t;

static int want_len(uint32_t tag, uint32_t len, uint32_t want, size_t off)
{
    if (len == want)
        return 0;
    char t[5];
    tag_text(tag, t);
    return ferry_error_set(FERRY_EFORMAT,
                           "malformed keybag: record %s at offset %zu is %u bytes long, it must be %u",
                           t, off, len, want);
}

/* Closes the class record being read: it must have said which class it is, and only once per keybag. */
static int finish_class(parse_state_t *st)
{
    ferry_keybag_class_t *c = st->cls;
    ferry_keybag_t *kb = st->kb;
    if (!c)
        return 0;
    size_t idx = (size_t)(c - kb->classes);
    if (!st->cls_have_clas)
        return ferry_error_set(FERRY_EFORMAT, "malformed keybag: class record %zu has no CLAS", idx + 1);
    for (size_t i = 0; i < idx; i++)
        if (kb->classes[i].clas == c->clas)
            return ferry_error_set(FERRY_EFORMAT, "malformed keybag: protection class %u appears twice",
                                   c->clas);
    if ((c->wrap & 2) && !c->has_wpky)
        return ferry_error_set(FERRY_EFORMAT,
                               "malformed keybag: class %u is wrapped with the password (WRAP %u) but has no WPKY",
                               c->clas, c->wrap);
    st->cls = NULL;
    return 0;
}

static int start_class(parse_state_t *st, const uint8_t *v)
{
    int rc = finish_class(st);
    if (rc)
        return rc;
    ferry_keybag_t *kb = st->kb;
    if (kb->nclasses == FERRY_KEYBAG_MAX_CLASSES)
        return ferry_error_set(FERRY_EFORMAT, "malformed keybag: more than %d class records",
                               FERRY_KEYBAG_MAX_CLASSES);
    st->cls = &kb->classes[kb->nclasses++];
    memset(st->cls, 0, sizeof *st->cls);
    memcpy(st->cls->uuid, v, UUID_LEN);
    st->cls_have_clas = 0;
    return 0;
}

/* A tag that only makes sense inside a class record. */
static int class_record(parse_state_t *st, uint32_t tag, const uint8_t *v, uint32_t len, size_t off)
{
    char t[5];
    tag_text(tag, t);
    if (!st->cls)
        return ferry_error_set(FERRY_EFORMAT, "malformed keybag: %s at offset %zu comes before any class record",
                               t, off);
    ferry_keybag_class_t *c = st->cls;
    int rc;
    switch (tag) {
    case T_CLAS:
        if ((rc = want_len(tag, len, 4, off)))
            return rc;
        c->clas = be32(v);
        st->cls_have_clas = 1;
        return 0;
    case T_KTYP:
        if ((rc = want_len(tag, len, 4, off)))
            return rc;
        c->ktyp = be32(v);
        return 0;
    case T_WPKY:
        if ((rc = want_len(tag, len, FERRY_WRAPPED_LEN, off)))
            return rc;
        memcpy(c->wpky, v, FERRY_WRAPPED_LEN);
        c->has_wpky = 1;
        return 0;
    default: /* PBKY: public keys of asymmetric classes, of no use to a backup reader */
        return 0;
    }
}

static int u32_attr(uint32_t tag, const uint8_t *v, uint32_t len, size_t off, uint32_t *dst)
{
    int rc = want_len(tag, len, 4, off);
    if (rc)
        return rc;
    *dst = be32(v);
    return 0;
}

static int bytes_attr(uint32_t tag, const uint8_t *v, uint32_t len, size_t off, uint8_t *dst, uint32_t want,
                      int *seen)
{
    int rc = want_len(tag, len, want, off);
    if (rc)
        return rc;
    memcpy(dst, v, want);
    *seen = 1;
    return 0;
}

static int parse_record(parse_state_t *st, uint32_t tag, const uint8_t *v, uint32_t len, size_t off)
{
    ferry_keybag_t *kb = st->kb;
    int rc;
    switch (tag) {
    case T_UUID:
        if ((rc = want_len(tag, len, UUID_LEN, off)))
            return rc;
        if (st->have_uuid)
            return start_class(st, v);
        memcpy(kb->uuid, v, UUID_LEN);
        st->have_uuid = 1;
        return 0;
    case T_WRAP:
        return u32_attr(tag, v, len, off, st->cls ? &st->cls->wrap : &kb->wrap);
    case T_CLAS:
    case T_KTYP:
    case T_WPKY:
    case T_PBKY:
        return class_record(st, tag, v, len, off);
    case T_VERS:
        return u32_attr(tag, v, len, off, &kb->version);
    case T_TYPE:
        return u32_attr(tag, v, len, off, &kb->type);
    case T_ITER:
        st->have_iter = 1;
        return u32_attr(tag, v, len, off, &kb->iter);
    case T_DPWT:
        return u32_attr(tag, v, len, off, &kb->dpwt);
    case T_DPIC:
        st->have_dpic = 1;
        return u32_attr(tag, v, len, off, &kb->dpic);
    case T_HMCK:
        return bytes_attr(tag, v, len, off, kb->hmck, HMCK_LEN, &kb->has_hmck);
    case T_SALT:
        return bytes_attr(tag, v, len, off, kb->salt, SALT_LEN, &st->have_salt);
    case T_DPSL:
        return bytes_attr(tag, v, len, off, kb->dpsl, SALT_LEN, &st->have_dpsl);
    default: /* unknown tags (SIGN, DATA, future ones) are skipped, as every reader does */
        return 0;
    }
}

/* What a usable keybag must have once every record is read. */
static int check_complete(parse_state_t *st)
{
    ferry_keybag_t *kb = st->kb;
    int rc = finish_class(st);
    if (rc)
        return rc;
    if (!st->have_uuid)
        return ferry_error_set(FERRY_EFORMAT, "malformed keybag: it has no UUID");
    if (!st->have_salt || !st->have_iter)
        return ferry_error_set(FERRY_EFORMAT, "malformed keybag: it has no %s", st->have_salt ? "ITER" : "SALT");
    if (st->have_dpic != st->have_dpsl)
        return ferry_error_set(FERRY_EFORMAT, "malformed keybag: it has %s without %s",
                               st->have_dpic ? "DPIC" : "DPSL", st->have_dpic ? "DPSL" : "DPIC");
    kb->has_dp = st->have_dpic;
    return 0;
}

int ferry_keybag_parse(const uint8_t *buf, size_t len, ferry_keybag_t **out)
{
    *out = NULL;
    if (!buf || len == 0)
        return ferry_error_set(FERRY_EFORMAT, "malformed keybag: it is empty");
    ferry_keybag_t *kb = calloc(1, sizeof *kb);
    if (!kb)
        return ferry_error_set(FERRY_ENOMEM, "out of memory parsing a keybag");
    parse_state_t st = {.kb = kb};
    size_t off = 0;
    int rc = 0;
    while (off < len && rc == 0) {
        if (len - off < TLV_HEADER) {
            rc = ferry_error_set(FERRY_EFORMAT,
                                 "malformed keybag: truncated record header at offset %zu (%zu bytes left)", off,
                                 len - off);
            break;
        }
        uint32_t tag = be32(buf + off), vlen = be32(buf + off + 4);
        if (vlen > len - off - TLV_HEADER) {
            char t[5];
            tag_text(tag, t);
            rc = ferry_error_set(FERRY_EFORMAT,
                                 "malformed keybag: record %s at offset %zu claims %u bytes but only %zu remain",
                                 t, off, vlen, len - off - TLV_HEADER);
            break;
        }
        rc = parse_record(&st, tag, buf + off + TLV_HEADER, vlen, off);
        off += TLV_HEADER + (size_t)vlen;
    }
    if (rc == 0)
        rc = check_complete(&st);
    if (rc) {
        ferry_keybag_free(kb);
        return rc;
    }
    *out = kb;
    return 0;
}

/* ---- key derivation ---------------------------------------------------------------------------- */

static int check_kdf_count(const char *tag, uint32_t v, uint64_t cap, uint32_t usual, const char *knob,
                           const char *hash)
{
    if (v == 0)
        return ferry_error_set(FERRY_ELIMIT, "keybag %s is 0 %s iterations: refusing to derive a key from it "
                               "(malformed or hostile keybag)", tag, hash);
    if (v > cap)
        return ferry_error_set(FERRY_ELIMIT,
                               "keybag %s is %u %s iterations, above the limit of %llu: refusing to derive a key "
                               "(a guard against hostile keybags; devices use %u). If you trust this backup, raise "
                               "the limit explicitly (ferry_kdf_limits_t.%s)",
                               tag, v, hash, (unsigned long long)cap, usual, knob);
    if (v > INT_MAX) /* PKCS5_PBKDF2_HMAC counts in an int */
        return ferry_error_set(FERRY_ELIMIT, "keybag %s is %u iterations, more than OpenSSL can count (%d)", tag, v,
                               INT_MAX);
    return 0;
}

int ferry_keybag_derive_kek(const ferry_keybag_t *kb, const char *pw, size_t pwlen,
                            const ferry_kdf_limits_t *limits, uint8_t kek[FERRY_KEY_LEN])
{
    uint64_t max_iter = limits && limits->max_iter ? limits->max_iter : FERRY_DEFAULT_MAX_ITER;
    uint64_t max_dpic = limits && limits->max_dpic ? limits->max_dpic : FERRY_DEFAULT_MAX_DPIC;
    int rc = check_kdf_count("ITER", kb->iter, max_iter, FERRY_DEFAULT_ITER, "max_iter", "PBKDF2-SHA1");
    if (rc == 0 && kb->has_dp)
        rc = check_kdf_count("DPIC", kb->dpic, max_dpic, FERRY_DEFAULT_DPIC, "max_dpic", "PBKDF2-SHA256");
    if (rc)
        return rc;
    if (pwlen > INT_MAX)
        return ferry_error_set(FERRY_EINVAL, "the password is too long (%zu bytes)", pwlen);
    if (!pw)
        pw = "";

    uint8_t k1[FERRY_KEY_LEN];
    const char *round2_pw = pw;
    int round2_len = (int)pwlen;
    int ok = 1;
    if (kb->has_dp) { /* iOS >= 10.2: a slow SHA-256 round salted with DPSL comes first */
        ok = PKCS5_PBKDF2_HMAC(pw, (int)pwlen, kb->dpsl, SALT_LEN, (int)kb->dpic, EVP_sha256(), FERRY_KEY_LEN,
                               k1) == 1;
        round2_pw = (const char *)k1;
        round2_len = FERRY_KEY_LEN;
    }
    if (ok)
        ok = PKCS5_PBKDF2_HMAC(round2_pw, round2_len, kb->salt, SALT_LEN, (int)kb->iter, EVP_sha1(), FERRY_KEY_LEN,
                               kek) == 1;
    ferry_wipe(k1, sizeof k1);
    ERR_clear_error();
    if (!ok) {
        ferry_wipe(kek, FERRY_KEY_LEN);
        return ferry_error_set(FERRY_ECRYPTO, "PBKDF2 failed in OpenSSL");
    }
    return 0;
}

/* ---- unlocking and class keys ------------------------------------------------------------------ */

static void forget_keys(ferry_keybag_t *kb)
{
    for (size_t i = 0; i < kb->nclasses; i++) {
        ferry_wipe(kb->classes[i].key, FERRY_KEY_LEN);
        kb->classes[i].unwrapped = 0;
    }
    kb->unlocked = 0;
}

int ferry_keybag_unlock(ferry_keybag_t *kb, const uint8_t kek[FERRY_KEY_LEN])
{
    forget_keys(kb);
    size_t n = 0;
    for (size_t i = 0; i < kb->nclasses; i++) {
        ferry_keybag_class_t *c = &kb->classes[i];
        if (!(c->wrap & 2))
            continue; /* wrapped with the device UID key only: nothing a host can remove */
        if (!c->has_wpky) {
            forget_keys(kb);
            return ferry_error_set(FERRY_EFORMAT, "malformed keybag: class %u has no WPKY", c->clas);
        }
        if (ferry_aes_unwrap(kek, c->wpky, c->key) != 0) {
            forget_keys(kb);
            return ferry_error_set(FERRY_EPASSWORD, "wrong password (the keybag's class keys do not unwrap)");
        }
        c->unwrapped = 1;
        n++;
    }
    if (n == 0)
        return ferry_error_set(FERRY_EFORMAT,
                               "the keybag has no class key wrapped with the password, so the password cannot be "
                               "checked");
    kb->unlocked = 1;
    return 0;
}

static const ferry_keybag_class_t *find_class(const ferry_keybag_t *kb, uint32_t clas)
{
    for (size_t i = 0; i < kb->nclasses; i++)
        if (kb->classes[i].clas == clas)
            return &kb->classes[i];
    return NULL;
}

int ferry_keybag_class_key(const ferry_keybag_t *kb, uint32_t clas, const uint8_t **key)
{
    *key = NULL;
    const ferry_keybag_class_t *c = find_class(kb, clas);
    if (!c)
        return ferry_error_set(FERRY_ENOTFOUND, "the keybag has no protection class %u", clas);
    if (c->wrap != 2) {
        if (c->wrap & 1)
            return ferry_error_set(FERRY_ENOTFOUND,
                                   "protection class %u is also wrapped with the originating device's UID key "
                                   "(WRAP %u): only that device can use it",
                                   clas, c->wrap);
        return ferry_error_set(FERRY_ENOTFOUND, "protection class %u is not wrapped with the password (WRAP %u)",
                               clas, c->wrap);
    }
    if (!kb->unlocked || !c->unwrapped)
        return ferry_error_set(FERRY_EPASSWORD, "the keybag is locked: unlock it with the backup password first");
    *key = c->key;
    return 0;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int ferry_keybag_unwrap_prefixed(const ferry_keybag_t *kb, const uint8_t wrapped[FERRY_PREFIXED_KEY_LEN],
                                 uint8_t key[FERRY_KEY_LEN], uint32_t *clas)
{
    uint32_t c = le32(wrapped);
    if (clas)
        *clas = c;
    const uint8_t *ck;
    int rc = ferry_keybag_class_key(kb, c, &ck);
    if (rc)
        return ferry_error_wrap(rc, "cannot unwrap a key of protection class %u", c);
    if (ferry_aes_unwrap(ck, wrapped + 4, key) != 0)
        return ferry_error_set(FERRY_EINTEGRITY,
                               "a key of protection class %u does not unwrap with that class key (corrupt record, "
                               "or a key from another backup)",
                               c);
    return 0;
}

int ferry_keybag_wrap_prefixed(const ferry_keybag_t *kb, uint32_t clas, const uint8_t key[FERRY_KEY_LEN],
                               uint8_t out[FERRY_PREFIXED_KEY_LEN])
{
    const uint8_t *ck;
    int rc = ferry_keybag_class_key(kb, clas, &ck);
    if (rc)
        return ferry_error_wrap(rc, "cannot wrap a key with protection class %u", clas);
    out[0] = (uint8_t)clas;
    out[1] = (uint8_t)(clas >> 8);
    out[2] = (uint8_t)(clas >> 16);
    out[3] = (uint8_t)(clas >> 24);
    return ferry_aes_wrap(ck, key, out + 4);
}

/* ---- creating and re-wrapping ------------------------------------------------------------------ */

/* Wraps every unwrapped class key under kek into its WPKY. */
static int wrap_classes(ferry_keybag_t *kb, const uint8_t kek[FERRY_KEY_LEN])
{
    for (size_t i = 0; i < kb->nclasses; i++) {
        ferry_keybag_class_t *c = &kb->classes[i];
        if (!c->unwrapped)
            continue;
        int rc = ferry_aes_wrap(kek, c->key, c->wpky);
        if (rc)
            return rc;
        c->has_wpky = 1;
    }
    return 0;
}

/* Fresh SALT (and DPSL with the DP round), then the KEK for pw and every class re-wrapped under it. */
static int salt_and_wrap(ferry_keybag_t *kb, const char *pw, size_t pwlen, uint8_t kek_out[FERRY_KEY_LEN])
{
    uint8_t kek[FERRY_KEY_LEN];
    int rc = ferry_random_bytes(kb->salt, SALT_LEN);
    if (rc == 0 && kb->has_dp)
        rc = ferry_random_bytes(kb->dpsl, SALT_LEN);
    if (rc == 0)
        rc = ferry_keybag_derive_kek(kb, pw, pwlen, NULL, kek); /* never write what our readers refuse */
    if (rc == 0)
        rc = wrap_classes(kb, kek);
    if (rc == 0 && kek_out)
        memcpy(kek_out, kek, FERRY_KEY_LEN);
    ferry_wipe(kek, sizeof kek);
    return rc;
}

static int new_keybag(const char *pw, size_t pwlen, int with_dp, const ferry_keybag_params_t *params,
                      ferry_keybag_t **out, uint8_t kek_out[FERRY_KEY_LEN])
{
    *out = NULL;
    ferry_keybag_t *kb = calloc(1, sizeof *kb);
    if (!kb)
        return ferry_error_set(FERRY_ENOMEM, "out of memory creating a keybag");
    kb->version = 5;
    kb->type = 1;
    kb->has_hmck = 1; /* 40 zero bytes, as in a real backup keybag: backup keybags are not signed */
    kb->wrap = 0;
    kb->iter = params && params->iter ? params->iter : FERRY_DEFAULT_ITER;
    if (with_dp) {
        kb->has_dp = 1;
        kb->dpwt = 1;
        kb->dpic = params && params->dpic ? params->dpic : FERRY_DEFAULT_DPIC;
    }
    int rc = ferry_random_bytes(kb->uuid, UUID_LEN);
    for (uint32_t clas = 1; rc == 0 && clas <= BACKUP_CLASSES; clas++) {
        ferry_keybag_class_t *c = &kb->classes[kb->nclasses++];
        c->clas = clas;
        c->wrap = 2;
        c->ktyp = 0;
        c->unwrapped = 1;
        rc = ferry_random_bytes(c->uuid, UUID_LEN);
        if (rc == 0)
            rc = ferry_random_bytes(c->key, FERRY_KEY_LEN);
    }
    if (rc == 0)
        rc = salt_and_wrap(kb, pw, pwlen, kek_out);
    if (rc) {
        ferry_keybag_free(kb);
        return rc;
    }
    kb->unlocked = 1;
    *out = kb;
    return 0;
}

int ferry_keybag_create(const char *pw, size_t pwlen, const ferry_keybag_params_t *params,
                        ferry_keybag_t **out, uint8_t kek_out[FERRY_KEY_LEN])
{
    return new_keybag(pw, pwlen, 1, params, out, kek_out);
}

int ferry_keybag_create_unencrypted(ferry_keybag_t **out)
{
    /* Real unencrypted backups wrap their class keys under the blank password with PBKDF2-SHA1 only. */
    return new_keybag("", 0, 0, NULL, out, NULL);
}

int ferry_keybag_rewrap(ferry_keybag_t *kb, const char *newpw, size_t pwlen,
                        const ferry_keybag_params_t *params, uint8_t kek_out[FERRY_KEY_LEN])
{
    if (!kb->unlocked)
        return ferry_error_set(FERRY_EINVAL, "the keybag must be unlocked with its current password before it "
                                             "can be re-wrapped under a new one");
    for (size_t i = 0; i < kb->nclasses; i++)
        if ((kb->classes[i].wrap & 2) && !kb->classes[i].unwrapped)
            return ferry_error_set(FERRY_EINVAL, "class %u of the keybag is not unwrapped", kb->classes[i].clas);
    /* Work on a copy so that a failure leaves the keybag as it was. */
    ferry_keybag_t *n = malloc(sizeof *n);
    if (!n)
        return ferry_error_set(FERRY_ENOMEM, "out of memory re-wrapping a keybag");
    memcpy(n, kb, sizeof *n);
    /* Every keybag of the Manifest.db era protects a password with the DP round (§6.3), so a keybag
     * that lacked it (the unencrypted layout) gains it here. */
    if (!n->has_dp) {
        n->has_dp = 1;
        n->dpwt = 1;
    }
    n->dpic = params && params->dpic ? params->dpic : FERRY_DEFAULT_DPIC;
    n->iter = params && params->iter ? params->iter : FERRY_DEFAULT_ITER;
    int rc = salt_and_wrap(n, newpw, pwlen, kek_out);
    if (rc == 0)
        memcpy(kb, n, sizeof *n);
    ferry_keybag_free(n);
    return rc;
}

/* ---- serialising ------------------------------------------------------------------------------- */

static void put_tlv(uint8_t *buf, size_t *off, uint32_t tag, const void *v, uint32_t len)
{
    uint8_t *p = buf + *off;
    p[0] = (uint8_t)(tag >> 24), p[1] = (uint8_t)(tag >> 16), p[2] = (uint8_t)(tag >> 8), p[3] = (uint8_t)tag;
    p[4] = (uint8_t)(len >> 24), p[5] = (uint8_t)(len >> 16), p[6] = (uint8_t)(len >> 8), p[7] = (uint8_t)len;
    memcpy(p + TLV_HEADER, v, len);
    *off += TLV_HEADER + len;
}

static void put_u32(uint8_t *buf, size_t *off, uint32_t tag, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    put_tlv(buf, off, tag, b, 4);
}

/* DPWT is written only when set: a keybag parsed without one then serialises without one. */
static size_t serialized_len(const ferry_keybag_t *kb)
{
    const size_t u32 = TLV_HEADER + 4;
    size_t n = 4 * u32 /* VERS TYPE WRAP ITER */ + (TLV_HEADER + UUID_LEN) + (TLV_HEADER + SALT_LEN);
    if (kb->has_hmck)
        n += TLV_HEADER + HMCK_LEN;
    if (kb->has_dp)
        n += (kb->dpwt ? u32 : 0) + u32 + (TLV_HEADER + SALT_LEN);
    for (size_t i = 0; i < kb->nclasses; i++)
        n += (TLV_HEADER + UUID_LEN) + 3 * u32 + (kb->classes[i].has_wpky ? TLV_HEADER + FERRY_WRAPPED_LEN : 0);
    return n;
}

int ferry_keybag_serialize(const ferry_keybag_t *kb, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    if (kb->nclasses > FERRY_KEYBAG_MAX_CLASSES)
        return ferry_error_set(FERRY_EINVAL, "a keybag holds at most %d classes", FERRY_KEYBAG_MAX_CLASSES);
    size_t total = serialized_len(kb), off = 0;
    uint8_t *buf = malloc(total);
    if (!buf)
        return ferry_error_set(FERRY_ENOMEM, "out of memory serialising a keybag");
    put_u32(buf, &off, T_VERS, kb->version);
    put_u32(buf, &off, T_TYPE, kb->type);
    put_tlv(buf, &off, T_UUID, kb->uuid, UUID_LEN);
    if (kb->has_hmck)
        put_tlv(buf, &off, T_HMCK, kb->hmck, HMCK_LEN);
    put_u32(buf, &off, T_WRAP, kb->wrap);
    put_tlv(buf, &off, T_SALT, kb->salt, SALT_LEN);
    put_u32(buf, &off, T_ITER, kb->iter);
    if (kb->has_dp) {
        if (kb->dpwt)
            put_u32(buf, &off, T_DPWT, kb->dpwt);
        put_u32(buf, &off, T_DPIC, kb->dpic);
        put_tlv(buf, &off, T_DPSL, kb->dpsl, SALT_LEN);
    }
    /* pyiosbackup reads exactly five records per class, in this order (§6.1). */
    for (size_t i = 0; i < kb->nclasses; i++) {
        const ferry_keybag_class_t *c = &kb->classes[i];
        put_tlv(buf, &off, T_UUID, c->uuid, UUID_LEN);
        put_u32(buf, &off, T_CLAS, c->clas);
        put_u32(buf, &off, T_WRAP, c->wrap);
        put_u32(buf, &off, T_KTYP, c->ktyp);
        if (c->has_wpky)
            put_tlv(buf, &off, T_WPKY, c->wpky, FERRY_WRAPPED_LEN);
    }
    *out = buf;
    *len = off;
    return 0;
}

void ferry_keybag_free(ferry_keybag_t *kb)
{
    if (!kb)
        return;
    ferry_wipe(kb, sizeof *kb);
    free(kb);
}
