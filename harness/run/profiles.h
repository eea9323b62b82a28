/*
 * profiles.h: the profiles a run executes, loaded through the Lua runtime.
 *
 * Resolves profile names against the profile root (or takes a path), loads
 * each profile's manifest and test cases into the sandbox, checks the
 * test-case contract against the catalogue, and keeps the union of test cases
 * in a stable order. Ownership: plan_profiles_load() allocates *out; free it
 * with plan_profiles_free().
 */
#ifndef ASSAY_RUN_PROFILES_H
#define ASSAY_RUN_PROFILES_H

#include <jansson.h>
#include <stddef.h>

#include "core/bench.h"
#include "core/catalogue.h"
#include "core/diag.h"

struct plan_profiles;

int plan_profiles_load(struct plan_profiles **out, const char *root, const char *const *names,
                       size_t n, const struct catalogue *cat, const struct bench *bench,
                       struct diag_list *diags);
void plan_profiles_free(struct plan_profiles *pp);

size_t plan_profiles_count(const struct plan_profiles *pp);
size_t plan_profiles_testcases(const struct plan_profiles *pp);

/* [{name, version, path}] for run.json (new reference). */
json_t *plan_profiles_describe(const struct plan_profiles *pp);

/* The obligations the profiles answer for, in order, as a JSON array of ids (new reference). */
json_t *plan_profiles_obligations(const struct plan_profiles *pp);

/* Every test case of the loaded profiles, in run order (new reference):
 * [{id, version, title, obligations, category, scope, applies, file, line, profile}]. */
json_t *plan_profiles_testcase_list(const struct plan_profiles *pp);

struct profile;
struct testcase;

/* The i-th distinct test case in run order (0 <= i < plan_profiles_testcases()). */
void plan_profiles_get(const struct plan_profiles *pp, size_t i, const struct profile **p,
                       const struct testcase **tc);

/* The names of the profiles found under root (folders holding profile.lua), sorted (new reference).
 */
json_t *plan_profiles_available(const char *root);

#endif
