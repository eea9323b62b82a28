/* sandbox.c: the allow-listed Lua state, its limits and its hook (see sandbox.h). */
#include "lua/sandbox.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lauxlib.h>
#include <lualib.h>

#include "core/clock.h"

enum trip { TRIP_NONE = 0, TRIP_INSTRUCTIONS, TRIP_DEADLINE, TRIP_MEMORY };

struct sandbox {
    lua_State *L;
    size_t mem_used, mem_cap;
    uint64_t instr_used, instr_limit;
    int64_t deadline_ms;
    assay_ms deadline;
    bool armed;
    enum trip trip;
    char trip_msg[256];
    char root[PATH_MAX];
};

static const char KEY_BASE[] = "assay.sandbox.base"; /* allowed base functions */
static const char KEY_WRAP[] = "assay.sandbox.wrap"; /* coroutine.wrap factory */
static const char KEY_LIBS[] = "assay.sandbox.libs"; /* pristine library tables */

void sandbox_limits_default(struct sandbox_limits *l)
{
    l->instructions = SANDBOX_DEFAULT_INSTRUCTIONS;
    l->deadline_ms = SANDBOX_DEFAULT_DEADLINE_MS;
    l->memory_bytes = SANDBOX_DEFAULT_MEMORY;
}

static struct sandbox *sb_of(lua_State *L)
{
    void *ud = NULL;
    lua_getallocf(L, &ud);
    return ud;
}

/* The allocator is the memory cap. When ptr is NULL, osize is a type tag, not a size. */
static void *sb_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    struct sandbox *sb = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        sb->mem_used -= old;
        return NULL;
    }
    if (nsize > old && sb->mem_used - old + nsize > sb->mem_cap) {
        if (sb->armed && sb->trip == TRIP_NONE) {
            sb->trip = TRIP_MEMORY;
            snprintf(sb->trip_msg, sizeof(sb->trip_msg), "memory cap exceeded (%zu bytes)",
                     sb->mem_cap);
        }
        return NULL;
    }
    void *p = realloc(ptr, nsize);
    if (p)
        sb->mem_used = sb->mem_used - old + nsize;
    return p;
}

static void sb_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    struct sandbox *sb = sb_of(L);
    if (!sb->armed)
        return;
    if (sb->trip == TRIP_NONE) {
        sb->instr_used += SANDBOX_HOOK_STEP;
        if (sb->instr_used > sb->instr_limit) {
            sb->trip = TRIP_INSTRUCTIONS;
            snprintf(sb->trip_msg, sizeof(sb->trip_msg), "instruction budget exceeded");
            luaL_where(L, 0);
            snprintf(sb->trip_msg, sizeof(sb->trip_msg),
                     "%sinstruction budget exceeded (%llu instructions)", lua_tostring(L, -1),
                     (unsigned long long)sb->instr_limit);
            lua_pop(L, 1);
        } else if (clock_now_ms() >= sb->deadline) {
            sb->trip = TRIP_DEADLINE;
            snprintf(sb->trip_msg, sizeof(sb->trip_msg), "deadline exceeded");
            luaL_where(L, 0);
            snprintf(sb->trip_msg, sizeof(sb->trip_msg), "%sdeadline exceeded (%lld ms)",
                     lua_tostring(L, -1), (long long)sb->deadline_ms);
            lua_pop(L, 1);
        }
    }
    if (sb->trip != TRIP_NONE) {
        /* Sticky: from now on every instruction of this thread raises again. */
        lua_sethook(L, sb_hook, LUA_MASKCOUNT, 1);
        lua_pushstring(L, sb->trip_msg);
        lua_error(L);
    }
}

static void install_hook(struct sandbox *sb, lua_State *T)
{
    lua_sethook(T, sb_hook, LUA_MASKCOUNT, sb->trip != TRIP_NONE ? 1 : SANDBOX_HOOK_STEP);
}

/* coroutine.create: a new thread gets the hook, already sticky if the run has tripped. */
static int sb_co_create(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_State *T = lua_newthread(L);
    install_hook(sb_of(L), T);
    lua_pushvalue(L, 1);
    lua_xmove(L, T, 1);
    return 1;
}

/* setmetatable without __gc: a finalizer could run while the state is not armed. */
static int sb_setmetatable(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    int t = lua_type(L, 2);
    luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
    if (t == LUA_TTABLE && lua_getfield(L, 2, "__gc") != LUA_TNIL)
        return luaL_error(L, "__gc metamethods are not allowed in profiles");
    lua_settop(L, 2);
    if (lua_getmetatable(L, 1) && lua_getfield(L, -1, "__metatable") != LUA_TNIL)
        return luaL_error(L, "cannot change a protected metatable");
    lua_settop(L, 2);
    lua_setmetatable(L, 1);
    return 1;
}

/* load(chunk [, chunkname [, mode [, env]]]): text only; env defaults to the caller's env. */
static int sb_load(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    const char *name = luaL_optstring(L, 2, "=(load)");
    int has_env = !lua_isnone(L, 4);
    if (luaL_loadbufferx(L, s, len, name, "t") != LUA_OK) {
        luaL_pushfail(L);
        lua_insert(L, -2);
        return 2;
    }
    if (has_env)
        lua_pushvalue(L, 4);
    else
        lua_pushvalue(L, lua_upvalueindex(1));
    if (!lua_setupvalue(L, -2, 1))
        lua_pop(L, 1);
    return 1;
}

static bool valid_name(const char *s, char sep)
{
    bool start = true;
    if (!*s)
        return false;
    for (; *s; s++) {
        char c = *s;
        if (c == sep) {
            if (start)
                return false;
            start = true;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
        start = false;
    }
    return !start;
}

/* Reads path into a userdata (charged to the cap); pushes it, or pushes nothing and returns -1. */
static int push_file(lua_State *L, const char *path, size_t *len)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > SANDBOX_MAX_SOURCE)
        return -1;
    char *buf = lua_newuserdatauv(L, (size_t)st.st_size + 1, 0);
    FILE *f = fopen(path, "rb"); /* no Lua call until fclose: nothing can longjmp past it */
    if (!f) {
        lua_pop(L, 1);
        return -1;
    }
    size_t n = fread(buf, 1, (size_t)st.st_size, f);
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return 0;
}

/* require(name): a module under <root>/lib, run in its own environment, cached per environment. */
static int sb_require(lua_State *L)
{
    struct sandbox *sb = sb_of(L);
    const char *name = luaL_checkstring(L, 1);
    if (!valid_name(name, '.'))
        return luaL_error(L, "require: '%s' is not a module name under profiles/lib", name);
    lua_settop(L, 1);
    if (lua_getfield(L, lua_upvalueindex(1), name) != LUA_TNIL) {
        if (lua_toboolean(L, -1) || !lua_isboolean(L, -1))
            return 1;
        return luaL_error(L, "require: '%s' requires itself", name);
    }
    char path[2 * PATH_MAX + 8], chunk[PATH_MAX];
    snprintf(chunk, sizeof(chunk), "lib/%s.lua", name);
    for (char *p = chunk + 4; *p; p++)
        if (*p == '.' && strcmp(p, ".lua") != 0)
            *p = '/';
    snprintf(path, sizeof(path), "%s/%s", sb->root, chunk);
    size_t len = 0;
    if (push_file(L, path, &len) != 0)
        return luaL_error(L, "require: no module '%s' in profiles/lib", name);
    lua_pushboolean(L, 0); /* loading marker */
    lua_setfield(L, lua_upvalueindex(1), name);
    lua_pushfstring(L, "@%s", chunk);
    if (luaL_loadbufferx(L, lua_touserdata(L, -2), len, lua_tostring(L, -1), "t") != LUA_OK)
        return lua_error(L);
    sandbox_push_env(L);
    lua_setupvalue(L, -2, 1);
    if (lua_pcall(L, 0, 1, 0) != LUA_OK) {
        /* Forget the loading marker, then pass the error on (a trip stays sticky). */
        lua_pushnil(L);
        lua_setfield(L, lua_upvalueindex(1), name);
        return lua_error(L);
    }
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushboolean(L, 1);
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, lua_upvalueindex(1), name);
    return 1;
}

/* load_data(name): evaluates <root>/data/<name>.lua in an empty environment; returns its table. */
static int sb_load_data(lua_State *L)
{
    struct sandbox *sb = sb_of(L);
    const char *name = luaL_checkstring(L, 1);
    if (!valid_name(name, '/'))
        return luaL_error(L, "load_data: '%s' is not a data file name under profiles/data", name);
    char path[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/data/%s.lua", sb->root, name);
    size_t len = 0;
    if (push_file(L, path, &len) != 0)
        return luaL_error(L, "load_data: no data file '%s' in profiles/data", name);
    lua_pushfstring(L, "@data/%s.lua", name);
    if (luaL_loadbufferx(L, lua_touserdata(L, -2), len, lua_tostring(L, -1), "t") != LUA_OK)
        return lua_error(L);
    lua_newtable(L);
    lua_setupvalue(L, -2, 1);
    lua_call(L, 0, 1);
    if (!lua_istable(L, -1))
        return luaL_error(L, "load_data: data/%s.lua must return a table", name);
    return 1;
}

static const char *const BASE_ALLOWED[] = {
    "assert",   "error",        "ipairs", "next",   "pairs",    "pcall",
    "rawequal", "rawget",       "rawlen", "rawset", "select",   "tonumber",
    "tostring", "getmetatable", "type",   "xpcall", "_VERSION", NULL};

/* string is allowed although a backtracking pattern in find/match/gmatch/gsub runs
 * inside C where the count hook never fires: that case is left to the supervisor,
 * which kills the worker once the test case's deadline has passed. */
static const char *const LIBS[] = {LUA_STRLIBNAME,  LUA_TABLIBNAME, LUA_MATHLIBNAME,
                                   LUA_UTF8LIBNAME, LUA_COLIBNAME,  NULL};

static const char WRAP_SRC[] =
    "local create, resume, error = ...\n"
    "local function pass(ok, ...) if ok then return ... end error((...), 0) end\n"
    "return function(f)\n"
    "  local co = create(f)\n"
    "  return function(...) return pass(resume(co, ...)) end\n"
    "end\n";

/* Opens the libraries and keeps the allowed pieces in the registry. Runs unprotected at setup. */
static int setup_state(lua_State *L)
{
    luaL_requiref(L, LUA_GNAME, luaopen_base, 0);
    lua_newtable(L);
    for (const char *const *n = BASE_ALLOWED; *n; n++) {
        lua_getfield(L, -2, *n);
        lua_setfield(L, -2, *n);
    }
    lua_setfield(L, LUA_REGISTRYINDEX, KEY_BASE);
    /* Scrub the real global table too; no chunk ever sees it, but keep it harmless. */
    static const char *const scrub[] = {"dofile",  "loadfile", "load", "collectgarbage",
                                        "require", "print",    NULL};
    for (const char *const *n = scrub; *n; n++) {
        lua_pushnil(L);
        lua_setfield(L, -2, *n);
    }
    lua_pop(L, 1);

    static const lua_CFunction openers[] = {luaopen_string, luaopen_table, luaopen_math,
                                            luaopen_utf8, luaopen_coroutine};
    lua_newtable(L);
    for (int i = 0; LIBS[i]; i++) {
        luaL_requiref(L, LIBS[i], openers[i], 0);
        lua_setfield(L, -2, LIBS[i]);
    }
    /* The string metatable's __index is the pristine string table: remove dump there
     * and lock the metatable so getmetatable("") cannot reach it. */
    lua_getfield(L, -1, LUA_STRLIBNAME);
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    lua_pop(L, 1);
    lua_pushliteral(L, "");
    lua_getmetatable(L, -1);
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 2);
    lua_setfield(L, LUA_REGISTRYINDEX, KEY_LIBS);

    if (luaL_loadbufferx(L, WRAP_SRC, sizeof(WRAP_SRC) - 1, "=coroutine.wrap", "t") != LUA_OK)
        return -1;
    lua_newtable(L);
    lua_setupvalue(L, -2, 1);
    lua_pushcfunction(L, sb_co_create);
    lua_getfield(L, LUA_REGISTRYINDEX, KEY_LIBS);
    lua_getfield(L, -1, LUA_COLIBNAME);
    lua_getfield(L, -1, "resume");
    lua_replace(L, -3);
    lua_pop(L, 1);
    lua_getfield(L, LUA_REGISTRYINDEX, KEY_BASE);
    lua_getfield(L, -1, "error");
    lua_replace(L, -2);
    if (lua_pcall(L, 3, 1, 0) != LUA_OK)
        return -1;
    lua_setfield(L, LUA_REGISTRYINDEX, KEY_WRAP);
    return 0;
}

static int setup_protected(lua_State *L)
{
    if (setup_state(L) != 0)
        return luaL_error(L, "sandbox setup failed");
    return 0;
}

void sandbox_push_env(lua_State *L)
{
    luaL_checkstack(L, 8, "sandbox environment");
    lua_newtable(L);
    int env = lua_gettop(L);
    lua_getfield(L, LUA_REGISTRYINDEX, KEY_BASE);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, env);
    }
    lua_pop(L, 1);
    lua_getfield(L, LUA_REGISTRYINDEX, KEY_LIBS);
    for (int i = 0; LIBS[i]; i++) {
        lua_newtable(L); /* a copy, so one chunk cannot change another's library */
        lua_getfield(L, -2, LIBS[i]);
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            lua_pushvalue(L, -2);
            lua_insert(L, -2);
            lua_rawset(L, -5);
        }
        lua_pop(L, 1);
        lua_setfield(L, env, LIBS[i]);
    }
    lua_pop(L, 1);
    lua_getfield(L, env, LUA_COLIBNAME);
    lua_pushcfunction(L, sb_co_create);
    lua_setfield(L, -2, "create");
    lua_getfield(L, LUA_REGISTRYINDEX, KEY_WRAP);
    lua_setfield(L, -2, "wrap");
    lua_pop(L, 1);
    lua_pushcfunction(L, sb_setmetatable);
    lua_setfield(L, env, "setmetatable");
    lua_pushvalue(L, env);
    lua_pushcclosure(L, sb_load, 1);
    lua_setfield(L, env, "load");
    lua_newtable(L);
    lua_pushcclosure(L, sb_require, 1);
    lua_setfield(L, env, "require");
    lua_pushcfunction(L, sb_load_data);
    lua_setfield(L, env, "load_data");
    lua_pushvalue(L, env);
    lua_setfield(L, env, "_G");
}

int sandbox_new(const char *root, size_t memory_bytes, struct sandbox **out,
                struct assay_error *err)
{
    *out = NULL;
    if (!root || strlen(root) >= PATH_MAX)
        return assay_fail(err, ASSAY_EINVAL, "sandbox: profiles directory missing or too long");
    struct sandbox *sb = calloc(1, sizeof(*sb));
    if (!sb)
        return assay_fail(err, ASSAY_ENOMEM, "sandbox: out of memory");
    snprintf(sb->root, sizeof(sb->root), "%s", root);
    sb->mem_cap = memory_bytes ? memory_bytes : SANDBOX_DEFAULT_MEMORY;
    if (sb->mem_cap < SANDBOX_MIN_MEMORY)
        sb->mem_cap = SANDBOX_MIN_MEMORY;
    sb->L = lua_newstate(sb_alloc, sb);
    if (!sb->L) {
        free(sb);
        return assay_fail(err, ASSAY_ENOMEM, "sandbox: cannot create a Lua state");
    }
    lua_pushcfunction(sb->L, setup_protected);
    if (lua_pcall(sb->L, 0, 0, 0) != LUA_OK) {
        int rc = assay_fail(err, ASSAY_ENOMEM, "sandbox: %s", lua_tostring(sb->L, -1));
        sandbox_free(sb);
        return rc;
    }
    install_hook(sb, sb->L);
    *out = sb;
    return 0;
}

void sandbox_free(struct sandbox *sb)
{
    if (!sb)
        return;
    sb->armed = false;
    lua_close(sb->L);
    free(sb);
}

lua_State *sandbox_lua(struct sandbox *sb)
{
    return sb->L;
}

const char *sandbox_root(const struct sandbox *sb)
{
    return sb->root;
}

int64_t sandbox_remaining_ms(lua_State *L)
{
    struct sandbox *sb = sb_of(L);
    if (!sb->armed || sb->trip != TRIP_NONE)
        return 0;
    return clock_remaining_ms(sb->deadline);
}

size_t sandbox_memory(const struct sandbox *sb)
{
    return sb->mem_used;
}

void sandbox_arm(struct sandbox *sb, const struct sandbox_limits *lim)
{
    struct sandbox_limits d;
    sandbox_limits_default(&d);
    if (lim) {
        if (lim->instructions)
            d.instructions = lim->instructions;
        if (lim->deadline_ms > 0)
            d.deadline_ms = lim->deadline_ms;
        if (lim->memory_bytes)
            d.memory_bytes =
                lim->memory_bytes < SANDBOX_MIN_MEMORY ? SANDBOX_MIN_MEMORY : lim->memory_bytes;
    }
    sb->trip = TRIP_NONE;
    sb->trip_msg[0] = '\0';
    sb->instr_used = 0;
    sb->instr_limit = d.instructions;
    sb->deadline_ms = d.deadline_ms;
    sb->deadline = clock_deadline(d.deadline_ms);
    sb->mem_cap = d.memory_bytes;
    install_hook(sb, sb->L);
    sb->armed = true;
}

void sandbox_disarm(struct sandbox *sb)
{
    sb->armed = false;
}

const char *sandbox_tripped(const struct sandbox *sb)
{
    return sb->trip != TRIP_NONE ? sb->trip_msg : NULL;
}

int sandbox_load(struct sandbox *sb, const char *chunkname, const char *src, size_t len,
                 struct assay_error *err)
{
    lua_State *L = sb->L;
    char name[PATH_MAX + 2];
    snprintf(name, sizeof(name), "@%s", chunkname);
    int rc = luaL_loadbufferx(L, src, len, name, "t");
    if (rc != LUA_OK) {
        int r =
            assay_fail(err, ASSAY_EPROFILE, "%s",
                       lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "cannot load chunk");
        lua_pop(L, 2);
        return r;
    }
    lua_insert(L, -2);
    if (!lua_setupvalue(L, -2, 1))
        lua_pop(L, 1);
    return 0;
}

int sandbox_call(struct sandbox *sb, int nargs, int nresults, const struct sandbox_limits *lim,
                 struct assay_error *err)
{
    lua_State *L = sb->L;
    int base = lua_gettop(L) - nargs - 1;
    sandbox_arm(sb, lim);
    int rc = lua_pcall(L, nargs, nresults, 0);
    sandbox_disarm(sb);
    if (sb->trip != TRIP_NONE) {
        lua_settop(L, base);
        return assay_fail(err, ASSAY_EPROFILE, "%s", sb->trip_msg);
    }
    if (rc != LUA_OK) {
        const char *m = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        if (m)
            assay_fail(err, ASSAY_EPROFILE, "%s%s", rc == LUA_ERRMEM ? "memory: " : "", m);
        else
            assay_fail(err, ASSAY_EPROFILE, "error object is a %s value", luaL_typename(L, -1));
        lua_settop(L, base);
        return ASSAY_EPROFILE;
    }
    return 0;
}

struct protect_ctx {
    lua_CFunction fn;
    void *ud;
};

static int protect_trampoline(lua_State *L)
{
    struct protect_ctx *c = lua_touserdata(L, 1);
    lua_remove(L, 1);
    lua_pushlightuserdata(L, c->ud);
    lua_insert(L, 1);
    return c->fn(L);
}

int sandbox_protect(struct sandbox *sb, lua_CFunction fn, void *ud, struct assay_error *err)
{
    lua_State *L = sb->L;
    struct protect_ctx c = {fn, ud};
    int top = lua_gettop(L);
    if (!lua_checkstack(L, 4))
        return assay_fail(err, ASSAY_ENOMEM, "Lua stack exhausted");
    lua_pushcfunction(L, protect_trampoline);
    lua_pushlightuserdata(L, &c);
    int rc = lua_pcall(L, 1, 0, 0);
    if (rc != LUA_OK) {
        int code = rc == LUA_ERRMEM ? ASSAY_ENOMEM : ASSAY_EPROFILE;
        if (err && err->code == 0)
            assay_fail(err, code, "%s",
                       lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "Lua error");
        lua_settop(L, top);
        return err && err->code ? err->code : code;
    }
    lua_settop(L, top);
    return err && err->code ? err->code : 0;
}
