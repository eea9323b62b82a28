/* test_seal_archive.c: the reproducible run archive, verifying it, and refusing hostile archives.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "evidence/archive.h"
#include "evidence/manifest.h"
#include "evidence/seal.h"
#include "evidence/verify.h"
#include "test_seal_util.h"

#define LONG_DIR "devices/dev-a/observations"
#define LONG_NAME                                                                                  \
    "a-test-case-id-long-enough-that-the-path-needs-a-pax-extended-header-in-the-archive-"         \
    "because-ustar-names-stop-at-one-hundred-bytes.json"

struct fx {
    char *base, *run, *key, *tgz;
    char fpr[65];
    struct sign_keyring ring;
    char *tmp; /* TMPDIR for verify_archive, checked empty afterwards */
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    f->base = tu_tmpdir();
    f->run = tu_make_run(f->base);
    tu_write(f->run, LONG_DIR "/" LONG_NAME, "{\"long\": true}\n");
    char sub[PATH_MAX];
    snprintf(sub, sizeof(sub), "%s/devices/dev-a/documents", f->run); /* an empty directory */
    assert_int_equal(mkdir(sub, 0700), 0);
    f->key = tu_keygen(f->base, "lab", NULL, f->fpr);
    char pub[PATH_MAX], kpath[PATH_MAX];
    snprintf(pub, sizeof(pub), "%s.pub", f->key);
    snprintf(kpath, sizeof(kpath), "%s.key", f->key);
    struct assay_error err = {0};
    assert_int_equal(sign_keyring_add_file(&f->ring, pub, &err), 0);
    assert_int_equal(seal_run(f->run, kpath, NULL, &err), 0);
    size_t n = strlen(f->run) + 8;
    f->tgz = malloc(n);
    snprintf(f->tgz, n, "%s.tar.gz", f->run);
    snprintf(sub, sizeof(sub), "%s/tmp", f->base);
    assert_int_equal(mkdir(sub, 0700), 0);
    f->tmp = strdup(sub);
    setenv("TMPDIR", f->tmp, 1);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    unsetenv("TMPDIR");
    tu_rm_rf(f->base);
    sign_keyring_release(&f->ring);
    free(f->base);
    free(f->run);
    free(f->key);
    free(f->tgz);
    free(f->tmp);
    free(f);
    return 0;
}

static bool dir_empty(const char *dir)
{
    struct manifest m = {0};
    struct assay_error err = {0};
    assert_int_equal(manifest_walk(dir, false, &m, &err), 0);
    size_t n = m.n;
    manifest_release(&m);
    return n == 0;
}

static void verify_tgz(struct fx *f, const char *path, struct verify_report *rep)
{
    struct verify_options opt = {.ring = &f->ring};
    struct assay_error err = {0};
    memset(rep, 0, sizeof(*rep));
    int rc = verify_archive(path, &opt, rep, &err);
    if (rc)
        print_error("verify_archive: %s\n", err.msg);
    assert_int_equal(rc, 0);
    for (size_t i = 0; i < rep->nproblems; i++)
        print_message("    problem: %s\n", rep->problems[i]);
    assert_true(dir_empty(f->tmp)); /* the extraction was cleaned up */
}

static void test_archive_verifies(void **state)
{
    struct fx *f = *state;
    struct verify_report rep;
    verify_tgz(f, f->tgz, &rep);
    assert_true(verify_ok(&rep));
    assert_true(rep.signature_ok);
    assert_string_equal(rep.signer, f->fpr);
    assert_int_equal(rep.nfiles, TU_RUN_FILES + 1);
    verify_report_release(&rep);
}

/* Reads every header: names under the run id, sorted, root-owned, fixed modes and mtime. */
static void test_archive_layout(void **state)
{
    struct fx *f = *state;
    struct archive *a = archive_read_new();
    archive_read_support_filter_gzip(a);
    archive_read_support_format_tar(a);
    assert_int_equal(archive_read_open_filename(a, f->tgz, 10240), ARCHIVE_OK);
    struct archive_entry *e;
    char prev[PATH_MAX] = "";
    int n = 0, dirs = 0, sigs = 0;
    bool saw_empty_dir = false;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        const char *name = archive_entry_pathname(e);
        assert_memory_equal(name, TU_RUN_ID, strlen(TU_RUN_ID));
        assert_true(name[strlen(TU_RUN_ID)] == 0 || name[strlen(TU_RUN_ID)] == '/');
        assert_true(strcmp(prev, name) < 0);
        snprintf(prev, sizeof(prev), "%s", name);
        assert_int_equal(archive_entry_uid(e), 0);
        assert_int_equal(archive_entry_gid(e), 0);
        assert_int_equal(archive_entry_mtime(e), TU_FINISHED_EPOCH);
        bool dir = archive_entry_filetype(e) == AE_IFDIR;
        assert_int_equal(archive_entry_perm(e), dir ? 0755 : 0644);
        dirs += dir;
        sigs += strstr(name, "/MANIFEST.") != NULL;
        saw_empty_dir |= strstr(name, "/devices/dev-a/documents") != NULL;
        n++;
    }
    archive_read_free(a);
    assert_int_equal(n, 12); /* 5 run files + 2 MANIFEST files + 5 directories */
    assert_int_equal(dirs, 5);
    assert_int_equal(sigs, 2);
    assert_true(saw_empty_dir);
    assert_int_equal(evidence_archive_mtime(f->base), 0); /* no run.json there */
}

/* Seals again in a child process (another pid, later file times): the same bytes. */
static void test_archive_is_reproducible(void **state)
{
    struct fx *f = *state;
    size_t len1, len2;
    char *one = tu_read(f->tgz, &len1);
    assert_non_null(one);
    assert_int_equal((unsigned char)one[0], 0x1f);
    assert_memory_equal(one + 4, "\0\0\0\0", 4); /* no gzip timestamp */
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/run.json", f->run);
    assert_int_equal(utimensat(AT_FDCWD, path, NULL, 0), 0);
    assert_int_equal(chmod(path, 0600), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char kpath[PATH_MAX];
        snprintf(kpath, sizeof(kpath), "%s.key", f->key);
        struct assay_error err = {0};
        _exit(seal_run(f->run, kpath, NULL, &err) == 0 ? 0 : 1);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    char *two = tu_read(f->tgz, &len2);
    assert_int_equal(len1, len2);
    assert_memory_equal(one, two, len1);
    free(two);
    /* and a different run content gives a different archive: the comparison can fail */
    tu_flip(f->run, "run.json", 2);
    struct assay_error err = {0};
    assert_int_equal(seal_run(f->run, NULL, NULL, &err), 0);
    two = tu_read(f->tgz, &len2);
    assert_true(len1 != len2 || memcmp(one, two, len1) != 0);
    free(two);
    free(one);
}

static void test_tampered_archive(void **state)
{
    struct fx *f = *state;
    /* Repack a run whose transcript changed after sealing. */
    tu_replace(f->run, "devices/dev-a/transcript.jsonl", "admin", "nobody");
    struct assay_error err = {0};
    assert_int_equal(evidence_archive_write(f->run, f->tgz, &err), 0);
    struct verify_report rep;
    verify_tgz(f, f->tgz, &rep);
    assert_int_equal(rep.nproblems, 1);
    assert_string_equal(rep.problems[0], "modified: devices/dev-a/transcript.jsonl");
    verify_report_release(&rep);
    /* An archive whose only entry is a file is a failed check too. */
    char one[PATH_MAX + 16];
    snprintf(one, sizeof(one), "%s/one.tar.gz", f->base);
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    archive_write_add_filter_gzip(a);
    assert_int_equal(archive_write_open_filename(a, one), ARCHIVE_OK);
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, "run.json");
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, 3);
    assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
    archive_write_data(a, "{}\n", 3);
    archive_entry_free(e);
    archive_write_close(a);
    archive_write_free(a);
    verify_tgz(f, one, &rep);
    assert_int_equal(rep.nproblems, 1);
    assert_string_equal(rep.problems[0], "archive: its top entry 'run.json' is not a directory");
    verify_report_release(&rep);
    /* A truncated archive is a failed check, not a crash. */
    assert_int_equal(truncate(f->tgz, 100), 0);
    verify_tgz(f, f->tgz, &rep);
    assert_int_equal(rep.nproblems, 1);
    assert_true(verify_has(&rep, "archive: "));
    verify_report_release(&rep);
}

enum hostile { H_DOTDOT, H_ABSOLUTE, H_SYMLINK, H_HARDLINK, H_DEVICE, H_TWO_TOPS, H_NESTED_DOTDOT };

/* Writes a tar.gz with one good file and one hostile entry. */
static void write_hostile(const char *path, enum hostile kind)
{
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    archive_write_add_filter_gzip(a);
    assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, "run/run.json");
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, 3);
    assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
    archive_write_data(a, "{}\n", 3);
    archive_entry_clear(e);
    static const char *const names[] = {
        "../evil", "/tmp/assay-seal-evil", "run/link", "run/hard", "run/dev",
        "other/x", "run/a/../../evil"};
    archive_entry_set_pathname(e, names[kind]);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_filetype(e, AE_IFREG);
    if (kind == H_SYMLINK) {
        archive_entry_set_filetype(e, AE_IFLNK);
        archive_entry_set_symlink(e, "/etc/passwd");
    } else if (kind == H_HARDLINK) {
        archive_entry_set_hardlink(e, "run/run.json");
    } else if (kind == H_DEVICE) {
        archive_entry_set_filetype(e, AE_IFCHR);
        archive_entry_set_rdev(e, makedev(1, 3));
    } else {
        archive_entry_set_size(e, 5);
    }
    assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
    if (archive_entry_size(e) > 0)
        archive_write_data(a, "evil\n", 5);
    archive_entry_free(e);
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
}

static void test_hostile_archives(void **state)
{
    struct fx *f = *state;
    static const char *const why[] = {
        "refused entry '../evil': a \"..\" component",
        "refused entry '/tmp/assay-seal-evil': an absolute path",
        "refused entry 'run/link': a symbolic link",
        "refused entry 'run/hard': a hard link",
        "refused entry 'run/dev': a device",
        "refused entry 'other/x': outside the archive's top directory",
        "refused entry 'run/a/../../evil': a \"..\" component",
    };
    char path[PATH_MAX], dest[PATH_MAX], evil[PATH_MAX];
    snprintf(path, sizeof(path), "%s/hostile.tar.gz", f->base);
    for (int k = H_DOTDOT; k <= H_NESTED_DOTDOT; k++) {
        write_hostile(path, (enum hostile)k);
        struct verify_report rep;
        verify_tgz(f, path, &rep);
        assert_int_equal(rep.nproblems, 1);
        char want[256];
        snprintf(want, sizeof(want), "archive: %s", why[k]);
        assert_string_equal(rep.problems[0], want);
        verify_report_release(&rep);
        /* Extracting directly: nothing escapes the destination. */
        snprintf(dest, sizeof(dest), "%s/x", f->base);
        assert_int_equal(mkdir(dest, 0700), 0);
        char *top = NULL;
        struct assay_error err = {0};
        assert_int_equal(evidence_archive_extract(path, dest, NULL, &top, &err), ASSAY_EINVAL);
        assert_null(top);
        snprintf(evil, sizeof(evil), "%s/evil", f->base);
        assert_int_equal(access(evil, F_OK), -1);
        assert_int_equal(access("/tmp/assay-seal-evil", F_OK), -1);
        tu_rm_rf(dest);
    }
}

static void test_extraction_limits(void **state)
{
    struct fx *f = *state;
    char dest[PATH_MAX];
    snprintf(dest, sizeof(dest), "%s/x", f->base);
    struct assay_error err = {0};
    char *top = NULL;
    struct evidence_archive_limits few = {
        .max_entries = 3, .max_entry_bytes = 1 << 20, .max_total_bytes = 1 << 20};
    assert_int_equal(mkdir(dest, 0700), 0);
    assert_int_equal(evidence_archive_extract(f->tgz, dest, &few, &top, &err), ASSAY_EINVAL);
    assert_non_null(strstr(err.msg, "more than 3 entries"));
    tu_rm_rf(dest);
    struct evidence_archive_limits small = {
        .max_entries = 100, .max_entry_bytes = 64, .max_total_bytes = 1 << 20};
    assert_int_equal(mkdir(dest, 0700), 0);
    assert_int_equal(evidence_archive_extract(f->tgz, dest, &small, &top, &err), ASSAY_EINVAL);
    assert_non_null(strstr(err.msg, "larger than the extraction limit"));
    tu_rm_rf(dest);
    /* within the limits the same archive extracts, under its run id */
    assert_int_equal(mkdir(dest, 0700), 0);
    assert_int_equal(evidence_archive_extract(f->tgz, dest, NULL, &top, &err), 0);
    assert_string_equal(top, TU_RUN_ID);
    free(top);
    tu_rm_rf(dest);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_archive_verifies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_archive_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_archive_is_reproducible, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tampered_archive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_archives, setup, teardown),
        cmocka_unit_test_setup_teardown(test_extraction_limits, setup, teardown),
    };
    return cmocka_run_group_tests_name("seal_archive", tests, NULL, NULL);
}
