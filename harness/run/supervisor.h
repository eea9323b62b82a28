/*
 * supervisor.h: the supervisor's state, shared by run.c (workers, deadlines,
 * journal, record) and progress.c (what the run says while it goes). Private to
 * harness/run; the public entry point is run.h.
 */
#ifndef ASSAY_RUN_SUPERVISOR_H
#define ASSAY_RUN_SUPERVISOR_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "core/clock.h"
#include "core/journal.h"
#include "run/plan.h"
#include "run/run.h"

/* One device's worker, restarted for the remaining test cases after a crash or a kill. */
struct job {
    size_t device;
    size_t next;  /* first test case not yet finished */
    long current; /* test case running, -1 if none */
    pid_t pid;
    int fd;
    char *buf;
    size_t len;
    assay_ms device_deadline, tc_deadline;
    assay_ms started_ms, finished_ms; /* wall time spent on the device */
    int restarts;
    bool running, done;
};

struct supervisor {
    const struct plan *plan;
    const struct run_options *o;
    struct run_result *out;
    struct journal journal;
    json_t *rec;
    size_t ntc;
    unsigned allowed;
    json_t *model_obs; /* {tc index: [{device, observations}]} */
    size_t finished_devices;
    size_t tc_done, failures; /* for the progress line */
    assay_ms t0;
    bool tty;         /* progress as one line rewritten in place */
    json_t *swapped;  /* {device id: {testcase, before, after}}: another unit answered */
    long abort_after; /* ASSAY_TEST_ABORT_AFTER, 0 = never */
    long lines;       /* journal lines written by this process */
};

/* The TTY progress line: devices and test cases done, failures, elapsed, time left. */
void supervisor_progress_line(struct supervisor *s);

/* A device is done: a line of its own when not on a TTY. */
void supervisor_progress(struct supervisor *s, struct job *j);

/* The slowest devices, at the end of the run (longest first, at most three). */
void supervisor_slowest(struct supervisor *s, struct job *jobs, size_t n);

/* The device a job runs. */
const struct device *supervisor_device(const struct supervisor *s, const struct job *j);

#endif
