/* tcload.c: runs test-case files in a sandbox and records their testcase{} tables (see tcload.h).
 */
#include "lua/tcload.h"

#include <string.h>

#include <lauxlib.h>

static const char KEY_ENTRIES[] = "assay.testcases";

static const char *const VERDICT_GLOBALS[] = {
    "PASS", "FAIL", "INCONCLUSIVE", "NOT_APPLICABLE", "ASSESSOR", "ERROR", NULL};

void tcload_push_entries(lua_State *L)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, KEY_ENTRIES);
}

/* testcase{...}: upvalue 1 is the file index. */
static int l_testcase(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Debug ar;
    int line = 0;
    if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "l", &ar))
        line = ar.currentline;
    tcload_push_entries(L);
    lua_createtable(L, 0, 3);
    lua_pushvalue(L, 1);
    lua_setfield(L, -2, "def");
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_setfield(L, -2, "file");
    lua_pushinteger(L, line);
    lua_setfield(L, -2, "line");
    lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
    return 0;
}

struct tcfile {
    const char *path, *src;
    size_t len, file;
};

/* Runs under sandbox_call: builds the environment, then loads and runs the file. */
static int l_run_file(lua_State *L)
{
    const struct tcfile *f = lua_touserdata(L, 1);
    sandbox_push_env(L);
    int env = lua_gettop(L);
    lua_pushinteger(L, (lua_Integer)f->file);
    lua_pushcclosure(L, l_testcase, 1);
    lua_setfield(L, env, "testcase");
    lua_getfield(L, env, "require");
    lua_pushliteral(L, "verdict");
    lua_call(L, 1, 1);
    if (!lua_istable(L, -1))
        return luaL_error(L, "profiles/lib/verdict.lua must return a table");
    for (const char *const *n = VERDICT_GLOBALS; *n; n++) {
        if (lua_getfield(L, -1, *n) != LUA_TFUNCTION)
            return luaL_error(L, "profiles/lib/verdict.lua does not define %s", *n);
        lua_setfield(L, env, *n);
    }
    lua_pop(L, 1);
    lua_pushfstring(L, "@%s", f->path);
    if (luaL_loadbufferx(L, f->src, f->len, lua_tostring(L, -1), "t") != LUA_OK)
        return lua_error(L);
    lua_pushvalue(L, env);
    lua_setupvalue(L, -2, 1);
    lua_call(L, 0, 0);
    return 0;
}

int tcload_file(struct sandbox *sb, const char *path, const char *src, size_t len, size_t file,
                const struct sandbox_limits *lim, struct assay_error *err)
{
    lua_State *L = sandbox_lua(sb);
    struct tcfile f = {path, src, len, file};
    if (!lua_checkstack(L, 4))
        return assay_fail(err, ASSAY_ENOMEM, "%s: Lua stack exhausted", path);
    lua_pushcfunction(L, l_run_file);
    lua_pushlightuserdata(L, &f);
    int rc = sandbox_call(sb, 1, 0, lim, err);
    if (rc && err && !strstr(err->msg, path)) {
        char msg[ASSAY_ERROR_MAX];
        snprintf(msg, sizeof(msg), "%s", err->msg);
        assay_fail(err, rc, "%s: %s", path, msg);
    }
    return rc;
}

void tcload_push_def(lua_State *L, const char *id)
{
    tcload_push_entries(L);
    lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, i);
        lua_pushliteral(L, "def");
        lua_rawget(L, -2);
        lua_pushliteral(L, "id");
        lua_rawget(L, -2);
        if (lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), id) == 0) {
            lua_pop(L, 1);
            lua_replace(L, -3);
            lua_pop(L, 1);
            return;
        }
        lua_pop(L, 3);
    }
    lua_pop(L, 1);
    lua_pushnil(L);
}
