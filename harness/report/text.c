/* text.c: the terminal matrix and summary of a run record (see text.h). */
#include "text.h"

#include <stdlib.h>
#include <string.h>

#include "core/sanitize.h"

static const char *s(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

/* Prints untrusted text with control, bidi and tag characters neutralised. */
static void put_safe(FILE *out, const char *text)
{
    char *clean = sanitize_text(text, strlen(text), 2000);
    fputs(clean ? clean : "?", out);
    free(clean);
}

char report_cell_letter(const json_t *cell)
{
    const char *v = s(cell, "verdict");
    if (!strcmp(v, "PASS"))
        return 'P';
    if (!strcmp(v, "FAIL"))
        return 'F';
    if (!strcmp(v, "ERROR"))
        return 'E';
    if (!strcmp(v, "NOT_APPLICABLE"))
        return 'N';
    if (!strcmp(v, "INCONCLUSIVE"))
        return json_object_get(cell, "resolve") ? 'A' : 'I';
    return '?';
}

static const char *colour_of(char letter)
{
    switch (letter) {
    case 'P': return "\033[32m";
    case 'F': return "\033[1;31m";
    case 'E': return "\033[35m";
    case 'I': return "\033[33m";
    default: return "\033[2m";
    }
}

static void header(const json_t *rec, FILE *out)
{
    const json_t *b = json_object_get(rec, "bench");
    fprintf(out, "assay %s: ", s(rec, "kind"));
    put_safe(out, s(b, "name"));
    fprintf(out, "\n  run       %s\n  lab       ", s(rec, "id"));
    put_safe(out, s(b, "lab"));
    fprintf(out, "\n  operator  ");
    put_safe(out, s(b, "operator"));
    fprintf(out, "\n  started   %s\n  finished  %s\n  allowed   ", s(rec, "started"),
            json_is_string(json_object_get(rec, "finished")) ? s(rec, "finished") : "-");
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(rec, "allowed"), i, a)
        fprintf(out, "%s%s", i ? ", " : "", json_string_value(a));
    fprintf(out, "\n");
    if (json_is_string(json_object_get(rec, "source_run")))
        fprintf(out, "  source    %s\n", s(rec, "source_run"));
    fprintf(out, "\n");
}

static void matrix(const json_t *rec, FILE *out, bool colour)
{
    const json_t *obls = json_object_get(rec, "obligations");
    const json_t *devs = json_object_get(rec, "devices");
    size_t nobl = json_array_size(obls), width = 6, i;
    json_t *d;
    json_array_foreach(devs, i, d)
    {
        size_t w = strlen(s(d, "id"));
        width = w > width ? w : width;
    }
    if (width > 32)
        width = 32;
    /* Column numbers, two header lines (tens and units). */
    for (int line = 0; line < 2; line++) {
        fprintf(out, "%-*s ", (int)width, line ? "device" : "");
        for (size_t k = 0; k < nobl; k++)
            fprintf(out, "%c",
                    line ? (char)('0' + (k + 1) % 10)
                         : ((k + 1) % 10 == 0 ? (char)('0' + (k + 1) / 10 % 10) : ' '));
        fprintf(out, "\n");
    }
    json_array_foreach(devs, i, d)
    {
        char id[40];
        snprintf(id, sizeof(id), "%.32s", s(d, "id"));
        fprintf(out, "%-*s ", (int)width, id);
        size_t k;
        json_t *cell;
        json_array_foreach(json_object_get(d, "obligations"), k, cell)
        {
            char l = report_cell_letter(cell);
            if (colour)
                fprintf(out, "%s%c\033[0m", colour_of(l), l);
            else
                fputc(l, out);
        }
        fprintf(out, "\n");
    }
    fprintf(out,
            "\nP pass  F fail  E error  I inconclusive  A for the assessor  N not applicable\n");
    json_t *o;
    json_array_foreach(obls, i, o)
        fprintf(out, "%s%3zu %-18s", i % 4 == 0 ? "\n" : "", i + 1, json_string_value(o));
    fprintf(out, "\n\n");
}

static void findings(const json_t *rec, FILE *out)
{
    size_t i, shown = 0;
    json_t *d;
    json_array_foreach(json_object_get(rec, "devices"), i, d)
    {
        size_t k;
        json_t *tc;
        json_array_foreach(json_object_get(d, "testcases"), k, tc)
        {
            const char *v = s(tc, "verdict");
            bool undecided = !strcmp(v, "INCONCLUSIVE") && !json_object_get(tc, "resolve");
            if (strcmp(v, "FAIL") && strcmp(v, "ERROR") && !undecided)
                continue;
            if (!shown++)
                fprintf(out, "Findings:\n");
            fprintf(out, "  %-12s %s  %s: ", v, s(d, "id"), s(tc, "id"));
            put_safe(out, s(tc, "rationale"));
            fprintf(out, "\n");
        }
    }
    if (shown)
        fprintf(out, "\n");
}

void report_text(const json_t *rec, FILE *out, bool colour)
{
    header(rec, out);
    matrix(rec, out, colour);
    findings(rec, out);
    const json_t *counts = json_object_get(rec, "counts");
    static const char *const order[] = {"PASS", "FAIL", "ERROR", "INCONCLUSIVE", "NOT_APPLICABLE"};
    fprintf(out, "Cells:");
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
        fprintf(out, " %s %lld", order[i],
                (long long)json_integer_value(json_object_get(counts, order[i])));
    fprintf(out, "\nExit code: %lld\n",
            (long long)json_integer_value(json_object_get(rec, "exit_code")));
}
