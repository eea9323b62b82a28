/*
 * sandbox.h: one allow-listed Lua 5.4 state with an instruction budget, a
 * wall-clock deadline and a memory cap.
 *
 * The environment a chunk sees is built by sandbox_push_env(): base functions
 * without dofile, loadfile, collectgarbage and print; `load` for text chunks
 * only; string (without dump), table, math, utf8 and coroutine copies; a
 * `require` that only finds modules under <root>/lib; `load_data(name)` that
 * evaluates <root>/data/<name>.lua in an empty environment. There is no io,
 * os, debug or package, and no metatable can carry __gc (a finalizer could run
 * while the state is not armed).
 *
 * Limits: the trip state (instructions used, deadline, memory cap reached) is
 * global to the state, not per coroutine. A count hook checks it every
 * SANDBOX_HOOK_STEP instructions on every thread (coroutine.create and
 * coroutine.wrap are replaced so new threads get the hook); after the first
 * trip the hook fires on every instruction of whichever thread runs, so
 * neither pcall nor coroutine.wrap can outrun it. A trip is final for the run
 * it happened in: whatever the script returns afterwards, sandbox_call()
 * reports the trip.
 *
 * What no hook can stop: a C function that does not return to the VM, such as
 * a backtracking pattern in string.find/match/gsub or a blocking call in a
 * binding. Those are left to the supervisor, which kills the worker process
 * when the test case's deadline has passed by its grace period.
 *
 * Threads: a sandbox belongs to one thread at a time. Nothing here blocks,
 * except what the script itself calls.
 */
#ifndef ASSAY_LUA_SANDBOX_H
#define ASSAY_LUA_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "core/error.h"

#define SANDBOX_HOOK_STEP 1000 /* instructions between two checks of the limits */
#define SANDBOX_DEFAULT_INSTRUCTIONS 200000000ULL
#define SANDBOX_DEFAULT_DEADLINE_MS 60000
#define SANDBOX_DEFAULT_MEMORY ((size_t)64 << 20)
#define SANDBOX_MIN_MEMORY ((size_t)256 << 10)
#define SANDBOX_MAX_SOURCE ((size_t)1 << 20) /* largest profile, lib or data file */

/* Limits for one run (one test case's probe or judge). Zero means the default. */
struct sandbox_limits {
    uint64_t instructions; /* Lua VM instructions */
    int64_t deadline_ms;   /* wall clock, from sandbox_arm() */
    size_t memory_bytes;   /* everything the state holds, checked by the allocator */
};

/* Fills l with the defaults above. */
void sandbox_limits_default(struct sandbox_limits *l);

struct sandbox;

/*
 * Creates a state whose `require` and `load_data` look under `root` (the
 * profiles directory holding lib/ and data/; copied). The memory cap starts
 * at `memory_bytes` (0 = default). Returns 0, ASSAY_ENOMEM or ASSAY_EINVAL.
 * The caller owns *out and frees it with sandbox_free().
 */
int sandbox_new(const char *root, size_t memory_bytes, struct sandbox **out,
                struct assay_error *err);

/* Closes the state. NULL is allowed. */
void sandbox_free(struct sandbox *sb);

/* The state, for pushing arguments and reading results. Owned by sb. */
lua_State *sandbox_lua(struct sandbox *sb);

/* The profiles directory given to sandbox_new(). */
const char *sandbox_root(const struct sandbox *sb);

/*
 * Starts a run: clears the trip state, sets the budget, the deadline
 * (from now) and the memory cap from lim (NULL = defaults), and re-installs
 * the hook on the main thread.
 */
void sandbox_arm(struct sandbox *sb, const struct sandbox_limits *lim);

/* Ends a run: the hook stops counting; allocations past the cap still fail. */
void sandbox_disarm(struct sandbox *sb);

/* The trip message ("instruction budget exceeded ...") of the current or last run, or NULL. */
const char *sandbox_tripped(const struct sandbox *sb);

/* Pushes a fresh environment table for one chunk (see the top of this file). */
void sandbox_push_env(lua_State *L);

/*
 * Loads `len` bytes of Lua text as a function whose _ENV is the table at the
 * top of the stack (popped). `chunkname` is the path shown in messages
 * ("testcases/x/y.lua"). Binary chunks are refused. On success the function
 * is left on the stack; on failure nothing is, and err says "name:line: ...".
 * Returns 0 or ASSAY_EPROFILE.
 */
int sandbox_load(struct sandbox *sb, const char *chunkname, const char *src, size_t len,
                 struct assay_error *err);

/*
 * Calls the function below `nargs` arguments like lua_pcall with `nresults`
 * results, armed with lim (NULL = defaults), and disarms afterwards. A trip
 * wins over whatever the script returned: on a trip, a runtime error or a
 * memory error, nothing is left on the stack and err holds the message.
 * Returns 0 or ASSAY_EPROFILE.
 */
int sandbox_call(struct sandbox *sb, int nargs, int nresults, const struct sandbox_limits *lim,
                 struct assay_error *err);

/*
 * Runs fn(L) in protected mode, unarmed, with a light userdata `ud` as its
 * only argument; its results are dropped and the stack is restored. Any Lua
 * code the harness runs on a sandbox (pushing environments, converting
 * values, calling test cases) goes through here, so an allocation failure is
 * an error message and never a panic. fn may fill err itself (set err->code)
 * and return 0; otherwise a Lua error becomes the message.
 * Returns 0, err->code, ASSAY_ENOMEM or ASSAY_EPROFILE. err must be zeroed.
 */
int sandbox_protect(struct sandbox *sb, lua_CFunction fn, void *ud, struct assay_error *err);

/*
 * Reads a whole file of at most SANDBOX_MAX_SOURCE bytes into a malloc'd,
 * NUL-terminated buffer the caller frees. Returns 0, ASSAY_EIO or ASSAY_ENOMEM.
 */
int sandbox_read_file(const char *path, char **out, size_t *len, struct assay_error *err);

/*
 * Milliseconds left before the deadline of the run in progress on the state
 * that L belongs to; 0 when the run has tripped or no run is armed. For
 * helpers that wait (t.sleep_ms) so they never outlast the test case.
 */
int64_t sandbox_remaining_ms(lua_State *L);

/* Bytes the state holds now. */
size_t sandbox_memory(const struct sandbox *sb);

#endif
