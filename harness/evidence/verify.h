/*
 * verify.h: checking a sealed run, as a directory or as its tar.gz archive.
 *
 * A run verifies when all of these hold:
 *   - MANIFEST.sha256 exists and is well formed (manifest_parse);
 *   - every file it lists exists with that SHA-256, and the directory holds
 *     no other file and nothing that is not a file or a directory;
 *   - journal.jsonl, when present, has an unbroken hash chain (journal_read);
 *   - MANIFEST.sig is well formed and made over MANIFEST.sha256 by one of the
 *     keys given (sign_check), or the run is unsigned and the caller accepts
 *     unsigned runs.
 * An archive is first extracted under the rules of archive.h into a fresh
 * temporary directory (in $TMPDIR, else /tmp), which is removed afterwards;
 * a refused entry is a problem of the run, not an error of the caller.
 *
 * Each failed check adds one line to the report's problems, starting with
 * its kind: "modified: PATH", "missing: PATH", "added: PATH",
 * "not a regular file: PATH", "manifest: ...", "journal: ...",
 * "signature: ...", "unsigned: ...", "archive: ...", "walk: ...". Paths are
 * relative to the run directory and made safe to print (sanitize.h).
 *
 * Blocking: reads and hashes local files; extraction writes to a temporary
 * directory. Nothing waits on a network.
 */
#ifndef ASSAY_EVIDENCE_VERIFY_H
#define ASSAY_EVIDENCE_VERIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "archive.h"
#include "core/error.h"
#include "sign.h"

struct verify_options {
    const struct sign_keyring *ring;              /* trusted keys; NULL or empty: none */
    bool unsigned_ok;                             /* an unsigned run is not a problem */
    const struct evidence_archive_limits *limits; /* NULL: the defaults */
};

/* What verification found. Zero-initialise; release with verify_report_release(). */
struct verify_report {
    char **problems; /* one line each, owned by the report; a NULL line was lost to OOM */
    size_t nproblems;
    bool out_of_memory;            /* a problem could not be recorded: the run does not verify */
    size_t nfiles;                 /* files the manifest lists */
    bool unsigned_run;             /* no MANIFEST.sig */
    bool signature_ok;             /* MANIFEST.sig checked with a trusted key */
    char signer[SIGN_FPR_LEN + 1]; /* its fingerprint when signature_ok */
};

/*
 * Verifies the run directory `dir`, adding what fails to `rep`. Returns 0
 * when the checks could be made (the run verifies exactly when
 * verify_ok(rep)), or ASSAY_EINVAL when `dir` is not a directory, or
 * ASSAY_ENOMEM.
 */
int verify_dir(const char *dir, const struct verify_options *opt, struct verify_report *rep,
               struct assay_error *err);

/* The same for a tar.gz archive of a run. ASSAY_EINVAL when `path` is not a
 * regular file; ASSAY_EIO when no temporary directory can be made. */
int verify_archive(const char *path, const struct verify_options *opt, struct verify_report *rep,
                   struct assay_error *err);

/* verify_dir for a directory, verify_archive for anything else. */
int verify_path(const char *path, const struct verify_options *opt, struct verify_report *rep,
                struct assay_error *err);

/* True when the report holds no problem (and none was lost). */
bool verify_ok(const struct verify_report *rep);

/* True when some problem line starts with `prefix` (for tests and callers). */
bool verify_has(const struct verify_report *rep, const char *prefix);

void verify_report_release(struct verify_report *rep);

#endif
