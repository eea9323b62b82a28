/*
 * render_report.c: renders report.html (and junit.xml, verdicts.csv when
 * built with them) for a run directory, without running anything. Used by the
 * browser test (chromium_dom.sh) to render a fixture run.
 *
 *   render_report RUN_DIR [CATALOGUE.yaml]
 */
#include <stdio.h>

#include "core/catalogue.h"
#include "core/record.h"
#include "report/csv.h"
#include "report/html.h"
#include "report/junit.h"

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: render_report RUN_DIR [CATALOGUE.yaml]\n");
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/run.json", argv[1]);
    struct assay_error err = {0};
    json_t *rec = record_read(path, &err);
    if (!rec) {
        fprintf(stderr, "render_report: %s\n", err.msg);
        return 2;
    }
    struct catalogue cat = {0};
    struct diag_list diags;
    diag_init(&diags);
    int have_cat = argc == 3 && catalogue_load(&cat, argv[2], &diags) == 0;
    diag_print(&diags, stderr);
    diag_release(&diags);
    const struct catalogue *c = have_cat ? &cat : NULL;
    int rc = report_html_write(rec, argv[1], c, &err);
    if (!rc)
        rc = report_junit_write(rec, argv[1], &err);
    if (!rc)
        rc = report_csv_write(rec, argv[1], c, &err);
    if (rc)
        fprintf(stderr, "render_report: %s\n", err.msg);
    if (argc == 3)
        catalogue_release(&cat);
    json_decref(rec);
    return rc ? 1 : 0;
}
