/* transcript_file.c: the JSON-lines transcript sink and its spool (see transcript_file.h). */
#include "transcript_file.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"

/* ---- the spool record ----
 *
 * A private scratch format, read back only by this file on this machine:
 * a fixed head, then the fields' bytes one after the other. */

#define SPOOL_MAGIC 0x52545341u /* "ASTR" */

enum { F_TESTCASE, F_PROTOCOL, F_PEER, F_EVENT, F_SUMMARY, F_DETAIL, F_BYTES, NFIELDS };

#define ABSENT UINT32_MAX /* a field that was NULL */

struct spool_head {
    uint32_t magic;
    uint32_t size; /* the whole record, head included */
    int64_t mono_ms;
    int64_t utc_sec;
    int64_t utc_nsec;
    uint64_t nbytes; /* bytes the device exchanged; len[F_BYTES] of them are kept */
    uint32_t dir;
    uint32_t len[NFIELDS];
};

#define SPOOL_RECORD_MAX                                                                           \
    (sizeof(struct spool_head) + (NFIELDS - 1) * (size_t)TRANSCRIPT_MAX_STRING +                   \
     TRANSCRIPT_MAX_BYTES)

static void field(struct spool_head *h, struct iovec *iov, int f, const void *p, size_t n,
                  size_t cap)
{
    if (!p) {
        h->len[f] = ABSENT;
        iov->iov_base = NULL;
        iov->iov_len = 0;
        return;
    }
    if (n > cap)
        n = cap;
    h->len[f] = (uint32_t)n;
    iov->iov_base = (void *)p;
    iov->iov_len = n;
    h->size += (uint32_t)n;
}

static void spool_entry(void *ctx, const struct transcript_entry *e)
{
    struct transcript_file *t = ctx;
    if (t->spool_fd < 0)
        return;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct spool_head h = {
        .magic = SPOOL_MAGIC,
        .size = sizeof(h),
        .mono_ms = clock_now_ms(),
        .utc_sec = now.tv_sec,
        .utc_nsec = now.tv_nsec,
        .nbytes = e->bytes ? e->nbytes : 0,
        .dir = (uint32_t)e->dir,
    };
    struct iovec iov[1 + NFIELDS];
    const char *s[NFIELDS - 1] = {t->testcase, e->protocol, e->peer,
                                  e->event,    e->summary,  e->detail_json};
    iov[0] = (struct iovec){&h, sizeof(h)};
    for (int f = 0; f < F_BYTES; f++)
        field(&h, &iov[1 + f], f, s[f], s[f] ? strlen(s[f]) : 0, TRANSCRIPT_MAX_STRING);
    field(&h, &iov[1 + F_BYTES], F_BYTES, e->bytes, e->nbytes, TRANSCRIPT_MAX_BYTES);
    ssize_t w = writev(t->spool_fd, iov, 1 + NFIELDS);
    (void)w; /* a transcript write that fails must not end the probe */
}

/* ---- from spool to JSON lines ---- */

static const char *dir_name(uint32_t d)
{
    switch (d) {
    case TRANSCRIPT_SEND: return "send";
    case TRANSCRIPT_RECV: return "recv";
    default: return "note";
    }
}

static json_t *hex(const uint8_t *b, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char *s = malloc(n * 2 + 1);
    if (!s)
        return json_null();
    for (size_t i = 0; i < n; i++) {
        s[2 * i] = digits[b[i] >> 4];
        s[2 * i + 1] = digits[b[i] & 15];
    }
    json_t *j = json_stringn(s, n * 2);
    free(s);
    return j;
}

/* A string field as JSON, or NULL when absent; text that is not UTF-8 is said so. */
static json_t *text(const char *p, uint32_t n)
{
    if (n == ABSENT)
        return NULL;
    json_t *j = json_stringn(p, n);
    return j ? j : json_string("(not UTF-8)");
}

/* The JSON line of one record (the layout transcript.jsonl has always had). */
static json_t *entry_json(const struct spool_head *h, const char *body)
{
    const char *p[NFIELDS];
    size_t off = 0;
    for (int f = 0; f < NFIELDS; f++) {
        p[f] = body + off;
        off += h->len[f] == ABSENT ? 0 : h->len[f];
    }
    char utc[CLOCK_UTC_MAX];
    struct timespec ts = {.tv_sec = (time_t)h->utc_sec, .tv_nsec = (long)h->utc_nsec};
    json_t *o = json_object();
    json_object_set_new(o, "utc", json_string(clock_utc_at(&ts, utc)));
    json_object_set_new(o, "mono_ms", json_integer((json_int_t)h->mono_ms));
    /* json_object_set_new ignores a NULL value: absent fields are left out. */
    json_object_set_new(o, "testcase", text(p[F_TESTCASE], h->len[F_TESTCASE]));
    json_object_set_new(o, "protocol", text(p[F_PROTOCOL], h->len[F_PROTOCOL]));
    json_object_set_new(o, "dir", json_string(dir_name(h->dir)));
    json_object_set_new(o, "peer", text(p[F_PEER], h->len[F_PEER]));
    json_object_set_new(o, "event", text(p[F_EVENT], h->len[F_EVENT]));
    json_object_set_new(o, "summary", text(p[F_SUMMARY], h->len[F_SUMMARY]));
    if (h->len[F_BYTES] != ABSENT) {
        json_object_set_new(o, "bytes", hex((const uint8_t *)p[F_BYTES], h->len[F_BYTES]));
        json_object_set_new(o, "nbytes", json_integer((json_int_t)h->nbytes));
        if (h->len[F_BYTES] < h->nbytes)
            json_object_set_new(o, "truncated", json_true());
    }
    if (h->len[F_DETAIL] != ABSENT) {
        json_error_t je;
        json_t *d = json_loadb(p[F_DETAIL], h->len[F_DETAIL], 0, &je);
        if (d)
            json_object_set_new(o, "detail", d);
    }
    return o;
}

/* Output batched into large write()s. */
struct out {
    int fd;
    char *buf;
    size_t len, cap;
    int failed;
};

static void out_flush(struct out *o)
{
    size_t done = 0;
    while (done < o->len && !o->failed) {
        ssize_t w = write(o->fd, o->buf + done, o->len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            o->failed = errno ? errno : EIO;
        else
            done += (size_t)w;
    }
    o->len = 0;
}

static int out_dump(const char *buf, size_t size, void *data)
{
    struct out *o = data;
    if (o->len + size + 1 > o->cap) {
        out_flush(o);
        if (size + 1 > o->cap) {
            char *nb = realloc(o->buf, size + 1);
            if (!nb)
                return -1;
            o->buf = nb;
            o->cap = size + 1;
        }
    }
    memcpy(o->buf + o->len, buf, size);
    o->len += size;
    return 0;
}

static void out_line(struct out *o, json_t *j)
{
    if (!j)
        return;
    if (json_dump_callback(j, out_dump, o, JSON_COMPACT | JSON_ENSURE_ASCII) == 0)
        out_dump("\n", 1, o);
    json_decref(j);
}

static int valid_head(const struct spool_head *h)
{
    if (h->magic != SPOOL_MAGIC || h->size < sizeof(*h) || h->size > SPOOL_RECORD_MAX)
        return 0;
    size_t sum = sizeof(*h);
    for (int f = 0; f < NFIELDS; f++)
        if (h->len[f] != ABSENT)
            sum += h->len[f];
    return sum == h->size;
}

/* Appends every record of the spool (read from offset 0) to the transcript at
 * out_fd, then empties the spool. */
static int spool_drain(int spool_fd, int out_fd, struct assay_error *err)
{
    struct stat st;
    if (fstat(spool_fd, &st) != 0)
        return assay_fail(err, ASSAY_EIO, "transcript spool: %s", strerror(errno));
    if (st.st_size == 0)
        return 0;
    struct out o = {.fd = out_fd, .cap = 256u << 10};
    char *body = malloc(SPOOL_RECORD_MAX);
    o.buf = malloc(o.cap);
    if (!body || !o.buf) {
        free(body);
        free(o.buf);
        return assay_fail(err, ASSAY_ENOMEM, "transcript spool: out of memory");
    }
    off_t off = 0, end = st.st_size;
    while (off < end) {
        struct spool_head h;
        ssize_t r = pread(spool_fd, &h, sizeof(h), off);
        if (r != (ssize_t)sizeof(h) || !valid_head(&h) || end - off < (off_t)h.size)
            break;
        size_t n = h.size - sizeof(h);
        if (pread(spool_fd, body, n, off + (off_t)sizeof(h)) != (ssize_t)n)
            break;
        out_line(&o, entry_json(&h, body));
        off += h.size;
    }
    if (off < end) {
        char utc[CLOCK_UTC_MAX], why[160];
        snprintf(why, sizeof(why),
                 "the last %lld byte(s) of the transcript spool are a partial entry (the worker "
                 "ended while writing it); they are left out",
                 (long long)(end - off));
        out_line(&o, json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:s}", "utc", clock_utc_now(utc),
                               "mono_ms", (json_int_t)clock_now_ms(), "testcase", "", "protocol",
                               "assay", "dir", "note", "event", "torn", "summary", why));
    }
    out_flush(&o);
    free(body);
    free(o.buf);
    if (o.failed)
        return assay_fail(err, ASSAY_EIO, "transcript: %s", strerror(o.failed));
    if (ftruncate(spool_fd, 0) != 0)
        return assay_fail(err, ASSAY_EIO, "transcript spool: %s", strerror(errno));
    return 0;
}

/* ---- the file ---- */

static int spool_name(char *buf, size_t size, const char *path, struct assay_error *err)
{
    if ((size_t)snprintf(buf, size, "%s.spool", path) >= size)
        return assay_fail(err, ASSAY_EINVAL, "transcript path too long: %s", path);
    return 0;
}

int transcript_file_open(struct transcript_file *t, const char *path, struct assay_error *err)
{
    memset(t, 0, sizeof(*t));
    t->fd = t->spool_fd = -1;
    if (spool_name(t->spool_path, sizeof(t->spool_path), path, err))
        return -1;
    t->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (t->fd < 0)
        return assay_fail(err, ASSAY_EIO, "cannot open %s: %s", path, strerror(errno));
    t->spool_fd = open(t->spool_path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (t->spool_fd < 0) {
        int e = errno;
        close(t->fd);
        t->fd = -1;
        return assay_fail(err, ASSAY_EIO, "cannot open %s: %s", t->spool_path, strerror(e));
    }
    if (spool_drain(t->spool_fd, t->fd, err)) { /* left by a worker that ended early */
        transcript_file_close(t);
        return -1;
    }
    t->sink.write = spool_entry;
    t->sink.ctx = t;
    return 0;
}

static void drain_or_say(struct transcript_file *t)
{
    struct assay_error err = {0};
    if (t->spool_fd >= 0 && t->fd >= 0 && spool_drain(t->spool_fd, t->fd, &err))
        fprintf(stderr, "assay: %s (the entries stay in %s)\n", err.msg, t->spool_path);
}

void transcript_file_set_testcase(struct transcript_file *t, const char *id)
{
    drain_or_say(t);
    snprintf(t->testcase, sizeof(t->testcase), "%s", id ? id : "");
}

void transcript_file_close(struct transcript_file *t)
{
    struct stat st;
    drain_or_say(t);
    if (t->spool_fd >= 0 && fstat(t->spool_fd, &st) == 0 && st.st_size == 0)
        unlink(t->spool_path);
    if (t->spool_fd >= 0)
        close(t->spool_fd);
    if (t->fd >= 0)
        close(t->fd);
    t->fd = t->spool_fd = -1;
}

int transcript_file_recover(const char *path, struct assay_error *err)
{
    char spool[4200];
    if (spool_name(spool, sizeof(spool), path, err))
        return -1;
    int sfd = open(spool, O_RDWR | O_CLOEXEC);
    if (sfd < 0)
        return errno == ENOENT ? 0 : assay_fail(err, ASSAY_EIO, "%s: %s", spool, strerror(errno));
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        int e = errno;
        close(sfd);
        return assay_fail(err, ASSAY_EIO, "cannot open %s: %s", path, strerror(e));
    }
    int rc = spool_drain(sfd, fd, err);
    if (rc == 0)
        unlink(spool);
    close(fd);
    close(sfd);
    return rc;
}
