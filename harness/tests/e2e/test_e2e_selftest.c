/*
 * test_e2e_selftest.c: `assay run` end to end with the selftest profile (no
 * network): the exit code, run.json against its expected file (timestamps and
 * ids removed), the journal's hash chain and the stored observations.
 * ASSAY_UPDATE_EXPECTED=1 rewrites the expected file instead of comparing.
 */
#define _GNU_SOURCE /* memmem */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/journal.h"

#define E2E ASSAY_SOURCE_DIR "/harness/tests/e2e/"

static int run_assay(const char *const argv[])
{
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        execv(ASSAY_BIN, (char *const *)argv);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The one run directory under out. */
static void find_run(const char *out, char *dir, size_t size)
{
    DIR *d = opendir(out);
    struct dirent *e;
    int n = 0;
    assert_non_null(d);
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' && e->d_type == DT_DIR) {
            if ((size_t)snprintf(dir, size, "%s/%s", out, e->d_name) >= size)
                fail_msg("run directory name too long under %s", out);
            n++;
        }
    closedir(d);
    assert_int_equal(n, 1);
}

/* `assay run BENCH -p PROFILE -o OUT --profile-path ROOT`: its exit code, and the
 * run directory it wrote (in dir). */
static int run_bench(const char *bench, const char *profile, const char *root, const char *out,
                     char *dir, size_t size)
{
    const char *argv[] = {"assay",          "run", bench, "-p", profile, "-o", out,
                          "--profile-path", root,  NULL};
    int rc = run_assay(argv);
    find_run(out, dir, size);
    return rc;
}

/* Drops what changes from run to run: ids, times, absolute paths. */
static void normalise(json_t *rec)
{
    /* kind and source_run tell a rescore from a run; everything else must be equal. */
    static const char *const top[] = {"id",   "started",    "finished",  "resumed",
                                      "kind", "source_run", "resources", "provenance"};
    for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++)
        json_object_del(rec, top[i]);
    json_object_del(json_object_get(rec, "bench"), "path");
    size_t i, k;
    json_t *dev, *tc;
    json_array_foreach(json_object_get(rec, "devices"), i, dev)
    {
        json_object_del(json_object_get(dev, "dossier"), "file");
        json_object_del(dev, "capture"); /* permitted or not depends on the machine */
        json_array_foreach(json_object_get(dev, "testcases"), k, tc)
        {
            json_object_del(tc, "started");
            json_object_del(tc, "finished");
            json_object_del(tc, "duration_ms");
        }
    }
}

/* Compares a run's normalised run.json with the expected file (or rewrites it). */
static void check_record(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/run.json", dir);
    json_error_t je;
    json_t *rec = json_load_file(path, 0, &je);
    assert_non_null(rec);
    normalise(rec);
    const char *expected_path = E2E "expected/selftest.run.json";
    if (getenv("ASSAY_UPDATE_EXPECTED")) {
        json_dump_file(rec, expected_path, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    } else {
        json_t *want = json_load_file(expected_path, 0, &je);
        assert_non_null(want);
        if (!json_equal(rec, want)) {
            char *got = json_dumps(rec, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            fprintf(stderr, "%s differs from %s; got:\n%s\n", path, expected_path, got);
            free(got);
            json_decref(want);
            json_decref(rec);
            fail();
        }
        json_decref(want);
    }
    json_decref(rec);
}

/* Each (device, test case) is journalled at most once; returns how many were. */
static size_t journalled_once(const char *dir)
{
    char path[4200];
    struct assay_error err = {0};
    snprintf(path, sizeof(path), "%s/journal.jsonl", dir);
    json_t *lines = journal_read(path, &err);
    if (!lines)
        fail_msg("%s", err.msg);
    size_t n = 0, i, k;
    json_t *l, *m;
    json_array_foreach(lines, i, l)
    {
        const char *type = json_string_value(json_object_get(l, "type"));
        if (strcmp(type, "testcase") && strcmp(type, "observed"))
            continue;
        n++;
        json_array_foreach(lines, k, m)
        {
            if (k < i && json_equal(json_object_get(m, "type"), json_object_get(l, "type")) &&
                json_equal(json_object_get(m, "device"), json_object_get(l, "device")) &&
                json_equal(json_object_get(m, "index"), json_object_get(l, "index")))
                fail_msg("line %zu repeats line %zu of the journal", i + 1, k + 1);
        }
    }
    json_decref(lines);
    return n;
}

static bool file_contains(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    static char buf[8 << 20];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    return memmem(buf, n, needle, strlen(needle)) != NULL;
}

static void remove_tree(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_selftest_run(void **state)
{
    (void)state;
    char out[] = "/tmp/assay-e2e-XXXXXX", dir[4096], path[4200];
    assert_non_null(mkdtemp(out));
    /* unit-b1 and unit-b2 share a serial: selftest.unique fails, so the exit code is 1. */
    assert_int_equal(run_bench(E2E "selftest.bench.yaml", "selftest", ASSAY_SOURCE_DIR "/profiles",
                               out, dir, sizeof(dir)),
                     1);
    check_record(dir);
    /* 4 devices x 4 test cases, plus the 4 model observations, each exactly once. */
    assert_int_equal(journalled_once(dir), 4 * 6 + 4);
    struct stat st;
    snprintf(path, sizeof(path), "%s/devices/unit-b2/observations/selftest.unique.json", dir);
    assert_int_equal(stat(path, &st), 0);
    /* The bench's password is kept in the evidence and masked in what people read. */
    snprintf(path, sizeof(path), "%s/devices/unit-a1/observations/selftest.echo.json", dir);
    assert_true(file_contains(path, "Correct-Horse-42"));
    snprintf(path, sizeof(path), "%s/secrets.json", dir);
    assert_true(file_contains(path, "Correct-Horse-42"));
    snprintf(path, sizeof(path), "%s/report.html", dir);
    assert_false(file_contains(path, "Correct-Horse-42"));
    assert_true(file_contains(path, "[secret]"));
    remove_tree(out);
}

/* The verdict and rationale of one test case on one device. */
static void verdict_of(const char *dir, const char *device, const char *tc, char *v, size_t vsize,
                       char *why, size_t wsize)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/run.json", dir);
    json_error_t je;
    json_t *rec = json_load_file(path, 0, &je);
    assert_non_null(rec);
    size_t i, k;
    json_t *d, *t;
    v[0] = why[0] = 0;
    json_array_foreach(json_object_get(rec, "devices"), i, d)
    {
        if (strcmp(json_string_value(json_object_get(d, "id")), device))
            continue;
        json_array_foreach(json_object_get(d, "testcases"), k, t)
        {
            if (!strcmp(json_string_value(json_object_get(t, "id")), tc)) {
                snprintf(v, vsize, "%s", json_string_value(json_object_get(t, "verdict")));
                snprintf(why, wsize, "%s", json_string_value(json_object_get(t, "rationale")));
            }
        }
    }
    json_decref(rec);
}

/* rescore reproduces every verdict exactly; a corrected dossier changes the one that reads it;
 * review records a decision on an inconclusive cell, keeping the computed verdict. */
static void test_rescore_and_review(void **state)
{
    (void)state;
    char out[] = "/tmp/assay-rescore-XXXXXX", src[4096], dir[4096], sub[4200], dossier[4200];
    assert_non_null(mkdtemp(out));
    assert_int_equal(run_bench(E2E "selftest.bench.yaml", "selftest", ASSAY_SOURCE_DIR "/profiles",
                               out, src, sizeof(src)),
                     1);

    snprintf(sub, sizeof(sub), "%s/same", out);
    const char *same[] = {"assay", "rescore", src, "-o", sub, NULL};
    assert_int_equal(run_assay(same), 1);
    find_run(sub, dir, sizeof(dir));
    check_record(dir); /* identical verdicts and rationales to a fresh run */

    snprintf(dossier, sizeof(dossier), "%s/clone.yaml", out);
    FILE *f = fopen(dossier, "w");
    fputs("model: clone\nproduct_name: Clone Thermostat\n"
          "manufacturer: { name: Clone Devices Ltd }\n",
          f);
    fclose(f);
    char arg[4300], v[32], why[512];
    snprintf(arg, sizeof(arg), "clone=%s", dossier);
    snprintf(sub, sizeof(sub), "%s/fixed", out);
    const char *fixed[] = {"assay", "rescore", src, "--dossier", arg, "-o", sub, NULL};
    assert_int_equal(run_assay(fixed), 1);
    find_run(sub, dir, sizeof(dir));
    verdict_of(src, "unit-b1", "selftest.dossier", v, sizeof(v), why, sizeof(why));
    assert_string_equal(v, "INCONCLUSIVE");
    verdict_of(dir, "unit-b1", "selftest.dossier", v, sizeof(v), why, sizeof(why));
    assert_string_equal(v, "PASS");
    assert_string_equal(why, "unit CL-7 is a Clone Thermostat");

    snprintf(sub, sizeof(sub), "%s/review", out);
    const char *refused[] = {"assay",       "review", src,           "--set",    "unit-b1",
                             "PSTI-1=PASS", "--by",   "A. Assessor", "--reason", "x",
                             "-o",          sub,      NULL};
    assert_int_equal(run_assay(refused), 2); /* PSTI-1 FAILed: not for review */
    const char *review[] = {"assay",    "review",
                            src,        "--set",
                            "unit-a1",  "EN-5.1-1=PASS",
                            "--by",     "A. Assessor",
                            "--reason", "checked at the bench",
                            "-o",       sub,
                            NULL};
    assert_int_equal(run_assay(review), 1);
    find_run(sub, dir, sizeof(dir));
    char path[4200];
    snprintf(path, sizeof(path), "%s/run.json", dir);
    json_error_t je;
    json_t *rec = json_load_file(path, 0, &je);
    assert_non_null(rec);
    assert_string_equal(json_string_value(json_object_get(rec, "kind")), "review");
    json_t *dev = json_array_get(json_object_get(rec, "devices"), 0);
    json_t *cell = json_array_get(json_object_get(dev, "obligations"), 1);
    assert_string_equal(json_string_value(json_object_get(cell, "id")), "EN-5.1-1");
    assert_string_equal(json_string_value(json_object_get(cell, "verdict")), "PASS");
    assert_string_equal(json_string_value(json_object_get(cell, "computed")), "INCONCLUSIVE");
    assert_string_equal(json_string_value(json_object_get(json_object_get(cell, "review"), "by")),
                        "A. Assessor");
    json_decref(rec);
    remove_tree(out);
}

/* A unit whose identity changes during the run: every verdict becomes INCONCLUSIVE,
 * with what the test case found kept as `computed`, and the journal says why. */
static void test_swapped_unit(void **state)
{
    (void)state;
    char out[] = "/tmp/assay-swapped-XXXXXX", dir[4096], path[4200];
    assert_non_null(mkdtemp(out));
    assert_int_equal(run_bench(E2E "swapped.bench.yaml", "selftest", ASSAY_SOURCE_DIR "/profiles",
                               out, dir, sizeof(dir)),
                     3);
    snprintf(path, sizeof(path), "%s/run.json", dir);
    json_error_t je;
    json_t *rec = json_load_file(path, 0, &je);
    assert_non_null(rec);
    json_t *dev = json_array_get(json_object_get(rec, "devices"), 0);
    assert_non_null(json_object_get(dev, "identity_changed"));
    size_t i;
    json_t *tc;
    json_array_foreach(json_object_get(dev, "testcases"), i, tc)
    {
        assert_string_equal(json_string_value(json_object_get(tc, "verdict")), "INCONCLUSIVE");
        assert_non_null(strstr(json_string_value(json_object_get(tc, "rationale")),
                               "a different unit answered"));
        assert_non_null(json_object_get(tc, "computed"));
    }
    assert_int_equal(i, 6);
    json_decref(rec);
    snprintf(path, sizeof(path), "%s/devices/unit-s1/observations/selftest.identity.end.json", dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    remove_tree(out);
}

/* A probe that never returns and a worker that crashes each cost only the test case
 * they were in: the device's later test cases and the other devices run normally. */
static void test_hang_and_crash(void **state)
{
    (void)state;
    char out[] = "/tmp/assay-faults-XXXXXX", dir[4096];
    assert_non_null(mkdtemp(out));
    setenv("ASSAY_TEST_CRASH", "unit-crash:faults.hang", 1);
    assay_ms t0 = clock_now_ms();
    assert_int_equal(
        run_bench(E2E "faults.bench.yaml", "faults", E2E "profiles", out, dir, sizeof(dir)), 3);
    /* 1 s test-case limit + 2 s slack for the hang, in parallel with the rest */
    assert_true(clock_now_ms() - t0 < 30000);
    unsetenv("ASSAY_TEST_CRASH");
    static const struct {
        const char *device, *tc, *verdict, *why;
    } want[] = {
        {"unit-ok", "faults.before", "PASS", "unit-ok answered"},
        {"unit-ok", "faults.hang", "PASS", "unit-ok answered"},
        {"unit-ok", "faults.after", "PASS", "unit-ok answered"},
        {"unit-hang", "faults.before", "PASS", "unit-hang answered"},
        {"unit-hang", "faults.hang", "INCONCLUSIVE", "deadline: the test case ran past its 1 s"},
        {"unit-hang", "faults.after", "PASS", "unit-hang answered"},
        {"unit-crash", "faults.before", "PASS", "unit-crash answered"},
        {"unit-crash", "faults.hang", "ERROR", "the worker ended by signal 6"},
        {"unit-crash", "faults.after", "PASS", "unit-crash answered"},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        char v[32], why[512];
        verdict_of(dir, want[i].device, want[i].tc, v, sizeof(v), why, sizeof(why));
        if (strcmp(v, want[i].verdict) || !strstr(why, want[i].why))
            fail_msg("%s %s: %s '%s', expected %s '%s...'", want[i].device, want[i].tc, v, why,
                     want[i].verdict, want[i].why);
    }
    /* What the crashed worker had spooled is in its transcript; no spool is left. */
    char path[4200], line[4096];
    struct stat st;
    snprintf(path, sizeof(path), "%s/devices/unit-crash/transcript.jsonl.spool", dir);
    assert_int_equal(stat(path, &st), -1);
    snprintf(path, sizeof(path), "%s/devices/unit-crash/transcript.jsonl", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    int seen = 0;
    while (fgets(line, sizeof(line), f))
        seen += strstr(line, "\"test-crash\"") && strstr(line, "\"testcase\":\"faults.hang\"");
    fclose(f);
    assert_int_equal(seen, 1);
    remove_tree(out);
}

/* A worker past its memory budget is stopped: its test case is INCONCLUSIVE
 * "memory budget", and the device's later test cases run in a new worker. */
static void test_memory_budget(void **state)
{
    (void)state;
    char out[] = "/tmp/assay-memory-XXXXXX", dir[4096], v[32], why[512];
    assert_non_null(mkdtemp(out));
    /* unit-hang's probe sits in a pattern match long enough to be measured */
    setenv("ASSAY_TEST_PSS", "unit-hang:faults.hang:999999999", 1);
    assert_int_equal(
        run_bench(E2E "faults.bench.yaml", "faults", E2E "profiles", out, dir, sizeof(dir)), 3);
    unsetenv("ASSAY_TEST_PSS");
    verdict_of(dir, "unit-hang", "faults.hang", v, sizeof(v), why, sizeof(why));
    assert_string_equal(v, "INCONCLUSIVE");
    assert_non_null(strstr(why, "memory budget: the worker held"));
    verdict_of(dir, "unit-hang", "faults.after", v, sizeof(v), why, sizeof(why));
    assert_string_equal(v, "PASS");
    verdict_of(dir, "unit-ok", "faults.hang", v, sizeof(v), why, sizeof(why));
    assert_string_equal(v, "PASS");
    remove_tree(out);
}

/* Kills the supervisor after k journal lines, resumes, and requires the same record. */
static void crash_and_resume(long k, bool tear)
{
    char out[] = "/tmp/assay-resume-XXXXXX", dir[4096], env[32], path[4200];
    assert_non_null(mkdtemp(out));
    snprintf(env, sizeof(env), "%ld", k);
    setenv("ASSAY_TEST_ABORT_AFTER", env, 1);
    assert_int_equal(run_bench(E2E "selftest.bench.yaml", "selftest", ASSAY_SOURCE_DIR "/profiles",
                               out, dir, sizeof(dir)),
                     128 + 9); /* SIGKILL */
    unsetenv("ASSAY_TEST_ABORT_AFTER");
    if (tear) { /* a power cut in the middle of a line */
        snprintf(path, sizeof(path), "%s/journal.jsonl", dir);
        FILE *f = fopen(path, "a");
        fputs("{\"type\":\"testcase\",\"device\":\"unit-a", f);
        fclose(f);
    }
    const char *resume[] = {"assay", "run", "--resume", dir, NULL};
    assert_int_equal(run_assay(resume), 1);
    check_record(dir);
    assert_int_equal(journalled_once(dir), 4 * 6 + 4);
    remove_tree(out);
}

static void test_resume_after_crash(void **state)
{
    (void)state;
    static const long ks[] = {1, 2, 5, 9, 14, 19};
    for (size_t i = 0; i < sizeof(ks) / sizeof(ks[0]); i++)
        crash_and_resume(ks[i], false);
}

static void test_resume_after_torn_line(void **state)
{
    (void)state;
    crash_and_resume(7, true);
}

static void test_broken_chain_detected(void **state)
{
    (void)state;
    char path[] = "/tmp/assay-journal-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    struct journal j;
    struct assay_error err = {0};
    assert_int_equal(journal_open(&j, path, &err), 0);
    for (int i = 0; i < 3; i++) {
        json_t *o = json_pack("{s:s, s:i}", "type", "testcase", "n", i);
        assert_int_equal(journal_append(&j, o, &err), 0);
        json_decref(o);
    }
    journal_close(&j);
    json_t *ok = journal_read(path, &err);
    assert_int_equal(json_array_size(ok), 3);
    json_decref(ok);
    /* Change one byte of the second line: the third line's prev no longer matches. */
    FILE *f = fopen(path, "r+");
    char buf[4096];
    size_t len = fread(buf, 1, sizeof(buf), f);
    char *second = (char *)memchr(buf, '\n', len) + 1;
    char *digit = strstr(second, "\"n\":1");
    assert_non_null(digit);
    fseek(f, (long)(digit - buf) + 4, SEEK_SET);
    fputc('7', f);
    fclose(f);
    assert_null(journal_read(path, &err));
    assert_non_null(strstr(err.msg, ":3: hash chain broken"));
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_selftest_run),       cmocka_unit_test(test_broken_chain_detected),
        cmocka_unit_test(test_resume_after_crash), cmocka_unit_test(test_resume_after_torn_line),
        cmocka_unit_test(test_rescore_and_review), cmocka_unit_test(test_swapped_unit),
        cmocka_unit_test(test_hang_and_crash),     cmocka_unit_test(test_memory_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
