/* catalogue.c: loading the obligation catalogue (see catalogue.h). */
#include "catalogue.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

static bool valid_id(const char *s)
{
    size_t n = strlen(s);
    return n >= 3 && n <= 40 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == n;
}

static const char *const levels[] = {"mandatory", "recommended", "informative", NULL};
static const char *const assessments[] = {"network", "documentary", "manual", NULL};
static const char *const modes[] = {"NET", "DOC", "UI", "PHY", "PROC", NULL};
static const char *const protocols[] = {"mqtt", "coap", "modbus", NULL};
static const char *const kinds[] = {"provision", "method", "informative", NULL};

static const struct yschema text = {.type = YS_STRING, .what = "text"};
static const struct yschema id = {
    .type = YS_STRING, .what = "an obligation id (A-Z, 0-9, '.', '-')", .valid = valid_id};
static const struct yschema ids = {.type = YS_SEQ, .what = "a list of ids", .items = &id};
static const struct yschema boolean = {.type = YS_BOOL, .what = "true or false"};
static const struct yschema level = {.type = YS_STRING, .what = "a level", .choices = levels};
static const struct yschema kind = {.type = YS_STRING, .what = "a kind", .choices = kinds};
static const struct yschema assessment = {
    .type = YS_STRING, .what = "an assessment", .choices = assessments};
static const struct yschema assessment_list = {
    .type = YS_SEQ, .what = "a list of assessments", .items = &assessment, .min = 1};
static const struct yschema mode = {.type = YS_STRING, .what = "a mode", .choices = modes};
static const struct yschema mode_list = {.type = YS_SEQ, .what = "a list of modes", .items = &mode};
static const struct yschema protocol = {
    .type = YS_STRING, .what = "a protocol", .choices = protocols};
static const struct yschema protocol_list = {
    .type = YS_SEQ, .what = "a list of protocols", .items = &protocol};

static const struct yschema_field entry_fields[] = {
    {"id", &id, true},
    {"source", &text, true},
    {"clause", &text, true},
    {"title", &text, true},
    {"summary", &text, false},
    {"level", &level, true},
    {"kind", &kind, false},
    {"conditional", &boolean, false},
    {"condition", &text, false},
    {"legal", &boolean, true},
    {"assessment", &assessment_list, true},
    {"modes", &mode_list, false},
    {"protocols", &protocol_list, false},
    {"related", &ids, false},
    {NULL, NULL, false},
};
static const struct yschema entry = {
    .type = YS_MAP, .what = "an obligation", .fields = entry_fields};
static const struct yschema entries = {
    .type = YS_SEQ, .what = "a list of obligations", .items = &entry, .min = 1};
static const struct yschema version = {
    .type = YS_INT, .what = "the format version", .min = 1, .max = 1};
static const struct yschema_field root_fields[] = {
    {"schema", &version, false},
    {"obligations", &entries, true},
    {NULL, NULL, false},
};
static const struct yschema root = {.type = YS_MAP, .what = "a catalogue", .fields = root_fields};

static const char *str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

int catalogue_load(struct catalogue *c, const char *path, struct diag_list *diags)
{
    memset(c, 0, sizeof(*c));
    size_t before = diag_count(diags);
    int rc = yamldoc_load(&c->doc, path, &root, diags);
    if (rc == ASSAY_EIO)
        return rc;
    json_t *list = json_object_get(c->doc.root, "obligations");
    size_t n = json_array_size(list);
    c->items = calloc(n ? n : 1, sizeof(*c->items));
    if (!c->items)
        return ASSAY_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(list, i);
        struct obligation *o = &c->items[c->n];
        o->json = e;
        o->id = str(e, "id");
        if (!o->id)
            continue;
        if (catalogue_find(c, o->id)) {
            yamldoc_diag(&c->doc, diags, e, "id", 0, "obligations[%zu].id: duplicate id '%s'", i,
                         o->id);
            continue;
        }
        o->source = str(e, "source");
        o->clause = str(e, "clause");
        o->title = str(e, "title");
        o->summary = str(e, "summary");
        o->level = str(e, "level");
        o->condition = str(e, "condition");
        o->legal = json_is_true(json_object_get(e, "legal"));
        o->conditional = json_is_true(json_object_get(e, "conditional"));
        size_t k;
        json_t *a;
        json_array_foreach(json_object_get(e, "assessment"), k, a)
        {
            const char *s = json_string_value(a);
            if (!strcmp(s, "network"))
                o->assessment |= ASSESS_NETWORK;
            else if (!strcmp(s, "documentary"))
                o->assessment |= ASSESS_DOCUMENTARY;
            else
                o->assessment |= ASSESS_MANUAL;
        }
        c->n++;
    }
    /* Every related id must exist. */
    for (size_t i = 0; i < c->n; i++) {
        size_t k;
        json_t *r;
        json_t *rel = json_object_get(c->items[i].json, "related");
        json_array_foreach(rel, k, r)
        {
            if (!catalogue_find(c, json_string_value(r)))
                yamldoc_diag(&c->doc, diags, rel, NULL, k,
                             "%s: related id '%s' is not in the "
                             "catalogue",
                             c->items[i].id, json_string_value(r));
        }
    }
    return diag_count(diags) == before ? 0 : ASSAY_EINVAL;
}

void catalogue_release(struct catalogue *c)
{
    free(c->items);
    yamldoc_release(&c->doc);
    memset(c, 0, sizeof(*c));
}

const struct obligation *catalogue_find(const struct catalogue *c, const char *oid)
{
    for (size_t i = 0; oid && i < c->n; i++)
        if (!strcmp(c->items[i].id, oid))
            return &c->items[i];
    return NULL;
}

bool catalogue_known(const char *oid, void *ctx)
{
    return catalogue_find(ctx, oid) != NULL;
}
