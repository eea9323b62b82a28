/* main.c: the assay command: dispatch to a subcommand from one table. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "core/verdict.h"

static const struct cli_command commands[] = {
    {"run", cmd_run, "run profiles against a bench and record verdicts"},
    {"check", cmd_check, "validate a bench, its dossiers and profiles without touching a device"},
    {"list", cmd_list, "list obligations, profiles or test cases"},
    {"report", cmd_report, "render a run's record (text, json)"},
    {"rescore", cmd_rescore, "re-judge a run's observations without touching a device"},
    {"review", cmd_review, "record an assessor's decision on an inconclusive item"},
    {"verify", cmd_verify, "check a sealed run or archive"},
    {"keygen", cmd_keygen, "create a signing key pair"},
    {"version", cmd_version, "print the version of assay and of every library linked"},
};

const char cli_exit_codes[] =
    "Exit codes:\n"
    "  0  no FAIL, no ERROR, no INCONCLUSIVE other than items for the assessor\n"
    "  1  at least one FAIL\n"
    "  2  usage or input error (nothing was run)\n"
    "  3  INCONCLUSIVE or ERROR without any FAIL\n"
    "  4  interrupted; the run can be resumed with --resume\n";

static void usage(FILE *f)
{
    fprintf(f, "usage: assay <command> [options]\n\n"
               "assay drives connectable consumer products over MQTT, CoAP and Modbus/TCP\n"
               "through conformance profiles and records a verdict per legal obligation.\n\n"
               "Commands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nRun 'assay <command> --help' for a command's options.\n\n%s", cli_exit_codes);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return ASSAY_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return ASSAY_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version"))
        return cmd_version(1, argv + 1);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "assay: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return ASSAY_EXIT_USAGE;
}
