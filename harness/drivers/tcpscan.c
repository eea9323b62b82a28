/*
 * tcpscan.c: the rate-limited TCP connect scan and the CoAP UDP ping (tcpscan.h).
 */
#include "tcpscan.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rawtcp.h"

const char *tcpscan_state_name(enum tcpscan_state s)
{
    switch (s) {
    case TCPSCAN_OPEN: return "open";
    case TCPSCAN_CLOSED: return "closed";
    case TCPSCAN_FILTERED: return "filtered";
    case TCPSCAN_UNREACHABLE: return "unreachable";
    case TCPSCAN_SKIPPED: return "skipped";
    }
    return "unknown";
}

/* Waits `ms` (a rate limit between ports, not a readiness wait), never past deadline. */
static void pause_until(int ms, assay_ms deadline)
{
    int64_t left = clock_remaining_ms(deadline);
    if (ms > left)
        ms = (int)left;
    assay_ms until = clock_deadline(ms);
    for (int64_t r = clock_remaining_ms(until); r > 0; r = clock_remaining_ms(until))
        poll(NULL, 0, (int)r);
}

static int check_opts(const uint16_t *ports, size_t n, const struct tcpscan_opts *o,
                      struct assay_error *err)
{
    if (n > TCPSCAN_MAX_PORTS)
        return assay_fail(err, ASSAY_EINVAL, "tcpscan: %zu ports, at most %d", n,
                          TCPSCAN_MAX_PORTS);
    if (o->connect_timeout_ms < 1 || o->connect_timeout_ms > 600000 || o->pause_ms < 0 ||
        o->pause_ms > 60000)
        return assay_fail(err, ASSAY_EINVAL, "tcpscan: timeout or pause out of range");
    for (size_t i = 0; i < n; i++) {
        if (ports[i] == 0)
            return assay_fail(err, ASSAY_EINVAL, "tcpscan: port 0 in the list");
    }
    return 0;
}

static enum tcpscan_state one_port(const struct scope *scope, const struct transcript_sink *sink,
                                   const char *host, uint16_t port, assay_ms deadline)
{
    struct rawtcp c;
    struct assay_error e = {0};
    rawtcp_init(&c, sink, "tcp");
    int rc = rawtcp_open(&c, scope, host, port, deadline, &e);
    if (rc == 0) {
        rawtcp_close(&c, 0);
        return TCPSCAN_OPEN;
    }
    if (rc == ASSAY_ETIMEOUT || c.status == RAWTCP_TIMEOUT)
        return TCPSCAN_FILTERED;
    if (c.status == RAWTCP_REFUSED)
        return TCPSCAN_CLOSED;
    return TCPSCAN_UNREACHABLE;
}

int tcpscan_tcp(const struct scope *scope, const struct transcript_sink *sink, const char *host,
                const uint16_t *ports, size_t n, const struct tcpscan_opts *opts,
                struct tcpscan_result *out, struct assay_error *err)
{
    int rc = check_opts(ports, n, opts, err);
    if (rc)
        return rc;
    if (!scope_is_address(host) || !scope_allows(scope, host))
        return assay_fail(err, ASSAY_ESCOPE, "tcpscan: %s is not in the bench's scope", host);
    for (size_t i = 0; i < n; i++) {
        out[i] = (struct tcpscan_result){.port = ports[i], .state = TCPSCAN_SKIPPED};
        if (clock_remaining_ms(opts->deadline) <= 0)
            continue;
        if (i > 0 && opts->pause_ms > 0)
            pause_until(opts->pause_ms, opts->deadline);
        assay_ms start = clock_now_ms();
        assay_ms d = clock_deadline(opts->connect_timeout_ms);
        if (d > opts->deadline)
            d = opts->deadline;
        out[i].state = one_port(scope, sink, host, ports[i], d);
        out[i].elapsed_ms = (int)(clock_now_ms() - start);
    }
    return 0;
}

/* Waits for the reply to the ping; fills r and *reply_type. */
static void udp_wait(int fd, int timeout_ms, struct tcpscan_result *r, int *reply_type)
{
    uint8_t buf[1500];
    assay_ms deadline = clock_deadline(timeout_ms);
    r->state = TCPSCAN_FILTERED;
    for (;;) {
        int64_t left = clock_remaining_ms(deadline);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int pr = left > 0 ? poll(&p, 1, (int)left) : 0;
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            return;
        ssize_t got = recv(fd, buf, sizeof(buf), 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            r->state = errno == ECONNREFUSED ? TCPSCAN_CLOSED : TCPSCAN_UNREACHABLE;
            return;
        }
        r->state = TCPSCAN_OPEN;
        *reply_type = got >= 4 && (buf[0] >> 6) == 1 ? (buf[0] >> 4) & 3 : -1;
        return;
    }
}

int tcpscan_udp_coap(const struct scope *scope, const struct transcript_sink *sink,
                     const char *host, uint16_t port, int timeout_ms, struct tcpscan_result *out,
                     int *reply_type, struct assay_error *err)
{
    struct sockaddr_storage ss;
    socklen_t len = rawtcp_make_addr(host, port, &ss);
    if (port == 0 || timeout_ms < 1 || timeout_ms > 600000)
        return assay_fail(err, ASSAY_EINVAL, "tcpscan: bad UDP port or timeout");
    if (len == 0 || !scope_allows(scope, host))
        return assay_fail(err, ASSAY_ESCOPE, "tcpscan: %s is not in the bench's scope", host);
    int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return assay_fail(err, ASSAY_ENET, "tcpscan: socket: %s", strerror(errno));
    char peer[80];
    snprintf(peer, sizeof(peer), "%s:%u", host, (unsigned)port);
    /* CON, no token, code 0.00 (empty), a message id from the clock. */
    uint16_t mid = (uint16_t)(clock_now_ms() & 0xffff);
    uint8_t ping[4] = {0x40, 0x00, (uint8_t)(mid >> 8), (uint8_t)(mid & 0xff)};
    *out = (struct tcpscan_result){.port = port, .state = TCPSCAN_FILTERED};
    *reply_type = -1;
    assay_ms start = clock_now_ms();
    if (connect(fd, (struct sockaddr *)&ss, len) != 0 || send(fd, ping, sizeof(ping), 0) < 0) {
        out->state = errno == ECONNREFUSED ? TCPSCAN_CLOSED : TCPSCAN_UNREACHABLE;
    } else {
        transcript_write(sink, &(struct transcript_entry){.protocol = "udp",
                                                          .dir = TRANSCRIPT_SEND,
                                                          .peer = peer,
                                                          .event = "coap-ping",
                                                          .bytes = ping,
                                                          .nbytes = sizeof(ping)});
        udp_wait(fd, timeout_ms, out, reply_type);
    }
    out->elapsed_ms = (int)(clock_now_ms() - start);
    close(fd);
    char summary[96];
    snprintf(summary, sizeof(summary), "UDP port %u: %s", (unsigned)port,
             tcpscan_state_name(out->state));
    transcript_note(sink, "udp", peer, "scan", summary);
    return 0;
}
