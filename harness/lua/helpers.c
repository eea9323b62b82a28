/* helpers.c: the probe's `t` and `dut` tables and the C helpers in `t` (see helpers.h). */
#include "lua/helpers.h"

#include <openssl/evp.h>

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <lauxlib.h>

#include "core/clock.h"
#include "lua/luajson.h"
#include "lua/sandbox.h"

#define SLEEP_MAX_MS 60000

static int fill_random(unsigned char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(buf + got, n - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

static int l_random_credential(lua_State *L)
{
    static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    static const char hex[] = "0123456789abcdef";
    unsigned char r[24];
    char user[6 + 8 + 1] = "assay-", pass[21];
    if (fill_random(r, sizeof(r)) != 0)
        return luaL_error(L, "random_credential: getrandom failed");
    for (int i = 0; i < 4; i++) {
        user[6 + 2 * i] = hex[r[i] >> 4];
        user[7 + 2 * i] = hex[r[i] & 15];
    }
    user[14] = '\0';
    for (int i = 0; i < 20; i++)
        pass[i] = alnum[r[4 + i] % 62]; /* slight bias; it only has to be unguessable */
    pass[20] = '\0';
    lua_createtable(L, 0, 2);
    lua_pushstring(L, user);
    lua_setfield(L, -2, "username");
    lua_pushstring(L, pass);
    lua_setfield(L, -2, "password");
    return 1;
}

/* A blocking call, but bounded by the test case's deadline and SLEEP_MAX_MS. */
static int l_sleep_ms(lua_State *L)
{
    lua_Integer ms = luaL_checkinteger(L, 1);
    luaL_argcheck(L, ms >= 0, 1, "must be >= 0");
    int64_t left = sandbox_remaining_ms(L);
    int64_t want = ms > SLEEP_MAX_MS ? SLEEP_MAX_MS : (int64_t)ms;
    if (want > left)
        want = left;
    assay_ms end = clock_deadline(want);
    int64_t rem;
    while ((rem = clock_remaining_ms(end)) > 0) {
        struct timespec ts = {rem / 1000, (long)(rem % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    lua_pushinteger(L, (lua_Integer)want);
    return 1;
}

static int l_now_ms(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)clock_now_ms());
    return 1;
}

/* t.sha256(bytes) -> 64 lowercase hex digits (OpenSSL), for fingerprints that let
 * units be compared without storing a secret. */
static int l_sha256(lua_State *L)
{
    size_t len;
    const char *data = luaL_checklstring(L, 1, &len);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL))
        return luaL_error(L, "sha256: digest failed");
    for (unsigned i = 0; i < mdlen; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    lua_pushlstring(L, hex, 2 * (size_t)mdlen);
    return 1;
}

int helpers_push_t(lua_State *L, struct binding_env *env, const json_t *params,
                   struct assay_error *err)
{
    lua_newtable(L);
    if (env) {
        for (const struct binding *b = assay_bindings; b->name; b++) {
            b->push(L, env);
            lua_setfield(L, -2, b->name);
        }
    }
    lua_pushcfunction(L, l_random_credential);
    lua_setfield(L, -2, "random_credential");
    lua_pushcfunction(L, l_sleep_ms);
    lua_setfield(L, -2, "sleep_ms");
    lua_pushcfunction(L, l_now_ms);
    lua_setfield(L, -2, "now_ms");
    lua_pushcfunction(L, l_sha256);
    lua_setfield(L, -2, "sha256");
    if (params) {
        int rc = luajson_push(L, params, err);
        if (rc) {
            lua_pop(L, 1);
            return rc;
        }
        lua_setfield(L, -2, "params");
    }
    return 0;
}

int helpers_push_dut(lua_State *L, const json_t *device, struct assay_error *err)
{
    if (!json_is_object(device))
        return assay_fail(err, ASSAY_EINVAL, "device must be a JSON object");
    int rc = luajson_push(L, device, err);
    if (rc)
        return rc;
    const char *address = json_string_value(json_object_get(device, "address"));
    size_t i;
    json_t *itf;
    json_array_foreach(json_object_get(device, "interfaces"), i, itf)
    {
        const char *kind = json_string_value(json_object_get(itf, "kind"));
        char key[32];
        if (!kind || strlen(kind) >= sizeof(key))
            continue;
        for (size_t k = 0; (key[k] = kind[k] == '-' ? '_' : kind[k]); k++)
            ;
        if (lua_getfield(L, -1, key) != LUA_TNIL) {
            lua_pop(L, 1);
            continue;
        }
        lua_pop(L, 1);
        lua_getfield(L, -1, "interfaces");
        lua_rawgeti(L, -1, (lua_Integer)i + 1);
        if (address && lua_istable(L, -1)) {
            if (lua_getfield(L, -1, "address") == LUA_TNIL) {
                lua_pop(L, 1);
                lua_pushstring(L, address);
                lua_setfield(L, -2, "address");
            } else {
                lua_pop(L, 1);
            }
        }
        lua_setfield(L, -3, key);
        lua_pop(L, 1);
    }
    return 0;
}
