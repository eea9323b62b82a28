/* bind_coap.c: the t.coap Lua binding over the CoAP driver (see bind_coap.h). */
#include "bind_coap.h"

#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#include "lua/bind_util.h"
#include "drivers/coap.h"
#include "drivers/linkformat.h"

#define HOST_MAX 64
#define MAX_BODY_CAP (1u << 20)

struct ep {
    char host[HOST_MAX];
    uint16_t port, dtls_port;
};

#define POOL_META "assay.coap.pool"

static struct binding_env *env_of(lua_State *L)
{
    return lua_touserdata(L, lua_upvalueindex(1));
}

/* The session pool of this t.coap table (upvalue 2), or NULL (requests then
 * open a session each). */
static struct coapdrv_pool *pool_of(lua_State *L)
{
    struct coapdrv_pool **pp = lua_touserdata(L, lua_upvalueindex(2));
    return pp ? *pp : NULL;
}

/* ---- argument checks (before any I/O) ---- */

/* Leaves on the stack the table holding port and dtls_port for the endpoint at idx. */
static void find_interface(lua_State *L, int idx)
{
    if (lua_getfield(L, idx, "coap") == LUA_TTABLE)
        return;
    lua_pop(L, 1);
    if (lua_getfield(L, idx, "interfaces") == LUA_TTABLE) {
        int list = lua_gettop(L);
        for (lua_Integer i = 1; lua_geti(L, list, i) == LUA_TTABLE; i++) {
            const char *kind;
            lua_getfield(L, -1, "kind");
            kind = lua_tostring(L, -1);
            if (kind && strcmp(kind, "coap") == 0) {
                lua_pop(L, 1);
                lua_remove(L, list);
                return;
            }
            lua_pop(L, 2);
        }
        luaL_error(L, "t.coap: the device has no coap interface");
    }
    lua_pop(L, 1);
    lua_pushvalue(L, idx);
}

static void check_endpoint(lua_State *L, struct ep *ep)
{
    const char *a;
    int itf;
    luaL_checktype(L, 1, LUA_TTABLE);
    a = bind_field_str(L, "t.coap", 1, "address", NULL);
    if (!a)
        a = bind_field_str(L, "t.coap", 1, "host", NULL);
    if (!a || strlen(a) >= HOST_MAX)
        luaL_error(L, "t.coap: endpoint needs an 'address' string");
    snprintf(ep->host, sizeof ep->host, "%s", a);
    find_interface(L, 1);
    itf = lua_gettop(L);
    ep->port = (uint16_t)bind_field_int(L, "t.coap", itf, "port", 5683, 1, 65535);
    ep->dtls_port = (uint16_t)bind_field_int(L, "t.coap", itf, "dtls_port", 5684, 1, 65535);
    lua_pop(L, 1);
}

static struct coapdrv_target make_target(lua_State *L, const struct ep *ep, int opts)
{
    const struct binding_env *env = env_of(L);
    int t = env->timeout_ms > 0 ? env->timeout_ms : 3000;
    struct coapdrv_target tg = {.host = ep->host,
                                .port = ep->port,
                                .scope = env->scope,
                                .sink = env->sink,
                                .timeout_ms = t,
                                .max_retransmit = -1};
    if (opts)
        tg.timeout_ms = (int)bind_field_int(L, "t.coap", opts, "timeout_ms", t, 1, t);
    return tg;
}

static int opt_table(lua_State *L, int arg)
{
    if (lua_isnoneornil(L, arg))
        return 0;
    luaL_checktype(L, arg, LUA_TTABLE);
    return arg;
}

/* Reads { identity, key } at idx into psk (strings stay on the caller's table). */
static void check_psk(lua_State *L, int idx, struct coapdrv_psk *psk)
{
    size_t klen = 0;
    luaL_checktype(L, idx, LUA_TTABLE);
    psk->identity = bind_field_str(L, "t.coap", idx, "identity", NULL);
    psk->key = (const uint8_t *)bind_field_str(L, "t.coap", idx, "key", &klen);
    psk->key_len = klen;
    if (!psk->identity || !psk->key || klen == 0)
        luaL_error(L, "t.coap: a psk needs 'identity' and a non-empty 'key'");
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

static void set_bool(lua_State *L, const char *k, int v)
{
    lua_pushboolean(L, v);
    lua_setfield(L, -2, k);
}

static const char *type_name(unsigned type)
{
    static const char *const names[] = {"CON", "NON", "ACK", "RST"};
    return names[type & 3];
}

static void push_options(lua_State *L, const struct coapdrv_response *r)
{
    lua_createtable(L, (int)r->noptions, 0);
    for (size_t i = 0; i < r->noptions; i++) {
        const struct coapdrv_option *o = &r->options[i];
        const char *name = coapdrv_option_name(o->number);
        lua_createtable(L, 0, 4);
        set_int(L, "number", o->number);
        if (name)
            set_str(L, "name", name, strlen(name));
        set_str(L, "value", (const char *)o->value, o->len);
        if (o->truncated)
            set_bool(L, "truncated", 1);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "options");
}

static void push_response(lua_State *L, const struct coapdrv_response *r)
{
    char code[8];
    snprintf(code, sizeof code, "%d.%02d", r->code_class, r->code_detail);
    lua_createtable(L, 0, 14);
    set_str(L, "code", code, strlen(code));
    set_int(L, "class", r->code_class);
    set_int(L, "detail", r->code_detail);
    set_str(L, "type", type_name((unsigned)r->type), 3);
    push_options(L, r);
    set_str(L, "payload", r->payload ? (const char *)r->payload : "", r->payload_len);
    set_bool(L, "truncated", r->body_truncated);
    set_int(L, "exchanges", r->exchanges);
    set_int(L, "bytes_sent", (lua_Integer)r->bytes_sent);
    set_int(L, "bytes_received", (lua_Integer)r->bytes_received);
    set_int(L, "elapsed_ms", r->elapsed_ms);
    if (r->stale_replies)
        set_int(L, "stale", r->stale_replies);
    if (r->note[0])
        set_str(L, "note", r->note, strlen(r->note));
}

/* ---- requests ---- */

static void check_request(lua_State *L, int opts, struct coapdrv_request *q,
                          struct coapdrv_psk *psk)
{
    size_t plen = 0;
    if (!opts)
        return;
    if (lua_getfield(L, opts, "confirmable") != LUA_TNIL)
        q->non_confirmable = !lua_toboolean(L, -1);
    lua_pop(L, 1);
    q->payload = (const uint8_t *)bind_field_str(L, "t.coap", opts, "payload", &plen);
    q->payload_len = plen;
    if (lua_getfield(L, opts, "content_format") != LUA_TNIL) {
        q->has_content_format = true;
        q->content_format =
            (uint16_t)bind_field_int(L, "t.coap", opts, "content_format", 0, 0, 65535);
    }
    lua_pop(L, 1);
    q->max_body = (size_t)bind_field_int(L, "t.coap", opts, "max_body", COAPDRV_DEFAULT_MAX_BODY, 1,
                                         MAX_BODY_CAP);
    if (lua_getfield(L, opts, "psk") != LUA_TNIL) {
        check_psk(L, lua_gettop(L), psk);
        q->psk = psk;
    }
    lua_pop(L, 1); /* the psk strings live on as fields of opts */
}

/* Runs a request; leaves the response table on the stack and returns 1, or
 * pushes nil, reason and returns 2. `links` asks for the link-format parse. */
static int do_request(lua_State *L, enum coapdrv_method m, const char *path, int opts, bool links)
{
    struct ep ep;
    struct coapdrv_request q = {.method = m, .path = path};
    struct coapdrv_psk psk;
    struct coapdrv_response r;
    struct coapdrv_target t;
    struct assay_error err = {0};
    int rc;
    check_endpoint(L, &ep);
    check_request(L, opts, &q, &psk);
    t = make_target(L, &ep, opts);
    if (q.psk)
        t.port = ep.dtls_port;
    rc = coapdrv_request_in(pool_of(L), &t, &q, &r, &err);
    if (rc) {
        coapdrv_response_release(&r);
        return bind_error(L, &err);
    }
    if (r.outcome != COAPDRV_RESPONSE) {
        coapdrv_response_release(&r);
        return bind_fail(L, coapdrv_outcome_reason(r.outcome), NULL);
    }
    push_response(L, &r);
    if (links && r.code_class == 2 && r.code_detail == 5) {
        struct linkformat_doc doc;
        size_t off = 0;
        if (linkformat_parse(r.payload, r.payload_len, NULL, &doc, &off, &err) == 0) {
            lua_createtable(L, (int)doc.nlinks, 0);
            for (size_t i = 0; i < doc.nlinks; i++) {
                const struct linkformat_link *l = &doc.links[i];
                lua_createtable(L, 0, 2);
                set_str(L, "target", l->target, strlen(l->target));
                lua_createtable(L, (int)l->nattrs, 0);
                for (size_t j = 0; j < l->nattrs; j++) {
                    lua_createtable(L, 0, 3);
                    set_str(L, "name", l->attrs[j].name, strlen(l->attrs[j].name));
                    if (l->attrs[j].value)
                        set_str(L, "value", l->attrs[j].value, strlen(l->attrs[j].value));
                    if (l->attrs[j].quoted)
                        set_bool(L, "quoted", 1);
                    lua_rawseti(L, -2, (lua_Integer)j + 1);
                }
                lua_setfield(L, -2, "attrs");
                lua_rawseti(L, -2, (lua_Integer)i + 1);
            }
            lua_setfield(L, -2, "links");
            linkformat_release(&doc);
        } else {
            set_str(L, "link_error", err.msg, strlen(err.msg));
        }
    }
    coapdrv_response_release(&r);
    return 1;
}

static int method_call(lua_State *L, enum coapdrv_method m)
{
    const char *path = luaL_checkstring(L, 2);
    return do_request(L, m, path, opt_table(L, 3), false);
}

static int l_get(lua_State *L)
{
    return method_call(L, COAPDRV_GET);
}

static int l_put(lua_State *L)
{
    return method_call(L, COAPDRV_PUT);
}

static int l_post(lua_State *L)
{
    return method_call(L, COAPDRV_POST);
}

static int l_delete(lua_State *L)
{
    return method_call(L, COAPDRV_DELETE);
}

static int l_discover(lua_State *L)
{
    return do_request(L, COAPDRV_GET, "/.well-known/core", opt_table(L, 2), true);
}

/* ---- DTLS, raw, alive ---- */

/* Reads { pki = { ca, cert, key } } at idx (strings stay on the caller's table). */
static void check_pki(lua_State *L, int idx, struct coapdrv_pki *pki)
{
    int t = lua_gettop(L) + 1;
    lua_getfield(L, idx, "pki");
    luaL_argcheck(L, lua_istable(L, t), 2, "'pki' must be a table");
    pki->ca = bind_field_str(L, "t.coap", t, "ca", NULL);
    pki->cert = bind_field_str(L, "t.coap", t, "cert", NULL);
    pki->key = bind_field_str(L, "t.coap", t, "key", NULL);
    lua_pop(L, 1);
    if ((pki->cert != NULL) != (pki->key != NULL))
        luaL_error(L, "t.coap: a pki 'cert' needs its 'key' (and a key its cert)");
}

static void push_cert(lua_State *L, const struct coapdrv_cert *c)
{
    lua_createtable(L, 0, 9);
    set_str(L, "subject", c->subject, strlen(c->subject));
    set_str(L, "issuer", c->issuer, strlen(c->issuer));
    set_str(L, "not_before", c->not_before, strlen(c->not_before));
    set_str(L, "not_after", c->not_after, strlen(c->not_after));
    set_str(L, "key_type", c->key_type, strlen(c->key_type));
    set_int(L, "key_bits", c->key_bits);
    set_str(L, "sig_alg", c->sig_alg, strlen(c->sig_alg));
    set_bool(L, "self_signed", c->self_signed);
    set_str(L, "sha256", c->sha256, strlen(c->sha256));
    lua_setfield(L, -2, "server_cert");
}

static void push_dtls_result(lua_State *L, const struct coapdrv_dtls_result *res)
{
    const char *state = coapdrv_dtls_state_name(res->state);
    lua_createtable(L, 0, 14);
    set_str(L, "mode", res->pki ? "pki" : "psk", 3);
    set_str(L, "state", state, strlen(state));
    set_bool(L, "established", res->state == COAPDRV_DTLS_ESTABLISHED);
    if (res->version[0])
        set_str(L, "version", res->version, strlen(res->version));
    if (res->cipher[0])
        set_str(L, "cipher", res->cipher, strlen(res->cipher));
    set_int(L, "elapsed_ms", res->elapsed_ms);
    if (!res->pki)
        return;
    set_bool(L, "client_cert", res->client_cert);
    if (!res->has_server_cert)
        return;
    push_cert(L, &res->server_cert);
    set_int(L, "chain_length", (lua_Integer)res->chain_len);
    set_bool(L, "name_matches", res->name_matches);
    set_bool(L, "ca_checked", res->ca_checked);
    if (res->ca_checked)
        set_bool(L, "verified", res->verified);
    if (res->verify_error[0])
        set_str(L, "verify_error", res->verify_error, strlen(res->verify_error));
}

static int l_dtls_probe(lua_State *L)
{
    struct ep ep;
    struct coapdrv_psk psk;
    struct coapdrv_pki pki = {0};
    struct coapdrv_dtls_result res;
    struct coapdrv_target t;
    struct assay_error err = {0};
    bool use_pki;
    int opts, rc;
    check_endpoint(L, &ep);
    luaL_checktype(L, 2, LUA_TTABLE);
    use_pki = lua_getfield(L, 2, "pki") != LUA_TNIL;
    lua_pop(L, 1);
    if (use_pki)
        check_pki(L, 2, &pki);
    else
        check_psk(L, 2, &psk);
    opts = opt_table(L, 3);
    t = make_target(L, &ep, opts);
    t.port = ep.dtls_port;
    coapdrv_pool_close(pool_of(L), ep.host); /* one association with the device at a time */
    rc = use_pki ? coapdrv_dtls_probe_pki(&t, &pki, &res, &err)
                 : coapdrv_dtls_probe_psk(&t, &psk, &res, &err);
    if (rc)
        return bind_error(L, &err);
    push_dtls_result(L, &res);
    return 1;
}

/* Reads the options list of a raw spec at idx into opts[] (values stay on the spec table). */
static size_t check_raw_options(lua_State *L, int idx, struct coapraw_opt *opts)
{
    size_t n = 0;
    if (lua_getfield(L, idx, "options") == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    luaL_checktype(L, -1, LUA_TTABLE);
    for (lua_Integer i = 1; lua_geti(L, -1, i) == LUA_TTABLE; i++) {
        int o = lua_gettop(L);
        if (n >= COAPRAW_MAX_OPTS)
            luaL_error(L, "t.coap.raw: at most %d options", COAPRAW_MAX_OPTS);
        opts[n].number = (uint16_t)bind_field_int(L, "t.coap", o, "number", -1, 0, 65535);
        opts[n].value = (const uint8_t *)bind_field_str(L, "t.coap", o, "value", &opts[n].len);
        if (!opts[n].value)
            opts[n].len = 0;
        n++;
        lua_pop(L, 1);
    }
    lua_pop(L, 2);
    return n;
}

/* Builds the message at arg 2 into out; raises on misuse. */
static size_t check_raw_message(lua_State *L, uint8_t *out, size_t cap)
{
    struct coapraw_opt opts[COAPRAW_MAX_OPTS];
    struct coapraw_spec s = {.opts = opts};
    struct assay_error err = {0};
    size_t len = 0;
    const char *preset;
    if (lua_type(L, 2) == LUA_TSTRING) {
        const char *b = lua_tolstring(L, 2, &len);
        luaL_argcheck(L, len > 0 && len <= cap, 2, "raw message must be 1..1280 bytes");
        memcpy(out, b, len);
        return len;
    }
    luaL_checktype(L, 2, LUA_TTABLE);
    preset = bind_field_str(L, "t.coap", 2, "preset", NULL);
    if (preset) {
        uint16_t mid = (uint16_t)bind_field_int(L, "t.coap", 2, "mid", 0x7a11, 0, 65535);
        if (coapraw_preset(preset, mid, out, cap, &len, &err))
            luaL_argerror(L, 2, err.msg);
        return len;
    }
    s.version = (uint8_t)bind_field_int(L, "t.coap", 2, "version", 1, 0, 3);
    s.type = (uint8_t)bind_field_int(L, "t.coap", 2, "type", 0, 0, 3);
    s.code = (uint8_t)bind_field_int(L, "t.coap", 2, "code", 1, 0, 255);
    s.mid = (uint16_t)bind_field_int(L, "t.coap", 2, "mid", 0x7a11, 0, 65535);
    s.token = (const uint8_t *)bind_field_str(L, "t.coap", 2, "token", &s.token_len);
    s.tkl = (uint8_t)bind_field_int(L, "t.coap", 2, "tkl", s.token ? (lua_Integer)s.token_len : 0,
                                    0, 15);
    s.tail = (const uint8_t *)bind_field_str(L, "t.coap", 2, "tail", &s.tail_len);
    s.payload = (const uint8_t *)bind_field_str(L, "t.coap", 2, "payload", &s.payload_len);
    if (!s.token)
        s.token_len = 0;
    if (!s.tail)
        s.tail_len = 0;
    if (!s.payload)
        s.payload_len = 0;
    s.nopts = check_raw_options(L, 2, opts);
    if (coapraw_build(&s, out, cap, &len, &err))
        luaL_argerror(L, 2, err.msg);
    return len;
}

static void push_reply(lua_State *L, const struct coapraw_reply *r)
{
    char code[8];
    lua_createtable(L, 0, 8);
    set_str(L, "bytes", (const char *)r->bytes, r->len);
    set_int(L, "size", (lua_Integer)r->wire_len);
    set_int(L, "after_ms", r->after_ms);
    if (r->decoded) {
        snprintf(code, sizeof code, "%u.%02u", r->hdr.code >> 5, r->hdr.code & 31);
        set_int(L, "version", r->hdr.version);
        set_str(L, "type", type_name(r->hdr.type), 3);
        set_str(L, "code", code, strlen(code));
        set_int(L, "mid", r->hdr.mid);
        if (r->hdr.token_ok)
            set_str(L, "token", (const char *)r->hdr.token, r->hdr.token_len);
    }
}

static int l_raw(lua_State *L)
{
    struct ep ep;
    struct coapraw_result res;
    struct coapdrv_target t;
    struct assay_error err = {0};
    uint8_t msg[COAPRAW_MAX_DATAGRAM];
    size_t len, max_replies = 1;
    int opts;
    check_endpoint(L, &ep);
    len = check_raw_message(L, msg, sizeof msg);
    opts = opt_table(L, 3);
    if (opts)
        max_replies =
            (size_t)bind_field_int(L, "t.coap", opts, "max_replies", 1, 1, COAPRAW_MAX_REPLIES);
    t = make_target(L, &ep, opts);
    if (coapraw_exchange(&t, msg, len, max_replies, &res, &err))
        return bind_error(L, &err);
    lua_createtable(L, 0, 6);
    set_int(L, "bytes_sent", (lua_Integer)res.bytes_sent);
    set_int(L, "bytes_received", (lua_Integer)res.bytes_received);
    set_int(L, "datagrams", (lua_Integer)res.datagrams);
    set_bool(L, "unreachable", res.unreachable);
    set_int(L, "elapsed_ms", res.elapsed_ms);
    lua_createtable(L, (int)res.nreplies, 0);
    for (size_t i = 0; i < res.nreplies; i++) {
        push_reply(L, &res.replies[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "replies");
    return 1;
}

static int l_alive(lua_State *L)
{
    struct ep ep;
    struct coapdrv_target t;
    struct assay_error err = {0};
    bool alive = false;
    int64_t rtt = -1;
    check_endpoint(L, &ep);
    t = make_target(L, &ep, opt_table(L, 2));
    if (coapdrv_alive(&t, &alive, &rtt, &err))
        return bind_error(L, &err);
    if (!alive)
        return bind_fail(L, "timeout", NULL);
    lua_pushboolean(L, 1);
    lua_pushinteger(L, rtt);
    return 2;
}

static int l_close(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)coapdrv_pool_close(pool_of(L), NULL));
    return 1;
}

/* __gc and __close of the pool userdata: closes its sessions. */
static int l_pool_gc(lua_State *L)
{
    struct coapdrv_pool **pp = luaL_checkudata(L, 1, POOL_META);
    coapdrv_pool_free(*pp);
    *pp = NULL;
    return 0;
}

/* Pushes a userdata owning a new session pool (holding NULL when out of memory). */
static void push_pool(lua_State *L)
{
    struct coapdrv_pool **pp = lua_newuserdatauv(L, sizeof *pp, 0);
    struct assay_error err = {0};
    *pp = NULL;
    if (luaL_newmetatable(L, POOL_META)) {
        lua_pushcfunction(L, l_pool_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, l_pool_gc);
        lua_setfield(L, -2, "__close");
        lua_pushliteral(L, "t.coap sessions");
        lua_setfield(L, -2, "__metatable");
    }
    lua_setmetatable(L, -2);
    if (coapdrv_pool_new(pp, &err))
        *pp = NULL;
}

void bind_coap_push(lua_State *L, struct binding_env *env)
{
    static const luaL_Reg fns[] = {
        {"get", l_get},       {"put", l_put},           {"post", l_post},
        {"delete", l_delete}, {"discover", l_discover}, {"dtls_probe", l_dtls_probe},
        {"raw", l_raw},       {"alive", l_alive},       {"close", l_close},
        {NULL, NULL},
    };
    lua_createtable(L, 0, sizeof fns / sizeof *fns - 1);
    lua_pushlightuserdata(L, env);
    push_pool(L);
    luaL_setfuncs(L, fns, 2);
}
