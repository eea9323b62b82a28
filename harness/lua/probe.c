/* probe.c: a worker's Lua state and the probe runs in it (see probe.h). */
#include "lua/probe.h"

#include <stdlib.h>

#include <lauxlib.h>

#include "lua/helpers.h"
#include "lua/luajson.h"
#include "lua/tcload.h"

struct probe_state {
    struct sandbox *sb;
    const struct profile *p;
    struct sandbox_limits lim;
};

int probe_state_new(const struct profile *p, const struct sandbox_limits *lim,
                    struct probe_state **out, struct assay_error *err)
{
    *out = NULL;
    struct probe_state *ps = calloc(1, sizeof(*ps));
    if (!ps)
        return assay_fail(err, ASSAY_ENOMEM, "out of memory");
    ps->p = p;
    if (lim)
        ps->lim = *lim;
    else
        sandbox_limits_default(&ps->lim);
    int rc = sandbox_new(p->root, ps->lim.memory_bytes, &ps->sb, err);
    for (size_t i = 0; !rc && i < p->n_files; i++)
        rc = tcload_file(ps->sb, p->files[i].path, p->files[i].source, p->files[i].len, i, &ps->lim,
                         err);
    if (rc) {
        probe_state_free(ps);
        return rc;
    }
    *out = ps;
    return 0;
}

void probe_state_free(struct probe_state *ps)
{
    if (!ps)
        return;
    sandbox_free(ps->sb);
    free(ps);
}

struct probe_call {
    const struct testcase *tc;
    const json_t *device, *dossier, *params;
    struct binding_env *env;
    json_t *obs;
    struct assay_error err; /* a failure found by C after the probe returned */
};

/* Runs armed under sandbox_call: builds the arguments, calls the probe, converts its result. */
static int l_probe(lua_State *L)
{
    struct probe_call *c = lua_touserdata(L, 1);
    tcload_push_def(L, c->tc->id);
    if (!lua_istable(L, -1) || lua_getfield(L, -1, "probe") != LUA_TFUNCTION)
        return luaL_error(L, "test case '%s' is not loaded in this state", c->tc->id);
    if (helpers_push_dut(L, c->device, &c->err) || helpers_push_t(L, c->env, c->params, &c->err) ||
        luajson_push(L, c->params, &c->err))
        return 0;
    if (c->dossier) {
        if (luajson_push(L, c->dossier, &c->err))
            return 0;
    } else {
        lua_newtable(L);
    }
    lua_call(L, 4, 1);
    if (!lua_istable(L, -1)) {
        assay_fail(&c->err, ASSAY_EPROFILE, "%s: probe must return a table of observations, not %s",
                   c->tc->id, luaL_typename(L, -1));
        return 0;
    }
    luajson_from_lua(L, -1, "observations", &c->obs, &c->err);
    return 0;
}

static int l_collect(lua_State *L)
{
    lua_gc(L, LUA_GCCOLLECT);
    return 0;
}

int probe_run(struct probe_state *ps, const struct testcase *tc, const json_t *device,
              const json_t *dossier, const json_t *params, struct binding_env *env,
              const struct sandbox_limits *lim, json_t **obs, struct assay_error *err)
{
    *obs = NULL;
    lua_State *L = sandbox_lua(ps->sb);
    struct probe_call c = {.tc = tc,
                           .device = device,
                           .dossier = dossier,
                           .params = params ? params : tc->params,
                           .env = env};
    if (!lua_checkstack(L, 4))
        return assay_fail(err, ASSAY_ENOMEM, "Lua stack exhausted");
    lua_pushcfunction(L, l_probe);
    lua_pushlightuserdata(L, &c);
    struct sandbox_limits eff = ps->lim;
    if (lim && lim->instructions)
        eff.instructions = lim->instructions;
    if (lim && lim->deadline_ms > 0)
        eff.deadline_ms = lim->deadline_ms;
    if (lim && lim->memory_bytes)
        eff.memory_bytes = lim->memory_bytes;
    int rc = sandbox_call(ps->sb, 1, 0, &eff, err);
    struct assay_error ignored = {0};
    sandbox_protect(ps->sb, l_collect, NULL, &ignored);
    if (rc == 0 && c.err.code) {
        rc = c.err.code;
        if (err)
            *err = c.err;
    }
    if (rc) {
        json_decref(c.obs);
        return rc;
    }
    *obs = c.obs;
    return 0;
}
