/*
 * plan.h: the check and plan steps of a run (DESIGN.md, Data flow).
 *
 * plan_load() reads the obligation catalogue, the bench file with its
 * dossiers, and the profiles, and checks all of them, reporting every
 * problem with file:line:column. The result is everything `assay check`
 * validates and `assay run` executes: the devices, the scope, and the test
 * cases that apply to each device.
 *
 * Ownership: a plan owns everything it holds; plan_release() frees it.
 */
#ifndef ASSAY_RUN_PLAN_H
#define ASSAY_RUN_PLAN_H

#include <stddef.h>

#include "core/bench.h"
#include "core/catalogue.h"
#include "core/diag.h"

#define PLAN_MAX_PROFILES 16

struct plan_options {
    const char *profile_root;                /* NULL: cli default */
    const char *profiles[PLAN_MAX_PROFILES]; /* names or paths, borrowed */
    size_t nprofiles;
    unsigned allow_extra;                       /* categories added by --allow */
    const char *devices[PLAN_MAX_PROFILES * 4]; /* --device patterns, borrowed; none = all */
    size_t ndevices;
};

struct plan_profiles; /* the loaded profiles and test cases (runtime) */

struct plan {
    char *profile_root; /* owned */
    struct catalogue catalogue;
    struct bench bench;
    struct plan_profiles *profiles; /* owned, NULL when no profile was named */
};

/* Adds a profile name or path; returns 0 or -1 when there are too many. */
int plan_options_add_profile(struct plan_options *po, const char *profile);

/* Loads and checks everything. Returns 0 when the plan is usable, ASSAY_EINVAL
 * (problems in diags) or ASSAY_EIO. Release with plan_release() in every case. */
int plan_load(struct plan *p, const char *bench_path, const struct plan_options *po,
              struct diag_list *diags);
void plan_release(struct plan *p);

size_t plan_profile_count(const struct plan *p);
size_t plan_testcase_count(const struct plan *p);

#endif
