/* profile.c: finding a profile, evaluating its manifest and loading its test-case files. */
#include "lua/profile.h"

#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lauxlib.h>
#include <openssl/evp.h>

#include "lua/luajson.h"
#include "lua/profile_internal.h"
#include "lua/tcload.h"

#define PROFILE_MAX_FILES 1024

static const char KEY_MANIFEST[] = "assay.manifest";
static const char *const MANIFEST_KEYS[] = {"name",    "version",    "description", "obligations",
                                            "include", "parameters", NULL};

void profile_diags_init(struct profile_diags *d)
{
    d->msgs = NULL;
    d->n = 0;
}

void profile_diags_release(struct profile_diags *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->msgs[i]);
    free(d->msgs);
    profile_diags_init(d);
}

void pdiag_add(struct profile_diags *d, size_t *count, const char *fmt, ...)
{
    (*count)++;
    if (!d)
        return;
    char buf[ASSAY_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    char **m = realloc(d->msgs, (d->n + 1) * sizeof(*m));
    if (!m)
        return;
    d->msgs = m;
    if ((d->msgs[d->n] = strdup(buf)))
        d->n++;
}

void strlist_release(struct strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

void testcase_release(struct testcase *tc)
{
    free(tc->id);
    free(tc->title);
    free(tc->description);
    strlist_release(&tc->obligations);
    strlist_release(&tc->if_kinds);
    strlist_release(&tc->states);
    strlist_release(&tc->ics);
    json_decref(tc->params);
    memset(tc, 0, sizeof(*tc));
}

void profile_free(struct profile *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_tcs; i++)
        testcase_release(&p->tcs[i]);
    free(p->tcs);
    for (size_t i = 0; i < p->n_files; i++) {
        free(p->files[i].path);
        free(p->files[i].source);
    }
    free(p->files);
    strlist_release(&p->obligations);
    free(p->name);
    free(p->version);
    free(p->description);
    free(p->root);
    free(p->manifest);
    free(p);
}

const struct testcase *profile_find(const struct profile *p, const char *id)
{
    for (size_t i = 0; i < p->n_tcs; i++)
        if (strcmp(p->tcs[i].id, id) == 0)
            return &p->tcs[i];
    return NULL;
}

static void digest(const char *bytes, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    out[0] = '\0';
    if (EVP_Digest(bytes, len, md, &n, EVP_sha256(), NULL) != 1)
        return;
    for (unsigned int i = 0; i < n && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool valid_profile_name(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
            return false;
    return true;
}

/* Finds the profile folder; fills dir with its absolute path. */
static int locate(const char *name_or_path, const char *search_path, char *dir,
                  struct assay_error *err)
{
    char cand[PATH_MAX];
    if (strchr(name_or_path, '/')) {
        size_t n = strlen(name_or_path);
        snprintf(cand, sizeof(cand), "%s", name_or_path);
        if (n > 12 && strcmp(name_or_path + n - 12, "/profile.lua") == 0)
            cand[n - 12] = '\0';
    } else {
        if (!valid_profile_name(name_or_path))
            return assay_fail(err, ASSAY_EINVAL, "'%s' is not a profile name", name_or_path);
        const char *sp = search_path && *search_path ? search_path : ".";
        bool found = false;
        while (*sp && !found) {
            size_t len = strcspn(sp, ":");
            char probe[PATH_MAX + 64];
            snprintf(cand, sizeof(cand), "%.*s/%s", (int)len, sp, name_or_path);
            snprintf(probe, sizeof(probe), "%s/profile.lua", cand);
            found = is_file(probe);
            sp += len + (sp[len] == ':');
        }
        if (!found)
            return assay_fail(err, ASSAY_EINVAL, "profile '%s' not found in %s", name_or_path,
                              search_path && *search_path ? search_path : ".");
    }
    if (!realpath(cand, dir))
        return assay_fail(err, ASSAY_EIO, "%s: no such profile folder", cand);
    char probe[PATH_MAX + 64];
    snprintf(probe, sizeof(probe), "%s/profile.lua", dir);
    if (!is_file(probe))
        return assay_fail(err, ASSAY_EIO, "%s: no profile.lua", dir);
    return 0;
}

/* profile{...}: records the manifest table and the line of the call. */
static int l_profile(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    if (lua_getfield(L, LUA_REGISTRYINDEX, KEY_MANIFEST) != LUA_TNIL)
        return luaL_error(L, "profile{} is called more than once");
    lua_Debug ar;
    int line = 0;
    if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "l", &ar))
        line = ar.currentline;
    lua_createtable(L, 0, 2);
    lua_pushvalue(L, 1);
    lua_setfield(L, -2, "def");
    lua_pushinteger(L, line);
    lua_setfield(L, -2, "line");
    lua_setfield(L, LUA_REGISTRYINDEX, KEY_MANIFEST);
    return 0;
}

struct srcbuf {
    const char *path, *src;
    size_t len;
};

static int l_run_manifest(lua_State *L)
{
    const struct srcbuf *b = lua_touserdata(L, 1);
    sandbox_push_env(L);
    lua_pushcfunction(L, l_profile);
    lua_setfield(L, -2, "profile");
    lua_pushfstring(L, "@%s", b->path);
    if (luaL_loadbufferx(L, b->src, b->len, lua_tostring(L, -1), "t") != LUA_OK)
        return lua_error(L);
    lua_pushvalue(L, -3);
    lua_setupvalue(L, -2, 1);
    lua_call(L, 0, 0);
    return 0;
}

struct manifest_ctx {
    struct contract_ctx *c;
    struct strlist include;
    json_t *overrides; /* test id -> object */
    int line;
};

#define MDIAG(m, fmt, ...)                                                                         \
    pdiag_add((m)->c->diags, &(m)->c->count, "%s:%d: profile: " fmt, (m)->c->p->manifest,          \
              (m)->line, __VA_ARGS__)

static char *field_string(lua_State *L, int def, const char *key, struct manifest_ctx *m,
                          bool required)
{
    lua_pushstring(L, key);
    int t = lua_rawget(L, def);
    char *out = NULL;
    if (t == LUA_TSTRING || (t == LUA_TNUMBER && lua_isinteger(L, -1)))
        out = strdup(lua_tostring(L, -1));
    else if (t != LUA_TNIL || required)
        MDIAG(m, "%s %s", key, t == LUA_TNIL ? "is missing" : "must be a string");
    lua_pop(L, 1);
    return out;
}

static void field_list(lua_State *L, int def, const char *key, struct manifest_ctx *m,
                       struct strlist *out)
{
    lua_pushstring(L, key);
    int t = lua_rawget(L, def);
    size_t n = t == LUA_TTABLE ? lua_rawlen(L, -1) : 0;
    if (n == 0) {
        MDIAG(m, "%s must be a non-empty list of strings", key);
    } else if ((out->v = calloc(n, sizeof(char *)))) {
        for (size_t i = 1; i <= n; i++) {
            if (lua_rawgeti(L, -1, (lua_Integer)i) == LUA_TSTRING)
                out->v[out->n++] = strdup(lua_tostring(L, -1));
            else
                MDIAG(m, "%s[%zu] must be a string", key, i);
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
}

static void read_overrides(lua_State *L, int def, struct manifest_ctx *m)
{
    lua_pushliteral(L, "parameters");
    if (lua_rawget(L, def) == LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    struct assay_error e = {0};
    json_t *j = NULL;
    if (luajson_from_lua(L, -1, "parameters", &j, &e) != 0) {
        MDIAG(m, "%s", e.msg);
    } else if (!json_is_object(j)) {
        MDIAG(m, "%s", "parameters must be a table of test id = { name = value }");
    } else {
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v) if (!json_is_object(v))
            MDIAG(m, "parameters['%s'] must be a table of name = value", k);
        m->overrides = json_incref(j);
    }
    json_decref(j);
    lua_pop(L, 1);
}

static int l_read_manifest(lua_State *L)
{
    struct manifest_ctx *m = lua_touserdata(L, 1);
    struct profile *p = m->c->p;
    if (lua_getfield(L, LUA_REGISTRYINDEX, KEY_MANIFEST) != LUA_TTABLE) {
        MDIAG(m, "%s", "the manifest never calls profile{...}");
        return 0;
    }
    lua_getfield(L, -1, "line");
    m->line = (int)lua_tointeger(L, -1);
    lua_getfield(L, -2, "def");
    int def = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, def)) {
        lua_pop(L, 1);
        bool ok = false;
        for (const char *const *k = MANIFEST_KEYS; !ok && *k; k++)
            ok = lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), *k) == 0;
        if (!ok)
            MDIAG(m, "unknown field '%s'",
                  lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "(not a name)");
    }
    p->name = field_string(L, def, "name", m, true);
    p->version = field_string(L, def, "version", m, true);
    p->description = field_string(L, def, "description", m, false);
    field_list(L, def, "obligations", m, &p->obligations);
    for (size_t i = 0; i < p->obligations.n; i++)
        if (m->c->known && !m->c->known(p->obligations.v[i], m->c->kctx))
            MDIAG(m, "obligations: '%s' is not in the obligation catalogue", p->obligations.v[i]);
    field_list(L, def, "include", m, &m->include);
    read_overrides(L, def, m);
    return 0;
}

static bool valid_pattern(const char *s)
{
    if (!*s || *s == '/' || strstr(s, ".."))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              strchr("._-/*", *s)))
            return false;
    return true;
}

static void add_file(struct manifest_ctx *m, const char *abs, struct assay_error *err)
{
    struct profile *p = m->c->p;
    char real[PATH_MAX];
    size_t rl = strlen(p->root);
    if (!realpath(abs, real) || strncmp(real, p->root, rl) != 0 || real[rl] != '/') {
        MDIAG(m, "include: %s is outside the profiles directory", abs);
        return;
    }
    const char *rel = abs + rl + 1;
    for (size_t i = 0; i < p->n_files; i++)
        if (strcmp(p->files[i].path, rel) == 0)
            return;
    if (p->n_files >= PROFILE_MAX_FILES) {
        MDIAG(m, "include: more than %d files", PROFILE_MAX_FILES);
        return;
    }
    struct profile_file *f = realloc(p->files, (p->n_files + 1) * sizeof(*f));
    if (!f) {
        assay_fail(err, ASSAY_ENOMEM, "out of memory");
        return;
    }
    p->files = f;
    f = &p->files[p->n_files];
    memset(f, 0, sizeof(*f));
    struct assay_error e = {0};
    if (sandbox_read_file(abs, &f->source, &f->len, &e) != 0) {
        MDIAG(m, "include: %s", e.msg);
        return;
    }
    if (!(f->path = strdup(rel))) {
        free(f->source);
        return;
    }
    digest(f->source, f->len, f->sha256);
    p->n_files++;
}

/* True if the folder part of a path (everything before the last '/') exists. */
static bool folder_exists(const char *path)
{
    char dir[PATH_MAX + 64];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return false;
    *slash = 0;
    if (strpbrk(dir, "*?["))
        return false;
    struct stat st;
    return stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

static void expand_includes(struct manifest_ctx *m, struct assay_error *err)
{
    for (size_t i = 0; i < m->include.n; i++) {
        const char *pat = m->include.v[i];
        if (!valid_pattern(pat)) {
            MDIAG(m, "include '%s': a relative path without '..' is required", pat);
            continue;
        }
        char full[PATH_MAX + 64];
        snprintf(full, sizeof(full), "%s/%s", m->c->p->root, pat);
        glob_t g;
        int rc = glob(full, GLOB_ERR, NULL, &g);
        /* A wildcard over an existing folder may match nothing yet (an area with no
         * test cases so far); a folder or file that does not exist is a mistake. */
        bool empty_area = rc == GLOB_NOMATCH && strpbrk(pat, "*?[") && folder_exists(full);
        if ((rc != 0 || g.gl_pathc == 0) && !empty_area)
            MDIAG(m, "include '%s' matches no file", pat);
        for (size_t k = 0; rc == 0 && k < g.gl_pathc; k++)
            add_file(m, g.gl_pathv[k], err);
        if (rc == 0)
            globfree(&g);
    }
}

/* Applies the manifest's parameter overrides to the test cases' defaults. */
static void apply_overrides(struct manifest_ctx *m)
{
    const char *id;
    json_t *ov;
    json_object_foreach(m->overrides, id, ov)
    {
        struct testcase *tc = (struct testcase *)profile_find(m->c->p, id);
        if (!tc) {
            MDIAG(m, "parameters: no test case '%s' in this profile", id);
            continue;
        }
        const char *k;
        json_t *v;
        json_object_foreach(ov, k, v)
        {
            json_t *one = json_pack("{sO}", k, v), *merged = NULL;
            struct assay_error e = {0};
            if (one && testcase_params(tc, one, &merged, &e) == 0) {
                json_decref(tc->params);
                tc->params = merged;
            } else {
                MDIAG(m, "parameters['%s']: %s", id, one ? e.msg : "out of memory");
            }
            json_decref(one);
        }
    }
}

static int run_manifest(struct sandbox *sb, const char *dir, struct manifest_ctx *m,
                        const struct sandbox_limits *lim, struct assay_error *err)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/profile.lua", dir);
    struct srcbuf b = {m->c->p->manifest, NULL, 0};
    char *src = NULL;
    int rc = sandbox_read_file(path, &src, &b.len, err);
    if (rc)
        return rc;
    b.src = src;
    digest(src, b.len, m->c->p->manifest_sha256);
    lua_State *L = sandbox_lua(sb);
    lua_pushcfunction(L, l_run_manifest);
    lua_pushlightuserdata(L, &b);
    struct assay_error e = {0};
    if (sandbox_call(sb, 1, 0, lim, &e) != 0) {
        pdiag_add(m->c->diags, &m->c->count, "%s", e.msg);
    } else {
        rc = sandbox_protect(sb, l_read_manifest, m, &e);
        if (rc)
            assay_fail(err, rc, "%s: %s", m->c->p->manifest, e.msg);
    }
    free(src);
    return rc;
}

static int load_all(struct profile *p, const char *dir, struct contract_ctx *c,
                    const struct sandbox_limits *lim, struct assay_error *err)
{
    struct sandbox *sb = NULL;
    int rc = sandbox_new(p->root, lim ? lim->memory_bytes : 0, &sb, err);
    if (rc)
        return rc;
    struct manifest_ctx m = {.c = c};
    rc = run_manifest(sb, dir, &m, lim, err);
    const char *folder = strrchr(dir, '/') + 1;
    if (!rc && p->name && strcmp(p->name, folder) != 0)
        MDIAG(&m, "name '%s' differs from the folder name '%s'", p->name, folder);
    if (!rc)
        expand_includes(&m, err);
    for (size_t i = 0; !rc && i < p->n_files; i++) {
        struct assay_error e = {0};
        if (tcload_file(sb, p->files[i].path, p->files[i].source, p->files[i].len, i, lim, &e))
            pdiag_add(c->diags, &c->count, "%s", e.msg);
    }
    if (!rc) {
        struct assay_error e = {0};
        rc = sandbox_protect(sb, contract_check, c, &e);
        if (rc)
            assay_fail(err, rc, "%s", e.msg);
    }
    if (!rc && m.overrides)
        apply_overrides(&m);
    strlist_release(&m.include);
    json_decref(m.overrides);
    sandbox_free(sb);
    return rc;
}

int profile_load(const char *name_or_path, const char *search_path, profile_known_fn known,
                 void *ctx, const struct sandbox_limits *lim, struct profile **out,
                 struct profile_diags *diags, struct assay_error *err)
{
    *out = NULL;
    char dir[PATH_MAX];
    int rc = locate(name_or_path, search_path, dir, err);
    if (rc)
        return rc;
    struct profile *p = calloc(1, sizeof(*p));
    if (!p)
        return assay_fail(err, ASSAY_ENOMEM, "out of memory");
    char *slash = strrchr(dir, '/');
    p->root = slash == dir ? strdup("/") : strndup(dir, (size_t)(slash - dir));
    size_t mlen = strlen(slash + 1) + sizeof("/profile.lua");
    p->manifest = malloc(mlen);
    if (!p->root || !p->manifest) {
        profile_free(p);
        return assay_fail(err, ASSAY_ENOMEM, "out of memory");
    }
    snprintf(p->manifest, mlen, "%s/profile.lua", slash + 1);
    struct contract_ctx c = {.p = p, .known = known, .kctx = ctx, .diags = diags};
    size_t first = diags ? diags->n : 0;
    rc = load_all(p, dir, &c, lim, err);
    if (!rc && c.count) {
        const char *msg = diags && diags->n > first ? diags->msgs[first] : "contract violation";
        if (c.count > 1)
            assay_fail(err, ASSAY_EPROFILE, "%s (and %zu more)", msg, c.count - 1);
        else
            assay_fail(err, ASSAY_EPROFILE, "%s", msg);
        rc = ASSAY_EPROFILE;
    }
    if (rc) {
        profile_free(p);
        return rc;
    }
    *out = p;
    return 0;
}
