/* luajson.c: Lua <-> JSON with the $hex rule for bytes that are not UTF-8 (see luajson.h). */
#include "lua/luajson.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#define PATH_MAX_LEN 200

int luajson_utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t len;
        unsigned cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (i + len > n)
            return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += len;
    }
    return 1;
}

static json_t *hex_object(const char *s, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char *h = malloc(n * 2 + 1);
    if (!h)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        h[2 * i] = digits[(unsigned char)s[i] >> 4];
        h[2 * i + 1] = digits[(unsigned char)s[i] & 15];
    }
    h[2 * n] = '\0';
    json_t *o = json_pack("{s:s%}", "$hex", h, n * 2);
    free(h);
    return o;
}

static json_t *string_value(const char *s, size_t n)
{
    if (memchr(s, '\0', n) == NULL && luajson_utf8_valid(s, n))
        return json_stringn(s, n);
    return hex_object(s, n);
}

struct conv {
    lua_State *L;
    char path[PATH_MAX_LEN];
    struct assay_error *err;
};

static int conv_fail(struct conv *c, const char *why)
{
    return assay_fail(c->err, ASSAY_EPROFILE, "%s: %s", c->path, why);
}

static json_t *convert(struct conv *c, int idx, int depth);

/* Classifies a table: 1 = array of n, 0 = object, -1 = refused (message set). */
static int classify(struct conv *c, int idx, size_t *n)
{
    lua_State *L = c->L;
    size_t ints = 0, strs = 0;
    lua_Integer max = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) == LUA_TSTRING) {
            strs++;
            if (strcmp(lua_tostring(L, -1), "$hex") == 0) {
                lua_pop(L, 1);
                conv_fail(c, "the key \"$hex\" is reserved");
                return -1;
            }
        } else if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1) {
            ints++;
            if (lua_tointeger(L, -1) > max)
                max = lua_tointeger(L, -1);
        } else {
            lua_pop(L, 1);
            conv_fail(c, "a table key must be a string or an array index");
            return -1;
        }
    }
    if (ints && strs)
        return conv_fail(c, "a table mixes array and object keys"), -1;
    if (ints && (size_t)max != ints)
        return conv_fail(c, "an array has holes (sparse keys)"), -1;
    *n = ints;
    return ints > 0;
}

static json_t *convert_table(struct conv *c, int idx, int depth)
{
    lua_State *L = c->L;
    size_t n = 0, plen = strlen(c->path);
    int kind = classify(c, idx, &n);
    if (kind < 0)
        return NULL;
    json_t *out = kind ? json_array() : json_object();
    if (!out) {
        assay_fail(c->err, ASSAY_ENOMEM, "%s: out of memory", c->path);
        return NULL;
    }
    if (kind) {
        for (size_t i = 1; i <= n; i++) {
            snprintf(c->path + plen, sizeof(c->path) - plen, "[%zu]", i);
            lua_rawgeti(L, idx, (lua_Integer)i);
            json_t *v = convert(c, lua_gettop(L), depth + 1);
            lua_pop(L, 1);
            if (!v || json_array_append_new(out, v) != 0) {
                json_decref(out);
                return NULL;
            }
        }
    } else {
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            size_t klen;
            const char *k = lua_tolstring(L, -2, &klen); /* a string: no conversion */
            if (memchr(k, '\0', klen) || !luajson_utf8_valid(k, klen)) {
                lua_pop(L, 2);
                json_decref(out);
                conv_fail(c, "a table key is not valid UTF-8 text");
                return NULL;
            }
            snprintf(c->path + plen, sizeof(c->path) - plen, ".%s", k);
            json_t *v = convert(c, lua_gettop(L), depth + 1);
            lua_pop(L, 1);
            if (!v || json_object_setn_new(out, k, klen, v) != 0) {
                lua_pop(L, 1);
                json_decref(out);
                return NULL;
            }
        }
    }
    c->path[plen] = '\0';
    return out;
}

static json_t *convert(struct conv *c, int idx, int depth)
{
    lua_State *L = c->L;
    if (depth > LUAJSON_MAX_DEPTH) {
        conv_fail(c, "nested too deeply (or a table contains itself)");
        return NULL;
    }
    if (!lua_checkstack(L, 6)) {
        conv_fail(c, "Lua stack exhausted");
        return NULL;
    }
    json_t *v = NULL;
    switch (lua_type(L, idx)) {
    case LUA_TNIL: v = json_null(); break;
    case LUA_TBOOLEAN: v = json_boolean(lua_toboolean(L, idx)); break;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) {
            v = json_integer((json_int_t)lua_tointeger(L, idx));
        } else {
            double d = lua_tonumber(L, idx);
            if (!isfinite(d)) {
                conv_fail(c, "a number is NaN or infinite");
                return NULL;
            }
            v = json_real(d);
        }
        break;
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        v = string_value(s, n);
        break;
    }
    case LUA_TTABLE: return convert_table(c, idx, depth);
    default: {
        char why[64];
        snprintf(why, sizeof(why), "a %s cannot be stored as JSON",
                 lua_typename(L, lua_type(L, idx)));
        conv_fail(c, why);
        return NULL;
    }
    }
    if (!v)
        assay_fail(c->err, ASSAY_ENOMEM, "%s: out of memory", c->path);
    return v;
}

int luajson_from_lua(lua_State *L, int idx, const char *what, json_t **out, struct assay_error *err)
{
    struct conv c = {.L = L, .err = err};
    snprintf(c.path, sizeof(c.path), "%s", what ? what : "value");
    *out = convert(&c, lua_absindex(L, idx), 0);
    return *out ? 0 : (err && err->code ? err->code : ASSAY_EPROFILE);
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Pushes the bytes of a {"$hex": ...} object; returns 1 if v was one, 0 if not, -1 on bad hex. */
static int push_hex(lua_State *L, const json_t *v)
{
    if (json_object_size(v) != 1)
        return 0;
    const json_t *h = json_object_get(v, "$hex");
    if (!json_is_string(h))
        return 0;
    size_t n = json_string_length(h);
    const char *s = json_string_value(h);
    if (n % 2)
        return -1;
    luaL_Buffer b;
    char *p = luaL_buffinitsize(L, &b, n / 2 + 1);
    for (size_t i = 0; i < n; i += 2) {
        int hi = hexval(s[i]), lo = hexval(s[i + 1]);
        if (hi < 0 || lo < 0) {
            luaL_pushresultsize(&b, 0);
            lua_pop(L, 1);
            return -1;
        }
        p[i / 2] = (char)(hi << 4 | lo);
    }
    luaL_pushresultsize(&b, n / 2);
    return 1;
}

static int push_value(lua_State *L, const json_t *v, int depth, struct assay_error *err)
{
    if (depth > LUAJSON_MAX_DEPTH)
        return assay_fail(err, ASSAY_EINVAL, "JSON nested deeper than %d", LUAJSON_MAX_DEPTH);
    luaL_checkstack(L, 4, "JSON value");
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        int h = push_hex(L, v);
        if (h < 0)
            return assay_fail(err, ASSAY_EINVAL,
                              "a \"$hex\" value is not an even run of hex digits");
        if (h)
            return 0;
        lua_createtable(L, 0, (int)json_object_size(v));
        const char *k;
        size_t klen;
        json_t *x;
        json_object_keylen_foreach((json_t *)v, k, klen, x)
        {
            if (json_is_null(x))
                continue;
            lua_pushlstring(L, k, klen);
            int rc = push_value(L, x, depth + 1, err);
            if (rc)
                return rc;
            lua_rawset(L, -3);
        }
        return 0;
    }
    case JSON_ARRAY: {
        lua_createtable(L, (int)json_array_size(v), 0);
        for (size_t i = 0; i < json_array_size(v); i++) {
            const json_t *x = json_array_get(v, i);
            if (json_is_null(x))
                continue;
            int rc = push_value(L, x, depth + 1, err);
            if (rc)
                return rc;
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        return 0;
    }
    case JSON_STRING: lua_pushlstring(L, json_string_value(v), json_string_length(v)); return 0;
    case JSON_INTEGER: lua_pushinteger(L, (lua_Integer)json_integer_value(v)); return 0;
    case JSON_REAL: lua_pushnumber(L, json_real_value(v)); return 0;
    case JSON_TRUE: lua_pushboolean(L, 1); return 0;
    case JSON_FALSE: lua_pushboolean(L, 0); return 0;
    case JSON_NULL:
    default: lua_pushnil(L); return 0;
    }
}

int luajson_push(lua_State *L, const json_t *v, struct assay_error *err)
{
    int top = lua_gettop(L);
    if (!v) {
        lua_pushnil(L);
        return 0;
    }
    int rc = push_value(L, v, 0, err);
    if (rc)
        lua_settop(L, top);
    return rc;
}
