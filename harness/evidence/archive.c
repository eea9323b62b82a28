/* archive.c: the reproducible tar.gz of a run and its safe extraction (see archive.h). */
#include "archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sanitize.h"
#include "manifest.h"

const struct evidence_archive_limits evidence_archive_default_limits = {
    .max_entries = 100000,
    .max_entry_bytes = 1ull << 30,
    .max_total_bytes = 8ull << 30,
};

time_t evidence_archive_mtime(const char *run_dir)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof(path), "%s/run.json", run_dir) >= (int)sizeof(path))
        return 0;
    json_error_t je;
    json_t *rec = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    const char *fin = json_string_value(json_object_get(rec, "finished"));
    struct tm tm = {0};
    int consumed = 0;
    time_t t = 0;
    if (fin &&
        sscanf(fin, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &consumed) == 6 &&
        consumed == 19 && tm.tm_year >= 1970 && tm.tm_mon >= 1 && tm.tm_mon <= 12 &&
        tm.tm_mday >= 1 && tm.tm_mday <= 31 && tm.tm_hour < 24 && tm.tm_min < 60 &&
        tm.tm_sec <= 60) {
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        t = timegm(&tm);
        if (t < 0)
            t = 0;
    }
    json_decref(rec);
    return t;
}

/* The run directory's own name (the run id), without trailing slashes. */
static char *run_name(const char *run_dir)
{
    size_t n = strlen(run_dir);
    while (n > 1 && run_dir[n - 1] == '/')
        n--;
    const char *s = run_dir + n;
    while (s > run_dir && s[-1] != '/')
        s--;
    char *name = strndup(s, (size_t)(run_dir + n - s));
    if (name && !manifest_path_ok(name)) {
        free(name);
        return NULL;
    }
    return name;
}

static int lib_fail(struct archive *a, struct assay_error *err, const char *what, const char *path)
{
    const char *why = archive_error_string(a);
    return assay_fail(err, ASSAY_EIO, "%s %s: %s", what, path, why ? why : "unknown error");
}

static struct archive_entry *new_entry(const char *top, const char *rel, time_t mtime)
{
    struct archive_entry *e = archive_entry_new();
    if (!e)
        return NULL;
    size_t n = strlen(top) + (rel ? strlen(rel) + 1 : 0) + 1;
    char *name = malloc(n);
    if (!name) {
        archive_entry_free(e);
        return NULL;
    }
    snprintf(name, n, "%s%s%s", top, rel ? "/" : "", rel ? rel : "");
    archive_entry_set_pathname(e, name);
    free(name);
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    archive_entry_set_uname(e, "root");
    archive_entry_set_gname(e, "root");
    archive_entry_set_mtime(e, mtime, 0);
    return e;
}

static int add_dir(struct archive *a, const char *top, const char *rel, time_t mtime,
                   struct assay_error *err)
{
    struct archive_entry *e = new_entry(top, rel, mtime);
    if (!e)
        return assay_fail(err, ASSAY_ENOMEM, "out of memory");
    archive_entry_set_filetype(e, AE_IFDIR);
    archive_entry_set_perm(e, 0755);
    archive_entry_set_size(e, 0);
    int rc = archive_write_header(a, e) == ARCHIVE_OK ? 0 : lib_fail(a, err, "cannot add", rel);
    archive_entry_free(e);
    return rc;
}

static int add_file(struct archive *a, const char *run_dir, const char *top, const char *rel,
                    time_t mtime, struct assay_error *err)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof(path), "%s/%s", run_dir, rel) >= (int)sizeof(path))
        return assay_fail(err, ASSAY_EINVAL, "path too long: %s", rel);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int saved = errno;
        if (fd >= 0)
            close(fd);
        return assay_fail(err, ASSAY_EIO, "cannot read %s: %s", path,
                          fd < 0 ? strerror(saved) : "not a regular file");
    }
    struct archive_entry *e = new_entry(top, rel, mtime);
    if (!e) {
        close(fd);
        return assay_fail(err, ASSAY_ENOMEM, "out of memory");
    }
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, st.st_size);
    int rc = archive_write_header(a, e) == ARCHIVE_OK ? 0 : lib_fail(a, err, "cannot add", rel);
    archive_entry_free(e);
    char buf[1 << 15];
    int64_t left = st.st_size;
    while (rc == 0 && left > 0) {
        ssize_t r = read(fd, buf, sizeof(buf) < (size_t)left ? sizeof(buf) : (size_t)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            rc = assay_fail(err, ASSAY_EIO, "%s shrank or failed while being archived", path);
            break;
        }
        if (archive_write_data(a, buf, (size_t)r) != r)
            rc = lib_fail(a, err, "cannot write", rel);
        left -= r;
    }
    if (rc == 0 && read(fd, buf, 1) != 0)
        rc = assay_fail(err, ASSAY_EIO, "%s grew while being archived", path);
    close(fd);
    return rc;
}

static int write_entries(struct archive *a, const char *run_dir, const char *top,
                         const struct manifest *all, struct assay_error *err)
{
    time_t mtime = evidence_archive_mtime(run_dir);
    int rc = add_dir(a, top, NULL, mtime, err);
    for (size_t i = 0; rc == 0 && i < all->n; i++) {
        const struct manifest_entry *e = &all->v[i];
        if (e->kind == MANIFEST_DIR)
            rc = add_dir(a, top, e->path, mtime, err);
        else if (e->kind == MANIFEST_FILE)
            rc = add_file(a, run_dir, top, e->path, mtime, err);
        else
            rc = assay_fail(err, ASSAY_EINVAL,
                            "%s/%s is not a regular file or a directory: not archived", run_dir,
                            e->path);
    }
    return rc;
}

int evidence_archive_write(const char *run_dir, const char *out_path, struct assay_error *err)
{
    char *top = run_name(run_dir);
    if (!top)
        return assay_fail(err, ASSAY_EINVAL, "%s: not a usable run directory name", run_dir);
    struct manifest all = {0};
    int rc = manifest_walk(run_dir, false, &all, err);
    char tmp[PATH_MAX];
    if (rc == 0 && snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", out_path) >= (int)sizeof(tmp))
        rc = assay_fail(err, ASSAY_EINVAL, "path too long: %s", out_path);
    int fd = rc ? -1 : mkstemp(tmp);
    if (rc == 0 && fd < 0)
        rc = assay_fail(err, ASSAY_EIO, "cannot create %s: %s", tmp, strerror(errno));
    struct archive *a = rc ? NULL : archive_write_new();
    if (rc == 0 && !a)
        rc = assay_fail(err, ASSAY_ENOMEM, "out of memory");
    if (rc == 0 && (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
                    archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
                    archive_write_set_filter_option(a, "gzip", "timestamp", NULL) != ARCHIVE_OK ||
                    archive_write_open_fd(a, fd) != ARCHIVE_OK))
        rc = lib_fail(a, err, "cannot start", out_path);
    if (rc == 0)
        rc = write_entries(a, run_dir, top, &all, err);
    if (a && archive_write_close(a) != ARCHIVE_OK && rc == 0)
        rc = lib_fail(a, err, "cannot finish", out_path);
    if (a)
        archive_write_free(a);
    if (fd >= 0) {
        if (rc == 0 && (fchmod(fd, 0644) != 0 || fsync(fd) != 0))
            rc = assay_fail(err, ASSAY_EIO, "cannot write %s: %s", tmp, strerror(errno));
        close(fd);
        if (rc == 0 && rename(tmp, out_path) != 0)
            rc = assay_fail(err, ASSAY_EIO, "cannot rename %s to %s: %s", tmp, out_path,
                            strerror(errno));
        if (rc)
            unlink(tmp);
    }
    manifest_release(&all);
    free(top);
    return rc;
}

/* A refusal naming the entry, its name made safe to print. */
static int refuse(struct assay_error *err, const char *name, const char *why)
{
    char *safe = sanitize_text(name, strlen(name), 200);
    int rc = assay_fail(err, ASSAY_EINVAL, "refused entry '%s': %s", safe ? safe : "?", why);
    free(safe);
    return rc;
}

/* Why a (trailing-slash-stripped) entry name is unsafe, or NULL. */
static const char *name_problem(const char *name)
{
    if (!*name)
        return "an empty name";
    if (*name == '/')
        return "an absolute path";
    for (const char *s = name; *s;) {
        const char *slash = strchr(s, '/');
        size_t n = slash ? (size_t)(slash - s) : strlen(s);
        if (n == 2 && s[0] == '.' && s[1] == '.')
            return "a \"..\" component";
        if (!slash)
            break;
        s = slash + 1;
    }
    if (!manifest_path_ok(name))
        return "an empty or \".\" component, a control character or a backslash";
    return NULL;
}

static const char *type_problem(struct archive_entry *e)
{
    if (archive_entry_hardlink(e))
        return "a hard link";
    switch (archive_entry_filetype(e)) {
    case AE_IFREG: return NULL;
    case AE_IFDIR: return NULL;
    case AE_IFLNK: return "a symbolic link";
    case AE_IFCHR:
    case AE_IFBLK: return "a device";
    case AE_IFIFO: return "a FIFO";
    case AE_IFSOCK: return "a socket";
    default: return "not a regular file or a directory";
    }
}

/* Creates every directory of `rel` (all of it when `whole`, else its parents) under dfd. */
static int make_dirs(int dfd, const char *rel, bool whole, struct assay_error *err)
{
    char *copy = strdup(rel);
    if (!copy)
        return assay_fail(err, ASSAY_ENOMEM, "out of memory");
    int rc = 0;
    for (char *s = copy;; s++) {
        bool at_end = *s == 0;
        if (*s != '/' && !at_end)
            continue;
        if (at_end && !whole)
            break;
        *s = 0;
        struct stat st;
        if (mkdirat(dfd, copy, 0755) != 0 &&
            (errno != EEXIST || fstatat(dfd, copy, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
             !S_ISDIR(st.st_mode))) {
            rc = refuse(err, rel, "it clashes with another entry");
            break;
        }
        if (at_end)
            break;
        *s = '/';
    }
    free(copy);
    return rc;
}

static int extract_file(struct archive *a, int dfd, const char *name, uint64_t *total,
                        const struct evidence_archive_limits *lim, struct assay_error *err)
{
    int rc = make_dirs(dfd, name, false, err);
    if (rc)
        return rc;
    int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return refuse(err, name, errno == EEXIST ? "a duplicate entry" : strerror(errno));
    char buf[1 << 15];
    uint64_t size = 0;
    for (;;) {
        la_ssize_t r = archive_read_data(a, buf, sizeof(buf));
        if (r == 0)
            break;
        if (r < 0) {
            rc = lib_fail(a, err, "cannot read the entry", name);
            break;
        }
        size += (uint64_t)r;
        *total += (uint64_t)r;
        if (size > lim->max_entry_bytes || *total > lim->max_total_bytes) {
            rc = refuse(err, name, "larger than the extraction limit");
            break;
        }
        size_t done = 0;
        while (done < (size_t)r) {
            ssize_t w = write(fd, buf + done, (size_t)r - done);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break;
            done += (size_t)w;
        }
        if (done != (size_t)r) {
            rc = assay_fail(err, ASSAY_EIO, "cannot write an extracted file: %s", strerror(errno));
            break;
        }
    }
    if (close(fd) != 0 && rc == 0)
        rc = assay_fail(err, ASSAY_EIO, "cannot write an extracted file: %s", strerror(errno));
    return rc;
}

/* Checks one entry and creates it under dfd. `*top` is set by the first entry. */
static int extract_entry(struct archive *a, struct archive_entry *e, int dfd, char **top,
                         uint64_t *total, const struct evidence_archive_limits *lim,
                         struct assay_error *err)
{
    const char *raw = archive_entry_pathname(e);
    if (!raw)
        return refuse(err, "", "no name");
    char *name = strdup(raw);
    if (!name)
        return assay_fail(err, ASSAY_ENOMEM, "out of memory");
    size_t n = strlen(name);
    while (n > 1 && name[n - 1] == '/')
        name[--n] = 0;
    const char *why = name_problem(name);
    if (!why)
        why = type_problem(e);
    if (!why && archive_entry_filetype(e) == AE_IFREG &&
        (!archive_entry_size_is_set(e) || archive_entry_size(e) < 0 ||
         (uint64_t)archive_entry_size(e) > lim->max_entry_bytes))
        why = "larger than the extraction limit";
    size_t tlen = strcspn(name, "/");
    if (!why && !*top && !(*top = strndup(name, tlen))) {
        free(name);
        return assay_fail(err, ASSAY_ENOMEM, "out of memory");
    }
    if (!why && (strlen(*top) != tlen || strncmp(*top, name, tlen)))
        why = "outside the archive's top directory";
    int rc = why ? refuse(err, raw, why) : 0;
    if (rc == 0 && archive_entry_filetype(e) == AE_IFDIR)
        rc = make_dirs(dfd, name, true, err);
    else if (rc == 0)
        rc = extract_file(a, dfd, name, total, lim, err);
    free(name);
    return rc;
}

int evidence_archive_extract(const char *archive_path, const char *dest,
                             const struct evidence_archive_limits *lim, char **top,
                             struct assay_error *err)
{
    if (!lim)
        lim = &evidence_archive_default_limits;
    *top = NULL;
    int dfd = open(dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0)
        return assay_fail(err, ASSAY_EIO, "cannot open %s: %s", dest, strerror(errno));
    struct archive *a = archive_read_new();
    int rc = 0;
    if (!a || archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
        archive_read_support_format_tar(a) != ARCHIVE_OK)
        rc = assay_fail(err, ASSAY_ENOMEM, "cannot set up libarchive");
    if (rc == 0 && archive_read_open_filename(a, archive_path, 1 << 16) != ARCHIVE_OK)
        rc = assay_fail(err, ASSAY_EINVAL, "%s is not a readable tar.gz: %s", archive_path,
                        archive_error_string(a) ? archive_error_string(a) : "unknown error");
    size_t count = 0;
    uint64_t total = 0;
    struct archive_entry *e;
    int r = ARCHIVE_FATAL;
    while (rc == 0 && (r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        if (++count > lim->max_entries) {
            rc = assay_fail(err, ASSAY_EINVAL, "more than %zu entries in %s", lim->max_entries,
                            archive_path);
            break;
        }
        rc = extract_entry(a, e, dfd, top, &total, lim, err);
    }
    if (rc == 0 && r != ARCHIVE_EOF)
        rc = assay_fail(err, ASSAY_EINVAL, "%s is not a readable tar.gz: %s", archive_path,
                        archive_error_string(a) ? archive_error_string(a) : "unknown error");
    if (rc == 0 && count == 0)
        rc = assay_fail(err, ASSAY_EINVAL, "%s holds no entries", archive_path);
    if (a)
        archive_read_free(a);
    close(dfd);
    if (rc) {
        free(*top);
        *top = NULL;
    }
    return rc;
}

static int remove_at(int dfd, const char *name, int depth, struct assay_error *err)
{
    if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT)
        return 0;
    if ((errno != EISDIR && errno != EPERM) || depth > MANIFEST_MAX_DEPTH + 2)
        return assay_fail(err, ASSAY_EIO, "cannot remove %s: %s", name, strerror(errno));
    int sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = sub >= 0 ? fdopendir(sub) : NULL;
    if (!d) {
        if (sub >= 0)
            close(sub);
        return assay_fail(err, ASSAY_EIO, "cannot open %s: %s", name, strerror(errno));
    }
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            rc = remove_at(dirfd(d), de->d_name, depth + 1, err);
    closedir(d);
    if (rc == 0 && unlinkat(dfd, name, AT_REMOVEDIR) != 0)
        rc = assay_fail(err, ASSAY_EIO, "cannot remove %s: %s", name, strerror(errno));
    return rc;
}

int evidence_archive_remove_tree(const char *dir, struct assay_error *err)
{
    return remove_at(AT_FDCWD, dir, 0, err);
}
