/*
 * plist_util.c: typed access to property lists over libplist 2.2, so that every reader checks types
 * the same way and every message names the file and key that was wrong. Dates are converted between
 * libplist's 2001 epoch and Unix seconds here, once.
 */
#include "ferry/common.h"

#include <stdlib.h>
#include <string.h>

#define MAC_EPOCH_OFFSET 978307200 /* seconds from 1970-01-01 to 2001-01-01 */
#define DEFAULT_PLIST_MAX (64u * 1024 * 1024)

/* 1 when the key node holds a NUL byte. libplist 2.2 asserts (aborts) in plist_dict_next_item and
 * plist_get_key_val on such a key, which a binary plist carries as a UTF-16 key with a 0x0000 unit (XML
 * and ASCII keys are cut at the NUL when parsed); its bytes are only reachable whole through the XML
 * writer. */
static int key_has_nul(plist_t key)
{
    char *xml = NULL;
    uint32_t len = 0;
    plist_to_xml(key, &xml, &len);
    int bad = !xml || memchr(xml, '\0', len) != NULL;
    free(xml);
    return bad;
}

static int tree_ok(plist_t n, int left)
{
    plist_type t = plist_get_node_type(n);
    if ((t == PLIST_DICT || t == PLIST_ARRAY) && left <= 0)
        return 0;
    if (t == PLIST_ARRAY) {
        for (uint32_t i = 0; i < plist_array_get_size(n); i++)
            if (!tree_ok(plist_array_get_item(n, i), left - 1))
                return 0;
    } else if (t == PLIST_DICT) {
        plist_dict_iter it = NULL;
        plist_dict_new_iter(n, &it);
        int ok = it != NULL;
        while (ok) {
            plist_t v = NULL;
            plist_dict_next_item(n, it, NULL, &v); /* no key: that is what would assert */
            if (!v)
                break;
            ok = !key_has_nul(plist_dict_item_get_key(v)) && tree_ok(v, left - 1);
        }
        free(it);
        return ok;
    }
    return 1;
}

int ferry_plist_check_tree(plist_t p, const char *what)
{
    if (!tree_ok(p, FERRY_PLIST_MAX_DEPTH))
        return ferry_error_set(FERRY_EFORMAT, "%s holds a dictionary key with a NUL byte or nests deeper than %d "
                               "levels", what, FERRY_PLIST_MAX_DEPTH);
    return 0;
}

int ferry_plist_parse(const void *data, size_t len, plist_t *out, const char *what)
{
    *out = NULL;
    if (len < 8 || len > UINT32_MAX)
        return ferry_error_set(FERRY_EFORMAT, "%s is not a property list (%zu bytes)", what, len);
    plist_t p = NULL;
    plist_from_memory(data, (uint32_t)len, &p);
    if (!p)
        return ferry_error_set(FERRY_EFORMAT, "%s is not a valid XML or binary property list", what);
    int rc = ferry_plist_check_tree(p, what);
    if (rc) {
        plist_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

int ferry_plist_read_file(const char *path, size_t max_len, plist_t *out)
{
    uint8_t *buf;
    size_t len;
    *out = NULL;
    int rc = ferry_file_read_all(path, max_len ? max_len : DEFAULT_PLIST_MAX, &buf, &len);
    if (rc)
        return rc;
    rc = ferry_plist_parse(buf, len, out, path);
    free(buf);
    return rc;
}

int ferry_plist_write_file(const char *path, plist_t p, int xml)
{
    return ferry_plist_write_file_ex(path, p, xml, 1);
}

int ferry_plist_write_file_ex(const char *path, plist_t p, int xml, int durable)
{
    char *buf = NULL;
    uint32_t len = 0;
    if (xml)
        plist_to_xml(p, &buf, &len);
    else
        plist_to_bin(p, &buf, &len);
    if (!buf)
        return ferry_error_set(FERRY_EFORMAT, "cannot serialise the property list for %s", path);
    int rc = ferry_file_write_replace(path, buf, len, 0600, durable);
    free(buf);
    return rc;
}

static int get_typed(plist_t dict, const char *key, plist_type want, plist_t *node)
{
    if (!dict || plist_get_node_type(dict) != PLIST_DICT)
        return ferry_error_set(FERRY_EFORMAT, "expected a dictionary holding '%s'", key);
    plist_t n = plist_dict_get_item(dict, key);
    if (!n)
        return ferry_error_set(FERRY_ENOTFOUND, "key '%s' is missing", key);
    if (plist_get_node_type(n) != want)
        return ferry_error_set(FERRY_EFORMAT, "key '%s' has the wrong type", key);
    *node = n;
    return 0;
}

int ferry_plist_get_string(plist_t dict, const char *key, char **out)
{
    plist_t n;
    *out = NULL;
    int rc = get_typed(dict, key, PLIST_STRING, &n);
    if (rc)
        return rc;
    /* Not plist_get_string_val: libplist 2.2 asserts (aborts) when the string holds a NUL byte, which
     * an XML plist can carry raw; such a string is malformed input, not a crash. */
    uint64_t len = 0;
    const char *s = plist_get_string_ptr(n, &len);
    if (!s || strlen(s) != len)
        return ferry_error_set(FERRY_EFORMAT, "key '%s' holds a string with a NUL byte", key);
    *out = strndup(s, (size_t)len);
    return *out ? 0 : ferry_error_set(FERRY_ENOMEM, "out of memory");
}

char *ferry_plist_string_dup(plist_t node)
{
    /* The node-level twin of ferry_plist_get_string, for the same libplist 2.2 abort. */
    if (!node || plist_get_node_type(node) != PLIST_STRING)
        return NULL;
    uint64_t len = 0;
    const char *s = plist_get_string_ptr(node, &len);
    if (!s || strlen(s) != len)
        return NULL;
    return strndup(s, (size_t)len);
}

int ferry_plist_get_bool(plist_t dict, const char *key, int *out)
{
    plist_t n;
    int rc = get_typed(dict, key, PLIST_BOOLEAN, &n);
    if (rc)
        return rc;
    uint8_t v = 0;
    plist_get_bool_val(n, &v);
    *out = v != 0;
    return 0;
}

int ferry_plist_get_int(plist_t dict, const char *key, int64_t *out)
{
    plist_t n;
    int rc = get_typed(dict, key, PLIST_UINT, &n);
    if (rc)
        return rc;
    uint64_t v = 0;
    plist_get_uint_val(n, &v);
    *out = (int64_t)v; /* libplist 2.2 keeps negative integers as their two's complement */
    return 0;
}

int ferry_plist_get_data(plist_t dict, const char *key, uint8_t **out, size_t *len)
{
    plist_t n;
    *out = NULL;
    *len = 0;
    int rc = get_typed(dict, key, PLIST_DATA, &n);
    if (rc)
        return rc;
    uint64_t l = 0;
    const char *p = plist_get_data_ptr(n, &l);
    uint8_t *copy = malloc(l ? l : 1);
    if (!copy)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    if (l)
        memcpy(copy, p, l);
    *out = copy;
    *len = (size_t)l;
    return 0;
}

int ferry_plist_get_date(plist_t dict, const char *key, int64_t *unix_seconds)
{
    plist_t n;
    int rc = get_typed(dict, key, PLIST_DATE, &n);
    if (rc)
        return rc;
    int32_t sec = 0, usec = 0;
    plist_get_date_val(n, &sec, &usec);
    *unix_seconds = (int64_t)sec + MAC_EPOCH_OFFSET;
    return 0;
}

plist_t ferry_plist_new_date_unix(int64_t unix_seconds)
{
    return plist_new_date((int32_t)(unix_seconds - MAC_EPOCH_OFFSET), 0);
}
