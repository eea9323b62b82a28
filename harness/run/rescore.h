/*
 * rescore.h: re-judging a run's recorded observations, and recording an
 * assessor's review, each as a new run that names the one it came from.
 *
 * rescore: every test case of the plan is judged again from the observations
 * stored in SOURCE (with the plan's dossiers, which may be corrected ones, and
 * its profiles, which may be newer), applicability is decided again (an ICS
 * entry may have changed), and nothing is sent to any device. Observations
 * and transcripts are copied into the new run, so it is self-contained.
 *
 * review: an assessor's decision on an INCONCLUSIVE cell (device x
 * obligation), with the person and the reason, applied on top of the source
 * run's record. Both block only on local files (and on judges, bounded by
 * their limits).
 */
#ifndef ASSAY_RUN_RESCORE_H
#define ASSAY_RUN_RESCORE_H

#include "run/plan.h"
#include "run/run.h"

int rescore_execute(const struct plan *plan, const char *source_dir, const char *out_dir,
                    struct run_result *out, struct assay_error *err);

struct review_decision {
    const char *device, *obligation, *verdict; /* borrowed */
};

int review_execute(const char *source_dir, const struct review_decision *d, size_t n,
                   const char *by, const char *reason, const char *out_dir,
                   const struct catalogue *cat, struct run_result *out, struct assay_error *err);

/* Copies a directory tree (regular files and folders only). */
int run_copy_tree(const char *src, const char *dst, struct assay_error *err);

#endif
