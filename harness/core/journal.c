/* journal.c: the append-only, hash-chained journal (see journal.h). */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
    for (unsigned i = 0; i < mdlen && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    out[64] = 0;
}

static char *slurp(const char *path, size_t *len, struct assay_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        assay_fail(err, ASSAY_EIO, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size > (off_t)(256u << 20)) {
        close(fd);
        assay_fail(err, ASSAY_EIO, "%s: cannot read or too large", path);
        return NULL;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (buf && got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
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

json_t *journal_read(const char *path, struct assay_error *err)
{
    size_t len;
    char *buf = slurp(path, &len, err);
    if (!buf)
        return NULL;
    json_t *out = json_array();
    char prev[65];
    sha256_hex("", 0, prev);
    size_t off = 0;
    int lineno = 0;
    while (off < len) {
        char *nl = memchr(buf + off, '\n', len - off);
        if (!nl)
            break; /* a torn last line */
        size_t n = (size_t)(nl - (buf + off));
        lineno++;
        json_error_t je;
        json_t *obj = json_loadb(buf + off, n, JSON_REJECT_DUPLICATES, &je);
        const char *p = json_string_value(json_object_get(obj, "prev"));
        if (!obj || !p || strcmp(p, prev)) {
            assay_fail(err, ASSAY_EINVAL, "%s:%d: %s", path, lineno,
                       !obj ? "not a JSON object" : "hash chain broken");
            json_decref(obj);
            json_decref(out);
            free(buf);
            return NULL;
        }
        json_array_append_new(out, obj);
        sha256_hex(buf + off, n, prev);
        off += n + 1;
    }
    free(buf);
    return out;
}

int journal_open(struct journal *j, const char *path, struct assay_error *err)
{
    j->fd = -1;
    sha256_hex("", 0, j->prev);
    struct stat st;
    if (stat(path, &st) == 0 && st.st_size > 0) {
        size_t len;
        char *buf = slurp(path, &len, err);
        if (!buf)
            return err ? err->code : ASSAY_EIO;
        /* Chain from the last whole line; cut a torn tail so appends stay line-aligned. */
        size_t end = len;
        while (end > 0 && buf[end - 1] != '\n')
            end--;
        size_t start = end ? end - 1 : 0;
        while (start > 0 && buf[start - 1] != '\n')
            start--;
        if (end > 0)
            sha256_hex(buf + start, end - 1 - start, j->prev);
        free(buf);
        if (end < len && truncate(path, (off_t)end) != 0)
            return assay_fail(err, ASSAY_EIO, "cannot cut the torn line of %s: %s", path,
                              strerror(errno));
    }
    j->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (j->fd < 0)
        return assay_fail(err, ASSAY_EIO, "cannot open %s: %s", path, strerror(errno));
    return 0;
}

int journal_append(struct journal *j, json_t *obj, struct assay_error *err)
{
    json_object_set_new(obj, "prev", json_string(j->prev));
    char *text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    json_object_del(obj, "prev");
    if (!text)
        return assay_fail(err, ASSAY_ENOMEM, "cannot serialise a journal line");
    size_t n = strlen(text);
    if (n + 1 > JOURNAL_MAX_LINE) {
        free(text);
        return assay_fail(err, ASSAY_EINVAL, "journal line of %zu bytes is too long", n);
    }
    char *line = realloc(text, n + 2);
    if (!line) {
        free(text);
        return assay_fail(err, ASSAY_ENOMEM, "out of memory");
    }
    line[n] = '\n';
    ssize_t w = write(j->fd, line, n + 1);
    int saved = errno;
    if (w == (ssize_t)(n + 1))
        sha256_hex(line, n, j->prev);
    free(line);
    if (w != (ssize_t)(n + 1))
        return assay_fail(err, ASSAY_EIO, "journal write failed: %s", strerror(saved));
    if (fsync(j->fd) != 0)
        return assay_fail(err, ASSAY_EIO, "journal fsync failed: %s", strerror(errno));
    return 0;
}

void journal_close(struct journal *j)
{
    if (j->fd >= 0)
        close(j->fd);
    j->fd = -1;
}
