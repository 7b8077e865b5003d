/*
 * restrictions.c: rule B13, combining several com.apple.applicationaccess payloads into the effective
 * restrictions of a device. Apple's MDM guide says "the more restrictive restriction wins"; the
 * developer documentation calls one key in several payloads "unexpected behavior". ferry follows the
 * guide because it is deterministic, and reports every key set in more than one payload so that
 * `ferry plan` can warn. Invariants: the inputs are never modified; the result holds copies only; the
 * outcome depends on payload order only for keys whose restrictive direction is unknown (first wins).
 */
#include "ferry/policy.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
    KIND_FIRST = 0,   /* direction unknown: the first payload that sets the key wins */
    KIND_ALLOW,       /* bool: false beats true */
    KIND_FORCE,       /* bool: true beats false */
    KIND_MIN,         /* number: the lowest wins */
    KIND_MAX,         /* number: the highest wins */
    KIND_UNION,       /* array of deny-list entries: union */
    KIND_INTERSECT,   /* array of allow-list entries: intersection */
} combine_kind_t;

/* True when key is a run of lower-case letters (possibly empty) followed by word. */
static int has_word_after_lower_prefix(const char *key, const char *word)
{
    size_t i = 0;
    while (key[i] && islower((unsigned char)key[i]))
        i++;
    return strncmp(key + i, word, strlen(word)) == 0;
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static combine_kind_t bool_kind(const char *key)
{
    if (starts_with(key, "allow") || has_word_after_lower_prefix(key, "Allow"))
        return KIND_ALLOW;
    if (starts_with(key, "force") || starts_with(key, "require") ||
        has_word_after_lower_prefix(key, "Force"))
        return KIND_FORCE;
    return KIND_FIRST;
}

static combine_kind_t number_kind(const char *key)
{
    /* A lower content rating or cookie policy lets less through. */
    if (starts_with(key, "rating") || strcmp(key, "safariAcceptCookies") == 0)
        return KIND_MIN;
    /* ferry choice: a longer enforced delay keeps updates from the user for longer. */
    if (starts_with(key, "enforcedSoftwareUpdate") && strstr(key, "Delay"))
        return KIND_MAX;
    return KIND_FIRST;
}

static combine_kind_t array_kind(const char *key)
{
    if (strstr(key, "blocked") || strstr(key, "Blocked") || strstr(key, "blacklisted"))
        return KIND_UNION;
    if (starts_with(key, "allow") || starts_with(key, "whitelisted") || strstr(key, "Permitted"))
        return KIND_INTERSECT;
    return KIND_FIRST;
}

static combine_kind_t kind_of(const char *key, plist_type t)
{
    switch (t) {
    case PLIST_BOOLEAN: return bool_kind(key);
    case PLIST_UINT:
    case PLIST_REAL: return number_kind(key);
    case PLIST_ARRAY: return array_kind(key);
    default: return KIND_FIRST;
    }
}

static int is_number(plist_type t)
{
    return t == PLIST_UINT || t == PLIST_REAL;
}

static double number_of(plist_t node)
{
    if (plist_get_node_type(node) == PLIST_REAL) {
        double d = 0;
        plist_get_real_val(node, &d);
        return d;
    }
    uint64_t u = 0;
    plist_get_uint_val(node, &u);
    return (double)(int64_t)u; /* libplist keeps signed integers in two's complement */
}

static int array_contains(plist_t arr, plist_t item)
{
    uint32_t n = plist_array_get_size(arr);
    for (uint32_t i = 0; i < n; i++)
        if (plist_compare_node_value(plist_array_get_item(arr, i), item))
            return 1;
    return 0;
}

/* The union keeps cur's order and appends what is new in add. */
static plist_t array_union(plist_t cur, plist_t add)
{
    plist_t out = plist_copy(cur);
    uint32_t n = plist_array_get_size(add);
    for (uint32_t i = 0; i < n; i++) {
        plist_t it = plist_array_get_item(add, i);
        if (!array_contains(out, it))
            plist_array_append_item(out, plist_copy(it));
    }
    return out;
}

static plist_t array_intersect(plist_t cur, plist_t other)
{
    plist_t out = plist_new_array();
    uint32_t n = plist_array_get_size(cur);
    for (uint32_t i = 0; i < n; i++) {
        plist_t it = plist_array_get_item(cur, i);
        if (array_contains(other, it) && !array_contains(out, it))
            plist_array_append_item(out, plist_copy(it));
    }
    return out;
}

/* Returns the value that wins between the current combined value and a new one (a new node the
 * caller stores), or NULL when the current value stays. */
static plist_t merge_value(const char *key, plist_t cur, plist_t val)
{
    plist_type ct = plist_get_node_type(cur), vt = plist_get_node_type(val);
    if (ct != vt && !(is_number(ct) && is_number(vt)))
        return NULL; /* a value of another type than the first is malformed: ignored */
    switch (kind_of(key, ct)) {
    case KIND_ALLOW: {
        uint8_t v = 1;
        plist_get_bool_val(val, &v);
        return v ? NULL : plist_copy(val); /* B13: false beats true for allow* */
    }
    case KIND_FORCE: {
        uint8_t v = 0;
        plist_get_bool_val(val, &v);
        return v ? plist_copy(val) : NULL; /* B13: true beats false for force* */
    }
    case KIND_MIN: return number_of(val) < number_of(cur) ? plist_copy(val) : NULL;
    case KIND_MAX: return number_of(val) > number_of(cur) ? plist_copy(val) : NULL;
    case KIND_UNION: return array_union(cur, val);
    case KIND_INTERSECT: return array_intersect(cur, val);
    case KIND_FIRST: return NULL;
    }
    return NULL;
}

static int is_restrictions_payload(plist_t payload)
{
    plist_t t = plist_dict_get_item(payload, "PayloadType");
    if (!t)
        return 1;
    if (plist_get_node_type(t) != PLIST_STRING)
        return 0;
    char *s = NULL;
    s = ferry_plist_string_dup(t);
    int ok = s && strcmp(s, FERRY_RESTRICTIONS_PAYLOAD_TYPE) == 0;
    free(s);
    return ok;
}

static void note_multi_set(plist_t multi, const char *key)
{
    uint32_t n = plist_array_get_size(multi);
    for (uint32_t i = 0; i < n; i++) {
        char *s = NULL;
        s = ferry_plist_string_dup(plist_array_get_item(multi, i));
        int same = s && strcmp(s, key) == 0;
        free(s);
        if (same)
            return;
    }
    plist_array_append_item(multi, plist_new_string(key));
}

static void merge_payload(plist_t combined, plist_t multi, plist_t payload)
{
    plist_dict_iter it = NULL;
    plist_dict_new_iter(payload, &it);
    for (;;) {
        char *key = NULL;
        plist_t val = NULL;
        plist_dict_next_item(payload, it, &key, &val);
        if (!key)
            break;
        if (!starts_with(key, "Payload") && val) {
            plist_t cur = plist_dict_get_item(combined, key);
            if (!cur) {
                plist_dict_set_item(combined, key, plist_copy(val));
            } else {
                note_multi_set(multi, key); /* B13: ferry plan warns about these */
                plist_t win = merge_value(key, cur, val);
                if (win)
                    plist_dict_set_item(combined, key, win);
            }
        }
        free(key);
    }
    free(it);
}

int ferry_policy_restrictions_combine(const plist_t *payloads, size_t n, plist_t *out_combined,
                                      plist_t *out_multi_set)
{
    if (!out_combined || (n && !payloads))
        return ferry_error_set(FERRY_EINVAL, "restrictions combine: NULL argument");
    *out_combined = NULL;
    if (out_multi_set)
        *out_multi_set = NULL;
    for (size_t i = 0; i < n; i++)
        if (!payloads[i] || plist_get_node_type(payloads[i]) != PLIST_DICT)
            return ferry_error_set(FERRY_EFORMAT,
                                   "restrictions payload %zu is not a dictionary: check the profile's "
                                   "PayloadContent",
                                   i);
    plist_t combined = plist_new_dict();
    plist_t multi = plist_new_array();
    for (size_t i = 0; i < n; i++)
        if (is_restrictions_payload(payloads[i]))
            merge_payload(combined, multi, payloads[i]);
    *out_combined = combined;
    if (out_multi_set)
        *out_multi_set = multi;
    else
        plist_free(multi);
    return 0;
}

int ferry_policy_restriction_bool(plist_t dict, const char *key, int dflt)
{
    if (!dict || !key || plist_get_node_type(dict) != PLIST_DICT)
        return dflt;
    plist_t v = plist_dict_get_item(dict, key);
    if (!v || plist_get_node_type(v) != PLIST_BOOLEAN)
        return dflt;
    uint8_t b = 0;
    plist_get_bool_val(v, &b);
    return b ? 1 : 0;
}

void ferry_policy_restrictions_default(ferry_restrictions_t *out)
{
    out->allow_cloud_backup = 1;
    out->force_encrypted_backup = 0;
    out->allow_enterprise_book_backup = 1;
    out->allow_cloud_photo_library = 1;
    out->allow_managed_apps_cloud_sync = 1;
    out->allow_host_pairing = 1;
}

void ferry_policy_restrictions_from_plist(plist_t combined, ferry_restrictions_t *out)
{
    ferry_policy_restrictions_default(out);
    out->allow_cloud_backup = ferry_policy_restriction_bool(combined, "allowCloudBackup", 1);
    out->force_encrypted_backup = ferry_policy_restriction_bool(combined, "forceEncryptedBackup", 0);
    out->allow_enterprise_book_backup =
        ferry_policy_restriction_bool(combined, "allowEnterpriseBookBackup", 1);
    out->allow_cloud_photo_library = ferry_policy_restriction_bool(combined, "allowCloudPhotoLibrary", 1);
    out->allow_managed_apps_cloud_sync =
        ferry_policy_restriction_bool(combined, "allowManagedAppsCloudSync", 1);
    out->allow_host_pairing = ferry_policy_restriction_bool(combined, "allowHostPairing", 1);
}
