/*
 * worker.h: one device's worker process, and the lines it sends its supervisor.
 *
 * The supervisor forks one worker per device. The worker runs the device's
 * test cases in order, from `first`, in a fresh Lua state: applicability,
 * probe (with the protocol bindings, under the test case's limits), the
 * observations stored as devices/<id>/observations/<test case>.json, and the
 * judge in a separate binding-free state fed the stored JSON. It writes one
 * JSON line per event to `fd`:
 *
 *   {"event":"start","tc":N}                         a test case begins
 *   {"event":"result","tc":N,"testcase":{...}}       it finished with a verdict
 *   {"event":"observed","tc":N,"observations":PATH}  a scope=model probe finished;
 *                                                    the supervisor judges the model
 *
 * The worker never writes the journal or run.json: the supervisor alone does.
 * A worker ends with _exit(); it never returns into the supervisor's code.
 */
#ifndef ASSAY_RUN_WORKER_H
#define ASSAY_RUN_WORKER_H

#include <stddef.h>

#include "run/plan.h"

struct worker_args {
    const struct plan *plan;
    size_t device; /* index in plan->bench.devices */
    size_t first;  /* first test case (index in the run order) to run */
    const char *run_dir;
    unsigned allowed; /* categories allowed on this device */
    int fd;           /* the pipe to the supervisor */
};

/* Runs the worker; returns the process exit status to _exit() with. */
int worker_main(const struct worker_args *a);

/* Writes devices/<id>/observations/<tc>.json path into buf (relative to the run dir). */
void worker_observation_path(const char *device_id, const char *tc_id, char *buf, size_t size);

#endif
