/*
 * keybag_vectors.h: shared by test_keybag.c (fast vectors) and test_keybag_slow.c (the 10,000,000
 * iteration ones): reads fixtures/keybag/password_kdf_vectors.json at test time with a small string
 * scan (the project has no JSON library and the file is flat), turns a vector's hashcat string into a
 * one-class keybag, and checks KEK, class key and a wrong password through the public keybag API.
 */
#ifndef FERRY_TEST_KEYBAG_VECTORS_H
#define FERRY_TEST_KEYBAG_VECTORS_H

#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/backup.h"

typedef struct {
    char *password, *hash, *kek, *class_key;
} kv_vector_t;

/* malloc'd value of "key": "value" searched between from and to; NULL when absent. */
static char *kv_string(const char *from, const char *to, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": \"", key);
    const char *p = strstr(from, pat);
    if (!p || p >= to)
        return NULL;
    p += strlen(pat);
    const char *end = strchr(p, '"');
    assert_non_null(end);
    return strndup(p, (size_t)(end - p));
}

/* The index-th (1-based) entry of "vectors". */
static void kv_load(const char *json, int index, kv_vector_t *v)
{
    const char *p = json;
    for (int i = 0; i < index; i++) {
        p = strstr(p + (i ? 1 : 0), "\"name\":");
        assert_non_null(p);
    }
    const char *next = strstr(p + 1, "\"name\":");
    const char *end = next ? next : p + strlen(p);
    v->password = kv_string(p, end, "password");
    v->hash = kv_string(p, end, "hash");
    v->kek = kv_string(p, end, "kek");
    v->class_key = kv_string(p, end, "class_key");
    assert_non_null(v->password);
    assert_non_null(v->hash);
    assert_non_null(v->kek);
    assert_non_null(v->class_key);
}

static void kv_free(kv_vector_t *v)
{
    free(v->password);
    free(v->hash);
    free(v->kek);
    free(v->class_key);
}

/* $itunes_backup$*<9|10>*WPKY*ITER*SALT*DPIC*DPSL -> a keybag holding that one class record, built
 * as a struct, serialised and parsed back so that the parser sees it as bytes. */
static ferry_keybag_t *kv_keybag_from_hash(const char *hash)
{
    char *copy = strdup(hash);
    assert_non_null(copy);
    char *field[8] = {0};
    int n = 0;
    for (char *s = copy; n < 8;) {
        field[n++] = s;
        char *star = strchr(s, '*');
        if (!star)
            break;
        *star = '\0';
        s = star + 1;
    }
    assert_int_equal(n, 7);
    assert_string_equal(field[0], "$itunes_backup$");
    int version = atoi(field[1]);
    assert_true(version == 9 || version == 10);

    ferry_keybag_t *kb = calloc(1, sizeof *kb);
    assert_non_null(kb);
    kb->version = 5;
    kb->type = 1;
    assert_int_equal(strlen(field[2]), 80);
    assert_int_equal(ferry_hex_decode(field[2], kb->classes[0].wpky, 40), 0);
    kb->iter = (uint32_t)strtoul(field[3], NULL, 10);
    assert_int_equal(kb->iter, 10000);
    assert_int_equal(strlen(field[4]), 40);
    assert_int_equal(ferry_hex_decode(field[4], kb->salt, 20), 0);
    if (version == 10) {
        kb->has_dp = 1;
        kb->dpwt = 1;
        kb->dpic = (uint32_t)strtoul(field[5], NULL, 10);
        assert_true(kb->dpic > 0);
        assert_int_equal(strlen(field[6]), 40);
        assert_int_equal(ferry_hex_decode(field[6], kb->dpsl, 20), 0);
    } else {
        assert_string_equal(field[5], "");
        assert_string_equal(field[6], "");
    }
    kb->nclasses = 1;
    kb->classes[0].clas = 3;
    kb->classes[0].wrap = 2;
    kb->classes[0].has_wpky = 1;
    free(copy);

    uint8_t *bytes;
    size_t len;
    assert_int_equal(ferry_keybag_serialize(kb, &bytes, &len), 0);
    ferry_keybag_t *parsed;
    assert_int_equal(ferry_keybag_parse(bytes, len, &parsed), 0);
    free(bytes);
    assert_int_equal(parsed->has_dp, kb->has_dp);
    assert_int_equal(parsed->dpic, kb->dpic);
    assert_int_equal(parsed->iter, kb->iter);
    assert_memory_equal(parsed->salt, kb->salt, 20);
    assert_int_equal(parsed->nclasses, 1);
    assert_memory_equal(parsed->classes[0].wpky, kb->classes[0].wpky, 40);
    ferry_keybag_free(kb);
    return parsed;
}

/* Vector `index` of the fixture: KEK and class key as recorded, and a wrong password refused. */
static void kv_check_vector(int index)
{
    TU_FIXTURE_OR_SKIP(path, "keybag/password_kdf_vectors.json");
    size_t jlen;
    char *json = (char *)tu_read_file(path, &jlen);
    kv_vector_t v;
    kv_load(json, index, &v);

    ferry_keybag_t *kb = kv_keybag_from_hash(v.hash);
    uint8_t kek[32], want_kek[32], want_key[32];
    assert_int_equal(ferry_hex_decode(v.kek, want_kek, 32), 0);
    assert_int_equal(ferry_hex_decode(v.class_key, want_key, 32), 0);

    assert_int_equal(ferry_keybag_derive_kek(kb, v.password, strlen(v.password), NULL, kek), 0);
    assert_memory_equal(kek, want_kek, 32);
    assert_int_equal(ferry_keybag_unlock(kb, kek), 0);
    const uint8_t *key;
    assert_int_equal(ferry_keybag_class_key(kb, 3, &key), 0);
    assert_memory_equal(key, want_key, 32);

    /* the same password with one more character: the KEK differs and the class key does not unwrap */
    size_t plen = strlen(v.password);
    char *wrong = malloc(plen + 2);
    assert_non_null(wrong);
    memcpy(wrong, v.password, plen);
    wrong[plen] = '!';
    wrong[plen + 1] = '\0';
    assert_int_equal(ferry_keybag_derive_kek(kb, wrong, plen + 1, NULL, kek), 0);
    assert_memory_not_equal(kek, want_kek, 32);
    assert_int_equal(ferry_keybag_unlock(kb, kek), FERRY_EPASSWORD);
    assert_non_null(strstr(ferry_error_last(), "wrong password"));
    assert_int_equal(ferry_keybag_class_key(kb, 3, &key), FERRY_EPASSWORD);
    assert_null(key);
    assert_false(kb->unlocked);

    free(wrong);
    ferry_keybag_free(kb);
    kv_free(&v);
    free(json);
    free(path);
}

#endif
