/* test_lua_profile.c: loading profiles, the test-case contract, parameters and applicability. */
#include "test_lua_util.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lua/profile.h"

static const char GOOD_TC[] = "testcase {\n"
                              "  id = 'x.good', version = 1, title = 'good',\n"
                              "  obligations = { 'PSTI-1' }, category = 'safe',\n"
                              "  parameters = { attempts = 5, ratio = 0.5, name = 'a' },\n"
                              "  probe = function() return {} end,\n"
                              "  judge = function() return PASS('ok') end,\n"
                              "}\n";

static void write_manifest(const char *root, const char *extra)
{
    char text[1024];
    snprintf(text, sizeof(text),
             "profile {\n  name = 'p', version = '2', obligations = { 'PSTI-1' },\n"
             "  include = { 'testcases/x/*.lua' },\n%s}\n",
             extra);
    assert_int_equal(tree_write(root, "p/profile.lua", text), 0);
}

/* The profile folder inside a test tree. */
static const char *pdir(const char *root)
{
    static char buf[300];
    snprintf(buf, sizeof(buf), "%s/p", root);
    return buf;
}

static bool has_diag(const struct profile_diags *d, const char *needle)
{
    for (size_t i = 0; i < d->n; i++)
        if (strstr(d->msgs[i], needle))
            return true;
    return false;
}

static void dump_diags(const struct profile_diags *d)
{
    for (size_t i = 0; i < d->n; i++)
        print_message("  diag: %s\n", d->msgs[i]);
}

static void test_selftest_loads(void **state)
{
    (void)state;
    struct profile *p = NULL;
    struct profile_diags d;
    profile_diags_init(&d);
    struct assay_error err = {0};
    int rc = profile_load("selftest", REAL_PROFILES, known_obligation, NULL, NULL, &p, &d, &err);
    if (rc)
        dump_diags(&d);
    assert_int_equal(rc, 0);
    assert_string_equal(p->name, "selftest");
    assert_int_equal(p->n_tcs, 6);
    const struct testcase *tc = profile_find(p, "selftest.echo");
    assert_non_null(tc);
    assert_int_equal(json_integer_value(json_object_get(tc->params, "n")), 3); /* manifest */
    assert_string_equal(json_string_value(json_object_get(tc->params, "label")), "echo");
    assert_int_equal(profile_find(p, "selftest.unique")->scope, TC_SCOPE_MODEL);
    assert_int_equal(profile_find(p, "selftest.mqtt-broker-only")->category, TC_CAT_INTRUSIVE);
    assert_string_equal(p->files[tc->file].path, "testcases/selftest/echo.lua");
    assert_int_equal(tc->line, 5);
    assert_int_equal(strlen(p->files[tc->file].sha256), 64);
    assert_int_equal(strlen(p->manifest_sha256), 64);
    profile_free(p);
    profile_diags_release(&d);
    /* By path too, and a missing name is an error naming the search path. */
    assert_int_equal(
        profile_load(REAL_PROFILES "/selftest", NULL, NULL, NULL, NULL, &p, NULL, &err), 0);
    profile_free(p);
    assert_int_equal(profile_load("nosuch", "/nonexistent", NULL, NULL, NULL, &p, NULL, &err),
                     ASSAY_EINVAL);
    assert_non_null(strstr(err.msg, "not found in /nonexistent"));
}

static void test_every_violation_named_with_file_and_line(void **state)
{
    (void)state;
    char root[256];
    assert_int_equal(tree_new(root, sizeof(root)), 0);
    write_manifest(root, "");
    tree_write(root, "testcases/x/a.lua", GOOD_TC);
    tree_write(root, "testcases/x/b.lua",
               "-- line 1\n"
               "testcase { id = 'x.bad', version = 0, title = '', obligations = { 'NOPE-1' },\n"
               "  category = 'reckless', scope = 'fleet', probe = function() end,\n"
               "  applies = { interface = 'telnet', state = 'asleep', ics = { 'PSTI-2' } },\n"
               "  colour = 'red' }\n"
               "\n"
               "testcase { id = 'x.good', version = 1, title = 'dup', obligations = { 'PSTI-1' },\n"
               "  category = 'safe', probe = function() return {} end,\n"
               "  judge = function() return PASS('x') end }\n");
    struct profile *p = NULL;
    struct profile_diags d;
    profile_diags_init(&d);
    struct assay_error err = {0};
    int rc = profile_load(pdir(root), NULL, known_obligation, NULL, NULL, &p, &d, &err);
    dump_diags(&d);
    assert_int_equal(rc, ASSAY_EPROFILE);
    assert_null(p);
    const char *want[] = {
        "testcases/x/b.lua:2: testcase 'x.bad': version must be an integer >= 1",
        "testcases/x/b.lua:2: testcase 'x.bad': title must be a non-empty string",
        "testcases/x/b.lua:2: testcase 'x.bad': obligations: 'NOPE-1' is not in the obligation",
        "testcases/x/b.lua:2: testcase 'x.bad': category is unknown: 'reckless'",
        "testcases/x/b.lua:2: testcase 'x.bad': scope must be",
        "testcases/x/b.lua:2: testcase 'x.bad': judge is missing",
        "testcases/x/b.lua:2: testcase 'x.bad': testcase: unknown field 'colour'",
        "testcases/x/b.lua:2: testcase 'x.bad': applies.interface: unknown interface kind 'telnet'",
        "testcases/x/b.lua:2: testcase 'x.bad': applies.state: unknown device state 'asleep'",
        "testcases/x/b.lua:2: testcase 'x.bad': applies.ics: an ICS entry cannot make PSTI-2",
        "testcases/x/b.lua:7: testcase 'x.good': duplicate id (first at testcases/x/a.lua:1)",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        if (!has_diag(&d, want[i]))
            fail_msg("missing diagnostic: %s", want[i]);
    assert_non_null(strstr(err.msg, "more)"));
    profile_diags_release(&d);
    tree_free(root);
}

static void test_load_errors_and_manifest_errors(void **state)
{
    (void)state;
    char root[256];
    assert_int_equal(tree_new(root, sizeof(root)), 0);
    write_manifest(root, "  include2 = 1,\n  parameters = { ['x.good'] = { attempts = 'many', "
                         "nosuch = 1 }, ['x.none'] = {} },\n");
    tree_write(root, "testcases/x/a.lua", GOOD_TC);
    tree_write(root, "testcases/x/loop.lua", "local n = 0\nwhile true do n = n + 1 end\n");
    tree_write(root, "testcases/x/syntax.lua", "testcase {\n  id = \n");
    tree_write(root, "testcases/x/escape.lua", "\n\nio.write('x')\n");
    struct profile *p = NULL;
    struct profile_diags d;
    profile_diags_init(&d);
    struct assay_error err = {0};
    struct sandbox_limits lim = {.instructions = 1000000, .deadline_ms = 2000};
    assert_int_equal(profile_load(pdir(root), NULL, known_obligation, NULL, &lim, &p, &d, &err),
                     ASSAY_EPROFILE);
    dump_diags(&d);
    const char *want[] = {
        "p/profile.lua:1: profile: unknown field 'include2'",
        "p/profile.lua:1: profile: parameters['x.good']: test case 'x.good' has no parameter",
        "p/profile.lua:1: profile: parameters['x.good']: test case 'x.good': parameter 'attempts' "
        "must have the type of its default",
        "p/profile.lua:1: profile: parameters: no test case 'x.none'",
        "testcases/x/loop.lua:2: instruction budget exceeded",
        "testcases/x/syntax.lua:3:",
        "testcases/x/escape.lua:3: attempt to index a nil value (global 'io')",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        if (!has_diag(&d, want[i]))
            fail_msg("missing diagnostic: %s", want[i]);
    profile_diags_release(&d);
    tree_free(root);
}

static void test_parameters(void **state)
{
    (void)state;
    char root[256];
    assert_int_equal(tree_new(root, sizeof(root)), 0);
    write_manifest(root, "  parameters = { ['x.good'] = { attempts = 9 } },\n");
    tree_write(root, "testcases/x/a.lua", GOOD_TC);
    struct profile *p = NULL;
    struct assay_error err = {0};
    assert_int_equal(profile_load(pdir(root), NULL, known_obligation, NULL, NULL, &p, NULL, &err),
                     0);
    const struct testcase *tc = profile_find(p, "x.good");
    json_t *out = NULL;
    json_t *ov = json_pack("{s:i}", "ratio", 2);
    assert_int_equal(testcase_params(tc, ov, &out, &err), 0);
    assert_int_equal(json_integer_value(json_object_get(out, "attempts")), 9);
    assert_true(json_is_real(json_object_get(out, "ratio")));
    assert_string_equal(json_string_value(json_object_get(out, "name")), "a");
    json_decref(out);
    json_decref(ov);
    ov = json_pack("{s:s}", "attempts", "lots");
    assert_int_equal(testcase_params(tc, ov, &out, &err), ASSAY_EINVAL);
    assert_non_null(strstr(err.msg, "parameter 'attempts' must have the type"));
    json_decref(ov);
    ov = json_pack("{s:i}", "colour", 1);
    assert_int_equal(testcase_params(tc, ov, &out, &err), ASSAY_EINVAL);
    assert_non_null(strstr(err.msg, "has no parameter 'colour'"));
    json_decref(ov);
    profile_free(p);
    tree_free(root);
}

static void test_applicability(void **state)
{
    (void)state;
    struct profile *p = NULL;
    struct assay_error err = {0};
    assert_int_equal(profile_load("selftest", REAL_PROFILES, NULL, NULL, NULL, &p, NULL, &err), 0);
    const struct testcase *tc = profile_find(p, "selftest.mqtt-broker-only");
    json_t *coap_only =
        json_pack("{s:s, s:[{s:s}]}", "state", "initialised", "interfaces", "kind", "coap");
    json_t *broker_fd = json_pack("{s:s, s:[{s:s}]}", "state", "factory-default", "interfaces",
                                  "kind", "mqtt-broker");
    json_t *broker =
        json_pack("{s:s, s:[{s:s}]}", "state", "initialised", "interfaces", "kind", "mqtt-broker");
    unsigned safe = TC_CAT_SAFE, both = TC_CAT_SAFE | TC_CAT_INTRUSIVE;
    struct applicability a;
    testcase_applies(tc, coap_only, NULL, both, &a);
    assert_int_equal(a.verdict, VERDICT_NOT_APPLICABLE);
    assert_string_equal(a.reason, "no mqtt-broker interface");
    testcase_applies(tc, broker_fd, NULL, both, &a);
    assert_int_equal(a.verdict, VERDICT_INCONCLUSIVE);
    assert_non_null(strstr(a.reason, "factory-default"));
    testcase_applies(tc, broker, NULL, safe, &a);
    assert_int_equal(a.verdict, VERDICT_INCONCLUSIVE);
    assert_string_equal(a.reason, "not authorised: intrusive");
    testcase_applies(tc, broker, NULL, both, &a);
    assert_int_equal(a.verdict, VERDICT_NONE);
    json_decref(coap_only);
    json_decref(broker_fd);
    json_decref(broker);
    profile_free(p);
}

static void test_ics_exclusion(void **state)
{
    (void)state;
    char root[256];
    assert_int_equal(tree_new(root, sizeof(root)), 0);
    write_manifest(root, "");
    tree_write(root, "testcases/x/a.lua",
               "testcase { id = 'x.bf', version = 1, title = 'brute force',\n"
               "  obligations = { 'EN-5.1-5' }, category = 'safe',\n"
               "  applies = { ics = 'EN-5.1-5' },\n"
               "  probe = function() return {} end, judge = function() return PASS('x') end }\n");
    struct profile *p = NULL;
    struct assay_error err = {0};
    assert_int_equal(profile_load(pdir(root), NULL, known_obligation, NULL, NULL, &p, NULL, &err),
                     0);
    const struct testcase *tc = profile_find(p, "x.bf");
    json_t *dev = json_pack("{s:s, s:[]}", "state", "initialised", "interfaces");
    json_t *justified = json_pack("{s:{s:{s:s, s:s}}}", "ics", "EN-5.1-5", "status",
                                  "not-applicable", "justification", "constrained device");
    json_t *bare = json_pack("{s:{s:{s:s}}}", "ics", "EN-5.1-5", "status", "not-applicable");
    struct applicability a;
    testcase_applies(tc, dev, justified, TC_CAT_SAFE, &a);
    assert_int_equal(a.verdict, VERDICT_NOT_APPLICABLE);
    assert_string_equal(a.reason, "ICS: EN-5.1-5 not applicable: constrained device");
    testcase_applies(tc, dev, bare, TC_CAT_SAFE, &a);
    assert_int_equal(a.verdict, VERDICT_INCONCLUSIVE);
    testcase_applies(tc, dev, NULL, TC_CAT_SAFE, &a);
    assert_int_equal(a.verdict, VERDICT_NONE);
    json_decref(dev);
    json_decref(justified);
    json_decref(bare);
    profile_free(p);
    tree_free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_selftest_loads),
        cmocka_unit_test(test_every_violation_named_with_file_and_line),
        cmocka_unit_test(test_load_errors_and_manifest_errors),
        cmocka_unit_test(test_parameters),
        cmocka_unit_test(test_applicability),
        cmocka_unit_test(test_ics_exclusion),
    };
    return cmocka_run_group_tests_name("lua_profile", tests, NULL, NULL);
}
