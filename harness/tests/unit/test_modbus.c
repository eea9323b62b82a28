/*
 * test_modbus.c: unit tests for the Modbus/TCP driver (drivers/modbus.h)
 * against the in-process test server: reads, writes, exceptions, timeouts,
 * closes, identification, server id, raw frames, the FC 08 refusal, the
 * connection limit and the pause between requests.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "drivers/modbus.h"
#include "test_modbus_server.h"

struct events {
    int request, reply, timeout, exception, raw_sent, raw_recv;
};

static void count_event(void *ctx, const struct transcript_entry *e)
{
    struct events *ev = ctx;
    if (getenv("TEST_VERBOSE"))
        fprintf(stderr, "  [%s %d] %s: %s (%zu bytes)\n", e->protocol, (int)e->dir, e->event,
                e->summary ? e->summary : "", e->nbytes);
    if (strcmp(e->event, "request") == 0)
        ev->request++;
    else if (strcmp(e->event, "reply") == 0)
        ev->reply++;
    else if (strcmp(e->event, "timeout") == 0)
        ev->timeout++;
    else if (strcmp(e->event, "exception") == 0)
        ev->exception++;
    else if (strcmp(e->event, "raw") == 0 && e->dir == TRANSCRIPT_SEND)
        ev->raw_sent++;
    else if (strcmp(e->event, "raw") == 0 && e->dir == TRANSCRIPT_RECV)
        ev->raw_recv++;
}

struct fixture {
    struct tms server;
    struct scope scope;
    struct events ev;
    struct transcript_sink sink;
    struct modbus_options opts;
    struct modbus_endpoint ep;
    struct modbus_conn *c;
    struct modbus_result r;
    struct assay_error err;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f || tms_start(&f->server) != 0)
        return -1;
    scope_init(&f->scope);
    scope_add(&f->scope, "127.0.0.1", NULL);
    f->sink = (struct transcript_sink){.write = count_event, .ctx = &f->ev};
    f->opts = (struct modbus_options){.scope = &f->scope, .sink = &f->sink, .timeout_ms = 1000};
    f->ep = (struct modbus_endpoint){.host = "127.0.0.1", .port = f->server.port, .unit_id = 1};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    modbus_conn_close(f->c);
    assert_int_equal(f->server.fc08_seen, 0); /* never, in any test */
    tms_stop(&f->server);
    scope_release(&f->scope);
    free(f);
    return 0;
}

static void open_conn(struct fixture *f)
{
    if (modbus_conn_open(&f->c, &f->ep, &f->opts, &f->err) != 0)
        fail_msg("open: %s", f->err.msg);
}

static void test_scope(void **state)
{
    struct fixture *f = *state;
    f->ep.host = "127.0.0.7";
    assert_int_equal(modbus_conn_open(&f->c, &f->ep, &f->opts, &f->err), ASSAY_ESCOPE);
    assert_null(f->c);
    assert_int_equal(modbus_conn_count("127.0.0.7", f->server.port), 0);
    assert_int_equal(f->server.connections, 0);
}

static void test_reads(void **state)
{
    struct fixture *f = *state;
    open_conn(f);
    assert_int_equal(modbus_conn_read(f->c, MODBUS_TABLE_HOLDING, 2, 3, &f->r, &f->err), 0);
    assert_int_equal(f->r.outcome, MODBUS_OUTCOME_OK);
    assert_int_equal(f->r.count, 3);
    assert_int_equal(f->r.values[0], 21);
    assert_int_equal(f->r.values[2], 41);
    assert_int_equal(modbus_conn_read(f->c, MODBUS_TABLE_INPUT, 15, 1, &f->r, &f->err), 0);
    assert_int_equal(f->r.values[0], 1015);
    assert_int_equal(modbus_conn_read(f->c, MODBUS_TABLE_COILS, 0, 4, &f->r, &f->err), 0);
    assert_int_equal(f->r.count, 4);
    assert_int_equal(f->r.values[0] + 2 * f->r.values[1] + 4 * f->r.values[2], 2);
    assert_int_equal(modbus_conn_read(f->c, MODBUS_TABLE_DISCRETE, 1, 1, &f->r, &f->err), 0);
    assert_int_equal(f->r.values[0], 1);
    assert_int_equal(f->ev.request, 4);
    assert_true(f->ev.reply >= 4);
}

static void test_exception_is_data(void **state)
{
    struct fixture *f = *state;
    open_conn(f);
    assert_int_equal(modbus_conn_read(f->c, MODBUS_TABLE_HOLDING, 30, 5, &f->r, &f->err), 0);
    assert_int_equal(f->r.outcome, MODBUS_OUTCOME_EXCEPTION);
    assert_int_equal(f->r.exception, 2);
    assert_int_equal(f->r.count, 0);
    assert_true(modbus_conn_is_open(f->c)); /* the connection survives an exception */
    assert_int_equal(f->ev.exception, 1);
    assert_int_equal(modbus_conn_read(f->c, MODBUS_TABLE_HOLDING, 0, 1, &f->r, &f->err), 0);
    assert_int_equal(f->r.outcome, MODBUS_OUTCOME_OK);
}

static void test_writes(void **state)
{
    struct fixture *f = *state;
    open_conn(f);
    uint16_t one = 777, many[3] = {1, 2, 3};
    assert_int_equal(
        modbus_conn_write(f->c, MODBUS_TABLE_HOLDING, 10, &one, 1, false, &f->r, &f->err), 0);
    assert_int_equal(f->r.outcome, MODBUS_OUTCOME_OK);
    assert_int_equal(
        modbus_conn_write(f->c, MODBUS_TABLE_HOLDING, 20, many, 3, true, &f->r, &f->err), 0);
    assert_int_equal(modbus_conn_read(f->c, MODBUS_TABLE_HOLDING, 10, 1, &f->r, &f->err), 0);
    assert_int_equal(f->r.values[0], 777);
    assert_int_equal(modbus_conn_read(f->c, MODBUS_TABLE_HOLDING, 20, 3, &f->r, &f->err), 0);
    assert_int_equal(f->r.values[2], 3);
    uint16_t bits[2] = {1, 1};
    assert_int_equal(modbus_conn_write(f->c, MODBUS_TABLE_COILS, 0, bits, 2, true, &f->r, &f->err),
                     0);
    assert_int_equal(modbus_conn_read(f->c, MODBUS_TABLE_COILS, 0, 2, &f->r, &f->err), 0);
    assert_int_equal(f->r.values[0], 1);
    /* a write past the map is an exception, not an error */
    assert_int_equal(
        modbus_conn_write(f->c, MODBUS_TABLE_HOLDING, 40, &one, 1, false, &f->r, &f->err), 0);
    assert_int_equal(f->r.outcome, MODBUS_OUTCOME_EXCEPTION);
    assert_int_equal(f->r.exception, 2);
}

static void test_bad_arguments_send_nothing(void **state)
{
    struct fixture *f = *state;
    open_conn(f);
    uint16_t v = 1;
    assert_int_equal(modbus_conn_read(f->c, MODBUS_TABLE_HOLDING, 0, 0, &f->r, &f->err),
                     ASSAY_EINVAL);
    assert_int_equal(modbus_conn_read(f->c, MODBUS_TABLE_HOLDING, 0, 126, &f->r, &f->err),
                     ASSAY_EINVAL);
    assert_int_equal(modbus_conn_read(f->c, MODBUS_TABLE_COILS, 65535, 2, &f->r, &f->err),
                     ASSAY_EINVAL);
    assert_int_equal(modbus_conn_write(f->c, MODBUS_TABLE_INPUT, 0, &v, 1, false, &f->r, &f->err),
                     ASSAY_EINVAL);
    assert_int_equal(f->server.requests, 0);
    struct modbus_endpoint bad = f->ep;
    bad.port = 0;
    struct modbus_conn *c2 = NULL;
    assert_int_equal(modbus_conn_open(&c2, &bad, &f->opts, &f->err), ASSAY_EINVAL);
}

static void test_silence_times_out(void **state)
{
    struct fixture *f = *state;
    f->opts.timeout_ms = 200;
    open_conn(f);
    f->server.mode = TMS_SILENT;
    assay_ms t0 = clock_now_ms();
    assert_int_equal(modbus_conn_read(f->c, MODBUS_TABLE_HOLDING, 0, 1, &f->r, &f->err), 0);
    int64_t took = clock_now_ms() - t0;
    assert_int_equal(f->r.outcome, MODBUS_OUTCOME_TIMEOUT);
    assert_true(took >= 190 && took < 600);
    assert_int_equal(f->ev.timeout, 1);
    /* the framed path honours the same deadline */
    struct modbus_server_id sid;
    t0 = clock_now_ms();
    assert_int_equal(modbus_conn_server_id(f->c, &sid, &f->err), 0);
    took = clock_now_ms() - t0;
    assert_int_equal(sid.result.outcome, MODBUS_OUTCOME_TIMEOUT);
    assert_true(took >= 190 && took < 600);
    bool alive = true;
    assert_int_equal(modbus_conn_alive(f->c, MODBUS_TABLE_INPUT, 0, &alive, NULL, &f->err), 0);
    assert_false(alive);
}

static void test_close_and_garbage(void **state)
{
    struct fixture *f = *state;
    open_conn(f);
    f->server.mode = TMS_GARBAGE;
    assert_int_equal(modbus_conn_read(f->c, MODBUS_TABLE_HOLDING, 0, 1, &f->r, &f->err), 0);
    assert_int_equal(f->r.outcome, MODBUS_OUTCOME_MALFORMED);
    f->server.mode = TMS_CLOSE;
    assert_int_equal(modbus_conn_read(f->c, MODBUS_TABLE_HOLDING, 0, 1, &f->r, &f->err), 0);
    assert_true(f->r.outcome == MODBUS_OUTCOME_CLOSED || f->r.outcome == MODBUS_OUTCOME_RESET);
    assert_false(modbus_conn_is_open(f->c));
    assert_int_equal(modbus_conn_read(f->c, MODBUS_TABLE_HOLDING, 0, 1, &f->r, &f->err),
                     ASSAY_EINVAL);
}

static void test_identify(void **state)
{
    struct fixture *f = *state;
    open_conn(f);
    struct modbus_ident *id = calloc(1, sizeof(*id));
    assert_int_equal(modbus_conn_identify(f->c, MODBUS_IDENT_REGULAR, 0, id, &f->err), 0);
    assert_int_equal(id->result.outcome, MODBUS_OUTCOME_OK);
    assert_int_equal(id->pages, 3); /* two objects per page, `more follows` twice */
    assert_int_equal(id->nobjects, 6);
    size_t len = 0;
    const uint8_t *v = modbus_ident_find(id, 0, &len);
    assert_non_null(v);
    assert_int_equal(len, 11);
    assert_memory_equal(v, "ProbeVendor", 11);
    v = modbus_ident_find(id, 5, &len);
    assert_memory_equal(v, "PM-1", 4);
    assert_int_equal(modbus_conn_identify(f->c, MODBUS_IDENT_BASIC, 0, id, &f->err), 0);
    assert_int_equal(id->nobjects, 3);
    assert_int_equal(modbus_conn_identify(f->c, MODBUS_IDENT_SPECIFIC, 4, id, &f->err), 0);
    assert_int_equal(id->nobjects, 1);
    assert_int_equal(id->objects[0].id, 4);
    assert_int_equal(modbus_conn_identify(f->c, MODBUS_IDENT_SPECIFIC, 0x50, id, &f->err), 0);
    assert_int_equal(id->result.outcome, MODBUS_OUTCOME_EXCEPTION);
    assert_int_equal(id->result.exception, 2);
    /* the stream stayed in step: a libmodbus read still works */
    assert_int_equal(modbus_conn_read(f->c, MODBUS_TABLE_HOLDING, 1, 1, &f->r, &f->err), 0);
    assert_int_equal(f->r.values[0], 11);
    free(id);
}

static void test_identify_malformed(void **state)
{
    struct fixture *f = *state;
    struct modbus_ident *id = calloc(1, sizeof(*id));
    const int modes[] = {TMS_IDENT_BAD_TID, TMS_IDENT_LOOP, TMS_IDENT_OVERRUN};
    const char *why[] = {"transaction id", "not after", "runs past"};
    for (int i = 0; i < 3; i++) {
        if (!f->c || !modbus_conn_is_open(f->c)) {
            modbus_conn_close(f->c);
            open_conn(f);
        }
        f->server.mode = modes[i];
        assert_int_equal(modbus_conn_identify(f->c, MODBUS_IDENT_REGULAR, 0, id, &f->err), 0);
        assert_int_equal(id->result.outcome, MODBUS_OUTCOME_MALFORMED);
        if (!strstr(id->result.reason, why[i]))
            fail_msg("mode %d: '%s'", modes[i], id->result.reason);
    }
    free(id);
}

static void test_server_id(void **state)
{
    struct fixture *f = *state;
    open_conn(f);
    struct modbus_server_id sid;
    assert_int_equal(modbus_conn_server_id(f->c, &sid, &f->err), 0);
    assert_int_equal(sid.result.outcome, MODBUS_OUTCOME_OK);
    assert_true(sid.len >= 3);
    assert_int_equal(sid.data[1], 0xFF); /* libmodbus: id, run indicator ON, "LMB<version>" */
    assert_memory_equal(sid.data + 2, "LMB", 3);
}

static void test_raw(void **state)
{
    struct fixture *f = *state;
    open_conn(f);
    struct modbus_raw_reply *rr = calloc(1, sizeof(*rr));
    /* an unknown function code */
    const uint8_t unknown[] = {0x00, 0x09, 0, 0, 0, 2, 1, 0x41};
    assert_int_equal(modbus_conn_raw(f->c, unknown, sizeof(unknown), 0, rr, &f->err), 0);
    assert_int_equal(rr->result.outcome, MODBUS_OUTCOME_EXCEPTION);
    assert_int_equal(rr->result.exception, 1);
    assert_true(rr->complete);
    assert_int_equal(rr->len, 9);
    uint8_t seen[260];
    assert_int_equal(tms_last_request(&f->server, seen, sizeof(seen)), sizeof(unknown));
    assert_memory_equal(seen, unknown, sizeof(unknown));
    assert_true(f->ev.raw_sent >= 1 && f->ev.raw_recv >= 1);
    /* a quantity out of range (126 registers) */
    const uint8_t qty[] = {0x00, 0x0A, 0, 0, 0, 6, 1, 0x03, 0x00, 0x00, 0x00, 0x7E};
    assert_int_equal(modbus_conn_raw(f->c, qty, sizeof(qty), 0, rr, &f->err), 0);
    assert_int_equal(rr->result.exception, 3);
    /* FC 08 is refused before anything is sent, on the raw path too */
    int before = f->server.requests;
    const uint8_t diag[] = {0x00, 0x0B, 0, 0, 0, 6, 1, 0x08, 0x00, 0x04, 0x00, 0x00};
    assert_int_equal(modbus_conn_raw(f->c, diag, sizeof(diag), 0, rr, &f->err), ASSAY_EINVAL);
    assert_non_null(strstr(f->err.msg, "0x08"));
    /* a truncated frame: the device waits, then drops it; we see silence */
    f->opts.timeout_ms = 1000;
    const uint8_t trunc[] = {0x00, 0x0C, 0, 0, 0, 6, 1, 0x03};
    assert_int_equal(modbus_conn_raw(f->c, trunc, sizeof(trunc), 0, rr, &f->err), 0);
    assert_int_equal(rr->result.outcome, MODBUS_OUTCOME_TIMEOUT);
    assert_int_equal(rr->len, 0);
    /* framed requests are refused while the stream is mid-frame */
    assert_int_equal(modbus_conn_read(f->c, MODBUS_TABLE_HOLDING, 0, 1, &f->r, &f->err),
                     ASSAY_EINVAL);
    assert_int_equal(f->server.requests, before);
    assert_int_equal(f->server.partial_dropped, 1);
    /* an MBAP length the device cannot follow: it hangs up */
    modbus_conn_close(f->c);
    open_conn(f);
    const uint8_t zero_len[] = {0x00, 0x0D, 0, 0, 0, 0, 1, 0x03, 0, 0, 0, 1};
    assert_int_equal(modbus_conn_raw(f->c, zero_len, sizeof(zero_len), 0, rr, &f->err), 0);
    assert_true(rr->result.outcome == MODBUS_OUTCOME_CLOSED ||
                rr->result.outcome == MODBUS_OUTCOME_RESET);
    free(rr);
}

static void test_connection_limit(void **state)
{
    struct fixture *f = *state;
    open_conn(f);
    assert_int_equal(modbus_conn_count("127.0.0.1", f->server.port), 1);
    struct modbus_conn *c2 = NULL;
    assert_int_equal(modbus_conn_open(&c2, &f->ep, &f->opts, &f->err), ASSAY_EINVAL);
    assert_non_null(strstr(f->err.msg, "connection limit"));
    assert_null(c2);
    assert_int_equal(modbus_conn_read(f->c, MODBUS_TABLE_HOLDING, 0, 1, &f->r, &f->err), 0);
    assert_int_equal(f->server.connections, 1); /* the refused open never connected */
    modbus_conn_close(f->c);
    f->c = NULL;
    assert_int_equal(modbus_conn_count("127.0.0.1", f->server.port), 0);
    open_conn(f);
    bool alive = false;
    assert_int_equal(modbus_conn_alive(f->c, MODBUS_TABLE_INPUT, 0, &alive, &f->r, &f->err), 0);
    assert_true(alive);
    assert_int_equal(f->r.values[0], 1000);
}

static void test_pause_and_stale_reply(void **state)
{
    struct fixture *f = *state;
    f->opts.timeout_ms = 150;
    f->opts.pause_ms = 400;
    open_conn(f);
    f->server.mode = TMS_DELAY;
    f->server.delay_ms = 250; /* answers after our deadline */
    assert_int_equal(modbus_conn_read(f->c, MODBUS_TABLE_HOLDING, 1, 1, &f->r, &f->err), 0);
    assert_int_equal(f->r.outcome, MODBUS_OUTCOME_TIMEOUT);
    assay_ms end_first = clock_now_ms();
    f->server.mode = TMS_NORMAL;
    /* the pause lets the late reply arrive; it is discarded, not taken as the answer */
    assert_int_equal(modbus_conn_read(f->c, MODBUS_TABLE_HOLDING, 2, 1, &f->r, &f->err), 0);
    assert_true(clock_now_ms() - end_first >= 400);
    assert_int_equal(f->r.outcome, MODBUS_OUTCOME_OK);
    assert_int_equal(f->r.values[0], 21);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_scope),
        T(test_reads),
        T(test_exception_is_data),
        T(test_writes),
        T(test_bad_arguments_send_nothing),
        T(test_silence_times_out),
        T(test_close_and_garbage),
        T(test_identify),
        T(test_identify_malformed),
        T(test_server_id),
        T(test_raw),
        T(test_connection_limit),
        T(test_pause_and_stale_reply),
    };
    return cmocka_run_group_tests_name("modbus", tests, NULL, NULL);
}
