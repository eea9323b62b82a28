/* test_verdict.c: the verdict roll-up and exit-code rules of DESIGN.md. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/verdict.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define P                                                                                          \
    {                                                                                              \
        VERDICT_PASS, RESOLVE_NONE                                                                 \
    }
#define F                                                                                          \
    {                                                                                              \
        VERDICT_FAIL, RESOLVE_NONE                                                                 \
    }
#define E                                                                                          \
    {                                                                                              \
        VERDICT_ERROR, RESOLVE_NONE                                                                \
    }
#define I                                                                                          \
    {                                                                                              \
        VERDICT_INCONCLUSIVE, RESOLVE_NONE                                                         \
    }
#define IA                                                                                         \
    {                                                                                              \
        VERDICT_INCONCLUSIVE, RESOLVE_ASSESSOR                                                     \
    }
#define NA                                                                                         \
    {                                                                                              \
        VERDICT_NOT_APPLICABLE, RESOLVE_NONE                                                       \
    }

static void test_fail_wins(void **state)
{
    (void)state;
    struct verdict_item v[] = {P, E, I, F, NA};
    struct verdict_item r = verdict_rollup(v, N(v));
    assert_int_equal(r.verdict, VERDICT_FAIL);
}

static void test_error_before_inconclusive(void **state)
{
    (void)state;
    struct verdict_item v[] = {P, I, E};
    assert_int_equal(verdict_rollup(v, N(v)).verdict, VERDICT_ERROR);
}

static void test_inconclusive_before_pass(void **state)
{
    (void)state;
    struct verdict_item v[] = {P, IA, NA};
    struct verdict_item r = verdict_rollup(v, N(v));
    assert_int_equal(r.verdict, VERDICT_INCONCLUSIVE);
    assert_int_equal(r.resolve, RESOLVE_ASSESSOR);
    struct verdict_item w[] = {IA, I};
    assert_int_equal(verdict_rollup(w, N(w)).resolve, RESOLVE_NONE);
}

static void test_pass_over_not_applicable(void **state)
{
    (void)state;
    struct verdict_item v[] = {NA, P};
    assert_int_equal(verdict_rollup(v, N(v)).verdict, VERDICT_PASS);
    struct verdict_item w[] = {NA, NA};
    assert_int_equal(verdict_rollup(w, N(w)).verdict, VERDICT_NOT_APPLICABLE);
}

static void test_no_evidence_is_assessor_item(void **state)
{
    (void)state;
    struct verdict_item r = verdict_rollup(NULL, 0);
    assert_int_equal(r.verdict, VERDICT_INCONCLUSIVE);
    assert_int_equal(r.resolve, RESOLVE_ASSESSOR);
}

static void test_exit_codes(void **state)
{
    (void)state;
    struct verdict_item ok[] = {P, NA, IA};
    assert_int_equal(verdict_exit_code(ok, N(ok)), ASSAY_EXIT_OK);
    struct verdict_item undecided[] = {P, I};
    assert_int_equal(verdict_exit_code(undecided, N(undecided)), ASSAY_EXIT_UNDECIDED);
    struct verdict_item err[] = {P, E};
    assert_int_equal(verdict_exit_code(err, N(err)), ASSAY_EXIT_UNDECIDED);
    struct verdict_item fail[] = {E, I, F};
    assert_int_equal(verdict_exit_code(fail, N(fail)), ASSAY_EXIT_FAIL);
}

static void test_names_round_trip(void **state)
{
    (void)state;
    for (int v = VERDICT_PASS; v <= VERDICT_ERROR; v++)
        assert_int_equal(verdict_parse(verdict_name((enum verdict)v)), v);
    assert_int_equal(verdict_parse("pass"), VERDICT_NONE);
    assert_int_equal(verdict_parse(NULL), VERDICT_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fail_wins),
        cmocka_unit_test(test_error_before_inconclusive),
        cmocka_unit_test(test_inconclusive_before_pass),
        cmocka_unit_test(test_pass_over_not_applicable),
        cmocka_unit_test(test_no_evidence_is_assessor_item),
        cmocka_unit_test(test_exit_codes),
        cmocka_unit_test(test_names_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
