/*
 * bench.h: the bench file and the dossiers it names (DESIGN.md, "Bench file and dossier").
 *
 * bench_load() reads a bench file, checks it and every dossier it names, and
 * reports every problem with file:line:column. The reference, with every key
 * documented, is fixtures/bench.example.yaml (and fixtures/dossiers/ts-100.yaml).
 *
 * Ownership: a struct bench owns everything it points to; bench_release()
 * frees it. The json_t members are owned references kept for profiles and
 * run.json (the device object as a probe sees it, the dossier as a judge does).
 */
#ifndef ASSAY_CORE_BENCH_H
#define ASSAY_CORE_BENCH_H

#include <jansson.h>
#include <stdbool.h>

#include "diag.h"
#include "scope.h"
#include "yamldoc.h"

#define BENCH_MAX_DEVICES 4096

enum category {
    CATEGORY_SAFE = 1 << 0,
    CATEGORY_INTRUSIVE = 1 << 1,
    CATEGORY_DESTRUCTIVE = 1 << 2,
    CATEGORY_DOS = 1 << 3
};

/* Parses "safe", "intrusive", "destructive", "dos"; 0 if unknown. */
unsigned category_parse(const char *name);
const char *category_name(unsigned one_category);

struct bench_defaults {
    int timeout_ms;
    int testcase_timeout_s;
    int device_timeout_s;
    int pause_ms;
    int max_connections;
    int worker_memory_mb; /* a device worker's memory budget (anonymous PSS); 0: none */
    unsigned allow;       /* enum category bits */
};

struct dossier {
    char *model;  /* owned */
    char *path;   /* owned: the dossier file as resolved */
    json_t *json; /* owned reference */
    struct yamldoc doc;
};

struct device {
    const char *id, *model, *serial, *address, *state; /* borrowed from json */
    unsigned allow;                                    /* categories allowed on this device */
    struct dossier *dossier;                           /* borrowed from the bench */
    json_t *json; /* borrowed: the device object from the bench file */
};

struct bench {
    char *path;                             /* owned: the bench file */
    char *dir;                              /* owned: its directory, for relative dossier paths */
    const char *name, *lab, *operator_name; /* borrowed from json */
    struct bench_defaults defaults;
    struct device *devices; /* owned array */
    size_t ndevices;
    struct dossier *dossiers; /* owned array */
    size_t ndossiers;
    struct scope scope; /* every address the run may touch */
    json_t *parameters; /* borrowed: test-case parameter overrides, or NULL */
    struct yamldoc doc; /* owns the bench's json */
};

/* Set by the caller to refuse ICS entries for unknown obligations (may be NULL). */
typedef bool (*bench_known_obligation_fn)(const char *id, void *ctx);

/*
 * Loads and checks a bench file and its dossiers. Every problem goes to diags.
 * Returns 0 when the bench is usable, ASSAY_EINVAL when any problem was
 * found, ASSAY_EIO when the bench file could not be read. `b` must be
 * released with bench_release() in every case.
 */
int bench_load(struct bench *b, const char *path, bench_known_obligation_fn known, void *ctx,
               struct diag_list *diags);

/* Loads and checks one dossier file on its own (no bench). Same return values. */
int dossier_load(struct dossier *d, const char *path, const char *expect_model,
                 bench_known_obligation_fn known, void *ctx, struct diag_list *diags);
void dossier_release(struct dossier *d);

void bench_release(struct bench *b);

/* Keeps only the devices whose id matches one of the shell patterns (fnmatch),
 * e.g. to run part of a bench. A pattern that matches no device is a problem
 * reported in diags (ASSAY_EINVAL). With n == 0 every device is kept. */
int bench_select_devices(struct bench *b, const char *const *patterns, size_t n,
                         struct diag_list *diags);

/* Replaces the dossier of `model` with the one in `path` (checked like any
 * dossier), e.g. a corrected dossier for `assay rescore`. Devices keep
 * pointing at it. Returns 0, ASSAY_EINVAL (no such model, or problems in
 * diags) or ASSAY_EIO. */
int bench_replace_dossier(struct bench *b, const char *model, const char *path,
                          bench_known_obligation_fn known, void *ctx, struct diag_list *diags);

/* The device with this id, or NULL. */
const struct device *bench_device(const struct bench *b, const char *id);

/* The schemas, for tools that document or test them. */
extern const struct yschema bench_schema;
extern const struct yschema dossier_schema;

#endif
