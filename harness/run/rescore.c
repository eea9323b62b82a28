/* rescore.c: new runs from recorded observations (rescore) or an assessor's decision (review). */
#include "rescore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/journal.h"
#include "core/record.h"
#include "evidence/provenance.h"
#include "lua/judge.h"
#include "run/entry.h"
#include "run/judge_model.h"
#include "run/profiles.h"

static int copy_file(const char *src, const char *dst, struct assay_error *err)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return assay_fail(err, ASSAY_EIO, "cannot read %s: %s", src, strerror(errno));
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (out < 0) {
        close(in);
        return assay_fail(err, ASSAY_EIO, "cannot create %s: %s", dst, strerror(errno));
    }
    char buf[65536];
    ssize_t r;
    int rc = 0;
    while ((r = read(in, buf, sizeof(buf))) > 0)
        if (write(out, buf, (size_t)r) != r) {
            rc = assay_fail(err, ASSAY_EIO, "cannot write %s: %s", dst, strerror(errno));
            break;
        }
    if (r < 0)
        rc = assay_fail(err, ASSAY_EIO, "cannot read %s: %s", src, strerror(errno));
    if (fsync(out) != 0 && !rc)
        rc = assay_fail(err, ASSAY_EIO, "cannot sync %s: %s", dst, strerror(errno));
    close(in);
    close(out);
    return rc;
}

int run_copy_tree(const char *src, const char *dst, struct assay_error *err)
{
    if (mkdir(dst, 0755) != 0 && errno != EEXIST)
        return assay_fail(err, ASSAY_EIO, "cannot create %s: %s", dst, strerror(errno));
    DIR *d = opendir(src);
    if (!d)
        return assay_fail(err, ASSAY_EIO, "cannot open %s: %s", src, strerror(errno));
    struct dirent *e;
    int rc = 0;
    while (!rc && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char s[4096], t[4096];
        snprintf(s, sizeof(s), "%s/%s", src, e->d_name);
        snprintf(t, sizeof(t), "%s/%s", dst, e->d_name);
        struct stat st;
        if (lstat(s, &st) != 0)
            rc = assay_fail(err, ASSAY_EIO, "cannot stat %s", s);
        else if (S_ISDIR(st.st_mode))
            rc = run_copy_tree(s, t, err);
        else if (S_ISREG(st.st_mode))
            rc = copy_file(s, t, err);
        else
            rc = assay_fail(err, ASSAY_EINVAL, "%s is neither a file nor a folder", s);
    }
    closedir(d);
    return rc;
}

/* The source run's secrets go with its observations (a run without them has none). */
static int copy_secrets(const char *src_dir, const char *dst_dir, struct assay_error *err)
{
    char s[4200], d[4200];
    struct stat st;
    snprintf(s, sizeof(s), "%s/secrets.json", src_dir);
    snprintf(d, sizeof(d), "%s/secrets.json", dst_dir);
    return stat(s, &st) == 0 ? copy_file(s, d, err) : 0;
}

static json_t *find_id(json_t *array, const char *id)
{
    size_t i;
    json_t *e;
    json_array_foreach(array, i, e)
    {
        const char *v = json_string_value(json_object_get(e, "id"));
        if (v && !strcmp(v, id))
            return e;
    }
    return NULL;
}

/* A new run directory and its journal, started with a line naming the source. */
static int open_new(const char *out_dir, const char *bench_name, const char *kind,
                    const char *source_id, char *dir, size_t size, char *id, size_t idsize,
                    struct journal *j, struct assay_error *err)
{
    record_make_id(bench_name, id, idsize);
    snprintf(dir, size, "%s/%s", out_dir, id);
    if (mkdir(out_dir, 0755) != 0 && errno != EEXIST)
        return assay_fail(err, ASSAY_EIO, "cannot create %s: %s", out_dir, strerror(errno));
    if (mkdir(dir, 0755) != 0)
        return assay_fail(err, ASSAY_EIO, "cannot create %s: %s", dir, strerror(errno));
    char path[4200], now[CLOCK_UTC_MAX];
    snprintf(path, sizeof(path), "%s/journal.jsonl", dir);
    int rc = journal_open(j, path, err);
    if (rc)
        return rc;
    json_t *l = json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "run-start", "kind", kind, "id", id,
                          "source_run", source_id, "started", clock_utc_now(now));
    rc = journal_append(j, l, err);
    json_decref(l);
    return rc;
}

static int close_new(json_t *rec, const char *dir, struct journal *j, const struct catalogue *cat,
                     const json_t *obligations, struct assay_error *err)
{
    char path[4200], now[CLOCK_UTC_MAX];
    record_rollup(rec, obligations, cat);
    json_object_set_new(rec, "finished", json_string(clock_utc_now(now)));
    json_t *l = json_pack("{s:s, s:s}", "type", "run-end", "finished", now);
    journal_append(j, l, err);
    json_decref(l);
    journal_close(j);
    snprintf(path, sizeof(path), "%s/run.json", dir);
    return record_write(rec, path, err);
}

static void journal_entry(struct journal *j, const char *device, size_t index, json_t *e)
{
    struct assay_error err = {0};
    json_t *l = json_pack("{s:s, s:s, s:I, s:O}", "type", "testcase", "device", device, "index",
                          (json_int_t)index, "testcase", e);
    if (journal_append(j, l, &err))
        fprintf(stderr, "assay: %s\n", err.msg);
    json_decref(l);
}

/* Judges one device-scope test case from its stored observations. */
static json_t *rejudge(const struct plan *plan, const struct testcase *tc, const struct profile *p,
                       const struct device *d, json_t *src_entry, const char *dir)
{
    char path[4200];
    const char *rel = json_string_value(json_object_get(src_entry, "observations"));
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    json_error_t je;
    json_t *obs = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!obs) {
        char why[512];
        snprintf(why, sizeof(why), "cannot read the recorded observations %s: %s", rel, je.text);
        return entry_new(tc, VERDICT_ERROR, RESOLVE_NONE, why);
    }
    json_t *params = NULL;
    struct assay_error err = {0};
    if (testcase_params(tc, json_object_get(plan->bench.parameters, tc->id), &params, &err)) {
        json_decref(obs);
        return entry_new(tc, VERDICT_ERROR, RESOLVE_NONE, err.msg);
    }
    struct judge_result jr;
    judge_run(p, tc, obs, d->dossier ? d->dossier->json : NULL, params, NULL, &jr, &err);
    json_t *e = entry_new(tc, jr.verdict, jr.resolve, jr.rationale);
    json_object_set_new(e, "observations", json_string(rel));
    json_object_set_new(e, "parameters", params);
    json_decref(obs);
    return e;
}

static unsigned allowed_of(const json_t *src_dev)
{
    unsigned bits = 0;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(src_dev, "allowed"), i, a) bits |=
        category_parse(json_string_value(a));
    return bits;
}

/* Decides one test case on one device; NULL when it waits for its model's judgement. */
static json_t *rescore_one(const struct plan *plan, size_t i, const struct device *d,
                           json_t *src_dev, const char *dir, json_t *model_units)
{
    const struct profile *p;
    const struct testcase *tc;
    plan_profiles_get(plan->profiles, i, &p, &tc);
    json_t *src = find_id(json_object_get(src_dev, "testcases"), tc->id);
    struct applicability ap;
    testcase_applies(tc, d->json, d->dossier ? d->dossier->json : NULL, allowed_of(src_dev), &ap);
    if (ap.verdict != VERDICT_NONE)
        return entry_new(tc, ap.verdict, RESOLVE_NONE, ap.reason);
    if (!src || !json_object_get(src, "observations")) {
        if (src && json_object_get(src, "verdict")) { /* decided without observations */
            json_t *e = json_deep_copy(src);
            json_object_set_new(e, "rescore", json_string("kept: no observations to re-judge"));
            return e;
        }
        return entry_new(tc, VERDICT_INCONCLUSIVE, RESOLVE_NONE,
                         "not probed in the source run; run it again");
    }
    if (tc->scope == TC_SCOPE_MODEL) {
        json_array_append_new(model_units,
                              json_pack("{s:I, s:I, s:O}", "tc", (json_int_t)i, "device",
                                        (json_int_t)(d - plan->bench.devices), "observations",
                                        json_object_get(src, "observations")));
        return NULL;
    }
    return rejudge(plan, tc, p, d, src, dir);
}

static void judge_waiting_models(const struct plan *plan, json_t *model_units, const char *dir,
                                 json_t *rec, struct journal *j)
{
    for (size_t i = 0; i < plan_profiles_testcases(plan->profiles); i++) {
        json_t *units = json_array();
        size_t k;
        json_t *u;
        json_array_foreach(model_units, k, u)
        {
            if ((size_t)json_integer_value(json_object_get(u, "tc")) == i)
                json_array_append(units, u);
        }
        json_t *models = judge_model_group(plan, units);
        const char *model;
        json_t *members;
        json_object_foreach(models, model, members)
        {
            json_t *entry = judge_model_run(plan, i, model, members, dir);
            json_array_foreach(members, k, u)
            {
                const struct device *d =
                    &plan->bench.devices[json_integer_value(json_object_get(u, "device"))];
                json_t *e = json_deep_copy(entry);
                json_object_set(e, "observations", json_object_get(u, "observations"));
                journal_entry(j, d->id, i, e);
                struct assay_error err = {0};
                record_add_testcase(rec, d->id, e, &err);
            }
            json_decref(entry);
        }
        json_decref(models);
        json_decref(units);
    }
}

int rescore_execute(const struct plan *plan, const char *source_dir, const char *out_dir,
                    struct run_result *out, struct assay_error *err)
{
    char path[4200], id[160];
    struct journal j;
    memset(out, 0, sizeof(*out));
    snprintf(path, sizeof(path), "%s/run.json", source_dir);
    json_t *source = record_read(path, err);
    if (!source)
        return err->code;
    const char *source_id = json_string_value(json_object_get(source, "id"));
    int rc = open_new(out_dir, plan->bench.name, "rescore", source_id ? source_id : "", out->dir,
                      sizeof(out->dir), id, sizeof(id), &j, err);
    char src_devices[4200], dst_devices[4200];
    snprintf(src_devices, sizeof(src_devices), "%s/devices", source_dir);
    snprintf(dst_devices, sizeof(dst_devices), "%s/devices", out->dir);
    if (!rc)
        rc = run_copy_tree(src_devices, dst_devices, err);
    if (!rc)
        rc = copy_secrets(source_dir, out->dir, err);
    if (rc) {
        json_decref(source);
        return rc;
    }
    json_t *rec = record_new(&plan->bench, "rescore", id);
    json_object_set_new(rec, "source_run", json_string(source_id ? source_id : ""));
    json_object_set(rec, "allowed", json_object_get(source, "allowed"));
    json_object_set_new(rec, "profiles", plan_profiles_describe(plan->profiles));
    json_t *prov = provenance_collect(plan, err);
    if (prov)
        json_object_set_new(rec, "provenance", prov);
    json_t *model_units = json_array();
    for (size_t k = 0; k < plan->bench.ndevices; k++) {
        const struct device *d = &plan->bench.devices[k];
        json_t *src_dev = find_id(json_object_get(source, "devices"), d->id);
        if (!src_dev) /* a device added to the bench since: nothing was observed */
            continue;
        for (size_t i = 0; i < plan_profiles_testcases(plan->profiles); i++) {
            json_t *e = rescore_one(plan, i, d, src_dev, out->dir, model_units);
            if (!e)
                continue;
            journal_entry(&j, d->id, i, e);
            record_add_testcase(rec, d->id, e, err);
        }
    }
    judge_waiting_models(plan, model_units, out->dir, rec, &j);
    json_decref(model_units);
    entry_sort(plan, rec);
    /* Observations from a swapped unit stay unusable whatever the judges now say. */
    size_t k;
    json_t *src_dev;
    json_array_foreach(json_object_get(source, "devices"), k, src_dev)
    {
        json_t *what = json_object_get(src_dev, "identity_changed");
        json_t *dev = record_device(rec, json_string_value(json_object_get(src_dev, "id")));
        if (what && dev)
            entry_mark_swapped(dev, what);
    }
    json_t *obls = plan_profiles_obligations(plan->profiles);
    rc = close_new(rec, out->dir, &j, &plan->catalogue, obls, err);
    json_decref(obls);
    json_decref(source);
    out->record = rec;
    return rc;
}

static bool reviewable(const json_t *rec, const struct review_decision *d, char *why, size_t size)
{
    const json_t *dev = find_id(json_object_get(rec, "devices"), d->device);
    if (!dev) {
        snprintf(why, size, "no device '%s' in the run", d->device);
        return false;
    }
    const json_t *cell = find_id(json_object_get(dev, "obligations"), d->obligation);
    if (!cell) {
        snprintf(why, size, "no obligation '%s' on device '%s'", d->obligation, d->device);
        return false;
    }
    const char *v = json_string_value(json_object_get(cell, "verdict"));
    if (strcmp(v, "INCONCLUSIVE")) {
        snprintf(why, size, "%s %s is %s: only INCONCLUSIVE items are decided by review", d->device,
                 d->obligation, v);
        return false;
    }
    enum verdict nv = verdict_parse(d->verdict);
    if (nv != VERDICT_PASS && nv != VERDICT_FAIL && nv != VERDICT_NOT_APPLICABLE) {
        snprintf(why, size, "a review decides PASS, FAIL or NOT_APPLICABLE, not '%s'", d->verdict);
        return false;
    }
    return true;
}

int review_execute(const char *source_dir, const struct review_decision *d, size_t n,
                   const char *by, const char *reason, const char *out_dir,
                   const struct catalogue *cat, struct run_result *out, struct assay_error *err)
{
    char path[4200], id[160], why[512], now[CLOCK_UTC_MAX];
    struct journal j;
    memset(out, 0, sizeof(*out));
    snprintf(path, sizeof(path), "%s/run.json", source_dir);
    json_t *rec = record_read(path, err);
    if (!rec)
        return err->code;
    for (size_t i = 0; i < n; i++)
        if (!reviewable(rec, &d[i], why, sizeof(why))) {
            json_decref(rec);
            return assay_fail(err, ASSAY_EINVAL, "%s", why);
        }
    const char *source_id = json_string_value(json_object_get(rec, "id"));
    const char *bench = json_string_value(json_object_get(json_object_get(rec, "bench"), "name"));
    char src_id[160];
    snprintf(src_id, sizeof(src_id), "%s", source_id ? source_id : "");
    int rc = open_new(out_dir, bench, "review", src_id, out->dir, sizeof(out->dir), id, sizeof(id),
                      &j, err);
    char src_devices[4200], dst_devices[4200];
    snprintf(src_devices, sizeof(src_devices), "%s/devices", source_dir);
    snprintf(dst_devices, sizeof(dst_devices), "%s/devices", out->dir);
    if (!rc)
        rc = run_copy_tree(src_devices, dst_devices, err);
    if (!rc)
        rc = copy_secrets(source_dir, out->dir, err);
    if (rc) {
        json_decref(rec);
        return rc;
    }
    json_object_set_new(rec, "kind", json_string("review"));
    json_object_set_new(rec, "id", json_string(id));
    json_object_set_new(rec, "started", json_string(clock_utc_now(now)));
    json_object_set_new(rec, "source_run", json_string(src_id));
    json_t *reviews = json_object_get(rec, "reviews");
    if (!reviews) {
        reviews = json_array();
        json_object_set_new(rec, "reviews", reviews);
    }
    clock_utc_now(now);
    for (size_t i = 0; i < n; i++) {
        json_t *r = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "device", d[i].device, "obligation",
                              d[i].obligation, "verdict", d[i].verdict, "by", by, "reason", reason,
                              "utc", now);
        json_t *l = json_pack("{s:s, s:O}", "type", "review", "review", r);
        journal_append(&j, l, err);
        json_decref(l);
        json_array_append_new(reviews, r);
    }
    json_t *obls = json_deep_copy(json_object_get(rec, "obligations"));
    rc = close_new(rec, out->dir, &j, cat, obls, err);
    json_decref(obls);
    out->record = rec;
    return rc;
}
