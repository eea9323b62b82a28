/*
 * mqtt.h: the MQTT driver: connect, subscribe-and-collect and publish, MQTT
 * 3.1.1 and 5, plain TCP or TLS.
 *
 * Two engines behind one API. MQTT 3.1.1 and MQTT 5 (plain TCP or TLS) go
 * through the raw path (mqtt_session.c and mqtt_collect.c over mqtt_conn.h):
 * frames built by hand, every packet read by the bounded parser (mqtt_raw.h,
 * MQTT 5 properties included) into a buffer of fixed size, nothing allocated
 * from a length the device declares, every handshake, read and write under a
 * deadline. Only a password holding NUL bytes and `paho = true` use
 * paho.mqtt.c's synchronous client WITHOUT callbacks, one client at a time,
 * on the caller's thread (TOOLCHAIN.md 4c): messages are pulled with
 * MQTTClient_receive and a timeout.
 *
 * Every operation checks the run's scope before any socket is opened
 * (ASSAY_ESCOPE otherwise, no traffic), has a deadline, and writes what it
 * did to the transcript sink under protocol "mqtt": connect attempts (client
 * id, username, "password: <n chars>", never the password), CONNACK codes,
 * subscriptions and SUBACK codes, every message received (topic, length,
 * retained flag, first bytes) and every publish; on the raw path also the
 * exact bytes (over TLS: the plaintext).
 *
 * A device's answer is data: a refused CONNECT, a failed SUBACK, a closed
 * connection, silence, or a device that sends more than a collection's
 * bounds come back in the result structs with return value 0. Negative
 * `enum assay_rc` values are the harness's own problems: bad arguments
 * (ASSAY_EINVAL), out of scope (ASSAY_ESCOPE), allocation (ASSAY_ENOMEM), a
 * paho call misused (ASSAY_EINTERNAL).
 *
 * Blocking on the paho engine: paho's connectTimeout is in whole seconds, so
 * a connect rounds the remaining deadline up and may overrun a deadline that
 * is not a whole number of seconds by less than 1 s (reported as a
 * timeout); paho 1.3.11 waits for a SUBACK for a fixed 10 s whatever the
 * deadline; and paho reads a packet of whatever length the device declares
 * and queues messages without a bound of its own, so only the raw engine is
 * bounded against a hostile broker. The raw engine stays within every
 * deadline.
 */
#ifndef ASSAY_DRIVERS_MQTT_H
#define ASSAY_DRIVERS_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/scope.h"
#include "core/transcript.h"

#define MQTTDRV_HOST_MAX 64
#define MQTTDRV_MAX_MESSAGES 10000      /* hard cap on one collection */
#define MQTTDRV_MAX_BYTES (16u << 20)   /* hard cap on the payload bytes of one collection */
#define MQTTDRV_MAX_PAYLOAD (16u << 20) /* largest publish */
#define MQTTDRV_MAX_FILTERS 16          /* filters in one SUBSCRIBE */

/* Where to talk. Pointers are borrowed for the duration of one call (for a
 * session: until it is closed). */
struct mqttdrv_target {
    const char *host;                   /* IPv4 or IPv6 literal; must be in scope */
    uint16_t port;                      /* TCP port (the TLS port when tls.enabled) */
    const struct scope *scope;          /* never NULL */
    const struct transcript_sink *sink; /* may be NULL */
    int timeout_ms;                     /* deadline of one operation, > 0 */
};

struct mqttdrv_tls {
    bool enabled;            /* ssl:// instead of tcp:// */
    const char *ca_file;     /* PEM trust anchors; NULL: none */
    bool verify;             /* verify the server chain against ca_file (and refuse on failure) */
    const char *keylog_path; /* raw path only: NSS key log appended to; NULL: none */
};

struct mqttdrv_connect_opts {
    int version;           /* 4 (MQTT 3.1.1; also when 0) or 5 */
    const char *client_id; /* NULL: "assay-<pid>-<n>" */
    const char *username;  /* NULL: anonymous */
    const char *password;  /* NULL: none; may hold any bytes (password_len) */
    size_t password_len;
    int keepalive_s;           /* 0: 60 (MQTT 5: a Server Keep Alive in the CONNACK overrides it) */
    uint32_t session_expiry_s; /* MQTT 5 on the raw engine: Session Expiry Interval; 0: none */
    struct mqttdrv_tls tls;
    bool paho; /* use paho even where the raw path serves (comparisons, tests) */
};

enum mqttdrv_outcome {
    MQTTDRV_ACCEPTED = 0, /* CONNACK 0 */
    MQTTDRV_REFUSED,      /* CONNACK with a refusal code (code holds it) */
    MQTTDRV_TRANSPORT,    /* no CONNACK: port closed, reset, TLS failure, peer closed */
    MQTTDRV_TIMEOUT       /* no CONNACK before the deadline */
};

struct mqttdrv_connack {
    enum mqttdrv_outcome outcome;
    int code;    /* CONNACK return code (3.1.1: 0..5; 5: 0 or a reason code >= 0x80); -1: none */
    int paho_rc; /* paho's own return value, for diagnosis */
    int64_t elapsed_ms; /* from the start of the attempt to its end */
    char detail[160];   /* the TLS error or paho's text for a transport failure, or "" */
};

/* "accepted", "refused", "transport", "timeout". */
const char *mqttdrv_outcome_name(enum mqttdrv_outcome o);

/* The meaning of a CONNACK code for a protocol version: "accepted", "not authorised",
 * "bad user name or password", ... ; "unknown" for codes the version does not define. */
const char *mqttdrv_connack_reason(int version, int code);

/* The meaning of any MQTT 5 reason code (CONNACK, SUBACK, PUBACK, DISCONNECT, ...): "not
 * authorised", "session taken over", ...; for version 4 as mqttdrv_connack_reason. */
const char *mqttdrv_reason_name(int version, int code);

/*
 * One CONNECT attempt, then DISCONNECT when accepted. Returns 0 with `ack`
 * filled whatever the device answered, ASSAY_ESCOPE (nothing sent),
 * ASSAY_EINVAL or ASSAY_ENOMEM. Blocks until the deadline (see above).
 */
int mqttdrv_connect(const struct mqttdrv_target *t, const struct mqttdrv_connect_opts *o,
                    struct mqttdrv_connack *ack, struct assay_error *err);

/* An open, accepted MQTT connection. Opaque; one thread at a time. */
struct mqttdrv_session;

/*
 * Connects and keeps the connection. Returns 0 with `ack` filled; *out is
 * the session when ack->outcome is MQTTDRV_ACCEPTED and NULL otherwise.
 * Negative values as mqttdrv_connect. The session copies host and options;
 * target->scope and target->sink must outlive it.
 */
int mqttdrv_session_open(const struct mqttdrv_target *t, const struct mqttdrv_connect_opts *o,
                         struct mqttdrv_session **out, struct mqttdrv_connack *ack,
                         struct assay_error *err);

/* Sends DISCONNECT (waiting at most 100 ms) and frees everything. NULL is fine. */
void mqttdrv_session_close(struct mqttdrv_session *s);

/* False once the connection was lost (peer closed, reset, timeout on a call). */
bool mqttdrv_session_connected(const struct mqttdrv_session *s);

/* Bounds on one collection. A zero field takes the default in brackets. */
struct mqttdrv_limits {
    size_t max_messages; /* [100], at most MQTTDRV_MAX_MESSAGES */
    size_t max_bytes;    /* payload bytes kept [1 MiB], at most MQTTDRV_MAX_BYTES */
    int ms;              /* how long to collect [the target's timeout] */
    int quiet_ms;        /* stop once nothing arrived for this long [0: never] */
};

struct mqttdrv_message {
    char *topic; /* NUL-terminated, may hold embedded NULs (topic_len); owned */
    size_t topic_len;
    uint8_t *payload; /* owned, NUL-terminated for convenience; NULL when empty */
    size_t len;       /* bytes kept */
    size_t full_len;  /* bytes the message had (len < full_len: cut at max_bytes) */
    int qos;
    bool retained;
    bool dup;
    int64_t after_ms; /* since the SUBSCRIBE was sent */
};

enum mqttdrv_stop {
    MQTTDRV_STOP_TIME = 0, /* the collection time ran out */
    MQTTDRV_STOP_COUNT,    /* max_messages reached */
    MQTTDRV_STOP_BYTES,    /* max_bytes reached */
    MQTTDRV_STOP_LOST,     /* the connection was lost */
    MQTTDRV_STOP_REFUSED,  /* the SUBACK refused the subscription: nothing collected */
    MQTTDRV_STOP_QUIET     /* nothing arrived for quiet_ms */
};

/* The result of one subscription. Release with mqttdrv_collect_release(). */
struct mqttdrv_collect {
    int suback_code; /* 3.1.1: granted QoS 0..2 or 0x80; 5: reason code; -1: no SUBACK */
    int suback_codes[MQTTDRV_MAX_FILTERS]; /* one per filter, in order; -1: none */
    size_t nfilters;
    struct mqttdrv_message *messages; /* owned array of n */
    size_t n;
    size_t bytes; /* payload bytes kept */
    enum mqttdrv_stop stop;
    int64_t elapsed_ms;
    bool raw;         /* collected by the raw engine */
    char detail[160]; /* LOST: why (the peer closed, a malformed packet, ...); else "" */
};

void mqttdrv_collect_release(struct mqttdrv_collect *c);

/* "time", "count", "bytes", "lost", "refused", "quiet". */
const char *mqttdrv_stop_name(enum mqttdrv_stop s);

/*
 * Subscribes to `filter` at `qos` (0..2) and collects messages until a bound
 * is reached. Messages queued before the call (from an earlier subscription)
 * are collected too. Returns 0 with `out` filled (a refused or unanswered
 * subscription is data), ASSAY_EINVAL (bad arguments, session lost before
 * the call) or ASSAY_ENOMEM. `out` always needs mqttdrv_collect_release().
 * Blocks up to limits->ms after the SUBACK (see above for the SUBACK wait).
 */
int mqttdrv_subscribe(struct mqttdrv_session *s, const char *filter, int qos,
                      const struct mqttdrv_limits *limits, struct mqttdrv_collect *out,
                      struct assay_error *err);

/*
 * The same for n (1..MQTTDRV_MAX_FILTERS) filters: on the raw engine one
 * SUBSCRIBE carries them all and one collection follows (suback_codes holds
 * a code per filter; the subscription counts as refused only when every
 * filter is). The paho engine subscribes to them with one SUBSCRIBE too.
 * On the raw engine a message larger than what is left of max_bytes is kept
 * up to the budget and the rest is not read: the collection stops with
 * MQTTDRV_STOP_BYTES and the session is closed (it cannot resynchronise).
 */
int mqttdrv_subscribe_many(struct mqttdrv_session *s, const char *const *filters, size_t n, int qos,
                           const struct mqttdrv_limits *limits, struct mqttdrv_collect *out,
                           struct assay_error *err);

/* True when the session runs on the raw engine. */
bool mqttdrv_session_raw(const struct mqttdrv_session *s);

/*
 * Publishes `len` bytes to `topic` (any bytes; paho checks UTF-8 of the topic,
 * the raw engine sends what it is given). QoS 0 returns once the bytes are
 * written; QoS 1 and 2 wait for completion until the target's deadline (paho
 * polls in 100 ms steps: do not time devices with it). On the raw engine,
 * messages that arrive while a publish waits are acknowledged and dropped. Returns 0, ASSAY_ENET
 * (connection lost, or paho refused the topic: see err), ASSAY_ETIMEOUT (QoS > 0 not completed),
 * ASSAY_EINVAL.
 */
int mqttdrv_publish(struct mqttdrv_session *s, const char *topic, const void *payload, size_t len,
                    int qos, bool retain, struct assay_error *err);

#endif
