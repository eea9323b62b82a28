/*
 * test_provenance.c: run.json's provenance: versions, host, clock, and the
 * SHA-256 of every file a plan uses, checked against sha256sum(1) on the
 * reference bench (fixtures/bench.example.yaml) and a scratch profile root
 * made from the repository's catalogue, lib, data and selftest profile.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <jansson.h>
#include <limits.h>
#include <lua.h>
#include <modbus.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "evidence/provenance.h"
#include "run/plan.h"

static char tmp[64];

static int setup(void **state)
{
    (void)state;
    snprintf(tmp, sizeof(tmp), "/tmp/assay-prov-XXXXXX");
    return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

/* sha256sum(1)'s digest of path: an implementation independent of ours. */
static void sha256sum(const char *path, char hex[65])
{
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "sha256sum '%s'", path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    assert_non_null(fgets(hex, 65, p));
    assert_int_equal(strlen(hex), 64);
    pclose(p);
}

static void write_file(const char *rel, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", tmp, rel);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static json_t *entry(const json_t *files, const char *path)
{
    char real[PATH_MAX];
    if (!realpath(path, real))
        fail_msg("%s: no such file", path);
    size_t i;
    json_t *f;
    json_array_foreach(
        files, i, f) if (!strcmp(json_string_value(json_object_get(f, "path")), real)) return f;
    return NULL;
}

/* The entry for path exists, has the role, and sha256sum's digest. */
static void assert_listed(const json_t *files, const char *path, const char *role)
{
    json_t *e = entry(files, path);
    if (!e)
        fail_msg("%s is not listed", path);
    char hex[65];
    sha256sum(path, hex);
    assert_string_equal(json_string_value(json_object_get(e, "role")), role);
    assert_string_equal(json_string_value(json_object_get(e, "sha256")), hex);
}

static size_t count_role(const json_t *files, const char *role)
{
    size_t i, n = 0;
    json_t *f;
    json_array_foreach(files, i, f) n +=
        !strcmp(json_string_value(json_object_get(f, "role")), role);
    return n;
}

static void test_tree_walk(void **state)
{
    (void)state;
    char dir[128], path[160], missing[160];
    struct assay_error err = {0};
    snprintf(dir, sizeof(dir), "%s/data", tmp);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(path, sizeof(path), "%s/data/sub", tmp);
    assert_int_equal(mkdir(path, 0755), 0);
    write_file("data/b.txt", "b");
    write_file("data/a.txt", "a");
    write_file("data/sub/c.txt", "c");
    snprintf(path, sizeof(path), "%s/data/link", tmp);
    assert_int_equal(symlink("/etc/hostname", path), 0); /* not followed */

    json_t *files = json_array();
    assert_int_equal(provenance_add_tree(files, dir, "data", &err), 0);
    assert_int_equal(json_array_size(files), 3);
    const char *order[] = {"data/a.txt", "data/b.txt", "data/sub/c.txt"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/%s", tmp, order[i]);
        assert_ptr_equal(entry(files, path), json_array_get(files, i));
        assert_listed(files, path, "data");
    }
    assert_int_equal(provenance_add_tree(files, dir, "data", &err), 0); /* listed once */
    assert_int_equal(json_array_size(files), 3);
    snprintf(missing, sizeof(missing), "%s/no-such-dir", tmp);
    assert_int_equal(provenance_add_tree(files, missing, "lib", &err), 0);
    assert_int_equal(json_array_size(files), 3);

    /* An unreadable file is listed with its error, not dropped and not fatal. */
    snprintf(missing, sizeof(missing), "%s/gone.yaml", tmp);
    assert_int_equal(provenance_add_file(files, missing, "dossier", NULL, &err), 0);
    json_t *e = json_array_get(files, 3);
    assert_true(json_is_null(json_object_get(e, "sha256")));
    assert_non_null(strstr(json_string_value(json_object_get(e, "error")), "No such file"));
    json_decref(files);

    char hex[65];
    assert_int_equal(provenance_sha256_file(missing, hex, &err), ASSAY_EIO);
    write_file("empty", "");
    snprintf(path, sizeof(path), "%s/empty", tmp);
    assert_int_equal(provenance_sha256_file(path, hex, &err), 0);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_versions_host_clock(void **state)
{
    (void)state;
    json_t *h = provenance_harness();
    assert_string_equal(json_string_value(json_object_get(h, "version")), ASSAY_VERSION);
    const char *commit = json_string_value(json_object_get(h, "git_commit"));
    char gitdir[4200];
    snprintf(gitdir, sizeof(gitdir), "%s/.git", ASSAY_SOURCE_DIR);
    if (access(gitdir, F_OK) == 0) {
        assert_int_equal(strlen(commit), 40);
        assert_int_equal(strspn(commit, "0123456789abcdef"), 40);
    }
    json_decref(h);

    json_t *l = provenance_libraries();
    const char *names[] = {"libyaml", "jansson", "openssl",    "lua",     "libmodbus", "libcoap",
                           "paho",    "libpcap", "libarchive", "libcurl", "libxml2"};
    for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
        const char *v = json_string_value(json_object_get(l, names[i]));
        if (!v || !*v || !strcmp(v, "unknown"))
            fail_msg("no version for %s", names[i]);
        assert_non_null(strchr(v, '.'));
    }
    assert_int_equal(json_object_size(l), sizeof(names) / sizeof(*names));
    assert_string_equal(json_string_value(json_object_get(l, "lua")), LUA_RELEASE);
    assert_string_equal(json_string_value(json_object_get(l, "libmodbus")),
                        LIBMODBUS_VERSION_STRING);
    assert_string_equal(json_string_value(json_object_get(l, "jansson")), JANSSON_VERSION);
    assert_non_null(strstr(json_string_value(json_object_get(l, "libpcap")), "libpcap"));
    assert_true(isdigit((unsigned char)json_string_value(json_object_get(l, "libcoap"))[0]));
    assert_true(isdigit((unsigned char)json_string_value(json_object_get(l, "libarchive"))[0]));
    assert_non_null(strstr(json_string_value(json_object_get(l, "openssl")), "OpenSSL 3"));
    json_decref(l);

    json_t *c = provenance_clock();
    assert_true(json_is_boolean(json_object_get(c, "synchronised")));
    assert_string_equal(json_string_value(json_object_get(c, "source")), "adjtimex");
    const char *st = json_string_value(json_object_get(c, "state"));
    if (!strcmp(st, "error"))
        assert_true(json_is_false(json_object_get(c, "synchronised")));
    print_message("clock: state %s, synchronised %s\n", st,
                  json_is_true(json_object_get(c, "synchronised")) ? "yes" : "no");
    json_decref(c);
}

/* A profile root of its own: the repository's catalogue, lib, data and selftest test cases,
 * and two profiles (selftest and its twin) that include the same test-case files. */
static void make_profile_root(char *root, size_t size)
{
    char cmd[4096];
    snprintf(root, size, "%s/profiles", tmp);
    snprintf(cmd, sizeof(cmd),
             "set -e; S='%s/profiles'; R='%s'; mkdir -p \"$R/testcases\" \"$R/twin\"; "
             "cp \"$S/obligations.yaml\" \"$R/\"; cp -r \"$S/lib\" \"$S/data\" \"$S/selftest\" "
             "\"$R/\"; cp -r \"$S/testcases/selftest\" \"$R/testcases/\"; "
             "mkdir -p \"$R/data/extra/deeper\"; echo x > \"$R/data/extra/deeper/n.txt\"; "
             "sed 's/name = \\\"selftest\\\"/name = \\\"twin\\\"/' "
             "\"$S/selftest/profile.lua\" > \"$R/twin/profile.lua\"",
             ASSAY_SOURCE_DIR, root);
    assert_int_equal(system(cmd), 0);
}

static void test_collect_from_plan(void **state)
{
    (void)state;
    struct plan plan;
    char root[128];
    make_profile_root(root, sizeof(root));
    struct plan_options po = {.profile_root = root};
    struct diag_list diags;
    struct assay_error err = {0};
    diag_init(&diags);
    assert_int_equal(plan_options_add_profile(&po, "selftest"), 0);
    assert_int_equal(plan_options_add_profile(&po, "twin"), 0);
    int rc = plan_load(&plan, ASSAY_SOURCE_DIR "/fixtures/bench.example.yaml", &po, &diags);
    if (rc) {
        diag_print(&diags, stderr);
        fail_msg("plan_load: %d", rc);
    }
    json_t *p = provenance_collect(&plan, &err);
    assert_non_null(p);
    json_t *files = json_object_get(p, "files");
    const char *S = ASSAY_SOURCE_DIR;
    char path[4200];
    snprintf(path, sizeof(path), "%s/fixtures/bench.example.yaml", S);
    assert_listed(files, path, "bench");
    assert_string_equal(json_string_value(json_object_get(json_array_get(files, 0), "role")),
                        "bench");
    snprintf(path, sizeof(path), "%s/obligations.yaml", root);
    assert_listed(files, path, "catalogue");
    snprintf(path, sizeof(path), "%s/fixtures/dossiers/ts-100.yaml", S);
    assert_listed(files, path, "dossier");
    snprintf(path, sizeof(path), "%s/fixtures/dossiers/sp-20.yaml", S);
    assert_listed(files, path, "dossier");
    snprintf(path, sizeof(path), "%s/fixtures/dossiers/pages/vdp.html", S);
    assert_listed(files, path, "page");
    /* The twin shares every test case with selftest: its manifest is listed all the same. */
    snprintf(path, sizeof(path), "%s/selftest/profile.lua", root);
    assert_listed(files, path, "profile");
    snprintf(path, sizeof(path), "%s/twin/profile.lua", root);
    assert_listed(files, path, "profile");
    assert_int_equal(count_role(files, "profile"), 2);
    snprintf(path, sizeof(path), "%s/testcases/selftest/echo.lua", root);
    assert_listed(files, path, "testcase");
    snprintf(path, sizeof(path), "%s/data/extra/deeper/n.txt", root);
    assert_listed(files, path, "data");

    /* Every test case, lib and data file is there with sha256sum's digest, and nothing else. */
    const char *dirs[][2] = {{"lib", "lib"}, {"data", "data"}, {"testcases", "testcase"}};
    for (size_t d = 0; d < 3; d++) {
        char cmd[4300], line[4200];
        snprintf(cmd, sizeof(cmd), "find '%s/%s' -type f", root, dirs[d][0]);
        FILE *f = popen(cmd, "r");
        size_t nfound = 0;
        while (f && fgets(line, sizeof(line), f)) {
            line[strcspn(line, "\n")] = 0;
            assert_listed(files, line, dirs[d][1]);
            nfound++;
        }
        pclose(f);
        assert_true(nfound > 0);
        assert_int_equal(count_role(files, dirs[d][1]), nfound);
    }

    char host[256] = "";
    gethostname(host, sizeof(host));
    assert_string_equal(json_string_value(json_object_get(json_object_get(p, "host"), "name")),
                        host);
    assert_non_null(json_object_get(p, "clock"));
    assert_non_null(json_object_get(json_object_get(p, "libraries"), "libcoap"));
    json_decref(p);
    plan_release(&plan);
    diag_release(&diags);
    assert_null(provenance_collect(NULL, &err));
    assert_int_equal(err.code, ASSAY_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tree_walk),
        cmocka_unit_test(test_versions_host_clock),
        cmocka_unit_test(test_collect_from_plan),
    };
    return cmocka_run_group_tests_name("provenance", tests, setup, teardown);
}
