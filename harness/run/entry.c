/* entry.c: one builder for test-case entries (see entry.h). */
#include "entry.h"

#include "core/clock.h"

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
