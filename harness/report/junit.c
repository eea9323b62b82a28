/* junit.c: junit.xml from a run record (see junit.h). */
#include "junit.h"

#include <string.h>

#include "html_escape.h"
#include "report_file.h"

struct junit {
    FILE *out;
    int rc; /* first escaping error, sticky */
};

struct tally {
    size_t tests, failures, errors, skipped;
    double time;
};

static const char *str(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

static void text(struct junit *j, const char *s)
{
    int rc = html_escape_put(j->out, s);
    if (rc && !j->rc)
        j->rc = rc;
}

static void value(struct junit *j, const json_t *v)
{
    int rc = html_escape_json(j->out, v, HTML_ESCAPE_MAX);
    if (rc && !j->rc)
        j->rc = rc;
}

static double seconds(const json_t *tc)
{
    json_t *ms = json_object_get(tc, "duration_ms");
    return json_is_number(ms) && json_number_value(ms) > 0 ? json_number_value(ms) / 1000.0 : 0.0;
}

static void tally_device(const json_t *dev, struct tally *t)
{
    size_t k;
    json_t *tc;
    memset(t, 0, sizeof(*t));
    json_array_foreach(json_object_get(dev, "testcases"), k, tc)
    {
        const char *v = str(tc, "verdict");
        t->tests++;
        t->failures += !strcmp(v, "FAIL");
        t->errors += !strcmp(v, "ERROR");
        t->skipped += !strcmp(v, "INCONCLUSIVE") || !strcmp(v, "NOT_APPLICABLE");
        t->time += seconds(tc);
    }
}

static void property(struct junit *j, const char *name, const json_t *v)
{
    if (!v || json_is_null(v))
        return;
    fprintf(j->out, "      <property name=\"%s\" value=\"", name);
    value(j, v);
    fputs("\"/>\n", j->out);
}

/* The verdict, the reason and the obligations, for messages and bodies. */
static void reason(struct junit *j, const json_t *tc)
{
    const char *v = str(tc, "verdict");
    fputs(v, j->out);
    if (!strcmp(v, "INCONCLUSIVE") && json_object_get(tc, "resolve"))
        fputs(" (for the assessor)", j->out);
    fputs(": ", j->out);
    const json_t *why = json_object_get(tc, "rationale");
    if (json_is_string(why) && json_string_length(why))
        value(j, why); /* its full length: a NUL byte must not hide the rest */
    else
        fputs("no rationale recorded", j->out);
}

static void body(struct junit *j, const json_t *tc)
{
    fputs("Obligations: ", j->out);
    size_t k;
    json_t *o;
    json_array_foreach(json_object_get(tc, "obligations"), k, o)
    {
        fputs(k ? ", " : "", j->out);
        value(j, o);
    }
    fputs("&#10;Category: ", j->out);
    text(j, str(tc, "category"));
    if (*str(tc, "observations")) {
        fputs("&#10;Observations: ", j->out);
        text(j, str(tc, "observations"));
    }
}

static void testcase(struct junit *j, const json_t *dev, const json_t *tc)
{
    const char *v = str(tc, "verdict");
    fputs("    <testcase name=\"", j->out);
    text(j, str(tc, "id"));
    fputs("\" classname=\"", j->out);
    text(j, str(dev, "id"));
    fprintf(j->out, "\" time=\"%.3f\">\n", seconds(tc));
    const char *tag = !strcmp(v, "FAIL")                                           ? "failure"
                      : !strcmp(v, "ERROR")                                        ? "error"
                      : !strcmp(v, "INCONCLUSIVE") || !strcmp(v, "NOT_APPLICABLE") ? "skipped"
                                                                                   : NULL;
    if (tag) {
        fprintf(j->out, "      <%s message=\"", tag);
        reason(j, tc);
        if (!strcmp(tag, "skipped")) {
            fputs("\"/>\n", j->out);
        } else {
            fprintf(j->out, "\" type=\"%s\">", v);
            reason(j, tc);
            fputs("&#10;", j->out);
            body(j, tc);
            fprintf(j->out, "</%s>\n", tag);
        }
    }
    fputs("      <system-out>", j->out);
    text(j, str(tc, "title"));
    fputs("&#10;", j->out);
    reason(j, tc);
    fputs("&#10;", j->out);
    body(j, tc);
    fputs("</system-out>\n    </testcase>\n", j->out);
}

static void testsuite(struct junit *j, const json_t *rec, size_t n, const json_t *dev)
{
    struct tally t;
    tally_device(dev, &t);
    char stamp[20] = "1970-01-01T00:00:00";
    const char *started = str(rec, "started");
    if (strlen(started) >= 19)
        memcpy(stamp, started, 19); /* Jenkins' schema: no fraction, no zone */
    fputs("  <testsuite name=\"", j->out);
    text(j, str(dev, "id"));
    fprintf(j->out,
            "\" id=\"%zu\" package=\"assay\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
            "skipped=\"%zu\" time=\"%.3f\" timestamp=\"",
            n, t.tests, t.failures, t.errors, t.skipped, t.time);
    text(j, stamp);
    fputs("\" hostname=\"localhost\">\n    <properties>\n", j->out);
    const json_t *b = json_object_get(rec, "bench");
    property(j, "run", json_object_get(rec, "id"));
    property(j, "lab", json_object_get(b, "lab"));
    property(j, "operator", json_object_get(b, "operator"));
    static const char *const keys[] = {"model", "serial", "mac", "firmware", "address", "state"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        property(j, keys[i], json_object_get(dev, keys[i]));
    fputs("    </properties>\n", j->out);
    size_t k;
    json_t *tc;
    json_array_foreach(json_object_get(dev, "testcases"), k, tc) testcase(j, dev, tc);
    fputs("  </testsuite>\n", j->out);
}

int report_junit(const json_t *rec, FILE *out, struct assay_error *err)
{
    struct junit j = {out, 0};
    struct tally all = {0}, t;
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(rec, "devices"), i, d)
    {
        tally_device(d, &t);
        all.tests += t.tests;
        all.failures += t.failures;
        all.errors += t.errors;
        all.skipped += t.skipped;
        all.time += t.time;
    }
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"assay ", out);
    text(&j, str(rec, "id"));
    fprintf(out,
            "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" time=\"%.3f\">\n",
            all.tests, all.failures, all.errors, all.skipped, all.time);
    json_array_foreach(json_object_get(rec, "devices"), i, d) testsuite(&j, rec, i, d);
    fputs("</testsuites>\n", out);
    if (j.rc)
        return assay_fail(err, j.rc, "junit.xml: out of memory");
    if (ferror(out))
        return assay_fail(err, ASSAY_EIO, "junit.xml: write failed");
    return 0;
}

static int render(void *ctx, FILE *out, struct assay_error *err)
{
    return report_junit(ctx, out, err);
}

int report_junit_write(const json_t *rec, const char *run_dir, struct assay_error *err)
{
    return report_file_write(run_dir, "junit.xml", render, (void *)rec, err);
}
