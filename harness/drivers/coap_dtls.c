/*
 * coap_dtls.c: DTLS handshake probes for the CoAP driver (see coap.h): does
 * the device offer DTLS, does it accept these credentials (a PSK, or
 * certificates), what was negotiated (protocol version and cipher suite, read
 * from OpenSSL) and which certificate the server presented.
 */
#include "coap_internal.h"

#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *coapdrv_dtls_state_name(enum coapdrv_dtls_state s)
{
    static const char *const names[] = {"established", "rejected", "silent", "unreachable"};
    return (unsigned)s < sizeof names / sizeof *names ? names[s] : "unknown";
}

static void read_negotiated(const struct coapdrv_conn *c, struct coapdrv_dtls_result *res)
{
    coap_tls_library_t lib = COAP_TLS_LIBRARY_NOTLS;
    SSL *ssl = coap_session_get_tls(c->session, &lib);
    if (!ssl || lib != COAP_TLS_LIBRARY_OPENSSL)
        return;
    snprintf(res->version, sizeof res->version, "%s", SSL_get_version(ssl));
    snprintf(res->cipher, sizeof res->cipher, "%s", SSL_get_cipher_name(ssl));
}

bool coapdrv_dtls_peer_answered(const struct coapdrv_conn *c)
{
    coap_tls_library_t lib = COAP_TLS_LIBRARY_NOTLS;
    SSL *ssl = c->session ? coap_session_get_tls(c->session, &lib) : NULL;
    unsigned char rnd[SSL3_RANDOM_SIZE];
    size_t n;
    if (!ssl || lib != COAP_TLS_LIBRARY_OPENSSL)
        return false;
    n = SSL_get_server_random(ssl, rnd, sizeof rnd);
    for (size_t i = 0; i < n; i++)
        if (rnd[i])
            return true;
    return false;
}

/* Waits for the handshake and classifies it into res (state, version, cipher). */
static void await_handshake(struct coapdrv_conn *c, assay_ms deadline, bool server_cert_seen,
                            struct coapdrv_dtls_result *res)
{
    while (c->dtls == 0 && c->nack == 0) {
        int64_t left = clock_remaining_ms(deadline);
        if (left <= 0)
            break;
        coap_io_process(c->ctx, (uint32_t)left);
        if (coap_session_get_state(c->session) == COAP_SESSION_STATE_ESTABLISHED)
            c->dtls = 1;
    }
    if (c->dtls > 0) {
        res->state = COAPDRV_DTLS_ESTABLISHED;
        read_negotiated(c, res);
    } else if (c->nack == COAP_NACK_ICMP_ISSUE + 1 || coapdrv_icmp_seen()) {
        res->state = COAPDRV_DTLS_UNREACHABLE;
    } else if (c->dtls < 0 || c->nack || server_cert_seen || coapdrv_dtls_peer_answered(c)) {
        res->state = COAPDRV_DTLS_REJECTED;
    } else {
        res->state = COAPDRV_DTLS_SILENT;
    }
}

static void note_result(const struct coapdrv_target *t, const char *peer, const char *mode,
                        const struct coapdrv_dtls_result *res)
{
    char summary[200];
    snprintf(summary, sizeof summary, "DTLS-%s handshake %s%s%s%s%s after %lld ms", mode,
             coapdrv_dtls_state_name(res->state), res->version[0] ? ": " : "", res->version,
             res->cipher[0] ? " " : "", res->cipher, (long long)res->elapsed_ms);
    transcript_note(t->sink, "coap", peer, "dtls-result", summary);
}

int coapdrv_dtls_probe_psk(const struct coapdrv_target *t, const struct coapdrv_psk *psk,
                           struct coapdrv_dtls_result *res, struct assay_error *err)
{
    struct coapdrv_conn c;
    assay_ms start = clock_now_ms();
    int rc;
    memset(res, 0, sizeof *res);
    if (!psk)
        return assay_fail(err, ASSAY_EINVAL, "coap: a DTLS probe needs a PSK");
    rc = coapdrv_conn_open(&c, t, psk, err);
    if (rc)
        return rc;
    transcript_note(t->sink, "coap", c.addr.peer, "dtls-handshake", "DTLS-PSK ClientHello sent");
    await_handshake(&c, start + t->timeout_ms, false, res);
    coapdrv_conn_close(&c);
    res->elapsed_ms = clock_now_ms() - start;
    note_result(t, c.addr.peer, "PSK", res);
    return 0;
}

/* ---- certificates ---- */

/* What the server presented, caught in OpenSSL's verify callback (so it is
 * seen even when the handshake fails later). One probe at a time per process. */
struct pki_capture {
    X509 *leaf;
    STACK_OF(X509) * chain;
};

static struct pki_capture *capture;

static int accept_and_capture(int ok, X509_STORE_CTX *ctx)
{
    (void)ok;
    if (capture && !capture->leaf) {
        X509 *leaf = X509_STORE_CTX_get0_cert(ctx);
        STACK_OF(X509) *chain = X509_STORE_CTX_get0_untrusted(ctx);
        if (leaf && X509_up_ref(leaf))
            capture->leaf = leaf;
        if (chain)
            capture->chain = X509_chain_up_ref(chain);
    }
    return 1; /* the handshake does not depend on the chain: it is verified afterwards */
}

/* libcoap 4.3.1 sends the ClientHello from coap_new_client_session_pki()
 * without calling back first, so the session's SSL is adjusted right after:
 * the server's certificate is processed only later, in coap_io_process. */
static void capture_server_cert(const struct coapdrv_conn *c)
{
    coap_tls_library_t lib = COAP_TLS_LIBRARY_NOTLS;
    SSL *ssl = coap_session_get_tls(c->session, &lib);
    if (!ssl || lib != COAP_TLS_LIBRARY_OPENSSL)
        return;
    SSL_set_security_level(ssl, 0); /* weak server keys are reported, not refused */
    SSL_set_verify(ssl, SSL_VERIFY_PEER, accept_and_capture);
}

struct pem_set {
    char *ca, *cert, *key;
    size_t ca_len, cert_len, key_len;
};

static void pem_set_free(struct pem_set *p)
{
    free(p->ca);
    free(p->cert);
    if (p->key) {
        memset(p->key, 0, p->key_len);
        free(p->key);
    }
}

static int pem_set_load(const struct coapdrv_pki *pki, struct pem_set *p, struct assay_error *err)
{
    int rc = 0;
    memset(p, 0, sizeof *p);
    if (!pki || (pki->cert != NULL) != (pki->key != NULL))
        return assay_fail(err, ASSAY_EINVAL, "coap: a client certificate needs its key");
    if (pki->ca)
        rc = coapdrv_pem_load(pki->ca, &p->ca, &p->ca_len, err);
    if (rc == 0 && pki->cert)
        rc = coapdrv_pem_load(pki->cert, &p->cert, &p->cert_len, err);
    if (rc == 0 && pki->key)
        rc = coapdrv_pem_load(pki->key, &p->key, &p->key_len, err);
    if (rc)
        pem_set_free(p);
    return rc;
}

static int open_pki(struct coapdrv_conn *c, const struct coapdrv_target *t,
                    const struct pem_set *pem, struct assay_error *err)
{
    coap_dtls_pki_t setup;
    coap_address_t dst;
    int rc;
    memset(c, 0, sizeof *c);
    c->t = t;
    rc = coapdrv_check_target(t, &c->addr, err);
    if (rc)
        return rc;
    coapdrv_global_init();
    coapdrv_icmp_reset();
    memset(&setup, 0, sizeof setup);
    setup.version = COAP_DTLS_PKI_SETUP_VERSION;
    setup.allow_self_signed = setup.allow_expired_certs = setup.allow_bad_md_hash = 1;
    setup.allow_short_rsa_length = 1;
    /* libcoap 4.3.1 accepts a client without a certificate only with the
     * PEM-file key type (all names NULL); PEM buffers must hold one */
    setup.pki_key.key_type = pem->cert ? COAP_PKI_KEY_PEM_BUF : COAP_PKI_KEY_PEM;
    if (pem->cert) {
        setup.pki_key.key.pem_buf.public_cert = (const uint8_t *)pem->cert;
        setup.pki_key.key.pem_buf.public_cert_len = pem->cert_len + 1;
        setup.pki_key.key.pem_buf.private_key = (const uint8_t *)pem->key;
        setup.pki_key.key.pem_buf.private_key_len = pem->key_len + 1;
    }
    coap_address_init(&dst);
    dst.size = c->addr.len;
    memcpy(&dst.addr, &c->addr.ss, c->addr.len);
    c->ctx = coapdrv_new_context();
    if (!c->ctx)
        return assay_fail(err, ASSAY_ENOMEM, "coap: cannot create a libcoap context");
    c->session = coap_new_client_session_pki(c->ctx, NULL, &dst, COAP_PROTO_DTLS, &setup);
    if (!c->session) {
        coapdrv_conn_close(c);
        return assay_fail(err, pem->cert ? ASSAY_EIO : ASSAY_ENET,
                          "coap: cannot open a DTLS-PKI session to %s%s", c->addr.peer,
                          pem->cert ? " (is the client certificate and key valid PEM?)" : "");
    }
    coap_session_set_app_data(c->session, c);
    capture_server_cert(c);
    return 0;
}

int coapdrv_dtls_probe_pki(const struct coapdrv_target *t, const struct coapdrv_pki *pki,
                           struct coapdrv_dtls_result *res, struct assay_error *err)
{
    struct coapdrv_conn c;
    struct pki_capture cap = {0};
    struct pem_set pem;
    assay_ms start = clock_now_ms();
    int rc;
    memset(res, 0, sizeof *res);
    rc = pem_set_load(pki, &pem, err);
    if (rc)
        return rc;
    capture = &cap;
    rc = open_pki(&c, t, &pem, err);
    if (rc == 0) {
        transcript_note(t->sink, "coap", c.addr.peer, "dtls-handshake",
                        pem.cert ? "DTLS-PKI ClientHello sent (client certificate ready)"
                                 : "DTLS-PKI ClientHello sent (no client certificate)");
        await_handshake(&c, start + t->timeout_ms, false, res);
        coapdrv_conn_close(&c);
    }
    capture = NULL;
    res->pki = true;
    res->client_cert = pem.cert != NULL;
    if (rc == 0 && cap.leaf) {
        res->has_server_cert = true;
        coapdrv_cert_describe(cap.leaf, &res->server_cert);
        res->chain_len = cap.chain ? (size_t)sk_X509_num(cap.chain) : 1;
        if (res->state == COAPDRV_DTLS_SILENT)
            res->state = COAPDRV_DTLS_REJECTED;
        rc = coapdrv_cert_verify(pem.ca, pem.ca_len, cap.leaf, cap.chain, t->host, res, err);
    }
    X509_free(cap.leaf);
    sk_X509_pop_free(cap.chain, X509_free);
    pem_set_free(&pem);
    res->elapsed_ms = clock_now_ms() - start;
    if (rc == 0)
        note_result(t, c.addr.peer, "PKI", res);
    return rc;
}
