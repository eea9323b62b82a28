/*
 * mqtt_refuser.c: a listener that answers every MQTT CONNECT with CONNACK 3
 * and counts the attempts (plain TCP or TLS on OpenSSL). See mqtt_refuser.h.
 */
#include "drivers/mqtt_refuser.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/clock.h"

#define CONN_MS 1000
#define CONNECT_MAX 4096 /* a larger CONNECT is not read in full */

struct conn {
    int fd;
    SSL *ssl;
    assay_ms deadline;
};

/* Waits for fd to be ready for events until the deadline; 1 ready, 0 not. */
static int wait_fd(int fd, short events, assay_ms deadline)
{
    struct pollfd p = {.fd = fd, .events = events};
    int64_t left = clock_remaining_ms(deadline);
    if (left <= 0)
        return 0;
    int r;
    do {
        r = poll(&p, 1, (int)left);
    } while (r < 0 && errno == EINTR);
    return r > 0;
}

/* Reads up to n bytes; returns bytes read (>0), 0 on close or deadline, -1 on error. */
static ssize_t conn_read(struct conn *c, void *buf, size_t n)
{
    for (;;) {
        if (c->ssl) {
            int r = SSL_read(c->ssl, buf, (int)n);
            if (r > 0)
                return r;
            int e = SSL_get_error(c->ssl, r);
            short ev = e == SSL_ERROR_WANT_READ ? POLLIN : e == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
            if (!ev || !wait_fd(c->fd, ev, c->deadline))
                return 0;
        } else {
            ssize_t r = recv(c->fd, buf, n, 0);
            if (r >= 0)
                return r;
            if (errno != EAGAIN && errno != EINTR)
                return -1;
            if (!wait_fd(c->fd, POLLIN, c->deadline))
                return 0;
        }
    }
}

static void conn_write(struct conn *c, const void *buf, size_t n)
{
    if (c->ssl) {
        while (SSL_write(c->ssl, buf, (int)n) <= 0) {
            int e = SSL_get_error(c->ssl, -1);
            if (e != SSL_ERROR_WANT_WRITE || !wait_fd(c->fd, POLLOUT, c->deadline))
                return;
        }
    } else {
        (void)send(c->fd, buf, n, MSG_NOSIGNAL);
    }
}

static int read_exact(struct conn *c, uint8_t *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = conn_read(c, buf + got, n - got);
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* Reads a CONNECT; fills id. Returns 0 when one arrived whole enough to answer. */
static int read_connect(struct conn *c, char *id, size_t idsize)
{
    uint8_t b;
    uint8_t body[CONNECT_MAX];
    size_t len = 0;
    if (read_exact(c, &b, 1) || b != 0x10)
        return -1;
    for (int i = 0, shift = 0; i < 4; i++, shift += 7) {
        if (read_exact(c, &b, 1))
            return -1;
        len |= (size_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
        if (i == 3)
            return -1;
    }
    size_t take = len < sizeof(body) ? len : sizeof(body);
    if (len < 12 || read_exact(c, body, take))
        return -1;
    size_t plen = (size_t)body[0] << 8 | body[1]; /* protocol name */
    size_t off = 2 + plen + 4;                    /* level, flags, keep alive */
    if (off + 2 > take)
        return 0;
    size_t idlen = (size_t)body[off] << 8 | body[off + 1];
    off += 2;
    size_t k = idlen < idsize - 1 ? idlen : idsize - 1;
    if (off + k > take)
        k = take - off;
    for (size_t i = 0; i < k; i++)
        id[i] = body[off + i] >= 0x20 && body[off + i] < 0x7f ? (char)body[off + i] : '?';
    id[k] = 0;
    return 0;
}

static int tls_accept(struct conn *c, SSL_CTX *ctx)
{
    c->ssl = SSL_new(ctx);
    if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1)
        return -1;
    for (;;) {
        int r = SSL_accept(c->ssl);
        if (r == 1)
            return 0;
        int e = SSL_get_error(c->ssl, r);
        short ev = e == SSL_ERROR_WANT_READ ? POLLIN : e == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
        if (!ev || !wait_fd(c->fd, ev, c->deadline))
            return -1;
    }
}

static void serve(int fd, SSL_CTX *ctx, int code, assay_ms window_end, struct refuser_attempt *a)
{
    struct conn c = {.fd = fd, .deadline = clock_deadline(CONN_MS)};
    if (c.deadline > window_end)
        c.deadline = window_end;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    if (ctx && tls_accept(&c, ctx) != 0) {
        ERR_clear_error();
    } else {
        a->tls_ok = ctx != NULL;
        if (read_connect(&c, a->client_id, sizeof(a->client_id)) == 0) {
            const uint8_t connack[4] = {0x20, 0x02, 0x00, (uint8_t)code};
            a->connect_seen = true;
            conn_write(&c, connack, sizeof(connack));
        }
        if (c.ssl)
            SSL_shutdown(c.ssl);
    }
    SSL_free(c.ssl);
    shutdown(fd, SHUT_RDWR);
    close(fd);
}

static int listen_on(const struct refuser_opts *o, struct assay_error *err)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, o->address, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons(o->port);
        sl = sizeof(*a4);
    } else if (inet_pton(AF_INET6, o->address, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(o->port);
        sl = sizeof(*a6);
    } else {
        return assay_fail(err, ASSAY_EINVAL, "refuser: %s is not an address", o->address);
    }
    int s = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(s, (struct sockaddr *)&ss, sl) != 0 || listen(s, 64) != 0) {
        int e = errno;
        if (s >= 0)
            close(s);
        return assay_fail(err, ASSAY_ENET, "refuser: cannot listen on %s:%u: %s", o->address,
                          (unsigned)o->port, strerror(e));
    }
    return s;
}

static SSL_CTX *tls_context(const struct refuser_opts *o, struct assay_error *err)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, o->cert_file) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, o->key_file, SSL_FILETYPE_PEM) != 1) {
        SSL_CTX_free(ctx);
        ERR_clear_error();
        assay_fail(err, ASSAY_EINVAL, "refuser: cannot load %s and its key", o->cert_file);
        return NULL;
    }
    return ctx;
}

static void note(const struct refuser_opts *o, const char *event, const char *summary)
{
    char peer[96];
    snprintf(peer, sizeof(peer), "%s:%u", o->address, (unsigned)o->port);
    transcript_note(o->sink, "mqtt", peer, event, summary);
}

int mqtt_refuser_run(const struct refuser_opts *o, struct refuser_result *res,
                     struct assay_error *err)
{
    memset(res, 0, sizeof(*res));
    if (!o || !o->address || !o->scope || o->port == 0 || o->ms < 1 || o->ms > 600000 ||
        o->code < 0 || o->code > 5 || (!o->cert_file) != (!o->key_file))
        return assay_fail(err, ASSAY_EINVAL, "refuser: bad options");
    if (!scope_allows(o->scope, o->address))
        return assay_fail(err, ASSAY_ESCOPE, "refuser: %s is not in the bench's scope", o->address);
    SSL_CTX *ctx = NULL;
    if (o->cert_file && !(ctx = tls_context(o, err)))
        return err ? err->code : ASSAY_EINVAL;
    int ls = listen_on(o, err);
    if (ls < 0) {
        SSL_CTX_free(ctx);
        return ls;
    }
    res->kept = calloc(REFUSER_MAX_KEPT, sizeof(*res->kept));
    if (!res->kept) {
        close(ls);
        SSL_CTX_free(ctx);
        return assay_fail(err, ASSAY_ENOMEM, "refuser: out of memory");
    }
    int code = o->code ? o->code : 3;
    char line[160];
    snprintf(line, sizeof(line), "refuser listening for %d ms, CONNACK %d%s", o->ms, code,
             ctx ? ", TLS" : "");
    note(o, "refuser-start", line);
    assay_ms start = clock_now_ms(), end = clock_deadline(o->ms);
    while (clock_remaining_ms(end) > 0) {
        if (!wait_fd(ls, POLLIN, end))
            continue;
        int fd = accept(ls, NULL, NULL);
        if (fd < 0)
            continue;
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        struct refuser_attempt a = {.at_ms = clock_now_ms() - start};
        serve(fd, ctx, code, end, &a);
        res->attempts++;
        res->connects += a.connect_seen;
        res->tls_failures += ctx && !a.tls_ok;
        if (res->nkept < REFUSER_MAX_KEPT)
            res->kept[res->nkept++] = a;
    }
    close(ls);
    SSL_CTX_free(ctx);
    res->elapsed_ms = clock_now_ms() - start;
    snprintf(line, sizeof(line), "refuser closed: %zu attempts (%zu CONNECTs) in %lld ms",
             res->attempts, res->connects, (long long)res->elapsed_ms);
    note(o, "refuser-stop", line);
    return 0;
}

void mqtt_refuser_result_release(struct refuser_result *res)
{
    if (!res)
        return;
    free(res->kept);
    res->kept = NULL;
    res->nkept = 0;
}
