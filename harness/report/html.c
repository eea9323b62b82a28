/* html.c: report.html: document, provenance header, counts and verdict matrix (see html.h). */
#include "html.h"

#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "html_escape.h"
#include "html_internal.h"
#include "report_file.h"

/* Inline styles only (the CSP allows nothing else). Colours follow a
 * colour-blind-safe palette and every verdict also differs in its word, its
 * symbol, its weight and its border, so it reads in greyscale. */
static const char css[] =
    ":root{color-scheme:light}\n"
    "body{font:11pt/1.45 system-ui,'Segoe UI',Roboto,'DejaVu Sans',Arial,sans-serif;"
    "color:#111;background:#fff;max-width:72em;margin:1.5em auto;padding:0 1em}\n"
    "h1{font-size:1.7em;margin:.2em 0}h2{font-size:1.35em;border-bottom:2px solid #333;"
    "padding-bottom:.15em;margin-top:2em}h3{font-size:1.12em;margin:1.4em 0 .4em}"
    "h4{font-size:1em;margin:1em 0 .3em}\n"
    "table{border-collapse:collapse;margin:.4em 0 .8em}\n"
    "th,td{border:1px solid #777;padding:.22em .45em;text-align:left;vertical-align:top}\n"
    "thead th{background:#e8e8e8}th[scope=row]{background:#f4f4f4;font-weight:600}\n"
    "caption{text-align:left;font-weight:600;padding:.2em 0}\n"
    ".v{font-weight:700;white-space:nowrap;text-align:center}\n"
    ".v a{color:inherit;text-decoration:none;display:block}\n"
    ".v a:focus,.v a:hover{text-decoration:underline}\n"
    ".v-PASS{background:#d9f0d3;color:#00441b}\n"
    ".v-FAIL{background:#b2182b;color:#fff;outline:3px solid #000;outline-offset:-3px}\n"
    ".v-ERROR{background:#542788;color:#fff;border:4px double #000}\n"
    ".v-INCONCLUSIVE{background:#fee08b;color:#000;border:2px dashed #000}\n"
    ".v-ASSESSOR{background:#fff;color:#000;border:2px dotted #000}\n"
    ".v-NOT_APPLICABLE{background:#eee;color:#333;font-weight:400;font-style:italic}\n"
    ".v-NONE{background:#fff;color:#555;font-weight:400}\n"
    ".badge{display:inline-block;padding:.05em .5em;margin-left:.4em;font-size:.9em}\n"
    ".sym{margin-right:.25em}.sub{color:#333;margin:0 0 1em}.note{color:#333}\n"
    ".tc{border-left:4px solid #999;padding:.1em 0 .3em .8em;margin:.8em 0}\n"
    "pre,code,.mono{font:9pt/1.35 ui-monospace,'DejaVu Sans Mono',Menlo,Consolas,monospace}\n"
    "pre{white-space:pre-wrap;word-break:break-all;background:#f6f6f6;border:1px solid #ccc;"
    "padding:.4em}\n"
    "td.mono{word-break:break-all}.ev{font-size:.88em}\n"
    ".legend li{margin:.15em 0}.legend .v{display:inline-block;min-width:10em}\n"
    "@page{size:A4;margin:14mm 12mm}\n"
    "@media print{body{max-width:none;margin:0;padding:0;font-size:9.5pt}"
    ".device{break-before:page;page-break-before:always}"
    "a{color:inherit;text-decoration:none}.tc,tr,.legend{break-inside:avoid;"
    "page-break-inside:avoid}thead{display:table-header-group}"
    "h2,h3,h4{break-after:avoid;page-break-after:avoid}"
    "*{-webkit-print-color-adjust:exact;print-color-adjust:exact}nav{display:none}}\n";

static const char *const verdict_order[] = {"PASS", "FAIL", "ERROR", "INCONCLUSIVE",
                                            "NOT_APPLICABLE"};
#define NVERDICTS (sizeof(verdict_order) / sizeof(verdict_order[0]))

const char *html_str(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

void html_text(struct html_ctx *c, const char *s)
{
    int rc = html_escape_put(c->out, s);
    if (rc && !c->rc)
        c->rc = rc;
}

void html_json(struct html_ctx *c, const json_t *v, size_t max)
{
    int rc = html_escape_json(c->out, v, max);
    if (rc && !c->rc)
        c->rc = rc;
}

const char *html_verdict_class(const json_t *cell)
{
    const char *v = html_str(cell, "verdict");
    if (!strcmp(v, "INCONCLUSIVE") && json_object_get(cell, "resolve"))
        return "ASSESSOR";
    for (size_t i = 0; i < NVERDICTS; i++)
        if (!strcmp(v, verdict_order[i]))
            return verdict_order[i];
    return "NONE";
}

void html_verdict_badge(struct html_ctx *c, const json_t *cell)
{
    static const struct {
        const char *cls, *sym, *words;
    } look[] = {
        {"PASS", "\u2713", "PASS"},
        {"FAIL", "\u2717", "FAIL"},
        {"ERROR", "!", "ERROR"},
        {"INCONCLUSIVE", "?", "INCONCLUSIVE"},
        {"ASSESSOR", "\u270e", "INCONCLUSIVE (for the assessor)"},
        {"NOT_APPLICABLE", "\u2013", "NOT APPLICABLE"},
        {"NONE", "", "no verdict"},
    };
    const char *cls = html_verdict_class(cell);
    for (size_t i = 0; i < sizeof(look) / sizeof(look[0]); i++)
        if (!strcmp(cls, look[i].cls)) {
            fprintf(c->out, "<span class=\"sym\" aria-hidden=\"true\">%s</span>%s", look[i].sym,
                    look[i].words);
            return;
        }
}

const char *html_obligation_title(const struct html_ctx *c, const char *id)
{
    const struct obligation *o = c->cat ? catalogue_find(c->cat, id) : NULL;
    return o ? o->title : NULL;
}

bool html_safe_relpath(const char *p)
{
    if (!p || !*p || *p == '/' || strlen(p) > 1024)
        return false;
    for (const char *q = p; *q; q++)
        if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
              *q == '.' || *q == '_' || *q == '-' || *q == '/'))
            return false;
    /* No component may be "..". */
    for (const char *q = p; q; q = strchr(q, '/')) {
        if (*q == '/')
            q++;
        if (q[0] == '.' && q[1] == '.' && (q[2] == '/' || !q[2]))
            return false;
    }
    return true;
}

static void prov_row(struct html_ctx *c, const char *label, const char *value)
{
    fprintf(c->out, "<tr><th scope=\"row\">%s</th><td>", label);
    html_text(c, *value ? value : "\u2014");
    fputs("</td></tr>\n", c->out);
}

static void list_row(struct html_ctx *c, const char *label, const json_t *arr)
{
    size_t i;
    json_t *a;
    fprintf(c->out, "<tr><th scope=\"row\">%s</th><td>", label);
    json_array_foreach(arr, i, a)
    {
        fputs(i ? ", " : "", c->out);
        html_json(c, a, 200);
    }
    fputs(json_array_size(arr) ? "</td></tr>\n" : "\u2014</td></tr>\n", c->out);
}

static bool has_file(const char *dir, const char *name)
{
    char path[PATH_MAX];
    return (size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) < sizeof(path) &&
           access(path, F_OK) == 0;
}

static void provenance(struct html_ctx *c)
{
    const json_t *rec = c->rec, *b = json_object_get(rec, "bench");
    fputs("<table class=\"prov\"><caption>Provenance</caption><tbody>\n", c->out);
    prov_row(c, "Run", html_str(rec, "id"));
    prov_row(c, "Record kind", html_str(rec, "kind"));
    if (*html_str(rec, "source_run"))
        prov_row(c, "Source run", html_str(rec, "source_run"));
    prov_row(c, "Bench", html_str(b, "name"));
    prov_row(c, "Bench file", html_str(b, "path"));
    prov_row(c, "Laboratory", html_str(b, "lab"));
    prov_row(c, "Operator", html_str(b, "operator"));
    prov_row(c, "Started (UTC)", html_str(rec, "started"));
    prov_row(c, "Finished (UTC)",
             json_is_string(json_object_get(rec, "finished")) ? html_str(rec, "finished")
                                                              : "not finished");
    if (json_is_true(json_object_get(rec, "interrupted")))
        prov_row(c, "Interrupted", "yes: stopped by a signal; the run can be resumed");
    const json_t *h = json_object_get(rec, "harness");
    fputs("<tr><th scope=\"row\">Harness</th><td>", c->out);
    html_text(c, html_str(h, "name"));
    fputc(' ', c->out);
    html_text(c, html_str(h, "version"));
    fputs("</td></tr>\n<tr><th scope=\"row\">Profiles</th><td>", c->out);
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(rec, "profiles"), i, p)
    {
        fputs(i ? "; " : "", c->out);
        html_text(c, html_str(p, "name"));
        fputs(" version ", c->out);
        html_json(c, json_object_get(p, "version"), 100);
    }
    fputs("</td></tr>\n", c->out);
    const json_t *sig = json_object_get(rec, "signature");
    if (json_is_object(sig)) {
        const char *st = html_str(sig, "status");
        prov_row(c, "Signature", *st ? st : "signed");
    } else if (c->run_dir && has_file(c->run_dir, "MANIFEST.sig")) {
        prov_row(c, "Signature", "MANIFEST.sig present: check it with assay verify");
    } else {
        prov_row(c, "Signature", "not signed");
    }
    list_row(c, "Categories allowed", json_object_get(rec, "allowed"));
    fprintf(c->out, "<tr><th scope=\"row\">Exit code</th><td>%lld</td></tr>\n",
            (long long)json_integer_value(json_object_get(rec, "exit_code")));
    fputs("</tbody></table>\n", c->out);
}

static size_t assessor_cells(const json_t *rec)
{
    size_t i, k, n = 0;
    json_t *d, *cell;
    json_array_foreach(json_object_get(rec, "devices"), i, d)
        json_array_foreach(json_object_get(d, "obligations"), k, cell) n +=
        !strcmp(html_verdict_class(cell), "ASSESSOR");
    return n;
}

static void counts(struct html_ctx *c)
{
    const json_t *cnt = json_object_get(c->rec, "counts");
    long long total = 0;
    fputs("<table class=\"counts\"><caption>Matrix cells per verdict</caption><thead><tr>", c->out);
    for (size_t i = 0; i < NVERDICTS; i++)
        fprintf(c->out, "<th scope=\"col\">%s</th>", verdict_order[i]);
    fputs("<th scope=\"col\">Total</th></tr></thead><tbody><tr>", c->out);
    for (size_t i = 0; i < NVERDICTS; i++) {
        long long n = (long long)json_integer_value(json_object_get(cnt, verdict_order[i]));
        total += n;
        fprintf(c->out, "<td class=\"v v-%s\" data-count=\"%s\">%lld</td>",
                n ? verdict_order[i] : "NONE", verdict_order[i], n);
    }
    fprintf(c->out, "<td>%lld</td></tr></tbody></table>\n", total);
    fprintf(c->out, "<p>%zu of the INCONCLUSIVE cells are items for the assessor.</p>\n",
            assessor_cells(c->rec));
}

/* The index in dev.obligations of the cell for obligation `id`, or -1. */
static long cell_index(const json_t *dev, const char *id)
{
    size_t k;
    json_t *cell;
    json_array_foreach(json_object_get(dev, "obligations"), k,
                       cell) if (!strcmp(html_str(cell, "id"), id)) return (long)k;
    return -1;
}

static void matrix_row(struct html_ctx *c, size_t n, const json_t *dev, const json_t *obls)
{
    fprintf(c->out, "<tr><th scope=\"row\"><a href=\"#d%zu\">", n);
    html_text(c, html_str(dev, "id"));
    fputs("</a></th>", c->out);
    size_t k;
    json_t *o;
    json_array_foreach(obls, k, o)
    {
        const char *id = json_string_value(o);
        long at = id ? cell_index(dev, id) : -1;
        const json_t *cell =
            at >= 0 ? json_array_get(json_object_get(dev, "obligations"), (size_t)at) : NULL;
        fprintf(c->out, "<td class=\"v v-%s\" data-device=\"", html_verdict_class(cell));
        html_text(c, html_str(dev, "id"));
        fputs("\" data-obligation=\"", c->out);
        html_text(c, id);
        fprintf(c->out, "\" data-verdict=\"%s\">", cell ? html_str(cell, "verdict") : "");
        if (cell) {
            fprintf(c->out, "<a href=\"#d%zu-o%ld\">", n, at + 1);
            html_verdict_badge(c, cell);
            fputs("</a>", c->out);
        } else {
            fputs("no verdict", c->out);
        }
        fputs("</td>", c->out);
    }
    fputs("</tr>\n", c->out);
}

static void legend(struct html_ctx *c)
{
    static const char *const meaning[][2] = {
        {"PASS", "the test cases evidence that the obligation is met"},
        {"FAIL", "at least one test case shows the obligation is not met"},
        {"ERROR", "the harness or a profile failed; says nothing about the device"},
        {"INCONCLUSIVE", "could not be decided; the rationale names what must be resolved"},
        {"ASSESSOR", "a person must decide (manual or documentary provision)"},
        {"NOT_APPLICABLE", "does not apply, with the reason recorded"},
    };
    fputs("<ul class=\"legend\" aria-label=\"Legend\">\n", c->out);
    for (size_t i = 0; i < sizeof(meaning) / sizeof(meaning[0]); i++) {
        json_t *cell = json_pack(
            "{s:s}", "verdict", strcmp(meaning[i][0], "ASSESSOR") ? meaning[i][0] : "INCONCLUSIVE");
        if (!cell) {
            c->rc = -2;
            break;
        }
        if (!strcmp(meaning[i][0], "ASSESSOR"))
            json_object_set_new(cell, "resolve", json_string("assessor"));
        fprintf(c->out, "<li><span class=\"v v-%s\">", meaning[i][0]);
        html_verdict_badge(c, cell);
        fprintf(c->out, "</span> %s</li>\n", meaning[i][1]);
        json_decref(cell);
    }
    fputs("</ul>\n", c->out);
}

static void obligation_key(struct html_ctx *c, const json_t *obls)
{
    fputs("<table class=\"key\"><caption>Obligations</caption><thead><tr><th scope=\"col\">"
          "Obligation</th><th scope=\"col\">Title</th></tr></thead><tbody>\n",
          c->out);
    size_t k;
    json_t *o;
    json_array_foreach(obls, k, o)
    {
        const char *id = json_string_value(o);
        fputs("<tr><th scope=\"row\">", c->out);
        html_text(c, id);
        fputs("</th><td>", c->out);
        const char *title = id ? html_obligation_title(c, id) : NULL;
        html_text(c, title ? title : "(not in the catalogue given to the report)");
        fputs("</td></tr>\n", c->out);
    }
    fputs("</tbody></table>\n", c->out);
}

static void matrix(struct html_ctx *c)
{
    const json_t *obls = json_object_get(c->rec, "obligations");
    const json_t *devs = json_object_get(c->rec, "devices");
    fputs("<section id=\"matrix\" aria-labelledby=\"matrix-h\">\n<h2 id=\"matrix-h\">Verdict "
          "matrix</h2>\n<table class=\"matrix\"><caption>Devices (rows) by obligation (columns); "
          "each cell links to its details</caption>\n<thead><tr><th scope=\"col\">Device</th>",
          c->out);
    size_t k;
    json_t *o;
    json_array_foreach(obls, k, o)
    {
        const char *id = json_string_value(o);
        const char *title = id ? html_obligation_title(c, id) : NULL;
        fputs("<th scope=\"col\"", c->out);
        if (title) {
            fputs(" title=\"", c->out);
            html_text(c, title);
            fputc('"', c->out);
        }
        fputc('>', c->out);
        html_text(c, id);
        fputs("</th>", c->out);
    }
    fputs("</tr></thead>\n<tbody>\n", c->out);
    size_t i;
    json_t *d;
    json_array_foreach(devs, i, d) matrix_row(c, i + 1, d, obls);
    fputs("</tbody></table>\n", c->out);
    legend(c);
    obligation_key(c, obls);
    fputs("</section>\n", c->out);
}

static void head(struct html_ctx *c)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'\">\n<meta name=\"referrer\" content=\"no-referrer\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<title>assay report ",
          c->out);
    html_text(c, html_str(c->rec, "id"));
    fprintf(c->out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", css);
}

int report_html(const json_t *rec, const char *run_dir, const struct catalogue *cat, FILE *out,
                struct assay_error *err)
{
    struct html_ctx c = {.out = out, .rec = rec, .run_dir = run_dir, .cat = cat};
    head(&c);
    fputs("<header>\n<h1>Conformance test report</h1>\n<p class=\"sub\">", out);
    html_text(&c, html_str(json_object_get(rec, "bench"), "name"));
    fputs(" \u2014 ", out);
    html_text(&c, html_str(rec, "id"));
    fputs("</p>\n", out);
    provenance(&c);
    counts(&c);
    fputs("</header>\n<main>\n", out);
    matrix(&c);
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(rec, "devices"), i, d) html_device(&c, i + 1, d);
    fputs("</main>\n<footer><p class=\"note\">Rendered by assay from run.json, the canonical "
          "record of the run. Text a device sent is shown with control, bidirectional and tag "
          "characters replaced by visible escapes such as \\x1b or &lt;U+202E&gt;.</p></footer>\n"
          "</body>\n</html>\n",
          out);
    if (c.rc)
        return assay_fail(err, c.rc, "report.html: out of memory");
    if (ferror(out))
        return assay_fail(err, ASSAY_EIO, "report.html: write failed");
    return 0;
}

struct html_job {
    const json_t *rec;
    const char *run_dir;
    const struct catalogue *cat;
};

static int render(void *ctx, FILE *out, struct assay_error *err)
{
    const struct html_job *j = ctx;
    return report_html(j->rec, j->run_dir, j->cat, out, err);
}

int report_html_write(const json_t *rec, const char *run_dir, const struct catalogue *cat,
                      struct assay_error *err)
{
    struct html_job j = {rec, run_dir, cat};
    return report_file_write(run_dir, "report.html", render, &j, err);
}
