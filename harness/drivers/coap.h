/*
 * coap.h: the CoAP driver: requests over libcoap 4.3.1 (UDP and DTLS),
 * DTLS handshake probes, and a raw UDP path for malformed messages.
 *
 * Every operation checks the target against the run's scope before sending
 * anything (ASSAY_ESCOPE otherwise), waits only through a monotonic deadline
 * of target->timeout_ms (coap_io_process with the remaining time, never
 * COAP_IO_WAIT) and writes what it sent and received to the transcript sink.
 * Each call therefore blocks for at most about timeout_ms. coapdrv_request()
 * opens and closes its own libcoap session; coapdrv_request_in() can keep the
 * session in a caller-owned pool (struct coapdrv_pool) for the next request
 * to the same peer. DTLS probes and the raw path always open their own.
 *
 * A device's answer, refusal (RST), silence or ICMP error is data in the
 * result, with return value 0. Negative `enum assay_rc` values are for the
 * harness's own problems: bad arguments (ASSAY_EINVAL), out of scope
 * (ASSAY_ESCOPE), allocation (ASSAY_ENOMEM), a socket or session that could
 * not be created (ASSAY_ENET).
 *
 * libcoap's own log output is switched off (level LOG_EMERG, a discarding
 * handler, PDU dumps routed to it): library logs are not evidence.
 * Not thread-safe: one operation at a time per process (a worker probes one
 * device at a time).
 */
#ifndef ASSAY_DRIVERS_COAP_H
#define ASSAY_DRIVERS_COAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/scope.h"
#include "core/transcript.h"

/* Where and how to talk. Pointers are borrowed for the duration of one call. */
struct coapdrv_target {
    const char *host;                   /* IPv4 or IPv6 literal; must be in scope */
    uint16_t port;                      /* UDP port (the DTLS port for DTLS calls) */
    const struct scope *scope;          /* never NULL */
    const struct transcript_sink *sink; /* may be NULL */
    int timeout_ms;                     /* deadline of the whole operation, > 0 */
    int ack_timeout_ms; /* first CON retransmission; 0: timeout_ms / 3 in [100, 2000] */
    int max_retransmit; /* CON retransmissions, 0..4; -1: 1 */
};

struct coapdrv_psk {
    const char *identity; /* borrowed */
    const uint8_t *key;   /* borrowed */
    size_t key_len;
};

enum coapdrv_method { COAPDRV_GET = 1, COAPDRV_POST = 2, COAPDRV_PUT = 3, COAPDRV_DELETE = 4 };

#define COAPDRV_DEFAULT_MAX_BODY 65536u
#define COAPDRV_BLOCK_SIZE 1024u /* request payloads above this go block-wise (Block1) */

struct coapdrv_request {
    enum coapdrv_method method;
    bool non_confirmable;   /* false: CON */
    const char *path;       /* "/a/b?k=v&x": split on '/', '?', '&', no percent-decoding */
    const uint8_t *payload; /* may be NULL; borrowed */
    size_t payload_len;
    bool has_content_format;
    uint16_t content_format;
    size_t max_body;               /* cap on the response body (all blocks); 0: default */
    const struct coapdrv_psk *psk; /* non-NULL: CoAP over DTLS with this PSK */
};

enum coapdrv_outcome {
    COAPDRV_RESPONSE = 0, /* a response arrived (any code) */
    COAPDRV_RESET,        /* the device answered RST */
    COAPDRV_SILENCE,      /* nothing before the deadline or after the last retransmission */
    COAPDRV_UNREACHABLE,  /* ICMP error (port closed) */
    COAPDRV_DTLS_FAILED,  /* the DTLS handshake failed */
    COAPDRV_REQUEST       /* the device sent a request instead of a response */
};

#define COAPDRV_MAX_OPTIONS 32
#define COAPDRV_MAX_OPTION_VALUE 255

struct coapdrv_option {
    uint16_t number;
    uint16_t len;   /* bytes kept in value */
    bool truncated; /* the option was longer than COAPDRV_MAX_OPTION_VALUE */
    uint8_t value[COAPDRV_MAX_OPTION_VALUE];
};

/* The result of one request. Owns `payload`; release with coapdrv_response_release(). */
struct coapdrv_response {
    enum coapdrv_outcome outcome;
    int type;                    /* of the last reply: 0 CON, 1 NON, 2 ACK, 3 RST */
    int code_class, code_detail; /* e.g. 2 and 5 for 2.05 Content */
    struct coapdrv_option options[COAPDRV_MAX_OPTIONS]; /* of the last reply */
    size_t noptions;
    bool options_truncated; /* more than COAPDRV_MAX_OPTIONS */
    uint8_t *payload;       /* the (reassembled) body, NUL-terminated; NULL if empty */
    size_t payload_len;
    bool body_truncated;    /* the body reached max_body and the transfer was stopped */
    unsigned exchanges;     /* request/response exchanges (blocks) */
    size_t bytes_sent;      /* CoAP bytes sent (header, token, options, payload), per exchange */
    size_t bytes_received;  /* CoAP bytes received, the same way */
    unsigned stale_replies; /* replies to earlier requests that were dropped */
    int64_t elapsed_ms;
    char note[128]; /* why a transfer stopped early, or "" */
};

void coapdrv_response_release(struct coapdrv_response *r);

/*
 * Sends one request and collects its response, following Block2 for the body
 * (bounded by max_body) and sending payloads over COAPDRV_BLOCK_SIZE with
 * Block1. Returns 0 with `resp` filled (any outcome), or a negative assay_rc;
 * `resp` always needs coapdrv_response_release(). Blocks up to timeout_ms.
 */
int coapdrv_request(const struct coapdrv_target *t, const struct coapdrv_request *req,
                    struct coapdrv_response *resp, struct assay_error *err);

/*
 * A session cache: at most COAPDRV_POOL_MAX open libcoap sessions, one per
 * peer (address, port) and security (NoSec, or DTLS-PSK with one identity
 * and key), and at most one DTLS session per address (one association with a
 * device at a time). A request on a kept session matches replies to the
 * exchange in flight by token (and message id for ACK and RST): a late or
 * duplicated reply to an earlier request is dropped, counted in
 * coapdrv_response.stale_replies and noted in the transcript. A session is
 * kept after a request only when libcoap has nothing left to retransmit
 * (a piggybacked ACK, a NON exchange, or retransmissions exhausted), and is
 * closed after a reset, an ICMP error, a DTLS failure or a CON request that
 * was still unanswered at the deadline, so that nothing old is resent.
 * Not thread-safe; one pool per probe (owner: the caller).
 */
#define COAPDRV_POOL_MAX 8

struct coapdrv_pool;

struct coapdrv_pool_stats {
    unsigned opened;  /* sessions opened */
    unsigned reused;  /* requests that found an open session */
    unsigned dropped; /* sessions closed after a request that could leave traffic behind */
};

/* Returns 0 with *out set, or ASSAY_ENOMEM. */
int coapdrv_pool_new(struct coapdrv_pool **out, struct assay_error *err);

/* Closes every session (DTLS ones send close_notify) and frees the pool; NULL is a no-op. */
void coapdrv_pool_free(struct coapdrv_pool *p);

/* Closes the sessions to `host` (every one when host is NULL). Returns how many. */
size_t coapdrv_pool_close(struct coapdrv_pool *p, const char *host);

/* Open sessions, and the counters since coapdrv_pool_new. */
size_t coapdrv_pool_size(const struct coapdrv_pool *p);
struct coapdrv_pool_stats coapdrv_pool_stats(const struct coapdrv_pool *p);

/* coapdrv_request() on a session from `pool` (opened on a miss, kept or closed
 * afterwards as described above); pool NULL is coapdrv_request(). */
int coapdrv_request_in(struct coapdrv_pool *pool, const struct coapdrv_target *t,
                       const struct coapdrv_request *req, struct coapdrv_response *resp,
                       struct assay_error *err);

/* "RESPONSE", "RESET", ... ; and lower-case reasons for scripts ("reset", "timeout", ...). */
const char *coapdrv_outcome_name(enum coapdrv_outcome o);
const char *coapdrv_outcome_reason(enum coapdrv_outcome o);

/* The RFC 7252/7959/7641 name of an option number ("Uri-Path"), or NULL if unknown. */
const char *coapdrv_option_name(uint16_t number);

/* ---- DTLS probes ---- */

enum coapdrv_dtls_state {
    COAPDRV_DTLS_ESTABLISHED = 0, /* handshake completed */
    COAPDRV_DTLS_REJECTED,        /* the peer answered but the handshake failed (wrong key, ...) */
    COAPDRV_DTLS_SILENT,          /* nothing answered before the deadline */
    COAPDRV_DTLS_UNREACHABLE      /* ICMP error: nothing listens on the port */
};

#define COAPDRV_NAME_MAX 256

/* A certificate the server presented, described without trusting it. */
struct coapdrv_cert {
    char subject[COAPDRV_NAME_MAX]; /* RFC 2253, non-printable bytes escaped */
    char issuer[COAPDRV_NAME_MAX];
    char not_before[32]; /* "2026-01-31T12:00:00Z" */
    char not_after[32];
    char key_type[16]; /* "RSA", "EC", "ED25519", ... */
    int key_bits;
    char sig_alg[64]; /* "ecdsa-with-SHA256" */
    bool self_signed;
    char sha256[65]; /* hex fingerprint of the DER */
};

struct coapdrv_dtls_result {
    enum coapdrv_dtls_state state;
    char version[32]; /* negotiated protocol ("DTLSv1.2") when established */
    char cipher[80];  /* negotiated cipher suite when established */
    int64_t elapsed_ms;
    /* certificate probes (coapdrv_dtls_probe_pki) only */
    bool pki;
    bool client_cert;     /* the client had a certificate to present */
    bool has_server_cert; /* the server sent a certificate (also when the handshake then failed) */
    struct coapdrv_cert server_cert; /* the leaf */
    size_t chain_len;                /* certificates the server sent */
    bool ca_checked;                 /* a CA was given and a certificate was seen */
    bool verified;                   /* the chain verifies against that CA */
    char verify_error[128];          /* why not, when ca_checked and not verified */
    bool name_matches;               /* the leaf names the target address (IP SAN or CN) */
};

/* Certificate material for a PKI probe. Each field is PEM text (starting
 * "-----BEGIN") or the path of a PEM file; borrowed. */
struct coapdrv_pki {
    const char *ca;   /* trust anchors to verify the server against; NULL: not verified */
    const char *cert; /* the client's certificate; NULL: the client presents none */
    const char *key;  /* its private key; needed with cert */
};

/* "established", "rejected", "silent", "unreachable". */
const char *coapdrv_dtls_state_name(enum coapdrv_dtls_state s);

/*
 * Attempts a DTLS handshake with a PSK on t->port and reports how it went.
 * Returns 0 with `res` filled, or a negative assay_rc. Blocks up to timeout_ms.
 */
int coapdrv_dtls_probe_psk(const struct coapdrv_target *t, const struct coapdrv_psk *psk,
                           struct coapdrv_dtls_result *res, struct assay_error *err);

/*
 * Attempts a DTLS handshake with certificates (PKI) on t->port: the client
 * offers certificate cipher suites only, presents pki->cert when given, and
 * accepts any server certificate during the handshake (OpenSSL security level
 * 0, so weak keys and suites show); the chain the server sent is described
 * and verified against pki->ca afterwards. A server that offers only PSK
 * rejects the handshake. Returns 0 with `res` filled, ASSAY_EINVAL (cert
 * without key), ASSAY_EIO (a file unreadable or not PEM) or another negative
 * assay_rc. Blocks up to timeout_ms.
 */
int coapdrv_dtls_probe_pki(const struct coapdrv_target *t, const struct coapdrv_pki *pki,
                           struct coapdrv_dtls_result *res, struct assay_error *err);

/* ---- raw UDP path ---- */

#define COAPRAW_MAX_DATAGRAM 1280
#define COAPRAW_MAX_REPLIES 8
#define COAPRAW_MAX_OPTS 16

struct coapraw_opt {
    uint16_t number;
    const uint8_t *value; /* borrowed */
    size_t len;           /* up to 65804 (RFC 7252 extended length) */
};

/* A CoAP message described field by field, so any field can lie. */
struct coapraw_spec {
    uint8_t version; /* 0..3 (1 is CoAP) */
    uint8_t type;    /* 0..3 */
    uint8_t tkl;     /* 0..15: the declared token length, written as is */
    uint8_t code;    /* class << 5 | detail */
    uint16_t mid;
    const uint8_t *token; /* written verbatim, token_len bytes (need not match tkl) */
    size_t token_len;
    const struct coapraw_opt *opts; /* encoded with correct deltas; numbers must not decrease */
    size_t nopts;
    const uint8_t *tail; /* raw bytes after the options (a truncated option, a reserved nibble) */
    size_t tail_len;
    const uint8_t *payload; /* written after a 0xFF marker when payload_len > 0 */
    size_t payload_len;
};

/* Encodes `s` into out[cap]; *len gets the size. Returns 0, ASSAY_EINVAL
 * (a field out of range, decreasing option numbers) or ASSAY_ENOMEM (too big). */
int coapraw_build(const struct coapraw_spec *s, uint8_t *out, size_t cap, size_t *len,
                  struct assay_error *err);

/*
 * Named malformed messages, each a CON request with message id `mid`:
 *   "bad-version"        version 2, otherwise a valid GET /.well-known/core
 *   "tkl-15"             token length 15 (reserved), 8 bytes of token follow
 *   "truncated-option"   Uri-Path declaring 10 bytes, 3 present
 *   "unknown-critical"   GET with option 65001 (odd: critical, unknown)
 *   "delta-overflow"     option delta 14 with extended value 0xFFFF (number > 65535)
 *   "reserved-nibble"    option delta nibble 15 without a payload marker
 *   "absurd-block2"      GET /.well-known/core with Block2 number 2^20-1, size 1024
 *   "absurd-block1"      PUT /.well-known/core with Block1 number 2^20-1, more set
 *   "ping"               an empty CON (a CoAP ping; a live peer answers RST)
 * Returns 0, or ASSAY_EINVAL for an unknown name.
 */
int coapraw_preset(const char *name, uint16_t mid, uint8_t *out, size_t cap, size_t *len,
                   struct assay_error *err);

/* The preset names, NULL-terminated. */
extern const char *const coapraw_preset_names[];

/* A reply's fixed header, decoded without trusting it. */
struct coapraw_header {
    uint8_t version, type, tkl, code;
    uint16_t mid;
    uint8_t token[8];
    size_t token_len; /* 0 when tkl > 8 or the token is truncated */
    bool token_ok;    /* tkl <= 8 and all token bytes present */
};

/* Decodes the first 4 + tkl bytes. Returns 0, or ASSAY_EINVAL when shorter than 4 bytes. */
int coapraw_decode(const uint8_t *buf, size_t len, struct coapraw_header *h);

struct coapraw_reply {
    uint8_t bytes[COAPRAW_MAX_DATAGRAM];
    size_t len;      /* bytes kept */
    size_t wire_len; /* the datagram's real size */
    bool decoded;    /* hdr is valid (at least 4 bytes) */
    struct coapraw_header hdr;
    int64_t after_ms; /* since the send */
};

struct coapraw_result {
    size_t bytes_sent;
    size_t bytes_received; /* every datagram received, including those not kept */
    size_t datagrams;      /* every datagram received */
    struct coapraw_reply replies[COAPRAW_MAX_REPLIES];
    size_t nreplies;  /* replies kept */
    bool unreachable; /* an ICMP error came back */
    int64_t elapsed_ms;
};

/*
 * Sends `len` bytes to the target in one datagram and collects replies until
 * the deadline, or until `max_replies` (1..COAPRAW_MAX_REPLIES) were kept.
 * The exact bytes go to the transcript. Returns 0 with `res` filled (silence
 * is nreplies == 0), or a negative assay_rc. Blocks up to timeout_ms.
 */
int coapraw_exchange(const struct coapdrv_target *t, const uint8_t *msg, size_t len,
                     size_t max_replies, struct coapraw_result *res, struct assay_error *err);

/*
 * Liveness: sends a CoAP ping (empty CON) and waits for a reply with the same
 * message id. *alive is true when one came; *rtt_ms is its round-trip time.
 * Returns 0 or a negative assay_rc. Blocks up to timeout_ms.
 */
int coapdrv_alive(const struct coapdrv_target *t, bool *alive, int64_t *rtt_ms,
                  struct assay_error *err);

#endif
