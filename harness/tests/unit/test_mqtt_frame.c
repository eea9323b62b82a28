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
    assert_int_equal(mqttraw_connect_frame(&f, 4, "id", "u", "pw", 30, 0), 0);
    assert_int_equal(f.len, sizeof want);
    assert_memory_equal(f.bytes, want, sizeof want);
    mqttraw_frame_free(&f);
    assert_int_equal(mqttraw_connect_frame(&f, 4, "x", NULL, NULL, 0, 0), 0);
    assert_int_equal(f.bytes[9], 0x02); /* clean session only */
    mqttraw_frame_free(&f);
}

static void test_publish_and_subscribe_frames(void **state)
{
    struct mqttraw_frame f;
    (void)state;
    assert_int_equal(mqttraw_publish_frame(&f, 4, (const uint8_t *)"a/b", 3, (const uint8_t *)"hi",
                                           2, 1, true, 7),
                     0);
    static const uint8_t pub[] = {0x33, 9, 0, 3, 'a', '/', 'b', 0, 7, 'h', 'i'};
    assert_memory_equal(f.bytes, pub, sizeof pub);
    assert_int_equal(f.len, sizeof pub);
    mqttraw_frame_free(&f);
    assert_int_equal(mqttraw_subscribe_many_frame(&f, 4, 1, (const char *const[]){"#"}, 1, 0), 0);
    static const uint8_t sub[] = {0x82, 6, 0, 1, 0, 1, '#', 0};
    assert_memory_equal(f.bytes, sub, sizeof sub);
    mqttraw_frame_free(&f);
    assert_int_equal(mqttraw_pingreq_frame(&f), 0);
    assert_int_equal(f.len, 2);
    assert_memory_equal(f.bytes, "\xc0\x00", 2);
    mqttraw_frame_free(&f);
    assert_int_equal(mqttraw_publish_frame(&f, 4, NULL, 0, NULL, 0, 3, false, 0), ASSAY_EINVAL);
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

/* Parses buf and decodes its PUBLISH header from the first `have` bytes. */
static int pubhdr(const uint8_t *buf, size_t len, size_t have, struct mqttraw_pubhdr *h)
{
    struct mqttraw_packet p;
    mqttraw_parse(buf, len, &p);
    return mqttraw_publish_header(buf, have, &p, h);
}

static void test_publish_header(void **state)
{
    struct mqttraw_pubhdr h;
    static const uint8_t q1[] = {0x3b, 9, 0, 3, 'a', '/', 'b', 0x12, 0x34, 'h', 'i'};
    static const uint8_t q0[] = {0x30, 4, 0, 2, 't', 'x'};
    static const uint8_t q3[] = {0x36, 5, 0, 1, 't', 0, 1};
    static const uint8_t overrun[] = {0x30, 4, 0xff, 0xff, 'a', 'b'};
    static const uint8_t nopid[] = {0x32, 4, 0, 2, 't', 'x'};
    static const uint8_t empty[] = {0x30, 0};
    (void)state;
    /* QoS 1, retained, DUP: topic, packet id and payload where they are */
    assert_int_equal(pubhdr(q1, sizeof q1, sizeof q1, &h), 1);
    assert_int_equal(h.qos, 1);
    assert_true(h.retained && h.dup);
    assert_int_equal(h.pid, 0x1234);
    assert_int_equal(h.topic_off, 4);
    assert_int_equal(h.topic_len, 3);
    assert_int_equal(h.payload_off, 9);
    assert_int_equal(h.payload_len, 2);
    /* the payload is not needed; every shorter prefix asks for more */
    assert_int_equal(pubhdr(q1, sizeof q1, 9, &h), 1);
    for (size_t have = 0; have < 9; have++)
        assert_int_equal(pubhdr(q1, sizeof q1, have, &h), 0);
    /* QoS 0: no packet id, an empty payload */
    assert_int_equal(pubhdr(q0, sizeof q0, sizeof q0, &h), 1);
    assert_int_equal(h.pid, -1);
    assert_int_equal(h.payload_len, 0);
    /* malformed: QoS 3, a topic longer than the packet, a packet id that is not there,
     * a PUBLISH too short for a topic length */
    assert_int_equal(pubhdr(q3, sizeof q3, sizeof q3, &h), -1);
    assert_int_equal(pubhdr(overrun, sizeof overrun, sizeof overrun, &h), -1);
    assert_int_equal(pubhdr(nopid, sizeof nopid, sizeof nopid, &h), -1);
    assert_int_equal(pubhdr(empty, sizeof empty, sizeof empty, &h), -1);
    /* not a PUBLISH */
    assert_int_equal(pubhdr((const uint8_t *)"\x20\x02\x00\x00", 4, 4, &h), -1);
}

static void test_v5_frames(void **state)
{
    struct mqttraw_frame f;
    static const uint8_t connect[] = {0x10, 15, 0,  4, 'M', 'Q', 'T', 'T', 5,
                                      0x02, 0,  30, 0, 0,   2,   'i', 'd'};
    static const uint8_t expiry[] = {5, 0x11, 0, 0, 0x0e, 0x10};
    static const uint8_t sub[] = {0x82, 7, 0, 1, 0, 0, 1, '#', 1};
    static const uint8_t pub[] = {0x32, 10, 0, 3, 'a', '/', 'b', 0, 7, 0, 'h', 'i'};
    const char *const all[1] = {"#"};
    (void)state;
    assert_int_equal(mqttraw_connect_frame(&f, 5, "id", NULL, NULL, 30, 0), 0);
    assert_int_equal(f.len, sizeof connect);
    assert_memory_equal(f.bytes, connect, sizeof connect);
    mqttraw_frame_free(&f);
    /* a Session Expiry Interval of 3600 s as the only property */
    assert_int_equal(mqttraw_connect_frame(&f, 5, "id", NULL, NULL, 30, 3600), 0);
    assert_int_equal(f.len, sizeof connect + 5);
    assert_int_equal(f.bytes[1], 20);
    assert_memory_equal(f.bytes + 12, expiry, sizeof expiry);
    mqttraw_frame_free(&f);
    assert_int_equal(mqttraw_connect_frame(&f, 4, "id", NULL, NULL, 30, 3600), ASSAY_EINVAL);
    assert_int_equal(mqttraw_connect_frame(&f, 3, "id", NULL, NULL, 30, 0), ASSAY_EINVAL);
    assert_int_equal(mqttraw_subscribe_many_frame(&f, 5, 1, all, 1, 1), 0);
    assert_int_equal(f.len, sizeof sub);
    assert_memory_equal(f.bytes, sub, sizeof sub);
    mqttraw_frame_free(&f);
    assert_int_equal(mqttraw_publish_frame(&f, 5, (const uint8_t *)"a/b", 3, (const uint8_t *)"hi",
                                           2, 1, false, 7),
                     0);
    assert_int_equal(f.len, sizeof pub);
    assert_memory_equal(f.bytes, pub, sizeof pub);
    mqttraw_frame_free(&f);
    assert_int_equal(mqttraw_disconnect_frame(&f, 5, 0), 0);
    assert_int_equal(f.len, 3);
    assert_memory_equal(f.bytes, "\xe0\x01\x00", 3);
    mqttraw_frame_free(&f);
    assert_int_equal(mqttraw_disconnect_frame(&f, 4, 0), 0);
    assert_int_equal(f.len, 2);
    mqttraw_frame_free(&f);
}

static void test_v5_parse(void **state)
{
    struct mqttraw_packet p;
    static const uint8_t refused[] = {0x20, 3, 0, 0x87, 0};
    static const uint8_t bare[] = {0x20, 2, 1, 0};
    static const uint8_t suback[] = {0x90, 5, 0, 1, 0, 0x00, 0x87};
    static const uint8_t suback_bad[] = {0x90, 4, 0, 1, 5, 0};
    static const uint8_t puback[] = {0x40, 3, 0, 1, 0x10};
    static const uint8_t disconnect[] = {0xe0, 2, 0x8e, 0};
    uint8_t pr[300], body[310], pkt[320];
    size_t np = 0, nb = 0, n = 0;
    (void)state;
    assert_int_equal(mqttraw_parse_version(refused, sizeof refused, 5, &p), MQTTRAW_PARSE_OK);
    assert_int_equal(p.connack_code, 0x87);
    assert_true(p.props.present && !p.props.malformed);
    assert_int_equal(p.props.count, 0);
    assert_int_equal(mqttraw_parse_version(bare, sizeof bare, 5, &p), MQTTRAW_PARSE_OK);
    assert_int_equal(p.connack_code, 0);
    assert_true(p.session_present);
    assert_false(p.props.present);
    /* a CONNACK with an assigned id, a Reason String longer than what is kept, two user
     * properties and a Server Keep Alive */
    memcpy(pr + np,
           "\x12\x00\x03"
           "a-1",
           6);
    np += 6;
    memcpy(pr + np, "\x1f\x00\xc8", 3);
    np += 3;
    memset(pr + np, 'r', 200);
    np += 200;
    for (int i = 0; i < 2; i++) {
        memcpy(pr + np, "\x26\x00\x01k\x00\x01v", 7);
        np += 7;
    }
    memcpy(pr + np, "\x13\x00\x0a", 3);
    np += 3;
    body[nb++] = 0;
    body[nb++] = 0x87;
    nb += mqttraw_varint((uint32_t)np, body + nb);
    memcpy(body + nb, pr, np);
    nb += np;
    pkt[n++] = 0x20;
    n += mqttraw_varint((uint32_t)nb, pkt + n);
    memcpy(pkt + n, body, nb);
    n += nb;
    assert_int_equal(mqttraw_parse_version(pkt, n, 5, &p), MQTTRAW_PARSE_OK);
    assert_int_equal(p.connack_code, 0x87);
    assert_false(p.props.malformed);
    assert_int_equal(p.props.count, 5);
    assert_true(p.props.assigned_client_id.present);
    assert_memory_equal(p.props.assigned_client_id.bytes, "a-1", 3);
    assert_int_equal(p.props.reason_string.len, MQTTRAW_PROP_STR_MAX);
    assert_int_equal(p.props.reason_string.full_len, 200);
    assert_int_equal(p.props.user_properties, 2);
    assert_int_equal(p.props.server_keepalive, 10);
    assert_int_equal(p.props.max_packet_size, -1);
    /* SUBACK: codes after the properties; read as 3.1.1 the property length is a code */
    assert_int_equal(mqttraw_parse_version(suback, sizeof suback, 5, &p), MQTTRAW_PARSE_OK);
    assert_int_equal(p.nsuback, 2);
    assert_int_equal(p.suback_codes[1], 0x87);
    assert_int_equal(mqttraw_parse(suback, sizeof suback, &p), MQTTRAW_PARSE_OK);
    assert_int_equal(p.nsuback, 3);
    assert_int_equal(mqttraw_parse_version(suback_bad, sizeof suback_bad, 5, &p), MQTTRAW_PARSE_OK);
    assert_true(p.props.malformed);
    assert_int_equal(p.nsuback, 0);
    assert_int_equal(mqttraw_parse_version(puback, sizeof puback, 5, &p), MQTTRAW_PARSE_OK);
    assert_int_equal(p.packet_id, 1);
    assert_int_equal(p.reason_code, 0x10);
    assert_int_equal(mqttraw_parse_version((const uint8_t *)"\x40\x02\x00\x01", 4, 5, &p),
                     MQTTRAW_PARSE_OK);
    assert_int_equal(p.reason_code, 0);
    assert_int_equal(mqttraw_parse_version(disconnect, sizeof disconnect, 5, &p), MQTTRAW_PARSE_OK);
    assert_int_equal(p.reason_code, 0x8e);
    assert_int_equal(mqttraw_parse(disconnect, sizeof disconnect, &p), MQTTRAW_PARSE_OK);
    assert_int_equal(p.reason_code, -1);
}

/* Reads the properties in bytes (n of them); returns the reader's result and leaves why. */
static int props_of(const uint8_t *bytes, size_t n, struct mqttraw_props *pr)
{
    size_t used;
    return mqttraw_props_read(bytes, n, pr, &used);
}

static void test_props_malformed(void **state)
{
    struct mqttraw_props pr;
    static const uint8_t ok[] = {14, 0x26, 0, 1, 'a', 0, 0, 0x26, 0, 0, 0, 0, 0x0b, 0x80, 0x01};
    (void)state;
    assert_int_equal(props_of(ok, sizeof ok, &pr), 0);
    assert_int_equal(pr.user_properties, 2);
    assert_int_equal(props_of((const uint8_t *)"\x02\x7f\x00", 3, &pr), -1);
    assert_string_equal(pr.why, "unknown property 0x7f");
    assert_int_equal(props_of((const uint8_t *)"\x05\x11\x00", 3, &pr), -1);
    assert_string_equal(pr.why, "a property length beyond the packet");
    assert_int_equal(props_of((const uint8_t *)"\x02\x11\x00", 3, &pr), -1);
    assert_string_equal(pr.why, "property 0x11 cut short");
    assert_int_equal(props_of((const uint8_t *)"\x06\x13\x00\x01\x13\x00\x02", 7, &pr), -1);
    assert_string_equal(pr.why, "property 0x13 appears twice");
    assert_int_equal(props_of((const uint8_t *)"\x80\x80\x80\x80\x01", 5, &pr), -1);
    assert_string_equal(pr.why, "a property length of more than 4 bytes");
    assert_int_equal(props_of((const uint8_t *)"\x03\x1f\x00\x05", 4, &pr), -1);
    assert_string_equal(pr.why, "property 0x1f cut short");
    assert_int_equal(props_of((const uint8_t *)"\x05\x26\x00\x01\x6b\x00", 6, &pr), -1);
    assert_int_equal(props_of(NULL, 0, &pr), -1);
    assert_string_equal(pr.why, "the property length is cut short");
    assert_true(pr.malformed);
}

static void test_v5_publish_header(void **state)
{
    struct mqttraw_pubhdr h;
    struct mqttraw_packet p;
    /* QoS 1, a Topic Alias property, payload "hi" */
    static const uint8_t pub[] = {0x32, 11, 0, 1, 't', 0, 9, 3, 0x23, 0, 5, 'h', 'i'};
    static const uint8_t bad[] = {0x30, 7, 0, 1, 't', 2, 0x7f, 0, 'x'};
    static const uint8_t over[] = {0x30, 5, 0, 1, 't', 9, 'x'};
    (void)state;
    assert_int_equal(mqttraw_parse_version(pub, sizeof pub, 5, &p), MQTTRAW_PARSE_OK);
    assert_int_equal(mqttraw_publish_header(pub, sizeof pub, &p, &h), 1);
    assert_int_equal(h.pid, 9);
    assert_int_equal(h.props_len, 4);
    assert_int_equal(h.payload_off, 11);
    assert_int_equal(h.payload_len, 2);
    for (size_t have = 0; have < 11; have++)
        assert_int_equal(mqttraw_publish_header(pub, have, &p, &h), 0);
    /* the same bytes read as 3.1.1: the property bytes are payload */
    assert_int_equal(mqttraw_parse(pub, sizeof pub, &p), MQTTRAW_PARSE_OK);
    assert_int_equal(mqttraw_publish_header(pub, sizeof pub, &p, &h), 1);
    assert_int_equal(h.payload_len, 6);
    /* malformed properties, properties longer than the packet */
    mqttraw_parse_version(bad, sizeof bad, 5, &p);
    assert_int_equal(mqttraw_publish_header(bad, sizeof bad, &p, &h), -1);
    mqttraw_parse_version(over, sizeof over, 5, &p);
    assert_int_equal(mqttraw_publish_header(over, sizeof over, &p, &h), -1);
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
        cmocka_unit_test(test_publish_header),
        cmocka_unit_test(test_v5_frames),
        cmocka_unit_test(test_v5_parse),
        cmocka_unit_test(test_props_malformed),
        cmocka_unit_test(test_v5_publish_header),
    };
    return cmocka_run_group_tests_name("mqtt_frame", tests, NULL, NULL);
}
