/*
 * test_report_dom.c: report.html as a browser builds it. The hostile fixture
 * run is rendered, loaded from disk in headless Chromium (no sandbox, no
 * background networking, a fresh profile) and the DOM it dumps is checked
 * like the file itself (html_checks.h): one matrix cell per device and
 * obligation with the right verdict, nothing that loads or runs, the CSP
 * kept, and the device strings with script tags, ANSI escapes and bidi
 * controls inert (no element, no handler, no changed title). Skipped, with a
 * message, only when chromium is not installed.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/catalogue.h"
#include "core/record.h"
#include "html_checks.h"
#include "report/html.h"

#define FIXTURE ASSAY_SOURCE_DIR "/harness/tests/report/hostile-run"
#define CHROMIUM_DEADLINE_S 90

static const char *find_chromium(void)
{
    static const char *const paths[] = {"/usr/bin/chromium", "/usr/bin/chromium-browser"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        if (access(paths[i], X_OK) == 0)
            return paths[i];
    return NULL;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* Renders the fixture's report.html into dir. */
static void render(const char *dir, json_t **rec)
{
    struct assay_error err = {0};
    struct catalogue cat = {0};
    struct diag_list diags;
    diag_init(&diags);
    assert_int_equal(catalogue_load(&cat, ASSAY_SOURCE_DIR "/profiles/obligations.yaml", &diags),
                     0);
    diag_release(&diags);
    *rec = record_read(FIXTURE "/run.json", &err);
    assert_non_null(*rec);
    char path[512];
    snprintf(path, sizeof(path), "%s/report.html", dir);
    FILE *out = fopen(path, "w");
    assert_non_null(out);
    assert_int_equal(report_html(*rec, FIXTURE, &cat, out, &err), 0);
    assert_int_equal(fclose(out), 0);
    catalogue_release(&cat);
}

/* Runs chromium --dump-dom on dir/report.html; returns the DOM text (caller frees). */
static char *dump_dom(const char *chromium, const char *dir, size_t *len)
{
    char cmd[2048];
    snprintf(cmd, sizeof(cmd),
             "timeout -k 5 %d %s --headless --no-sandbox --disable-gpu "
             "--disable-background-networking --disable-component-update --disable-sync "
             "--no-first-run --user-data-dir=%s/profile --dump-dom file://%s/report.html "
             "2>%s/chromium.log",
             CHROMIUM_DEADLINE_S, chromium, dir, dir, dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char *buf = NULL;
    size_t cap = 0, n = 0, got;
    char chunk[8192];
    while ((got = fread(chunk, 1, sizeof(chunk), p)) > 0) {
        if (n + got + 1 > cap) {
            cap = (n + got + 1) * 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        memcpy(buf + n, chunk, got);
        n += got;
    }
    int status = pclose(p);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "chromium exited with status %d; see %s/chromium.log\n", status, dir);
        fail();
    }
    assert_true(n > 0);
    buf[n] = 0;
    *len = n;
    return buf;
}

static void test_dom(void **state)
{
    (void)state;
    const char *chromium = find_chromium();
    if (!chromium) {
        fprintf(stderr, "chromium is not installed: the DOM test is skipped "
                        "(apt-get install chromium)\n");
        skip();
    }
    char dir[] = "/tmp/assay-dom-XXXXXX";
    assert_non_null(mkdtemp(dir));
    json_t *rec = NULL;
    render(dir, &rec);
    size_t len = 0;
    char *dom = dump_dom(chromium, dir, &len);
    htmlDocPtr doc = html_checks_parse(dom, len);
    assert_non_null(doc);
    /* What the browser built, not just what was written. */
    assert_non_null(strstr(dom, "<td class=\"v v-FAIL\""));
    assert_int_equal(html_checks_matrix(doc, rec), 0);
    assert_int_equal(html_checks_no_external(doc), 0);
    assert_int_equal(html_checks_csp(doc), 0);
    assert_int_equal(html_checks_inert(doc, dom, len), 0);
    assert_null(strstr(dom, "data-pwned"));
    assert_non_null(strstr(dom, "<title>assay report 20260101T120000Z-report-fixture-abc123"));
    xmlFreeDoc(doc);
    free(dom);
    json_decref(rec);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The same checks catch a page whose device text was not escaped: the
 * script runs in Chromium (the title changes) and the img is in the DOM. */
static void test_dom_detects_injection(void **state)
{
    (void)state;
    const char *chromium = find_chromium();
    if (!chromium) {
        fprintf(stderr, "chromium is not installed: the DOM test is skipped "
                        "(apt-get install chromium)\n");
        skip();
    }
    char dir[] = "/tmp/assay-dom-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[512];
    snprintf(path, sizeof(path), "%s/report.html", dir);
    FILE *out = fopen(path, "w");
    assert_non_null(out);
    fputs("<!DOCTYPE html><html><head><title>t</title></head><body><p>fw "
          "<script>document.title='pwned'</script><img src=x onerror=\"void 0\"></p>"
          "</body></html>",
          out);
    assert_int_equal(fclose(out), 0);
    size_t len = 0;
    char *dom = dump_dom(chromium, dir, &len);
    htmlDocPtr doc = html_checks_parse(dom, len);
    assert_non_null(doc);
    assert_int_equal(html_checks_no_external(doc), -1);
    assert_int_equal(html_checks_csp(doc), -1);
    assert_int_equal(html_checks_inert(doc, dom, len), -1);
    assert_non_null(strstr(dom, "<title>pwned</title>"));
    xmlFreeDoc(doc);
    free(dom);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_dom),
                                       cmocka_unit_test(test_dom_detects_injection)};
    return cmocka_run_group_tests_name("report_dom", tests, NULL, NULL);
}
