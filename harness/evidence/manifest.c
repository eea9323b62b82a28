/* manifest.c: walking a run directory, hashing its files, MANIFEST.sha256 (see manifest.h). */
#include "manifest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void manifest_release(struct manifest *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->v[i].path);
    free(m->v);
    m->v = NULL;
    m->n = m->cap = 0;
}

static int push(struct manifest *m, char *path, enum manifest_kind kind, struct assay_error *err)
{
    if (m->n >= MANIFEST_MAX_ENTRIES) {
        free(path);
        return assay_fail(err, ASSAY_EINVAL, "more than %u entries", MANIFEST_MAX_ENTRIES);
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        struct manifest_entry *v = realloc(m->v, cap * sizeof(*v));
        if (!v) {
            free(path);
            return assay_fail(err, ASSAY_ENOMEM, "out of memory listing files");
        }
        m->v = v;
        m->cap = cap;
    }
    struct manifest_entry *e = &m->v[m->n++];
    memset(e, 0, sizeof(*e));
    e->path = path;
    e->kind = kind;
    return 0;
}

static bool name_byte_ok(unsigned char c)
{
    return c >= 0x20 && c != 0x7f && c != '\\';
}

bool manifest_path_ok(const char *p)
{
    if (!p || !*p || *p == '/')
        return false;
    const char *s = p;
    while (*s) {
        const char *slash = strchr(s, '/');
        size_t n = slash ? (size_t)(slash - s) : strlen(s);
        if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
            return false;
        for (size_t i = 0; i < n; i++)
            if (!name_byte_ok((unsigned char)s[i]))
                return false;
        if (!slash)
            break;
        s = slash + 1;
        if (!*s)
            return false; /* a trailing slash */
    }
    return true;
}

static char *join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 2);
    if (!s)
        return NULL;
    memcpy(s, a, la);
    size_t off = la;
    if (la)
        s[off++] = '/';
    memcpy(s + off, b, lb + 1);
    return s;
}

static int walk_fd(int dfd, const char *rel, int depth, bool skip_top, struct manifest *out,
                   struct assay_error *err)
{
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return assay_fail(err, ASSAY_EIO, "cannot read directory %s: %s", *rel ? rel : ".",
                          strerror(errno));
    }
    int rc = 0;
    struct dirent *de;
    errno = 0;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        if (!strcmp(name, ".") || !strcmp(name, ".."))
            continue;
        if (skip_top && !*rel && (!strcmp(name, MANIFEST_NAME) || !strcmp(name, MANIFEST_SIG_NAME)))
            continue;
        char *path = join(rel, name);
        if (!path) {
            rc = assay_fail(err, ASSAY_ENOMEM, "out of memory");
            break;
        }
        if (!manifest_path_ok(path)) {
            rc = assay_fail(err, ASSAY_EINVAL,
                            "%s: holds a name with a control character or a backslash, which "
                            "a manifest cannot list",
                            *rel ? rel : "the run directory");
            free(path);
            break;
        }
        struct stat st;
        if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            rc = assay_fail(err, ASSAY_EIO, "cannot stat %s: %s", path, strerror(errno));
            free(path);
            break;
        }
        enum manifest_kind kind = S_ISREG(st.st_mode)   ? MANIFEST_FILE
                                  : S_ISDIR(st.st_mode) ? MANIFEST_DIR
                                                        : MANIFEST_OTHER;
        rc = push(out, path, kind, err);
        if (rc || kind != MANIFEST_DIR)
            continue;
        if (depth + 1 > MANIFEST_MAX_DEPTH) {
            rc = assay_fail(err, ASSAY_EINVAL, "%s: more than %d levels of directories", path,
                            MANIFEST_MAX_DEPTH);
            break;
        }
        int sub = openat(dirfd(d), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0) {
            rc = assay_fail(err, ASSAY_EIO, "cannot open directory %s: %s", path, strerror(errno));
            break;
        }
        /* out->v may move while recursing: recurse on a copy of the path. */
        char *copy = strdup(path);
        if (!copy) {
            close(sub);
            rc = assay_fail(err, ASSAY_ENOMEM, "out of memory");
            break;
        }
        rc = walk_fd(sub, copy, depth + 1, skip_top, out, err);
        free(copy);
        errno = 0;
    }
    if (rc == 0 && errno != 0)
        rc = assay_fail(err, ASSAY_EIO, "cannot read directory %s: %s", *rel ? rel : ".",
                        strerror(errno));
    closedir(d);
    return rc;
}

static int by_path(const void *a, const void *b)
{
    const struct manifest_entry *x = a, *y = b;
    return strcmp(x->path, y->path);
}

int manifest_walk(const char *dir, bool for_manifest, struct manifest *out, struct assay_error *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return assay_fail(err, ASSAY_EIO, "cannot open directory %s: %s", dir, strerror(errno));
    int rc = walk_fd(fd, "", 0, for_manifest, out, err);
    if (rc == 0 && out->n > 1)
        qsort(out->v, out->n, sizeof(out->v[0]), by_path);
    return rc;
}

int manifest_hash_file(const char *path, char hex[65], struct assay_error *err)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return assay_fail(err, ASSAY_EIO, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return assay_fail(err, ASSAY_EINVAL, "%s is not a regular file", path);
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rc = 0;
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
        rc = assay_fail(err, ASSAY_EINTERNAL, "SHA-256 is not available");
    unsigned char buf[1 << 15];
    while (rc == 0) {
        ssize_t r = read(fd, buf, sizeof(buf));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            rc = assay_fail(err, ASSAY_EIO, "cannot read %s: %s", path, strerror(errno));
        if (r <= 0)
            break;
        EVP_DigestUpdate(ctx, buf, (size_t)r);
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (rc == 0 && (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32))
        rc = assay_fail(err, ASSAY_EINTERNAL, "SHA-256 failed on %s", path);
    if (rc == 0)
        for (unsigned i = 0; i < 32; i++)
            snprintf(hex + 2 * i, 3, "%02x", md[i]);
    EVP_MD_CTX_free(ctx);
    close(fd);
    return rc;
}

int manifest_build(const char *dir, struct manifest *out, struct assay_error *err)
{
    struct manifest all = {0};
    int rc = manifest_walk(dir, true, &all, err);
    for (size_t i = 0; rc == 0 && i < all.n; i++)
        if (all.v[i].kind == MANIFEST_OTHER)
            rc = assay_fail(err, ASSAY_EINVAL,
                            "%s/%s is not a regular file or a directory (a link, device, FIFO "
                            "or socket): a run directory holds only files",
                            dir, all.v[i].path);
    for (size_t i = 0; rc == 0 && i < all.n; i++) {
        if (all.v[i].kind != MANIFEST_FILE)
            continue;
        char *full = join(dir, all.v[i].path);
        if (!full) {
            rc = assay_fail(err, ASSAY_ENOMEM, "out of memory");
            break;
        }
        char hex[65];
        rc = manifest_hash_file(full, hex, err);
        free(full);
        if (rc == 0) {
            rc = push(out, all.v[i].path, MANIFEST_FILE, err);
            all.v[i].path = NULL; /* moved */
            if (rc == 0)
                memcpy(out->v[out->n - 1].sha256, hex, 65);
        }
    }
    manifest_release(&all);
    if (rc)
        manifest_release(out);
    return rc;
}

char *manifest_format(const struct manifest *m, size_t *len)
{
    size_t total = 1;
    for (size_t i = 0; i < m->n; i++)
        if (m->v[i].kind == MANIFEST_FILE)
            total += 64 + 2 + strlen(m->v[i].path) + 1;
    char *buf = malloc(total);
    if (!buf)
        return NULL;
    size_t off = 0;
    for (size_t i = 0; i < m->n; i++) {
        if (m->v[i].kind != MANIFEST_FILE)
            continue;
        int w = snprintf(buf + off, total - off, "%s  %s\n", m->v[i].sha256, m->v[i].path);
        off += (size_t)w;
    }
    buf[off] = 0;
    *len = off;
    return buf;
}

static bool hex64(const char *s)
{
    for (int i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

static int parse_line(const char *line, size_t n, size_t lineno, const char *prev,
                      struct manifest *out, struct assay_error *err)
{
    if (n < 67 || !hex64(line) || line[64] != ' ' || line[65] != ' ')
        return assay_fail(err, ASSAY_EINVAL,
                          "line %zu: not \"<64 lowercase hex>  <path>\" (sha256sum format)",
                          lineno);
    if (memchr(line, 0, n))
        return assay_fail(err, ASSAY_EINVAL, "line %zu: a NUL byte", lineno);
    char *path = strndup(line + 66, n - 66);
    if (!path)
        return assay_fail(err, ASSAY_ENOMEM, "out of memory");
    const char *why = NULL;
    if (!manifest_path_ok(path))
        why = "a path that is absolute, has an empty, \".\" or \"..\" part, or a control "
              "character or backslash";
    else if (!strcmp(path, MANIFEST_NAME) || !strcmp(path, MANIFEST_SIG_NAME))
        why = "the manifest cannot list itself or its signature";
    else if (prev && strcmp(prev, path) >= 0)
        why = "paths not in strictly increasing bytewise order (out of order or duplicated)";
    if (why) {
        free(path);
        return assay_fail(err, ASSAY_EINVAL, "line %zu: %s", lineno, why);
    }
    int rc = push(out, path, MANIFEST_FILE, err);
    if (rc == 0) {
        memcpy(out->v[out->n - 1].sha256, line, 64);
        out->v[out->n - 1].sha256[64] = 0;
    }
    return rc;
}

int manifest_parse(const char *text, size_t len, struct manifest *out, struct assay_error *err)
{
    size_t off = 0, lineno = 0;
    int rc = 0;
    while (rc == 0 && off < len) {
        lineno++;
        const char *nl = memchr(text + off, '\n', len - off);
        if (!nl) {
            rc = assay_fail(err, ASSAY_EINVAL, "line %zu: no newline at the end", lineno);
            break;
        }
        size_t n = (size_t)(nl - (text + off));
        rc = parse_line(text + off, n, lineno, out->n ? out->v[out->n - 1].path : NULL, out, err);
        off += n + 1;
    }
    if (rc)
        manifest_release(out);
    return rc;
}

char *manifest_slurp(const char *path, size_t max, size_t *len, struct assay_error *err)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        assay_fail(err, ASSAY_EIO, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
        close(fd);
        assay_fail(err, ASSAY_EINVAL, "%s is not a regular file of at most %zu bytes", path, max);
        return NULL;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (buf && got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (!buf) {
        assay_fail(err, ASSAY_ENOMEM, "out of memory reading %s", path);
        return NULL;
    }
    buf[got] = 0;
    *len = got;
    return buf;
}

int manifest_write_file(const char *path, const char *data, size_t len, struct assay_error *err)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp))
        return assay_fail(err, ASSAY_EINVAL, "path too long: %s", path);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return assay_fail(err, ASSAY_EIO, "cannot create %s: %s", tmp, strerror(errno));
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    int ok = done == len && fchmod(fd, 0644) == 0 && fsync(fd) == 0;
    int saved = errno;
    if (close(fd) != 0)
        ok = 0;
    if (!ok || rename(tmp, path) != 0) {
        if (ok)
            saved = errno;
        unlink(tmp);
        return assay_fail(err, ASSAY_EIO, "cannot write %s: %s", path, strerror(saved));
    }
    return 0;
}

int manifest_write(const char *dir, const struct manifest *m, struct assay_error *err)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof(path), "%s/%s", dir, MANIFEST_NAME) >= (int)sizeof(path))
        return assay_fail(err, ASSAY_EINVAL, "path too long: %s", dir);
    size_t len;
    char *text = manifest_format(m, &len);
    if (!text)
        return assay_fail(err, ASSAY_ENOMEM, "out of memory");
    int rc = manifest_write_file(path, text, len, err);
    free(text);
    return rc;
}
