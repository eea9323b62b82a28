/* test_mqtt5.c: MQTT 5 on the raw engine against real mosquitto brokers (anonymous, and password
 * with an ACL): CONNACK reason codes for good and bad credentials, CONNACK properties, SUBACK
 * codes per filter, collection and publish at each QoS; the same data as the paho engine
 * (`paho = true`). SUBACK refusals, PUBLISH properties and a broker's DISCONNECT, which
 * mosquitto 2.0.11 does not produce, are played by the scripted broker of
 * test_mqtt_tls_hostile.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "drivers/mqtt.h"
#include "test_mqtt_broker.h"

/* As test_mqtt.c: paho 1.3.11 leaks its client bookkeeping when a broker drops a connection. */
const char *__asan_default_options(void);
const char *__lsan_default_suppressions(void);
const char *__asan_default_options(void)
{
    return "fast_unwind_on_malloc=0";
}
const char *__lsan_default_suppressions(void)
{
    return "leak:MQTTClient_createWithOptions\n";
}

static struct test_mqtt_broker anon, acl;
static struct scope scope;
static struct mqttdrv_target target(uint16_t port)
{
    return (struct mqttdrv_target){.host = "127.0.0.1",
                                   .port = port,
                                   .scope = &scope,
                                   .sink = &test_mqtt_log_sink,
                                   .timeout_ms = 5000};
}

static struct mqttdrv_connect_opts user(const char *password, bool paho)
{
    return (struct mqttdrv_connect_opts){.version = 5,
                                         .username = TEST_MQTT_USER,
                                         .password = password,
                                         .password_len = password ? strlen(password) : 0,
                                         .paho = paho};
}

static int setup(void **state)
{
    (void)state;
    scope_init(&scope);
    if (scope_add(&scope, "127.0.0.1", NULL) || test_mqtt_broker_start(&anon, TEST_MQTT_ANON) ||
        test_mqtt_broker_start(&acl, TEST_MQTT_ACL))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_mqtt_broker_stop(&anon);
    test_mqtt_broker_stop(&acl);
    scope_release(&scope);
    return 0;
}

/* Good and bad credentials: the raw engine and paho give the same outcome and reason code. */
static void test_credentials(void **state)
{
    struct mqttdrv_target t = target(acl.port);
    struct mqttdrv_connack ack, ack_paho;
    struct mqttdrv_session *s = NULL;
    struct assay_error err = {0};
    const char *passwords[] = {NULL, "wrong", TEST_MQTT_PASSWORD};
    const int want[] = {0x87, 0x87, 0}; /* mosquitto: "not authorised" for any bad credential */
    (void)state;
    for (size_t i = 0; i < 3; i++) {
        struct mqttdrv_connect_opts o = user(passwords[i], false);
        struct mqttdrv_connect_opts p = user(passwords[i], true);
        assert_int_equal(mqttdrv_connect(&t, &o, &ack, &err), 0);
        assert_int_equal(mqttdrv_connect(&t, &p, &ack_paho, &err), 0);
        assert_int_equal(ack.code, want[i]);
        assert_int_equal(ack.code, ack_paho.code);
        assert_int_equal(ack.outcome, ack_paho.outcome);
    }
    /* no user name at all: not authorised */
    struct mqttdrv_connect_opts none = {.version = 5};
    test_mqtt_log_reset();
    assert_int_equal(mqttdrv_connect(&t, &none, &ack, &err), 0);
    assert_int_equal(ack.outcome, MQTTDRV_REFUSED);
    assert_int_equal(ack.code, 0x87);
    assert_string_equal(mqttdrv_connack_reason(5, ack.code), "not authorised");
    assert_non_null(strstr(test_mqtt_log_text, "CONNECT MQTT 5 "));
    assert_non_null(strstr(test_mqtt_log_text, "CONNACK code 135 (0x87, not authorised)"));
    /* accepted, on the raw engine, with a session expiry */
    struct mqttdrv_connect_opts good = user(TEST_MQTT_PASSWORD, false);
    good.session_expiry_s = 60;
    assert_int_equal(mqttdrv_session_open(&t, &good, &s, &ack, &err), 0);
    assert_non_null(s);
    assert_true(mqttdrv_session_raw(s));
    mqttdrv_session_close(s);
}

/* mosquitto assigns a client identifier to an empty one and says so in a CONNACK property. */
static void test_connack_properties(void **state)
{
    struct mqttdrv_target t = target(anon.port);
    struct mqttdrv_connect_opts o = {.version = 5, .client_id = ""};
    struct mqttdrv_connack ack;
    struct assay_error err = {0};
    (void)state;
    test_mqtt_log_reset();
    assert_int_equal(mqttdrv_connect(&t, &o, &ack, &err), 0);
    assert_int_equal(ack.outcome, MQTTDRV_ACCEPTED);
    assert_string_equal(ack.detail, "");
    assert_non_null(strstr(test_mqtt_log_text, "CONNACK properties: assigned client id="));
    assert_non_null(strstr(test_mqtt_log_text, "DISCONNECT reason 0 (normal disconnection)"));
}

/* SUBACK codes per filter under an ACL, the same on both engines. mosquitto 2.0.11 grants every
 * well-formed subscription and applies its ACL when it delivers, so the filter outside the ACL
 * is granted too and stays silent. */
static void test_subscribe_acl(void **state)
{
    struct mqttdrv_target t = target(acl.port);
    const char *const filters[2] = {"assay/#", "secret/#"};
    struct mqttdrv_limits lim = {.max_messages = 5, .ms = 200};
    int codes[2][2];
    (void)state;
    for (int paho = 0; paho <= 1; paho++) {
        struct mqttdrv_connect_opts o = user(TEST_MQTT_PASSWORD, paho);
        struct mqttdrv_connack ack;
        struct mqttdrv_session *s = NULL;
        struct mqttdrv_collect c;
        struct assay_error err = {0};
        assert_int_equal(mqttdrv_session_open(&t, &o, &s, &ack, &err), 0);
        assert_non_null(s);
        assert_int_equal(mqttdrv_session_raw(s), !paho);
        assert_int_equal(mqttdrv_subscribe_many(s, filters, 2, 1, &lim, &c, &err), 0);
        assert_int_equal(c.nfilters, 2);
        codes[paho][0] = c.suback_codes[0];
        codes[paho][1] = c.suback_codes[1];
        assert_int_equal(c.suback_code, 1);
        assert_int_equal(c.stop, MQTTDRV_STOP_TIME);
        assert_int_equal(c.n, 0);
        mqttdrv_collect_release(&c);
        assert_true(mqttdrv_session_connected(s));
        mqttdrv_session_close(s);
    }
    assert_memory_equal(codes[0], codes[1], sizeof codes[0]);
}

/* Publish at each QoS on MQTT 5 and collect the messages, retained first. */
static void test_publish_and_collect(void **state)
{
    struct mqttdrv_target t = target(anon.port);
    struct mqttdrv_connect_opts o = {.version = 5};
    struct mqttdrv_connack ack;
    struct mqttdrv_session *tx = NULL, *rx = NULL;
    struct mqttdrv_limits lim = {.max_messages = 4, .ms = 5000};
    struct mqttdrv_collect c;
    struct assay_error err = {0};
    (void)state;
    assert_int_equal(mqttdrv_session_open(&t, &o, &tx, &ack, &err), 0);
    assert_int_equal(mqttdrv_publish(tx, "v5/state", "{\"on\":1}", 8, 1, true, &err), 0);
    assert_int_equal(mqttdrv_session_open(&t, &o, &rx, &ack, &err), 0);
    assert_true(mqttdrv_session_raw(rx));
    /* the retained message, then one at each QoS published meanwhile (queued in the session) */
    lim.max_messages = 1;
    assert_int_equal(mqttdrv_subscribe(rx, "v5/#", 2, &lim, &c, &err), 0);
    assert_int_equal(c.suback_code, 2);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.messages[0].topic, "v5/state");
    assert_true(c.messages[0].retained);
    assert_memory_equal(c.messages[0].payload, "{\"on\":1}", 8);
    mqttdrv_collect_release(&c);
    for (int q = 0; q <= 2; q++)
        assert_int_equal(mqttdrv_publish(tx, "v5/cmd", "q\x00x", 3, q, false, &err), 0);
    lim.max_messages = 3;
    assert_int_equal(mqttdrv_subscribe(rx, "v5/cmd", 2, &lim, &c, &err), 0);
    assert_int_equal(c.n, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(c.messages[i].qos, (int)i);
        assert_int_equal(c.messages[i].len, 3);
        assert_memory_equal(c.messages[i].payload, "q\x00x", 3);
        assert_false(c.messages[i].retained);
    }
    mqttdrv_collect_release(&c);
    assert_int_equal(mqttdrv_publish(tx, "v5/state", NULL, 0, 1, true, &err), 0);
    mqttdrv_session_close(tx);
    mqttdrv_session_close(rx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_credentials),
        cmocka_unit_test(test_connack_properties),
        cmocka_unit_test(test_subscribe_acl),
        cmocka_unit_test(test_publish_and_collect),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
