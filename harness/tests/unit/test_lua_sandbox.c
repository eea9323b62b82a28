/* test_lua_sandbox.c: escapes and runaways in the sandbox end as errors with a clear message. */
#include "test_lua_util.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <lauxlib.h>

#include "core/clock.h"
#include "lua/sandbox.h"

struct chunk {
    const char *src;
    char out[256];
};

/* Runs armed: a fresh environment, the chunk, its result as text. */
static int l_chunk(lua_State *L)
{
    struct chunk *c = lua_touserdata(L, 1);
    sandbox_push_env(L);
    if (luaL_loadbufferx(L, c->src, strlen(c->src), "@chunk.lua", "t") != LUA_OK)
        return lua_error(L);
    lua_insert(L, -2);
    lua_setupvalue(L, -2, 1);
    lua_call(L, 0, 1);
    snprintf(c->out, sizeof(c->out), "%s", luaL_tolstring(L, -1, NULL));
    return 0;
}

/* Returns 0 and the chunk's result in out, or the error code with err.msg set. */
static int run(struct sandbox *sb, const char *src, const struct sandbox_limits *lim,
               struct assay_error *err, char *out)
{
    struct chunk c = {.src = src};
    lua_State *L = sandbox_lua(sb);
    lua_pushcfunction(L, l_chunk);
    lua_pushlightuserdata(L, &c);
    memset(err, 0, sizeof(*err));
    int rc = sandbox_call(sb, 1, 0, lim, err);
    snprintf(out, 256, "%s", c.out);
    return rc;
}

static int setup(void **state)
{
    struct sandbox *sb = NULL;
    struct assay_error err = {0};
    if (sandbox_new(REAL_PROFILES, 8u << 20, &sb, &err) != 0)
        return -1;
    *state = sb;
    return 0;
}

static int teardown(void **state)
{
    sandbox_free(*state);
    return 0;
}

static const struct sandbox_limits SMALL = {
    .instructions = 2000000, .deadline_ms = 5000, .memory_bytes = 4u << 20};

static void want_error(struct sandbox *sb, const char *src, const char *needle,
                       const struct sandbox_limits *lim)
{
    struct assay_error err;
    char out[256];
    assay_ms t0 = clock_now_ms();
    int rc = run(sb, src, lim ? lim : &SMALL, &err, out);
    if (rc != ASSAY_EPROFILE || !strstr(err.msg, needle))
        fail_msg("chunk [%s]: rc %d, message [%s], result [%s]; wanted an error with [%s]", src, rc,
                 err.msg, out, needle);
    assert_true(clock_now_ms() - t0 < 4000);
    /* The next run on the same state works. */
    assert_int_equal(run(sb, "return 6 * 7", &SMALL, &err, out), 0);
    assert_string_equal(out, "42");
}

static void want_value(struct sandbox *sb, const char *src, const char *want)
{
    struct assay_error err;
    char out[256];
    int rc = run(sb, src, &SMALL, &err, out);
    if (rc != 0 || strcmp(out, want) != 0)
        fail_msg("chunk [%s]: rc %d [%s], result [%s], wanted [%s]", src, rc, err.msg, out, want);
}

static void test_environment_is_allow_listed(void **state)
{
    struct sandbox *sb = *state;
    want_value(sb,
               "return tostring(io == nil and os == nil and debug == nil and package == nil"
               " and dofile == nil and loadfile == nil and collectgarbage == nil"
               " and print == nil and string.dump == nil and ('').dump == nil)",
               "true");
    want_value(sb, "return tostring(getmetatable(''))", "false");
    want_value(sb, "return type(table.concat) .. type(math.floor) .. type(utf8.char)",
               "functionfunctionfunction");
    want_value(sb, "local f = load('return io') return tostring(f())", "nil");
    want_value(sb, "local f = load('x = 41') f() return x + 1", "42");
}

static void test_escapes_are_errors(void **state)
{
    struct sandbox *sb = *state;
    want_error(sb, "return io.open('/etc/passwd')", "global 'io'", NULL);
    want_error(sb, "return os.execute('true')", "global 'os'", NULL);
    want_error(sb, "return debug.sethook()", "global 'debug'", NULL);
    want_error(sb, "return dofile('/etc/passwd')", "global 'dofile'", NULL);
    want_error(sb, "return package.loadlib('x', 'y')", "global 'package'", NULL);
    want_error(sb, "return string.dump(function() end)", "field 'dump'", NULL);
    want_error(sb, "local f, e = load(string.char(27) .. 'LuaT') error(e)",
               "attempt to load a binary chunk", NULL);
    want_error(sb, "return require('../../../etc/passwd')", "not a module name", NULL);
    want_error(sb, "return require('os')", "no module 'os' in profiles/lib", NULL);
    want_error(sb, "pcall(require, 'nosuch') return require('nosuch')", "no module 'nosuch'", NULL);
    want_error(sb, "return load_data('../lib/verdict')", "not a data file name", NULL);
    want_error(sb, "setmetatable({}, {__gc = function() while true do end end})",
               "__gc metamethods are not allowed", NULL);
    want_error(sb, "return setmetatable('', {})", "bad argument", NULL);
}

static void test_libraries_are_per_chunk(void **state)
{
    struct sandbox *sb = *state;
    want_value(sb, "string.upper = nil; table.concat = nil; return 'x'", "x");
    want_value(sb, "return ('a'):upper() .. string.upper('b') .. table.concat({'c'})", "ABc");
    want_value(sb, "return require('verdict').PASS('n=%d', 3).rationale", "n=3");
}

static void test_runaway_loops_end(void **state)
{
    struct sandbox *sb = *state;
    const char *budget = "instruction budget exceeded";
    want_error(sb, "while true do end", budget, NULL);
    want_error(sb, "while true do pcall(function() while true do end end) end", budget, NULL);
    want_error(sb, "while true do pcall(coroutine.wrap(function() while true do end end)) end",
               budget, NULL);
    want_error(sb,
               "while true do local co = coroutine.create(function() while true do end end)"
               " coroutine.resume(co) end",
               budget, NULL);
    want_error(sb,
               "local f = coroutine.wrap(function() while true do pcall(function()"
               " while true do end end) end end) while true do pcall(f) end",
               budget, NULL);
    /* A trip caught by pcall still ends the run as an error. */
    want_error(sb, "pcall(function() while true do end end) return 'survived'", budget, NULL);
    want_error(sb, "local ok = pcall(function() while true do end end) return ok", budget, NULL);
}

static void test_deadline(void **state)
{
    struct sandbox *sb = *state;
    struct sandbox_limits lim = {
        .instructions = UINT64_MAX / 2, .deadline_ms = 200, .memory_bytes = 4u << 20};
    assay_ms t0 = clock_now_ms();
    want_error(sb, "while true do pcall(coroutine.wrap(function() while true do end end)) end",
               "deadline exceeded (200 ms)", &lim);
    assay_ms took = clock_now_ms() - t0;
    assert_true(took >= 200);
    assert_true(took < 1500);
}

static void test_memory_bombs(void **state)
{
    struct sandbox *sb = *state;
    const char *cap = "memory";
    want_error(sb, "local s = 'x' while true do s = s .. s end", cap, NULL);
    want_error(sb, "return #string.rep('x', 1e9)", cap, NULL);
    want_error(sb, "local t = {} for i = 1, 1e9 do t[i] = i end", cap, NULL);
    /* Caught by pcall: the cap was still reached, so the run is an error. */
    want_error(sb, "pcall(string.rep, 'x', 1e9) return 'survived'", "memory cap exceeded", NULL);
}

static void test_runtime_error_names_the_line(void **state)
{
    struct sandbox *sb = *state;
    want_error(sb, "local x = 1\nerror('boom')", "chunk.lua:2: boom", NULL);
    want_error(sb, "error({})", "error object is a table value", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_environment_is_allow_listed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escapes_are_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_libraries_are_per_chunk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_runaway_loops_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_bombs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_runtime_error_names_the_line, setup, teardown),
    };
    return cmocka_run_group_tests_name("lua_sandbox", tests, NULL, NULL);
}
