/* test_lua_json.c: Lua <-> JSON conversion, the $hex rule and what cannot be stored. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "lua/luajson.h"

/* Evaluates src (with the base and string libraries) and converts its result. */
static int convert(const char *src, json_t **out, struct assay_error *err)
{
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    memset(err, 0, sizeof(*err));
    if (luaL_dostring(L, src) != LUA_OK)
        fail_msg("lua: %s", lua_tostring(L, -1));
    int rc = luajson_from_lua(L, -1, "observations", out, err);
    lua_close(L);
    return rc;
}

static char *dump(const char *src)
{
    json_t *j = NULL;
    struct assay_error err;
    if (convert(src, &j, &err) != 0)
        fail_msg("convert [%s]: %s", src, err.msg);
    char *s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(j);
    return s;
}

static void want_json(const char *src, const char *want)
{
    char *s = dump(src);
    if (strcmp(s, want) != 0)
        fail_msg("[%s] gave %s, wanted %s", src, s, want);
    free(s);
}

static void want_refused(const char *src, const char *needle)
{
    json_t *j = NULL;
    struct assay_error err;
    int rc = convert(src, &j, &err);
    if (rc != ASSAY_EPROFILE || j || !strstr(err.msg, needle))
        fail_msg("[%s]: rc %d [%s]; wanted a refusal with [%s]", src, rc, err.msg, needle);
}

static void test_plain_values(void **state)
{
    (void)state;
    want_json("return {a = 1, b = 2.5, c = 'text', d = true, e = {1, 2, 3}, f = {}}",
              "{\"a\":1,\"b\":2.5,\"c\":\"text\",\"d\":true,\"e\":[1,2,3],\"f\":{}}");
    want_json("return {n = {{x = 'é'}}}", "{\"n\":[{\"x\":\"é\"}]}");
    want_json("return {big = math.maxinteger}", "{\"big\":9223372036854775807}");
}

static void test_bytes_become_hex(void **state)
{
    (void)state;
    want_json("return {b = '\\0\\255ok'}", "{\"b\":{\"$hex\":\"00ff6f6b\"}}");
    want_json("return {b = '\\xc0\\xaf'}", "{\"b\":{\"$hex\":\"c0af\"}}");        /* overlong */
    want_json("return {b = '\\xed\\xa0\\x80'}", "{\"b\":{\"$hex\":\"eda080\"}}"); /* surrogate */
}

static void test_unstorable_values(void **state)
{
    (void)state;
    want_refused("return {f = print}", "observations.f: a function cannot be stored as JSON");
    want_refused("return {x = {y = {coroutine.create(print)}}}", "observations.x.y[1]: a thread");
    want_refused("return {n = 0/0}", "NaN or infinite");
    want_refused("return {n = math.huge}", "NaN or infinite");
    want_refused("return {1, 2, x = 3}", "mixes array and object keys");
    want_refused("return {[1] = 1, [3] = 3}", "holes");
    want_refused("return {[true] = 1}", "key must be a string");
    want_refused("return {[1.5] = 1}", "key must be a string");
    want_refused("return {['$hex'] = '41'}", "reserved");
    want_refused("local t = {} t.self = t return t", "nested too deeply");
    want_refused("return {['\\255'] = 1}", "not valid UTF-8");
}

static void push_back(const char *json, char *out, size_t size)
{
    json_error_t je;
    json_t *j = json_loads(json, 0, &je);
    assert_non_null(j);
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    struct assay_error err = {0};
    assert_int_equal(luajson_push(L, j, &err), 0);
    lua_setglobal(L, "v");
    json_decref(j);
    if (luaL_dostring(L, "return (v.b or '') .. '|' .. tostring(v.n) .. '|' .. math.type(v.i)"
                         " .. '|' .. #(v.a or {}) .. '|' .. tostring(v.z)") != LUA_OK)
        fail_msg("lua: %s", lua_tostring(L, -1));
    size_t n;
    const char *s = lua_tolstring(L, -1, &n);
    memcpy(out, s, n < size ? n : size - 1);
    out[n < size ? n : size - 1] = '\0';
    lua_close(L);
}

static void test_json_back_to_lua(void **state)
{
    (void)state;
    char out[64];
    push_back("{\"b\":{\"$hex\":\"41ff\"},\"n\":1.5,\"i\":7,\"a\":[1,2],\"z\":null}", out,
              sizeof(out));
    assert_memory_equal(out, "A\xff|1.5|integer|2|nil", 20);
    /* An object with $hex and another key is an ordinary object. */
    push_back("{\"b\":\"x\",\"i\":1,\"o\":{\"$hex\":\"41\",\"k\":1}}", out, sizeof(out));
    assert_string_equal(out, "x|nil|integer|0|nil");
}

static void test_bad_hex_refused(void **state)
{
    (void)state;
    json_t *j = json_pack("{s:{s:s}}", "b", "$hex", "4g");
    lua_State *L = luaL_newstate();
    struct assay_error err = {0};
    int top = lua_gettop(L);
    assert_int_equal(luajson_push(L, j, &err), ASSAY_EINVAL);
    assert_non_null(strstr(err.msg, "$hex"));
    assert_int_equal(lua_gettop(L), top);
    lua_close(L);
    json_decref(j);
}

static void test_utf8_validator(void **state)
{
    (void)state;
    assert_true(luajson_utf8_valid("plain", 5));
    assert_true(luajson_utf8_valid("\xf0\x9f\x98\x80", 4));
    assert_false(luajson_utf8_valid("\xf4\x90\x80\x80", 4)); /* past U+10FFFF */
    assert_false(luajson_utf8_valid("\xe2\x82", 2));         /* truncated */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_values),      cmocka_unit_test(test_bytes_become_hex),
        cmocka_unit_test(test_unstorable_values), cmocka_unit_test(test_json_back_to_lua),
        cmocka_unit_test(test_bad_hex_refused),   cmocka_unit_test(test_utf8_validator),
    };
    return cmocka_run_group_tests_name("lua_json", tests, NULL, NULL);
}
