/*
 * sign.h: Ed25519 keys and the signature of a run's manifest (MANIFEST.sig).
 *
 * Keys are PEM files written by sign_keygen() (`assay keygen PREFIX`):
 *   PREFIX.key  PKCS#8 private key, mode 0600; with a passphrase it is an
 *               ENCRYPTED PRIVATE KEY (PBES2, AES-256-CBC);
 *   PREFIX.pub  SubjectPublicKeyInfo public key ("BEGIN PUBLIC KEY").
 * A key's fingerprint is the SHA-256 (lowercase hex) of its raw 32-byte
 * public key.
 *
 * MANIFEST.sig is four text lines, each ending in "\n", in this order:
 *   assay-signature: 1
 *   algorithm: ed25519
 *   key: <fingerprint of the signing key, 64 lowercase hex>
 *   signature: <base64 (RFC 4648, padded, one line) of the 64-byte signature>
 * The signature is Ed25519 (EVP_DigestSign, no digest) over the exact bytes
 * of MANIFEST.sha256. The "key" line only says which key signed: a signature
 * is accepted only if a key the verifier was given has that fingerprint and
 * the signature checks with it.
 *
 * A trust file lists the lab's keys, one entry per line: blank lines and
 * lines starting with '#' are ignored; a line "-----BEGIN PUBLIC KEY-----"
 * starts an inline PEM public key that runs to "-----END PUBLIC KEY-----";
 * any other line is the path of a PEM public key file, relative to the trust
 * file's directory unless it starts with '/'. Every entry must load: a bad
 * entry fails the whole file, naming its line.
 *
 * Ownership: EVP_PKEY pointers returned here belong to the caller
 * (EVP_PKEY_free); a keyring owns the keys added to it.
 * Blocking: local file I/O only.
 */
#ifndef ASSAY_EVIDENCE_SIGN_H
#define ASSAY_EVIDENCE_SIGN_H

#include <openssl/evp.h>
#include <stddef.h>

#include "core/error.h"

#define SIGN_FPR_LEN 64           /* hex characters in a fingerprint */
#define SIGN_MAX_KEYS 256         /* keys in one keyring */
#define SIGN_MAX_TRUST (1u << 20) /* bytes of a trust file */

/* Keys a verifier trusts. Zero-initialise; release with sign_keyring_release(). */
struct sign_keyring {
    EVP_PKEY **keys;
    char (*fpr)[SIGN_FPR_LEN + 1];
    size_t n;
};

/* A parsed MANIFEST.sig. */
struct sign_sig {
    char fpr[SIGN_FPR_LEN + 1];
    unsigned char sig[64];
};

/*
 * Creates a new Ed25519 key pair as PREFIX.key (0600) and PREFIX.pub (0644),
 * the private key encrypted when `passphrase` is not NULL (it must not be
 * empty). Refuses to overwrite either file. Writes the fingerprint to `fpr`.
 * Returns 0, or ASSAY_EINVAL/ASSAY_EIO/ASSAY_EINTERNAL with err set (nothing
 * is left behind on failure).
 */
int sign_keygen(const char *prefix, const char *passphrase, char fpr[SIGN_FPR_LEN + 1],
                struct assay_error *err);

/* Loads an Ed25519 private key from a PEM file; `passphrase` may be NULL
 * (never prompts: an encrypted key without a passphrase fails). NULL on error. */
EVP_PKEY *sign_load_private(const char *path, const char *passphrase, struct assay_error *err);

/* Loads an Ed25519 public key from a PEM file. NULL on error. */
EVP_PKEY *sign_load_public(const char *path, struct assay_error *err);

/* The key's fingerprint (works for a private or a public key). */
int sign_fingerprint(EVP_PKEY *key, char fpr[SIGN_FPR_LEN + 1], struct assay_error *err);

/* Signs `dir`/MANIFEST.sha256 with `key` and writes `dir`/MANIFEST.sig;
 * `fpr` (may be NULL) receives the signer's fingerprint. */
int sign_manifest(const char *dir, EVP_PKEY *key, char fpr[SIGN_FPR_LEN + 1],
                  struct assay_error *err);

/* Parses the text of a MANIFEST.sig strictly (format above). ASSAY_EINVAL
 * naming the bad line. */
int sign_parse(const char *text, size_t len, struct sign_sig *out, struct assay_error *err);

/*
 * Checks `sig` over `msg`: 0 when a key of `ring` has the signature's
 * fingerprint and the signature verifies with it; ASSAY_EINVAL with "signed
 * by a key that was not given: <fpr>" or "the signature does not match the
 * manifest (key <fpr>)" otherwise.
 */
int sign_check(const void *msg, size_t len, const struct sign_sig *sig,
               const struct sign_keyring *ring, struct assay_error *err);

/* Adds the public key in a PEM file to the ring. */
int sign_keyring_add_file(struct sign_keyring *ring, const char *path, struct assay_error *err);

/* Adds every key a trust file lists (format above). */
int sign_keyring_add_trust(struct sign_keyring *ring, const char *path, struct assay_error *err);

void sign_keyring_release(struct sign_keyring *ring);

#endif
