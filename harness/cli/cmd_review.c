/* cmd_review.c: `assay review`: record an assessor's decision on an inconclusive item. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "core/verdict.h"
#include "core/sanitize.h"
#include "report/text.h"
#include "run/rescore.h"

#define MAX_DECISIONS 64

static void help(void)
{
    printf(
        "usage: assay review RUN_DIR --set DEVICE OBLIGATION=VERDICT... --by NAME "
        "--reason TEXT [-o DIR]\n\n"
        "Records an assessor's decision on items the run left INCONCLUSIVE, as a new run\n"
        "that names RUN_DIR as its source, the person and the reason. The computed\n"
        "verdict is kept beside the decision.\n\n"
        "  --set DEVICE OBLIGATION=VERDICT  VERDICT is PASS, FAIL or NOT_APPLICABLE\n"
        "                                   (repeatable)\n"
        "  --by NAME                        who decided\n"
        "  --reason TEXT                    why\n"
        "  -o, --output DIR                 where the new run goes (default results)\n"
        "      --profile-path DIR           where obligations.yaml is found\n"
        "      --sign KEY             sign the new run; --passphrase-env VAR for its passphrase\n"
        "  -h, --help                       this text\n\n%s",
        cli_exit_codes);
}

int cmd_review(int argc, char **argv)
{
    enum { OPT_SET = 256, OPT_BY, OPT_REASON, OPT_PATH, OPT_SIGN, OPT_PASS };
    static const struct option opts[] = {
        {"set", required_argument, NULL, OPT_SET},
        {"by", required_argument, NULL, OPT_BY},
        {"reason", required_argument, NULL, OPT_REASON},
        {"output", required_argument, NULL, 'o'},
        {"profile-path", required_argument, NULL, OPT_PATH},
        {"sign", required_argument, NULL, OPT_SIGN},
        {"passphrase-env", required_argument, NULL, OPT_PASS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct review_decision d[MAX_DECISIONS];
    char obl[MAX_DECISIONS][64];
    size_t n = 0;
    const char *by = NULL, *reason = NULL, *out_dir = "results", *root = NULL;
    struct cli_signing sign = {NULL, NULL};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_SET: {
            /* --set DEVICE OBLIGATION=VERDICT: the second word is the next argument. */
            const char *pair = optind < argc ? argv[optind] : NULL;
            const char *eq = pair ? strchr(pair, '=') : NULL;
            if (!eq || n == MAX_DECISIONS || (size_t)(eq - pair) >= sizeof(obl[0]))
                return cli_usage_error("review", "--set takes DEVICE OBLIGATION=VERDICT");
            snprintf(obl[n], sizeof(obl[n]), "%.*s", (int)(eq - pair), pair);
            d[n] = (struct review_decision){optarg, obl[n], eq + 1};
            n++;
            optind++;
            break;
        }
        case OPT_BY: by = optarg; break;
        case OPT_REASON: reason = optarg; break;
        case 'o': out_dir = optarg; break;
        case OPT_PATH: root = optarg; break;
        case OPT_SIGN: sign.key = optarg; break;
        case OPT_PASS: sign.passphrase_env = optarg; break;
        case 'h': help(); return ASSAY_EXIT_OK;
        default: return cli_usage_error("review", "unknown option");
        }
    }
    if (optind != argc - 1)
        return cli_usage_error("review", "expected exactly one run directory");
    if (n == 0 || !by || !*by || !reason || !*reason)
        return cli_usage_error("review", "--set, --by and --reason are required");
    if (cli_check_signing(&sign))
        return ASSAY_EXIT_USAGE;

    struct catalogue cat;
    if (cli_load_catalogue(cli_profile_root(root), &cat)) {
        catalogue_release(&cat);
        return ASSAY_EXIT_USAGE;
    }
    struct run_result res;
    struct assay_error err = {0};
    int rc = review_execute(argv[optind], d, n, by, reason, out_dir, &cat, &res, &err);
    int code = ASSAY_EXIT_USAGE;
    if (rc)
        fprintf(stderr, "assay review: %s\n", err.msg);
    if (res.record) {
        if (!rc) {
            sanitize_load_secrets(res.dir);
            report_text(res.record, stdout, cli_stdout_is_tty());
            printf("\nRun directory: %s\n", res.dir);
            code = cli_finish(res.record, res.dir, &cat, &sign)
                       ? ASSAY_EXIT_USAGE
                       : (int)json_integer_value(json_object_get(res.record, "exit_code"));
        }
        json_decref(res.record);
    }
    catalogue_release(&cat);
    return code;
}
