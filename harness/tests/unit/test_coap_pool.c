/*
 * test_coap_pool.c: the CoAP driver's session pool. Sessions are kept and
 * reused per peer and security, and a reply to an earlier request is never
 * taken as the answer to the current one: a raw UDP responder (a thread in
 * this process) answers a held request late, repeats its previous answer and
 * resets the previous message id before each new answer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "drivers/coap.h"
#include "test_coap_server.h"

#define MAX_PORTS 64

/* One request the responder has seen. */
struct held {
    bool valid;
    struct sockaddr_in from;
    uint8_t type;
    uint16_t mid;
    uint8_t token[8];
    size_t token_len;
    char path[32];
};

static struct {
    int fd;
    uint16_t port;
    pthread_t thread;
    atomic_bool stop;
    struct held slow, last; /* a held "/slow" request; the last one answered */
    uint16_t next_mid;
    uint16_t ports[MAX_PORTS]; /* source port of each new request, in order */
    atomic_int nports;
    atomic_int stale_sent; /* late or repeated answers and RSTs sent */
} rs;

static struct test_coap_server server;
static struct scope scope;

/* The first Uri-Path segment of a request (options walked without trust). */
static void first_path(const uint8_t *b, size_t n, size_t off, char *out, size_t cap)
{
    unsigned number = 0;
    out[0] = 0;
    while (off < n && b[off] != 0xff) {
        unsigned delta = b[off] >> 4, len = b[off] & 15;
        off++;
        if (delta == 13 && off < n)
            delta = 13u + b[off++];
        if (len == 13 && off < n)
            len = 13u + b[off++];
        if (delta > 13 || len > 13 || off + len > n)
            return;
        number += delta;
        if (number == 11) {
            size_t k = len < cap - 1 ? len : cap - 1;
            memcpy(out, b + off, k);
            out[k] = 0;
            return;
        }
        off += len;
    }
}

static void send_msg(const struct held *to, uint8_t type, uint8_t code, uint16_t mid,
                     const char *payload)
{
    struct coapraw_spec s = {.version = 1,
                             .type = type,
                             .code = code,
                             .mid = mid,
                             .tkl = (uint8_t)(code ? to->token_len : 0),
                             .token = to->token,
                             .token_len = code ? to->token_len : 0,
                             .payload = (const uint8_t *)payload,
                             .payload_len = payload ? strlen(payload) : 0};
    uint8_t buf[128];
    size_t len = 0;
    struct assay_error err = {0};
    if (coapraw_build(&s, buf, sizeof buf, &len, &err) == 0)
        sendto(rs.fd, buf, len, 0, (const struct sockaddr *)&to->from, sizeof to->from);
}

/* The answer to a request: piggybacked on an ACK for CON, a NON for NON; payload = its path. */
static void answer(const struct held *h)
{
    if (h->type == 0)
        send_msg(h, 2, 0x45, h->mid, h->path);
    else
        send_msg(h, 1, 0x45, rs.next_mid++, h->path);
}

static void on_request(const uint8_t *b, size_t n, const struct sockaddr_in *from)
{
    struct coapraw_header hdr;
    struct held h = {.valid = true, .from = *from};
    int k;
    if (coapraw_decode(b, n, &hdr) || !hdr.token_ok || hdr.code == 0 || hdr.type > 1)
        return;
    h.type = hdr.type;
    h.mid = hdr.mid;
    h.token_len = hdr.token_len;
    memcpy(h.token, hdr.token, hdr.token_len);
    first_path(b, n, 4 + hdr.token_len, h.path, sizeof h.path);
    if ((rs.slow.valid && rs.slow.mid == h.mid) || (rs.last.valid && rs.last.mid == h.mid))
        return; /* a retransmission: the first copy decides */
    k = atomic_load(&rs.nports);
    if (k < MAX_PORTS) {
        rs.ports[k] = ntohs(from->sin_port);
        atomic_store(&rs.nports, k + 1);
    }
    if (strcmp(h.path, "slow") == 0) {
        rs.slow = h;
        return;
    }
    if (rs.slow.valid) { /* the held request's answer, late, then a reset of its id */
        answer(&rs.slow);
        send_msg(&rs.slow, 3, 0, rs.slow.mid, NULL);
        rs.slow.valid = false;
        atomic_fetch_add(&rs.stale_sent, 2);
    }
    if (rs.last.valid) { /* the previous answer once more, then a reset of its id */
        answer(&rs.last);
        send_msg(&rs.last, 3, 0, rs.last.mid, NULL);
        atomic_fetch_add(&rs.stale_sent, 2);
    }
    usleep(20000); /* the stale datagrams arrive first */
    answer(&h);
    rs.last = h;
}

static void *responder(void *arg)
{
    (void)arg;
    while (!atomic_load(&rs.stop)) {
        struct pollfd pf = {.fd = rs.fd, .events = POLLIN};
        uint8_t buf[1500];
        struct sockaddr_in from;
        socklen_t flen = sizeof from;
        ssize_t n;
        if (poll(&pf, 1, 50) != 1)
            continue;
        n = recvfrom(rs.fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen);
        if (n > 0)
            on_request(buf, (size_t)n, &from);
    }
    return NULL;
}

static int setup(void **state)
{
    (void)state;
    scope_init(&scope);
    if (scope_add(&scope, "127.0.0.1", NULL) || test_coap_server_start(&server))
        return -1;
    memset(&rs, 0, sizeof rs);
    rs.next_mid = 0x5000;
    rs.fd = test_coap_silent_socket(&rs.port);
    if (rs.fd < 0)
        return -1;
    return pthread_create(&rs.thread, NULL, responder, NULL) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    atomic_store(&rs.stop, true);
    pthread_join(rs.thread, NULL);
    close(rs.fd);
    test_coap_server_stop(&server);
    scope_release(&scope);
    return 0;
}

static struct coapdrv_target target(uint16_t port, int timeout_ms)
{
    return (struct coapdrv_target){.host = "127.0.0.1",
                                   .port = port,
                                   .scope = &scope,
                                   .timeout_ms = timeout_ms,
                                   .max_retransmit = -1};
}

/* GET /<path> through the pool to the responder; returns the outcome, body in `body`. */
static enum coapdrv_outcome get(struct coapdrv_pool *p, const char *path, bool con, int timeout_ms,
                                char *body, size_t cap, unsigned *stale)
{
    struct coapdrv_target t = target(rs.port, timeout_ms);
    /* a short deadline comes before libcoap's last retransmission gives up */
    t.ack_timeout_ms = timeout_ms < 500 ? 250 : 0;
    struct coapdrv_request q = {.method = COAPDRV_GET, .path = path, .non_confirmable = !con};
    struct coapdrv_response r;
    struct assay_error err = {0};
    enum coapdrv_outcome o;
    assert_int_equal(coapdrv_request_in(p, &t, &q, &r, &err), 0);
    o = r.outcome;
    body[0] = 0;
    if (r.payload)
        snprintf(body, cap, "%s", (const char *)r.payload);
    if (stale)
        *stale = r.stale_replies;
    coapdrv_response_release(&r);
    return o;
}

static uint16_t port_of(int i)
{
    assert_true(i < atomic_load(&rs.nports));
    return rs.ports[i];
}

/* A held request answered only when the next one arrives, on the same session. */
static void test_late_answer_dropped(void **state)
{
    struct coapdrv_pool *p = NULL;
    struct assay_error err = {0};
    char body[64];
    unsigned stale = 0;
    int first = atomic_load(&rs.nports), before = atomic_load(&rs.stale_sent);
    (void)state;
    assert_int_equal(coapdrv_pool_new(&p, &err), 0);
    assert_int_equal(get(p, "/a", false, 1000, body, sizeof body, NULL), COAPDRV_RESPONSE);
    assert_string_equal(body, "a");
    /* NON /slow: no answer before the deadline; nothing to retransmit, so the session stays */
    assert_int_equal(get(p, "/slow", false, 300, body, sizeof body, NULL), COAPDRV_SILENCE);
    assert_int_equal(coapdrv_pool_size(p), 1);
    /* before answering /c the responder sends the late answer to /slow (its token), a RST of
     * its message id, the answer to /a again and a RST of that id: /c must get "c" */
    assert_int_equal(get(p, "/c", false, 1000, body, sizeof body, &stale), COAPDRV_RESPONSE);
    assert_string_equal(body, "c");
    assert_true(atomic_load(&rs.stale_sent) >= before + 4);
    assert_true(stale >= 2); /* both late answers seen and dropped */
    /* CON: the repeated answer to /c (its ACK's id and token) and a RST of its id come first */
    assert_int_equal(get(p, "/d", true, 1000, body, sizeof body, &stale), COAPDRV_RESPONSE);
    assert_string_equal(body, "d");
    assert_true(stale >= 1);
    assert_int_equal(get(p, "/e", true, 1000, body, sizeof body, &stale), COAPDRV_RESPONSE);
    assert_string_equal(body, "e");
    /* every request so far went out on one session (one source port) */
    for (int i = first + 1; i < atomic_load(&rs.nports); i++)
        assert_int_equal(port_of(i), port_of(first));
    assert_int_equal(coapdrv_pool_stats(p).opened, 1);
    assert_int_equal(coapdrv_pool_stats(p).reused, 4);
    coapdrv_pool_free(p);
}

/* A CON request unanswered at the deadline may still be retransmitted by
 * libcoap: its session is closed, and the next request uses a new one. */
static void test_unanswered_con_closes_session(void **state)
{
    struct coapdrv_pool *p = NULL;
    struct assay_error err = {0};
    char body[64];
    int first = atomic_load(&rs.nports);
    (void)state;
    assert_int_equal(coapdrv_pool_new(&p, &err), 0);
    assert_int_equal(get(p, "/f", true, 1000, body, sizeof body, NULL), COAPDRV_RESPONSE);
    assert_int_equal(get(p, "/slow", true, 300, body, sizeof body, NULL), COAPDRV_SILENCE);
    assert_int_equal(coapdrv_pool_size(p), 0);
    assert_int_equal(coapdrv_pool_stats(p).dropped, 1);
    assert_int_equal(get(p, "/g", true, 1000, body, sizeof body, NULL), COAPDRV_RESPONSE);
    assert_string_equal(body, "g");
    assert_int_equal(port_of(first + 1), port_of(first));     /* /slow on the first session */
    assert_int_not_equal(port_of(first + 2), port_of(first)); /* /g on a new one */
    assert_int_equal(coapdrv_pool_stats(p).opened, 2);
    coapdrv_pool_free(p);
}

/* Against libcoap: NoSec and DTLS-PSK sessions are kept per security, one DTLS per address. */
static void test_pool_keys(void **state)
{
    struct coapdrv_pool *p = NULL;
    struct assay_error err = {0};
    struct coapdrv_psk good = {.identity = "unit-1",
                               .key = (const uint8_t *)TEST_COAP_PSK_KEY,
                               .key_len = strlen(TEST_COAP_PSK_KEY)};
    struct coapdrv_psk other = good;
    struct coapdrv_target udp = target(server.udp_port, 2000),
                          dtls = target(server.dtls_port, 2000);
    struct coapdrv_request q = {.method = COAPDRV_GET, .path = "/hello"};
    struct coapdrv_response r;
    (void)state;
    other.identity = "unit-2";
    assert_int_equal(coapdrv_pool_new(&p, &err), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(coapdrv_request_in(p, &udp, &q, &r, &err), 0);
        assert_int_equal(r.outcome, COAPDRV_RESPONSE);
        coapdrv_response_release(&r);
    }
    q.psk = &good;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(coapdrv_request_in(p, &dtls, &q, &r, &err), 0);
        assert_int_equal(r.outcome, COAPDRV_RESPONSE);
        assert_string_equal((const char *)r.payload, "hello world");
        coapdrv_response_release(&r);
    }
    assert_int_equal(coapdrv_pool_stats(p).opened, 2);
    assert_int_equal(coapdrv_pool_stats(p).reused, 3);
    assert_int_equal(coapdrv_pool_size(p), 2);
    q.psk = &other; /* another identity: a new association replaces the first */
    assert_int_equal(coapdrv_request_in(p, &dtls, &q, &r, &err), 0);
    assert_int_equal(r.outcome, COAPDRV_RESPONSE);
    coapdrv_response_release(&r);
    assert_int_equal(coapdrv_pool_stats(p).opened, 3);
    assert_int_equal(coapdrv_pool_size(p), 2);
    /* scope is checked on every request, kept session or not */
    udp.host = "127.0.0.9";
    q.psk = NULL;
    assert_int_equal(coapdrv_request_in(p, &udp, &q, &r, &err), ASSAY_ESCOPE);
    coapdrv_response_release(&r);
    assert_int_equal(coapdrv_pool_close(p, "127.0.0.1"), 2);
    assert_int_equal(coapdrv_pool_size(p), 0);
    coapdrv_pool_free(p);
    coapdrv_pool_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_late_answer_dropped),
        cmocka_unit_test(test_unanswered_con_closes_session),
        cmocka_unit_test(test_pool_keys),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
