/*
 * mqtt_internal.h: what the MQTT driver's files (mqtt_client.c, mqtt_raw.c,
 * tlsprobe.c) share and nothing else needs: transcript formatting, peer
 * names and the target check.
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

/* "127.0.0.1:1883" or "[::1]:1883". */
void mqttdrv_peer(char *out, size_t cap, const char *host, uint16_t port);

/* Checks that t is complete and its host in scope: 0, ASSAY_EINVAL or ASSAY_ESCOPE. */
int mqttdrv_check_target(const struct mqttdrv_target *t, struct assay_error *err);

#endif
