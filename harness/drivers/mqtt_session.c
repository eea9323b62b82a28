/*
 * mqtt_session.c: the raw engine of the MQTT driver (mqtt.h, mqtt_internal.h):
 * an MQTT 3.1.1 or 5 session over mqtt_conn.h (plain TCP or TLS) whose every
 * packet is read by the bounded parser into a fixed receive buffer; here the
 * connection, open and close, and publish (subscribe and collect:
 * mqtt_collect.c).
 *
 * A packet that fits the buffer (64 KiB and a header: any CONNACK, SUBACK or
 * ack, and a PUBLISH with a topic and payload of that size) is read whole;
 * any packet but a PUBLISH declaring more than the buffer is a protocol
 * violation that ends the session. So a broker that declares 256 MB costs at
 * most the buffer. MQTT 5 properties are read by the bounded property reader:
 * those that matter to the session (Server Keep Alive, Maximum Packet Size)
 * are honoured, the rest recorded in the transcript, and malformed property
 * data is reported there as what the broker sent.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mqtt_session.h"

#define CLOSE_DRAIN_MS 50
#define DISCONNECT_MS 100

bool mqttrs_serves(const struct mqttdrv_connect_opts *o)
{
    return o && !o->paho && (o->version == 0 || o->version == 4 || o->version == 5) &&
           (!o->password || strlen(o->password) == o->password_len);
}

bool mqttrs_connected(const struct mqttrs *s)
{
    return s && s->connected && mqttconn_is_open(&s->conn);
}

void mqttrs_note(const struct mqttrs *s, const char *event, const char *fmt, ...)
{
    char line[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    mqttdrv_log(s->sink, "mqtt", s->peer, TRANSCRIPT_NOTE, event, NULL, 0, "%s", line);
}

int mqttrs_send_bytes(struct mqttrs *s, const uint8_t *b, size_t n, assay_ms deadline)
{
    struct assay_error ignored;
    int rc = mqttconn_send(&s->conn, b, n, deadline, &ignored);
    if (rc == ASSAY_ENET)
        s->connected = false;
    if (rc == 0)
        s->last_send = clock_now_ms();
    return rc;
}

int mqttrs_send_frame(struct mqttrs *s, struct mqttraw_frame *f, assay_ms deadline)
{
    int rc = mqttrs_send_bytes(s, f->bytes, f->len, deadline);
    mqttraw_frame_free(f);
    return rc;
}

void mqttrs_send_ack(struct mqttrs *s, enum mqttraw_type type, int pid, assay_ms deadline)
{
    uint8_t b[4];
    mqttraw_ack_frame(b, type, (uint16_t)pid);
    mqttrs_send_bytes(s, b, sizeof b, deadline);
}

/* Reads more into the receive buffer. MQTTRS_RD_OK, MQTTRS_RD_TIMEOUT or MQTTRS_RD_CLOSED. */
enum mqttrs_rd mqttrs_fill(struct mqttrs *s, assay_ms deadline)
{
    struct assay_error ignored;
    size_t got = 0;
    if (s->nrx >= MQTTRS_RX_CAP)
        return MQTTRS_RD_BAD;
    int rc =
        mqttconn_recv(&s->conn, s->rx + s->nrx, MQTTRS_RX_CAP - s->nrx, deadline, &got, &ignored);
    if (rc == ASSAY_ETIMEOUT)
        return MQTTRS_RD_TIMEOUT;
    if (rc) {
        s->connected = false;
        return MQTTRS_RD_CLOSED;
    }
    s->nrx += got;
    return MQTTRS_RD_OK;
}

/* The next packet: MQTTRS_RD_OK with the whole packet at s->rx, MQTTRS_RD_BIG when its header
 * (in pkt) declares more than MQTTRS_RX_CAP, or why there is none. */
enum mqttrs_rd mqttrs_next_packet(struct mqttrs *s, assay_ms deadline, struct mqttraw_packet *pkt)
{
    for (;;) {
        int st = mqttraw_parse_version(s->rx, s->nrx, s->version, pkt);
        if (st == MQTTRAW_PARSE_OK)
            return MQTTRS_RD_OK;
        if (st == MQTTRAW_PARSE_BAD)
            return MQTTRS_RD_BAD;
        if (pkt->header_len && pkt->total_len > MQTTRS_RX_CAP)
            return MQTTRS_RD_BIG;
        enum mqttrs_rd r = mqttrs_fill(s, deadline);
        if (r != MQTTRS_RD_OK)
            return r;
    }
}

void mqttrs_consume(struct mqttrs *s, size_t n)
{
    if (n >= s->nrx) {
        s->nrx = 0;
        return;
    }
    memmove(s->rx, s->rx + n, s->nrx - n);
    s->nrx -= n;
}

void mqttrs_lose(struct mqttrs *s, struct mqttdrv_collect *c, const char *fmt, ...)
{
    char why[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    s->connected = false;
    mqttconn_close(&s->conn, 0);
    mqttrs_note(s, "closed", "connection ended: %s", why);
    if (c) {
        c->stop = MQTTDRV_STOP_LOST;
        snprintf(c->detail, sizeof c->detail, "%s", why);
    }
}

void mqttrs_describe_end(const struct mqttrs *s, enum mqttrs_rd r, const struct mqttraw_packet *pkt,
                         char *out, size_t cap)
{
    if (r == MQTTRS_RD_CLOSED)
        snprintf(out, cap, "the broker %s the connection",
                 s->conn.tcp.status == RAWTCP_RESET ? "reset" : "closed");
    else if (r == MQTTRS_RD_BIG)
        snprintf(out, cap, "the broker sent a %s declaring %lu bytes", mqttraw_type_name(pkt->type),
                 (unsigned long)pkt->remaining);
    else
        snprintf(out, cap, "the broker sent bytes that are not MQTT (first byte 0x%02x)",
                 pkt->nfirst ? pkt->first[0] : 0);
}

uint16_t mqttrs_take_pid(struct mqttrs *s)
{
    uint16_t pid = s->next_pid++;
    if (s->next_pid == 0)
        s->next_pid = 1;
    return pid;
}

void mqttrs_ack_publish(struct mqttrs *s, const struct mqttraw_pubhdr *h, assay_ms deadline)
{
    if (h->qos == 1)
        mqttrs_send_ack(s, MQTTRAW_PUBACK, h->pid, deadline);
    else if (h->qos == 2)
        mqttrs_send_ack(s, MQTTRAW_PUBREC, h->pid, deadline);
}

static size_t put_str_prop(char *out, size_t cap, size_t o, const char *name,
                           const struct mqttraw_propstr *v)
{
    char shown[MQTTRAW_PROP_STR_MAX * 4 + 8];
    if (!v->present || o >= cap)
        return o;
    mqttdrv_escape(v->bytes, v->len, shown, sizeof shown);
    return o + (size_t)snprintf(out + o, cap - o, "%s%s=%s%s", o ? ", " : "", name, shown,
                                v->len < v->full_len ? "..." : "");
}

static size_t put_int_prop(char *out, size_t cap, size_t o, const char *name, int64_t v)
{
    if (v < 0 || o >= cap)
        return o;
    return o + (size_t)snprintf(out + o, cap - o, "%s%s=%lld", o ? ", " : "", name, (long long)v);
}

void mqttrs_describe_props(const struct mqttraw_props *pr, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    if (pr->malformed) {
        snprintf(out, cap, "malformed properties: %s", pr->why);
        return;
    }
    o = put_str_prop(out, cap, o, "assigned client id", &pr->assigned_client_id);
    o = put_str_prop(out, cap, o, "reason string", &pr->reason_string);
    o = put_str_prop(out, cap, o, "server reference", &pr->server_reference);
    o = put_int_prop(out, cap, o, "server keep alive", pr->server_keepalive);
    o = put_int_prop(out, cap, o, "maximum packet size", pr->max_packet_size);
    o = put_int_prop(out, cap, o, "session expiry", pr->session_expiry);
    o = put_int_prop(out, cap, o, "receive maximum", pr->receive_max);
    o = put_int_prop(out, cap, o, "maximum QoS", pr->max_qos);
    o = put_int_prop(out, cap, o, "retain available", pr->retain_available);
    o = put_int_prop(out, cap, o, "topic alias maximum", pr->topic_alias_max);
    o = put_int_prop(out, cap, o, "wildcard subscriptions", pr->wildcard_available);
    o = put_int_prop(out, cap, o, "subscription identifiers", pr->subid_available);
    o = put_int_prop(out, cap, o, "shared subscriptions", pr->shared_available);
    if (pr->user_properties && o < cap)
        snprintf(out + o, cap - o, "%s%zu user properties", o ? ", " : "", pr->user_properties);
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
                "CONNECT MQTT %s%s client_id=%s username: %s password: %s%zu chars%s "
                "timeout=%d ms",
                s->version == 5 ? "5" : "3.1.1", o->tls.enabled ? " over TLS" : "", shown, user,
                o->password ? "" : "(none, ", o->password ? o->password_len : 0,
                o->password ? "" : ")", s->timeout_ms);
}

/* MQTT 5: what the CONNACK's properties change for the session, and the transcript. */
static void take_connack_props(struct mqttrs *s, const struct mqttraw_props *pr,
                               struct mqttdrv_connack *ack)
{
    char text[400];
    mqttrs_describe_props(pr, text, sizeof text);
    if (pr->malformed)
        snprintf(ack->detail, sizeof ack->detail, "CONNACK with malformed properties: %.100s",
                 pr->why);
    if (text[0])
        mqttrs_note(s, "connack-properties", "CONNACK %s%s",
                    pr->malformed ? "" : "properties: ", text);
    if (pr->server_keepalive > 0)
        s->keepalive_ms = pr->server_keepalive * 1000;
    if (pr->max_packet_size > 0)
        s->max_packet = pr->max_packet_size;
}

/* Reads the CONNACK into ack. */
static void read_connack(struct mqttrs *s, assay_ms start, assay_ms deadline,
                         struct mqttdrv_connack *ack)
{
    struct mqttraw_packet pkt;
    enum mqttrs_rd r = mqttrs_next_packet(s, deadline, &pkt);
    bool fits = s->version == 5 ? pkt.remaining >= 2 : pkt.remaining == 2;
    if (r == MQTTRS_RD_OK && pkt.type == MQTTRAW_CONNACK && fits) {
        ack->code = pkt.connack_code;
        ack->outcome = ack->code == 0 ? MQTTDRV_ACCEPTED : MQTTDRV_REFUSED;
        if (s->version == 5)
            take_connack_props(s, &pkt.props, ack);
        mqttrs_consume(s, pkt.total_len);
    } else if (r == MQTTRS_RD_TIMEOUT) {
        ack->outcome = MQTTDRV_TIMEOUT;
        snprintf(ack->detail, sizeof ack->detail, "no CONNACK before the deadline");
    } else {
        ack->outcome = MQTTDRV_TRANSPORT;
        if (r == MQTTRS_RD_CLOSED)
            mqttrs_describe_end(s, r, &pkt, ack->detail, sizeof ack->detail);
        else
            snprintf(ack->detail, sizeof ack->detail,
                     "the reply was not a CONNACK (%s, %lu bytes declared)",
                     mqttraw_type_name(pkt.type), (unsigned long)pkt.remaining);
    }
    ack->elapsed_ms = clock_now_ms() - start;
    if (ack->code >= 0)
        mqttdrv_log(s->sink, "mqtt", s->peer, TRANSCRIPT_RECV, "connack", NULL, 0,
                    "CONNACK code %d (0x%02x, %s) after %lld ms", ack->code, (unsigned)ack->code,
                    mqttdrv_connack_reason(s->version, ack->code), (long long)ack->elapsed_ms);
    else
        mqttrs_note(s, ack->outcome == MQTTDRV_TIMEOUT ? "timeout" : "error",
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
    s->version = o->version == 5 ? 5 : 4;
    s->max_packet = -1;
    mqttdrv_peer(s->peer, sizeof s->peer, t->host, t->port);
    if (!id) {
        default_id(idbuf, sizeof idbuf);
        id = idbuf;
    }
    if ((rc = mqttraw_connect_frame(&f, s->version, id, o->username, o->password,
                                    (uint16_t)(s->keepalive_ms / 1000),
                                    s->version == 5 ? o->session_expiry_s : 0)) != 0) {
        free(s);
        return assay_fail(err, rc, "mqtt: cannot build the CONNECT");
    }
    log_connect(s, o, id);
    rc = mqttconn_open(&s->conn, t, &o->tls, o->tls.keylog_path, deadline, err);
    if (rc == ASSAY_ETIMEOUT || rc == ASSAY_ENET) {
        ack->outcome = rc == ASSAY_ETIMEOUT ? MQTTDRV_TIMEOUT : MQTTDRV_TRANSPORT;
        ack->elapsed_ms = clock_now_ms() - start;
        snprintf(ack->detail, sizeof ack->detail, "%s", s->conn.detail);
        mqttrs_note(s, rc == ASSAY_ETIMEOUT ? "timeout" : "error",
                    "no CONNACK (%s) after %lld ms: %s", mqttdrv_outcome_name(ack->outcome),
                    (long long)ack->elapsed_ms, ack->detail);
        rc = 0;
    }
    if (rc || ack->outcome != MQTTDRV_ACCEPTED || !mqttconn_is_open(&s->conn)) {
        mqttraw_frame_free(&f);
        mqttconn_close(&s->conn, 0);
        free(s);
        return rc;
    }
    s->connected = true;
    if (mqttrs_send_frame(s, &f, deadline) != 0) {
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
    if (mqttrs_connected(s) && mqttraw_disconnect_frame(&f, s->version, 0) == 0) {
        mqttrs_send_frame(s, &f, clock_deadline(DISCONNECT_MS));
        mqttdrv_log(s->sink, "mqtt", s->peer, TRANSCRIPT_SEND, "disconnect", NULL, 0, "%s",
                    s->version == 5 ? "DISCONNECT reason 0 (normal disconnection)" : "DISCONNECT");
    }
    mqttconn_close(&s->conn, CLOSE_DRAIN_MS);
    free(s);
}

/* ---- publish ---- */

/* Waits for the acknowledgement of an outgoing PUBLISH. 0, ASSAY_ETIMEOUT or ASSAY_ENET. In
 * MQTT 5 a PUBACK or PUBREC with a failure reason code (>= 0x80) ends the flow: the broker
 * answered, and its refusal is in the transcript. */
static int await_ack(struct mqttrs *s, int qos, uint16_t pid, assay_ms deadline)
{
    enum mqttraw_type want = qos == 1 ? MQTTRAW_PUBACK : MQTTRAW_PUBREC;
    for (;;) {
        struct mqttraw_packet pkt;
        struct mqttraw_pubhdr h;
        enum mqttrs_rd r = mqttrs_next_packet(s, deadline, &pkt);
        if (r == MQTTRS_RD_TIMEOUT)
            return ASSAY_ETIMEOUT;
        if (r != MQTTRS_RD_OK) {
            char why[160];
            mqttrs_describe_end(s, r, &pkt, why, sizeof why);
            mqttrs_lose(s, NULL, "%s", why);
            return ASSAY_ENET;
        }
        if (pkt.type == MQTTRAW_PUBLISH && mqttraw_publish_header(s->rx, s->nrx, &pkt, &h) == 1) {
            mqttrs_note(s, "dropped", "a PUBLISH of %zu bytes arrived while publishing: dropped",
                        h.payload_len);
            mqttrs_ack_publish(s, &h, deadline);
        } else if (pkt.type == MQTTRAW_PUBREL) {
            mqttrs_send_ack(s, MQTTRAW_PUBCOMP, pkt.packet_id, deadline);
        } else if (pkt.type == MQTTRAW_DISCONNECT) {
            int code = pkt.reason_code > 0 ? pkt.reason_code : 0;
            mqttrs_lose(s, NULL, "the broker sent DISCONNECT (reason 0x%02x, %s)", (unsigned)code,
                        code ? mqttdrv_reason_name(s->version, code) : "normal disconnection");
            return ASSAY_ENET;
        } else if ((int)pkt.type == (int)want && pkt.packet_id == pid) {
            mqttrs_consume(s, pkt.total_len);
            if (pkt.reason_code > 0)
                mqttrs_note(s, pkt.reason_code >= 0x80 ? "refused" : "ack", "%s reason 0x%02x (%s)",
                            mqttraw_type_name(pkt.type), (unsigned)pkt.reason_code,
                            mqttdrv_reason_name(s->version, pkt.reason_code));
            if (want == MQTTRAW_PUBCOMP || want == MQTTRAW_PUBACK || pkt.reason_code >= 0x80)
                return 0;
            mqttrs_send_ack(s, MQTTRAW_PUBREL, pid, deadline);
            want = MQTTRAW_PUBCOMP;
            continue;
        } else {
            mqttrs_note(s, "ignored", "%s (packet id %d) while waiting for %s %u: ignored",
                        mqttraw_type_name(pkt.type), pkt.packet_id, mqttraw_type_name(want), pid);
        }
        mqttrs_consume(s, pkt.total_len);
    }
}

int mqttrs_publish(struct mqttrs *s, const char *topic, const void *payload, size_t len, int qos,
                   bool retain, struct assay_error *err)
{
    struct mqttraw_frame f;
    uint16_t pid = qos ? mqttrs_take_pid(s) : 0;
    assay_ms deadline = clock_deadline(s->timeout_ms);
    char shown[160];
    int rc = mqttraw_publish_frame(&f, s->version, (const uint8_t *)topic, strlen(topic), payload,
                                   len, qos, retain, pid);
    if (rc)
        return assay_fail(err, rc, "mqtt: cannot build the PUBLISH");
    if (s->max_packet > 0 && (int64_t)f.len > s->max_packet) {
        mqttraw_frame_free(&f);
        mqttrs_note(s, "error", "PUBLISH of %zu bytes not sent: the broker's maximum is %lld", len,
                    (long long)s->max_packet);
        return assay_fail(err, ASSAY_EINVAL,
                          "mqtt: %s: the PUBLISH is larger than the broker's Maximum Packet Size "
                          "(%lld bytes)",
                          s->peer, (long long)s->max_packet);
    }
    mqttdrv_escape(topic, strlen(topic), shown, sizeof shown);
    mqttdrv_log(s->sink, "mqtt", s->peer, TRANSCRIPT_SEND, "publish", payload,
                len > MQTTDRV_LOG_BYTES ? MQTTDRV_LOG_BYTES : len,
                "PUBLISH topic=%s length=%zu qos=%d retain=%d", shown, len, qos, retain);
    if ((rc = mqttrs_send_frame(s, &f, deadline)) != 0) {
        mqttrs_note(s, "error", "PUBLISH could not be sent (%s)",
                    rawtcp_status_name(s->conn.tcp.status));
        return assay_fail(err, rc == ASSAY_ETIMEOUT ? ASSAY_ETIMEOUT : ASSAY_ENET,
                          "mqtt: %s: publish failed", s->peer);
    }
    if (qos == 0)
        return 0;
    rc = await_ack(s, qos, pid, deadline);
    if (rc == ASSAY_ETIMEOUT) {
        mqttrs_note(s, "timeout", "PUBLISH qos=%d not completed before the deadline", qos);
        return assay_fail(err, ASSAY_ETIMEOUT, "mqtt: %s: publish not completed", s->peer);
    }
    if (rc)
        return assay_fail(err, ASSAY_ENET, "mqtt: %s: publish failed: connection lost", s->peer);
    return 0;
}
