/*
 * test_e2e_demo.c: calibration against the simulated bench.
 *
 * Starts the demo bench (scripts/bench-up), runs assay with the profiles
 * named on the command line, and compares every device x obligation cell of
 * run.json with fixtures/expected/demo.yaml, for the devices whose id starts
 * with --devices PREFIX (repeatable; default all).
 *
 * A listed cell that no test case of the profiles evidences on that device is
 * reported as "not covered"; with --all-covered (as every registered
 * calibration test runs) it fails the test too. A covered cell with
 * another verdict always fails, naming the device, the obligation, both
 * verdicts, the expected reason and the rationales of the run.
 *
 * usage: test_e2e_demo [--all-covered] [--devices PREFIX]... -p PROFILE...
 *        test_e2e_demo --run RUN_DIR [--devices PREFIX]...   (compare a finished run;
 *        scripts/demo uses this to print any mismatch)
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/diag.h"
#include "core/yamldoc.h"

static const char *profiles[8], *prefixes[16];
static size_t nprofiles, nprefixes;
static bool all_covered;
static const char *given_run; /* --run RUN_DIR: compare this run, start no bench */
static char bench_dir[] = "/tmp/assay-e2e-bench-XXXXXX";
static char out_dir[] = "/tmp/assay-e2e-out-XXXXXX";

static int run(const char *const argv[], bool quiet)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (quiet) {
            int null = open("/dev/null", O_WRONLY);
            dup2(null, 1);
        }
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int bench_up(void **state)
{
    (void)state;
    if (given_run)
        return 0;
    if (!mkdtemp(bench_dir) || !mkdtemp(out_dir))
        return -1;
    setenv("ASSAY_FIXTURES_BIN", ASSAY_BINARY_DIR "/fixtures", 1);
    const char *argv[] = {ASSAY_SOURCE_DIR "/scripts/bench-up", "--out", bench_dir, NULL};
    return run(argv, true);
}

static int bench_down(void **state)
{
    (void)state;
    if (given_run)
        return 0;
    const char *argv[] = {ASSAY_SOURCE_DIR "/scripts/bench-down", bench_dir, NULL};
    run(argv, true);
    const char *rm[] = {"/bin/rm", "-rf", bench_dir, out_dir, NULL};
    run(rm, true);
    return 0;
}

static bool selected(const char *device)
{
    if (nprefixes == 0)
        return true;
    for (size_t i = 0; i < nprefixes; i++)
        if (!strncmp(device, prefixes[i], strlen(prefixes[i])))
            return true;
    return false;
}

static json_t *find_by_id(json_t *array, const char *id)
{
    size_t i;
    json_t *e;
    json_array_foreach(array, i, e)
    {
        if (!strcmp(json_string_value(json_object_get(e, "id")), id))
            return e;
    }
    return NULL;
}

/* The rationales of the test cases behind a cell, for the failure message. */
static void rationales(json_t *dev, json_t *cell, char *buf, size_t size)
{
    size_t i, used = 0;
    json_t *id;
    buf[0] = 0;
    json_array_foreach(json_object_get(cell, "testcases"), i, id)
    {
        json_t *tc = find_by_id(json_object_get(dev, "testcases"), json_string_value(id));
        used += (size_t)snprintf(buf + used, used < size ? size - used : 0, "\n      %s %s: %s",
                                 json_string_value(id),
                                 json_string_value(json_object_get(tc, "verdict")),
                                 json_string_value(json_object_get(tc, "rationale")));
        if (used >= size)
            break;
    }
}

static void test_demo_bench(void **state)
{
    (void)state;
    const char *argv[80];
    size_t n = 0;
    char bench[4200], path[4200];
    path[0] = 0;
    if (given_run) {
        snprintf(path, sizeof(path), "%s/run.json", given_run);
        goto compare;
    }
    snprintf(bench, sizeof(bench), "%s/bench.yaml", bench_dir);
    argv[n++] = ASSAY_BIN;
    argv[n++] = "run";
    argv[n++] = bench;
    for (size_t i = 0; i < nprofiles; i++) {
        argv[n++] = "-p";
        argv[n++] = profiles[i];
    }
    /* Only the selected devices run; they mostly wait on the device, so run many at once. */
    char patterns[16][80];
    for (size_t i = 0; i < nprefixes; i++) {
        snprintf(patterns[i], sizeof(patterns[i]), "%s*", prefixes[i]);
        argv[n++] = "--device";
        argv[n++] = patterns[i];
    }
    argv[n++] = "-j";
    argv[n++] = "8";
    argv[n++] = "-o";
    argv[n++] = out_dir;
    argv[n++] = "--profile-path";
    argv[n++] = ASSAY_SOURCE_DIR "/profiles";
    argv[n] = NULL;
    int code = run(argv, true);
    assert_in_range(code, 0, 3); /* a run that finished: 0, 1 or 3 */

    DIR *d = opendir(out_dir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.' && e->d_type == DT_DIR)
            snprintf(path, sizeof(path), "%s/%s/run.json", out_dir, e->d_name);
    if (d)
        closedir(d);
compare:;
    json_error_t je;
    json_t *rec = json_load_file(path, 0, &je);
    assert_non_null(rec);

    struct yamldoc doc;
    struct diag_list diags;
    static const struct yschema any = {.type = YS_ANY, .what = "a value"};
    diag_init(&diags);
    assert_int_equal(
        yamldoc_load(&doc, ASSAY_SOURCE_DIR "/fixtures/expected/demo.yaml", &any, &diags), 0);
    size_t checked = 0, uncovered = 0, wrong = 0;
    const char *dev_id;
    json_t *cells;
    json_object_foreach(json_object_get(doc.root, "devices"), dev_id, cells)
    {
        if (!selected(dev_id))
            continue;
        json_t *dev = find_by_id(json_object_get(rec, "devices"), dev_id);
        if (!dev) {
            fprintf(stderr, "  %s: not in the run\n", dev_id);
            wrong++;
            continue;
        }
        const char *obl;
        json_t *want;
        json_object_foreach(cells, obl, want)
        {
            json_t *cell = find_by_id(json_object_get(dev, "obligations"), obl);
            const char *want_v = json_string_value(json_object_get(want, "verdict"));
            if (!cell || json_array_size(json_object_get(cell, "testcases")) == 0) {
                fprintf(stderr, "  not covered: %s %s (expected %s)\n", dev_id, obl, want_v);
                uncovered++;
                continue;
            }
            checked++;
            const char *got_v = json_string_value(json_object_get(cell, "verdict"));
            if (strcmp(got_v, want_v)) {
                char why[4096];
                rationales(dev, cell, why, sizeof(why));
                fprintf(stderr, "  MISMATCH %s %s: got %s, expected %s (%s)%s\n", dev_id, obl,
                        got_v, want_v, json_string_value(json_object_get(want, "reason")), why);
                wrong++;
            }
        }
    }
    fprintf(stderr, "demo bench: %zu cells checked, %zu mismatched, %zu not covered\n", checked,
            wrong, uncovered);
    yamldoc_release(&doc);
    diag_release(&diags);
    json_decref(rec);
    assert_true(checked > 0);
    assert_int_equal(wrong, 0);
    if (all_covered)
        assert_int_equal(uncovered, 0);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-p") && i + 1 < argc && nprofiles < 8)
            profiles[nprofiles++] = argv[++i];
        else if (!strcmp(argv[i], "--devices") && i + 1 < argc && nprefixes < 16)
            prefixes[nprefixes++] = argv[++i];
        else if (!strcmp(argv[i], "--all-covered"))
            all_covered = true;
        else if (!strcmp(argv[i], "--run") && i + 1 < argc)
            given_run = argv[++i];
        else {
            fprintf(stderr,
                    "usage: %s [--all-covered] [--devices PREFIX]... -p PROFILE...\n"
                    "       %s --run RUN_DIR [--all-covered] [--devices PREFIX]...\n",
                    argv[0], argv[0]);
            return 2;
        }
    }
    if (nprofiles == 0 && !given_run)
        return 2;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_demo_bench),
    };
    return cmocka_run_group_tests(tests, bench_up, bench_down);
}
