/*
 * bind_util.h: what the protocol bindings share: the `nil, "reason"` return of
 * an expected failure, and checked reads of option-table fields.
 *
 * The field readers raise a Lua error on misuse (a wrong type or a value out of
 * range), so call them before acquiring any resource (binding.h). `who` names
 * the binding in messages ("t.coap").
 */
#ifndef ASSAY_LUA_BIND_UTIL_H
#define ASSAY_LUA_BIND_UTIL_H

#include <lauxlib.h>
#include <lua.h>
#include <stddef.h>

#include "core/error.h"

/* Pushes nil and "word: msg" (or "word" when msg is empty); returns 2. */
int bind_fail(lua_State *L, const char *word, const char *msg);

/* bind_fail with "out of scope" for ASSAY_ESCOPE, "error" otherwise. */
int bind_error(lua_State *L, const struct assay_error *err);

/* table[key] as an integer in [lo, hi], or def when absent. */
lua_Integer bind_field_int(lua_State *L, const char *who, int idx, const char *key, lua_Integer def,
                           lua_Integer lo, lua_Integer hi);

/* As bind_field_int, on an options table that may be absent (none or nil at idx). */
lua_Integer bind_opt_int(lua_State *L, const char *who, int idx, const char *key, lua_Integer def,
                         lua_Integer lo, lua_Integer hi);

/* table[key] as a string (length in *len if len), or NULL when absent; valid while
 * the table is on the stack. */
const char *bind_field_str(lua_State *L, const char *who, int idx, const char *key, size_t *len);

#endif
