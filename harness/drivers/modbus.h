/*
 * modbus.h: the Modbus/TCP driver (libmodbus 3.1.6 plus a raw frame path).
 *
 * Modbus/TCP has no authentication, so a probe asks what the network may read
 * and change, what the device discloses, and whether it survives bad frames.
 * Bench safety comes first: gateways accept few connections, so a process
 * holds at most `max_connections` (default 1) connections to one host:port,
 * closes them cleanly, and pauses `pause_ms` between requests. Function code
 * 08 (diagnostics; sub-function 04 forces listen-only mode) is never sent:
 * every byte the driver writes on its own passes one check,
 * modbus_frame_guard_check(), which refuses it.
 *
 * One connection, one socket: the driver connects itself (scope checked,
 * deadline honoured) and hands the socket to libmodbus for the standard
 * function codes (01-06, 15, 16). FC 0x2B/0x0E, FC 0x11 and raw frames are
 * written on the same socket by the driver, and replies are read by the MBAP
 * length with a cap, so the stream never gets out of step.
 *
 * Results are data: a call returns 0 when it has an outcome to report (values,
 * an exception code, silence, a close) and fills a result; it returns a
 * negative assay_rc only when the harness could not do what was asked (out of
 * scope, a bad argument, a refused function code, a connection limit).
 *
 * Evidence: every request, reply, exception and timeout is written to the
 * transcript sink (protocol "modbus"); raw frames with their exact bytes.
 *
 * Deadlines: connect, framed and raw requests end by timeout_ms. Requests
 * through libmodbus (reads, writes) get libmodbus's response timeout
 * (timeout_ms) for the first byte and its byte timeout for each later chunk,
 * so a device that trickles a reply byte by byte can stretch one request up
 * to timeout_ms + 260 * byte_timeout_ms; the worker's own deadline bounds that.
 *
 * Threads: a connection is used by one thread at a time. Opening and closing
 * take a process-wide lock for the connection count only.
 */
#ifndef ASSAY_DRIVERS_MODBUS_H
#define ASSAY_DRIVERS_MODBUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/scope.h"
#include "core/transcript.h"

/* The four data tables. */
enum modbus_table {
    MODBUS_TABLE_COILS = 0, /* read FC 01, write FC 05 / 15 */
    MODBUS_TABLE_DISCRETE,  /* discrete inputs, read FC 02 */
    MODBUS_TABLE_HOLDING,   /* holding registers, read FC 03, write FC 06 / 16 */
    MODBUS_TABLE_INPUT      /* input registers, read FC 04 */
};

/* What came back from the device. */
enum modbus_outcome {
    MODBUS_OUTCOME_OK = 0,    /* a normal reply; values hold the data */
    MODBUS_OUTCOME_EXCEPTION, /* an exception reply; `exception` holds its code */
    MODBUS_OUTCOME_TIMEOUT,   /* nothing (complete) before the deadline */
    MODBUS_OUTCOME_CLOSED,    /* the device closed the connection */
    MODBUS_OUTCOME_RESET,     /* the connection was reset or failed */
    MODBUS_OUTCOME_MALFORMED  /* a reply arrived but broke the protocol */
};

#define MODBUS_VALUES_MAX 2000 /* the largest read: 2000 coils */
#define MODBUS_FRAME_MAX 260   /* MBAP (7) + PDU (253) */

/* The outcome of one request. Plain data; copy freely. */
struct modbus_result {
    enum modbus_outcome outcome;
    int exception;                      /* 1..255 when outcome is EXCEPTION (1..0x0B are defined) */
    size_t count;                       /* number of values (reads) */
    uint16_t values[MODBUS_VALUES_MAX]; /* registers, or 0/1 per bit */
    int64_t elapsed_ms;                 /* request to reply (or to giving up) */
    char reason[128];                   /* for TIMEOUT/CLOSED/RESET/MALFORMED: what happened */
};

/* Where to connect. */
struct modbus_endpoint {
    const char *host; /* an address literal; must be in scope. Not owned. */
    uint16_t port;    /* 1..65535 */
    uint8_t unit_id;  /* 0..255; 1 is usual for Modbus/TCP */
};

/* How to behave. Zero values take the defaults shown. */
struct modbus_options {
    const struct scope *scope;          /* required */
    const struct transcript_sink *sink; /* may be NULL */
    int timeout_ms;                     /* deadline for one request and for connect; 3000 */
    int byte_timeout_ms; /* libmodbus: gap allowed between bytes of a reply; timeout_ms / 4,
                          * at least 50 (see the note on deadlines) */
    int pause_ms;        /* minimum gap between requests; 0 means none */
    int max_connections; /* open connections to one host:port; 1 */
};

struct modbus_conn; /* opaque; one TCP connection to one device */

/*
 * Opens a connection: checks the endpoint against opts->scope and the
 * connection limit before any socket is created, then connects within
 * opts->timeout_ms. On success *out is a new connection that the caller must
 * release with modbus_conn_close(). Returns 0; ASSAY_ESCOPE; ASSAY_EINVAL
 * (bad endpoint or options, or the connection limit reached: the message says
 * which); ASSAY_ETIMEOUT; ASSAY_ENET (refused, unreachable).
 */
int modbus_conn_open(struct modbus_conn **out, const struct modbus_endpoint *ep,
                     const struct modbus_options *opts, struct assay_error *err);

/* Closes cleanly (FIN, brief drain) and frees. NULL is fine. Blocks <= 100 ms. */
void modbus_conn_close(struct modbus_conn *c);

/* True while the socket is open. A CLOSED or RESET outcome, or a reply the
 * stream cannot be followed past, closes the socket and gives back the
 * connection slot at once; c itself stays valid until modbus_conn_close(). */
bool modbus_conn_is_open(const struct modbus_conn *c);

/* "127.0.0.2:502", valid while c lives. */
const char *modbus_conn_peer(const struct modbus_conn *c);

/* Number of connections this process holds open to host:port. */
int modbus_conn_count(const char *host, uint16_t port);

/*
 * Reads `count` items from `table` starting at `address` (FC 01/02/03/04).
 * count is 1..2000 for bits and 1..125 for registers, and address + count
 * must not pass 65536 (send out-of-range requests with modbus_conn_raw).
 * Returns 0 with r->outcome set; ASSAY_EINVAL for bad arguments or a
 * closed connection; ASSAY_ENET if the device closed the connection since the
 * last request (seen while discarding stale bytes; it is then closed).
 * Blocks at most timeout_ms (plus the pause; see the note on deadlines).
 */
int modbus_conn_read(struct modbus_conn *c, enum modbus_table table, uint16_t address, size_t count,
                     struct modbus_result *r, struct assay_error *err);

/*
 * Writes to coils or holding registers. count == 1 with `multiple` false uses
 * FC 05 / FC 06; otherwise FC 15 (1..1968 coils) / FC 16 (1..123 registers).
 * Coil values are 0 or non-zero. Returns as modbus_conn_read (no values).
 */
int modbus_conn_write(struct modbus_conn *c, enum modbus_table table, uint16_t address,
                      const uint16_t *values, size_t count, bool multiple, struct modbus_result *r,
                      struct assay_error *err);

/*
 * Liveness probe: reads one register (holding or input; coils and discrete
 * inputs also work) at `address`. A normal or an exception reply both mean
 * alive. Returns 0 and sets *alive; r (may be NULL) gets the details.
 */
int modbus_conn_alive(struct modbus_conn *c, enum modbus_table table, uint16_t address, bool *alive,
                      struct modbus_result *r, struct assay_error *err);

/* ---- Device identification (FC 0x2B / MEI 0x0E) ---- */

enum modbus_ident_level {
    MODBUS_IDENT_BASIC = 1,    /* objects 0x00-0x02 */
    MODBUS_IDENT_REGULAR = 2,  /* plus 0x03-0x7F */
    MODBUS_IDENT_EXTENDED = 3, /* plus 0x80-0xFF */
    MODBUS_IDENT_SPECIFIC = 4  /* one object */
};

#define MODBUS_IDENT_MAX_OBJECTS 128 /* objects kept over all pages */
#define MODBUS_IDENT_MAX_PAGES 32    /* requests followed while `more follows` */

struct modbus_ident_object {
    uint8_t id;
    uint8_t len;
    uint8_t value[255]; /* len bytes, not NUL-terminated: device bytes, untrusted */
};

/* The result of modbus_conn_identify(); large, so callers usually heap-allocate it. */
struct modbus_ident {
    struct modbus_result result; /* outcome, exception, elapsed; count unused */
    uint8_t conformity;          /* of the last page */
    size_t pages;                /* requests answered */
    size_t nobjects;
    bool truncated; /* the device had more than MODBUS_IDENT_MAX_OBJECTS or pages */
    struct modbus_ident_object objects[MODBUS_IDENT_MAX_OBJECTS];
};

/*
 * Reads device identification at `level`, following `more follows` with the
 * next object id (at most MODBUS_IDENT_MAX_PAGES requests; a next object id
 * that does not move forward is MALFORMED). Returns 0 with out->result set,
 * or ASSAY_EINVAL. Each request has its own timeout_ms deadline.
 */
int modbus_conn_identify(struct modbus_conn *c, enum modbus_ident_level level, uint8_t object_id,
                         struct modbus_ident *out, struct assay_error *err);

/* The value of object `id` in ident, or NULL; *len gets its length. */
const uint8_t *modbus_ident_find(const struct modbus_ident *ident, uint8_t id, size_t *len);

/* One page of an identification reply, as parsed from a frame. */
#define MODBUS_IDENT_PAGE_MAX 128 /* a 260-byte frame holds at most 124 objects */
struct modbus_ident_page {
    int exception; /* non-zero: an exception reply (0xAB) with this code; nothing else set */
    uint8_t read_code, conformity, more_follows, next_object_id;
    size_t nobjects;
    struct {
        uint8_t id, len;
        const uint8_t *value; /* points into the parsed buffer */
    } objects[MODBUS_IDENT_PAGE_MAX];
};

/*
 * Parses one complete Modbus/TCP frame (MBAP + PDU) that answers an FC 0x2B /
 * MEI 0x0E request with transaction id `tid` to unit `unit`. Bounded: reads
 * only buf[0..len). Rejects (ASSAY_EINVAL with the reason in err) a frame that
 * is shorter than its header, whose MBAP length disagrees with len, whose
 * protocol id is not 0, whose transaction id, unit or function code differ,
 * whose MEI type is not 0x0E, whose `more follows` is not 0x00 or 0xFF, whose
 * objects run past the frame or whose object count disagrees, or that has
 * bytes after the last object. Pointers in *page point into buf.
 */
int modbus_ident_parse(const uint8_t *buf, size_t len, uint16_t tid, uint8_t unit,
                       struct modbus_ident_page *page, struct assay_error *err);

/* ---- Report server id (FC 0x11) ---- */

struct modbus_server_id {
    struct modbus_result result; /* outcome, exception, elapsed */
    size_t len;                  /* byte count from the reply */
    uint8_t data[251];           /* server id, run indicator, additional data (device-specific) */
};

/* Sends FC 0x11 and reads the reply. Returns as modbus_conn_read. */
int modbus_conn_server_id(struct modbus_conn *c, struct modbus_server_id *out,
                          struct assay_error *err);

/*
 * Parses a complete FC 0x11 reply frame (bounded; same header checks as
 * modbus_ident_parse; the byte count must match the frame). An exception
 * reply (0x91) sets out->result.outcome to EXCEPTION. Returns 0 or ASSAY_EINVAL.
 */
int modbus_server_id_parse(const uint8_t *buf, size_t len, uint16_t tid, uint8_t unit,
                           struct modbus_server_id *out, struct assay_error *err);

/* ---- Raw frames ---- */

/* The reply to a raw frame. */
struct modbus_raw_reply {
    struct modbus_result result; /* OK (bytes arrived), TIMEOUT (silence), CLOSED, RESET */
    size_t len;
    uint8_t bytes[MODBUS_FRAME_MAX * 2]; /* what arrived, up to expect_max */
    bool complete;                       /* bytes hold one whole frame by its MBAP length */
};

/*
 * Sends `len` bytes exactly as given (they may be malformed: a wrong MBAP
 * length, an unknown function code, out-of-range quantities, a truncated
 * frame), after modbus_frame_guard_check() allows them, then collects the
 * reply: until one complete frame by its MBAP length, `expect_max` bytes
 * (1..sizeof bytes; 0 means the maximum), a close, or the deadline. Silence
 * is outcome TIMEOUT; a complete 9-byte reply with the high bit set in its
 * function code is EXCEPTION. Returns 0, or ASSAY_EINVAL (refused by the
 * guard: FC 08; bad arguments; connection closed). A raw frame may leave the
 * stream part-way through a frame: framed requests (reads, writes,
 * identification) on that connection are then refused until it is reopened.
 * The transcript gets the exact bytes both ways.
 */
int modbus_conn_raw(struct modbus_conn *c, const uint8_t *frame, size_t len, size_t expect_max,
                    struct modbus_raw_reply *out, struct assay_error *err);

/* ---- The function-code guard ---- */

/*
 * Tracks the request stream the driver writes on one connection, frame by
 * frame as a device would split it by MBAP length, so that a function code
 * byte can be checked wherever it falls, even across raw sends.
 */
struct modbus_frame_guard {
    size_t pos;     /* bytes of the current frame seen so far (0 = at a boundary) */
    size_t end;     /* frame length once the MBAP length is known, else 0 */
    uint8_t hdr[6]; /* MBAP bytes of the current frame */
};

/* The function code that is never sent. */
#define MODBUS_FC_FORBIDDEN 0x08

/*
 * The one check every byte the driver sends passes. Refuses (ASSAY_EINVAL)
 * if function code 0x08 would be at a function-code position, reading `buf`
 * both as the continuation of the stream `g` has seen and as the start of a
 * fresh frame (a device may have dropped a partial frame). On success
 * advances g over buf. g may be NULL (fresh-frame reading only).
 */
int modbus_frame_guard_check(struct modbus_frame_guard *g, const uint8_t *buf, size_t len,
                             struct assay_error *err);

/* True when g is at a frame boundary. */
bool modbus_frame_guard_idle(const struct modbus_frame_guard *g);

/* ---- Names ---- */

/* "coils", "discrete", "holding", "input"; parse accepts these and "discrete_inputs",
 * "holding_registers", "input_registers". Parse returns 0 or ASSAY_EINVAL. */
const char *modbus_table_name(enum modbus_table t);
int modbus_table_parse(const char *name, enum modbus_table *t);

/* "illegal function", "illegal data address", ... or "unknown exception". */
const char *modbus_exception_name(int code);

/* "ok", "exception", "timeout", "closed", "reset", "malformed". */
const char *modbus_outcome_name(enum modbus_outcome o);

#endif
