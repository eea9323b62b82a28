/*
 * test_bind_util.h: shared by the binding unit tests (test_mqtt_bind.c,
 * test_coap_bind.c) that drive a t.<protocol> table from a bare Lua state: a
 * transcript sink that counts its entries, and running a chunk that must
 * succeed or must raise. Include after <cmocka.h> and <lauxlib.h>.
 */
#ifndef ASSAY_TEST_BIND_UTIL_H
#define ASSAY_TEST_BIND_UTIL_H

#include <string.h>

#include "core/transcript.h"

/* Entries written to test_bind_sink so far. */
static int sink_entries;

static inline void test_bind_count_entry(void *ctx, const struct transcript_entry *e)
{
    (void)ctx;
    (void)e;
    sink_entries++;
}

static const struct transcript_sink test_bind_sink = {test_bind_count_entry, NULL};

/* Runs a chunk; fails the test with Lua's message if it raises. */
static inline void run(lua_State *L, const char *code)
{
    if (luaL_loadstring(L, code) != LUA_OK || lua_pcall(L, 0, 0, 0) != LUA_OK) {
        print_error("lua: %s\n", lua_tostring(L, -1));
        lua_pop(L, 1);
        fail();
    }
}

/* Expects the chunk to raise an error containing `needle`. */
static inline void run_raises(lua_State *L, const char *code, const char *needle)
{
    assert_int_equal(luaL_loadstring(L, code), LUA_OK);
    assert_int_not_equal(lua_pcall(L, 0, 0, 0), LUA_OK);
    if (!strstr(lua_tostring(L, -1), needle))
        print_error("lua error was: %s\n", lua_tostring(L, -1));
    assert_non_null(strstr(lua_tostring(L, -1), needle));
    lua_pop(L, 1);
}

#endif
