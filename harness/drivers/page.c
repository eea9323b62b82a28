/*
 * page.c: HTML to visible sentences and links with libxml2 (page.h).
 */
#include "page.h"

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

/* The sentence being built. */
struct acc {
    struct page *p;
    char buf[PAGE_MAX_SENTENCE + 1];
    size_t len;
    bool space; /* a space is pending before the next word */
    int oom;
};

static char *dup_str(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d)
        memcpy(d, s, n + 1);
    return d;
}

static void flush(struct acc *a)
{
    while (a->len > 0 && a->buf[a->len - 1] == ' ')
        a->len--;
    if (a->len == 0)
        return;
    a->buf[a->len] = '\0';
    a->len = 0;
    a->space = false;
    struct page *p = a->p;
    if (p->nsentences >= PAGE_MAX_SENTENCES) {
        p->truncated = true;
        return;
    }
    char *s = dup_str(a->buf);
    if (!s) {
        a->oom = 1;
        return;
    }
    p->sentences[p->nsentences++] = s;
}

static void add_char(struct acc *a, char c)
{
    if (a->len >= PAGE_MAX_SENTENCE) {
        a->p->truncated = true;
        return;
    }
    a->buf[a->len++] = c;
}

/* Appends text, collapsing whitespace and ending sentences at ". ", "! ", "? ". */
static void add_text(struct acc *a, const char *t)
{
    for (const char *c = t; *c; c++) {
        unsigned char u = (unsigned char)*c;
        if (u == ' ' || u == '\t' || u == '\n' || u == '\r' || u == '\f' || u == '\v') {
            if (a->len > 0)
                a->space = true;
            char prev = a->len > 0 ? a->buf[a->len - 1] : 0;
            if (prev == '.' || prev == '!' || prev == '?')
                flush(a);
            continue;
        }
        if (a->space) {
            add_char(a, ' ');
            a->space = false;
        }
        add_char(a, (char)u);
    }
}

static bool is_name(const xmlNode *n, const char *const *names)
{
    for (; *names; names++) {
        if (xmlStrcasecmp(n->name, (const xmlChar *)*names) == 0)
            return true;
    }
    return false;
}

static const char *const hidden[] = {"script", "style", "template", "noscript", "head", NULL};
static const char *const blocks[] = {
    "p",      "div",    "br",  "li",      "ul",         "ol",         "h1",    "h2",      "h3",
    "h4",     "h5",     "h6",  "tr",      "td",         "th",         "table", "section", "article",
    "header", "footer", "nav", "main",    "aside",      "blockquote", "pre",   "dd",      "dt",
    "dl",     "form",   "hr",  "address", "figcaption", "title",      "body",  NULL};

static char *node_text(xmlNode *n)
{
    xmlChar *c = xmlNodeGetContent(n);
    if (!c)
        return dup_str("");
    /* Collapse whitespace. */
    char *out = malloc(strlen((const char *)c) + 1);
    size_t k = 0;
    int sp = 0;
    for (const xmlChar *q = c; out && *q; q++) {
        if (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r') {
            sp = k > 0;
            continue;
        }
        if (sp)
            out[k++] = ' ';
        sp = 0;
        out[k++] = (char)*q;
    }
    if (out)
        out[k] = '\0';
    xmlFree(c);
    return out;
}

static void add_link(struct page *p, xmlNode *n, int *oom)
{
    xmlChar *href = xmlGetProp(n, (const xmlChar *)"href");
    if (!href)
        return;
    if (p->nlinks >= PAGE_MAX_LINKS) {
        p->truncated = true;
        xmlFree(href);
        return;
    }
    struct page_link *l = &p->links[p->nlinks];
    l->href = dup_str((const char *)href);
    l->text = node_text(n);
    xmlFree(href);
    if (!l->href || !l->text) {
        free(l->href);
        free(l->text);
        *oom = 1;
        return;
    }
    p->nlinks++;
}

/* Visits one element on the way down; returns true to descend into it. */
static bool enter(struct acc *a, xmlNode *n)
{
    if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
        if (n->content)
            add_text(a, (const char *)n->content);
        return false;
    }
    if (n->type != XML_ELEMENT_NODE)
        return false;
    if (xmlStrcasecmp(n->name, (const xmlChar *)"title") == 0 && a->p->title[0] == '\0') {
        char *t = node_text(n);
        if (t) {
            free(a->p->title);
            a->p->title = t;
        }
    }
    if (is_name(n, hidden))
        return false;
    if (is_name(n, blocks))
        flush(a);
    if (xmlStrcasecmp(n->name, (const xmlChar *)"a") == 0)
        add_link(a->p, n, &a->oom);
    return n->children != NULL;
}

static void walk(struct acc *a, xmlNode *root)
{
    xmlNode *n = root;
    while (n && !a->oom) {
        if (enter(a, n)) {
            n = n->children;
            continue;
        }
        while (n && n != root && !n->next) {
            n = n->parent;
            if (n && n->type == XML_ELEMENT_NODE && is_name(n, blocks))
                flush(a);
        }
        if (!n || n == root)
            break;
        n = n->next;
    }
    flush(a);
}

static void find_meta(struct page *p, xmlNode *root)
{
    xmlChar *lang = xmlGetProp(root, (const xmlChar *)"lang");
    if (lang) {
        free(p->lang);
        p->lang = dup_str((const char *)lang);
        xmlFree(lang);
    }
    /* The <title> is inside <head>, which the walk skips. */
    for (xmlNode *h = root->children; h; h = h->next) {
        if (h->type != XML_ELEMENT_NODE || xmlStrcasecmp(h->name, (const xmlChar *)"head"))
            continue;
        for (xmlNode *t = h->children; t; t = t->next) {
            if (t->type == XML_ELEMENT_NODE && !xmlStrcasecmp(t->name, (const xmlChar *)"title")) {
                free(p->title);
                p->title = node_text(t);
                return;
            }
        }
    }
}

int page_parse(struct page *p, const char *buf, size_t len, struct assay_error *err)
{
    memset(p, 0, sizeof(*p));
    if (len > PAGE_MAX_INPUT) {
        len = PAGE_MAX_INPUT;
        p->truncated = true;
    }
    bool truncated = p->truncated;
    htmlDocPtr doc = htmlReadMemory(len ? buf : "", (int)len, NULL, NULL,
                                    HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                                        HTML_PARSE_NONET);
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (!root) {
        if (doc)
            xmlFreeDoc(doc);
        return assay_fail(err, ASSAY_EINVAL, "page: no HTML document in %zu bytes", len);
    }
    p->truncated = truncated;
    p->title = dup_str("");
    p->lang = dup_str("");
    p->sentences = calloc(PAGE_MAX_SENTENCES, sizeof(*p->sentences));
    p->links = calloc(PAGE_MAX_LINKS, sizeof(*p->links));
    struct acc *a = calloc(1, sizeof(*a));
    int rc = 0;
    if (!p->title || !p->lang || !p->sentences || !p->links || !a) {
        rc = assay_fail(err, ASSAY_ENOMEM, "page: out of memory");
    } else {
        a->p = p;
        find_meta(p, root);
        walk(a, root);
        if (a->oom || !p->title)
            rc = assay_fail(err, ASSAY_ENOMEM, "page: out of memory");
    }
    free(a);
    xmlFreeDoc(doc);
    if (rc)
        page_release(p);
    return rc;
}

void page_release(struct page *p)
{
    for (size_t i = 0; p->sentences && i < p->nsentences; i++)
        free(p->sentences[i]);
    for (size_t i = 0; p->links && i < p->nlinks; i++) {
        free(p->links[i].href);
        free(p->links[i].text);
    }
    free(p->sentences);
    free(p->links);
    free(p->title);
    free(p->lang);
    memset(p, 0, sizeof(*p));
}
