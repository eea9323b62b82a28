/*
 * test_report_html.c: report.html, checked statically with libxml2: for the
 * hostile fixture run (harness/tests/report/hostile-run) and the selftest
 * demo run: self-contained (no URL scheme in any src, href or url()), CSP
 * present, one matrix cell per device and obligation with the right verdict,
 * device text inert, evidence and print styles present. The checks are also
 * shown to fail on pages that break them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../report/html_checks.h"
#include "core/catalogue.h"
#include "core/record.h"
#include "report/html.h"
#include "report/html_escape.h"
#include "report/html_internal.h"

#define FIXTURE ASSAY_SOURCE_DIR "/harness/tests/report/hostile-run"

struct page {
    json_t *rec;
    char *html;
    size_t len;
    htmlDocPtr doc;
    struct catalogue cat;
};

static int render(struct page *p, const char *run_json, const char *run_dir)
{
    struct assay_error err = {0};
    struct diag_list diags;
    diag_init(&diags);
    if (catalogue_load(&p->cat, ASSAY_SOURCE_DIR "/profiles/obligations.yaml", &diags) != 0)
        diag_print(&diags, stderr);
    diag_release(&diags);
    p->rec = record_read(run_json, &err);
    if (!p->rec) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    FILE *out = open_memstream(&p->html, &p->len);
    int rc = report_html(p->rec, run_dir, &p->cat, out, &err);
    fclose(out);
    if (rc) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    p->doc = html_checks_parse(p->html, p->len);
    return p->doc ? 0 : -1;
}

static int setup_hostile(void **state)
{
    struct page *p = calloc(1, sizeof(*p));
    *state = p;
    return render(p, FIXTURE "/run.json", FIXTURE);
}

static int setup_selftest(void **state)
{
    struct page *p = calloc(1, sizeof(*p));
    *state = p;
    return render(p, ASSAY_SOURCE_DIR "/harness/tests/e2e/expected/selftest.run.json", NULL);
}

static int teardown(void **state)
{
    struct page *p = *state;
    xmlFreeDoc(p->doc);
    free(p->html);
    json_decref(p->rec);
    catalogue_release(&p->cat);
    free(p);
    return 0;
}

static void test_self_contained(void **state)
{
    struct page *p = *state;
    assert_int_equal(html_checks_no_external(p->doc), 0);
    assert_int_equal(html_checks_csp(p->doc), 0);
    assert_non_null(strstr(p->html, "<!DOCTYPE html>"));
}

static void test_matrix(void **state)
{
    struct page *p = *state;
    assert_int_equal(html_checks_matrix(p->doc, p->rec), 0);
}

static void test_inert(void **state)
{
    struct page *p = *state;
    assert_int_equal(html_checks_inert(p->doc, p->html, p->len), 0);
    /* Lab and operator text is escaped too. */
    assert_non_null(strstr(p->html, "Lab &lt;b&gt;One&lt;/b&gt;"));
    assert_non_null(strstr(p->html, "O&#39;Brien &amp; Co"));
    assert_null(strstr(p->html, "<b>One"));
}

static void test_evidence(void **state)
{
    struct page *p = *state;
    /* The two transcript lines of fixture.banner, not the other test case's. */
    assert_non_null(strstr(p->html, "2 transcript lines of this test case"));
    assert_null(strstr(p->html, "not this test case"));
    assert_non_null(strstr(p->html, "href=\"devices/cam-1/capture.pcap\""));
    assert_non_null(strstr(p->html, "href=\"devices/cam-1/transcript.jsonl\""));
    /* An incomplete capture, and a missing one with its (escaped) reason, are said. */
    assert_non_null(strstr(p->html,
                           "The packet capture of this device is incomplete: 3 packet(s) "
                           "arrived faster than they could be recorded; 120 packet(s) came "
                           "after the capture file reached its limit of 512 MB;"));
    assert_non_null(strstr(p->html, "No packet capture was made for this device: capture not "
                                    "permitted on lo &lt;script&gt;alert(3)&lt;/script&gt;."));
    assert_non_null(strstr(p->html, "href=\"devices/cam-1/observations/fixture.banner.json\""));
    assert_non_null(strstr(p->html, "from 2026-01-01T12:00:01.000Z to 2026-01-01T12:00:02.250Z"));
    /* Observations are shown, their markup escaped. */
    assert_non_null(strstr(p->html, "&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;h1&gt;injected"));
    /* Items for the assessor are listed per device. */
    assert_non_null(strstr(p->html, "Items the assessor must still decide"));
    assert_true(strstr(p->html, "INCONCLUSIVE (for the assessor)") != NULL);
    /* Dossier summary and catalogue titles. */
    assert_non_null(strstr(p->html, "Camera &lt;i&gt;One&lt;/i&gt;"));
    assert_non_null(strstr(p->html, "No universal default passwords"));
}

static void test_print_and_access(void **state)
{
    struct page *p = *state;
    assert_non_null(strstr(p->html, "@page{size:A4"));
    assert_non_null(strstr(p->html, ".device{break-before:page"));
    assert_int_equal(html_checks_no_external(p->doc), 0);
    /* One section per device, a legend naming every verdict. */
    char *legend = strstr(p->html, "<ul class=\"legend\"");
    assert_non_null(legend);
    const char *words[] = {"PASS", "FAIL", "ERROR", "INCONCLUSIVE", "NOT APPLICABLE"};
    for (size_t i = 0; i < 5; i++)
        assert_non_null(strstr(legend, words[i]));
    size_t sections = 0;
    for (const char *s = p->html; (s = strstr(s, "<section class=\"device\"")); s++)
        sections++;
    assert_int_equal(sections, json_array_size(json_object_get(p->rec, "devices")));
}

/* The checks themselves reject pages that break them. */
static void test_checks_fail(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "<html><head></head><body><img src=\"x.png\"></body></html>",
        "<html><body><a href=\"https://example.org/\">x</a></body></html>",
        "<html><body><a href=\" javascript:alert(1)\">x</a></body></html>",
        "<html><head><style>b{background:url(http://x/y)}</style></head></html>",
        "<html><body><p style=\"background:url('data:x')\">x</p></body></html>",
        "<html><body><p onclick=\"x()\">x</p></body></html>",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        htmlDocPtr d = html_checks_parse(bad[i], strlen(bad[i]));
        assert_int_equal(html_checks_no_external(d), -1);
        xmlFreeDoc(d);
    }
    const char *nocsp = "<html><head><title>x</title></head><body></body></html>";
    htmlDocPtr d = html_checks_parse(nocsp, strlen(nocsp));
    assert_int_equal(html_checks_csp(d), -1);
    json_t *rec = json_loads("{\"obligations\":[\"PSTI-1\"],\"devices\":[{\"id\":\"a\","
                             "\"obligations\":[{\"id\":\"PSTI-1\",\"verdict\":\"FAIL\"}]}]}",
                             0, NULL);
    assert_int_equal(html_checks_matrix(d, rec), -1);
    xmlFreeDoc(d);
    const char *wrong = "<html><body><table class=\"matrix\"><thead><tr><th scope=\"col\">d</th>"
                        "<th scope=\"col\">PSTI-1</th></tr></thead><tbody><tr>"
                        "<th scope=\"row\">a</th><td data-device=\"a\" data-obligation=\"PSTI-1\""
                        " data-verdict=\"PASS\"><a href=\"#x\">PASS</a></td></tr></tbody></table>"
                        "<p id=\"x\"></p></body></html>";
    d = html_checks_parse(wrong, strlen(wrong));
    assert_int_equal(html_checks_matrix(d, rec), -1);
    json_object_set_new(
        json_array_get(
            json_object_get(json_array_get(json_object_get(rec, "devices"), 0), "obligations"), 0),
        "verdict", json_string("PASS"));
    assert_int_equal(html_checks_matrix(d, rec), 0);
    xmlFreeDoc(d);
    json_decref(rec);
    const char *raw = "<html><body><p>\x1b[31m</p></body></html>";
    d = html_checks_parse(raw, strlen(raw));
    assert_int_equal(html_checks_inert(d, raw, strlen(raw)), -1);
    xmlFreeDoc(d);
}

static char *escaped(const char *s, size_t len)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    assert_int_equal(html_escape_write(f, s, len, 0), 0);
    fclose(f);
    return buf;
}

static void test_escape(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t len;
        const char *want;
    } cases[] = {
        {"<a href='x'>&\"", 14, "&lt;a href=&#39;x&#39;&gt;&amp;&quot;"},
        {"\x1b[31m", 5, "\\x1b[31m"},
        {"a\0b", 3, "a\\x00b"},
        {"\xe2\x80\xae"
         "abc",
         6, "&lt;U+202E&gt;abc"},
        {"\xef\xbf\xbf!", 4, "&lt;U+FFFF&gt;!"},
        {"\xf3\xa0\x81\x81", 4, "&lt;U+E0041&gt;"},
        {"\xff", 1, "\\xff"},
        {"caf\xc3\xa9", 5, "caf\xc3\xa9"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = escaped(cases[i].in, cases[i].len);
        assert_string_equal(got, cases[i].want);
        free(got);
    }
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    assert_int_equal(html_escape_lines(f, "a<\nb\x1b\n", 6, 0), 0);
    fclose(f);
    assert_string_equal(buf, "a&lt;\nb\\x1b\n");
    free(buf);
}

static void test_relpath(void **state)
{
    (void)state;
    assert_true(html_safe_relpath("devices/cam-1/transcript.jsonl"));
    assert_false(html_safe_relpath("/etc/passwd"));
    assert_false(html_safe_relpath("devices/../../etc"));
    assert_false(html_safe_relpath(".."));
    assert_false(html_safe_relpath("javascript:alert(1)"));
    assert_false(html_safe_relpath("a b"));
    assert_false(html_safe_relpath(""));
    assert_true(html_safe_relpath("a/..b/c"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_self_contained, setup_hostile, teardown),
        cmocka_unit_test_setup_teardown(test_matrix, setup_hostile, teardown),
        cmocka_unit_test_setup_teardown(test_inert, setup_hostile, teardown),
        cmocka_unit_test_setup_teardown(test_evidence, setup_hostile, teardown),
        cmocka_unit_test_setup_teardown(test_print_and_access, setup_hostile, teardown),
        cmocka_unit_test_setup_teardown(test_self_contained, setup_selftest, teardown),
        cmocka_unit_test_setup_teardown(test_matrix, setup_selftest, teardown),
        cmocka_unit_test_setup_teardown(test_print_and_access, setup_selftest, teardown),
        cmocka_unit_test(test_checks_fail),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_relpath),
    };
    return cmocka_run_group_tests_name("report_html", tests, NULL, NULL);
}
