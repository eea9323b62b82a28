/* bind_surface.c: the t.surface Lua binding over drivers/tcpscan.h (see bind_surface.h). */
#include "lua/bind_util.h"
#include "bind_surface.h"

#include <lauxlib.h>
#include <stdlib.h>

#include "drivers/tcpscan.h"

#define DEFAULT_PORT_TIMEOUT_MS 1000
#define DEFAULT_BUDGET_MS 60000

static struct binding_env *env_of(lua_State *L)
{
    return lua_touserdata(L, lua_upvalueindex(1));
}

/* The per-port timeout: the caller's, never above the bench's deadline. */
static int port_timeout(lua_State *L, int idx, const struct binding_env *env)
{
    int bench = env->timeout_ms > 0 ? env->timeout_ms : DEFAULT_PORT_TIMEOUT_MS;
    int def = bench < DEFAULT_PORT_TIMEOUT_MS ? bench : DEFAULT_PORT_TIMEOUT_MS;
    int t = (int)bind_opt_int(L, "t.surface", idx, "timeout_ms", def, 1, 600000);
    return t < bench ? t : bench;
}

static int push_scan_error(lua_State *L, const struct assay_error *err)
{
    lua_pushnil(L);
    lua_pushfstring(L, "%s: %s", err->code == ASSAY_ESCOPE ? "out of scope" : "error", err->msg);
    return 2;
}

static int l_tcp_scan(lua_State *L)
{
    struct binding_env *env = env_of(L);
    const char *host = luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_Integer n = luaL_len(L, 2);
    luaL_argcheck(L, n >= 0 && n <= TCPSCAN_MAX_PORTS, 2, "at most 1024 ports");
    struct tcpscan_opts o = {.connect_timeout_ms = port_timeout(L, 3, env)};
    int pause = (int)bind_opt_int(L, "t.surface", 3, "pause_ms", env->pause_ms, 0, 60000);
    o.pause_ms = pause > env->pause_ms ? pause : env->pause_ms;
    o.deadline =
        clock_deadline(bind_opt_int(L, "t.surface", 3, "budget_ms", DEFAULT_BUDGET_MS, 1, 3600000));
    uint16_t ports[TCPSCAN_MAX_PORTS];
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, 2, i);
        int ok = 0;
        lua_Integer p = lua_tointegerx(L, -1, &ok);
        if (!ok || p < 1 || p > 65535)
            return luaL_error(L, "ports[%d] must be an integer port 1..65535", (int)i);
        ports[i - 1] = (uint16_t)p;
        lua_pop(L, 1);
    }
    struct tcpscan_result *res = calloc(n > 0 ? (size_t)n : 1, sizeof(*res));
    if (!res)
        return luaL_error(L, "out of memory");
    struct assay_error err = {0};
    int rc = tcpscan_tcp(env->scope, env->sink, host, ports, (size_t)n, &o, res, &err);
    if (rc) {
        free(res);
        return push_scan_error(L, &err);
    }
    lua_createtable(L, (int)n, 0);
    for (lua_Integer i = 0; i < n; i++) {
        lua_createtable(L, 0, 3);
        lua_pushinteger(L, res[i].port);
        lua_setfield(L, -2, "port");
        lua_pushstring(L, tcpscan_state_name(res[i].state));
        lua_setfield(L, -2, "state");
        lua_pushinteger(L, res[i].elapsed_ms);
        lua_setfield(L, -2, "elapsed_ms");
        lua_seti(L, -2, i + 1);
    }
    free(res);
    return 1;
}

static const char *coap_type_name(int type)
{
    static const char *const names[] = {"con", "non", "ack", "reset"};
    return type >= 0 && type <= 3 ? names[type] : "not coap";
}

static int l_udp_coap(lua_State *L)
{
    struct binding_env *env = env_of(L);
    const char *host = luaL_checkstring(L, 1);
    lua_Integer port = luaL_checkinteger(L, 2);
    luaL_argcheck(L, port >= 1 && port <= 65535, 2, "port 1..65535");
    int timeout = port_timeout(L, 3, env);
    struct tcpscan_result r;
    int type = -1;
    struct assay_error err = {0};
    int rc =
        tcpscan_udp_coap(env->scope, env->sink, host, (uint16_t)port, timeout, &r, &type, &err);
    if (rc)
        return push_scan_error(L, &err);
    lua_createtable(L, 0, 4);
    lua_pushinteger(L, r.port);
    lua_setfield(L, -2, "port");
    lua_pushstring(L, tcpscan_state_name(r.state));
    lua_setfield(L, -2, "state");
    lua_pushinteger(L, r.elapsed_ms);
    lua_setfield(L, -2, "elapsed_ms");
    if (r.state == TCPSCAN_OPEN) {
        lua_pushstring(L, coap_type_name(type));
        lua_setfield(L, -2, "coap_reply");
    }
    return 1;
}

void bind_surface_push(lua_State *L, struct binding_env *env)
{
    lua_createtable(L, 0, 2);
    lua_pushlightuserdata(L, env);
    lua_pushcclosure(L, l_tcp_scan, 1);
    lua_setfield(L, -2, "tcp_scan");
    lua_pushlightuserdata(L, env);
    lua_pushcclosure(L, l_udp_coap, 1);
    lua_setfield(L, -2, "udp_coap");
}
