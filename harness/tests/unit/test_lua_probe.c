/* test_lua_probe.c: probes and judges end to end on the selftest profile, and their failures. */
#include "test_lua_util.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/clock.h"
#include "lua/judge.h"
#include "lua/probe.h"

static json_t *device(const char *id, const char *serial)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:[{s:s, s:i}]}", "id", id, "model", "ts-100",
                     "serial", serial, "mac", "02:00:5e:10:00:01", "address", "127.0.0.2", "state",
                     "initialised", "interfaces", "kind", "mqtt-broker", "port", 8883);
}

/* Stores and reloads observations as the journal would. */
static json_t *stored(json_t *obs)
{
    char *text = json_dumps(obs, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(obs);
    json_error_t je;
    json_t *back = json_loads(text, 0, &je);
    free(text);
    assert_non_null(back);
    return back;
}

static struct profile *load(const char *name_or_path)
{
    struct profile *p = NULL;
    struct profile_diags d;
    profile_diags_init(&d);
    struct assay_error err = {0};
    if (profile_load(name_or_path, REAL_PROFILES, known_obligation, NULL, NULL, &p, &d, &err))
        fail_msg("load %s: %s", name_or_path, err.msg);
    profile_diags_release(&d);
    return p;
}

static void test_selftest_probe_and_judge(void **state)
{
    (void)state;
    struct profile *p = load("selftest");
    struct probe_state *ps = NULL;
    struct assay_error err = {0};
    assert_int_equal(probe_state_new(p, NULL, &ps, &err), 0);
    json_t *dev = device("thermostat-a", "TS100-000123");
    json_t *dossier = json_pack("{s:s}", "model", "ts-100");
    const struct testcase *tc = profile_find(p, "selftest.echo");
    json_t *obs = NULL;
    assert_int_equal(probe_run(ps, tc, dev, NULL, NULL, NULL, NULL, &obs, &err), 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(obs, "bytes"), "$hex")),
                        "00ff6f6b");
    assert_int_equal(json_integer_value(json_object_get(obs, "defaults")), 60);
    assert_int_equal(json_integer_value(json_object_get(obs, "n")), 3);
    obs = stored(obs);
    struct judge_result r;
    assert_int_equal(judge_run(p, tc, obs, dossier, NULL, NULL, &r, &err), 0);
    assert_int_equal(r.verdict, VERDICT_PASS);
    assert_string_equal(r.rationale, "thermostat-a: n=3, 60 default credentials, model ts-100");
    json_decref(obs);

    tc = profile_find(p, "selftest.mqtt-broker-only");
    assert_int_equal(probe_run(ps, tc, dev, NULL, NULL, NULL, NULL, &obs, &err), 0);
    assert_int_equal(judge_run(p, tc, obs, dossier, NULL, NULL, &r, &err), 0);
    assert_int_equal(r.verdict, VERDICT_INCONCLUSIVE);
    assert_int_equal(r.resolve, RESOLVE_ASSESSOR);
    assert_string_equal(r.rationale, "broker at 127.0.0.2:8883: a person decides");
    json_decref(obs);

    tc = profile_find(p, "selftest.derived");
    assert_int_equal(probe_run(ps, tc, dev, NULL, NULL, NULL, NULL, &obs, &err), 0);
    char *text = json_dumps(obs, 0);
    assert_non_null(strstr(text, "\"TS100-000123\""));
    assert_non_null(strstr(text, "\"000123\""));
    assert_non_null(strstr(text, "\"02:00:5e:10:00:01\""));
    assert_non_null(strstr(text, "\"02005E100001\""));
    assert_non_null(strstr(text, "\"5e100001\""));
    free(text);
    json_decref(obs);
    json_decref(dev);
    json_decref(dossier);
    probe_state_free(ps);
    profile_free(p);
}

static void judge_model(const struct profile *p, const char *s1, const char *s2, enum verdict want)
{
    const struct testcase *tc = profile_find(p, "selftest.unique");
    json_t *units = json_array();
    const char *serials[] = {s1, s2};
    for (int i = 0; i < 2 && serials[i]; i++) {
        char id[16];
        snprintf(id, sizeof(id), "unit-%d", i + 1);
        json_array_append_new(units, json_pack("{s:{s:s}, s:{s:s}}", "device", "id", id,
                                               "observations", "serial", serials[i]));
    }
    struct judge_result r;
    struct assay_error err = {0};
    assert_int_equal(judge_run(p, tc, units, NULL, NULL, NULL, &r, &err), 0);
    if (r.verdict != want)
        fail_msg("model judge gave %s (%s)", verdict_name(r.verdict), r.rationale);
    json_decref(units);
}

static void test_model_scope_judge(void **state)
{
    (void)state;
    struct profile *p = load("selftest");
    judge_model(p, "A1", "A2", VERDICT_PASS);
    judge_model(p, "A1", "A1", VERDICT_FAIL);
    judge_model(p, "A1", NULL, VERDICT_INCONCLUSIVE);
    /* A model judge fed one device's observations is refused. */
    json_t *obs = json_object();
    struct judge_result r;
    struct assay_error err = {0};
    assert_int_equal(
        judge_run(p, profile_find(p, "selftest.unique"), obs, NULL, NULL, NULL, &r, &err),
        ASSAY_EINVAL);
    assert_int_equal(r.verdict, VERDICT_ERROR);
    json_decref(obs);
    profile_free(p);
}

#define TC(id, probe, judge)                                                                       \
    "testcase { id = '" id "', version = 1, title = '" id "', obligations = { 'PSTI-1' },\n"       \
    "  category = 'safe', probe = function(dut, t) " probe " end,\n"                               \
    "  judge = function(obs, dossier) " judge " end }\n"

static const char BAD_PROBES[] = TC(
    "b.good", "stash = t return { ok = true, slept = t.sleep_ms(100000) }",
    "if stash ~= nil or t ~= nil then return FAIL('judge reached t') end "
    "return PASS('isolated')") TC("b.loop", "while true do end", "return PASS('x')")
    TC("b.pcall", "while true do pcall(function() while true do end end) end", "return PASS('x')")
        TC("b.wrap", "while true do pcall(coroutine.wrap(function() while true do end end)) end",
           "return PASS('x')")
            TC("b.memory", "local s = 'x' while true do s = s .. s end", "return PASS('x')")
                TC("b.error", "error('device table missing')", "return PASS('x')")
                    TC("b.escape", "return io.open('/etc/passwd')", "return PASS('x')")
                        TC("b.function", "return { f = function() end }", "return PASS('x')")
                            TC("b.string", "return 'ok'", "return PASS('x')");

static void test_bad_probes_are_errors_and_the_next_runs(void **state)
{
    (void)state;
    char root[256], dir[300];
    assert_int_equal(tree_new(root, sizeof(root)), 0);
    tree_write(root, "b/profile.lua",
               "profile { name = 'b', version = '1', obligations = { 'PSTI-1' },\n"
               "  include = { 'testcases/b/probes.lua' } }\n");
    tree_write(root, "testcases/b/probes.lua", BAD_PROBES);
    snprintf(dir, sizeof(dir), "%s/b", root);
    struct profile *p = load(dir);
    struct sandbox_limits lim = {
        .instructions = 5000000, .deadline_ms = 300, .memory_bytes = 8u << 20};
    struct probe_state *ps = NULL;
    struct assay_error err = {0};
    assert_int_equal(probe_state_new(p, &lim, &ps, &err), 0);
    json_t *dev = device("d", "S1");
    static const struct {
        const char *id, *msg;
    } cases[] = {
        {"b.loop", "testcases/b/probes.lua:5: instruction budget exceeded"},
        {"b.pcall", "testcases/b/probes.lua:8: instruction budget exceeded"},
        {"b.wrap", "testcases/b/probes.lua:11: instruction budget exceeded"},
        {"b.memory", "memory cap exceeded"},
        {"b.error", "testcases/b/probes.lua:17: device table missing"},
        {"b.escape", "attempt to index a nil value (global 'io')"},
        {"b.function", "observations.f: a function cannot be stored as JSON"},
        {"b.string", "b.string: probe must return a table of observations, not string"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *obs = NULL;
        memset(&err, 0, sizeof(err));
        assay_ms t0 = clock_now_ms();
        int rc =
            probe_run(ps, profile_find(p, cases[i].id), dev, NULL, NULL, NULL, NULL, &obs, &err);
        if (rc != ASSAY_EPROFILE || obs || !strstr(err.msg, cases[i].msg))
            fail_msg("%s: rc %d, message [%s], wanted [%s]", cases[i].id, rc, err.msg,
                     cases[i].msg);
        assert_true(clock_now_ms() - t0 < 2000);
        /* The next test case on the same state runs normally; its sleep stops at the deadline. */
        const struct testcase *good = profile_find(p, "b.good");
        t0 = clock_now_ms();
        assert_int_equal(probe_run(ps, good, dev, NULL, NULL, NULL, NULL, &obs, &err), 0);
        assay_ms took = clock_now_ms() - t0;
        assert_true(took >= 250 && took < 1000);
        assert_true(json_integer_value(json_object_get(obs, "slept")) <= 300);
        struct judge_result r;
        assert_int_equal(judge_run(p, good, obs, NULL, NULL, &lim, &r, &err), 0);
        assert_int_equal(r.verdict, VERDICT_PASS);
        json_decref(obs);
    }
    json_decref(dev);
    probe_state_free(ps);
    profile_free(p);
    tree_free(root);
}

#define JC(id, judge)                                                                              \
    "testcase { id = '" id "', version = 1, title = '" id "', obligations = { 'PSTI-1' },\n"       \
    "  category = 'safe', probe = function() return {} end,\n"                                     \
    "  judge = function(obs, dossier) " judge " end }\n"

static const char BAD_JUDGES[] = JC("j.driver", "return t.mqtt.connect(obs)")
    JC("j.require", "return require('mqtt')") JC("j.noreason", "return NOT_APPLICABLE()")
        JC("j.rawna", "return { verdict = 'NOT_APPLICABLE' }") JC("j.string", "return 'PASS'")
            JC("j.unknown", "return { verdict = 'MAYBE' }") JC("j.loop", "while true do end")
                JC("j.resolve", "return { verdict = 'PASS', rationale = 'x', resolve = "
                                "'assessor' }") JC("j.error", "return ERROR('cannot "
                                                              "parse %s', 'x')");

static void test_bad_judges_are_errors(void **state)
{
    (void)state;
    char root[256], dir[300];
    assert_int_equal(tree_new(root, sizeof(root)), 0);
    tree_write(root, "j/profile.lua",
               "profile { name = 'j', version = '1', obligations = { 'PSTI-1' },\n"
               "  include = { 'testcases/j/*.lua' } }\n");
    tree_write(root, "testcases/j/judges.lua", BAD_JUDGES);
    snprintf(dir, sizeof(dir), "%s/j", root);
    struct profile *p = load(dir);
    static const struct {
        const char *id, *msg;
    } cases[] = {
        {"j.driver", "attempt to index a nil value (global 't')"},
        {"j.require", "no module 'mqtt' in profiles/lib"},
        {"j.noreason", "NOT_APPLICABLE needs a rationale"},
        {"j.rawna", "judge returned NOT_APPLICABLE without a reason"},
        {"j.string", "judge must return PASS(...)"},
        {"j.unknown", "judge returned no known verdict"},
        {"j.loop", "instruction budget exceeded"},
        {"j.resolve", "resolve may only be \"assessor\", on an INCONCLUSIVE verdict"},
        {"j.error", "cannot parse x"},
    };
    struct sandbox_limits lim = {.instructions = 5000000, .deadline_ms = 2000};
    json_t *obs = json_object();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct judge_result r;
        struct assay_error err = {0};
        assert_int_equal(
            judge_run(p, profile_find(p, cases[i].id), obs, NULL, NULL, &lim, &r, &err), 0);
        if (r.verdict != VERDICT_ERROR || !strstr(r.rationale, cases[i].msg))
            fail_msg("%s: %s [%s], wanted ERROR [%s]", cases[i].id, verdict_name(r.verdict),
                     r.rationale, cases[i].msg);
    }
    json_decref(obs);
    profile_free(p);
    tree_free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_selftest_probe_and_judge),
        cmocka_unit_test(test_model_scope_judge),
        cmocka_unit_test(test_bad_probes_are_errors_and_the_next_runs),
        cmocka_unit_test(test_bad_judges_are_errors),
    };
    return cmocka_run_group_tests_name("lua_probe", tests, NULL, NULL);
}
