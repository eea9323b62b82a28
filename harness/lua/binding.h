/*
 * binding.h: the contract between the profile runtime and the protocol bindings.
 *
 * A probe sees a table `t` with one sub-table per protocol (`t.mqtt`,
 * `t.coap`, `t.modbus`, ...). Each protocol binding provides one push
 * function that creates its sub-table of C functions on the Lua stack.
 * The functions reach the environment through upvalue 1, a light userdata
 * pointing at the `struct binding_env` given to the push function; the env
 * outlives the Lua state's use of it (the runtime owns it for one test case
 * or longer).
 *
 * Binding rules (STYLE.md, Lua bindings): check every argument before
 * acquiring any resource (luaL_check* longjmps past C cleanup); expected
 * failures (refused, timed out, out of scope) return `nil, "reason"`; only
 * misuse raises. Resources are userdata with __gc and __close. Every call
 * uses env->timeout_ms as its deadline unless the caller passes a shorter
 * one, checks env->scope before opening any socket, and writes what it did
 * to env->sink. Bindings never include anything from cli/.
 */
#ifndef ASSAY_LUA_BINDING_H
#define ASSAY_LUA_BINDING_H

#include <lua.h>

#include "core/scope.h"
#include "core/transcript.h"

struct binding_env {
    const struct transcript_sink *sink; /* may be NULL: nothing recorded */
    const struct scope *scope;          /* never NULL while probing */
    int timeout_ms;                     /* deadline for one network operation */
    int pause_ms;                       /* pause between requests to one device */
    int max_connections;                /* simultaneous connections to one device */
    const char *dossier_dir; /* may be NULL: directory of the device's dossier (published files) */
    const char
        *evidence_dir; /* may be NULL: where fetched documents are kept (devices/<id>/documents) */
    const char *keylog_path; /* NULL: none; else TLS key log appended to (capture_keylog_path) */
};

/* Pushes a new table of functions for one protocol; returns nothing, leaves 1 value. */
typedef void (*binding_push_fn)(lua_State *L, struct binding_env *env);

struct binding {
    const char *name; /* the key in `t`: "mqtt", "coap", "modbus", ... */
    binding_push_fn push;
};

/* The protocol bindings compiled in, terminated by {NULL, NULL}; bindings.c. */
extern const struct binding assay_bindings[];

#endif
