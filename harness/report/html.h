/*
 * html.h: report.html, the self-contained HTML rendering of a run record.
 *
 * One file, no external scripts, styles, fonts or images, a
 * Content-Security-Policy of default-src 'none' with inline styles allowed;
 * it works opened from disk and prints on A4 with a page break per device.
 * It holds the provenance header and verdict counts, the verdict matrix
 * (device by obligation, a verdict word in every cell, each cell linking to
 * its details), and per device its identity, dossier summary, the items the
 * assessor must still decide and, per obligation, every test case with its
 * verdict, rationale, key observations and evidence (transcript excerpt,
 * observations file, capture file and the time window of its packets).
 *
 * Everything taken from the record or the evidence files goes through
 * html_escape.h (sanitised, then escaped). Obligation titles come from the
 * catalogue when one is given.
 *
 * Ownership: nothing passed in is kept or freed. Calls block on local file
 * I/O only (reading evidence under run_dir, writing the report).
 */
#ifndef ASSAY_REPORT_HTML_H
#define ASSAY_REPORT_HTML_H

#include <jansson.h>
#include <stdio.h>

#include "core/catalogue.h"
#include "core/error.h"

/* Renders the report of `rec` to `out`. Evidence files are read from
 * `run_dir` (NULL: the report shows no evidence beyond the record). `cat`
 * may be NULL (no obligation titles). Returns 0, ASSAY_ENOMEM or ASSAY_EIO
 * (writing `out` failed), with a message in err. */
int report_html(const json_t *rec, const char *run_dir, const struct catalogue *cat, FILE *out,
                struct assay_error *err);

/* Writes run_dir/report.html atomically (a temporary file, fsync, rename).
 * Returns 0 or a negative assay_rc with a message in err. */
int report_html_write(const json_t *rec, const char *run_dir, const struct catalogue *cat,
                      struct assay_error *err);

#endif
