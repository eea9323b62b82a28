/*
 * report_file.h: write a rendered report into a run directory atomically.
 *
 * The renderer writes to a temporary file in run_dir; it is flushed, fsynced
 * and renamed over run_dir/name only when rendering succeeded, so a reader
 * never sees half a report. Blocks on local file I/O only.
 */
#ifndef ASSAY_REPORT_REPORT_FILE_H
#define ASSAY_REPORT_REPORT_FILE_H

#include <stdio.h>

#include "core/error.h"

/* Renders into out; returns 0 or a negative assay_rc with err set. */
typedef int (*report_render_fn)(void *ctx, FILE *out, struct assay_error *err);

/* Calls render(ctx, tmp, err) and renames the result to run_dir/name.
 * Returns 0, the renderer's code, or ASSAY_EIO with err naming the file. */
int report_file_write(const char *run_dir, const char *name, report_render_fn render, void *ctx,
                      struct assay_error *err);

#endif
