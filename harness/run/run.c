/* run.c: the supervisor: workers, deadlines, journal, model judgements, record (see run.h). */
#define _GNU_SOURCE /* pipe2 */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/journal.h"
#include "core/record.h"
#include "evidence/provenance.h"
#include "evidence/transcript_file.h"
#include "lua/profile.h"
#include "run/entry.h"
#include "run/judge_model.h"
#include "run/profiles.h"
#include "run/rundir.h"
#include "run/supervisor.h"
#include "run/worker.h"

#define LINE_MAX_BYTES (4u << 20)
#define MAX_RESTARTS 8

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested++;
}

const struct device *supervisor_device(const struct supervisor *s, const struct job *j)
{
    return &s->plan->bench.devices[j->device];
}

/* Appends a journal line; the test hook may end the process right after it. */
static void journal(struct supervisor *s, json_t *line)
{
    struct assay_error err = {0};
    if (journal_append(&s->journal, line, &err))
        fprintf(stderr, "assay run: %s\n", err.msg);
    json_decref(line);
    if (s->abort_after && ++s->lines >= s->abort_after)
        raise(SIGKILL);
}

/* Records one finished test case: journal first (fsync'd), then the record. */
static void finish_testcase(struct supervisor *s, struct job *j, size_t tc_index, json_t *tc)
{
    struct assay_error err = {0};
    const struct device *d = supervisor_device(s, j);
    journal(s, json_pack("{s:s, s:s, s:I, s:O}", "type", "testcase", "device", d->id, "index",
                         (json_int_t)tc_index, "testcase", tc));
    s->tc_done++;
    if (!strcmp(json_string_value(json_object_get(tc, "verdict")), "FAIL"))
        s->failures++;
    if (s->tty && s->o->progress)
        supervisor_progress_line(s);
    if (record_add_testcase(s->rec, d->id, tc, &err))
        fprintf(stderr, "assay run: %s\n", err.msg);
    if (tc_index + 1 > j->next)
        j->next = tc_index + 1;
}

/* A test-case entry decided by the supervisor (deadline, crash, not run). */
static json_t *supervisor_verdict(struct supervisor *s, size_t tc_index, enum verdict v,
                                  const char *rationale)
{
    const struct profile *p;
    const struct testcase *tc;
    plan_profiles_get(s->plan->profiles, tc_index, &p, &tc);
    return entry_new(tc, v, RESOLVE_NONE, rationale);
}

static int start_worker(struct supervisor *s, struct job *j)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        close(fds[0]);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        signal(SIGINT, SIG_IGN); /* the supervisor decides when a worker stops */
        signal(SIGTERM, SIG_DFL);
        if (getppid() == 1)
            _exit(70);
        const struct device *d = supervisor_device(s, j);
        /* --allow widens the bench's defaults, never a device's own narrower list. */
        unsigned allowed = d->allow;
        if (!json_object_get(d->json, "allow"))
            allowed |= s->o->allow_extra;
        struct worker_args a = {
            .plan = s->plan,
            .device = j->device,
            .first = j->next,
            .run_dir = s->out->dir,
            .allowed = allowed,
            .fd = fds[1],
        };
        _exit(worker_main(&a));
    }
    close(fds[1]);
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    j->pid = pid;
    j->fd = fds[0];
    j->len = 0;
    j->current = -1;
    j->running = true;
    return 0;
}

/* A scope=model probe's observations, kept for the model's judgement. */
static void remember_observed(struct supervisor *s, size_t device, size_t tc, json_t *path)
{
    char key[32];
    snprintf(key, sizeof(key), "%zu", tc);
    json_t *list = json_object_get(s->model_obs, key);
    if (!list) {
        list = json_array();
        json_object_set_new(s->model_obs, key, list);
    }
    json_array_append_new(
        list, json_pack("{s:I, s:O}", "device", (json_int_t)device, "observations", path));
}

static void handle_line(struct supervisor *s, struct job *j, const char *text, size_t n)
{
    json_error_t je;
    json_t *msg = json_loadb(text, n, 0, &je);
    const char *ev = json_string_value(json_object_get(msg, "event"));
    json_int_t tc = json_integer_value(json_object_get(msg, "tc"));
    if (!ev || tc < 0 || (size_t)tc >= s->ntc) {
        fprintf(stderr, "assay run: unreadable line from the worker of %s\n",
                supervisor_device(s, j)->id);
    } else if (!strcmp(ev, "start")) {
        int secs = s->plan->bench.defaults.testcase_timeout_s;
        int64_t slack = secs * 250 > 2000 ? secs * 250 : 2000; /* max(2 s, 25 %) */
        j->current = (long)tc;
        j->tc_deadline = clock_deadline((int64_t)secs * 1000 + slack);
    } else if (!strcmp(ev, "result")) {
        finish_testcase(s, j, (size_t)tc, json_incref(json_object_get(msg, "testcase")));
        j->current = -1;
    } else if (!strcmp(ev, "capture")) {
        json_t *dev = record_device(s->rec, supervisor_device(s, j)->id);
        json_object_set(dev, "capture", json_object_get(msg, "capture"));
    } else if (!strcmp(ev, "identity")) {
        const struct profile *p;
        const struct testcase *itc;
        plan_profiles_get(s->plan->profiles, (size_t)tc, &p, &itc);
        json_t *what =
            json_pack("{s:s, s:O, s:O, s:O}", "testcase", itc->id, "before",
                      json_object_get(msg, "before"), "after", json_object_get(msg, "after"),
                      "observations", json_object_get(msg, "observations"));
        journal(s, json_pack("{s:s, s:s, s:O}", "type", "identity-changed", "device",
                             supervisor_device(s, j)->id, "change", what));
        json_object_set_new(s->swapped, supervisor_device(s, j)->id, what);
    } else if (!strcmp(ev, "observed")) {
        journal(s, json_pack("{s:s, s:s, s:I, s:O}", "type", "observed", "device",
                             supervisor_device(s, j)->id, "index", (json_int_t)tc, "observations",
                             json_object_get(msg, "observations")));
        remember_observed(s, j->device, (size_t)tc, json_object_get(msg, "observations"));
        j->next = (size_t)tc + 1;
        j->current = -1;
    }
    json_decref(msg);
}

static void drain(struct supervisor *s, struct job *j)
{
    for (;;) {
        if (!j->buf)
            j->buf = malloc(LINE_MAX_BYTES);
        if (!j->buf)
            return;
        ssize_t r = read(j->fd, j->buf + j->len, LINE_MAX_BYTES - j->len);
        if (r <= 0)
            return;
        j->len += (size_t)r;
        char *nl;
        while ((nl = memchr(j->buf, '\n', j->len))) {
            size_t n = (size_t)(nl - j->buf);
            handle_line(s, j, j->buf, n);
            memmove(j->buf, nl + 1, j->len - n - 1);
            j->len -= n + 1;
        }
        if (j->len == LINE_MAX_BYTES) /* a worker line too long: drop it */
            j->len = 0;
    }
}

/* The worker ended; account for what it did not finish. */
static void reap(struct supervisor *s, struct job *j, const char *killed_for)
{
    int status = 0;
    drain(s, j);
    close(j->fd);
    waitpid(j->pid, &status, 0);
    j->running = false;
    char why[256];
    if (j->current >= 0) {
        enum verdict v = VERDICT_ERROR;
        if (killed_for) {
            v = VERDICT_INCONCLUSIVE;
            snprintf(why, sizeof(why), "%s; the worker was stopped", killed_for);
        } else if (WIFSIGNALED(status)) {
            snprintf(why, sizeof(why), "the worker ended by signal %d (%s) during this test case",
                     WTERMSIG(status), strsignal(WTERMSIG(status)));
        } else {
            snprintf(why, sizeof(why), "the worker exited with status %d during this test case",
                     WEXITSTATUS(status));
        }
        finish_testcase(s, j, (size_t)j->current,
                        supervisor_verdict(s, (size_t)j->current, v, why));
        j->current = -1;
    }
    if (j->next >= s->ntc) {
        j->done = true;
        return;
    }
    bool device_over = clock_remaining_ms(j->device_deadline) == 0;
    if (device_over || stop_requested || ++j->restarts > MAX_RESTARTS) {
        snprintf(why, sizeof(why), "%s",
                 device_over      ? "deadline: the device's time ran out before this test case ran"
                 : stop_requested ? "not run: the run was interrupted"
                                  : "not run: the worker for this device failed too often");
        if (!stop_requested)
            for (size_t i = j->next; i < s->ntc; i++)
                finish_testcase(s, j, i,
                                supervisor_verdict(
                                    s, i, device_over ? VERDICT_INCONCLUSIVE : VERDICT_ERROR, why));
        j->done = true;
        return;
    }
    if (start_worker(s, j) != 0) {
        j->done = true;
    }
}

/* The supervisor stops a worker past the device's or the test case's deadline, or
 * past its memory budget (a device that sends more than the harness will hold). */
static void check_deadlines(struct supervisor *s, struct job *j)
{
    char why[200];
    long budget_kb = (long)s->plan->bench.defaults.worker_memory_mb * 1024;
#ifdef ASSAY_SANITIZED
    budget_kb *= 16; /* sanitizers' shadow memory and quarantine */
#endif
    long pss = budget_kb > 0 && j->current >= 0 ? rundir_worker_memory_kb(j->pid) : -1;
    /* Test hook: ASSAY_TEST_PSS="<device id>:<test case id>:<kB>" reports that much
     * for the worker while it runs that test case. */
    const char *fake = getenv("ASSAY_TEST_PSS");
    if (pss >= 0 && fake) {
        const struct profile *p;
        const struct testcase *tc;
        char want[300];
        plan_profiles_get(s->plan->profiles, (size_t)j->current, &p, &tc);
        int n = snprintf(want, sizeof(want), "%s:%s:", supervisor_device(s, j)->id, tc->id);
        if (n > 0 && !strncmp(fake, want, (size_t)n))
            pss = strtol(fake + n, NULL, 10);
    }
    if (clock_remaining_ms(j->device_deadline) == 0) {
        snprintf(why, sizeof(why), "deadline: the device's %d s limit passed",
                 s->plan->bench.defaults.device_timeout_s);
    } else if (j->current >= 0 && clock_remaining_ms(j->tc_deadline) == 0) {
        snprintf(why, sizeof(why), "deadline: the test case ran past its %d s limit",
                 s->plan->bench.defaults.testcase_timeout_s);
    } else if (pss > budget_kb) {
        snprintf(why, sizeof(why),
                 "memory budget: the worker held %ld MB, more than its %ld MB (the device "
                 "sent more than the harness will hold)",
                 pss / 1024, budget_kb / 1024);
    } else {
        return;
    }
    kill(j->pid, SIGKILL);
    reap(s, j, why);
}

static void supervise(struct supervisor *s, struct job *jobs, size_t n)
{
    size_t next_job = 0, running = 0;
    struct pollfd *pfd = calloc(n ? n : 1, sizeof(*pfd));
    size_t *which = calloc(n ? n : 1, sizeof(*which));
    if (!pfd || !which)
        goto out;
    for (;;) {
        while (!stop_requested && running < (size_t)s->o->jobs && next_job < n) {
            struct job *j = &jobs[next_job++];
            if (j->next >= s->ntc) { /* finished before a resume */
                j->done = true;
                supervisor_progress(s, j);
                continue;
            }
            j->started_ms = clock_now_ms();
            j->device_deadline =
                clock_deadline((int64_t)s->plan->bench.defaults.device_timeout_s * 1000);
            if (start_worker(s, j) == 0)
                running++;
            else
                j->done = true;
        }
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (jobs[i].running) {
                pfd[k] = (struct pollfd){.fd = jobs[i].fd, .events = POLLIN};
                which[k++] = i;
            }
        if (k == 0 && (next_job >= n || stop_requested))
            break;
        int pr = poll(pfd, k, 200);
        if (stop_requested) {
            for (size_t i = 0; i < n; i++)
                if (jobs[i].running)
                    kill(jobs[i].pid, SIGKILL);
        }
        for (size_t i = 0; pr >= 0 && i < k; i++) {
            struct job *j = &jobs[which[i]];
            if (pfd[i].revents & POLLIN)
                drain(s, j);
            if (pfd[i].revents & (POLLHUP | POLLERR))
                reap(s, j, NULL);
            else
                check_deadlines(s, j);
            if (!j->running) {
                if (j->done) {
                    running--;
                    supervisor_progress(s, j);
                }
            }
        }
    }
out:
    free(pfd);
    free(which);
}

static bool has_entry(json_t *rec, const char *device, const char *tc_id)
{
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(record_device(rec, device), "testcases"), i, t)
    {
        if (!strcmp(json_string_value(json_object_get(t, "id")), tc_id))
            return true;
    }
    return false;
}

/* Judges every scope=model test case once per model, and records the verdict on each unit. */
static void judge_models(struct supervisor *s)
{
    const char *key;
    json_t *units;
    json_object_foreach(s->model_obs, key, units)
    {
        size_t tci = (size_t)strtoul(key, NULL, 10);
        json_t *models = judge_model_group(s->plan, units);
        const char *model;
        json_t *members;
        json_object_foreach(models, model, members)
        {
            const struct profile *p;
            const struct testcase *tc;
            plan_profiles_get(s->plan->profiles, tci, &p, &tc);
            bool missing = false;
            size_t u;
            json_t *m0;
            json_array_foreach(members, u, m0)
            {
                size_t d = (size_t)json_integer_value(json_object_get(m0, "device"));
                missing |= !has_entry(s->rec, s->plan->bench.devices[d].id, tc->id);
            }
            if (!missing) /* judged before a resume */
                continue;
            json_t *entry = judge_model_run(s->plan, tci, model, members, s->out->dir);
            size_t k;
            json_t *m;
            json_array_foreach(members, k, m)
            {
                struct job j = {.device = (size_t)json_integer_value(json_object_get(m, "device"))};
                if (has_entry(s->rec, s->plan->bench.devices[j.device].id, tc->id))
                    continue;
                json_t *e = json_deep_copy(entry);
                json_object_set(e, "observations", json_object_get(m, "observations"));
                finish_testcase(s, &j, tci, e);
            }
            json_decref(entry);
        }
        json_decref(models);
    }
}

static size_t device_index(const struct plan *plan, const char *id)
{
    for (size_t i = 0; id && i < plan->bench.ndevices; i++)
        if (!strcmp(plan->bench.devices[i].id, id))
            return i;
    return plan->bench.ndevices;
}

/* Replays the journal of an interrupted run into the record and the jobs. */
static int replay(struct supervisor *s, struct job *jobs, const char *path, char *id, size_t size,
                  struct assay_error *err)
{
    json_t *lines = journal_read(path, err);
    if (!lines)
        return err->code;
    json_t *first = json_array_get(lines, 0);
    json_t *ids = rundir_testcase_ids(s->plan);
    if (!json_equal(ids, json_object_get(first, "testcases"))) {
        json_decref(ids);
        json_decref(lines);
        return assay_fail(err, ASSAY_EINVAL,
                          "the profiles' test cases changed since this run started; "
                          "start a new run instead");
    }
    json_decref(ids);
    snprintf(id, size, "%s", json_string_value(json_object_get(first, "id")));
    s->rec = record_new(&s->plan->bench, "run", id);
    json_object_set(s->rec, "started", json_object_get(first, "started"));
    size_t i;
    json_t *l;
    json_array_foreach(lines, i, l)
    {
        const char *type = json_string_value(json_object_get(l, "type"));
        if (type && !strcmp(type, "identity-changed")) {
            json_object_set(s->swapped, json_string_value(json_object_get(l, "device")),
                            json_object_get(l, "change"));
            continue;
        }
        size_t d = device_index(s->plan, json_string_value(json_object_get(l, "device")));
        size_t tc = (size_t)json_integer_value(json_object_get(l, "index"));
        if (!type || d >= s->plan->bench.ndevices || tc >= s->ntc)
            continue;
        if (!strcmp(type, "testcase")) {
            struct assay_error e2 = {0};
            record_add_testcase(s->rec, s->plan->bench.devices[d].id,
                                json_incref(json_object_get(l, "testcase")), &e2);
        } else if (!strcmp(type, "observed")) {
            remember_observed(s, d, tc, json_object_get(l, "observations"));
        } else {
            continue;
        }
        if (tc + 1 > jobs[d].next)
            jobs[d].next = tc + 1;
    }
    json_decref(lines);
    return 0;
}

static json_t *allowed_json(unsigned bits)
{
    json_t *allowed = json_array();
    for (unsigned c = CATEGORY_SAFE; c <= CATEGORY_DOS; c <<= 1)
        if (bits & c)
            json_array_append_new(allowed, json_string(category_name(c)));
    return allowed;
}

/* What the run cost this machine: the supervisor's own peak memory, the largest
 * child's (a worker, a judge), and CPU time; for capacity planning and bench-scale. */
static json_t *resources(const struct supervisor *s)
{
    struct rusage self, kids;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &kids);
    double cpu = (double)(self.ru_utime.tv_sec + self.ru_stime.tv_sec + kids.ru_utime.tv_sec +
                          kids.ru_stime.tv_sec) +
                 (double)(self.ru_utime.tv_usec + self.ru_stime.tv_usec + kids.ru_utime.tv_usec +
                          kids.ru_stime.tv_usec) /
                     1e6;
    return json_pack("{s:I, s:I, s:f, s:I}", "supervisor_max_rss_kb", (json_int_t)self.ru_maxrss,
                     "largest_child_max_rss_kb", (json_int_t)kids.ru_maxrss, "cpu_s", cpu,
                     "wall_ms", (json_int_t)(clock_now_ms() - s->t0));
}

/* Devices whose identity changed during their run (entry_mark_swapped). */
static void mark_swapped(struct supervisor *s)
{
    const char *id;
    json_t *what;
    json_object_foreach(s->swapped, id, what) entry_mark_swapped(record_device(s->rec, id), what);
}

/* Transcript entries a worker spooled but did not write out before it ended
 * (a crash, a kill for a deadline or for memory, an interrupted run). */
static void recover_transcripts(struct supervisor *s)
{
    char path[4200];
    for (size_t i = 0; i < s->plan->bench.ndevices; i++) {
        struct assay_error err = {0};
        snprintf(path, sizeof(path), "%s/devices/%s/transcript.jsonl", s->out->dir,
                 s->plan->bench.devices[i].id);
        if (transcript_file_recover(path, &err))
            fprintf(stderr, "assay run: %s\n", err.msg);
    }
}

/* Roll-up, run-end line and run.json. */
static int finish_run(struct supervisor *s, struct assay_error *err)
{
    char now[CLOCK_UTC_MAX], path[4200];
    recover_transcripts(s);
    json_object_set_new(s->rec, "resources", resources(s));
    entry_sort(s->plan, s->rec);
    mark_swapped(s);
    json_t *obls = plan_profiles_obligations(s->plan->profiles);
    record_rollup(s->rec, obls, &s->plan->catalogue);
    json_decref(obls);
    json_object_set_new(s->rec, "finished", json_string(clock_utc_now(now)));
    if (s->out->interrupted) {
        json_object_set_new(s->rec, "interrupted", json_true());
        json_object_set_new(s->rec, "exit_code", json_integer(ASSAY_EXIT_INTERRUPTED));
    }
    journal(s, json_pack("{s:s, s:s, s:b}", "type", "run-end", "finished", now, "interrupted",
                         s->out->interrupted));
    snprintf(path, sizeof(path), "%s/run.json", s->out->dir);
    return record_write(s->rec, path, err);
}

int run_execute(const struct plan *plan, const struct run_options *o, struct run_result *out,
                struct assay_error *err)
{
    struct supervisor s = {.plan = plan, .o = o, .out = out};
    char id[160], path[4200];
    int lock_fd = -1, rc;
    memset(out, 0, sizeof(*out));
    const char *abort_after = getenv("ASSAY_TEST_ABORT_AFTER");
    s.abort_after = abort_after ? strtol(abort_after, NULL, 10) : 0;
    s.ntc = plan_profiles_testcases(plan->profiles);
    s.model_obs = json_object();
    s.swapped = json_object();
    size_t ndev = plan->bench.ndevices;
    struct job *jobs = calloc(ndev ? ndev : 1, sizeof(*jobs));
    if (!jobs)
        return assay_fail(err, ASSAY_ENOMEM, "out of memory");
    for (size_t i = 0; i < ndev; i++)
        jobs[i] = (struct job){.device = i, .current = -1, .fd = -1};

    if (o->resume_dir) {
        snprintf(out->dir, sizeof(out->dir), "%s", o->resume_dir);
    } else {
        record_make_id(plan->bench.name, id, sizeof(id));
        snprintf(out->dir, sizeof(out->dir), "%s/%s", o->out_dir, id);
        if (rundir_mkdirs(out->dir) != 0) {
            rc = assay_fail(err, ASSAY_EIO, "cannot create %s: %s", out->dir, strerror(errno));
            goto fail;
        }
    }
    if ((rc = rundir_lock(out->dir, &lock_fd, err)) || (rc = rundir_prepare(plan, out->dir, err)) ||
        (rc = rundir_write_secrets(plan, out->dir, err)))
        goto fail;
    snprintf(path, sizeof(path), "%s/journal.jsonl", out->dir);
    if (o->resume_dir && (rc = replay(&s, jobs, path, id, sizeof(id), err)))
        goto fail;
    if ((rc = journal_open(&s.journal, path, err)))
        goto fail;
    if (!o->resume_dir) {
        s.rec = record_new(&plan->bench, "run", id);
        json_t *start =
            json_pack("{s:s, s:s, s:O, s:o, s:O}", "type", "run-start", "id", id, "started",
                      json_object_get(s.rec, "started"), "testcases", rundir_testcase_ids(plan),
                      "invocation", o->invocation ? o->invocation : json_null());
        journal(&s, start);
    } else {
        char now[CLOCK_UTC_MAX];
        journal(&s, json_pack("{s:s, s:s}", "type", "run-resume", "utc", clock_utc_now(now)));
        json_object_set_new(s.rec, "resumed", json_true());
    }
    json_object_set_new(s.rec, "profiles", plan_profiles_describe(plan->profiles));
    struct assay_error perr = {0};
    json_t *prov = provenance_collect(plan, &perr);
    if (prov)
        json_object_set_new(s.rec, "provenance", prov);
    else
        fprintf(stderr, "assay run: provenance incomplete: %s\n", perr.msg);
    json_object_set_new(s.rec, "allowed",
                        allowed_json(plan->bench.defaults.allow | o->allow_extra));

    struct sigaction sa = {.sa_handler = on_stop}, old_int, old_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    stop_requested = 0;
    s.t0 = clock_now_ms();
    s.tty = isatty(STDERR_FILENO) == 1;
    supervise(&s, jobs, ndev);
    if (!stop_requested)
        judge_models(&s);
    supervisor_slowest(&s, jobs, ndev);
    out->interrupted = stop_requested != 0;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);

    rc = finish_run(&s, err);
    journal_close(&s.journal);
    out->record = s.rec;
    s.rec = NULL;
fail:
    for (size_t i = 0; i < ndev; i++)
        free(jobs[i].buf);
    free(jobs);
    json_decref(s.model_obs);
    json_decref(s.swapped);
    json_decref(s.rec);
    if (lock_fd >= 0)
        close(lock_fd);
    return rc;
}
