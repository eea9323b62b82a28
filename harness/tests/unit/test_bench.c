/*
 * test_bench.c: bench and dossier loading: the reference example loads, and
 * every malformed file under fixtures/bad/ is refused with exactly the
 * expected file:line:column diagnostics, all of them at once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/bench.h"
#include "core/catalogue.h"

#define BAD ASSAY_SOURCE_DIR "/fixtures/bad/"

struct expect {
    const char *file_suffix; /* the file the diagnostic must name */
    int line, column;
    const char *contains; /* a fragment of the message */
};

static struct catalogue cat;

static int setup(void **state)
{
    (void)state;
    struct diag_list d;
    diag_init(&d);
    int rc = catalogue_load(&cat, ASSAY_SOURCE_DIR "/profiles/obligations.yaml", &d);
    diag_print(&d, stderr);
    diag_release(&d);
    return rc;
}

static int teardown(void **state)
{
    (void)state;
    catalogue_release(&cat);
    return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

/* Loads `file` and requires exactly the expected diagnostics, in order. */
static void expect_diags(const char *file, const struct expect *want, size_t n)
{
    struct bench b;
    struct diag_list d;
    diag_init(&d);
    int rc = bench_load(&b, file, catalogue_known, &cat, &d);
    if (diag_count(&d) != n) {
        diag_print(&d, stderr);
        fail_msg("%s: %zu diagnostics, expected %zu", file, diag_count(&d), n);
    }
    assert_int_not_equal(rc, 0);
    for (size_t i = 0; i < n; i++) {
        const struct diag *g = &d.items[i];
        if (!ends_with(g->file, want[i].file_suffix) || g->line != want[i].line ||
            g->column != want[i].column || !strstr(g->msg, want[i].contains)) {
            diag_print(&d, stderr);
            fail_msg("%s: diagnostic %zu is %s:%d:%d '%s', expected %s:%d:%d '...%s...'", file, i,
                     g->file, g->line, g->column, g->msg, want[i].file_suffix, want[i].line,
                     want[i].column, want[i].contains);
        }
    }
    diag_release(&d);
    bench_release(&b);
}

#define EXPECT(name, ...)                                                                          \
    static void test_##name(void **state)                                                          \
    {                                                                                              \
        (void)state;                                                                               \
        static const struct expect want[] = {__VA_ARGS__};                                         \
        expect_diags(BAD #name ".yaml", want, sizeof(want) / sizeof(want[0]));                     \
    }

/* clang-format off */
EXPECT(unknown_key, {"unknown_key.yaml", 14, 9, "unknown key 'prot'"})
EXPECT(wrong_type, {"wrong_type.yaml", 12, 29, "port: expected a port number"})
EXPECT(missing_required, {"missing_required.yaml", 6, 5, "missing required key 'address'"})
EXPECT(duplicate_id, {"duplicate_id.yaml", 13, 9, "duplicate device id 'dev-1' (first at line 6)"})
EXPECT(bad_address, {"bad_address.yaml", 9, 14, "expected an IPv4 or IPv6 address"})
EXPECT(port_range, {"port_range.yaml", 12, 35, "got '70000'"})
EXPECT(syntax, {"syntax.yaml", 5, 1, "YAML syntax"})
EXPECT(alias, {"alias.yaml", 6, 5, "devices[1]: anchors and aliases are not allowed"})
EXPECT(two_errors_state_key,
       {"two_errors_state_key.yaml", 5, 1, "unknown key 'opertor'"},
       {"two_errors_state_key.yaml", 11, 12, "'intialised' is not one of"})
EXPECT(two_errors_dupkey_bool,
       {"two_errors_dupkey_bool.yaml", 9, 5, "duplicate key 'serial'"},
       {"two_errors_dupkey_bool.yaml", 13, 47, "tls: expected true or false, got 'yes'"})
EXPECT(two_errors_model_mac,
       {"two_errors_model_mac.yaml", 9, 10, "expected a MAC address"},
       {"two_errors_model_mac.yaml", 7, 12, "no dossier for model 'ts-200'"})
EXPECT(dossier_errors,
       {"dossiers/bad-dossier.yaml", 10, 3, "unknown key 'disclosed_informaton'"},
       {"dossiers/bad-dossier.yaml", 6, 11, "ics.PSTI-1: an ICS entry cannot change a PSTI"})
EXPECT(dossier_date, {"dossiers/bad-date.yaml", 5, 23, "got '2031-02-30'"})
/* clang-format on */

static void test_example_loads(void **state)
{
    (void)state;
    struct bench b;
    struct diag_list d;
    diag_init(&d);
    int rc =
        bench_load(&b, ASSAY_SOURCE_DIR "/fixtures/bench.example.yaml", catalogue_known, &cat, &d);
    diag_print(&d, stderr);
    assert_int_equal(rc, 0);
    assert_int_equal(b.ndevices, 2);
    assert_string_equal(b.devices[0].id, "thermostat-a");
    assert_string_equal(json_string_value(json_object_get(b.devices[0].json, "firmware")), "4.2.0");
    assert_int_equal(b.defaults.timeout_ms, 3000);
    assert_int_equal(b.devices[0].allow, CATEGORY_SAFE);
    assert_int_equal(b.devices[1].allow, CATEGORY_SAFE | CATEGORY_INTRUSIVE);
    assert_non_null(b.devices[0].dossier);
    assert_string_equal(b.devices[1].dossier->model, "sp-20");
    /* Scope: both devices, the mqtt-client's broker and the allowed host, nothing else. */
    assert_true(scope_allows(&b.scope, "127.0.0.2"));
    assert_true(scope_allows(&b.scope, "127.0.0.3"));
    assert_true(scope_allows(&b.scope, "127.0.0.1"));
    assert_false(scope_allows(&b.scope, "127.0.0.4"));
    assert_false(scope_allows(&b.scope, "localhost"));
    diag_release(&d);
    bench_release(&b);
}

static void test_base_loads(void **state)
{
    (void)state;
    struct bench b;
    struct diag_list d;
    diag_init(&d);
    int rc = bench_load(&b, BAD "ok_base.yaml", catalogue_known, &cat, &d);
    diag_print(&d, stderr);
    assert_int_equal(rc, 0);
    assert_int_equal(diag_count(&d), 0);
    diag_release(&d);
    bench_release(&b);
}

/* Loads one dossier, expecting `model`; returns the number of diagnostics. */
static size_t dossier_problems(const char *path, const char *model)
{
    struct dossier d;
    struct diag_list diags;
    diag_init(&diags);
    dossier_load(&d, path, model, catalogue_known, &cat, &diags);
    size_t n = diag_count(&diags);
    if (n)
        diag_print(&diags, stderr);
    diag_release(&diags);
    dossier_release(&d);
    return n;
}

/* Every simulated model's dossier is valid; every broken one is refused, naming why. */
static void test_fixture_dossiers(void **state)
{
    (void)state;
    char path[4200], model[256];
    size_t good = 0, broken = 0;
    DIR *d = opendir(ASSAY_SOURCE_DIR "/fixtures/dossiers");
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".yaml"))
            continue;
        snprintf(path, sizeof(path), "%s/fixtures/dossiers/%s", ASSAY_SOURCE_DIR, e->d_name);
        snprintf(model, sizeof(model), "%.*s", (int)(n - 5), e->d_name);
        if (dossier_problems(path, model))
            fail_msg("%s should load without problems", path);
        good++;
    }
    closedir(d);
    assert_true(good >= 10);
    d = opendir(ASSAY_SOURCE_DIR "/fixtures/dossiers/broken");
    assert_non_null(d);
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/fixtures/dossiers/broken/%s", ASSAY_SOURCE_DIR, e->d_name);
        /* Not a load error: a finding of TS 103 701 test case 4-1-1 (profiles). */
        bool finding = strstr(e->d_name, "without-justification") != NULL;
        /* Valid alone; wrong for the bench that names it for ls-500. */
        const char *expect = strstr(e->d_name, "wrong-model") ? "ls-500" : NULL;
        size_t n = dossier_problems(path, expect);
        if (finding ? n != 0 : n == 0)
            fail_msg("%s: %zu problems", path, n);
        broken++;
    }
    closedir(d);
    assert_true(broken >= 10);
}

static void test_missing_file(void **state)
{
    (void)state;
    struct bench b;
    struct diag_list d;
    diag_init(&d);
    assert_int_not_equal(bench_load(&b, BAD "no_such_bench.yaml", NULL, NULL, &d), 0);
    assert_int_equal(diag_count(&d), 1);
    assert_non_null(strstr(d.items[0].msg, "cannot open"));
    diag_release(&d);
    bench_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_loads),
        cmocka_unit_test(test_base_loads),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_fixture_dossiers),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_wrong_type),
        cmocka_unit_test(test_missing_required),
        cmocka_unit_test(test_duplicate_id),
        cmocka_unit_test(test_bad_address),
        cmocka_unit_test(test_port_range),
        cmocka_unit_test(test_syntax),
        cmocka_unit_test(test_alias),
        cmocka_unit_test(test_two_errors_state_key),
        cmocka_unit_test(test_two_errors_dupkey_bool),
        cmocka_unit_test(test_two_errors_model_mac),
        cmocka_unit_test(test_dossier_errors),
        cmocka_unit_test(test_dossier_date),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
