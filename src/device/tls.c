/*
 * tls.c: the emulated device's key pair and the server side of lockdownd's session TLS (§6.6), with
 * OpenSSL 3. The device key is created once and kept in <state>/<udid>/device_key.pem (0600) so that
 * the DevicePublicKey a host paired with stays valid across restarts of the emulator. The device is
 * the TLS server; hosts never verify its certificate, so a self-signed one is enough. Security level 0
 * and TLS 1.0 as the floor keep hosts that believe the device runs iOS < 10 (TLS 1.0 only) working.
 */
#include "serve_internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

static int ossl_fail(const char *what, const char *udid)
{
    unsigned long e = ERR_get_error();
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return ferry_error_set(FERRY_ECRYPTO, "%s for device %s failed: %s", what, udid, buf);
}

static int load_or_create_key(emu_device_t *d)
{
    char *path = ferry_path_join(d->state_dir, "device_key.pem");
    if (!path)
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    int rc = 0;
    FILE *f = fopen(path, "r");
    if (f) {
        d->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
        fclose(f);
        if (!d->key)
            rc = ferry_error_set(FERRY_EFORMAT, "%s is not a PEM private key: remove it to get a new one "
                                 "(hosts then have to pair again)", path);
        free(path);
        return rc;
    }
    d->key = EVP_RSA_gen(2048);
    if (!d->key) {
        free(path);
        return ossl_fail("generating the device key", d->udid);
    }
    BIO *mem = BIO_new(BIO_s_mem());
    if (!mem || !PEM_write_bio_PrivateKey(mem, d->key, NULL, NULL, 0, NULL, NULL)) {
        BIO_free(mem);
        free(path);
        return ossl_fail("encoding the device key", d->udid);
    }
    char *pem;
    long n = BIO_get_mem_data(mem, &pem);
    rc = ferry_file_write_atomic(path, pem, (size_t)n, 0600);
    BIO_free(mem);
    free(path);
    return rc;
}

static int make_cert(emu_device_t *d)
{
    X509 *x = X509_new();
    if (!x)
        return ossl_fail("creating the device certificate", d->udid);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -86400);
    X509_gmtime_adj(X509_getm_notAfter(x), 10L * 365 * 86400);
    X509_set_pubkey(x, d->key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)"ferry emulated device", -1,
                               -1, 0);
    X509_set_issuer_name(x, name);
    if (!X509_sign(x, d->key, EVP_sha256())) {
        X509_free(x);
        return ossl_fail("signing the device certificate", d->udid);
    }
    d->cert = x;
    return 0;
}

/* DevicePublicKey is PKCS#1 ("BEGIN RSA PUBLIC KEY"): the host reads it with PEM_read_bio_RSAPublicKey. */
static int make_pubkey_pem(emu_device_t *d)
{
    OSSL_ENCODER_CTX *ctx =
        OSSL_ENCODER_CTX_new_for_pkey(d->key, EVP_PKEY_PUBLIC_KEY, "PEM", "type-specific", NULL);
    unsigned char *out = NULL;
    size_t len = 0;
    if (!ctx || !OSSL_ENCODER_to_data(ctx, &out, &len)) {
        OSSL_ENCODER_CTX_free(ctx);
        return ossl_fail("encoding DevicePublicKey", d->udid);
    }
    OSSL_ENCODER_CTX_free(ctx);
    d->pubkey_pem = malloc(len + 1);
    if (!d->pubkey_pem) {
        OPENSSL_free(out);
        return ferry_error_set(FERRY_ENOMEM, "out of memory");
    }
    memcpy(d->pubkey_pem, out, len);
    d->pubkey_pem[len] = '\0';
    OPENSSL_free(out);
    return 0;
}

static int make_ctx(emu_device_t *d)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx)
        return ossl_fail("creating the TLS context", d->udid);
    SSL_CTX_set_security_level(ctx, 0);
    SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
    SSL_CTX_set_cipher_list(ctx, "ALL:@SECLEVEL=0");
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    if (SSL_CTX_use_certificate(ctx, d->cert) != 1 || SSL_CTX_use_PrivateKey(ctx, d->key) != 1) {
        SSL_CTX_free(ctx);
        return ossl_fail("loading the device certificate", d->udid);
    }
    d->ssl_ctx = ctx;
    return 0;
}

int emu_tls_device_init(emu_device_t *d)
{
    int rc;
    if ((rc = load_or_create_key(d)) || (rc = make_cert(d)) || (rc = make_pubkey_pem(d)) || (rc = make_ctx(d)))
        return rc;
    return 0;
}

void emu_tls_device_free(emu_device_t *d)
{
    SSL_CTX_free(d->ssl_ctx);
    X509_free(d->cert);
    EVP_PKEY_free(d->key);
    free(d->pubkey_pem);
    d->ssl_ctx = NULL;
    d->cert = NULL;
    d->key = NULL;
    d->pubkey_pem = NULL;
}

int emu_tls_accept(emu_conn_t *c)
{
    if (c->mem)
        return 0; /* an in-memory session stays plain: the bytes after StartSession are the requests */
    SSL *ssl = SSL_new(c->dev->ssl_ctx);
    if (!ssl || SSL_set_fd(ssl, c->fd) != 1) {
        SSL_free(ssl);
        return ossl_fail("starting the session TLS", c->dev->udid);
    }
    if (SSL_accept(ssl) != 1) {
        SSL_free(ssl);
        return ossl_fail("the session TLS handshake", c->dev->udid);
    }
    c->ssl = ssl;
    return 0;
}

/* The host sends close_notify and closes without waiting (§6.6): ours may fail, which is fine. */
void emu_tls_close(emu_conn_t *c)
{
    if (!c->ssl)
        return;
    SSL_shutdown(c->ssl);
    SSL_free(c->ssl);
    ERR_clear_error();
    c->ssl = NULL;
}
