/* judge_model.c: one judgement per model over every unit's observations (see judge_model.h). */
#define _GNU_SOURCE /* pipe2 */
#include "judge_model.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "lua/judge.h"
#include "run/entry.h"
#include "run/profiles.h"

json_t *judge_model_group(const struct plan *plan, const json_t *units)
{
    json_t *out = json_object();
    size_t i;
    json_t *u;
    json_array_foreach(units, i, u)
    {
        size_t d = (size_t)json_integer_value(json_object_get(u, "device"));
        if (d >= plan->bench.ndevices)
            continue;
        const char *model = plan->bench.devices[d].model;
        json_t *list = json_object_get(out, model);
        if (!list) {
            list = json_array();
            json_object_set_new(out, model, list);
        }
        /* Bench order, whatever order the units finished in: a judgement must not
         * depend on scheduling. */
        size_t at = json_array_size(list);
        while (at > 0 && (size_t)json_integer_value(
                             json_object_get(json_array_get(list, at - 1), "device")) > d)
            at--;
        json_array_insert(list, at, u);
    }
    return out;
}

/* What a model judge knows of a unit: its identity, never its secrets (a probe
 * that compares credentials puts what it needs in its observations). */
static json_t *unit_identity(const struct device *d)
{
    json_t *o = json_object();
    static const char *const keys[] = {"id", "model", "serial", "mac", "firmware", "state"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        json_t *v = json_object_get(d->json, keys[i]);
        if (v)
            json_object_set(o, keys[i], v);
    }
    return o;
}

/* The judge's input: [{device: {id, model, serial, ...}, observations}] read back from the stored
 * files. */
static json_t *load_units(const struct plan *plan, const json_t *members, const char *run_dir,
                          char *why, size_t size)
{
    json_t *arr = json_array();
    size_t i;
    json_t *m;
    json_array_foreach(members, i, m)
    {
        const struct device *d =
            &plan->bench.devices[json_integer_value(json_object_get(m, "device"))];
        char path[4200];
        json_error_t je;
        snprintf(path, sizeof(path), "%s/%s", run_dir,
                 json_string_value(json_object_get(m, "observations")));
        json_t *obs = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
        if (!obs) {
            snprintf(why, size, "cannot read the observations of %s: %s", d->id, je.text);
            json_decref(arr);
            return NULL;
        }
        json_array_append_new(
            arr, json_pack("{s:o, s:o}", "device", unit_identity(d), "observations", obs));
    }
    return arr;
}

static void child(const struct profile *p, const struct testcase *tc, const json_t *units,
                  const json_t *dossier, const json_t *params, int fd)
{
    struct judge_result jr;
    struct assay_error err = {0};
    judge_run(p, tc, units, dossier, params, NULL, &jr, &err);
    json_t *r = json_pack("{s:s, s:s, s:b}", "verdict", verdict_name(jr.verdict), "rationale",
                          jr.rationale, "assessor", jr.resolve == RESOLVE_ASSESSOR);
    char *text = json_dumps(r, JSON_COMPACT);
    size_t n = text ? strlen(text) : 0, off = 0;
    while (off < n) {
        ssize_t w = write(fd, text + off, n - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    _exit(0);
}

json_t *judge_model_run(const struct plan *plan, size_t tci, const char *model,
                        const json_t *members, const char *run_dir)
{
    const struct profile *p;
    const struct testcase *tc;
    plan_profiles_get(plan->profiles, tci, &p, &tc);
    char why[512] = "";
    json_t *units = load_units(plan, members, run_dir, why, sizeof(why));
    if (!units)
        return entry_new(tc, VERDICT_ERROR, RESOLVE_NONE, why);

    const struct dossier *dos = NULL;
    for (size_t i = 0; i < plan->bench.ndossiers; i++)
        if (!strcmp(plan->bench.dossiers[i].model, model))
            dos = &plan->bench.dossiers[i];
    json_t *params = NULL;
    struct assay_error err = {0};
    if (testcase_params(tc, json_object_get(plan->bench.parameters, tc->id), &params, &err)) {
        json_decref(units);
        return entry_new(tc, VERDICT_ERROR, RESOLVE_NONE, err.msg);
    }

    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        json_decref(units);
        json_decref(params);
        return entry_new(tc, VERDICT_ERROR, RESOLVE_NONE, "cannot create a pipe for the judge");
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        child(p, tc, units, dos ? dos->json : NULL, params, fds[1]);
    }
    close(fds[1]);
    json_decref(units);
    json_decref(params);
    if (pid < 0) {
        close(fds[0]);
        return entry_new(tc, VERDICT_ERROR, RESOLVE_NONE, "cannot start the judge");
    }

    char buf[8192];
    size_t len = 0;
    assay_ms deadline = clock_deadline((int64_t)plan->bench.defaults.testcase_timeout_s * 1000);
    bool timed_out = false;
    for (;;) {
        struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
        int64_t left = clock_remaining_ms(deadline);
        if (left == 0) {
            timed_out = true;
            break;
        }
        int pr = poll(&pfd, 1, (int)(left > 1000 ? 1000 : left));
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            continue;
        ssize_t r = read(fds[0], buf + len, sizeof(buf) - 1 - len);
        if (r <= 0)
            break;
        len += (size_t)r;
        if (len == sizeof(buf) - 1)
            break;
    }
    close(fds[0]);
    if (timed_out)
        kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    buf[len] = 0;

    json_error_t je;
    json_t *r = timed_out ? NULL : json_loads(buf, 0, &je);
    enum verdict v = verdict_parse(json_string_value(json_object_get(r, "verdict")));
    json_t *e;
    if (!r || v == VERDICT_NONE)
        e = entry_new(tc, VERDICT_ERROR, RESOLVE_NONE,
                      timed_out ? "the model judge ran past its deadline"
                                : "the model judge ended without a verdict");
    else
        e = entry_new(
            tc, v, json_is_true(json_object_get(r, "assessor")) ? RESOLVE_ASSESSOR : RESOLVE_NONE,
            json_string_value(json_object_get(r, "rationale")));
    json_decref(r);
    json_object_set_new(e, "units", json_integer((json_int_t)json_array_size(members)));
    return e;
}
