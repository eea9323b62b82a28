/* test_record.c: the run record: test-case entries, roll-up into the matrix, exit code, write/read.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/record.h"
#include "core/sanitize.h"

static json_t *rec_with(const char *const *ids, size_t n)
{
    json_t *rec = json_pack("{s:i, s:[]}", "schema_version", RECORD_SCHEMA_VERSION, "devices");
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            json_object_get(rec, "devices"),
            json_pack("{s:s, s:[], s:[]}", "id", ids[i], "testcases", "obligations"));
    return rec;
}

static json_t *tc(const char *id, const char *verdict, const char *why, const char *o1,
                  const char *o2)
{
    json_t *t = json_pack("{s:s, s:s, s:s, s:[s]}", "id", id, "verdict", verdict, "rationale", why,
                          "obligations", o1);
    if (o2)
        json_array_append_new(json_object_get(t, "obligations"), json_string(o2));
    return t;
}

static const char *cell(json_t *rec, const char *dev, const char *obl)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(record_device(rec, dev), "obligations"), i, c)
    {
        if (!strcmp(json_string_value(json_object_get(c, "id")), obl))
            return json_string_value(json_object_get(c, "verdict"));
    }
    return NULL;
}

static void test_rollup_matrix(void **state)
{
    (void)state;
    static const char *const devs[] = {"a", "b"};
    json_t *rec = rec_with(devs, 2);
    struct assay_error err = {0};
    assert_int_equal(record_add_testcase(rec, "a", tc("t1", "PASS", "ok", "PSTI-1", NULL), &err),
                     0);
    assert_int_equal(
        record_add_testcase(rec, "a", tc("t2", "FAIL", "bad", "PSTI-1", "EN-5.1-1"), &err), 0);
    assert_int_equal(record_add_testcase(
                         rec, "b", tc("t1", "NOT_APPLICABLE", "no broker", "PSTI-1", NULL), &err),
                     0);
    json_t *obls = json_pack("[s, s, s]", "PSTI-1", "EN-5.1-1", "PSTI-2");
    assert_int_equal(record_rollup(rec, obls, NULL), 0);
    assert_string_equal(cell(rec, "a", "PSTI-1"), "FAIL");
    assert_string_equal(cell(rec, "a", "EN-5.1-1"), "FAIL");
    assert_string_equal(cell(rec, "b", "PSTI-1"), "NOT_APPLICABLE");
    /* Nothing evidences these: items for the assessor. */
    assert_string_equal(cell(rec, "b", "EN-5.1-1"), "INCONCLUSIVE");
    assert_string_equal(cell(rec, "a", "PSTI-2"), "INCONCLUSIVE");
    assert_int_equal(record_exit_code(rec), 1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(rec, "counts"), "FAIL")),
                     2);
    json_decref(obls);
    json_decref(rec);
}

static void test_entries_refused(void **state)
{
    (void)state;
    static const char *const devs[] = {"a"};
    json_t *rec = rec_with(devs, 1);
    struct assay_error err = {0};
    /* NOT_APPLICABLE needs a reason; a verdict is required; the device must exist. */
    assert_int_not_equal(
        record_add_testcase(rec, "a", tc("t", "NOT_APPLICABLE", "", "PSTI-1", NULL), &err), 0);
    assert_int_not_equal(record_add_testcase(rec, "a", tc("t", "MAYBE", "x", "PSTI-1", NULL), &err),
                         0);
    assert_int_not_equal(record_add_testcase(rec, "z", tc("t", "PASS", "x", "PSTI-1", NULL), &err),
                         0);
    assert_int_equal(json_array_size(json_object_get(record_device(rec, "a"), "testcases")), 0);
    json_decref(rec);
}

static void test_write_read(void **state)
{
    (void)state;
    static const char *const devs[] = {"a"};
    json_t *rec = rec_with(devs, 1);
    char path[] = "/tmp/assay-record-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    struct assay_error err = {0};
    assert_int_equal(record_write(rec, path, &err), 0);
    json_t *back = record_read(path, &err);
    assert_non_null(back);
    assert_true(json_equal(rec, back));
    json_decref(back);
    /* Not a run record. */
    FILE *f = fopen(path, "w");
    fputs("{\"schema_version\": 99, \"devices\": []}", f);
    fclose(f);
    assert_null(record_read(path, &err));
    assert_non_null(strstr(err.msg, "schema version"));
    unlink(path);
    json_decref(rec);
}

static void test_run_id(void **state)
{
    (void)state;
    char id[128];
    record_make_id("lab 2 / overnight: batch", id, sizeof(id));
    /* yyyymmddThhmmssZ-lab-2-overnight-batch-xxxxxx, nothing a shell or a path would trip on */
    assert_int_equal(strspn(id, "0123456789TZabcdefghijklmnopqrstuvwxyz-"), strlen(id));
    assert_non_null(strstr(id, "-lab-2-overnight-batch-"));
}

static void test_sanitize(void **state)
{
    (void)state;
    const char in[] = "ok \x1b[31mred\x1b[0m \xe2\x80\xae"
                      "evil \xf3\xa0\x80\x81 \xff end\n";
    char *out = sanitize_text(in, sizeof(in) - 1, 0);
    assert_non_null(out);
    assert_null(strchr(out, '\x1b'));
    assert_non_null(strstr(out, "\\x1b[31mred"));
    assert_non_null(strstr(out, "<U+202E>evil"));
    assert_non_null(strstr(out, "<U+E0001>"));
    assert_non_null(strstr(out, "\\xff end\\x0a"));
    free(out);
    const char nul[] = {'a', 0, 'b'};
    out = sanitize_text(nul, 3, 0);
    assert_string_equal(out, "a\\x00b");
    free(out);
    out = sanitize_text("abcdef", 6, 3);
    assert_string_equal(out, "abc...");
    free(out);
}

static void test_secrets_masked(void **state)
{
    (void)state;
    const char *secrets[] = {"hunter2-pw", "abc", "Key-0123"};
    sanitize_set_secrets(secrets, 3);
    const char *in = "user lab password hunter2-pw; key Key-0123Key-0123; abc";
    char *out = sanitize_text(in, strlen(in), 0);
    assert_string_equal(out, "user lab password [secret]; key [secret][secret]; abc");
    free(out);
    sanitize_set_secrets(NULL, 0);
    out = sanitize_text("hunter2-pw", 10, 0);
    assert_string_equal(out, "hunter2-pw");
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rollup_matrix), cmocka_unit_test(test_entries_refused),
        cmocka_unit_test(test_write_read),    cmocka_unit_test(test_run_id),
        cmocka_unit_test(test_sanitize),      cmocka_unit_test(test_secrets_masked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
