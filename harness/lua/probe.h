/*
 * probe.h: running test cases' probes for one device in a worker's Lua state.
 *
 * A worker (one process per device) creates one probe state, which loads all
 * of the profile's test-case files from the source kept in struct profile,
 * and runs the probes one after another. Each run is armed with its own
 * limits; a trip, a runtime error or observations that cannot be stored as
 * JSON end that test case with an error, and the next one runs normally.
 *
 * Blocking: probe_run() blocks for as long as the probe and the protocol
 * bindings it calls do, bounded by the test case's deadline except for what
 * no hook can interrupt (sandbox.h); the supervisor's kill covers that.
 */
#ifndef ASSAY_LUA_PROBE_H
#define ASSAY_LUA_PROBE_H

#include <jansson.h>

#include "core/error.h"
#include "lua/binding.h"
#include "lua/profile.h"
#include "lua/sandbox.h"

struct probe_state;

/*
 * Creates a worker's state for profile p (which must outlive it). lim bounds
 * loading the files and is the default for every run (NULL = defaults);
 * lim->memory_bytes caps the whole state. Returns 0 with *out owned by the
 * caller (probe_state_free), or ASSAY_ENOMEM / ASSAY_EPROFILE.
 */
int probe_state_new(const struct profile *p, const struct sandbox_limits *lim,
                    struct probe_state **out, struct assay_error *err);

void probe_state_free(struct probe_state *ps);

/*
 * Runs tc's probe as probe(dut, t, params, dossier) (helpers.h describes dut
 * and t). `device` is the bench device object; `dossier` the model's dossier
 * object (NULL = {}), so a probe can find what the IXIT declares (registers,
 * topics, resources); `params` the merged parameters
 * (testcase_params; NULL = tc's defaults); `env` the bindings' environment
 * (NULL = no protocol bindings); `lim` this run's limits (NULL = the state's).
 * On success *obs is a new JSON object the caller owns. On failure *obs is
 * NULL and err holds the message for an ERROR verdict ("file:line: ..."):
 * ASSAY_EPROFILE (trip, runtime error, unstorable observations) or
 * ASSAY_EINVAL / ASSAY_ENOMEM.
 */
int probe_run(struct probe_state *ps, const struct testcase *tc, const json_t *device,
              const json_t *dossier, const json_t *params, struct binding_env *env,
              const struct sandbox_limits *lim, json_t **obs, struct assay_error *err);

#endif
