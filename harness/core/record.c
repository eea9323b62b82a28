/* record.c: run.json in memory, roll-up, atomic write and read (see record.h). */
#include "record.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

#ifndef ASSAY_VERSION
#define ASSAY_VERSION "0.0.0"
#endif

/* A string member, or "" when absent. */
static const char *sv(const json_t *v)
{
    const char *s = json_string_value(v);
    return s ? s : "";
}

static json_t *allowed_list(unsigned bits)
{
    json_t *a = json_array();
    for (unsigned c = CATEGORY_SAFE; c <= CATEGORY_DOS; c <<= 1)
        if (bits & c)
            json_array_append_new(a, json_string(category_name(c)));
    return a;
}

/* The device as reports show it: identity and interfaces, never credentials. */
static json_t *device_entry(const struct device *d)
{
    json_t *e = json_object();
    static const char *const keys[] = {"id",       "model",   "serial", "mac",
                                       "firmware", "address", "state"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        json_t *v = json_object_get(d->json, keys[i]);
        if (v)
            json_object_set(e, keys[i], v);
    }
    json_object_set(e, "interfaces", json_object_get(d->json, "interfaces"));
    json_t *roles = json_array();
    const char *role;
    json_t *c;
    json_object_foreach(json_object_get(d->json, "credentials"), role, c) json_array_append_new(
        roles, json_pack("{s:s, s:O}", "role", role, "origin", json_object_get(c, "origin")));
    json_object_set_new(e, "credentials", roles);
    json_object_set_new(e, "allowed", allowed_list(d->allow));
    if (d->dossier && d->dossier->json) {
        /* What a reader of the report needs of the dossier; the whole file is hashed
         * into the evidence by the bench's path. */
        const json_t *dj = d->dossier->json;
        json_t *sum = json_pack("{s:s}", "file", d->dossier->path);
        static const char *const dkeys[] = {"product_name", "manufacturer",
                                            "statement_of_compliance", "ics"};
        for (size_t i = 0; i < sizeof(dkeys) / sizeof(dkeys[0]); i++)
            if (json_object_get(dj, dkeys[i]))
                json_object_set(sum, dkeys[i], json_object_get(dj, dkeys[i]));
        json_object_set_new(e, "dossier", sum);
    }
    json_object_set_new(e, "testcases", json_array());
    json_object_set_new(e, "obligations", json_array());
    return e;
}

json_t *record_new(const struct bench *b, const char *kind, const char *run_id)
{
    char now[CLOCK_UTC_MAX];
    json_t *rec = json_object();
    json_t *devs = json_array();
    if (!rec || !devs)
        return NULL;
    for (size_t i = 0; i < b->ndevices; i++)
        json_array_append_new(devs, device_entry(&b->devices[i]));
    json_object_set_new(rec, "schema_version", json_integer(RECORD_SCHEMA_VERSION));
    json_object_set_new(rec, "kind", json_string(kind));
    json_object_set_new(rec, "id", json_string(run_id));
    json_object_set_new(rec, "started", json_string(clock_utc_now(now)));
    json_object_set_new(rec, "finished", json_null());
    json_object_set_new(rec, "harness",
                        json_pack("{s:s, s:s}", "name", "assay", "version", ASSAY_VERSION));
    json_object_set_new(rec, "bench",
                        json_pack("{s:s?, s:s?, s:s?, s:s}", "name", b->name, "lab", b->lab,
                                  "operator", b->operator_name, "path", b->path));
    json_object_set_new(rec, "allowed", allowed_list(b->defaults.allow));
    json_object_set_new(rec, "profiles", json_array());
    json_object_set_new(rec, "obligations", json_array());
    json_object_set_new(rec, "devices", devs);
    return rec;
}

json_t *record_device(json_t *rec, const char *device_id)
{
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(rec, "devices"), i, d)
    {
        const char *id = json_string_value(json_object_get(d, "id"));
        if (id && device_id && !strcmp(id, device_id))
            return d;
    }
    return NULL;
}

int record_add_testcase(json_t *rec, const char *device_id, json_t *tc, struct assay_error *err)
{
    json_t *d = record_device(rec, device_id);
    if (!d) {
        json_decref(tc);
        return assay_fail(err, ASSAY_EINVAL, "no device '%s' in the run", device_id);
    }
    enum verdict v = verdict_parse(json_string_value(json_object_get(tc, "verdict")));
    if (v == VERDICT_NONE) {
        json_decref(tc);
        return assay_fail(err, ASSAY_EINTERNAL, "test case without a verdict on '%s'", device_id);
    }
    if (v == VERDICT_NOT_APPLICABLE && !*sv(json_object_get(tc, "rationale"))) {
        json_decref(tc);
        return assay_fail(err, ASSAY_EPROFILE, "NOT_APPLICABLE without a reason on '%s'",
                          device_id);
    }
    return json_array_append_new(json_object_get(d, "testcases"), tc) ? ASSAY_ENOMEM : 0;
}

static bool names(const json_t *tc, const char *obligation)
{
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(tc, "obligations"), i, o)
    {
        if (!strcmp(sv(o), obligation))
            return true;
    }
    return false;
}

static bool in_list(const json_t *list, const char *id)
{
    size_t i;
    json_t *o;
    json_array_foreach(list, i, o)
    {
        if (!strcmp(sv(o), id))
            return true;
    }
    return false;
}

static json_t *rollup_one(json_t *dev, const char *obligation, const struct catalogue *cat)
{
    json_t *tcs = json_object_get(dev, "testcases");
    size_t n = json_array_size(tcs), k = 0;
    struct verdict_item *items = calloc(n ? n : 1, sizeof(*items));
    json_t *ids = json_array();
    size_t i;
    json_t *tc;
    json_array_foreach(tcs, i, tc)
    {
        if (!names(tc, obligation))
            continue;
        items[k].verdict = verdict_parse(json_string_value(json_object_get(tc, "verdict")));
        items[k].resolve = json_object_get(tc, "resolve") ? RESOLVE_ASSESSOR : RESOLVE_NONE;
        k++;
        json_array_append(ids, json_object_get(tc, "id"));
    }
    struct verdict_item r = verdict_rollup(items, k);
    free(items);
    json_t *cell = json_pack("{s:s, s:s, s:o}", "id", obligation, "verdict",
                             verdict_name(r.verdict), "testcases", ids);
    if (r.resolve == RESOLVE_ASSESSOR)
        json_object_set_new(cell, "resolve", json_string("assessor"));
    if (k == 0)
        json_object_set_new(cell, "rationale",
                            json_string("no test case evidences this obligation on this device"));
    const struct obligation *o = cat ? catalogue_find(cat, obligation) : NULL;
    if (o && !o->legal)
        json_object_set_new(cell, "informative", json_true());
    return cell;
}

/* An assessor's review of this cell, the latest one, or NULL. */
static const json_t *review_of(const json_t *rec, const char *device, const char *obligation)
{
    const json_t *found = NULL;
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(rec, "reviews"), i, r)
    {
        if (!strcmp(sv(json_object_get(r, "device")), device) &&
            !strcmp(sv(json_object_get(r, "obligation")), obligation))
            found = r;
    }
    return found;
}

/* A reviewed cell takes the assessor's verdict; the computed one is kept beside it. */
static void apply_review(json_t *cell, const json_t *review)
{
    json_object_set(cell, "computed", json_object_get(cell, "verdict"));
    json_object_set(cell, "verdict", json_object_get(review, "verdict"));
    json_object_del(cell, "resolve");
    json_object_set_new(cell, "review",
                        json_pack("{s:O, s:O, s:O}", "by", json_object_get(review, "by"), "reason",
                                  json_object_get(review, "reason"), "utc",
                                  json_object_get(review, "utc")));
}

int record_rollup(json_t *rec, const json_t *obligations, const struct catalogue *cat)
{
    json_t *order = json_deep_copy(obligations);
    json_t *counts = json_object();
    size_t i;
    json_t *dev;
    /* Obligations named by test cases but not by the profiles come after. */
    json_array_foreach(json_object_get(rec, "devices"), i, dev)
    {
        size_t k;
        json_t *tc;
        json_array_foreach(json_object_get(dev, "testcases"), k, tc)
        {
            size_t m;
            json_t *o;
            json_array_foreach(json_object_get(tc, "obligations"), m, o)
            {
                if (!in_list(order, json_string_value(o)))
                    json_array_append(order, o);
            }
        }
    }
    json_array_foreach(json_object_get(rec, "devices"), i, dev)
    {
        json_t *cells = json_array();
        size_t k;
        json_t *o;
        json_array_foreach(order, k, o)
        {
            json_t *cell = rollup_one(dev, json_string_value(o), cat);
            const json_t *review =
                review_of(rec, sv(json_object_get(dev, "id")), json_string_value(o));
            if (review)
                apply_review(cell, review);
            const char *v = json_string_value(json_object_get(cell, "verdict"));
            json_object_set_new(counts, v,
                                json_integer(json_integer_value(json_object_get(counts, v)) + 1));
            json_array_append_new(cells, cell);
        }
        json_object_set_new(dev, "obligations", cells);
    }
    json_object_set_new(rec, "obligations", order);
    json_object_set_new(rec, "counts", counts);
    json_object_set_new(rec, "exit_code", json_integer(record_exit_code(rec)));
    return 0;
}

int record_exit_code(const json_t *rec)
{
    size_t n = 0, i;
    json_t *dev;
    json_array_foreach(json_object_get(rec, "devices"), i, dev) n +=
        json_array_size(json_object_get(dev, "obligations"));
    struct verdict_item *items = calloc(n ? n : 1, sizeof(*items));
    if (!items)
        return ASSAY_EXIT_UNDECIDED;
    size_t k = 0;
    json_array_foreach(json_object_get(rec, "devices"), i, dev)
    {
        size_t m;
        json_t *cell;
        json_array_foreach(json_object_get(dev, "obligations"), m, cell)
        {
            items[k].verdict = verdict_parse(json_string_value(json_object_get(cell, "verdict")));
            items[k].resolve = json_object_get(cell, "resolve") ? RESOLVE_ASSESSOR : RESOLVE_NONE;
            k++;
        }
    }
    int code = verdict_exit_code(items, k);
    free(items);
    return code;
}

int record_write(const json_t *rec, const char *path, struct assay_error *err)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
        return assay_fail(err, ASSAY_EINVAL, "path too long: %s", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return assay_fail(err, ASSAY_EIO, "cannot create %s: %s", tmp, strerror(errno));
    char *text = json_dumps(rec, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (!text) {
        close(fd);
        return assay_fail(err, ASSAY_ENOMEM, "cannot serialise the run record");
    }
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            free(text);
            close(fd);
            return assay_fail(err, ASSAY_EIO, "cannot write %s: %s", tmp, strerror(errno));
        }
        off += (size_t)w;
    }
    free(text);
    if (write(fd, "\n", 1) != 1 || fsync(fd) != 0 || close(fd) != 0)
        return assay_fail(err, ASSAY_EIO, "cannot finish %s: %s", tmp, strerror(errno));
    if (rename(tmp, path) != 0)
        return assay_fail(err, ASSAY_EIO, "cannot rename %s: %s", tmp, strerror(errno));
    return 0;
}

json_t *record_read(const char *path, struct assay_error *err)
{
    json_error_t je;
    json_t *rec = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!rec) {
        assay_fail(err, ASSAY_EINVAL, "%s:%d:%d: %s", path, je.line, je.column, je.text);
        return NULL;
    }
    json_t *v = json_object_get(rec, "schema_version");
    if (!json_is_integer(v) || json_integer_value(v) != RECORD_SCHEMA_VERSION ||
        !json_is_array(json_object_get(rec, "devices"))) {
        json_decref(rec);
        assay_fail(err, ASSAY_EINVAL, "%s: not a run record of schema version %d", path,
                   RECORD_SCHEMA_VERSION);
        return NULL;
    }
    return rec;
}

void record_make_id(const char *bench_name, char *buf, size_t size)
{
    char stamp[32], clean[41];
    struct tm tm;
    time_t t = time(NULL);
    unsigned char rnd[3] = {0, 0, 0};
    gmtime_r(&t, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    size_t j = 0;
    for (size_t i = 0; bench_name && bench_name[i] && j < sizeof(clean) - 1; i++) {
        char c = bench_name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (ok)
            clean[j++] = c;
        else if (j && clean[j - 1] != '-')
            clean[j++] = '-';
    }
    while (j && clean[j - 1] == '-')
        j--;
    clean[j] = 0;
    RAND_bytes(rnd, sizeof(rnd));
    snprintf(buf, size, "%s-%s-%02x%02x%02x", stamp, j ? clean : "bench", rnd[0], rnd[1], rnd[2]);
}
