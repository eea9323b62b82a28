/* mqtt_raw.c: the raw MQTT path over drivers/rawtcp.h: malformed frames and liveness (mqtt_raw.h).
 */
#include "mqtt_raw.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mqtt_conn.h"
#include "core/clock.h"
#include "mqtt_internal.h"

#define CLOSE_DRAIN_MS 50

const char *mqttraw_outcome_name(enum mqttraw_outcome o)
{
    static const char *const names[] = {"reply",       "closed",       "reset",     "silent",
                                        "unreachable", "not accepted", "tls failed"};
    return (unsigned)o < sizeof names / sizeof names[0] ? names[o] : "unknown";
}

/* Reads until one packet parses, the buffer is full, the peer closes or the deadline passes. */
static enum mqttraw_outcome read_packet(struct mqttconn *c, uint8_t *buf, size_t cap, size_t *n,
                                        struct mqttraw_packet *pkt, bool *malformed,
                                        assay_ms deadline)
{
    struct assay_error ignored;
    *n = 0;
    *malformed = false;
    mqttraw_parse(buf, 0, pkt);
    while (*n < cap) {
        size_t got = 0;
        int rc = mqttconn_recv(c, buf + *n, cap - *n, deadline, &got, &ignored);
        if (rc != 0) {
            if (*n > 0) {
                *malformed = true; /* a partial packet, then close or silence */
                return MQTTRAW_REPLY;
            }
            if (rc == ASSAY_ETIMEOUT)
                return MQTTRAW_SILENT;
            return c->tcp.status == RAWTCP_CLOSED ? MQTTRAW_CLOSED : MQTTRAW_RESET;
        }
        *n += got;
        int st = mqttraw_parse(buf, *n, pkt);
        if (st == MQTTRAW_PARSE_OK)
            return MQTTRAW_REPLY;
        if (st == MQTTRAW_PARSE_BAD) {
            *malformed = true;
            return MQTTRAW_REPLY;
        }
    }
    *malformed = true; /* longer than the cap: kept what fits */
    return MQTTRAW_REPLY;
}

static void default_id(char *out, size_t cap)
{
    static unsigned counter;
    snprintf(out, cap, "assay-raw-%ld-%u", (long)getpid(), ++counter);
}

/* Sends CONNECT and reads the CONNACK into *code (-1 when none; *why says what happened).
 * Returns 0, or a negative assay_rc when the frame cannot be built. */
static int do_preface(struct mqttconn *c, const struct mqttraw_preface *p, assay_ms deadline,
                      int *code, enum mqttraw_outcome *why, struct assay_error *err)
{
    struct mqttraw_frame f;
    struct mqttraw_packet pkt;
    uint8_t buf[64];
    size_t n;
    bool malformed;
    char id[48];
    int rc;
    *code = -1;
    if (!p->client_id)
        default_id(id, sizeof id);
    rc = mqttraw_connect_frame(&f, 4, p->client_id ? p->client_id : id, p->username, p->password,
                               30, 0);
    if (rc)
        return assay_fail(err, rc, "mqtt raw: cannot build CONNECT");
    rc = mqttconn_send(c, f.bytes, f.len, deadline, err);
    mqttraw_frame_free(&f);
    if (rc) {
        *why = rc == ASSAY_ETIMEOUT
                   ? MQTTRAW_SILENT
                   : (c->tcp.status == RAWTCP_CLOSED ? MQTTRAW_CLOSED : MQTTRAW_RESET);
        return 0;
    }
    *why = read_packet(c, buf, sizeof buf, &n, &pkt, &malformed, deadline);
    if (*why == MQTTRAW_REPLY && !malformed && pkt.type == MQTTRAW_CONNACK)
        *code = pkt.connack_code;
    else if (*why == MQTTRAW_REPLY)
        *why = MQTTRAW_NOT_ACCEPTED;
    return 0;
}

static int check_args(const struct mqttdrv_target *t, struct assay_error *err)
{
    return mqttdrv_check_target(t, err);
}

/* Opens the stream, inside TLS when p asks for it. Returns 0 when open, a negative
 * harness code, or 1 when the device did not let us in (*why and detail filled). */
static int open_conn(struct mqttconn *c, const struct mqttdrv_target *t,
                     const struct mqttraw_preface *p, assay_ms deadline, enum mqttraw_outcome *why,
                     char *detail, size_t cap, struct assay_error *err)
{
    int rc = mqttconn_open(c, t, p ? &p->tls : NULL, p ? p->keylog_path : NULL, deadline, err);
    if (rc == 0)
        return 0;
    if (rc != ASSAY_ETIMEOUT && rc != ASSAY_ENET)
        return rc;
    *why = c->tls_failed ? MQTTRAW_TLS_FAILED : MQTTRAW_UNREACHABLE;
    if (detail && cap)
        snprintf(detail, cap, "%s", c->detail);
    return 1;
}

/* Sends the frame and reads what comes back into r. */
static void send_and_read(struct mqttconn *c, const uint8_t *bytes, size_t len, assay_ms deadline,
                          struct mqttraw_result *r)
{
    struct assay_error ignored;
    assay_ms sent_at;
    int rc = mqttconn_send(c, bytes, len, deadline, &ignored);
    r->bytes_sent = len < c->tcp.bytes_sent ? len : (size_t)c->tcp.bytes_sent;
    r->sent = rc == 0;
    sent_at = clock_now_ms();
    if (rc == ASSAY_ETIMEOUT) {
        r->outcome = MQTTRAW_SILENT; /* the peer stopped reading */
        return;
    }
    r->outcome = read_packet(c, r->reply_bytes, sizeof r->reply_bytes, &r->nreply, &r->reply,
                             &r->reply_malformed, deadline);
    if (r->outcome != MQTTRAW_SILENT)
        r->reply_ms = clock_now_ms() - sent_at;
}

int mqttraw_exchange(const struct mqttdrv_target *t, const struct mqttraw_preface *p,
                     const uint8_t *bytes, size_t len, struct mqttraw_result *r,
                     struct assay_error *err)
{
    struct mqttconn c;
    assay_ms start = clock_now_ms(), deadline;
    int rc;
    memset(r, 0, sizeof *r);
    r->connack_code = -1;
    r->reply_ms = -1;
    mqttraw_parse(NULL, 0, &r->reply);
    if ((rc = check_args(t, err)) != 0)
        return rc;
    if ((!bytes && len) || len == 0)
        return assay_fail(err, ASSAY_EINVAL, "mqtt raw: nothing to send");
    deadline = start + t->timeout_ms;
    rc = open_conn(&c, t, p, deadline, &r->outcome, r->detail, sizeof r->detail, err);
    if (rc) {
        r->elapsed_ms = clock_now_ms() - start;
        return rc > 0 ? 0 : rc;
    }
    if (p && p->connect) {
        enum mqttraw_outcome why = MQTTRAW_REPLY;
        if ((rc = do_preface(&c, p, deadline, &r->connack_code, &why, err)) != 0) {
            mqttconn_close(&c, CLOSE_DRAIN_MS);
            return rc;
        }
        if (r->connack_code != 0) {
            r->outcome = r->connack_code > 0 ? MQTTRAW_NOT_ACCEPTED : why;
            mqttdrv_log(t->sink, "mqtt", c.tcp.peer, TRANSCRIPT_NOTE, "raw", NULL, 0,
                        "CONNECT preface not accepted (%s, code %d): frame not sent",
                        mqttraw_outcome_name(why), r->connack_code);
            goto done;
        }
    }
    send_and_read(&c, bytes, len, deadline, r);
    mqttdrv_log(t->sink, "mqtt", c.tcp.peer, TRANSCRIPT_NOTE, "raw", NULL, 0,
                "raw frame of %zu bytes: %s%s%s", len, mqttraw_outcome_name(r->outcome),
                r->outcome == MQTTRAW_REPLY ? " " : "",
                r->outcome == MQTTRAW_REPLY ? mqttraw_type_name(r->reply.type) : "");
done:
    mqttconn_close(&c, CLOSE_DRAIN_MS);
    r->elapsed_ms = clock_now_ms() - start;
    return 0;
}

int mqttraw_send_kind(const struct mqttdrv_target *t, const struct mqttraw_preface *p,
                      enum mqttraw_kind kind, size_t oversize, struct mqttraw_result *r,
                      struct assay_error *err)
{
    struct mqttraw_frame f;
    struct mqttraw_preface pre = {.connect = true};
    int rc;
    memset(r, 0, sizeof *r);
    r->connack_code = -1;
    if ((rc = mqttraw_kind_frame(&f, kind, oversize)) != 0)
        return assay_fail(err, rc, "mqtt raw: cannot build the '%s' frame",
                          mqttraw_kind_name(kind));
    if (p)
        pre = *p;
    pre.connect = true;
    rc = mqttraw_exchange(t, &pre, f.bytes, f.len, r, err);
    mqttraw_frame_free(&f);
    return rc;
}

/* After an accepted CONNECT: PINGREQ, then wait for PINGRESP. */
static void ping(struct mqttconn *c, struct mqttraw_alive *a, assay_ms deadline)
{
    struct mqttraw_frame f;
    struct mqttraw_packet pkt;
    uint8_t buf[64];
    size_t n;
    bool malformed;
    struct assay_error ignored;
    assay_ms t0;
    if (mqttraw_pingreq_frame(&f) != 0)
        return;
    t0 = clock_now_ms();
    if (mqttconn_send(c, f.bytes, f.len, deadline, &ignored) == 0) {
        /* skip anything else the broker sends first (retained messages are not expected) */
        do {
            a->outcome = read_packet(c, buf, sizeof buf, &n, &pkt, &malformed, deadline);
        } while (a->outcome == MQTTRAW_REPLY && !malformed && pkt.type != MQTTRAW_PINGRESP &&
                 clock_remaining_ms(deadline) > 0);
        if (a->outcome == MQTTRAW_REPLY && !malformed && pkt.type == MQTTRAW_PINGRESP) {
            a->pingresp = true;
            a->rtt_ms = clock_now_ms() - t0;
        }
    } else {
        a->outcome = MQTTRAW_RESET;
    }
    mqttraw_frame_free(&f);
    if (a->pingresp && mqttraw_disconnect_frame(&f, 4, 0) == 0) {
        mqttconn_send(c, f.bytes, f.len, deadline, &ignored);
        mqttraw_frame_free(&f);
    }
}

int mqttraw_alive(const struct mqttdrv_target *t, const struct mqttraw_preface *p,
                  struct mqttraw_alive *a, struct assay_error *err)
{
    struct mqttconn c;
    struct mqttraw_preface pre = {.connect = true};
    enum mqttraw_outcome why = MQTTRAW_REPLY;
    assay_ms start = clock_now_ms(), deadline;
    int rc;
    memset(a, 0, sizeof *a);
    a->connack_code = -1;
    a->rtt_ms = -1;
    if ((rc = check_args(t, err)) != 0)
        return rc;
    if (p)
        pre = *p;
    deadline = start + t->timeout_ms;
    rc = open_conn(&c, t, &pre, deadline, &a->outcome, a->detail, sizeof a->detail, err);
    if (rc)
        return rc > 0 ? 0 : rc;
    if ((rc = do_preface(&c, &pre, deadline, &a->connack_code, &why, err)) != 0) {
        mqttconn_close(&c, CLOSE_DRAIN_MS);
        return rc;
    }
    a->outcome = why;
    a->alive = a->connack_code >= 0;
    if (a->connack_code > 0)
        a->rtt_ms = clock_now_ms() - start;
    else if (a->connack_code == 0)
        ping(&c, a, deadline);
    mqttdrv_log(t->sink, "mqtt", c.tcp.peer, TRANSCRIPT_NOTE, "alive", NULL, 0,
                "liveness: CONNACK %d, PINGRESP %s (%s), rtt %lld ms", a->connack_code,
                a->pingresp ? "yes" : "no", mqttraw_outcome_name(a->outcome), (long long)a->rtt_ms);
    mqttconn_close(&c, CLOSE_DRAIN_MS);
    return 0;
}
