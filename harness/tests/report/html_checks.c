/* html_checks.c: checks of a rendered report.html with libxml2 (see html_checks.h). */
#include "html_checks.h"

#include <ctype.h>
#include <libxml/xpath.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sanitize.h"

htmlDocPtr html_checks_parse(const char *buf, size_t len)
{
    return htmlReadMemory(buf, (int)len, NULL, "UTF-8",
                          HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING);
}

static xmlXPathObjectPtr query(htmlDocPtr doc, const char *xpath)
{
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    xmlXPathObjectPtr r = ctx ? xmlXPathEvalExpression((const xmlChar *)xpath, ctx) : NULL;
    xmlXPathFreeContext(ctx);
    return r;
}

static int count(htmlDocPtr doc, const char *xpath)
{
    xmlXPathObjectPtr r = query(doc, xpath);
    int n = r && r->nodesetval ? r->nodesetval->nodeNr : 0;
    xmlXPathFreeObject(r);
    return n;
}

/* True when a URL starts with a scheme ("http:", "javascript:", "data:"). */
static bool has_scheme(const char *u)
{
    while (*u == ' ' || *u == '\t' || *u == '\n' || *u == '"' || *u == '\'')
        u++;
    if (!isalpha((unsigned char)*u))
        return false;
    while (isalnum((unsigned char)*u) || *u == '+' || *u == '-' || *u == '.')
        u++;
    return *u == ':';
}

/* Every url( in a style text names no scheme. */
static int check_css(const char *css, const char *where)
{
    for (const char *p = css; (p = strstr(p, "url(")) != NULL; p += 4)
        if (has_scheme(p + 4)) {
            fprintf(stderr, "html: url() with a scheme in %s\n", where);
            return -1;
        }
    return 0;
}

int html_checks_no_external(htmlDocPtr doc)
{
    static const char *const loaders[] = {"script", "img",   "link",  "iframe", "object",
                                          "embed",  "video", "audio", "source", "frame",
                                          "base",   "form",  "svg",   "picture"};
    int bad = 0;
    for (size_t i = 0; i < sizeof(loaders) / sizeof(loaders[0]); i++) {
        char xp[64];
        snprintf(xp, sizeof(xp), "//%s", loaders[i]);
        if (count(doc, xp)) {
            fprintf(stderr, "html: %d <%s> element(s)\n", count(doc, xp), loaders[i]);
            bad = -1;
        }
    }
    if (count(doc, "//@*[starts-with(translate(name(),'ON','on'),'on')]")) {
        fprintf(stderr, "html: event-handler attribute present\n");
        bad = -1;
    }
    xmlXPathObjectPtr r = query(doc, "//@src|//@href|//@action|//@formaction|//@poster|"
                                     "//@background|//@style|//style");
    for (int i = 0; r && r->nodesetval && i < r->nodesetval->nodeNr; i++) {
        xmlNodePtr n = r->nodesetval->nodeTab[i];
        xmlChar *v = xmlNodeGetContent(n);
        const char *name = (const char *)n->name;
        if (v && (!strcmp(name, "style") ? check_css((const char *)v, name) != 0
                                         : has_scheme((const char *)v))) {
            fprintf(stderr, "html: %s=\"%.80s\" names a URL scheme\n", name, (const char *)v);
            bad = -1;
        }
        xmlFree(v);
    }
    xmlXPathFreeObject(r);
    return bad;
}

int html_checks_csp(htmlDocPtr doc)
{
    xmlXPathObjectPtr r = query(doc, "//head/meta[translate(@http-equiv,"
                                     "'CONTENT-SECURITYPOLICY','content-securitypolicy')="
                                     "'content-security-policy']/@content");
    int ok = 0;
    if (r && r->nodesetval && r->nodesetval->nodeNr == 1) {
        xmlChar *v = xmlNodeGetContent(r->nodesetval->nodeTab[0]);
        ok = v && strstr((const char *)v, "default-src 'none'") &&
             !strstr((const char *)v, "script-src");
        xmlFree(v);
    }
    xmlXPathFreeObject(r);
    if (!ok)
        fprintf(stderr, "html: no Content-Security-Policy with default-src 'none'\n");
    return ok ? 0 : -1;
}

static const char *member(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

static xmlChar *attr(xmlNodePtr n, const char *name)
{
    return xmlGetProp(n, (const xmlChar *)name);
}

/* The cell of (device, obligation) as the page holds it; -1 unless exactly one. */
static int check_cell(htmlDocPtr doc, xmlXPathObjectPtr cells, const char *dev, const char *obl,
                      const char *verdict)
{
    int found = 0, bad = 0;
    for (int i = 0; cells->nodesetval && i < cells->nodesetval->nodeNr; i++) {
        xmlNodePtr td = cells->nodesetval->nodeTab[i];
        xmlChar *d = attr(td, "data-device"), *o = attr(td, "data-obligation");
        bool mine = d && o && !strcmp((char *)d, dev) && !strcmp((char *)o, obl);
        xmlFree(d);
        xmlFree(o);
        if (!mine)
            continue;
        found++;
        xmlChar *v = attr(td, "data-verdict"), *text = xmlNodeGetContent(td);
        char words[32];
        snprintf(words, sizeof(words), "%s", verdict);
        for (char *p = words; *p; p++)
            *p = *p == '_' ? ' ' : *p;
        if (!v || strcmp((char *)v, verdict) || !text || !strstr((char *)text, words)) {
            fprintf(stderr, "html: cell %s/%s: data-verdict %s, text '%s', want %s\n", dev, obl,
                    v ? (char *)v : "-", text ? (char *)text : "-", verdict);
            bad = -1;
        }
        xmlFree(v);
        xmlFree(text);
        xmlNodePtr a = td->children;
        while (a && (a->type != XML_ELEMENT_NODE || strcmp((const char *)a->name, "a")))
            a = a->next;
        xmlChar *href = a ? attr(a, "href") : NULL;
        char xp[128];
        snprintf(xp, sizeof(xp), "//*[@id='%s']", href && href[0] == '#' ? (char *)href + 1 : "");
        if (!href || href[0] != '#' || count(doc, xp) != 1) {
            fprintf(stderr, "html: cell %s/%s links to '%s', not an element of the page\n", dev,
                    obl, href ? (char *)href : "");
            bad = -1;
        }
        xmlFree(href);
    }
    if (found != 1) {
        fprintf(stderr, "html: %d cells for %s/%s\n", found, dev, obl);
        return -1;
    }
    return bad;
}

int html_checks_matrix(htmlDocPtr doc, const json_t *rec)
{
    xmlXPathObjectPtr cells = query(doc, "//table[contains(@class,'matrix')]/tbody/tr/td");
    const json_t *obls = json_object_get(rec, "obligations");
    int bad = 0, want = 0;
    size_t i, k;
    json_t *d, *o;
    json_array_foreach(json_object_get(rec, "devices"), i, d)
    {
        const char *raw = member(d, "id");
        char *dev = sanitize_text(raw, strlen(raw), 0);
        json_array_foreach(obls, k, o)
        {
            const char *verdict = "";
            size_t m;
            json_t *cell;
            json_array_foreach(json_object_get(d, "obligations"), m,
                               cell) if (!strcmp(member(cell, "id"), json_string_value(o)))
                verdict = member(cell, "verdict");
            want++;
            if (check_cell(doc, cells, dev, json_string_value(o), verdict))
                bad = -1;
        }
        free(dev);
    }
    int have = cells && cells->nodesetval ? cells->nodesetval->nodeNr : 0;
    xmlXPathFreeObject(cells);
    if (have != want || want == 0) {
        fprintf(stderr, "html: %d matrix cells, want %d\n", have, want);
        return -1;
    }
    if (count(doc, "//table[contains(@class,'matrix')]/thead//th[@scope='col']") !=
            (int)json_array_size(obls) + 1 ||
        count(doc, "//table[contains(@class,'matrix')]/tbody//th[@scope='row']") !=
            (int)json_array_size(json_object_get(rec, "devices"))) {
        fprintf(stderr, "html: matrix headers without scope\n");
        return -1;
    }
    return bad;
}

static bool contains(const char *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (!memcmp(hay + i, needle, n))
            return true;
    return false;
}

int html_checks_inert(htmlDocPtr doc, const char *raw, size_t len)
{
    static const char *const forbidden[] = {
        "\x1b",         "\xc2\x9b",         "\xe2\x80\xae", "\xe2\x80\xac", "\xe2\x81\xa6",
        "\xe2\x81\xa9", "\xf3\xa0\x81\x81", "\xef\xbf\xbf", "\x07"};
    for (size_t i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++)
        if (contains(raw, len, forbidden[i])) {
            fprintf(stderr, "html: raw control/bidi/tag character #%zu in the page\n", i);
            return -1;
        }
    xmlChar *text = xmlNodeGetContent(xmlDocGetRootElement(doc));
    bool shown = text && strstr((char *)text, "\\x1b") && strstr((char *)text, "<U+202E>") &&
                 strstr((char *)text, "<script>") && strstr((char *)text, "<U+E0041>");
    xmlFree(text);
    if (!shown) {
        fprintf(stderr, "html: the neutralised device text is not visible as text\n");
        return -1;
    }
    if (count(doc, "//title[contains(., 'pwned')]")) {
        fprintf(stderr, "html: the title was changed\n");
        return -1;
    }
    return 0;
}
