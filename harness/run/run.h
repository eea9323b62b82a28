/*
 * run.h: executing a plan: the supervisor, its workers, the journal and the record.
 *
 * run_execute() creates the run directory, forks one worker per device (at
 * most `jobs` at once), journals every finished test case, enforces the
 * per-test-case and per-device deadlines by killing stuck workers, judges
 * scope=model test cases once every unit is done, rolls up the verdicts and
 * writes run.json. A worker that crashes or overruns costs the test case it
 * was running (recorded as ERROR with the signal, or INCONCLUSIVE with the
 * deadline); the device's remaining test cases run in a new worker.
 *
 * Blocking: runs until every device is done or its deadline has passed, or
 * until SIGINT/SIGTERM (then workers are stopped, the journal is kept, and
 * the record says "interrupted").
 */
#ifndef ASSAY_RUN_RUN_H
#define ASSAY_RUN_RUN_H

#include <jansson.h>
#include <stdbool.h>

#include "core/error.h"
#include "run/plan.h"

struct run_options {
    const char *out_dir;    /* parent of the run directory ("results") */
    const char *resume_dir; /* an interrupted run to complete, or NULL */
    int jobs;               /* workers at once, >= 1 */
    unsigned allow_extra;   /* categories added on the command line */
    bool progress;          /* a line per finished device on stderr */
    json_t *invocation;     /* borrowed: {bench, profiles, profile_root, allow}, journalled
                               so that --resume can rebuild the same plan */
};

struct run_result {
    char dir[4096]; /* the run directory */
    json_t *record; /* the final run.json (owned reference) */
    bool interrupted;
};

/*
 * Reads the invocation journalled when RUN_DIR started (see run_options), for
 * --resume. Returns a new reference, or NULL with err set.
 */
json_t *run_read_invocation(const char *run_dir, struct assay_error *err);

/*
 * With o->resume_dir set, completes that run instead of starting a new one:
 * the run directory is locked; every test case the journal holds is kept and
 * not repeated (a torn last line is dropped and its test case runs again);
 * the plan must have the same test cases as when the run started.
 * The environment variable ASSAY_TEST_ABORT_AFTER=k kills the supervisor
 * with SIGKILL right after its k-th journal line: a deterministic crash for
 * the resume tests.
 */
/*
 * Reads the invocation journalled when RUN_DIR started (see run_options), for
 * --resume. Returns a new reference, or NULL with err set.
 */
json_t *run_read_invocation(const char *run_dir, struct assay_error *err);

/*
 * With o->resume_dir set, completes that run instead of starting a new one:
 * the run directory is locked; every test case the journal holds is kept and
 * not repeated (a torn last line is dropped and its test case runs again);
 * the plan must have the same test cases as when the run started.
 * The environment variable ASSAY_TEST_ABORT_AFTER=k kills the supervisor
 * with SIGKILL right after its k-th journal line: a deterministic crash for
 * the resume tests.
 */
int run_execute(const struct plan *plan, const struct run_options *o, struct run_result *out,
                struct assay_error *err);

#endif
