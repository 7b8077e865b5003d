/*
 * test_keybag.c: the backup keybag, fast cases: the two cheap password vectors of
 * fixtures/keybag/password_kdf_vectors.json, the real unencrypted backup keybag (every assertion of
 * fixtures README §3, and a byte-identical parse/serialise round trip), a reference backup's keybag and
 * ManifestKey, create/serialise/parse/unlock round trips, password change, prefixed keys, and hostile
 * keybags (truncation, overruns, wrong lengths, absurd KDF parameters refused before deriving).
 * The three 10,000,000-iteration vectors are in test_keybag_slow.c.
 */
#include "keybag_vectors.h"


/* ---- helpers ----------------------------------------------------------------------------------- */

#define FAST_DPIC 1000u

static void hex(const char *h, uint8_t *out, size_t len)
{
    assert_int_equal(ferry_hex_decode(h, out, len), 0);
}

/* The tag sequence of a TLV buffer as one string "VERS TYPE ..." (a test-side walk, independent of
 * the parser). */
static char *tag_walk(const uint8_t *b, size_t len)
{
    char *s = calloc(1, len / 8 * 5 + 1);
    assert_non_null(s);
    size_t off = 0, n = 0;
    while (off + 8 <= len) {
        memcpy(s + n, b + off, 4);
        s[n + 4] = ' ';
        n += 5;
        uint32_t l = (uint32_t)b[off + 4] << 24 | (uint32_t)b[off + 5] << 16 | (uint32_t)b[off + 6] << 8 | b[off + 7];
        off += 8 + l;
    }
    assert_int_equal(off, len);
    if (n)
        s[n - 1] = '\0';
    return s;
}

static char *repeat_classes(const char *header, int n)
{
    static const char cls[] = " UUID CLAS WRAP KTYP WPKY";
    char *s = malloc(strlen(header) + (size_t)n * strlen(cls) + 1);
    assert_non_null(s);
    strcpy(s, header);
    for (int i = 0; i < n; i++)
        strcat(s, cls);
    return s;
}

/* A test-side TLV builder for hand-made (hostile) keybags. */
typedef struct {
    uint8_t b[8192];
    size_t n;
} tlv_t;

static void tb_put(tlv_t *t, const char *tag, const void *v, uint32_t len)
{
    assert_true(t->n + 8 + len <= sizeof t->b);
    memcpy(t->b + t->n, tag, 4);
    t->b[t->n + 4] = (uint8_t)(len >> 24);
    t->b[t->n + 5] = (uint8_t)(len >> 16);
    t->b[t->n + 6] = (uint8_t)(len >> 8);
    t->b[t->n + 7] = (uint8_t)len;
    if (len)
        memcpy(t->b + t->n + 8, v, len);
    t->n += 8 + len;
}

static void tb_u32(tlv_t *t, const char *tag, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    tb_put(t, tag, b, 4);
}

typedef struct {
    uint32_t salt_len, dpsl_len, wpky_len, iter_len;
    uint32_t iter, dpic;
    int classes;
} shape_t;

static const shape_t normal_shape = {20, 20, 40, 4, 10000, FAST_DPIC, 1};

static void tb_keybag(tlv_t *t, const shape_t *s)
{
    static const uint8_t z[64];
    t->n = 0;
    tb_u32(t, "VERS", 5);
    tb_u32(t, "TYPE", 1);
    tb_put(t, "UUID", z, 16);
    tb_put(t, "HMCK", z, 40);
    tb_u32(t, "WRAP", 0);
    tb_put(t, "SALT", z, s->salt_len);
    uint8_t it[8] = {(uint8_t)(s->iter >> 24), (uint8_t)(s->iter >> 16), (uint8_t)(s->iter >> 8), (uint8_t)s->iter};
    assert_true(s->iter_len <= sizeof it);
    tb_put(t, "ITER", it, s->iter_len);
    tb_u32(t, "DPWT", 1);
    tb_u32(t, "DPIC", s->dpic);
    tb_put(t, "DPSL", z, s->dpsl_len);
    for (int c = 1; c <= s->classes; c++) {
        tb_put(t, "UUID", z, 16);
        tb_u32(t, "CLAS", (uint32_t)c);
        tb_u32(t, "WRAP", 2);
        tb_u32(t, "KTYP", 0);
        tb_put(t, "WPKY", z, s->wpky_len);
    }
}

static int parse_shape(const shape_t *s, ferry_keybag_t **kb)
{
    tlv_t t;
    tb_keybag(&t, s);
    return ferry_keybag_parse(t.b, t.n, kb);
}

static ferry_keybag_t *serialise_parse(const ferry_keybag_t *kb)
{
    uint8_t *bytes;
    size_t len;
    assert_int_equal(ferry_keybag_serialize(kb, &bytes, &len), 0);
    ferry_keybag_t *out;
    assert_int_equal(ferry_keybag_parse(bytes, len, &out), 0);
    free(bytes);
    return out;
}

/* Derives with pw, unlocks, and checks every WRAP 2 class key against `orig`. */
static void assert_opens_with(ferry_keybag_t *kb, const char *pw, const ferry_keybag_t *orig)
{
    uint8_t kek[32];
    assert_int_equal(ferry_keybag_derive_kek(kb, pw, strlen(pw), NULL, kek), 0);
    assert_int_equal(ferry_keybag_unlock(kb, kek), 0);
    assert_true(kb->unlocked);
    assert_int_equal(kb->nclasses, orig->nclasses);
    for (size_t i = 0; i < kb->nclasses; i++) {
        assert_int_equal(kb->classes[i].clas, orig->classes[i].clas);
        assert_int_equal(kb->classes[i].wrap, orig->classes[i].wrap);
        assert_true(kb->classes[i].unwrapped);
        assert_memory_equal(kb->classes[i].key, orig->classes[i].key, 32);
    }
}

static void assert_refuses(ferry_keybag_t *kb, const char *pw)
{
    uint8_t kek[32];
    assert_int_equal(ferry_keybag_derive_kek(kb, pw, strlen(pw), NULL, kek), 0);
    assert_int_equal(ferry_keybag_unlock(kb, kek), FERRY_EPASSWORD);
    assert_string_equal(ferry_error_last(), "wrong password (the keybag's class keys do not unwrap)");
    assert_false(kb->unlocked);
    for (size_t i = 0; i < kb->nclasses; i++)
        assert_false(kb->classes[i].unwrapped);
}

/* ---- password vectors (fixtures README §2) ----------------------------------------------------- */

static void test_vector2_hashcat_selftest_dpic1000(void **state)
{
    (void)state;
    kv_check_vector(2);
}

static void test_vector5_hashcat_pre_10_2_no_dp_round(void **state)
{
    (void)state;
    kv_check_vector(5);
}

/* ---- the real unencrypted backup keybag (fixtures README §3) ----------------------------------- */

static void real_class_values(const char *json, uint32_t clas, uint32_t *wrap, uint8_t wpky[40], uint8_t key[32])
{
    char pat[16];
    snprintf(pat, sizeof pat, "\"%u\": {", clas);
    const char *p = strstr(json, pat);
    assert_non_null(p);
    const char *end = strchr(p, '}');
    assert_non_null(end);
    const char *w = strstr(p, "\"WRAP\": ");
    assert_true(w && w < end);
    *wrap = (uint32_t)strtoul(w + 8, NULL, 10);
    char *s = kv_string(p, end, "WPKY");
    assert_non_null(s);
    hex(s, wpky, 40);
    free(s);
    s = kv_string(p, end, "unwrapped_with_empty_password");
    assert_non_null(s);
    hex(s, key, 32);
    free(s);
}

static void test_real_unencrypted_keybag(void **state)
{
    (void)state;
    TU_FIXTURE_OR_SKIP(binpath, "keybag/real_unencrypted_backup_keybag.bin");
    TU_FIXTURE_OR_SKIP(jsonpath, "keybag/real_unencrypted_backup_keybag.json");
    size_t len, jlen;
    uint8_t *bin = tu_read_file(binpath, &len);
    char *json = (char *)tu_read_file(jsonpath, &jlen);
    assert_int_equal(len, 1336);

    /* the raw layout: the header without any DP tag, then 11 five-record class entries */
    char *walk = tag_walk(bin, len);
    char *want = repeat_classes("VERS TYPE UUID HMCK WRAP SALT ITER", 11);
    assert_string_equal(walk, want);
    free(walk);
    free(want);

    ferry_keybag_t *kb;
    assert_int_equal(ferry_keybag_parse(bin, len, &kb), 0);
    uint8_t uuid[16], salt[20], zero[40] = {0};
    hex("ee778d5dd5bf4d048091d411fd25f56d", uuid, 16);
    hex("58e4d7b66ed846439adfe0ede08a47a9d5eead65", salt, 20);
    assert_int_equal(kb->version, 5);
    assert_int_equal(kb->type, 1);
    assert_memory_equal(kb->uuid, uuid, 16);
    assert_true(kb->has_hmck);
    assert_memory_equal(kb->hmck, zero, 40);
    assert_int_equal(kb->wrap, 0);
    assert_memory_equal(kb->salt, salt, 20);
    assert_int_equal(kb->iter, 10000);
    assert_false(kb->has_dp);
    assert_false(kb->unlocked);
    assert_int_equal(kb->nclasses, 11);

    uint8_t wpky[11][40], unwrapped[11][32];
    for (uint32_t c = 1; c <= 11; c++) {
        const ferry_keybag_class_t *k = &kb->classes[c - 1];
        uint32_t wrap;
        real_class_values(json, c, &wrap, wpky[c - 1], unwrapped[c - 1]);
        assert_int_equal(k->clas, c); /* ascending, one record per class */
        assert_int_equal(k->ktyp, 0);
        assert_int_equal(k->wrap, c <= 4 ? 2 : 3);
        assert_int_equal(k->wrap, wrap);
        assert_true(k->has_wpky);
        assert_memory_equal(k->wpky, wpky[c - 1], 40);
        /* the first UUID is the keybag's; each class has its own */
        assert_memory_not_equal(k->uuid, kb->uuid, 16);
    }

    /* parse then serialise gives back the very same bytes */
    uint8_t *again;
    size_t againlen;
    assert_int_equal(ferry_keybag_serialize(kb, &again, &againlen), 0);
    assert_int_equal(againlen, len);
    assert_memory_equal(again, bin, len);
    free(again);

    /* a wrong password does not unwrap */
    assert_refuses(kb, "x");

    /* the blank-password KEK, and every class (WRAP 2 and 3) unwraps to the recorded value */
    char *dk = kv_string(json, json + jlen, "derived_key");
    assert_non_null(dk);
    uint8_t want_kek[32], kek[32];
    hex(dk, want_kek, 32);
    free(dk);
    assert_int_equal(ferry_keybag_derive_kek(kb, "", 0, NULL, kek), 0);
    assert_memory_equal(kek, want_kek, 32);
    assert_int_equal(ferry_keybag_derive_kek(kb, NULL, 0, NULL, kek), 0);
    assert_memory_equal(kek, want_kek, 32);
    assert_int_equal(ferry_keybag_unlock(kb, kek), 0);
    for (uint32_t c = 1; c <= 11; c++) {
        const ferry_keybag_class_t *k = &kb->classes[c - 1];
        assert_true(k->unwrapped);
        assert_memory_equal(k->key, unwrapped[c - 1], 32);
        const uint8_t *key = NULL;
        if (c <= 4) {
            assert_int_equal(ferry_keybag_class_key(kb, c, &key), 0);
            assert_memory_equal(key, unwrapped[c - 1], 32);
        } else {
            /* still encrypted with the originating device's UID key: not a class key */
            assert_int_equal(ferry_keybag_class_key(kb, c, &key), FERRY_ENOTFOUND);
            assert_null(key);
            assert_non_null(strstr(ferry_error_last(), "UID key"));
        }
    }
    const uint8_t *key;
    assert_int_equal(ferry_keybag_class_key(kb, 12, &key), FERRY_ENOTFOUND);

    ferry_keybag_free(kb);
    free(json);
    free(bin);
    free(jsonpath);
    free(binpath);
}

/* Re-wrapping a keybag with WRAP 3 classes keeps WRAP 3 and the (device-encrypted) inner values. */
static void test_real_keybag_rewrap_keeps_wrap3(void **state)
{
    (void)state;
    TU_FIXTURE_OR_SKIP(binpath, "keybag/real_unencrypted_backup_keybag.bin");
    size_t len;
    uint8_t *bin = tu_read_file(binpath, &len);
    ferry_keybag_t *kb;
    assert_int_equal(ferry_keybag_parse(bin, len, &kb), 0);
    uint8_t kek[32];
    assert_int_equal(ferry_keybag_derive_kek(kb, "", 0, NULL, kek), 0);
    assert_int_equal(ferry_keybag_unlock(kb, kek), 0);
    ferry_keybag_t *orig = malloc(sizeof *orig);
    assert_non_null(orig);
    memcpy(orig, kb, sizeof *orig);

    ferry_keybag_params_t params = {.dpic = FAST_DPIC};
    assert_int_equal(ferry_keybag_rewrap(kb, "secret", 6, &params, NULL), 0);
    assert_true(kb->has_dp);
    assert_int_equal(kb->dpwt, 1);
    assert_int_equal(kb->dpic, FAST_DPIC);
    ferry_keybag_t *back = serialise_parse(kb);
    assert_refuses(back, "");
    assert_opens_with(back, "secret", orig);
    for (size_t i = 0; i < back->nclasses; i++)
        assert_int_equal(back->classes[i].wrap, i < 4 ? 2 : 3);
    ferry_keybag_free(back);
    ferry_keybag_free(orig);
    ferry_keybag_free(kb);
    free(bin);
    free(binpath);
}

/* A reference backup written by the §6.8 recipe (DPIC 1,000): byte-identical round trip, test1234
 * unlocks it and its ManifestKey unwraps with class 4; the pyiosbackup keybag (classes 11 -> 1) also
 * round-trips. */
static void test_reference_and_third_party_keybags(void **state)
{
    (void)state;
    TU_FIXTURE_OR_SKIP(mp, "reference/encrypted_pw_test1234_dpic1000/00008101-00FEDCBA98765432/Manifest.plist");
    TU_FIXTURE_OR_SKIP(pyp, "third-party/pyiosbackup-synthetic-pw0000/Manifest.plist");
    plist_t m;
    assert_int_equal(ferry_plist_read_file(mp, 0, &m), 0);
    uint8_t *bag, *mk, *again;
    size_t baglen, mklen, againlen;
    assert_int_equal(ferry_plist_get_data(m, "BackupKeyBag", &bag, &baglen), 0);
    assert_int_equal(ferry_plist_get_data(m, "ManifestKey", &mk, &mklen), 0);
    assert_int_equal(mklen, 44);
    plist_free(m);

    ferry_keybag_t *kb;
    assert_int_equal(ferry_keybag_parse(bag, baglen, &kb), 0);
    assert_true(kb->has_dp);
    assert_int_equal(kb->dpic, 1000);
    assert_int_equal(kb->nclasses, 11);
    assert_int_equal(ferry_keybag_serialize(kb, &again, &againlen), 0);
    assert_int_equal(againlen, baglen);
    assert_memory_equal(again, bag, baglen);
    free(again);

    uint8_t kek[32], dbkey[32];
    uint32_t clas = 0;
    assert_int_equal(ferry_keybag_unwrap_prefixed(kb, mk, dbkey, &clas), FERRY_EPASSWORD); /* locked */
    assert_refuses(kb, "test1235");
    assert_int_equal(ferry_keybag_derive_kek(kb, "test1234", 8, NULL, kek), 0);
    assert_int_equal(ferry_keybag_unlock(kb, kek), 0);
    assert_int_equal(ferry_keybag_unwrap_prefixed(kb, mk, dbkey, &clas), 0);
    assert_int_equal(clas, 4);
    ferry_keybag_free(kb);
    free(bag);
    free(mk);

    assert_int_equal(ferry_plist_read_file(pyp, 0, &m), 0);
    assert_int_equal(ferry_plist_get_data(m, "BackupKeyBag", &bag, &baglen), 0);
    plist_free(m);
    assert_int_equal(ferry_keybag_parse(bag, baglen, &kb), 0);
    assert_int_equal(kb->nclasses, 11);
    assert_int_equal(kb->classes[0].clas, 11);
    assert_int_equal(kb->classes[10].clas, 1);
    assert_int_equal(ferry_keybag_serialize(kb, &again, &againlen), 0);
    assert_int_equal(againlen, baglen);
    assert_memory_equal(again, bag, baglen);
    free(again);
    ferry_keybag_free(kb);
    free(bag);
    free(pyp);
    free(mp);
}

/* ---- creating, round trips, password change ---------------------------------------------------- */

static void round_trip(const char *pw)
{
    ferry_keybag_params_t params = {.dpic = FAST_DPIC};
    ferry_keybag_t *kb;
    uint8_t kek[32], kek2[32];
    assert_int_equal(ferry_keybag_create(pw, strlen(pw), &params, &kb, kek), 0);
    assert_true(kb->unlocked);
    assert_int_equal(kb->version, 5);
    assert_int_equal(kb->type, 1);
    assert_int_equal(kb->wrap, 0);
    assert_int_equal(kb->iter, FERRY_DEFAULT_ITER);
    assert_int_equal(kb->dpic, FAST_DPIC);
    assert_int_equal(kb->dpwt, 1);
    assert_int_equal(kb->nclasses, 11);
    for (uint32_t c = 1; c <= 11; c++) {
        assert_int_equal(kb->classes[c - 1].clas, c);
        assert_int_equal(kb->classes[c - 1].wrap, 2);
        assert_int_equal(kb->classes[c - 1].ktyp, 0);
    }
    assert_memory_not_equal(kb->classes[0].key, kb->classes[1].key, 32);

    uint8_t *bytes;
    size_t len;
    assert_int_equal(ferry_keybag_serialize(kb, &bytes, &len), 0);
    char *walk = tag_walk(bytes, len);
    char *want = repeat_classes("VERS TYPE UUID HMCK WRAP SALT ITER DPWT DPIC DPSL", 11);
    assert_string_equal(walk, want); /* §6.8 order */
    free(walk);
    free(want);

    ferry_keybag_t *back;
    assert_int_equal(ferry_keybag_parse(bytes, len, &back), 0);
    free(bytes);
    assert_false(back->unlocked);
    assert_int_equal(ferry_keybag_derive_kek(back, pw, strlen(pw), NULL, kek2), 0);
    assert_memory_equal(kek2, kek, 32);
    assert_opens_with(back, pw, kb);
    assert_refuses(back, "p@ss word");
    ferry_keybag_free(back);
    ferry_keybag_free(kb);
}

static void test_create_round_trip_non_ascii_password(void **state)
{
    (void)state;
    round_trip("p@ss w\xc3\xb6rd"); /* "p@ss wörd" in UTF-8 */
}

static void test_create_round_trip_empty_password(void **state)
{
    (void)state;
    round_trip("");
}

static void test_create_unencrypted_layout(void **state)
{
    (void)state;
    ferry_keybag_t *kb;
    assert_int_equal(ferry_keybag_create_unencrypted(&kb), 0);
    assert_true(kb->unlocked);
    assert_false(kb->has_dp);
    uint8_t *bytes;
    size_t len;
    assert_int_equal(ferry_keybag_serialize(kb, &bytes, &len), 0);
    assert_int_equal(len, 1336); /* the size of the real one */
    char *walk = tag_walk(bytes, len);
    char *want = repeat_classes("VERS TYPE UUID HMCK WRAP SALT ITER", 11);
    assert_string_equal(walk, want);
    free(walk);
    free(want);
    ferry_keybag_t *back;
    assert_int_equal(ferry_keybag_parse(bytes, len, &back), 0);
    free(bytes);
    for (size_t i = 0; i < 11; i++)
        assert_int_equal(back->classes[i].wrap, 2);
    /* the blank-password KEK of a real unencrypted keybag: PBKDF2-SHA1("", SALT, 10000) */
    assert_opens_with(back, "", kb);
    assert_refuses(back, "x");
    ferry_keybag_free(back);
    ferry_keybag_free(kb);
}

static void test_rewrap_changes_password_keeps_class_keys(void **state)
{
    (void)state;
    ferry_keybag_params_t params = {.dpic = FAST_DPIC};
    ferry_keybag_t *kb;
    assert_int_equal(ferry_keybag_create("old", 3, &params, &kb, NULL), 0);
    ferry_keybag_t *orig = malloc(sizeof *orig);
    assert_non_null(orig);
    memcpy(orig, kb, sizeof *orig);

    uint8_t kek[32], kek2[32];
    ferry_keybag_params_t params2 = {.dpic = FAST_DPIC + 1, .iter = 10001};
    assert_int_equal(ferry_keybag_rewrap(kb, "new", 3, &params2, kek), 0);
    assert_memory_not_equal(kb->salt, orig->salt, 20);
    assert_memory_not_equal(kb->dpsl, orig->dpsl, 20);
    assert_memory_equal(kb->uuid, orig->uuid, 16);
    assert_int_equal(kb->dpic, FAST_DPIC + 1);
    assert_int_equal(kb->iter, 10001);

    ferry_keybag_t *back = serialise_parse(kb);
    assert_int_equal(ferry_keybag_derive_kek(back, "new", 3, NULL, kek2), 0);
    assert_memory_equal(kek2, kek, 32);
    assert_refuses(back, "old");
    assert_opens_with(back, "new", orig);

    /* a locked keybag cannot be re-wrapped */
    ferry_keybag_t *locked = serialise_parse(kb);
    assert_int_equal(ferry_keybag_rewrap(locked, "x", 1, &params, NULL), FERRY_EINVAL);
    ferry_keybag_free(locked);

    /* a refused re-wrap (absurd parameters) leaves the keybag as it was */
    ferry_keybag_t *before = malloc(sizeof *before);
    assert_non_null(before);
    memcpy(before, kb, sizeof *before);
    ferry_keybag_params_t absurd = {.dpic = FERRY_DEFAULT_MAX_DPIC + 1};
    assert_int_equal(ferry_keybag_rewrap(kb, "y", 1, &absurd, NULL), FERRY_ELIMIT);
    assert_memory_equal(kb, before, sizeof *before);

    ferry_keybag_free(before);
    ferry_keybag_free(back);
    ferry_keybag_free(orig);
    ferry_keybag_free(kb);
}

static void test_prefixed_keys(void **state)
{
    (void)state;
    ferry_keybag_params_t params = {.dpic = FAST_DPIC};
    ferry_keybag_t *kb;
    assert_int_equal(ferry_keybag_create("pw", 2, &params, &kb, NULL), 0);
    uint8_t key[32], out[44], back[32];
    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)(0xc0 + i);
    assert_int_equal(ferry_keybag_wrap_prefixed(kb, 4, key, out), 0);
    assert_memory_equal(out, "\x04\x00\x00\x00", 4);
    uint32_t clas = 0;
    assert_int_equal(ferry_keybag_unwrap_prefixed(kb, out, back, &clas), 0);
    assert_int_equal(clas, 4);
    assert_memory_equal(back, key, 32);
    /* wrapped with class 4 but labelled class 3: class 3's key fails the integrity check */
    out[0] = 3;
    assert_int_equal(ferry_keybag_unwrap_prefixed(kb, out, back, &clas), FERRY_EINTEGRITY);
    assert_int_equal(clas, 3);
    /* a class the keybag does not have, both ways */
    out[0] = 12;
    assert_int_equal(ferry_keybag_unwrap_prefixed(kb, out, back, &clas), FERRY_ENOTFOUND);
    assert_non_null(strstr(ferry_error_last(), "class 12"));
    memcpy(out, "\x00\x00\x00\x01", 4); /* little-endian: class 16777216 */
    assert_int_equal(ferry_keybag_unwrap_prefixed(kb, out, back, &clas), FERRY_ENOTFOUND);
    assert_int_equal(clas, 16777216u);
    assert_int_equal(ferry_keybag_wrap_prefixed(kb, 0, key, out), FERRY_ENOTFOUND);

    /* a WRAP 3 class is no usable class key */
    kb->classes[4].wrap = 3;
    assert_int_equal(ferry_keybag_wrap_prefixed(kb, 5, key, out), FERRY_ENOTFOUND);
    assert_non_null(strstr(ferry_error_last(), "class 5"));
    ferry_keybag_free(kb);
}

/* ---- hostile keybags (§15.2) ------------------------------------------------------------------- */

static void test_truncated_keybag_never_parses_mid_record(void **state)
{
    (void)state;
    ferry_keybag_params_t params = {.dpic = FAST_DPIC};
    ferry_keybag_t *kb, *p;
    assert_int_equal(ferry_keybag_create("pw", 2, &params, &kb, NULL), 0);
    uint8_t *bytes;
    size_t len;
    assert_int_equal(ferry_keybag_serialize(kb, &bytes, &len), 0);
    /* record boundaries, walked independently */
    uint8_t boundary[2048] = {0};
    assert_true(len < sizeof boundary);
    for (size_t off = 0; off < len;) {
        boundary[off] = 1;
        off += 8 + ((size_t)bytes[off + 4] << 24 | (size_t)bytes[off + 5] << 16 | (size_t)bytes[off + 6] << 8 |
                    bytes[off + 7]);
    }
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1); /* exact size, so that ASan sees any overread */
        assert_non_null(copy);
        memcpy(copy, bytes, cut);
        int rc = ferry_keybag_parse(copy, cut, &p);
        if (!boundary[cut] || cut == 0) {
            assert_int_equal(rc, FERRY_EFORMAT);
            assert_null(p);
        } else {
            assert_true(rc == 0 || rc == FERRY_EFORMAT); /* a shorter but well-formed keybag, or missing parts */
            ferry_keybag_free(p);
        }
        free(copy);
    }
    assert_int_equal(ferry_keybag_parse(bytes, len - 3, &p), FERRY_EFORMAT);
    assert_non_null(strstr(ferry_error_last(), "malformed keybag"));
    free(bytes);
    ferry_keybag_free(kb);
}

static void test_length_overrunning_buffer(void **state)
{
    (void)state;
    tlv_t t;
    ferry_keybag_t *kb = NULL;
    tb_keybag(&t, &normal_shape);
    assert_int_equal(ferry_keybag_parse(t.b, t.n, &kb), 0);
    ferry_keybag_free(kb);

    /* the SALT record (the sixth) claiming 4 GiB */
    size_t salt_off = 12 + 12 + 24 + 48 + 12;
    assert_memory_equal(t.b + salt_off, "SALT", 4);
    memcpy(t.b + salt_off + 4, "\xff\xff\xff\xff", 4);
    assert_int_equal(ferry_keybag_parse(t.b, t.n, &kb), FERRY_EFORMAT);
    assert_null(kb);
    assert_non_null(strstr(ferry_error_last(), "SALT"));

    /* the last WPKY claiming one byte more than there is */
    tb_keybag(&t, &normal_shape);
    size_t wpky_off = t.n - 48;
    assert_memory_equal(t.b + wpky_off, "WPKY", 4);
    t.b[wpky_off + 7] = 41;
    assert_int_equal(ferry_keybag_parse(t.b, t.n, &kb), FERRY_EFORMAT);
    assert_non_null(strstr(ferry_error_last(), "only 40"));
}

static void test_wrong_field_lengths(void **state)
{
    (void)state;
    ferry_keybag_t *kb = NULL;
    shape_t s = normal_shape;
    s.wpky_len = 39;
    assert_int_equal(parse_shape(&s, &kb), FERRY_EFORMAT);
    assert_non_null(strstr(ferry_error_last(), "WPKY"));
    assert_non_null(strstr(ferry_error_last(), "39 bytes"));
    s = normal_shape;
    s.wpky_len = 41;
    assert_int_equal(parse_shape(&s, &kb), FERRY_EFORMAT);
    s = normal_shape;
    s.salt_len = 19;
    assert_int_equal(parse_shape(&s, &kb), FERRY_EFORMAT);
    assert_non_null(strstr(ferry_error_last(), "SALT"));
    assert_non_null(strstr(ferry_error_last(), "must be 20"));
    s = normal_shape;
    s.dpsl_len = 21;
    assert_int_equal(parse_shape(&s, &kb), FERRY_EFORMAT);
    assert_non_null(strstr(ferry_error_last(), "DPSL"));
    s = normal_shape;
    s.iter_len = 3;
    assert_int_equal(parse_shape(&s, &kb), FERRY_EFORMAT);
    assert_non_null(strstr(ferry_error_last(), "ITER"));
    s = normal_shape;
    s.iter_len = 8;
    assert_int_equal(parse_shape(&s, &kb), FERRY_EFORMAT);
    assert_null(kb);
}

static void test_structural_problems(void **state)
{
    (void)state;
    static const uint8_t z[40];
    ferry_keybag_t *kb = NULL;
    tlv_t t;

    assert_int_equal(ferry_keybag_parse(z, 0, &kb), FERRY_EFORMAT);

    /* more classes than FERRY_KEYBAG_MAX_CLASSES */
    shape_t s = normal_shape;
    s.classes = FERRY_KEYBAG_MAX_CLASSES;
    assert_int_equal(parse_shape(&s, &kb), 0);
    assert_int_equal(kb->nclasses, FERRY_KEYBAG_MAX_CLASSES);
    ferry_keybag_free(kb);
    s.classes = FERRY_KEYBAG_MAX_CLASSES + 1;
    assert_int_equal(parse_shape(&s, &kb), FERRY_EFORMAT);
    assert_non_null(strstr(ferry_error_last(), "class records"));

    /* a class tag before any class record */
    tb_keybag(&t, &normal_shape);
    tb_u32(&t, "KTYP", 0); /* fine: belongs to the last class */
    assert_int_equal(ferry_keybag_parse(t.b, t.n, &kb), 0);
    ferry_keybag_free(kb);
    t.n = 0;
    tb_u32(&t, "VERS", 5);
    tb_put(&t, "UUID", z, 16);
    tb_put(&t, "WPKY", z, 40);
    tb_put(&t, "SALT", z, 20);
    tb_u32(&t, "ITER", 10000);
    assert_int_equal(ferry_keybag_parse(t.b, t.n, &kb), FERRY_EFORMAT);
    assert_non_null(strstr(ferry_error_last(), "before any class"));

    /* a password-wrapped class without WPKY, a class without CLAS, a class twice */
    tb_keybag(&t, &normal_shape);
    t.n -= 48;
    assert_int_equal(ferry_keybag_parse(t.b, t.n, &kb), FERRY_EFORMAT);
    assert_non_null(strstr(ferry_error_last(), "no WPKY"));
    tb_keybag(&t, &normal_shape);
    tb_put(&t, "UUID", z, 16);
    tb_u32(&t, "WRAP", 1);
    assert_int_equal(ferry_keybag_parse(t.b, t.n, &kb), FERRY_EFORMAT);
    assert_non_null(strstr(ferry_error_last(), "no CLAS"));
    tb_keybag(&t, &normal_shape);
    tb_put(&t, "UUID", z, 16);
    tb_u32(&t, "CLAS", 1);
    tb_u32(&t, "WRAP", 2);
    tb_put(&t, "WPKY", z, 40);
    assert_int_equal(ferry_keybag_parse(t.b, t.n, &kb), FERRY_EFORMAT);
    assert_non_null(strstr(ferry_error_last(), "twice"));

    /* DPIC without DPSL; no SALT */
    t.n = 0;
    tb_put(&t, "UUID", z, 16);
    tb_put(&t, "SALT", z, 20);
    tb_u32(&t, "ITER", 10000);
    tb_u32(&t, "DPIC", 1000);
    assert_int_equal(ferry_keybag_parse(t.b, t.n, &kb), FERRY_EFORMAT);
    assert_non_null(strstr(ferry_error_last(), "DPIC without DPSL"));
    t.n = 0;
    tb_put(&t, "UUID", z, 16);
    tb_u32(&t, "ITER", 10000);
    assert_int_equal(ferry_keybag_parse(t.b, t.n, &kb), FERRY_EFORMAT);
    assert_non_null(strstr(ferry_error_last(), "SALT"));
}

static void test_unknown_tags_are_ignored(void **state)
{
    (void)state;
    static const uint8_t junk[5] = {1, 2, 3, 4, 5};
    tlv_t t;
    tb_keybag(&t, &normal_shape);
    tb_put(&t, "ZZZZ", junk, 5);
    tb_put(&t, "\x01\xff\x00\x7f", junk, 0);
    tb_put(&t, "PBKY", junk, 5);
    ferry_keybag_t *kb;
    assert_int_equal(ferry_keybag_parse(t.b, t.n, &kb), 0);
    assert_int_equal(kb->nclasses, 1);
    assert_int_equal(kb->dpic, FAST_DPIC);
    ferry_keybag_free(kb);
}

static void test_absurd_kdf_parameters_refused_before_deriving(void **state)
{
    (void)state;
    ferry_keybag_t *kb;
    uint8_t kek[32];
    shape_t s = normal_shape;
    s.dpic = 4000000000u;
    assert_int_equal(parse_shape(&s, &kb), 0);
    /* 4e9 SHA-256 iterations would take hours: only a check made before deriving returns here */
    assert_int_equal(ferry_keybag_derive_kek(kb, "pw", 2, NULL, kek), FERRY_ELIMIT);
    const char *msg = ferry_error_last();
    assert_non_null(strstr(msg, "DPIC"));
    assert_non_null(strstr(msg, "4000000000"));
    assert_non_null(strstr(msg, "100000000"));
    assert_non_null(strstr(msg, "max_dpic"));
    ferry_keybag_free(kb);

    s = normal_shape;
    s.dpic = 0;
    assert_int_equal(parse_shape(&s, &kb), 0);
    assert_int_equal(ferry_keybag_derive_kek(kb, "pw", 2, NULL, kek), FERRY_ELIMIT);
    assert_non_null(strstr(ferry_error_last(), "DPIC is 0"));
    ferry_keybag_free(kb);

    s = normal_shape;
    s.iter = 0;
    assert_int_equal(parse_shape(&s, &kb), 0);
    assert_int_equal(ferry_keybag_derive_kek(kb, "pw", 2, NULL, kek), FERRY_ELIMIT);
    assert_non_null(strstr(ferry_error_last(), "ITER is 0"));
    ferry_keybag_free(kb);

    s = normal_shape;
    s.iter = FERRY_DEFAULT_MAX_ITER + 1;
    assert_int_equal(parse_shape(&s, &kb), 0);
    assert_int_equal(ferry_keybag_derive_kek(kb, "pw", 2, NULL, kek), FERRY_ELIMIT);
    assert_non_null(strstr(ferry_error_last(), "10000001"));
    assert_non_null(strstr(ferry_error_last(), "max_iter"));
    ferry_keybag_free(kb);

    /* without the DP round DPIC is not looked at */
    assert_int_equal(parse_shape(&normal_shape, &kb), 0);
    kb->has_dp = 0;
    kb->dpic = 0;
    assert_int_equal(ferry_keybag_derive_kek(kb, "pw", 2, NULL, kek), 0);
    ferry_keybag_free(kb);

    /* creating refuses what reading would refuse */
    ferry_keybag_params_t absurd = {.iter = FERRY_DEFAULT_MAX_ITER + 1, .dpic = FAST_DPIC};
    assert_int_equal(ferry_keybag_create("pw", 2, &absurd, &kb, NULL), FERRY_ELIMIT);
    assert_null(kb);
}

static void test_kdf_limits_can_be_raised_explicitly(void **state)
{
    (void)state;
    ferry_keybag_t *kb;
    uint8_t kek[32], kek2[32];
    shape_t s = normal_shape;
    s.dpic = 2000;
    s.iter = 20000;
    assert_int_equal(parse_shape(&s, &kb), 0);
    assert_int_equal(ferry_keybag_derive_kek(kb, "pw", 2, NULL, kek), 0); /* under the default caps */

    ferry_kdf_limits_t low = {.max_dpic = 1000};
    assert_int_equal(ferry_keybag_derive_kek(kb, "pw", 2, &low, kek2), FERRY_ELIMIT);
    assert_non_null(strstr(ferry_error_last(), "2000"));
    assert_non_null(strstr(ferry_error_last(), "limit of 1000"));
    ferry_kdf_limits_t raised = {.max_dpic = 5000};
    assert_int_equal(ferry_keybag_derive_kek(kb, "pw", 2, &raised, kek2), 0);
    assert_memory_equal(kek2, kek, 32);
    ferry_kdf_limits_t exact = {.max_dpic = 2000, .max_iter = 20000};
    assert_int_equal(ferry_keybag_derive_kek(kb, "pw", 2, &exact, kek2), 0);

    ferry_kdf_limits_t low_iter = {.max_iter = 10000};
    assert_int_equal(ferry_keybag_derive_kek(kb, "pw", 2, &low_iter, kek2), FERRY_ELIMIT);
    assert_non_null(strstr(ferry_error_last(), "ITER is 20000"));
    ferry_kdf_limits_t raised_iter = {.max_iter = 50000};
    assert_int_equal(ferry_keybag_derive_kek(kb, "pw", 2, &raised_iter, kek2), 0);
    assert_memory_equal(kek2, kek, 32);
    ferry_keybag_free(kb);
}

static void test_unlock_needs_a_password_wrapped_class(void **state)
{
    (void)state;
    ferry_keybag_t *kb;
    assert_int_equal(parse_shape(&normal_shape, &kb), 0);
    kb->classes[0].wrap = 1; /* device key only: the password cannot be checked against anything */
    uint8_t kek[32] = {0};
    assert_int_equal(ferry_keybag_unlock(kb, kek), FERRY_EFORMAT);
    assert_false(kb->unlocked);
    ferry_keybag_free(kb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector2_hashcat_selftest_dpic1000),
        cmocka_unit_test(test_vector5_hashcat_pre_10_2_no_dp_round),
        cmocka_unit_test(test_real_unencrypted_keybag),
        cmocka_unit_test(test_real_keybag_rewrap_keeps_wrap3),
        cmocka_unit_test(test_reference_and_third_party_keybags),
        cmocka_unit_test(test_create_round_trip_non_ascii_password),
        cmocka_unit_test(test_create_round_trip_empty_password),
        cmocka_unit_test(test_create_unencrypted_layout),
        cmocka_unit_test(test_rewrap_changes_password_keeps_class_keys),
        cmocka_unit_test(test_prefixed_keys),
        cmocka_unit_test(test_truncated_keybag_never_parses_mid_record),
        cmocka_unit_test(test_length_overrunning_buffer),
        cmocka_unit_test(test_wrong_field_lengths),
        cmocka_unit_test(test_structural_problems),
        cmocka_unit_test(test_unknown_tags_are_ignored),
        cmocka_unit_test(test_absurd_kdf_parameters_refused_before_deriving),
        cmocka_unit_test(test_kdf_limits_can_be_raised_explicitly),
        cmocka_unit_test(test_unlock_needs_a_password_wrapped_class),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
