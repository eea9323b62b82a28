/* cmd_run.c: `assay run`: run profiles against a bench and record verdicts. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "core/verdict.h"
#include "core/sanitize.h"
#include "report/text.h"
#include "run/run.h"

static void help(void)
{
    printf("usage: assay run BENCH.yaml [-p PROFILE]... [-j N] [-o DIR]\n"
           "       assay run --resume RUN_DIR [-j N]\n"
           "                 [--allow intrusive,destructive,dos] [--profile-path DIR]\n\n"
           "Runs the profiles against every device of the bench. Each run gets a new\n"
           "directory under DIR (default results/) holding run.json, the journal, and\n"
           "each device's transcript and observations.\n\n"
           "  -p, --profile NAME|PATH  a profile to run (repeatable; at least one)\n"
           "  -j, --jobs N             devices tested at once (default: cores, at most the\n"
           "                           number of devices)\n"
           "  -o, --output DIR         where run directories go (default results)\n"
           "      --device PATTERN     run only the devices whose id matches (a shell\n"
           "                           pattern such as 'mqtt-*'; repeatable)\n"
           "      --allow LIST         categories to allow beyond the bench's defaults:\n"
           "                           intrusive, destructive, dos (comma-separated)\n"
           "      --profile-path DIR   where profiles and obligations.yaml are found\n"
           "      --resume RUN_DIR     complete an interrupted run: finished test cases are\n"
           "                           kept, the rest run (the bench and profiles are the\n"
           "                           run's own; give no BENCH.yaml)\n"
           "      --sign KEY           sign the sealed run with this private key\n"
           "                           (assay keygen makes one)\n"
           "      --passphrase-env VAR the key's passphrase is in environment variable VAR\n"
           "  -h, --help               this text\n\n%s",
           cli_exit_codes);
}

static int parse_allow(const char *list, unsigned *bits)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", list);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        unsigned c = category_parse(tok);
        if (!c)
            return -1;
        *bits |= c;
    }
    return 0;
}

static int parse_jobs(const char *s, int *jobs)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == 0 || *end || v < 1 || v > 1024)
        return -1;
    *jobs = (int)v;
    return 0;
}

/* What --resume needs to rebuild the same plan: absolute paths, profiles, --allow. */
static json_t *invocation_new(const char *bench, const struct plan_options *po, unsigned allow)
{
    char abs_bench[PATH_MAX], abs_root[PATH_MAX];
    json_t *profiles = json_array();
    for (size_t i = 0; i < po->nprofiles; i++) {
        char abs[PATH_MAX];
        /* A path (with '/') is kept absolute; a name stays a name. */
        const char *p = po->profiles[i];
        json_array_append_new(profiles, json_string(strchr(p, '/') && realpath(p, abs) ? abs : p));
    }
    return json_pack(
        "{s:s, s:o, s:s, s:i}", "bench", realpath(bench, abs_bench) ? abs_bench : bench, "profiles",
        profiles, "profile_root",
        realpath(po->profile_root, abs_root) ? abs_root : po->profile_root, "allow", (int)allow);
}

/* Fills the options from a journalled invocation; strings stay owned by inv. */
static int invocation_apply(const json_t *inv, const char **bench, struct plan_options *po,
                            struct run_options *ro)
{
    *bench = json_string_value(json_object_get(inv, "bench"));
    po->profile_root = json_string_value(json_object_get(inv, "profile_root"));
    ro->allow_extra = (unsigned)json_integer_value(json_object_get(inv, "allow"));
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(inv, "profiles"), i, p)
    {
        if (!json_is_string(p) || plan_options_add_profile(po, json_string_value(p)))
            return -1;
    }
    json_array_foreach(json_object_get(inv, "devices"), i, p)
    {
        if (!json_is_string(p) || po->ndevices == sizeof(po->devices) / sizeof(po->devices[0]))
            return -1;
        po->devices[po->ndevices++] = json_string_value(p);
    }
    return *bench && po->profile_root && po->nprofiles ? 0 : -1;
}

int cmd_run(int argc, char **argv)
{
    enum { OPT_ALLOW = 256, OPT_PATH, OPT_RESUME, OPT_SIGN, OPT_PASS, OPT_DEVICE };
    static const struct option opts[] = {
        {"profile", required_argument, NULL, 'p'},
        {"jobs", required_argument, NULL, 'j'},
        {"output", required_argument, NULL, 'o'},
        {"allow", required_argument, NULL, OPT_ALLOW},
        {"device", required_argument, NULL, OPT_DEVICE},
        {"profile-path", required_argument, NULL, OPT_PATH},
        {"resume", required_argument, NULL, OPT_RESUME},
        {"sign", required_argument, NULL, OPT_SIGN},
        {"passphrase-env", required_argument, NULL, OPT_PASS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct plan_options po = {0};
    struct run_options ro = {.out_dir = "results", .jobs = 0};
    struct cli_signing sign = {NULL, NULL};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "p:j:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            if (plan_options_add_profile(&po, optarg))
                return cli_usage_error("run", "too many profiles");
            break;
        case 'j':
            if (parse_jobs(optarg, &ro.jobs))
                return cli_usage_error("run", "-j takes a number from 1 to 1024");
            break;
        case 'o': ro.out_dir = optarg; break;
        case OPT_DEVICE:
            if (po.ndevices == sizeof(po.devices) / sizeof(po.devices[0]))
                return cli_usage_error("run", "too many --device patterns");
            po.devices[po.ndevices++] = optarg;
            break;
        case OPT_ALLOW:
            if (parse_allow(optarg, &ro.allow_extra))
                return cli_usage_error("run", "--allow takes safe, intrusive, destructive, dos");
            break;
        case OPT_PATH: po.profile_root = optarg; break;
        case OPT_RESUME: ro.resume_dir = optarg; break;
        case OPT_SIGN: sign.key = optarg; break;
        case OPT_PASS: sign.passphrase_env = optarg; break;
        case 'h': help(); return ASSAY_EXIT_OK;
        default: return cli_usage_error("run", "unknown option");
        }
    }
    if (cli_check_signing(&sign))
        return ASSAY_EXIT_USAGE;
    json_t *inv = NULL;
    const char *bench_path = optind == argc - 1 ? argv[optind] : NULL;
    if (ro.resume_dir) {
        struct assay_error e = {0};
        if (optind < argc - 1 || po.nprofiles || ro.allow_extra || po.ndevices)
            return cli_usage_error("run", "--resume takes the run's own bench, profiles and "
                                          "--allow; give only the run directory (and -j)");
        inv = run_read_invocation(ro.resume_dir, &e);
        if (!inv) {
            fprintf(stderr, "assay run: cannot resume: %s\n", e.msg);
            return ASSAY_EXIT_USAGE;
        }
        if (invocation_apply(inv, &bench_path, &po, &ro)) {
            json_decref(inv);
            return cli_usage_error("run", "%s does not record how it was started", ro.resume_dir);
        }
    } else {
        if (!bench_path)
            return cli_usage_error("run", "expected exactly one bench file");
        if (po.nprofiles == 0)
            return cli_usage_error("run", "name at least one profile with -p");
        po.profile_root = cli_profile_root(po.profile_root);
        inv = invocation_new(bench_path, &po, ro.allow_extra);
    }
    ro.invocation = inv;

    struct plan plan;
    struct diag_list diags;
    diag_init(&diags);
    int rc = plan_load(&plan, bench_path, &po, &diags);
    diag_print(&diags, stderr);
    diag_release(&diags);
    if (rc) {
        fprintf(stderr, "assay run: %s is not usable; nothing was run\n", bench_path);
        plan_release(&plan);
        json_decref(inv);
        return ASSAY_EXIT_USAGE;
    }
    if (ro.jobs == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        ro.jobs = cores > 0 ? (int)cores : 1;
    }
    if ((size_t)ro.jobs > plan.bench.ndevices)
        ro.jobs = (int)plan.bench.ndevices;
    ro.progress = true;

    struct run_result res;
    struct assay_error err = {0};
    rc = run_execute(&plan, &ro, &res, &err);
    int code;
    if (rc && !res.record) {
        fprintf(stderr, "assay run: %s\n", err.msg);
        code = ASSAY_EXIT_USAGE;
    } else {
        if (rc)
            fprintf(stderr, "assay run: %s\n", err.msg);
        fprintf(stdout, "\n");
        sanitize_load_secrets(res.dir);
        report_text(res.record, stdout, cli_stdout_is_tty());
        printf("\nRun directory: %s\n  record   %s/run.json\n  journal  %s/journal.jsonl\n",
               res.dir, res.dir, res.dir);
        if (!res.interrupted && cli_finish(res.record, res.dir, &plan.catalogue, &sign))
            rc = rc ? rc : ASSAY_EIO;
        code = res.interrupted ? ASSAY_EXIT_INTERRUPTED
               : rc            ? ASSAY_EXIT_UNDECIDED
                               : (int)json_integer_value(json_object_get(res.record, "exit_code"));
    }
    json_decref(res.record);
    json_decref(inv);
    plan_release(&plan);
    return code;
}
