/*
 * html_escape.h: the one way untrusted text reaches an HTML or XML report.
 *
 * Every string taken from run.json, a transcript or an observations file may
 * hold device-supplied text. It goes through html_escape_write(): first
 * core/sanitize.h's sanitize_text() (control, bidirectional and tag
 * characters and invalid UTF-8 become visible escapes such as "\x1b" or
 * "<U+202E>"), then the five markup characters & < > " ' become entities, and
 * U+FFFE and U+FFFF (not XML characters) become "<U+FFFE>"/"<U+FFFF>". The
 * output is safe as HTML text, as a double-quoted HTML attribute value, and
 * as XML 1.0 character data or attribute value.
 *
 * Nothing here takes ownership of its arguments; calls block only on the
 * stdio stream.
 */
#ifndef ASSAY_REPORT_HTML_ESCAPE_H
#define ASSAY_REPORT_HTML_ESCAPE_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

/* Default cap on the bytes of one string that reach a report. */
#define HTML_ESCAPE_MAX 4000

/* Writes `len` bytes of `s` (which may hold NUL bytes), sanitised and escaped.
 * At most `max` input bytes are used (0: no limit); a longer input ends with
 * "...". Returns 0, or ASSAY_ENOMEM (nothing written). */
int html_escape_write(FILE *out, const char *s, size_t len, size_t max);

/* The same for a NUL-terminated string (NULL writes nothing), capped at HTML_ESCAPE_MAX. */
int html_escape_put(FILE *out, const char *s);

/* The same for a JSON string value (its full length, NUL bytes included);
 * any other JSON value is written in compact JSON text, escaped. */
int html_escape_json(FILE *out, const json_t *v, size_t max);

/* Multi-line text for a <pre> block: each line (split on LF) is escaped on
 * its own and the LFs kept; every other control character is neutralised.
 * At most `max` bytes in all (0: no limit). */
int html_escape_lines(FILE *out, const char *s, size_t len, size_t max);

#endif
