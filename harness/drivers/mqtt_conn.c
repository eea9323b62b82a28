/* mqtt_conn.c: plain TCP or TLS byte stream with deadlines for the raw MQTT paths (mqtt_conn.h). */
#include "mqtt_conn.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "mqtt_internal.h"

/*
 * OpenSSL writes to the socket with write(2), which raises SIGPIPE on a
 * connection the device has closed. SIGPIPE is blocked on this thread around
 * every SSL call and a pending one discarded, so a device cannot kill the
 * worker by closing at the right moment (rawtcp uses MSG_NOSIGNAL instead).
 */
static void pipe_block(sigset_t *old)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, old);
}

static void pipe_restore(const sigset_t *old)
{
    sigset_t set, pending;
    int saved = errno; /* callers read errno after the SSL call */
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    if (sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) && !sigismember(old, SIGPIPE)) {
        struct timespec zero = {0, 0};
        while (sigtimedwait(&set, NULL, &zero) == SIGPIPE) {
        }
    }
    pthread_sigmask(SIG_SETMASK, old, NULL);
    errno = saved;
}

bool mqttconn_is_open(const struct mqttconn *c)
{
    return c->tcp.fd >= 0 && (!c->ctx || c->ssl);
}

static void keylog_line(const SSL *ssl, const char *line)
{
    struct mqttconn *c = SSL_get_app_data(ssl);
    if (c && c->keylog) {
        fputs(line, c->keylog);
        fputc('\n', c->keylog);
        fflush(c->keylog);
    }
}

/* OpenSSL's reason for the last failure, or a word for the socket's state. */
static void ssl_reason(SSL *ssl, int ret, char *out, size_t cap)
{
    int e = SSL_get_error(ssl, ret);
    unsigned long code = ERR_peek_last_error();
    if (code) {
        const char *r = ERR_reason_error_string(code);
        long v = SSL_get_verify_result(ssl);
        if (v != X509_V_OK)
            snprintf(out, cap, "%s: %s", r ? r : "handshake failed",
                     X509_verify_cert_error_string(v));
        else
            snprintf(out, cap, "%s", r ? r : "handshake failed");
    } else if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN) {
        snprintf(out, cap, "%s", errno == ECONNRESET ? "reset by peer" : "closed by peer");
    } else {
        snprintf(out, cap, "TLS failure (ssl error %d)", e);
    }
}

/* Waits for the socket as OpenSSL asked. Returns 1 when ready, 0 at the deadline. */
static int wait_ssl(const struct mqttconn *c, int ssl_error, assay_ms deadline)
{
    struct pollfd p = {.fd = c->tcp.fd,
                       .events = ssl_error == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN};
    for (;;) {
        int64_t left = clock_remaining_ms(deadline);
        if (left <= 0)
            return 0;
        int n = poll(&p, 1, (int)left);
        if (n > 0)
            return 1;
        if (n == 0)
            return 0;
        if (errno != EINTR)
            return 1; /* let OpenSSL report the socket error */
    }
}

static int make_ctx(struct mqttconn *c, const struct mqttdrv_target *t,
                    const struct mqttdrv_tls *tls, struct assay_error *err)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        return assay_fail(err, ASSAY_ENOMEM, "mqtt: cannot set up an OpenSSL client");
    c->ctx = ctx;
    if (tls->verify) {
        if (!tls->ca_file || SSL_CTX_load_verify_locations(ctx, tls->ca_file, NULL) != 1) {
            ERR_clear_error();
            return assay_fail(err, ASSAY_EIO, "mqtt: cannot load CA file %s",
                              tls->ca_file ? tls->ca_file : "(none)");
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    }
    if (c->keylog)
        SSL_CTX_set_keylog_callback(ctx, keylog_line);
    SSL *ssl = SSL_new(ctx);
    if (!ssl || !SSL_set_fd(ssl, c->tcp.fd)) {
        SSL_free(ssl);
        return assay_fail(err, ASSAY_ENOMEM, "mqtt: cannot set up an OpenSSL session");
    }
    c->ssl = ssl;
    SSL_set_app_data(ssl, c);
    if (tls->verify) {
        X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
        if (X509_VERIFY_PARAM_set1_ip_asc(vp, t->host) != 1)
            return assay_fail(err, ASSAY_EINVAL, "mqtt: %s is not an address literal", t->host);
    }
    return 0;
}

/* SSL_connect until done or the deadline. Returns 0, ASSAY_ETIMEOUT or ASSAY_ENET. */
static int handshake(struct mqttconn *c, assay_ms deadline)
{
    for (;;) {
        ERR_clear_error();
        errno = 0;
        sigset_t old;
        pipe_block(&old);
        int ret = SSL_connect(c->ssl);
        pipe_restore(&old);
        if (ret == 1)
            return 0;
        int e = SSL_get_error(c->ssl, ret);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            ssl_reason(c->ssl, ret, c->detail, sizeof c->detail);
            ERR_clear_error();
            return ASSAY_ENET;
        }
        if (!wait_ssl(c, e, deadline)) {
            snprintf(c->detail, sizeof c->detail, "timeout during the TLS handshake");
            c->tcp.status = RAWTCP_TIMEOUT;
            return ASSAY_ETIMEOUT;
        }
    }
}

static void release_tls(struct mqttconn *c)
{
    SSL_free(c->ssl);
    SSL_CTX_free(c->ctx);
    c->ssl = NULL;
    c->ctx = NULL;
    if (c->keylog)
        fclose(c->keylog);
    c->keylog = NULL;
}

int mqttconn_open(struct mqttconn *c, const struct mqttdrv_target *t, const struct mqttdrv_tls *tls,
                  const char *keylog_path, assay_ms deadline, struct assay_error *err)
{
    int rc;
    memset(c, 0, sizeof *c);
    rawtcp_init(&c->tcp, t->sink, "mqtt");
    if ((rc = mqttdrv_check_target(t, err)) != 0)
        return rc;
    rc = rawtcp_open(&c->tcp, t->scope, t->host, t->port, deadline, err);
    if (rc) {
        snprintf(c->detail, sizeof c->detail, "tcp %s", rawtcp_status_name(c->tcp.status));
        return rc;
    }
    if (!tls || !tls->enabled)
        return 0;
    if (keylog_path && !(c->keylog = fopen(keylog_path, "a"))) {
        rawtcp_close(&c->tcp, 0);
        return assay_fail(err, ASSAY_EIO, "mqtt: cannot open key log %s: %s", keylog_path,
                          strerror(errno));
    }
    if ((rc = make_ctx(c, t, tls, err)) != 0) {
        release_tls(c);
        rawtcp_close(&c->tcp, 0);
        return rc;
    }
    rc = handshake(c, deadline);
    if (rc) {
        c->tls_failed = true;
        mqttdrv_log(t->sink, "mqtt", c->tcp.peer, TRANSCRIPT_NOTE, "tls", NULL, 0,
                    "TLS handshake failed: %s", c->detail);
        release_tls(c);
        rawtcp_close(&c->tcp, 0);
        return assay_fail(err, rc, "mqtt: %s: TLS handshake: %s", c->tcp.peer, c->detail);
    }
    snprintf(c->cipher, sizeof c->cipher, "%s", SSL_get_cipher_name(c->ssl));
    snprintf(c->version, sizeof c->version, "%s", SSL_get_version(c->ssl));
    mqttdrv_log(t->sink, "mqtt", c->tcp.peer, TRANSCRIPT_NOTE, "tls", NULL, 0,
                "TLS %s %s, server %s", c->version, c->cipher,
                tls->verify ? "verified against the CA file" : "not verified");
    return 0;
}

/* After a failed SSL call: closed (FIN or close_notify) or reset. */
static int ssl_failed(struct mqttconn *c, int e, const char *what, struct assay_error *err)
{
    c->tcp.status = e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errno == 0)
                        ? RAWTCP_CLOSED
                        : RAWTCP_RESET;
    ERR_clear_error();
    mqttdrv_log(c->tcp.sink, "mqtt", c->tcp.peer, TRANSCRIPT_NOTE,
                c->tcp.status == RAWTCP_CLOSED ? "closed" : "reset", NULL, 0, "TLS %s: %s", what,
                c->tcp.status == RAWTCP_CLOSED ? "closed by peer" : "connection failed");
    return assay_fail(err, ASSAY_ENET, "mqtt: %s: TLS %s failed", c->tcp.peer, what);
}

int mqttconn_send(struct mqttconn *c, const uint8_t *buf, size_t len, assay_ms deadline,
                  struct assay_error *err)
{
    size_t done = 0;
    if (!mqttconn_is_open(c))
        return assay_fail(err, ASSAY_EINVAL, "mqtt: connection not open");
    if (!c->ssl)
        return rawtcp_send(&c->tcp, buf, len, deadline, err);
    mqttdrv_log(c->tcp.sink, "mqtt", c->tcp.peer, TRANSCRIPT_SEND, "tls-send", buf, len,
                "%zu bytes over TLS", len);
    while (done < len) {
        size_t n = 0;
        ERR_clear_error();
        errno = 0;
        sigset_t old;
        pipe_block(&old);
        int ret = SSL_write_ex(c->ssl, buf + done, len - done, &n);
        pipe_restore(&old);
        if (ret == 1) {
            done += n;
            c->tcp.bytes_sent += n;
            continue;
        }
        int e = SSL_get_error(c->ssl, ret);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
            return ssl_failed(c, e, "send", err);
        if (!wait_ssl(c, e, deadline)) {
            c->tcp.status = RAWTCP_TIMEOUT;
            return assay_fail(err, ASSAY_ETIMEOUT, "mqtt: %s: TLS send timed out", c->tcp.peer);
        }
    }
    c->tcp.status = RAWTCP_OK;
    return 0;
}

int mqttconn_recv(struct mqttconn *c, uint8_t *buf, size_t cap, assay_ms deadline, size_t *got,
                  struct assay_error *err)
{
    *got = 0;
    if (!mqttconn_is_open(c) || cap == 0)
        return assay_fail(err, ASSAY_EINVAL, "mqtt: connection not open");
    if (!c->ssl)
        return rawtcp_recv(&c->tcp, buf, cap, deadline, got, err);
    for (;;) {
        size_t n = 0;
        ERR_clear_error();
        errno = 0;
        sigset_t old;
        pipe_block(&old);
        int ret = SSL_read_ex(c->ssl, buf, cap, &n);
        pipe_restore(&old);
        if (ret == 1 && n > 0) {
            *got = n;
            c->tcp.bytes_received += n;
            c->tcp.status = RAWTCP_OK;
            mqttdrv_log(c->tcp.sink, "mqtt", c->tcp.peer, TRANSCRIPT_RECV, "tls-recv", buf, n,
                        "%zu bytes over TLS", n);
            return 0;
        }
        int e = SSL_get_error(c->ssl, ret);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
            return ssl_failed(c, e, "receive", err);
        if (!wait_ssl(c, e, deadline)) {
            c->tcp.status = RAWTCP_TIMEOUT;
            return assay_fail(err, ASSAY_ETIMEOUT, "mqtt: %s: nothing received", c->tcp.peer);
        }
    }
}

void mqttconn_close(struct mqttconn *c, int drain_ms)
{
    if (c->ssl && c->tcp.fd >= 0) {
        sigset_t old;
        ERR_clear_error();
        pipe_block(&old);
        SSL_shutdown(c->ssl); /* close_notify; the reply is not awaited */
        pipe_restore(&old);
        ERR_clear_error();
    }
    release_tls(c);
    if (c->tcp.fd >= 0)
        rawtcp_close(&c->tcp, drain_ms);
}
