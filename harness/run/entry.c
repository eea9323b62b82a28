/* entry.c: one builder for test-case entries (see entry.h). */
#include "entry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "run/plan.h"
#include "run/profiles.h"

json_t *entry_new(const struct testcase *tc, enum verdict v, enum resolve r, const char *rationale)
{
    char now[CLOCK_UTC_MAX];
    json_t *ob = json_array();
    for (size_t i = 0; i < tc->obligations.n; i++)
        json_array_append_new(ob, json_string(tc->obligations.v[i]));
    json_t *e =
        json_pack("{s:s, s:I, s:s, s:o, s:s, s:s, s:s, s:s, s:s}", "id", tc->id, "version",
                  (json_int_t)tc->version, "title", tc->title, "obligations", ob, "category",
                  testcase_category_name(tc->category), "scope",
                  tc->scope == TC_SCOPE_MODEL ? "model" : "device", "verdict", verdict_name(v),
                  "rationale", rationale ? rationale : "", "finished", clock_utc_now(now));
    if (e && r == RESOLVE_ASSESSOR)
        json_object_set_new(e, "resolve", json_string("assessor"));
    return e;
}

static const struct plan *sorting;

static size_t order_of(const char *id)
{
    size_t n = plan_profiles_testcases(sorting->profiles);
    for (size_t i = 0; id && i < n; i++) {
        const struct profile *p;
        const struct testcase *tc;
        plan_profiles_get(sorting->profiles, i, &p, &tc);
        if (!strcmp(tc->id, id))
            return i;
    }
    return n;
}

static int cmp_entries(const void *a, const void *b)
{
    size_t x = order_of(json_string_value(json_object_get(*(json_t *const *)a, "id")));
    size_t y = order_of(json_string_value(json_object_get(*(json_t *const *)b, "id")));
    return x < y ? -1 : x > y;
}

void entry_sort(const struct plan *plan, json_t *rec)
{
    size_t i;
    json_t *dev;
    sorting = plan;
    json_array_foreach(json_object_get(rec, "devices"), i, dev)
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

void entry_mark_swapped(json_t *device, json_t *what)
{
    char *b = json_dumps(json_object_get(what, "before"), JSON_COMPACT | JSON_ENCODE_ANY);
    char *a = json_dumps(json_object_get(what, "after"), JSON_COMPACT | JSON_ENCODE_ANY);
    char why[1024];
    snprintf(why, sizeof(why),
             "a different unit answered: %s reported identity %s at the start and %s at the "
             "end; repeat the test on one unit",
             json_string_value(json_object_get(what, "testcase")), b ? b : "?", a ? a : "?");
    free(b);
    free(a);
    size_t i;
    json_t *tc;
    json_array_foreach(json_object_get(device, "testcases"), i, tc)
    {
        if (json_object_get(tc, "computed"))
            continue; /* marked already */
        json_object_set_new(tc, "computed",
                            json_pack("{s:O, s:O}", "verdict", json_object_get(tc, "verdict"),
                                      "rationale", json_object_get(tc, "rationale")));
        json_object_set_new(tc, "verdict", json_string("INCONCLUSIVE"));
        json_object_set_new(tc, "rationale", json_string(why));
        json_object_del(tc, "resolve");
    }
    json_object_set(device, "identity_changed", what);
}
