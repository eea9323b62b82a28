/*
 * luajson.h: converting between Lua values and jansson JSON values.
 *
 * Lua to JSON (observations, parameters):
 *   nil -> null (top level only; tables cannot hold nil), boolean, integer,
 *   finite float (NaN and infinities are refused), string -> string when it
 *   is valid UTF-8 without NUL, else {"$hex": "<lowercase hex>"}; a table
 *   whose keys are exactly 1..n -> array; a table whose keys are all strings
 *   -> object; an empty table -> {} (an empty object).
 *   Refused, with the path of the value ("observations.attempts[2].user"):
 *   functions, userdata, threads, mixed or sparse keys, non-string keys that
 *   are not an array, the reserved key "$hex" in a table, nesting deeper than
 *   LUAJSON_MAX_DEPTH (which also catches cycles). Metatables are ignored
 *   (raw access), so no Lua code runs during the conversion.
 * JSON to Lua (observations back for the judge, dossiers, devices):
 *   null -> nil (a key with null is absent; an array keeps its length with a
 *   hole), {"$hex": "..."} alone in an object -> the bytes as a string,
 *   integers -> integers, reals -> floats.
 *
 * Both directions must run in protected mode (sandbox_protect): they push
 * values and may raise a memory error. Neither blocks.
 */
#ifndef ASSAY_LUA_LUAJSON_H
#define ASSAY_LUA_LUAJSON_H

#include <jansson.h>
#include <lua.h>

#include "core/error.h"

#define LUAJSON_MAX_DEPTH 64

/*
 * Converts the value at `idx` to JSON. `what` names the root in messages
 * ("observations"). On success *out is a new reference the caller owns.
 * Returns 0 or ASSAY_EPROFILE with err "what.path: reason".
 */
int luajson_from_lua(lua_State *L, int idx, const char *what, json_t **out,
                     struct assay_error *err);

/* Pushes the Lua value for v (NULL or null pushes nil). Returns 0 or ASSAY_EINVAL (bad $hex,
 * depth). */
int luajson_push(lua_State *L, const json_t *v, struct assay_error *err);

/* True if the n bytes are valid UTF-8 (no overlongs, surrogates or values past U+10FFFF). */
int luajson_utf8_valid(const char *s, size_t n);

#endif
