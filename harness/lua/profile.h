/*
 * profile.h: loading a profile (manifest + test-case files), the test-case
 * contract, parameters and applicability.
 *
 * A profile is a folder <profiles>/<name>/ with a manifest profile.lua that
 * calls `profile { name, version, obligations, include, parameters }` once
 * (profiles/README.md). Included files live under <profiles>/testcases/ and
 * declare test cases with `testcase { ... }`. The <profiles> directory (the
 * parent of the profile folder) also holds lib/ (for require) and data/.
 *
 * The contract is checked at load, and every violation is reported as
 * "file:line: message" (all of them, in profile_diags). Loading runs the
 * manifest and the files in a sandbox under limits; no file is read again
 * afterwards: the runners use the source kept in struct profile.
 *
 * Nothing here touches the network. Loading reads files and blocks only on
 * the local file system.
 */
#ifndef ASSAY_LUA_PROFILE_H
#define ASSAY_LUA_PROFILE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/error.h"
#include "core/verdict.h"
#include "lua/sandbox.h"

enum testcase_category {
    TC_CAT_SAFE = 1,
    TC_CAT_INTRUSIVE = 2,
    TC_CAT_DESTRUCTIVE = 4,
    TC_CAT_DOS = 8
};

enum testcase_scope {
    TC_SCOPE_DEVICE = 0, /* judged per device */
    TC_SCOPE_MODEL       /* probed per device, judged once per model over every unit */
};

struct strlist {
    char **v; /* owned, each owned */
    size_t n;
};

struct testcase {
    char *id, *title;           /* owned */
    char *description;          /* owned, may be NULL */
    long long version;          /* >= 1 */
    struct strlist obligations; /* each known to the catalogue */
    unsigned category;          /* one enum testcase_category bit */
    enum testcase_scope scope;
    bool identity;           /* its observations' `identity` names the unit; read again at
                                the end of the device's run (a safe, device-scope case) */
    struct strlist if_kinds; /* applies.interface: any of; empty = any device */
    struct strlist states;   /* applies.state: any of; empty = any state */
    struct strlist ics;      /* applies.ics: provisions whose ICS entry can exclude it */
    json_t *params;          /* defaults merged with the manifest's overrides; owned object */
    size_t file;             /* index in profile->files */
    int line;                /* line of the testcase{} call */
};

struct profile_file {
    char *path;   /* relative to the profiles directory, "testcases/mqtt/x.lua"; owned */
    char *source; /* the bytes loaded, NUL-terminated; owned */
    size_t len;
    char sha256[65]; /* lowercase hex digest of the bytes, for run.json */
};

struct profile {
    char *name, *version, *description; /* owned; description may be NULL */
    char *root;                         /* the profiles directory (absolute); owned */
    char *manifest;                     /* "<name>/profile.lua", relative to root; owned */
    char manifest_sha256[65];           /* lowercase hex digest of the manifest */
    struct strlist obligations;         /* the obligations the profile answers for */
    struct profile_file *files;         /* owned */
    size_t n_files;
    struct testcase *tcs; /* owned, in load order */
    size_t n_tcs;
};

/* Every contract violation found, each "file:line: message". */
struct profile_diags {
    char **msgs; /* owned */
    size_t n;
};

void profile_diags_init(struct profile_diags *d);
void profile_diags_release(struct profile_diags *d);

/* The catalogue check: true if `id` is an obligation id in the catalogue. */
typedef bool (*profile_known_fn)(const char *id, void *ctx);

/*
 * Loads a profile. `name_or_path` is a profile name (looked up as
 * <dir>/<name>/profile.lua in each directory of the colon-separated
 * `search_path`) or a path (containing '/') to a profile folder or its
 * profile.lua. `known` (NULL = accept every id) checks obligation ids. `lim`
 * bounds each file's top level (NULL = defaults). `diags` (may be NULL)
 * receives every violation; err gets the first one and the count.
 * Returns 0 with *out owned by the caller (profile_free), or ASSAY_EPROFILE,
 * ASSAY_EIO, ASSAY_EINVAL or ASSAY_ENOMEM with *out NULL.
 */
int profile_load(const char *name_or_path, const char *search_path, profile_known_fn known,
                 void *ctx, const struct sandbox_limits *lim, struct profile **out,
                 struct profile_diags *diags, struct assay_error *err);

void profile_free(struct profile *p);

/* The test case with this id, or NULL. The pointer lives as long as p. */
const struct testcase *profile_find(const struct profile *p, const char *id);

/* "safe", "intrusive", "destructive", "dos"; NULL for anything else. */
const char *testcase_category_name(unsigned category);

/* The category bit for a name, or 0 if unknown. */
unsigned testcase_category_parse(const char *name);

/*
 * The parameters one run of tc uses: its defaults (with the manifest's
 * overrides) merged with `overrides` (the bench's object for this test case,
 * may be NULL). An override must name a declared parameter and have the
 * default's JSON type (an integer is accepted where the default is a real).
 * Returns 0 with *out a new object the caller owns, or ASSAY_EINVAL.
 */
int testcase_params(const struct testcase *tc, const json_t *overrides, json_t **out,
                    struct assay_error *err);

struct applicability {
    enum verdict
        verdict; /* VERDICT_NONE: the test case runs; else NOT_APPLICABLE or INCONCLUSIVE */
    char reason[256];
};

/*
 * Decides whether tc runs on a device, in this order:
 * - none of applies.interface among device.interfaces[].kind: NOT_APPLICABLE
 *   "no <kind> interface" (a condition shown false);
 * - an applies.ics provision marked not-applicable in dossier.ics with a
 *   justification: NOT_APPLICABLE "ICS: <id> not applicable: <justification>";
 *   marked without one: INCONCLUSIVE;
 * - device.state not in applies.state: INCONCLUSIVE (the device must be put
 *   in that state; never NOT_APPLICABLE);
 * - category not in `allowed` (a mask of enum testcase_category bits):
 *   INCONCLUSIVE "not authorised: <category>".
 * `device` is the bench device object, `dossier` the model's dossier (may be NULL).
 */
void testcase_applies(const struct testcase *tc, const json_t *device, const json_t *dossier,
                      unsigned allowed, struct applicability *out);

#endif
