/*
 * bind_labbroker.c: the t.labbroker Lua binding: the lab broker and the
 * refuser for MQTT client devices. See bind_labbroker.h.
 */
#include "lua/bind_util.h"
#include "lua/bind_labbroker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <lauxlib.h>

#include "drivers/labbroker.h"
#include "drivers/labbroker_certs.h"
#include "drivers/mqtt_refuser.h"

#define BROKER_MT "assay.labbroker"
#define MAX_WINDOW_MS 120000

struct lbroker {
    struct labbroker *b; /* NULL once stopped */
    enum labbroker_tls tls;
};

struct iface {
    const char *address;
    uint16_t port;
    bool tls;
    const char *ca;
};

static struct binding_env *env_of(lua_State *L)
{
    return lua_touserdata(L, lua_upvalueindex(1));
}

static int push_fail(lua_State *L, const struct assay_error *err)
{
    const char *word = err->code == ASSAY_ESCOPE     ? "out of scope"
                       : err->code == ASSAY_ENET     ? "busy"
                       : err->code == ASSAY_ETIMEOUT ? "timeout"
                                                     : "error";
    lua_pushnil(L);
    lua_pushfstring(L, "%s: %s", word, err->msg);
    return 2;
}

static void check_iface(lua_State *L, int idx, struct iface *f)
{
    luaL_checktype(L, idx, LUA_TTABLE);
    f->address = bind_field_str(L, "t.labbroker", idx, "broker_address", NULL);
    if (!f->address)
        f->address = "127.0.0.1";
    f->port = (uint16_t)bind_field_int(L, "t.labbroker", idx, "port", 0, 1, 65535);
    if (f->port == 0)
        luaL_error(L, "t.labbroker: the interface needs a 'port'");
    f->tls = lua_getfield(L, idx, "tls") == LUA_TBOOLEAN && lua_toboolean(L, -1);
    lua_pop(L, 1);
    f->ca = bind_field_str(L, "t.labbroker", idx, "ca", NULL);
}

/* opts.tls: "trusted", "untrusted", false/nil (the interface's default). */
static enum labbroker_tls check_tls(lua_State *L, int opts, const struct iface *f,
                                    bool untrusted_ok)
{
    enum labbroker_tls t = f->tls ? LABBROKER_TRUSTED : LABBROKER_PLAIN;
    int type = opts ? lua_getfield(L, opts, "tls") : LUA_TNIL;
    if (type == LUA_TBOOLEAN && !lua_toboolean(L, -1)) {
        t = LABBROKER_PLAIN;
    } else if (type == LUA_TSTRING && !strcmp(lua_tostring(L, -1), "trusted")) {
        t = LABBROKER_TRUSTED;
    } else if (type == LUA_TSTRING && untrusted_ok && !strcmp(lua_tostring(L, -1), "untrusted")) {
        t = LABBROKER_UNTRUSTED;
    } else if (type != LUA_TNIL) {
        luaL_error(L, "t.labbroker: 'tls' must be %s or false",
                   untrusted_ok ? "\"trusted\", \"untrusted\"" : "\"trusted\"");
    }
    if (opts)
        lua_pop(L, 1);
    if (t == LABBROKER_TRUSTED && !f->ca)
        luaL_error(L, "t.labbroker: a trusted certificate needs the interface's 'ca'");
    return t;
}

static int opt_table(lua_State *L, int arg)
{
    if (lua_isnoneornil(L, arg))
        return 0;
    luaL_checktype(L, arg, LUA_TTABLE);
    return arg;
}

/* <device evidence dir>/labbroker: the parent of env->evidence_dir; "" without one. */
static void broker_parent(const struct binding_env *env, char *buf, size_t size)
{
    buf[0] = 0;
    if (!env->evidence_dir)
        return;
    const char *slash = strrchr(env->evidence_dir, '/');
    if (!slash || slash == env->evidence_dir)
        return;
    snprintf(buf, size, "%.*s/labbroker", (int)(slash - env->evidence_dir), env->evidence_dir);
}

/* ---- the broker userdata ---- */

static int l_stop(lua_State *L)
{
    struct lbroker *lb = luaL_checkudata(L, 1, BROKER_MT);
    if (!lb->b) {
        lua_createtable(L, 0, 1);
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "already");
        return 1;
    }
    struct labbroker_exit ex;
    labbroker_stop(lb->b, &ex);
    labbroker_free(lb->b);
    lb->b = NULL;
    lua_createtable(L, 0, 2);
    lua_pushboolean(L, ex.killed);
    lua_setfield(L, -2, "killed");
    lua_pushinteger(L, ex.stop_ms);
    lua_setfield(L, -2, "stop_ms");
    return 1;
}

static int l_gc(lua_State *L)
{
    struct lbroker *lb = luaL_checkudata(L, 1, BROKER_MT);
    labbroker_free(lb->b);
    lb->b = NULL;
    return 0;
}

static void set_str(lua_State *L, const char *k, const char *v, size_t n)
{
    lua_pushlstring(L, v, n);
    lua_setfield(L, -2, k);
}

static void set_int(lua_State *L, const char *k, lua_Integer v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, k);
}

static void set_bool(lua_State *L, const char *k, bool v)
{
    lua_pushboolean(L, v);
    lua_setfield(L, -2, k);
}

static void push_record(lua_State *L, const struct lbroker *lb, const struct labbroker_record *r)
{
    lua_createtable(L, 0, 9);
    lua_pushstring(L, labbroker_tls_name(lb->tls));
    lua_setfield(L, -2, "tls");
    set_int(L, "port", labbroker_port(lb->b));
    set_int(L, "elapsed_ms", r->elapsed_ms);
    set_int(L, "tcp_connections", (lua_Integer)r->tcp_connections);
    set_int(L, "connects_seen", (lua_Integer)r->connects_seen);
    set_int(L, "messages_seen", (lua_Integer)r->messages_seen);
    lua_createtable(L, (int)r->nconnects, 0);
    for (size_t i = 0; i < r->nconnects; i++) {
        const struct labbroker_connect *c = &r->connects[i];
        lua_createtable(L, 0, 7);
        set_str(L, "client_id", c->client_id, strlen(c->client_id));
        if (c->has_username)
            set_str(L, "username", c->username, strlen(c->username));
        set_bool(L, "password_present", c->password != NULL);
        if (c->password)
            set_str(L, "password", (const char *)c->password, c->password_len);
        set_bool(L, "tls", lb->tls != LABBROKER_PLAIN);
        set_int(L, "time_ms", c->at_ms);
        set_str(L, "peer", c->peer, strlen(c->peer));
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "connects");
    lua_createtable(L, (int)r->nmessages, 0);
    for (size_t i = 0; i < r->nmessages; i++) {
        const struct labbroker_message *m = &r->messages[i];
        lua_createtable(L, 0, 7);
        set_str(L, "client_id", m->client_id, strlen(m->client_id));
        set_str(L, "topic", m->topic, strlen(m->topic));
        set_int(L, "bytes", (lua_Integer)m->size);
        set_bool(L, "retained", m->retained);
        set_int(L, "qos", m->qos);
        set_str(L, "payload", m->payload ? (const char *)m->payload : "", m->kept);
        set_int(L, "time_ms", m->at_ms);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "messages");
}

static int l_collect(lua_State *L)
{
    struct lbroker *lb = luaL_checkudata(L, 1, BROKER_MT);
    struct labbroker_wait w = {0};
    if (lua_isinteger(L, 2)) {
        w.ms = (int)luaL_checkinteger(L, 2);
        if (w.ms < 0 || w.ms > MAX_WINDOW_MS)
            return luaL_error(L, "t.labbroker: collect ms must be 0..%d", MAX_WINDOW_MS);
    } else if (opt_table(L, 2)) {
        w.ms = (int)bind_field_int(L, "t.labbroker", 2, "ms", 0, 0, MAX_WINDOW_MS);
        w.connects =
            (size_t)bind_field_int(L, "t.labbroker", 2, "connects", 0, 0, LABBROKER_MAX_CONNECTS);
        w.messages =
            (size_t)bind_field_int(L, "t.labbroker", 2, "messages", 0, 0, LABBROKER_MAX_MESSAGES);
    }
    if (!lb->b)
        return luaL_error(L, "t.labbroker: collect on a stopped broker");
    const struct labbroker_record *r = NULL;
    struct assay_error err = {0};
    if (labbroker_collect(lb->b, &w, &r, &err) != 0)
        return push_fail(L, &err);
    push_record(L, lb, r);
    return 1;
}

static int l_publish(lua_State *L)
{
    struct lbroker *lb = luaL_checkudata(L, 1, BROKER_MT);
    const char *topic = luaL_checkstring(L, 2);
    size_t len = 0;
    const char *payload = luaL_checklstring(L, 3, &len);
    int o = opt_table(L, 4);
    int qos = o ? (int)bind_field_int(L, "t.labbroker", o, "qos", 1, 0, 2) : 1;
    bool retain = false;
    if (o && lua_getfield(L, o, "retain") != LUA_TNIL)
        retain = lua_toboolean(L, -1);
    if (o)
        lua_pop(L, 1);
    if (!lb->b)
        return luaL_error(L, "t.labbroker: publish on a stopped broker");
    struct assay_error err = {0};
    if (labbroker_publish(lb->b, topic, payload, len, qos, retain, &err) != 0)
        return push_fail(L, &err);
    lua_pushboolean(L, 1);
    return 1;
}

static void broker_metatable(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"collect", l_collect}, {"publish", l_publish}, {"stop", l_stop}, {NULL, NULL}};
    if (luaL_newmetatable(L, BROKER_MT)) {
        luaL_newlib(L, methods);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, l_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, l_gc);
        lua_setfield(L, -2, "__close");
    }
    lua_pop(L, 1);
}

static int l_start(lua_State *L)
{
    struct binding_env *env = env_of(L);
    struct iface f;
    check_iface(L, 1, &f);
    int o = opt_table(L, 2);
    enum labbroker_tls tls = check_tls(L, o, &f, true);
    size_t payload_max = o ? (size_t)bind_field_int(L, "t.labbroker", o, "payload_max", 512, 0,
                                                    LABBROKER_PAYLOAD_MAX)
                           : 512;
    char parent[4096];
    broker_parent(env, parent, sizeof(parent));
    struct labbroker_opts lo = {.address = f.address,
                                .port = f.port,
                                .tls = tls,
                                .ca_file = f.ca,
                                .dir = parent[0] ? parent : NULL,
                                .payload_max = payload_max,
                                .timeout_ms = env->timeout_ms > 0 ? env->timeout_ms : 3000,
                                .scope = env->scope,
                                .sink = env->sink};
    /* the userdata first, so that a failed allocation cannot leak a running broker */
    struct lbroker *lb = lua_newuserdatauv(L, sizeof(*lb), 0);
    lb->b = NULL;
    lb->tls = tls;
    luaL_setmetatable(L, BROKER_MT);
    struct assay_error err = {0};
    if (labbroker_start(&lo, &lb->b, &err) != 0)
        return push_fail(L, &err);
    return 1;
}

/* ---- t.labbroker.refuser ---- */

static void push_refusal(lua_State *L, const struct refuser_result *r, int window)
{
    lua_createtable(L, 0, 7);
    set_int(L, "attempts", (lua_Integer)r->attempts);
    set_int(L, "connects", (lua_Integer)r->connects);
    set_int(L, "tls_failures", (lua_Integer)r->tls_failures);
    set_int(L, "elapsed_ms", r->elapsed_ms);
    set_int(L, "window_ms", window);
    lua_createtable(L, (int)r->nkept, 0);
    for (size_t i = 0; i < r->nkept; i++) {
        lua_pushinteger(L, r->kept[i].at_ms);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "times_ms");
    lua_createtable(L, 0, 0);
    for (size_t i = 0, n = 0; i < r->nkept && n < 64; i++) {
        if (r->kept[i].connect_seen) {
            lua_pushstring(L, r->kept[i].client_id);
            lua_rawseti(L, -2, (lua_Integer)++n);
        }
    }
    lua_setfield(L, -2, "client_ids");
}

static int l_refuser(lua_State *L)
{
    struct binding_env *env = env_of(L);
    struct iface f;
    check_iface(L, 1, &f);
    int o = opt_table(L, 2);
    enum labbroker_tls tls = check_tls(L, o, &f, false);
    int ms = o ? (int)bind_field_int(L, "t.labbroker", o, "ms", 10000, 1, MAX_WINDOW_MS) : 10000;
    int code = o ? (int)bind_field_int(L, "t.labbroker", o, "code", 3, 1, 5) : 3;
    struct refuser_opts ro = {.address = f.address,
                              .port = f.port,
                              .ms = ms,
                              .code = code,
                              .scope = env->scope,
                              .sink = env->sink};
    struct assay_error err = {0};
    struct labcert_pair pair;
    char dir[64] = "";
    int issued = 0;
    if (!scope_allows(env->scope, f.address)) {
        assay_fail(&err, ASSAY_ESCOPE, "broker address %s", f.address);
        return push_fail(L, &err);
    }
    if (tls == LABBROKER_TRUSTED) {
        snprintf(dir, sizeof(dir), "/tmp/assay-refuser-XXXXXX");
        if (!mkdtemp(dir)) {
            assay_fail(&err, ASSAY_EIO, "refuser: cannot create a temporary directory");
            return push_fail(L, &err);
        }
        if (labcert_trusted(dir, f.ca, f.address, &pair, &issued, &err) != 0) {
            rmdir(dir);
            return push_fail(L, &err);
        }
        ro.cert_file = pair.cert;
        ro.key_file = pair.key;
    }
    struct refuser_result r;
    int rc = mqtt_refuser_run(&ro, &r, &err);
    if (issued) {
        unlink(pair.cert);
        unlink(pair.key);
    }
    if (dir[0])
        rmdir(dir);
    if (rc != 0) {
        mqtt_refuser_result_release(&r);
        return push_fail(L, &err);
    }
    push_refusal(L, &r, ms);
    mqtt_refuser_result_release(&r);
    return 1;
}

void bind_labbroker_push(lua_State *L, struct binding_env *env)
{
    static const luaL_Reg fns[] = {{"start", l_start}, {"refuser", l_refuser}, {NULL, NULL}};
    broker_metatable(L);
    luaL_newlibtable(L, fns);
    lua_pushlightuserdata(L, env);
    luaL_setfuncs(L, fns, 1);
}
