/* judge.c: a judge in a fresh, binding-free Lua state (see judge.h). */
#include "lua/judge.h"

#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#include "lua/luajson.h"
#include "lua/tcload.h"

struct judge_call {
    const struct testcase *tc;
    const json_t *obs, *dossier, *params;
    struct judge_result *out;
    struct assay_error err;
};

static void set_error(struct judge_result *out, const char *msg)
{
    out->verdict = VERDICT_ERROR;
    out->resolve = RESOLVE_NONE;
    snprintf(out->rationale, sizeof(out->rationale), "%s", msg);
}

/* Copies s, cutting at a UTF-8 character boundary if it is too long. */
static void copy_rationale(char *dst, size_t size, const char *s, size_t n)
{
    if (n >= size) {
        n = size - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(dst, s, n);
    dst[n] = '\0';
}

/* Reads the judge's return value at the top of the stack into c->out or c->err. */
static void read_verdict(lua_State *L, struct judge_call *c)
{
    const char *id = c->tc->id;
    if (!lua_istable(L, -1)) {
        assay_fail(&c->err, ASSAY_EPROFILE,
                   "%s: judge must return PASS(...), FAIL(...), INCONCLUSIVE(...), "
                   "NOT_APPLICABLE(...), ASSESSOR(...) or ERROR(...), not %s",
                   id, luaL_typename(L, -1));
        return;
    }
    lua_pushliteral(L, "verdict");
    lua_rawget(L, -2);
    enum verdict v =
        lua_type(L, -1) == LUA_TSTRING ? verdict_parse(lua_tostring(L, -1)) : VERDICT_NONE;
    lua_pop(L, 1);
    lua_pushliteral(L, "resolve");
    int rt = lua_rawget(L, -2);
    bool assessor = rt == LUA_TSTRING && strcmp(lua_tostring(L, -1), "assessor") == 0;
    lua_pop(L, 1);
    lua_pushliteral(L, "rationale");
    size_t n = 0;
    const char *r = lua_rawget(L, -2) == LUA_TSTRING ? lua_tolstring(L, -1, &n) : NULL;
    if (v == VERDICT_NONE)
        assay_fail(&c->err, ASSAY_EPROFILE, "%s: judge returned no known verdict", id);
    else if (rt != LUA_TNIL && !(assessor && v == VERDICT_INCONCLUSIVE))
        assay_fail(&c->err, ASSAY_EPROFILE,
                   "%s: resolve may only be \"assessor\", on an INCONCLUSIVE verdict", id);
    else if (!r || n == 0)
        assay_fail(&c->err, ASSAY_EPROFILE, "%s: judge returned %s without a %s", id,
                   verdict_name(v), v == VERDICT_NOT_APPLICABLE ? "reason" : "rationale");
    else if (memchr(r, '\0', n) || !luajson_utf8_valid(r, n))
        assay_fail(&c->err, ASSAY_EPROFILE, "%s: the rationale is not valid UTF-8 text", id);
    else {
        c->out->verdict = v;
        c->out->resolve = assessor ? RESOLVE_ASSESSOR : RESOLVE_NONE;
        copy_rationale(c->out->rationale, sizeof(c->out->rationale), r, n);
    }
    lua_pop(L, 1);
}

/* Runs armed under sandbox_call. */
static int l_judge(lua_State *L)
{
    struct judge_call *c = lua_touserdata(L, 1);
    tcload_push_def(L, c->tc->id);
    if (!lua_istable(L, -1) || lua_getfield(L, -1, "judge") != LUA_TFUNCTION)
        return luaL_error(L, "test case '%s' is not loaded in the judge's state", c->tc->id);
    if (luajson_push(L, c->obs, &c->err) || luajson_push(L, c->dossier, &c->err) ||
        luajson_push(L, c->params, &c->err))
        return 0;
    if (lua_isnil(L, -2)) {
        lua_pop(L, 1);
        lua_newtable(L); /* no dossier: an empty one */
        lua_insert(L, -2);
    }
    lua_call(L, 3, 1);
    read_verdict(L, c);
    return 0;
}

static int check_shape(const struct testcase *tc, const json_t *obs, struct assay_error *err)
{
    if (tc->scope == TC_SCOPE_DEVICE) {
        if (!json_is_object(obs))
            return assay_fail(err, ASSAY_EINVAL, "%s: observations must be a JSON object", tc->id);
        return 0;
    }
    size_t i;
    json_t *u;
    if (!json_is_array(obs))
        return assay_fail(err, ASSAY_EINVAL,
                          "%s: a model judge needs an array of {device, observations}", tc->id);
    json_array_foreach(obs, i, u)
    {
        if (!json_is_object(json_object_get(u, "device")) ||
            !json_is_object(json_object_get(u, "observations")))
            return assay_fail(err, ASSAY_EINVAL,
                              "%s: unit %zu lacks a device or observations object", tc->id, i + 1);
    }
    return 0;
}

int judge_run(const struct profile *p, const struct testcase *tc, const json_t *obs,
              const json_t *dossier, const json_t *params, const struct sandbox_limits *lim,
              struct judge_result *out, struct assay_error *err)
{
    struct assay_error e = {0};
    set_error(out, "judge did not run");
    int rc = check_shape(tc, obs, &e);
    struct sandbox *sb = NULL;
    if (!rc)
        rc = sandbox_new(p->root, lim ? lim->memory_bytes : 0, &sb, &e);
    if (!rc)
        rc = tcload_file(sb, p->files[tc->file].path, p->files[tc->file].source,
                         p->files[tc->file].len, tc->file, lim, &e);
    if (rc == ASSAY_EPROFILE) {
        set_error(out, e.msg); /* the file itself failed in this state: a profile error */
        sandbox_free(sb);
        return 0;
    }
    if (rc) {
        set_error(out, e.msg);
        sandbox_free(sb);
        if (err)
            *err = e;
        return rc;
    }
    struct judge_call c = {.tc = tc,
                           .obs = obs,
                           .dossier = dossier,
                           .params = params ? params : tc->params,
                           .out = out};
    lua_State *L = sandbox_lua(sb);
    lua_pushcfunction(L, l_judge);
    lua_pushlightuserdata(L, &c);
    if (sandbox_call(sb, 1, 0, lim, &e) != 0)
        set_error(out, e.msg);
    else if (c.err.code)
        set_error(out, c.err.msg);
    sandbox_free(sb);
    return 0;
}
