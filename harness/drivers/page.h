/*
 * page.h: the visible text of a published HTML page, as sentences, with its links.
 *
 * A documentary verdict must quote the sentence it relied on, so a page is
 * reduced to what a reader sees: libxml2's HTML parser (recovering, no network,
 * no entity loading) builds the tree; script, style, template, noscript and
 * head content other than <title> are dropped; text is whitespace-collapsed;
 * block elements and <br> end a sentence, and so do '.', '!' and '?' followed
 * by a space. Links keep their href and visible text (mailto: included).
 *
 * Bounds (the input is the manufacturer's, untrusted): at most PAGE_MAX_INPUT
 * bytes are parsed, PAGE_MAX_SENTENCES sentences of at most PAGE_MAX_SENTENCE
 * bytes each (longer ones are cut, and `truncated` is set), PAGE_MAX_LINKS
 * links. The tree is walked without recursion.
 *
 * Ownership: page_parse() fills a caller-owned struct page whose strings are
 * heap copies owned by it; page_release() frees them. Pure: no I/O, no clock.
 */
#ifndef ASSAY_DRIVERS_PAGE_H
#define ASSAY_DRIVERS_PAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

#define PAGE_MAX_INPUT (4u * 1024u * 1024u)
#define PAGE_MAX_SENTENCES 2000
#define PAGE_MAX_SENTENCE 2000
#define PAGE_MAX_LINKS 500

struct page_link {
    char *href; /* as written in the page (not resolved) */
    char *text; /* visible text of the anchor, collapsed */
};

struct page {
    char *title; /* "" when absent */
    char *lang;  /* the <html lang> attribute, "" when absent */
    char **sentences;
    size_t nsentences;
    struct page_link *links;
    size_t nlinks;
    bool truncated; /* a bound was reached: input, sentence count or length, links */
};

/*
 * Parses `len` bytes of HTML (any encoding libxml2 detects; UTF-8 assumed
 * otherwise). Returns 0, ASSAY_EINVAL (the parser produced no document) or
 * ASSAY_ENOMEM. On failure p holds nothing to free, but page_release() is safe.
 */
int page_parse(struct page *p, const char *buf, size_t len, struct assay_error *err);

void page_release(struct page *p);

#endif
