/*
 * mqtt_collect.c: subscribe and collect on the raw engine (mqtt_session.h).
 *
 * A PUBLISH that fits the receive buffer is read whole and kept within the
 * collection's byte budget. A larger PUBLISH is read in place up to what is
 * left of the budget, and the session ends there (it cannot resynchronise
 * without reading the rest). So a broker that floods the session costs at
 * most the buffer and the budget, and the collection stops at its count,
 * byte, time or quiet bound with the reason as data.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt_session.h"

/* ---- incoming PUBLISH ---- */

/* A PUBLISH wholly in the buffer: kept within the budget. Returns 0 or ASSAY_ENOMEM. */
static int keep_small(struct mqttrs *s, struct mqttdrv_collect *c, size_t cap_n, size_t budget,
                      const struct mqttraw_pubhdr *h, int64_t after_ms)
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
    struct mqttraw_pubhdr h;
    int d;
    while ((d = mqttraw_publish_header(s->rx, s->nrx, pkt, &h)) == 0) {
        enum mqttrs_rd r = mqttrs_fill(s, deadline);
        if (r != MQTTRS_RD_OK) {
            char why[160];
            mqttrs_describe_end(s, r, pkt, why, sizeof why);
            if (r == MQTTRS_RD_TIMEOUT)
                snprintf(why, sizeof why, "a PUBLISH of %lu bytes stalled in its header",
                         (unsigned long)pkt->remaining);
            mqttrs_lose(s, c, "%s", why);
            *stop = true;
            return 0;
        }
    }
    if (d < 0) {
        mqttrs_lose(s, c, "malformed PUBLISH (%lu bytes declared)", (unsigned long)pkt->remaining);
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
        mqttrs_lose(s, NULL,
                    "a PUBLISH of %zu bytes on %s: %zu kept (the byte budget), the rest not read",
                    h.payload_len, topic, got);
        if (c->stop == MQTTDRV_STOP_BYTES)
            snprintf(c->detail, sizeof c->detail,
                     "the broker sent a message of %zu bytes; %zu kept, the rest not read",
                     h.payload_len, got);
        return 0;
    }
    mqttrs_ack_publish(s, &h, deadline);
    return 0;
}

/* ---- subscribe and collect ---- */

/* A SUBACK: codes into c when it answers our SUBSCRIBE. Returns true when it did. */
static bool take_suback(struct mqttrs *s, struct mqttdrv_collect *c,
                        const struct mqttraw_packet *pkt, uint16_t pid, size_t n, assay_ms start)
{
    if (pkt->packet_id != pid) {
        mqttrs_note(s, "suback", "SUBACK for packet id %d, not %u: ignored", pkt->packet_id, pid);
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
    if (s->version == 5) {
        char text[400];
        mqttrs_describe_props(&pkt->props, text, sizeof text);
        if (text[0])
            mqttrs_note(s, "suback-properties", "SUBACK %s%s",
                        pkt->props.malformed ? "" : "properties: ", text);
    }
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
            mqttrs_note(s, "timeout", "no SUBACK after %lld ms", (long long)(now - w->start));
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
    struct mqttraw_pubhdr h;
    enum mqttrs_rd r = mqttrs_next_packet(s, dl, &pkt);
    int rc = 0;
    if (r == MQTTRS_RD_TIMEOUT) {
        if (clock_now_ms() >= s->last_send + s->keepalive_ms / 2) {
            uint8_t ping[2] = {MQTTRAW_PINGREQ << 4, 0};
            mqttrs_send_bytes(s, ping, sizeof ping, clock_deadline(s->timeout_ms));
        }
        return 0;
    }
    if (r == MQTTRS_RD_BIG && pkt.type == MQTTRAW_PUBLISH) {
        w->last = clock_now_ms();
        return keep_big(s, c, w->cap_n, w->budget, &pkt, w->start,
                        w->suback ? w->until : w->suback_by, stop);
    }
    if (r != MQTTRS_RD_OK) {
        char why[160];
        mqttrs_describe_end(s, r, &pkt, why, sizeof why);
        mqttrs_lose(s, c, "%s", why);
        *stop = true;
        return 0;
    }
    switch (pkt.type) {
    case MQTTRAW_PUBLISH:
        if (mqttraw_publish_header(s->rx, s->nrx, &pkt, &h) != 1) {
            mqttrs_lose(s, c, "malformed PUBLISH (%lu bytes)", (unsigned long)pkt.remaining);
            *stop = true;
            return 0;
        }
        w->last = clock_now_ms();
        rc = keep_small(s, c, w->cap_n, w->budget, &h, w->last - w->start);
        if (rc == 0) {
            mqttdrv_log_message(s->sink, s->peer, &c->messages[c->n - 1]);
            mqttrs_ack_publish(s, &h, clock_deadline(s->timeout_ms));
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
        mqttrs_send_ack(s, MQTTRAW_PUBCOMP, pkt.packet_id, clock_deadline(s->timeout_ms));
        break;
    case MQTTRAW_PINGRESP: break;
    case MQTTRAW_DISCONNECT: {
        int code = pkt.reason_code > 0 ? pkt.reason_code : 0;
        mqttrs_lose(s, c, "the broker sent DISCONNECT (reason 0x%02x, %s)", (unsigned)code,
                    code ? mqttdrv_reason_name(s->version, code) : "normal disconnection");
        *stop = true;
        return 0;
    }
    default:
        mqttrs_note(s, "ignored", "unexpected %s (%lu bytes) while collecting: ignored",
                    mqttraw_type_name(pkt.type), (unsigned long)pkt.remaining);
        break;
    }
    mqttrs_consume(s, pkt.total_len);
    return rc;
}

int mqttrs_subscribe(struct mqttrs *s, const char *const *filters, size_t n, int qos, size_t cap_n,
                     size_t budget, int ms, int quiet_ms, struct mqttdrv_collect *out,
                     struct assay_error *err)
{
    struct mqttraw_frame f;
    uint16_t pid = mqttrs_take_pid(s);
    int rc;
    out->raw = true;
    out->nfilters = n;
    for (size_t i = 0; i < MQTTDRV_MAX_FILTERS; i++)
        out->suback_codes[i] = -1;
    if ((rc = mqttraw_subscribe_many_frame(&f, s->version, pid, filters, n, qos)) != 0)
        return assay_fail(err, rc, "mqtt: cannot build the SUBSCRIBE");
    mqttdrv_log_subscribe(s->sink, s->peer, filters, n, qos, cap_n, budget, ms, quiet_ms);
    struct window w = {.cap_n = cap_n, .budget = budget, .quiet_ms = quiet_ms};
    w.start = w.last = clock_now_ms();
    w.until = w.start + ms;
    w.suback_by = w.start + s->timeout_ms;
    if (mqttrs_send_frame(s, &f, w.start + s->timeout_ms) != 0) {
        mqttrs_lose(s, out, "the SUBSCRIBE could not be sent (%s)",
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
