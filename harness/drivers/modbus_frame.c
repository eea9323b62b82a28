/*
 * modbus_frame.c: the frames the Modbus driver writes itself: the function
 * code guard, framed requests read back by MBAP length (FC 0x2B / 0x0E and
 * FC 0x11), and raw frames for robustness tests (modbus.h).
 */
#include "modbus_internal.h"

#include <stdio.h>
#include <string.h>

/* ---- The function-code guard: the one place FC 08 is refused ---- */

/* Feeds one byte to g; returns false if it is a forbidden function code. */
static bool guard_step(struct modbus_frame_guard *g, uint8_t b)
{
    if (g->pos < sizeof(g->hdr))
        g->hdr[g->pos] = b;
    if (g->pos == 7 && b == MODBUS_FC_FORBIDDEN)
        return false;
    g->pos++;
    if (g->pos == 6)
        g->end = 6 + ((size_t)g->hdr[4] << 8 | g->hdr[5]);
    if (g->end && g->pos >= g->end) {
        g->pos = 0;
        g->end = 0;
    }
    return true;
}

static bool guard_walk(struct modbus_frame_guard *g, const uint8_t *buf, size_t len, size_t *at)
{
    for (size_t i = 0; i < len; i++)
        if (!guard_step(g, buf[i])) {
            *at = i;
            return false;
        }
    return true;
}

/* A frame could also start anywhere a device resynchronises (libmodbus-based
 * servers, for one, size a request by its function code, not its MBAP
 * length): refuse 0x08 after anything that looks like an MBAP header. */
static bool plausible_header_before(const uint8_t *buf, size_t len, size_t *at)
{
    for (size_t p = 7; p < len; p++) {
        if (buf[p] != MODBUS_FC_FORBIDDEN)
            continue;
        const uint8_t *h = buf + p - 7;
        unsigned mlen = (unsigned)h[4] << 8 | h[5];
        if (h[2] == 0 && h[3] == 0 && mlen >= 2 && mlen <= 254) {
            *at = p;
            return true;
        }
    }
    return false;
}

int modbus_frame_guard_check(struct modbus_frame_guard *g, const uint8_t *buf, size_t len,
                             struct assay_error *err)
{
    if (!buf && len)
        return assay_fail(err, ASSAY_EINVAL, "no frame");
    struct modbus_frame_guard fresh = {0};
    struct modbus_frame_guard stream = g ? *g : fresh;
    size_t at = 0;
    if (!guard_walk(&fresh, buf, len, &at) || !guard_walk(&stream, buf, len, &at) ||
        plausible_header_before(buf, len, &at))
        return assay_fail(err, ASSAY_EINVAL,
                          "refused: byte %zu would be function code 0x08 (diagnostics), "
                          "which is never sent",
                          at);
    if (g)
        *g = stream;
    return 0;
}

bool modbus_frame_guard_idle(const struct modbus_frame_guard *g)
{
    return g->pos == 0;
}

/* ---- Reading one frame by its MBAP length ---- */

void mbi_read_frame(struct modbus_conn *c, uint8_t *buf, size_t *len, assay_ms deadline,
                    struct modbus_result *r)
{
    size_t got = 0;
    *len = 0;
    if (rawtcp_recv_exact(&c->tcp, buf, 7, deadline, &got, NULL) != 0) {
        *len = got;
        mbi_transport_outcome(c, r, got ? "incomplete header" : "waiting for the reply");
        return;
    }
    size_t mlen = (size_t)buf[4] << 8 | buf[5];
    if (mlen < 2 || mlen > MODBUS_FRAME_MAX - 6) {
        *len = 7;
        r->outcome = MODBUS_OUTCOME_MALFORMED;
        snprintf(r->reason, sizeof(r->reason), "MBAP length %zu out of range (2..254)", mlen);
        mbi_drop(c); /* the stream cannot be followed any further */
        return;
    }
    size_t more = 0;
    int rc = rawtcp_recv_exact(&c->tcp, buf + 7, mlen - 1, deadline, &more, NULL);
    *len = 7 + more;
    if (rc != 0) {
        mbi_transport_outcome(c, r, "incomplete frame");
        return;
    }
    r->outcome = MODBUS_OUTCOME_OK;
}

/* ---- Framed requests ---- */

/* Sends `pdu` to the unit in a fresh MBAP frame and reads the reply frame.
 * Returns 0 with r->outcome set (OK means *reply_len bytes of one frame). */
static int transact(struct modbus_conn *c, const uint8_t *pdu, size_t pdu_len, uint8_t *reply,
                    size_t *reply_len, uint16_t *tid, struct modbus_result *r,
                    struct assay_error *err)
{
    uint8_t adu[MODBUS_FRAME_MAX];
    memset(r, 0, sizeof(*r));
    *reply_len = 0;
    if (pdu_len < 1 || pdu_len > MODBUS_MAX_PDU_LENGTH)
        return assay_fail(err, ASSAY_EINVAL, "PDU of %zu bytes", pdu_len);
    *tid = c->next_tid++;
    adu[0] = (uint8_t)(*tid >> 8);
    adu[1] = (uint8_t)*tid;
    adu[2] = adu[3] = 0;
    adu[4] = (uint8_t)((pdu_len + 1) >> 8);
    adu[5] = (uint8_t)(pdu_len + 1);
    adu[6] = c->unit_id;
    memcpy(adu + 7, pdu, pdu_len);
    int rc = mbi_begin_request(c, false, err);
    if (rc == 0)
        rc = modbus_frame_guard_check(&c->guard, adu, pdu_len + 7, err);
    if (rc != 0)
        return rc;
    char summary[96];
    snprintf(summary, sizeof(summary), "FC %02X, %zu-byte PDU, transaction %u", pdu[0], pdu_len,
             (unsigned)*tid);
    transcript_note(c->opts.sink, "modbus", c->tcp.peer, "request", summary);
    assay_ms t0 = clock_now_ms();
    assay_ms deadline = clock_deadline(c->opts.timeout_ms);
    if (rawtcp_send(&c->tcp, adu, pdu_len + 7, deadline, NULL) != 0)
        mbi_transport_outcome(c, r, "sending");
    else
        mbi_read_frame(c, reply, reply_len, deadline, r);
    r->elapsed_ms = clock_now_ms() - t0;
    mbi_end_request(c);
    return 0;
}

static void record_outcome(struct modbus_conn *c, const char *what, const struct modbus_result *r)
{
    char summary[224];
    if (r->outcome == MODBUS_OUTCOME_EXCEPTION)
        snprintf(summary, sizeof(summary), "%s: exception %d (%s)", what, r->exception,
                 modbus_exception_name(r->exception));
    else
        snprintf(summary, sizeof(summary), "%s: %s%s%s after %lld ms", what,
                 modbus_outcome_name(r->outcome), r->reason[0] ? ", " : "", r->reason,
                 (long long)r->elapsed_ms);
    transcript_note(c->opts.sink, "modbus", c->tcp.peer,
                    r->outcome == MODBUS_OUTCOME_OK ? "reply" : modbus_outcome_name(r->outcome),
                    summary);
}

static void copy_reason(struct modbus_result *r, const char *msg)
{
    size_t n = strnlen(msg, sizeof(r->reason) - 1);
    memcpy(r->reason, msg, n);
    r->reason[n] = '\0';
}

static void append_objects(struct modbus_ident *out, const struct modbus_ident_page *page)
{
    for (size_t i = 0; i < page->nobjects; i++) {
        if (out->nobjects == MODBUS_IDENT_MAX_OBJECTS) {
            out->truncated = true;
            return;
        }
        struct modbus_ident_object *o = &out->objects[out->nobjects++];
        o->id = page->objects[i].id;
        o->len = page->objects[i].len;
        memcpy(o->value, page->objects[i].value, o->len);
    }
}

/* One identification request; returns 0 and sets *more to continue at *object_id. */
static int ident_page(struct modbus_conn *c, uint8_t level, uint8_t *object_id, bool *more,
                      struct modbus_ident *out, struct assay_error *err)
{
    uint8_t pdu[4] = {0x2B, 0x0E, level, *object_id};
    uint8_t reply[MODBUS_FRAME_MAX];
    size_t n = 0;
    uint16_t tid = 0;
    struct modbus_result *r = &out->result;
    int64_t before = r->elapsed_ms;
    *more = false;
    int rc = transact(c, pdu, sizeof(pdu), reply, &n, &tid, r, err);
    r->elapsed_ms += before;
    if (rc != 0 || r->outcome != MODBUS_OUTCOME_OK)
        return rc;
    struct modbus_ident_page page;
    struct assay_error perr = {0};
    if (modbus_ident_parse(reply, n, tid, c->unit_id, &page, &perr) != 0) {
        r->outcome = MODBUS_OUTCOME_MALFORMED;
        copy_reason(r, perr.msg);
        return 0;
    }
    if (page.exception) {
        r->outcome = MODBUS_OUTCOME_EXCEPTION;
        r->exception = page.exception;
        return 0;
    }
    out->pages++;
    out->conformity = page.conformity;
    append_objects(out, &page);
    if (page.more_follows == 0xFF && level != MODBUS_IDENT_SPECIFIC) {
        if (page.next_object_id <= *object_id) {
            r->outcome = MODBUS_OUTCOME_MALFORMED;
            snprintf(r->reason, sizeof(r->reason),
                     "'more follows' with next object 0x%02X not after 0x%02X", page.next_object_id,
                     *object_id);
            return 0;
        }
        *object_id = page.next_object_id;
        *more = true;
    }
    return 0;
}

int modbus_conn_identify(struct modbus_conn *c, enum modbus_ident_level level, uint8_t object_id,
                         struct modbus_ident *out, struct assay_error *err)
{
    memset(out, 0, sizeof(*out));
    if (level < MODBUS_IDENT_BASIC || level > MODBUS_IDENT_SPECIFIC)
        return assay_fail(err, ASSAY_EINVAL, "identification level %d is not 1..4", (int)level);
    bool more = true;
    for (int i = 0; more; i++) {
        if (i == MODBUS_IDENT_MAX_PAGES) {
            out->truncated = true;
            break;
        }
        int rc = ident_page(c, (uint8_t)level, &object_id, &more, out, err);
        if (rc != 0)
            return rc;
    }
    record_outcome(c, "device identification", &out->result);
    return 0;
}

const uint8_t *modbus_ident_find(const struct modbus_ident *ident, uint8_t id, size_t *len)
{
    for (size_t i = 0; i < ident->nobjects; i++)
        if (ident->objects[i].id == id) {
            *len = ident->objects[i].len;
            return ident->objects[i].value;
        }
    *len = 0;
    return NULL;
}

int modbus_conn_server_id(struct modbus_conn *c, struct modbus_server_id *out,
                          struct assay_error *err)
{
    memset(out, 0, sizeof(*out));
    uint8_t pdu[1] = {0x11};
    uint8_t reply[MODBUS_FRAME_MAX];
    size_t n = 0;
    uint16_t tid = 0;
    struct modbus_result r;
    int rc = transact(c, pdu, sizeof(pdu), reply, &n, &tid, &r, err);
    if (rc != 0)
        return rc;
    if (r.outcome == MODBUS_OUTCOME_OK) {
        struct assay_error perr = {0};
        if (modbus_server_id_parse(reply, n, tid, c->unit_id, out, &perr) != 0) {
            r.outcome = MODBUS_OUTCOME_MALFORMED;
            copy_reason(&r, perr.msg);
        } else {
            r.outcome = out->result.outcome;
            r.exception = out->result.exception;
        }
    }
    out->result = r;
    record_outcome(c, "report server id", &out->result);
    return 0;
}

/* ---- Raw frames ---- */

static bool frame_complete(const uint8_t *b, size_t n)
{
    return n >= 7 && n >= 6 + ((size_t)b[4] << 8 | b[5]);
}

static void collect_reply(struct modbus_conn *c, size_t cap, assay_ms deadline,
                          struct modbus_raw_reply *out)
{
    struct modbus_result *r = &out->result;
    while (out->len < cap) {
        size_t want = cap - out->len, got = 0, need;
        if (out->len < 7)
            need = 7 - out->len; /* the header first, so no byte of a next frame is taken */
        else if (frame_complete(out->bytes, out->len))
            break;
        else
            need = 6 + ((size_t)out->bytes[4] << 8 | out->bytes[5]) - out->len;
        if (need < want)
            want = need;
        if (rawtcp_recv(&c->tcp, out->bytes + out->len, want, deadline, &got, NULL) != 0) {
            mbi_transport_outcome(c, r, out->len ? "partial reply" : "waiting for a reply");
            return;
        }
        out->len += got;
    }
    out->complete = frame_complete(out->bytes, out->len);
    r->outcome = MODBUS_OUTCOME_OK;
    if (out->complete && out->len == 9 && (out->bytes[7] & 0x80)) {
        r->outcome = MODBUS_OUTCOME_EXCEPTION;
        r->exception = out->bytes[8];
    }
}

int modbus_conn_raw(struct modbus_conn *c, const uint8_t *frame, size_t len, size_t expect_max,
                    struct modbus_raw_reply *out, struct assay_error *err)
{
    memset(out, 0, sizeof(*out));
    if (!frame || len == 0 || len > 4096)
        return assay_fail(err, ASSAY_EINVAL, "raw frame of %zu bytes (1..4096)", len);
    if (expect_max == 0 || expect_max > sizeof(out->bytes))
        expect_max = sizeof(out->bytes);
    if (!modbus_conn_is_open(c))
        return assay_fail(err, ASSAY_EINVAL, "Modbus connection is closed");
    struct modbus_frame_guard g = c->guard;
    int rc = modbus_frame_guard_check(&g, frame, len, err);
    if (rc != 0)
        transcript_note(c->opts.sink, "modbus", c->tcp.peer, "refused", err ? err->msg : "FC 08");
    if (rc == 0)
        rc = mbi_begin_request(c, true, err);
    if (rc != 0)
        return rc;
    c->guard = g;
    assay_ms t0 = clock_now_ms();
    assay_ms deadline = clock_deadline(c->opts.timeout_ms);
    if (rawtcp_send(&c->tcp, frame, len, deadline, NULL) != 0)
        mbi_transport_outcome(c, &out->result, "sending");
    else
        collect_reply(c, expect_max, deadline, out);
    out->result.elapsed_ms = clock_now_ms() - t0;
    mbi_end_request(c);
    char what[64];
    snprintf(what, sizeof(what), "raw frame of %zu bytes, %zu back", len, out->len);
    record_outcome(c, what, &out->result);
    return 0;
}
