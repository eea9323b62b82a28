/* profiles.c: the profiles of a run, loaded through the Lua runtime (see profiles.h). */
#include "profiles.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lua/profile.h"

struct plan_profiles {
    struct profile **v; /* owned */
    size_t n;
    const struct profile **order_p; /* owned array: the run order, built after loading */
    const struct testcase **order_tc;
    size_t norder;
};

static void build_order(struct plan_profiles *pp);

/* Turns "path:line: message" into a diagnostic naming the file under root. */
static void add_profile_diag(struct diag_list *diags, const char *root, const char *msg)
{
    const char *colon = strchr(msg, ':');
    char file[PATH_MAX];
    int line = 0;
    if (colon && colon > msg && (size_t)(colon - msg) < 256) {
        char *end;
        long l = strtol(colon + 1, &end, 10);
        if (end != colon + 1 && *end == ':' && l > 0 && l < 10000000) {
            snprintf(file, sizeof(file), "%s/%.*s", root, (int)(colon - msg), msg);
            line = (int)l;
            const char *rest = end + 1;
            while (*rest == ' ')
                rest++;
            diag_add(diags, file, line, 0, "%s", rest);
            return;
        }
    }
    diag_add(diags, root, 0, 0, "%s", msg);
}

int plan_profiles_load(struct plan_profiles **out, const char *root, const char *const *names,
                       size_t n, const struct catalogue *cat, const struct bench *bench,
                       struct diag_list *diags)
{
    (void)bench;
    struct plan_profiles *pp = calloc(1, sizeof(*pp));
    *out = pp;
    if (!pp || !(pp->v = calloc(n ? n : 1, sizeof(*pp->v))))
        return ASSAY_ENOMEM;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        struct profile_diags pd;
        struct assay_error err = {0};
        struct profile *p = NULL;
        profile_diags_init(&pd);
        int r = profile_load(names[i], root, catalogue_known, (void *)cat, NULL, &p, &pd, &err);
        for (size_t k = 0; k < pd.n; k++)
            add_profile_diag(diags, root, pd.msgs[k]);
        if (r && pd.n == 0)
            diag_add(diags, names[i], 0, 0, "cannot load profile: %s", err.msg);
        profile_diags_release(&pd);
        if (r) {
            rc = r;
            continue;
        }
        pp->v[pp->n++] = p;
    }
    build_order(pp);
    return rc;
}

void plan_profiles_free(struct plan_profiles *pp)
{
    if (!pp)
        return;
    for (size_t i = 0; i < pp->n; i++)
        profile_free(pp->v[i]);
    free(pp->v);
    free(pp->order_p);
    free(pp->order_tc);
    free(pp);
}

size_t plan_profiles_count(const struct plan_profiles *pp)
{
    return pp ? pp->n : 0;
}

/* Calls fn for each distinct test case, in profile order; a test case shared by two
 * profiles (the same id) is visited once. */
static void each_testcase(const struct plan_profiles *pp,
                          void (*fn)(const struct profile *, const struct testcase *, void *),
                          void *ctx)
{
    for (size_t i = 0; pp && i < pp->n; i++)
        for (size_t k = 0; k < pp->v[i]->n_tcs; k++) {
            const struct testcase *tc = &pp->v[i]->tcs[k];
            bool seen = false;
            for (size_t j = 0; j < i && !seen; j++)
                seen = profile_find(pp->v[j], tc->id) != NULL;
            if (!seen)
                fn(pp->v[i], tc, ctx);
        }
}

static void count_one(const struct profile *p, const struct testcase *tc, void *ctx)
{
    (void)p, (void)tc;
    (*(size_t *)ctx)++;
}

size_t plan_profiles_testcases(const struct plan_profiles *pp)
{
    return pp ? pp->norder : 0;
}

struct order_pass {
    struct plan_profiles *pp;
    bool identity; /* this pass takes the identity test cases, or the others */
};

static void append_order(const struct profile *p, const struct testcase *tc, void *ctx)
{
    struct order_pass *o = ctx;
    if (tc->identity != o->identity)
        return;
    o->pp->order_p[o->pp->norder] = p;
    o->pp->order_tc[o->pp->norder++] = tc;
}

static void build_order(struct plan_profiles *pp)
{
    size_t n = 0;
    each_testcase(pp, count_one, &n);
    pp->order_p = calloc(n ? n : 1, sizeof(*pp->order_p));
    pp->order_tc = calloc(n ? n : 1, sizeof(*pp->order_tc));
    /* Identity test cases first, so the unit is named before anything else is
     * asked of it; the worker reads it again at the end. */
    struct order_pass first = {pp, true}, rest = {pp, false};
    if (pp->order_p && pp->order_tc) {
        each_testcase(pp, append_order, &first);
        each_testcase(pp, append_order, &rest);
    }
}

static json_t *strlist_json(const struct strlist *l)
{
    json_t *a = json_array();
    for (size_t i = 0; i < l->n; i++)
        json_array_append_new(a, json_string(l->v[i]));
    return a;
}

void plan_profiles_get(const struct plan_profiles *pp, size_t i, const struct profile **p,
                       const struct testcase **tc)
{
    bool ok = pp && i < pp->norder;
    *p = ok ? pp->order_p[i] : NULL;
    *tc = ok ? pp->order_tc[i] : NULL;
}

json_t *plan_profiles_describe(const struct plan_profiles *pp)
{
    json_t *a = json_array();
    for (size_t i = 0; pp && i < pp->n; i++)
        json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "name", pp->v[i]->name, "version",
                                           pp->v[i]->version, "manifest", pp->v[i]->manifest));
    return a;
}

json_t *plan_profiles_obligations(const struct plan_profiles *pp)
{
    json_t *a = json_array();
    for (size_t i = 0; pp && i < pp->n; i++)
        for (size_t k = 0; k < pp->v[i]->obligations.n; k++) {
            const char *id = pp->v[i]->obligations.v[k];
            bool dup = false;
            size_t m;
            json_t *o;
            json_array_foreach(a, m, o) dup = dup || !strcmp(json_string_value(o), id);
            if (!dup)
                json_array_append_new(a, json_string(id));
        }
    return a;
}

static void describe_one(const struct profile *p, const struct testcase *tc, void *ctx)
{
    json_t *e =
        json_pack("{s:s, s:I, s:s, s:o, s:s, s:s, s:o, s:o, s:s, s:i, s:s}", "id", tc->id,
                  "version", (json_int_t)tc->version, "title", tc->title, "obligations",
                  strlist_json(&tc->obligations), "category", testcase_category_name(tc->category),
                  "scope", tc->scope == TC_SCOPE_MODEL ? "model" : "device", "interfaces",
                  strlist_json(&tc->if_kinds), "states", strlist_json(&tc->states), "file",
                  p->files[tc->file].path, "line", tc->line, "profile", p->name);
    json_array_append_new(ctx, e);
}

json_t *plan_profiles_testcase_list(const struct plan_profiles *pp)
{
    json_t *a = json_array();
    for (size_t i = 0; pp && i < pp->norder; i++)
        describe_one(pp->order_p[i], pp->order_tc[i], a);
    return a;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

json_t *plan_profiles_available(const char *root)
{
    json_t *a = json_array();
    DIR *d = opendir(root);
    if (!d)
        return a;
    char *names[256];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 256) {
        char path[PATH_MAX];
        struct stat st;
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s/profile.lua", root, e->d_name);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && (names[n] = strdup(e->d_name)))
            n++;
    }
    closedir(d);
    qsort(names, n, sizeof(names[0]), cmp_str);
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(a, json_string(names[i]));
        free(names[i]);
    }
    return a;
}
