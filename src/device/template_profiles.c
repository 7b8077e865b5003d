/*
 * template_profiles.c: the configuration profiles of a template, built as real .mobileconfig files:
 * the MDM enrollment profile (identity payload + com.apple.mdm, CMS-signed when the template says so),
 * one or two restrictions profiles (two make B13 visible), and the Wi-Fi, VPN, certificate, font
 * (binary plist) and web-clip profiles. Each file is read back through ferry_profile_parse before it
 * is installed, so a template can never produce a profile that ferry itself would refuse. Key names
 * and value shapes follow Apple's schema (spec/mdm.md §3, §7, §8).
 */
#include "template.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    dev_build_t *b;
    dev_pki_t *pki;
    EVP_PKEY *ca_key;
    X509 *ca;
} ctx_t;

enum { FMT_XML, FMT_BIN, FMT_SIGNED };

static plist_t new_profile(ctx_t *c, const char *suffix, const char *display, int removal_disallowed)
{
    char id[256], label[300], uuid[37];
    snprintf(id, sizeof id, "%s.%s", c->b->t->org_prefix, suffix);
    snprintf(label, sizeof label, "profile:%s", id);
    dev_uuid(c->b->o->seed, label, uuid);
    plist_t p = plist_new_dict();
    dev_dict_set_str(p, "PayloadDisplayName", display);
    dev_dict_set_str(p, "PayloadIdentifier", id);
    dev_dict_set_str(p, "PayloadOrganization", c->b->t->org_name);
    if (removal_disallowed)
        dev_dict_set_bool(p, "PayloadRemovalDisallowed", 1);
    dev_dict_set_str(p, "PayloadType", "Configuration");
    dev_dict_set_str(p, "PayloadUUID", uuid);
    dev_dict_set_uint(p, "PayloadVersion", 1);
    plist_dict_set_item(p, "PayloadContent", plist_new_array());
    return p;
}

/* Appends a payload to the profile and returns it (borrowed) for the type's own keys; uuid_out (37
 * bytes, optional) receives its PayloadUUID. */
static plist_t add_payload(ctx_t *c, plist_t profile, const char *type, const char *suffix, const char *display,
                           char *uuid_out)
{
    char id[512], label[600], uuid[37];
    plist_t pid = plist_dict_get_item(profile, "PayloadIdentifier");
    snprintf(id, sizeof id, "%s.%s", plist_get_string_ptr(pid, NULL), suffix);
    snprintf(label, sizeof label, "payload:%s", id);
    dev_uuid(c->b->o->seed, label, uuid);
    plist_t d = plist_new_dict();
    dev_dict_set_str(d, "PayloadDisplayName", display);
    dev_dict_set_str(d, "PayloadIdentifier", id);
    dev_dict_set_str(d, "PayloadType", type);
    dev_dict_set_str(d, "PayloadUUID", uuid);
    dev_dict_set_uint(d, "PayloadVersion", 1);
    plist_array_append_item(plist_dict_get_item(profile, "PayloadContent"), d);
    if (uuid_out)
        memcpy(uuid_out, uuid, 37);
    return d;
}

static void secret(ctx_t *c, const char *label, char out[25])
{
    dev_rng_t r;
    static const char a[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    dev_rng_seed(&r, c->b->o->seed, label);
    for (int i = 0; i < 24; i++)
        out[i] = a[dev_rng_below(&r, sizeof a - 1)];
    out[24] = 0;
}

static plist_t subject_cn(const char *cn)
{
    plist_t pair = plist_new_array(), rdn = plist_new_array(), subj = plist_new_array();
    plist_array_append_item(pair, plist_new_string("CN"));
    plist_array_append_item(pair, plist_new_string(cn));
    plist_array_append_item(rdn, pair);
    plist_array_append_item(subj, rdn);
    return subj;
}

/* Serialises, reads back through the profile parser, and installs into the device being built. */
static int install(ctx_t *c, plist_t profile, int fmt, ferry_profile_source_t source)
{
    char *buf = NULL;
    uint32_t len = 0;
    uint8_t *signed_der = NULL;
    size_t signed_len = 0;
    int rc = 0;
    if (fmt == FMT_BIN)
        plist_to_bin(profile, &buf, &len);
    else
        plist_to_xml(profile, &buf, &len);
    const char *ident = plist_get_string_ptr(plist_dict_get_item(profile, "PayloadIdentifier"), NULL);
    char *file = dev_profile_file_name(ident);
    if (!buf || !file)
        rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
    if (!rc && fmt == FMT_SIGNED)
        rc = dev_pki_cms_sign(c->pki, (uint8_t *)buf, len, c->ca, c->ca_key, &signed_der, &signed_len);
    ferry_profile_t *p = NULL;
    if (!rc)
        rc = ferry_profile_parse(signed_der ? signed_der : (uint8_t *)buf, signed_der ? signed_len : len, file, &p);
    ferry_device_t *d = c->b->dev;
    ferry_installed_profile_t *n = rc ? NULL : realloc(d->profiles, (d->n_profiles + 1) * sizeof *n);
    if (!rc && !n)
        rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
    if (!rc) {
        d->profiles = n;
        n[d->n_profiles++] = (ferry_installed_profile_t){file, source, p};
        file = NULL;
        rc = dev_keychain_sync_profile(d, p);
    } else
        ferry_profile_free(p);
    free(file);
    free(buf);
    OPENSSL_free(signed_der);
    plist_free(profile);
    return rc;
}

static int identity_payload(ctx_t *c, plist_t prof, char uuid[37])
{
    const dev_template_t *t = c->b->t;
    const char *udid = c->b->dev->UniqueDeviceID;
    char url[1024], pw[25];
    switch (t->identity) {
    case TI_PKCS12: {
        EVP_PKEY *k = NULL;
        X509 *cert = NULL;
        uint8_t *der = NULL, *ca = NULL;
        size_t len = 0, calen = 0;
        secret(c, "pkcs12:password", pw);
        int rc = dev_pki_ec(c->pki, &k);
        if (!rc)
            rc = dev_pki_cert(k, udid, t->org_name, 2, 0, c->ca, c->ca_key, &cert);
        if (!rc)
            rc = dev_pki_pkcs12(c->pki, k, cert, pw, "MDM identity", &der, &len);
        if (!rc)
            rc = dev_pki_cert_der(c->ca, &ca, &calen);
        if (!rc) {
            plist_t p = add_payload(c, prof, "com.apple.security.root", "root", "Organisation root", NULL);
            dev_dict_set_str(p, "PayloadCertificateFileName", "root.cer");
            dev_dict_set_data(p, "PayloadContent", ca, calen);
            p = add_payload(c, prof, "com.apple.security.pkcs12", "identity", "MDM identity", uuid);
            dev_dict_set_str(p, "Password", pw);
            dev_dict_set_str(p, "PayloadCertificateFileName", "identity.p12");
            dev_dict_set_data(p, "PayloadContent", der, len);
        }
        OPENSSL_free(der);
        OPENSSL_free(ca);
        X509_free(cert);
        EVP_PKEY_free(k);
        return rc;
    }
    case TI_SCEP: {
        secret(c, "scep:challenge", pw);
        snprintf(url, sizeof url, "%s/scep", c->b->mdm_url);
        plist_t p = add_payload(c, prof, "com.apple.security.scep", "identity", "MDM identity (SCEP)", uuid);
        plist_t s = plist_new_dict();
        dev_dict_set_str(s, "Challenge", pw);
        dev_dict_set_str(s, "Key Type", "RSA");
        dev_dict_set_uint(s, "Key Usage", 5);
        dev_dict_set_uint(s, "Keysize", 2048);
        dev_dict_set_str(s, "Name", "ferry-scep");
        plist_dict_set_item(s, "Subject", subject_cn(udid));
        dev_dict_set_str(s, "URL", url);
        plist_dict_set_item(p, "PayloadContent", s);
        return 0;
    }
    default: { /* ACME; hardware-bound keys must be EC 256/384 and may be attested (mdm.md §8) */
        int hw = t->identity == TI_ACME_HW;
        char cid[37];
        dev_uuid(c->b->o->seed, "acme:ClientIdentifier", cid);
        snprintf(url, sizeof url, "%s/acme/directory", c->b->mdm_url);
        plist_t p = add_payload(c, prof, "com.apple.security.acme", "identity", "MDM identity (ACME)", uuid);
        dev_dict_set_bool(p, "Attest", hw);
        dev_dict_set_str(p, "ClientIdentifier", cid);
        dev_dict_set_str(p, "DirectoryURL", url);
        plist_t eku = plist_new_array();
        plist_array_append_item(eku, plist_new_string("1.3.6.1.5.5.7.3.2"));
        plist_dict_set_item(p, "ExtendedKeyUsage", eku);
        dev_dict_set_bool(p, "HardwareBound", hw);
        dev_dict_set_uint(p, "KeySize", 384);
        dev_dict_set_str(p, "KeyType", "ECSECPrimeRandom");
        plist_dict_set_item(p, "Subject", subject_cn(udid));
        dev_dict_set_uint(p, "UsageFlags", 1);
        return 0;
    }
    }
}

static int enrollment_profile(ctx_t *c)
{
    const dev_template_t *t = c->b->t;
    ferry_device_t *d = c->b->dev;
    plist_t prof = new_profile(c, "mdm", "MDM Enrollment", d->IsSupervised);
    char ident[37], topic[80];
    int rc = identity_payload(c, prof, ident);
    if (rc) {
        plist_free(prof);
        return rc;
    }
    char tuuid[37];
    dev_uuid(c->b->o->seed, "mdm:Topic", tuuid);
    snprintf(topic, sizeof topic, "com.apple.mgmt.External.%s", tuuid);
    plist_t m = add_payload(c, prof, "com.apple.mdm", "mdm", "Mobile Device Management", NULL);
    int ue = t->enrollment == FERRY_ENROLL_UE_ACCOUNT;
    if (!ue)
        dev_dict_set_uint(m, "AccessRights", 8191);
    if (t->enrollment == FERRY_ENROLL_UE_ACCOUNT || t->enrollment == FERRY_ENROLL_DE_ACCOUNT) {
        dev_dict_set_str(m, "AssignedManagedAppleID", d->ManagedAppleAccount);
        dev_dict_set_str(m, "EnrollmentMode", ue ? "BYOD" : "ADDE");
    }
    dev_dict_set_str(m, "CheckInURL", c->b->mdm_url);
    dev_dict_set_bool(m, "CheckOutWhenRemoved", 1);
    dev_dict_set_str(m, "IdentityCertificateUUID", ident);
    plist_t caps = plist_new_array();
    plist_array_append_item(caps, plist_new_string("com.apple.mdm.bootstraptoken"));
    if (t->multi_user)
        plist_array_append_item(caps, plist_new_string("com.apple.mdm.per-user-connections"));
    plist_dict_set_item(m, "ServerCapabilities", caps);
    dev_dict_set_str(m, "ServerURL", c->b->mdm_url);
    dev_dict_set_bool(m, "SignMessage", 1);
    dev_dict_set_str(m, "Topic", topic);
    return install(c, prof, t->signed_enrollment ? FMT_SIGNED : FMT_XML, FERRY_SOURCE_ENROLLMENT);
}

/* "key=0,key=1" -> booleans of a com.apple.applicationaccess payload. */
static int restrictions(ctx_t *c, const char *spec, const char *suffix, const char *display, int fmt,
                        ferry_profile_source_t src)
{
    plist_t prof = new_profile(c, suffix, display, 0);
    plist_t p = add_payload(c, prof, "com.apple.applicationaccess", "restrictions", display, NULL);
    char *copy = strdup(spec), *save = NULL;
    if (!copy) {
        plist_free(prof);
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (eq) {
            *eq = 0;
            dev_dict_set_bool(p, tok, eq[1] == '1');
        }
    }
    free(copy);
    return install(c, prof, fmt, src);
}

static int extras(ctx_t *c, ferry_profile_source_t src)
{
    const dev_template_t *t = c->b->t;
    int rc = 0;
    char pw[25];
    if (t->extras & TX_WIFI) {
        plist_t prof = new_profile(c, "wifi", "Corporate Wi-Fi", 0);
        plist_t p = add_payload(c, prof, "com.apple.wifi.managed", "wifi", "Corporate Wi-Fi", NULL);
        secret(c, "wifi:password", pw);
        dev_dict_set_bool(p, "AutoJoin", 1);
        dev_dict_set_str(p, "EncryptionType", "WPA2");
        dev_dict_set_bool(p, "HIDDEN_NETWORK", 0);
        dev_dict_set_str(p, "Password", pw);
        dev_dict_set_str(p, "SSID_STR", t->multi_user ? "Springfield-Classroom" : "ACME-Corp");
        rc = install(c, prof, FMT_XML, src);
    }
    if (!rc && (t->extras & TX_VPN)) {
        plist_t prof = new_profile(c, "vpn", "Corporate VPN", 0);
        plist_t p = add_payload(c, prof, "com.apple.vpn.managed", "vpn", "Corporate VPN", NULL);
        plist_t ike = plist_new_dict();
        secret(c, "vpn:secret", pw);
        dev_dict_set_str(ike, "AuthenticationMethod", "SharedSecret");
        dev_dict_set_str(ike, "LocalIdentifier", "device.acme.example");
        dev_dict_set_str(ike, "RemoteAddress", "vpn.acme.example");
        dev_dict_set_str(ike, "RemoteIdentifier", "vpn.acme.example");
        dev_dict_set_str(ike, "SharedSecret", pw);
        plist_dict_set_item(p, "IKEv2", ike);
        dev_dict_set_str(p, "UserDefinedName", "ACME VPN");
        dev_dict_set_str(p, "VPNType", "IKEv2");
        rc = install(c, prof, FMT_XML, src);
    }
    if (!rc && (t->extras & TX_CERT)) {
        uint8_t *der = NULL;
        size_t len = 0;
        if (!(rc = dev_pki_cert_der(c->ca, &der, &len))) {
            plist_t prof = new_profile(c, "certificates", "Organisation certificates", 0);
            plist_t p = add_payload(c, prof, "com.apple.security.pkcs1", "ca", "Organisation CA", NULL);
            dev_dict_set_str(p, "PayloadCertificateFileName", "ca.cer");
            dev_dict_set_data(p, "PayloadContent", der, len);
            OPENSSL_free(der);
            rc = install(c, prof, FMT_XML, src);
        }
    }
    if (!rc && (t->extras & TX_FONT)) {
        uint8_t font[2048];
        dev_rng_t r;
        dev_rng_seed(&r, c->b->o->seed, "font:data");
        dev_rng_fill(&r, font, sizeof font);
        memcpy(font, "\x00\x01\x00\x00", 4); /* sfnt version 1.0: the start of a TrueType file */
        plist_t prof = new_profile(c, "font", "Corporate font", 0);
        plist_t p = add_payload(c, prof, "com.apple.font", "font", "ACME Sans", NULL);
        dev_dict_set_data(p, "Font", font, sizeof font);
        dev_dict_set_str(p, "Name", "ACMESans-Regular.ttf");
        rc = install(c, prof, FMT_BIN, src);
    }
    if (!rc && (t->extras & TX_WEBCLIP)) {
        plist_t prof = new_profile(c, "webclip", "Intranet", 0);
        plist_t p = add_payload(c, prof, "com.apple.webClip.managed", "webclip", "Intranet", NULL);
        dev_dict_set_bool(p, "FullScreen", 0);
        dev_dict_set_bool(p, "IsRemovable", !c->b->dev->IsSupervised);
        dev_dict_set_str(p, "Label", t->enrollment == FERRY_ENROLL_NONE ? "News" : "Intranet");
        dev_dict_set_str(p, "URL", t->enrollment == FERRY_ENROLL_NONE ? "https://news.example.com/"
                                                                      : "https://intranet.acme.example/");
        rc = install(c, prof, FMT_XML, src);
    }
    return rc;
}

int dev_template_profiles(dev_build_t *b)
{
    const dev_template_t *t = b->t;
    ctx_t c = {b, NULL, NULL, NULL};
    int rc = 0;
    if (t->identity == TI_PKCS12 || t->signed_enrollment || (t->extras & TX_CERT)) {
        rc = dev_pki_new(b->o->seed, &c.pki);
        if (!rc)
            rc = dev_pki_rsa(c.pki, 2048, &c.ca_key);
        if (!rc)
            rc = dev_pki_cert(c.ca_key, "ferry test CA (not trusted)", t->org_name, 1, 1, NULL, NULL, &c.ca);
    }
    ferry_profile_source_t src = t->enrollment == FERRY_ENROLL_NONE ? FERRY_SOURCE_MANUAL : FERRY_SOURCE_MDM;
    if (!rc && t->enrollment != FERRY_ENROLL_NONE)
        rc = enrollment_profile(&c);
    if (!rc && t->restrictions_a)
        rc = restrictions(&c, t->restrictions_a, "restrictions", "Restrictions", FMT_XML, src);
    if (!rc && t->restrictions_b)
        rc = restrictions(&c, t->restrictions_b, "restrictions.backup", "Backup restrictions", FMT_BIN, src);
    if (!rc)
        rc = extras(&c, src);
    X509_free(c.ca);
    EVP_PKEY_free(c.ca_key);
    dev_pki_free(c.pki);
    return rc;
}
