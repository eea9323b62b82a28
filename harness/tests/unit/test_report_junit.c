/*
 * test_report_junit.c: junit.xml of the hostile fixture run and the selftest
 * run, parsed by libxml2's strict XML parser: one testsuite per device, one
 * testcase per test case, FAIL as failure, ERROR as error, NOT_APPLICABLE and
 * INCONCLUSIVE as skipped with the reason, counts that add up, and no
 * character XML forbids even when a device sent one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/record.h"
#include "report/junit.h"

#define FIXTURE ASSAY_SOURCE_DIR "/harness/tests/report/hostile-run/run.json"
#define SELFTEST ASSAY_SOURCE_DIR "/harness/tests/e2e/expected/selftest.run.json"

static xmlDocPtr render(const json_t *rec, char **text)
{
    size_t len = 0;
    struct assay_error err = {0};
    FILE *out = open_memstream(text, &len);
    assert_int_equal(report_junit(rec, out, &err), 0);
    fclose(out);
    /* Strict: any error (an invalid character, bad nesting) fails the parse. */
    return xmlReadMemory(*text, (int)len, "junit.xml", "UTF-8", XML_PARSE_NONET);
}

static double number(xmlDocPtr doc, const char *xpath)
{
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    xmlXPathObjectPtr r = xmlXPathEvalExpression((const xmlChar *)xpath, ctx);
    double v = r ? xmlXPathCastToNumber(r) : -1;
    xmlXPathFreeObject(r);
    xmlXPathFreeContext(ctx);
    return v;
}

static char *string(xmlDocPtr doc, const char *xpath)
{
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    xmlXPathObjectPtr r = xmlXPathEvalExpression((const xmlChar *)xpath, ctx);
    char *v = r ? (char *)xmlXPathCastToString(r) : NULL;
    xmlXPathFreeObject(r);
    xmlXPathFreeContext(ctx);
    return v;
}

/* Every device and test case of rec appears with the element its verdict maps to. */
static void check_structure(xmlDocPtr doc, const json_t *rec)
{
    size_t i, k, total = 0, fails = 0;
    json_t *d, *tc;
    assert_int_equal((int)number(doc, "count(/testsuites/testsuite)"),
                     (int)json_array_size(json_object_get(rec, "devices")));
    json_array_foreach(json_object_get(rec, "devices"), i, d)
    {
        char xp[256];
        snprintf(xp, sizeof(xp), "count(/testsuites/testsuite[%zu]/testcase)", i + 1);
        assert_int_equal((int)number(doc, xp),
                         (int)json_array_size(json_object_get(d, "testcases")));
        snprintf(xp, sizeof(xp), "number(/testsuites/testsuite[%zu]/@tests)", i + 1);
        assert_int_equal((int)number(doc, xp),
                         (int)json_array_size(json_object_get(d, "testcases")));
        json_array_foreach(json_object_get(d, "testcases"), k, tc)
        {
            const char *v = json_string_value(json_object_get(tc, "verdict"));
            const char *want = !strcmp(v, "FAIL")    ? "failure"
                               : !strcmp(v, "ERROR") ? "error"
                               : !strcmp(v, "PASS")  ? NULL
                                                     : "skipped";
            snprintf(xp, sizeof(xp),
                     "count(/testsuites/testsuite[%zu]/testcase[%zu]/*[name()!="
                     "'system-out'])",
                     i + 1, k + 1);
            assert_int_equal((int)number(doc, xp), want ? 1 : 0);
            if (want) {
                snprintf(xp, sizeof(xp),
                         "string(/testsuites/testsuite[%zu]/testcase[%zu]/%s/"
                         "@message)",
                         i + 1, k + 1, want);
                char *msg = string(doc, xp);
                assert_non_null(msg);
                assert_non_null(strstr(msg, v)); /* the verdict and the reason */
                assert_true(strlen(msg) > strlen(v) + 2);
                xmlFree(msg);
            }
            snprintf(xp, sizeof(xp), "string(/testsuites/testsuite[%zu]/testcase[%zu]/@name)",
                     i + 1, k + 1);
            char *name = string(doc, xp);
            assert_string_equal(name, json_string_value(json_object_get(tc, "id")));
            xmlFree(name);
            total++;
            fails += !strcmp(v, "FAIL");
        }
    }
    assert_int_equal((int)number(doc, "number(/testsuites/@tests)"), (int)total);
    assert_int_equal((int)number(doc, "number(/testsuites/@failures)"), (int)fails);
    assert_int_equal((int)number(doc, "sum(/testsuites/testsuite/@failures)"), (int)fails);
    assert_int_equal((int)number(doc, "count(//testsuite[not(@name) or @name=''])"), 0);
    assert_int_equal((int)number(doc, "count(//testcase[not(@classname) or not(@name)])"), 0);
}

static void test_hostile(void **state)
{
    (void)state;
    struct assay_error err = {0};
    json_t *rec = record_read(FIXTURE, &err);
    assert_non_null(rec);
    char *text = NULL;
    xmlDocPtr doc = render(rec, &text);
    assert_non_null(doc);
    check_structure(doc, rec);
    assert_int_equal((int)number(doc, "number(/testsuites/@errors)"), 1);
    assert_int_equal((int)number(doc, "number(/testsuites/@skipped)"), 3);
    /* Device text arrives escaped and neutralised, not as markup. */
    assert_null(strstr(text, "\x1b"));
    assert_null(strstr(text, "\xef\xbf\xbf"));
    assert_int_equal((int)number(doc, "count(//script|//img)"), 0);
    char *fw = string(doc, "string(//testsuite[1]/properties/property[@name='firmware']/@value)");
    assert_non_null(strstr(fw, "<script>document.title"));
    assert_non_null(strstr(fw, "\\x1b[31m"));
    assert_non_null(strstr(fw, "<U+202E>"));
    assert_non_null(strstr(fw, "<U+FFFF>"));
    xmlFree(fw);
    char *id = string(doc, "string(//testsuite[2]/@name)");
    assert_string_equal(id, "x\"><img src=x onerror=alert(2)><U+202E>");
    xmlFree(id);
    char *skip = string(doc, "string(//testsuite[2]/testcase[3]/skipped/@message)");
    assert_string_equal(skip, "INCONCLUSIVE: not authorised: intrusive");
    xmlFree(skip);
    char *time = string(doc, "string(//testsuite[1]/testcase[1]/@time)");
    assert_string_equal(time, "1.250");
    xmlFree(time);
    xmlFreeDoc(doc);
    free(text);
    json_decref(rec);
}

static void test_selftest(void **state)
{
    (void)state;
    struct assay_error err = {0};
    json_t *rec = record_read(SELFTEST, &err);
    assert_non_null(rec);
    char *text = NULL;
    xmlDocPtr doc = render(rec, &text);
    assert_non_null(doc);
    check_structure(doc, rec);
    char *stamp = string(doc, "string(//testsuite[1]/@timestamp)");
    assert_int_equal(strlen(stamp), 19); /* yyyy-mm-ddThh:mm:ss, as Jenkins' schema wants */
    xmlFree(stamp);
    xmlFreeDoc(doc);
    free(text);
    json_decref(rec);
}

/* A NUL byte and a U+FFFE in a rationale still give well-formed XML. */
static void test_invalid_characters(void **state)
{
    (void)state;
    json_t *rec = json_pack("{s:s, s:[{s:s, s:[{s:s, s:s, s:s%}]}]}", "id", "r", "devices", "id",
                            "d", "testcases", "id", "t", "verdict", "FAIL", "rationale",
                            "a\0b\xef\xbf\xbe\x01\x0c", (size_t)8);
    assert_non_null(rec);
    char *text = NULL;
    xmlDocPtr doc = render(rec, &text);
    assert_non_null(doc);
    char *msg = string(doc, "string(//failure/@message)");
    assert_string_equal(msg, "FAIL: a\\x00b<U+FFFE>\\x01\\x0c");
    xmlFree(msg);
    xmlFreeDoc(doc);
    free(text);
    json_decref(rec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_selftest),
        cmocka_unit_test(test_invalid_characters),
    };
    return cmocka_run_group_tests_name("report_junit", tests, NULL, NULL);
}
