/* test_coap.c: unit tests of the CoAP driver against a forked libcoap server on 127.0.0.1. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "drivers/coap.h"
#include "test_coap_server.h"

static struct test_coap_server server;
static struct scope scope;

/* A transcript sink that counts entries and keeps the last raw bytes sent. */
struct capture {
    int sends, recvs, notes;
    uint8_t last_sent[64];
    size_t last_sent_len;
    char last_event[32];
};

static void capture_write(void *ctx, const struct transcript_entry *e)
{
    struct capture *c = ctx;
    if (e->dir == TRANSCRIPT_SEND) {
        c->sends++;
        if (e->bytes && e->nbytes <= sizeof c->last_sent) {
            memcpy(c->last_sent, e->bytes, e->nbytes);
            c->last_sent_len = e->nbytes;
        }
    } else if (e->dir == TRANSCRIPT_RECV) {
        c->recvs++;
    } else {
        c->notes++;
    }
    snprintf(c->last_event, sizeof c->last_event, "%s", e->event);
}

static int setup(void **state)
{
    (void)state;
    scope_init(&scope);
    if (scope_add(&scope, "127.0.0.1", NULL))
        return -1;
    return test_coap_server_start(&server);
}

static int teardown(void **state)
{
    (void)state;
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

static void request(enum coapdrv_method m, const char *path, const char *payload,
                    struct coapdrv_response *r)
{
    struct coapdrv_target t = target(server.udp_port, 2000);
    struct coapdrv_request q = {.method = m, .path = path};
    struct assay_error err = {0};
    if (payload) {
        q.payload = (const uint8_t *)payload;
        q.payload_len = strlen(payload);
    }
    assert_int_equal(coapdrv_request(&t, &q, r, &err), 0);
}

static void test_get(void **state)
{
    struct coapdrv_response r;
    struct capture cap = {0};
    struct transcript_sink sink = {capture_write, &cap};
    struct coapdrv_target t = target(server.udp_port, 2000);
    struct coapdrv_request q = {.method = COAPDRV_GET, .path = "/hello"};
    struct assay_error err = {0};
    (void)state;
    t.sink = &sink;
    assert_int_equal(coapdrv_request(&t, &q, &r, &err), 0);
    assert_int_equal(r.outcome, COAPDRV_RESPONSE);
    assert_int_equal(r.type, 2); /* piggybacked ACK */
    assert_int_equal(r.code_class, 2);
    assert_int_equal(r.code_detail, 5);
    assert_int_equal(r.payload_len, 11);
    assert_string_equal((const char *)r.payload, "hello world");
    assert_int_equal(r.noptions, 1);
    assert_int_equal(r.options[0].number, 12);
    assert_string_equal(coapdrv_option_name(r.options[0].number), "Content-Format");
    assert_int_equal(r.exchanges, 1);
    /* 4 header + 8 token at most + Uri-Path "hello" (6) */
    assert_true(r.bytes_sent >= 10 && r.bytes_sent <= 18);
    assert_true(r.bytes_received >= 4 + 1 + 1 + 11);
    assert_int_equal(cap.sends, 1);
    assert_int_equal(cap.recvs, 1);
    coapdrv_response_release(&r);
}

static void test_not_found_and_methods(void **state)
{
    struct coapdrv_response r;
    (void)state;
    request(COAPDRV_GET, "/nothing/here", NULL, &r);
    assert_int_equal(r.outcome, COAPDRV_RESPONSE);
    assert_int_equal(r.code_class * 100 + r.code_detail, 404);
    coapdrv_response_release(&r);
    request(COAPDRV_PUT, "/store", "abc", &r);
    assert_int_equal(r.code_class * 100 + r.code_detail, 204);
    coapdrv_response_release(&r);
    request(COAPDRV_GET, "/store", NULL, &r);
    assert_int_equal(r.code_class * 100 + r.code_detail, 205);
    assert_int_equal(r.payload_len, 3);
    assert_memory_equal(r.payload, "abc", 3);
    coapdrv_response_release(&r);
    request(COAPDRV_POST, "store", "xyz1", &r);
    assert_int_equal(r.code_class * 100 + r.code_detail, 201);
    coapdrv_response_release(&r);
    request(COAPDRV_GET, "/store", NULL, &r);
    assert_memory_equal(r.payload, "xyz1", 4);
    coapdrv_response_release(&r);
    request(COAPDRV_DELETE, "/store", NULL, &r);
    assert_int_equal(r.code_class * 100 + r.code_detail, 202);
    coapdrv_response_release(&r);
    request(COAPDRV_GET, "/store", NULL, &r);
    assert_int_equal(r.code_class * 100 + r.code_detail, 404);
    coapdrv_response_release(&r);
}

static void test_non_confirmable(void **state)
{
    struct coapdrv_response r;
    struct coapdrv_target t = target(server.udp_port, 2000);
    struct coapdrv_request q = {.method = COAPDRV_GET, .path = "/hello", .non_confirmable = true};
    struct assay_error err = {0};
    (void)state;
    assert_int_equal(coapdrv_request(&t, &q, &r, &err), 0);
    assert_int_equal(r.outcome, COAPDRV_RESPONSE);
    assert_int_equal(r.type, 1); /* NON answer to a NON request */
    assert_string_equal((const char *)r.payload, "hello world");
    coapdrv_response_release(&r);
}

static void test_block2_whole_and_capped(void **state)
{
    struct coapdrv_response r;
    struct coapdrv_target t = target(server.udp_port, 3000);
    struct coapdrv_request q = {.method = COAPDRV_GET, .path = "/big"};
    struct assay_error err = {0};
    (void)state;
    assert_int_equal(coapdrv_request(&t, &q, &r, &err), 0);
    assert_int_equal(r.outcome, COAPDRV_RESPONSE);
    assert_int_equal(r.payload_len, TEST_COAP_BIG_LEN);
    assert_false(r.body_truncated);
    assert_int_equal(r.exchanges, 5);
    for (size_t i = 0; i < r.payload_len; i++)
        assert_int_equal(r.payload[i], test_coap_big_byte(i));
    assert_true(r.bytes_received > TEST_COAP_BIG_LEN);
    coapdrv_response_release(&r);

    q.max_body = 1500;
    assert_int_equal(coapdrv_request(&t, &q, &r, &err), 0);
    assert_int_equal(r.payload_len, 1500);
    assert_true(r.body_truncated);
    assert_int_equal(r.exchanges, 2);
    assert_non_null(strstr(r.note, "capped"));
    assert_true(r.bytes_received < 2 * 1024 + 100);
    coapdrv_response_release(&r);
}

static void test_block1_put(void **state)
{
    struct coapdrv_response r;
    struct coapdrv_target t = target(server.udp_port, 3000);
    uint8_t body[3000];
    struct coapdrv_request q = {
        .method = COAPDRV_PUT, .path = "/store", .payload = body, .payload_len = sizeof body};
    struct assay_error err = {0};
    (void)state;
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (uint8_t)(i * 13);
    assert_int_equal(coapdrv_request(&t, &q, &r, &err), 0);
    assert_int_equal(r.outcome, COAPDRV_RESPONSE);
    assert_int_equal(r.code_class * 100 + r.code_detail, 204);
    assert_int_equal(r.exchanges, 3);
    assert_true(r.bytes_sent > sizeof body);
    coapdrv_response_release(&r);
    request(COAPDRV_GET, "/store", NULL, &r);
    assert_int_equal(r.payload_len, sizeof body);
    assert_memory_equal(r.payload, body, sizeof body);
    coapdrv_response_release(&r);
}

static void test_silence_within_deadline(void **state)
{
    struct coapdrv_response r;
    uint16_t port;
    int fd = test_coap_silent_socket(&port);
    struct coapdrv_target t = target(port, 400);
    struct coapdrv_request q = {.method = COAPDRV_GET, .path = "/hello"};
    struct assay_error err = {0};
    assay_ms start = clock_now_ms();
    int64_t took;
    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(coapdrv_request(&t, &q, &r, &err), 0);
    took = clock_now_ms() - start;
    assert_int_equal(r.outcome, COAPDRV_SILENCE);
    assert_true(took >= 130); /* at least the first retransmission interval */
    assert_true(took <= 400 + 150);
    coapdrv_response_release(&r);
    close(fd);
}

/* A device that answers every datagram with a request (NON GET, the same
 * token): the harness answers none of them, so there is no exchange at line
 * rate, and the request ends the exchange as COAPDRV_REQUEST. */
static void test_request_from_device(void **state)
{
    uint16_t port;
    int fd = test_coap_silent_socket(&port), counts[2];
    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(pipe(counts), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int got = 0;
        assay_ms until = clock_deadline(1500);
        while (clock_remaining_ms(until) > 0) {
            uint8_t in[1500];
            struct sockaddr_storage from;
            socklen_t flen = sizeof from;
            struct pollfd p = {.fd = fd, .events = POLLIN};
            if (poll(&p, 1, (int)clock_remaining_ms(until)) <= 0)
                continue;
            ssize_t n = recvfrom(fd, in, sizeof in, 0, (struct sockaddr *)&from, &flen);
            if (n < 4)
                continue;
            got++;
            size_t tkl = in[0] & 15u;
            uint8_t out[4 + 8] = {0x50 | (uint8_t)tkl, 0x01, (uint8_t)(got >> 8), (uint8_t)got};
            memcpy(out + 4, in + 4, tkl <= 8 && (size_t)n >= 4 + tkl ? tkl : 0);
            sendto(fd, out, 4 + (tkl <= 8 ? tkl : 0), 0, (struct sockaddr *)&from, flen);
        }
        if (write(counts[1], &got, sizeof got) != (ssize_t)sizeof got)
            _exit(1);
        _exit(0);
    }
    struct coapdrv_response r;
    struct coapdrv_target t = target(port, 1000);
    struct coapdrv_request q = {.method = COAPDRV_GET, .path = "/hello", .non_confirmable = true};
    struct assay_error err = {0};
    assert_int_equal(coapdrv_request(&t, &q, &r, &err), 0);
    assert_int_equal(r.outcome, COAPDRV_REQUEST);
    coapdrv_response_release(&r);
    int got = -1;
    assert_int_equal(read(counts[0], &got, sizeof got), (ssize_t)sizeof got);
    waitpid(pid, NULL, 0);
    close(counts[0]);
    close(counts[1]);
    close(fd);
    /* the request, perhaps a retransmission of it: never a reply per request */
    assert_true(got >= 1 && got <= 3);
}

/* Datagrams waiting on fd, read without blocking. */
static int drain(int fd)
{
    uint8_t buf[1500];
    int n = 0;
    while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) >= 0)
        n++;
    return n;
}

/* NoSec requests share one libcoap context per process: a request that ended in
 * silence leaves no retransmission behind, and later requests are unaffected. */
static void test_shared_context_sequence(void **state)
{
    struct coapdrv_response r;
    uint16_t port;
    int fd = test_coap_silent_socket(&port);
    struct coapdrv_target silent = target(port, 300);
    struct coapdrv_request q = {.method = COAPDRV_GET, .path = "/hello"};
    struct assay_error err = {0};
    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(coapdrv_request(&silent, &q, &r, &err), 0);
    assert_int_equal(r.outcome, COAPDRV_SILENCE);
    coapdrv_response_release(&r);
    assert_true(drain(fd) >= 1);

    assay_ms start = clock_now_ms();
    int n = 0;
    while (clock_now_ms() - start < 700 || n < 50) {
        struct capture cap = {0};
        struct transcript_sink sink = {capture_write, &cap};
        struct coapdrv_target t = target(server.udp_port, 2000);
        t.sink = &sink;
        assert_int_equal(coapdrv_request(&t, &q, &r, &err), 0);
        assert_int_equal(r.outcome, COAPDRV_RESPONSE);
        assert_string_equal((const char *)r.payload, "hello world");
        assert_int_equal(cap.sends, 1);
        assert_int_equal(cap.recvs, 1);
        coapdrv_response_release(&r);
        n++;
    }
    /* the silent peer's session was released: nothing more was sent to it */
    assert_int_equal(drain(fd), 0);
    close(fd);

    struct coapdrv_target closed = target(test_coap_closed_port(), 2000);
    assert_int_equal(coapdrv_request(&closed, &q, &r, &err), 0);
    assert_int_equal(r.outcome, COAPDRV_UNREACHABLE);
    coapdrv_response_release(&r);
    request(COAPDRV_GET, "/hello", NULL, &r);
    assert_int_equal(r.outcome, COAPDRV_RESPONSE);
    coapdrv_response_release(&r);
}

static void test_unreachable_and_scope(void **state)
{
    struct coapdrv_response r;
    struct coapdrv_target t = target(test_coap_closed_port(), 2000);
    struct coapdrv_request q = {.method = COAPDRV_GET, .path = "/hello"};
    struct assay_error err = {0};
    struct capture cap = {0};
    struct transcript_sink sink = {capture_write, &cap};
    (void)state;
    assert_int_equal(coapdrv_request(&t, &q, &r, &err), 0);
    assert_int_equal(r.outcome, COAPDRV_UNREACHABLE);
    assert_true(r.elapsed_ms < 1000);
    coapdrv_response_release(&r);

    t.host = "127.0.0.2";
    t.sink = &sink;
    assert_int_equal(coapdrv_request(&t, &q, &r, &err), ASSAY_ESCOPE);
    assert_int_equal(err.code, ASSAY_ESCOPE);
    assert_int_equal(cap.sends, 0);
    assert_string_equal(cap.last_event, "refused");
    coapdrv_response_release(&r);
    t.host = "localhost";
    assert_int_equal(coapdrv_request(&t, &q, &r, &err), ASSAY_ESCOPE);
}

static void test_dtls_psk(void **state)
{
    struct coapdrv_target t = target(server.dtls_port, 3000);
    struct coapdrv_psk good = {"lab", (const uint8_t *)TEST_COAP_PSK_KEY,
                               strlen(TEST_COAP_PSK_KEY)};
    struct coapdrv_psk bad = {"lab", (const uint8_t *)"wrong-key", 9};
    struct coapdrv_dtls_result res;
    struct coapdrv_response r;
    struct coapdrv_request q = {.method = COAPDRV_GET, .path = "/hello", .psk = &good};
    struct assay_error err = {0};
    (void)state;
    assert_int_equal(coapdrv_dtls_probe_psk(&t, &good, &res, &err), 0);
    assert_string_equal(coapdrv_dtls_state_name(res.state), "established");
    assert_string_equal(res.version, "DTLSv1.2");
    assert_non_null(strstr(res.cipher, "PSK"));

    assert_int_equal(coapdrv_request(&t, &q, &r, &err), 0);
    assert_int_equal(r.outcome, COAPDRV_RESPONSE);
    assert_string_equal((const char *)r.payload, "hello world");
    coapdrv_response_release(&r);

    /* DTLS drops records that fail authentication, so a wrong key shows as a
     * ServerHello followed by silence until the deadline */
    t.timeout_ms = 800;
    assert_int_equal(coapdrv_dtls_probe_psk(&t, &bad, &res, &err), 0);
    assert_string_equal(coapdrv_dtls_state_name(res.state), "rejected");
    assert_true(res.elapsed_ms <= 800 + 150);
    assert_string_equal(res.version, "");
    q.psk = &bad;
    assert_int_equal(coapdrv_request(&t, &q, &r, &err), 0);
    assert_int_equal(r.outcome, COAPDRV_DTLS_FAILED);
    coapdrv_response_release(&r);
}

static void test_raw_build_and_decode(void **state)
{
    static const uint8_t a[] = "a", big[200] = {0};
    const struct coapraw_opt opts[] = {{11, a, 1}, {60, NULL, 0}, {2000, big, sizeof big}};
    struct coapraw_spec s = {.version = 1,
                             .type = 0,
                             .tkl = 2,
                             .code = 0x45,
                             .mid = 0xbeef,
                             .token = (const uint8_t *)"\x01\x02",
                             .token_len = 2,
                             .opts = opts,
                             .nopts = 3,
                             .payload = a,
                             .payload_len = 1};
    uint8_t out[512];
    size_t len = 0;
    struct coapraw_header h;
    struct assay_error err = {0};
    const struct coapraw_opt bad_order[] = {{12, NULL, 0}, {11, NULL, 0}};
    (void)state;
    assert_int_equal(coapraw_build(&s, out, sizeof out, &len, &err), 0);
    assert_int_equal(len, 4 + 2 + 2 + 2 + 4 + sizeof big + 2);
    assert_memory_equal(out, "\x42\x45\xbe\xef\x01\x02", 6);
    assert_int_equal(out[6], 0xb1); /* delta 11, length 1 */
    assert_int_equal(out[7], 'a');
    assert_int_equal(out[8], 0xd0); /* delta 49 = 13 + 36 */
    assert_int_equal(out[9], 36);
    assert_int_equal(out[10], 0xed); /* delta 1940 (14), length 200 (13) */
    assert_int_equal(out[11] << 8 | out[12], 1940 - 269);
    assert_int_equal(out[13], 200 - 13);
    assert_int_equal(out[len - 2], 0xff);
    assert_int_equal(coapraw_decode(out, len, &h), 0);
    assert_int_equal(h.version, 1);
    assert_int_equal(h.code, 0x45);
    assert_int_equal(h.mid, 0xbeef);
    assert_true(h.token_ok);
    assert_int_equal(coapraw_build(&s, out, 20, &len, &err), ASSAY_ENOMEM);
    s.opts = bad_order;
    s.nopts = 2;
    assert_int_equal(coapraw_build(&s, out, sizeof out, &len, &err), ASSAY_EINVAL);
    s.tkl = 16;
    assert_int_equal(coapraw_build(&s, out, sizeof out, &len, &err), ASSAY_EINVAL);
    assert_int_equal(coapraw_decode(out, 3, &h), ASSAY_EINVAL);
    assert_int_equal(coapraw_decode((const uint8_t *)"\x4f\x01\x00\x01", 4, &h), 0);
    assert_int_equal(h.tkl, 15);
    assert_false(h.token_ok);
    assert_int_equal(coapraw_decode((const uint8_t *)"\x48\x01\x00\x01\x01", 5, &h), 0);
    assert_false(h.token_ok);
    for (size_t i = 0; coapraw_preset_names[i]; i++)
        assert_int_equal(coapraw_preset(coapraw_preset_names[i], 7, out, sizeof out, &len, &err),
                         0);
    assert_int_equal(coapraw_preset("nope", 7, out, sizeof out, &len, &err), ASSAY_EINVAL);
}

/* Sends a preset to the server and returns the first reply's header (false: none). */
static bool raw_preset(const char *name, struct coapraw_header *h, struct coapraw_result *res)
{
    struct coapdrv_target t = target(server.udp_port, 300);
    struct capture cap = {0};
    struct transcript_sink sink = {capture_write, &cap};
    struct assay_error err = {0};
    uint8_t msg[64];
    size_t len;
    t.sink = &sink;
    assert_int_equal(coapraw_preset(name, 0x1234, msg, sizeof msg, &len, &err), 0);
    assert_int_equal(coapraw_exchange(&t, msg, len, 1, res, &err), 0);
    assert_int_equal(res->bytes_sent, len);
    assert_int_equal(cap.last_sent_len, len);
    assert_memory_equal(cap.last_sent, msg, len);
    print_message("raw %s: %zu replies", name, res->nreplies);
    if (res->nreplies == 0) {
        print_message("\n");
        return false;
    }
    *h = res->replies[0].hdr;
    print_message(" type %u code %u.%02u mid %04x\n", h->type, h->code >> 5, h->code & 31, h->mid);
    return true;
}

static void test_raw_malformed(void **state)
{
    struct coapraw_header h;
    struct coapraw_result res;
    bool alive = false;
    int64_t rtt = 0;
    struct coapdrv_target t = target(server.udp_port, 1000);
    struct assay_error err = {0};
    (void)state;
    for (size_t i = 0; coapraw_preset_names[i]; i++)
        raw_preset(coapraw_preset_names[i], &h, &res);
    assert_true(raw_preset("ping", &h, &res));
    assert_int_equal(h.type, 3); /* RST */
    assert_int_equal(h.mid, 0x1234);
    assert_int_equal(res.bytes_received, 4);
    /* libcoap 4.3.1 answers an unknown version with RST and message id 0
     * (RFC 7252 section 3 says to ignore it silently) */
    assert_true(raw_preset("bad-version", &h, &res));
    assert_int_equal(h.type, 3);
    assert_int_equal(h.mid, 0);
    assert_true(raw_preset("tkl-15", &h, &res)); /* a message format error: RST */
    assert_int_equal(h.type, 3);
    assert_int_equal(h.mid, 0x1234);
    assert_true(raw_preset("absurd-block2", &h, &res));
    assert_int_equal(h.code >> 5, 4);
    assert_true(raw_preset("unknown-critical", &h, &res));
    assert_int_equal(h.code, 4 << 5 | 2); /* 4.02 Bad Option */
    assert_int_equal(h.mid, 0x1234);
    /* the server still answers after all of that */
    assert_int_equal(coapdrv_alive(&t, &alive, &rtt, &err), 0);
    assert_true(alive);
    assert_true(rtt >= 0 && rtt < 1000);
}

static void test_alive_silent(void **state)
{
    uint16_t port;
    int fd = test_coap_silent_socket(&port);
    struct coapdrv_target t = target(port, 300);
    struct assay_error err = {0};
    bool alive = true;
    int64_t rtt = 0;
    assay_ms start = clock_now_ms();
    (void)state;
    assert_int_equal(coapdrv_alive(&t, &alive, &rtt, &err), 0);
    assert_false(alive);
    assert_int_equal(rtt, -1);
    assert_true(clock_now_ms() - start <= 300 + 100);
    close(fd);
    t.port = test_coap_closed_port();
    assert_int_equal(coapdrv_alive(&t, &alive, &rtt, &err), 0);
    assert_false(alive);
}

static void test_dtls_silent_and_closed(void **state)
{
    struct coapdrv_psk good = {"lab", (const uint8_t *)TEST_COAP_PSK_KEY,
                               strlen(TEST_COAP_PSK_KEY)};
    struct coapdrv_dtls_result res;
    struct assay_error err = {0};
    uint16_t port;
    int fd = test_coap_silent_socket(&port);
    struct coapdrv_target t = target(port, 500);
    assay_ms start = clock_now_ms();
    (void)state;
    assert_int_equal(coapdrv_dtls_probe_psk(&t, &good, &res, &err), 0);
    assert_string_equal(coapdrv_dtls_state_name(res.state), "silent");
    assert_true(clock_now_ms() - start <= 500 + 150);
    close(fd);
    t.port = test_coap_closed_port();
    assert_int_equal(coapdrv_dtls_probe_psk(&t, &good, &res, &err), 0);
    assert_string_equal(coapdrv_dtls_state_name(res.state), "unreachable");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get),
        cmocka_unit_test(test_not_found_and_methods),
        cmocka_unit_test(test_non_confirmable),
        cmocka_unit_test(test_block2_whole_and_capped),
        cmocka_unit_test(test_block1_put),
        cmocka_unit_test(test_silence_within_deadline),
        cmocka_unit_test(test_request_from_device),
        cmocka_unit_test(test_unreachable_and_scope),
        cmocka_unit_test(test_shared_context_sequence),
        cmocka_unit_test(test_dtls_psk),
        cmocka_unit_test(test_dtls_silent_and_closed),
        cmocka_unit_test(test_raw_build_and_decode),
        cmocka_unit_test(test_raw_malformed),
        cmocka_unit_test(test_alive_silent),
    };
    return cmocka_run_group_tests_name("coap", tests, setup, teardown);
}
