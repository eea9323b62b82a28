/* test_linkformat.c: unit tests of the RFC 6690 link-format parser, well-formed and hostile. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "drivers/linkformat.h"

/* Parses a C string literal (length given, so it may hold NULs). */
static int parse_n(const char *s, size_t n, const struct linkformat_limits *lim,
                   struct linkformat_doc *doc, size_t *off, struct assay_error *err)
{
    *off = (size_t)-1;
    memset(err, 0, sizeof *err);
    return linkformat_parse((const uint8_t *)s, n, lim, doc, off, err);
}

#define PARSE(lit, doc, off, err) parse_n(lit, sizeof(lit) - 1, NULL, doc, off, err)

/* Expects a failure with `code` at `offset`. */
static void expect_error(const char *s, size_t n, const struct linkformat_limits *lim, int code,
                         size_t offset)
{
    struct linkformat_doc doc;
    struct assay_error err;
    size_t off;
    int rc = parse_n(s, n, lim, &doc, &off, &err);
    if (rc != code || off != offset)
        print_error("input %.40s: rc %d offset %zu (%s)\n", s, rc, off, err.msg);
    assert_int_equal(rc, code);
    assert_int_equal(off, offset);
    assert_int_equal(err.code, code);
    assert_non_null(strstr(err.msg, "offset"));
    assert_null(doc.links);
}

#define EXPECT_ERROR(lit, code, offset) expect_error(lit, sizeof(lit) - 1, NULL, code, offset)

static void test_libcoap_example(void **state)
{
    struct linkformat_doc doc;
    struct assay_error err;
    size_t off;
    const struct linkformat_attr *a;
    (void)state;
    assert_int_equal(
        PARSE("</sensor/temp>;obs;ct=0;rt=\"temperature-c\",</fw/blob>;sz=3000", &doc, &off, &err),
        0);
    assert_int_equal(doc.nlinks, 2);
    assert_string_equal(doc.links[0].target, "/sensor/temp");
    assert_int_equal(doc.links[0].nattrs, 3);
    assert_string_equal(doc.links[0].attrs[0].name, "obs");
    assert_null(doc.links[0].attrs[0].value);
    assert_string_equal(doc.links[0].attrs[1].name, "ct");
    assert_string_equal(doc.links[0].attrs[1].value, "0");
    assert_false(doc.links[0].attrs[1].quoted);
    a = linkformat_attr_find(&doc.links[0], "rt");
    assert_non_null(a);
    assert_string_equal(a->value, "temperature-c");
    assert_true(a->quoted);
    assert_null(linkformat_attr_find(&doc.links[0], "sz"));
    assert_string_equal(doc.links[1].target, "/fw/blob");
    assert_string_equal(linkformat_attr_find(&doc.links[1], "sz")->value, "3000");
    linkformat_release(&doc);
    assert_null(doc.links);
    linkformat_release(&doc); /* twice is harmless */
}

static void test_empty_and_whitespace(void **state)
{
    struct linkformat_doc doc;
    struct assay_error err;
    size_t off;
    (void)state;
    assert_int_equal(parse_n("", 0, NULL, &doc, &off, &err), 0);
    assert_int_equal(doc.nlinks, 0);
    linkformat_release(&doc);
    assert_int_equal(PARSE(" \r\n\t", &doc, &off, &err), 0);
    assert_int_equal(doc.nlinks, 0);
    linkformat_release(&doc);
    assert_int_equal(linkformat_parse(NULL, 0, NULL, &doc, &off, &err), 0);
    linkformat_release(&doc);
}

static void test_tolerated_whitespace_and_empty_target(void **state)
{
    struct linkformat_doc doc;
    struct assay_error err;
    size_t off;
    (void)state;
    assert_int_equal(PARSE(" </a> ; rt=\"x\" ,\n<>;if=core.b ", &doc, &off, &err), 0);
    assert_int_equal(doc.nlinks, 2);
    assert_string_equal(doc.links[0].target, "/a");
    assert_string_equal(doc.links[0].attrs[0].value, "x");
    assert_string_equal(doc.links[1].target, "");
    assert_string_equal(doc.links[1].attrs[0].name, "if");
    assert_string_equal(doc.links[1].attrs[0].value, "core.b");
    assert_false(doc.links[1].attrs[0].quoted);
    linkformat_release(&doc);
}

static void test_escapes_and_utf8(void **state)
{
    struct linkformat_doc doc;
    struct assay_error err;
    size_t off;
    (void)state;
    assert_int_equal(
        PARSE("</a>;title=\"say \\\"hi\\\" \\\\ ok\";d=\"\";u=\"caf\xc3\xa9\"", &doc, &off, &err),
        0);
    assert_string_equal(doc.links[0].attrs[0].value, "say \"hi\" \\ ok");
    assert_string_equal(doc.links[0].attrs[1].value, "");
    assert_true(doc.links[0].attrs[1].quoted);
    assert_string_equal(doc.links[0].attrs[2].value, "caf\xc3\xa9");
    linkformat_release(&doc);
}

static void test_unterminated(void **state)
{
    (void)state;
    EXPECT_ERROR("</a>;rt=\"abc", ASSAY_EINVAL, 8);
    EXPECT_ERROR("</a>;rt=\"ab\\", ASSAY_EINVAL, 8);
    EXPECT_ERROR("</a>,</b>;t=\"x\\\"", ASSAY_EINVAL, 12);
    EXPECT_ERROR("</abc", ASSAY_EINVAL, 0);
    EXPECT_ERROR("</a>,<", ASSAY_EINVAL, 5);
}

static void test_nul_bytes(void **state)
{
    (void)state;
    EXPECT_ERROR("</a>;rt=x\0,</b>", ASSAY_EINVAL, 9);
    EXPECT_ERROR("</a\0>", ASSAY_EINVAL, 3);
    EXPECT_ERROR("</a>;rt=\"x\0\"", ASSAY_EINVAL, 10);
    EXPECT_ERROR("\0</a>", ASSAY_EINVAL, 0);
    EXPECT_ERROR("</a>;o\0bs", ASSAY_EINVAL, 6);
}

static void test_syntax_errors(void **state)
{
    (void)state;
    EXPECT_ERROR("/a>", ASSAY_EINVAL, 0);
    EXPECT_ERROR("</a>x", ASSAY_EINVAL, 4);
    EXPECT_ERROR("</a>,", ASSAY_EINVAL, 5);
    EXPECT_ERROR("</a>;", ASSAY_EINVAL, 5);
    EXPECT_ERROR("</a>;=x", ASSAY_EINVAL, 5);
    EXPECT_ERROR("</a>;rt=", ASSAY_EINVAL, 8);
    EXPECT_ERROR("</a>;rt=,</b>", ASSAY_EINVAL, 8);
    EXPECT_ERROR("</a b>", ASSAY_EINVAL, 3);
    EXPECT_ERROR("<</a>", ASSAY_EINVAL, 1);
    EXPECT_ERROR("</a>;t=\"a\x01\"", ASSAY_EINVAL, 9);
    EXPECT_ERROR("</a>;t=\xc3\xa9", ASSAY_EINVAL, 7);
    EXPECT_ERROR("</a>;rt=\"x\"y", ASSAY_EINVAL, 11);
    EXPECT_ERROR("</a>;r t", ASSAY_EINVAL, 7);
}

/* Builds `count` copies of `unit` after `prefix`; caller frees. */
static char *repeat(const char *prefix, const char *unit, size_t count, size_t *len)
{
    size_t pl = strlen(prefix), ul = strlen(unit);
    char *s = malloc(pl + ul * count + 1);
    assert_non_null(s);
    memcpy(s, prefix, pl);
    for (size_t i = 0; i < count; i++)
        memcpy(s + pl + i * ul, unit, ul);
    *len = pl + ul * count;
    s[*len] = 0;
    return s;
}

static void test_link_cap(void **state)
{
    struct linkformat_limits lim = LINKFORMAT_DEFAULT_LIMITS;
    size_t len;
    char *s = repeat("", "</x>,", 100000, &len);
    (void)state;
    /* the default input cap stops it first, at the cap */
    expect_error(s, len, NULL, ASSAY_ENOMEM, 65536);
    /* with a large input cap, the link cap stops it at the 513th link's '<' */
    lim.max_input = 1u << 20;
    expect_error(s, len, &lim, ASSAY_ENOMEM, 512 * 5);
    free(s);
}

static void test_value_cap(void **state)
{
    struct linkformat_limits lim = LINKFORMAT_DEFAULT_LIMITS;
    size_t len;
    char *s;
    (void)state;
    lim.max_input = 2u << 20;
    s = repeat("</a>;v=", "x", 1u << 20, &len);
    expect_error(s, len, &lim, ASSAY_ENOMEM, 7 + 1024);
    free(s);
    s = repeat("</a>;v=\"", "x", 1u << 20, &len);
    expect_error(s, len, &lim, ASSAY_ENOMEM, 8 + 1024);
    free(s);
    s = repeat("</a>;", "n", 1u << 20, &len);
    expect_error(s, len, &lim, ASSAY_ENOMEM, 5 + 64);
    free(s);
    s = repeat("<", "t", 1u << 20, &len);
    expect_error(s, len, &lim, ASSAY_ENOMEM, 1 + 1024);
    free(s);
}

static void test_attr_cap_and_dense_input(void **state)
{
    struct linkformat_doc doc;
    struct assay_error err;
    size_t off, len;
    char *s = repeat("</a>", ";a", 33, &len);
    (void)state;
    expect_error(s, len, NULL, ASSAY_ENOMEM, 69);
    free(s);
    /* 32 value-less one-byte attributes per link: the densest use of the string pool */
    s = repeat("<>", ";a", 32, &len);
    assert_int_equal(parse_n(s, len, NULL, &doc, &off, &err), 0);
    assert_int_equal(doc.links[0].nattrs, 32);
    assert_string_equal(doc.links[0].attrs[31].name, "a");
    linkformat_release(&doc);
    free(s);
    s = repeat("<>", ",<>", 511, &len);
    assert_int_equal(parse_n(s, len, NULL, &doc, &off, &err), 0);
    assert_int_equal(doc.nlinks, 512);
    assert_string_equal(doc.links[511].target, "");
    linkformat_release(&doc);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_libcoap_example),
        cmocka_unit_test(test_empty_and_whitespace),
        cmocka_unit_test(test_tolerated_whitespace_and_empty_target),
        cmocka_unit_test(test_escapes_and_utf8),
        cmocka_unit_test(test_unterminated),
        cmocka_unit_test(test_nul_bytes),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_link_cap),
        cmocka_unit_test(test_value_cap),
        cmocka_unit_test(test_attr_cap_and_dense_input),
    };
    return cmocka_run_group_tests_name("linkformat", tests, NULL, NULL);
}
