/* bind_util.c: shared helpers of the protocol bindings (see bind_util.h). */
#include "lua/bind_util.h"

int bind_fail(lua_State *L, const char *word, const char *msg)
{
    lua_pushnil(L);
    if (msg && *msg)
        lua_pushfstring(L, "%s: %s", word, msg);
    else
        lua_pushstring(L, word);
    return 2;
}

int bind_error(lua_State *L, const struct assay_error *err)
{
    return bind_fail(L, err->code == ASSAY_ESCOPE ? "out of scope" : "error", err->msg);
}

lua_Integer bind_field_int(lua_State *L, const char *who, int idx, const char *key, lua_Integer def,
                           lua_Integer lo, lua_Integer hi)
{
    lua_Integer v = def;
    if (lua_getfield(L, idx, key) != LUA_TNIL) {
        int ok = 0;
        v = lua_tointegerx(L, -1, &ok);
        if (!ok || v < lo || v > hi)
            luaL_error(L, "%s: '%s' must be an integer %I..%I", who, key, lo, hi);
    }
    lua_pop(L, 1);
    return v;
}

lua_Integer bind_opt_int(lua_State *L, const char *who, int idx, const char *key, lua_Integer def,
                         lua_Integer lo, lua_Integer hi)
{
    if (lua_isnoneornil(L, idx))
        return def;
    luaL_checktype(L, idx, LUA_TTABLE);
    return bind_field_int(L, who, idx, key, def, lo, hi);
}

const char *bind_field_str(lua_State *L, const char *who, int idx, const char *key, size_t *len)
{
    const char *s = NULL;
    int type = lua_getfield(L, idx, key);
    if (type != LUA_TNIL) {
        if (type != LUA_TSTRING)
            luaL_error(L, "%s: '%s' must be a string", who, key);
        s = lua_tolstring(L, -1, len);
    }
    lua_pop(L, 1);
    return s;
}
