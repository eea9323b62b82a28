/*
 * mqtt_internal.h: what the MQTT driver's files (mqtt_client.c, mqtt_log.c,
 * mqtt_raw.c, mqtt_session.c, mqtt_collect.c, tlsprobe.c) share and nothing
 * else needs: transcript formatting (mqtt_log.c), peer names and the target
 * check.
 */
#ifndef ASSAY_DRIVERS_MQTT_INTERNAL_H
#define ASSAY_DRIVERS_MQTT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/transcript.h"
#include "mqtt.h"

#define MQTTDRV_PEER_MAX 80  /* "[ipv6]:port" */
#define MQTTDRV_LOG_BYTES 64 /* first bytes of a payload kept in a message-level entry */

/* Writes `len` bytes as printable ASCII with \xNN for anything else, cut with
 * "..." to fit `cap` (>= 4) including the NUL. Never reads past len. */
void mqttdrv_escape(const void *in, size_t len, char *out, size_t cap);

/* One transcript entry with a printf-formatted summary; does nothing when sink is NULL. */
void mqttdrv_log(const struct transcript_sink *sink, const char *protocol, const char *peer,
                 enum transcript_dir dir, const char *event, const uint8_t *bytes, size_t nbytes,
                 const char *fmt, ...) __attribute__((format(printf, 8, 9)));

/* Logs a SUBSCRIBE: the filters (escaped) and the collection's bounds. */
void mqttdrv_log_subscribe(const struct transcript_sink *sink, const char *peer,
                           const char *const *filters, size_t n, int qos, size_t cap_n,
                           size_t budget, int ms, int quiet_ms);

/* "127.0.0.1:1883" or "[::1]:1883". */
void mqttdrv_peer(char *out, size_t cap, const char *host, uint16_t port);

/* Checks that t is complete and its host in scope: 0, ASSAY_EINVAL or ASSAY_ESCOPE. */
int mqttdrv_check_target(const struct mqttdrv_target *t, struct assay_error *err);

/* Logs one received message at message level. */
void mqttdrv_log_message(const struct transcript_sink *sink, const char *peer,
                         const struct mqttdrv_message *m);

/* ---- the raw engine (mqtt_session.c, mqtt_collect.c) ---- */

/* A raw MQTT 3.1.1 or 5 session over mqtt_conn.h (mqtt_session.h). Opaque. */
struct mqttrs;

/* True when o can be served by the raw engine (3.1.1 or 5, a password without NULs, not o->paho).
 */
bool mqttrs_serves(const struct mqttdrv_connect_opts *o);

/* As mqttdrv_session_open, on the raw engine. peer is the session's name for transcripts. */
int mqttrs_open(const struct mqttdrv_target *t, const struct mqttdrv_connect_opts *o,
                struct mqttrs **out, struct mqttdrv_connack *ack, struct assay_error *err);
void mqttrs_close(struct mqttrs *s);
bool mqttrs_connected(const struct mqttrs *s);

/* As mqttdrv_subscribe_many; arguments already checked, bounds resolved. */
int mqttrs_subscribe(struct mqttrs *s, const char *const *filters, size_t n, int qos, size_t cap_n,
                     size_t budget, int ms, int quiet_ms, struct mqttdrv_collect *out,
                     struct assay_error *err);

/* As mqttdrv_publish; arguments already checked. */
int mqttrs_publish(struct mqttrs *s, const char *topic, const void *payload, size_t len, int qos,
                   bool retain, struct assay_error *err);

/* Copies a message into c->messages (array of cap_n allocated on first use). Payload
 * already owned by the caller is moved in (payload may be NULL when len is 0).
 * Returns 0 or ASSAY_ENOMEM (payload freed). */
int mqttdrv_collect_add(struct mqttdrv_collect *c, size_t cap_n, const void *topic, size_t tl,
                        uint8_t *payload, size_t len, size_t full_len, int qos, bool retained,
                        bool dup, int64_t after_ms);

#endif
