/*
 * payload_rules.c: what ferry checks inside the payloads it knows, from Apple's schema
 * (apple/device-management mdm/profiles/<type>.yaml, summarised in spec/mdm.md §3, §7, §8): one table of
 * (PayloadType, key, type, required), plus the few rules a table cannot say (MDM Topic prefix, the
 * identity payload the MDM payload names, ACME key-type constraints, restrictions that must be
 * booleans). Unknown payload types and unknown keys are accepted untouched, as a device does with
 * keys newer than itself. docs/device-format.md lists the same table.
 */
#include "device_internal.h"

#include <stdio.h>
#include <string.h>

const dev_payload_rule_t dev_payload_rules[] = {
    {"com.apple.mdm", "IdentityCertificateUUID", PLIST_STRING, 1},
    {"com.apple.mdm", "Topic", PLIST_STRING, 1},
    {"com.apple.mdm", "ServerURL", PLIST_STRING, 1},
    {"com.apple.mdm", "CheckInURL", PLIST_STRING, 0},
    {"com.apple.mdm", "SignMessage", PLIST_BOOLEAN, 0},
    {"com.apple.mdm", "AccessRights", PLIST_UINT, 0},
    {"com.apple.mdm", "CheckOutWhenRemoved", PLIST_BOOLEAN, 0},
    {"com.apple.mdm", "ServerCapabilities", PLIST_ARRAY, 0},
    {"com.apple.mdm", "EnrollmentMode", PLIST_STRING, 0},
    {"com.apple.mdm", "AssignedManagedAppleID", PLIST_STRING, 0},
    {"com.apple.mdm", "ManagedAppleID", PLIST_STRING, 0},
    {"com.apple.mdm", "UseDevelopmentAPNS", PLIST_BOOLEAN, 0},
    {"com.apple.security.acme", "DirectoryURL", PLIST_STRING, 1},
    {"com.apple.security.acme", "ClientIdentifier", PLIST_STRING, 1},
    {"com.apple.security.acme", "KeyType", PLIST_STRING, 1},
    {"com.apple.security.acme", "KeySize", PLIST_UINT, 1},
    {"com.apple.security.acme", "HardwareBound", PLIST_BOOLEAN, 1},
    {"com.apple.security.acme", "Subject", PLIST_ARRAY, 1},
    {"com.apple.security.acme", "Attest", PLIST_BOOLEAN, 0},
    {"com.apple.security.acme", "UsageFlags", PLIST_UINT, 0},
    {"com.apple.security.acme", "ExtendedKeyUsage", PLIST_ARRAY, 0},
    {"com.apple.security.acme", "SubjectAltName", PLIST_DICT, 0},
    {"com.apple.security.scep", "PayloadContent", PLIST_DICT, 1},
    {"com.apple.security.pkcs12", "PayloadContent", PLIST_DATA, 1},
    {"com.apple.security.pkcs12", "Password", PLIST_STRING, 0},
    {"com.apple.security.pkcs1", "PayloadContent", PLIST_DATA, 1},
    {"com.apple.security.root", "PayloadContent", PLIST_DATA, 1},
    {"com.apple.wifi.managed", "SSID_STR", PLIST_STRING, 1},
    {"com.apple.wifi.managed", "EncryptionType", PLIST_STRING, 0},
    {"com.apple.wifi.managed", "Password", PLIST_STRING, 0},
    {"com.apple.wifi.managed", "AutoJoin", PLIST_BOOLEAN, 0},
    {"com.apple.wifi.managed", "HIDDEN_NETWORK", PLIST_BOOLEAN, 0},
    {"com.apple.vpn.managed", "VPNType", PLIST_STRING, 1},
    {"com.apple.vpn.managed", "UserDefinedName", PLIST_STRING, 0},
    {"com.apple.font", "Font", PLIST_DATA, 1},
    {"com.apple.font", "Name", PLIST_STRING, 0},
    {"com.apple.webClip.managed", "URL", PLIST_STRING, 1},
    {"com.apple.webClip.managed", "Label", PLIST_STRING, 1},
    {"com.apple.webClip.managed", "IsRemovable", PLIST_BOOLEAN, 0},
    {"com.apple.webClip.managed", "FullScreen", PLIST_BOOLEAN, 0},
    {"com.apple.webClip.managed", "Icon", PLIST_DATA, 0},
};
const size_t dev_n_payload_rules = sizeof dev_payload_rules / sizeof dev_payload_rules[0];

static const char *type_name(plist_type t)
{
    switch (t) {
    case PLIST_STRING: return "a string";
    case PLIST_BOOLEAN: return "a boolean";
    case PLIST_UINT: return "an integer";
    case PLIST_ARRAY: return "an array";
    case PLIST_DICT: return "a dictionary";
    case PLIST_DATA: return "data";
    default: return "another type";
    }
}

static int str_val(plist_t d, const char *key, const char **out)
{
    plist_t n = plist_dict_get_item(d, key);
    *out = n && plist_get_node_type(n) == PLIST_STRING ? plist_get_string_ptr(n, NULL) : NULL;
    return *out != NULL;
}

static int check_mdm(const ferry_profile_t *p, const ferry_payload_t *pl, const char *name, const char *w)
{
    const char *topic, *url, *mode, *id, *checkin;
    str_val(pl->dict, "Topic", &topic);
    if (strncmp(topic, "com.apple.mgmt.", 15))
        return ferry_error_set(FERRY_EFORMAT, "%s: %skey 'Topic' must start with 'com.apple.mgmt.'", name, w);
    str_val(pl->dict, "ServerURL", &url);
    if (strncmp(url, "https://", 8) && strncmp(url, "http://", 7))
        return ferry_error_set(FERRY_EFORMAT, "%s: %skey 'ServerURL' must be an https:// (or, for test servers, "
                               "http://) URL", name, w);
    if (str_val(pl->dict, "CheckInURL", &checkin) && strncmp(checkin, "https://", 8) && strncmp(checkin, "http://", 7))
        return ferry_error_set(FERRY_EFORMAT, "%s: %skey 'CheckInURL' must be an http(s) URL", name, w);
    if (str_val(pl->dict, "EnrollmentMode", &mode)) {
        if (strcmp(mode, "BYOD") && strcmp(mode, "ADDE"))
            return ferry_error_set(FERRY_EFORMAT, "%s: %skey 'EnrollmentMode' is '%s'; Apple's values are BYOD and ADDE",
                                   name, w, mode);
        if (!plist_dict_get_item(pl->dict, "AssignedManagedAppleID"))
            return ferry_error_set(FERRY_EFORMAT, "%s: %skey 'AssignedManagedAppleID' is missing (required with "
                                   "EnrollmentMode)", name, w);
    }
    str_val(pl->dict, "IdentityCertificateUUID", &id);
    const ferry_payload_t *ident = ferry_profile_find_uuid(p, id);
    if (!ident)
        return ferry_error_set(FERRY_EFORMAT, "%s: %skey 'IdentityCertificateUUID' names %s, which is not a payload of "
                               "this profile", name, w, id);
    if (strcmp(ident->PayloadType, "com.apple.security.acme") && strcmp(ident->PayloadType, "com.apple.security.scep") &&
        strcmp(ident->PayloadType, "com.apple.security.pkcs12"))
        return ferry_error_set(FERRY_EFORMAT, "%s: %skey 'IdentityCertificateUUID' names a %s payload; the MDM identity "
                               "must be ACME, SCEP or PKCS#12", name, w, ident->PayloadType);
    return 0;
}

static int check_acme(const ferry_payload_t *pl, const char *name, const char *w)
{
    const char *kt;
    uint64_t size = 0;
    str_val(pl->dict, "KeyType", &kt);
    plist_get_uint_val(plist_dict_get_item(pl->dict, "KeySize"), &size);
    int hw = plist_bool_val_is_true(plist_dict_get_item(pl->dict, "HardwareBound"));
    plist_t at = plist_dict_get_item(pl->dict, "Attest");
    if (strcmp(kt, "RSA") && strcmp(kt, "ECSECPrimeRandom"))
        return ferry_error_set(FERRY_EFORMAT, "%s: %skey 'KeyType' must be RSA or ECSECPrimeRandom", name, w);
    if (hw && !strcmp(kt, "RSA"))
        return ferry_error_set(FERRY_EFORMAT, "%s: %skey 'KeyType' RSA requires HardwareBound false", name, w);
    if (hw && size != 256 && size != 384)
        return ferry_error_set(FERRY_EFORMAT, "%s: %skey 'KeySize' must be 256 or 384 for a hardware-bound key", name, w);
    if (at && plist_bool_val_is_true(at) && !hw)
        return ferry_error_set(FERRY_EFORMAT, "%s: %skey 'Attest' requires HardwareBound true", name, w);
    return 0;
}

/* Restrictions: allow* and force* keys are booleans in Apple's schema (B13 compares them). */
static int check_restrictions(const ferry_payload_t *pl, const char *name, const char *w)
{
    plist_dict_iter it = NULL;
    plist_dict_new_iter(pl->dict, &it);
    int rc = 0;
    for (;;) {
        char *key = NULL;
        plist_t v = NULL;
        plist_dict_next_item(pl->dict, it, &key, &v);
        if (!key)
            break;
        int flag = (!strncmp(key, "allow", 5) && key[5] >= 'A' && key[5] <= 'Z') ||
                   (!strncmp(key, "force", 5) && key[5] >= 'A' && key[5] <= 'Z');
        if (!rc && flag && plist_get_node_type(v) != PLIST_BOOLEAN)
            rc = ferry_error_set(FERRY_EFORMAT, "%s: %skey '%s' must be a boolean", name, w, key);
        free(key);
    }
    free(it);
    return rc;
}

int dev_payload_check(const ferry_profile_t *p, size_t i, const char *name)
{
    const ferry_payload_t *pl = &p->payloads[i];
    char w[128];
    snprintf(w, sizeof w, "PayloadContent[%zu] (%s): ", i, pl->PayloadType);
    for (size_t r = 0; r < dev_n_payload_rules; r++) {
        const dev_payload_rule_t *rule = &dev_payload_rules[r];
        if (strcmp(rule->type, pl->PayloadType))
            continue;
        plist_t v = plist_dict_get_item(pl->dict, rule->key);
        if (!v && rule->required)
            return ferry_error_set(FERRY_EFORMAT, "%s: %skey '%s' is missing", name, w, rule->key);
        if (v && plist_get_node_type(v) != rule->ptype)
            return ferry_error_set(FERRY_EFORMAT, "%s: %skey '%s' must be %s", name, w, rule->key,
                                   type_name(rule->ptype));
    }
    if (!strcmp(pl->PayloadType, "com.apple.mdm")) {
        for (size_t j = 0; j < i; j++)
            if (!strcmp(p->payloads[j].PayloadType, "com.apple.mdm"))
                return ferry_error_set(FERRY_EFORMAT, "%s: %sa profile holds at most one com.apple.mdm payload", name, w);
        return check_mdm(p, pl, name, w);
    }
    if (!strcmp(pl->PayloadType, "com.apple.security.acme"))
        return check_acme(pl, name, w);
    if (!strcmp(pl->PayloadType, "com.apple.security.scep")) {
        plist_t c = plist_dict_get_item(pl->dict, "PayloadContent");
        plist_t url = plist_dict_get_item(c, "URL");
        if (!url || plist_get_node_type(url) != PLIST_STRING)
            return ferry_error_set(FERRY_EFORMAT, "%s: %skey 'PayloadContent.URL' is missing or not a string", name, w);
    }
    if (!strcmp(pl->PayloadType, "com.apple.applicationaccess"))
        return check_restrictions(pl, name, w);
    return 0;
}
