/*
 * seal.h: sealing a run directory at the end of a run, a resumed run, a rescore or a review.
 *
 * seal_run() writes, in this order:
 *   <run_dir>/MANIFEST.sha256  every file of the run with its SHA-256 (manifest.h);
 *   <run_dir>/MANIFEST.sig     its Ed25519 signature, when a key is given (sign.h);
 *                              without a key, a MANIFEST.sig left by an earlier
 *                              seal is removed, since it no longer matches;
 *   <run_dir>.tar.gz           the reproducible archive beside it (archive.h).
 * Each file is written through a temporary file and renamed, so a failed
 * seal never leaves a half-written manifest, signature or archive. Sealing
 * the same directory again gives the same three files byte for byte.
 *
 * Blocking: reads and writes local files (every file of the run is read
 * twice: once to hash, once to archive).
 */
#ifndef ASSAY_EVIDENCE_SEAL_H
#define ASSAY_EVIDENCE_SEAL_H

#include "core/error.h"
#include "sign.h"

/*
 * Seals `run_dir` (trailing slashes allowed). `key_path` is a PEM private key
 * (NULL: unsigned) and `passphrase` its passphrase (NULL when the key is not
 * encrypted). Returns 0, or a negative assay_rc with err naming what failed:
 * a file that is not a regular file or directory, a name a manifest cannot
 * hold, an unreadable key or a wrong passphrase, a write error.
 */
int seal_run(const char *run_dir, const char *key_path, const char *passphrase,
             struct assay_error *err);

/* seal_run, also returning the signer's fingerprint in `fpr` (set to "" when
 * no key is given); `fpr` may be NULL. */
int seal_run_fpr(const char *run_dir, const char *key_path, const char *passphrase,
                 char fpr[SIGN_FPR_LEN + 1], struct assay_error *err);

#endif
