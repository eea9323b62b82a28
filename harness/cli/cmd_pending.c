/*
 * cmd_pending.c: subcommands whose work is not in this version yet.
 *
 * Each says so plainly and exits 2, so a script never mistakes them for success.
 */
#include <stdio.h>

#include "cli.h"
#include "core/verdict.h"

static int pending(const char *name, const char *what)
{
    fprintf(stderr, "assay %s: not available in this version of assay (%s)\n", name, what);
    return ASSAY_EXIT_USAGE;
}

int cmd_verify(int argc, char **argv)
{
    (void)argc, (void)argv;
    return pending("verify", "checking a sealed run: runs are not sealed yet");
}

int cmd_keygen(int argc, char **argv)
{
    (void)argc, (void)argv;
    return pending("keygen", "signing keys: runs are not signed yet");
}
