/*
 * coap_cert.c: certificate material for the CoAP driver's PKI probe (see
 * coap_internal.h): loading PEM text or files, describing the certificate a
 * server presented, and verifying its chain against a CA after the handshake.
 */
#include "coap_internal.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PEM_BEGIN "-----BEGIN"

static int read_file(const char *path, char **out, size_t *len, struct assay_error *err)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t n;
    if (!f)
        return assay_fail(err, ASSAY_EIO, "coap: cannot open '%s'", path);
    buf = malloc(COAPDRV_PEM_MAX + 1);
    if (!buf) {
        fclose(f);
        return assay_fail(err, ASSAY_ENOMEM, "coap: out of memory reading '%s'", path);
    }
    n = fread(buf, 1, COAPDRV_PEM_MAX + 1, f);
    fclose(f);
    if (n > COAPDRV_PEM_MAX) {
        free(buf);
        return assay_fail(err, ASSAY_EIO, "coap: '%s' is larger than %u bytes", path,
                          COAPDRV_PEM_MAX);
    }
    buf[n] = 0;
    *out = buf;
    *len = n;
    return 0;
}

int coapdrv_pem_load(const char *spec, char **out, size_t *len, struct assay_error *err)
{
    int rc;
    *out = NULL;
    *len = 0;
    if (strncmp(spec, PEM_BEGIN, strlen(PEM_BEGIN)) == 0) {
        size_t n = strlen(spec);
        if (n > COAPDRV_PEM_MAX)
            return assay_fail(err, ASSAY_EIO, "coap: PEM text larger than %u bytes",
                              COAPDRV_PEM_MAX);
        *out = malloc(n + 1);
        if (!*out)
            return assay_fail(err, ASSAY_ENOMEM, "coap: out of memory for PEM text");
        memcpy(*out, spec, n + 1);
        *len = n;
        return 0;
    }
    rc = read_file(spec, out, len, err);
    if (rc == 0 && !strstr(*out, PEM_BEGIN)) {
        free(*out);
        *out = NULL;
        *len = 0;
        return assay_fail(err, ASSAY_EIO, "coap: '%s' holds no PEM block", spec);
    }
    return rc;
}

/* Prints a name as RFC 2253 and replaces anything not printable ASCII by '?'. */
static void name_text(const X509_NAME *name, char *out, size_t cap)
{
    BIO *b = BIO_new(BIO_s_mem());
    int n;
    out[0] = 0;
    if (!b)
        return;
    X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    n = BIO_read(b, out, (int)cap - 1);
    out[n > 0 ? n : 0] = 0;
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
            *p = '?';
    BIO_free(b);
}

static void time_text(const ASN1_TIME *t, char *out, size_t cap)
{
    struct tm tm;
    out[0] = 0;
    if (t && ASN1_TIME_to_tm(t, &tm) == 1)
        strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *key_type(const EVP_PKEY *pk)
{
    switch (EVP_PKEY_get_base_id(pk)) {
    case EVP_PKEY_RSA: return "RSA";
    case EVP_PKEY_RSA_PSS: return "RSA-PSS";
    case EVP_PKEY_EC: return "EC";
    case EVP_PKEY_DSA: return "DSA";
    case EVP_PKEY_ED25519: return "ED25519";
    case EVP_PKEY_ED448: return "ED448";
    default: return "other";
    }
}

void coapdrv_cert_describe(X509 *x, struct coapdrv_cert *out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    const EVP_PKEY *pk = X509_get0_pubkey(x);
    int sig = X509_get_signature_nid(x);
    memset(out, 0, sizeof *out);
    name_text(X509_get_subject_name(x), out->subject, sizeof out->subject);
    name_text(X509_get_issuer_name(x), out->issuer, sizeof out->issuer);
    time_text(X509_get0_notBefore(x), out->not_before, sizeof out->not_before);
    time_text(X509_get0_notAfter(x), out->not_after, sizeof out->not_after);
    if (pk) {
        snprintf(out->key_type, sizeof out->key_type, "%s", key_type(pk));
        out->key_bits = EVP_PKEY_get_bits(pk);
    }
    snprintf(out->sig_alg, sizeof out->sig_alg, "%s",
             sig != NID_undef ? OBJ_nid2ln(sig) : "unknown");
    out->self_signed = X509_check_issued(x, x) == X509_V_OK;
    if (X509_digest(x, EVP_sha256(), md, &mdlen) == 1)
        for (unsigned i = 0; i < mdlen && 2 * i + 2 < sizeof out->sha256; i++)
            snprintf(out->sha256 + 2 * i, 3, "%02x", md[i]);
}

/* The leaf names the host: an IP subjectAltName, or else a CN equal to it. */
static bool names_host(X509 *leaf, const char *host)
{
    char cn[256];
    if (X509_check_ip_asc(leaf, host, 0) == 1)
        return true;
    return X509_NAME_get_text_by_NID(X509_get_subject_name(leaf), NID_commonName, cn, sizeof cn) >
               0 &&
           strcmp(cn, host) == 0;
}

/* A store holding every certificate of ca_pem. Returns 0, ASSAY_EIO or ASSAY_ENOMEM. */
static int load_store(const char *ca_pem, size_t ca_len, X509_STORE **out, struct assay_error *err)
{
    BIO *b = BIO_new_mem_buf(ca_pem, (int)ca_len);
    X509_STORE *st = X509_STORE_new();
    X509 *x;
    int n = 0;
    if (!b || !st) {
        BIO_free(b);
        X509_STORE_free(st);
        return assay_fail(err, ASSAY_ENOMEM, "coap: out of memory for a CA store");
    }
    while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
        n += X509_STORE_add_cert(st, x) == 1;
        X509_free(x);
    }
    ERR_clear_error();
    BIO_free(b);
    if (n == 0) {
        X509_STORE_free(st);
        return assay_fail(err, ASSAY_EIO, "coap: the CA holds no readable certificate");
    }
    *out = st;
    return 0;
}

int coapdrv_cert_verify(const char *ca_pem, size_t ca_len, X509 *leaf, STACK_OF(X509) * chain,
                        const char *host, struct coapdrv_dtls_result *res, struct assay_error *err)
{
    X509_STORE *st = NULL;
    X509_STORE_CTX *ctx;
    int rc;
    if (!leaf)
        return 0;
    res->name_matches = names_host(leaf, host);
    if (!ca_pem)
        return 0;
    rc = load_store(ca_pem, ca_len, &st, err);
    if (rc)
        return rc;
    ctx = X509_STORE_CTX_new();
    if (!ctx || X509_STORE_CTX_init(ctx, st, leaf, chain) != 1) {
        X509_STORE_CTX_free(ctx);
        X509_STORE_free(st);
        return assay_fail(err, ASSAY_ENOMEM, "coap: cannot set up certificate verification");
    }
    res->ca_checked = true;
    res->verified = X509_verify_cert(ctx) == 1;
    if (!res->verified)
        snprintf(res->verify_error, sizeof res->verify_error, "%s",
                 X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(st);
    ERR_clear_error();
    return 0;
}
