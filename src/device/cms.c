/*
 * cms.c: signed configuration profiles. A signed .mobileconfig is DER CMS SignedData with the profile
 * embedded; the device checks that the signature matches the content and the certificate that signed
 * it, and shows whether the profile is signed and by whom, trusted or not. ferry does the same with
 * OpenSSL's CMS code (never by hand): the signer need not chain to a trusted root (an administrator's
 * self-signed test certificate is fine), but a signature that does not verify is refused, as a device
 * refuses a profile altered after signing.
 */
#include "device_internal.h"

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <stdlib.h>
#include <string.h>

static const char *ossl_reason(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    return r ? r : "unknown reason";
}

static char *subject_of(STACK_OF(X509) *signers)
{
    if (!signers || sk_X509_num(signers) < 1)
        return NULL;
    X509 *c = sk_X509_value(signers, 0);
    BIO *b = BIO_new(BIO_s_mem());
    if (!b)
        return NULL;
    char *out = NULL;
    if (X509_NAME_print_ex(b, X509_get_subject_name(c), 0, XN_FLAG_RFC2253) >= 0) {
        char *p = NULL;
        long n = BIO_get_mem_data(b, &p);
        out = malloc((size_t)n + 1);
        if (out) {
            memcpy(out, p, (size_t)n);
            out[n] = 0;
        }
    }
    BIO_free(b);
    return out;
}

int dev_cms_unwrap(const uint8_t *der, size_t len, const char *name, uint8_t **content, size_t *clen,
                   char **signer)
{
    *content = NULL;
    *clen = 0;
    *signer = NULL;
    if (len > INT32_MAX)
        return ferry_error_set(FERRY_ELIMIT, "%s: too large", name);
    ERR_clear_error();
    BIO *in = BIO_new_mem_buf(der, (int)len);
    BIO *out = BIO_new(BIO_s_mem());
    CMS_ContentInfo *cms = in ? d2i_CMS_bio(in, NULL) : NULL;
    int rc = 0;
    if (!in || !out)
        rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
    else if (!cms)
        rc = ferry_error_set(FERRY_EFORMAT, "%s: starts like DER but is not CMS signed data (%s)", name, ossl_reason());
    else if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed)
        rc = ferry_error_set(FERRY_EFORMAT, "%s: CMS content type is %s, not signed data", name,
                             OBJ_nid2sn(OBJ_obj2nid(CMS_get0_type(cms))));
    else if (CMS_is_detached(cms))
        rc = ferry_error_set(FERRY_EFORMAT, "%s: the CMS signature is detached; a signed profile embeds its content",
                             name);
    else if (sk_CMS_SignerInfo_num(CMS_get0_SignerInfos(cms)) < 1)
        rc = ferry_error_set(FERRY_EFORMAT, "%s: the CMS signed data has no signer", name);
    else if (CMS_verify(cms, NULL, NULL, NULL, out, CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY) != 1)
        rc = ferry_error_set(FERRY_ECRYPTO, "%s: the CMS signature does not verify against its signer certificate "
                             "(%s); the profile was changed after signing or is damaged", name, ossl_reason());
    if (!rc) {
        STACK_OF(X509) *signers = CMS_get0_signers(cms);
        *signer = subject_of(signers);
        sk_X509_free(signers);
        char *p = NULL;
        long n = BIO_get_mem_data(out, &p);
        *content = malloc(n > 0 ? (size_t)n : 1);
        if (!*content)
            rc = ferry_error_set(FERRY_ENOMEM, "out of memory");
        else {
            memcpy(*content, p, (size_t)(n > 0 ? n : 0));
            *clen = (size_t)(n > 0 ? n : 0);
        }
    }
    if (rc) {
        free(*signer);
        *signer = NULL;
    }
    CMS_ContentInfo_free(cms);
    BIO_free(in);
    BIO_free(out);
    ERR_clear_error();
    return rc;
}
