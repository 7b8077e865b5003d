/*
 * mdm_identity.c: the key material of the device's MDM identity (the payload named by the MDM
 * payload's IdentityCertificateUUID). A PKCS#12 payload carries it; for ACME and SCEP the device
 * generates its key and the CA issues the certificate, so the device keeps both in the keychain items
 * that payload installed: the PKCS#8 key in the `keys` item's v_Data, the DER certificate in the
 * `cert` item's v_Data (docs/device-format.md, "MDM identity"). Secrets are wiped when released.
 */
#include "device_internal.h"

#include <stdlib.h>
#include <string.h>

void ferry_device_identity_clear(ferry_device_identity_t *id)
{
    if (!id)
        return;
    if (id->pkcs12)
        ferry_wipe(id->pkcs12, id->pkcs12_len);
    if (id->password)
        ferry_wipe(id->password, strlen(id->password));
    if (id->key_der)
        ferry_wipe(id->key_der, id->key_len);
    free(id->pkcs12);
    free(id->password);
    free(id->key_der);
    free(id->cert_der);
    free(id->payload_type);
    free(id->payload_uuid);
    memset(id, 0, sizeof *id);
}

static ferry_keychain_item_t *item_of(const ferry_device_t *dev, const char *klass, const char *uuid)
{
    for (size_t i = 0; i < dev->n_keychain; i++) {
        ferry_keychain_item_t *it = &dev->keychain[i];
        if (it->PayloadUUID && !strcmp(it->PayloadUUID, uuid) && !strcmp(it->klass, klass))
            return it;
    }
    return NULL;
}

static int dup_bytes(const uint8_t *src, size_t len, uint8_t **dst, size_t *dlen)
{
    *dst = malloc(len ? len : 1);
    if (!*dst)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    memcpy(*dst, src, len);
    *dlen = len;
    return 0;
}

int ferry_device_identity_get(const ferry_device_t *dev, ferry_device_identity_t *out)
{
    memset(out, 0, sizeof *out);
    const ferry_payload_t *pl = ferry_device_mdm_identity(dev);
    if (!pl)
        return ferry_error_set(FERRY_ENOTFOUND, "%s: the device has no MDM identity (not enrolled, or the MDM "
                               "payload's IdentityCertificateUUID names no payload)", dev->dir);
    out->payload_type = strdup(pl->PayloadType);
    out->payload_uuid = strdup(pl->PayloadUUID);
    if (!out->payload_type || !out->payload_uuid) {
        ferry_device_identity_clear(out);
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    int rc = 0;
    if (!strcmp(pl->PayloadType, "com.apple.security.pkcs12")) {
        rc = ferry_plist_get_data(pl->dict, "PayloadContent", &out->pkcs12, &out->pkcs12_len);
        if (!rc && ferry_plist_get_string(pl->dict, "Password", &out->password) == FERRY_EFORMAT)
            rc = ferry_error_set(FERRY_EFORMAT, "the PKCS#12 payload's Password is not a string");
    } else {
        ferry_plist_get_bool(pl->dict, "HardwareBound", &out->hardware_bound);
        const ferry_keychain_item_t *c = item_of(dev, "cert", pl->PayloadUUID);
        const ferry_keychain_item_t *k = item_of(dev, "keys", pl->PayloadUUID);
        if (c && k && c->v_Data && k->v_Data) {
            rc = dup_bytes(c->v_Data, c->v_Data_len, &out->cert_der, &out->cert_len);
            if (!rc)
                rc = dup_bytes(k->v_Data, k->v_Data_len, &out->key_der, &out->key_len);
        }
    }
    if (rc)
        ferry_device_identity_clear(out);
    return rc;
}

int ferry_device_identity_store(ferry_device_t *dev, const uint8_t *cert, size_t cert_len, const uint8_t *key,
                                size_t key_len)
{
    const ferry_payload_t *pl = ferry_device_mdm_identity(dev);
    if (!pl || !strcmp(pl->PayloadType, "com.apple.security.pkcs12"))
        return ferry_error_set(FERRY_EINVAL, "%s: only an ACME or SCEP MDM identity keeps a generated key", dev->dir);
    ferry_keychain_item_t *c = item_of(dev, "cert", pl->PayloadUUID), *k = item_of(dev, "keys", pl->PayloadUUID);
    if (!c || !k)
        return ferry_error_set(FERRY_ENOTFOUND, "%s: keychain.plist has no cert and keys items for the identity "
                               "payload %s", dev->dir, pl->PayloadUUID);
    uint8_t *nc = NULL, *nk = NULL;
    size_t ncl = 0, nkl = 0;
    int rc = dup_bytes(cert, cert_len, &nc, &ncl);
    if (!rc && (rc = dup_bytes(key, key_len, &nk, &nkl))) {
        free(nc);
        return rc;
    }
    if (rc)
        return rc;
    free(c->v_Data);
    if (k->v_Data)
        ferry_wipe(k->v_Data, k->v_Data_len);
    free(k->v_Data);
    c->v_Data = nc;
    c->v_Data_len = ncl;
    k->v_Data = nk;
    k->v_Data_len = nkl;
    return ferry_device_save(dev);
}
