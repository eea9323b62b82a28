/* cmd_report.c: `assay report RUN_DIR`: re-render a run from its run.json. */
#include <getopt.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "core/record.h"
#include "core/sanitize.h"
#include "core/verdict.h"
#include "report/csv.h"
#include "report/html.h"
#include "report/junit.h"
#include "report/text.h"

static void help(void)
{
    printf("usage: assay report RUN_DIR [--format text|json|html|junit|csv]\n\n"
           "Renders a run from its run.json, the canonical record, on standard output.\n"
           "Nothing is re-run, and the sealed run directory is not changed.\n\n"
           "  -f, --format FORMAT  text (the default: matrix and findings), json, html (the\n"
           "                       self-contained report), junit (JUnit XML) or csv\n"
           "      --profile-path DIR  where obligations.yaml is found (for titles)\n"
           "  -h, --help           this text\n\n"
           "The exit code is the run's own (see below), or 2 if RUN_DIR holds no usable\n"
           "run.json.\n\n%s",
           cli_exit_codes);
}

int cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"profile-path", required_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *format = "text", *root = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f': format = optarg; break;
        case 'P': root = optarg; break;
        case 'h': help(); return ASSAY_EXIT_OK;
        default: return cli_usage_error("report", "unknown option");
        }
    }
    static const char *const formats[] = {"text", "json", "html", "junit", "csv"};
    bool known = false;
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
        known = known || !strcmp(format, formats[i]);
    if (!known)
        return cli_usage_error("report", "unknown format '%s' (text, json, html, junit, csv)",
                               format);
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
    sanitize_load_secrets(argv[optind]); /* everything rendered masks the bench's secrets */
    struct catalogue cat;
    bool have_cat = false;
    if (!strcmp(format, "html") || !strcmp(format, "csv"))
        have_cat = cli_load_catalogue(cli_profile_root(root), &cat) == 0;
    int rc = 0;
    if (!strcmp(format, "json")) {
        json_dumpf(rec, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("\n");
    } else if (!strcmp(format, "html")) {
        rc = report_html(rec, argv[optind], have_cat ? &cat : NULL, stdout, &err);
    } else if (!strcmp(format, "junit")) {
        rc = report_junit(rec, stdout, &err);
    } else if (!strcmp(format, "csv")) {
        rc = report_csv(rec, have_cat ? &cat : NULL, stdout, &err);
    } else {
        report_text(rec, stdout, cli_stdout_is_tty());
    }
    if (!strcmp(format, "html") || !strcmp(format, "csv"))
        catalogue_release(&cat);
    if (rc) {
        fprintf(stderr, "assay report: %s\n", err.msg);
        json_decref(rec);
        return ASSAY_EXIT_USAGE;
    }
    int code = record_exit_code(rec);
    json_decref(rec);
    return code;
}
