/*
 * sig.c: device identities and the Mdm-Signature header (spec/mdm.md §9.1): a base64 CMS SignedData,
 * detached, over the exact HTTP body, made and checked with OpenSSL 3's CMS. Verification proves only
 * that the holder of the signer certificate's key signed these bytes; whether that certificate is the
 * device's enrolled identity is the caller's decision (the server compares DER bytes). No chain is
 * built because ferry's identities are self-signed or ACME-style. Every size from outside is capped
 * before decoding, and every OpenSSL object is freed on every path.
 */
#include "ferry/mdm.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#define MAX_SIGNATURE_B64 (64u * 1024u)

struct ferry_mdm_identity {
    EVP_PKEY *key;
    X509 *cert;
};

static int ossl_fail(int code, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[256] = "";
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return ferry_error_set(code, "%s%s%s", what, buf[0] ? ": " : "", buf);
}

void ferry_mdm_identity_free(ferry_mdm_identity_t *id)
{
    if (!id)
        return;
    EVP_PKEY_free(id->key);
    X509_free(id->cert);
    free(id);
}

int ferry_mdm_identity_generate(const char *common_name, ferry_mdm_identity_t **out)
{
    *out = NULL;
    ferry_mdm_identity_t *id = calloc(1, sizeof *id);
    if (!id)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    id->key = EVP_EC_gen("P-256");
    id->cert = X509_new();
    if (!id->key || !id->cert)
        goto fail;
    uint8_t serial[16];
    if (ferry_random_bytes(serial, sizeof serial))
        goto fail;
    serial[0] &= 0x7f;
    BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
    int ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(id->cert)) != NULL;
    BN_free(bn);
    X509_NAME *name = X509_get_subject_name(id->cert);
    ok = ok && X509_set_version(id->cert, 2) &&
         X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                    (const unsigned char *)(common_name ? common_name : "ferry device"),
                                    -1, -1, 0) &&
         X509_set_issuer_name(id->cert, name) && X509_gmtime_adj(X509_getm_notBefore(id->cert), -3600) &&
         X509_gmtime_adj(X509_getm_notAfter(id->cert), 10L * 365 * 24 * 3600) &&
         X509_set_pubkey(id->cert, id->key) && X509_sign(id->cert, id->key, EVP_sha256());
    if (!ok)
        goto fail;
    *out = id;
    return 0;
fail:
    ferry_mdm_identity_free(id);
    return ossl_fail(FERRY_ECRYPTO, "cannot generate a device identity");
}

int ferry_mdm_identity_from_pem(const void *cert_pem, size_t cert_len, const void *key_pem,
                                size_t key_len, ferry_mdm_identity_t **out)
{
    *out = NULL;
    if (!cert_pem || !key_pem || cert_len > INT32_MAX || key_len > INT32_MAX)
        return ferry_error_set(FERRY_EINVAL, "identity PEM missing or too large");
    ferry_mdm_identity_t *id = calloc(1, sizeof *id);
    if (!id)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    BIO *b = BIO_new_mem_buf(cert_pem, (int)cert_len);
    id->cert = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    b = BIO_new_mem_buf(key_pem, (int)key_len);
    id->key = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    if (!id->cert || !id->key) {
        ferry_mdm_identity_free(id);
        return ossl_fail(FERRY_EFORMAT, "identity is not a PEM certificate and private key");
    }
    if (X509_check_private_key(id->cert, id->key) != 1) {
        ferry_mdm_identity_free(id);
        return ossl_fail(FERRY_EFORMAT, "identity private key does not match its certificate");
    }
    *out = id;
    return 0;
}

int ferry_mdm_identity_load(const char *cert_path, const char *key_path, ferry_mdm_identity_t **out)
{
    uint8_t *c = NULL, *k = NULL;
    size_t cl = 0, kl = 0;
    *out = NULL;
    int rc = ferry_file_read_all(cert_path, 1u << 20, &c, &cl);
    if (!rc)
        rc = ferry_file_read_all(key_path, 1u << 20, &k, &kl);
    if (!rc)
        rc = ferry_mdm_identity_from_pem(c, cl, k, kl, out);
    free(c);
    if (k) {
        ferry_wipe(k, kl);
        free(k);
    }
    return rc ? ferry_error_wrap(rc, "while loading the identity %s / %s", cert_path, key_path) : 0;
}

/* Takes ownership of cert and key (either may be NULL: then it fails and frees the other). */
static int identity_adopt(X509 *cert, EVP_PKEY *key, const char *what, ferry_mdm_identity_t **out)
{
    *out = NULL;
    if (!cert || !key) {
        X509_free(cert);
        EVP_PKEY_free(key);
        return ossl_fail(FERRY_EFORMAT, what);
    }
    if (X509_check_private_key(cert, key) != 1) {
        X509_free(cert);
        EVP_PKEY_free(key);
        return ossl_fail(FERRY_EFORMAT, "identity private key does not match its certificate");
    }
    ferry_mdm_identity_t *id = calloc(1, sizeof *id);
    if (!id) {
        X509_free(cert);
        EVP_PKEY_free(key);
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    id->cert = cert;
    id->key = key;
    *out = id;
    return 0;
}

int ferry_mdm_identity_from_der(const uint8_t *cert_der, size_t cert_len, const uint8_t *key_der,
                                size_t key_len, ferry_mdm_identity_t **out)
{
    *out = NULL;
    if (!cert_der || !key_der || cert_len > INT32_MAX || key_len > INT32_MAX)
        return ferry_error_set(FERRY_EINVAL, "identity DER missing or too large");
    const unsigned char *p = cert_der;
    X509 *cert = d2i_X509(NULL, &p, (long)cert_len);
    p = key_der;
    EVP_PKEY *key = d2i_AutoPrivateKey(NULL, &p, (long)key_len);
    return identity_adopt(cert, key, "identity is not a DER certificate and private key", out);
}

int ferry_mdm_identity_from_pkcs12(const uint8_t *blob, size_t len, const char *password,
                                   ferry_mdm_identity_t **out)
{
    *out = NULL;
    if (!blob || len > INT32_MAX)
        return ferry_error_set(FERRY_EINVAL, "PKCS#12 identity missing or too large");
    const unsigned char *p = blob;
    PKCS12 *p12 = d2i_PKCS12(NULL, &p, (long)len);
    if (!p12)
        return ossl_fail(FERRY_EFORMAT, "identity is not a PKCS#12 structure");
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    STACK_OF(X509) *ca = NULL;
    int ok = PKCS12_parse(p12, password ? password : "", &key, &cert, &ca);
    PKCS12_free(p12);
    sk_X509_pop_free(ca, X509_free);
    if (!ok) {
        X509_free(cert);
        EVP_PKEY_free(key);
        return ossl_fail(FERRY_EPASSWORD, "cannot open the PKCS#12 identity (wrong password?)");
    }
    return identity_adopt(cert, key, "PKCS#12 identity holds no certificate or no key", out);
}

int ferry_mdm_identity_key_der(const ferry_mdm_identity_t *id, uint8_t **der, size_t *len)
{
    *der = NULL;
    *len = 0;
    unsigned char *p = NULL;
    PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(id->key);
    int n = p8 ? i2d_PKCS8_PRIV_KEY_INFO(p8, &p) : -1;
    PKCS8_PRIV_KEY_INFO_free(p8);
    if (n <= 0)
        return ossl_fail(FERRY_ECRYPTO, "cannot encode the identity key");
    *der = malloc((size_t)n);
    if (*der) {
        memcpy(*der, p, (size_t)n);
        *len = (size_t)n;
    }
    OPENSSL_clear_free(p, (size_t)n);
    return *der ? 0 : ferry_error_set(FERRY_ENOMEM, "out of memory");
}

static int bio_to_string(BIO *b, char **out)
{
    char *p = NULL;
    long n = BIO_get_mem_data(b, &p);
    *out = NULL;
    if (n < 0 || !(*out = malloc((size_t)n + 1)))
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    memcpy(*out, p, (size_t)n);
    (*out)[n] = 0;
    return 0;
}

int ferry_mdm_identity_to_pem(const ferry_mdm_identity_t *id, char **cert_pem, char **key_pem)
{
    *cert_pem = *key_pem = NULL;
    BIO *c = BIO_new(BIO_s_mem()), *k = BIO_new(BIO_s_mem());
    int rc = 0;
    if (!c || !k || !PEM_write_bio_X509(c, id->cert) ||
        !PEM_write_bio_PrivateKey(k, id->key, NULL, NULL, 0, NULL, NULL))
        rc = ossl_fail(FERRY_ECRYPTO, "cannot write the identity as PEM");
    if (!rc && !(rc = bio_to_string(c, cert_pem)))
        rc = bio_to_string(k, key_pem);
    if (rc) {
        free(*cert_pem);
        free(*key_pem);
        *cert_pem = *key_pem = NULL;
    }
    BIO_free(c);
    if (k) {
        char *p = NULL;
        long n = BIO_get_mem_data(k, &p);
        if (p && n > 0)
            ferry_wipe(p, (size_t)n);
        BIO_free(k);
    }
    return rc;
}

static int x509_der(X509 *x, uint8_t **der, size_t *len)
{
    *der = NULL;
    *len = 0;
    unsigned char *p = NULL;
    int n = i2d_X509(x, &p);
    if (n <= 0)
        return ossl_fail(FERRY_ECRYPTO, "cannot encode a certificate");
    *der = malloc((size_t)n);
    if (!*der) {
        OPENSSL_free(p);
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    memcpy(*der, p, (size_t)n);
    OPENSSL_free(p);
    *len = (size_t)n;
    return 0;
}

int ferry_mdm_identity_cert_der(const ferry_mdm_identity_t *id, uint8_t **der, size_t *len)
{
    return x509_der(id->cert, der, len);
}

static int cms_to_der(CMS_ContentInfo *cms, uint8_t **der, size_t *len)
{
    unsigned char *p = NULL;
    int n = i2d_CMS_ContentInfo(cms, &p);
    if (n <= 0)
        return ossl_fail(FERRY_ECRYPTO, "cannot encode a CMS signature");
    *der = malloc((size_t)n);
    if (!*der) {
        OPENSSL_free(p);
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    memcpy(*der, p, (size_t)n);
    OPENSSL_free(p);
    *len = (size_t)n;
    return 0;
}

static int sign_cms(const ferry_mdm_identity_t *id, const void *body, size_t len, unsigned flags,
                    uint8_t **der, size_t *der_len)
{
    *der = NULL;
    *der_len = 0;
    if (!id || len > INT32_MAX)
        return ferry_error_set(FERRY_EINVAL, "nothing to sign with, or body too large");
    BIO *in = BIO_new_mem_buf(len ? body : "", (int)len);
    CMS_ContentInfo *cms = in ? CMS_sign(id->cert, id->key, NULL, in, flags | CMS_BINARY) : NULL;
    int rc = cms ? cms_to_der(cms, der, der_len) : ossl_fail(FERRY_ECRYPTO, "CMS signing failed");
    CMS_ContentInfo_free(cms);
    BIO_free(in);
    return rc;
}

int ferry_mdm_sign(const ferry_mdm_identity_t *id, const void *body, size_t len, char **b64_out)
{
    uint8_t *der;
    size_t n;
    *b64_out = NULL;
    int rc = sign_cms(id, body, len, CMS_DETACHED, &der, &n);
    if (rc)
        return rc;
    char *b64 = malloc(4 * ((n + 2) / 3) + 1);
    if (!b64) {
        free(der);
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    EVP_EncodeBlock((unsigned char *)b64, der, (int)n);
    free(der);
    *b64_out = b64;
    return 0;
}

int ferry_mdm_sign_attached(const ferry_mdm_identity_t *id, const void *body, size_t len,
                            uint8_t **der, size_t *der_len)
{
    return sign_cms(id, body, len, 0, der, der_len);
}

/* Decodes standard base64 (whitespace tolerated, padding honoured) into a malloc'd buffer. */
static int b64_decode(const char *b64, uint8_t **out, size_t *out_len)
{
    size_t n = strlen(b64);
    *out = NULL;
    if (n == 0 || n > MAX_SIGNATURE_B64)
        return ferry_error_set(FERRY_EFORMAT, "Mdm-Signature is empty or longer than %u bytes",
                               MAX_SIGNATURE_B64);
    char *clean = malloc(n + 1);
    uint8_t *buf = malloc(n);
    if (!clean || !buf) {
        free(clean);
        free(buf);
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (b64[i] != ' ' && b64[i] != '\t' && b64[i] != '\r' && b64[i] != '\n')
            clean[m++] = b64[i];
    clean[m] = 0;
    int got = (m % 4 == 0 && m > 0) ? EVP_DecodeBlock(buf, (unsigned char *)clean, (int)m) : -1;
    if (got < 0) {
        free(clean);
        free(buf);
        return ferry_error_set(FERRY_EFORMAT, "Mdm-Signature is not base64");
    }
    /* EVP_DecodeBlock counts padding as zero bytes. */
    if (m >= 1 && clean[m - 1] == '=')
        got--;
    if (m >= 2 && clean[m - 2] == '=')
        got--;
    free(clean);
    *out = buf;
    *out_len = (size_t)got;
    return 0;
}

/* Checks a parsed SignedData (detached content in dcont, or attached when dcont is NULL) and returns
 * the single signer's certificate DER and, for attached content, the content. */
static int cms_check(CMS_ContentInfo *cms, BIO *dcont, BIO *content_out, uint8_t **signer_der,
                     size_t *signer_len)
{
    if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed)
        return ferry_error_set(FERRY_EFORMAT, "signature is not a CMS SignedData");
    if (CMS_verify(cms, NULL, NULL, dcont, content_out, CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY) != 1)
        return ossl_fail(FERRY_ECRYPTO, "signature does not verify over the message");
    STACK_OF(X509) *signers = CMS_get0_signers(cms);
    int n = signers ? sk_X509_num(signers) : 0;
    int rc = 0;
    if (n != 1)
        rc = ferry_error_set(FERRY_EFORMAT, "signature has %d signers, expected exactly one", n);
    else if (signer_der)
        rc = x509_der(sk_X509_value(signers, 0), signer_der, signer_len);
    sk_X509_free(signers);
    return rc;
}

int ferry_mdm_verify(const char *b64, const void *body, size_t len, uint8_t **signer_der,
                     size_t *signer_len)
{
    *signer_der = NULL;
    *signer_len = 0;
    if (!b64)
        return ferry_error_set(FERRY_EINVAL, "message has no Mdm-Signature");
    if (len > INT32_MAX)
        return ferry_error_set(FERRY_ELIMIT, "message too large to verify");
    uint8_t *der = NULL;
    size_t der_len = 0;
    int rc = b64_decode(b64, &der, &der_len);
    if (rc)
        return rc;
    const unsigned char *p = der;
    CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)der_len);
    BIO *dcont = BIO_new_mem_buf(len ? body : "", (int)len);
    if (!cms)
        rc = ossl_fail(FERRY_EFORMAT, "Mdm-Signature is not a DER CMS structure");
    else if (!CMS_is_detached(cms))
        rc = ferry_error_set(FERRY_EFORMAT, "Mdm-Signature is not a detached signature");
    else if (!dcont)
        rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
    else
        rc = cms_check(cms, dcont, NULL, signer_der, signer_len);
    BIO_free(dcont);
    CMS_ContentInfo_free(cms);
    free(der);
    ERR_clear_error();
    return rc;
}

int ferry_mdm_verify_attached(const void *der, size_t der_len, uint8_t **content, size_t *len)
{
    *content = NULL;
    *len = 0;
    if (der_len > INT32_MAX)
        return ferry_error_set(FERRY_ELIMIT, "signed message too large");
    const unsigned char *p = der;
    CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)der_len);
    BIO *out = BIO_new(BIO_s_mem());
    int rc;
    if (!cms)
        rc = ossl_fail(FERRY_EFORMAT, "body is not a DER CMS structure");
    else if (CMS_is_detached(cms))
        rc = ferry_error_set(FERRY_EFORMAT, "signed body carries no content");
    else if (!out)
        rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
    else
        rc = cms_check(cms, NULL, out, NULL, NULL);
    if (!rc) {
        char *d = NULL;
        long n = BIO_get_mem_data(out, &d);
        if (n < 0 || !(*content = malloc((size_t)n + 1)))
            rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
        else {
            memcpy(*content, d, (size_t)n);
            (*content)[n] = 0;
            *len = (size_t)n;
        }
    }
    BIO_free(out);
    CMS_ContentInfo_free(cms);
    ERR_clear_error();
    return rc;
}
