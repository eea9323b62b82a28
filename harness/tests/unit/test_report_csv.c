/*
 * test_report_csv.c: verdicts.csv: RFC 4180 quoting, formula injection
 * neutralised (= + - @ get a leading apostrophe), control characters shown
 * as escapes; and the file for the hostile fixture run read back with an
 * RFC 4180 reader: a header, one row per device, obligation and test case,
 * 16 fields in every row, the values the record holds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/catalogue.h"
#include "core/record.h"
#include "report/csv.h"

#define FIXTURE ASSAY_SOURCE_DIR "/harness/tests/report/hostile-run/run.json"
#define NCOLS 16
#define MAXROWS 64

static char *field(const char *s, size_t len)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    assert_int_equal(csv_field(f, s, len), 0);
    fclose(f);
    return buf;
}

static void test_field(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"plain", "plain"},
        {"a,b", "\"a,b\""},
        {"say \"hi\"", "\"say \"\"hi\"\"\""},
        {"=1+1", "'=1+1"},
        {"+44 20", "'+44 20"},
        {"-2", "'-2"},
        {"@SUM(A1)", "'@SUM(A1)"},
        {"=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""},
        {"a\r\nb", "a\\x0d\\x0ab"},
        {"\t=1", "\\x09=1"},
        {"\xe2\x80\xae"
         "txt",
         "<U+202E>txt"},
        {"", ""},
        {"x=1", "x=1"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = field(cases[i].in, strlen(cases[i].in));
        assert_string_equal(got, cases[i].want);
        free(got);
    }
    char *nul = field("a\0=b", 4);
    assert_string_equal(nul, "a\\x00=b");
    free(nul);
}

/* A small RFC 4180 reader: rows of fields, CRLF line ends, "" inside quotes. */
static size_t parse(const char *s, char *rows[MAXROWS][NCOLS + 1], size_t *ncols)
{
    size_t r = 0, c = 0;
    char buf[8192];
    size_t b = 0;
    bool quoted = false;
    for (const char *p = s; *p && r < MAXROWS; p++) {
        if (quoted) {
            if (*p == '"' && p[1] == '"') {
                buf[b++] = '"';
                p++;
            } else if (*p == '"') {
                quoted = false;
            } else {
                buf[b++] = *p;
            }
        } else if (*p == '"' && b == 0) {
            quoted = true;
        } else if (*p == ',' || (*p == '\r' && p[1] == '\n')) {
            buf[b] = 0;
            if (c <= NCOLS)
                rows[r][c] = strdup(buf);
            c++;
            b = 0;
            if (*p == '\r') {
                ncols[r++] = c;
                c = 0;
                p++;
            }
        } else {
            assert_true(*p != '\n' && *p != '\r' && *p != '"'); /* bare CR, LF or quote */
            buf[b++] = *p;
        }
        assert_true(b < sizeof(buf));
    }
    assert_int_equal(c, 0); /* the last row ends with CRLF */
    return r;
}

static void test_file(void **state)
{
    (void)state;
    struct assay_error err = {0};
    struct catalogue cat = {0};
    struct diag_list diags;
    diag_init(&diags);
    assert_int_equal(catalogue_load(&cat, ASSAY_SOURCE_DIR "/profiles/obligations.yaml", &diags),
                     0);
    diag_release(&diags);
    json_t *rec = record_read(FIXTURE, &err);
    assert_non_null(rec);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_int_equal(report_csv(rec, &cat, out, &err), 0);
    fclose(out);

    static char *rows[MAXROWS][NCOLS + 1];
    size_t ncols[MAXROWS];
    size_t n = parse(text, rows, ncols);
    /* Rows expected: per device and obligation, one per test case, or one. */
    size_t want = 1, i, k;
    json_t *d, *cell;
    json_array_foreach(json_object_get(rec, "devices"), i, d)
        json_array_foreach(json_object_get(d, "obligations"), k, cell)
    {
        size_t t = json_array_size(json_object_get(cell, "testcases"));
        want += t ? t : 1;
    }
    assert_int_equal(n, want);
    for (size_t r = 0; r < n; r++)
        assert_int_equal(ncols[r], NCOLS);
    assert_string_equal(rows[0][1], "device");
    assert_string_equal(rows[0][15], "observations");
    /* Row 1: cam-1, PSTI-1, fixture.banner FAIL, the serial neutralised. */
    assert_string_equal(rows[1][1], "cam-1");
    assert_string_equal(rows[1][3], "'=HYPERLINK(\"http://evil.example/\",\"x\")");
    assert_string_equal(rows[1][4], "PSTI-1");
    assert_string_equal(rows[1][5], "No universal default passwords");
    assert_string_equal(rows[1][6], "FAIL");
    assert_string_equal(rows[1][8], "fixture.banner");
    assert_string_equal(rows[1][10], "FAIL");
    assert_null(strchr(rows[1][14], '\x1b'));
    assert_non_null(strstr(rows[1][14], "\\x1b]8;;javascript:alert(1)"));
    /* Row 3: the assessor item without a test case. */
    assert_string_equal(rows[3][4], "EN-5.1-1");
    assert_string_equal(rows[3][7], "assessor");
    assert_string_equal(rows[3][8], "");
    assert_string_equal(rows[3][14], "no test case evidences this obligation");
    /* No field a spreadsheet would evaluate. */
    for (size_t r = 0; r < n; r++)
        for (size_t c = 0; c < NCOLS; c++) {
            assert_true(strchr("=+-@", rows[r][c][0]) == NULL || rows[r][c][0] == 0);
            free(rows[r][c]);
        }
    free(text);
    json_decref(rec);
    catalogue_release(&cat);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_field),
        cmocka_unit_test(test_file),
    };
    return cmocka_run_group_tests_name("report_csv", tests, NULL, NULL);
}
