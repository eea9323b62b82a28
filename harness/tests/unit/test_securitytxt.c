/*
 * test_securitytxt.c: the RFC 9116 parser (drivers/securitytxt.h): fields,
 * case, comments, CRLF, the required Contact and single Expires, RFC 3339
 * times with offsets, signed files, and malformed lines listed as problems.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "drivers/securitytxt.h"

static int has_problem(const struct securitytxt *s, const char *word)
{
    for (size_t i = 0; i < s->nproblems; i++) {
        if (strstr(s->problems[i], word))
            return 1;
    }
    return 0;
}

static void test_valid(void **state)
{
    (void)state;
    const char *t = "# our policy\r\nContact: mailto:security@x.invalid\r\n"
                    "contact: https://x.invalid/report\r\nEXPIRES: 2030-01-31T23:59:59Z\r\n"
                    "Policy: https://x.invalid/vdp\r\nUnknown-Field: kept out\r\n";
    struct securitytxt s;
    assert_int_equal(securitytxt_parse(&s, t, strlen(t), NULL), 0);
    assert_int_equal(s.contact.n, 2);
    assert_string_equal(s.contact.v[0], "mailto:security@x.invalid");
    assert_string_equal(s.contact.v[1], "https://x.invalid/report");
    assert_int_equal(s.expires.n, 1);
    assert_int_equal(s.expires_epoch, 1896134399); /* date -u -d 2030-01-31T23:59:59Z +%s */
    assert_string_equal(s.policy.v[0], "https://x.invalid/vdp");
    assert_int_equal(s.nproblems, 0);
    assert_false(s.is_signed);
    securitytxt_release(&s);
}

static void test_missing_and_malformed(void **state)
{
    (void)state;
    const char *t = "Expires: soon\nExpires: 2031-01-01T00:00:00Z\nnot a field\nContact:\n";
    struct securitytxt s;
    assert_int_equal(securitytxt_parse(&s, t, strlen(t), NULL), 0);
    assert_int_equal(s.contact.n, 0);
    assert_true(has_problem(&s, "no Contact"));
    assert_true(has_problem(&s, "2 Expires"));
    assert_true(has_problem(&s, "RFC 3339"));
    assert_true(has_problem(&s, "line 3"));
    assert_true(has_problem(&s, "empty value"));
    assert_int_equal(s.expires_epoch, INT64_MIN);
    securitytxt_release(&s);
    assert_int_equal(securitytxt_parse(&s, "", 0, NULL), 0);
    assert_true(has_problem(&s, "no Expires"));
    securitytxt_release(&s);
}

static void test_signed_and_times(void **state)
{
    (void)state;
    const char *t = "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n"
                    "Contact: mailto:a@b.invalid\n- Expires: 2020-01-01T01:00:00+01:00\n"
                    "-----BEGIN PGP SIGNATURE-----\nContact: mailto:not-this@b.invalid\n";
    struct securitytxt s;
    assert_int_equal(securitytxt_parse(&s, t, strlen(t), NULL), 0);
    assert_true(s.is_signed);
    assert_int_equal(s.contact.n, 1);
    assert_int_equal(s.expires_epoch, 1577836800); /* 2020-01-01T00:00:00Z */
    securitytxt_release(&s);
    int64_t v;
    assert_int_equal(securitytxt_parse_time("2024-02-29T12:00:00.123-00:30", &v), 0);
    assert_int_equal(v, 1709208000 + 1800); /* 12:00 at -00:30 is 12:30Z */
    assert_int_equal(securitytxt_parse_time("2024-13-01T00:00:00Z", &v), -1);
    assert_int_equal(securitytxt_parse_time("2024-01-01 00:00:00Z", &v), -1);
    assert_int_equal(securitytxt_parse_time("2024-01-01T00:00:00", &v), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_missing_and_malformed),
        cmocka_unit_test(test_signed_and_times),
    };
    return cmocka_run_group_tests_name("securitytxt", tests, NULL, NULL);
}
