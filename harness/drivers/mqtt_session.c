/*
 * mqtt_session.c: the raw engine of the MQTT driver (mqtt.h, mqtt_internal.h):
 * an MQTT 3.1.1 session over mqtt_conn.h (plain TCP or TLS) whose every
 * packet is read by the bounded parser into a fixed receive buffer.
 *
 * A packet that fits the buffer (64 KiB and a header: any CONNACK, SUBACK or
 * ack, and a PUBLISH with a topic and payload of that size) is read whole. A
 * larger PUBLISH is read in place up to what is left of the collection's byte
 * budget, and the session ends there; any other packet declaring more than
 * the buffer is a protocol violation that ends the session. So a broker
 * that declares 256 MB or floods the session costs at most the buffer and
 * the budget, and the collection stops at its count, byte, time or quiet
 * bound with the reason as data.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mqtt_conn.h"
#include "mqtt_internal.h"
#include "mqtt_raw.h"

#define RX_CAP (65536u + 16u) /* the largest packet read whole (a 65535-byte topic fits) */
#define CLOSE_DRAIN_MS 50
#define DISCONNECT_MS 100

struct mqttrs {
    struct mqttconn conn;
    const struct transcript_sink *sink;
    char peer[MQTTDRV_PEER_MAX];
    int timeout_ms;
    int keepalive_ms;
    assay_ms last_send;
    bool connected;
    uint16_t next_pid;
    size_t nrx;
    uint8_t rx[RX_CAP];
};

enum rd { RD_OK = 0, RD_TIMEOUT, RD_CLOSED, RD_BAD, RD_BIG };

bool mqttrs_serves(const struct mqttdrv_connect_opts *o)
{
    return o && !o->paho && (o->version == 0 || o->version == 4) &&
           (!o->password || strlen(o->password) == o->password_len);
}

bool mqttrs_connected(const struct mqttrs *s)
{
    return s && s->connected && mqttconn_is_open(&s->conn);
}

static void note(const struct mqttrs *s, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void note(const struct mqttrs *s, const char *event, const char *fmt, ...)
{
    char line[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    mqttdrv_log(s->sink, "mqtt", s->peer, TRANSCRIPT_NOTE, event, NULL, 0, "%s", line);
}

static int send_bytes(struct mqttrs *s, const uint8_t *b, size_t n, assay_ms deadline)
{
    struct assay_error ignored;
    int rc = mqttconn_send(&s->conn, b, n, deadline, &ignored);
    if (rc == ASSAY_ENET)
        s->connected = false;
    if (rc == 0)
        s->last_send = clock_now_ms();
    return rc;
}

static int send_frame(struct mqttrs *s, struct mqttraw_frame *f, assay_ms deadline)
{
    int rc = send_bytes(s, f->bytes, f->len, deadline);
    mqttraw_frame_free(f);
    return rc;
}

static void send_ack(struct mqttrs *s, enum mqttraw_type type, int pid, assay_ms deadline)
{
    uint8_t b[4];
    mqttraw_ack_frame(b, type, (uint16_t)pid);
    send_bytes(s, b, sizeof b, deadline);
}

/* Reads more into the receive buffer. RD_OK, RD_TIMEOUT or RD_CLOSED. */
static enum rd fill(struct mqttrs *s, assay_ms deadline)
{
    struct assay_error ignored;
    size_t got = 0;
    if (s->nrx >= RX_CAP)
        return RD_BAD;
    int rc = mqttconn_recv(&s->conn, s->rx + s->nrx, RX_CAP - s->nrx, deadline, &got, &ignored);
    if (rc == ASSAY_ETIMEOUT)
        return RD_TIMEOUT;
    if (rc) {
        s->connected = false;
        return RD_CLOSED;
    }
    s->nrx += got;
    return RD_OK;
}

/* The next packet: RD_OK with the whole packet at s->rx, RD_BIG when its header
 * (in pkt) declares more than RX_CAP, or why there is none. */
static enum rd next_packet(struct mqttrs *s, assay_ms deadline, struct mqttraw_packet *pkt)
{
    for (;;) {
        int st = mqttraw_parse(s->rx, s->nrx, pkt);
        if (st == MQTTRAW_PARSE_OK)
            return RD_OK;
        if (st == MQTTRAW_PARSE_BAD)
            return RD_BAD;
        if (pkt->header_len && pkt->total_len > RX_CAP)
            return RD_BIG;
        enum rd r = fill(s, deadline);
        if (r != RD_OK)
            return r;
    }
}

static void consume(struct mqttrs *s, size_t n)
{
    if (n >= s->nrx) {
        s->nrx = 0;
        return;
    }
    memmove(s->rx, s->rx + n, s->nrx - n);
    s->nrx -= n;
}

/* Ends the session after a protocol violation or a loss; says why in c (may be NULL). */
static void lose(struct mqttrs *s, struct mqttdrv_collect *c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void lose(struct mqttrs *s, struct mqttdrv_collect *c, const char *fmt, ...)
{
    char why[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    s->connected = false;
    mqttconn_close(&s->conn, 0);
    note(s, "closed", "connection ended: %s", why);
    if (c) {
        c->stop = MQTTDRV_STOP_LOST;
        snprintf(c->detail, sizeof c->detail, "%s", why);
    }
}

static void describe_end(struct mqttrs *s, enum rd r, const struct mqttraw_packet *pkt, char *out,
                         size_t cap)
{
    if (r == RD_CLOSED)
        snprintf(out, cap, "the broker %s the connection",
                 s->conn.tcp.status == RAWTCP_RESET ? "reset" : "closed");
    else if (r == RD_BIG)
        snprintf(out, cap, "the broker sent a %s declaring %lu bytes", mqttraw_type_name(pkt->type),
                 (unsigned long)pkt->remaining);
    else
        snprintf(out, cap, "the broker sent bytes that are not MQTT (first byte 0x%02x)",
                 pkt->nfirst ? pkt->first[0] : 0);
}

/* ---- open and close ---- */

static void default_id(char *out, size_t cap)
{
    static unsigned counter;
    snprintf(out, cap, "assay-%ld-%u-%lld", (long)getpid(), ++counter,
             (long long)(clock_now_ms() % 100000));
}

static void log_connect(const struct mqttrs *s, const struct mqttdrv_connect_opts *o,
                        const char *id)
{
    char user[96] = "(none)", shown[96];
    if (o->username)
        mqttdrv_escape(o->username, strlen(o->username), user, sizeof user);
    mqttdrv_escape(id, strlen(id), shown, sizeof shown);
    mqttdrv_log(s->sink, "mqtt", s->peer, TRANSCRIPT_SEND, "connect", NULL, 0,
                "CONNECT MQTT 3.1.1%s client_id=%s username: %s password: %s%zu chars%s "
                "timeout=%d ms",
                o->tls.enabled ? " over TLS" : "", shown, user, o->password ? "" : "(none, ",
                o->password ? o->password_len : 0, o->password ? "" : ")", s->timeout_ms);
}

/* Reads the CONNACK into ack. */
static void read_connack(struct mqttrs *s, assay_ms start, assay_ms deadline,
                         struct mqttdrv_connack *ack)
{
    struct mqttraw_packet pkt;
    enum rd r = next_packet(s, deadline, &pkt);
    if (r == RD_OK && pkt.type == MQTTRAW_CONNACK && pkt.remaining == 2) {
        ack->code = pkt.connack_code;
        ack->outcome = ack->code == 0 ? MQTTDRV_ACCEPTED : MQTTDRV_REFUSED;
        consume(s, pkt.total_len);
    } else if (r == RD_TIMEOUT) {
        ack->outcome = MQTTDRV_TIMEOUT;
        snprintf(ack->detail, sizeof ack->detail, "no CONNACK before the deadline");
    } else {
        ack->outcome = MQTTDRV_TRANSPORT;
        if (r == RD_CLOSED)
            describe_end(s, r, &pkt, ack->detail, sizeof ack->detail);
        else
            snprintf(ack->detail, sizeof ack->detail,
                     "the reply was not a CONNACK (%s, %lu bytes declared)",
                     mqttraw_type_name(pkt.type), (unsigned long)pkt.remaining);
    }
    ack->elapsed_ms = clock_now_ms() - start;
    if (ack->code >= 0)
        mqttdrv_log(s->sink, "mqtt", s->peer, TRANSCRIPT_RECV, "connack", NULL, 0,
                    "CONNACK code %d (0x%02x, %s) after %lld ms", ack->code, (unsigned)ack->code,
                    mqttdrv_connack_reason(4, ack->code), (long long)ack->elapsed_ms);
    else
        note(s, ack->outcome == MQTTDRV_TIMEOUT ? "timeout" : "error",
             "no CONNACK (%s) after %lld ms: %s", mqttdrv_outcome_name(ack->outcome),
             (long long)ack->elapsed_ms, ack->detail);
}

int mqttrs_open(const struct mqttdrv_target *t, const struct mqttdrv_connect_opts *o,
                struct mqttrs **out, struct mqttdrv_connack *ack, struct assay_error *err)
{
    struct mqttrs *s;
    struct mqttraw_frame f;
    char idbuf[64];
    const char *id = o->client_id;
    assay_ms start = clock_now_ms(), deadline = start + t->timeout_ms;
    int rc;
    *out = NULL;
    memset(ack, 0, sizeof *ack);
    ack->code = -1;
    if (!(s = calloc(1, sizeof *s)))
        return assay_fail(err, ASSAY_ENOMEM, "mqtt: out of memory");
    s->sink = t->sink;
    s->timeout_ms = t->timeout_ms;
    s->keepalive_ms = (o->keepalive_s > 0 ? o->keepalive_s : 60) * 1000;
    s->next_pid = 1;
    mqttdrv_peer(s->peer, sizeof s->peer, t->host, t->port);
    if (!id) {
        default_id(idbuf, sizeof idbuf);
        id = idbuf;
    }
    if ((rc = mqttraw_connect_frame(&f, id, o->username, o->password,
                                    (uint16_t)(s->keepalive_ms / 1000))) != 0) {
        free(s);
        return assay_fail(err, rc, "mqtt: cannot build the CONNECT");
    }
    log_connect(s, o, id);
    rc = mqttconn_open(&s->conn, t, &o->tls, o->tls.keylog_path, deadline, err);
    if (rc == ASSAY_ETIMEOUT || rc == ASSAY_ENET) {
        ack->outcome = rc == ASSAY_ETIMEOUT ? MQTTDRV_TIMEOUT : MQTTDRV_TRANSPORT;
        ack->elapsed_ms = clock_now_ms() - start;
        snprintf(ack->detail, sizeof ack->detail, "%s", s->conn.detail);
        note(s, rc == ASSAY_ETIMEOUT ? "timeout" : "error", "no CONNACK (%s) after %lld ms: %s",
             mqttdrv_outcome_name(ack->outcome), (long long)ack->elapsed_ms, ack->detail);
        rc = 0;
    }
    if (rc || ack->outcome != MQTTDRV_ACCEPTED || !mqttconn_is_open(&s->conn)) {
        mqttraw_frame_free(&f);
        mqttconn_close(&s->conn, 0);
        free(s);
        return rc;
    }
    s->connected = true;
    if (send_frame(s, &f, deadline) != 0) {
        ack->outcome = MQTTDRV_TRANSPORT;
        snprintf(ack->detail, sizeof ack->detail, "the CONNECT could not be sent (%s)",
                 rawtcp_status_name(s->conn.tcp.status));
        ack->elapsed_ms = clock_now_ms() - start;
    } else {
        read_connack(s, start, deadline, ack);
    }
    if (ack->outcome != MQTTDRV_ACCEPTED) {
        mqttconn_close(&s->conn, ack->outcome == MQTTDRV_REFUSED ? CLOSE_DRAIN_MS : 0);
        free(s);
        return 0;
    }
    *out = s;
    return 0;
}

void mqttrs_close(struct mqttrs *s)
{
    struct mqttraw_frame f;
    if (!s)
        return;
    if (mqttrs_connected(s) && mqttraw_disconnect_frame(&f) == 0) {
        send_frame(s, &f, clock_deadline(DISCONNECT_MS));
        mqttdrv_log(s->sink, "mqtt", s->peer, TRANSCRIPT_SEND, "disconnect", NULL, 0, "DISCONNECT");
    }
    mqttconn_close(&s->conn, CLOSE_DRAIN_MS);
    free(s);
}

/* ---- incoming PUBLISH ---- */

struct pubhdr {
    int qos;
    bool retained, dup;
    int pid;          /* -1 for QoS 0 */
    size_t topic_off; /* from the start of the packet */
    size_t topic_len;
    size_t payload_off; /* from the start of the packet */
    size_t payload_len; /* as declared */
};

/* Decodes a PUBLISH header from the bytes at s->rx (at least `have` of them).
 * Returns 1 when decoded, 0 when more bytes are needed, -1 when malformed. */
static int publish_header(const struct mqttrs *s, const struct mqttraw_packet *pkt, size_t have,
                          struct pubhdr *h)
{
    size_t hl = pkt->header_len;
    h->qos = (pkt->flags >> 1) & 3;
    h->retained = pkt->flags & 1;
    h->dup = (pkt->flags & 8) != 0;
    h->pid = -1;
    if (h->qos == 3)
        return -1;
    if (have < hl + 2)
        return pkt->remaining < 2 ? -1 : 0;
    h->topic_len = (size_t)s->rx[hl] << 8 | s->rx[hl + 1];
    h->topic_off = hl + 2;
    h->payload_off = h->topic_off + h->topic_len + (h->qos ? 2 : 0);
    if (h->payload_off > pkt->total_len)
        return -1;
    if (have < h->payload_off)
        return 0;
    if (h->qos)
        h->pid = s->rx[h->payload_off - 2] << 8 | s->rx[h->payload_off - 1];
    h->payload_len = pkt->total_len - h->payload_off;
    return 1;
}

static void ack_publish(struct mqttrs *s, const struct pubhdr *h, assay_ms deadline)
{
    if (h->qos == 1)
        send_ack(s, MQTTRAW_PUBACK, h->pid, deadline);
    else if (h->qos == 2)
        send_ack(s, MQTTRAW_PUBREC, h->pid, deadline);
}

/* A PUBLISH wholly in the buffer: kept within the budget. Returns 0 or ASSAY_ENOMEM. */
static int keep_small(struct mqttrs *s, struct mqttdrv_collect *c, size_t cap_n, size_t budget,
                      const struct pubhdr *h, int64_t after_ms)
{
    size_t left = budget > c->bytes ? budget - c->bytes : 0;
    size_t keep = h->payload_len < left ? h->payload_len : left;
    uint8_t *p = NULL;
    if (keep) {
        if (!(p = malloc(keep + 1)))
            return ASSAY_ENOMEM;
        memcpy(p, s->rx + h->payload_off, keep);
        p[keep] = '\0';
    }
    return mqttdrv_collect_add(c, cap_n, s->rx + h->topic_off, h->topic_len, p, keep,
                               h->payload_len, h->qos, h->retained, h->dup, after_ms);
}

/*
 * A PUBLISH larger than the buffer: the payload is read in place up to what is
 * left of the budget. When it is longer, the rest is not read and the session
 * ends (stop "bytes"). Returns 0 or ASSAY_ENOMEM; sets *stop when the collection ends.
 */
static int keep_big(struct mqttrs *s, struct mqttdrv_collect *c, size_t cap_n, size_t budget,
                    const struct mqttraw_packet *pkt, assay_ms start, assay_ms deadline, bool *stop)
{
    struct pubhdr h;
    int d;
    while ((d = publish_header(s, pkt, s->nrx, &h)) == 0) {
        enum rd r = fill(s, deadline);
        if (r != RD_OK) {
            char why[160];
            describe_end(s, r, pkt, why, sizeof why);
            if (r == RD_TIMEOUT)
                snprintf(why, sizeof why, "a PUBLISH of %lu bytes stalled in its header",
                         (unsigned long)pkt->remaining);
            lose(s, c, "%s", why);
            *stop = true;
            return 0;
        }
    }
    if (d < 0) {
        lose(s, c, "malformed PUBLISH (%lu bytes declared)", (unsigned long)pkt->remaining);
        *stop = true;
        return 0;
    }
    size_t left = budget > c->bytes ? budget - c->bytes : 0;
    size_t keep = h.payload_len < left ? h.payload_len : left;
    size_t have = s->nrx - h.payload_off, got = have < keep ? have : keep;
    uint8_t *p = keep ? malloc(keep + 1) : NULL;
    if (keep && !p)
        return ASSAY_ENOMEM;
    char topic[MQTTDRV_LOG_BYTES * 4];
    mqttdrv_escape(s->rx + h.topic_off, h.topic_len, topic, sizeof topic);
    if (got)
        memcpy(p, s->rx + h.payload_off, got);
    s->nrx = 0; /* everything buffered belongs to this packet */
    while (got < keep) {
        struct assay_error ignored;
        size_t n = 0;
        if (mqttconn_recv(&s->conn, p + got, keep - got, deadline, &n, &ignored) != 0)
            break;
        got += n;
    }
    if (p)
        p[got] = '\0';
    /* the topic is still in the buffer: payload bytes were read into p, not into rx */
    int rc = mqttdrv_collect_add(c, cap_n, s->rx + h.topic_off, h.topic_len, p, got, h.payload_len,
                                 h.qos, h.retained, h.dup, clock_now_ms() - start);
    if (rc)
        return rc;
    mqttdrv_log_message(s->sink, s->peer, &c->messages[c->n - 1]);
    if (got < h.payload_len) {
        *stop = true;
        c->stop = got == keep ? MQTTDRV_STOP_BYTES : MQTTDRV_STOP_TIME;
        lose(s, NULL, "a PUBLISH of %zu bytes on %s: %zu kept (the byte budget), the rest not read",
             h.payload_len, topic, got);
        if (c->stop == MQTTDRV_STOP_BYTES)
            snprintf(c->detail, sizeof c->detail,
                     "the broker sent a message of %zu bytes; %zu kept, the rest not read",
                     h.payload_len, got);
        return 0;
    }
    ack_publish(s, &h, deadline);
    return 0;
}

/* ---- subscribe and collect ---- */

static uint16_t take_pid(struct mqttrs *s)
{
    uint16_t pid = s->next_pid++;
    if (s->next_pid == 0)
        s->next_pid = 1;
    return pid;
}

static void log_subscribe(const struct mqttrs *s, const char *const *filters, size_t n, int qos,
                          size_t cap_n, size_t budget, int ms, int quiet_ms)
{
    char shown[400];
    size_t o = 0;
    shown[0] = '\0';
    for (size_t i = 0; i < n && o + 8 < sizeof shown; i++) {
        if (i)
            o += (size_t)snprintf(shown + o, sizeof shown - o, ", ");
        mqttdrv_escape(filters[i], strlen(filters[i]), shown + o, sizeof shown - o);
        o += strlen(shown + o);
    }
    mqttdrv_log(s->sink, "mqtt", s->peer, TRANSCRIPT_SEND, "subscribe", NULL, 0,
                "SUBSCRIBE filter%s=%s qos=%d (collect at most %zu messages, %zu bytes, %d ms, "
                "quiet %d ms)",
                n > 1 ? "s" : "", shown, qos, cap_n, budget, ms, quiet_ms);
}

/* A SUBACK: codes into c when it answers our SUBSCRIBE. Returns true when it did. */
static bool take_suback(struct mqttrs *s, struct mqttdrv_collect *c,
                        const struct mqttraw_packet *pkt, uint16_t pid, size_t n, assay_ms start)
{
    if (pkt->packet_id != pid) {
        note(s, "suback", "SUBACK for packet id %d, not %u: ignored", pkt->packet_id, pid);
        return false;
    }
    char codes[128];
    size_t o = 0;
    codes[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        c->suback_codes[i] = i < pkt->nsuback ? pkt->suback_codes[i] : -1;
        o += (size_t)snprintf(codes + o, sizeof codes - o, "%s%d", i ? ", " : "",
                              c->suback_codes[i]);
        if (o >= sizeof codes)
            break;
    }
    c->suback_code = c->suback_codes[0];
    mqttdrv_log(s->sink, "mqtt", s->peer, TRANSCRIPT_RECV, "suback", NULL, 0,
                "SUBACK code%s %s after %lld ms%s", n > 1 ? "s" : "", codes,
                (long long)(clock_now_ms() - start),
                pkt->nsuback != n ? " (not one code per filter)" : "");
    return true;
}

static bool all_refused(const struct mqttdrv_collect *c)
{
    for (size_t i = 0; i < c->nfilters; i++)
        if (c->suback_codes[i] >= 0 && c->suback_codes[i] < 0x80)
            return false;
    return true;
}

struct window {
    size_t cap_n, budget;
    assay_ms start, until, suback_by, last;
    int quiet_ms;
    bool suback;
};

/* When to stop waiting for the next packet; 0 when a bound already ended the collection. */
static assay_ms next_deadline(struct mqttrs *s, struct mqttdrv_collect *c, const struct window *w)
{
    assay_ms now = clock_now_ms(), dl;
    if (c->n >= w->cap_n) {
        c->stop = MQTTDRV_STOP_COUNT;
        return 0;
    }
    if (c->bytes >= w->budget && c->n > 0) {
        c->stop = MQTTDRV_STOP_BYTES;
        return 0;
    }
    if (!w->suback) {
        if (now >= w->suback_by) {
            c->stop = MQTTDRV_STOP_TIME;
            note(s, "timeout", "no SUBACK after %lld ms", (long long)(now - w->start));
            return 0;
        }
        dl = w->suback_by;
    } else {
        if (now >= w->until) {
            c->stop = MQTTDRV_STOP_TIME;
            return 0;
        }
        dl = w->until;
        if (w->quiet_ms > 0) {
            if (now >= w->last + w->quiet_ms) {
                c->stop = MQTTDRV_STOP_QUIET;
                return 0;
            }
            if (w->last + w->quiet_ms < dl)
                dl = w->last + w->quiet_ms;
        }
    }
    if (s->last_send + s->keepalive_ms / 2 < dl)
        dl = s->last_send + s->keepalive_ms / 2;
    return dl;
}

/* One packet of the collection. Returns 0 or ASSAY_ENOMEM; *stop when it ended. */
static int collect_one(struct mqttrs *s, struct mqttdrv_collect *c, struct window *w, uint16_t pid,
                       size_t n, assay_ms dl, bool *stop)
{
    struct mqttraw_packet pkt;
    struct pubhdr h;
    enum rd r = next_packet(s, dl, &pkt);
    int rc = 0;
    if (r == RD_TIMEOUT) {
        if (clock_now_ms() >= s->last_send + s->keepalive_ms / 2) {
            uint8_t ping[2] = {MQTTRAW_PINGREQ << 4, 0};
            send_bytes(s, ping, sizeof ping, clock_deadline(s->timeout_ms));
        }
        return 0;
    }
    if (r == RD_BIG && pkt.type == MQTTRAW_PUBLISH) {
        w->last = clock_now_ms();
        return keep_big(s, c, w->cap_n, w->budget, &pkt, w->start,
                        w->suback ? w->until : w->suback_by, stop);
    }
    if (r != RD_OK) {
        char why[160];
        describe_end(s, r, &pkt, why, sizeof why);
        lose(s, c, "%s", why);
        *stop = true;
        return 0;
    }
    switch (pkt.type) {
    case MQTTRAW_PUBLISH:
        if (publish_header(s, &pkt, s->nrx, &h) != 1) {
            lose(s, c, "malformed PUBLISH (%lu bytes)", (unsigned long)pkt.remaining);
            *stop = true;
            return 0;
        }
        w->last = clock_now_ms();
        rc = keep_small(s, c, w->cap_n, w->budget, &h, w->last - w->start);
        if (rc == 0) {
            mqttdrv_log_message(s->sink, s->peer, &c->messages[c->n - 1]);
            ack_publish(s, &h, clock_deadline(s->timeout_ms));
        }
        break;
    case MQTTRAW_SUBACK:
        if (!w->suback && take_suback(s, c, &pkt, pid, n, w->start)) {
            w->suback = true;
            if (all_refused(c)) {
                c->stop = MQTTDRV_STOP_REFUSED;
                *stop = true;
            }
        }
        break;
    case MQTTRAW_PUBREL:
        send_ack(s, MQTTRAW_PUBCOMP, pkt.packet_id, clock_deadline(s->timeout_ms));
        break;
    case MQTTRAW_PINGRESP: break;
    default:
        note(s, "ignored", "unexpected %s (%lu bytes) while collecting: ignored",
             mqttraw_type_name(pkt.type), (unsigned long)pkt.remaining);
        break;
    }
    consume(s, pkt.total_len);
    return rc;
}

int mqttrs_subscribe(struct mqttrs *s, const char *const *filters, size_t n, int qos, size_t cap_n,
                     size_t budget, int ms, int quiet_ms, struct mqttdrv_collect *out,
                     struct assay_error *err)
{
    struct mqttraw_frame f;
    uint16_t pid = take_pid(s);
    int rc;
    out->raw = true;
    out->nfilters = n;
    for (size_t i = 0; i < MQTTDRV_MAX_FILTERS; i++)
        out->suback_codes[i] = -1;
    if ((rc = mqttraw_subscribe_many_frame(&f, pid, filters, n, qos)) != 0)
        return assay_fail(err, rc, "mqtt: cannot build the SUBSCRIBE");
    log_subscribe(s, filters, n, qos, cap_n, budget, ms, quiet_ms);
    struct window w = {.cap_n = cap_n, .budget = budget, .quiet_ms = quiet_ms};
    w.start = w.last = clock_now_ms();
    w.until = w.start + ms;
    w.suback_by = w.start + s->timeout_ms;
    if (send_frame(s, &f, w.start + s->timeout_ms) != 0) {
        lose(s, out, "the SUBSCRIBE could not be sent (%s)",
             rawtcp_status_name(s->conn.tcp.status));
        out->elapsed_ms = clock_now_ms() - w.start;
        return 0;
    }
    bool stop = false;
    while (!stop && rc == 0) {
        assay_ms dl = next_deadline(s, out, &w);
        if (dl == 0)
            break;
        rc = collect_one(s, out, &w, pid, n, dl, &stop);
    }
    out->elapsed_ms = clock_now_ms() - w.start;
    if (rc)
        return assay_fail(err, ASSAY_ENOMEM, "mqtt: out of memory while collecting");
    return 0;
}

/* ---- publish ---- */

/* Waits for the acknowledgement of an outgoing PUBLISH. 0, ASSAY_ETIMEOUT or ASSAY_ENET. */
static int await_ack(struct mqttrs *s, int qos, uint16_t pid, assay_ms deadline)
{
    enum mqttraw_type want = qos == 1 ? MQTTRAW_PUBACK : MQTTRAW_PUBREC;
    for (;;) {
        struct mqttraw_packet pkt;
        struct pubhdr h;
        enum rd r = next_packet(s, deadline, &pkt);
        if (r == RD_TIMEOUT)
            return ASSAY_ETIMEOUT;
        if (r != RD_OK) {
            char why[160];
            describe_end(s, r, &pkt, why, sizeof why);
            lose(s, NULL, "%s", why);
            return ASSAY_ENET;
        }
        if (pkt.type == MQTTRAW_PUBLISH && publish_header(s, &pkt, s->nrx, &h) == 1) {
            note(s, "dropped", "a PUBLISH of %zu bytes arrived while publishing: dropped",
                 h.payload_len);
            ack_publish(s, &h, deadline);
        } else if (pkt.type == MQTTRAW_PUBREL) {
            send_ack(s, MQTTRAW_PUBCOMP, pkt.packet_id, deadline);
        } else if ((int)pkt.type == (int)want && pkt.packet_id == pid) {
            consume(s, pkt.total_len);
            if (want == MQTTRAW_PUBCOMP || want == MQTTRAW_PUBACK)
                return 0;
            send_ack(s, MQTTRAW_PUBREL, pid, deadline);
            want = MQTTRAW_PUBCOMP;
            continue;
        } else {
            note(s, "ignored", "%s (packet id %d) while waiting for %s %u: ignored",
                 mqttraw_type_name(pkt.type), pkt.packet_id, mqttraw_type_name(want), pid);
        }
        consume(s, pkt.total_len);
    }
}

int mqttrs_publish(struct mqttrs *s, const char *topic, const void *payload, size_t len, int qos,
                   bool retain, struct assay_error *err)
{
    struct mqttraw_frame f;
    uint16_t pid = qos ? take_pid(s) : 0;
    assay_ms deadline = clock_deadline(s->timeout_ms);
    char shown[160];
    int rc = mqttraw_publish_frame(&f, (const uint8_t *)topic, strlen(topic), payload, len, qos,
                                   retain, pid);
    if (rc)
        return assay_fail(err, rc, "mqtt: cannot build the PUBLISH");
    mqttdrv_escape(topic, strlen(topic), shown, sizeof shown);
    mqttdrv_log(s->sink, "mqtt", s->peer, TRANSCRIPT_SEND, "publish", payload,
                len > MQTTDRV_LOG_BYTES ? MQTTDRV_LOG_BYTES : len,
                "PUBLISH topic=%s length=%zu qos=%d retain=%d", shown, len, qos, retain);
    if ((rc = send_frame(s, &f, deadline)) != 0) {
        note(s, "error", "PUBLISH could not be sent (%s)", rawtcp_status_name(s->conn.tcp.status));
        return assay_fail(err, rc == ASSAY_ETIMEOUT ? ASSAY_ETIMEOUT : ASSAY_ENET,
                          "mqtt: %s: publish failed", s->peer);
    }
    if (qos == 0)
        return 0;
    rc = await_ack(s, qos, pid, deadline);
    if (rc == ASSAY_ETIMEOUT) {
        note(s, "timeout", "PUBLISH qos=%d not completed before the deadline", qos);
        return assay_fail(err, ASSAY_ETIMEOUT, "mqtt: %s: publish not completed", s->peer);
    }
    if (rc)
        return assay_fail(err, ASSAY_ENET, "mqtt: %s: publish failed: connection lost", s->peer);
    return 0;
}
