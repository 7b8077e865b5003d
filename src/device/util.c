/*
 * util.c: small helpers the device files share: NULL-safe string copies, building dictionaries
 * without repeating libplist's node constructors, optional typed getters whose errors name the file
 * and key, bundle-ID checks, and removing a directory tree (used only inside a device directory).
 */
#include "device_internal.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *dev_strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

void dev_dict_set_str(plist_t d, const char *k, const char *v)
{
    if (v)
        plist_dict_set_item(d, k, plist_new_string(v));
}

void dev_dict_set_bool(plist_t d, const char *k, int v)
{
    plist_dict_set_item(d, k, plist_new_bool(v ? 1 : 0));
}

void dev_dict_set_uint(plist_t d, const char *k, uint64_t v)
{
    plist_dict_set_item(d, k, plist_new_uint(v));
}

void dev_dict_set_data(plist_t d, const char *k, const void *v, size_t len)
{
    plist_dict_set_item(d, k, plist_new_data((const char *)v, len));
}

static int wrong_type(const char *what, const char *key, const char *want)
{
    return ferry_error_set(FERRY_EFORMAT, "%s: key '%s' must be %s", what, key, want);
}

int dev_opt_str(plist_t d, const char *key, char **out, const char *what)
{
    plist_t n = plist_dict_get_item(d, key);
    if (!n)
        return 0;
    if (plist_get_node_type(n) != PLIST_STRING)
        return wrong_type(what, key, "a string");
    char *s = NULL;
    s = ferry_plist_string_dup(n);
    if (!s)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    free(*out);
    *out = s;
    return 0;
}

int dev_opt_bool(plist_t d, const char *key, int *out, const char *what)
{
    plist_t n = plist_dict_get_item(d, key);
    if (!n)
        return 0;
    if (plist_get_node_type(n) != PLIST_BOOLEAN)
        return wrong_type(what, key, "a boolean (<true/> or <false/>)");
    uint8_t b = 0;
    plist_get_bool_val(n, &b);
    *out = b ? 1 : 0;
    return 0;
}

int dev_opt_int(plist_t d, const char *key, int64_t *out, const char *what)
{
    plist_t n = plist_dict_get_item(d, key);
    if (!n)
        return 0;
    if (plist_get_node_type(n) != PLIST_UINT)
        return wrong_type(what, key, "an integer");
    uint64_t v = 0;
    plist_get_uint_val(n, &v);
    *out = (int64_t)v;
    return 0;
}

int dev_opt_data(plist_t d, const char *key, uint8_t **out, size_t *len, const char *what)
{
    plist_t n = plist_dict_get_item(d, key);
    if (!n)
        return 0;
    if (plist_get_node_type(n) != PLIST_DATA)
        return wrong_type(what, key, "data");
    char *v = NULL;
    uint64_t l = 0;
    plist_get_data_val(n, &v, &l);
    if (!v && l)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    free(*out);
    *out = (uint8_t *)v;
    *len = (size_t)l;
    return 0;
}

int dev_is_bundle_id(const char *s)
{
    if (!s || !*s || strlen(s) > 255 || !strcmp(s, ".") || !strcmp(s, ".."))
        return 0;
    for (const char *p = s; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

int dev_rmtree(const char *path)
{
    if (access(path, F_OK) != 0)
        return 0;
    if (nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS) != 0)
        return ferry_error_errno("cannot remove %s", path);
    return 0;
}

char *dev_path(const char *a, const char *b, const char *c)
{
    char *p = NULL;
    int n;
    if (c)
        n = asprintf(&p, "%s/%s/%s", a, b, c);
    else if (b)
        n = asprintf(&p, "%s/%s", a, b);
    else
        n = asprintf(&p, "%s", a);
    return n < 0 ? NULL : p;
}
