/* contract.c: the test-case contract, checked at load with file:line in every message. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "lua/luajson.h"
#include "lua/profile_internal.h"
#include "lua/tcload.h"

static const char *const TC_KEYS[] = {
    "id",    "version",  "title", "description", "obligations", "applies", "category",
    "scope", "identity", "probe", "judge",       "parameters",  NULL};
static const char *const APPLIES_KEYS[] = {"interface", "state", "ics", NULL};
static const char *const KINDS[] = {"mqtt-broker", "mqtt-client", "coap", "modbus-tcp", NULL};
static const char *const STATES[] = {"initialised", "factory-default", NULL};

struct where {
    struct contract_ctx *c;
    const char *file;
    int line;
    const char *id;
};

__attribute__((format(printf, 2, 3))) static void violation(struct where *w, const char *fmt, ...)
{
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (w->id)
        pdiag_add(w->c->diags, &w->c->count, "%s:%d: testcase '%s': %s", w->file, w->line, w->id,
                  msg);
    else
        pdiag_add(w->c->diags, &w->c->count, "%s:%d: testcase: %s", w->file, w->line, msg);
}

static bool in_set(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(s, *set) == 0)
            return true;
    return false;
}

static bool valid_id(const char *s)
{
    if (!*s || !((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || strchr("._-", *s)))
            return false;
    return true;
}

/* Pushes def[key] (raw) and returns its type. */
static int field(lua_State *L, int def, const char *key)
{
    lua_pushstring(L, key);
    return lua_rawget(L, def);
}

static char *dup(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* Reads a string or a list of strings at the top of the stack (popped) into out. */
static bool read_strlist(lua_State *L, struct where *w, const char *key, struct strlist *out)
{
    int t = lua_type(L, -1);
    bool ok = true;
    if (t == LUA_TSTRING) {
        out->v = calloc(1, sizeof(char *));
        if (out->v && (out->v[0] = dup(lua_tostring(L, -1))))
            out->n = 1;
    } else if (t == LUA_TTABLE) {
        size_t n = lua_rawlen(L, -1);
        out->v = calloc(n ? n : 1, sizeof(char *));
        for (size_t i = 1; out->v && i <= n; i++) {
            if (lua_rawgeti(L, -1, (lua_Integer)i) != LUA_TSTRING) {
                violation(w, "%s[%zu] must be a string", key, i);
                ok = false;
            } else if ((out->v[out->n] = dup(lua_tostring(L, -1)))) {
                out->n++;
            }
            lua_pop(L, 1);
        }
    } else if (t != LUA_TNIL) {
        violation(w, "%s must be a string or a list of strings", key);
        ok = false;
    }
    lua_pop(L, 1);
    return ok;
}

static void check_keys(lua_State *L, int tbl, struct where *w, const char *what,
                       const char *const *keys)
{
    lua_pushnil(L);
    while (lua_next(L, tbl)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING)
            violation(w, "%s has a key that is not a name", what);
        else if (!in_set(lua_tostring(L, -1), keys))
            violation(w, "%s: unknown field '%s'", what, lua_tostring(L, -1));
    }
}

static void check_applies(lua_State *L, int def, struct where *w, struct testcase *tc)
{
    int t = field(L, def, "applies");
    if (t == LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    if (t != LUA_TTABLE) {
        violation(w, "applies must be a table");
        lua_pop(L, 1);
        return;
    }
    int ap = lua_gettop(L);
    check_keys(L, ap, w, "applies", APPLIES_KEYS);
    field(L, ap, "interface");
    read_strlist(L, w, "applies.interface", &tc->if_kinds);
    for (size_t i = 0; i < tc->if_kinds.n; i++)
        if (!in_set(tc->if_kinds.v[i], KINDS))
            violation(w, "applies.interface: unknown interface kind '%s'", tc->if_kinds.v[i]);
    field(L, ap, "state");
    read_strlist(L, w, "applies.state", &tc->states);
    for (size_t i = 0; i < tc->states.n; i++)
        if (!in_set(tc->states.v[i], STATES))
            violation(w, "applies.state: unknown device state '%s'", tc->states.v[i]);
    field(L, ap, "ics");
    read_strlist(L, w, "applies.ics", &tc->ics);
    for (size_t i = 0; i < tc->ics.n; i++) {
        const char *id = tc->ics.v[i];
        if (strncmp(id, "PSTI-", 5) == 0)
            violation(w, "applies.ics: an ICS entry cannot make %s not applicable", id);
        else if (w->c->known && !w->c->known(id, w->c->kctx))
            violation(w, "applies.ics: '%s' is not in the obligation catalogue", id);
    }
    lua_pop(L, 1);
}

static void check_params(lua_State *L, int def, struct where *w, struct testcase *tc)
{
    int t = field(L, def, "parameters");
    if (t == LUA_TNIL) {
        tc->params = json_object();
    } else if (t != LUA_TTABLE) {
        violation(w, "parameters must be a table of name = default");
    } else {
        struct assay_error e = {0};
        json_t *j = NULL;
        if (luajson_from_lua(L, -1, "parameters", &j, &e) != 0)
            violation(w, "%s", e.msg);
        else if (!json_is_object(j))
            violation(w, "parameters must be a table of name = default");
        else
            tc->params = json_incref(j);
        json_decref(j);
    }
    lua_pop(L, 1);
}

static void check_string(lua_State *L, int def, struct where *w, const char *key, char **out,
                         bool required)
{
    int t = field(L, def, key);
    if (t == LUA_TSTRING && lua_rawlen(L, -1) > 0)
        *out = dup(lua_tostring(L, -1));
    else if (t != LUA_TNIL || required)
        violation(w, "%s %s", key, t == LUA_TNIL ? "is missing" : "must be a non-empty string");
    lua_pop(L, 1);
}

static void check_core(lua_State *L, int def, struct where *w, struct testcase *tc)
{
    int t = field(L, def, "version");
    if (t == LUA_TNUMBER && lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1)
        tc->version = lua_tointeger(L, -1);
    else
        violation(w, "version %s", t == LUA_TNIL ? "is missing" : "must be an integer >= 1");
    lua_pop(L, 1);
    check_string(L, def, w, "title", &tc->title, true);
    check_string(L, def, w, "description", &tc->description, false);

    field(L, def, "obligations");
    read_strlist(L, w, "obligations", &tc->obligations);
    if (tc->obligations.n == 0)
        violation(w, "obligations is missing or empty");
    for (size_t i = 0; i < tc->obligations.n; i++)
        if (w->c->known && !w->c->known(tc->obligations.v[i], w->c->kctx))
            violation(w, "obligations: '%s' is not in the obligation catalogue",
                      tc->obligations.v[i]);

    t = field(L, def, "category");
    tc->category = t == LUA_TSTRING ? testcase_category_parse(lua_tostring(L, -1)) : 0;
    if (!tc->category)
        violation(w, "category %s%s%s", t == LUA_TNIL ? "is missing" : "is unknown: '",
                  t == LUA_TSTRING ? lua_tostring(L, -1) : "",
                  t == LUA_TNIL ? "" : "' (safe, intrusive, destructive or dos)");
    lua_pop(L, 1);

    t = field(L, def, "scope");
    if (t == LUA_TNIL || (t == LUA_TSTRING && strcmp(lua_tostring(L, -1), "device") == 0))
        tc->scope = TC_SCOPE_DEVICE;
    else if (t == LUA_TSTRING && strcmp(lua_tostring(L, -1), "model") == 0)
        tc->scope = TC_SCOPE_MODEL;
    else
        violation(w, "scope must be \"device\" or \"model\"");
    lua_pop(L, 1);

    t = field(L, def, "identity");
    if (t == LUA_TBOOLEAN)
        tc->identity = lua_toboolean(L, -1);
    else if (t != LUA_TNIL)
        violation(w, "identity must be true or false");
    lua_pop(L, 1);
    if (tc->identity && (tc->category != TC_CAT_SAFE || tc->scope != TC_SCOPE_DEVICE))
        violation(w, "an identity test case is read twice, so it must be safe and of scope "
                     "\"device\"");

    static const char *const fns[] = {"probe", "judge"};
    for (int i = 0; i < 2; i++) {
        t = field(L, def, fns[i]);
        if (t != LUA_TFUNCTION)
            violation(w, "%s %s", fns[i], t == LUA_TNIL ? "is missing" : "must be a function");
        lua_pop(L, 1);
    }
}

/* Checks one recorded entry; returns true and fills tc if it keeps the contract. */
static bool check_one(lua_State *L, struct contract_ctx *c, int entry, struct testcase *tc)
{
    size_t before = c->count;
    lua_getfield(L, entry, "file");
    tc->file = (size_t)lua_tointeger(L, -1);
    lua_getfield(L, entry, "line");
    tc->line = (int)lua_tointeger(L, -1);
    lua_getfield(L, entry, "def");
    int def = lua_gettop(L);
    struct where w = {c, c->p->files[tc->file].path, tc->line, NULL};

    int t = field(L, def, "id");
    if (t == LUA_TSTRING && valid_id(lua_tostring(L, -1)))
        tc->id = dup(lua_tostring(L, -1));
    else
        violation(&w, "id %s",
                  t == LUA_TNIL ? "is missing"
                                : "must be lowercase letters, digits, '.', '_', '-'");
    lua_pop(L, 1);
    w.id = tc->id;
    check_keys(L, def, &w, "testcase", TC_KEYS);
    check_core(L, def, &w, tc);
    check_applies(L, def, &w, tc);
    check_params(L, def, &w, tc);
    lua_pop(L, 3);
    return c->count == before && tc->id && tc->title && tc->params;
}

int contract_check(lua_State *L)
{
    struct contract_ctx *c = lua_touserdata(L, 1);
    struct profile *p = c->p;
    tcload_push_entries(L);
    int entries = lua_gettop(L);
    size_t n = lua_rawlen(L, entries);
    p->tcs = calloc(n ? n : 1, sizeof(*p->tcs));
    if (!p->tcs)
        return luaL_error(L, "out of memory");
    for (size_t i = 1; i <= n; i++) {
        lua_rawgeti(L, entries, (lua_Integer)i);
        struct testcase tc = {0};
        if (!check_one(L, c, lua_gettop(L), &tc)) {
            testcase_release(&tc);
            lua_pop(L, 1);
            continue;
        }
        lua_pop(L, 1);
        const struct testcase *prev = profile_find(p, tc.id);
        if (prev) {
            pdiag_add(c->diags, &c->count, "%s:%d: testcase '%s': duplicate id (first at %s:%d)",
                      p->files[tc.file].path, tc.line, tc.id, p->files[prev->file].path,
                      prev->line);
            testcase_release(&tc);
            continue;
        }
        p->tcs[p->n_tcs++] = tc;
    }
    if (n == 0)
        pdiag_add(c->diags, &c->count, "%s:1: profile: the included files declare no test case",
                  p->manifest);
    return 0;
}
