/* worker.c: one device's test cases: applicability, probe, stored observations, judge (see
 * worker.h). */
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "evidence/capture.h"
#include "evidence/transcript_file.h"
#include "lua/judge.h"
#include "lua/probe.h"
#include "run/entry.h"
#include "run/profiles.h"

struct worker {
    const struct worker_args *a;
    const struct device *dev;
    const json_t *dossier;
    struct transcript_file transcript;
    struct binding_env env;
    struct capture *cap; /* the device's packet capture, NULL when not permitted */
    char keylog[4200], dossier_dir[4200], documents_dir[4200];
    struct probe_state **states; /* one per profile, created when first needed */
    const struct profile **state_of;
    size_t nstates;
};

static void send_line(int fd, json_t *msg)
{
    char *text = json_dumps(msg, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(msg);
    if (!text)
        return;
    size_t n = strlen(text);
    char *line = realloc(text, n + 2);
    if (!line) {
        free(text);
        return;
    }
    line[n] = '\n';
    size_t off = 0;
    while (off < n + 1) {
        ssize_t w = write(fd, line + off, n + 1 - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    free(line);
}

static void send_result(struct worker *w, size_t i, json_t *entry)
{
    send_line(w->a->fd, json_pack("{s:s, s:I, s:o}", "event", "result", "tc", (json_int_t)i,
                                  "testcase", entry));
}

void worker_observation_path(const char *device_id, const char *tc_id, char *buf, size_t size)
{
    snprintf(buf, size, "devices/%s/observations/%s.json", device_id, tc_id);
}

static struct probe_state *state_for(struct worker *w, const struct profile *p,
                                     struct assay_error *err)
{
    for (size_t i = 0; i < w->nstates; i++)
        if (w->state_of[i] == p)
            return w->states[i];
    struct sandbox_limits lim;
    sandbox_limits_default(&lim);
    lim.deadline_ms = (int64_t)w->a->plan->bench.defaults.testcase_timeout_s * 1000;
    struct probe_state *ps = NULL;
    if (probe_state_new(p, &lim, &ps, err))
        return NULL;
    w->states[w->nstates] = ps;
    w->state_of[w->nstates++] = p;
    return ps;
}

/* Writes obs to the run directory and reads it back, so the judge sees exactly what is stored. */
static json_t *store(struct worker *w, const char *rel, json_t *obs, struct assay_error *err)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s", w->a->run_dir, rel);
    if (json_dump_file(obs, path, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENSURE_ASCII) != 0) {
        assay_fail(err, ASSAY_EIO, "cannot write %s", rel);
        return NULL;
    }
    json_error_t je;
    json_t *back = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!back)
        assay_fail(err, ASSAY_EIO, "cannot read back %s: %s", rel, je.text);
    return back;
}

/*
 * Test hook: ASSAY_TEST_CRASH="<device id>:<test case id>" makes this worker
 * abort as that test case starts, so the tests can show that a crashing worker
 * costs only the test case it was running.
 */
static void crash_if_asked(const struct worker *w, const struct testcase *tc)
{
    const char *hook = getenv("ASSAY_TEST_CRASH");
    char want[300];
    if (!hook)
        return;
    snprintf(want, sizeof(want), "%s:%s", w->dev->id, tc->id);
    if (!strcmp(hook, want)) {
        /* spooled, not yet a JSON line: what the supervisor must recover */
        transcript_note(&w->transcript.sink, "assay", "", "test-crash",
                        "ASSAY_TEST_CRASH: the worker aborts here");
        abort();
    }
}

static void run_one(struct worker *w, size_t i)
{
    const struct profile *p;
    const struct testcase *tc;
    struct assay_error err = {0};
    char now[CLOCK_UTC_MAX], rel[512];
    plan_profiles_get(w->a->plan->profiles, i, &p, &tc);

    struct applicability ap;
    testcase_applies(tc, w->dev->json, w->dossier, w->a->allowed, &ap);
    if (ap.verdict != VERDICT_NONE) {
        send_result(w, i, entry_new(tc, ap.verdict, RESOLVE_NONE, ap.reason));
        return;
    }
    json_t *params = NULL;
    if (testcase_params(tc, json_object_get(w->a->plan->bench.parameters, tc->id), &params, &err)) {
        send_result(w, i, entry_new(tc, VERDICT_ERROR, RESOLVE_NONE, err.msg));
        return;
    }
    send_line(w->a->fd, json_pack("{s:s, s:I}", "event", "start", "tc", (json_int_t)i));
    clock_utc_now(now);
    transcript_file_set_testcase(&w->transcript, tc->id);
    crash_if_asked(w, tc);
    assay_ms t0 = clock_now_ms();

    json_t *obs = NULL, *stored = NULL;
    struct probe_state *ps = state_for(w, p, &err);
    char mark[200];
    struct assay_error merr = {0};
    snprintf(mark, sizeof(mark), "start %s", tc->id);
    capture_mark(w->cap, mark, &merr);
    if (ps)
        probe_run(ps, tc, w->dev->json, w->dossier, params, &w->env, NULL, &obs, &err);
    snprintf(mark, sizeof(mark), "end %s", tc->id);
    capture_mark(w->cap, mark, &merr);
    worker_observation_path(w->dev->id, tc->id, rel, sizeof(rel));
    if (obs)
        stored = store(w, rel, obs, &err);
    json_decref(obs);
    transcript_file_set_testcase(&w->transcript, "");
    if (!stored) {
        char why[ASSAY_ERROR_MAX + 32];
        snprintf(why, sizeof(why), "probe failed: %s", err.msg);
        json_t *e = entry_new(tc, VERDICT_ERROR, RESOLVE_NONE, why);
        json_object_set_new(e, "started", json_string(now));
        send_result(w, i, e);
        json_decref(params);
        return;
    }
    if (tc->scope == TC_SCOPE_MODEL) {
        send_line(w->a->fd, json_pack("{s:s, s:I, s:s}", "event", "observed", "tc", (json_int_t)i,
                                      "observations", rel));
        json_decref(stored);
        json_decref(params);
        return;
    }
    struct judge_result jr;
    judge_run(p, tc, stored, w->dossier, params, NULL, &jr, &err);
    json_t *e = entry_new(tc, jr.verdict, jr.resolve, jr.rationale);
    json_object_set_new(e, "started", json_string(now));
    json_object_set_new(e, "duration_ms", json_integer(clock_now_ms() - t0));
    json_object_set_new(e, "observations", json_string(rel));
    json_object_set_new(e, "parameters", params);
    send_result(w, i, e);
    json_decref(stored);
}

/* The `identity` a stored observations file holds, or NULL (new reference). */
static json_t *stored_identity(struct worker *w, const char *rel)
{
    char path[4200];
    json_error_t je;
    snprintf(path, sizeof(path), "%s/%s", w->a->run_dir, rel);
    json_t *obs = json_load_file(path, 0, &je);
    json_t *id = json_incref(json_object_get(obs, "identity"));
    json_decref(obs);
    return id;
}

/*
 * Reads the unit's identity again at the end of its run and tells the supervisor
 * when another unit answered than at the start (DESIGN: a swapped or reset unit
 * must not lend its verdicts to another). The second reading is kept as evidence
 * beside the first, as <test case>.end.json.
 */
static void check_identity(struct worker *w, size_t i)
{
    const struct profile *p;
    const struct testcase *tc;
    struct assay_error err = {0};
    char rel[512], end_rel[560];
    plan_profiles_get(w->a->plan->profiles, i, &p, &tc);
    if (!tc->identity)
        return;
    worker_observation_path(w->dev->id, tc->id, rel, sizeof(rel));
    json_t *before = stored_identity(w, rel);
    if (!before) /* never read (not applicable, failed): nothing to compare */
        return;
    json_t *obs = NULL, *params = NULL;
    struct probe_state *ps = state_for(w, p, &err);
    if (ps && !testcase_params(tc, json_object_get(w->a->plan->bench.parameters, tc->id), &params,
                               &err)) {
        transcript_file_set_testcase(&w->transcript, tc->id);
        probe_run(ps, tc, w->dev->json, w->dossier, params, &w->env, NULL, &obs, &err);
        transcript_file_set_testcase(&w->transcript, "");
    }
    json_decref(params);
    snprintf(end_rel, sizeof(end_rel), "%.*s.end.json", (int)(strlen(rel) - 5), rel);
    json_t *stored = obs ? store(w, end_rel, obs, &err) : NULL;
    json_t *after = json_object_get(stored, "identity");
    /* A unit that no longer answers (a fragile device after malformed input) is
     * not evidence of another unit: only a different identity is. */
    if (after && !json_is_null(after) && !json_equal(before, after))
        send_line(w->a->fd,
                  json_pack("{s:s, s:I, s:O, s:o, s:s}", "event", "identity", "tc", (json_int_t)i,
                            "before", before, "after", after ? json_incref(after) : json_null(),
                            "observations", end_rel));
    json_decref(before);
    json_decref(stored);
    json_decref(obs);
}

/* Tells the supervisor whether packets are captured, for run.json. */
static void send_capture(struct worker *w, const char *why)
{
    json_t *status = capture_status_json(w->cap, w->dev->id, why);
    if (status)
        send_line(w->a->fd, json_pack("{s:s, s:I, s:o}", "event", "capture", "tc", (json_int_t)0,
                                      "capture", status));
}

/* The packet capture, the TLS key log, the dossier's folder and where pages are kept. */
static void open_evidence(struct worker *w)
{
    struct assay_error err = {0};
    const char *run_dir = w->a->run_dir;
    if (capture_open_device(run_dir, w->dev->id, w->dev->address, &w->cap, &err)) {
        fprintf(stderr, "assay worker %s: %s; carrying on with transcripts\n", w->dev->id, err.msg);
        w->cap = NULL;
    }
    send_capture(w, err.msg[0] ? err.msg : NULL);
    if (capture_keylog_path(run_dir, w->dev->id, w->keylog, sizeof(w->keylog)) == 0)
        w->env.keylog_path = w->keylog;
    if (w->dev->dossier && w->dev->dossier->path) {
        snprintf(w->dossier_dir, sizeof(w->dossier_dir), "%s", w->dev->dossier->path);
        char *slash = strrchr(w->dossier_dir, '/');
        if (slash) {
            *slash = 0;
            w->env.dossier_dir = w->dossier_dir;
        }
    }
    snprintf(w->documents_dir, sizeof(w->documents_dir), "%s/devices/%s/documents", run_dir,
             w->dev->id);
    if (mkdir(w->documents_dir, 0755) == 0 || errno == EEXIST)
        w->env.evidence_dir = w->documents_dir;
}

static void close_capture(struct worker *w)
{
    struct assay_error err = {0};
    if (!w->cap)
        return;
    capture_mark(w->cap, "end of device", &err);
    send_capture(w, NULL);
    if (capture_close(w->cap, &err))
        fprintf(stderr, "assay worker %s: capture: %s\n", w->dev->id, err.msg);
    w->cap = NULL;
}

int worker_main(const struct worker_args *a)
{
    struct worker w = {.a = a};
    struct assay_error err = {0};
    char path[4200];
    const struct plan *plan = a->plan;
    w.dev = &plan->bench.devices[a->device];
    w.dossier = w.dev->dossier ? w.dev->dossier->json : NULL;
    size_t n = plan_profiles_count(plan->profiles);
    w.states = calloc(n ? n : 1, sizeof(*w.states));
    w.state_of = calloc(n ? n : 1, sizeof(*w.state_of));
    if (!w.states || !w.state_of)
        return 71;
    snprintf(path, sizeof(path), "%s/devices/%s/transcript.jsonl", a->run_dir, w.dev->id);
    if (transcript_file_open(&w.transcript, path, &err)) {
        fprintf(stderr, "assay worker %s: %s\n", w.dev->id, err.msg);
        return 72;
    }
    w.env = (struct binding_env){
        .sink = &w.transcript.sink,
        .scope = &plan->bench.scope,
        .timeout_ms = plan->bench.defaults.timeout_ms,
        .pause_ms = plan->bench.defaults.pause_ms,
        .max_connections = plan->bench.defaults.max_connections,
    };
    /* evidence_dir: fetched documents; the lab broker's files go beside them. */
    open_evidence(&w);
    size_t ntc = plan_profiles_testcases(plan->profiles);
    for (size_t i = a->first; i < ntc; i++)
        run_one(&w, i);
    for (size_t i = 0; i < ntc; i++)
        check_identity(&w, i);
    close_capture(&w);
    for (size_t i = 0; i < w.nstates; i++)
        probe_state_free(w.states[i]);
    free(w.states);
    free(w.state_of);
    transcript_file_close(&w.transcript);
    return 0;
}
