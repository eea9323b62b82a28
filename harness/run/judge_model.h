/*
 * judge_model.h: judging scope = "model" test cases once per model.
 *
 * Such a test case (shared or derived credentials, per-unit keys) is probed
 * on every unit in its own worker; once the units are done, the supervisor
 * groups their observations by model and runs the judge once over all of
 * them, in a child process with a deadline (a judge is pure, but a pattern
 * that never ends inside string.find cannot be stopped by a hook).
 */
#ifndef ASSAY_RUN_JUDGE_MODEL_H
#define ASSAY_RUN_JUDGE_MODEL_H

#include <jansson.h>

#include "run/plan.h"

/* Groups [{device: index, observations: path}] by the devices' model:
 * {model: [...]} (new reference). */
json_t *judge_model_group(const struct plan *plan, const json_t *units);

/* Judges test case `tci` over the members of `model`; returns the entry (new
 * reference), ERROR when the judge fails or overruns its deadline. */
json_t *judge_model_run(const struct plan *plan, size_t tci, const char *model,
                        const json_t *members, const char *run_dir);

#endif
