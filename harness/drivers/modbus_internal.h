/*
 * modbus_internal.h: what the Modbus driver's files share (modbus.c, the
 * framed and raw paths in modbus_frame.c). Not for use outside drivers/.
 */
#ifndef ASSAY_DRIVERS_MODBUS_INTERNAL_H
#define ASSAY_DRIVERS_MODBUS_INTERNAL_H

#include <modbus.h> /* libmodbus */

#include "drivers/modbus.h"
#include "drivers/rawtcp.h"

#define MBI_HOST_MAX 64

struct modbus_conn {
    modbus_t *ctx;     /* libmodbus context using tcp.fd; owned */
    struct rawtcp tcp; /* the one socket; owned */
    char host[MBI_HOST_MAX];
    uint16_t port;
    uint8_t unit_id;
    struct modbus_options opts; /* with defaults applied */
    struct modbus_frame_guard guard;
    uint16_t next_tid;     /* for frames the driver builds itself */
    assay_ms last_request; /* when the last request finished, 0 if none */
    bool counted;          /* holds a slot in the connection table */
};

/* Waits out the pause since the last request and discards stale bytes that
 * arrived since (recorded in the transcript). Returns 0; ASSAY_EINVAL when
 * the connection is closed or, unless `raw`, part-way through a raw frame;
 * ASSAY_ENET when the device closed or reset it meanwhile (it is then closed). */
int mbi_begin_request(struct modbus_conn *c, bool raw, struct assay_error *err);

/* Closes the socket at once (the device closed it, or the stream is lost) and
 * gives back the connection slot; c stays valid until modbus_conn_close(). */
void mbi_drop(struct modbus_conn *c);

/* Marks the end of a request for the pause. */
void mbi_end_request(struct modbus_conn *c);

/* Maps the rawtcp status after a failed call to an outcome and a reason,
 * closing the socket for CLOSED and RESET. */
void mbi_transport_outcome(struct modbus_conn *c, struct modbus_result *r, const char *what);

/* Reads one frame by its MBAP length (cap MODBUS_FRAME_MAX) into buf. Sets
 * r->outcome to OK, TIMEOUT, CLOSED, RESET or MALFORMED (length field out of
 * range; the connection is then closed since the stream is lost); *len gets
 * the bytes read. */
void mbi_read_frame(struct modbus_conn *c, uint8_t *buf, size_t *len, assay_ms deadline,
                    struct modbus_result *r);

/* The header checks common to the parsers: returns the PDU offset (7) or a
 * negative assay_rc with err set. `fc` is the expected function code; an
 * exception reply (fc | 0x80) with one code byte sets *exception. */
int mbi_check_header(const uint8_t *buf, size_t len, uint16_t tid, uint8_t unit, uint8_t fc,
                     int *exception, struct assay_error *err);

#endif
