/*
 * test_transcript_file.c: the transcript sink and its spool. Entries become
 * JSON lines at each test-case boundary and at close; a worker that dies
 * without closing leaves a spool that transcript_file_recover() (or the next
 * open) turns into the same lines, with a torn last record noted.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "evidence/transcript_file.h"

static char dir[64], path[128], spool[160];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/assay-transcript-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof(path), "%s/transcript.jsonl", dir);
    snprintf(spool, sizeof(spool), "%s.spool", path);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(spool);
    unlink(path);
    return rmdir(dir);
}

static off_t size_of(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? st.st_size : -1;
}

/* The transcript's lines, parsed (an array). */
static json_t *lines(void)
{
    json_t *all = json_array();
    FILE *f = fopen(path, "r");
    if (!f)
        return all;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        json_error_t je;
        json_t *j = json_loads(line, 0, &je);
        if (!j)
            fail_msg("not JSON: %s (%s)", line, je.text);
        json_array_append_new(all, j);
    }
    free(line);
    fclose(f);
    return all;
}

static const char *str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static void send_request(struct transcript_file *t, const char *summary)
{
    static const uint8_t frame[] = {0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03};
    struct transcript_entry e = {
        .protocol = "modbus",
        .dir = TRANSCRIPT_SEND,
        .peer = "127.0.0.2:502",
        .event = "request",
        .summary = summary,
        .bytes = frame,
        .nbytes = sizeof(frame),
        .detail_json = "{\"fc\":3,\"values\":[1,2]}",
    };
    transcript_write(&t->sink, &e);
}

/* Entries wait in the spool until the test case changes, then read as before. */
static void test_lines_at_boundaries(void **state)
{
    (void)state;
    struct transcript_file t;
    struct assay_error err = {0};
    assert_int_equal(transcript_file_open(&t, path, &err), 0);
    transcript_file_set_testcase(&t, "modbus.writeback");
    send_request(&t, "FC 03 address 0");
    transcript_note(&t.sink, "modbus", "127.0.0.2:502", "timeout", NULL);
    assert_int_equal(size_of(path), 0);
    assert_true(t.used > 0);

    transcript_file_set_testcase(&t, "");
    assert_int_equal(t.used, 0);
    json_t *all = lines();
    assert_int_equal(json_array_size(all), 2);
    json_t *a = json_array_get(all, 0), *b = json_array_get(all, 1);
    assert_string_equal(str(a, "testcase"), "modbus.writeback");
    assert_string_equal(str(a, "protocol"), "modbus");
    assert_string_equal(str(a, "dir"), "send");
    assert_string_equal(str(a, "peer"), "127.0.0.2:502");
    assert_string_equal(str(a, "event"), "request");
    assert_string_equal(str(a, "summary"), "FC 03 address 0");
    assert_string_equal(str(a, "bytes"), "0001000000060103");
    assert_int_equal(json_integer_value(json_object_get(a, "nbytes")), 8);
    assert_null(json_object_get(a, "truncated"));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(a, "detail"), "fc")), 3);
    assert_int_equal(strlen(str(a, "utc")), strlen("2026-11-28T02:40:08.123Z"));
    assert_true(json_is_integer(json_object_get(a, "mono_ms")));
    assert_string_equal(str(b, "dir"), "note");
    assert_string_equal(str(b, "event"), "timeout");
    assert_null(json_object_get(b, "summary"));
    assert_null(json_object_get(b, "bytes"));
    json_decref(all);

    /* A later test case appends; close writes out and removes the spool. */
    transcript_file_set_testcase(&t, "modbus.malformed");
    send_request(&t, "second");
    transcript_file_close(&t);
    assert_int_equal(size_of(spool), -1);
    all = lines();
    assert_int_equal(json_array_size(all), 3);
    assert_string_equal(str(json_array_get(all, 2), "testcase"), "modbus.malformed");
    json_decref(all);
}

/* More bytes than are kept: the count says how many, `truncated` says so. */
static void test_oversize_and_not_utf8(void **state)
{
    (void)state;
    struct transcript_file t;
    struct assay_error err = {0};
    size_t n = TRANSCRIPT_MAX_BYTES + 100;
    uint8_t *big = calloc(1, n);
    assert_non_null(big);
    assert_int_equal(transcript_file_open(&t, path, &err), 0);
    struct transcript_entry e = {.protocol = "mqtt",
                                 .dir = TRANSCRIPT_RECV,
                                 .event = "raw",
                                 .summary = "bad \xff\xfe text",
                                 .bytes = big,
                                 .nbytes = n};
    transcript_write(&t.sink, &e);
    transcript_file_close(&t);
    free(big);
    json_t *all = lines();
    assert_int_equal(json_array_size(all), 1);
    json_t *a = json_array_get(all, 0);
    assert_int_equal(json_integer_value(json_object_get(a, "nbytes")), (json_int_t)n);
    assert_true(json_is_true(json_object_get(a, "truncated")));
    assert_int_equal(strlen(str(a, "bytes")), 2 * TRANSCRIPT_MAX_BYTES);
    assert_string_equal(str(a, "summary"), "(not UTF-8)");
    json_decref(all);
}

/* A test case that spools more than the mapped window: the window is written
 * out when full, every entry arrives once and in order, and the mapping does
 * not grow. */
static void test_more_than_the_window(void **state)
{
    (void)state;
    struct transcript_file t;
    struct assay_error err = {0};
    uint8_t *chunk = malloc(TRANSCRIPT_MAX_BYTES);
    assert_non_null(chunk);
    memset(chunk, 0xab, TRANSCRIPT_MAX_BYTES);
    assert_int_equal(transcript_file_open(&t, path, &err), 0);
    size_t cap = t.map_cap;
    transcript_file_set_testcase(&t, "mqtt.flood");
    char summary[32];
    for (int i = 0; i < 80; i++) { /* 80 x 64 KiB: more than twice the window */
        snprintf(summary, sizeof(summary), "%d", i);
        struct transcript_entry e = {.protocol = "mqtt",
                                     .dir = TRANSCRIPT_RECV,
                                     .event = "raw",
                                     .summary = summary,
                                     .bytes = chunk,
                                     .nbytes = TRANSCRIPT_MAX_BYTES};
        transcript_write(&t.sink, &e);
        assert_int_equal(t.map_cap, cap);
    }
    transcript_file_close(&t);
    free(chunk);
    json_t *all = lines();
    assert_int_equal(json_array_size(all), 80);
    for (size_t i = 0; i < 80; i++) {
        snprintf(summary, sizeof(summary), "%zu", i);
        assert_string_equal(str(json_array_get(all, i), "summary"), summary);
        assert_string_equal(str(json_array_get(all, i), "testcase"), "mqtt.flood");
    }
    json_decref(all);
}

/* A worker that dies mid-test case, in the middle of copying an entry (`tail`
 * at the spool's next record): the entries before it are recovered, bytes that
 * are not a whole entry are noted, and nothing is written twice. */
static void crash_with(const uint8_t *tail, size_t n)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct transcript_file t;
        struct assay_error err = {0};
        if (transcript_file_open(&t, path, &err))
            _exit(1);
        transcript_file_set_testcase(&t, "mqtt.exposure");
        send_request(&t, "first");
        send_request(&t, "second");
        memcpy(t.map + t.used, tail, n);
        _exit(0); /* no close: what a crash leaves */
    }
    int status = 0;
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(size_of(path), 0);
    assert_true(size_of(spool) > 0);
}

static void test_recover_after_crash(void **state)
{
    (void)state;
    /* a head whose magic was never stored: the copy was cut short */
    static const uint8_t unfinished[16] = {0, 0, 0, 0, 0x40, 0, 0, 0, 7, 7, 7, 7};
    crash_with(unfinished, sizeof(unfinished));
    struct assay_error err = {0};
    assert_int_equal(transcript_file_recover(path, &err), 0);
    assert_int_equal(size_of(spool), -1);
    json_t *all = lines();
    assert_int_equal(json_array_size(all), 2);
    assert_string_equal(str(json_array_get(all, 0), "summary"), "first");
    assert_string_equal(str(json_array_get(all, 1), "summary"), "second");
    assert_string_equal(str(json_array_get(all, 1), "testcase"), "mqtt.exposure");
    json_decref(all);

    /* Nothing left: a second recovery and a later open add nothing. */
    assert_int_equal(transcript_file_recover(path, &err), 0);
    struct transcript_file t;
    assert_int_equal(transcript_file_open(&t, path, &err), 0);
    transcript_file_close(&t);
    all = lines();
    assert_int_equal(json_array_size(all), 2);
    json_decref(all);
}

/* Bytes that are not an entry where one should start are noted, not skipped silently. */
static void test_recover_torn(void **state)
{
    (void)state;
    static const uint8_t garbage[64] = {'n', 'o', 't', ' ', 'a', 'n', ' ', 'e', 'n', 't', 'r', 'y'};
    crash_with(garbage, sizeof(garbage));
    struct assay_error err = {0};
    assert_int_equal(transcript_file_recover(path, &err), 0);
    json_t *all = lines();
    assert_int_equal(json_array_size(all), 3);
    assert_string_equal(str(json_array_get(all, 1), "summary"), "second");
    assert_string_equal(str(json_array_get(all, 2), "event"), "torn");
    assert_non_null(strstr(str(json_array_get(all, 2), "summary"), "not a whole entry"));
    json_decref(all);
}

/* The next worker's open recovers what the last one left. */
static void test_open_recovers(void **state)
{
    (void)state;
    struct transcript_file a, b;
    struct assay_error err = {0};
    assert_int_equal(transcript_file_open(&a, path, &err), 0);
    send_request(&a, "left behind");
    munmap(a.map, a.map_cap); /* as if the worker ended here */
    close(a.spool_fd);
    close(a.fd);
    assert_int_equal(transcript_file_open(&b, path, &err), 0);
    json_t *all = lines();
    assert_int_equal(json_array_size(all), 1);
    assert_string_equal(str(json_array_get(all, 0), "summary"), "left behind");
    json_decref(all);
    transcript_file_close(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lines_at_boundaries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oversize_and_not_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_more_than_the_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recover_after_crash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recover_torn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_recovers, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
