/*
 * mqtt_refuser.h: a small listener of the harness's own (no mosquitto) that
 * stands in for an MQTT broker that is up but unavailable: it accepts each
 * TCP connection on the lab broker's address and port, completes a TLS
 * handshake when given a certificate, reads the CONNECT (bounded), answers
 * CONNACK 3 (server unavailable; another code if asked) and closes. It
 * counts the attempts of an MQTT client device and their times, which is the
 * evidence for orderly reconnection (EN 303 645 5.9-3).
 *
 * One connection is served at a time, each within CONN_MS (1 s) or the end
 * of the window, whichever comes first; a client that sends nothing is
 * closed then and still counts as an attempt. The listening socket is bound
 * with SO_REUSEADDR so it can follow a broker on the same port at once.
 *
 * Blocking: mqtt_refuser_run() returns after opts->ms (plus at most the one
 * connection being served, bounded by the same window).
 */
#ifndef ASSAY_DRIVERS_MQTT_REFUSER_H
#define ASSAY_DRIVERS_MQTT_REFUSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/scope.h"
#include "core/transcript.h"

#define REFUSER_MAX_KEPT 4096 /* attempts kept with their details; later ones only counted */
#define REFUSER_ID_MAX 128

struct refuser_opts {
    const char *address;                /* IP literal; must be in scope */
    uint16_t port;                      /* > 0 */
    int ms;                             /* listening window, 1 .. 600000 */
    int code;                           /* CONNACK return code 1..5; 0 means 3 */
    const char *cert_file, *key_file;   /* both set: TLS; both NULL: plain */
    const struct scope *scope;          /* never NULL */
    const struct transcript_sink *sink; /* may be NULL */
};

struct refuser_attempt {
    int64_t at_ms;     /* since the listener was ready */
    bool tls_ok;       /* the TLS handshake completed (false for plain) */
    bool connect_seen; /* a well-formed CONNECT arrived */
    char client_id[REFUSER_ID_MAX];
};

struct refuser_result {
    size_t attempts;              /* TCP connections accepted */
    size_t connects;              /* of them, with a CONNECT answered */
    size_t tls_failures;          /* TLS handshakes that failed */
    struct refuser_attempt *kept; /* owned; the first REFUSER_MAX_KEPT attempts */
    size_t nkept;
    int64_t elapsed_ms;
};

/*
 * Listens for opts->ms. Returns 0 with *res filled (no attempt at all is
 * data), ASSAY_ESCOPE, ASSAY_EINVAL, ASSAY_ENET (the port cannot be bound:
 * err names the errno) or ASSAY_ENOMEM. Release res in every case.
 */
int mqtt_refuser_run(const struct refuser_opts *opts, struct refuser_result *res,
                     struct assay_error *err);

void mqtt_refuser_result_release(struct refuser_result *res);

#endif
