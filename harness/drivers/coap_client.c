/*
 * coap_client.c: CoAP requests over libcoap 4.3.1 (see coap.h): a session per
 * call or from a pool (coap_pool.c), replies matched to the exchange in flight
 * by token and message id, shortened retransmission, manual Block2/Block1 so
 * the body is bounded and every message is counted, results copied out as data.
 */
#include "coap_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SEGMENTS 16

void coapdrv_response_release(struct coapdrv_response *r)
{
    if (!r)
        return;
    free(r->payload);
    r->payload = NULL;
    r->payload_len = 0;
}

/* ---- request description ---- */

struct seg {
    const char *p;
    size_t n;
};

struct plan {
    struct seg path[MAX_SEGMENTS], query[MAX_SEGMENTS];
    size_t npath, nquery;
};

static int split(const char *s, size_t n, char sep, struct seg *out, size_t *count,
                 struct assay_error *err)
{
    size_t start = 0;
    *count = 0;
    if (n == 0)
        return 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != sep)
            continue;
        if (*count >= MAX_SEGMENTS || i - start > 255)
            return assay_fail(err, ASSAY_EINVAL, "coap: path has too many or too long segments");
        out[(*count)++] = (struct seg){s + start, i - start};
        start = i + 1;
    }
    return 0;
}

static int plan_path(const char *path, struct plan *pl, struct assay_error *err)
{
    const char *q;
    size_t plen;
    int rc;
    memset(pl, 0, sizeof *pl);
    if (!path)
        path = "";
    if (*path == '/')
        path++;
    q = strchr(path, '?');
    plen = q ? (size_t)(q - path) : strlen(path);
    rc = split(path, plen, '/', pl->path, &pl->npath, err);
    if (rc == 0 && q)
        rc = split(q + 1, strlen(q + 1), '&', pl->query, &pl->nquery, err);
    return rc;
}

/* ---- the exchange state, reached from libcoap's callbacks ---- */

struct exchange {
    struct coapdrv_response *resp;
    size_t max_body;
    uint8_t token[8];
    size_t token_len;
    coap_mid_t mid;   /* of the request in flight */
    bool confirmable; /* the request is CON */
    bool pending;     /* libcoap may still retransmit the request in flight */
    bool left_behind; /* some request of this call may still be retransmitted */
    bool done;
    /* from the last reply */
    bool has_block2, block2_more;
    uint32_t block2_num;
    unsigned block2_szx;
    struct coapdrv_conn *conn;
};

static void copy_options(struct coapdrv_response *r, const coap_pdu_t *pdu)
{
    coap_opt_iterator_t it;
    coap_opt_t *o;
    r->noptions = 0;
    r->options_truncated = false;
    coap_option_iterator_init(pdu, &it, COAP_OPT_ALL);
    while ((o = coap_option_next(&it)) != NULL) {
        struct coapdrv_option *d;
        uint32_t len = coap_opt_length(o);
        if (r->noptions >= COAPDRV_MAX_OPTIONS) {
            r->options_truncated = true;
            break;
        }
        d = &r->options[r->noptions++];
        d->number = it.number;
        d->truncated = len > COAPDRV_MAX_OPTION_VALUE;
        d->len = (uint16_t)(d->truncated ? COAPDRV_MAX_OPTION_VALUE : len);
        memcpy(d->value, coap_opt_value(o), d->len);
    }
}

static void append_body(struct exchange *x, const coap_pdu_t *pdu)
{
    struct coapdrv_response *r = x->resp;
    size_t len = 0, room;
    const uint8_t *data = NULL;
    uint8_t *nb;
    if (!coap_get_data(pdu, &len, &data) || len == 0)
        return;
    room = x->max_body > r->payload_len ? x->max_body - r->payload_len : 0;
    if (len > room) {
        len = room;
        r->body_truncated = true;
    }
    if (len == 0)
        return;
    nb = realloc(r->payload, r->payload_len + len + 1);
    if (!nb) {
        r->body_truncated = true;
        return;
    }
    memcpy(nb + r->payload_len, data, len);
    r->payload = nb;
    r->payload_len += len;
    r->payload[r->payload_len] = 0;
}

static void read_block2(struct exchange *x, const coap_pdu_t *pdu)
{
    coap_opt_iterator_t it;
    coap_opt_t *o = coap_check_option(pdu, COAP_OPTION_BLOCK2, &it);
    x->has_block2 = o != NULL && coap_opt_length(o) <= 3;
    if (!x->has_block2)
        return;
    x->block2_num = coap_opt_block_num(o);
    x->block2_more = COAP_OPT_BLOCK_MORE(o) != 0;
    x->block2_szx = COAP_OPT_BLOCK_SZX(o);
}

static void record_pdu(const struct exchange *x, enum transcript_dir dir, const char *event,
                       const coap_pdu_t *pdu)
{
    char summary[160];
    struct transcript_entry e = {.protocol = "coap",
                                 .dir = dir,
                                 .peer = x->conn->addr.peer,
                                 .event = event,
                                 .summary = summary};
    coapdrv_pdu_summary(pdu, summary, sizeof summary);
    transcript_write(x->conn->t->sink, &e);
}

/* A reply answers the request in flight when it carries its token and, if it
 * is an ACK (a piggybacked response), its message id. */
static bool answers_exchange(const struct exchange *x, const coap_pdu_t *received)
{
    coap_bin_const_t tok = coap_pdu_get_token(received);
    if (tok.length != x->token_len || (tok.length && memcmp(tok.s, x->token, tok.length) != 0))
        return false;
    return coap_pdu_get_type(received) != COAP_MESSAGE_ACK || coap_pdu_get_mid(received) == x->mid;
}

static coap_response_t on_response(coap_session_t *session, const coap_pdu_t *sent,
                                   const coap_pdu_t *received, const coap_mid_t mid)
{
    struct coapdrv_conn *c = coap_session_get_app_data(session);
    struct exchange *x = c ? c->exchange : NULL;
    coap_pdu_code_t code = coap_pdu_get_code(received);
    (void)sent;
    (void)mid;
    if (!x)
        return COAP_RESPONSE_OK;
    if (x->done || !answers_exchange(x, received)) {
        x->resp->stale_replies++;
        record_pdu(x, TRANSCRIPT_RECV, "stale-reply-dropped", received);
        return COAP_RESPONSE_OK;
    }
    if (coap_pdu_get_type(received) == COAP_MESSAGE_ACK || !x->confirmable)
        x->pending = false;
    x->resp->type = coap_pdu_get_type(received);
    x->resp->code_class = (int)(code >> 5);
    x->resp->code_detail = (int)(code & 31);
    x->resp->bytes_received += coapdrv_pdu_wire_size(received);
    x->resp->outcome = COAPDRV_RESPONSE;
    copy_options(x->resp, received);
    append_body(x, received);
    read_block2(x, received);
    record_pdu(x, TRANSCRIPT_RECV, "response", received);
    x->done = true;
    return COAP_RESPONSE_OK;
}

static void on_nack(coap_session_t *session, const coap_pdu_t *sent,
                    const coap_nack_reason_t reason, const coap_mid_t mid)
{
    struct coapdrv_conn *c = coap_session_get_app_data(session);
    struct exchange *x = c ? c->exchange : NULL;
    char why[96];
    (void)sent;
    if (c)
        c->nack = (int)reason + 1;
    if (!x || x->done)
        return;
    if ((reason == COAP_NACK_RST || reason == COAP_NACK_TOO_MANY_RETRIES) && mid != x->mid) {
        /* about an earlier message: not an answer to this request */
        if (reason == COAP_NACK_RST)
            x->resp->stale_replies++;
        snprintf(why, sizeof why, "%s for an earlier message (mid 0x%04x) dropped",
                 reason == COAP_NACK_RST ? "RST" : "retransmission limit", (unsigned)mid & 0xffff);
        transcript_note(c->t->sink, "coap", c->addr.peer, "stale-reply-dropped", why);
        return;
    }
    if (reason == COAP_NACK_RST || reason == COAP_NACK_TOO_MANY_RETRIES)
        x->pending = false;
    switch (reason) {
    case COAP_NACK_RST: x->resp->outcome = COAPDRV_RESET; break;
    case COAP_NACK_ICMP_ISSUE: x->resp->outcome = COAPDRV_UNREACHABLE; break;
    case COAP_NACK_TLS_FAILED: x->resp->outcome = COAPDRV_DTLS_FAILED; break;
    default: x->resp->outcome = COAPDRV_SILENCE; break;
    }
    transcript_note(c->t->sink, "coap", c->addr.peer, "nack",
                    coapdrv_outcome_reason(x->resp->outcome));
    x->done = true;
}

static int on_event(coap_session_t *session, const coap_event_t event)
{
    struct coapdrv_conn *c = coap_session_get_app_data(session);
    if (!c)
        return 0;
    if (event == COAP_EVENT_DTLS_CONNECTED)
        c->dtls = 1;
    else if (event == COAP_EVENT_DTLS_ERROR || event == COAP_EVENT_DTLS_CLOSED)
        c->dtls = -1;
    return 0;
}

/*
 * A request from the device. The harness serves nothing, so it answers
 * nothing: left alone, libcoap would answer 4.04 (or list its resources), and a
 * device that answers every message with a request would keep both sides
 * exchanging at line rate until the deadline. The request is kept as evidence
 * and ends the exchange it arrived in.
 */
static void on_request(coap_resource_t *resource, coap_session_t *session,
                       const coap_pdu_t *request, const coap_string_t *query, coap_pdu_t *response)
{
    struct coapdrv_conn *c = coap_session_get_app_data(session);
    struct exchange *x = c ? c->exchange : NULL;
    (void)resource;
    (void)query;
    (void)response; /* no code set: no answer to a NON request, an empty ACK to a CON */
    if (!x || x->done) {
        if (c)
            transcript_note(c->t->sink, "coap", c->addr.peer, "request-from-device",
                            "the device sent a request between exchanges; not answered");
        return;
    }
    x->resp->bytes_received += coapdrv_pdu_wire_size(request);
    x->resp->outcome = COAPDRV_REQUEST;
    record_pdu(x, TRANSCRIPT_RECV, "request-from-device", request);
    x->done = true;
}

static void serve_nothing(coap_context_t *ctx)
{
    static const coap_request_t methods[] = {
        COAP_REQUEST_GET,   COAP_REQUEST_POST,  COAP_REQUEST_PUT,   COAP_REQUEST_DELETE,
        COAP_REQUEST_FETCH, COAP_REQUEST_PATCH, COAP_REQUEST_IPATCH};
    coap_resource_t *unknown = coap_resource_unknown_init2(on_request, 0);
    coap_resource_t *wellknown = coap_resource_init(coap_make_str_const(".well-known/core"), 0);
    coap_resource_t *rs[] = {unknown, wellknown};
    for (size_t i = 0; i < sizeof rs / sizeof *rs; i++) {
        if (!rs[i])
            continue;
        for (size_t m = 0; m < sizeof methods / sizeof *methods; m++)
            coap_register_request_handler(rs[i], methods[m], on_request);
        coap_add_resource(ctx, rs[i]);
    }
}

/* ---- connections ---- */

coap_context_t *coapdrv_new_context(void)
{
    coap_context_t *ctx = coap_new_context(NULL);
    if (ctx) {
        coap_register_response_handler(ctx, on_response);
        coap_register_nack_handler(ctx, on_nack);
        coap_register_event_handler(ctx, on_event);
        serve_nothing(ctx);
    }
    return ctx;
}

/* The process's context for UDP sessions, created on first use and kept for
 * the life of the process (one operation at a time per process, coap.h). */
static coap_context_t *shared_udp_context(void)
{
    static coap_context_t *udp_ctx;
    if (!udp_ctx)
        udp_ctx = coapdrv_new_context();
    return udp_ctx;
}

int coapdrv_conn_open(struct coapdrv_conn *c, const struct coapdrv_target *t,
                      const struct coapdrv_psk *psk, struct assay_error *err)
{
    coap_address_t dst;
    coap_dtls_cpsk_t setup;
    int rc;
    memset(c, 0, sizeof *c);
    c->t = t;
    rc = coapdrv_check_target(t, &c->addr, err);
    if (rc)
        return rc;
    if (psk && (!psk->identity || !psk->key || psk->key_len == 0))
        return assay_fail(err, ASSAY_EINVAL, "coap: a PSK needs an identity and a key");
    coapdrv_global_init();
    coapdrv_icmp_reset();
    coap_address_init(&dst);
    dst.size = c->addr.len;
    memcpy(&dst.addr, &c->addr.ss, c->addr.len);
    c->ctx = psk ? coapdrv_new_context() : shared_udp_context();
    c->shared_ctx = !psk;
    if (!c->ctx)
        return assay_fail(err, ASSAY_ENOMEM, "coap: cannot create a libcoap context");
    if (psk) {
        memset(&setup, 0, sizeof setup);
        setup.version = COAP_DTLS_CPSK_SETUP_VERSION;
        setup.psk_info.identity.s = (const uint8_t *)psk->identity;
        setup.psk_info.identity.length = strlen(psk->identity);
        setup.psk_info.key.s = psk->key;
        setup.psk_info.key.length = psk->key_len;
        c->session = coap_new_client_session_psk2(c->ctx, NULL, &dst, COAP_PROTO_DTLS, &setup);
    } else {
        c->session = coap_new_client_session(c->ctx, NULL, &dst, COAP_PROTO_UDP);
    }
    if (!c->session) {
        coapdrv_conn_close(c);
        return assay_fail(err, ASSAY_ENET, "coap: cannot open a session to %s", c->addr.peer);
    }
    coap_session_set_app_data(c->session, c);
    coap_session_set_ack_random_factor(c->session, (coap_fixed_point_t){1, 0});
    coapdrv_conn_tune(c, t);
    return 0;
}

void coapdrv_conn_tune(struct coapdrv_conn *c, const struct coapdrv_target *t)
{
    int ack = coapdrv_ack_timeout_ms(t);
    c->t = t;
    c->nack = 0;
    coap_session_set_ack_timeout(
        c->session, (coap_fixed_point_t){(uint16_t)(ack / 1000), (uint16_t)(ack % 1000)});
    coap_session_set_max_retransmit(c->session, (uint16_t)coapdrv_max_retransmit(t));
}

void coapdrv_conn_close(struct coapdrv_conn *c)
{
    if (c->session) {
        coap_session_set_app_data(c->session, NULL);
        coap_session_release(c->session);
    }
    if (c->ctx && !c->shared_ctx)
        coap_free_context(c->ctx);
    c->session = NULL;
    c->ctx = NULL;
}

/* ---- requests ---- */

static bool add_uint_option(coap_pdu_t *pdu, uint16_t number, uint32_t v)
{
    uint8_t buf[4];
    unsigned n = coap_encode_var_safe(buf, sizeof buf, v);
    return coap_add_option(pdu, number, n, buf) != 0;
}

struct step {
    const uint8_t *data;
    size_t len;
    long block1; /* -1: none */
    bool block1_more;
    long block2; /* -1: none */
    unsigned block2_szx;
};

static coap_pdu_t *build_pdu(struct coapdrv_conn *c, struct exchange *x,
                             const struct coapdrv_request *req, const struct plan *pl,
                             const struct step *st)
{
    coap_session_t *s = c->session;
    bool ok = true;
    coap_pdu_t *pdu = coap_pdu_init(req->non_confirmable ? COAP_MESSAGE_NON : COAP_MESSAGE_CON,
                                    (coap_pdu_code_t)req->method, coap_new_message_id(s),
                                    coap_session_max_pdu_size(s));
    if (!pdu)
        return NULL;
    coap_session_new_token(s, &x->token_len, x->token);
    ok = coap_add_token(pdu, x->token_len, x->token) != 0;
    for (size_t i = 0; ok && i < pl->npath; i++)
        ok = coap_add_option(pdu, COAP_OPTION_URI_PATH, pl->path[i].n,
                             (const uint8_t *)pl->path[i].p) != 0 ||
             pl->path[i].n == 0;
    if (ok && req->has_content_format && st->len)
        ok = add_uint_option(pdu, COAP_OPTION_CONTENT_FORMAT, req->content_format);
    for (size_t i = 0; ok && i < pl->nquery; i++)
        ok = coap_add_option(pdu, COAP_OPTION_URI_QUERY, pl->query[i].n,
                             (const uint8_t *)pl->query[i].p) != 0 ||
             pl->query[i].n == 0;
    if (ok && st->block2 >= 0)
        ok = add_uint_option(pdu, COAP_OPTION_BLOCK2,
                             (uint32_t)st->block2 << 4 | (st->block2_szx & 7));
    if (ok && st->block1 >= 0)
        ok = add_uint_option(pdu, COAP_OPTION_BLOCK1,
                             (uint32_t)st->block1 << 4 | (st->block1_more ? 8 : 0) | 6);
    if (ok && st->len)
        ok = coap_add_data(pdu, st->len, st->data) != 0;
    if (!ok) {
        coap_delete_pdu(pdu);
        return NULL;
    }
    return pdu;
}

/* Sends one request PDU and waits for its response, a NACK or the deadline. */
static int exchange_once(struct coapdrv_conn *c, struct exchange *x, coap_pdu_t *pdu,
                         assay_ms deadline, struct assay_error *err)
{
    x->done = false;
    x->has_block2 = false;
    x->mid = coap_pdu_get_mid(pdu);
    x->confirmable = coap_pdu_get_type(pdu) == COAP_MESSAGE_CON;
    x->pending = x->confirmable;
    x->resp->bytes_sent += coapdrv_pdu_wire_size(pdu);
    x->resp->exchanges++;
    record_pdu(x, TRANSCRIPT_SEND, "request", pdu);
    if (coap_send(c->session, pdu) == COAP_INVALID_MID) {
        x->left_behind = true;
        if (c->dtls < 0 || x->done) {
            x->resp->outcome = x->done ? x->resp->outcome : COAPDRV_DTLS_FAILED;
            x->done = true;
            return 0;
        }
        return assay_fail(err, ASSAY_ENET, "coap: libcoap could not send to %s", c->addr.peer);
    }
    while (!x->done) {
        int64_t left = clock_remaining_ms(deadline);
        if (left <= 0) {
            x->resp->outcome =
                coap_session_get_proto(c->session) == COAP_PROTO_DTLS &&
                        coap_session_get_state(c->session) != COAP_SESSION_STATE_ESTABLISHED &&
                        coapdrv_dtls_peer_answered(c)
                    ? COAPDRV_DTLS_FAILED
                    : COAPDRV_SILENCE;
            transcript_note(c->t->sink, "coap", c->addr.peer, "timeout",
                            "no response before the deadline");
            break;
        }
        coap_io_process(c->ctx, (uint32_t)left);
        if (!x->done && c->dtls < 0) {
            x->resp->outcome = COAPDRV_DTLS_FAILED;
            break;
        }
    }
    if (x->pending)
        x->left_behind = true;
    return 0;
}

static bool is_continue(const struct coapdrv_response *r)
{
    return r->code_class == 2 && r->code_detail == 31;
}

/* Sends the payload (block-wise above COAPDRV_BLOCK_SIZE); leaves the last response. */
static int send_payload(struct coapdrv_conn *c, struct exchange *x,
                        const struct coapdrv_request *req, const struct plan *pl, assay_ms deadline,
                        struct assay_error *err)
{
    bool blockwise = req->payload_len > COAPDRV_BLOCK_SIZE;
    size_t off = 0;
    long num = 0;
    do {
        struct step st = {
            .data = req->payload ? req->payload + off : NULL, .block1 = -1, .block2 = -1};
        coap_pdu_t *pdu;
        int rc;
        st.len = req->payload_len - off;
        if (blockwise) {
            st.block1 = num;
            st.block1_more = st.len > COAPDRV_BLOCK_SIZE;
            if (st.block1_more)
                st.len = COAPDRV_BLOCK_SIZE;
        }
        pdu = build_pdu(c, x, req, pl, &st);
        if (!pdu)
            return assay_fail(err, ASSAY_EINVAL, "coap: request does not fit in a CoAP message");
        coapdrv_response_release(x->resp);
        rc = exchange_once(c, x, pdu, deadline, err);
        if (rc || x->resp->outcome != COAPDRV_RESPONSE)
            return rc;
        off += st.len;
        num++;
        if (st.block1_more && !is_continue(x->resp)) {
            snprintf(x->resp->note, sizeof x->resp->note,
                     "device answered %d.%02d to block %ld of the request", x->resp->code_class,
                     x->resp->code_detail, num - 1);
            return 0;
        }
    } while (off < req->payload_len);
    return 0;
}

/* Follows Block2 until the body is complete, capped or inconsistent. */
static int fetch_rest(struct coapdrv_conn *c, struct exchange *x, const struct coapdrv_request *req,
                      const struct plan *pl, assay_ms deadline, struct assay_error *err)
{
    struct coapdrv_response *r = x->resp;
    long expect = 0;
    unsigned max_exchanges = r->exchanges + (unsigned)(x->max_body / 16) + 2;
    while (r->outcome == COAPDRV_RESPONSE && x->has_block2 && x->block2_more) {
        struct step st = {.block1 = -1, .block2 = expect + 1, .block2_szx = x->block2_szx};
        coap_pdu_t *pdu;
        int rc;
        if (r->body_truncated) {
            snprintf(r->note, sizeof r->note, "body capped at %zu bytes", x->max_body);
            break;
        }
        if ((long)x->block2_num != expect || r->exchanges >= max_exchanges || x->block2_szx == 7) {
            snprintf(r->note, sizeof r->note, "inconsistent Block2 (number %lu, expected %ld)",
                     (unsigned long)x->block2_num, expect);
            break;
        }
        pdu = build_pdu(c, x, req, pl, &st);
        if (!pdu)
            return assay_fail(err, ASSAY_EINVAL, "coap: cannot build the next block request");
        rc = exchange_once(c, x, pdu, deadline, err);
        if (rc)
            return rc;
        expect++;
    }
    return 0;
}

/* Whether a session may serve the next request after this call. */
static bool worth_keeping(const struct coapdrv_conn *c, const struct exchange *x)
{
    if (x->left_behind)
        return false;
    if (x->resp->outcome != COAPDRV_RESPONSE && x->resp->outcome != COAPDRV_SILENCE)
        return false;
    return coap_session_get_proto(c->session) != COAP_PROTO_DTLS ||
           (c->dtls > 0 && coap_session_get_state(c->session) == COAP_SESSION_STATE_ESTABLISHED);
}

int coapdrv_request_in(struct coapdrv_pool *pool, const struct coapdrv_target *t,
                       const struct coapdrv_request *req, struct coapdrv_response *resp,
                       struct assay_error *err)
{
    struct coapdrv_conn local, *c = &local;
    struct exchange x = {.resp = resp};
    struct plan pl;
    assay_ms start = clock_now_ms(), deadline;
    int rc;
    memset(resp, 0, sizeof *resp);
    if (!req || req->method < COAPDRV_GET || req->method > COAPDRV_DELETE ||
        (req->payload_len && !req->payload))
        return assay_fail(err, ASSAY_EINVAL, "coap: bad request (method or payload)");
    rc = plan_path(req->path, &pl, err);
    if (rc)
        return rc;
    x.max_body = req->max_body ? req->max_body : COAPDRV_DEFAULT_MAX_BODY;
    rc = pool ? coapdrv_pool_acquire(pool, t, req->psk, &c, err)
              : coapdrv_conn_open(&local, t, req->psk, err);
    if (rc)
        return rc;
    x.conn = c;
    c->exchange = &x;
    deadline = start + t->timeout_ms;
    rc = send_payload(c, &x, req, &pl, deadline, err);
    if (rc == 0 && !resp->note[0])
        rc = fetch_rest(c, &x, req, &pl, deadline, err);
    c->exchange = NULL;
    if (pool)
        coapdrv_pool_release(pool, c, rc == 0 && worth_keeping(c, &x));
    else
        coapdrv_conn_close(c);
    resp->elapsed_ms = clock_now_ms() - start;
    return rc;
}

int coapdrv_request(const struct coapdrv_target *t, const struct coapdrv_request *req,
                    struct coapdrv_response *resp, struct assay_error *err)
{
    return coapdrv_request_in(NULL, t, req, resp, err);
}
