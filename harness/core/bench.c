/* bench.c: loading and checking a bench file and its dossiers (see bench.h). */
#include "bench.h"

#include <fnmatch.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"

static const char *const category_names[] = {"safe", "intrusive", "destructive", "dos"};

unsigned category_parse(const char *name)
{
    for (unsigned i = 0; i < 4; i++)
        if (name && !strcmp(name, category_names[i]))
            return 1u << i;
    return 0;
}

const char *category_name(unsigned one_category)
{
    for (unsigned i = 0; i < 4; i++)
        if (one_category == 1u << i)
            return category_names[i];
    return "unknown";
}

static unsigned categories_of(const json_t *list)
{
    unsigned bits = 0;
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) bits |= category_parse(json_string_value(v));
    return bits;
}

static int int_or(const json_t *obj, const char *key, int dflt)
{
    json_t *v = json_object_get(obj, key);
    return json_is_integer(v) ? (int)json_integer_value(v) : dflt;
}

static const char *str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static char *dir_of(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return NULL;
    char *d = strdup(dirname(copy));
    free(copy);
    return d;
}

/* Joins a relative path onto dir; an absolute path is returned as is. Caller frees. */
static char *resolve(const char *dir, const char *rel)
{
    if (rel[0] == '/')
        return strdup(rel);
    size_t n = strlen(dir) + strlen(rel) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, rel);
    return p;
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Extracts the host of an http(s) URL into host (brackets removed). */
static bool url_host(const char *url, char *host, size_t size)
{
    const char *p;
    if (!strncmp(url, "http://", 7))
        p = url + 7;
    else if (!strncmp(url, "https://", 8))
        p = url + 8;
    else
        return false;
    size_t n;
    if (*p == '[') {
        const char *end = strchr(p, ']');
        if (!end)
            return false;
        p++;
        n = (size_t)(end - p);
    } else {
        n = strcspn(p, ":/?#");
    }
    if (n == 0 || n >= size || memchr(p, '@', n))
        return false;
    memcpy(host, p, n);
    host[n] = 0;
    return true;
}

static void check_pages(struct dossier *d, const struct scope *allowed, struct diag_list *diags)
{
    json_t *pages = json_object_get(d->json, "published");
    const char *name;
    json_t *pg;
    char *dir = dir_of(d->path);
    json_object_foreach(pages, name, pg)
    {
        const char *url = str(pg, "url"), *file = str(pg, "file");
        if ((url != NULL) == (file != NULL)) {
            yamldoc_diag(&d->doc, diags, pages, name, 0,
                         "published.%s: give exactly one of 'url' or 'file'", name);
            continue;
        }
        if (file) {
            char *full = dir ? resolve(dir, file) : NULL;
            if (!full || !is_file(full))
                yamldoc_diag(&d->doc, diags, pg, "file", 0, "published.%s.file: no such file '%s'",
                             name, file);
            free(full);
            continue;
        }
        char host[256];
        if (!url_host(url, host, sizeof(host)))
            yamldoc_diag(&d->doc, diags, pg, "url", 0,
                         "published.%s.url: expected an http:// or https:// URL with a host", name);
        else if (allowed && !scope_allows(allowed, host))
            yamldoc_diag(&d->doc, diags, pg, "url", 0,
                         "published.%s.url: host '%s' is not in the bench's allowed_hosts", name,
                         host);
    }
    free(dir);
}

static void check_ics(struct dossier *d, bench_known_obligation_fn known, void *ctx,
                      struct diag_list *diags)
{
    json_t *ics = json_object_get(d->json, "ics");
    const char *id;
    json_t *e;
    json_object_foreach(ics, id, e)
    {
        if (!strncmp(id, "PSTI-", 5))
            yamldoc_diag(&d->doc, diags, ics, id, 0,
                         "ics.%s: an ICS entry cannot change a PSTI obligation", id);
        else if (known && !known(id, ctx))
            yamldoc_diag(&d->doc, diags, ics, id, 0, "ics.%s: not an obligation in the catalogue",
                         id);
    }
}

static int dossier_check(struct dossier *d, const char *expect_model, const struct scope *allowed,
                         bench_known_obligation_fn known, void *ctx, struct diag_list *diags)
{
    size_t before = diag_count(diags);
    int rc = yamldoc_load(&d->doc, d->path, &dossier_schema, diags);
    if (rc == ASSAY_EIO || !d->doc.root)
        return rc ? rc : ASSAY_EINVAL;
    d->json = json_incref(d->doc.root);
    const char *model = str(d->json, "model");
    if (expect_model && model && strcmp(model, expect_model))
        yamldoc_diag(&d->doc, diags, d->json, "model", 0,
                     "model: the dossier is for '%s' but the bench names it for '%s'", model,
                     expect_model);
    check_pages(d, allowed, diags);
    check_ics(d, known, ctx, diags);
    return diag_count(diags) == before ? 0 : ASSAY_EINVAL;
}

int dossier_load(struct dossier *d, const char *path, const char *expect_model,
                 bench_known_obligation_fn known, void *ctx, struct diag_list *diags)
{
    memset(d, 0, sizeof(*d));
    d->path = strdup(path);
    d->model = strdup(expect_model ? expect_model : "");
    if (!d->path || !d->model)
        return ASSAY_ENOMEM;
    return dossier_check(d, expect_model, NULL, known, ctx, diags);
}

void dossier_release(struct dossier *d)
{
    json_decref(d->json);
    yamldoc_release(&d->doc);
    free(d->model);
    free(d->path);
    memset(d, 0, sizeof(*d));
}

static void read_defaults(struct bench *b)
{
    json_t *d = json_object_get(b->doc.root, "defaults");
    b->defaults.timeout_ms = int_or(d, "timeout_ms", 3000);
    b->defaults.testcase_timeout_s = int_or(d, "testcase_timeout_s", 60);
    b->defaults.device_timeout_s = int_or(d, "device_timeout_s", 1800);
    b->defaults.pause_ms = int_or(d, "pause_ms", 20);
    b->defaults.max_connections = int_or(d, "max_connections", 1);
    b->defaults.worker_memory_mb = int_or(d, "worker_memory_mb", 16);
    json_t *allow = json_object_get(d, "allow");
    b->defaults.allow = allow ? categories_of(allow) : (CATEGORY_SAFE | CATEGORY_INTRUSIVE);
}

/* Reports a value equal to an earlier one in the same list of objects. */
static void check_unique(struct bench *b, struct diag_list *diags, json_t *list, size_t i,
                         const char *key, const char *what)
{
    const char *v = str(json_array_get(list, i), key);
    for (size_t j = 0; v && j < i; j++) {
        const char *w = str(json_array_get(list, j), key);
        if (w && !strcmp(v, w)) {
            struct yamldoc_pos first = yamldoc_where(&b->doc, json_array_get(list, j), key, 0);
            yamldoc_diag(&b->doc, diags, json_array_get(list, i), key, 0,
                         "devices[%zu].%s: duplicate %s '%s' (first at line %d)", i, key, what, v,
                         first.line);
            return;
        }
    }
}

static void check_device(struct bench *b, struct diag_list *diags, size_t i)
{
    json_t *list = json_object_get(b->doc.root, "devices");
    json_t *dev = json_array_get(list, i);
    check_unique(b, diags, list, i, "id", "device id");
    check_unique(b, diags, list, i, "address", "address");

    const char *model = str(dev, "model");
    if (model && !json_object_get(json_object_get(b->doc.root, "dossiers"), model))
        yamldoc_diag(&b->doc, diags, dev, "model", 0,
                     "devices[%zu].model: no dossier for model '%s' under 'dossiers'", i, model);

    json_t *allow = json_object_get(dev, "allow");
    unsigned extra = allow ? categories_of(allow) & ~b->defaults.allow : 0;
    if (extra)
        yamldoc_diag(&b->doc, diags, dev, "allow", 0,
                     "devices[%zu].allow: may only narrow defaults.allow", i);

    json_t *ifs = json_object_get(dev, "interfaces");
    json_t *itf;
    size_t k;
    json_array_foreach(ifs, k, itf)
    {
        for (size_t j = 0; j < k; j++) {
            json_t *o = json_array_get(ifs, j);
            if (json_equal(json_object_get(o, "kind"), json_object_get(itf, "kind")) &&
                json_equal(json_object_get(o, "port"), json_object_get(itf, "port")))
                yamldoc_diag(&b->doc, diags, ifs, NULL, k,
                             "devices[%zu].interfaces[%zu]: the same kind and port as "
                             "interfaces[%zu]",
                             i, k, j);
        }
        const char *broker = str(itf, "broker_address");
        if (broker)
            scope_add(&b->scope, broker, NULL);
    }
    json_t *creds = json_object_get(dev, "credentials");
    const char *role;
    json_t *c;
    json_object_foreach(creds, role, c)
    {
        if (!json_object_get(c, "password") && !json_object_get(c, "key") &&
            !json_object_get(c, "certificate"))
            yamldoc_diag(&b->doc, diags, creds, role, 0,
                         "devices[%zu].credentials.%s: needs a password, a key or a certificate", i,
                         role);
    }
    const char *addr = str(dev, "address");
    if (addr)
        scope_add(&b->scope, addr, NULL);
}

static void load_dossiers(struct bench *b, bench_known_obligation_fn known, void *ctx,
                          struct diag_list *diags)
{
    json_t *map = json_object_get(b->doc.root, "dossiers");
    struct scope allowed;
    scope_init(&allowed);
    size_t i;
    json_t *h;
    json_array_foreach(json_object_get(b->doc.root, "allowed_hosts"), i, h)
        scope_add(&allowed, json_string_value(h), NULL);

    b->dossiers = calloc(json_object_size(map) + 1, sizeof(*b->dossiers));
    if (!b->dossiers) {
        scope_release(&allowed);
        return;
    }
    const char *model;
    json_t *path;
    json_object_foreach(map, model, path)
    {
        struct dossier *d = &b->dossiers[b->ndossiers];
        d->model = strdup(model);
        d->path = resolve(b->dir, json_string_value(path));
        if (!d->model || !d->path)
            break;
        b->ndossiers++;
        if (!is_file(d->path)) {
            yamldoc_diag(&b->doc, diags, map, model, 0, "dossiers.%s: no such file '%s'", model,
                         json_string_value(path));
            continue;
        }
        dossier_check(d, model, &allowed, known, ctx, diags);
    }
    scope_release(&allowed);
}

static struct dossier *find_dossier(struct bench *b, const char *model)
{
    for (size_t i = 0; model && i < b->ndossiers; i++)
        if (!strcmp(b->dossiers[i].model, model))
            return &b->dossiers[i];
    return NULL;
}

int bench_load(struct bench *b, const char *path, bench_known_obligation_fn known, void *ctx,
               struct diag_list *diags)
{
    memset(b, 0, sizeof(*b));
    scope_init(&b->scope);
    size_t before = diag_count(diags);
    b->path = strdup(path);
    b->dir = dir_of(path);
    if (!b->path || !b->dir)
        return ASSAY_ENOMEM;
    int rc = yamldoc_load(&b->doc, path, &bench_schema, diags);
    if (rc == ASSAY_EIO)
        return rc;
    json_t *root = b->doc.root;
    if (!json_is_object(root))
        return ASSAY_EINVAL;

    b->name = str(root, "name");
    b->lab = str(root, "lab");
    b->operator_name = str(root, "operator");
    b->parameters = json_object_get(root, "parameters");
    read_defaults(b);

    json_t *devs = json_object_get(root, "devices");
    size_t n = json_array_size(devs);
    b->devices = calloc(n ? n : 1, sizeof(*b->devices));
    if (!b->devices)
        return ASSAY_ENOMEM;
    for (size_t i = 0; i < n; i++)
        check_device(b, diags, i);

    size_t i;
    json_t *h;
    json_array_foreach(json_object_get(root, "allowed_hosts"), i, h)
        scope_add(&b->scope, json_string_value(h), NULL);

    load_dossiers(b, known, ctx, diags);

    for (i = 0; i < n; i++) {
        json_t *dj = json_array_get(devs, i);
        struct device *d = &b->devices[b->ndevices++];
        d->json = dj;
        d->id = str(dj, "id");
        d->model = str(dj, "model");
        d->serial = str(dj, "serial");
        d->address = str(dj, "address");
        d->state = str(dj, "state");
        json_t *allow = json_object_get(dj, "allow");
        d->allow = allow ? categories_of(allow) & b->defaults.allow : b->defaults.allow;
        d->dossier = find_dossier(b, d->model);
    }
    return diag_count(diags) == before ? 0 : ASSAY_EINVAL;
}

void bench_release(struct bench *b)
{
    for (size_t i = 0; i < b->ndossiers; i++)
        dossier_release(&b->dossiers[i]);
    free(b->dossiers);
    free(b->devices);
    scope_release(&b->scope);
    yamldoc_release(&b->doc);
    free(b->path);
    free(b->dir);
    memset(b, 0, sizeof(*b));
}

const struct device *bench_device(const struct bench *b, const char *id)
{
    for (size_t i = 0; id && i < b->ndevices; i++)
        if (b->devices[i].id && !strcmp(b->devices[i].id, id))
            return &b->devices[i];
    return NULL;
}

int bench_replace_dossier(struct bench *b, const char *model, const char *path,
                          bench_known_obligation_fn known, void *ctx, struct diag_list *diags)
{
    struct dossier *old = find_dossier(b, model);
    if (!old) {
        diag_add(diags, path, 0, 0, "the bench has no model '%s'", model);
        return ASSAY_EINVAL;
    }
    struct dossier fresh;
    int rc = dossier_load(&fresh, path, model, known, ctx, diags);
    if (rc) {
        dossier_release(&fresh);
        return rc;
    }
    dossier_release(old);
    *old = fresh;
    return 0;
}

int bench_select_devices(struct bench *b, const char *const *patterns, size_t n,
                         struct diag_list *diags)
{
    if (n == 0)
        return 0;
    int rc = 0;
    for (size_t k = 0; k < n; k++) {
        bool any = false;
        for (size_t i = 0; i < b->ndevices && !any; i++)
            any = fnmatch(patterns[k], b->devices[i].id, 0) == 0;
        if (!any) {
            diag_add(diags, b->path, 0, 0, "--device '%s' matches no device of the bench",
                     patterns[k]);
            rc = ASSAY_EINVAL;
        }
    }
    size_t kept = 0;
    for (size_t i = 0; i < b->ndevices; i++) {
        bool match = false;
        for (size_t k = 0; k < n && !match; k++)
            match = fnmatch(patterns[k], b->devices[i].id, 0) == 0;
        if (match)
            b->devices[kept++] = b->devices[i];
    }
    b->ndevices = kept;
    return rc;
}
