/* html_device.c: one device's section of report.html: identity, dossier, assessor items, test
 * cases. */
#include <string.h>

#include "html_escape.h"
#include "html_internal.h"

static void ident_row(struct html_ctx *c, const char *label, const json_t *v)
{
    fprintf(c->out, "<tr><th scope=\"row\">%s</th><td>", label);
    if (v && !json_is_null(v))
        html_json(c, v, 500);
    else
        fputs("\u2014", c->out);
    fputs("</td></tr>\n", c->out);
}

static void identity(struct html_ctx *c, const json_t *dev)
{
    static const char *const keys[][2] = {
        {"model", "Model"},       {"serial", "Serial number"}, {"mac", "MAC address"},
        {"firmware", "Firmware"}, {"address", "Address"},      {"state", "State"},
    };
    fputs("<table class=\"ident\"><caption>Identity</caption><tbody>\n", c->out);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        ident_row(c, keys[i][1], json_object_get(dev, keys[i][0]));
    size_t k;
    json_t *x;
    fputs("<tr><th scope=\"row\">Interfaces</th><td>", c->out);
    json_array_foreach(json_object_get(dev, "interfaces"), k, x)
    {
        fputs(k ? "; " : "", c->out);
        html_text(c, html_str(x, "kind"));
        if (json_object_get(x, "port")) {
            fputs(" port ", c->out);
            html_json(c, json_object_get(x, "port"), 20);
        }
    }
    fputs("</td></tr>\n<tr><th scope=\"row\">Credentials supplied</th><td>", c->out);
    json_array_foreach(json_object_get(dev, "credentials"), k, x)
    {
        fputs(k ? "; " : "", c->out);
        html_text(c, html_str(x, "role"));
        fputs(" (", c->out);
        html_text(c, html_str(x, "origin"));
        fputs(")", c->out);
    }
    fputs(json_array_size(json_object_get(dev, "credentials")) ? "" : "none", c->out);
    fputs("</td></tr>\n<tr><th scope=\"row\">Categories allowed</th><td>", c->out);
    json_array_foreach(json_object_get(dev, "allowed"), k, x)
    {
        fputs(k ? ", " : "", c->out);
        html_json(c, x, 40);
    }
    fputs("</td></tr>\n</tbody></table>\n", c->out);
}

static void dossier(struct html_ctx *c, const json_t *dev)
{
    const json_t *d = json_object_get(dev, "dossier");
    fputs("<h3>Dossier</h3>\n", c->out);
    if (!json_is_object(d)) {
        fputs("<p class=\"note\">The run record carries no dossier summary for this device; see "
              "the dossier named in the bench file.</p>\n",
              c->out);
        return;
    }
    fputs("<table class=\"dossier\"><tbody>\n", c->out);
    const char *key;
    json_t *v;
    size_t shown = 0;
    json_object_foreach((json_t *)d, key, v)
    {
        if (shown++ == 24)
            break;
        fputs("<tr><th scope=\"row\">", c->out);
        html_text(c, key);
        fputs("</th><td>", c->out);
        html_json(c, v, 600);
        fputs("</td></tr>\n", c->out);
    }
    fputs("</tbody></table>\n", c->out);
}

/* Links to an obligation's details: "#d<n>-o<m>". */
/* Says when the device's packet capture is missing or incomplete: the verdicts
 * still stand on the transcript, but the reader should know. */
static void capture_notice(struct html_ctx *c, const json_t *dev)
{
    const json_t *cap = json_object_get(dev, "capture");
    if (!json_is_object(cap))
        return;
    if (!json_is_true(json_object_get(cap, "enabled"))) {
        fputs("<p class=\"note\">No packet capture was made for this device: ", c->out);
        html_text(c, *html_str(cap, "reason") ? html_str(cap, "reason") : "no reason recorded");
        fputs(". The transcript is the record of what was exchanged.</p>\n", c->out);
        return;
    }
    json_int_t dropped = json_integer_value(json_object_get(cap, "dropped"));
    json_int_t over = json_integer_value(json_object_get(cap, "not_written"));
    if (dropped <= 0 && over <= 0)
        return;
    fputs("<p class=\"note\">The packet capture of this device is incomplete:", c->out);
    if (dropped > 0)
        fprintf(c->out, " %lld packet(s) arrived faster than they could be recorded;",
                (long long)dropped);
    if (over > 0)
        fprintf(c->out, " %lld packet(s) came after the capture file reached its limit of %lld MB;",
                (long long)over,
                (long long)(json_integer_value(json_object_get(cap, "file_limit_bytes")) >> 20));
    fputs(" the transcript still records every exchange.</p>\n", c->out);
}

static void assessor_items(struct html_ctx *c, size_t n, const json_t *dev)
{
    size_t k, shown = 0;
    json_t *x;
    fputs("<h3>Items the assessor must still decide</h3>\n<ul class=\"assessor\">\n", c->out);
    json_array_foreach(json_object_get(dev, "obligations"), k, x)
    {
        const char *v = html_str(x, "verdict");
        if (strcmp(v, "INCONCLUSIVE"))
            continue;
        shown++;
        fprintf(c->out, "<li><a href=\"#d%zu-o%zu\">", n, k + 1);
        html_text(c, html_str(x, "id"));
        fputs("</a>: ", c->out);
        html_verdict_badge(c, x);
        if (*html_str(x, "rationale")) {
            fputs(" \u2014 ", c->out);
            html_text(c, html_str(x, "rationale"));
        }
        fputs("</li>\n", c->out);
    }
    if (!shown)
        fputs("<li>None.</li>\n", c->out);
    fputs("</ul>\n", c->out);
}

static const json_t *find_testcase(const json_t *dev, const char *id)
{
    size_t k;
    json_t *tc;
    json_array_foreach(json_object_get(dev, "testcases"), k,
                       tc) if (!strcmp(html_str(tc, "id"), id)) return tc;
    return NULL;
}

static void tc_row(struct html_ctx *c, const char *label, const json_t *v)
{
    if (!v || json_is_null(v))
        return;
    fprintf(c->out, "<tr><th scope=\"row\">%s</th><td>", label);
    if (json_is_array(v)) {
        size_t k;
        json_t *x;
        json_array_foreach(v, k, x)
        {
            fputs(k ? ", " : "", c->out);
            html_json(c, x, 400);
        }
    } else {
        html_json(c, v, HTML_ESCAPE_MAX);
    }
    fputs("</td></tr>\n", c->out);
}

struct device_evidence {
    const json_t *transcript;
    const char *capture; /* relative to run_dir, or NULL */
};

static void testcase(struct html_ctx *c, const char *anchor, const json_t *tc,
                     const struct device_evidence *ev)
{
    fprintf(c->out, "<article class=\"tc\" id=\"%s\">\n<h4>Test case ", anchor);
    html_text(c, html_str(tc, "id"));
    if (*html_str(tc, "title")) {
        fputs(": ", c->out);
        html_text(c, html_str(tc, "title"));
    }
    fprintf(c->out, " <span class=\"badge v v-%s\">", html_verdict_class(tc));
    html_verdict_badge(c, tc);
    fputs("</span></h4>\n<table class=\"tcinfo\"><tbody>\n", c->out);
    tc_row(c, "Verdict", json_object_get(tc, "verdict"));
    tc_row(c, "Rationale", json_object_get(tc, "rationale"));
    tc_row(c, "To be resolved by", json_object_get(tc, "resolve"));
    tc_row(c, "Obligations", json_object_get(tc, "obligations"));
    tc_row(c, "Category", json_object_get(tc, "category"));
    tc_row(c, "Scope", json_object_get(tc, "scope"));
    tc_row(c, "Units judged together", json_object_get(tc, "units"));
    tc_row(c, "Version", json_object_get(tc, "version"));
    tc_row(c, "Started (UTC)", json_object_get(tc, "started"));
    tc_row(c, "Finished (UTC)", json_object_get(tc, "finished"));
    tc_row(c, "Duration (ms)", json_object_get(tc, "duration_ms"));
    tc_row(c, "Parameters", json_object_get(tc, "parameters"));
    fputs("</tbody></table>\n", c->out);
    html_observations(c, tc);
    html_transcript(c, tc, ev->transcript);
    html_capture(c, tc, ev->capture);
    fputs("</article>\n", c->out);
}

static void obligation(struct html_ctx *c, size_t n, size_t m, const json_t *dev,
                       const json_t *cell, const struct device_evidence *ev)
{
    const char *id = html_str(cell, "id");
    const char *title = html_obligation_title(c, id);
    fprintf(c->out, "<section class=\"obl\" id=\"d%zu-o%zu\">\n<h3>", n, m);
    html_text(c, id);
    if (title) {
        fputs(": ", c->out);
        html_text(c, title);
    }
    fprintf(c->out, " <span class=\"badge v v-%s\">", html_verdict_class(cell));
    html_verdict_badge(c, cell);
    fputs("</span></h3>\n", c->out);
    if (json_is_true(json_object_get(cell, "informative")))
        fputs("<p class=\"note\">Informative: not a legal obligation.</p>\n", c->out);
    if (*html_str(cell, "rationale")) {
        fputs("<p>", c->out);
        html_json(c, json_object_get(cell, "rationale"), HTML_ESCAPE_MAX);
        fputs("</p>\n", c->out);
    }
    const json_t *ids = json_object_get(cell, "testcases");
    if (!json_array_size(ids))
        fputs("<p class=\"note\">No test case evidences this obligation on this device.</p>\n",
              c->out);
    size_t k;
    json_t *x;
    json_array_foreach(ids, k, x)
    {
        const json_t *tc = json_is_string(x) ? find_testcase(dev, json_string_value(x)) : NULL;
        char anchor[64];
        snprintf(anchor, sizeof(anchor), "d%zu-o%zu-t%zu", n, m, k + 1);
        if (tc) {
            testcase(c, anchor, tc, ev);
        } else {
            fputs("<p class=\"note\">Test case ", c->out);
            html_json(c, x, 200);
            fputs(" is named by the roll-up but missing from the record.</p>\n", c->out);
        }
    }
    fputs("</section>\n", c->out);
}

void html_device(struct html_ctx *c, size_t n, const json_t *dev)
{
    const char *id = html_str(dev, "id");
    fprintf(c->out,
            "<section class=\"device\" id=\"d%zu\" aria-labelledby=\"d%zu-h\">\n"
            "<h2 id=\"d%zu-h\">Device ",
            n, n, n);
    html_text(c, id);
    fputs("</h2>\n", c->out);
    identity(c, dev);
    dossier(c, dev);
    capture_notice(c, dev);
    assessor_items(c, n, dev);

    char capture[512];
    struct device_evidence ev = {NULL, NULL};
    json_t *transcript = html_transcript_load(c, id);
    ev.transcript = transcript;
    if ((size_t)snprintf(capture, sizeof(capture), "devices/%s/capture.pcap", id) <
            sizeof(capture) &&
        html_safe_relpath(capture) && !strchr(id, '/'))
        ev.capture = capture;

    fputs("<h3>Obligations</h3>\n", c->out);
    size_t k;
    json_t *cell;
    json_array_foreach(json_object_get(dev, "obligations"), k, cell)
        obligation(c, n, k + 1, dev, cell, &ev);
    json_decref(transcript);
    fputs("</section>\n", c->out);
}
