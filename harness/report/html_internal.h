/*
 * html_internal.h: what the parts of the HTML renderer share (html.c, the
 * document and matrix; html_device.c, a device's section; html_evidence.c,
 * a test case's evidence). Not a public interface.
 */
#ifndef ASSAY_REPORT_HTML_INTERNAL_H
#define ASSAY_REPORT_HTML_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "core/catalogue.h"

struct html_ctx {
    FILE *out;
    const json_t *rec;
    const char *run_dir;         /* borrowed, may be NULL */
    const struct catalogue *cat; /* borrowed, may be NULL */
    int rc;                      /* first error (sticky), 0 when none */
};

/* A string member of o, or "" when absent or not a string. */
const char *html_str(const json_t *o, const char *k);

/* Escaped untrusted text (html_escape.h); an error is kept in c->rc. */
void html_text(struct html_ctx *c, const char *s);
void html_json(struct html_ctx *c, const json_t *v, size_t max);

/* The CSS class suffix, the words and the symbol of a verdict cell or test
 * case ({verdict, resolve?}): e.g. "FAIL", "FAIL", "\u2717". */
const char *html_verdict_class(const json_t *cell);
void html_verdict_badge(struct html_ctx *c, const json_t *cell);

/* The catalogue title of an obligation, or NULL. */
const char *html_obligation_title(const struct html_ctx *c, const char *id);

/* True when p is a relative path made only of [A-Za-z0-9._-/] with no ".."
 * component: safe to use as an href and to open under run_dir. */
bool html_safe_relpath(const char *p);

/* Device section (html_device.c); `n` counts from 1 and names the anchors. */
void html_device(struct html_ctx *c, size_t n, const json_t *dev);

/* A test case's observations and evidence (html_evidence.c). `transcript`
 * is the device's transcript entries (an array, may be NULL) and `capture`
 * the capture file's path relative to run_dir, or NULL when there is none. */
void html_observations(struct html_ctx *c, const json_t *tc);
void html_transcript(struct html_ctx *c, const json_t *tc, const json_t *transcript);
void html_capture(struct html_ctx *c, const json_t *tc, const char *capture);

/* Reads devices/<id>/transcript.jsonl under run_dir: an array of entries
 * (new reference), or NULL when there is none or it is unreadable. */
json_t *html_transcript_load(const struct html_ctx *c, const char *device_id);

#endif
