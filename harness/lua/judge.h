/*
 * judge.h: running a test case's judge in a fresh Lua state with no bindings.
 *
 * The judge is called as judge(observations, dossier, params) in a new
 * sandbox that holds only the test case's file (loaded from the source kept
 * in struct profile), the pure environment of sandbox.h and the verdict
 * constructors: no `t`, no drivers, no clock. It is pure by construction, so
 * `assay rescore` reproduces a verdict from the stored observations.
 * For scope = "model", `obs` is a JSON array of {device, observations}, one
 * per unit of the model, and the judge runs once for the model.
 *
 * A judge returns PASS(...), FAIL(...), INCONCLUSIVE(...), NOT_APPLICABLE(...)
 * (a reason is required), ASSESSOR(...) (INCONCLUSIVE, resolve = assessor) or
 * ERROR(...): a table { verdict, rationale, resolve }. Anything else, a
 * runtime error or a trip gives verdict ERROR with the message as rationale.
 *
 * Blocking: none beyond the CPU time the judge uses, bounded by lim.
 */
#ifndef ASSAY_LUA_JUDGE_H
#define ASSAY_LUA_JUDGE_H

#include <jansson.h>

#include "core/error.h"
#include "core/verdict.h"
#include "lua/profile.h"
#include "lua/sandbox.h"

#define JUDGE_RATIONALE_MAX 2048

struct judge_result {
    enum verdict verdict;
    enum resolve resolve;
    char rationale[JUDGE_RATIONALE_MAX]; /* valid UTF-8, truncated at a character boundary */
};

/*
 * Judges tc. `obs` is the observations object (scope device) or the array of
 * units (scope model); `dossier` the model's dossier object (NULL = {});
 * `params` the merged parameters (NULL = tc's defaults); lim NULL = defaults.
 * Always fills *out. Returns 0 when the judge ran (its verdict may be ERROR,
 * for a profile's failure), or ASSAY_EINVAL (obs has the wrong shape) or
 * ASSAY_ENOMEM, with *out set to ERROR and the same message.
 */
int judge_run(const struct profile *p, const struct testcase *tc, const json_t *obs,
              const json_t *dossier, const json_t *params, const struct sandbox_limits *lim,
              struct judge_result *out, struct assay_error *err);

#endif
