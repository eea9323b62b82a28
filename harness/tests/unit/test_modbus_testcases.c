/*
 * test_modbus_testcases.c: the judges of profiles/testcases/modbus (every .lua) on
 * crafted observations (modbus_testcase_cases.json), so that every verdict a
 * Modbus test case can give, FAIL and the alert included, is shown without a
 * device that behaves that way. The observations go through JSON text first,
 * as stored observations do.
 *
 * The test cases are loaded through a throwaway profile that includes only
 * the files of testcases/modbus, so other areas' files do not matter here.
 */
#include "test_lua_util.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>

#include "lua/judge.h"
#include "lua/profile.h"

#define CASES ASSAY_SOURCE_DIR "/harness/tests/unit/modbus_testcase_cases.json"

static const char MANIFEST[] = "profile {\n"
                               "  name = \"modbus-only\",\n"
                               "  version = \"1\",\n"
                               "  obligations = { \"PSTI-1\" },\n"
                               "  include = { \"testcases/modbus/*.lua\" },\n"
                               "}\n";

struct fixture {
    char root[256];
    struct profile *profile;
    json_t *cases;
};

/* Copies the .lua files of profiles/testcases/modbus into the tree (the loader refuses links that
 * leave it). */
static int copy_area(const char *root)
{
    DIR *d = opendir(REAL_PROFILES "/testcases/modbus");
    if (!d)
        return -1;
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 4, ".lua") != 0)
            continue;
        char src[1024], rel[512];
        snprintf(src, sizeof(src), "%s/testcases/modbus/%s", REAL_PROFILES, e->d_name);
        snprintf(rel, sizeof(rel), "testcases/modbus/%s", e->d_name);
        FILE *in = fopen(src, "r");
        static char text[256 * 1024];
        size_t len = in ? fread(text, 1, sizeof(text) - 1, in) : 0;
        if (in)
            fclose(in);
        text[len] = '\0';
        rc = in && len < sizeof(text) - 1 ? tree_write(root, rel, text) : -1;
    }
    closedir(d);
    return rc;
}

static int setup(void **state)
{
    static struct fixture f;
    if (tree_new(f.root, sizeof(f.root)) != 0)
        return -1;
    if (copy_area(f.root) != 0)
        return -1;
    if (tree_write(f.root, "modbus-only/profile.lua", MANIFEST) != 0)
        return -1;
    struct profile_diags d;
    profile_diags_init(&d);
    struct assay_error err = {0};
    int rc = profile_load("modbus-only", f.root, NULL, NULL, NULL, &f.profile, &d, &err);
    for (size_t i = 0; i < d.n; i++)
        fprintf(stderr, "%s\n", d.msgs[i]);
    profile_diags_release(&d);
    if (rc != 0)
        return -1;
    json_error_t je;
    f.cases = json_load_file(CASES, 0, &je);
    if (!f.cases) {
        fprintf(stderr, "%s:%d: %s\n", CASES, je.line, je.text);
        return -1;
    }
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (!f)
        return 0;
    profile_free(f->profile);
    json_decref(f->cases);
    tree_free(f->root);
    return 0;
}

/* Round-trips obs through JSON text, as the journal stores observations. */
static json_t *stored(const json_t *obs)
{
    char *text = json_dumps(obs, JSON_SORT_KEYS | JSON_COMPACT);
    json_error_t je;
    json_t *back = json_loads(text, 0, &je);
    free(text);
    return back;
}

static void test_judges(void **state)
{
    struct fixture *f = *state;
    json_t *dossier = json_object_get(f->cases, "dossier");
    json_t *c;
    size_t i, failed = 0;
    json_array_foreach(json_object_get(f->cases, "cases"), i, c)
    {
        const char *id = json_string_value(json_object_get(c, "tc"));
        const struct testcase *tc = profile_find(f->profile, id);
        if (!tc) {
            fprintf(stderr, "case %zu: no test case %s\n", i, id);
            failed++;
            continue;
        }
        json_t *obs = stored(json_object_get(c, "obs"));
        struct judge_result r;
        struct assay_error err = {0};
        int rc = judge_run(f->profile, tc, obs, dossier, NULL, NULL, &r, &err);
        json_decref(obs);
        const char *want = json_string_value(json_object_get(c, "verdict"));
        const char *resolve = json_string_value(json_object_get(c, "resolve"));
        const char *has = json_string_value(json_object_get(c, "has"));
        const char *got_resolve = r.resolve == RESOLVE_ASSESSOR ? "assessor" : "-";
        bool ok = rc == 0 && strcmp(verdict_name(r.verdict), want) == 0 &&
                  (!resolve || strcmp(got_resolve, resolve) == 0) &&
                  strstr(r.rationale, has) != NULL;
        if (!ok) {
            fprintf(stderr, "case %zu (%s): got %s/%s \"%s\"; want %s/%s with \"%s\"\n", i, id,
                    verdict_name(r.verdict), got_resolve, r.rationale, want,
                    resolve ? resolve : "-", has);
            failed++;
        }
    }
    assert_true(i > 0);
    assert_int_equal(failed, 0);
}

/* Every Modbus test case names obligations, and the ones this suite expects exist. */
static void test_all_present(void **state)
{
    struct fixture *f = *state;
    static const char *const ids[] = {"modbus.no-passwords",     "modbus.static-writeback",
                                      "modbus.function-codes",   "modbus.designation",
                                      "modbus.disclosure",       "modbus.security-offered",
                                      "modbus.malformed-frames", NULL};
    for (const char *const *id = ids; *id; id++)
        assert_non_null(profile_find(f->profile, *id));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_present),
        cmocka_unit_test(test_judges),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
