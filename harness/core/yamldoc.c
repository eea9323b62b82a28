/* yamldoc.c: YAML read with libyaml, checked against a schema, converted to jansson (see
 * yamldoc.h). */
#include "yamldoc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "error.h"

struct yamldoc_loc {
    const json_t *container; /* object or array the value sits in; NULL for the root */
    char *key;               /* owned; NULL for array entries */
    size_t index;
    const json_t *node; /* the value itself, for containers */
    int line, column;
};

struct walk {
    struct yamldoc *doc;
    yaml_document_t *ydoc;
    struct diag_list *diags;
    unsigned char *seen; /* one flag per node: aliases make a node reachable twice */
    size_t nnodes;
    char path[512];
};

static void add_loc(struct yamldoc *doc, const json_t *container, const char *key, size_t index,
                    const json_t *node, const yaml_mark_t *mark)
{
    if (doc->nlocs == doc->caplocs) {
        size_t cap = doc->caplocs ? doc->caplocs * 2 : 64;
        struct yamldoc_loc *p = realloc(doc->locs, cap * sizeof(*p));
        if (!p)
            return;
        doc->locs = p;
        doc->caplocs = cap;
    }
    struct yamldoc_loc *l = &doc->locs[doc->nlocs];
    l->key = key ? strdup(key) : NULL;
    if (key && !l->key)
        return;
    l->container = container;
    l->index = index;
    l->node = node;
    l->line = (int)mark->line + 1;
    l->column = (int)mark->column + 1;
    doc->nlocs++;
}

static void report(struct walk *w, const yaml_mark_t *mark, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void report(struct walk *w, const yaml_mark_t *mark, const char *fmt, ...)
{
    char msg[DIAG_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (w->path[0])
        diag_add(w->diags, w->doc->file, (int)mark->line + 1, (int)mark->column + 1, "%s: %s",
                 w->path, msg);
    else
        diag_add(w->diags, w->doc->file, (int)mark->line + 1, (int)mark->column + 1, "%s", msg);
}

static const char *scalar(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

static bool is_plain(const yaml_node_t *n)
{
    return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static bool is_null(const yaml_node_t *n)
{
    const char *s = scalar(n);
    return is_plain(n) && (!*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
                           !strcmp(s, "NULL"));
}

/* Printable excerpt of an untrusted scalar for a message. */
static const char *excerpt(const char *s, char *buf, size_t size)
{
    size_t j = 0;
    for (size_t i = 0; s[i] && j + 4 < size; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[j++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
        if (i >= 60) {
            buf[j++] = '.', buf[j++] = '.', buf[j++] = '.';
            break;
        }
    }
    buf[j] = 0;
    return buf;
}

static bool parse_ll(const char *s, long long *out)
{
    char *end;
    if (!*s || (!(*s >= '0' && *s <= '9') && *s != '-' && *s != '+'))
        return false;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

static const char *type_word(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_MAPPING_NODE: return "a mapping";
    case YAML_SEQUENCE_NODE: return "a list";
    default: return "a single value";
    }
}

static json_t *convert(struct walk *w, yaml_node_t *n, const struct yschema *s, int depth);

static json_t *convert_any_scalar(const yaml_node_t *n)
{
    const char *v = scalar(n);
    long long ll;
    if (!is_plain(n))
        return json_string(v);
    if (is_null(n))
        return json_null();
    if (!strcmp(v, "true"))
        return json_true();
    if (!strcmp(v, "false"))
        return json_false();
    if (parse_ll(v, &ll))
        return json_integer(ll);
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (!errno && *v && !*end && strspn(v, "0123456789.eE+-") == strlen(v))
        return json_real(d);
    return json_string(v);
}

static json_t *convert_scalar(struct walk *w, yaml_node_t *n, const struct yschema *s)
{
    const char *v = scalar(n);
    char ex[80];
    long long ll;

    if (n->type != YAML_SCALAR_NODE) {
        if (s->type == YS_ANY)
            return NULL; /* handled by the caller */
        report(w, &n->start_mark, "expected %s, got %s", s->what, type_word(n));
        return NULL;
    }
    switch (s->type) {
    case YS_ANY: return convert_any_scalar(n);
    case YS_BOOL:
        if (is_plain(n) && !strcmp(v, "true"))
            return json_true();
        if (is_plain(n) && !strcmp(v, "false"))
            return json_false();
        report(w, &n->start_mark, "expected true or false, got '%s'", excerpt(v, ex, sizeof(ex)));
        return NULL;
    case YS_INT:
        if (!is_plain(n) || !parse_ll(v, &ll) || ll < s->min || ll > s->max) {
            report(w, &n->start_mark, "expected %s (an integer from %lld to %lld), got '%s'",
                   s->what, s->min, s->max, excerpt(v, ex, sizeof(ex)));
            return NULL;
        }
        return json_integer(ll);
    case YS_DATE:
        if (!yamldoc_valid_date(v)) {
            report(w, &n->start_mark, "expected %s as YYYY-MM-DD (a calendar date), got '%s'",
                   s->what, excerpt(v, ex, sizeof(ex)));
            return NULL;
        }
        return json_string(v);
    case YS_STRING: {
        size_t max = s->max > 0 ? (size_t)s->max : 4096;
        size_t len = n->data.scalar.length;
        if (is_null(n)) {
            report(w, &n->start_mark, "expected %s, got nothing", s->what);
            return NULL;
        }
        if (len > max || strlen(v) != len) {
            report(w, &n->start_mark, "expected %s of at most %zu bytes without NUL", s->what, max);
            return NULL;
        }
        if (s->choices) {
            for (const char *const *c = s->choices; *c; c++)
                if (!strcmp(*c, v))
                    return json_string(v);
            char list[256] = "";
            size_t used = 0;
            for (const char *const *c = s->choices; *c && used < sizeof(list); c++)
                used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
                                         c == s->choices ? "" : ", ", *c);
            report(w, &n->start_mark, "'%s' is not one of: %s", excerpt(v, ex, sizeof(ex)), list);
            return NULL;
        }
        if (s->valid && !s->valid(v)) {
            report(w, &n->start_mark, "expected %s, got '%s'", s->what, excerpt(v, ex, sizeof(ex)));
            return NULL;
        }
        json_t *j = json_string(v);
        if (!j)
            report(w, &n->start_mark, "expected %s in UTF-8", s->what);
        return j;
    }
    default: report(w, &n->start_mark, "expected %s, got %s", s->what, type_word(n)); return NULL;
    }
}

static size_t path_push(struct walk *w, const char *key, long index)
{
    size_t old = strlen(w->path);
    if (key)
        snprintf(w->path + old, sizeof(w->path) - old, "%s%s", old ? "." : "", key);
    else
        snprintf(w->path + old, sizeof(w->path) - old, "[%ld]", index);
    return old;
}

static const struct yschema any_schema = {.type = YS_ANY, .what = "a value"};

static json_t *convert_mapping(struct walk *w, yaml_node_t *n, const struct yschema *s, int depth)
{
    json_t *obj = json_object();
    if (!obj)
        return NULL;
    add_loc(w->doc, NULL, NULL, 0, obj, &n->start_mark);
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(w->ydoc, p->key);
        yaml_node_t *v = yaml_document_get_node(w->ydoc, p->value);
        if (!k || !v)
            continue;
        if (k->type != YAML_SCALAR_NODE) {
            report(w, &k->start_mark, "a key must be a single value");
            continue;
        }
        const char *key = scalar(k);
        char ex[80];
        const struct yschema *vs = NULL;
        if (s->type == YS_MAP) {
            for (const struct yschema_field *f = s->fields; f && f->key; f++)
                if (!strcmp(f->key, key))
                    vs = f->schema;
            if (!vs) {
                char list[300] = "";
                size_t used = 0;
                for (const struct yschema_field *f = s->fields; f && f->key && used < sizeof(list);
                     f++)
                    used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
                                             f == s->fields ? "" : ", ", f->key);
                report(w, &k->start_mark, "unknown key '%s' (expected one of: %s)",
                       excerpt(key, ex, sizeof(ex)), list);
                continue;
            }
        } else {
            if (s->valid_key && !s->valid_key(key)) {
                report(w, &k->start_mark, "key '%s' is not %s", excerpt(key, ex, sizeof(ex)),
                       s->key_what ? s->key_what : "valid");
                continue;
            }
            vs = s->items ? s->items : &any_schema;
        }
        if (json_object_get(obj, key)) {
            report(w, &k->start_mark, "duplicate key '%s'", excerpt(key, ex, sizeof(ex)));
            continue;
        }
        size_t old = path_push(w, key, 0);
        json_t *jv = convert(w, v, vs, depth + 1);
        w->path[old] = 0;
        if (jv) {
            add_loc(w->doc, obj, key, 0, jv, &v->start_mark);
            json_object_set_new(obj, key, jv);
        }
    }
    if (s->type == YS_MAP) {
        for (const struct yschema_field *f = s->fields; f && f->key; f++)
            if (f->required && !json_object_get(obj, f->key)) {
                /* Present but invalid keys were already reported. */
                bool present = false;
                for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
                     p < n->data.mapping.pairs.top; p++) {
                    yaml_node_t *k = yaml_document_get_node(w->ydoc, p->key);
                    if (k && k->type == YAML_SCALAR_NODE && !strcmp(scalar(k), f->key))
                        present = true;
                }
                if (!present)
                    report(w, &n->start_mark, "missing required key '%s'", f->key);
            }
    }
    return obj;
}

static json_t *convert_sequence(struct walk *w, yaml_node_t *n, const struct yschema *s, int depth)
{
    json_t *arr = json_array();
    if (!arr)
        return NULL;
    add_loc(w->doc, NULL, NULL, 0, arr, &n->start_mark);
    long count = n->data.sequence.items.top - n->data.sequence.items.start;
    if (s->type == YS_SEQ && (count < s->min || (s->max > 0 && count > s->max))) {
        if (s->max > 0)
            report(w, &n->start_mark, "expected %s with %lld to %lld entries, got %ld", s->what,
                   s->min, s->max, count);
        else
            report(w, &n->start_mark, "expected %s with at least %lld entries, got %ld", s->what,
                   s->min, count);
    }
    const struct yschema *is = s->items ? s->items : &any_schema;
    long i = 0;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++, i++) {
        yaml_node_t *v = yaml_document_get_node(w->ydoc, *it);
        if (!v)
            continue;
        size_t old = path_push(w, NULL, i);
        json_t *jv = convert(w, v, is, depth + 1);
        w->path[old] = 0;
        if (jv) {
            add_loc(w->doc, arr, NULL, json_array_size(arr), jv, &v->start_mark);
            json_array_append_new(arr, jv);
        }
    }
    return arr;
}

static json_t *convert(struct walk *w, yaml_node_t *n, const struct yschema *s, int depth)
{
    size_t idx = (size_t)(n - w->ydoc->nodes.start);
    if (idx < w->nnodes) {
        if (w->seen[idx]) {
            report(w, &n->start_mark, "anchors and aliases are not allowed");
            return NULL;
        }
        w->seen[idx] = 1;
    }
    if (depth > YAMLDOC_MAX_DEPTH) {
        report(w, &n->start_mark, "nested more than %d levels deep", YAMLDOC_MAX_DEPTH);
        return NULL;
    }
    switch (s->type) {
    case YS_MAP:
    case YS_DICT:
        if (n->type != YAML_MAPPING_NODE) {
            report(w, &n->start_mark, "expected %s (a mapping), got %s", s->what, type_word(n));
            return NULL;
        }
        return convert_mapping(w, n, s, depth);
    case YS_SEQ:
        if (n->type != YAML_SEQUENCE_NODE) {
            report(w, &n->start_mark, "expected %s (a list), got %s", s->what, type_word(n));
            return NULL;
        }
        return convert_sequence(w, n, s, depth);
    case YS_ANY:
        if (n->type == YAML_MAPPING_NODE) {
            static const struct yschema dict = {.type = YS_DICT, .what = "a mapping"};
            return convert_mapping(w, n, &dict, depth);
        }
        if (n->type == YAML_SEQUENCE_NODE) {
            static const struct yschema seq = {.type = YS_SEQ, .what = "a list"};
            return convert_sequence(w, n, &seq, depth);
        }
        return convert_scalar(w, n, s);
    default: return convert_scalar(w, n, s);
    }
}

int yamldoc_load_buffer(struct yamldoc *doc, const char *name, const char *text, size_t len,
                        const struct yschema *schema, struct diag_list *diags)
{
    yaml_parser_t parser;
    yaml_document_t ydoc;
    size_t before = diag_count(diags);

    memset(doc, 0, sizeof(*doc));
    doc->file = strdup(name);
    if (!doc->file)
        return ASSAY_ENOMEM;
    if (len > YAMLDOC_MAX_BYTES) {
        diag_add(diags, name, 0, 0, "file is larger than %u bytes", YAMLDOC_MAX_BYTES);
        return ASSAY_EINVAL;
    }
    if (!yaml_parser_initialize(&parser))
        return ASSAY_ENOMEM;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &ydoc)) {
        diag_add(diags, name, (int)parser.problem_mark.line + 1,
                 (int)parser.problem_mark.column + 1, "YAML syntax: %s%s%s",
                 parser.problem ? parser.problem : "unreadable", parser.context ? " " : "",
                 parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        return ASSAY_EINVAL;
    }
    yaml_node_t *root = yaml_document_get_root_node(&ydoc);
    if (!root) {
        diag_add(diags, name, 1, 1, "the file is empty");
    } else {
        struct walk w = {.doc = doc, .ydoc = &ydoc, .diags = diags};
        w.nnodes = (size_t)(ydoc.nodes.top - ydoc.nodes.start);
        w.seen = calloc(w.nnodes ? w.nnodes : 1, 1);
        if (!w.seen) {
            yaml_document_delete(&ydoc);
            yaml_parser_delete(&parser);
            return ASSAY_ENOMEM;
        }
        doc->root = convert(&w, root, schema, 0);
        free(w.seen);
    }
    yaml_document_delete(&ydoc);
    yaml_parser_delete(&parser);
    return diag_count(diags) == before ? 0 : ASSAY_EINVAL;
}

int yamldoc_load(struct yamldoc *doc, const char *path, const struct yschema *schema,
                 struct diag_list *diags)
{
    FILE *f = fopen(path, "rb");
    memset(doc, 0, sizeof(*doc));
    if (!f) {
        diag_add(diags, path, 0, 0, "cannot open: %s", strerror(errno));
        return ASSAY_EIO;
    }
    char *buf = malloc(YAMLDOC_MAX_BYTES + 1);
    if (!buf) {
        fclose(f);
        return ASSAY_ENOMEM;
    }
    size_t n = fread(buf, 1, YAMLDOC_MAX_BYTES + 1, f);
    int rd_err = ferror(f);
    fclose(f);
    if (rd_err) {
        free(buf);
        diag_add(diags, path, 0, 0, "cannot read");
        return ASSAY_EIO;
    }
    int rc = yamldoc_load_buffer(doc, path, buf, n, schema, diags);
    free(buf);
    return rc;
}

void yamldoc_release(struct yamldoc *doc)
{
    for (size_t i = 0; i < doc->nlocs; i++)
        free(doc->locs[i].key);
    free(doc->locs);
    json_decref(doc->root);
    free(doc->file);
    memset(doc, 0, sizeof(*doc));
}

struct yamldoc_pos yamldoc_where(const struct yamldoc *doc, const json_t *container,
                                 const char *key, size_t index)
{
    struct yamldoc_pos p = {0, 0};
    for (size_t i = 0; i < doc->nlocs; i++) {
        const struct yamldoc_loc *l = &doc->locs[i];
        if (l->container != container || !container)
            continue;
        if (key ? (l->key && !strcmp(l->key, key)) : (!l->key && l->index == index)) {
            p.line = l->line, p.column = l->column;
            return p;
        }
    }
    return yamldoc_where_node(doc, container);
}

struct yamldoc_pos yamldoc_where_node(const struct yamldoc *doc, const json_t *node)
{
    struct yamldoc_pos p = {0, 0};
    for (size_t i = 0; i < doc->nlocs; i++)
        if (doc->locs[i].node == node && !doc->locs[i].container) {
            p.line = doc->locs[i].line, p.column = doc->locs[i].column;
            break;
        }
    return p;
}

void yamldoc_diag(const struct yamldoc *doc, struct diag_list *diags, const json_t *container,
                  const char *key, size_t index, const char *fmt, ...)
{
    char msg[DIAG_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    struct yamldoc_pos p = yamldoc_where(doc, container, key, index);
    diag_add(diags, doc->file, p.line, p.column, "%s", msg);
}

bool yamldoc_valid_identifier(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

bool yamldoc_valid_date(const char *s)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0');
    int d = (s[8] - '0') * 10 + (s[9] - '0');
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return !(m == 2 && d == 29 && !leap);
}
