/*
 * test_mdm_sig.c: Mdm-Signature (CMS detached, base64) and the attached CMS of MachineInfo: a
 * signature verifies over exactly the signed bytes and names its signer; tampered bodies, other
 * bodies, garbage and truncated signatures are refused; identities survive a PEM round trip.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include "ferry/mdm.h"

static const char BODY[] = "<?xml version=\"1.0\"?><plist version=\"1.0\"><dict><key>Status</key>"
                           "<string>Idle</string></dict></plist>";

static void test_sign_verify_names_signer(void **state)
{
    ferry_mdm_identity_t *id;
    assert_int_equal(ferry_mdm_identity_generate("dev-1", &id), 0);
    char *sig;
    assert_int_equal(ferry_mdm_sign(id, BODY, strlen(BODY), &sig), 0);
    assert_null(strchr(sig, '\n'));
    uint8_t *signer, *mine;
    size_t signer_len, mine_len;
    assert_int_equal(ferry_mdm_verify(sig, BODY, strlen(BODY), &signer, &signer_len), 0);
    assert_int_equal(ferry_mdm_identity_cert_der(id, &mine, &mine_len), 0);
    assert_int_equal(signer_len, mine_len);
    assert_memory_equal(signer, mine, mine_len);
    free(signer);
    free(mine);
    free(sig);
    ferry_mdm_identity_free(id);
}

static void test_tampered_and_garbage_refused(void **state)
{
    ferry_mdm_identity_t *id;
    assert_int_equal(ferry_mdm_identity_generate("dev-2", &id), 0);
    char *sig;
    assert_int_equal(ferry_mdm_sign(id, BODY, strlen(BODY), &sig), 0);
    char *body = strdup(BODY);
    body[60] ^= 1;
    uint8_t *signer = NULL;
    size_t n;
    assert_int_not_equal(ferry_mdm_verify(sig, body, strlen(body), &signer, &n), 0);
    assert_null(signer);
    assert_int_not_equal(ferry_mdm_verify(sig, BODY, strlen(BODY) - 1, &signer, &n), 0);
    assert_int_not_equal(ferry_mdm_verify("not base64 !!", BODY, strlen(BODY), &signer, &n), 0);
    assert_int_not_equal(ferry_mdm_verify("", BODY, strlen(BODY), &signer, &n), 0);
    assert_int_not_equal(ferry_mdm_verify("AAAA", BODY, strlen(BODY), &signer, &n), 0);
    sig[strlen(sig) / 2] = 0; /* truncated */
    assert_int_not_equal(ferry_mdm_verify(sig, BODY, strlen(BODY), &signer, &n), 0);
    assert_null(signer);
    free(body);
    free(sig);
    ferry_mdm_identity_free(id);
}

static void test_attached_roundtrip(void **state)
{
    ferry_mdm_identity_t *id;
    assert_int_equal(ferry_mdm_identity_generate("dev-3", &id), 0);
    uint8_t *der, *content;
    size_t der_len, len;
    assert_int_equal(ferry_mdm_sign_attached(id, BODY, strlen(BODY), &der, &der_len), 0);
    assert_int_equal(ferry_mdm_verify_attached(der, der_len, &content, &len), 0);
    assert_int_equal(len, strlen(BODY));
    assert_memory_equal(content, BODY, len);
    free(content);
    der[der_len - 3] ^= 0x55; /* inside the signature value */
    assert_int_not_equal(ferry_mdm_verify_attached(der, der_len, &content, &len), 0);
    assert_int_not_equal(ferry_mdm_verify_attached(der, 10, &content, &len), 0);
    free(der);
    ferry_mdm_identity_free(id);
}

static void test_identity_pem_roundtrip(void **state)
{
    ferry_mdm_identity_t *id, *back, *other;
    assert_int_equal(ferry_mdm_identity_generate("dev-4", &id), 0);
    assert_int_equal(ferry_mdm_identity_generate("dev-5", &other), 0);
    char *cert, *key, *cert2, *key2;
    assert_int_equal(ferry_mdm_identity_to_pem(id, &cert, &key), 0);
    assert_int_equal(ferry_mdm_identity_to_pem(other, &cert2, &key2), 0);
    assert_int_equal(ferry_mdm_identity_from_pem(cert, strlen(cert), key, strlen(key), &back), 0);
    /* a key that is not the certificate's is refused */
    ferry_mdm_identity_t *mixed = NULL;
    assert_int_equal(ferry_mdm_identity_from_pem(cert, strlen(cert), key2, strlen(key2), &mixed),
                     FERRY_EFORMAT);
    assert_null(mixed);
    uint8_t *a, *b;
    size_t al, bl;
    assert_int_equal(ferry_mdm_identity_cert_der(id, &a, &al), 0);
    assert_int_equal(ferry_mdm_identity_cert_der(back, &b, &bl), 0);
    assert_int_equal(al, bl);
    assert_memory_equal(a, b, al);
    free(a);
    free(b);
    free(cert);
    free(key);
    free(cert2);
    free(key2);
    ferry_mdm_identity_free(id);
    ferry_mdm_identity_free(back);
    ferry_mdm_identity_free(other);
}

static void test_identity_der_and_pkcs12(void **state)
{
    ferry_mdm_identity_t *id, *back = NULL;
    assert_int_equal(ferry_mdm_identity_generate("dev-6", &id), 0);
    uint8_t *cert, *key;
    size_t cl, kl;
    assert_int_equal(ferry_mdm_identity_cert_der(id, &cert, &cl), 0);
    assert_int_equal(ferry_mdm_identity_key_der(id, &key, &kl), 0);
    assert_int_equal(ferry_mdm_identity_from_der(cert, cl, key, kl, &back), 0);
    /* what one signs, the other's certificate names */
    char *sig;
    uint8_t *signer;
    size_t sl;
    assert_int_equal(ferry_mdm_sign(back, BODY, strlen(BODY), &sig), 0);
    assert_int_equal(ferry_mdm_verify(sig, BODY, strlen(BODY), &signer, &sl), 0);
    assert_int_equal(sl, cl);
    assert_memory_equal(signer, cert, cl);
    free(sig);
    free(signer);
    ferry_mdm_identity_free(back);
    back = NULL;
    assert_int_equal(ferry_mdm_identity_from_der(cert, cl, cert, cl, &back), FERRY_EFORMAT);
    assert_null(back);
    /* PKCS#12 made with OpenSSL (as a pkcs12 payload would carry it) */
    const unsigned char *p = cert;
    X509 *x = d2i_X509(NULL, &p, (long)cl);
    p = key;
    EVP_PKEY *k = d2i_AutoPrivateKey(NULL, &p, (long)kl);
    PKCS12 *p12 = PKCS12_create("secret", "dev-6", k, x, NULL, 0, 0, 0, 0, 0);
    assert_non_null(p12);
    unsigned char *blob = NULL;
    int bl = i2d_PKCS12(p12, &blob);
    assert_true(bl > 0);
    assert_int_equal(ferry_mdm_identity_from_pkcs12(blob, (size_t)bl, "secret", &back), 0);
    ferry_mdm_identity_free(back);
    back = NULL;
    assert_int_equal(ferry_mdm_identity_from_pkcs12(blob, (size_t)bl, "wrong", &back), FERRY_EPASSWORD);
    assert_null(back);
    assert_int_equal(ferry_mdm_identity_from_pkcs12(blob, 10, "secret", &back), FERRY_EFORMAT);
    OPENSSL_free(blob);
    PKCS12_free(p12);
    X509_free(x);
    EVP_PKEY_free(k);
    free(cert);
    free(key);
    ferry_mdm_identity_free(id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_verify_names_signer),
        cmocka_unit_test(test_tampered_and_garbage_refused),
        cmocka_unit_test(test_attached_roundtrip),
        cmocka_unit_test(test_identity_pem_roundtrip),
        cmocka_unit_test(test_identity_der_and_pkcs12),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
