/*
 * pki.c: the keys, certificates, PKCS#12 identities and CMS signatures that templates put into
 * profiles, made deterministic so that a device created twice from the same seed is byte-identical,
 * signed profiles included. OpenSSL does all the cryptography; determinism comes from running it in
 * a private library context whose random generator is OpenSSL's TEST-RAND fed with bytes from the
 * seed. Consequences, stated in docs/device-format.md: these keys are predictable from the seed and
 * must never protect anything real; and the bytes can differ between OpenSSL versions (key generation
 * is free to change), though never between two runs of one build. Signatures are RSA PKCS#1 v1.5,
 * which is deterministic by itself, with a fixed signing time.
 */
#include "device_internal.h"

#include <openssl/cms.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#define ENTROPY_BYTES (1u << 20) /* per generator; RSA-2048 draws well under this */

struct dev_pki {
    OSSL_LIB_CTX *ctx;
};

static int ossl_fail(const char *what)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    ERR_clear_error();
    return ferry_error_set(FERRY_ECRYPTO, "%s failed (%s)", what, r ? r : "unknown reason");
}

static int feed(EVP_RAND_CTX *r, uint64_t seed, const char *label)
{
    uint8_t *buf = malloc(ENTROPY_BYTES);
    if (!buf)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    dev_rng_t g;
    dev_rng_seed(&g, seed, label);
    dev_rng_fill(&g, buf, ENTROPY_BYTES);
    unsigned int strength = 256;
    OSSL_PARAM p[3];
    p[0] = OSSL_PARAM_construct_octet_string(OSSL_RAND_PARAM_TEST_ENTROPY, buf, ENTROPY_BYTES);
    p[1] = OSSL_PARAM_construct_uint(OSSL_RAND_PARAM_STRENGTH, &strength);
    p[2] = OSSL_PARAM_construct_end();
    int ok = r && EVP_RAND_CTX_set_params(r, p);
    free(buf);
    return ok ? 0 : ossl_fail("seeding the deterministic generator");
}

int dev_pki_new(uint64_t seed, dev_pki_t **out)
{
    *out = NULL;
    dev_pki_t *p = calloc(1, sizeof *p);
    if (!p)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    p->ctx = OSSL_LIB_CTX_new();
    int rc = 0;
    if (!p->ctx || !RAND_set_DRBG_type(p->ctx, "TEST-RAND", NULL, NULL, NULL))
        rc = ossl_fail("creating the deterministic OpenSSL context");
    if (!rc)
        rc = feed(RAND_get0_primary(p->ctx), seed, "pki:primary");
    if (!rc)
        rc = feed(RAND_get0_public(p->ctx), seed, "pki:public");
    if (!rc)
        rc = feed(RAND_get0_private(p->ctx), seed, "pki:private");
    if (rc) {
        dev_pki_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

void dev_pki_free(dev_pki_t *p)
{
    if (!p)
        return;
    OSSL_LIB_CTX_free(p->ctx);
    free(p);
}

int dev_pki_rsa(dev_pki_t *p, int bits, EVP_PKEY **out)
{
    *out = EVP_PKEY_Q_keygen(p->ctx, NULL, "RSA", (size_t)bits);
    return *out ? 0 : ossl_fail("RSA key generation");
}

int dev_pki_ec(dev_pki_t *p, EVP_PKEY **out)
{
    *out = EVP_PKEY_Q_keygen(p->ctx, NULL, "EC", "P-256");
    return *out ? 0 : ossl_fail("EC key generation");
}

static int add_ext(X509 *c, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, issuer ? issuer : c, c, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    if (!e)
        return -1;
    int ok = X509_add_ext(c, e, -1);
    X509_EXTENSION_free(e);
    return ok ? 0 : -1;
}

int dev_pki_cert(EVP_PKEY *key, const char *cn, const char *org, uint64_t serial, int is_ca, X509 *issuer,
                 EVP_PKEY *issuer_key, X509 **out)
{
    *out = NULL;
    X509 *c = X509_new();
    ASN1_INTEGER *sn = ASN1_INTEGER_new();
    int ok = c && sn && X509_set_version(c, 2) && ASN1_INTEGER_set_uint64(sn, serial) &&
             X509_set_serialNumber(c, sn) && ASN1_TIME_set(X509_getm_notBefore(c), DEV_BASE_TIME - 86400) &&
             ASN1_TIME_set(X509_getm_notAfter(c), DEV_BASE_TIME + 10LL * 365 * 86400);
    X509_NAME *n = ok ? X509_get_subject_name(c) : NULL;
    ok = ok && X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)org, -1, -1, 0) &&
         X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) &&
         X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : n) && X509_set_pubkey(c, key);
    ok = ok && !add_ext(c, issuer, NID_basic_constraints, is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE") &&
         !add_ext(c, issuer, NID_key_usage, is_ca ? "critical,keyCertSign,cRLSign,digitalSignature"
                                                  : "critical,digitalSignature,keyEncipherment") &&
         !add_ext(c, issuer, NID_subject_key_identifier, "hash");
    ok = ok && X509_sign(c, issuer_key ? issuer_key : key, EVP_sha256()) > 0;
    ASN1_INTEGER_free(sn);
    if (!ok) {
        X509_free(c);
        return ossl_fail("building a certificate");
    }
    *out = c;
    return 0;
}

int dev_pki_cert_der(X509 *c, uint8_t **der, size_t *len)
{
    unsigned char *b = NULL;
    int n = i2d_X509(c, &b);
    if (n <= 0)
        return ossl_fail("encoding a certificate");
    *der = b;
    *len = (size_t)n;
    return 0;
}

int dev_pki_pkcs12(dev_pki_t *p, EVP_PKEY *key, X509 *cert, const char *password, const char *name,
                   uint8_t **der, size_t *len)
{
    PKCS12 *p12 = PKCS12_create_ex(password, name, key, cert, NULL, 0, 0, 0, 0, 0, p->ctx, NULL);
    if (!p12)
        return ossl_fail("building a PKCS#12 identity");
    unsigned char *b = NULL;
    int n = i2d_PKCS12(p12, &b);
    PKCS12_free(p12);
    if (n <= 0)
        return ossl_fail("encoding a PKCS#12 identity");
    *der = b;
    *len = (size_t)n;
    return 0;
}

int dev_pki_cms_sign(dev_pki_t *p, const uint8_t *content, size_t len, X509 *cert, EVP_PKEY *key,
                     uint8_t **out, size_t *outlen)
{
    *out = NULL;
    BIO *in = BIO_new_mem_buf(content, (int)len);
    CMS_ContentInfo *cms = CMS_sign_ex(NULL, NULL, NULL, NULL, CMS_PARTIAL | CMS_BINARY, p->ctx, NULL);
    CMS_SignerInfo *si = cms ? CMS_add1_signer(cms, cert, key, EVP_sha256(), CMS_BINARY | CMS_NOSMIMECAP) : NULL;
    ASN1_TIME *t = ASN1_TIME_set(NULL, DEV_BASE_TIME);
    int ok = in && si && t &&
             CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime, t->type, t, -1) && /* fixed: determinism */
             CMS_final(cms, in, NULL, CMS_BINARY);
    unsigned char *b = NULL;
    int n = ok ? i2d_CMS_ContentInfo(cms, &b) : 0;
    ASN1_TIME_free(t);
    CMS_ContentInfo_free(cms);
    BIO_free(in);
    if (n <= 0)
        return ossl_fail("signing a profile");
    *out = b;
    *outlen = (size_t)n;
    return 0;
}
