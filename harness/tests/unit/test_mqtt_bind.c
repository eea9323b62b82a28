/* test_mqtt_bind.c: the t.mqtt Lua binding, driven from a bare Lua state against real mosquitto. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <lauxlib.h>
#include <lualib.h>
#include <string.h>
#include <unistd.h>

#include "lua/bind_mqtt.h"
#include "test_mqtt_broker.h"
#include "test_bind_util.h"

static struct test_mqtt_broker anon, auth, tls;
static struct scope scope;
static struct binding_env env;
static int silent_fd = -1;

static void set_int(lua_State *L, const char *name, lua_Integer v)
{
    lua_pushinteger(L, v);
    lua_setglobal(L, name);
}

static void set_str(lua_State *L, const char *name, const char *v)
{
    lua_pushstring(L, v);
    lua_setglobal(L, name);
}

static int setup(void **state)
{
    uint16_t silent = 0;
    (void)state;
    scope_init(&scope);
    if (scope_add(&scope, "127.0.0.1", NULL) || test_mqtt_broker_start(&anon, TEST_MQTT_ANON) ||
        test_mqtt_broker_start(&auth, TEST_MQTT_AUTH) ||
        test_mqtt_broker_start(&tls, TEST_MQTT_TLS))
        return -1;
    silent_fd = test_mqtt_silent_listener(&silent);
    env = (struct binding_env){
        .sink = &test_bind_sink, .scope = &scope, .timeout_ms = 4000, .max_connections = 1};
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    bind_mqtt_push(L, &env);
    lua_setglobal(L, "mqtt");
    set_int(L, "ANON", anon.port);
    set_int(L, "AUTH", auth.port);
    set_int(L, "TLS", tls.port);
    set_int(L, "SILENT", silent);
    set_int(L, "CLOSED", test_mqtt_closed_port());
    set_str(L, "CA", tls.ca);
    set_str(L, "OTHER_CA", tls.other_ca);
    set_str(L, "USER", TEST_MQTT_USER);
    set_str(L, "PASS", TEST_MQTT_PASSWORD);
    *state = L;
    return 0;
}

static int teardown(void **state)
{
    lua_close(*state);
    test_mqtt_broker_stop(&anon);
    test_mqtt_broker_stop(&auth);
    test_mqtt_broker_stop(&tls);
    if (silent_fd >= 0)
        close(silent_fd);
    scope_release(&scope);
    return 0;
}

static void test_connect(void **state)
{
    lua_State *L = *state;
    run(L, "local r = assert(mqtt.connect({address='127.0.0.1', port=ANON}))\n"
           "assert(r.accepted == true and r.code == 0 and r.reason == 'accepted', r.reason)\n"
           "r = assert(mqtt.connect({address='127.0.0.1', port=AUTH}))\n"
           "assert(r.accepted == false and r.code == 5 and r.reason == 'not authorised')\n"
           "r = assert(mqtt.connect({address='127.0.0.1', port=AUTH}, {version=5}))\n"
           "assert(r.accepted == false and r.code == 0x87 and r.version == 5)\n"
           "r = assert(mqtt.connect({address='127.0.0.1', port=AUTH}, {user=USER, password='x'}))\n"
           "assert(r.accepted == false and r.code == 5)\n"
           "r = assert(mqtt.connect({address='127.0.0.1', port=AUTH},\n"
           "                        {username=USER, password=PASS}))\n"
           "assert(r.accepted == true)\n"
           "-- a device table with its mqtt_broker interface\n"
           "r = assert(mqtt.connect({address='127.0.0.1', mqtt_broker={port=ANON}}))\n"
           "assert(r.accepted)\n");
}

static void test_connect_failures(void **state)
{
    lua_State *L = *state;
    run(L, "local r, why = mqtt.connect({address='127.0.0.1', port=CLOSED})\n"
           "assert(r == nil and why:find('^transport'), why)\n"
           "local t0 = os.clock()\n"
           "r, why = mqtt.connect({address='127.0.0.1', port=SILENT}, {timeout_ms=1000})\n"
           "assert(r == nil and why == 'timeout', why)\n"
           "r, why = mqtt.connect({address='127.0.0.2', port=ANON})\n"
           "assert(r == nil and why:find('^out of scope'), why)\n");
}

static void test_tls(void **state)
{
    lua_State *L = *state;
    run(L, "local ep = {address='127.0.0.1', port=TLS, tls=true}\n"
           "local r = assert(mqtt.connect(ep, {tls={ca=CA}}))\n"
           "assert(r.accepted)\n"
           "local r2, why = mqtt.connect(ep, {tls={ca=OTHER_CA, verify=true}})\n"
           "assert(r2 == nil and why:find('^transport'), why)\n"
           "r = assert(mqtt.connect(ep))   -- endpoint tls, no verification\n"
           "assert(r.accepted)\n"
           "local p = assert(mqtt.tls_probe(ep, {ca=CA}))\n"
           "assert(p.versions['TLSv1.3'].accepted and p.versions['TLSv1.2'].accepted)\n"
           "assert(not p.versions['TLSv1.0'].accepted and p.versions['TLSv1.0'].reason)\n"
           "assert(#p.accepted == 2 and p.accepted[1] == 'TLSv1.2')\n"
           "assert(p.versions['TLSv1.3'].cipher:find('^TLS_'))\n"
           "assert(p.chain[1].subject == 'CN=assay-test-broker' and p.chain[1].key_bits == 256)\n"
           "assert(p.verified == true and p.name_matches == true)\n"
           "p = assert(mqtt.tls_probe(ep, {ca=OTHER_CA}))\n"
           "assert(p.verified == false and #p.verify_error > 0)\n"
           "local n, e = mqtt.tls_probe(ep, {ca='/nonexistent.pem'})\n"
           "assert(n == nil and e:find('^error'), e)\n");
}

static void test_session(void **state)
{
    lua_State *L = *state;
    run(L,
        "local ep = {address='127.0.0.1', port=ANON}\n"
        "local pub = assert(mqtt.session(ep, {version=5, session_expiry=30}))\n"
        "assert(pub:publish('dev/state', 'on', {retain=true, qos=1}) == true)\n"
        "pub:close(); pub:close()\n"
        "local ok, why = pub:publish('dev/state', 'x')\n"
        "assert(ok == nil and why == 'closed')\n"
        "do\n"
        "  local s <close> = assert(mqtt.session(ep))\n"
        "  local r = assert(s:subscribe('dev/#', {max_messages=1, ms=4000}))\n"
        "  assert(r.code == 0 and r.stop == 'count' and #r.messages == 1)\n"
        "  local m = r.messages[1]\n"
        "  assert(m.topic == 'dev/state' and m.payload == 'on' and m.retained and m.qos == 0)\n"
        "  r = assert(s:subscribe('$SYS/#', {max_messages=2, max_bytes=4096, ms=4000}))\n"
        "  assert(#r.messages == 2 and r.messages[1].topic:find('^%$SYS/'))\n"
        "  assert(s:connected())\n"
        "end\n"
        "local s, why = mqtt.session({address='127.0.0.1', port=AUTH})\n"
        "assert(s == nil and why == 'refused: not authorised (code 5)', why)\n"
        "s = assert(mqtt.session({address='127.0.0.1', port=AUTH}, {user=USER, password=PASS}))\n"
        "local r = assert(s:subscribe('none/#', {ms=200}))\n"
        "assert(r.stop == 'time' and #r.messages == 0 and r.elapsed_ms >= 200)\n"
        "s = nil; collectgarbage()   -- __gc closes it\n");
}

static void test_raw_and_alive(void **state)
{
    lua_State *L = *state;
    run(L,
        "local ep = {address='127.0.0.1', port=ANON}\n"
        "local r = assert(mqtt.raw(ep, 'bad-length'))\n"
        "assert(r.closed and not r.silent and r.sent and r.connack == 0, r.outcome)\n"
        "r = assert(mqtt.raw(ep, 'wildcard-hash'))\n"
        "assert(r.closed and r.outcome == 'closed')\n"
        "r = assert(mqtt.raw(ep, 'ping'))\n"
        "assert(r.outcome == 'reply' and r.reply.type == 'PINGRESP' and r.reply.bytes == "
        "'\\xd0\\0')\n"
        "r = assert(mqtt.raw(ep, '\\xc0\\0'))   -- PINGREQ with no CONNECT first\n"
        "assert(r.closed and r.connack == -1)\n"
        "r = assert(mqtt.raw(ep, '\\x10\\x0d\\0\\4MQTT\\4\\2\\0\\10\\0\\1x'))  -- hand-made "
        "CONNECT\n"
        "assert(r.reply.type == 'CONNACK' and r.reply.code == 0)\n"
        "r = assert(mqtt.raw(ep, 'oversize', {oversize=4096, timeout_ms=500}))\n"
        "assert(r.silent and r.sent)\n"
        "r = assert(mqtt.raw({address='127.0.0.1', port=AUTH}, 'wildcard-plus'))\n"
        "assert(r.outcome == 'not accepted' and r.connack == 5 and not r.sent)\n"
        "local n, why = mqtt.raw({address='127.0.0.1', port=CLOSED}, 'ping')\n"
        "assert(n == nil and why == 'unreachable')\n"
        "local a = assert(mqtt.alive(ep))\n"
        "assert(a.alive and a.pingresp and a.rtt_ms >= 0 and a.code == 0)\n"
        "a = assert(mqtt.alive({address='127.0.0.1', port=AUTH}))\n"
        "assert(a.alive and not a.pingresp and a.code == 5)\n"
        "a = assert(mqtt.alive({address='127.0.0.1', port=AUTH}, {username=USER, password=PASS}))\n"
        "assert(a.pingresp)\n"
        "a = assert(mqtt.alive({address='127.0.0.1', port=SILENT}, {timeout_ms=500}))\n"
        "assert(not a.alive and a.outcome == 'silent')\n"
        "n, why = mqtt.alive({address='10.0.0.1', port=ANON})\n"
        "assert(n == nil and why:find('^out of scope'))\n");
}

static void test_misuse_raises_before_io(void **state)
{
    lua_State *L = *state;
    int before = sink_entries;
    run_raises(L, "mqtt.connect('127.0.0.1')", "table expected");
    run_raises(L, "mqtt.connect({port=1})", "needs an 'address'");
    run_raises(L, "mqtt.connect({address='127.0.0.1', port=ANON}, {version=3})", "'version'");
    run_raises(L, "mqtt.connect({address='127.0.0.1', port=ANON}, {session_expiry=5})",
               "session_expiry needs version = 5");
    run_raises(L, "mqtt.connect({address='127.0.0.1', port=70000})", "'port'");
    run_raises(L, "mqtt.connect({address='127.0.0.1', port=TLS}, {tls={verify=true}})",
               "tls.verify needs tls.ca");
    run_raises(L, "mqtt.connect({address='127.0.0.1', port=ANON}, {timeout_ms=999999})",
               "'timeout_ms'");
    run_raises(L, "mqtt.raw({address='127.0.0.1', port=ANON}, '')", "nothing to send");
    run_raises(L, "mqtt.raw({address='127.0.0.1', port=ANON}, 'oversize', {oversize=-1})",
               "'oversize'");
    assert_int_equal(sink_entries, before);
    run(L, "local s = assert(mqtt.session({address='127.0.0.1', port=ANON}))\n"
           "local ok, e = pcall(s.subscribe, s, '#', {max_messages=0})\n"
           "assert(not ok and e:find('max_messages'))\n"
           "ok, e = pcall(s.publish, s, 't', 'p', {qos=3})\n"
           "assert(not ok and e:find('qos'))\n"
           "s:close()\n"
           "ok, e = pcall(s.subscribe, 'not a session', '#')\n"
           "assert(not ok)\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect),       cmocka_unit_test(test_connect_failures),
        cmocka_unit_test(test_tls),           cmocka_unit_test(test_session),
        cmocka_unit_test(test_raw_and_alive), cmocka_unit_test(test_misuse_raises_before_io),
    };
    return cmocka_run_group_tests_name("mqtt_bind", tests, setup, teardown);
}
