/*
 * verdict.h: the verdict set and the roll-up rules (DESIGN.md, Verdicts).
 *
 * PASS and FAIL are TS 103 701's. NOT_APPLICABLE needs a reason. INCONCLUSIVE
 * names what must be resolved; `resolve = assessor` marks the items a person
 * must decide. ERROR is the harness's or a profile's failure, never the device's.
 */
#ifndef ASSAY_CORE_VERDICT_H
#define ASSAY_CORE_VERDICT_H

#include <stdbool.h>
#include <stddef.h>

enum verdict {
    VERDICT_NONE = 0, /* not yet decided; never written to a report */
    VERDICT_PASS,
    VERDICT_FAIL,
    VERDICT_INCONCLUSIVE,
    VERDICT_NOT_APPLICABLE,
    VERDICT_ERROR
};

enum resolve {
    RESOLVE_NONE = 0, /* nothing left for a person */
    RESOLVE_ASSESSOR  /* a person must decide (manual provision, heuristic finding) */
};

/* "PASS", "FAIL", "INCONCLUSIVE", "NOT_APPLICABLE", "ERROR" ("NONE" for VERDICT_NONE). */
const char *verdict_name(enum verdict v);

/* Parses a name as verdict_name prints it; returns VERDICT_NONE if unknown. */
enum verdict verdict_parse(const char *name);

/* "assessor" or NULL. */
const char *resolve_name(enum resolve r);

/* One test case's contribution to an obligation, for the roll-up. */
struct verdict_item {
    enum verdict verdict;
    enum resolve resolve;
};

/*
 * Roll-up of the test cases that evidence one obligation on one device:
 * FAIL if any failed; else ERROR if any errored; else INCONCLUSIVE if any
 * (resolve = assessor only when every inconclusive item is an assessor item);
 * else PASS if any passed; else NOT_APPLICABLE if all are; with n == 0,
 * INCONCLUSIVE with resolve = assessor (no test case evidences it).
 */
struct verdict_item verdict_rollup(const struct verdict_item *items, size_t n);

/*
 * Process exit code for a run (README, "Exit codes"): 1 if any FAIL; else 3 if
 * any ERROR or any INCONCLUSIVE that is not an assessor item; else 0.
 */
int verdict_exit_code(const struct verdict_item *items, size_t n);

#define ASSAY_EXIT_OK 0
#define ASSAY_EXIT_FAIL 1
#define ASSAY_EXIT_USAGE 2
#define ASSAY_EXIT_UNDECIDED 3
#define ASSAY_EXIT_INTERRUPTED 4

#endif
