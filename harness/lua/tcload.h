/*
 * tcload.h: running test-case files inside a sandbox and collecting what they declare.
 *
 * A test-case file runs in its own environment (sandbox_push_env) that also
 * holds `testcase` (records its table argument with the file and line of the
 * call) and the verdict constructors PASS, FAIL, INCONCLUSIVE, NOT_APPLICABLE,
 * ASSESSOR and ERROR from profiles/lib/verdict.lua. The recorded tables are
 * kept in the state's registry, in load order, as entries
 * { def = <table>, file = <index>, line = <n> }.
 *
 * Used by the profile loader (profile.c) and by the probe and judge runners.
 * All functions run Lua code armed with the given limits (NULL = defaults),
 * so a file whose top level loops or allocates without end is an error.
 */
#ifndef ASSAY_LUA_TCLOAD_H
#define ASSAY_LUA_TCLOAD_H

#include <stddef.h>

#include "core/error.h"
#include "lua/sandbox.h"

/*
 * Runs one test-case file (`len` bytes of `src`; `path` relative to the
 * profiles directory, shown in messages) and records its test cases under
 * file index `file`. Returns 0 or ASSAY_EPROFILE / ASSAY_ENOMEM with
 * "path:line: message".
 */
int tcload_file(struct sandbox *sb, const char *path, const char *src, size_t len, size_t file,
                const struct sandbox_limits *lim, struct assay_error *err);

/* Pushes the registry array of recorded entries (creating it if needed). Protected mode only. */
void tcload_push_entries(lua_State *L);

/*
 * Pushes the `def` table of the recorded test case whose id is `id`, or nil.
 * Protected mode only; raw access, no metamethod runs.
 */
void tcload_push_def(lua_State *L, const char *id);

#endif
