/*
 * provenance.h: where a run's verdicts came from, for run.json's "provenance".
 *
 * provenance_collect() gathers, once per run:
 *
 *   {"harness":   {"version": "0.1.0", "git_commit": "<40 hex>" | "unknown"},
 *    "libraries": {"libyaml": "0.2.5", "jansson": "2.14", "openssl": "OpenSSL 3.0...",
 *                  "lua": "Lua 5.4.4", "libmodbus": "3.1.6", "libcoap": "4.3.1",
 *                  "paho": "1.3.11", "libpcap": "libpcap version 1.10.3 ...",
 *                  "libarchive": "3.6.2", "libcurl": "7.88.1", "libxml2": "2.9.14"},
 *    "host":      {"name": "<nodename>", "kernel": "Linux <release>", "machine": "x86_64"},
 *    "clock":     {"synchronised": false, "source": "adjtimex", "state": "error",
 *                  "maxerror_us": 16000000, "esterror_us": 16000000},
 *    "files":     [{"path": "...", "role": "bench", "sha256": "<64 hex>"}, ...]}
 *
 * Library versions are the ones linked at run time where the library reports
 * one (Lua only has its compile-time release). The git commit is the source
 * tree's HEAD when the build was configured. The clock state comes from
 * ntp_adjtime(2) (read-only: modes 0): synchronised means the kernel's
 * STA_UNSYNC flag is clear and the state is not TIME_ERROR, which is true
 * only while an NTP/PTP daemon disciplines the clock.
 *
 * "files" lists, in this order, with roles: the bench file ("bench"), the
 * obligation catalogue <profile_root>/obligations.yaml ("catalogue"), every
 * dossier ("dossier") and every dossier page kept as a file
 * (published.<name>.file, relative to the dossier: "page"), every profile
 * manifest ("profile") and test-case file ("testcase") with the digest of the
 * bytes the runtime loaded, and every regular file under <profile_root>/lib
 * ("lib") and <profile_root>/data ("data"), in name order. Paths are
 * canonical (realpath) when the file exists, and each is listed once. A file that cannot be read is
 * listed with "sha256": null and "error": "<why>" rather than failing the run.
 *
 * Blocking: reads the files it hashes (local file system only). Not
 * thread-safe with respect to the plan being modified.
 */
#ifndef ASSAY_EVIDENCE_PROVENANCE_H
#define ASSAY_EVIDENCE_PROVENANCE_H

#include <jansson.h>

#include "core/error.h"

struct plan;

/* The object above (new reference), or NULL with err set (ASSAY_ENOMEM, or
 * ASSAY_EINVAL for a NULL plan). */
json_t *provenance_collect(const struct plan *plan, struct assay_error *err);

/* The hex SHA-256 of a file's bytes into hex (65 bytes). Returns 0 or ASSAY_EIO. */
int provenance_sha256_file(const char *path, char hex[65], struct assay_error *err);

/* {"libyaml": ..., ...} as above (new reference, NULL on ENOMEM). */
json_t *provenance_libraries(void);

/* {"synchronised": bool, "source": "adjtimex", ...} as above (new reference). */
json_t *provenance_clock(void);

/* The harness version and git commit compiled in (new reference). */
json_t *provenance_harness(void);

/*
 * Appends {path, role, sha256} to `files` for every regular file under `dir`
 * (recursively, in name order, at most 16 levels, symbolic links not
 * followed), skipping paths already listed. A missing `dir` adds nothing.
 * Returns 0 or ASSAY_ENOMEM.
 */
int provenance_add_tree(json_t *files, const char *dir, const char *role, struct assay_error *err);

/* Appends one file {path, role, sha256} (or the error form) unless already listed; sha256_hex
 * (may be NULL) is a digest already computed. Returns 0 or ASSAY_ENOMEM. */
int provenance_add_file(json_t *files, const char *path, const char *role, const char *sha256_hex,
                        struct assay_error *err);

#endif
