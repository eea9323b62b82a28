/*
 * text.h: the terminal rendering of a run record (run.json).
 *
 * A header (bench, lab, operator, dates, categories allowed), the verdict
 * matrix (devices by obligation, one letter per cell, a legend below), the
 * counts, and every FAIL, ERROR and non-assessor INCONCLUSIVE with its
 * rationale. Device-supplied text is sanitised (core/sanitize.h) before it is
 * printed. Colour only when `colour` is true (a TTY).
 */
#ifndef ASSAY_REPORT_TEXT_H
#define ASSAY_REPORT_TEXT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

void report_text(const json_t *rec, FILE *out, bool colour);

/* The one-letter code of a verdict cell: P F E N, I (inconclusive), A (assessor item). */
char report_cell_letter(const json_t *cell);

#endif
