/*
 * tlsprobe.h: what a TLS server accepts and presents, on OpenSSL directly
 * (paho does not report what it negotiated).
 *
 * For each of TLS 1.0, 1.1, 1.2 and 1.3, one handshake with min = max = that
 * version, at security level 0 with every cipher suite OpenSSL has ("ALL"),
 * so that a server that accepts an old version or a weak suite shows it. The
 * server certificate is never verified during the handshake (the chain is
 * what we want to see); it is checked afterwards against the given CA file.
 *
 * Each handshake opens its own TCP connection through drivers/rawtcp.h (the
 * scope is checked before any socket exists, connect/close go to the
 * transcript), runs on a non-blocking socket with poll(2) until the deadline
 * (target->timeout_ms per version), and is shut down cleanly. Results go to
 * the transcript under protocol "tls". With a key log path, the session
 * secrets are appended as NSS key log lines so a capture can be decrypted.
 * One thread at a time.
 */
#ifndef ASSAY_DRIVERS_TLSPROBE_H
#define ASSAY_DRIVERS_TLSPROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/mqtt.h"

#define TLSPROBE_MAX_CHAIN 8
#define TLSPROBE_NAME_MAX 256

enum tlsprobe_version {
    TLSPROBE_TLS10 = 0,
    TLSPROBE_TLS11,
    TLSPROBE_TLS12,
    TLSPROBE_TLS13,
    TLSPROBE_NVERSIONS
};

/* "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3". */
const char *tlsprobe_version_name(enum tlsprobe_version v);

struct tlsprobe_cert {
    char subject[TLSPROBE_NAME_MAX]; /* RFC 2253, escaped to printable ASCII */
    char issuer[TLSPROBE_NAME_MAX];
    char not_before[32]; /* "2026-11-28T02:40:08Z" */
    char not_after[32];
    char key_type[16]; /* "RSA", "EC", "ED25519", ... */
    int key_bits;
    char sig_alg[64]; /* "sha256WithRSAEncryption" */
    bool self_signed;
    char sha256[65]; /* hex fingerprint of the DER */
};

struct tlsprobe_attempt {
    bool tcp_connected;
    bool accepted;    /* the handshake completed */
    char cipher[64];  /* negotiated suite when accepted */
    char reason[160]; /* why it failed: OpenSSL's reason, "closed", "timeout", ... */
    int64_t elapsed_ms;
};

struct tlsprobe_result {
    struct tlsprobe_attempt attempts[TLSPROBE_NVERSIONS];
    struct tlsprobe_cert chain[TLSPROBE_MAX_CHAIN]; /* from the highest accepted version */
    size_t nchain;
    bool chain_truncated;
    bool ca_checked;        /* a CA file was given and the chain was seen */
    bool verified;          /* the chain verifies against it */
    char verify_error[128]; /* X509_verify_cert_error_string when not verified */
    bool name_matches;      /* the leaf names the target address (IP SAN or CN) */
};

struct tlsprobe_opts {
    const char *ca_file;     /* PEM; NULL: no verification reported */
    const char *keylog_path; /* NULL: no key log; else appended to */
    const char *sni;         /* server name to send; NULL: none */
};

/*
 * Probes every version. Returns 0 with `r` filled (refusals are data),
 * ASSAY_ESCOPE (nothing sent), ASSAY_EINVAL, ASSAY_EIO (key log or CA file
 * unreadable) or ASSAY_ENOMEM. Blocks up to 4 x target->timeout_ms.
 */
int tlsprobe_run(const struct mqttdrv_target *t, const struct tlsprobe_opts *o,
                 struct tlsprobe_result *r, struct assay_error *err);

#endif
