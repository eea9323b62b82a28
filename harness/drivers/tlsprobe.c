/* tlsprobe.c: per-version TLS handshakes, cipher and certificate chain on OpenSSL (tlsprobe.h). */
#include "tlsprobe.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "drivers/rawtcp.h"
#include "mqtt_internal.h"

#define CLOSE_DRAIN_MS 50

static const int proto[TLSPROBE_NVERSIONS] = {TLS1_VERSION, TLS1_1_VERSION, TLS1_2_VERSION,
                                              TLS1_3_VERSION};

const char *tlsprobe_version_name(enum tlsprobe_version v)
{
    static const char *const names[] = {"TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"};
    return (unsigned)v < TLSPROBE_NVERSIONS ? names[v] : "unknown";
}

static void keylog_line(const SSL *ssl, const char *line)
{
    FILE *f = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    if (f) {
        fputs(line, f);
        fputc('\n', f);
        fflush(f);
    }
}

static SSL_CTX *make_ctx(enum tlsprobe_version v, FILE *keylog)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        return NULL;
    SSL_CTX_set_security_level(ctx, 0);
    if (!SSL_CTX_set_min_proto_version(ctx, proto[v]) ||
        !SSL_CTX_set_max_proto_version(ctx, proto[v]) ||
        (v != TLSPROBE_TLS13 && !SSL_CTX_set_cipher_list(ctx, "ALL:@SECLEVEL=0"))) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_options(ctx, SSL_OP_LEGACY_SERVER_CONNECT);
    if (keylog) {
        SSL_CTX_set_app_data(ctx, keylog);
        SSL_CTX_set_keylog_callback(ctx, keylog_line);
    }
    return ctx;
}

/* OpenSSL's reason for the last failure, or a word for the socket's state. */
static void failure_reason(SSL *ssl, int ret, char *out, size_t cap)
{
    int e = SSL_get_error(ssl, ret);
    unsigned long code = ERR_peek_last_error();
    if (code) {
        const char *r = ERR_reason_error_string(code);
        snprintf(out, cap, "%s", r ? r : "handshake failed");
    } else if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN) {
        snprintf(out, cap, "%s", errno == ECONNRESET ? "reset by peer" : "closed by peer");
    } else {
        snprintf(out, cap, "handshake failed (ssl error %d)", e);
    }
}

/* Runs SSL_connect on a non-blocking socket until done or the deadline. Returns 1 on success. */
static int handshake(SSL *ssl, int fd, assay_ms deadline, char *reason, size_t cap)
{
    for (;;) {
        ERR_clear_error();
        errno = 0;
        int ret = SSL_connect(ssl);
        if (ret == 1)
            return 1;
        int e = SSL_get_error(ssl, ret);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            failure_reason(ssl, ret, reason, cap);
            return 0;
        }
        struct pollfd p = {.fd = fd, .events = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT};
        int64_t left = clock_remaining_ms(deadline);
        if (left <= 0 || poll(&p, 1, (int)left) == 0) {
            snprintf(reason, cap, "timeout");
            return 0;
        }
    }
}

static void name_text(const X509_NAME *name, char *out, size_t cap)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data = NULL;
    long n;
    out[0] = '\0';
    if (!b)
        return;
    if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0) {
        n = BIO_get_mem_data(b, &data);
        if (n > 0 && data)
            mqttdrv_escape(data, (size_t)n, out, cap);
    }
    BIO_free(b);
}

static void time_text(const ASN1_TIME *t, char *out, size_t cap)
{
    struct tm tm;
    out[0] = '\0';
    if (t && ASN1_TIME_to_tm(t, &tm) == 1)
        strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void describe_cert(X509 *x, struct tlsprobe_cert *c)
{
    EVP_PKEY *pk = X509_get0_pubkey(x);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    memset(c, 0, sizeof *c);
    name_text(X509_get_subject_name(x), c->subject, sizeof c->subject);
    name_text(X509_get_issuer_name(x), c->issuer, sizeof c->issuer);
    time_text(X509_get0_notBefore(x), c->not_before, sizeof c->not_before);
    time_text(X509_get0_notAfter(x), c->not_after, sizeof c->not_after);
    if (pk) {
        const char *type = EVP_PKEY_get0_type_name(pk);
        snprintf(c->key_type, sizeof c->key_type, "%s", type ? type : "unknown");
        c->key_bits = EVP_PKEY_get_bits(pk);
    }
    snprintf(c->sig_alg, sizeof c->sig_alg, "%s", OBJ_nid2ln(X509_get_signature_nid(x)));
    c->self_signed = X509_self_signed(x, 0) == 1;
    if (X509_digest(x, EVP_sha256(), md, &mdlen) == 1)
        for (unsigned i = 0; i < mdlen && i < 32; i++)
            snprintf(c->sha256 + 2 * i, 3, "%02x", md[i]);
}

/* Fills the chain and its verification from an accepted session. */
static void take_chain(SSL *ssl, const char *host, X509_STORE *store, struct tlsprobe_result *r)
{
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
    X509 *leaf = SSL_get0_peer_certificate(ssl);
    int n = chain ? sk_X509_num(chain) : 0;
    r->nchain = 0;
    r->chain_truncated = n > TLSPROBE_MAX_CHAIN;
    for (int i = 0; i < n && r->nchain < TLSPROBE_MAX_CHAIN; i++)
        describe_cert(sk_X509_value(chain, i), &r->chain[r->nchain++]);
    r->name_matches = leaf && X509_check_ip_asc(leaf, host, 0) == 1;
    if (!store || !leaf)
        return;
    X509_STORE_CTX *vc = X509_STORE_CTX_new();
    r->ca_checked = true;
    r->verified = false;
    r->verify_error[0] = '\0';
    if (vc && X509_STORE_CTX_init(vc, store, leaf, chain) == 1) {
        r->verified = X509_verify_cert(vc) == 1;
        if (!r->verified)
            snprintf(r->verify_error, sizeof r->verify_error, "%s",
                     X509_verify_cert_error_string(X509_STORE_CTX_get_error(vc)));
    } else {
        snprintf(r->verify_error, sizeof r->verify_error, "cannot set up verification");
    }
    X509_STORE_CTX_free(vc);
}

static void log_attempt(const struct mqttdrv_target *t, const char *peer, enum tlsprobe_version v,
                        const struct tlsprobe_attempt *a)
{
    if (a->accepted)
        mqttdrv_log(t->sink, "tls", peer, TRANSCRIPT_NOTE, "handshake", NULL, 0,
                    "%s accepted, cipher %s, %lld ms", tlsprobe_version_name(v), a->cipher,
                    (long long)a->elapsed_ms);
    else
        mqttdrv_log(t->sink, "tls", peer, TRANSCRIPT_NOTE, "handshake", NULL, 0,
                    "%s not accepted: %s, %lld ms", tlsprobe_version_name(v), a->reason,
                    (long long)a->elapsed_ms);
}

/* One handshake at one version. Returns 0, or ASSAY_ESCOPE/ASSAY_EINVAL/ASSAY_ENOMEM. */
static int probe_version(const struct mqttdrv_target *t, const struct tlsprobe_opts *o,
                         enum tlsprobe_version v, FILE *keylog, X509_STORE *store,
                         struct tlsprobe_result *r, struct assay_error *err)
{
    struct tlsprobe_attempt *a = &r->attempts[v];
    assay_ms start = clock_now_ms(), deadline = start + t->timeout_ms;
    struct rawtcp c;
    SSL_CTX *ctx;
    SSL *ssl = NULL;
    int rc;
    rawtcp_init(&c, t->sink, "tls");
    rc = rawtcp_open(&c, t->scope, t->host, t->port, deadline, err);
    if (rc == ASSAY_ESCOPE || rc == ASSAY_EINVAL)
        return rc;
    if (rc) {
        snprintf(a->reason, sizeof a->reason, "tcp %s", rawtcp_status_name(c.status));
        a->elapsed_ms = clock_now_ms() - start;
        log_attempt(t, c.peer, v, a);
        return 0;
    }
    a->tcp_connected = true;
    if (!(ctx = make_ctx(v, keylog)) || !(ssl = SSL_new(ctx)) || !SSL_set_fd(ssl, c.fd) ||
        (o->sni && !SSL_set_tlsext_host_name(ssl, o->sni))) {
        SSL_free(ssl);
        SSL_CTX_free(ctx);
        rawtcp_close(&c, 0);
        return assay_fail(err, ASSAY_ENOMEM, "tls: cannot set up an OpenSSL client for %s",
                          tlsprobe_version_name(v));
    }
    a->accepted = handshake(ssl, c.fd, deadline, a->reason, sizeof a->reason) == 1;
    a->elapsed_ms = clock_now_ms() - start;
    if (a->accepted) {
        snprintf(a->cipher, sizeof a->cipher, "%s", SSL_get_cipher_name(ssl));
        take_chain(ssl, t->host, store, r);
        ERR_clear_error();
        SSL_shutdown(ssl); /* close_notify; the reply is not awaited */
    }
    log_attempt(t, c.peer, v, a);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    ERR_clear_error();
    rawtcp_close(&c, CLOSE_DRAIN_MS);
    return 0;
}

static void log_chain(const struct mqttdrv_target *t, const struct tlsprobe_result *r)
{
    char peer[MQTTDRV_PEER_MAX];
    mqttdrv_peer(peer, sizeof peer, t->host, t->port);
    for (size_t i = 0; i < r->nchain; i++) {
        const struct tlsprobe_cert *c = &r->chain[i];
        mqttdrv_log(t->sink, "tls", peer, TRANSCRIPT_RECV, "certificate", NULL, 0,
                    "[%zu] subject=%s issuer=%s valid %s..%s key %s %d bits, %s%s sha256=%s", i,
                    c->subject, c->issuer, c->not_before, c->not_after, c->key_type, c->key_bits,
                    c->sig_alg, c->self_signed ? ", self-signed" : "", c->sha256);
    }
    if (r->ca_checked)
        mqttdrv_log(t->sink, "tls", peer, TRANSCRIPT_NOTE, "verify", NULL, 0,
                    "chain %s against the CA file%s%s; address %s the certificate",
                    r->verified ? "verifies" : "does not verify", r->verified ? "" : ": ",
                    r->verify_error, r->name_matches ? "matches" : "does not match");
}

int tlsprobe_run(const struct mqttdrv_target *t, const struct tlsprobe_opts *o,
                 struct tlsprobe_result *r, struct assay_error *err)
{
    static const struct tlsprobe_opts none = {0};
    X509_STORE *store = NULL;
    FILE *keylog = NULL;
    int rc;
    memset(r, 0, sizeof *r);
    if (!o)
        o = &none;
    if ((rc = mqttdrv_check_target(t, err)) != 0)
        return rc;
    if (o->ca_file) {
        if (!(store = X509_STORE_new()) || X509_STORE_load_file(store, o->ca_file) != 1) {
            X509_STORE_free(store);
            ERR_clear_error();
            return assay_fail(err, ASSAY_EIO, "tls: cannot load CA file %s", o->ca_file);
        }
    }
    if (o->keylog_path && !(keylog = fopen(o->keylog_path, "a"))) {
        X509_STORE_free(store);
        return assay_fail(err, ASSAY_EIO, "tls: cannot open key log %s: %s", o->keylog_path,
                          strerror(errno));
    }
    for (int v = 0; v < TLSPROBE_NVERSIONS && rc == 0; v++)
        rc = probe_version(t, o, (enum tlsprobe_version)v, keylog, store, r, err);
    if (rc == 0)
        log_chain(t, r);
    if (keylog)
        fclose(keylog);
    X509_STORE_free(store);
    return rc;
}
