/* cmd_rescore.c: `assay rescore`: re-judge a run's observations; touch no device. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "core/verdict.h"
#include "core/sanitize.h"
#include "report/text.h"
#include "run/rescore.h"

#define MAX_DOSSIERS 32

static void help(void)
{
    printf(
        "usage: assay rescore RUN_DIR [--dossier MODEL=FILE]... [-p PROFILE]... [-o DIR]\n\n"
        "Judges the observations recorded in RUN_DIR again, without sending anything to\n"
        "any device, and writes a new run that names RUN_DIR as its source. Use it with\n"
        "a corrected dossier, or with a newer version of a profile.\n\n"
        "  --dossier MODEL=FILE   use FILE as the dossier of MODEL (repeatable)\n"
        "  -p, --profile NAME     judge with these profiles (default: the run's own)\n"
        "  -o, --output DIR       where the new run goes (default results)\n"
        "      --profile-path DIR where profiles and obligations.yaml are found\n"
        "      --sign KEY             sign the new run; --passphrase-env VAR for its passphrase\n"
        "  -h, --help             this text\n\n%s",
        cli_exit_codes);
}

int cmd_rescore(int argc, char **argv)
{
    enum { OPT_DOSSIER = 256, OPT_PATH, OPT_SIGN, OPT_PASS };
    static const struct option opts[] = {
        {"dossier", required_argument, NULL, OPT_DOSSIER},
        {"profile", required_argument, NULL, 'p'},
        {"output", required_argument, NULL, 'o'},
        {"profile-path", required_argument, NULL, OPT_PATH},
        {"sign", required_argument, NULL, OPT_SIGN},
        {"passphrase-env", required_argument, NULL, OPT_PASS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dossiers[MAX_DOSSIERS], *out_dir = "results", *root = NULL;
    size_t ndossiers = 0;
    struct plan_options po = {0};
    struct cli_signing sign = {NULL, NULL};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "p:o:h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_DOSSIER:
            if (!strchr(optarg, '=') || ndossiers == MAX_DOSSIERS)
                return cli_usage_error("rescore", "--dossier takes MODEL=FILE");
            dossiers[ndossiers++] = optarg;
            break;
        case 'p':
            if (plan_options_add_profile(&po, optarg))
                return cli_usage_error("rescore", "too many profiles");
            break;
        case 'o': out_dir = optarg; break;
        case OPT_PATH: root = optarg; break;
        case OPT_SIGN: sign.key = optarg; break;
        case OPT_PASS: sign.passphrase_env = optarg; break;
        case 'h': help(); return ASSAY_EXIT_OK;
        default: return cli_usage_error("rescore", "unknown option");
        }
    }
    if (optind != argc - 1)
        return cli_usage_error("rescore", "expected exactly one run directory");
    if (cli_check_signing(&sign))
        return ASSAY_EXIT_USAGE;
    const char *source = argv[optind];

    struct assay_error err = {0};
    json_t *inv = run_read_invocation(source, &err);
    if (!inv) {
        fprintf(stderr, "assay rescore: %s\n", err.msg);
        return ASSAY_EXIT_USAGE;
    }
    const char *bench = json_string_value(json_object_get(inv, "bench"));
    po.profile_root = root ? root : json_string_value(json_object_get(inv, "profile_root"));
    size_t i;
    json_t *p;
    if (po.nprofiles == 0)
        json_array_foreach(json_object_get(inv, "profiles"), i, p)
            plan_options_add_profile(&po, json_string_value(p));

    struct plan plan;
    struct diag_list diags;
    diag_init(&diags);
    int rc = bench ? plan_load(&plan, bench, &po, &diags) : ASSAY_EINVAL;
    for (size_t k = 0; rc == 0 && k < ndossiers; k++) {
        char model[128];
        const char *eq = strchr(dossiers[k], '=');
        snprintf(model, sizeof(model), "%.*s", (int)(eq - dossiers[k]), dossiers[k]);
        rc = bench_replace_dossier(&plan.bench, model, eq + 1, catalogue_known, &plan.catalogue,
                                   &diags);
    }
    diag_print(&diags, stderr);
    diag_release(&diags);
    int code = ASSAY_EXIT_USAGE;
    if (rc) {
        fprintf(stderr, "assay rescore: the inputs are not usable; nothing was rescored\n");
    } else {
        struct run_result res;
        rc = rescore_execute(&plan, source, out_dir, &res, &err);
        if (rc)
            fprintf(stderr, "assay rescore: %s\n", err.msg);
        if (res.record) {
            sanitize_load_secrets(res.dir);
            report_text(res.record, stdout, cli_stdout_is_tty());
            printf("\nRun directory: %s\n", res.dir);
            if (!rc && cli_finish(res.record, res.dir, &plan.catalogue, &sign))
                rc = ASSAY_EIO;
            code = rc ? ASSAY_EXIT_USAGE
                      : (int)json_integer_value(json_object_get(res.record, "exit_code"));
            json_decref(res.record);
        }
    }
    if (bench)
        plan_release(&plan);
    json_decref(inv);
    return code;
}
