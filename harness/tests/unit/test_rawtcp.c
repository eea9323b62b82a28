/* test_rawtcp.c: unit tests for the raw TCP client (drivers/rawtcp.h) against a local test server.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "drivers/rawtcp.h"
#include "test_modbus_server.h"

/* A sink that keeps the bytes of every SEND and RECV entry. */
struct capture {
    uint8_t sent[512], recvd[512];
    size_t nsent, nrecvd;
    int notes;
};

static void capture_write(void *ctx, const struct transcript_entry *e)
{
    struct capture *c = ctx;
    if (e->dir == TRANSCRIPT_SEND && e->bytes && c->nsent + e->nbytes <= sizeof(c->sent)) {
        memcpy(c->sent + c->nsent, e->bytes, e->nbytes);
        c->nsent += e->nbytes;
    } else if (e->dir == TRANSCRIPT_RECV && e->bytes && c->nrecvd + e->nbytes <= sizeof(c->recvd)) {
        memcpy(c->recvd + c->nrecvd, e->bytes, e->nbytes);
        c->nrecvd += e->nbytes;
    } else if (e->dir == TRANSCRIPT_NOTE) {
        c->notes++;
    }
}

struct fixture {
    struct tms server;
    struct scope scope;
    struct capture cap;
    struct transcript_sink sink;
    struct rawtcp c;
};

static int setup(void **state)
{
    static struct fixture f;
    memset(&f, 0, sizeof(f));
    if (tms_start(&f.server) != 0)
        return -1;
    scope_init(&f.scope);
    if (scope_add(&f.scope, "127.0.0.1", NULL) != 0)
        return -1;
    f.sink = (struct transcript_sink){.write = capture_write, .ctx = &f.cap};
    rawtcp_init(&f.c, &f.sink, "modbus");
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    rawtcp_close(&f->c, 0);
    tms_stop(&f->server);
    scope_release(&f->scope);
    return 0;
}

/* FC 03, 2 registers at 1, transaction 0x1234, unit 1. */
static const uint8_t read_req[] = {0x12, 0x34, 0, 0, 0, 6, 1, 3, 0, 1, 0, 2};

static void test_scope_refused(void **state)
{
    struct fixture *f = *state;
    struct assay_error err = {0};
    assert_int_equal(
        rawtcp_open(&f->c, &f->scope, "127.0.0.9", f->server.port, clock_deadline(500), &err),
        ASSAY_ESCOPE);
    assert_int_equal(
        rawtcp_open(&f->c, &f->scope, "localhost", f->server.port, clock_deadline(500), &err),
        ASSAY_ESCOPE);
    assert_int_equal(f->c.fd, -1);
    assert_int_equal(f->server.connections, 0);
}

static void test_exchange_and_transcript(void **state)
{
    struct fixture *f = *state;
    struct assay_error err = {0};
    assert_int_equal(
        rawtcp_open(&f->c, &f->scope, "127.0.0.1", f->server.port, clock_deadline(1000), &err), 0);
    assert_int_equal(rawtcp_send(&f->c, read_req, sizeof(read_req), clock_deadline(1000), &err), 0);
    uint8_t reply[64];
    size_t got = 0;
    assert_int_equal(rawtcp_recv_exact(&f->c, reply, 7, clock_deadline(1000), &got, &err), 0);
    assert_int_equal(got, 7);
    assert_int_equal(reply[0], 0x12);
    assert_int_equal(reply[1], 0x34);
    size_t rest = ((size_t)reply[4] << 8 | reply[5]) - 1;
    assert_int_equal(rest, 6); /* fc, byte count, 2 registers */
    assert_int_equal(rawtcp_recv_exact(&f->c, reply + 7, rest, clock_deadline(1000), &got, &err),
                     0);
    assert_int_equal(reply[7], 3);
    assert_int_equal(reply[8], 4);
    assert_int_equal(reply[9] << 8 | reply[10], 11); /* register 1 = 1 * 10 + 1 */
    assert_int_equal(reply[11] << 8 | reply[12], 21);
    /* the transcript holds exactly what went each way */
    assert_int_equal(f->cap.nsent, sizeof(read_req));
    assert_memory_equal(f->cap.sent, read_req, sizeof(read_req));
    assert_int_equal(f->cap.nrecvd, 13);
    assert_memory_equal(f->cap.recvd, reply, 13);
    assert_int_equal(f->c.bytes_received, 13);
}

static void test_recv_cap(void **state)
{
    struct fixture *f = *state;
    struct assay_error err = {0};
    assert_int_equal(
        rawtcp_open(&f->c, &f->scope, "127.0.0.1", f->server.port, clock_deadline(1000), &err), 0);
    assert_int_equal(rawtcp_send(&f->c, read_req, sizeof(read_req), clock_deadline(1000), &err), 0);
    uint8_t reply[64];
    memset(reply, 0xEE, sizeof(reply));
    size_t got = 0;
    assert_int_equal(rawtcp_recv(&f->c, reply, 3, clock_deadline(1000), &got, &err), 0);
    assert_true(got >= 1 && got <= 3);
    assert_int_equal(reply[3], 0xEE); /* nothing past the cap */
}

static void test_silence_times_out(void **state)
{
    struct fixture *f = *state;
    struct assay_error err = {0};
    f->server.mode = TMS_SILENT;
    assert_int_equal(
        rawtcp_open(&f->c, &f->scope, "127.0.0.1", f->server.port, clock_deadline(1000), &err), 0);
    assert_int_equal(rawtcp_send(&f->c, read_req, sizeof(read_req), clock_deadline(1000), &err), 0);
    uint8_t reply[16];
    size_t got = 0;
    assay_ms t0 = clock_now_ms();
    assert_int_equal(rawtcp_recv(&f->c, reply, sizeof(reply), clock_deadline(200), &got, &err),
                     ASSAY_ETIMEOUT);
    int64_t took = clock_now_ms() - t0;
    assert_true(took >= 190 && took < 700);
    assert_int_equal(f->c.status, RAWTCP_TIMEOUT);
    assert_int_equal(got, 0);
}

static void test_peer_close(void **state)
{
    struct fixture *f = *state;
    struct assay_error err = {0};
    f->server.mode = TMS_CLOSE;
    assert_int_equal(
        rawtcp_open(&f->c, &f->scope, "127.0.0.1", f->server.port, clock_deadline(1000), &err), 0);
    assert_int_equal(rawtcp_send(&f->c, read_req, sizeof(read_req), clock_deadline(1000), &err), 0);
    uint8_t reply[16];
    size_t got = 0;
    assert_int_equal(rawtcp_recv(&f->c, reply, sizeof(reply), clock_deadline(2000), &got, &err),
                     ASSAY_ENET);
    assert_true(f->c.status == RAWTCP_CLOSED || f->c.status == RAWTCP_RESET);
}

static void test_refused(void **state)
{
    struct fixture *f = *state;
    struct assay_error err = {0};
    /* a port that was just free and has no listener */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    uint16_t port = ntohs(a.sin_port);
    close(fd);
    assert_int_equal(rawtcp_open(&f->c, &f->scope, "127.0.0.1", port, clock_deadline(1000), &err),
                     ASSAY_ENET);
    assert_int_equal(f->c.status, RAWTCP_REFUSED);
    assert_int_equal(f->c.fd, -1);
    assert_non_null(strstr(err.msg, "refused"));
}

static void test_misuse(void **state)
{
    struct fixture *f = *state;
    struct assay_error err = {0};
    uint8_t b[4];
    size_t got = 0;
    assert_int_equal(rawtcp_send(&f->c, b, 1, clock_deadline(10), &err), ASSAY_EINVAL);
    assert_int_equal(rawtcp_recv(&f->c, b, sizeof(b), clock_deadline(10), &got, &err),
                     ASSAY_EINVAL);
    assert_int_equal(rawtcp_open(&f->c, &f->scope, "127.0.0.1", 0, clock_deadline(10), &err),
                     ASSAY_EINVAL);
    rawtcp_close(&f->c, 10); /* closing a closed client is harmless */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_scope_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exchange_and_transcript, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recv_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_silence_times_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peer_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_misuse, setup, teardown),
    };
    return cmocka_run_group_tests_name("rawtcp", tests, NULL, NULL);
}
