/*
 * test_modbus_parse.c: malformed-input tests for the Modbus reply parsers
 * (FC 0x2B / 0x0E identification, FC 0x11 server id) and the FC 08 guard.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "drivers/modbus.h"

/* A good identification reply: tid 0x0102, unit 1, regular, conformity 0x82,
 * more follows to object 2, objects 0 "ACME" and 1 "X1". */
static const uint8_t good[] = {0x01, 0x02, 0x00, 0x00, 0x00, 0x12, 0x01, 0x2B,
                               0x0E, 0x02, 0x82, 0xFF, 0x02, 0x02, 0x00, 0x04,
                               'A',  'C',  'M',  'E',  0x01, 0x02, 'X',  '1'};

static int parse(const uint8_t *b, size_t n, struct modbus_ident_page *p, struct assay_error *e)
{
    return modbus_ident_parse(b, n, 0x0102, 1, p, e);
}

static void test_ident_good(void **state)
{
    (void)state;
    struct modbus_ident_page p;
    struct assay_error e = {0};
    assert_int_equal(parse(good, sizeof(good), &p, &e), 0);
    assert_int_equal(p.exception, 0);
    assert_int_equal(p.read_code, 2);
    assert_int_equal(p.conformity, 0x82);
    assert_int_equal(p.more_follows, 0xFF);
    assert_int_equal(p.next_object_id, 2);
    assert_int_equal(p.nobjects, 2);
    assert_int_equal(p.objects[0].id, 0);
    assert_int_equal(p.objects[0].len, 4);
    assert_memory_equal(p.objects[0].value, "ACME", 4);
    assert_int_equal(p.objects[1].id, 1);
    assert_memory_equal(p.objects[1].value, "X1", 2);
}

/* Copies good into b, applies one change, and expects a rejection naming `why`. */
static void expect_reject(size_t len, size_t at, uint8_t value, const char *why)
{
    uint8_t b[64];
    memcpy(b, good, sizeof(good));
    if (at < sizeof(b))
        b[at] = value;
    struct modbus_ident_page p;
    struct assay_error e = {0};
    assert_int_equal(parse(b, len, &p, &e), ASSAY_EINVAL);
    if (!strstr(e.msg, why))
        fail_msg("expected '%s' in '%s'", why, e.msg);
    assert_int_equal(p.nobjects, 0);
}

static void test_ident_malformed(void **state)
{
    (void)state;
    size_t n = sizeof(good);
    expect_reject(n, 0, 0x09, "transaction id");  /* wrong transaction id */
    expect_reject(n, 3, 0x01, "protocol id");     /* protocol id not 0 */
    expect_reject(n, 5, 0x13, "MBAP length");     /* MBAP length past the frame */
    expect_reject(n, 5, 0x11, "MBAP length");     /* MBAP length short of the frame */
    expect_reject(n, 6, 0x02, "unit id");         /* another unit */
    expect_reject(n, 7, 0x03, "function code");   /* not 0x2B */
    expect_reject(n, 8, 0x0D, "MEI type");        /* not 0x0E */
    expect_reject(n, 9, 0x07, "read device id");  /* read code 7 */
    expect_reject(n, 11, 0x01, "more follows");   /* neither 0x00 nor 0xFF */
    expect_reject(n, 13, 0x03, "past the frame"); /* more objects than present */
    expect_reject(n, 13, 0x01, "after the last"); /* fewer objects than present */
    expect_reject(n, 15, 0x09, "runs past");      /* object length past the end */
    expect_reject(n, 21, 0x00, "after the last"); /* last object shorter than the rest */
    expect_reject(5, 99, 0, "shorter than");      /* truncated header */
    expect_reject(0, 99, 0, "shorter than");      /* empty */
}

static void test_ident_truncated_everywhere(void **state)
{
    (void)state;
    /* every proper prefix (with the MBAP length fixed up to match) is rejected */
    for (size_t n = 0; n < sizeof(good); n++) {
        uint8_t b[64];
        memcpy(b, good, n);
        if (n >= 6) {
            b[4] = 0;
            b[5] = (uint8_t)(n - 6);
        }
        struct modbus_ident_page p;
        struct assay_error e = {0};
        if (parse(b, n, &p, &e) != ASSAY_EINVAL)
            fail_msg("prefix of %zu bytes accepted", n);
    }
}

static void test_ident_exception(void **state)
{
    (void)state;
    const uint8_t exc[] = {0x01, 0x02, 0, 0, 0, 3, 0x01, 0xAB, 0x02};
    struct modbus_ident_page p;
    struct assay_error e = {0};
    assert_int_equal(parse(exc, sizeof(exc), &p, &e), 0);
    assert_int_equal(p.exception, 2);
    const uint8_t zero[] = {0x01, 0x02, 0, 0, 0, 3, 0x01, 0xAB, 0x00};
    assert_int_equal(parse(zero, sizeof(zero), &p, &e), ASSAY_EINVAL);
    const uint8_t longer[] = {0x01, 0x02, 0, 0, 0, 4, 0x01, 0xAB, 0x02, 0x00};
    assert_int_equal(parse(longer, sizeof(longer), &p, &e), ASSAY_EINVAL);
}

static void test_ident_zero_objects_and_max(void **state)
{
    (void)state;
    const uint8_t none[] = {0x01, 0x02, 0, 0, 0, 8, 0x01, 0x2B, 0x0E, 0x01, 0x01, 0x00, 0x00, 0x00};
    struct modbus_ident_page p;
    struct assay_error e = {0};
    assert_int_equal(parse(none, sizeof(none), &p, &e), 0);
    assert_int_equal(p.nobjects, 0);
    /* a full-size frame of empty objects: 123 objects fit in 260 bytes */
    uint8_t big[260] = {0x01, 0x02, 0, 0, 0, 254, 0x01, 0x2B, 0x0E, 0x02, 0x82, 0x00, 0x00, 123};
    for (size_t i = 0; i < 123; i++) {
        big[14 + 2 * i] = (uint8_t)i;
        big[15 + 2 * i] = 0;
    }
    assert_int_equal(parse(big, 260, &p, &e), 0);
    assert_int_equal(p.nobjects, 123);
    big[13] = 200; /* claims more objects than the frame can hold */
    assert_int_equal(parse(big, 260, &p, &e), ASSAY_EINVAL);
    uint8_t huge[300] = {0};
    memcpy(huge, big, 260);
    huge[4] = 0x01;
    huge[5] = 0x1E; /* 286: longer than any Modbus/TCP frame */
    assert_int_equal(parse(huge, 292, &p, &e), ASSAY_EINVAL);
}

static void test_server_id(void **state)
{
    (void)state;
    const uint8_t good_sid[] = {0x00, 0x07, 0,   0,   0,   0x0D, 0x01, 0x11, 0x0A, 0xB4,
                                0xFF, 'L',  'M', 'B', '3', '.',  '1',  '.',  '6'};
    struct modbus_server_id out;
    struct assay_error e = {0};
    assert_int_equal(modbus_server_id_parse(good_sid, sizeof(good_sid), 7, 1, &out, &e), 0);
    assert_int_equal(out.result.outcome, MODBUS_OUTCOME_OK);
    assert_int_equal(out.len, 10);
    assert_int_equal(out.data[0], 0xB4);
    assert_int_equal(out.data[1], 0xFF);
    assert_memory_equal(out.data + 2, "LMB3.1.6", 8);
    uint8_t b[sizeof(good_sid)];
    memcpy(b, good_sid, sizeof(b));
    b[8] = 0x0B; /* byte count past the frame */
    assert_int_equal(modbus_server_id_parse(b, sizeof(b), 7, 1, &out, &e), ASSAY_EINVAL);
    b[8] = 0x09; /* byte count short of the frame */
    assert_int_equal(modbus_server_id_parse(b, sizeof(b), 7, 1, &out, &e), ASSAY_EINVAL);
    b[8] = 0x00;
    assert_int_equal(modbus_server_id_parse(b, sizeof(b), 7, 1, &out, &e), ASSAY_EINVAL);
    assert_int_equal(modbus_server_id_parse(good_sid, sizeof(good_sid), 8, 1, &out, &e),
                     ASSAY_EINVAL);
    assert_int_equal(modbus_server_id_parse(good_sid, 8, 7, 1, &out, &e), ASSAY_EINVAL);
    const uint8_t exc[] = {0x00, 0x07, 0, 0, 0, 3, 0x01, 0x91, 0x01};
    assert_int_equal(modbus_server_id_parse(exc, sizeof(exc), 7, 1, &out, &e), 0);
    assert_int_equal(out.result.outcome, MODBUS_OUTCOME_EXCEPTION);
    assert_int_equal(out.result.exception, 1);
}

static void test_guard(void **state)
{
    (void)state;
    struct assay_error e = {0};
    struct modbus_frame_guard g = {0};
    const uint8_t diag[] = {0, 1, 0, 0, 0, 6, 1, 0x08, 0x00, 0x04, 0x00, 0x00};
    assert_int_equal(modbus_frame_guard_check(&g, diag, sizeof(diag), &e), ASSAY_EINVAL);
    assert_non_null(strstr(e.msg, "0x08"));
    assert_true(modbus_frame_guard_idle(&g)); /* a refused frame does not advance the stream */
    assert_int_equal(modbus_frame_guard_check(NULL, diag, sizeof(diag), &e), ASSAY_EINVAL);
    /* a read is fine and leaves the stream at a boundary */
    const uint8_t rd[] = {0, 1, 0, 0, 0, 6, 1, 0x03, 0x00, 0x08, 0x00, 0x08};
    assert_int_equal(modbus_frame_guard_check(&g, rd, sizeof(rd), &e), 0);
    assert_true(modbus_frame_guard_idle(&g));
    /* FC 08 split across two sends: the header first, then the function code */
    assert_int_equal(modbus_frame_guard_check(&g, diag, 7, &e), 0);
    assert_false(modbus_frame_guard_idle(&g));
    assert_int_equal(modbus_frame_guard_check(&g, diag + 7, 5, &e), ASSAY_EINVAL);
    /* FC 08 as the second frame in one send */
    uint8_t two[24];
    memcpy(two, rd, 12);
    memcpy(two + 12, diag, 12);
    struct modbus_frame_guard g2 = {0};
    assert_int_equal(modbus_frame_guard_check(&g2, two, sizeof(two), &e), ASSAY_EINVAL);
    /* a lying MBAP length (2) that puts FC 08 where a device re-syncs */
    uint8_t lie[20] = {0, 1, 0, 0, 0, 10, 1, 0x2B, 0, 2, 0, 0, 0, 6, 1, 0x08, 0, 4, 0, 0};
    struct modbus_frame_guard g3 = {0};
    assert_int_equal(modbus_frame_guard_check(&g3, lie, sizeof(lie), &e), ASSAY_EINVAL);
    /* a byte 0x08 in data is not a function code */
    const uint8_t data8[] = {0, 2, 0, 0, 0, 6, 1, 0x06, 0x00, 0x08, 0x00, 0x08};
    struct modbus_frame_guard g4 = {0};
    assert_int_equal(modbus_frame_guard_check(&g4, data8, sizeof(data8), &e), 0);
}

static void test_names(void **state)
{
    (void)state;
    enum modbus_table t;
    assert_int_equal(modbus_table_parse("holding", &t), 0);
    assert_int_equal(t, MODBUS_TABLE_HOLDING);
    assert_int_equal(modbus_table_parse("input_registers", &t), 0);
    assert_int_equal(t, MODBUS_TABLE_INPUT);
    assert_int_equal(modbus_table_parse("registers", &t), ASSAY_EINVAL);
    assert_string_equal(modbus_exception_name(2), "illegal data address");
    assert_string_equal(modbus_exception_name(0x0B), "gateway target device failed to respond");
    assert_string_equal(modbus_exception_name(0x42), "unknown exception");
    assert_string_equal(modbus_outcome_name(MODBUS_OUTCOME_TIMEOUT), "timeout");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ident_good),
        cmocka_unit_test(test_ident_malformed),
        cmocka_unit_test(test_ident_truncated_everywhere),
        cmocka_unit_test(test_ident_exception),
        cmocka_unit_test(test_ident_zero_objects_and_max),
        cmocka_unit_test(test_server_id),
        cmocka_unit_test(test_guard),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests_name("modbus_parse", tests, NULL, NULL);
}
