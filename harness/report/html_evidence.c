/* html_evidence.c: a test case's observations, transcript excerpt and capture in report.html. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "html_escape.h"
#include "html_internal.h"

#define OBSERVATIONS_MAX_FILE (4u << 20) /* larger observation files are linked, not shown */
#define OBSERVATIONS_MAX_KEYS 32
#define TRANSCRIPT_MAX_FILE (32u << 20)
#define TRANSCRIPT_MAX_LINES 100000
#define TRANSCRIPT_MAX_SHOWN 80 /* transcript lines shown per test case */
#define HEX_MAX_SHOWN 96        /* hex digits shown per transcript line */

/* run_dir/rel into buf; false when there is no run_dir, rel is unsafe or too long. */
static bool under_run_dir(const struct html_ctx *c, const char *rel, char *buf, size_t size)
{
    return c->run_dir && html_safe_relpath(rel) &&
           (size_t)snprintf(buf, size, "%s/%s", c->run_dir, rel) < size;
}

static void file_link(struct html_ctx *c, const char *rel, const char *what)
{
    fputs("<a href=\"", c->out);
    html_text(c, rel);
    fprintf(c->out, "\">%s <code>", what);
    html_text(c, rel);
    fputs("</code></a>", c->out);
}

void html_observations(struct html_ctx *c, const json_t *tc)
{
    const char *rel = html_str(tc, "observations");
    char path[PATH_MAX];
    if (!*rel)
        return;
    fputs("<h5>Key observations</h5>\n", c->out);
    if (!under_run_dir(c, rel, path, sizeof(path))) {
        fputs("<p class=\"note\">Observations stored at <code>", c->out);
        html_text(c, rel);
        fputs("</code> (not shown: not a plain path inside the run directory).</p>\n", c->out);
        return;
    }
    struct stat st;
    json_error_t je;
    json_t *obs = NULL;
    if (stat(path, &st) == 0 && st.st_size <= (off_t)OBSERVATIONS_MAX_FILE)
        obs = json_load_file(path, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    fputs("<p>", c->out);
    file_link(c, rel, "Observations file");
    fputs(obs ? "</p>\n" : " (missing, too large or not JSON)</p>\n", c->out);
    if (!json_is_object(obs)) {
        if (obs) {
            fputs("<pre>", c->out);
            html_json(c, obs, HTML_ESCAPE_MAX);
            fputs("</pre>\n", c->out);
        }
        json_decref(obs);
        return;
    }
    fputs("<table class=\"obs ev\"><thead><tr><th scope=\"col\">Observation</th>"
          "<th scope=\"col\">Value</th></tr></thead><tbody>\n",
          c->out);
    const char *key;
    json_t *v;
    size_t n = 0;
    json_object_foreach(obs, key, v)
    {
        if (n++ == OBSERVATIONS_MAX_KEYS)
            break;
        fputs("<tr><th scope=\"row\">", c->out);
        html_text(c, key);
        fputs("</th><td class=\"mono\">", c->out);
        html_json(c, v, 1000);
        fputs("</td></tr>\n", c->out);
    }
    fputs("</tbody></table>\n", c->out);
    if (json_object_size(obs) > OBSERVATIONS_MAX_KEYS)
        fprintf(c->out, "<p class=\"note\">%zu more observations in the file.</p>\n",
                json_object_size(obs) - OBSERVATIONS_MAX_KEYS);
    json_decref(obs);
}

json_t *html_transcript_load(const struct html_ctx *c, const char *device_id)
{
    char rel[512], path[PATH_MAX];
    if (strchr(device_id, '/') ||
        (size_t)snprintf(rel, sizeof(rel), "devices/%s/transcript.jsonl", device_id) >=
            sizeof(rel) ||
        !under_run_dir(c, rel, path, sizeof(path)))
        return NULL;
    struct stat st;
    if (stat(path, &st) != 0 || st.st_size > (off_t)TRANSCRIPT_MAX_FILE)
        return NULL;
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    json_t *all = json_array();
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while (all && json_array_size(all) < TRANSCRIPT_MAX_LINES &&
           (len = getline(&line, &cap, f)) > 0) {
        json_error_t je;
        json_t *e = json_loadb(line, (size_t)len, JSON_ALLOW_NUL, &je);
        if (json_is_object(e))
            json_array_append(all, e);
        json_decref(e);
    }
    free(line);
    fclose(f);
    return all;
}

static void hex_cell(struct html_ctx *c, const json_t *e)
{
    const json_t *hex = json_object_get(e, "bytes");
    if (!json_is_string(hex))
        return;
    size_t len = json_string_length(hex);
    html_escape_write(c->out, json_string_value(hex), len < HEX_MAX_SHOWN ? len : HEX_MAX_SHOWN, 0);
    if (len > HEX_MAX_SHOWN)
        fputs("\u2026", c->out);
    if (json_is_integer(json_object_get(e, "nbytes")))
        fprintf(c->out, " (%lld bytes)",
                (long long)json_integer_value(json_object_get(e, "nbytes")));
}

static void transcript_row(struct html_ctx *c, const json_t *e)
{
    static const char *const cols[] = {"utc", "dir", "protocol", "peer", "event"};
    fputs("<tr>", c->out);
    for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
        fputs("<td>", c->out);
        html_json(c, json_object_get(e, cols[i]), 200);
        fputs("</td>", c->out);
    }
    fputs("<td>", c->out);
    html_json(c, json_object_get(e, "summary"), 1000);
    if (json_object_get(e, "detail")) {
        fputs("<br><span class=\"mono\">", c->out);
        html_json(c, json_object_get(e, "detail"), 1000);
        fputs("</span>", c->out);
    }
    fputs("</td><td class=\"mono\">", c->out);
    hex_cell(c, e);
    fputs("</td></tr>\n", c->out);
}

void html_transcript(struct html_ctx *c, const json_t *tc, const json_t *transcript)
{
    const char *id = html_str(tc, "id");
    size_t i, shown = 0, total = 0;
    json_t *e;
    json_array_foreach(transcript, i, e) total += !strcmp(html_str(e, "testcase"), id);
    fputs("<h5>Transcript</h5>\n", c->out);
    if (!total) {
        fputs("<p class=\"note\">No transcript lines for this test case.</p>\n", c->out);
        return;
    }
    fprintf(c->out,
            "<table class=\"transcript ev\"><caption>%zu transcript line%s of this test "
            "case</caption><thead><tr><th scope=\"col\">Time (UTC)</th><th scope=\"col\">"
            "Direction</th><th scope=\"col\">Protocol</th><th scope=\"col\">Peer</th>"
            "<th scope=\"col\">Event</th><th scope=\"col\">Summary</th><th scope=\"col\">"
            "Bytes (hex)</th></tr></thead><tbody>\n",
            total, total == 1 ? "" : "s");
    json_array_foreach(transcript, i, e)
    {
        if (strcmp(html_str(e, "testcase"), id))
            continue;
        if (shown++ == TRANSCRIPT_MAX_SHOWN)
            break;
        transcript_row(c, e);
    }
    fputs("</tbody></table>\n", c->out);
    if (total > TRANSCRIPT_MAX_SHOWN)
        fprintf(c->out, "<p class=\"note\">%zu more lines in the transcript file.</p>\n",
                total - TRANSCRIPT_MAX_SHOWN);
}

void html_capture(struct html_ctx *c, const json_t *tc, const char *capture)
{
    const char *dev_dir_end = capture ? strrchr(capture, '/') : NULL;
    char path[PATH_MAX];
    fputs("<h5>Exact evidence</h5>\n<ul class=\"files\">\n", c->out);
    if (dev_dir_end) {
        char rel[512];
        snprintf(rel, sizeof(rel), "%.*s/transcript.jsonl", (int)(dev_dir_end - capture), capture);
        if (under_run_dir(c, rel, path, sizeof(path)) && access(path, R_OK) == 0) {
            fputs("<li>", c->out);
            file_link(c, rel, "Transcript");
            fputs(" (lines whose <code>testcase</code> is ", c->out);
            html_text(c, html_str(tc, "id"));
            fputs(")</li>\n", c->out);
        }
    }
    if (capture && under_run_dir(c, capture, path, sizeof(path)) && access(path, R_OK) == 0) {
        fputs("<li>", c->out);
        file_link(c, capture, "Capture");
        fputs(": the packets of this test case are those from ", c->out);
        html_text(c, *html_str(tc, "started") ? html_str(tc, "started") : "its start");
        fputs(" to ", c->out);
        html_text(c, *html_str(tc, "finished") ? html_str(tc, "finished") : "its end");
        fputs(" (UTC)</li>\n", c->out);
    } else {
        fputs("<li>No packet capture was recorded for this device.</li>\n", c->out);
    }
    fputs("</ul>\n", c->out);
}
