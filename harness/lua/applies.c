/* applies.c: categories, parameter merging and applicability of a test case to a device. */
#include <stdio.h>
#include <string.h>

#include "lua/profile.h"

static const struct {
    unsigned bit;
    const char *name;
} CATEGORIES[] = {{TC_CAT_SAFE, "safe"},
                  {TC_CAT_INTRUSIVE, "intrusive"},
                  {TC_CAT_DESTRUCTIVE, "destructive"},
                  {TC_CAT_DOS, "dos"}};

const char *testcase_category_name(unsigned category)
{
    for (size_t i = 0; i < sizeof(CATEGORIES) / sizeof(CATEGORIES[0]); i++)
        if (CATEGORIES[i].bit == category)
            return CATEGORIES[i].name;
    return NULL;
}

unsigned testcase_category_parse(const char *name)
{
    for (size_t i = 0; i < sizeof(CATEGORIES) / sizeof(CATEGORIES[0]); i++)
        if (strcmp(CATEGORIES[i].name, name) == 0)
            return CATEGORIES[i].bit;
    return 0;
}

static bool same_kind(const json_t *def, const json_t *v)
{
    if (json_is_real(def))
        return json_is_number(v);
    if (json_is_boolean(def))
        return json_is_boolean(v);
    return json_typeof(def) == json_typeof(v);
}

int testcase_params(const struct testcase *tc, const json_t *overrides, json_t **out,
                    struct assay_error *err)
{
    *out = NULL;
    if (overrides && !json_is_object(overrides))
        return assay_fail(err, ASSAY_EINVAL, "test case '%s': parameters must be an object",
                          tc->id);
    json_t *merged = json_deep_copy(tc->params);
    if (!merged)
        return assay_fail(err, ASSAY_ENOMEM, "out of memory");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)overrides, k, v)
    {
        const json_t *def = json_object_get(tc->params, k);
        if (!def) {
            json_decref(merged);
            return assay_fail(err, ASSAY_EINVAL, "test case '%s' has no parameter '%s'", tc->id, k);
        }
        if (!same_kind(def, v)) {
            json_decref(merged);
            return assay_fail(err, ASSAY_EINVAL,
                              "test case '%s': parameter '%s' must have the type of its default",
                              tc->id, k);
        }
        json_object_set_new(merged, k,
                            json_is_real(def) && json_is_integer(v)
                                ? json_real((double)json_integer_value(v))
                                : json_deep_copy(v));
    }
    *out = merged;
    return 0;
}

static bool listed(const struct strlist *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (s && strcmp(l->v[i], s) == 0)
            return true;
    return false;
}

static bool has_interface(const struct testcase *tc, const json_t *device)
{
    size_t i;
    json_t *itf;
    json_array_foreach(json_object_get(device, "interfaces"), i, itf)
    {
        if (listed(&tc->if_kinds, json_string_value(json_object_get(itf, "kind"))))
            return true;
    }
    return false;
}

static void join(const struct strlist *l, const char *sep, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < l->n && used < size; i++) {
        int w = snprintf(buf + used, size - used, "%s%s", i ? sep : "", l->v[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

/* NOT_APPLICABLE or INCONCLUSIVE from an applies.ics provision; false if none excludes it. */
static bool ics_excludes(const struct testcase *tc, const json_t *dossier,
                         struct applicability *out)
{
    const json_t *ics = json_object_get(dossier, "ics");
    for (size_t i = 0; i < tc->ics.n; i++) {
        const json_t *e = json_object_get(ics, tc->ics.v[i]);
        const char *status = json_string_value(json_object_get(e, "status"));
        if (!status || strcmp(status, "not-applicable") != 0)
            continue;
        const char *why = json_string_value(json_object_get(e, "justification"));
        if (why && *why) {
            out->verdict = VERDICT_NOT_APPLICABLE;
            snprintf(out->reason, sizeof(out->reason), "ICS: %s not applicable: %s", tc->ics.v[i],
                     why);
        } else {
            out->verdict = VERDICT_INCONCLUSIVE;
            snprintf(out->reason, sizeof(out->reason),
                     "ICS marks %s not applicable without a justification", tc->ics.v[i]);
        }
        return true;
    }
    return false;
}

void testcase_applies(const struct testcase *tc, const json_t *device, const json_t *dossier,
                      unsigned allowed, struct applicability *out)
{
    char list[160];
    out->verdict = VERDICT_NONE;
    out->reason[0] = '\0';
    if (tc->if_kinds.n && !has_interface(tc, device)) {
        join(&tc->if_kinds, " or ", list, sizeof(list));
        out->verdict = VERDICT_NOT_APPLICABLE;
        snprintf(out->reason, sizeof(out->reason), "no %s interface", list);
        return;
    }
    if (ics_excludes(tc, dossier, out))
        return;
    const char *state = json_string_value(json_object_get(device, "state"));
    if (tc->states.n && !listed(&tc->states, state)) {
        join(&tc->states, " or ", list, sizeof(list));
        out->verdict = VERDICT_INCONCLUSIVE;
        snprintf(out->reason, sizeof(out->reason),
                 "device is in state '%s'; this test case needs it %s", state ? state : "unknown",
                 list);
        return;
    }
    if (!(tc->category & allowed)) {
        out->verdict = VERDICT_INCONCLUSIVE;
        snprintf(out->reason, sizeof(out->reason), "not authorised: %s",
                 testcase_category_name(tc->category));
    }
}
