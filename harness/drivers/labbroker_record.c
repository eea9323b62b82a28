/*
 * labbroker_record.c: reads the lab broker's evidence as it grows: the
 * recording plugin's record.tsv (CONNECTs and PUBLISHes, hex fields) and
 * mosquitto's log (every TCP connection it accepted). See labbroker.h.
 */
#include "drivers/labbroker_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_BYTES (1u << 20) /* a longer record line is dropped */
#define MAX_CONN_PORTS 8192

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Decodes a hex field into a new buffer (NUL-terminated); "-" gives NULL with *n = 0. */
static uint8_t *unhex(const char *f, size_t flen, size_t *n, bool *ok)
{
    *n = 0;
    if (flen == 1 && f[0] == '-')
        return NULL;
    uint8_t *out = malloc(flen / 2 + 1);
    if (!out || flen % 2) {
        *ok = false;
        free(out);
        return NULL;
    }
    for (size_t i = 0; i < flen; i += 2) {
        int hi = hexval(f[i]), lo = hexval(f[i + 1]);
        if (hi < 0 || lo < 0) {
            *ok = false;
            free(out);
            return NULL;
        }
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    *n = flen / 2;
    out[*n] = 0;
    return out;
}

/* Copies decoded text into a fixed buffer, cut at size - 1. */
static void copy_text(char *dst, size_t size, const uint8_t *src, size_t n)
{
    size_t k = n < size - 1 ? n : size - 1;
    if (src)
        memcpy(dst, src, k);
    dst[src ? k : 0] = 0;
}

/* Splits a line at tabs; returns the number of fields (at most max). */
static size_t split(char *line, char **f, size_t *len, size_t max)
{
    size_t n = 0;
    char *p = line;
    while (n < max) {
        char *tab = strchr(p, '\t');
        f[n] = p;
        len[n] = tab ? (size_t)(tab - p) : strlen(p);
        n++;
        if (!tab)
            break;
        *tab = 0;
        p = tab + 1;
    }
    return n;
}

static int64_t since_ready(const struct labbroker *b, const char *mono)
{
    long long t = strtoll(mono, NULL, 10);
    return t > b->ready_at ? (int64_t)(t - b->ready_at) : 0;
}

static bool is_harness(const char *id)
{
    return strncmp(id, LABBROKER_HARNESS_ID, strlen(LABBROKER_HARNESS_ID)) == 0;
}

static void note(struct labbroker *b, const char *event, const char *summary)
{
    char peer[96];
    snprintf(peer, sizeof(peer), "%s:%u", b->address, (unsigned)b->o.port);
    transcript_note(b->o.sink, "mqtt", peer, event, summary);
}

static int add_connect(struct labbroker *b, char **f, size_t *len, struct assay_error *err)
{
    bool ok = true;
    size_t n[4];
    uint8_t *id = unhex(f[2], len[2], &n[0], &ok);
    uint8_t *user = unhex(f[3], len[3], &n[1], &ok);
    uint8_t *pass = unhex(f[4], len[4], &n[2], &ok);
    uint8_t *peer = unhex(f[5], len[5], &n[3], &ok);
    int rc = 0;
    if (ok && !is_harness(id ? (char *)id : "")) {
        b->rec.connects_seen++;
        if (b->rec.nconnects < LABBROKER_MAX_CONNECTS) {
            if (b->rec.nconnects == b->cap_connects) {
                size_t cap = b->cap_connects ? 2 * b->cap_connects : 8;
                void *p = realloc(b->rec.connects, cap * sizeof(*b->rec.connects));
                if (!p) {
                    rc = assay_fail(err, ASSAY_ENOMEM, "lab broker record: out of memory");
                    goto out;
                }
                b->rec.connects = p;
                b->cap_connects = cap;
            }
            struct labbroker_connect *c = &b->rec.connects[b->rec.nconnects++];
            memset(c, 0, sizeof(*c));
            copy_text(c->client_id, sizeof(c->client_id), id, n[0]);
            copy_text(c->username, sizeof(c->username), user, n[1]);
            copy_text(c->peer, sizeof(c->peer), peer, n[3]);
            c->has_username = user != NULL;
            c->password = pass;
            c->password_len = n[2];
            c->at_ms = since_ready(b, f[1]);
            pass = NULL;
            char line[LABBROKER_ID_MAX * 2 + 64];
            snprintf(line, sizeof(line), "CONNECT from client id %.*s, username %.*s, %s",
                     LABBROKER_ID_MAX / 2, c->client_id, LABBROKER_ID_MAX / 2,
                     c->has_username ? c->username : "(none)",
                     c->password ? "password present (kept in the observations)" : "no password");
            note(b, "labbroker-connect", line);
        }
    }
out:
    free(id);
    free(user);
    free(pass);
    free(peer);
    return rc;
}

static int add_message(struct labbroker *b, char **f, size_t *len, struct assay_error *err)
{
    bool ok = true;
    size_t n[3];
    uint8_t *id = unhex(f[2], len[2], &n[0], &ok);
    uint8_t *topic = unhex(f[3], len[3], &n[1], &ok);
    uint8_t *payload = unhex(f[7], len[7], &n[2], &ok);
    int rc = 0;
    if (ok && topic && !is_harness(id ? (char *)id : "")) {
        b->rec.messages_seen++;
        if (b->rec.nmessages < LABBROKER_MAX_MESSAGES) {
            if (b->rec.nmessages == b->cap_messages) {
                size_t cap = b->cap_messages ? 2 * b->cap_messages : 16;
                void *p = realloc(b->rec.messages, cap * sizeof(*b->rec.messages));
                if (!p) {
                    rc = assay_fail(err, ASSAY_ENOMEM, "lab broker record: out of memory");
                    goto out;
                }
                b->rec.messages = p;
                b->cap_messages = cap;
            }
            struct labbroker_message *m = &b->rec.messages[b->rec.nmessages++];
            memset(m, 0, sizeof(*m));
            copy_text(m->client_id, sizeof(m->client_id), id, n[0]);
            m->topic = (char *)topic;
            m->payload = payload;
            m->kept = n[2];
            m->size = (size_t)strtoull(f[4], NULL, 10);
            m->retained = f[5][0] == '1';
            m->qos = (int)strtol(f[6], NULL, 10);
            m->at_ms = since_ready(b, f[1]);
            topic = payload = NULL;
            char line[512];
            snprintf(line, sizeof(line), "PUBLISH from %.200s on %.200s: %zu bytes%s", m->client_id,
                     m->topic, m->size, m->retained ? ", retained" : "");
            note(b, "labbroker-publish", line);
        }
    }
out:
    free(id);
    free(topic);
    free(payload);
    return rc;
}

static int record_line(struct labbroker *b, char *line, struct assay_error *err)
{
    char *f[8];
    size_t len[8];
    size_t n = split(line, f, len, 8);
    if (n == 6 && !strcmp(f[0], "C"))
        return add_connect(b, f, len, err);
    if (n == 8 && !strcmp(f[0], "M"))
        return add_message(b, f, len, err);
    return 0; /* a torn or unknown line: ignored */
}

/* The port of "A:P" at p (after "from "), or 0. */
static unsigned port_after(const char *p)
{
    const char *end = p + strcspn(p, " ");
    const char *colon = NULL;
    for (const char *q = p; q < end; q++)
        if (*q == ':')
            colon = q;
    return colon ? (unsigned)strtoul(colon + 1, NULL, 10) : 0;
}

void labbroker_record_harness_port(struct labbroker *b, unsigned port)
{
    if (port && b->nharness_ports < LABBROKER_MAX_PORTS)
        b->harness_ports[b->nharness_ports++] = port;
}

static void log_line(struct labbroker *b, const char *line)
{
    const char *p = strstr(line, "New connection from ");
    if (p) {
        unsigned port = port_after(p + strlen("New connection from "));
        b->log_connections++;
        for (size_t i = 0; i < b->nharness_ports; i++)
            if (b->harness_ports[i] == port)
                b->log_harness++;
        return;
    }
    p = strstr(line, "New client connected from ");
    if (p && strstr(p, " as " LABBROKER_HARNESS_ID)) {
        labbroker_record_harness_port(b, port_after(p + strlen("New client connected from ")));
        b->log_harness++;
    }
}

/* Reads complete new lines of path from *off; calls fn for each. */
static int read_lines(struct labbroker *b, const char *path, long *off, bool record,
                      struct assay_error *err)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return 0; /* not written yet */
    int rc = 0;
    if (fseek(fp, *off, SEEK_SET) == 0) {
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        while (rc == 0 && (n = getline(&line, &cap, fp)) > 0) {
            if (line[n - 1] != '\n')
                break; /* unfinished: read again next time */
            *off += n;
            line[n - 1] = 0;
            if ((size_t)n > LINE_MAX_BYTES)
                continue;
            if (record)
                rc = record_line(b, line, err);
            else
                log_line(b, line);
        }
        free(line);
    }
    fclose(fp);
    return rc;
}

int labbroker_record_read(struct labbroker *b, struct assay_error *err)
{
    int rc = read_lines(b, b->record_path, &b->record_off, true, err);
    if (rc == 0)
        rc = read_lines(b, b->log, &b->log_off, false, err);
    b->rec.tcp_connections =
        b->log_connections > b->log_harness ? b->log_connections - b->log_harness : 0;
    b->rec.elapsed_ms = clock_now_ms() - b->ready_at;
    return rc;
}

void labbroker_record_release(struct labbroker *b)
{
    for (size_t i = 0; i < b->rec.nconnects; i++)
        free(b->rec.connects[i].password);
    for (size_t i = 0; i < b->rec.nmessages; i++) {
        free(b->rec.messages[i].topic);
        free(b->rec.messages[i].payload);
    }
    free(b->rec.connects);
    free(b->rec.messages);
    memset(&b->rec, 0, sizeof(b->rec));
}
