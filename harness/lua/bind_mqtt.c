/* bind_mqtt.c: the t.mqtt Lua binding over the MQTT driver, raw path and TLS probe (bind_mqtt.h).
 */
#include "bind_mqtt.h"

#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#include "lua/bind_util.h"
#include "drivers/mqtt.h"
#include "drivers/mqtt_raw.h"
#include "drivers/tlsprobe.h"

#define SESSION_MT "assay.mqtt.session"
#define MAX_COLLECT_MS 120000

struct ep {
    char host[MQTTDRV_HOST_MAX];
    uint16_t port;
    bool tls;
    bool has_port; /* the endpoint named a port */
};

/* Checked options; strings point into tables that stay on the Lua stack. */
struct copts {
    struct mqttdrv_connect_opts o;
    int timeout_ms;
};

struct lsession {
    struct mqttdrv_session *s; /* NULL once closed */
    int timeout_ms;
};

static struct binding_env *env_of(lua_State *L)
{
    return lua_touserdata(L, lua_upvalueindex(1));
}

/* ---- argument checks (before any I/O) ---- */

static int field_bool(lua_State *L, int idx, const char *key, int def)
{
    int v = def, type = lua_getfield(L, idx, key);
    if (type != LUA_TNIL) {
        if (type != LUA_TBOOLEAN)
            luaL_error(L, "t.mqtt: '%s' must be a boolean", key);
        v = lua_toboolean(L, -1);
    }
    lua_pop(L, 1);
    return v;
}

static int opt_table(lua_State *L, int arg)
{
    if (lua_isnoneornil(L, arg))
        return 0;
    luaL_checktype(L, arg, LUA_TTABLE);
    return arg;
}

static void check_endpoint(lua_State *L, int idx, struct ep *ep)
{
    const char *a;
    int itf = idx, pushed = 0;
    luaL_checktype(L, idx, LUA_TTABLE);
    a = bind_field_str(L, "t.mqtt", idx, "address", NULL);
    if (!a)
        a = bind_field_str(L, "t.mqtt", idx, "host", NULL);
    if (lua_getfield(L, idx, "mqtt_broker") == LUA_TTABLE) {
        itf = lua_gettop(L);
        pushed = 1;
        if (bind_field_str(L, "t.mqtt", itf, "address", NULL))
            a = bind_field_str(L, "t.mqtt", itf, "address", NULL);
    } else {
        lua_pop(L, 1);
    }
    if (!a || strlen(a) >= MQTTDRV_HOST_MAX)
        luaL_error(L, "t.mqtt: endpoint needs an 'address' string");
    snprintf(ep->host, sizeof ep->host, "%s", a);
    ep->tls = field_bool(L, itf, "tls", 0);
    ep->port = (uint16_t)bind_field_int(L, "t.mqtt", itf, "port", 0, 0, 65535);
    ep->has_port = ep->port != 0;
    if (!ep->has_port)
        ep->port = ep->tls ? 8883 : 1883;
    if (pushed)
        lua_pop(L, 1);
}

static int env_timeout(lua_State *L)
{
    const struct binding_env *env = env_of(L);
    return env->timeout_ms > 0 ? env->timeout_ms : 3000;
}

static void check_tls(lua_State *L, int idx, struct copts *c)
{
    int type = lua_getfield(L, idx, "tls");
    if (type == LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    if (type != LUA_TTABLE)
        luaL_error(L, "t.mqtt: 'tls' must be a table { ca =, verify = }");
    c->o.tls.enabled = true;
    c->o.tls.keylog_path = env_of(L)->keylog_path;
    c->o.tls.ca_file = bind_field_str(L, "t.mqtt", -1, "ca", NULL);
    c->o.tls.verify = field_bool(L, -1, "verify", c->o.tls.ca_file != NULL);
    lua_pop(L, 1); /* the string stays alive in the caller's table */
    if (c->o.tls.verify && !c->o.tls.ca_file)
        luaL_error(L, "t.mqtt: tls.verify needs tls.ca");
}

/* Reads creds/opts at idx (0: none). */
static void check_copts(lua_State *L, int idx, const struct ep *ep, struct copts *c)
{
    int t = env_timeout(L);
    memset(c, 0, sizeof *c);
    c->timeout_ms = t;
    c->o.version = 4;
    c->o.tls.enabled = ep->tls;
    c->o.tls.keylog_path = env_of(L)->keylog_path; /* the raw engine's TLS keys go to the capture */
    if (!idx)
        return;
    c->o.username = bind_field_str(L, "t.mqtt", idx, "username", NULL);
    if (!c->o.username)
        c->o.username = bind_field_str(L, "t.mqtt", idx, "user", NULL);
    c->o.password = bind_field_str(L, "t.mqtt", idx, "password", &c->o.password_len);
    c->o.client_id = bind_field_str(L, "t.mqtt", idx, "client_id", NULL);
    c->o.version = (int)bind_field_int(L, "t.mqtt", idx, "version", 4, 4, 5);
    c->o.session_expiry_s =
        (uint32_t)bind_field_int(L, "t.mqtt", idx, "session_expiry", 0, 0, 0xffffffffLL);
    if (c->o.session_expiry_s && c->o.version != 5)
        luaL_error(L, "t.mqtt: session_expiry needs version = 5");
    c->timeout_ms = (int)bind_field_int(L, "t.mqtt", idx, "timeout_ms", t, 1, t);
    check_tls(L, idx, c);
}

static struct mqttdrv_target make_target(lua_State *L, const struct ep *ep, int timeout_ms)
{
    const struct binding_env *env = env_of(L);
    return (struct mqttdrv_target){.host = ep->host,
                                   .port = ep->port,
                                   .scope = env->scope,
                                   .sink = env->sink,
                                   .timeout_ms = timeout_ms};
}

/* ---- results ---- */

static void set_int(lua_State *L, const char *k, lua_Integer v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, k);
}

static void set_str(lua_State *L, const char *k, const char *s, size_t n)
{
    lua_pushlstring(L, s, n);
    lua_setfield(L, -2, k);
}

static void set_cstr(lua_State *L, const char *k, const char *s)
{
    set_str(L, k, s, strlen(s));
}

static void set_bool(lua_State *L, const char *k, int v)
{
    lua_pushboolean(L, v);
    lua_setfield(L, -2, k);
}

/* nil, reason for a CONNECT that did not get a CONNACK. */
static int push_no_connack(lua_State *L, const struct mqttdrv_connack *ack)
{
    if (ack->outcome == MQTTDRV_TIMEOUT)
        return bind_fail(L, "timeout", NULL);
    return bind_fail(L, "transport", ack->detail);
}

/* ---- t.mqtt.connect ---- */

static int l_connect(lua_State *L)
{
    struct ep ep;
    struct copts c;
    struct mqttdrv_connack ack;
    struct assay_error err = {0};
    check_endpoint(L, 1, &ep);
    check_copts(L, opt_table(L, 2), &ep, &c);
    struct mqttdrv_target t = make_target(L, &ep, c.timeout_ms);
    if (mqttdrv_connect(&t, &c.o, &ack, &err) != 0)
        return bind_error(L, &err);
    if (ack.outcome != MQTTDRV_ACCEPTED && ack.outcome != MQTTDRV_REFUSED)
        return push_no_connack(L, &ack);
    lua_createtable(L, 0, 5);
    set_bool(L, "accepted", ack.outcome == MQTTDRV_ACCEPTED);
    set_int(L, "code", ack.code);
    set_cstr(L, "reason", mqttdrv_connack_reason(c.o.version, ack.code));
    set_int(L, "version", c.o.version);
    set_int(L, "elapsed_ms", ack.elapsed_ms);
    return 1;
}

/* ---- sessions ---- */

static struct lsession *check_session(lua_State *L)
{
    return luaL_checkudata(L, 1, SESSION_MT);
}

static int l_session_close(lua_State *L)
{
    struct lsession *ls = check_session(L);
    mqttdrv_session_close(ls->s);
    ls->s = NULL;
    return 0;
}

static int l_session_connected(lua_State *L)
{
    struct lsession *ls = check_session(L);
    lua_pushboolean(L, ls->s && mqttdrv_session_connected(ls->s));
    return 1;
}

static void push_messages(lua_State *L, const struct mqttdrv_collect *c)
{
    lua_createtable(L, (int)c->n, 0);
    for (size_t i = 0; i < c->n; i++) {
        const struct mqttdrv_message *m = &c->messages[i];
        lua_createtable(L, 0, 6);
        set_str(L, "topic", m->topic, m->topic_len);
        set_str(L, "payload", m->payload ? (const char *)m->payload : "", m->len);
        set_bool(L, "retained", m->retained);
        set_int(L, "qos", m->qos);
        set_int(L, "size", (lua_Integer)m->full_len);
        set_int(L, "after_ms", m->after_ms);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "messages");
}

/* The filter argument: a string, or a list of 1..MQTTDRV_MAX_FILTERS strings. */
static size_t check_filters(lua_State *L, int idx, const char **out)
{
    size_t n = 0;
    if (lua_type(L, idx) == LUA_TSTRING) {
        out[0] = lua_tostring(L, idx);
        return 1;
    }
    if (lua_type(L, idx) != LUA_TTABLE)
        luaL_error(L, "t.mqtt: subscribe needs a filter string or a list of them");
    n = (size_t)lua_rawlen(L, idx);
    if (n == 0 || n > MQTTDRV_MAX_FILTERS)
        luaL_error(L, "t.mqtt: 1 to %d filters in one subscribe", MQTTDRV_MAX_FILTERS);
    for (size_t i = 0; i < n; i++) {
        if (lua_rawgeti(L, idx, (lua_Integer)i + 1) != LUA_TSTRING)
            luaL_error(L, "t.mqtt: filter %d is not a string", (int)i + 1);
        out[i] = lua_tostring(L, -1); /* kept alive by the table */
        lua_pop(L, 1);
        if (!*out[i])
            luaL_error(L, "t.mqtt: filter %d is empty", (int)i + 1);
    }
    return n;
}

static int l_subscribe(lua_State *L)
{
    struct lsession *ls = check_session(L);
    const char *filters[MQTTDRV_MAX_FILTERS];
    size_t nf = check_filters(L, 2, filters);
    int o = opt_table(L, 3);
    struct mqttdrv_limits lim = {.max_messages = 100, .max_bytes = 1u << 20, .ms = ls->timeout_ms};
    struct mqttdrv_collect c;
    struct assay_error err = {0};
    int qos = 0, rc;
    if (o) {
        lim.max_messages =
            (size_t)bind_field_int(L, "t.mqtt", o, "max_messages", 100, 1, MQTTDRV_MAX_MESSAGES);
        lim.max_bytes =
            (size_t)bind_field_int(L, "t.mqtt", o, "max_bytes", 1 << 20, 1, MQTTDRV_MAX_BYTES);
        lim.ms = (int)bind_field_int(L, "t.mqtt", o, "ms", ls->timeout_ms, 1, MAX_COLLECT_MS);
        lim.quiet_ms = (int)bind_field_int(L, "t.mqtt", o, "quiet_ms", 0, 0, MAX_COLLECT_MS);
        qos = (int)bind_field_int(L, "t.mqtt", o, "qos", 0, 0, 2);
    }
    if (!ls->s || !mqttdrv_session_connected(ls->s))
        return bind_fail(L, "closed", NULL);
    rc = mqttdrv_subscribe_many(ls->s, filters, nf, qos, &lim, &c, &err);
    if (rc != 0) {
        mqttdrv_collect_release(&c);
        return bind_error(L, &err);
    }
    lua_createtable(L, 0, 8);
    set_int(L, "code", c.suback_code);
    lua_createtable(L, (int)c.nfilters, 0);
    for (size_t i = 0; i < c.nfilters; i++) {
        lua_pushinteger(L, c.suback_codes[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "codes");
    if (c.detail[0])
        set_cstr(L, "detail", c.detail);
    set_bool(L, "raw", c.raw);
    set_cstr(L, "stop", mqttdrv_stop_name(c.stop));
    set_int(L, "elapsed_ms", c.elapsed_ms);
    set_int(L, "bytes", (lua_Integer)c.bytes);
    push_messages(L, &c);
    mqttdrv_collect_release(&c);
    return 1;
}

static int l_publish(lua_State *L)
{
    struct lsession *ls = check_session(L);
    size_t len = 0;
    const char *topic = luaL_checkstring(L, 2);
    const char *payload = luaL_checklstring(L, 3, &len);
    int o = opt_table(L, 4), qos = 0, retain = 0, rc;
    struct assay_error err = {0};
    if (o) {
        qos = (int)bind_field_int(L, "t.mqtt", o, "qos", 0, 0, 2);
        retain = field_bool(L, o, "retain", 0);
    }
    if (len > MQTTDRV_MAX_PAYLOAD)
        return luaL_error(L, "t.mqtt: payload over %d bytes", (int)MQTTDRV_MAX_PAYLOAD);
    if (!ls->s || !mqttdrv_session_connected(ls->s))
        return bind_fail(L, "closed", NULL);
    rc = mqttdrv_publish(ls->s, topic, payload, len, qos, retain, &err);
    if (rc == ASSAY_ETIMEOUT)
        return bind_fail(L, "timeout", NULL);
    if (rc != 0)
        return bind_fail(L, mqttdrv_session_connected(ls->s) ? "error" : "closed", err.msg);
    lua_pushboolean(L, 1);
    return 1;
}

static void session_metatable(lua_State *L)
{
    static const luaL_Reg methods[] = {{"subscribe", l_subscribe},
                                       {"publish", l_publish},
                                       {"close", l_session_close},
                                       {"connected", l_session_connected},
                                       {NULL, NULL}};
    if (luaL_newmetatable(L, SESSION_MT)) {
        luaL_newlib(L, methods);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, l_session_close);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, l_session_close);
        lua_setfield(L, -2, "__close");
    }
    lua_pop(L, 1);
}

static int l_session(lua_State *L)
{
    struct ep ep;
    struct copts c;
    struct mqttdrv_connack ack;
    struct assay_error err = {0};
    struct lsession *ls;
    check_endpoint(L, 1, &ep);
    check_copts(L, opt_table(L, 2), &ep, &c);
    struct mqttdrv_target t = make_target(L, &ep, c.timeout_ms);
    /* the userdata first, so that a failed allocation cannot leak an open session */
    ls = lua_newuserdatauv(L, sizeof *ls, 0);
    ls->s = NULL;
    ls->timeout_ms = c.timeout_ms;
    luaL_setmetatable(L, SESSION_MT);
    if (mqttdrv_session_open(&t, &c.o, &ls->s, &ack, &err) != 0)
        return bind_error(L, &err);
    if (ack.outcome == MQTTDRV_REFUSED) {
        lua_pushnil(L);
        lua_pushfstring(L, "refused: %s (code %d)", mqttdrv_connack_reason(c.o.version, ack.code),
                        ack.code);
        return 2;
    }
    if (!ls->s)
        return push_no_connack(L, &ack);
    return 1;
}

/* ---- t.mqtt.tls_probe ---- */

static void push_chain(lua_State *L, const struct tlsprobe_result *r)
{
    lua_createtable(L, (int)r->nchain, 0);
    for (size_t i = 0; i < r->nchain; i++) {
        const struct tlsprobe_cert *c = &r->chain[i];
        lua_createtable(L, 0, 9);
        set_cstr(L, "subject", c->subject);
        set_cstr(L, "issuer", c->issuer);
        set_cstr(L, "not_before", c->not_before);
        set_cstr(L, "not_after", c->not_after);
        set_cstr(L, "key_type", c->key_type);
        set_int(L, "key_bits", c->key_bits);
        set_cstr(L, "sig_alg", c->sig_alg);
        set_bool(L, "self_signed", c->self_signed);
        set_cstr(L, "sha256", c->sha256);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "chain");
}

static int l_tls_probe(lua_State *L)
{
    struct ep ep;
    struct tlsprobe_opts po = {0};
    struct tlsprobe_result *r;
    struct assay_error err = {0};
    int o, t = env_timeout(L), n = 0;
    check_endpoint(L, 1, &ep);
    if (!ep.has_port && !ep.tls)
        ep.port = 8883; /* a TLS probe on an endpoint without a port means the TLS port */
    if ((o = opt_table(L, 2)) != 0) {
        po.ca_file = bind_field_str(L, "t.mqtt", o, "ca", NULL);
        po.sni = bind_field_str(L, "t.mqtt", o, "sni", NULL);
        t = (int)bind_field_int(L, "t.mqtt", o, "timeout_ms", t, 1, t);
    }
    po.keylog_path = env_of(L)->keylog_path; /* the harness owns this TLS context: log its keys */
    struct mqttdrv_target tg = make_target(L, &ep, t);
    r = lua_newuserdatauv(L, sizeof *r, 0); /* scratch space owned by Lua: no leak on error */
    if (tlsprobe_run(&tg, &po, r, &err) != 0)
        return bind_error(L, &err);
    lua_createtable(L, 0, 6);
    lua_createtable(L, 0, TLSPROBE_NVERSIONS);
    for (int v = 0; v < TLSPROBE_NVERSIONS; v++) {
        const struct tlsprobe_attempt *a = &r->attempts[v];
        lua_createtable(L, 0, 4);
        set_bool(L, "accepted", a->accepted);
        if (a->accepted)
            set_cstr(L, "cipher", a->cipher);
        else
            set_cstr(L, "reason", a->reason);
        set_int(L, "elapsed_ms", a->elapsed_ms);
        lua_setfield(L, -2, tlsprobe_version_name((enum tlsprobe_version)v));
    }
    lua_setfield(L, -2, "versions");
    lua_createtable(L, TLSPROBE_NVERSIONS, 0);
    for (int v = 0; v < TLSPROBE_NVERSIONS; v++)
        if (r->attempts[v].accepted) {
            lua_pushstring(L, tlsprobe_version_name((enum tlsprobe_version)v));
            lua_rawseti(L, -2, ++n);
        }
    lua_setfield(L, -2, "accepted");
    push_chain(L, r);
    if (r->ca_checked) {
        set_bool(L, "verified", r->verified);
        if (!r->verified)
            set_cstr(L, "verify_error", r->verify_error);
    }
    set_bool(L, "name_matches", r->name_matches);
    return 1;
}

/* ---- t.mqtt.raw and t.mqtt.alive ---- */

static void push_raw(lua_State *L, const struct mqttraw_result *r)
{
    lua_createtable(L, 0, 9);
    set_cstr(L, "outcome", mqttraw_outcome_name(r->outcome));
    set_bool(L, "closed", r->outcome == MQTTRAW_CLOSED || r->outcome == MQTTRAW_RESET);
    set_bool(L, "silent", r->outcome == MQTTRAW_SILENT);
    set_bool(L, "sent", r->sent);
    set_int(L, "connack", r->connack_code);
    set_int(L, "reply_ms", r->reply_ms);
    set_int(L, "elapsed_ms", r->elapsed_ms);
    if (r->detail[0])
        set_cstr(L, "detail", r->detail);
    if (r->outcome == MQTTRAW_REPLY) {
        lua_createtable(L, 0, 4);
        set_cstr(L, "type", mqttraw_type_name(r->reply.type));
        set_str(L, "bytes", (const char *)r->reply_bytes, r->nreply);
        set_bool(L, "malformed", r->reply_malformed);
        if (r->reply.connack_code >= 0)
            set_int(L, "code", r->reply.connack_code);
        lua_setfield(L, -2, "reply");
    }
}

static int l_raw(lua_State *L)
{
    struct ep ep;
    struct copts c;
    size_t len = 0;
    const char *arg;
    int o, kind, rc;
    struct mqttraw_preface pre = {0};
    struct mqttraw_result *r;
    struct assay_error err = {0};
    size_t oversize = 0;
    check_endpoint(L, 1, &ep);
    arg = luaL_checklstring(L, 2, &len);
    o = opt_table(L, 3);
    check_copts(L, o, &ep, &c);
    kind = mqttraw_kind_from_name(arg);
    pre.connect = kind >= 0;
    if (o) {
        pre.connect = field_bool(L, o, "connect", pre.connect);
        oversize = (size_t)bind_field_int(L, "t.mqtt", o, "oversize", 0, 0, MQTTRAW_MAX_OVERSIZE);
    }
    if (len == 0)
        return luaL_error(L, "t.mqtt.raw: nothing to send");
    pre.tls = c.o.tls;
    pre.keylog_path = c.o.tls.keylog_path;
    pre.client_id = c.o.client_id;
    pre.username = c.o.username;
    pre.password = c.o.password;
    struct mqttdrv_target t = make_target(L, &ep, c.timeout_ms);
    r = lua_newuserdatauv(L, sizeof *r, 0);
    if (kind >= 0 && pre.connect)
        rc = mqttraw_send_kind(&t, &pre, (enum mqttraw_kind)kind, oversize, r, &err);
    else if (kind >= 0) {
        struct mqttraw_frame f;
        if ((rc = mqttraw_kind_frame(&f, (enum mqttraw_kind)kind, oversize)) != 0)
            return bind_fail(L, "error", "cannot build the frame");
        rc = mqttraw_exchange(&t, &pre, f.bytes, f.len, r, &err);
        mqttraw_frame_free(&f);
    } else {
        rc = mqttraw_exchange(&t, &pre, (const uint8_t *)arg, len, r, &err);
    }
    if (rc != 0)
        return bind_error(L, &err);
    if (r->outcome == MQTTRAW_UNREACHABLE)
        return bind_fail(L, "unreachable", NULL);
    push_raw(L, r);
    return 1;
}

static int l_alive(lua_State *L)
{
    struct ep ep;
    struct copts c;
    struct mqttraw_preface pre = {.connect = true};
    struct mqttraw_alive a;
    struct assay_error err = {0};
    check_endpoint(L, 1, &ep);
    check_copts(L, opt_table(L, 2), &ep, &c);
    pre.tls = c.o.tls;
    pre.keylog_path = c.o.tls.keylog_path;
    pre.client_id = c.o.client_id;
    pre.username = c.o.username;
    pre.password = c.o.password;
    struct mqttdrv_target t = make_target(L, &ep, c.timeout_ms);
    if (mqttraw_alive(&t, &pre, &a, &err) != 0)
        return bind_error(L, &err);
    lua_createtable(L, 0, 5);
    set_bool(L, "alive", a.alive);
    set_bool(L, "pingresp", a.pingresp);
    set_int(L, "code", a.connack_code);
    set_int(L, "rtt_ms", a.rtt_ms);
    set_cstr(L, "outcome", mqttraw_outcome_name(a.outcome));
    if (a.detail[0])
        set_cstr(L, "detail", a.detail);
    return 1;
}

void bind_mqtt_push(lua_State *L, struct binding_env *env)
{
    static const luaL_Reg fns[] = {{"connect", l_connect},     {"session", l_session},
                                   {"tls_probe", l_tls_probe}, {"raw", l_raw},
                                   {"alive", l_alive},         {NULL, NULL}};
    session_metatable(L);
    luaL_newlibtable(L, fns);
    lua_pushlightuserdata(L, env);
    luaL_setfuncs(L, fns, 1);
}
