/* cmd_report.c: `assay report RUN_DIR`: re-render a run from its run.json. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "core/record.h"
#include "core/verdict.h"
#include "report/text.h"

static void help(void)
{
    printf("usage: assay report RUN_DIR [--format text|json]\n\n"
           "Renders a run from its run.json, the canonical record. Nothing is re-run.\n\n"
           "  -f, --format FORMAT  text (the default: matrix and findings) or json\n"
           "  -h, --help           this text\n\n"
           "The exit code is the run's own (see below), or 2 if RUN_DIR holds no usable\n"
           "run.json.\n\n%s",
           cli_exit_codes);
}

int cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *format = "text";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f': format = optarg; break;
        case 'h': help(); return ASSAY_EXIT_OK;
        default: return cli_usage_error("report", "unknown option");
        }
    }
    if (strcmp(format, "text") && strcmp(format, "json"))
        return cli_usage_error("report", "unknown format '%s' (text or json)", format);
    if (optind != argc - 1)
        return cli_usage_error("report", "expected exactly one run directory");

    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/run.json", argv[optind]);
    struct assay_error err = {0};
    json_t *rec = record_read(path, &err);
    if (!rec) {
        fprintf(stderr, "assay report: %s\n", err.msg);
        return ASSAY_EXIT_USAGE;
    }
    if (!strcmp(format, "json"))
        json_dumpf(rec, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    else
        report_text(rec, stdout, cli_stdout_is_tty());
    if (!strcmp(format, "json"))
        printf("\n");
    int code = record_exit_code(rec);
    json_decref(rec);
    return code;
}
