/* test_seal.c: manifest, signature and verification of a run directory, and every tamper case. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "evidence/manifest.h"
#include "evidence/seal.h"
#include "evidence/verify.h"
#include "test_seal_util.h"

struct fx {
    char *base; /* temp dir holding the run and the keys */
    char *run;  /* base/TU_RUN_ID */
    char *key;  /* base/lab (prefix of lab.key, lab.pub) */
    char fpr[65];
    struct sign_keyring ring; /* holds lab.pub */
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    f->base = tu_tmpdir();
    f->run = tu_make_run(f->base);
    f->key = tu_keygen(f->base, "lab", NULL, f->fpr);
    char pub[PATH_MAX], kpath[PATH_MAX];
    snprintf(pub, sizeof(pub), "%s.pub", f->key);
    snprintf(kpath, sizeof(kpath), "%s.key", f->key);
    struct assay_error err = {0};
    assert_int_equal(sign_keyring_add_file(&f->ring, pub, &err), 0);
    assert_int_equal(seal_run(f->run, kpath, NULL, &err), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    tu_rm_rf(f->base);
    sign_keyring_release(&f->ring);
    free(f->base);
    free(f->run);
    free(f->key);
    free(f);
    return 0;
}

/* Verifies f->run as a directory with the lab key; the caller releases rep. */
static void verify(struct fx *f, bool unsigned_ok, struct verify_report *rep)
{
    struct verify_options opt = {.ring = &f->ring, .unsigned_ok = unsigned_ok};
    struct assay_error err = {0};
    memset(rep, 0, sizeof(*rep));
    assert_int_equal(verify_dir(f->run, &opt, rep, &err), 0);
    for (size_t i = 0; i < rep->nproblems; i++)
        print_message("    problem: %s\n", rep->problems[i]);
}

/* Asserts the report holds exactly the given problem lines (prefix match), in any order. */
static void expect(const struct verify_report *rep, size_t n, ...)
{
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++) {
        const char *want = va_arg(ap, const char *);
        if (!verify_has(rep, want))
            fail_msg("no problem line starting with \"%s\"", want);
    }
    va_end(ap);
    assert_int_equal(rep->nproblems, n);
    assert_false(verify_ok(rep));
}

static void test_clean_run_verifies(void **state)
{
    struct fx *f = *state;
    struct verify_report rep;
    verify(f, false, &rep);
    assert_true(verify_ok(&rep));
    assert_true(rep.signature_ok);
    assert_false(rep.unsigned_run);
    assert_string_equal(rep.signer, f->fpr);
    assert_int_equal(rep.nfiles, TU_RUN_FILES);
    verify_report_release(&rep);
}

static void test_manifest_is_sha256sum_compatible(void **state)
{
    struct fx *f = *state;
    char *m = tu_read_rel(f->run, MANIFEST_NAME, NULL);
    /* sorted bytewise, two spaces, relative paths, the manifest and signature left out */
    const char *order[] = {"devices/dev-a/observations/mqtt.default-credentials.json",
                           "devices/dev-a/transcript.jsonl", "journal.jsonl", "run.json"};
    const char *line = m;
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(strspn(line, "0123456789abcdef"), 64);
        assert_memory_equal(line + 64, "  ", 2);
        assert_memory_equal(line + 66, order[i], strlen(order[i]));
        assert_int_equal(line[66 + strlen(order[i])], '\n');
        line += 66 + strlen(order[i]) + 1;
    }
    assert_int_equal(*line, 0);
    free(m);
    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof(cmd), "cd '%s' && sha256sum --quiet -c %s >/dev/null 2>&1", f->run,
             MANIFEST_NAME);
    assert_int_equal(system(cmd), 0);
    tu_flip(f->run, "run.json", 3); /* sha256sum itself sees the change too */
    assert_int_not_equal(system(cmd), 0);
}

static void test_one_byte_changed_in_any_file(void **state)
{
    struct fx *f = *state;
    const char *files[] = {"run.json", "journal.jsonl", "devices/dev-a/transcript.jsonl",
                           "devices/dev-a/observations/mqtt.default-credentials.json"};
    for (size_t i = 0; i < 4; i++) {
        size_t len;
        free(tu_read_rel(f->run, files[i], &len));
        tu_flip(f->run, files[i], len / 2);
        struct verify_report rep;
        verify(f, false, &rep);
        char want[256];
        snprintf(want, sizeof(want), "modified: %s", files[i]);
        if (!strcmp(files[i], "journal.jsonl")) /* the journal's own chain breaks as well */
            expect(&rep, 2, want, "journal: journal.jsonl:");
        else
            expect(&rep, 1, want);
        assert_string_equal(rep.problems[0], want);
        verify_report_release(&rep);
        tu_flip(f->run, files[i], len / 2); /* put it back: the run verifies again */
        verify(f, false, &rep);
        assert_true(verify_ok(&rep));
        verify_report_release(&rep);
    }
}

static void test_removed_and_added_files(void **state)
{
    struct fx *f = *state;
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/devices/dev-a/transcript.jsonl", f->run);
    assert_int_equal(unlink(path), 0);
    tu_write(f->run, "devices/dev-a/observations/extra.json", "{}\n");
    tu_write(f->run, "notes.txt", "added later\n");
    struct verify_report rep;
    verify(f, false, &rep);
    expect(&rep, 3, "missing: devices/dev-a/transcript.jsonl",
           "added: devices/dev-a/observations/extra.json", "added: notes.txt");
    verify_report_release(&rep);
}

static void test_edited_manifest(void **state)
{
    struct fx *f = *state;
    /* A tampered file whose new hash is written into the manifest: only the signature tells. */
    tu_replace(f->run, "run.json", "\"exit_code\": 1", "\"exit_code\": 0");
    char *old = tu_read_rel(f->run, MANIFEST_NAME, NULL);
    char path[PATH_MAX], hex[65];
    snprintf(path, sizeof(path), "%s/run.json", f->run);
    struct assay_error err = {0};
    assert_int_equal(manifest_hash_file(path, hex, &err), 0);
    char *line = strstr(old, "  run.json\n");
    assert_non_null(line);
    memcpy(line - 64, hex, 64);
    tu_write(f->run, MANIFEST_NAME, old);
    struct verify_report rep;
    verify(f, false, &rep);
    expect(&rep, 1, "signature: the signature does not match the manifest");
    verify_report_release(&rep);

    /* A line made malformed: named by its number. */
    line[-1] = 'X';
    tu_write(f->run, MANIFEST_NAME, old);
    verify(f, false, &rep);
    expect(&rep, 2, "manifest: MANIFEST.sha256 line 4:", "signature: the signature does not");
    verify_report_release(&rep);
    free(old);
}

static void test_broken_journal_chain(void **state)
{
    struct fx *f = *state;
    /* A changed journal line, sealed again by the lab itself: the files and signature hold,
     * but the chain does not. */
    tu_replace(f->run, "journal.jsonl", "\"FAIL\"", "\"PASS\"");
    char kpath[PATH_MAX];
    snprintf(kpath, sizeof(kpath), "%s.key", f->key);
    struct assay_error err = {0};
    assert_int_equal(seal_run(f->run, kpath, NULL, &err), 0);
    struct verify_report rep;
    verify(f, false, &rep);
    expect(&rep, 1, "journal: journal.jsonl:3: hash chain broken");
    verify_report_release(&rep);
}

static void test_signature_from_another_key(void **state)
{
    struct fx *f = *state;
    char other_fpr[65], kpath[PATH_MAX];
    char *other = tu_keygen(f->base, "intruder", NULL, other_fpr);
    snprintf(kpath, sizeof(kpath), "%s.key", other);
    struct assay_error err = {0};
    assert_int_equal(seal_run(f->run, kpath, NULL, &err), 0);
    struct verify_report rep;
    verify(f, false, &rep);
    expect(&rep, 1, "signature: signed by a key that was not given");
    assert_non_null(strstr(rep.problems[0], other_fpr));
    verify_report_release(&rep);

    /* The intruder's signature labelled with the lab's fingerprint does not pass either. */
    tu_replace(f->run, MANIFEST_SIG_NAME, other_fpr, f->fpr);
    verify(f, false, &rep);
    expect(&rep, 1, "signature: the signature does not match the manifest");
    verify_report_release(&rep);
    free(other);
}

static void test_unsigned_run(void **state)
{
    struct fx *f = *state;
    struct assay_error err = {0};
    assert_int_equal(seal_run(f->run, NULL, NULL, &err), 0); /* removes the stale signature */
    struct verify_report rep;
    verify(f, false, &rep);
    expect(&rep, 1, "unsigned: the run has no MANIFEST.sig");
    assert_true(rep.unsigned_run);
    verify_report_release(&rep);
    verify(f, true, &rep);
    assert_true(verify_ok(&rep));
    assert_true(rep.unsigned_run);
    assert_false(rep.signature_ok);
    verify_report_release(&rep);
}

static void test_signed_run_without_keys(void **state)
{
    struct fx *f = *state;
    struct verify_options opt = {.ring = NULL, .unsigned_ok = true};
    struct verify_report rep = {0};
    struct assay_error err = {0};
    assert_int_equal(verify_dir(f->run, &opt, &rep, &err), 0);
    expect(&rep, 1, "signature: signed by");
    assert_non_null(strstr(rep.problems[0], "no trusted key was given"));
    verify_report_release(&rep);
}

/* Copies fmt into buf with every '@' replaced by h. */
static void expand(char *buf, size_t size, const char *fmt, const char *h)
{
    size_t off = 0;
    for (const char *s = fmt; *s && off + 65 < size; s++) {
        if (*s == '@') {
            memcpy(buf + off, h, 64);
            off += 64;
        } else {
            buf[off++] = *s;
        }
    }
    buf[off] = 0;
}

static void test_manifest_parse_rejects(void **state)
{
    (void)state;
    const char *h = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    char ok[256], buf[512];
    snprintf(ok, sizeof(ok), "%s  a\n%s  b/c\n", h, h);
    struct manifest m = {0};
    struct assay_error err = {0};
    assert_int_equal(manifest_parse(ok, strlen(ok), &m, &err), 0);
    assert_int_equal(m.n, 2);
    assert_string_equal(m.v[1].path, "b/c");
    manifest_release(&m);
    const struct {
        const char *fmt;
        const char *msg;
    } bad[] = {
        {"@  b\n@  a\n", "line 2: paths not in strictly increasing"},
        {"@  a\n@  a\n", "line 2: paths not in strictly increasing"},
        {"@  ../x\n@  y\n", "line 1: a path that is absolute"},
        {"@  /etc/x\n@  y\n", "line 1: a path that is absolute"},
        {"@  a//b\n@  y\n", "line 1: a path that is absolute"},
        {"@ a\n@  b\n", "line 1: not"},
        {"@  MANIFEST.sig\n@  z\n", "line 1: the manifest cannot list itself"},
        {"@  a\n@  b", "line 2: no newline at the end"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        expand(buf, sizeof(buf), bad[i].fmt, h);
        assert_int_equal(manifest_parse(buf, strlen(buf), &m, &err), ASSAY_EINVAL);
        if (strncmp(err.msg, bad[i].msg, strlen(bad[i].msg)))
            fail_msg("case %zu: got \"%s\"", i, err.msg);
        assert_int_equal(m.n, 0);
    }
    snprintf(buf, sizeof(buf), "%s  a\n", h);
    buf[3] = 'A'; /* upper-case hex is not what sha256sum writes */
    assert_int_equal(manifest_parse(buf, strlen(buf), &m, &err), ASSAY_EINVAL);
}

static void test_seal_refuses_special_files(void **state)
{
    struct fx *f = *state;
    char path[PATH_MAX], kpath[PATH_MAX];
    snprintf(kpath, sizeof(kpath), "%s.key", f->key);
    struct assay_error err = {0};
    snprintf(path, sizeof(path), "%s/devices/dev-a/link", f->run);
    assert_int_equal(symlink("/etc/passwd", path), 0);
    assert_int_equal(seal_run(f->run, kpath, NULL, &err), ASSAY_EINVAL);
    assert_non_null(strstr(err.msg, "devices/dev-a/link is not a regular file"));
    /* verify names it too */
    struct verify_report rep;
    verify(f, false, &rep);
    expect(&rep, 1, "not a regular file: devices/dev-a/link");
    verify_report_release(&rep);
    assert_int_equal(unlink(path), 0);

    snprintf(path, sizeof(path), "%s/fifo", f->run);
    assert_int_equal(mkfifo(path, 0644), 0);
    assert_int_equal(seal_run(f->run, kpath, NULL, &err), ASSAY_EINVAL);
    assert_non_null(strstr(err.msg, "/fifo is not a regular file"));
    assert_int_equal(unlink(path), 0);

    snprintf(path, sizeof(path), "%s/devices/new\nline", f->run);
    tu_write(f->run, "devices/new\nline", "x");
    assert_int_equal(seal_run(f->run, kpath, NULL, &err), ASSAY_EINVAL);
    assert_non_null(strstr(err.msg, "devices: holds a name with a control character"));
    assert_int_equal(unlink(path), 0);
    assert_int_equal(seal_run(f->run, kpath, NULL, &err), 0);
}

static void test_signature_file_rejects(void **state)
{
    struct fx *f = *state;
    size_t len;
    char *good = tu_read_rel(f->run, MANIFEST_SIG_NAME, &len);
    struct sign_sig sig;
    struct assay_error err = {0};
    assert_int_equal(sign_parse(good, len, &sig, &err), 0);
    assert_string_equal(sig.fpr, f->fpr);
    const struct {
        const char *from, *to, *msg;
    } bad[] = {
        {"assay-signature: 1", "assay-signature: 2", "line 1:"},
        {"algorithm: ed25519", "algorithm: rsa", "line 2:"},
        {"key: ", "key: X", "line 3:"},
        {"\nsignature: ", "\nsignature: !", "line 4:"},
        {"==\n", "=\n", "line 4:"},
        {"==\n", "==\nextra\n", "line 5:"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tu_write(f->run, MANIFEST_SIG_NAME, good);
        tu_replace(f->run, MANIFEST_SIG_NAME, bad[i].from, bad[i].to);
        char *text = tu_read_rel(f->run, MANIFEST_SIG_NAME, &len);
        assert_int_equal(sign_parse(text, len, &sig, &err), ASSAY_EINVAL);
        if (strncmp(err.msg, bad[i].msg, strlen(bad[i].msg)))
            fail_msg("case %zu: got \"%s\"", i, err.msg);
        free(text);
        struct verify_report rep;
        verify(f, false, &rep);
        expect(&rep, 1, "signature: MANIFEST.sig line");
        verify_report_release(&rep);
    }
    free(good);
}

static void test_trust_file_rejects(void **state)
{
    struct fx *f = *state;
    struct sign_keyring ring = {0};
    struct assay_error err = {0};
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/trust", f->base);
    tu_write(f->base, "trust",
             "# keys\n-----BEGIN PUBLIC KEY-----\nnot base64\n"
             "-----END PUBLIC KEY-----\n");
    assert_int_equal(sign_keyring_add_trust(&ring, path, &err), ASSAY_EINVAL);
    assert_non_null(strstr(err.msg, "trust:2: not a PEM public key"));
    tu_write(f->base, "trust", "lab.pub\n-----BEGIN PUBLIC KEY-----\n");
    assert_int_equal(sign_keyring_add_trust(&ring, path, &err), ASSAY_EINVAL);
    assert_non_null(strstr(err.msg, "trust:2: a public key without its END line"));
    /* a private key is not a public key */
    tu_write(f->base, "trust", "lab.key\n");
    assert_int_equal(sign_keyring_add_trust(&ring, path, &err), ASSAY_EINVAL);
    assert_non_null(strstr(err.msg, "trust:1:"));
    sign_keyring_release(&ring);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_clean_run_verifies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_manifest_is_sha256sum_compatible, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_byte_changed_in_any_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_removed_and_added_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edited_manifest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broken_journal_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signature_from_another_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsigned_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signed_run_without_keys, setup, teardown),
        cmocka_unit_test(test_manifest_parse_rejects),
        cmocka_unit_test_setup_teardown(test_seal_refuses_special_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signature_file_rejects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trust_file_rejects, setup, teardown),
    };
    return cmocka_run_group_tests_name("seal", tests, NULL, NULL);
}
