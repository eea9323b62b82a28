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
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/journal.h"
#include "core/record.h"
#include "lua/profile.h"
#include "run/entry.h"
#include "run/judge_model.h"
#include "run/profiles.h"
#include "run/worker.h"

#define LINE_MAX_BYTES (4u << 20)
#define MAX_RESTARTS 8

struct job {
    size_t device;
    size_t next;  /* first test case not yet finished */
    long current; /* test case running, -1 if none */
    pid_t pid;
    int fd;
    char *buf;
    size_t len;
    assay_ms device_deadline, tc_deadline;
    int restarts;
    bool running, done;
};

struct supervisor {
    const struct plan *plan;
    const struct run_options *o;
    struct run_result *out;
    struct journal journal;
    json_t *rec;
    size_t ntc;
    unsigned allowed;
    json_t *model_obs; /* {tc index: [{device, observations}]} */
    size_t finished_devices;
};

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested++;
}

static int mkdirs(const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

static const struct device *dev_of(struct supervisor *s, const struct job *j)
{
    return &s->plan->bench.devices[j->device];
}

/* Records one finished test case: journal first (fsync'd), then the record. */
static void finish_testcase(struct supervisor *s, struct job *j, size_t tc_index, json_t *tc)
{
    struct assay_error err = {0};
    const struct device *d = dev_of(s, j);
    json_t *line = json_pack("{s:s, s:s, s:I, s:O}", "type", "testcase", "device", d->id, "index",
                             (json_int_t)tc_index, "testcase", tc);
    if (journal_append(&s->journal, line, &err))
        fprintf(stderr, "assay run: %s\n", err.msg);
    json_decref(line);
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
        const struct device *d = dev_of(s, j);
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

static void handle_line(struct supervisor *s, struct job *j, const char *text, size_t n)
{
    json_error_t je;
    json_t *msg = json_loadb(text, n, 0, &je);
    const char *ev = json_string_value(json_object_get(msg, "event"));
    json_int_t tc = json_integer_value(json_object_get(msg, "tc"));
    if (!ev || tc < 0 || (size_t)tc >= s->ntc) {
        fprintf(stderr, "assay run: unreadable line from the worker of %s\n", dev_of(s, j)->id);
    } else if (!strcmp(ev, "start")) {
        int secs = s->plan->bench.defaults.testcase_timeout_s;
        int64_t slack = secs * 250 > 2000 ? secs * 250 : 2000; /* max(2 s, 25 %) */
        j->current = (long)tc;
        j->tc_deadline = clock_deadline((int64_t)secs * 1000 + slack);
    } else if (!strcmp(ev, "result")) {
        finish_testcase(s, j, (size_t)tc, json_incref(json_object_get(msg, "testcase")));
        j->current = -1;
    } else if (!strcmp(ev, "observed")) {
        char key[32];
        snprintf(key, sizeof(key), "%lld", (long long)tc);
        json_t *list = json_object_get(s->model_obs, key);
        if (!list) {
            list = json_array();
            json_object_set_new(s->model_obs, key, list);
        }
        json_array_append_new(list,
                              json_pack("{s:I, s:O}", "device", (json_int_t)j->device,
                                        "observations", json_object_get(msg, "observations")));
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
            snprintf(why, sizeof(why), "deadline: %s; the worker was stopped", killed_for);
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

static void check_deadlines(struct supervisor *s, struct job *j)
{
    char why[160];
    if (clock_remaining_ms(j->device_deadline) == 0) {
        snprintf(why, sizeof(why), "the device's %d s limit passed",
                 s->plan->bench.defaults.device_timeout_s);
    } else if (j->current >= 0 && clock_remaining_ms(j->tc_deadline) == 0) {
        snprintf(why, sizeof(why), "the test case ran past its %d s limit",
                 s->plan->bench.defaults.testcase_timeout_s);
    } else {
        return;
    }
    kill(j->pid, SIGKILL);
    reap(s, j, why);
}

static void progress(struct supervisor *s, const struct job *j)
{
    char now[CLOCK_UTC_MAX];
    if (!s->o->progress)
        return;
    fprintf(stderr, "%s  %zu/%zu devices  %s done\n", clock_utc_now(now), ++s->finished_devices,
            s->plan->bench.ndevices, dev_of(s, j)->id);
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
                    progress(s, j);
                }
            }
        }
    }
out:
    free(pfd);
    free(which);
}

static size_t order_of(const struct supervisor *s, const char *id)
{
    for (size_t i = 0; i < s->ntc; i++) {
        const struct profile *p;
        const struct testcase *tc;
        plan_profiles_get(s->plan->profiles, i, &p, &tc);
        if (!strcmp(tc->id, id))
            return i;
    }
    return s->ntc;
}

static const struct supervisor *sorting;

static int cmp_entries(const void *a, const void *b)
{
    size_t x = order_of(sorting, json_string_value(json_object_get(*(json_t *const *)a, "id")));
    size_t y = order_of(sorting, json_string_value(json_object_get(*(json_t *const *)b, "id")));
    return x < y ? -1 : x > y;
}

/* Each device's test cases in run order, whatever order they finished in. */
static void sort_testcases(struct supervisor *s)
{
    size_t i;
    json_t *dev;
    sorting = s;
    json_array_foreach(json_object_get(s->rec, "devices"), i, dev)
    {
        json_t *tcs = json_object_get(dev, "testcases");
        size_t n = json_array_size(tcs);
        json_t **v = calloc(n ? n : 1, sizeof(*v));
        if (!v)
            continue;
        for (size_t k = 0; k < n; k++)
            v[k] = json_incref(json_array_get(tcs, k));
        qsort(v, n, sizeof(*v), cmp_entries);
        json_array_clear(tcs);
        for (size_t k = 0; k < n; k++)
            json_array_append_new(tcs, v[k]);
        free(v);
    }
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
            json_t *entry = judge_model_run(s->plan, tci, model, members, s->out->dir);
            size_t k;
            json_t *m;
            json_array_foreach(members, k, m)
            {
                struct job j = {.device = (size_t)json_integer_value(json_object_get(m, "device"))};
                json_t *e = json_deep_copy(entry);
                json_object_set(e, "observations", json_object_get(m, "observations"));
                finish_testcase(s, &j, tci, e);
            }
            json_decref(entry);
        }
        json_decref(models);
    }
}

int run_execute(const struct plan *plan, const struct run_options *o, struct run_result *out,
                struct assay_error *err)
{
    struct supervisor s = {.plan = plan, .o = o, .out = out};
    char id[160], path[4200];
    memset(out, 0, sizeof(*out));
    record_make_id(plan->bench.name, id, sizeof(id));
    snprintf(out->dir, sizeof(out->dir), "%s/%s", o->out_dir, id);
    if (mkdirs(out->dir) != 0)
        return assay_fail(err, ASSAY_EIO, "cannot create %s: %s", out->dir, strerror(errno));
    for (size_t i = 0; i < plan->bench.ndevices; i++) {
        snprintf(path, sizeof(path), "%s/devices/%s/observations", out->dir,
                 plan->bench.devices[i].id);
        if (mkdirs(path) != 0)
            return assay_fail(err, ASSAY_EIO, "cannot create %s: %s", path, strerror(errno));
    }
    snprintf(path, sizeof(path), "%s/journal.jsonl", out->dir);
    int rc = journal_open(&s.journal, path, err);
    if (rc)
        return rc;
    s.rec = record_new(&plan->bench, "run", id);
    s.ntc = plan_profiles_testcases(plan->profiles);
    s.model_obs = json_object();
    json_object_set_new(s.rec, "profiles", plan_profiles_describe(plan->profiles));
    json_t *allowed = json_array();
    unsigned bits = plan->bench.defaults.allow | o->allow_extra;
    for (unsigned c = CATEGORY_SAFE; c <= CATEGORY_DOS; c <<= 1)
        if (bits & c)
            json_array_append_new(allowed, json_string(category_name(c)));
    json_object_set_new(s.rec, "allowed", allowed);
    json_t *start = json_pack("{s:s, s:s, s:O}", "type", "run-start", "id", id, "allowed",
                              json_object_get(s.rec, "allowed"));
    journal_append(&s.journal, start, err);
    json_decref(start);

    struct job *jobs = calloc(plan->bench.ndevices ? plan->bench.ndevices : 1, sizeof(*jobs));
    if (!jobs) {
        journal_close(&s.journal);
        json_decref(s.rec);
        return assay_fail(err, ASSAY_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < plan->bench.ndevices; i++)
        jobs[i] = (struct job){.device = i, .current = -1, .fd = -1};

    struct sigaction sa = {.sa_handler = on_stop}, old_int, old_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    stop_requested = 0;

    supervise(&s, jobs, plan->bench.ndevices);
    if (!stop_requested)
        judge_models(&s);

    out->interrupted = stop_requested != 0;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    for (size_t i = 0; i < plan->bench.ndevices; i++)
        free(jobs[i].buf);
    free(jobs);

    sort_testcases(&s);
    json_t *obls = plan_profiles_obligations(plan->profiles);
    record_rollup(s.rec, obls, &plan->catalogue);
    json_decref(obls);
    char now[CLOCK_UTC_MAX];
    json_object_set_new(s.rec, "finished", json_string(clock_utc_now(now)));
    if (out->interrupted) {
        json_object_set_new(s.rec, "interrupted", json_true());
        json_object_set_new(s.rec, "exit_code", json_integer(ASSAY_EXIT_INTERRUPTED));
    }
    json_t *end = json_pack("{s:s, s:b}", "type", "run-end", "interrupted", out->interrupted);
    journal_append(&s.journal, end, err);
    json_decref(end);
    journal_close(&s.journal);
    json_decref(s.model_obs);

    snprintf(path, sizeof(path), "%s/run.json", out->dir);
    rc = record_write(s.rec, path, err);
    out->record = s.rec;
    return rc;
}
