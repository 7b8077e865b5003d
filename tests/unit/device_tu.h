/*
 * device_tu.h: helpers shared by the test_device_*.c files: creating a device from a template in a
 * private temporary directory, hashing a whole directory tree (paths and contents) to prove
 * byte-identity, reading values out of `ferry device show`'s dictionary by a dotted path, and writing
 * profile dictionaries to files in each format.
 */
#ifndef FERRY_DEVICE_TU_H
#define FERRY_DEVICE_TU_H

#include "testutil.h"

#include <ftw.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/device.h"

typedef struct {
    char *tmp; /* the private temporary directory (removed by dt_done) */
    char *dir; /* tmp/dev: the device directory */
} dt_dev_t;

static inline dt_dev_t dt_create_opts(const ferry_device_create_opts_t *o)
{
    dt_dev_t d;
    d.tmp = tu_mkdtemp();
    assert_true(asprintf(&d.dir, "%s/dev", d.tmp) > 0);
    int rc = ferry_device_create(d.dir, o);
    if (rc)
        fail_msg("create %s: %s", o->template_name, ferry_error_last());
    return d;
}

static inline dt_dev_t dt_create(const char *tmpl, uint64_t seed)
{
    ferry_device_create_opts_t o;
    ferry_device_create_opts_init(&o);
    o.template_name = tmpl;
    o.seed = seed;
    return dt_create_opts(&o);
}

static inline void dt_done(dt_dev_t *d)
{
    tu_rmtree(d->tmp);
    free(d->tmp);
    free(d->dir);
}

static inline ferry_device_t *dt_load(const char *dir)
{
    ferry_device_t *dev = NULL;
    int rc = ferry_device_load(dir, &dev);
    if (rc)
        fail_msg("load %s: %s", dir, ferry_error_last());
    return dev;
}

/* ---- tree hash: sorted "path NUL sha256" lines, hashed ------------------------------------------ */

static __thread char **dt_lines;
static __thread size_t dt_nlines;
static __thread size_t dt_root_len;

static inline int dt_collect(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag != FTW_F)
        return 0;
    char hex[65], *line = NULL;
    tu_sha256_file(path, hex);
    assert_true(asprintf(&line, "%s %s", path + dt_root_len, hex) > 0);
    dt_lines = realloc(dt_lines, (dt_nlines + 1) * sizeof *dt_lines);
    dt_lines[dt_nlines++] = line;
    return 0;
}

static inline int dt_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static inline void dt_tree_hash(const char *dir, char out[65])
{
    dt_lines = NULL;
    dt_nlines = 0;
    dt_root_len = strlen(dir);
    assert_int_equal(nftw(dir, dt_collect, 16, FTW_PHYS), 0);
    qsort(dt_lines, dt_nlines, sizeof *dt_lines, dt_cmp);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    EVP_DigestInit_ex(c, EVP_sha256(), NULL);
    for (size_t i = 0; i < dt_nlines; i++) {
        EVP_DigestUpdate(c, dt_lines[i], strlen(dt_lines[i]) + 1);
        free(dt_lines[i]);
    }
    free(dt_lines);
    unsigned char md[32];
    EVP_DigestFinal_ex(c, md, NULL);
    EVP_MD_CTX_free(c);
    ferry_hex_encode(md, 32, out);
}

/* ---- describe ------------------------------------------------------------------------------------- */

static inline plist_t dt_describe(const char *dir)
{
    ferry_device_t *dev = dt_load(dir);
    plist_t p = NULL;
    if (ferry_device_describe(dev, 1, &p))
        fail_msg("describe: %s", ferry_error_last());
    ferry_device_free(dev);
    return p;
}

/* A node by dotted path ("MDM.ServerURL"), or NULL. */
static inline plist_t dt_get(plist_t d, const char *path)
{
    char *copy = strdup(path), *save = NULL;
    plist_t n = d;
    for (char *k = strtok_r(copy, ".", &save); k && n; k = strtok_r(NULL, ".", &save))
        n = plist_get_node_type(n) == PLIST_DICT ? plist_dict_get_item(n, k) : NULL;
    free(copy);
    return n;
}

static inline int dt_bool(plist_t d, const char *path)
{
    plist_t n = dt_get(d, path);
    if (!n || plist_get_node_type(n) != PLIST_BOOLEAN)
        fail_msg("%s is not a boolean", path);
    return plist_bool_val_is_true(n);
}

static inline const char *dt_str(plist_t d, const char *path)
{
    plist_t n = dt_get(d, path);
    if (!n || plist_get_node_type(n) != PLIST_STRING)
        fail_msg("%s is not a string", path);
    return plist_get_string_ptr(n, NULL);
}

static inline uint64_t dt_uint(plist_t d, const char *path)
{
    plist_t n = dt_get(d, path);
    uint64_t v = 0;
    if (!n || plist_get_node_type(n) != PLIST_UINT)
        fail_msg("%s is not an integer", path);
    plist_get_uint_val(n, &v);
    return v;
}

/* The element of array arr whose key equals value, or NULL. */
static inline plist_t dt_find(plist_t arr, const char *key, const char *value)
{
    for (uint32_t i = 0; arr && i < plist_array_get_size(arr); i++) {
        plist_t e = plist_array_get_item(arr, i);
        plist_t k = plist_dict_get_item(e, key);
        if (k && plist_get_node_type(k) == PLIST_STRING && !strcmp(plist_get_string_ptr(k, NULL), value))
            return e;
    }
    return NULL;
}

/* ---- profiles --------------------------------------------------------------------------------------- */

/* A minimal valid profile: top-level keys and an empty PayloadContent. */
static inline plist_t dt_profile(const char *identifier)
{
    plist_t p = plist_new_dict();
    plist_dict_set_item(p, "PayloadType", plist_new_string("Configuration"));
    plist_dict_set_item(p, "PayloadIdentifier", plist_new_string(identifier));
    plist_dict_set_item(p, "PayloadUUID", plist_new_string("11111111-2222-4333-8444-555555555555"));
    plist_dict_set_item(p, "PayloadVersion", plist_new_uint(1));
    plist_dict_set_item(p, "PayloadContent", plist_new_array());
    return p;
}

static inline plist_t dt_add_payload(plist_t profile, const char *type, const char *uuid)
{
    plist_t d = plist_new_dict();
    char id[256];
    snprintf(id, sizeof id, "payload.%s", uuid);
    plist_dict_set_item(d, "PayloadType", plist_new_string(type));
    plist_dict_set_item(d, "PayloadIdentifier", plist_new_string(id));
    plist_dict_set_item(d, "PayloadUUID", plist_new_string(uuid));
    plist_dict_set_item(d, "PayloadVersion", plist_new_uint(1));
    plist_array_append_item(plist_dict_get_item(profile, "PayloadContent"), d);
    return d;
}

/* Serialises (xml=1: XML, 0: binary) into a malloc'd buffer. */
static inline uint8_t *dt_serialise(plist_t p, int xml, size_t *len)
{
    char *buf = NULL;
    uint32_t n = 0;
    if (xml)
        plist_to_xml(p, &buf, &n);
    else
        plist_to_bin(p, &buf, &n);
    assert_non_null(buf);
    *len = n;
    return (uint8_t *)buf;
}

static inline char *dt_write_profile(const char *dir, const char *name, plist_t p, int xml)
{
    size_t len = 0;
    uint8_t *buf = dt_serialise(p, xml, &len);
    char *path = NULL;
    assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    fclose(f);
    free(buf);
    return path;
}

#endif
