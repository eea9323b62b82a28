/*
 * junit.h: junit.xml, a run record in the JUnit XML form CI servers read
 * (Jenkins' junit step, GitLab's artifacts:reports:junit).
 *
 * One <testsuite> per device (name = device id, properties = its identity
 * and the run's provenance), one <testcase> per test case run on it (name =
 * test-case id, classname = device id, time = its duration). FAIL is a
 * <failure>, ERROR an <error>, NOT_APPLICABLE and INCONCLUSIVE a <skipped>
 * whose message gives the verdict and the reason; PASS has no child but its
 * rationale in <system-out>. All text is sanitised and XML-escaped
 * (html_escape.h), so the file holds no character XML 1.0 forbids.
 *
 * Ownership: nothing passed in is kept or freed. Blocks on local file I/O only.
 */
#ifndef ASSAY_REPORT_JUNIT_H
#define ASSAY_REPORT_JUNIT_H

#include <jansson.h>
#include <stdio.h>

#include "core/error.h"

/* Writes the JUnit XML of `rec` to `out`. Returns 0, ASSAY_ENOMEM or ASSAY_EIO. */
int report_junit(const json_t *rec, FILE *out, struct assay_error *err);

/* Writes run_dir/junit.xml atomically. Returns 0 or a negative assay_rc. */
int report_junit_write(const json_t *rec, const char *run_dir, struct assay_error *err);

#endif
