/*
 * cli.h: the assay command: the subcommand table and what subcommands share.
 *
 * cli/ is the only part of assay that exits, prints usage or reads argv.
 * Each subcommand lives in its own cmd_<name>.c and returns an exit code
 * (verdict.h, ASSAY_EXIT_*).
 */
#ifndef ASSAY_CLI_H
#define ASSAY_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "core/catalogue.h"

struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand name */
    const char *summary;
};

int cmd_run(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_rescore(int argc, char **argv);
int cmd_review(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_version(int argc, char **argv);

/* The exit-code paragraph shared by every --help. */
extern const char cli_exit_codes[];

/*
 * The profile root: --profile-path if given, else $ASSAY_PROFILE_PATH, else
 * the source tree's profiles/ when this binary runs from its build tree, else
 * the installed share directory. Returns a static or borrowed string.
 */
const char *cli_profile_root(const char *override);

/* Loads <root>/obligations.yaml, printing diagnostics to stderr. 0 or ASSAY_EXIT_USAGE. */
int cli_load_catalogue(const char *root, struct catalogue *cat);

/* Prints "assay <cmd>: <message>" to stderr and returns ASSAY_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* --sign KEY and --passphrase-env VAR (the passphrase itself never on argv). */
struct cli_signing {
    const char *key;            /* private key file, or NULL: unsigned */
    const char *passphrase_env; /* environment variable holding its passphrase, or NULL */
};

/* Loads the signing key once before any work, so a wrong passphrase is found
 * before a night's run rather than after it. 0 or ASSAY_EXIT_USAGE (said on stderr). */
int cli_check_signing(const struct cli_signing *sign);

/* After a run, rescore or review: writes report.html, junit.xml and verdicts.csv
 * into dir, then seals it (MANIFEST.sha256, MANIFEST.sig when signing, dir.tar.gz)
 * and prints where everything is. Returns 0, or 1 when something failed (said on stderr). */
int cli_finish(const json_t *rec, const char *dir, const struct catalogue *cat,
               const struct cli_signing *sign);

/* True when stdout is a terminal (colour allowed). */
bool cli_stdout_is_tty(void);

#endif
