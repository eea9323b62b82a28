/*
 * html_checks.h: checks of a rendered report.html, shared by the static test
 * (test_report_html.c, the file as written) and the browser test
 * (test_report_dom.c, the DOM chromium built from it). Both parse with
 * libxml2's HTML parser. Every check returns 0 when it holds, or prints what
 * is wrong to stderr and returns -1.
 */
#ifndef ASSAY_TESTS_HTML_CHECKS_H
#define ASSAY_TESTS_HTML_CHECKS_H

#include <jansson.h>
#include <libxml/HTMLparser.h>
#include <stddef.h>

/* Parses HTML text (UTF-8, no network); free with xmlFreeDoc. */
htmlDocPtr html_checks_parse(const char *buf, size_t len);

/* Self-contained: no element that loads anything (script, img, link, iframe,
 * object, embed, ...), no on* attribute, no src/href/action value and no
 * url() in a style with a URL scheme. */
int html_checks_no_external(htmlDocPtr doc);

/* A Content-Security-Policy meta element with default-src 'none'. */
int html_checks_csp(htmlDocPtr doc);

/* The matrix has exactly one cell per device and obligation of `rec`, with
 * the record's verdict in data-verdict and its words in the text, linking
 * to an element of the document. */
int html_checks_matrix(htmlDocPtr doc, const json_t *rec);

/* Device text is inert: no ESC, C1, bidirectional or tag character in the
 * raw text, and their visible escapes ("\x1b", "<U+202E>") in the page's text. */
int html_checks_inert(htmlDocPtr doc, const char *raw, size_t len);

#endif
