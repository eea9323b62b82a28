/* transcript_file.c: the JSON-lines transcript sink (see transcript_file.h). */
#include "transcript_file.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"

static const char *dir_name(enum transcript_dir d)
{
    switch (d) {
    case TRANSCRIPT_SEND: return "send";
    case TRANSCRIPT_RECV: return "recv";
    default: return "note";
    }
}

static json_t *hex(const uint8_t *b, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char *s = malloc(n * 2 + 1);
    if (!s)
        return json_null();
    for (size_t i = 0; i < n; i++) {
        s[2 * i] = digits[b[i] >> 4];
        s[2 * i + 1] = digits[b[i] & 15];
    }
    s[2 * n] = 0;
    json_t *j = json_string(s);
    free(s);
    return j;
}

static void write_entry(void *ctx, const struct transcript_entry *e)
{
    struct transcript_file *t = ctx;
    char now[CLOCK_UTC_MAX];
    if (t->fd < 0)
        return;
    json_t *o =
        json_pack("{s:s, s:I, s:s, s:s?, s:s, s:s?, s:s?}", "utc", clock_utc_now(now), "mono_ms",
                  (json_int_t)clock_now_ms(), "testcase", t->testcase, "protocol", e->protocol,
                  "dir", dir_name(e->dir), "peer", e->peer, "event", e->event);
    if (!o)
        return;
    if (e->summary) {
        json_t *s = json_string(e->summary);
        json_object_set_new(o, "summary", s ? s : json_string("(not UTF-8)"));
    }
    if (e->bytes) {
        size_t n = e->nbytes > TRANSCRIPT_MAX_BYTES ? TRANSCRIPT_MAX_BYTES : e->nbytes;
        json_object_set_new(o, "bytes", hex(e->bytes, n));
        json_object_set_new(o, "nbytes", json_integer((json_int_t)e->nbytes));
        if (n < e->nbytes)
            json_object_set_new(o, "truncated", json_true());
    }
    if (e->detail_json) {
        json_error_t je;
        json_t *d = json_loads(e->detail_json, 0, &je);
        if (d)
            json_object_set_new(o, "detail", d);
    }
    char *text = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(o);
    if (!text)
        return;
    size_t len = strlen(text);
    char *line = realloc(text, len + 2);
    if (!line) {
        free(text);
        return;
    }
    line[len] = '\n';
    ssize_t w = write(t->fd, line, len + 1);
    (void)w; /* a transcript write that fails must not end the probe */
    free(line);
}

int transcript_file_open(struct transcript_file *t, const char *path, struct assay_error *err)
{
    memset(t, 0, sizeof(*t));
    t->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (t->fd < 0)
        return assay_fail(err, ASSAY_EIO, "cannot open %s: %s", path, strerror(errno));
    t->sink.write = write_entry;
    t->sink.ctx = t;
    return 0;
}

void transcript_file_set_testcase(struct transcript_file *t, const char *id)
{
    snprintf(t->testcase, sizeof(t->testcase), "%s", id ? id : "");
}

void transcript_file_close(struct transcript_file *t)
{
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
}
