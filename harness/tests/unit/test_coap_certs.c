/*
 * test_coap_certs.c: a throw-away PKI for the CoAP driver's certificate
 * tests (see test_coap_server.h): two CAs, a server certificate for
 * 127.0.0.1 and a client certificate, EC P-256, written as PEM files.
 */
#include "test_coap_server.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>

struct issued {
    EVP_PKEY *key;
    X509 *cert;
};

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509_EXTENSION *ext;
    int ok;
    X509V3_set_ctx(&v3, issuer, cert, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    if (!ext)
        return 0;
    ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

/* A certificate for `cn` signed by `ca` (self-signed when ca is NULL). */
static int issue(const char *cn, const struct issued *ca, const char *san, long serial,
                 struct issued *out)
{
    X509_NAME *name;
    int ok;
    out->key = EVP_EC_gen("P-256");
    out->cert = X509_new();
    if (!out->key || !out->cert)
        return -1;
    name = X509_get_subject_name(out->cert);
    ok = X509_set_version(out->cert, 2) &&
         ASN1_INTEGER_set(X509_get_serialNumber(out->cert), serial) &&
         X509_gmtime_adj(X509_getm_notBefore(out->cert), -3600) &&
         X509_gmtime_adj(X509_getm_notAfter(out->cert), 86400L * 30) &&
         X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"assay tests",
                                    -1, -1, 0) &&
         X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
                                    0) &&
         X509_set_issuer_name(out->cert, ca ? X509_get_subject_name(ca->cert) : name) &&
         X509_set_pubkey(out->cert, out->key);
    if (ok && !ca)
        ok = add_ext(out->cert, out->cert, NID_basic_constraints, "critical,CA:TRUE") &&
             add_ext(out->cert, out->cert, NID_key_usage, "critical,keyCertSign,cRLSign");
    if (ok && ca && san)
        ok = add_ext(out->cert, ca->cert, NID_subject_alt_name, san);
    if (ok)
        ok = X509_sign(out->cert, ca ? ca->key : out->key, EVP_sha256()) > 0;
    return ok ? 0 : -1;
}

static void release(struct issued *i)
{
    EVP_PKEY_free(i->key);
    X509_free(i->cert);
}

static int write_pem(const char *dir, const char *file, const struct issued *i, bool key)
{
    char path[512];
    FILE *f;
    int ok;
    snprintf(path, sizeof path, "%s/%s", dir, file);
    f = fopen(path, "w");
    if (!f)
        return -1;
    ok = key ? PEM_write_PrivateKey(f, i->key, NULL, NULL, 0, NULL, NULL)
             : PEM_write_X509(f, i->cert);
    return fclose(f) == 0 && ok ? 0 : -1;
}

int test_coap_make_certs(const char *dir)
{
    struct issued ca = {0}, other = {0}, server = {0}, client = {0};
    int rc = issue("assay-test-ca", NULL, NULL, 1, &ca);
    if (rc == 0)
        rc = issue("assay-other-ca", NULL, NULL, 2, &other);
    if (rc == 0)
        rc = issue("coap-test-server", &ca, "IP:127.0.0.1", 3, &server);
    if (rc == 0)
        rc = issue("coap-test-client", &ca, "DNS:client.test", 4, &client);
    if (rc == 0)
        rc = write_pem(dir, "ca.pem", &ca, false) | write_pem(dir, "other-ca.pem", &other, false) |
             write_pem(dir, "server.pem", &server, false) |
             write_pem(dir, "server.key", &server, true) |
             write_pem(dir, "client.pem", &client, false) |
             write_pem(dir, "client.key", &client, true);
    release(&ca);
    release(&other);
    release(&server);
    release(&client);
    return rc ? -1 : 0;
}
