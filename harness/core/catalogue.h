/*
 * catalogue.h: the obligation catalogue (profiles/obligations.yaml).
 *
 * Every obligation a verdict can be recorded against, with a stable id:
 * PSTI-1..3 and PSTI-SOC, every ETSI EN 303 645 v2.1.1 provision (EN-5.1-1,
 * ...), TS 103 701's ICS test case (TS-4-1-1) and informative ids (INFO-...)
 * that are not legal obligations. Ownership: the catalogue owns its entries;
 * the strings are borrowed from its json and live until catalogue_release().
 */
#ifndef ASSAY_CORE_CATALOGUE_H
#define ASSAY_CORE_CATALOGUE_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "yamldoc.h"

enum assessment_mode {
    ASSESS_NETWORK = 1 << 0,
    ASSESS_DOCUMENTARY = 1 << 1,
    ASSESS_MANUAL = 1 << 2
};

struct obligation {
    const char *id, *source, *clause, *title, *summary, *level, *condition;
    bool legal;
    bool conditional;
    unsigned assessment; /* enum assessment_mode bits */
    json_t *json;        /* borrowed: the whole entry */
};

struct catalogue {
    struct obligation *items; /* owned array, in file order */
    size_t n;
    struct yamldoc doc;
};

/* Loads and checks the catalogue; every problem goes to diags. Returns 0,
 * ASSAY_EINVAL or ASSAY_EIO; release with catalogue_release() in every case. */
int catalogue_load(struct catalogue *c, const char *path, struct diag_list *diags);
void catalogue_release(struct catalogue *c);

/* The entry with this id, or NULL. */
const struct obligation *catalogue_find(const struct catalogue *c, const char *id);

/* For bench_load and the profile loader: ctx is a const struct catalogue *. */
bool catalogue_known(const char *id, void *ctx);

#endif
