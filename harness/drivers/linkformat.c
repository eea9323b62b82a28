/* linkformat.c: bounded RFC 6690 link-format parser for untrusted input (see linkformat.h). */
#include "linkformat.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
    const uint8_t *buf;
    size_t len, pos;
    struct linkformat_limits lim;
    char *pool; /* 2 * len + 2 bytes: every string is at most its source span plus a NUL */
    size_t pool_used;
    struct linkformat_link *links;
    size_t *attr_start; /* per link: index of its first attribute in attrs */
    size_t nlinks, cap_links;
    struct linkformat_attr *attrs;
    size_t nattrs, cap_attrs;
    size_t *err_offset;
    struct assay_error *err;
};

static int fail_at(struct parser *p, int code, size_t offset, const char *what)
{
    if (p->err_offset)
        *p->err_offset = offset;
    return assay_fail(p->err, code, "link-format: offset %zu: %s", offset, what);
}

static bool is_ows(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void skip_ows(struct parser *p)
{
    while (p->pos < p->len && is_ows(p->buf[p->pos]))
        p->pos++;
}

static bool is_name_char(uint8_t c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != 0 && strchr("!#$&'*+-.^_`|~", c) != NULL;
}

static bool is_ptoken_char(uint8_t c)
{
    return c > 0x20 && c < 0x7f && c != '"' && c != ',' && c != ';' && c != '\\';
}

static bool is_target_char(uint8_t c)
{
    return c > 0x20 && c < 0x7f && c != '<' && c != '>';
}

static char *pool_take(struct parser *p)
{
    return p->pool + p->pool_used;
}

static void pool_put(struct parser *p, uint8_t c)
{
    p->pool[p->pool_used++] = (char)c;
}

static size_t next_cap(size_t cap, size_t need)
{
    size_t ncap = cap ? cap * 2 : 8;
    return ncap < need ? need : ncap;
}

static int grow_links(struct parser *p)
{
    size_t ncap;
    void *a;
    if (p->nlinks < p->cap_links)
        return 0;
    ncap = next_cap(p->cap_links, p->nlinks + 1);
    a = realloc(p->links, ncap * sizeof *p->links);
    if (!a)
        return -1;
    p->links = a;
    a = realloc(p->attr_start, ncap * sizeof *p->attr_start);
    if (!a)
        return -1;
    p->attr_start = a;
    p->cap_links = ncap;
    return 0;
}

static int grow_attrs(struct parser *p)
{
    size_t ncap;
    void *a;
    if (p->nattrs < p->cap_attrs)
        return 0;
    ncap = next_cap(p->cap_attrs, p->nattrs + 1);
    a = realloc(p->attrs, ncap * sizeof *p->attrs);
    if (!a)
        return -1;
    p->attrs = a;
    p->cap_attrs = ncap;
    return 0;
}

static int parse_target(struct parser *p, const char **out)
{
    size_t open = p->pos, n = 0;
    char *s;
    if (p->pos >= p->len)
        return fail_at(p, ASSAY_EINVAL, p->pos, "expected '<' to start a link");
    if (p->buf[p->pos] != '<')
        return fail_at(p, ASSAY_EINVAL, p->pos, "expected '<' to start a link");
    p->pos++;
    s = pool_take(p);
    while (p->pos < p->len && p->buf[p->pos] != '>') {
        uint8_t c = p->buf[p->pos];
        if (!is_target_char(c))
            return fail_at(p, ASSAY_EINVAL, p->pos, "invalid byte in link target");
        if (++n > p->lim.max_target_len)
            return fail_at(p, ASSAY_ENOMEM, p->pos, "link target too long");
        pool_put(p, c);
        p->pos++;
    }
    if (p->pos >= p->len)
        return fail_at(p, ASSAY_EINVAL, open, "unterminated link target (no '>')");
    p->pos++; /* '>' */
    pool_put(p, 0);
    *out = s;
    return 0;
}

static int parse_quoted(struct parser *p, const char **out)
{
    size_t open = p->pos, n = 0;
    char *s = pool_take(p);
    p->pos++; /* opening quote */
    for (;;) {
        uint8_t c;
        if (p->pos >= p->len)
            return fail_at(p, ASSAY_EINVAL, open, "unterminated quoted string");
        c = p->buf[p->pos];
        if (c == '"')
            break;
        if (c == '\\') {
            if (p->pos + 1 >= p->len)
                return fail_at(p, ASSAY_EINVAL, open, "unterminated quoted string");
            p->pos++;
            c = p->buf[p->pos];
            if (c != '\t' && (c < 0x20 || c == 0x7f))
                return fail_at(p, ASSAY_EINVAL, p->pos, "invalid escaped byte in quoted string");
        } else if (c != '\t' && (c < 0x20 || c == 0x7f)) {
            return fail_at(p, ASSAY_EINVAL, p->pos, "control byte in quoted string");
        }
        if (++n > p->lim.max_value_len)
            return fail_at(p, ASSAY_ENOMEM, p->pos, "attribute value too long");
        pool_put(p, c);
        p->pos++;
    }
    p->pos++; /* closing quote */
    pool_put(p, 0);
    *out = s;
    return 0;
}

static int parse_ptoken(struct parser *p, const char **out)
{
    size_t n = 0;
    char *s = pool_take(p);
    while (p->pos < p->len && is_ptoken_char(p->buf[p->pos])) {
        if (++n > p->lim.max_value_len)
            return fail_at(p, ASSAY_ENOMEM, p->pos, "attribute value too long");
        pool_put(p, p->buf[p->pos]);
        p->pos++;
    }
    if (n == 0)
        return fail_at(p, ASSAY_EINVAL, p->pos, "expected an attribute value after '='");
    pool_put(p, 0);
    *out = s;
    return 0;
}

/* One attribute after its ';' (and any whitespace) has been consumed. */
static int parse_attr(struct parser *p, struct linkformat_attr *a)
{
    size_t n = 0;
    char *s = pool_take(p);
    while (p->pos < p->len && is_name_char(p->buf[p->pos])) {
        if (++n > p->lim.max_name_len)
            return fail_at(p, ASSAY_ENOMEM, p->pos, "attribute name too long");
        pool_put(p, p->buf[p->pos]);
        p->pos++;
    }
    if (n == 0)
        return fail_at(p, ASSAY_EINVAL, p->pos, "expected an attribute name");
    pool_put(p, 0);
    a->name = s;
    a->value = NULL;
    a->quoted = false;
    if (p->pos >= p->len || p->buf[p->pos] != '=')
        return 0;
    p->pos++;
    if (p->pos < p->len && p->buf[p->pos] == '"') {
        a->quoted = true;
        return parse_quoted(p, &a->value);
    }
    return parse_ptoken(p, &a->value);
}

static int add_link(struct parser *p, const char *target)
{
    if (grow_links(p))
        return fail_at(p, ASSAY_ENOMEM, p->pos, "out of memory");
    p->links[p->nlinks] = (struct linkformat_link){.target = target};
    p->attr_start[p->nlinks] = p->nattrs;
    p->nlinks++;
    return 0;
}

static int parse_link(struct parser *p)
{
    const char *target = NULL;
    struct linkformat_link *l;
    int rc;
    if (p->nlinks >= p->lim.max_links)
        return fail_at(p, ASSAY_ENOMEM, p->pos, "too many links");
    rc = parse_target(p, &target);
    if (rc)
        return rc;
    rc = add_link(p, target);
    if (rc)
        return rc;
    l = &p->links[p->nlinks - 1];
    for (;;) {
        skip_ows(p);
        if (p->pos >= p->len || p->buf[p->pos] != ';')
            return 0;
        p->pos++;
        skip_ows(p);
        if (l->nattrs >= p->lim.max_attrs)
            return fail_at(p, ASSAY_ENOMEM, p->pos, "too many attributes on one link");
        if (grow_attrs(p))
            return fail_at(p, ASSAY_ENOMEM, p->pos, "out of memory");
        rc = parse_attr(p, &p->attrs[p->nattrs]);
        if (rc)
            return rc;
        p->nattrs++;
        l->nattrs++;
    }
}

static int parse_all(struct parser *p)
{
    int rc;
    skip_ows(p);
    if (p->pos >= p->len)
        return 0;
    for (;;) {
        rc = parse_link(p);
        if (rc)
            return rc;
        skip_ows(p);
        if (p->pos >= p->len)
            return 0;
        if (p->buf[p->pos] != ',')
            return fail_at(p, ASSAY_EINVAL, p->pos,
                           p->buf[p->pos] == 0 ? "NUL byte" : "expected ',' or ';'");
        p->pos++;
        skip_ows(p);
    }
}

int linkformat_parse(const uint8_t *buf, size_t len, const struct linkformat_limits *lim,
                     struct linkformat_doc *doc, size_t *err_offset, struct assay_error *err)
{
    static const struct linkformat_limits defaults = LINKFORMAT_DEFAULT_LIMITS;
    struct parser p = {.buf = buf, .len = len, .err_offset = err_offset, .err = err};
    int rc;
    memset(doc, 0, sizeof *doc);
    p.lim = lim ? *lim : defaults;
    if (!buf && len)
        return assay_fail(err, ASSAY_EINVAL, "link-format: no input");
    if (len > p.lim.max_input)
        return fail_at(&p, ASSAY_ENOMEM, p.lim.max_input, "input too long");
    p.pool = malloc(2 * len + 2);
    if (!p.pool)
        return fail_at(&p, ASSAY_ENOMEM, 0, "out of memory");
    rc = parse_all(&p);
    if (rc) {
        free(p.pool);
        free(p.links);
        free(p.attr_start);
        free(p.attrs);
        return rc;
    }
    for (size_t i = 0; i < p.nlinks; i++)
        p.links[i].attrs = p.links[i].nattrs ? &p.attrs[p.attr_start[i]] : NULL;
    free(p.attr_start);
    doc->links = p.links;
    doc->nlinks = p.nlinks;
    doc->pool_ = p.pool;
    doc->attr_buf_ = p.attrs;
    return 0;
}

void linkformat_release(struct linkformat_doc *doc)
{
    if (!doc)
        return;
    free(doc->links);
    free(doc->attr_buf_);
    free(doc->pool_);
    memset(doc, 0, sizeof *doc);
}

const struct linkformat_attr *linkformat_attr_find(const struct linkformat_link *link,
                                                   const char *name)
{
    for (size_t i = 0; link && i < link->nattrs; i++)
        if (strcmp(link->attrs[i].name, name) == 0)
            return &link->attrs[i];
    return NULL;
}
