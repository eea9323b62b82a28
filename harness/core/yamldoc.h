/*
 * yamldoc.h: YAML files checked against a schema and converted to JSON values.
 *
 * A bench file, a dossier and the obligation catalogue are read with libyaml,
 * checked against a static schema (unknown keys, wrong types, out-of-range
 * numbers, missing required keys, duplicate keys) and converted to jansson
 * values. Scalars are typed by the schema, not guessed: a firmware "4.2.0" or
 * a serial "000123" stays a string. Every problem is added to a diag_list
 * with file:line:column, and checking continues so all problems are reported.
 *
 * Untrusted input: the file size is capped (YAMLDOC_MAX_BYTES), anchors and
 * aliases are refused (no "billion laughs"), nesting depth is capped.
 */
#ifndef ASSAY_CORE_YAMLDOC_H
#define ASSAY_CORE_YAMLDOC_H

#include <jansson.h>
#include <stdbool.h>

#include "diag.h"

#define YAMLDOC_MAX_BYTES (8u << 20)
#define YAMLDOC_MAX_DEPTH 32

enum yschema_type {
    YS_STRING, /* any scalar, kept as a string */
    YS_INT,    /* a plain decimal integer within [min, max] */
    YS_BOOL,   /* true or false */
    YS_DATE,   /* YYYY-MM-DD, a valid calendar date; kept as a string */
    YS_MAP,    /* a mapping with the keys listed in `fields` */
    YS_DICT,   /* a mapping with free keys (checked by valid_key) and `items` values */
    YS_SEQ,    /* a sequence of `items` with min..max entries */
    YS_ANY     /* free-form: plain scalars typed as null, bool, integer, real or string */
};

struct yschema;

struct yschema_field {
    const char *key;
    const struct yschema *schema;
    bool required;
};

struct yschema {
    enum yschema_type type;
    const char *what;                   /* a noun phrase for messages: "a port number" */
    const struct yschema_field *fields; /* YS_MAP: terminated by a {NULL} entry */
    const struct yschema *items;        /* YS_SEQ items, YS_DICT values */
    long long min, max;                 /* YS_INT range; YS_SEQ count (max 0: no limit);
                                           YS_STRING length (max 0: 4096) */
    const char *const *choices;         /* YS_STRING: allowed values, NULL-terminated */
    bool (*valid)(const char *s);       /* YS_STRING: extra check, message uses `what` */
    bool (*valid_key)(const char *s);   /* YS_DICT: key check */
    const char *key_what;               /* YS_DICT: what a key must be */
};

struct yamldoc_pos {
    int line, column; /* 1-based; 0 when unknown */
};

struct yamldoc {
    char *file;               /* owned: the path as given, used in messages */
    json_t *root;             /* owned reference; NULL if the file could not be parsed at all */
    struct yamldoc_loc *locs; /* owned */
    size_t nlocs, caplocs;
};

/*
 * Reads `path`, checks it against `schema` and converts it. Problems go to
 * `diags`; returns 0 if none were found, ASSAY_EINVAL otherwise (doc->root may
 * still hold the parts that converted, for further checks), ASSAY_EIO if the
 * file cannot be read. `doc` must be released with yamldoc_release either way.
 */
int yamldoc_load(struct yamldoc *doc, const char *path, const struct yschema *schema,
                 struct diag_list *diags);

/* The same from memory; `name` is used in messages. */
int yamldoc_load_buffer(struct yamldoc *doc, const char *name, const char *text, size_t len,
                        const struct yschema *schema, struct diag_list *diags);

void yamldoc_release(struct yamldoc *doc);

/* Where the value stored under `key` of object `obj` (or at `index` of array
 * `obj` when key is NULL) came from. */
struct yamldoc_pos yamldoc_where(const struct yamldoc *doc, const json_t *container,
                                 const char *key, size_t index);

/* Where a container (object or array) started. */
struct yamldoc_pos yamldoc_where_node(const struct yamldoc *doc, const json_t *node);

/* Adds a diagnostic at the place of key/index in container. */
void yamldoc_diag(const struct yamldoc *doc, struct diag_list *diags, const json_t *container,
                  const char *key, size_t index, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Checks usable as yschema.valid. */
bool yamldoc_valid_identifier(const char *s); /* letters, digits, '.', '_', '-'; 1..64 chars */
bool yamldoc_valid_date(const char *s);       /* YYYY-MM-DD */

#endif
