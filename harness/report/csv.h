/*
 * csv.h: verdicts.csv, one row per device, obligation and test case.
 *
 * RFC 4180: comma-separated, CRLF line ends, a header row, fields quoted
 * with "" when they hold a comma, a quote, CR or LF, quotes doubled. Text is
 * sanitised first (core/sanitize.h), and a field starting with = + - or @
 * gets a leading apostrophe so a spreadsheet shows it instead of evaluating
 * it. An obligation no test case evidences has one row with the test-case
 * columns empty.
 *
 * Columns: run, device, model, serial, obligation, obligation_title,
 * obligation_verdict, obligation_resolve, testcase, testcase_title,
 * testcase_verdict, testcase_resolve, category, scope, rationale, observations.
 *
 * Ownership: nothing passed in is kept or freed. Blocks on local file I/O only.
 */
#ifndef ASSAY_REPORT_CSV_H
#define ASSAY_REPORT_CSV_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "core/catalogue.h"
#include "core/error.h"

/* Writes one field (not its separator): sanitised, neutralised, quoted as
 * needed. `len` bytes of s are used (s may hold NUL bytes). Returns 0 or
 * ASSAY_ENOMEM. */
int csv_field(FILE *out, const char *s, size_t len);

/* Writes the CSV of `rec` to out; `cat` (may be NULL) gives obligation
 * titles. Returns 0, ASSAY_ENOMEM or ASSAY_EIO. */
int report_csv(const json_t *rec, const struct catalogue *cat, FILE *out, struct assay_error *err);

/* Writes run_dir/verdicts.csv atomically. Returns 0 or a negative assay_rc. */
int report_csv_write(const json_t *rec, const char *run_dir, const struct catalogue *cat,
                     struct assay_error *err);

#endif
