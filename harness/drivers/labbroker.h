/*
 * labbroker.h: the lab's own MQTT broker for a device whose interface is
 * `mqtt-client` (the device connects to the lab, not the other way round).
 *
 * labbroker_start() writes a mosquitto configuration into a new directory,
 * starts /usr/sbin/mosquitto (ASSAY_MOSQUITTO overrides) on the interface's
 * broker address and port, plain or TLS with a certificate the device should
 * trust or one it must not (labbroker_certs.h), and loads the recording plugin
 * (labbroker_plugin.c; ASSAY_LABBROKER_PLUGIN overrides the built-in path).
 * Every client is admitted; each CONNECT (client id, username, password) and
 * each PUBLISH (topic, size, retained flag, the first bytes) is recorded, and
 * every TCP connection the broker accepts is counted from its log, so a device
 * that gives up during the TLS handshake is seen too.
 *
 * Process: mosquitto is a child of the calling process, in its process group,
 * with PR_SET_PDEATHSIG = SIGKILL (it dies with the worker that started it,
 * whatever ends that worker). labbroker_stop() sends SIGTERM, then SIGKILL
 * after 2 s, and reaps it; labbroker_free() stops it first. The broker is a
 * per-test-case resource: callers stop it before the test case ends.
 *
 * Files (in the directory the caller names, `dir`): mosquitto.conf,
 * mosquitto.log, record.tsv (the plugin's lines) and the certificates; the
 * private keys are deleted when the broker stops. Without `dir` a temporary
 * directory under /tmp is used and removed by labbroker_free().
 *
 * Blocking: labbroker_start() polls a TCP connect to the port every 20 ms
 * until mosquitto accepts or opts->timeout_ms passes (never a fixed sleep);
 * labbroker_collect() waits at most wait->ms; labbroker_publish() at most
 * opts->timeout_ms; labbroker_stop() at most about 2 s.
 */
#ifndef ASSAY_DRIVERS_LABBROKER_H
#define ASSAY_DRIVERS_LABBROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/scope.h"
#include "core/transcript.h"

#define LABBROKER_ID_MAX 256              /* client ids, usernames and addresses kept (bytes) */
#define LABBROKER_MAX_CONNECTS 1000       /* CONNECTs kept; later ones are only counted */
#define LABBROKER_MAX_MESSAGES 5000       /* PUBLISHes kept; later ones are only counted */
#define LABBROKER_PAYLOAD_MAX 4096        /* largest payload head kept per message */
#define LABBROKER_HARNESS_ID "assay-lab-" /* client ids of the harness's own connections */

enum labbroker_tls {
    LABBROKER_PLAIN = 0, /* plain MQTT */
    LABBROKER_TRUSTED,   /* TLS, certificate from the lab CA the device trusts */
    LABBROKER_UNTRUSTED  /* TLS, a self-signed certificate for the same address */
};

/* "plain", "trusted", "untrusted". */
const char *labbroker_tls_name(enum labbroker_tls t);

struct labbroker_opts {
    const char *address; /* IP literal to listen on; must be in scope */
    uint16_t port;       /* > 0 */
    enum labbroker_tls tls;
    const char *ca_file;                /* the lab CA the device trusts; needed for TRUSTED */
    const char *dir;                    /* parent of the broker's own new directory; NULL: /tmp */
    size_t payload_max;                 /* payload head kept per message; 0: 512 */
    int timeout_ms;                     /* readiness and publish deadline, > 0 */
    const struct scope *scope;          /* never NULL */
    const struct transcript_sink *sink; /* may be NULL; must outlive the broker */
};

struct labbroker_connect {
    char client_id[LABBROKER_ID_MAX];
    char username[LABBROKER_ID_MAX];
    bool has_username;
    uint8_t *password; /* owned, NUL-terminated; NULL when the CONNECT had none */
    size_t password_len;
    char peer[LABBROKER_ID_MAX]; /* the client's address */
    int64_t at_ms;               /* since the broker was ready */
};

struct labbroker_message {
    char client_id[LABBROKER_ID_MAX];
    char *topic;      /* owned, NUL-terminated */
    uint8_t *payload; /* owned head of the payload, NUL-terminated; NULL when empty */
    size_t kept;      /* bytes in payload */
    size_t size;      /* bytes the message had */
    bool retained;
    int qos;
    int64_t at_ms;
};

/* What the broker has seen since it started (cumulative). Owned by the broker. */
struct labbroker_record {
    struct labbroker_connect *connects; /* devices only: harness ids are left out */
    size_t nconnects, connects_seen;    /* kept, and seen in all */
    struct labbroker_message *messages;
    size_t nmessages, messages_seen;
    size_t tcp_connections; /* TCP connections accepted, the harness's own left out */
    int64_t elapsed_ms;     /* since the broker was ready */
};

struct labbroker;

/*
 * Starts a broker. Returns 0 with *out set, or ASSAY_ESCOPE (address not in
 * scope: nothing started), ASSAY_EINVAL (bad options, no usable lab CA key),
 * ASSAY_EIO (files, fork), ASSAY_ENET (mosquitto exited: port busy, bad
 * certificate; err quotes its log) or ASSAY_ETIMEOUT (not listening before
 * the deadline; it is stopped). Nothing is left running on failure.
 */
int labbroker_start(const struct labbroker_opts *o, struct labbroker **out,
                    struct assay_error *err);

/* The port the broker listens on, and its directory. */
uint16_t labbroker_port(const struct labbroker *b);
const char *labbroker_dir(const struct labbroker *b);

/* When labbroker_collect() may return before wait->ms: 0 fields never end it early. */
struct labbroker_wait {
    int ms;          /* at most this long, >= 0 */
    size_t connects; /* once this many device CONNECTs were recorded */
    size_t messages; /* once this many device PUBLISHes were recorded */
};

/*
 * Reads what the broker recorded, waiting (in 50 ms polls of the record
 * file) until a condition of `w` holds or w->ms passes. *rec stays valid
 * until the next call on b or labbroker_free(). Returns 0, or ASSAY_EIO
 * (the record cannot be read) or ASSAY_ENOMEM.
 */
int labbroker_collect(struct labbroker *b, const struct labbroker_wait *w,
                      const struct labbroker_record **rec, struct assay_error *err);

/*
 * Publishes `len` bytes to `topic` through the broker, as the harness's own
 * client (id "assay-lab-publisher", QoS 1 unless qos is 0), so the broker
 * delivers it to a subscribed device. Returns 0, ASSAY_ENET (the broker did
 * not accept the harness's connection or lost it), ASSAY_ETIMEOUT or
 * ASSAY_EINVAL (stopped broker, bad topic).
 */
int labbroker_publish(struct labbroker *b, const char *topic, const void *payload, size_t len,
                      int qos, bool retain, struct assay_error *err);

/* How the broker ended. */
struct labbroker_exit {
    bool killed;     /* SIGTERM was not enough */
    int status;      /* waitpid status */
    int64_t stop_ms; /* time from SIGTERM to reaped */
};

/* Stops the broker (idempotent), reads the last records and deletes the private keys. */
void labbroker_stop(struct labbroker *b, struct labbroker_exit *ex);

/* Stops and frees. NULL is fine. */
void labbroker_free(struct labbroker *b);

#endif
