/*
 * mqtt_session.h: what the two files of the raw engine (MQTT 3.1.1 and 5) share (mqtt_session.c:
 * the connection, open, close and publish; mqtt_collect.c: subscribe and
 * collect) and nothing else needs. The engine's API is in mqtt_internal.h.
 *
 * Every packet is read by the bounded parser (mqtt_raw.h) into the session's
 * fixed receive buffer rx; nothing is allocated from a length the broker
 * declares. One thread at a time.
 */
#ifndef ASSAY_DRIVERS_MQTT_SESSION_H
#define ASSAY_DRIVERS_MQTT_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtt_conn.h"
#include "mqtt_internal.h"
#include "mqtt_raw.h"

#define MQTTRS_RX_CAP (65536u + 16u) /* the largest packet read whole (a 65535-byte topic fits) */

struct mqttrs {
    struct mqttconn conn;
    const struct transcript_sink *sink;
    char peer[MQTTDRV_PEER_MAX];
    int timeout_ms;
    int keepalive_ms;
    assay_ms last_send;
    bool connected;
    int version;        /* 4 (MQTT 3.1.1) or 5 */
    int64_t max_packet; /* MQTT 5: the broker's Maximum Packet Size; -1: none */
    uint16_t next_pid;
    size_t nrx;
    uint8_t rx[MQTTRS_RX_CAP];
};

/* How a read ended. */
enum mqttrs_rd {
    MQTTRS_RD_OK = 0, /* a whole packet is at rx */
    MQTTRS_RD_TIMEOUT,
    MQTTRS_RD_CLOSED, /* the peer closed or reset (conn.tcp.status says which) */
    MQTTRS_RD_BAD,    /* bytes that are not MQTT */
    MQTTRS_RD_BIG     /* a packet declaring more than MQTTRS_RX_CAP (its header is in pkt) */
};

/* A transcript note (event, printf-formatted line) under protocol "mqtt". */
void mqttrs_note(const struct mqttrs *s, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Sends n bytes before the deadline; 0, ASSAY_ETIMEOUT or ASSAY_ENET (the session is lost). */
int mqttrs_send_bytes(struct mqttrs *s, const uint8_t *b, size_t n, assay_ms deadline);

/* Sends f and frees it; as mqttrs_send_bytes. */
int mqttrs_send_frame(struct mqttrs *s, struct mqttraw_frame *f, assay_ms deadline);

/* PUBACK, PUBREC, PUBREL or PUBCOMP for pid; a failure shows in s->connected. */
void mqttrs_send_ack(struct mqttrs *s, enum mqttraw_type type, int pid, assay_ms deadline);

/* Reads more into rx: MQTTRS_RD_OK, _TIMEOUT, _CLOSED, or _BAD when rx is full. */
enum mqttrs_rd mqttrs_fill(struct mqttrs *s, assay_ms deadline);

/* The next packet into pkt: MQTTRS_RD_OK with the whole packet at rx, MQTTRS_RD_BIG,
 * or why there is none. */
enum mqttrs_rd mqttrs_next_packet(struct mqttrs *s, assay_ms deadline, struct mqttraw_packet *pkt);

/* Drops the first n bytes of rx. */
void mqttrs_consume(struct mqttrs *s, size_t n);

/* Ends the session after a protocol violation or a loss; says why in c (may be NULL):
 * stop MQTTDRV_STOP_LOST and the detail. */
void mqttrs_lose(struct mqttrs *s, struct mqttdrv_collect *c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Why a read ended without a packet, in words, into out (cap bytes). */
void mqttrs_describe_end(const struct mqttrs *s, enum mqttrs_rd r, const struct mqttraw_packet *pkt,
                         char *out, size_t cap);

/* The next packet identifier (never 0). */
uint16_t mqttrs_take_pid(struct mqttrs *s);

/* The MQTT 5 properties worth a transcript line, in words ("" when none), escaped. */
void mqttrs_describe_props(const struct mqttraw_props *pr, char *out, size_t cap);

/* Acknowledges an incoming PUBLISH: PUBACK for QoS 1, PUBREC for QoS 2, nothing for 0. */
void mqttrs_ack_publish(struct mqttrs *s, const struct mqttraw_pubhdr *h, assay_ms deadline);

#endif
