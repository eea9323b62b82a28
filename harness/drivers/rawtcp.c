/* rawtcp.c: TCP client with deadlines, byte caps and transcripts (see rawtcp.h). */
#include "rawtcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void rawtcp_init(struct rawtcp *c, const struct transcript_sink *sink, const char *protocol)
{
    memset(c, 0, sizeof(*c));
    c->fd = -1;
    c->sink = sink;
    c->protocol = protocol ? protocol : "tcp";
}

const char *rawtcp_status_name(enum rawtcp_status s)
{
    switch (s) {
    case RAWTCP_OK: return "ok";
    case RAWTCP_TIMEOUT: return "timeout";
    case RAWTCP_CLOSED: return "closed";
    case RAWTCP_RESET: return "reset";
    case RAWTCP_REFUSED: return "refused";
    case RAWTCP_UNREACHABLE: return "unreachable";
    }
    return "unknown";
}

static void note(struct rawtcp *c, const char *event, const char *summary)
{
    transcript_note(c->sink, c->protocol, c->peer, event, summary);
}

static void record_bytes(struct rawtcp *c, enum transcript_dir dir, const uint8_t *b, size_t n)
{
    struct transcript_entry e = {
        .protocol = c->protocol,
        .dir = dir,
        .peer = c->peer,
        .event = "raw",
        .bytes = b,
        .nbytes = n,
    };
    transcript_write(c->sink, &e);
}

socklen_t rawtcp_make_addr(const char *host, uint16_t port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons(port);
        return sizeof(*a4);
    }
    if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(port);
        return sizeof(*a6);
    }
    return 0;
}

/* poll() for `events` until deadline. Returns >0 ready, 0 timeout, <0 error. */
static int wait_for(int fd, short events, assay_ms deadline)
{
    for (;;) {
        int64_t left = clock_remaining_ms(deadline);
        struct pollfd p = {.fd = fd, .events = events};
        int rc = poll(&p, 1, (int)(left > 600000 ? 600000 : left));
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc == 0 && clock_remaining_ms(deadline) > 0)
            continue;
        return rc;
    }
}

static enum rawtcp_status status_of_errno(int e)
{
    switch (e) {
    case ECONNREFUSED: return RAWTCP_REFUSED;
    case ENETUNREACH:
    case EHOSTUNREACH:
    case EHOSTDOWN:
    case ENETDOWN: return RAWTCP_UNREACHABLE;
    case ETIMEDOUT: return RAWTCP_TIMEOUT;
    default: return RAWTCP_RESET;
    }
}

static int fail_errno(struct rawtcp *c, int e, const char *what, struct assay_error *err)
{
    c->sys_errno = e;
    c->status = status_of_errno(e);
    char line[160];
    snprintf(line, sizeof(line), "%s: %s (%s)", what, rawtcp_status_name(c->status), strerror(e));
    note(c, rawtcp_status_name(c->status), line);
    return assay_fail(err, c->status == RAWTCP_TIMEOUT ? ASSAY_ETIMEOUT : ASSAY_ENET, "%s: %s",
                      c->peer, line);
}

static int fail_timeout(struct rawtcp *c, const char *what, struct assay_error *err)
{
    c->status = RAWTCP_TIMEOUT;
    c->sys_errno = 0;
    note(c, "timeout", what);
    return assay_fail(err, ASSAY_ETIMEOUT, "%s: %s: deadline passed", c->peer, what);
}

static int finish_connect(struct rawtcp *c, assay_ms deadline, struct assay_error *err)
{
    int rc = wait_for(c->fd, POLLOUT, deadline);
    if (rc == 0) {
        int r = fail_timeout(c, "connect", err);
        close(c->fd);
        c->fd = -1;
        return r;
    }
    int soerr = 0;
    socklen_t sl = sizeof(soerr);
    if (rc < 0)
        soerr = errno;
    else if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
        soerr = errno;
    if (soerr != 0) {
        close(c->fd);
        c->fd = -1;
        return fail_errno(c, soerr, "connect", err);
    }
    return 0;
}

int rawtcp_open(struct rawtcp *c, const struct scope *scope, const char *host, uint16_t port,
                assay_ms deadline, struct assay_error *err)
{
    if (c->fd >= 0)
        return assay_fail(err, ASSAY_EINVAL, "%s: connection already open", c->peer);
    if (!host || !scope_allows(scope, host))
        return assay_fail(err, ASSAY_ESCOPE, "%s is not in the run's scope",
                          host ? host : "(null)");
    if (port == 0)
        return assay_fail(err, ASSAY_EINVAL, "%s: port 0", host);
    struct sockaddr_storage ss;
    socklen_t sl = rawtcp_make_addr(host, port, &ss);
    if (sl == 0)
        return assay_fail(err, ASSAY_ESCOPE, "'%s' is not an address literal", host);
    if (ss.ss_family == AF_INET6)
        snprintf(c->peer, sizeof(c->peer), "[%s]:%u", host, (unsigned)port);
    else
        snprintf(c->peer, sizeof(c->peer), "%s:%u", host, (unsigned)port);
    c->bytes_sent = c->bytes_received = 0;
    c->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return fail_errno(c, errno, "socket", err);
    int one = 1;
    (void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    note(c, "connect", "connecting");
    if (connect(c->fd, (struct sockaddr *)&ss, sl) != 0) {
        if (errno != EINPROGRESS) {
            int e = errno;
            close(c->fd);
            c->fd = -1;
            return fail_errno(c, e, "connect", err);
        }
        int rc = finish_connect(c, deadline, err);
        if (rc != 0)
            return rc;
    }
    c->status = RAWTCP_OK;
    c->sys_errno = 0;
    note(c, "connected", "connected");
    return 0;
}

int rawtcp_send(struct rawtcp *c, const uint8_t *buf, size_t len, assay_ms deadline,
                struct assay_error *err)
{
    if (c->fd < 0)
        return assay_fail(err, ASSAY_EINVAL, "%s: not connected", c->peer);
    record_bytes(c, TRANSCRIPT_SEND, buf, len);
    size_t done = 0;
    while (done < len) {
        ssize_t n = send(c->fd, buf + done, len - done, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            done += (size_t)n;
            c->bytes_sent += (uint64_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int rc = wait_for(c->fd, POLLOUT, deadline);
            if (rc == 0)
                return fail_timeout(c, "send", err);
            if (rc < 0)
                return fail_errno(c, errno, "send", err);
            continue;
        }
        return fail_errno(c, n < 0 ? errno : EPIPE, "send", err);
    }
    c->status = RAWTCP_OK;
    return 0;
}

int rawtcp_recv(struct rawtcp *c, uint8_t *buf, size_t cap, assay_ms deadline, size_t *got,
                struct assay_error *err)
{
    *got = 0;
    if (c->fd < 0)
        return assay_fail(err, ASSAY_EINVAL, "%s: not connected", c->peer);
    if (cap == 0)
        return assay_fail(err, ASSAY_EINVAL, "%s: receive with no room", c->peer);
    for (;;) {
        ssize_t n = recv(c->fd, buf, cap, MSG_DONTWAIT);
        if (n > 0) {
            *got = (size_t)n;
            c->bytes_received += (uint64_t)n;
            c->status = RAWTCP_OK;
            record_bytes(c, TRANSCRIPT_RECV, buf, (size_t)n);
            return 0;
        }
        if (n == 0) {
            c->status = RAWTCP_CLOSED;
            c->sys_errno = 0;
            note(c, "closed", "peer closed the connection");
            return assay_fail(err, ASSAY_ENET, "%s: peer closed the connection", c->peer);
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return fail_errno(c, errno, "recv", err);
        int rc = wait_for(c->fd, POLLIN, deadline);
        if (rc == 0)
            return fail_timeout(c, "recv", err);
        if (rc < 0)
            return fail_errno(c, errno, "recv", err);
    }
}

int rawtcp_recv_exact(struct rawtcp *c, uint8_t *buf, size_t n, assay_ms deadline, size_t *got,
                      struct assay_error *err)
{
    *got = 0;
    while (*got < n) {
        size_t k = 0;
        int rc = rawtcp_recv(c, buf + *got, n - *got, deadline, &k, err);
        if (rc != 0)
            return rc;
        *got += k;
    }
    return 0;
}

int rawtcp_wait_readable(struct rawtcp *c, int timeout_ms)
{
    if (c->fd < 0)
        return ASSAY_EINVAL;
    int rc = wait_for(c->fd, POLLIN, clock_deadline(timeout_ms));
    return rc < 0 ? ASSAY_ENET : (rc > 0);
}

void rawtcp_close(struct rawtcp *c, int drain_ms)
{
    if (c->fd < 0)
        return;
    (void)shutdown(c->fd, SHUT_WR);
    assay_ms deadline = clock_deadline(drain_ms > 0 ? drain_ms : 0);
    uint8_t sink[512];
    size_t drained = 0;
    while (drain_ms > 0 && drained < 65536) {
        ssize_t n = recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT);
        if (n > 0) {
            record_bytes(c, TRANSCRIPT_RECV, sink, (size_t)n);
            drained += (size_t)n;
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            break;
        if (wait_for(c->fd, POLLIN, deadline) <= 0)
            break;
    }
    close(c->fd);
    c->fd = -1;
    note(c, "close", "connection closed");
}
