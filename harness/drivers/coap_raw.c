/*
 * coap_raw.c: the CoAP driver's raw UDP path (see coap.h): messages built
 * field by field so any field can lie, named malformed presets, a bounded
 * reply-header decoder, one-datagram exchanges with a deadline, the CoAP-ping
 * liveness probe, and the target check shared by the whole driver.
 */
#include "coap_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

int coapdrv_check_target(const struct coapdrv_target *t, struct coapdrv_addr *a,
                         struct assay_error *err)
{
    struct sockaddr_in *v4 = (struct sockaddr_in *)&a->ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&a->ss;
    memset(a, 0, sizeof *a);
    if (!t || !t->host || !t->scope || t->port == 0 || t->timeout_ms <= 0)
        return assay_fail(err, ASSAY_EINVAL,
                          "coap: target needs a host, a port, a scope and a timeout");
    if (strchr(t->host, ':'))
        snprintf(a->peer, sizeof a->peer, "[%s]:%u", t->host, (unsigned)t->port);
    else
        snprintf(a->peer, sizeof a->peer, "%s:%u", t->host, (unsigned)t->port);
    if (!scope_allows(t->scope, t->host)) {
        transcript_note(t->sink, "coap", a->peer, "refused", "address outside the run's scope");
        return assay_fail(err, ASSAY_ESCOPE, "coap: %s is outside the run's scope", t->host);
    }
    if (inet_pton(AF_INET, t->host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(t->port);
        a->len = sizeof *v4;
    } else if (inet_pton(AF_INET6, t->host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(t->port);
        a->len = sizeof *v6;
    } else {
        return assay_fail(err, ASSAY_EINVAL, "coap: %s is not an address literal", t->host);
    }
    return 0;
}

int coapdrv_ack_timeout_ms(const struct coapdrv_target *t)
{
    int ms = t->ack_timeout_ms;
    if (ms <= 0) {
        ms = t->timeout_ms / 3;
        ms = ms < 100 ? 100 : ms > 2000 ? 2000 : ms;
    }
    return ms;
}

int coapdrv_max_retransmit(const struct coapdrv_target *t)
{
    if (t->max_retransmit < 0)
        return 1;
    return t->max_retransmit > 4 ? 4 : t->max_retransmit;
}

/* ---- building ---- */

struct wbuf {
    uint8_t *p;
    size_t cap, n;
    bool overflow;
};

static void put(struct wbuf *w, const uint8_t *src, size_t len)
{
    if (w->overflow || len > w->cap - w->n) {
        w->overflow = true;
        return;
    }
    if (len)
        memcpy(w->p + w->n, src, len);
    w->n += len;
}

static void put_byte(struct wbuf *w, uint8_t b)
{
    put(w, &b, 1);
}

/* The nibble for an option delta or length, and its extended bytes. */
static uint8_t nibble(size_t v, uint8_t ext[2], size_t *next)
{
    if (v < 13) {
        *next = 0;
        return (uint8_t)v;
    }
    if (v < 269) {
        ext[0] = (uint8_t)(v - 13);
        *next = 1;
        return 13;
    }
    ext[0] = (uint8_t)((v - 269) >> 8);
    ext[1] = (uint8_t)(v - 269);
    *next = 2;
    return 14;
}

int coapraw_build(const struct coapraw_spec *s, uint8_t *out, size_t cap, size_t *len,
                  struct assay_error *err)
{
    struct wbuf w = {.p = out, .cap = cap};
    uint16_t prev = 0;
    if (s->version > 3 || s->type > 3 || s->tkl > 15)
        return assay_fail(err, ASSAY_EINVAL,
                          "coap raw: version, type or token length out of range");
    put_byte(&w, (uint8_t)(s->version << 6 | s->type << 4 | s->tkl));
    put_byte(&w, s->code);
    put_byte(&w, (uint8_t)(s->mid >> 8));
    put_byte(&w, (uint8_t)s->mid);
    put(&w, s->token, s->token_len);
    for (size_t i = 0; i < s->nopts; i++) {
        const struct coapraw_opt *o = &s->opts[i];
        uint8_t dext[2], lext[2];
        size_t dn, ln;
        uint8_t d, l;
        if (o->number < prev || o->len > 65804)
            return assay_fail(err, ASSAY_EINVAL, "coap raw: option %zu out of order or too long",
                              i);
        d = nibble((size_t)(o->number - prev), dext, &dn);
        l = nibble(o->len, lext, &ln);
        put_byte(&w, (uint8_t)(d << 4 | l));
        put(&w, dext, dn);
        put(&w, lext, ln);
        put(&w, o->value, o->len);
        prev = o->number;
    }
    put(&w, s->tail, s->tail_len);
    if (s->payload_len) {
        put_byte(&w, 0xff);
        put(&w, s->payload, s->payload_len);
    }
    if (w.overflow)
        return assay_fail(err, ASSAY_ENOMEM, "coap raw: message larger than %zu bytes", cap);
    *len = w.n;
    return 0;
}

const char *const coapraw_preset_names[] = {
    "bad-version",
    "tkl-15",
    "truncated-option",
    "unknown-critical",
    "delta-overflow",
    "reserved-nibble",
    "absurd-block2",
    "absurd-block1",
    "ping",
    NULL,
};

int coapraw_preset(const char *name, uint16_t mid, uint8_t *out, size_t cap, size_t *len,
                   struct assay_error *err)
{
    static const uint8_t wk[] = ".well-known", core[] = "core", tok[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    static const uint8_t trunc[] = {0xba, 'a', 'b', 'c'}, over[] = {0xe0, 0xff, 0xff};
    static const uint8_t resv[] = {0xf1, 'x'}, blk2[] = {0xff, 0xff, 0xf6},
                         blk1[] = {0xff, 0xff, 0xfe}, body[16] = "0123456789abcdef";
    struct coapraw_opt opts[4] = {{11, wk, 11}, {11, core, 4}};
    struct coapraw_spec s = {.version = 1, .type = 0, .code = 1, .mid = mid, .opts = opts};
    if (!name)
        return assay_fail(err, ASSAY_EINVAL, "coap raw: no preset name");
    if (strcmp(name, "bad-version") == 0) {
        s.version = 2;
        s.nopts = 2;
    } else if (strcmp(name, "tkl-15") == 0) {
        s.tkl = 15;
        s.token = tok;
        s.token_len = sizeof tok;
    } else if (strcmp(name, "truncated-option") == 0) {
        s.tail = trunc;
        s.tail_len = sizeof trunc;
    } else if (strcmp(name, "unknown-critical") == 0) {
        opts[2] = (struct coapraw_opt){65001, core, 4};
        s.opts = &opts[1];
        s.nopts = 2;
    } else if (strcmp(name, "delta-overflow") == 0) {
        s.tail = over;
        s.tail_len = sizeof over;
    } else if (strcmp(name, "reserved-nibble") == 0) {
        s.tail = resv;
        s.tail_len = sizeof resv;
    } else if (strcmp(name, "absurd-block2") == 0) {
        opts[2] = (struct coapraw_opt){23, blk2, sizeof blk2};
        s.nopts = 3;
    } else if (strcmp(name, "absurd-block1") == 0) {
        opts[2] = (struct coapraw_opt){27, blk1, sizeof blk1};
        s.nopts = 3;
        s.code = 3; /* PUT */
        s.payload = body;
        s.payload_len = sizeof body;
    } else if (strcmp(name, "ping") == 0) {
        s.code = 0;
    } else {
        return assay_fail(err, ASSAY_EINVAL, "coap raw: unknown preset '%s'", name);
    }
    return coapraw_build(&s, out, cap, len, err);
}

int coapraw_decode(const uint8_t *buf, size_t len, struct coapraw_header *h)
{
    memset(h, 0, sizeof *h);
    if (!buf || len < 4)
        return ASSAY_EINVAL;
    h->version = buf[0] >> 6;
    h->type = (buf[0] >> 4) & 3;
    h->tkl = buf[0] & 15;
    h->code = buf[1];
    h->mid = (uint16_t)(buf[2] << 8 | buf[3]);
    if (h->tkl <= 8 && len >= 4u + h->tkl) {
        memcpy(h->token, buf + 4, h->tkl);
        h->token_len = h->tkl;
        h->token_ok = true;
    }
    return 0;
}

/* ---- exchanging ---- */

static void describe(char *buf, size_t n, const char *verb, const uint8_t *m, size_t len)
{
    static const char *const types[] = {"CON", "NON", "ACK", "RST"};
    struct coapraw_header h;
    if (coapraw_decode(m, len, &h) == 0)
        snprintf(buf, n, "%s %zu bytes: v%u %s %u.%02u mid=0x%04x tkl=%u", verb, len, h.version,
                 types[h.type], h.code >> 5, h.code & 31, h.mid, h.tkl);
    else
        snprintf(buf, n, "%s %zu bytes (shorter than a CoAP header)", verb, len);
}

static void record(const struct coapdrv_target *t, const struct coapdrv_addr *a,
                   enum transcript_dir dir, const uint8_t *m, size_t len)
{
    char summary[160];
    struct transcript_entry e = {.protocol = "coap",
                                 .dir = dir,
                                 .peer = a->peer,
                                 .event = "raw",
                                 .summary = summary,
                                 .bytes = m,
                                 .nbytes = len};
    describe(summary, sizeof summary, dir == TRANSCRIPT_SEND ? "sent" : "received", m, len);
    transcript_write(t->sink, &e);
}

/* Receives one datagram into the result; returns 1 when a reply was kept, 0 when
 * none was, -1 on an ICMP error. */
static int receive_one(int fd, const struct coapdrv_target *t, const struct coapdrv_addr *a,
                       assay_ms start, struct coapraw_result *res, size_t max_replies)
{
    uint8_t buf[COAPRAW_MAX_DATAGRAM];
    struct coapraw_reply *r;
    size_t wire;
    ssize_t n = recv(fd, buf, sizeof buf, MSG_TRUNC | MSG_DONTWAIT);
    if (n < 0)
        return (errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH) ? -1 : 0;
    wire = (size_t)n;
    res->datagrams++;
    res->bytes_received += wire;
    if ((size_t)n > sizeof buf)
        n = (ssize_t)sizeof buf;
    record(t, a, TRANSCRIPT_RECV, buf, (size_t)n);
    if (res->nreplies >= max_replies)
        return 0;
    r = &res->replies[res->nreplies++];
    memcpy(r->bytes, buf, (size_t)n);
    r->len = (size_t)n;
    r->wire_len = wire;
    r->decoded = coapraw_decode(r->bytes, r->len, &r->hdr) == 0;
    r->after_ms = clock_now_ms() - start;
    return 1;
}

static int raw_exchange(const struct coapdrv_target *t, const uint8_t *msg, size_t len,
                        size_t max_replies, int stop_mid, struct coapraw_result *res,
                        struct assay_error *err)
{
    struct coapdrv_addr a;
    assay_ms start = clock_now_ms(), deadline;
    int fd, rc = coapdrv_check_target(t, &a, err);
    memset(res, 0, sizeof *res);
    if (rc)
        return rc;
    if (!msg || len == 0 || len > 65507 || max_replies == 0 || max_replies > COAPRAW_MAX_REPLIES)
        return assay_fail(err, ASSAY_EINVAL, "coap raw: bad message length or reply count");
    deadline = start + t->timeout_ms;
    fd = socket(a.ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return assay_fail(err, ASSAY_ENET, "coap raw: socket: %s", strerror(errno));
    if (connect(fd, (struct sockaddr *)&a.ss, a.len) < 0 || send(fd, msg, len, 0) != (ssize_t)len) {
        rc = assay_fail(err, ASSAY_ENET, "coap raw: sending to %s: %s", a.peer, strerror(errno));
        close(fd);
        return rc;
    }
    res->bytes_sent = len;
    record(t, &a, TRANSCRIPT_SEND, msg, len);
    while (res->nreplies < max_replies) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int64_t left = clock_remaining_ms(deadline);
        int got;
        if (left <= 0)
            break;
        rc = poll(&p, 1, (int)left);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            break;
        got = receive_one(fd, t, &a, start, res, max_replies);
        if (got < 0) {
            res->unreachable = true;
            transcript_note(t->sink, "coap", a.peer, "unreachable", "ICMP error on the raw path");
            break;
        }
        if (got > 0) {
            const struct coapraw_reply *r = &res->replies[res->nreplies - 1];
            if (stop_mid >= 0 && r->decoded && r->hdr.mid == (uint16_t)stop_mid)
                break;
        }
    }
    close(fd);
    res->elapsed_ms = clock_now_ms() - start;
    return 0;
}

int coapraw_exchange(const struct coapdrv_target *t, const uint8_t *msg, size_t len,
                     size_t max_replies, struct coapraw_result *res, struct assay_error *err)
{
    return raw_exchange(t, msg, len, max_replies, -1, res, err);
}

int coapdrv_alive(const struct coapdrv_target *t, bool *alive, int64_t *rtt_ms,
                  struct assay_error *err)
{
    struct coapraw_result res;
    uint8_t msg[4];
    uint16_t mid = 0;
    size_t len;
    int rc;
    *alive = false;
    *rtt_ms = -1;
    if (getrandom(&mid, sizeof mid, 0) != (ssize_t)sizeof mid)
        mid = (uint16_t)clock_now_ms();
    rc = coapraw_preset("ping", mid, msg, sizeof msg, &len, err);
    if (rc)
        return rc;
    rc = raw_exchange(t, msg, len, COAPRAW_MAX_REPLIES, mid, &res, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < res.nreplies; i++) {
        if (res.replies[i].decoded && res.replies[i].hdr.mid == mid) {
            *alive = true;
            *rtt_ms = res.replies[i].after_ms;
            break;
        }
    }
    return 0;
}
