/* verify.c: checking a sealed run directory or archive (see verify.h). */
#include "verify.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/journal.h"
#include "core/sanitize.h"
#include "manifest.h"

/* Adds one problem line; when that fails, the report is marked out_of_memory. */
__attribute__((format(printf, 2, 3))) static void problem(struct verify_report *rep,
                                                          const char *fmt, ...)
{
    char line[ASSAY_ERROR_MAX + 128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    char **v = realloc(rep->problems, (rep->nproblems + 1) * sizeof(*v));
    if (!v) {
        rep->out_of_memory = true;
        return;
    }
    rep->problems = v;
    v[rep->nproblems++] = sanitize_text(line, strlen(line), 0); /* NULL when out of memory */
}

bool verify_ok(const struct verify_report *rep)
{
    return rep->nproblems == 0 && !rep->out_of_memory;
}

bool verify_has(const struct verify_report *rep, const char *prefix)
{
    for (size_t i = 0; i < rep->nproblems; i++)
        if (rep->problems[i] && !strncmp(rep->problems[i], prefix, strlen(prefix)))
            return true;
    return false;
}

void verify_report_release(struct verify_report *rep)
{
    for (size_t i = 0; i < rep->nproblems; i++)
        free(rep->problems[i]);
    free(rep->problems);
    memset(rep, 0, sizeof(*rep));
}

/* An error message without the run directory's own path in front of file names. */
static const char *relative(const char *msg, const char *dir)
{
    size_t n = strlen(dir);
    if (!strncmp(msg, dir, n) && msg[n] == '/')
        return msg + n + 1;
    return msg;
}

static void compare_one(const char *dir, const struct manifest_entry *m, struct verify_report *rep)
{
    char path[PATH_MAX], hex[65];
    struct assay_error e = {0};
    if (snprintf(path, sizeof(path), "%s/%s", dir, m->path) >= (int)sizeof(path)) {
        problem(rep, "modified: %s (path too long to check)", m->path);
        return;
    }
    if (manifest_hash_file(path, hex, &e) != 0)
        problem(rep, "modified: %s (%s)", m->path, relative(e.msg, dir));
    else if (strcmp(hex, m->sha256))
        problem(rep, "modified: %s", m->path);
}

/* Walks the directory and compares it with the manifest: both are sorted bytewise. */
static void compare_tree(const char *dir, const struct manifest *man, struct verify_report *rep)
{
    struct manifest walked = {0};
    struct assay_error e = {0};
    if (manifest_walk(dir, true, &walked, &e) != 0) {
        problem(rep, "walk: %s", relative(e.msg, dir));
        manifest_release(&walked);
        return;
    }
    size_t i = 0, j = 0;
    while (i < man->n || j < walked.n) {
        const struct manifest_entry *w = j < walked.n ? &walked.v[j] : NULL;
        if (w && w->kind == MANIFEST_DIR) {
            j++;
            continue;
        }
        if (w && w->kind == MANIFEST_OTHER) {
            problem(rep, "not a regular file: %s", w->path);
            j++;
            continue;
        }
        int c = !w ? -1 : i >= man->n ? 1 : strcmp(man->v[i].path, w->path);
        if (c < 0)
            problem(rep, "missing: %s", man->v[i++].path);
        else if (c > 0)
            problem(rep, "added: %s", walked.v[j++].path);
        else {
            compare_one(dir, &man->v[i], rep);
            i++;
            j++;
        }
    }
    manifest_release(&walked);
}

static void check_journal(const char *dir, struct verify_report *rep)
{
    char path[PATH_MAX];
    struct stat st;
    snprintf(path, sizeof(path), "%s/journal.jsonl", dir);
    if (lstat(path, &st) != 0)
        return; /* no journal: if the manifest lists one, it is reported missing */
    struct assay_error e = {0};
    json_t *lines = journal_read(path, &e);
    if (!lines)
        problem(rep, "journal: %s", relative(e.msg, dir));
    json_decref(lines);
}

static void check_signature(const char *dir, const char *mtext, size_t mlen,
                            const struct verify_options *opt, struct verify_report *rep)
{
    char path[PATH_MAX];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s", dir, MANIFEST_SIG_NAME);
    if (lstat(path, &st) != 0 && errno == ENOENT) {
        rep->unsigned_run = true;
        if (!opt->unsigned_ok)
            problem(rep, "unsigned: the run has no %s", MANIFEST_SIG_NAME);
        return;
    }
    struct assay_error e = {0};
    size_t len;
    char *text = manifest_slurp(path, 4096, &len, &e);
    struct sign_sig sig;
    if (!text) {
        problem(rep, "signature: %s", relative(e.msg, dir));
        return;
    }
    if (sign_parse(text, len, &sig, &e) != 0)
        problem(rep, "signature: %s %s", MANIFEST_SIG_NAME, e.msg);
    else if (!mtext)
        problem(rep, "signature: no manifest to check it against (signed by %s)", sig.fpr);
    else if (!opt->ring || opt->ring->n == 0)
        problem(rep, "signature: signed by %s, but no trusted key was given", sig.fpr);
    else if (sign_check(mtext, mlen, &sig, opt->ring, &e) != 0)
        problem(rep, "signature: %s", e.msg);
    else {
        rep->signature_ok = true;
        memcpy(rep->signer, sig.fpr, sizeof(rep->signer));
    }
    free(text);
}

int verify_dir(const char *dir, const struct verify_options *opt, struct verify_report *rep,
               struct assay_error *err)
{
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return assay_fail(err, ASSAY_EINVAL, "%s is not a directory", dir);
    char path[PATH_MAX];
    if (snprintf(path, sizeof(path), "%s/%s", dir, MANIFEST_NAME) >= (int)sizeof(path))
        return assay_fail(err, ASSAY_EINVAL, "path too long: %s", dir);
    struct assay_error e = {0};
    size_t mlen = 0;
    char *mtext = NULL;
    struct manifest man = {0};
    if (lstat(path, &st) != 0) {
        problem(rep, "manifest: %s is missing: the run is not sealed", MANIFEST_NAME);
    } else if (!(mtext = manifest_slurp(path, MANIFEST_MAX_BYTES, &mlen, &e))) {
        problem(rep, "manifest: %s", relative(e.msg, dir));
    } else if (manifest_parse(mtext, mlen, &man, &e) != 0) {
        problem(rep, "manifest: %s %s", MANIFEST_NAME, e.msg);
    } else {
        rep->nfiles = man.n;
        compare_tree(dir, &man, rep);
    }
    check_journal(dir, rep);
    check_signature(dir, mtext, mlen, opt, rep);
    manifest_release(&man);
    free(mtext);
    return 0;
}

int verify_archive(const char *path, const struct verify_options *opt, struct verify_report *rep,
                   struct assay_error *err)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return assay_fail(err, ASSAY_EINVAL, "%s is neither a run directory nor an archive", path);
    const char *tmpdir = getenv("TMPDIR");
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof(tmp), "%s/assay-verify-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp") >=
            (int)sizeof(tmp) ||
        !mkdtemp(tmp))
        return assay_fail(err, ASSAY_EIO, "cannot make a temporary directory: %s", strerror(errno));
    struct assay_error e = {0};
    char *top = NULL;
    int rc = 0;
    if (evidence_archive_extract(path, tmp, opt->limits, &top, &e) != 0) {
        problem(rep, "archive: %s", e.msg);
    } else {
        char run[PATH_MAX];
        if (snprintf(run, sizeof(run), "%s/%s", tmp, top) >= (int)sizeof(run))
            problem(rep, "archive: the top directory's name is too long");
        else if (lstat(run, &st) != 0 || !S_ISDIR(st.st_mode))
            problem(rep, "archive: its top entry '%s' is not a directory", top);
        else
            rc = verify_dir(run, opt, rep, err);
    }
    free(top);
    if (evidence_archive_remove_tree(tmp, &e) != 0 && rc == 0)
        rc = assay_fail(err, ASSAY_EIO, "cannot clean up %s: %s", tmp, e.msg);
    return rc;
}

int verify_path(const char *path, const struct verify_options *opt, struct verify_report *rep,
                struct assay_error *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return assay_fail(err, ASSAY_EINVAL, "cannot find %s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return verify_dir(path, opt, rep, err);
    return verify_archive(path, opt, rep, err);
}
