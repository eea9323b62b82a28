/*
 * mqtt_conn.h: one MQTT byte stream, plain TCP or TLS on OpenSSL, with a
 * deadline on every connect, handshake, send and receive.
 *
 * The raw MQTT path (mqtt_raw.c) and the raw session (mqtt_session.c) talk
 * through it, so that what they read from a device is bounded whether the
 * port speaks TLS or not. TCP goes through drivers/rawtcp.h (the scope is
 * checked before any socket exists; plain bytes go to the transcript as
 * rawtcp records them). Over TLS the socket stays non-blocking and every
 * SSL_connect, SSL_write and SSL_read is driven with poll(2) until the
 * deadline; the plaintext of every send and receive goes to the transcript
 * under protocol "mqtt" (event "tls-send" / "tls-recv"), and with a key log
 * path the session secrets are appended as NSS key log lines so a capture
 * can be decrypted.
 *
 * Verification follows the paho path (mqtt.h, struct mqttdrv_tls): with
 * verify, the chain must lead to ca_file (no default trust store) and the
 * certificate must name the address; without it, nothing is checked. The
 * protocol versions and suites are OpenSSL's defaults, as with paho.
 *
 * One thread at a time. Nothing here allocates from what the device sends:
 * reads go into the caller's buffer, at most `cap` bytes.
 */
#ifndef ASSAY_DRIVERS_MQTT_CONN_H
#define ASSAY_DRIVERS_MQTT_CONN_H

#include <stdbool.h>
#include <stdio.h>

#include "drivers/mqtt.h"
#include "drivers/rawtcp.h"

struct mqttconn {
    struct rawtcp tcp; /* tcp.status says how the last call ended (rawtcp.h) */
    void *ctx;         /* SSL_CTX, NULL for plain TCP */
    void *ssl;         /* SSL, NULL for plain TCP */
    FILE *keylog;      /* owned, NULL when no key log */
    bool tls_failed;   /* open: TCP connected but the handshake failed (detail says why) */
    char detail[160];  /* why open failed: "tcp refused", OpenSSL's reason, "timeout" */
    char cipher[64];   /* negotiated suite after a TLS open */
    char version[16];  /* "TLSv1.3" */
};

/*
 * Connects to t->host:t->port and, when tls->enabled, runs the handshake,
 * all before `deadline`. Returns 0 when the stream is ready; ASSAY_ESCOPE or
 * ASSAY_EINVAL (nothing sent); ASSAY_ENOMEM; ASSAY_ETIMEOUT or ASSAY_ENET
 * when the device did not let us in (c->detail and c->tcp.status say how;
 * c->tls_failed for a handshake failure). `keylog_path` may be NULL. c is
 * closed again on failure; mqttconn_close is still safe.
 */
int mqttconn_open(struct mqttconn *c, const struct mqttdrv_target *t, const struct mqttdrv_tls *tls,
                  const char *keylog_path, assay_ms deadline, struct assay_error *err);

/* True once the TCP connection exists (and the handshake, for TLS). */
bool mqttconn_is_open(const struct mqttconn *c);

/* Sends all bytes before the deadline. Returns 0, ASSAY_ETIMEOUT, ASSAY_ENET
 * (c->tcp.status CLOSED or RESET) or ASSAY_EINVAL (not open). */
int mqttconn_send(struct mqttconn *c, const uint8_t *buf, size_t len, assay_ms deadline,
                  struct assay_error *err);

/* Waits for at least one byte, reads at most `cap`. Returns 0 with *got > 0,
 * ASSAY_ETIMEOUT (silence), ASSAY_ENET (c->tcp.status CLOSED or RESET). */
int mqttconn_recv(struct mqttconn *c, uint8_t *buf, size_t cap, assay_ms deadline, size_t *got,
                  struct assay_error *err);

/* TLS close_notify (not awaited), then rawtcp_close(drain_ms). Safe on a closed c. */
void mqttconn_close(struct mqttconn *c, int drain_ms);

#endif
