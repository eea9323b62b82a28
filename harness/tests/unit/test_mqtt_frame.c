/* test_mqtt_frame.c: the raw MQTT frame builders and the bounded reply parser, with malformed
 * input. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "drivers/mqtt_raw.h"

static void test_varint(void **state)
{
    uint8_t out[4];
    (void)state;
    assert_int_equal(mqttraw_varint(0, out), 1);
    assert_int_equal(out[0], 0);
    assert_int_equal(mqttraw_varint(127, out), 1);
    assert_int_equal(mqttraw_varint(128, out), 2);
    assert_int_equal(out[0], 0x80);
    assert_int_equal(out[1], 0x01);
    assert_int_equal(mqttraw_varint(16383, out), 2);
    assert_int_equal(mqttraw_varint(16384, out), 3);
    assert_int_equal(mqttraw_varint(MQTTRAW_MAX_REMAINING, out), 4);
    assert_memory_equal(out, "\xff\xff\xff\x7f", 4);
    assert_int_equal(mqttraw_varint(MQTTRAW_MAX_REMAINING + 1, out), 0);
}

static void test_connect_frame(void **state)
{
    struct mqttraw_frame f;
    static const uint8_t want[] = {0x10, 21, 0,   4,   'M', 'Q', 'T', 'T', 4, 0xc2, 0,  30,
                                   0,    2,  'i', 'd', 0,   1,   'u', 0,   2, 'p',  'w'};
    (void)state;
    assert_int_equal(mqttraw_connect_frame(&f, "id", "u", "pw", 30), 0);
    assert_int_equal(f.len, sizeof want);
    assert_memory_equal(f.bytes, want, sizeof want);
    mqttraw_frame_free(&f);
    assert_int_equal(mqttraw_connect_frame(&f, "x", NULL, NULL, 0), 0);
    assert_int_equal(f.bytes[9], 0x02); /* clean session only */
    mqttraw_frame_free(&f);
}

static void test_publish_and_subscribe_frames(void **state)
{
    struct mqttraw_frame f;
    (void)state;
    assert_int_equal(
        mqttraw_publish_frame(&f, (const uint8_t *)"a/b", 3, (const uint8_t *)"hi", 2, 1, true, 7),
        0);
    static const uint8_t pub[] = {0x33, 9, 0, 3, 'a', '/', 'b', 0, 7, 'h', 'i'};
    assert_memory_equal(f.bytes, pub, sizeof pub);
    assert_int_equal(f.len, sizeof pub);
    mqttraw_frame_free(&f);
    assert_int_equal(mqttraw_subscribe_frame(&f, 1, "#", 0), 0);
    static const uint8_t sub[] = {0x82, 6, 0, 1, 0, 1, '#', 0};
    assert_memory_equal(f.bytes, sub, sizeof sub);
    mqttraw_frame_free(&f);
    assert_int_equal(mqttraw_pingreq_frame(&f), 0);
    assert_int_equal(f.len, 2);
    assert_memory_equal(f.bytes, "\xc0\x00", 2);
    mqttraw_frame_free(&f);
    assert_int_equal(mqttraw_publish_frame(&f, NULL, 0, NULL, 0, 3, false, 0), ASSAY_EINVAL);
}

static void test_kind_frames(void **state)
{
    struct mqttraw_frame f;
    struct mqttraw_packet p;
    (void)state;
    assert_int_equal(mqttraw_kind_frame(&f, MQTTRAW_BAD_LENGTH, 0), 0);
    /* our own parser must call it not MQTT: five length bytes */
    assert_int_equal(mqttraw_parse(f.bytes, f.len, &p), MQTTRAW_PARSE_BAD);
    mqttraw_frame_free(&f);
    assert_int_equal(mqttraw_kind_frame(&f, MQTTRAW_BAD_UTF8_TOPIC, 0), 0);
    assert_int_equal(mqttraw_parse(f.bytes, f.len, &p), MQTTRAW_PARSE_OK);
    assert_int_equal(p.type, MQTTRAW_PUBLISH);
    assert_non_null(memchr(f.bytes, 0xc0, f.len));
    mqttraw_frame_free(&f);
    assert_int_equal(mqttraw_kind_frame(&f, MQTTRAW_WILDCARD_HASH, 0), 0);
    assert_non_null(memchr(f.bytes, '#', f.len));
    mqttraw_frame_free(&f);
    assert_int_equal(mqttraw_kind_frame(&f, MQTTRAW_OVERSIZE, 300000), 0);
    assert_int_equal(mqttraw_parse(f.bytes, f.len, &p), MQTTRAW_PARSE_OK);
    assert_int_equal(p.remaining, 2 + 14 + 300000);
    assert_int_equal(p.header_len, 4);
    mqttraw_frame_free(&f);
    assert_int_equal(mqttraw_kind_frame(&f, MQTTRAW_OVERSIZE, MQTTRAW_MAX_OVERSIZE + 1),
                     ASSAY_EINVAL);
    assert_int_equal(mqttraw_kind_from_name("wildcard-plus"), MQTTRAW_WILDCARD_PLUS);
    assert_int_equal(mqttraw_kind_from_name("nope"), -1);
    assert_string_equal(mqttraw_kind_name(MQTTRAW_OVERSIZE), "oversize");
}

static void test_parse_replies(void **state)
{
    struct mqttraw_packet p;
    (void)state;
    assert_int_equal(mqttraw_parse((const uint8_t *)"\x20\x02\x01\x05", 4, &p), MQTTRAW_PARSE_OK);
    assert_int_equal(p.type, MQTTRAW_CONNACK);
    assert_int_equal(p.connack_code, 5);
    assert_true(p.session_present);
    assert_int_equal(p.total_len, 4);
    assert_int_equal(mqttraw_parse((const uint8_t *)"\xd0\x00", 2, &p), MQTTRAW_PARSE_OK);
    assert_string_equal(mqttraw_type_name(p.type), "PINGRESP");
    assert_int_equal(mqttraw_parse((const uint8_t *)"\x90\x04\x00\x01\x00\x80", 6, &p),
                     MQTTRAW_PARSE_OK);
    assert_int_equal(p.packet_id, 1);
    assert_int_equal(p.nsuback, 2);
    assert_int_equal(p.suback_codes[1], 0x80);
    /* trailing bytes of a next packet are ignored */
    assert_int_equal(mqttraw_parse((const uint8_t *)"\xd0\x00\xd0", 3, &p), MQTTRAW_PARSE_OK);
    assert_int_equal(p.total_len, 2);
}

static void test_parse_malformed(void **state)
{
    struct mqttraw_packet p;
    (void)state;
    assert_int_equal(mqttraw_parse(NULL, 0, &p), MQTTRAW_PARSE_SHORT);
    assert_int_equal(p.type, 0);
    assert_int_equal(mqttraw_parse((const uint8_t *)"\x20", 1, &p), MQTTRAW_PARSE_SHORT);
    assert_int_equal(p.type, MQTTRAW_CONNACK);
    assert_int_equal(mqttraw_parse((const uint8_t *)"\x20\x02\x00", 3, &p), MQTTRAW_PARSE_SHORT);
    assert_int_equal(p.connack_code, -1); /* not decoded from a short body */
    assert_int_equal(mqttraw_parse((const uint8_t *)"\x00\x00", 2, &p), MQTTRAW_PARSE_BAD);
    assert_int_equal(mqttraw_parse((const uint8_t *)"\x30\x80\x80\x80\x80\x01", 6, &p),
                     MQTTRAW_PARSE_BAD);
    assert_int_equal(mqttraw_parse((const uint8_t *)"\x30\x80\x80\x80", 4, &p),
                     MQTTRAW_PARSE_SHORT);
    /* the largest declared length with no body: short, no overflow */
    assert_int_equal(mqttraw_parse((const uint8_t *)"\x30\xff\xff\xff\x7f", 5, &p),
                     MQTTRAW_PARSE_SHORT);
    assert_int_equal(p.remaining, MQTTRAW_MAX_REMAINING);
    /* a CONNACK with a one-byte body and a SUBACK with only a packet id */
    assert_int_equal(mqttraw_parse((const uint8_t *)"\x20\x01\x00", 3, &p), MQTTRAW_PARSE_OK);
    assert_int_equal(p.connack_code, -1);
    assert_int_equal(mqttraw_parse((const uint8_t *)"\x90\x02\x00\x09", 4, &p), MQTTRAW_PARSE_OK);
    assert_int_equal(p.nsuback, 0);
    assert_int_equal(p.packet_id, 9);
}

/* Every prefix of every byte string up to 3 bytes long parses without reading past len. */
static void test_parse_exhaustive_short(void **state)
{
    (void)state;
    for (unsigned v = 0; v < (1u << 24); v += 251) {
        uint8_t *b = malloc(3);
        struct mqttraw_packet p;
        assert_non_null(b);
        b[0] = (uint8_t)(v >> 16);
        b[1] = (uint8_t)(v >> 8);
        b[2] = (uint8_t)v;
        for (size_t len = 0; len <= 3; len++) {
            int st = mqttraw_parse(b, len, &p);
            assert_true(st == MQTTRAW_PARSE_OK || st == MQTTRAW_PARSE_SHORT ||
                        st == MQTTRAW_PARSE_BAD);
            if (st == MQTTRAW_PARSE_OK)
                assert_true(p.total_len <= len);
        }
        free(b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_varint),
        cmocka_unit_test(test_connect_frame),
        cmocka_unit_test(test_publish_and_subscribe_frames),
        cmocka_unit_test(test_kind_frames),
        cmocka_unit_test(test_parse_replies),
        cmocka_unit_test(test_parse_malformed),
        cmocka_unit_test(test_parse_exhaustive_short),
    };
    return cmocka_run_group_tests_name("mqtt_frame", tests, NULL, NULL);
}
