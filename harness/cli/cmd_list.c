/* cmd_list.c: `assay list obligations|profiles|testcases`. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "core/verdict.h"
#include "run/profiles.h"

static void help(void)
{
    printf(
        "usage: assay list obligations|profiles|testcases [-p PROFILE]... [--profile-path DIR]\n\n"
        "  obligations  the obligation catalogue; with -p, which obligations the profiles\n"
        "               answer for and which have automated test cases\n"
        "  profiles     the profiles found on the profile path\n"
        "  testcases    the test cases of the profiles named with -p (default: all)\n\n"
        "  -p, --profile NAME|PATH  (repeatable)\n"
        "      --profile-path DIR   where profiles and obligations.yaml are found\n"
        "  -h, --help               this text\n");
}

static const char *modes(const struct obligation *o, char *buf, size_t size)
{
    snprintf(buf, size, "%s%s%s", o->assessment & ASSESS_NETWORK ? "net " : "",
             o->assessment & ASSESS_DOCUMENTARY ? "doc " : "",
             o->assessment & ASSESS_MANUAL ? "manual" : "");
    return buf;
}

/* Counts the test cases naming each obligation. */
static size_t automated(const json_t *tcs, const char *id)
{
    size_t n = 0, i, k;
    json_t *tc, *o;
    json_array_foreach(tcs, i, tc)
    {
        json_array_foreach(json_object_get(tc, "obligations"), k, o)
        {
            if (!strcmp(json_string_value(o), id))
                n++;
        }
    }
    return n;
}

static bool listed(const json_t *ids, const char *id)
{
    size_t i;
    json_t *o;
    json_array_foreach(ids, i, o)
    {
        if (!strcmp(json_string_value(o), id))
            return true;
    }
    return false;
}

static void list_obligations(const struct catalogue *cat, const struct plan_profiles *pp,
                             bool only_answered)
{
    json_t *tcs = plan_profiles_testcase_list(pp);
    json_t *answered = only_answered ? plan_profiles_obligations(pp) : NULL;
    char m[32];
    printf("%-24s %-11s %-5s %-17s %-9s %s\n", "id", "level", "legal", "assessed by", "automated",
           "title");
    for (size_t i = 0; i < cat->n; i++) {
        const struct obligation *o = &cat->items[i];
        if (answered && !listed(answered, o->id))
            continue;
        size_t n = automated(tcs, o->id);
        char autos[16];
        snprintf(autos, sizeof(autos), n ? "%zu case%s" : "no", n, n == 1 ? "" : "s");
        printf("%-24s %-11s %-5s %-17s %-9s %s\n", o->id, o->level, o->legal ? "yes" : "no",
               modes(o, m, sizeof(m)), autos, o->title);
    }
    json_decref(answered);
    json_decref(tcs);
}

static void list_testcases(const json_t *tcs)
{
    size_t i, k;
    json_t *tc, *o;
    printf("%-36s %-3s %-11s %-6s %s\n", "id", "ver", "category", "scope", "obligations  title");
    json_array_foreach(tcs, i, tc)
    {
        printf("%-36s %-3lld %-11s %-6s ", json_string_value(json_object_get(tc, "id")),
               (long long)json_integer_value(json_object_get(tc, "version")),
               json_string_value(json_object_get(tc, "category")),
               json_string_value(json_object_get(tc, "scope")));
        json_array_foreach(json_object_get(tc, "obligations"), k, o)
            printf("%s%s", k ? "," : "", json_string_value(o));
        printf("  %s\n", json_string_value(json_object_get(tc, "title")));
    }
}

int cmd_list(int argc, char **argv)
{
    static const struct option opts[] = {
        {"profile", required_argument, NULL, 'p'},
        {"profile-path", required_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *names[16], *root = NULL;
    size_t nnames = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "p:h", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            if (nnames == 16)
                return cli_usage_error("list", "too many profiles");
            names[nnames++] = optarg;
            break;
        case 'P': root = optarg; break;
        case 'h': help(); return ASSAY_EXIT_OK;
        default: return cli_usage_error("list", "unknown option");
        }
    }
    if (optind != argc - 1)
        return cli_usage_error("list", "expected one of: obligations, profiles, testcases");
    const char *what = argv[optind];
    if (strcmp(what, "obligations") && strcmp(what, "profiles") && strcmp(what, "testcases"))
        return cli_usage_error("list", "unknown list '%s'", what);
    root = cli_profile_root(root);

    json_t *avail = plan_profiles_available(root);
    if (!strcmp(what, "profiles")) {
        size_t i;
        json_t *n;
        json_array_foreach(avail, i, n) printf("%s\n", json_string_value(n));
        json_decref(avail);
        return ASSAY_EXIT_OK;
    }
    struct catalogue cat;
    if (cli_load_catalogue(root, &cat)) {
        catalogue_release(&cat);
        json_decref(avail);
        return ASSAY_EXIT_USAGE;
    }
    /* Without -p, every available profile counts. */
    bool all = nnames == 0;
    for (size_t i = 0; all && i < json_array_size(avail) && nnames < 16; i++)
        names[nnames++] = json_string_value(json_array_get(avail, i));
    struct plan_profiles *pp = NULL;
    struct diag_list diags;
    diag_init(&diags);
    int rc = nnames ? plan_profiles_load(&pp, root, names, nnames, &cat, NULL, &diags) : 0;
    diag_print(&diags, stderr);
    diag_release(&diags);
    if (rc == 0) {
        if (!strcmp(what, "obligations"))
            list_obligations(&cat, pp, !all);
        else {
            json_t *tcs = plan_profiles_testcase_list(pp);
            list_testcases(tcs);
            json_decref(tcs);
        }
    }
    plan_profiles_free(pp);
    catalogue_release(&cat);
    json_decref(avail);
    return rc ? ASSAY_EXIT_USAGE : ASSAY_EXIT_OK;
}
