/* test_mqtt_raw.c: the raw MQTT path (malformed frames, liveness) against real mosquitto brokers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <unistd.h>

#include "drivers/mqtt_raw.h"
#include "test_mqtt_broker.h"

static struct test_mqtt_broker anon, auth;
static struct scope scope;
static int sent_entries;
static uint8_t last_sent[64];
static size_t last_sent_len;

static void record(void *ctx, const struct transcript_entry *e)
{
    (void)ctx;
    if (e->dir == TRANSCRIPT_SEND && e->bytes) {
        sent_entries++;
        last_sent_len = e->nbytes < sizeof last_sent ? e->nbytes : sizeof last_sent;
        memcpy(last_sent, e->bytes, last_sent_len);
    }
}

static const struct transcript_sink sink = {record, NULL};

static struct mqttdrv_target target(uint16_t port, int timeout_ms)
{
    return (struct mqttdrv_target){.host = "127.0.0.1",
                                   .port = port,
                                   .scope = &scope,
                                   .sink = &sink,
                                   .timeout_ms = timeout_ms};
}

static int setup(void **state)
{
    (void)state;
    scope_init(&scope);
    if (scope_add(&scope, "127.0.0.1", NULL) != 0)
        return -1;
    return test_mqtt_broker_start(&anon, TEST_MQTT_ANON) ||
                   test_mqtt_broker_start(&auth, TEST_MQTT_AUTH)
               ? -1
               : 0;
}

static int teardown(void **state)
{
    (void)state;
    test_mqtt_broker_stop(&anon);
    test_mqtt_broker_stop(&auth);
    scope_release(&scope);
    return 0;
}

/* mosquitto closes the connection on every malformed PUBLISH, after an accepted CONNECT. For
 * the bad remaining length it stops reading after the fifth length byte and closes with the
 * frame's last three bytes unread, so the kernel sends a reset instead of a FIN. */
static void test_malformed_frames_closed(void **state)
{
    static const enum mqttraw_kind kinds[] = {MQTTRAW_BAD_LENGTH, MQTTRAW_BAD_UTF8_TOPIC,
                                              MQTTRAW_WILDCARD_PLUS, MQTTRAW_WILDCARD_HASH};
    static const enum mqttraw_outcome expect[] = {MQTTRAW_RESET, MQTTRAW_CLOSED, MQTTRAW_CLOSED,
                                                  MQTTRAW_CLOSED};
    struct mqttdrv_target t = target(anon.port, 5000);
    struct mqttraw_result r;
    struct assay_error err = {0};
    (void)state;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        sent_entries = 0;
        assert_int_equal(mqttraw_send_kind(&t, NULL, kinds[i], 0, &r, &err), 0);
        print_message("%s: %s after %lld ms\n", mqttraw_kind_name(kinds[i]),
                      mqttraw_outcome_name(r.outcome), (long long)r.reply_ms);
        assert_int_equal(r.connack_code, 0);
        assert_true(r.sent);
        assert_int_equal(r.outcome, expect[i]);
        assert_true(r.reply_ms >= 0 && r.reply_ms < 4000);
        assert_int_equal(sent_entries, 2); /* CONNECT, then the frame, with their exact bytes */
    }
    /* the exact bytes of the last frame reached the transcript */
    struct mqttraw_frame f;
    assert_int_equal(mqttraw_kind_frame(&f, MQTTRAW_WILDCARD_HASH, 0), 0);
    assert_int_equal(last_sent_len, f.len);
    assert_memory_equal(last_sent, f.bytes, f.len);
    mqttraw_frame_free(&f);
}

static void test_ping_kind_replies(void **state)
{
    struct mqttdrv_target t = target(anon.port, 5000);
    struct mqttraw_result r;
    struct assay_error err = {0};
    (void)state;
    assert_int_equal(mqttraw_send_kind(&t, NULL, MQTTRAW_PING, 0, &r, &err), 0);
    assert_int_equal(r.outcome, MQTTRAW_REPLY);
    assert_int_equal(r.reply.type, MQTTRAW_PINGRESP);
    assert_false(r.reply_malformed);
    assert_int_equal(r.nreply, 2);
    assert_memory_equal(r.reply_bytes, "\xd0\x00", 2);
}

/* A well-formed QoS 0 PUBLISH of 1 MiB: mosquitto's default size limit is the protocol's,
 * so it takes it and says nothing; silence until the deadline. */
static void test_oversize_is_silent_on_default_mosquitto(void **state)
{
    struct mqttdrv_target t = target(anon.port, 1500);
    struct mqttraw_result r;
    struct assay_error err = {0};
    (void)state;
    assert_int_equal(mqttraw_send_kind(&t, NULL, MQTTRAW_OVERSIZE, 0, &r, &err), 0);
    assert_true(r.sent);
    assert_int_equal(r.bytes_sent, 1 + 3 + 2 + 14 + MQTTRAW_DEFAULT_OVERSIZE);
    assert_int_equal(r.outcome, MQTTRAW_SILENT);
    assert_int_equal(r.reply_ms, -1);
    assert_true(r.elapsed_ms >= 1400 && r.elapsed_ms < 3500);
}

static void test_raw_bytes_without_connect(void **state)
{
    struct mqttdrv_target t = target(anon.port, 5000);
    struct mqttraw_result r;
    struct mqttraw_preface none = {.connect = false};
    struct assay_error err = {0};
    (void)state;
    /* PINGREQ before CONNECT is a protocol violation: closed */
    assert_int_equal(mqttraw_exchange(&t, &none, (const uint8_t *)"\xc0\x00", 2, &r, &err), 0);
    assert_int_equal(r.connack_code, -1);
    assert_true(r.outcome == MQTTRAW_CLOSED || r.outcome == MQTTRAW_RESET);
    /* a hand-made CONNECT gets its CONNACK back as the reply */
    struct mqttraw_frame f;
    assert_int_equal(mqttraw_connect_frame(&f, 4, "raw-test", NULL, NULL, 10, 0), 0);
    assert_int_equal(mqttraw_exchange(&t, &none, f.bytes, f.len, &r, &err), 0);
    mqttraw_frame_free(&f);
    assert_int_equal(r.outcome, MQTTRAW_REPLY);
    assert_int_equal(r.reply.type, MQTTRAW_CONNACK);
    assert_int_equal(r.reply.connack_code, 0);
}

static void test_preface_refused(void **state)
{
    struct mqttdrv_target t = target(auth.port, 5000);
    struct mqttraw_result r;
    struct mqttraw_preface good = {.username = TEST_MQTT_USER, .password = TEST_MQTT_PASSWORD};
    struct assay_error err = {0};
    (void)state;
    assert_int_equal(mqttraw_send_kind(&t, NULL, MQTTRAW_WILDCARD_PLUS, 0, &r, &err), 0);
    assert_int_equal(r.outcome, MQTTRAW_NOT_ACCEPTED);
    assert_int_equal(r.connack_code, 5);
    assert_false(r.sent);
    assert_int_equal(mqttraw_send_kind(&t, &good, MQTTRAW_WILDCARD_PLUS, 0, &r, &err), 0);
    assert_int_equal(r.connack_code, 0);
    assert_int_equal(r.outcome, MQTTRAW_CLOSED);
}

static void test_alive(void **state)
{
    struct mqttdrv_target t = target(anon.port, 5000);
    struct mqttraw_alive a;
    struct mqttraw_preface creds = {.username = TEST_MQTT_USER, .password = TEST_MQTT_PASSWORD};
    struct assay_error err = {0};
    (void)state;
    assert_int_equal(mqttraw_alive(&t, NULL, &a, &err), 0);
    assert_true(a.alive);
    assert_true(a.pingresp);
    assert_int_equal(a.connack_code, 0);
    assert_true(a.rtt_ms >= 0 && a.rtt_ms < 4000);
    t.port = auth.port;
    assert_int_equal(mqttraw_alive(&t, NULL, &a, &err), 0);
    assert_true(a.alive); /* a refusing broker is alive */
    assert_false(a.pingresp);
    assert_int_equal(a.connack_code, 5);
    assert_int_equal(mqttraw_alive(&t, &creds, &a, &err), 0);
    assert_true(a.pingresp);
}

static void test_dead_endpoints(void **state)
{
    uint16_t port;
    int fd = test_mqtt_silent_listener(&port);
    struct mqttdrv_target t = target(test_mqtt_closed_port(), 5000);
    struct mqttraw_alive a;
    struct mqttraw_result r;
    struct assay_error err = {0};
    assay_ms start;
    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(mqttraw_alive(&t, NULL, &a, &err), 0);
    assert_false(a.alive);
    assert_int_equal(a.outcome, MQTTRAW_UNREACHABLE);
    t = target(port, 800);
    start = clock_now_ms();
    assert_int_equal(mqttraw_alive(&t, NULL, &a, &err), 0);
    assert_false(a.alive);
    assert_int_equal(a.outcome, MQTTRAW_SILENT);
    assert_true(clock_now_ms() - start < 2000);
    assert_int_equal(mqttraw_send_kind(&t, NULL, MQTTRAW_PING, 0, &r, &err), 0);
    assert_int_equal(r.outcome, MQTTRAW_SILENT);
    assert_false(r.sent);
    close(fd);
}

static void test_scope_and_arguments(void **state)
{
    struct mqttdrv_target t = target(anon.port, 2000);
    struct mqttraw_result r;
    struct mqttraw_alive a;
    struct assay_error err = {0};
    (void)state;
    sent_entries = 0;
    t.host = "127.0.0.3";
    assert_int_equal(mqttraw_send_kind(&t, NULL, MQTTRAW_PING, 0, &r, &err), ASSAY_ESCOPE);
    assert_int_equal(mqttraw_alive(&t, NULL, &a, &err), ASSAY_ESCOPE);
    assert_int_equal(sent_entries, 0);
    t.host = "127.0.0.1";
    assert_int_equal(mqttraw_exchange(&t, NULL, NULL, 0, &r, &err), ASSAY_EINVAL);
    assert_int_equal(
        mqttraw_send_kind(&t, NULL, MQTTRAW_OVERSIZE, MQTTRAW_MAX_OVERSIZE + 1, &r, &err),
        ASSAY_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_malformed_frames_closed),
        cmocka_unit_test(test_ping_kind_replies),
        cmocka_unit_test(test_oversize_is_silent_on_default_mosquitto),
        cmocka_unit_test(test_raw_bytes_without_connect),
        cmocka_unit_test(test_preface_refused),
        cmocka_unit_test(test_alive),
        cmocka_unit_test(test_dead_endpoints),
        cmocka_unit_test(test_scope_and_arguments),
    };
    return cmocka_run_group_tests_name("mqtt_raw", tests, setup, teardown);
}
