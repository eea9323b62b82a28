/* bind_documents.c: the t.documents Lua binding (see bind_documents.h). */
#include "bind_documents.h"

#include <errno.h>
#include <jansson.h>
#include <lauxlib.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "drivers/http.h"
#include "drivers/page.h"
#include "lua/bind_util.h"
#include "drivers/securitytxt.h"

#define DEFAULT_MAX_BYTES (1024 * 1024)
#define DEFAULT_REDIRECTS 5

static struct binding_env *env_of(lua_State *L)
{
    return lua_touserdata(L, lua_upvalueindex(1));
}

/* Where fetched or read bytes came from, for the evidence record. */
struct origin {
    const char *source, *name; /* "url" | "file", the URL or file */
    const char *retrieved_utc;
    const struct http_response *http; /* NULL for files */
};

static void sha256_hex(const void *buf, size_t len, char hex[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL);
    for (unsigned i = 0; i < n && i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    hex[64] = '\0';
}

static int write_file(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wbx"); /* exclusive: an existing file with this name is kept */
    if (!f)
        return errno == EEXIST ? 0 : -1;
    size_t w = fwrite(buf, 1, len, f);
    return (fclose(f) != 0 || w != len) ? -1 : 0;
}

static json_t *meta_json(const struct origin *o, const char *sha, size_t len)
{
    json_t *m =
        json_pack("{s:s, s:s, s:s, s:s, s:I}", "source", o->source, o->source, o->name,
                  "retrieved_utc", o->retrieved_utc, "sha256", sha, "size", (json_int_t)len);
    if (m && o->http) {
        const struct http_response *r = o->http;
        json_t *hops = json_array();
        for (size_t i = 0; i < r->nhops; i++)
            json_array_append_new(hops, json_pack("{s:s, s:I, s:s?}", "url", r->hops[i].url,
                                                  "status", (json_int_t)r->hops[i].status,
                                                  "location", r->hops[i].location));
        json_object_set_new(m, "status", json_integer(r->status));
        json_object_set_new(m, "headers", json_stringn(r->headers, r->headers_len));
        json_object_set_new(m, "hops", hops);
        json_object_set_new(m, "truncated", json_boolean(r->truncated));
    }
    return m;
}

/* Keeps the bytes as <sha>.body and the record as <sha>.<time>.json; pushes the
 * relative evidence path or nil. Never fails the probe: a write failure is noted. */
static void keep_evidence(lua_State *L, struct binding_env *env, const struct origin *o,
                          const void *buf, size_t len, const char *sha)
{
    if (!env->evidence_dir) {
        lua_pushnil(L);
        return;
    }
    char path[4096], stamp[32] = "";
    mkdir(env->evidence_dir, 0755);
    size_t k = 0;
    for (const char *c = o->retrieved_utc; *c && k < sizeof(stamp) - 1; c++) {
        if ((*c >= '0' && *c <= '9') || *c == 'T' || *c == 'Z')
            stamp[k++] = *c;
    }
    stamp[k] = '\0';
    snprintf(path, sizeof(path), "%s/%s.body", env->evidence_dir, sha);
    int rc = write_file(path, buf, len);
    json_t *m = meta_json(o, sha, len);
    char *text = m ? json_dumps(m, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    snprintf(path, sizeof(path), "%s/%s.%s.json", env->evidence_dir, sha, stamp);
    if (rc == 0 && text)
        rc = write_file(path, text, strlen(text));
    free(text);
    json_decref(m);
    const char *base = strrchr(env->evidence_dir, '/');
    base = base ? base + 1 : env->evidence_dir;
    if (rc != 0 || !text) {
        transcript_note(env->sink, "documents", o->name, "evidence", "could not write evidence");
        lua_pushnil(L);
        return;
    }
    lua_pushfstring(L, "%s/%s.body", base, sha);
}

/* Pushes the common part of a document table for these bytes. */
static void push_document(lua_State *L, struct binding_env *env, const struct origin *o,
                          const void *buf, size_t len, int truncated)
{
    char sha[65];
    sha256_hex(buf, len, sha);
    lua_createtable(L, 0, 16);
    lua_pushstring(L, o->source);
    lua_setfield(L, -2, "source");
    lua_pushstring(L, o->name);
    lua_setfield(L, -2, strcmp(o->source, "url") == 0 ? "url" : "file");
    lua_pushstring(L, o->retrieved_utc);
    lua_setfield(L, -2, "retrieved_utc");
    lua_pushinteger(L, (lua_Integer)len);
    lua_setfield(L, -2, "size");
    lua_pushboolean(L, truncated);
    lua_setfield(L, -2, "truncated");
    lua_pushstring(L, sha);
    lua_setfield(L, -2, "sha256");
    lua_pushlstring(L, buf, len);
    lua_setfield(L, -2, "body");
    keep_evidence(L, env, o, buf, len, sha);
    lua_setfield(L, -2, "evidence");
}

static void push_http_fields(lua_State *L, const struct http_response *r)
{
    lua_pushinteger(L, r->status);
    lua_setfield(L, -2, "status");
    lua_pushstring(L, r->content_type);
    lua_setfield(L, -2, "content_type");
    lua_pushinteger(L, r->elapsed_ms);
    lua_setfield(L, -2, "elapsed_ms");
    if (r->stop[0]) {
        lua_pushstring(L, r->stop);
        lua_setfield(L, -2, "stop");
    }
    lua_createtable(L, (int)r->nhops, 0);
    for (size_t i = 0; i < r->nhops; i++) {
        lua_createtable(L, 0, 3);
        lua_pushstring(L, r->hops[i].url);
        lua_setfield(L, -2, "url");
        lua_pushinteger(L, r->hops[i].status);
        lua_setfield(L, -2, "status");
        lua_pushstring(L, r->hops[i].location);
        lua_setfield(L, -2, "location");
        lua_seti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "hops");
}

static const char *reason_word(int code)
{
    switch (code) {
    case ASSAY_ESCOPE: return "out of scope";
    case ASSAY_ETIMEOUT: return "timeout";
    case ASSAY_EINVAL: return "invalid";
    case ASSAY_ENOMEM: return "out of memory";
    default: return "network";
    }
}

static int l_fetch(lua_State *L)
{
    struct binding_env *env = env_of(L);
    const char *url = luaL_checkstring(L, 1);
    int bench = env->timeout_ms > 0 ? env->timeout_ms : 3000;
    struct http_opts o = {
        .timeout_ms = (int)bind_opt_int(L, "t.documents", 2, "timeout_ms", bench, 1, 600000),
        .max_bytes = (size_t)bind_opt_int(L, "t.documents", 2, "max_bytes", DEFAULT_MAX_BYTES, 1,
                                          PAGE_MAX_INPUT),
        .max_redirects = (int)bind_opt_int(L, "t.documents", 2, "max_redirects", DEFAULT_REDIRECTS,
                                           0, HTTP_MAX_HOPS - 1),
    };
    if (o.timeout_ms > bench)
        o.timeout_ms = bench;
    struct http_response r;
    struct assay_error err = {0};
    int rc = http_get(env->scope, env->sink, url, &o, &r, &err);
    if (rc) {
        http_response_release(&r);
        lua_pushnil(L);
        lua_pushfstring(L, "%s: %s", reason_word(rc), err.msg);
        return 2;
    }
    struct origin og = {.source = "url", .name = url, .retrieved_utc = r.fetched_utc, .http = &r};
    push_document(L, env, &og, r.body, r.body_len, r.truncated);
    push_http_fields(L, &r);
    http_response_release(&r);
    return 1;
}

static int l_read(lua_State *L)
{
    struct binding_env *env = env_of(L);
    const char *file = luaL_checkstring(L, 1);
    size_t cap = (size_t)bind_opt_int(L, "t.documents", 2, "max_bytes", DEFAULT_MAX_BYTES, 1,
                                      PAGE_MAX_INPUT);
    if (!env->dossier_dir && file[0] != '/') {
        lua_pushnil(L);
        lua_pushstring(L, "no dossier directory: the runtime did not say where the dossier is");
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s%s%s", file[0] == '/' ? "" : env->dossier_dir,
             file[0] == '/' ? "" : "/", file);
    char stamp[CLOCK_UTC_MAX];
    clock_utc_now(stamp);
    FILE *f = fopen(path, "rb");
    char *buf = malloc(cap + 1);
    size_t n = f && buf ? fread(buf, 1, cap + 1, f) : 0;
    int bad = !f || !buf || ferror(f);
    if (f)
        fclose(f);
    if (bad) {
        free(buf);
        lua_pushnil(L);
        lua_pushfstring(L, "unreadable: %s", path);
        return 2;
    }
    int truncated = n > cap;
    if (truncated)
        n = cap;
    struct origin og = {.source = "file", .name = file, .retrieved_utc = stamp};
    transcript_note(env->sink, "documents", file, "read", path);
    push_document(L, env, &og, buf, n, truncated);
    free(buf);
    return 1;
}

static void push_strings(lua_State *L, char *const *v, size_t n, const char *key)
{
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_pushstring(L, v[i]);
        lua_seti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, key);
}

static int l_text(lua_State *L)
{
    size_t len;
    const char *html = luaL_checklstring(L, 1, &len);
    struct page p;
    struct assay_error err = {0};
    if (page_parse(&p, html, len, &err) != 0) {
        lua_pushnil(L);
        lua_pushfstring(L, "invalid: %s", err.msg);
        return 2;
    }
    lua_createtable(L, 0, 5);
    lua_pushstring(L, p.title);
    lua_setfield(L, -2, "title");
    lua_pushstring(L, p.lang);
    lua_setfield(L, -2, "lang");
    lua_pushboolean(L, p.truncated);
    lua_setfield(L, -2, "truncated");
    push_strings(L, p.sentences, p.nsentences, "sentences");
    lua_createtable(L, (int)p.nlinks, 0);
    for (size_t i = 0; i < p.nlinks; i++) {
        lua_createtable(L, 0, 2);
        lua_pushstring(L, p.links[i].href);
        lua_setfield(L, -2, "href");
        lua_pushstring(L, p.links[i].text);
        lua_setfield(L, -2, "text");
        lua_seti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "links");
    page_release(&p);
    return 1;
}

static int l_securitytxt(lua_State *L)
{
    size_t len;
    const char *text = luaL_checklstring(L, 1, &len);
    struct securitytxt s;
    struct assay_error err = {0};
    if (securitytxt_parse(&s, text, len, &err) != 0)
        return luaL_error(L, "%s", err.msg);
    lua_createtable(L, 0, 12);
    push_strings(L, s.contact.v, s.contact.n, "contact");
    push_strings(L, s.expires.v, s.expires.n, "expires");
    push_strings(L, s.encryption.v, s.encryption.n, "encryption");
    push_strings(L, s.policy.v, s.policy.n, "policy");
    push_strings(L, s.acknowledgments.v, s.acknowledgments.n, "acknowledgments");
    push_strings(L, s.preferred_languages.v, s.preferred_languages.n, "preferred_languages");
    push_strings(L, s.canonical.v, s.canonical.n, "canonical");
    push_strings(L, s.hiring.v, s.hiring.n, "hiring");
    push_strings(L, s.problems, s.nproblems, "problems");
    if (s.expires_epoch != INT64_MIN) {
        lua_pushinteger(L, (lua_Integer)s.expires_epoch);
        lua_setfield(L, -2, "expires_epoch");
    }
    lua_pushboolean(L, s.is_signed);
    lua_setfield(L, -2, "signed");
    securitytxt_release(&s);
    return 1;
}

static int l_now_utc(lua_State *L)
{
    char buf[CLOCK_UTC_MAX];
    lua_pushstring(L, clock_utc_format(time(NULL), buf));
    return 1;
}

static int l_now_epoch(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)time(NULL));
    return 1;
}

void bind_documents_push(lua_State *L, struct binding_env *env)
{
    static const luaL_Reg fns[] = {
        {"fetch", l_fetch},     {"read", l_read},
        {"text", l_text},       {"securitytxt", l_securitytxt},
        {"now_utc", l_now_utc}, {"now_epoch", l_now_epoch},
        {NULL, NULL},
    };
    lua_createtable(L, 0, 6);
    lua_pushlightuserdata(L, env);
    luaL_setfuncs(L, fns, 1);
}
