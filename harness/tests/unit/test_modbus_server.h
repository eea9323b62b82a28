/*
 * test_modbus_server.h: a small Modbus/TCP server for unit tests, run in a
 * thread on 127.0.0.1 with a port the kernel picks.
 *
 * It answers the standard function codes through libmodbus's modbus_reply()
 * from a fixed map, answers FC 0x2B / 0x0E itself (paging two objects per
 * reply with `more follows`), and can misbehave on demand: stay silent, send
 * garbage, close the connection, or send malformed identification replies.
 * It reads requests by MBAP length, drops a partial frame after 300 ms, and
 * serves one client at a time, like a small gateway. It counts every FC 08
 * frame it receives, so tests can prove the driver never sends one.
 *
 * Map: coils and discrete inputs 0..99 (coil i = i % 2), holding registers
 * 0..31 (value i * 10 + 1), input registers 0..15 (value 1000 + i); anything
 * else gives exception 2.
 */
#ifndef ASSAY_TEST_MODBUS_SERVER_H
#define ASSAY_TEST_MODBUS_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

enum tms_mode {
    TMS_NORMAL = 0,
    TMS_SILENT,        /* read requests, never answer */
    TMS_GARBAGE,       /* answer every request with bytes that are not a Modbus frame */
    TMS_CLOSE,         /* close the connection on the next request */
    TMS_IDENT_BAD_TID, /* identification replies carry the wrong transaction id */
    TMS_IDENT_LOOP,    /* `more follows` with a next object id that does not advance */
    TMS_IDENT_OVERRUN, /* an object length that runs past the frame */
    TMS_DELAY          /* answer after `delay_ms` */
};

struct tms {
    pthread_t thread;
    int listen_fd;
    int stop_pipe[2];
    uint16_t port;
    _Atomic int mode;
    _Atomic int delay_ms;
    _Atomic int requests;    /* complete frames received */
    _Atomic int connections; /* accepted */
    _Atomic int fc08_seen;   /* frames with function code 0x08: must stay 0 */
    _Atomic int partial_dropped;
    pthread_mutex_t lock; /* guards last[] */
    uint8_t last[260];    /* the last complete request */
    size_t last_len;
};

/* Binds 127.0.0.1 port 0 and starts the thread. Returns 0 or -1. */
int tms_start(struct tms *s);

/* Stops the thread (through a pipe, no waiting on timers) and frees everything. */
void tms_stop(struct tms *s);

/* Copies the last complete request into buf (cap bytes); returns its length. */
size_t tms_last_request(struct tms *s, uint8_t *buf, size_t cap);

#endif
