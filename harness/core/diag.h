/*
 * diag.h: a list of diagnostics, each naming file:line:column.
 *
 * Input checks (bench file, dossiers, catalogue, profiles) report every
 * problem they find, not just the first, so a lab fixes a file in one pass.
 * Lines and columns are 1-based; 0 means "not known".
 */
#ifndef ASSAY_CORE_DIAG_H
#define ASSAY_CORE_DIAG_H

#include <stddef.h>
#include <stdio.h>

#define DIAG_MAX 200 /* further diagnostics are counted, not kept */
#define DIAG_MSG_MAX 400

struct diag {
    char *file; /* owned */
    int line, column;
    char msg[DIAG_MSG_MAX];
};

struct diag_list {
    struct diag *items; /* owned */
    size_t n, cap;
    size_t dropped; /* diagnostics past DIAG_MAX */
};

void diag_init(struct diag_list *d);
void diag_release(struct diag_list *d);

/* Adds one diagnostic; never fails (on allocation failure it counts as dropped). */
void diag_add(struct diag_list *d, const char *file, int line, int column, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Prints "file:line:column: error: msg" lines to f, in the order they were added. */
void diag_print(const struct diag_list *d, FILE *f);

/* Total count, including dropped ones. */
size_t diag_count(const struct diag_list *d);

#endif
