/*
 * test_tcpscan.c: the attack-surface scan (drivers/tcpscan.h) and its t.surface
 * binding against listeners of this test on 127.0.0.1: open, closed and
 * out-of-scope ports, the budget, the pause between ports, and the CoAP UDP ping
 * (a Reset from a CoAP-like responder, ICMP unreachable from a closed port).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <lauxlib.h>
#include <lualib.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "drivers/tcpscan.h"
#include "lua/bind_surface.h"

/* A socket of `type` bound to 127.0.0.1:0 (listening if TCP); *port gets its port. */
static int bound_socket(int type, uint16_t *port)
{
    int fd = socket(AF_INET, type, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    if (type == SOCK_STREAM)
        assert_int_equal(listen(fd, 8), 0);
    socklen_t len = sizeof(a);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* A port number nothing listens on (bound, then released). */
static uint16_t closed_port(int type)
{
    uint16_t p;
    close(bound_socket(type, &p));
    return p;
}

static void loopback_scope(struct scope *s)
{
    scope_init(s);
    assert_int_equal(scope_add(s, "127.0.0.1", NULL), 0);
}

static void test_open_and_closed(void **state)
{
    (void)state;
    struct scope s;
    loopback_scope(&s);
    uint16_t open_port;
    int lfd = bound_socket(SOCK_STREAM, &open_port);
    uint16_t ports[3] = {closed_port(SOCK_STREAM), open_port, closed_port(SOCK_STREAM)};
    struct tcpscan_result r[3];
    struct tcpscan_opts o = {
        .connect_timeout_ms = 1000, .pause_ms = 30, .deadline = clock_deadline(5000)};
    assay_ms start = clock_now_ms();
    assert_int_equal(tcpscan_tcp(&s, NULL, "127.0.0.1", ports, 3, &o, r, NULL), 0);
    assert_true(clock_now_ms() - start >= 60); /* two pauses between three ports */
    assert_int_equal(r[0].state, TCPSCAN_CLOSED);
    assert_int_equal(r[1].state, TCPSCAN_OPEN);
    assert_int_equal(r[1].port, open_port);
    assert_int_equal(r[2].state, TCPSCAN_CLOSED);
    /* The connection was made and closed at once: the listener has one, already at EOF. */
    int cfd = accept(lfd, NULL, NULL);
    assert_true(cfd >= 0);
    char b;
    assert_int_equal(recv(cfd, &b, 1, 0), 0);
    close(cfd);
    close(lfd);
    scope_release(&s);
}

static void test_scope_and_arguments(void **state)
{
    (void)state;
    struct scope s;
    loopback_scope(&s);
    uint16_t ports[1] = {80};
    struct tcpscan_result r[1];
    struct tcpscan_opts o = {.connect_timeout_ms = 100, .deadline = clock_deadline(1000)};
    struct assay_error err = {0};
    assert_int_equal(tcpscan_tcp(&s, NULL, "127.0.0.2", ports, 1, &o, r, &err), ASSAY_ESCOPE);
    assert_int_equal(tcpscan_tcp(&s, NULL, "localhost", ports, 1, &o, r, &err), ASSAY_ESCOPE);
    uint16_t zero[1] = {0};
    assert_int_equal(tcpscan_tcp(&s, NULL, "127.0.0.1", zero, 1, &o, r, &err), ASSAY_EINVAL);
    o.connect_timeout_ms = 0;
    assert_int_equal(tcpscan_tcp(&s, NULL, "127.0.0.1", ports, 1, &o, r, &err), ASSAY_EINVAL);
    scope_release(&s);
}

static void test_budget_skips(void **state)
{
    (void)state;
    struct scope s;
    loopback_scope(&s);
    uint16_t ports[4] = {closed_port(SOCK_STREAM), closed_port(SOCK_STREAM),
                         closed_port(SOCK_STREAM), closed_port(SOCK_STREAM)};
    struct tcpscan_result r[4];
    struct tcpscan_opts o = {
        .connect_timeout_ms = 100, .pause_ms = 200, .deadline = clock_deadline(250)};
    assert_int_equal(tcpscan_tcp(&s, NULL, "127.0.0.1", ports, 4, &o, r, NULL), 0);
    assert_int_equal(r[0].state, TCPSCAN_CLOSED);
    assert_int_equal(r[3].state, TCPSCAN_SKIPPED);
    scope_release(&s);
}

/* Answers one CoAP ping with a Reset echoing its message id. */
static void *coap_responder(void *arg)
{
    int fd = *(int *)arg;
    uint8_t b[64];
    struct sockaddr_storage from;
    socklen_t flen = sizeof(from);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 3000) == 1) {
        ssize_t n = recvfrom(fd, b, sizeof(b), 0, (struct sockaddr *)&from, &flen);
        if (n == 4) {
            uint8_t rst[4] = {0x70, 0x00, b[2], b[3]};
            sendto(fd, rst, sizeof(rst), 0, (struct sockaddr *)&from, flen);
        }
    }
    return NULL;
}

static void test_udp_coap(void **state)
{
    (void)state;
    struct scope s;
    loopback_scope(&s);
    uint16_t port;
    int fd = bound_socket(SOCK_DGRAM, &port);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, coap_responder, &fd), 0);
    struct tcpscan_result r;
    int type = -9;
    assert_int_equal(tcpscan_udp_coap(&s, NULL, "127.0.0.1", port, 2000, &r, &type, NULL), 0);
    pthread_join(th, NULL);
    assert_int_equal(r.state, TCPSCAN_OPEN);
    assert_int_equal(type, 3); /* Reset */
    close(fd);
    /* A closed UDP port: ICMP port unreachable. */
    assert_int_equal(
        tcpscan_udp_coap(&s, NULL, "127.0.0.1", closed_port(SOCK_DGRAM), 1000, &r, &type, NULL), 0);
    assert_int_equal(r.state, TCPSCAN_CLOSED);
    /* A bound socket that never answers: silence. */
    fd = bound_socket(SOCK_DGRAM, &port);
    assert_int_equal(tcpscan_udp_coap(&s, NULL, "127.0.0.1", port, 200, &r, &type, NULL), 0);
    assert_int_equal(r.state, TCPSCAN_FILTERED);
    close(fd);
    assert_int_equal(tcpscan_udp_coap(&s, NULL, "127.0.0.9", port, 200, &r, &type, NULL),
                     ASSAY_ESCOPE);
    scope_release(&s);
}

/* Runs a chunk with `t.surface` as global `surface` and the open port as `OPEN`. */
static void test_binding(void **state)
{
    (void)state;
    struct scope s;
    loopback_scope(&s);
    uint16_t open_port;
    int lfd = bound_socket(SOCK_STREAM, &open_port);
    struct binding_env env = {.scope = &s, .timeout_ms = 500, .pause_ms = 0};
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    bind_surface_push(L, &env);
    lua_setglobal(L, "surface");
    lua_pushinteger(L, open_port);
    lua_setglobal(L, "OPEN");
    lua_pushinteger(L, closed_port(SOCK_STREAM));
    lua_setglobal(L, "CLOSED");
    const char *chunk =
        "local r = assert(surface.tcp_scan('127.0.0.1', { OPEN, CLOSED }))\n"
        "assert(#r == 2 and r[1].port == OPEN and r[1].state == 'open', r[1].state)\n"
        "assert(r[2].state == 'closed')\n"
        "local x, why = surface.tcp_scan('10.0.0.1', { 80 })\n"
        "assert(x == nil and why:find('^out of scope'))\n"
        "assert(not pcall(surface.tcp_scan, '127.0.0.1', { 0 }))\n"
        "assert(not pcall(surface.tcp_scan, '127.0.0.1', { 80 }, { timeout_ms = -1 }))\n"
        "local u = assert(surface.udp_coap('127.0.0.1', CLOSED, { timeout_ms = 300 }))\n"
        "assert(u.state == 'closed' or u.state == 'filtered')\n";
    if (luaL_dostring(L, chunk) != LUA_OK)
        fail_msg("%s", lua_tostring(L, -1));
    lua_close(L);
    close(lfd);
    scope_release(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_and_closed), cmocka_unit_test(test_scope_and_arguments),
        cmocka_unit_test(test_budget_skips),    cmocka_unit_test(test_udp_coap),
        cmocka_unit_test(test_binding),
    };
    return cmocka_run_group_tests_name("tcpscan", tests, NULL, NULL);
}
