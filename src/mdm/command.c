/*
 * command.c: the MDM commands ferry's server can queue (spec/mdm.md §4, §5, §10), described by one
 * table of request types and their keys with Apple's names and types. Building a command checks the
 * caller's parameters against that table (unknown keys, wrong types and missing required keys are
 * refused) so that nothing malformed is ever queued; ManagementFlags accepts only Apple's bits 1 and
 * 4. "Key=Value" parsing for the command line lives here too, typed by the same table.
 */
#include "mdm_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { K_STRING, K_INT, K_BOOL, K_DATA, K_DICT, K_ARRAY, K_STRINGS } ktype_t;

typedef struct {
    const char *name;
    ktype_t type;
    int required;
} mdm_key_spec_t;

typedef struct {
    const char *request_type;
    mdm_key_spec_t keys[12];
    const char *one_of[4]; /* at least one of these keys must be present */
} cmd_spec_t;

static const cmd_spec_t SPECS[] = {
    {"DeviceInformation", {{"Queries", K_STRINGS, 0}}, {NULL}},
    {"ProfileList", {{NULL, 0, 0}}, {NULL}},
    {"InstallProfile", {{"Payload", K_DATA, 1}}, {NULL}},
    {"RemoveProfile", {{"Identifier", K_STRING, 1}}, {NULL}},
    {"InstallApplication",
     {{"iTunesStoreID", K_INT, 0},
      {"Identifier", K_STRING, 0},
      {"ManifestURL", K_STRING, 0},
      {"ManagementFlags", K_INT, 0},
      {"Options", K_DICT, 0},
      {"Configuration", K_DICT, 0},
      {"Attributes", K_DICT, 0},
      {"ChangeManagementState", K_STRING, 0}},
     {"iTunesStoreID", "Identifier", "ManifestURL", NULL}},
    {"RemoveApplication", {{"Identifier", K_STRING, 1}}, {NULL}},
    {"ManagedApplicationList", {{"Identifiers", K_STRINGS, 0}}, {NULL}},
    {"InstalledApplicationList",
     {{"Identifiers", K_STRINGS, 0}, {"ManagedAppsOnly", K_BOOL, 0}, {"Items", K_STRINGS, 0}},
     {NULL}},
    {"InstallMedia",
     {{"MediaType", K_STRING, 1},
      {"iTunesStoreID", K_INT, 0},
      {"MediaURL", K_STRING, 0},
      {"PersistentID", K_STRING, 0},
      {"Kind", K_STRING, 0},
      {"Version", K_STRING, 0},
      {"Title", K_STRING, 0},
      {"Author", K_STRING, 0}},
     {"iTunesStoreID", "MediaURL", NULL}},
    {"ManagedMediaList", {{NULL, 0, 0}}, {NULL}},
    {"RemoveMedia",
     {{"MediaType", K_STRING, 1}, {"iTunesStoreID", K_INT, 0}, {"PersistentID", K_STRING, 0}},
     {"iTunesStoreID", "PersistentID", NULL}},
    {"Settings", {{"Settings", K_ARRAY, 1}}, {NULL}},
    {"DeviceConfigured", {{NULL, 0, 0}}, {NULL}},
};
#define N_SPECS (sizeof SPECS / sizeof *SPECS)

const char *const *ferry_mdm_command_types(void)
{
    static const char *const names[] = {
        "DeviceInformation", "ProfileList", "InstallProfile", "RemoveProfile", "InstallApplication",
        "RemoveApplication", "ManagedApplicationList", "InstalledApplicationList", "InstallMedia",
        "ManagedMediaList", "RemoveMedia", "Settings", "DeviceConfigured", NULL};
    return names;
}

static const cmd_spec_t *spec_for(const char *rt)
{
    for (size_t i = 0; rt && i < N_SPECS; i++)
        if (!strcmp(SPECS[i].request_type, rt))
            return &SPECS[i];
    return NULL;
}

static const mdm_key_spec_t *key_for(const cmd_spec_t *s, const char *name)
{
    for (size_t i = 0; i < sizeof s->keys / sizeof *s->keys && s->keys[i].name; i++)
        if (!strcmp(s->keys[i].name, name))
            return &s->keys[i];
    return NULL;
}

static int type_ok(ktype_t t, plist_t v)
{
    plist_type pt = plist_get_node_type(v);
    switch (t) {
    case K_STRING: return pt == PLIST_STRING;
    case K_INT: return pt == PLIST_UINT;
    case K_BOOL: return pt == PLIST_BOOLEAN;
    case K_DATA: return pt == PLIST_DATA;
    case K_DICT: return pt == PLIST_DICT;
    case K_ARRAY: return pt == PLIST_ARRAY;
    case K_STRINGS:
        if (pt != PLIST_ARRAY)
            return 0;
        for (uint32_t i = 0; i < plist_array_get_size(v); i++)
            if (plist_get_node_type(plist_array_get_item(v, i)) != PLIST_STRING)
                return 0;
        return 1;
    }
    return 0;
}

static int unknown_type(const char *rt)
{
    return ferry_error_set(FERRY_EINVAL,
                           "unknown or unsupported RequestType '%s' (supported: DeviceInformation, "
                           "ProfileList, InstallProfile, RemoveProfile, InstallApplication, "
                           "RemoveApplication, ManagedApplicationList, InstalledApplicationList, "
                           "InstallMedia, ManagedMediaList, RemoveMedia, Settings, DeviceConfigured)",
                           rt ? rt : "(none)");
}

static int check_params(const cmd_spec_t *s, plist_t params)
{
    if (params && plist_get_node_type(params) != PLIST_DICT)
        return ferry_error_set(FERRY_EINVAL, "%s parameters are not a dictionary", s->request_type);
    plist_dict_iter it = NULL;
    if (params)
        plist_dict_new_iter(params, &it);
    for (;;) {
        char *k = NULL;
        plist_t v = NULL;
        if (!it)
            break;
        plist_dict_next_item(params, it, &k, &v);
        if (!k)
            break;
        const mdm_key_spec_t *key = key_for(s, k);
        int rc = 0;
        if (!key)
            rc = ferry_error_set(FERRY_EINVAL, "%s has no key '%s'", s->request_type, k);
        else if (!type_ok(key->type, v))
            rc = ferry_error_set(FERRY_EINVAL, "%s key '%s' has the wrong type", s->request_type, k);
        free(k);
        if (rc) {
            free(it);
            return rc;
        }
    }
    free(it);
    for (size_t i = 0; i < sizeof s->keys / sizeof *s->keys && s->keys[i].name; i++)
        if (s->keys[i].required && !(params && plist_dict_get_item(params, s->keys[i].name)))
            return ferry_error_set(FERRY_EINVAL, "%s needs the key '%s'", s->request_type,
                                   s->keys[i].name);
    if (s->one_of[0]) {
        int any = 0;
        for (size_t i = 0; s->one_of[i]; i++)
            any |= params && plist_dict_get_item(params, s->one_of[i]) != NULL;
        if (!any)
            return ferry_error_set(FERRY_EINVAL, "%s needs one of %s%s%s%s%s", s->request_type,
                                   s->one_of[0], s->one_of[1] ? ", " : "", s->one_of[1] ? s->one_of[1] : "",
                                   s->one_of[2] ? ", " : "", s->one_of[2] ? s->one_of[2] : "");
    }
    plist_t flags = params ? plist_dict_get_item(params, "ManagementFlags") : NULL;
    if (flags) {
        uint64_t f = 0;
        plist_get_uint_val(flags, &f);
        if (f & ~(uint64_t)5)
            return ferry_error_set(FERRY_EINVAL, "ManagementFlags %llu has bits other than 1 and 4",
                                   (unsigned long long)f);
    }
    return 0;
}

int ferry_mdm_command_new(const char *request_type, plist_t params, plist_t *out)
{
    *out = NULL;
    const cmd_spec_t *s = spec_for(request_type);
    if (!s)
        return unknown_type(request_type);
    int rc = check_params(s, params);
    if (rc)
        return rc;
    char uuid[37];
    if (mdm_uuid(uuid))
        return ferry_error_set(FERRY_ECRYPTO, "no randomness for a CommandUUID");
    plist_t cmd = params ? plist_copy(params) : plist_new_dict();
    plist_dict_set_item(cmd, "RequestType", plist_new_string(request_type));
    plist_t top = plist_new_dict();
    plist_dict_set_item(top, "CommandUUID", plist_new_string(uuid));
    plist_dict_set_item(top, "Command", cmd);
    *out = top;
    return 0;
}

static int parse_value(ktype_t t, const char *key, const char *v, plist_t *out)
{
    *out = NULL;
    if (t == K_STRING) {
        *out = plist_new_string(v);
        return 0;
    }
    if (t == K_INT) {
        char *end;
        errno = 0;
        unsigned long long n = strtoull(v, &end, 0);
        if (errno || !*v || *end || v[0] == '-')
            return ferry_error_set(FERRY_EINVAL, "%s=%s: expected a non-negative integer", key, v);
        *out = plist_new_uint(n);
        return 0;
    }
    if (t == K_BOOL) {
        if (strcmp(v, "true") && strcmp(v, "false"))
            return ferry_error_set(FERRY_EINVAL, "%s=%s: expected true or false", key, v);
        *out = plist_new_bool(!strcmp(v, "true"));
        return 0;
    }
    if (t == K_STRINGS) {
        plist_t a = plist_new_array();
        const char *p = v;
        while (*p) {
            const char *c = strchr(p, ',');
            size_t n = c ? (size_t)(c - p) : strlen(p);
            char *item = strndup(p, n);
            if (!item) {
                plist_free(a);
                return ferry_error_set(FERRY_ENOMEM, "out of memory");
            }
            if (n)
                plist_array_append_item(a, plist_new_string(item));
            free(item);
            p += n + (c ? 1 : 0);
        }
        *out = a;
        return 0;
    }
    if (v[0] != '@')
        return ferry_error_set(FERRY_EINVAL, "%s: give a file as %s=@FILE", key, key);
    if (t == K_DATA) {
        uint8_t *buf;
        size_t len;
        int rc = ferry_file_read_all(v + 1, 16u << 20, &buf, &len);
        if (rc)
            return rc;
        *out = plist_new_data((const char *)buf, len);
        free(buf);
        return 0;
    }
    plist_t p = NULL;
    int rc = ferry_plist_read_file(v + 1, 16u << 20, &p);
    if (rc)
        return rc;
    if (!type_ok(t, p)) {
        plist_free(p);
        return ferry_error_set(FERRY_EINVAL, "%s: %s does not hold a %s", key, v + 1,
                               t == K_DICT ? "dictionary" : "array");
    }
    *out = p;
    return 0;
}

int ferry_mdm_command_param(const char *request_type, const char *key_eq_value, plist_t params)
{
    const cmd_spec_t *s = spec_for(request_type);
    if (!s)
        return unknown_type(request_type);
    const char *eq = strchr(key_eq_value, '=');
    if (!eq || eq == key_eq_value)
        return ferry_error_set(FERRY_EINVAL, "'%s' is not KEY=VALUE", key_eq_value);
    char *key = strndup(key_eq_value, (size_t)(eq - key_eq_value));
    if (!key)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    const mdm_key_spec_t *k = key_for(s, key);
    int rc;
    plist_t v = NULL;
    if (!k)
        rc = ferry_error_set(FERRY_EINVAL, "%s has no key '%s'", request_type, key);
    else
        rc = parse_value(k->type, key, eq + 1, &v);
    if (!rc)
        plist_dict_set_item(params, key, v);
    free(key);
    return rc;
}
