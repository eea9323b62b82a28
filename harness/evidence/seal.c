/* seal.c: manifest, signature and archive of a run, in one call (see seal.h). */
#include "seal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive.h"
#include "manifest.h"

int seal_run_fpr(const char *run_dir, const char *key_path, const char *passphrase,
                 char fpr[SIGN_FPR_LEN + 1], struct assay_error *err)
{
    if (fpr)
        fpr[0] = 0;
    size_t n = strlen(run_dir);
    while (n > 1 && run_dir[n - 1] == '/')
        n--;
    char dir[PATH_MAX], sig[PATH_MAX + 32], out[PATH_MAX + 32];
    if (n == 0 || n >= sizeof(dir))
        return assay_fail(err, ASSAY_EINVAL, "not a usable run directory: '%s'", run_dir);
    memcpy(dir, run_dir, n);
    dir[n] = 0;
    snprintf(sig, sizeof(sig), "%s/%s", dir, MANIFEST_SIG_NAME);
    snprintf(out, sizeof(out), "%s.tar.gz", dir);

    /* Load the key first: a wrong passphrase should fail before anything is written. */
    EVP_PKEY *key = NULL;
    if (key_path && !(key = sign_load_private(key_path, passphrase, err)))
        return err ? err->code : ASSAY_EINVAL;
    struct manifest man = {0};
    int rc = manifest_build(dir, &man, err);
    if (rc == 0)
        rc = manifest_write(dir, &man, err);
    manifest_release(&man);
    if (rc == 0 && key)
        rc = sign_manifest(dir, key, fpr, err);
    else if (rc == 0 && unlink(sig) != 0 && errno != ENOENT)
        rc = assay_fail(err, ASSAY_EIO, "cannot remove the stale %s: %s", sig, strerror(errno));
    EVP_PKEY_free(key);
    if (rc == 0)
        rc = evidence_archive_write(dir, out, err);
    return rc;
}

int seal_run(const char *run_dir, const char *key_path, const char *passphrase,
             struct assay_error *err)
{
    return seal_run_fpr(run_dir, key_path, passphrase, NULL, err);
}
