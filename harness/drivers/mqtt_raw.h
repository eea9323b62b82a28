/*
 * mqtt_raw.h: MQTT 3.1.1 and 5 frames built by hand, a bounded parser for
 * replies (MQTT 5 properties included), and the raw TCP path for what paho cannot send (malformed
 * frames) plus a CONNECT + PINGREQ liveness check.
 *
 * The frame builders, the parser (mqtt_frame.c) and the MQTT 5 property
 * reader (mqtt_props.c) are pure: no I/O, no global state; they read only
 * within (buf, len) and are meant to be fuzzed. The raw operations (mqtt_raw.c) use
 * drivers/rawtcp.h: the scope is checked before a socket exists, the whole exchange has one
 * deadline (target->timeout_ms), every reply read is capped at MQTTRAW_REPLY_MAX bytes, and the
 * exact bytes sent and received go to the transcript sink under protocol "mqtt". Plain TCP only:
 * the raw path does not speak TLS.
 */
#ifndef ASSAY_DRIVERS_MQTT_RAW_H
#define ASSAY_DRIVERS_MQTT_RAW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/mqtt.h"

#define MQTTRAW_MAX_REMAINING 268435455u /* the largest remaining length a varint holds */
#define MQTTRAW_REPLY_MAX 4096           /* bytes kept from a reply */
#define MQTTRAW_FIRST_MAX 32             /* first bytes of a reply packet kept in the parse */
#define MQTTRAW_MAX_SUBACK 16            /* = MQTTDRV_MAX_FILTERS */
#define MQTTRAW_DEFAULT_OVERSIZE (1u << 20)
#define MQTTRAW_MAX_OVERSIZE (16u << 20)

/* MQTT control packet types (the high nibble of the first byte). */
enum mqttraw_type {
    MQTTRAW_CONNECT = 1,
    MQTTRAW_CONNACK = 2,
    MQTTRAW_PUBLISH = 3,
    MQTTRAW_PUBACK = 4,
    MQTTRAW_PUBREC = 5,
    MQTTRAW_PUBREL = 6,
    MQTTRAW_PUBCOMP = 7,
    MQTTRAW_SUBSCRIBE = 8,
    MQTTRAW_SUBACK = 9,
    MQTTRAW_PINGREQ = 12,
    MQTTRAW_PINGRESP = 13,
    MQTTRAW_DISCONNECT = 14,
    MQTTRAW_AUTH = 15 /* MQTT 5 */
};

/* A frame on the heap. Release with mqttraw_frame_free(). */
struct mqttraw_frame {
    uint8_t *bytes;
    size_t len;
};

void mqttraw_frame_free(struct mqttraw_frame *f);

/* Writes the remaining-length varint of v into out; returns 1..4, or 0 if v >
 * MQTTRAW_MAX_REMAINING. */
size_t mqttraw_varint(uint32_t v, uint8_t out[4]);

/*
 * The builders take the protocol version: 4 (MQTT 3.1.1) or 5. In MQTT 5 the
 * packets carry a property length (0: no properties, except where said).
 */

/* CONNECT (clean session / clean start). username/password may be NULL. In MQTT 5
 * a Session Expiry Interval property when session_expiry_s > 0 (none: the session
 * ends with the connection); session_expiry_s must be 0 for version 4.
 * Returns 0, ASSAY_EINVAL (a field over 65535 bytes, a bad version) or ASSAY_ENOMEM. */
int mqttraw_connect_frame(struct mqttraw_frame *f, int version, const char *client_id,
                          const char *username, const char *password, uint16_t keepalive_s,
                          uint32_t session_expiry_s);

/* PUBLISH with any topic bytes (no validation: that is the point). packet_id is
 * used when qos > 0. Returns 0, ASSAY_EINVAL or ASSAY_ENOMEM. */
int mqttraw_publish_frame(struct mqttraw_frame *f, int version, const uint8_t *topic,
                          size_t topic_len, const uint8_t *payload, size_t len, int qos,
                          bool retain, uint16_t packet_id);

/* SUBSCRIBE with n (1..MQTTRAW_MAX_SUBACK) filters at the same qos, in one packet
 * (MQTT 5: subscription options = the qos, nothing else). Returns 0, ASSAY_EINVAL
 * or ASSAY_ENOMEM. */
int mqttraw_subscribe_many_frame(struct mqttraw_frame *f, int version, uint16_t packet_id,
                                 const char *const *filters, size_t n, int qos);

/* PUBACK, PUBREC, PUBREL (flags 2) or PUBCOMP for packet_id: 4 bytes into out (in
 * MQTT 5 too: a remaining length of 2 means reason code 0, success). */
void mqttraw_ack_frame(uint8_t out[4], enum mqttraw_type type, uint16_t packet_id);

/* PINGREQ (C0 00). Returns 0 or ASSAY_ENOMEM. */
int mqttraw_pingreq_frame(struct mqttraw_frame *f);

/* DISCONNECT: E0 00 in MQTT 3.1.1; in MQTT 5 E0 01 and the reason code (0: normal
 * disconnection). Returns 0, ASSAY_EINVAL or ASSAY_ENOMEM. */
int mqttraw_disconnect_frame(struct mqttraw_frame *f, int version, uint8_t reason);

/* ---- MQTT 5 properties (mqtt_props.c) ---- */

#define MQTTRAW_PROP_STR_MAX 96 /* bytes kept of a string property */

/* Reads a variable byte integer at p (at most n bytes there). Returns 1 with *v and
 * *used (1..4), 0 when n ends before it does, -1 when it runs past 4 bytes. */
int mqttraw_varint_read(const uint8_t *p, size_t n, uint32_t *v, size_t *used);

/* A string property as received: any bytes, the first MQTTRAW_PROP_STR_MAX kept. */
struct mqttraw_propstr {
    bool present;
    uint8_t bytes[MQTTRAW_PROP_STR_MAX];
    size_t len;      /* bytes kept */
    size_t full_len; /* bytes it had */
};

/* The properties of one packet. Integers are -1 when absent. */
struct mqttraw_props {
    bool present;            /* a property length was there */
    bool malformed;          /* the property data is not valid MQTT 5: `why` says how */
    char why[80];            /* "unknown property 0x7f", "property 0x1f cut short", ... */
    uint32_t length;         /* the declared property length */
    size_t count;            /* properties read */
    int64_t session_expiry;  /* 0x11 */
    int64_t max_packet_size; /* 0x27 */
    int receive_max;         /* 0x21 */
    int topic_alias_max;     /* 0x22 */
    int topic_alias;         /* 0x23 */
    int server_keepalive;    /* 0x13 */
    int max_qos;             /* 0x24 */
    int retain_available;    /* 0x25 */
    int wildcard_available;  /* 0x28 */
    int subid_available;     /* 0x29 */
    int shared_available;    /* 0x2A */
    size_t user_properties;  /* 0x26, counted */
    struct mqttraw_propstr assigned_client_id; /* 0x12 */
    struct mqttraw_propstr reason_string;      /* 0x1F */
    struct mqttraw_propstr server_reference;   /* 0x1C */
};

/* Empty properties: nothing present, every integer -1. */
void mqttraw_props_init(struct mqttraw_props *pr);

/*
 * Reads a property length and the properties it covers from p (n bytes
 * there). Every property defined by MQTT 5 is read (the known ones recorded in
 * pr, the others skipped); an unknown identifier, a value or length running
 * past the declared length or past n, a property that may appear once
 * appearing twice, or a property length of more than 4 bytes is malformed.
 * Never reads beyond p[n]. Returns 0 with *used (the length's bytes and the
 * properties') or -1 with pr->malformed and pr->why.
 */
int mqttraw_props_read(const uint8_t *p, size_t n, struct mqttraw_props *pr, size_t *used);

/* The malformed frames the raw path knows, sent after an accepted CONNECT. */
enum mqttraw_kind {
    MQTTRAW_BAD_LENGTH = 0, /* PUBLISH whose remaining length has 5 continuation bytes */
    MQTTRAW_BAD_UTF8_TOPIC, /* PUBLISH to a topic holding C0 AF (overlong) and FF */
    MQTTRAW_WILDCARD_PLUS,  /* PUBLISH to "assay/+/probe" */
    MQTTRAW_WILDCARD_HASH,  /* PUBLISH to "assay/#" */
    MQTTRAW_OVERSIZE,       /* a well-formed PUBLISH with a large payload (size chosen) */
    MQTTRAW_PING,           /* a PINGREQ: the well-formed control */
    MQTTRAW_NKINDS
};

/* "bad-length", "bad-utf8-topic", "wildcard-plus", "wildcard-hash", "oversize", "ping". */
const char *mqttraw_kind_name(enum mqttraw_kind k);

/* The kind for a name, or -1. */
int mqttraw_kind_from_name(const char *name);

/* Builds the frame for a kind; `oversize` is the payload size for
 * MQTTRAW_OVERSIZE (0: MQTTRAW_DEFAULT_OVERSIZE, at most MQTTRAW_MAX_OVERSIZE).
 * Returns 0, ASSAY_EINVAL or ASSAY_ENOMEM. */
int mqttraw_kind_frame(struct mqttraw_frame *f, enum mqttraw_kind k, size_t oversize);

/* ---- the reply parser ---- */

enum mqttraw_parse_status {
    MQTTRAW_PARSE_OK = 0, /* a whole packet is in the buffer */
    MQTTRAW_PARSE_SHORT,  /* the buffer ends before the packet does: read more */
    MQTTRAW_PARSE_BAD     /* not MQTT: remaining length over 4 bytes, or type 0 */
};

struct mqttraw_packet {
    int type;                         /* 1..15 (0 when the first byte is missing) */
    int flags;                        /* the low nibble */
    uint32_t remaining;               /* the declared remaining length */
    size_t header_len;                /* 1 + varint bytes */
    size_t total_len;                 /* header_len + remaining */
    uint8_t first[MQTTRAW_FIRST_MAX]; /* the first bytes of the packet as received */
    size_t nfirst;
    int version; /* 4 or 5: how the body was read */
    /* Decoded when the status is MQTTRAW_PARSE_OK and the body is long enough: */
    int connack_code;                     /* CONNACK: return code (MQTT 5: reason code); else -1 */
    bool session_present;                 /* CONNACK */
    int packet_id;                        /* SUBACK, PUBACK, ...: the packet identifier; else -1 */
    int suback_codes[MQTTRAW_MAX_SUBACK]; /* SUBACK: return / reason codes (first 16) */
    size_t nsuback;
    /* MQTT 5 only: the reason code of a PUBACK, PUBREC, PUBREL, PUBCOMP, DISCONNECT or
     * AUTH (0 when the packet omits it), else -1; and the properties of a CONNACK,
     * SUBACK, UNSUBACK, those acks, DISCONNECT or AUTH. With props.malformed, a SUBACK's
     * codes cannot be located (nsuback 0). */
    int reason_code;
    struct mqttraw_props props;
};

/* Parses the packet at the start of buf as MQTT 3.1.1. Never reads beyond len (len
 * may be 0). Returns an mqttraw_parse_status; `out` is always initialised. */
int mqttraw_parse(const uint8_t *buf, size_t len, struct mqttraw_packet *out);

/* The same for a protocol version (4 or 5; anything else reads as 4). */
int mqttraw_parse_version(const uint8_t *buf, size_t len, int version, struct mqttraw_packet *out);

/* The variable header of an incoming PUBLISH. Offsets count from the packet's first byte. */
struct mqttraw_pubhdr {
    int qos;            /* 0..2 */
    bool retained, dup; /* from the fixed header's flags */
    int pid;            /* the packet identifier; -1 for QoS 0 */
    size_t topic_off;   /* the topic's bytes (not checked for UTF-8: any bytes) */
    size_t topic_len;
    size_t props_len; /* MQTT 5: the property length's bytes and the properties; else 0 */
    size_t payload_off;
    size_t payload_len; /* as the remaining length declares it (may exceed what was read) */
};

/*
 * Decodes the variable header of the PUBLISH whose fixed header mqttraw_parse
 * put in pkt, from the first `have` bytes of buf (the packet itself may be
 * longer: a large PUBLISH is decoded before its payload is read). Never reads
 * at or beyond buf[have]. In MQTT 5 (pkt->version) the properties must be in
 * the first `have` bytes too, and are checked (mqttraw_props_read). Returns 1
 * when h is filled, 0 when more bytes are needed, -1 when the packet is
 * malformed (QoS 3, a topic, packet identifier or properties that do not fit
 * the remaining length, malformed properties).
 */
int mqttraw_publish_header(const uint8_t *buf, size_t have, const struct mqttraw_packet *pkt,
                           struct mqttraw_pubhdr *h);

/* "CONNACK", "PINGRESP", ..., "reserved". */
const char *mqttraw_type_name(int type);

/* ---- raw operations (I/O) ---- */

struct mqttraw_preface {
    bool connect;            /* send CONNECT and wait for CONNACK first */
    const char *client_id;   /* NULL: "assay-raw-<pid>" */
    const char *username;    /* may be NULL */
    const char *password;    /* may be NULL */
    struct mqttdrv_tls tls;  /* zero: plain TCP */
    const char *keylog_path; /* TLS key log (NULL: none) */
};

enum mqttraw_outcome {
    MQTTRAW_REPLY = 0,    /* a reply packet arrived (reply, reply_bytes) */
    MQTTRAW_CLOSED,       /* the peer closed the connection (FIN) without a reply */
    MQTTRAW_RESET,        /* the peer reset the connection */
    MQTTRAW_SILENT,       /* nothing before the deadline */
    MQTTRAW_UNREACHABLE,  /* TCP connect failed (refused, unreachable, timed out) */
    MQTTRAW_NOT_ACCEPTED, /* the preface CONNECT got no CONNACK 0: the frame was not sent */
    MQTTRAW_TLS_FAILED    /* TCP connected but the TLS handshake failed (detail) */
};

struct mqttraw_result {
    enum mqttraw_outcome outcome;
    int connack_code;  /* the preface's CONNACK code, -1 when none */
    bool sent;         /* the frame was written completely */
    size_t bytes_sent; /* of the frame */
    struct mqttraw_packet reply;
    bool reply_malformed; /* the bytes did not parse as MQTT */
    uint8_t reply_bytes[MQTTRAW_REPLY_MAX];
    size_t nreply;
    int64_t elapsed_ms; /* whole exchange */
    int64_t reply_ms;   /* from the end of the send to the reply, close or reset; -1 on silence */
    char detail[160];   /* unreachable or TLS failure: why */
};

/* "reply", "closed", "reset", "silent", "unreachable", "not accepted", "tls failed". */
const char *mqttraw_outcome_name(enum mqttraw_outcome o);

/*
 * Connects over TCP, optionally does the CONNECT preface, sends `len` bytes
 * exactly and reads the first reply packet (or close, reset, silence). Then
 * closes. Returns 0 with `r` filled (device behaviour is data), ASSAY_ESCOPE,
 * ASSAY_EINVAL or ASSAY_ENOMEM. Blocks until target->timeout_ms at most.
 */
int mqttraw_exchange(const struct mqttdrv_target *t, const struct mqttraw_preface *p,
                     const uint8_t *bytes, size_t len, struct mqttraw_result *r,
                     struct assay_error *err);

/* Builds the frame for `kind` and calls mqttraw_exchange with a CONNECT preface. */
int mqttraw_send_kind(const struct mqttdrv_target *t, const struct mqttraw_preface *p,
                      enum mqttraw_kind kind, size_t oversize, struct mqttraw_result *r,
                      struct assay_error *err);

struct mqttraw_alive {
    bool alive;                   /* the device answered at MQTT level (any CONNACK, or PINGRESP) */
    int connack_code;             /* -1 when none */
    bool pingresp;                /* PINGRESP arrived after an accepted CONNECT */
    int64_t rtt_ms;               /* PINGREQ to PINGRESP, or CONNECT to CONNACK when refused; -1 */
    enum mqttraw_outcome outcome; /* of the last step */
    char detail[160];             /* unreachable or TLS failure: why */
};

/* CONNECT, then PINGREQ expecting PINGRESP, within target->timeout_ms.
 * Returns 0 with `a` filled, ASSAY_ESCOPE, ASSAY_EINVAL or ASSAY_ENOMEM. */
int mqttraw_alive(const struct mqttdrv_target *t, const struct mqttraw_preface *p,
                  struct mqttraw_alive *a, struct assay_error *err);

#endif
