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
    const char *out_dir;  /* parent of the run directory ("results") */
    int jobs;             /* workers at once, >= 1 */
    unsigned allow_extra; /* categories added on the command line */
    bool progress;        /* a line per finished device on stderr */
};

struct run_result {
    char dir[4096]; /* the run directory */
    json_t *record; /* the final run.json (owned reference) */
    bool interrupted;
};

int run_execute(const struct plan *plan, const struct run_options *o, struct run_result *out,
                struct assay_error *err);

#endif
