/* transcript_file.c: the JSON-lines transcript sink and its spool (see transcript_file.h). */
#include "transcript_file.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/stat.h>
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

/* The mapping's size. A test case that spools more has its entries written out
 * as JSON lines whenever the window fills (a pause in that probe of a few
 * milliseconds per MiB), so the worker never maps more than this. */
#define SPOOL_WINDOW (1u << 20)
#define ALIGN8(n) (((n) + 7u) & ~(size_t)7u)

static void drain_or_say(struct transcript_file *t);

static void field(struct spool_head *h, const void **src, int f, const void *p, size_t n,
                  size_t cap)
{
    *src = p;
    if (!p) {
        h->len[f] = ABSENT;
        return;
    }
    h->len[f] = (uint32_t)(n > cap ? cap : n);
    h->size += h->len[f];
}

/* Makes room for `need` more bytes in the window, writing out what it holds if
 * need be; false when the entry cannot be kept. */
static bool reserve(struct transcript_file *t, size_t need)
{
    if (t->used + need <= t->map_cap)
        return true;
    drain_or_say(t);
    return t->map && t->used + need <= t->map_cap;
}

/*
 * Copies the entry into the mapped spool: no system call on the way. The head's
 * magic is stored last, so a worker that dies mid-copy leaves zeros where the
 * record would start, and the records before it intact in the page cache.
 */
static void spool_entry(void *ctx, const struct transcript_entry *e)
{
    struct transcript_file *t = ctx;
    if (!t->map)
        return;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct spool_head h = {
        .size = sizeof(h),
        .mono_ms = clock_now_ms(),
        .utc_sec = now.tv_sec,
        .utc_nsec = now.tv_nsec,
        .nbytes = e->bytes ? e->nbytes : 0,
        .dir = (uint32_t)e->dir,
    };
    const void *src[NFIELDS];
    const char *s[F_BYTES] = {t->testcase, e->protocol, e->peer,
                              e->event,    e->summary,  e->detail_json};
    for (int f = 0; f < F_BYTES; f++)
        field(&h, &src[f], f, s[f], s[f] ? strlen(s[f]) : 0, TRANSCRIPT_MAX_STRING);
    field(&h, &src[F_BYTES], F_BYTES, e->bytes, e->nbytes, TRANSCRIPT_MAX_BYTES);
    if (!reserve(t, ALIGN8(h.size))) {
        t->lost++; /* said in the transcript at the next drain */
        return;
    }
    uint8_t *rec = t->map + t->used, *p = rec + sizeof(h);
    for (int f = 0; f < NFIELDS; f++)
        if (h.len[f] != ABSENT) {
            memcpy(p, src[f], h.len[f]);
            p += h.len[f];
        }
    memcpy(rec, &h, sizeof(h)); /* magic still 0 */
    __atomic_store_n((uint32_t *)(void *)rec, SPOOL_MAGIC, __ATOMIC_RELEASE);
    t->used += ALIGN8(h.size);
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
static int spool_drain(int spool_fd, int out_fd, uint64_t lost, struct assay_error *err)
{
    struct stat st;
    if (fstat(spool_fd, &st) != 0)
        return assay_fail(err, ASSAY_EIO, "transcript spool: %s", strerror(errno));
    if (st.st_size == 0 && !lost)
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
    bool torn = false;
    while (end - off >= (off_t)sizeof(struct spool_head)) {
        struct spool_head h;
        if (pread(spool_fd, &h, sizeof(h), off) != (ssize_t)sizeof(h))
            break;
        if (h.magic == 0) /* the unused rest of the mapping, or a record never finished */
            break;
        if (!valid_head(&h) || end - off < (off_t)h.size) {
            torn = true;
            break;
        }
        size_t n = h.size - sizeof(h);
        if (pread(spool_fd, body, n, off + (off_t)sizeof(h)) != (ssize_t)n) {
            torn = true;
            break;
        }
        out_line(&o, entry_json(&h, body));
        off += (off_t)ALIGN8(h.size);
    }
    if (torn || lost) {
        char utc[CLOCK_UTC_MAX], why[200];
        if (torn)
            snprintf(why, sizeof(why),
                     "the transcript spool holds %lld byte(s) that are not a whole entry from "
                     "offset %lld; they are left out",
                     (long long)(end - off), (long long)off);
        else
            snprintf(why, sizeof(why),
                     "%llu transcript entr%s could not be kept (the spool could not be written)",
                     (unsigned long long)lost, lost == 1 ? "y" : "ies");
        out_line(&o, json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:s}", "utc", clock_utc_now(utc),
                               "mono_ms", (json_int_t)clock_now_ms(), "testcase", "", "protocol",
                               "assay", "dir", "note", "event", torn ? "torn" : "lost", "summary",
                               why));
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

static void unmap(struct transcript_file *t)
{
    if (t->map)
        munmap(t->map, t->map_cap);
    t->map = NULL;
    t->map_cap = t->used = 0;
}

/* Sizes the (empty) spool to one chunk and maps it; without a mapping entries are lost, and said
 * so. */
static void map_spool(struct transcript_file *t)
{
    if (ftruncate(t->spool_fd, SPOOL_WINDOW) != 0)
        return;
    void *m = mmap(NULL, SPOOL_WINDOW, PROT_READ | PROT_WRITE, MAP_SHARED, t->spool_fd, 0);
    if (m == MAP_FAILED)
        return;
    t->map = m;
    t->map_cap = SPOOL_WINDOW;
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
    t->spool_fd = open(t->spool_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (t->spool_fd < 0) {
        int e = errno;
        close(t->fd);
        t->fd = -1;
        return assay_fail(err, ASSAY_EIO, "cannot open %s: %s", t->spool_path, strerror(e));
    }
    if (spool_drain(t->spool_fd, t->fd, 0, err)) { /* left by a worker that ended early */
        transcript_file_close(t);
        return -1;
    }
    map_spool(t);
    t->sink.write = spool_entry;
    t->sink.ctx = t;
    return 0;
}

/* Writes out the spooled entries and starts the spool again from its beginning. */
static void drain_or_say(struct transcript_file *t)
{
    struct assay_error err = {0};
    if (t->spool_fd < 0 || t->fd < 0 || (t->map && t->used == 0 && !t->lost))
        return;
    size_t cap = t->map_cap;
    if (spool_drain(t->spool_fd, t->fd, t->lost, &err)) {
        fprintf(stderr, "assay: %s (the entries stay in %s)\n", err.msg, t->spool_path);
        return; /* the mapping keeps them; the next drain tries again */
    }
    t->lost = 0;
    t->used = 0;
    /* spool_drain emptied the file; give the mapping its pages back (zeros). */
    if (t->map && ftruncate(t->spool_fd, (off_t)cap) != 0)
        unmap(t);
}

void transcript_file_set_testcase(struct transcript_file *t, const char *id)
{
    drain_or_say(t);
    snprintf(t->testcase, sizeof(t->testcase), "%s", id ? id : "");
}

void transcript_file_close(struct transcript_file *t)
{
    drain_or_say(t);
    bool empty = t->used == 0 && !t->lost;
    unmap(t);
    if (t->spool_fd >= 0) {
        if (empty)
            unlink(t->spool_path);
        close(t->spool_fd);
    }
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
    int rc = spool_drain(sfd, fd, 0, err);
    if (rc == 0)
        unlink(spool);
    close(fd);
    close(sfd);
    return rc;
}
