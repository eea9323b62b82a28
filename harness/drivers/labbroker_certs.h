/*
 * labbroker_certs.h: the certificates the lab broker presents to an MQTT
 * client device (OpenSSL 3 EVP and X509 APIs, EC P-256 keys).
 *
 * - trusted: a server certificate for the broker's address issued by the lab
 *   CA the device was configured to trust (the bench interface's `ca`), when
 *   the CA's key is beside it (ca.key); otherwise the lab's own server.crt and
 *   server.key from the same directory are used as they are.
 * - untrusted: a self-signed certificate for the same address and with the
 *   same names, so that a device can only tell it from the trusted one by its
 *   chain of trust.
 *
 * Files are written into a directory the caller owns; keys with mode 0600.
 * Nothing blocks beyond local file I/O (a few milliseconds of key generation).
 */
#ifndef ASSAY_DRIVERS_LABBROKER_CERTS_H
#define ASSAY_DRIVERS_LABBROKER_CERTS_H

#include <stddef.h>

#include "core/error.h"

#define LABCERT_PATH_MAX 4096

struct labcert_pair {
    char cert[LABCERT_PATH_MAX]; /* PEM certificate the broker presents */
    char key[LABCERT_PATH_MAX];  /* PEM private key */
};

/*
 * Writes dir/untrusted.crt and dir/untrusted.key: a new self-signed
 * certificate for `address` (an IP literal: subjectAltName IP and DNS
 * localhost), valid from an hour ago for 30 days. Fills `out`.
 * Returns 0, ASSAY_EIO or ASSAY_EINVAL with a message in err.
 */
int labcert_untrusted(const char *dir, const char *address, struct labcert_pair *out,
                      struct assay_error *err);

/*
 * The trusted pair for `address`: when ca_file's directory holds ca.key
 * (the lab CA's key), a new certificate issued by it, written to
 * dir/trusted.crt and dir/trusted.key; otherwise server.crt and server.key
 * from ca_file's directory, which must both exist. Fills `out`, and `issued`
 * with 1 (new certificate) or 0 (the lab's own files). Returns 0,
 * ASSAY_EINVAL (no usable CA key or server pair) or ASSAY_EIO.
 */
int labcert_trusted(const char *dir, const char *ca_file, const char *address,
                    struct labcert_pair *out, int *issued, struct assay_error *err);

#endif
