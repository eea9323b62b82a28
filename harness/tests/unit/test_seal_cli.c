/* test_seal_cli.c: `assay keygen` and `assay verify` as the command line runs them: output and exit
 * codes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/verdict.h"
#include "evidence/seal.h"
#include "test_seal_util.h"

const char cli_exit_codes[] = "Exit codes: (test)\n"; /* main.c's, which this test does not link */

struct fx {
    char *base, *run;
    char prefix[PATH_MAX], pub[PATH_MAX + 8], key[PATH_MAX + 8];
    char fpr[65];
    char out[PATH_MAX]; /* captured stdout */
};

/* Runs a subcommand with stdout captured into f->out; returns its exit code. */
static int run(struct fx *f, int (*cmd)(int, char **), const char **args)
{
    int argc = 0;
    char *argv[16];
    while (args[argc] && argc < 15) {
        argv[argc] = strdup(args[argc]);
        argc++;
    }
    argv[argc] = NULL;
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    int fd = open(f->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, STDOUT_FILENO);
    close(fd);
    int code = cmd(argc, argv);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    return code;
}

static char *output(struct fx *f)
{
    char *s = tu_read(f->out, NULL);
    assert_non_null(s);
    return s;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    f->base = tu_tmpdir();
    f->run = tu_make_run(f->base);
    snprintf(f->out, sizeof(f->out), "%s/stdout", f->base);
    snprintf(f->prefix, sizeof(f->prefix), "%s/lab", f->base);
    snprintf(f->pub, sizeof(f->pub), "%s.pub", f->prefix);
    snprintf(f->key, sizeof(f->key), "%s.key", f->prefix);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    tu_rm_rf(f->base);
    free(f->base);
    free(f->run);
    free(f);
    return 0;
}

/* keygen through the command, then seal with the key it wrote. */
static void keygen_and_seal(struct fx *f, const char *pass_env)
{
    const char *argv[] = {"keygen", f->prefix, pass_env ? "--passphrase-env" : NULL, pass_env,
                          NULL};
    assert_int_equal(run(f, cmd_keygen, argv), ASSAY_EXIT_OK);
    char *out = output(f);
    char *at = strstr(out, "fingerprint: ");
    assert_non_null(at);
    assert_int_equal(strspn(at + 13, "0123456789abcdef"), 64);
    memcpy(f->fpr, at + 13, 64);
    f->fpr[64] = 0;
    free(out);
    struct stat st;
    assert_int_equal(stat(f->key, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    struct assay_error err = {0};
    assert_int_equal(seal_run(f->run, f->key, pass_env ? getenv(pass_env) : NULL, &err), 0);
}

static void test_keygen(void **state)
{
    struct fx *f = *state;
    keygen_and_seal(f, NULL);
    char *key = tu_read(f->key, NULL), *pub = tu_read(f->pub, NULL);
    assert_non_null(strstr(key, "-----BEGIN PRIVATE KEY-----"));
    assert_non_null(strstr(pub, "-----BEGIN PUBLIC KEY-----"));
    free(key);
    free(pub);
    /* never overwrites */
    const char *argv[] = {"keygen", f->prefix, NULL};
    assert_int_equal(run(f, cmd_keygen, argv), ASSAY_EXIT_USAGE);
    const char *none[] = {"keygen", NULL};
    assert_int_equal(run(f, cmd_keygen, none), ASSAY_EXIT_USAGE);
    const char *unset[] = {"keygen", "/nonexistent-dir/x", "--passphrase-env",
                           "ASSAY_TEST_UNSET_VAR", NULL};
    unsetenv("ASSAY_TEST_UNSET_VAR");
    assert_int_equal(run(f, cmd_keygen, unset), ASSAY_EXIT_USAGE);
}

static void test_keygen_with_passphrase(void **state)
{
    struct fx *f = *state;
    setenv("ASSAY_TEST_PASS", "correct horse battery staple", 1);
    keygen_and_seal(f, "ASSAY_TEST_PASS");
    char *key = tu_read(f->key, NULL);
    assert_non_null(strstr(key, "-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    free(key);
    struct assay_error err = {0};
    assert_int_equal(seal_run(f->run, f->key, NULL, &err), ASSAY_EINVAL);
    assert_non_null(strstr(err.msg, "passphrase"));
    assert_int_equal(seal_run(f->run, f->key, "wrong horse", &err), ASSAY_EINVAL);
    const char *argv[] = {"verify", f->run, "--pubkey", f->pub, NULL};
    assert_int_equal(run(f, cmd_verify, argv), ASSAY_EXIT_OK);
    unsetenv("ASSAY_TEST_PASS");
}

static void test_verify_clean_dir_and_archive(void **state)
{
    struct fx *f = *state;
    keygen_and_seal(f, NULL);
    char want[128];
    snprintf(want, sizeof(want), "verified: %d files, signed by %s\n", TU_RUN_FILES, f->fpr);
    const char *argv[] = {"verify", f->run, "--pubkey", f->pub, NULL};
    assert_int_equal(run(f, cmd_verify, argv), ASSAY_EXIT_OK);
    char *out = output(f);
    assert_string_equal(out, want);
    free(out);
    char tgz[PATH_MAX + 8];
    snprintf(tgz, sizeof(tgz), "%s.tar.gz", f->run);
    const char *argv2[] = {"verify", "-k", f->pub, tgz, NULL};
    assert_int_equal(run(f, cmd_verify, argv2), ASSAY_EXIT_OK);
    out = output(f);
    assert_string_equal(out, want);
    free(out);
}

static void test_verify_trust_file(void **state)
{
    struct fx *f = *state;
    keygen_and_seal(f, NULL);
    char *pem = tu_read(f->pub, NULL);
    char trust[8192];
    /* a path relative to the trust file, and the same key inline */
    snprintf(trust, sizeof(trust), "# lab keys\n\nlab.pub\n%s", pem);
    tu_write(f->base, "trust", trust);
    free(pem);
    char tpath[PATH_MAX + 8];
    snprintf(tpath, sizeof(tpath), "%s/trust", f->base);
    const char *argv[] = {"verify", "--trust", tpath, f->run, NULL};
    assert_int_equal(run(f, cmd_verify, argv), ASSAY_EXIT_OK);
    /* a trust file naming a key that does not exist is an input error, named by line */
    tu_write(f->base, "trust", "# lab keys\nmissing.pub\n");
    assert_int_equal(run(f, cmd_verify, argv), ASSAY_EXIT_USAGE);
}

static void test_verify_failures(void **state)
{
    struct fx *f = *state;
    keygen_and_seal(f, NULL);
    tu_flip(f->run, "devices/dev-a/transcript.jsonl", 5);
    const char *argv[] = {"verify", f->run, "--pubkey", f->pub, NULL};
    assert_int_equal(run(f, cmd_verify, argv), ASSAY_EXIT_FAIL);
    char *out = output(f);
    assert_string_equal(out, "modified: devices/dev-a/transcript.jsonl\nNOT verified: 1 problem\n");
    free(out);
    tu_flip(f->run, "devices/dev-a/transcript.jsonl", 5);

    /* unsigned: a failure unless --unsigned-ok */
    struct assay_error err = {0};
    assert_int_equal(seal_run(f->run, NULL, NULL, &err), 0);
    assert_int_equal(run(f, cmd_verify, argv), ASSAY_EXIT_FAIL);
    out = output(f);
    assert_string_equal(out, "unsigned: the run has no MANIFEST.sig\nNOT verified: 1 problem\n");
    free(out);
    const char *ok[] = {"verify", f->run, "--unsigned-ok", NULL};
    assert_int_equal(run(f, cmd_verify, ok), ASSAY_EXIT_OK);
    out = output(f);
    assert_non_null(strstr(out, "verified: 4 files, unsigned\n"));
    free(out);
}

static void test_verify_usage(void **state)
{
    struct fx *f = *state;
    const char *no_target[] = {"verify", "--unsigned-ok", NULL};
    assert_int_equal(run(f, cmd_verify, no_target), ASSAY_EXIT_USAGE);
    const char *no_key[] = {"verify", f->run, NULL};
    assert_int_equal(run(f, cmd_verify, no_key), ASSAY_EXIT_USAGE);
    const char *bad_key[] = {"verify", f->run, "--pubkey", f->run, NULL};
    assert_int_equal(run(f, cmd_verify, bad_key), ASSAY_EXIT_USAGE);
    const char *missing[] = {"verify", "/nonexistent/run", "--unsigned-ok", NULL};
    assert_int_equal(run(f, cmd_verify, missing), ASSAY_EXIT_USAGE);
    const char *unknown[] = {"verify", "--frobnicate", f->run, NULL};
    assert_int_equal(run(f, cmd_verify, unknown), ASSAY_EXIT_USAGE);
    const char *help[] = {"verify", "--help", NULL};
    assert_int_equal(run(f, cmd_verify, help), ASSAY_EXIT_OK);
    char *out = output(f);
    assert_non_null(strstr(out, "usage: assay verify"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_keygen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keygen_with_passphrase, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_clean_dir_and_archive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_trust_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_usage, setup, teardown),
    };
    return cmocka_run_group_tests_name("seal_cli", tests, NULL, NULL);
}
