/* diag.c: diagnostics naming file:line:column (see diag.h). */
#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void diag_init(struct diag_list *d)
{
    memset(d, 0, sizeof(*d));
}

void diag_release(struct diag_list *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->items[i].file);
    free(d->items);
    memset(d, 0, sizeof(*d));
}

void diag_add(struct diag_list *d, const char *file, int line, int column, const char *fmt, ...)
{
    if (d->n >= DIAG_MAX) {
        d->dropped++;
        return;
    }
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        struct diag *p = realloc(d->items, cap * sizeof(*p));
        if (!p) {
            d->dropped++;
            return;
        }
        d->items = p;
        d->cap = cap;
    }
    struct diag *g = &d->items[d->n];
    g->file = strdup(file ? file : "-");
    if (!g->file) {
        d->dropped++;
        return;
    }
    g->line = line;
    g->column = column;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->msg, sizeof(g->msg), fmt, ap);
    va_end(ap);
    d->n++;
}

void diag_print(const struct diag_list *d, FILE *f)
{
    for (size_t i = 0; i < d->n; i++) {
        const struct diag *g = &d->items[i];
        if (g->line > 0 && g->column > 0)
            fprintf(f, "%s:%d:%d: error: %s\n", g->file, g->line, g->column, g->msg);
        else if (g->line > 0)
            fprintf(f, "%s:%d: error: %s\n", g->file, g->line, g->msg);
        else
            fprintf(f, "%s: error: %s\n", g->file, g->msg);
    }
    if (d->dropped)
        fprintf(f, "... and %zu more errors\n", d->dropped);
}

size_t diag_count(const struct diag_list *d)
{
    return d->n + d->dropped;
}
