/* capture.c: one device's packet capture: libpcap in non-blocking mode on a reader thread. */
#include "evidence/capture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <pcap/pcap.h>

#include "capture_file.h"

#define POLL_IDLE_MS 200 /* the reader's poll timeout when nothing wakes it */
#define DRAIN_ROUNDS 256 /* pcap_dispatch calls per drain, so a flood cannot pin the thread */
/* After draining a few packets, the reader lets the kernel's ring fill for
 * this long before it looks again (a mark or a stop still wakes it at once):
 * a busy exchange then costs the reader a few hundred wake-ups a second at
 * most, and the probe keeps the CPU. A drain that found a flood (FLOOD_BYTES
 * or more) is followed by another look at once. */
#define BATCH_MS 2
#define FLOOD_BYTES (CAPTURE_BUFFER_BYTES / 8)
/* The kernel fills blocks of the ring (TPACKET_V3, packets packed one after
 * the other, so the ring's size is what it holds) and hands a block over when
 * it is full or BLOCK_MS after its first packet. A mark or a stop therefore
 * waits until every packet the kernel counted for us is read, at most
 * SETTLE_MS (a block is handed over within two timer periods). */
#define BLOCK_MS 1
#define SETTLE_MS (3 * BLOCK_MS + 2)
#define PATH_MAX_LEN 4096

struct capture {
    pcap_t *p;
    pcap_dumper_t *d;
    pthread_t thread;
    bool thread_started;
    int wake[2]; /* the worker writes a byte to wake the reader */

    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t cv;
    bool stop;
    unsigned mark_req, mark_done; /* mark requests and answers, by sequence number */
    struct timeval mark_tv;
    uint64_t mark_packets, mark_dropped;
    uint64_t packets;
    uint64_t dropped;    /* the kernel's count of matching packets it could not queue */
    uint64_t read_here;  /* packets read since open (reader thread only) */
    uint64_t file_bytes; /* the capture file's size (reader thread, and open) */
    uint64_t file_limit; /* beyond it packets are counted, not written */
    uint64_t not_written;
    bool failed;
    char fail_msg[ASSAY_ERROR_MAX];

    char ifname[CAPTURE_IFNAME_MAX];
    char filter[128];
    char pcap_path[PATH_MAX_LEN];
    char marks_path[PATH_MAX_LEN];
    json_t *marks_doc; /* the sidecar's content; only the worker touches it */
};

/* ---- the interface that routes to an address ---- */

static bool is_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
        return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
    }
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
    return IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr);
}

/* Parses a numeric IPv4 or IPv6 address; returns 0 or -1. */
static int parse_address(const char *address, struct sockaddr_storage *ss, socklen_t *len)
{
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, address, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons(9); /* any port: connect() on UDP sends nothing */
        *len = sizeof(*s4);
        return 0;
    }
    if (inet_pton(AF_INET6, address, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(9);
        *len = sizeof(*s6);
        return 0;
    }
    return -1;
}

static bool same_address(const struct sockaddr *a, const struct sockaddr_storage *b)
{
    if (!a || a->sa_family != b->ss_family)
        return false;
    if (a->sa_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)b)->sin_addr.s_addr;
    return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                  &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
}

/* The interface holding `src` (or the loopback interface when `loopback`). */
static int ifname_of(const struct sockaddr_storage *src, bool loopback, char *ifname,
                     struct assay_error *err)
{
    struct ifaddrs *ifs = NULL, *i;
    if (getifaddrs(&ifs) != 0)
        return assay_fail(err, ASSAY_ENET, "getifaddrs: %s", strerror(errno));
    int rc = ASSAY_ENET;
    for (i = ifs; i && rc != 0; i = i->ifa_next) {
        bool hit = loopback ? (i->ifa_flags & IFF_LOOPBACK) != 0 && i->ifa_addr &&
                                  i->ifa_addr->sa_family == src->ss_family
                            : same_address(i->ifa_addr, src);
        if (hit && strlen(i->ifa_name) < CAPTURE_IFNAME_MAX) {
            snprintf(ifname, CAPTURE_IFNAME_MAX, "%s", i->ifa_name);
            rc = 0;
        }
    }
    freeifaddrs(ifs);
    if (rc != 0 && loopback) {
        snprintf(ifname, CAPTURE_IFNAME_MAX, "lo");
        rc = 0;
    }
    return rc ? assay_fail(err, rc, "no interface holds the source address the kernel chose") : 0;
}

int capture_route_ifname(const char *address, char *ifname, struct assay_error *err)
{
    struct sockaddr_storage dst, src;
    socklen_t len, slen = sizeof(src);
    if (!address || parse_address(address, &dst, &len) != 0)
        return assay_fail(err, ASSAY_EINVAL, "capture: '%s' is not a numeric IP address",
                          address ? address : "(null)");
    if (is_loopback(&dst))
        return ifname_of(&dst, true, ifname, err);
    int fd = socket(dst.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return assay_fail(err, ASSAY_ENET, "capture: socket: %s", strerror(errno));
    if (connect(fd, (struct sockaddr *)&dst, len) != 0 ||
        getsockname(fd, (struct sockaddr *)&src, &slen) != 0) {
        int e = errno;
        close(fd);
        return assay_fail(err, ASSAY_ENET, "capture: no route to %s: %s", address, strerror(e));
    }
    close(fd);
    int rc = ifname_of(&src, false, ifname, err);
    if (rc)
        assay_fail(err, rc, "capture: no interface holds the source address for %s", address);
    return rc;
}

/* ---- the reader thread ---- */

static void fail_locked(struct capture *c, const char *what, const char *why)
{
    if (!c->failed) {
        c->failed = true;
        snprintf(c->fail_msg, sizeof(c->fail_msg), "capture on %s: %s: %s", c->ifname, what, why);
    }
}

struct drained {
    struct capture *c;
    uint64_t limit; /* c->file_limit, read once under the lock */
    uint64_t bytes, packets, not_written;
};

#define PCAP_RECORD_HEADER 16u

/* Writes one packet, unless the file has reached its limit: a device that
 * floods for the whole of its deadlines cannot fill the disk, and the packets
 * left out are counted (and said in run.json and the marks). */
static void dump_counted(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct drained *dr = (struct drained *)(void *)user;
    struct capture *c = dr->c;
    dr->bytes += h->caplen;
    if (c->file_bytes + PCAP_RECORD_HEADER + h->caplen > dr->limit) {
        dr->not_written++;
        return;
    }
    pcap_dump((u_char *)c->d, h, bytes);
    c->file_bytes += PCAP_RECORD_HEADER + h->caplen;
    dr->packets++;
}

/* Writes every packet handed over in the ring to the file and flushes; returns
 * 0 or -1 (failed). *bytes: how much was read. */
static int drain(struct capture *c, uint64_t *bytes)
{
    uint64_t n = 0;
    struct drained dr = {.c = c};
    pthread_mutex_lock(&c->mu);
    dr.limit = c->file_limit;
    pthread_mutex_unlock(&c->mu);
    for (int round = 0; round < DRAIN_ROUNDS; round++) {
        int got = pcap_dispatch(c->p, -1, dump_counted, (u_char *)&dr);
        if (got == 0 || got == PCAP_ERROR_BREAK)
            break;
        if (got < 0) {
            pthread_mutex_lock(&c->mu);
            fail_locked(c, "read", pcap_geterr(c->p));
            pthread_mutex_unlock(&c->mu);
            return -1;
        }
        n += (uint64_t)got;
    }
    *bytes = dr.bytes;
    if (dr.packets > 0 && (pcap_dump_flush(c->d) != 0 || ferror(pcap_dump_file(c->d)))) {
        pthread_mutex_lock(&c->mu);
        fail_locked(c, "write", strerror(errno));
        pthread_mutex_unlock(&c->mu);
        return -1;
    }
    c->read_here += n;
    pthread_mutex_lock(&c->mu);
    c->packets += dr.packets;
    c->not_written += dr.not_written;
    pthread_mutex_unlock(&c->mu);
    return 0;
}

/* Whether the kernel has counted packets for this capture that are not read
 * yet (still in a block it has not handed over). Reader thread only. */
static bool kernel_holds_more(struct capture *c)
{
    struct pcap_stat ps;
    if (pcap_stats(c->p, &ps) != 0)
        return false;
    /* ps_recv counts the packets the filter passed, the dropped ones included */
    uint64_t queued = (uint64_t)ps.ps_recv - (uint64_t)ps.ps_drop;
    return (uint64_t)ps.ps_recv >= (uint64_t)ps.ps_drop && queued > c->read_here;
}

/* Called with c->mu held, by the reader thread only (libpcap's counters are not shared). */
static void update_drops(struct capture *c)
{
    struct pcap_stat ps;
    if (pcap_stats(c->p, &ps) == 0)
        c->dropped = (uint64_t)ps.ps_drop + ps.ps_ifdrop;
}

static void *reader(void *arg)
{
    struct capture *c = arg;
    /* fds[0], the wake pipe, is always watched; fds[1], the capture, only when
     * the last look found little or nothing to drain. */
    struct pollfd fds[2] = {{.fd = c->wake[0], .events = POLLIN},
                            {.fd = pcap_get_selectable_fd(c->p), .events = POLLIN}};
    nfds_t watched = 2;
    struct timespec settle_from = {0};
    bool settling = false;
    for (;;) {
        int timeout = settling ? 1 : watched == 2 ? POLL_IDLE_MS : BATCH_MS;
        int r = poll(fds, settling ? 2 : watched, timeout);
        if (r < 0 && errno != EINTR) {
            pthread_mutex_lock(&c->mu);
            fail_locked(c, "poll", strerror(errno));
            pthread_mutex_unlock(&c->mu);
        }
        if (fds[0].revents & POLLIN) {
            char buf[64];
            while (read(c->wake[0], buf, sizeof(buf)) > 0)
                ;
        }
        bool packets = watched == 2 && (fds[1].revents & POLLIN);
        fds[0].revents = fds[1].revents = 0;
        /* Drain on every wake-up: a mark or a stop must see every packet queued before it. */
        uint64_t bytes = 0;
        int bad = drain(c, &bytes);
        watched = packets && bytes < FLOOD_BYTES ? 1 : 2;
        pthread_mutex_lock(&c->mu);
        bool asked = c->mark_req != c->mark_done || c->stop;
        pthread_mutex_unlock(&c->mu);
        /* A mark or a stop: first let the kernel hand over what it still holds. */
        if (asked && !bad) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (!settling)
                settle_from = now;
            long waited = (now.tv_sec - settle_from.tv_sec) * 1000 +
                          (now.tv_nsec - settle_from.tv_nsec) / 1000000;
            settling = waited < SETTLE_MS && kernel_holds_more(c);
            if (settling)
                continue;
        }
        settling = false;
        pthread_mutex_lock(&c->mu);
        bool stop = c->stop || c->failed || bad;
        if (c->mark_req != c->mark_done || stop)
            update_drops(c);
        if (c->mark_req != c->mark_done) {
            gettimeofday(&c->mark_tv, NULL);
            c->mark_packets = c->packets;
            c->mark_dropped = c->dropped;
            c->mark_done = c->mark_req;
            pthread_cond_broadcast(&c->cv);
        }
        if (stop)
            pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
        if (stop)
            return NULL;
    }
}

static void wake(struct capture *c)
{
    ssize_t w;
    do
        w = write(c->wake[1], "x", 1);
    while (w < 0 && errno == EINTR);
}

/* ---- opening and closing ---- */

static int open_pcap(struct capture *c, const char *address, struct assay_error *err)
{
    char eb[PCAP_ERRBUF_SIZE] = "";
    struct bpf_program prog;
    c->p = pcap_create(c->ifname, eb);
    if (!c->p)
        return assay_fail(err, ASSAY_EIO, "capture on %s: %s", c->ifname, eb);
    pcap_set_snaplen(c->p, CAPTURE_SNAPLEN);
    pcap_set_promisc(c->p, 0);
    pcap_set_timeout(c->p, BLOCK_MS);
    pcap_set_immediate_mode(c->p, 0); /* TPACKET_V3: the ring holds packets, not 64 KiB slots */
    pcap_set_buffer_size(c->p, CAPTURE_BUFFER_BYTES);
    int rc = pcap_activate(c->p);
    if (rc == PCAP_ERROR_PERM_DENIED || rc == PCAP_ERROR_PROMISC_PERM_DENIED)
        return assay_fail(err, ASSAY_EIO,
                          "capture not permitted on %s (needs root or CAP_NET_RAW): %s", c->ifname,
                          pcap_geterr(c->p));
    if (rc == PCAP_ERROR_NO_SUCH_DEVICE)
        return assay_fail(err, ASSAY_ENET, "capture: no interface %s: %s", c->ifname,
                          pcap_geterr(c->p));
    if (rc < 0)
        return assay_fail(err, ASSAY_EIO, "capture on %s: %s (%s)", c->ifname, pcap_statustostr(rc),
                          pcap_geterr(c->p));
    snprintf(c->filter, sizeof(c->filter), "host %s", address);
    if (pcap_compile(c->p, &prog, c->filter, 1, PCAP_NETMASK_UNKNOWN) != 0)
        return assay_fail(err, ASSAY_EIO, "capture filter '%s': %s", c->filter, pcap_geterr(c->p));
    rc = pcap_setfilter(c->p, &prog);
    pcap_freecode(&prog);
    if (rc != 0)
        return assay_fail(err, ASSAY_EIO, "capture filter '%s': %s", c->filter, pcap_geterr(c->p));
    if (pcap_setnonblock(c->p, 1, eb) != 0)
        return assay_fail(err, ASSAY_EIO, "capture on %s: non-blocking mode: %s", c->ifname, eb);
    if (pcap_get_selectable_fd(c->p) < 0)
        return assay_fail(err, ASSAY_EIO, "capture on %s: no selectable descriptor", c->ifname);
    return 0;
}

/* Creates the file, or appends to an earlier capture (a resumed run) after cutting a torn tail. */
static int open_dump(struct capture *c, struct assay_error *err)
{
    struct stat st;
    bool append = stat(c->pcap_path, &st) == 0 && st.st_size > 0;
    if (append) {
        int rc = capture_file_trim(c->pcap_path, &c->packets, err);
        if (rc)
            return rc;
        c->d = pcap_dump_open_append(c->p, c->pcap_path);
    } else {
        c->d = pcap_dump_open(c->p, c->pcap_path);
    }
    if (!c->d)
        return assay_fail(err, ASSAY_EIO, "capture file %s: %s", c->pcap_path, pcap_geterr(c->p));
    if (pcap_dump_flush(c->d) != 0)
        return assay_fail(err, ASSAY_EIO, "capture file %s: %s", c->pcap_path, strerror(errno));
    c->file_bytes = stat(c->pcap_path, &st) == 0 ? (uint64_t)st.st_size : 0;
    c->file_limit = CAPTURE_FILE_LIMIT_BYTES;
    return 0;
}

static int start_reader(struct capture *c, struct assay_error *err)
{
    if (pipe(c->wake) != 0)
        return assay_fail(err, ASSAY_EIO, "capture: pipe: %s", strerror(errno));
    for (int i = 0; i < 2; i++) {
        fcntl(c->wake[i], F_SETFD, FD_CLOEXEC);
        fcntl(c->wake[i], F_SETFL, fcntl(c->wake[i], F_GETFL) | O_NONBLOCK);
    }
    /* Signals go to the worker's own threads, never to the reader. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&c->thread, NULL, reader, c);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return assay_fail(err, ASSAY_EIO, "capture: thread: %s", strerror(rc));
    c->thread_started = true;
    return 0;
}

static struct capture *capture_alloc(void)
{
    struct capture *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->wake[0] = c->wake[1] = -1;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&c->mu, NULL);
    return c;
}

static void capture_free(struct capture *c)
{
    if (c->d)
        pcap_dump_close(c->d);
    if (c->p)
        pcap_close(c->p);
    for (int i = 0; i < 2; i++)
        if (c->wake[i] >= 0)
            close(c->wake[i]);
    json_decref(c->marks_doc);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

int capture_open(const char *ifname, const char *address, const char *pcap_path,
                 struct capture **out, struct assay_error *err)
{
    struct sockaddr_storage ss;
    socklen_t len;
    *out = NULL;
    if (!address || !pcap_path || parse_address(address, &ss, &len) != 0)
        return assay_fail(err, ASSAY_EINVAL, "capture: '%s' is not a numeric IP address",
                          address ? address : "(null)");
    struct capture *c = capture_alloc();
    if (!c)
        return assay_fail(err, ASSAY_ENOMEM, "capture: out of memory");
    int rc = 0;
    if (strlen(pcap_path) >= sizeof(c->pcap_path) ||
        capture_marks_path(pcap_path, c->marks_path, sizeof(c->marks_path)) != 0)
        rc = assay_fail(err, ASSAY_EINVAL, "capture: path too long: %s", pcap_path);
    else if (ifname && (!*ifname || strlen(ifname) >= sizeof(c->ifname)))
        rc = assay_fail(err, ASSAY_EINVAL, "capture: bad interface name '%s'", ifname);
    else if (ifname)
        snprintf(c->ifname, sizeof(c->ifname), "%s", ifname);
    else
        rc = capture_route_ifname(address, c->ifname, err);
    if (!rc) {
        snprintf(c->pcap_path, sizeof(c->pcap_path), "%s", pcap_path);
        rc = open_pcap(c, address, err);
    }
    if (!rc)
        rc = capture_marks_load(c->marks_path, pcap_path, c->ifname, c->filter, &c->marks_doc, err);
    if (!rc)
        rc = open_dump(c, err);
    if (!rc)
        rc = capture_marks_save(c->marks_path, c->marks_doc, err);
    if (!rc)
        rc = start_reader(c, err);
    if (rc) {
        capture_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

static void add_ms(struct timespec *ts, int ms)
{
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

int capture_mark(struct capture *cap, const char *label, struct assay_error *err)
{
    if (!cap || !label)
        return assay_fail(err, ASSAY_EINVAL, "capture_mark: no capture or label");
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    add_ms(&until, CAPTURE_MARK_TIMEOUT_MS);
    pthread_mutex_lock(&cap->mu);
    unsigned want = ++cap->mark_req;
    pthread_mutex_unlock(&cap->mu);
    wake(cap);
    pthread_mutex_lock(&cap->mu);
    int rc = 0;
    while (rc == 0 && (int)(cap->mark_done - want) < 0 && !cap->failed)
        rc = pthread_cond_timedwait(&cap->cv, &cap->mu, &until);
    bool done = (int)(cap->mark_done - want) >= 0;
    struct timeval tv = cap->mark_tv;
    uint64_t packets = cap->mark_packets, dropped = cap->mark_dropped;
    char why[ASSAY_ERROR_MAX];
    snprintf(why, sizeof(why), "%s", cap->failed ? cap->fail_msg : "");
    pthread_mutex_unlock(&cap->mu);
    if (!done && why[0])
        return assay_fail(err, ASSAY_EIO, "%s", why);
    if (!done)
        return assay_fail(err, ASSAY_ETIMEOUT, "capture on %s: mark '%s' not answered in %d ms",
                          cap->ifname, label, CAPTURE_MARK_TIMEOUT_MS);
    return capture_marks_add(cap->marks_path, cap->marks_doc, label, &tv, packets, dropped, err);
}

int capture_close(struct capture *cap, struct assay_error *err)
{
    if (!cap)
        return 0;
    if (cap->thread_started) {
        pthread_mutex_lock(&cap->mu);
        cap->stop = true;
        pthread_mutex_unlock(&cap->mu);
        wake(cap);
        pthread_join(cap->thread, NULL);
    }
    int rc = 0;
    if (cap->failed)
        rc = assay_fail(err, ASSAY_EIO, "%s", cap->fail_msg);
    if (pcap_dump_flush(cap->d) != 0 && !rc)
        rc = assay_fail(err, ASSAY_EIO, "capture file %s: %s", cap->pcap_path, strerror(errno));
    struct assay_error se = {0};
    json_object_set_new(cap->marks_doc, "packets", json_integer((json_int_t)cap->packets));
    json_object_set_new(cap->marks_doc, "dropped", json_integer((json_int_t)cap->dropped));
    if (cap->not_written)
        json_object_set_new(cap->marks_doc, "not_written",
                            json_integer((json_int_t)cap->not_written));
    if (capture_marks_save(cap->marks_path, cap->marks_doc, &se) != 0 && !rc)
        rc = assay_fail(err, se.code, "%s", se.msg);
    capture_free(cap);
    return rc;
}

/* One of the capture's counters, read under its mutex. */
static uint64_t locked_read(const struct capture *cap, const uint64_t *counter)
{
    struct capture *c = (struct capture *)cap; /* the mutex is not part of the value */
    pthread_mutex_lock(&c->mu);
    uint64_t n = *counter;
    pthread_mutex_unlock(&c->mu);
    return n;
}

uint64_t capture_packets(const struct capture *cap)
{
    return locked_read(cap, &cap->packets);
}

uint64_t capture_dropped(const struct capture *cap)
{
    return locked_read(cap, &cap->dropped);
}

uint64_t capture_not_written(const struct capture *cap)
{
    return locked_read(cap, &cap->not_written);
}

void capture_set_file_limit(struct capture *cap, uint64_t bytes)
{
    pthread_mutex_lock(&cap->mu);
    cap->file_limit = bytes;
    pthread_mutex_unlock(&cap->mu);
}

const char *capture_ifname(const struct capture *cap)
{
    return cap->ifname;
}

int capture_marks_path(const char *pcap_path, char *buf, size_t size)
{
    size_t n = strlen(pcap_path);
    if (n >= 5 && strcmp(pcap_path + n - 5, ".pcap") == 0)
        n -= 5;
    int w = snprintf(buf, size, "%.*s.marks.json", (int)n, pcap_path);
    return w < 0 || (size_t)w >= size ? ASSAY_EINVAL : 0;
}

int capture_keylog_path(const char *run_dir, const char *device_id, char *buf, size_t size)
{
    int w = snprintf(buf, size, "%s/devices/%s/tls-keys.log", run_dir, device_id);
    return w < 0 || (size_t)w >= size ? ASSAY_EINVAL : 0;
}

int capture_open_device(const char *run_dir, const char *device_id, const char *address,
                        struct capture **out, struct assay_error *err)
{
    char path[PATH_MAX_LEN];
    int w = snprintf(path, sizeof(path), "%s/devices/%s/capture.pcap", run_dir, device_id);
    *out = NULL;
    if (w < 0 || (size_t)w >= sizeof(path))
        return assay_fail(err, ASSAY_EINVAL, "capture: path too long for device %s", device_id);
    return capture_open(NULL, address, path, out, err);
}

json_t *capture_status_json(const struct capture *cap, const char *device_id, const char *why)
{
    if (!cap)
        return json_pack("{s:b, s:s}", "enabled", 0, "reason",
                         why && *why ? why : "capture not started");
    char file[512], marks[512];
    snprintf(file, sizeof(file), "devices/%s/capture.pcap", device_id);
    if (capture_marks_path(file, marks, sizeof(marks)) != 0)
        marks[0] = 0;
    uint64_t limit = locked_read(cap, &cap->file_limit);
    json_t *st =
        json_pack("{s:b, s:s, s:s, s:s, s:s, s:I, s:I}", "enabled", 1, "file", file, "marks", marks,
                  "interface", cap->ifname, "filter", cap->filter, "packets",
                  (json_int_t)capture_packets(cap), "dropped", (json_int_t)capture_dropped(cap));
    uint64_t over = capture_not_written(cap);
    if (st && over) { /* the file reached its limit: the capture is incomplete, and says so */
        json_object_set_new(st, "not_written", json_integer((json_int_t)over));
        json_object_set_new(st, "file_limit_bytes", json_integer((json_int_t)limit));
    }
    return st;
}
