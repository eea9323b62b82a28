/*
 * rawtcp.h: a small TCP client for sending exact bytes with deadlines and byte caps.
 *
 * Drivers use it where a protocol library cannot be trusted to send or read
 * what a test needs: malformed frames, frames the library does not know, or
 * replies whose length the library would misjudge. Every call that can wait
 * takes an absolute deadline on the monotonic clock (core/clock.h); every
 * read is bounded by a caller-supplied capacity. Nothing here resolves host
 * names: the host must be an address literal that the run's scope allows.
 *
 * Evidence: if a transcript sink is given, every connect, close, timeout and
 * the exact bytes of every send and receive are written to it, tagged with the
 * protocol name the caller chose ("modbus", "tcp", ...).
 *
 * Usage:
 *     struct rawtcp c;
 *     rawtcp_init(&c, sink, "modbus");
 *     if (rawtcp_open(&c, scope, "127.0.0.2", 502, clock_deadline(3000), &err) == 0) {
 *         rawtcp_send(&c, frame, n, clock_deadline(3000), &err);
 *         rawtcp_recv_exact(&c, hdr, 7, clock_deadline(3000), &got, &err);
 *         rawtcp_close(&c, 100);
 *     }
 *
 * Threads: a `struct rawtcp` is used by one thread at a time. The socket is
 * non-blocking; waits use poll(2). SIGPIPE is never raised (MSG_NOSIGNAL).
 */
#ifndef ASSAY_DRIVERS_RAWTCP_H
#define ASSAY_DRIVERS_RAWTCP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/scope.h"
#include "core/transcript.h"

#define RAWTCP_PEER_MAX 64 /* "[ipv6]:port" fits */

/* The transport outcome of the last call, for callers that report it as data. */
enum rawtcp_status {
    RAWTCP_OK = 0,     /* the call did what was asked */
    RAWTCP_TIMEOUT,    /* the deadline passed first (connect, send or recv) */
    RAWTCP_CLOSED,     /* the peer closed its side cleanly (FIN) */
    RAWTCP_RESET,      /* the peer reset the connection, or another socket error */
    RAWTCP_REFUSED,    /* connect: the port is closed (RST to SYN) */
    RAWTCP_UNREACHABLE /* connect: no route, host down */
};

struct rawtcp {
    int fd;                              /* -1 when not open; owned */
    char peer[RAWTCP_PEER_MAX];          /* "127.0.0.2:502" for transcripts and messages */
    const char *protocol;                /* transcript protocol name; not owned, static */
    const struct transcript_sink *sink;  /* may be NULL; not owned */
    enum rawtcp_status status;           /* outcome of the last call */
    int sys_errno;                       /* errno behind the last failure, 0 if none */
    uint64_t bytes_sent, bytes_received; /* totals since open */
};

/* Prepares c (not open). `sink` may be NULL; `protocol` must outlive c. */
/* Fills a sockaddr (IPv4 or IPv6, for any socket type) from an address literal;
 * returns its length, or 0 when host is not a numeric address. */
socklen_t rawtcp_make_addr(const char *host, uint16_t port, struct sockaddr_storage *ss);

void rawtcp_init(struct rawtcp *c, const struct transcript_sink *sink, const char *protocol);

/*
 * Connects to host:port before `deadline`. Checks scope_allows() before any
 * socket is created. Returns 0, or ASSAY_ESCOPE (not in scope, or not an
 * address literal), ASSAY_EINVAL (port 0, already open), ASSAY_ETIMEOUT, or
 * ASSAY_ENET (refused, unreachable; c->status says which). Blocks at most
 * until `deadline`.
 */
int rawtcp_open(struct rawtcp *c, const struct scope *scope, const char *host, uint16_t port,
                assay_ms deadline, struct assay_error *err);

/*
 * Sends all `len` bytes before `deadline` and records them in the transcript.
 * Returns 0, ASSAY_ETIMEOUT (part may have been sent; see c->bytes_sent),
 * ASSAY_ENET (reset or closed), or ASSAY_EINVAL (not open).
 */
int rawtcp_send(struct rawtcp *c, const uint8_t *buf, size_t len, assay_ms deadline,
                struct assay_error *err);

/*
 * Waits until at least one byte is available, then reads what is there, at
 * most `cap` bytes, into buf. *got is the count read (0 on failure).
 * Returns 0 with *got > 0; otherwise ASSAY_ETIMEOUT (silence until the
 * deadline), or ASSAY_ENET with c->status RAWTCP_CLOSED (orderly close, *got 0)
 * or RAWTCP_RESET. Received bytes go to the transcript.
 */
int rawtcp_recv(struct rawtcp *c, uint8_t *buf, size_t cap, assay_ms deadline, size_t *got,
                struct assay_error *err);

/*
 * Reads exactly `n` bytes into buf before `deadline`. On failure *got holds
 * how many arrived (they are in buf). Return values as rawtcp_recv.
 */
int rawtcp_recv_exact(struct rawtcp *c, uint8_t *buf, size_t n, assay_ms deadline, size_t *got,
                      struct assay_error *err);

/*
 * Waits up to `timeout_ms` for anything to arrive, without reading it.
 * Returns 1 if data (or a close) is pending, 0 on silence, negative on error.
 */
int rawtcp_wait_readable(struct rawtcp *c, int timeout_ms);

/*
 * Closes cleanly: shuts down the sending side (FIN), reads and discards what
 * the peer still sends for up to `drain_ms` (so unread data does not turn the
 * close into a reset), then closes the socket. Safe on a closed c. Blocks at
 * most `drain_ms`.
 */
void rawtcp_close(struct rawtcp *c, int drain_ms);

/* "ok", "timeout", "closed", "reset", "refused", "unreachable". */
const char *rawtcp_status_name(enum rawtcp_status s);

#endif
