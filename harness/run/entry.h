/*
 * entry.h: the test-case entry of run.json and of the journal.
 *
 * {id, version, title, obligations, category, scope, verdict, rationale,
 *  resolve?, finished} plus what the caller adds (observations, started, ...).
 * One builder, used by the worker, the supervisor and the model judge, so an
 * entry looks the same whoever decided it.
 */
#ifndef ASSAY_RUN_ENTRY_H
#define ASSAY_RUN_ENTRY_H

#include <jansson.h>

#include "core/verdict.h"
#include "lua/profile.h"

/* A new object (caller owns it). rationale may be NULL only for PASS/FAIL/INCONCLUSIVE. */
json_t *entry_new(const struct testcase *tc, enum verdict v, enum resolve r, const char *rationale);

struct plan;

/* Puts each device's test cases in run order, whatever order they finished in. */
void entry_sort(const struct plan *plan, json_t *rec);

/* A device whose identity changed during its run (`what` = {testcase, before, after}):
 * none of its verdicts can be relied on; each becomes INCONCLUSIVE, keeping what
 * the test case found as `computed`. */
void entry_mark_swapped(json_t *device, json_t *what);

#endif
