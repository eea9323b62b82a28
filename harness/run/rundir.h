/*
 * rundir.h: the run directory: creating and locking it, the secrets kept with
 * its evidence, and what `assay run --resume` reads back from it. Local files
 * only; nothing here waits on the network.
 */
#ifndef ASSAY_RUN_RUNDIR_H
#define ASSAY_RUN_RUNDIR_H

#include <jansson.h>
#include <sys/types.h>

#include "core/error.h"
#include "run/plan.h"

/* mkdir -p; returns 0 or -1 with errno set. */
int rundir_mkdirs(const char *path);

/* Takes the run directory's lock (flock on the directory) for as long as *fd is
 * open; ASSAY_EINVAL when another run holds it. */
int rundir_lock(const char *dir, int *fd, struct assay_error *err);

/* devices/<id>/observations for every device of the plan. */
int rundir_prepare(const struct plan *plan, const char *dir, struct assay_error *err);

/* secrets.json: the bench's passwords and keys, kept with the sealed evidence so
 * renderers can mask them (core/sanitize.h). */
int rundir_write_secrets(const struct plan *plan, const char *dir, struct assay_error *err);

/* The test-case ids of the plan in run order (new reference): journalled at the
 * start so a resume can check it runs the same plan. */
json_t *rundir_testcase_ids(const struct plan *plan);

/* A worker's own memory in kB (its share of anonymous memory), or -1. */
long rundir_worker_memory_kb(pid_t pid);

#endif
