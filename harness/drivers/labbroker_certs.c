/*
 * labbroker_certs.c: the lab broker's trusted and untrusted server
 * certificates (OpenSSL 3 EVP and X509). See labbroker_certs.h.
 */
#include "drivers/labbroker_certs.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define VALID_DAYS 30

static int ssl_fail(struct assay_error *err, int code, const char *what)
{
    char detail[256] = "";
    unsigned long e = ERR_get_error();
    if (e != 0)
        ERR_error_string_n(e, detail, sizeof(detail));
    ERR_clear_error();
    return assay_fail(err, code, "lab broker certificate: %s%s%s", what, detail[0] ? ": " : "",
                      detail);
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext)
        return -1;
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

/* A leaf certificate for `address`, signed by issuer_key (self-signed when issuer is NULL). */
static X509 *make_leaf(EVP_PKEY *key, const char *cn, const char *address, X509 *issuer,
                       EVP_PKEY *issuer_key)
{
    X509 *x = X509_new();
    unsigned char serial[16];
    char san[128];
    if (!x || RAND_bytes(serial, sizeof(serial)) != 1)
        goto fail;
    serial[0] &= 0x7f; /* a positive serial number */
    BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
    int ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
    BN_free(bn);
    X509_NAME *name = X509_get_subject_name(x);
    snprintf(san, sizeof(san), "IP:%s,DNS:localhost", address);
    if (!ok || !X509_set_version(x, 2) || !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), (long)VALID_DAYS * 86400) ||
        !X509_set_pubkey(x, key) ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
                                    0) ||
        !X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name))
        goto fail;
    X509 *signer = issuer ? issuer : x;
    if (add_ext(x, signer, NID_basic_constraints, "critical,CA:FALSE") ||
        add_ext(x, signer, NID_key_usage, "critical,digitalSignature,keyAgreement") ||
        add_ext(x, signer, NID_ext_key_usage, "serverAuth") ||
        add_ext(x, signer, NID_subject_alt_name, san) ||
        add_ext(x, signer, NID_subject_key_identifier, "hash") ||
        (issuer && add_ext(x, signer, NID_authority_key_identifier, "keyid:always")))
        goto fail;
    if (!X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()))
        goto fail;
    return x;
fail:
    X509_free(x);
    return NULL;
}

static int write_pair(const char *dir, const char *stem, X509 *x, EVP_PKEY *key,
                      struct labcert_pair *out, struct assay_error *err)
{
    snprintf(out->cert, sizeof(out->cert), "%s/%s.crt", dir, stem);
    snprintf(out->key, sizeof(out->key), "%s/%s.key", dir, stem);
    FILE *c = fopen(out->cert, "w");
    int fd = open(out->key, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *k = fd >= 0 ? fdopen(fd, "w") : NULL;
    int ok =
        c && k && PEM_write_X509(c, x) && PEM_write_PrivateKey(k, key, NULL, NULL, 0, NULL, NULL);
    if (c && fclose(c) != 0)
        ok = 0;
    if (k && fclose(k) != 0)
        ok = 0;
    else if (!k && fd >= 0)
        close(fd);
    if (!ok)
        return ssl_fail(err, ASSAY_EIO, out->cert);
    return 0;
}

int labcert_untrusted(const char *dir, const char *address, struct labcert_pair *out,
                      struct assay_error *err)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    if (!key)
        return ssl_fail(err, ASSAY_EIO, "key generation");
    X509 *x = make_leaf(key, "assay lab broker (untrusted)", address, NULL, NULL);
    int rc = x ? write_pair(dir, "untrusted", x, key, out, err)
               : ssl_fail(err, ASSAY_EINVAL, "self-signed certificate");
    X509_free(x);
    EVP_PKEY_free(key);
    return rc;
}

static X509 *read_cert(const char *path)
{
    FILE *f = fopen(path, "r");
    X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    return x;
}

static EVP_PKEY *read_key(const char *path)
{
    FILE *f = fopen(path, "r");
    EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    return k;
}

/* The directory part of path into buf ("." when there is none). */
static void dir_of(const char *path, char *buf, size_t size)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(buf, size, ".");
    else if (slash == path)
        snprintf(buf, size, "/");
    else
        snprintf(buf, size, "%.*s", (int)(slash - path), path);
}

int labcert_trusted(const char *dir, const char *ca_file, const char *address,
                    struct labcert_pair *out, int *issued, struct assay_error *err)
{
    char cadir[LABCERT_PATH_MAX - 32], path[LABCERT_PATH_MAX + 16];
    dir_of(ca_file, cadir, sizeof(cadir));
    snprintf(path, sizeof(path), "%s/ca.key", cadir);
    *issued = 0;
    if (access(path, R_OK) == 0) {
        X509 *ca = read_cert(ca_file);
        EVP_PKEY *cakey = read_key(path);
        EVP_PKEY *key = ca && cakey ? EVP_EC_gen("P-256") : NULL;
        X509 *x = key ? make_leaf(key, "assay lab broker", address, ca, cakey) : NULL;
        int rc = x ? write_pair(dir, "trusted", x, key, out, err)
                   : ssl_fail(err, ASSAY_EINVAL, "cannot issue a certificate from the lab CA");
        if (rc == 0 && X509_check_private_key(ca, cakey) != 1)
            rc = ssl_fail(err, ASSAY_EINVAL, "ca.key does not belong to the lab CA");
        X509_free(x);
        EVP_PKEY_free(key);
        EVP_PKEY_free(cakey);
        X509_free(ca);
        *issued = rc == 0;
        return rc;
    }
    snprintf(out->cert, sizeof(out->cert), "%s/server.crt", cadir);
    snprintf(out->key, sizeof(out->key), "%s/server.key", cadir);
    if (access(out->cert, R_OK) != 0 || access(out->key, R_OK) != 0)
        return assay_fail(err, ASSAY_EINVAL,
                          "lab CA %s: neither ca.key nor server.crt and server.key beside it",
                          ca_file);
    return 0;
}
