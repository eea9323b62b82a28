/* finish.c: what follows every run, rescore and review: reports, then the seal. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "core/sanitize.h"
#include "core/verdict.h"
#include "evidence/seal.h"
#include "evidence/sign.h"
#include "report/csv.h"
#include "report/html.h"
#include "report/junit.h"

int cli_check_signing(const struct cli_signing *sign)
{
    if (!sign || !sign->key)
        return 0;
    const char *pass = sign->passphrase_env ? getenv(sign->passphrase_env) : NULL;
    if (sign->passphrase_env && !pass) {
        fprintf(stderr, "assay: the environment variable %s is not set\n", sign->passphrase_env);
        return ASSAY_EXIT_USAGE;
    }
    struct assay_error err = {0};
    EVP_PKEY *key = sign_load_private(sign->key, pass, &err);
    if (!key) {
        fprintf(stderr, "assay: cannot use the signing key: %s\n", err.msg);
        return ASSAY_EXIT_USAGE;
    }
    EVP_PKEY_free(key);
    return 0;
}

int cli_finish(const json_t *rec, const char *dir, const struct catalogue *cat,
               const struct cli_signing *sign)
{
    struct assay_error err = {0};
    int bad = 0;
    sanitize_load_secrets(dir); /* reports mask the bench's secrets */
    if (report_html_write(rec, dir, cat, &err) || report_junit_write(rec, dir, &err) ||
        report_csv_write(rec, dir, cat, &err)) {
        fprintf(stderr, "assay: a report could not be written: %s\n", err.msg);
        bad = 1;
    }
    const char *pass = sign && sign->passphrase_env ? getenv(sign->passphrase_env) : NULL;
    char fpr[SIGN_FPR_LEN + 1] = "";
    if (seal_run_fpr(dir, sign ? sign->key : NULL, pass, fpr, &err)) {
        fprintf(stderr, "assay: the run could not be sealed: %s\n", err.msg);
        return 1;
    }
    printf("  report   %s/report.html\n  junit    %s/junit.xml\n  csv      %s/verdicts.csv\n"
           "  sealed   %s/MANIFEST.sha256%s\n  archive  %s.tar.gz\n",
           dir, dir, dir, dir, fpr[0] ? " (signed)" : " (unsigned)", dir);
    if (fpr[0])
        printf("  signer   %s\n", fpr);
    return bad;
}
