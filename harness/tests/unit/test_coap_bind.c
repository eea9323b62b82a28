/* test_coap_bind.c: the t.coap Lua binding, driven from a bare Lua state against the forked test
 * server. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <lauxlib.h>
#include <lualib.h>
#include <string.h>
#include <unistd.h>

#include "lua/bind_coap.h"
#include "test_coap_server.h"
#include "test_bind_util.h"

static struct test_coap_server server;
static struct scope scope;
static struct binding_env env;
static int silent_fd = -1;

static int setup(void **state)
{
    uint16_t silent = 0;
    (void)state;
    scope_init(&scope);
    if (scope_add(&scope, "127.0.0.1", NULL) || test_coap_server_start(&server))
        return -1;
    silent_fd = test_coap_silent_socket(&silent);
    env = (struct binding_env){
        .sink = &test_bind_sink, .scope = &scope, .timeout_ms = 2000, .max_connections = 1};
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    bind_coap_push(L, &env);
    lua_setglobal(L, "coap");
    lua_pushinteger(L, server.udp_port);
    lua_setglobal(L, "UDP");
    lua_pushinteger(L, server.dtls_port);
    lua_setglobal(L, "DTLS");
    lua_pushinteger(L, silent);
    lua_setglobal(L, "SILENT");
    lua_pushinteger(L, test_coap_closed_port());
    lua_setglobal(L, "CLOSED");
    lua_pushstring(L, TEST_COAP_PSK_KEY);
    lua_setglobal(L, "KEY");
    *state = L;
    return 0;
}

static int teardown(void **state)
{
    lua_close(*state);
    test_coap_server_stop(&server);
    if (silent_fd >= 0)
        close(silent_fd);
    scope_release(&scope);
    return 0;
}

static void test_methods(void **state)
{
    lua_State *L = *state;
    int before = sink_entries;
    run(L,
        "local ep = { address = '127.0.0.1', port = UDP }\n"
        "local r = assert(coap.get(ep, '/hello'))\n"
        "assert(r.code == '2.05' and r.class == 2 and r.detail == 5, r.code)\n"
        "assert(r.type == 'ACK' and r.payload == 'hello world')\n"
        "assert(r.options[1].name == 'Content-Format' and r.options[1].number == 12)\n"
        "assert(r.bytes_sent > 0 and r.bytes_received > #r.payload and r.exchanges == 1)\n"
        "assert(coap.get(ep, '/nope').code == '4.04')\n"
        "assert(coap.put(ep, '/store', { payload = 'v1' }).code == '2.04')\n"
        "assert(coap.get(ep, '/store').payload == 'v1')\n"
        "assert(coap.post(ep, '/store', { payload = 'v2', confirmable = false }).code == '2.01')\n"
        "assert(coap.delete(ep, '/store').code == '2.02')\n"
        "local big = coap.get(ep, '/big', { max_body = 2048 })\n"
        "assert(#big.payload == 2048 and big.truncated and big.note)\n");
    assert_true(sink_entries > before);
}

static void test_device_table_and_discover(void **state)
{
    lua_State *L = *state;
    run(L,
        "local dev = { address = '127.0.0.1', interfaces = {\n"
        "  { kind = 'mqtt-broker', port = 1 }, { kind = 'coap', port = UDP } } }\n"
        "local r = assert(coap.discover(dev))\n"
        "assert(r.code == '2.05' and r.links, r.link_error)\n"
        "local seen = {}\n"
        "for _, l in ipairs(r.links) do seen[l.target] = l end\n"
        "local h = assert(seen['/hello'], r.payload)\n"
        "assert(h.attrs[1].name == 'rt' and h.attrs[1].value == 'greeting' and h.attrs[1].quoted)\n"
        "local o = assert(seen['/obs'])\n"
        "local has_obs = false\n"
        "for _, a in ipairs(o.attrs) do if a.name == 'obs' and a.value == nil then has_obs = true "
        "end end\n"
        "assert(has_obs, r.payload)\n"
        "assert(coap.get({ address = '127.0.0.1', coap = { port = UDP } }, '/hello').payload == "
        "'hello world')\n");
}

static void test_expected_failures(void **state)
{
    lua_State *L = *state;
    run(L, "local r, why = coap.get({ address = '127.0.0.1', port = SILENT }, '/x', { timeout_ms = "
           "300 })\n"
           "assert(r == nil and why == 'timeout', why)\n"
           "r, why = coap.get({ address = '127.0.0.1', port = CLOSED }, '/x')\n"
           "assert(r == nil and why == 'unreachable', why)\n"
           "r, why = coap.get({ address = '10.9.9.9', port = UDP }, '/x')\n"
           "assert(r == nil and why:find('^out of scope'), why)\n"
           "r, why = coap.alive({ address = '127.0.0.1', port = SILENT }, { timeout_ms = 200 })\n"
           "assert(r == nil and why == 'timeout', why)\n"
           "local ok, rtt = coap.alive({ address = '127.0.0.1', port = UDP })\n"
           "assert(ok == true and rtt >= 0)\n");
}

static void test_dtls(void **state)
{
    lua_State *L = *state;
    run(L,
        "local ep = { address = '127.0.0.1', port = UDP, dtls_port = DTLS }\n"
        "local r = assert(coap.dtls_probe(ep, { identity = 'lab', key = KEY }))\n"
        "assert(r.established and r.state == 'established' and r.version == 'DTLSv1.2', r.state)\n"
        "assert(r.cipher:find('PSK'))\n"
        "r = assert(coap.dtls_probe(ep, { identity = 'lab', key = 'wrong' }, { timeout_ms = 600 "
        "}))\n"
        "assert(not r.established and r.state == 'rejected', r.state)\n"
        "r = assert(coap.get(ep, '/hello', { psk = { identity = 'lab', key = KEY } }))\n"
        "assert(r.payload == 'hello world')\n");
}

/* Requests keep their session per peer and security; close() and dtls_probe close them. */
static void test_sessions(void **state)
{
    lua_State *L = *state;
    run(L, "coap.close()\n"
           "local ep = { address = '127.0.0.1', port = UDP, dtls_port = DTLS }\n"
           "local psk = { identity = 'lab', key = KEY }\n"
           "for _ = 1, 3 do assert(coap.get(ep, '/hello').payload == 'hello world') end\n"
           "for _ = 1, 3 do\n"
           "  assert(coap.get(ep, '/hello', { psk = psk }).payload == 'hello world')\n"
           "end\n"
           "assert(coap.close() == 2)\n"
           "assert(coap.close() == 0)\n"
           "assert(coap.get(ep, '/hello', { psk = psk }) and coap.get(ep, '/hello'))\n"
           "assert(coap.dtls_probe(ep, psk).established)\n"
           "assert(coap.close() == 0)\n");
}

static void test_raw(void **state)
{
    lua_State *L = *state;
    run(L, "local ep = { address = '127.0.0.1', port = UDP }\n"
           "local r = assert(coap.raw(ep, { preset = 'ping', mid = 0x4242 }))\n"
           "assert(#r.replies == 1 and r.replies[1].type == 'RST' and r.replies[1].mid == 0x4242)\n"
           "assert(r.bytes_sent == 4 and r.bytes_received == 4)\n"
           "r = assert(coap.raw(ep, '\\x40\\x01\\x12\\x34\\xbb.well-known\\x04core'))\n"
           "assert(r.replies[1].code == '2.05' and r.replies[1].mid == 0x1234)\n"
           "assert(r.bytes_received > r.bytes_sent)\n"
           "r = assert(coap.raw(ep, { type = 0, code = 1, mid = 7, token = 'ab',\n"
           "  options = { { number = 11, value = 'hello' } } }))\n"
           "assert(r.replies[1].code == '2.05' and r.replies[1].token == 'ab')\n"
           "assert(r.replies[1].bytes:find('hello world', 1, true))\n"
           "r = assert(coap.raw(ep, { preset = 'unknown-critical' }))\n"
           "assert(r.replies[1].code == '4.02')\n"
           "r = assert(coap.raw({ address = '127.0.0.1', port = SILENT }, { preset = 'ping' }, { "
           "timeout_ms = 200 }))\n"
           "assert(#r.replies == 0 and r.datagrams == 0)\n");
}

static void test_misuse_raises(void **state)
{
    lua_State *L = *state;
    int before = sink_entries;
    run_raises(L, "coap.get({ port = 1 }, '/x')", "address");
    run_raises(L, "coap.get({ address = '127.0.0.1', port = 70000 }, '/x')", "port");
    run_raises(L, "coap.get({ address = '127.0.0.1' }, '/x', { timeout_ms = 999999 })",
               "timeout_ms");
    run_raises(L, "coap.raw({ address = '127.0.0.1' }, { preset = 'nope' })", "unknown preset");
    run_raises(L, "coap.raw({ address = '127.0.0.1' }, '')", "1..1280");
    run_raises(L, "coap.dtls_probe({ address = '127.0.0.1' }, { identity = 'x' })", "psk");
    run_raises(L, "coap.get({ address = '127.0.0.1', interfaces = {} }, '/x')",
               "no coap interface");
    assert_int_equal(sink_entries, before); /* nothing was sent */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_methods),           cmocka_unit_test(test_device_table_and_discover),
        cmocka_unit_test(test_expected_failures), cmocka_unit_test(test_dtls),
        cmocka_unit_test(test_sessions),          cmocka_unit_test(test_raw),
        cmocka_unit_test(test_misuse_raises),
    };
    return cmocka_run_group_tests_name("coap_bind", tests, setup, teardown);
}
