/*
 * test_modbus_bind.c: the t.modbus Lua binding, driven from Lua chunks in a
 * bare Lua state against the in-process test server.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <lauxlib.h>
#include <lualib.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/modbus.h"
#include "lua/bind_modbus.h"
#include "test_modbus_server.h"

struct fixture {
    struct tms server;
    struct scope scope;
    struct binding_env env;
    lua_State *L;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f || tms_start(&f->server) != 0)
        return -1;
    scope_init(&f->scope);
    scope_add(&f->scope, "127.0.0.1", NULL);
    f->env = (struct binding_env){.scope = &f->scope, .timeout_ms = 500, .max_connections = 1};
    f->L = luaL_newstate();
    luaL_openlibs(f->L);
    lua_createtable(f->L, 0, 1);
    bind_modbus_push(f->L, &f->env);
    lua_setfield(f->L, -2, "modbus");
    lua_setglobal(f->L, "t");
    lua_pushinteger(f->L, f->server.port);
    lua_setglobal(f->L, "PORT");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    lua_close(f->L); /* collects any connection left open */
    assert_int_equal(modbus_conn_count("127.0.0.1", f->server.port), 0);
    assert_int_equal(f->server.fc08_seen, 0);
    tms_stop(&f->server);
    scope_release(&f->scope);
    free(f);
    return 0;
}

/* Runs a chunk; fails the test with Lua's message if it raises. */
static void run(struct fixture *f, const char *chunk)
{
    if (luaL_loadbufferx(f->L, chunk, strlen(chunk), "=test", "t") != LUA_OK ||
        lua_pcall(f->L, 0, 0, 0) != LUA_OK)
        fail_msg("%s", lua_tostring(f->L, -1));
}

/* Runs a chunk that must raise an error containing `want`. */
static void run_raises(struct fixture *f, const char *chunk, const char *want)
{
    if (luaL_loadbufferx(f->L, chunk, strlen(chunk), "=test", "t") != LUA_OK)
        fail_msg("%s", lua_tostring(f->L, -1));
    if (lua_pcall(f->L, 0, 0, 0) == LUA_OK)
        fail_msg("no error raised; expected '%s'", want);
    const char *msg = lua_tostring(f->L, -1);
    if (!msg || !strstr(msg, want))
        fail_msg("expected '%s' in '%s'", want, msg ? msg : "(null)");
    lua_pop(f->L, 1);
    lua_gc(f->L, LUA_GCCOLLECT); /* close what the failed chunk left open */
}

static void test_read_write(void **state)
{
    struct fixture *f = *state;
    run(f, "local c = assert(t.modbus.open({ address = '127.0.0.1', port = PORT }))\n"
           "local v = assert(c:read('holding', 1, 2))\n"
           "assert(#v == 2 and v[1] == 11 and v[2] == 21, 'holding values')\n"
           "v = assert(c:read('input', 0, 1)); assert(v[1] == 1000)\n"
           "v = assert(c:read('coils', 0, 3)); assert(v[1] == 0 and v[2] == 1 and v[3] == 0)\n"
           "assert(c:write('holding', 5, 4242) == true)\n"
           "assert(c:write('holding', 6, { 7, 8 }) == true)\n"
           "v = c:read('holding', 5, 3); assert(v[1] == 4242 and v[2] == 7 and v[3] == 8)\n"
           "local e = c:read('holding', 100, 1)\n"
           "assert(e.exception == 2 and e.name == 'illegal data address', 'exception as data')\n"
           "e = c:write('holding', 40, 1); assert(e.exception == 2)\n"
           "assert(c:alive({ table = 'input', address = 0 }) == true)\n"
           "assert(c:close() == true and c:close() == true and not c:is_open())\n"
           "local r, why = c:read('holding', 0, 1); assert(r == nil and why:find('^closed'))\n");
}

static void test_open_forms_and_failures(void **state)
{
    struct fixture *f = *state;
    run(f, "local dut = { address = '127.0.0.1', interfaces = {\n"
           "  { kind = 'mqtt-broker', port = 1 }, { kind = 'modbus-tcp', port = PORT, unit_id = 1 "
           "} } }\n"
           "do local c <close> = assert(t.modbus.open(dut)); assert(c:read('input', 1, 1)[1] == "
           "1001) end\n"
           "do local c <close> = assert(t.modbus.open({ address = '127.0.0.1', modbus = { port = "
           "PORT } }))\n"
           "  assert(c:read('input', 2, 1)[1] == 1002)\n"
           "  local c2, why = t.modbus.open({ address = '127.0.0.1', port = PORT })\n"
           "  assert(c2 == nil and why:find('^connection limit'), why)\n"
           "end\n"
           "local c, why = t.modbus.open({ address = '127.0.0.5', port = PORT })\n"
           "assert(c == nil and why:find('^out of scope'), why)\n"
           "c, why = t.modbus.open({ address = 'localhost', port = PORT })\n"
           "assert(c == nil and why:find('^out of scope'), why)\n");
    assert_int_equal(f->server.connections, 2); /* the refused opens sent nothing */
}

static void test_argument_errors_raise_before_io(void **state)
{
    struct fixture *f = *state;
    run_raises(f, "t.modbus.open('127.0.0.1')", "table expected");
    run_raises(f, "t.modbus.open({ port = PORT })", "address");
    run_raises(f, "t.modbus.open({ address = '127.0.0.1', port = 70000 })", "port");
    run_raises(f, "t.modbus.open({ address = '127.0.0.1', interfaces = {} })", "no modbus-tcp");
    run_raises(f,
               "local c = t.modbus.open({ address = '127.0.0.1', port = PORT }); "
               "c:read('registers', 0, 1)",
               "holding");
    run_raises(f,
               "local c = t.modbus.open({ address = '127.0.0.1', port = PORT }); "
               "c:read('holding', 0, 126)",
               "count");
    run_raises(f,
               "local c = t.modbus.open({ address = '127.0.0.1', port = PORT }); "
               "c:write('input', 0, 1)",
               "written");
    run_raises(f,
               "local c = t.modbus.open({ address = '127.0.0.1', port = PORT }); "
               "c:write('holding', 0, { 1, 'x' })",
               "integers");
    assert_int_equal(f->server.requests, 0);
    lua_gc(f->L, LUA_GCCOLLECT); /* __gc closes the connections the chunks dropped */
    assert_int_equal(modbus_conn_count("127.0.0.1", f->server.port), 0);
}

static void test_identify_server_id_raw(void **state)
{
    struct fixture *f = *state;
    run(f, "local c <close> = assert(t.modbus.open({ address = '127.0.0.1', port = PORT }))\n"
           "local id = assert(c:identify())\n"
           "assert(id.vendor_name == 'ProbeVendor' and id.product_code == 'PRB-1000')\n"
           "assert(id.revision == '1.2.3' and id.model_name == 'PM-1' and #id.objects == 6)\n"
           "assert(id.pages == 3 and id.conformity == 0x82 and id.truncated == false)\n"
           "id = assert(c:identify('basic')); assert(#id.objects == 3 and id.vendor_url == nil)\n"
           "local e = c:identify('specific', 0x60); assert(e.exception == 2)\n"
           "local s = assert(c:server_id()); assert(s.run == true and s.data:find('LMB'))\n"
           "local r = c:raw('\\0\\1\\0\\0\\0\\2\\1\\65')\n"
           "assert(r.outcome == 'exception' and r.exception == 1 and r.complete and #r.bytes == 9, "
           "r.outcome .. ' ' .. #r.bytes .. ' ' .. r.elapsed_ms)\n"
           "r = c:raw('\\0\\2\\0\\0\\0\\6\\1\\3\\0\\0\\0\\1', 4)\n"
           "assert(r.outcome == 'reply' and #r.bytes == 4 and not r.complete)\n");
}

static void test_fc08_and_silence(void **state)
{
    struct fixture *f = *state;
    run_raises(f,
               "local c = t.modbus.open({ address = '127.0.0.1', port = PORT }); "
               "c:raw('\\0\\1\\0\\0\\0\\6\\1\\8\\0\\4\\0\\0')",
               "0x08");
    assert_int_equal(f->server.requests, 0);
    f->server.mode = TMS_SILENT;
    run(f,
        "local c <close> = assert(t.modbus.open({ address = '127.0.0.1', port = PORT },"
        "  { timeout_ms = 150 }))\n"
        "local v, why = c:read('holding', 0, 1); assert(v == nil and why:find('^timeout'), why)\n"
        "local ok, why2 = c:alive('input', 0); assert(ok == false and why2:find('^timeout'))\n"
        "local r = c:raw('\\0\\1\\0\\0\\0\\6\\1\\3\\0\\0\\0\\1')\n"
        "assert(r.outcome == 'timeout' and r.bytes == '')\n"
        "v, why = c:identify(); assert(v == nil and why:find('^timeout'))\n");
    f->server.mode = TMS_CLOSE;
    run(f, "local c <close> = assert(t.modbus.open({ address = '127.0.0.1', port = PORT }))\n"
           "local v, why = c:read('holding', 0, 1); assert(v == nil and why:find('^closed'), why)\n"
           "assert(not c:is_open())\n"
           "local c2 = assert(t.modbus.open({ address = '127.0.0.1', port = PORT }))\n"
           "c2:close()\n");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_read_write),
        T(test_open_forms_and_failures),
        T(test_argument_errors_raise_before_io),
        T(test_identify_server_id_raw),
        T(test_fc08_and_silence),
    };
    return cmocka_run_group_tests_name("modbus_bind", tests, NULL, NULL);
}
