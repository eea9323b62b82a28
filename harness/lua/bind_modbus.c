/* bind_modbus.c: the t.modbus Lua binding over drivers/modbus.h (see bind_modbus.h). */
#include "bind_modbus.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/modbus.h"

#define CONN_MT "assay.modbus.conn"
#define HOST_MAX 64

struct lconn {
    struct modbus_conn *c; /* NULL once closed */
    struct binding_env *env;
};

static struct binding_env *env_of(lua_State *L)
{
    return lua_touserdata(L, lua_upvalueindex(1));
}

static struct lconn *check_conn(lua_State *L)
{
    return luaL_checkudata(L, 1, CONN_MT);
}

/* ---- Results ---- */

static int push_fail(lua_State *L, const char *fmt, const char *a, const char *b)
{
    lua_pushnil(L);
    lua_pushfstring(L, fmt, a, b);
    return 2;
}

static int push_exception(lua_State *L, int code)
{
    lua_createtable(L, 0, 2);
    lua_pushinteger(L, code);
    lua_setfield(L, -2, "exception");
    lua_pushstring(L, modbus_exception_name(code));
    lua_setfield(L, -2, "name");
    return 1;
}

/* For outcomes other than OK: pushes the exception table or nil, reason. */
static int push_not_ok(lua_State *L, const struct modbus_result *r)
{
    if (r->outcome == MODBUS_OUTCOME_EXCEPTION)
        return push_exception(L, r->exception);
    return push_fail(L, "%s: %s", modbus_outcome_name(r->outcome), r->reason);
}

/* An assay_rc from the driver: expected failures as nil, reason. */
static int push_error(lua_State *L, const struct assay_error *err)
{
    const char *word = "error";
    switch (err->code) {
    case ASSAY_ESCOPE: word = "out of scope"; break;
    case ASSAY_ETIMEOUT: word = "timeout"; break;
    case ASSAY_ENET:
        word = strstr(err->msg, "refused")       ? "refused"
               : strstr(err->msg, "unreachable") ? "unreachable"
               : strstr(err->msg, " closed")     ? "closed"
                                                 : "reset";
        break;
    default:
        if (strstr(err->msg, "connection limit"))
            word = "connection limit";
        break;
    }
    return push_fail(L, "%s: %s", word, err->msg);
}

/* ---- Argument checks (before any I/O) ---- */

static enum modbus_table check_table(lua_State *L, int arg)
{
    enum modbus_table t;
    const char *name = luaL_checkstring(L, arg);
    if (modbus_table_parse(name, &t) != 0)
        luaL_argerror(L, arg, "expected \"coils\", \"discrete\", \"holding\" or \"input\"");
    return t;
}

static uint16_t check_u16(lua_State *L, int arg)
{
    lua_Integer v = luaL_checkinteger(L, arg);
    luaL_argcheck(L, v >= 0 && v <= 65535, arg, "must be 0..65535");
    return (uint16_t)v;
}

static lua_Integer opt_field_int(lua_State *L, int idx, const char *key, lua_Integer def,
                                 lua_Integer lo, lua_Integer hi)
{
    int type = lua_getfield(L, idx, key);
    lua_Integer v = def;
    if (type != LUA_TNIL) {
        int ok = 0;
        v = lua_tointegerx(L, -1, &ok);
        if (!ok || v < lo || v > hi)
            luaL_error(L, "t.modbus.open: '%s' must be an integer %I..%I", key, lo, hi);
    }
    lua_pop(L, 1);
    return v;
}

/* Leaves on the stack the table that holds port and unit_id for `target` at idx. */
static void find_interface(lua_State *L, int idx)
{
    if (lua_getfield(L, idx, "modbus") == LUA_TTABLE)
        return;
    lua_pop(L, 1);
    if (lua_getfield(L, idx, "interfaces") == LUA_TTABLE) {
        int list = lua_gettop(L);
        for (lua_Integer i = 1; lua_geti(L, list, i) == LUA_TTABLE; i++) {
            lua_getfield(L, -1, "kind");
            const char *kind = lua_tostring(L, -1);
            bool match = kind && strcmp(kind, "modbus-tcp") == 0;
            lua_pop(L, 1);
            if (match) {
                lua_remove(L, list);
                return;
            }
            lua_pop(L, 1);
        }
        lua_pop(L, 2);
        luaL_error(L, "t.modbus.open: the device has no modbus-tcp interface");
    }
    lua_pop(L, 1);
    lua_pushvalue(L, idx); /* an endpoint table: port and unit_id are its own */
}

static void check_target(lua_State *L, struct modbus_endpoint *ep, char *host)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "address");
    const char *a = lua_tostring(L, -1);
    if (!a || lua_type(L, -1) != LUA_TSTRING || strlen(a) >= HOST_MAX)
        luaL_error(L, "t.modbus.open: target needs an 'address' string");
    snprintf(host, HOST_MAX, "%s", a);
    lua_pop(L, 1);
    find_interface(L, 1);
    int itf = lua_gettop(L);
    ep->host = host;
    ep->port = (uint16_t)opt_field_int(L, itf, "port", 502, 1, 65535);
    ep->unit_id = (uint8_t)opt_field_int(L, itf, "unit_id", 1, 0, 255);
    luaL_argcheck(L, ep->unit_id <= 247 || ep->unit_id == 255, 1, "unit_id must be 0..247 or 255");
    lua_pop(L, 1);
}

static void check_open_opts(lua_State *L, const struct binding_env *env, struct modbus_options *o)
{
    o->timeout_ms = env->timeout_ms > 0 ? env->timeout_ms : 3000;
    o->pause_ms = env->pause_ms > 0 ? env->pause_ms : 0;
    o->max_connections = env->max_connections > 0 ? env->max_connections : 1;
    if (lua_isnoneornil(L, 2))
        return;
    luaL_checktype(L, 2, LUA_TTABLE);
    o->timeout_ms = (int)opt_field_int(L, 2, "timeout_ms", o->timeout_ms, 1, o->timeout_ms);
    o->pause_ms = (int)opt_field_int(L, 2, "pause_ms", o->pause_ms, o->pause_ms, 60000);
}

/* ---- t.modbus.open ---- */

static int l_open(lua_State *L)
{
    struct binding_env *env = env_of(L);
    struct modbus_endpoint ep;
    char host[HOST_MAX];
    struct modbus_options o = {0};
    check_target(L, &ep, host);
    check_open_opts(L, env, &o);
    o.scope = env->scope;
    o.sink = env->sink;
    struct lconn *lc = lua_newuserdatauv(L, sizeof(*lc), 0);
    lc->c = NULL;
    lc->env = env;
    luaL_setmetatable(L, CONN_MT);
    struct assay_error err = {0};
    if (modbus_conn_open(&lc->c, &ep, &o, &err) != 0)
        return push_error(L, &err);
    return 1;
}

/* ---- Connection methods ---- */

/* Returns the open connection, or NULL after pushing nil, "closed". */
static struct modbus_conn *live(lua_State *L, struct lconn *lc)
{
    if (lc->c && modbus_conn_is_open(lc->c))
        return lc->c;
    push_fail(L, "%s%s", "closed: ", "the connection is not open");
    return NULL;
}

static int l_read(lua_State *L)
{
    struct lconn *lc = check_conn(L);
    enum modbus_table t = check_table(L, 2);
    uint16_t address = check_u16(L, 3);
    lua_Integer count = luaL_checkinteger(L, 4);
    lua_Integer max = t <= MODBUS_TABLE_DISCRETE ? 2000 : 125;
    luaL_argcheck(L, count >= 1 && count <= max && address + count <= 65536, 4,
                  "count out of range for this table and address");
    struct modbus_conn *c = live(L, lc);
    if (!c)
        return 2;
    struct modbus_result *r = malloc(sizeof(*r));
    if (!r)
        return luaL_error(L, "out of memory");
    struct assay_error err = {0};
    int n;
    if (modbus_conn_read(c, t, address, (size_t)count, r, &err) != 0) {
        n = push_error(L, &err);
    } else if (r->outcome == MODBUS_OUTCOME_OK) {
        lua_createtable(L, (int)r->count, 0);
        for (size_t i = 0; i < r->count; i++) {
            lua_pushinteger(L, r->values[i]);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        n = 1;
    } else {
        n = push_not_ok(L, r);
    }
    free(r);
    return n;
}

/* Collects the values argument (integer or list) into vals; returns the count. */
static size_t check_values(lua_State *L, int arg, uint16_t *vals, size_t max, bool *multiple)
{
    if (lua_type(L, arg) == LUA_TNUMBER) {
        lua_Integer v = luaL_checkinteger(L, arg);
        luaL_argcheck(L, v >= 0 && v <= 65535, arg, "value must be 0..65535");
        vals[0] = (uint16_t)v;
        *multiple = false;
        return 1;
    }
    luaL_checktype(L, arg, LUA_TTABLE);
    size_t n = (size_t)luaL_len(L, arg);
    luaL_argcheck(L, n >= 1 && n <= max, arg, "list length out of range");
    for (size_t i = 0; i < n; i++) {
        lua_geti(L, arg, (lua_Integer)i + 1);
        int ok = 0;
        lua_Integer v = lua_tointegerx(L, -1, &ok);
        luaL_argcheck(L, ok && v >= 0 && v <= 65535, arg, "values must be integers 0..65535");
        vals[i] = (uint16_t)v;
        lua_pop(L, 1);
    }
    *multiple = true;
    return n;
}

static int l_write(lua_State *L)
{
    struct lconn *lc = check_conn(L);
    enum modbus_table t = check_table(L, 2);
    luaL_argcheck(L, t == MODBUS_TABLE_COILS || t == MODBUS_TABLE_HOLDING, 2,
                  "only \"coils\" and \"holding\" can be written");
    uint16_t address = check_u16(L, 3);
    uint16_t vals[1968];
    bool multiple = false;
    size_t n = check_values(L, 4, vals, t == MODBUS_TABLE_COILS ? 1968 : 123, &multiple);
    luaL_argcheck(L, address + n <= 65536, 4, "values run past address 65535");
    struct modbus_conn *c = live(L, lc);
    if (!c)
        return 2;
    struct modbus_result *r = malloc(sizeof(*r));
    if (!r)
        return luaL_error(L, "out of memory");
    struct assay_error err = {0};
    int nret;
    if (modbus_conn_write(c, t, address, vals, n, multiple, r, &err) != 0) {
        nret = push_error(L, &err);
    } else if (r->outcome == MODBUS_OUTCOME_OK) {
        lua_pushboolean(L, 1);
        nret = 1;
    } else {
        nret = push_not_ok(L, r);
    }
    free(r);
    return nret;
}

static const char *const object_names[] = {"vendor_name",          "product_code", "revision",
                                           "vendor_url",           "product_name", "model_name",
                                           "user_application_name"};

static void push_ident(lua_State *L, const struct modbus_ident *id)
{
    lua_createtable(L, 0, 6);
    lua_pushinteger(L, id->conformity);
    lua_setfield(L, -2, "conformity");
    lua_pushinteger(L, (lua_Integer)id->pages);
    lua_setfield(L, -2, "pages");
    lua_pushboolean(L, id->truncated);
    lua_setfield(L, -2, "truncated");
    lua_createtable(L, (int)id->nobjects, 0);
    for (size_t i = 0; i < id->nobjects; i++) {
        const struct modbus_ident_object *o = &id->objects[i];
        lua_createtable(L, 0, 2);
        lua_pushinteger(L, o->id);
        lua_setfield(L, -2, "id");
        lua_pushlstring(L, (const char *)o->value, o->len);
        lua_setfield(L, -2, "value");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
        if (o->id < sizeof(object_names) / sizeof(object_names[0])) {
            lua_pushlstring(L, (const char *)o->value, o->len);
            lua_setfield(L, -3, object_names[o->id]);
        }
    }
    lua_setfield(L, -2, "objects");
}

static int l_identify(lua_State *L)
{
    static const char *const levels[] = {"basic", "regular", "extended", "specific", NULL};
    struct lconn *lc = check_conn(L);
    int level = luaL_checkoption(L, 2, "regular", levels) + 1;
    lua_Integer object = luaL_optinteger(L, 3, 0);
    luaL_argcheck(L, object >= 0 && object <= 255, 3, "object id must be 0..255");
    struct modbus_conn *c = live(L, lc);
    if (!c)
        return 2;
    struct modbus_ident *id = malloc(sizeof(*id));
    if (!id)
        return luaL_error(L, "out of memory");
    struct assay_error err = {0};
    int n = 1;
    if (modbus_conn_identify(c, (enum modbus_ident_level)level, (uint8_t)object, id, &err) != 0)
        n = push_error(L, &err);
    else if (id->result.outcome == MODBUS_OUTCOME_OK)
        push_ident(L, id);
    else
        n = push_not_ok(L, &id->result);
    free(id);
    return n;
}

static int l_server_id(lua_State *L)
{
    struct lconn *lc = check_conn(L);
    struct modbus_conn *c = live(L, lc);
    if (!c)
        return 2;
    struct modbus_server_id sid;
    struct assay_error err = {0};
    if (modbus_conn_server_id(c, &sid, &err) != 0)
        return push_error(L, &err);
    if (sid.result.outcome != MODBUS_OUTCOME_OK)
        return push_not_ok(L, &sid.result);
    lua_createtable(L, 0, 3);
    lua_pushlstring(L, (const char *)sid.data, sid.len);
    lua_setfield(L, -2, "data");
    lua_pushinteger(L, sid.data[0]);
    lua_setfield(L, -2, "id");
    if (sid.len >= 2 && (sid.data[1] == 0xFF || sid.data[1] == 0x00)) {
        lua_pushboolean(L, sid.data[1] == 0xFF);
        lua_setfield(L, -2, "run");
    }
    return 1;
}

static int l_raw(lua_State *L)
{
    struct lconn *lc = check_conn(L);
    size_t len = 0;
    const char *bytes = luaL_checklstring(L, 2, &len);
    luaL_argcheck(L, len >= 1 && len <= 4096, 2, "frame must be 1..4096 bytes");
    lua_Integer expect = luaL_optinteger(L, 3, 0);
    luaL_argcheck(L, expect >= 0 && expect <= 520, 3, "expect_max must be 0..520");
    struct modbus_conn *c = live(L, lc);
    if (!c)
        return 2;
    struct modbus_raw_reply *rr = malloc(sizeof(*rr));
    if (!rr)
        return luaL_error(L, "out of memory");
    struct assay_error err = {0};
    if (modbus_conn_raw(c, (const uint8_t *)bytes, len, (size_t)expect, rr, &err) != 0) {
        free(rr);
        if (err.code == ASSAY_EINVAL)
            return luaL_error(L, "conn:raw: %s", err.msg);
        return push_error(L, &err);
    }
    lua_createtable(L, 0, 5);
    enum modbus_outcome o = rr->result.outcome;
    lua_pushstring(L, o == MODBUS_OUTCOME_OK ? "reply" : modbus_outcome_name(o));
    lua_setfield(L, -2, "outcome");
    lua_pushlstring(L, (const char *)rr->bytes, rr->len);
    lua_setfield(L, -2, "bytes");
    lua_pushboolean(L, rr->complete);
    lua_setfield(L, -2, "complete");
    lua_pushinteger(L, rr->result.elapsed_ms);
    lua_setfield(L, -2, "elapsed_ms");
    if (o == MODBUS_OUTCOME_EXCEPTION) {
        lua_pushinteger(L, rr->result.exception);
        lua_setfield(L, -2, "exception");
    }
    free(rr);
    return 1;
}

static int l_alive(lua_State *L)
{
    struct lconn *lc = check_conn(L);
    enum modbus_table t;
    uint16_t address;
    if (lua_istable(L, 2)) {
        lua_getfield(L, 2, "table");
        lua_getfield(L, 2, "address");
        t = check_table(L, -2);
        address = check_u16(L, -1);
        lua_pop(L, 2);
    } else {
        t = check_table(L, 2);
        address = check_u16(L, 3);
    }
    if (!lc->c || !modbus_conn_is_open(lc->c)) {
        lua_pushboolean(L, 0);
        lua_pushstring(L, "closed: the connection is not open");
        return 2;
    }
    struct modbus_result *r = malloc(sizeof(*r));
    if (!r)
        return luaL_error(L, "out of memory");
    struct assay_error err = {0};
    bool alive = false;
    int n = 1;
    if (modbus_conn_alive(lc->c, t, address, &alive, r, &err) != 0) {
        n = push_error(L, &err);
    } else {
        lua_pushboolean(L, alive);
        if (!alive) {
            lua_pushfstring(L, "%s: %s", modbus_outcome_name(r->outcome), r->reason);
            n = 2;
        }
    }
    free(r);
    return n;
}

static int l_is_open(lua_State *L)
{
    struct lconn *lc = check_conn(L);
    lua_pushboolean(L, lc->c && modbus_conn_is_open(lc->c));
    return 1;
}

static int l_close(lua_State *L)
{
    struct lconn *lc = check_conn(L);
    modbus_conn_close(lc->c);
    lc->c = NULL;
    lua_pushboolean(L, 1);
    return 1;
}

static int l_tostring(lua_State *L)
{
    struct lconn *lc = check_conn(L);
    lua_pushfstring(L, "modbus connection %s (%s)", lc->c ? modbus_conn_peer(lc->c) : "-",
                    lc->c && modbus_conn_is_open(lc->c) ? "open" : "closed");
    return 1;
}

static const luaL_Reg conn_methods[] = {
    {"read", l_read},           {"write", l_write}, {"identify", l_identify},
    {"server_id", l_server_id}, {"raw", l_raw},     {"alive", l_alive},
    {"is_open", l_is_open},     {"close", l_close}, {NULL, NULL},
};

void bind_modbus_push(lua_State *L, struct binding_env *env)
{
    if (luaL_newmetatable(L, CONN_MT)) {
        luaL_newlib(L, conn_methods);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, l_close);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, l_close);
        lua_setfield(L, -2, "__close");
        lua_pushcfunction(L, l_tostring);
        lua_setfield(L, -2, "__tostring");
        lua_pushliteral(L, "modbus connection");
        lua_setfield(L, -2, "__metatable");
    }
    lua_pop(L, 1);
    lua_createtable(L, 0, 1);
    lua_pushlightuserdata(L, env);
    lua_pushcclosure(L, l_open, 1);
    lua_setfield(L, -2, "open");
}
