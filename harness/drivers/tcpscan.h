/*
 * tcpscan.h: the attack-surface scan (EN 303 645 provision 5.6-1).
 *
 * A TCP connect scan of one address: one port at a time, each connection
 * closed at once (FIN, no drain), a deadline per port and a pause between
 * ports so a small device never sees more than one connection from the
 * harness. A CoAP UDP probe completes it: an empty Confirmable message (a
 * "CoAP ping", RFC 7252 section 4.3) that any CoAP endpoint answers with a
 * Reset, and that a closed UDP port answers with ICMP port unreachable.
 *
 * Scope: every address is checked with scope_allows() before a socket is
 * created; host names are never resolved. Evidence: every connect, refusal,
 * timeout and datagram is written to the transcript sink (may be NULL).
 *
 * Blocking: tcpscan_tcp() blocks at most until opts->deadline (ports not
 * reached by then are reported TCPSCAN_SKIPPED); tcpscan_udp_coap() at most
 * timeout_ms. Neither allocates memory; the caller owns every buffer.
 */
#ifndef ASSAY_DRIVERS_TCPSCAN_H
#define ASSAY_DRIVERS_TCPSCAN_H

#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/scope.h"
#include "core/transcript.h"

#define TCPSCAN_MAX_PORTS 1024

enum tcpscan_state {
    TCPSCAN_OPEN = 0,    /* TCP: the handshake completed; UDP: the port answered */
    TCPSCAN_CLOSED,      /* TCP: RST to the SYN; UDP: ICMP port unreachable */
    TCPSCAN_FILTERED,    /* no answer before the port's deadline (UDP: open or filtered) */
    TCPSCAN_UNREACHABLE, /* no route to the host */
    TCPSCAN_SKIPPED      /* the scan's overall deadline passed before this port */
};

struct tcpscan_opts {
    int connect_timeout_ms; /* per port, 1..600000 */
    int pause_ms;           /* between two ports, 0..60000 */
    assay_ms deadline;      /* for the whole scan (monotonic) */
};

struct tcpscan_result {
    uint16_t port;
    enum tcpscan_state state;
    int elapsed_ms; /* time the port took */
};

/*
 * Scans `n` TCP ports of `host` in the given order, filling out[0..n-1].
 * Returns 0 (every port has a state, SKIPPED included), ASSAY_ESCOPE (host
 * not in scope or not an address literal: nothing was sent), or ASSAY_EINVAL
 * (n over TCPSCAN_MAX_PORTS, a port 0, bad options).
 */
int tcpscan_tcp(const struct scope *scope, const struct transcript_sink *sink, const char *host,
                const uint16_t *ports, size_t n, const struct tcpscan_opts *opts,
                struct tcpscan_result *out, struct assay_error *err);

/*
 * Sends one CoAP ping to host:port over UDP and waits up to timeout_ms for
 * an answer. Fills *out (OPEN: any datagram came back, with *reply_type set to
 * the CoAP type bits of its first byte, or -1 if it was not CoAP; CLOSED:
 * ICMP port unreachable; FILTERED: silence). Returns 0, ASSAY_ESCOPE,
 * ASSAY_EINVAL or ASSAY_ENET (the socket could not be created).
 */
int tcpscan_udp_coap(const struct scope *scope, const struct transcript_sink *sink,
                     const char *host, uint16_t port, int timeout_ms, struct tcpscan_result *out,
                     int *reply_type, struct assay_error *err);

/* "open", "closed", "filtered", "unreachable", "skipped". */
const char *tcpscan_state_name(enum tcpscan_state s);

#endif
