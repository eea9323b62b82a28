/*
 * coap_internal.h: helpers shared by the CoAP driver's files (coap_client.c,
 * coap_dtls.c, coap_raw.c). Not part of the driver's interface.
 */
#ifndef ASSAY_DRIVERS_COAP_INTERNAL_H
#define ASSAY_DRIVERS_COAP_INTERNAL_H

#include <sys/socket.h>

#include <coap3/coap.h>
#include <openssl/x509.h>

#include "coap.h"

#define COAPDRV_PEER_MAX 64

/* A resolved target: the socket address and "host:port" for the transcript. */
struct coapdrv_addr {
    struct sockaddr_storage ss;
    socklen_t len;
    char peer[COAPDRV_PEER_MAX];
};

/* Checks the target's fields and scope and fills `a` from the address literal.
 * Returns 0, ASSAY_EINVAL or ASSAY_ESCOPE (a transcript note records the refusal). */
int coapdrv_check_target(const struct coapdrv_target *t, struct coapdrv_addr *a,
                         struct assay_error *err);

/* One libcoap context and session, the session's app data. NoSec (UDP)
 * sessions share one context per process (creating a context costs about
 * 1 ms, mostly OpenSSL set-up, ten times a request on loopback); DTLS
 * sessions get a context of their own. */
struct coapdrv_conn {
    coap_context_t *ctx;
    bool shared_ctx; /* ctx is the process's UDP context: not freed on close */
    coap_session_t *session;
    struct coapdrv_addr addr;
    const struct coapdrv_target *t;
    struct exchange *exchange; /* the request in flight, or NULL */
    int dtls;                  /* 0 nothing yet, 1 connected, -1 error or closed */
    int nack;                  /* 0, or the last coap_nack_reason_t + 1 */
};

/* Opens a UDP (psk == NULL, on the shared context) or DTLS-PSK session (on a
 * context of its own) with shortened retransmission. Returns 0, or a negative assay_rc with nothing
 * left open. */
int coapdrv_conn_open(struct coapdrv_conn *c, const struct coapdrv_target *t,
                      const struct coapdrv_psk *psk, struct assay_error *err);
void coapdrv_conn_close(struct coapdrv_conn *c);

/* Points an open connection at the target of this call (sink, deadlines) and
 * sets the session's retransmission from it. */
void coapdrv_conn_tune(struct coapdrv_conn *c, const struct coapdrv_target *t);

/* A connection for a request from the pool (kept or newly opened; *out is
 * owned by the pool). Checks the target and scope first. Returns 0 or a
 * negative assay_rc (nothing opened). */
int coapdrv_pool_acquire(struct coapdrv_pool *p, const struct coapdrv_target *t,
                         const struct coapdrv_psk *psk, struct coapdrv_conn **out,
                         struct assay_error *err);

/* Gives the connection back: kept for the next request when `keep`, closed otherwise. */
void coapdrv_pool_release(struct coapdrv_pool *p, struct coapdrv_conn *c, bool keep);

/* A new libcoap context with the driver's response, NACK and event handlers, or NULL. */
coap_context_t *coapdrv_new_context(void);

/* ---- certificates (coap_cert.c) ---- */

#define COAPDRV_PEM_MAX (256u * 1024u)

/* PEM material from `spec` (PEM text, or the path of a file holding it) into
 * a new NUL-terminated buffer (*out, free()) of *len bytes. Returns 0,
 * ASSAY_EIO (unreadable, too big, or no "-----BEGIN") or ASSAY_ENOMEM. */
int coapdrv_pem_load(const char *spec, char **out, size_t *len, struct assay_error *err);

/* Describes a certificate (subject, issuer, validity, key, fingerprint). */
void coapdrv_cert_describe(X509 *x, struct coapdrv_cert *out);

/* Verifies leaf + chain (the certificates the server sent) against the CA
 * certificates in `ca_pem` (NULL: nothing to check) and whether the leaf
 * names `host`; fills res->ca_checked, verified, verify_error, name_matches.
 * Returns 0, ASSAY_EIO (no certificate in ca_pem) or ASSAY_ENOMEM. */
int coapdrv_cert_verify(const char *ca_pem, size_t ca_len, X509 *leaf, STACK_OF(X509) * chain,
                        const char *host, struct coapdrv_dtls_result *res, struct assay_error *err);

/* A PDU's size on the wire (header, token, options, marker, payload), and a one-line summary. */
size_t coapdrv_pdu_wire_size(const coap_pdu_t *pdu);
void coapdrv_pdu_summary(const coap_pdu_t *pdu, char *buf, size_t n);

/* True when the DTLS peer sent a ServerHello (it speaks DTLS), whatever happened next. */
bool coapdrv_dtls_peer_answered(const struct coapdrv_conn *c);

/* Whether libcoap reported an ICMP error since the last reset (coapdrv_conn_open resets). */
void coapdrv_icmp_reset(void);
bool coapdrv_icmp_seen(void);

/* libcoap start-up and silencing, once per process. */
void coapdrv_global_init(void);

/* ack timeout in ms and retransmissions for a target (defaults applied). */
int coapdrv_ack_timeout_ms(const struct coapdrv_target *t);
int coapdrv_max_retransmit(const struct coapdrv_target *t);

#endif
