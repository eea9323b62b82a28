/* cmd_check.c: `assay check`: validate a bench, its dossiers and profiles; touch no device. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "core/bench.h"
#include "core/verdict.h"
#include "run/plan.h"

static void help(void)
{
    printf("usage: assay check BENCH.yaml [-p PROFILE]... [--profile-path DIR]\n\n"
           "Checks the bench file, every dossier it names and the profiles without sending\n"
           "any traffic. Every problem is reported with file:line:column.\n\n"
           "  -p, --profile NAME|PATH  a profile to check as well (repeatable)\n"
           "      --profile-path DIR   where profiles and obligations.yaml are found\n"
           "  -h, --help               this text\n\n%s",
           cli_exit_codes);
}

static void print_scope(const struct bench *b)
{
    printf("scope: ");
    for (size_t i = 0; i < b->ndevices; i++)
        printf("%s%s", i ? ", " : "", b->devices[i].address);
    size_t k;
    json_t *h;
    json_array_foreach(json_object_get(b->doc.root, "allowed_hosts"), k, h)
        printf(", %s (pages)", json_string_value(h));
    printf("\n");
}

int cmd_check(int argc, char **argv)
{
    static const struct option opts[] = {
        {"profile", required_argument, NULL, 'p'},
        {"profile-path", required_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct plan_options po = {0};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "p:h", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            if (plan_options_add_profile(&po, optarg))
                return cli_usage_error("check", "too many profiles");
            break;
        case 'P': po.profile_root = optarg; break;
        case 'h': help(); return ASSAY_EXIT_OK;
        default: return cli_usage_error("check", "unknown option");
        }
    }
    if (optind != argc - 1)
        return cli_usage_error("check", "expected exactly one bench file");

    po.profile_root = cli_profile_root(po.profile_root);
    struct plan plan;
    struct diag_list diags;
    diag_init(&diags);
    int rc = plan_load(&plan, argv[optind], &po, &diags);
    diag_print(&diags, stderr);
    if (rc == 0) {
        const struct bench *b = &plan.bench;
        printf("%s: OK: bench '%s', %zu device(s), %zu dossier(s), %zu profile(s), "
               "%zu test case(s)\n",
               argv[optind], b->name, b->ndevices, b->ndossiers, plan_profile_count(&plan),
               plan_testcase_count(&plan));
        print_scope(b);
    } else {
        fprintf(stderr, "%s: %zu problem(s) found; nothing was run\n", argv[optind],
                diag_count(&diags));
    }
    diag_release(&diags);
    plan_release(&plan);
    return rc ? ASSAY_EXIT_USAGE : ASSAY_EXIT_OK;
}
