/* csv.c: verdicts.csv from a run record (see csv.h). */
#include "csv.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/sanitize.h"
#include "report_file.h"

#define CSV_FIELD_MAX 4000 /* bytes of one field taken from the record */

int csv_field(FILE *out, const char *s, size_t len)
{
    char *t = sanitize_text(s ? s : "", s ? len : 0, CSV_FIELD_MAX);
    if (!t)
        return ASSAY_ENOMEM;
    bool formula = t[0] == '=' || t[0] == '+' || t[0] == '-' || t[0] == '@';
    bool quote = strpbrk(t, ",\"\r\n") != NULL;
    if (quote)
        fputc('"', out);
    if (formula)
        fputc('\'', out);
    for (const char *p = t; *p; p++) {
        if (*p == '"')
            fputc('"', out);
        fputc(*p, out);
    }
    if (quote)
        fputc('"', out);
    free(t);
    return 0;
}

struct row {
    const json_t *rec, *dev, *cell, *tc; /* tc may be NULL */
    const struct catalogue *cat;
};

static const char *str(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

static int put(FILE *out, const char *s, bool last)
{
    int rc = csv_field(out, s, strlen(s));
    fputs(last ? "\r\n" : ",", out);
    return rc;
}

/* A JSON string's full bytes (NUL included), or "". */
static int put_json(FILE *out, const json_t *v, bool last)
{
    int rc = json_is_string(v) ? csv_field(out, json_string_value(v), json_string_length(v))
                               : csv_field(out, "", 0);
    fputs(last ? "\r\n" : ",", out);
    return rc;
}

static int row(FILE *out, const struct row *r)
{
    const char *obl = str(r->cell, "id");
    const struct obligation *o = r->cat ? catalogue_find(r->cat, obl) : NULL;
    const json_t *tc = r->tc;
    int rc = 0;
    rc |= put(out, str(r->rec, "id"), false);
    rc |= put_json(out, json_object_get(r->dev, "id"), false);
    rc |= put_json(out, json_object_get(r->dev, "model"), false);
    rc |= put_json(out, json_object_get(r->dev, "serial"), false);
    rc |= put(out, obl, false);
    rc |= put(out, o && o->title ? o->title : "", false);
    rc |= put(out, str(r->cell, "verdict"), false);
    rc |= put(out, str(r->cell, "resolve"), false);
    rc |= put(out, str(tc, "id"), false);
    rc |= put_json(out, json_object_get(tc, "title"), false);
    rc |= put(out, str(tc, "verdict"), false);
    rc |= put(out, str(tc, "resolve"), false);
    rc |= put(out, str(tc, "category"), false);
    rc |= put(out, str(tc, "scope"), false);
    rc |= put_json(out, json_object_get(tc ? tc : r->cell, "rationale"), false);
    rc |= put(out, str(tc, "observations"), true);
    return rc ? ASSAY_ENOMEM : 0;
}

static const json_t *find_testcase(const json_t *dev, const char *id)
{
    size_t k;
    json_t *tc;
    json_array_foreach(json_object_get(dev, "testcases"), k,
                       tc) if (id && !strcmp(str(tc, "id"), id)) return tc;
    return NULL;
}

static int device_rows(FILE *out, struct row *r)
{
    size_t k, m;
    json_t *cell, *id;
    int rc = 0;
    json_array_foreach(json_object_get(r->dev, "obligations"), k, cell)
    {
        r->cell = cell;
        r->tc = NULL;
        const json_t *ids = json_object_get(cell, "testcases");
        if (!json_array_size(ids))
            rc |= row(out, r);
        json_array_foreach(ids, m, id)
        {
            r->tc = find_testcase(r->dev, json_string_value(id));
            rc |= row(out, r);
        }
    }
    return rc;
}

int report_csv(const json_t *rec, const struct catalogue *cat, FILE *out, struct assay_error *err)
{
    fputs("run,device,model,serial,obligation,obligation_title,obligation_verdict,"
          "obligation_resolve,testcase,testcase_title,testcase_verdict,testcase_resolve,"
          "category,scope,rationale,observations\r\n",
          out);
    struct row r = {.rec = rec, .cat = cat};
    size_t i;
    json_t *d;
    int rc = 0;
    json_array_foreach(json_object_get(rec, "devices"), i, d)
    {
        r.dev = d;
        rc |= device_rows(out, &r);
    }
    if (rc)
        return assay_fail(err, ASSAY_ENOMEM, "verdicts.csv: out of memory");
    if (ferror(out))
        return assay_fail(err, ASSAY_EIO, "verdicts.csv: write failed");
    return 0;
}

struct csv_job {
    const json_t *rec;
    const struct catalogue *cat;
};

static int render(void *ctx, FILE *out, struct assay_error *err)
{
    const struct csv_job *j = ctx;
    return report_csv(j->rec, j->cat, out, err);
}

int report_csv_write(const json_t *rec, const char *run_dir, const struct catalogue *cat,
                     struct assay_error *err)
{
    struct csv_job j = {rec, cat};
    return report_file_write(run_dir, "verdicts.csv", render, &j, err);
}
