/*
 * keychain.c: keychain.plist, laid out like the device's own export (KeychainDomain/
 * keychain-backup.plist, backup-format.md §10.3): arrays genp, inet, cert and keys of items with
 * Apple's attribute names (pdmn accessibility, agrp, svce, acct, srvr, labl, v_Data). ferry adds
 * PayloadUUID (the profile payload that installed the item, so that removing the profile removes it)
 * and HardwareBound (a Secure Enclave key that can never leave the device). Items are plaintext here:
 * the emulated device wraps them when it exports a backup.
 */
#include "device_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kclasses[] = {"genp", "inet", "cert", "keys"};

static const struct {
    const char *pdmn;
    int clas;
} accessibility[] = {
    {"ak", 6}, {"ck", 7}, {"dk", 8}, {"aku", 9}, {"cku", 10}, {"dku", 11}, {"akpu", 0},
};

int ferry_keychain_protection_class(const char *pdmn)
{
    for (size_t i = 0; pdmn && i < sizeof accessibility / sizeof accessibility[0]; i++)
        if (!strcmp(accessibility[i].pdmn, pdmn))
            return accessibility[i].clas;
    return -1;
}

unsigned ferry_keychain_item_category(const ferry_keychain_item_t *it)
{
    if (!strcmp(it->klass, "genp") && it->svce && !strcmp(it->svce, "AirPort"))
        return FERRY_CAT_WIFI; /* Wi-Fi passwords are generic passwords of the AirPort service */
    if (!strcmp(it->klass, "genp") || !strcmp(it->klass, "inet"))
        return FERRY_CAT_PASSWORDS;
    return 0;
}

void dev_keychain_item_clear(ferry_keychain_item_t *it)
{
    free(it->klass);
    free(it->pdmn);
    free(it->agrp);
    free(it->svce);
    free(it->acct);
    free(it->srvr);
    free(it->labl);
    free(it->PayloadUUID);
    if (it->v_Data)
        ferry_wipe(it->v_Data, it->v_Data_len);
    free(it->v_Data);
    memset(it, 0, sizeof *it);
}

static int load_item(plist_t d, const char *klass, ferry_keychain_item_t *it, const char *what)
{
    int rc;
    it->klass = strdup(klass);
    if (!it->klass)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    if ((rc = dev_opt_str(d, "pdmn", &it->pdmn, what)) || (rc = dev_opt_str(d, "agrp", &it->agrp, what)) ||
        (rc = dev_opt_str(d, "svce", &it->svce, what)) || (rc = dev_opt_str(d, "acct", &it->acct, what)) ||
        (rc = dev_opt_str(d, "srvr", &it->srvr, what)) || (rc = dev_opt_str(d, "labl", &it->labl, what)) ||
        (rc = dev_opt_str(d, "PayloadUUID", &it->PayloadUUID, what)) ||
        (rc = dev_opt_bool(d, "HardwareBound", &it->HardwareBound, what)) ||
        (rc = dev_opt_data(d, "v_Data", &it->v_Data, &it->v_Data_len, what)))
        return rc;
    if (!it->pdmn)
        return ferry_error_set(FERRY_EFORMAT, "%s: key 'pdmn' is missing", what);
    if (ferry_keychain_protection_class(it->pdmn) < 0)
        return ferry_error_set(FERRY_EFORMAT, "%s: key 'pdmn' is '%s'; expected ak, ck, dk, aku, cku, dku or akpu",
                               what, it->pdmn);
    if (it->HardwareBound && strcmp(klass, "keys"))
        return ferry_error_set(FERRY_EFORMAT, "%s: key 'HardwareBound' applies only to keys items", what);
    return 0;
}

int dev_keychain_from_plist(plist_t dict, const char *what, ferry_keychain_item_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!dict)
        return 0;
    if (plist_get_node_type(dict) != PLIST_DICT)
        return ferry_error_set(FERRY_EFORMAT, "%s: the top level must be a dictionary of genp, inet, cert, keys", what);
    size_t total = 0;
    for (size_t c = 0; c < 4; c++) {
        plist_t a = plist_dict_get_item(dict, kclasses[c]);
        if (a && plist_get_node_type(a) != PLIST_ARRAY)
            return ferry_error_set(FERRY_EFORMAT, "%s: key '%s' must be an array", what, kclasses[c]);
        total += a ? plist_array_get_size(a) : 0;
    }
    ferry_keychain_item_t *items = calloc(total ? total : 1, sizeof *items);
    if (!items)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    size_t k = 0;
    int rc = 0;
    for (size_t c = 0; c < 4 && !rc; c++) {
        plist_t a = plist_dict_get_item(dict, kclasses[c]);
        for (uint32_t i = 0; a && i < plist_array_get_size(a) && !rc; i++) {
            char ctx[256];
            snprintf(ctx, sizeof ctx, "%s: %s[%u]", what, kclasses[c], i);
            plist_t d = plist_array_get_item(a, i);
            rc = plist_get_node_type(d) != PLIST_DICT ? ferry_error_set(FERRY_EFORMAT, "%s must be a dictionary", ctx)
                                                      : load_item(d, kclasses[c], &items[k], ctx);
            k++;
        }
    }
    if (rc) {
        for (size_t j = 0; j < total; j++)
            dev_keychain_item_clear(&items[j]);
        free(items);
        return rc;
    }
    *out = items;
    *n = total;
    return 0;
}

plist_t dev_keychain_to_plist(const ferry_keychain_item_t *items, size_t n)
{
    plist_t root = plist_new_dict();
    for (size_t c = 0; c < 4; c++) {
        plist_t arr = plist_new_array();
        for (size_t i = 0; i < n; i++) {
            const ferry_keychain_item_t *it = &items[i];
            if (strcmp(it->klass, kclasses[c]))
                continue;
            plist_t d = plist_new_dict();
            dev_dict_set_str(d, "pdmn", it->pdmn);
            dev_dict_set_str(d, "agrp", it->agrp);
            dev_dict_set_str(d, "svce", it->svce);
            dev_dict_set_str(d, "acct", it->acct);
            dev_dict_set_str(d, "srvr", it->srvr);
            dev_dict_set_str(d, "labl", it->labl);
            dev_dict_set_str(d, "PayloadUUID", it->PayloadUUID);
            if (it->HardwareBound)
                dev_dict_set_bool(d, "HardwareBound", 1);
            if (it->v_Data)
                dev_dict_set_data(d, "v_Data", it->v_Data, it->v_Data_len);
            plist_array_append_item(arr, d);
        }
        plist_dict_set_item(root, kclasses[c], arr);
    }
    return root;
}

static int owned_by(const ferry_keychain_item_t *it, const ferry_profile_t *p)
{
    return it->PayloadUUID && ferry_profile_find_uuid(p, it->PayloadUUID);
}

void dev_keychain_drop_profile(ferry_device_t *dev, const ferry_profile_t *p)
{
    size_t j = 0;
    for (size_t i = 0; i < dev->n_keychain; i++) {
        if (owned_by(&dev->keychain[i], p))
            dev_keychain_item_clear(&dev->keychain[i]);
        else
            dev->keychain[j++] = dev->keychain[i];
    }
    dev->n_keychain = j;
}

static int add_item(ferry_device_t *dev, const char *klass, const char *pdmn, const char *agrp, const char *svce,
                    const char *acct, const char *labl, const char *uuid, int hw, const uint8_t *data, size_t len)
{
    ferry_keychain_item_t *n = realloc(dev->keychain, (dev->n_keychain + 1) * sizeof *n);
    if (!n)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    dev->keychain = n;
    ferry_keychain_item_t *it = &n[dev->n_keychain];
    memset(it, 0, sizeof *it);
    it->klass = strdup(klass);
    it->pdmn = strdup(pdmn);
    it->agrp = dev_strdup(agrp);
    it->svce = dev_strdup(svce);
    it->acct = dev_strdup(acct);
    it->labl = dev_strdup(labl);
    it->PayloadUUID = dev_strdup(uuid);
    it->HardwareBound = hw;
    if (data && len) {
        it->v_Data = malloc(len);
        if (it->v_Data) {
            memcpy(it->v_Data, data, len);
            it->v_Data_len = len;
        }
    }
    dev->n_keychain++;
    if (!it->klass || !it->pdmn || (data && len && !it->v_Data))
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    return 0;
}

/* What the device puts into its keychain when it installs one payload. Certificates are migratable
 * (ck); private keys of identities are ThisDeviceOnly (dku), so that D5's "restored without that key"
 * has something to act on; Wi-Fi passwords are ck like a network the user joined. */
static int sync_payload(ferry_device_t *dev, const ferry_payload_t *pl)
{
    const char *t = pl->PayloadType, *u = pl->PayloadUUID, *id = pl->PayloadIdentifier;
    const char *agrp = "com.apple.managedconfiguration";
    plist_t d = pl->dict;
    if (!strcmp(t, "com.apple.security.pkcs1") || !strcmp(t, "com.apple.security.root")) {
        plist_t c = plist_dict_get_item(d, "PayloadContent");
        char *der = NULL;
        uint64_t len = 0;
        plist_get_data_val(c, &der, &len);
        int rc = add_item(dev, "cert", "ck", agrp, NULL, NULL, id, u, 0, (uint8_t *)der, (size_t)len);
        free(der);
        return rc;
    }
    if (!strcmp(t, "com.apple.security.pkcs12") || !strcmp(t, "com.apple.security.scep")) {
        int rc = add_item(dev, "cert", "ck", agrp, NULL, NULL, id, u, 0, NULL, 0);
        return rc ? rc : add_item(dev, "keys", "dku", agrp, NULL, NULL, id, u, 0, NULL, 0);
    }
    if (!strcmp(t, "com.apple.security.acme")) {
        int hw = 0;
        plist_t h = plist_dict_get_item(d, "HardwareBound");
        if (h && plist_get_node_type(h) == PLIST_BOOLEAN)
            hw = plist_bool_val_is_true(h);
        int rc = add_item(dev, "cert", "ck", agrp, NULL, NULL, id, u, 0, NULL, 0);
        return rc ? rc : add_item(dev, "keys", "dku", agrp, NULL, NULL, id, u, hw, NULL, 0);
    }
    if (!strcmp(t, "com.apple.wifi.managed")) {
        plist_t pw = plist_dict_get_item(d, "Password"), ssid = plist_dict_get_item(d, "SSID_STR");
        if (!pw || plist_get_node_type(pw) != PLIST_STRING)
            return 0;
        char *p = NULL, *s = NULL;
        p = ferry_plist_string_dup(pw);
        s = ferry_plist_string_dup(ssid);
        int rc = add_item(dev, "genp", "ck", "apple", "AirPort", s, s, u, 0, (uint8_t *)p, p ? strlen(p) : 0);
        if (p)
            ferry_wipe(p, strlen(p));
        free(p);
        free(s);
        return rc;
    }
    return 0;
}

int dev_keychain_sync_profile(ferry_device_t *dev, const ferry_profile_t *p)
{
    dev_keychain_drop_profile(dev, p);
    for (size_t i = 0; i < p->n_payloads; i++) {
        int rc = sync_payload(dev, &p->payloads[i]);
        if (rc)
            return rc;
    }
    return 0;
}
