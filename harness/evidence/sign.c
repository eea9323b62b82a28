/* sign.c: Ed25519 keys, fingerprints, MANIFEST.sig and trust files (see sign.h). */
#include "sign.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manifest.h"

static const char *ossl_reason(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    return r ? r : "unknown reason";
}

static bool is_ed25519(EVP_PKEY *k)
{
    return k && EVP_PKEY_get_id(k) == EVP_PKEY_ED25519;
}

int sign_fingerprint(EVP_PKEY *key, char fpr[SIGN_FPR_LEN + 1], struct assay_error *err)
{
    unsigned char raw[32];
    size_t len = sizeof(raw);
    if (!is_ed25519(key) || EVP_PKEY_get_raw_public_key(key, raw, &len) != 1 || len != 32)
        return assay_fail(err, ASSAY_EINVAL, "not an Ed25519 key");
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (EVP_Digest(raw, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
        return assay_fail(err, ASSAY_EINTERNAL, "SHA-256 failed");
    for (unsigned i = 0; i < 32; i++)
        snprintf(fpr + 2 * i, 3, "%02x", md[i]);
    return 0;
}

/* Never prompt: with no passphrase, an encrypted key fails to load. */
static int pass_cb(char *buf, int size, int rwflag, void *u)
{
    (void)rwflag;
    const char *pass = u;
    if (!pass)
        return -1;
    size_t n = strlen(pass);
    if (n > (size_t)size)
        return -1;
    memcpy(buf, pass, n);
    return (int)n;
}

static FILE *open_new(const char *path, mode_t mode, struct assay_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) {
        assay_fail(err, ASSAY_EIO, "cannot create %s: %s", path,
                   errno == EEXIST ? "it exists already (not overwritten)" : strerror(errno));
        return NULL;
    }
    FILE *f = fchmod(fd, mode) == 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        assay_fail(err, ASSAY_EIO, "cannot create %s: %s", path, strerror(errno));
        close(fd);
        unlink(path);
    }
    return f;
}

static EVP_PKEY *generate(struct assay_error *err)
{
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
    if (!ctx || EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_keygen(ctx, &key) != 1) {
        assay_fail(err, ASSAY_EINTERNAL, "Ed25519 key generation failed: %s", ossl_reason());
        key = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    return key;
}

int sign_keygen(const char *prefix, const char *passphrase, char fpr[SIGN_FPR_LEN + 1],
                struct assay_error *err)
{
    char kpath[PATH_MAX], ppath[PATH_MAX];
    if (snprintf(kpath, sizeof(kpath), "%s.key", prefix) >= (int)sizeof(kpath) ||
        snprintf(ppath, sizeof(ppath), "%s.pub", prefix) >= (int)sizeof(ppath))
        return assay_fail(err, ASSAY_EINVAL, "key prefix too long");
    if (passphrase && !*passphrase)
        return assay_fail(err, ASSAY_EINVAL, "an empty passphrase is not a passphrase");
    if (passphrase && strlen(passphrase) > 1023)
        return assay_fail(err, ASSAY_EINVAL, "passphrase longer than 1023 bytes");
    EVP_PKEY *key = generate(err);
    if (!key)
        return err ? err->code : ASSAY_EINTERNAL;
    int rc = sign_fingerprint(key, fpr, err);
    FILE *kf = rc ? NULL : open_new(kpath, 0600, err);
    FILE *pf = kf ? open_new(ppath, 0644, err) : NULL;
    if (!kf || !pf) {
        if (kf) {
            fclose(kf);
            unlink(kpath);
        }
        EVP_PKEY_free(key);
        return err ? err->code : ASSAY_EIO;
    }
    int ok = PEM_write_PrivateKey(kf, key, passphrase ? EVP_aes_256_cbc() : NULL,
                                  (const unsigned char *)passphrase,
                                  passphrase ? (int)strlen(passphrase) : 0, NULL, NULL) == 1;
    ok = ok && PEM_write_PUBKEY(pf, key) == 1;
    ok = ok && fflush(kf) == 0 && fsync(fileno(kf)) == 0 && fflush(pf) == 0;
    ok = (fclose(kf) == 0) && ok;
    ok = (fclose(pf) == 0) && ok;
    EVP_PKEY_free(key);
    if (!ok) {
        unlink(kpath);
        unlink(ppath);
        return assay_fail(err, ASSAY_EIO, "cannot write the key pair %s.{key,pub}: %s", prefix,
                          ossl_reason());
    }
    return 0;
}

EVP_PKEY *sign_load_private(const char *path, const char *passphrase, struct assay_error *err)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        assay_fail(err, ASSAY_EIO, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    ERR_clear_error();
    EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, pass_cb, (void *)passphrase);
    fclose(f);
    if (!key) {
        assay_fail(err, ASSAY_EINVAL,
                   "cannot read the private key %s (%s): not a PEM private key, or a wrong or "
                   "missing passphrase",
                   path, ossl_reason());
    } else if (!is_ed25519(key)) {
        assay_fail(err, ASSAY_EINVAL, "%s is not an Ed25519 key", path);
        EVP_PKEY_free(key);
        key = NULL;
    }
    ERR_clear_error();
    return key;
}

static EVP_PKEY *read_pub_bio(BIO *b, const char *what, struct assay_error *err)
{
    ERR_clear_error();
    EVP_PKEY *key = b ? PEM_read_bio_PUBKEY(b, NULL, pass_cb, NULL) : NULL;
    if (!key)
        assay_fail(err, ASSAY_EINVAL, "%s: not a PEM public key (%s)", what, ossl_reason());
    else if (!is_ed25519(key)) {
        assay_fail(err, ASSAY_EINVAL, "%s is not an Ed25519 key", what);
        EVP_PKEY_free(key);
        key = NULL;
    }
    ERR_clear_error();
    return key;
}

EVP_PKEY *sign_load_public(const char *path, struct assay_error *err)
{
    size_t len;
    char *text = manifest_slurp(path, 64u << 10, &len, err);
    if (!text)
        return NULL;
    BIO *b = BIO_new_mem_buf(text, (int)len);
    EVP_PKEY *key = read_pub_bio(b, path, err);
    BIO_free(b);
    free(text);
    return key;
}

static int sign_bytes(EVP_PKEY *key, const void *msg, size_t len, unsigned char sig[64],
                      struct assay_error *err)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t siglen = 64;
    int ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) == 1 &&
             EVP_DigestSign(ctx, sig, &siglen, msg, len) == 1 && siglen == 64;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return assay_fail(err, ASSAY_EINTERNAL, "Ed25519 signing failed: %s", ossl_reason());
    return 0;
}

int sign_manifest(const char *dir, EVP_PKEY *key, char fpr[SIGN_FPR_LEN + 1],
                  struct assay_error *err)
{
    char mpath[PATH_MAX], spath[PATH_MAX];
    if (snprintf(mpath, sizeof(mpath), "%s/%s", dir, MANIFEST_NAME) >= (int)sizeof(mpath) ||
        snprintf(spath, sizeof(spath), "%s/%s", dir, MANIFEST_SIG_NAME) >= (int)sizeof(spath))
        return assay_fail(err, ASSAY_EINVAL, "path too long: %s", dir);
    char own[SIGN_FPR_LEN + 1];
    int rc = sign_fingerprint(key, own, err);
    if (rc)
        return rc;
    size_t len;
    char *text = manifest_slurp(mpath, MANIFEST_MAX_BYTES, &len, err);
    if (!text)
        return err ? err->code : ASSAY_EIO;
    unsigned char sig[64];
    rc = sign_bytes(key, text, len, sig, err);
    free(text);
    if (rc)
        return rc;
    unsigned char b64[96];
    EVP_EncodeBlock(b64, sig, 64);
    char out[256];
    int n = snprintf(out, sizeof(out),
                     "assay-signature: 1\nalgorithm: ed25519\nkey: %s\nsignature: %s\n", own,
                     (const char *)b64);
    rc = manifest_write_file(spath, out, (size_t)n, err);
    if (rc == 0 && fpr)
        memcpy(fpr, own, sizeof(own));
    return rc;
}

/* Takes the next line of text (which must end in "\n") and checks it starts with `key`. */
static const char *field(const char **p, const char *end, const char *key, size_t *vlen)
{
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    size_t klen = strlen(key);
    if (!nl || (size_t)(nl - *p) < klen || memcmp(*p, key, klen))
        return NULL;
    const char *v = *p + klen;
    *vlen = (size_t)(nl - v);
    *p = nl + 1;
    return v;
}

int sign_parse(const char *text, size_t len, struct sign_sig *out, struct assay_error *err)
{
    const char *p = text, *end = text + len;
    size_t n;
    const char *v = field(&p, end, "assay-signature: ", &n);
    if (!v || n != 1 || *v != '1')
        return assay_fail(err, ASSAY_EINVAL, "line 1: expected \"assay-signature: 1\"");
    v = field(&p, end, "algorithm: ", &n);
    if (!v || n != 7 || memcmp(v, "ed25519", 7))
        return assay_fail(err, ASSAY_EINVAL, "line 2: expected \"algorithm: ed25519\"");
    v = field(&p, end, "key: ", &n);
    bool hex = v && n == SIGN_FPR_LEN;
    for (size_t i = 0; hex && i < n; i++)
        hex = (v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f');
    if (!hex)
        return assay_fail(err, ASSAY_EINVAL, "line 3: expected \"key: <64 lowercase hex>\"");
    memcpy(out->fpr, v, SIGN_FPR_LEN);
    out->fpr[SIGN_FPR_LEN] = 0;
    v = field(&p, end, "signature: ", &n);
    unsigned char raw[72], again[96];
    /* 64 bytes are 88 base64 characters; decoding them yields 66 bytes, the last two padding. */
    if (!v || n != 88 || EVP_DecodeBlock(raw, (const unsigned char *)v, 88) != 66 ||
        EVP_EncodeBlock(again, raw, 64) != 88 || memcmp(again, v, 88))
        return assay_fail(err, ASSAY_EINVAL,
                          "line 4: expected \"signature: <base64 of 64 bytes>\"");
    memcpy(out->sig, raw, 64);
    if (p != end)
        return assay_fail(err, ASSAY_EINVAL, "line 5: unexpected text after the signature");
    return 0;
}

int sign_check(const void *msg, size_t len, const struct sign_sig *sig,
               const struct sign_keyring *ring, struct assay_error *err)
{
    for (size_t i = 0; i < ring->n; i++) {
        if (strcmp(ring->fpr[i], sig->fpr))
            continue;
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        int ok = ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, ring->keys[i]) == 1 &&
                 EVP_DigestVerify(ctx, sig->sig, 64, msg, len) == 1;
        EVP_MD_CTX_free(ctx);
        ERR_clear_error();
        if (ok)
            return 0;
        return assay_fail(err, ASSAY_EINVAL, "the signature does not match the manifest (key %s)",
                          sig->fpr);
    }
    return assay_fail(err, ASSAY_EINVAL, "signed by a key that was not given: %s", sig->fpr);
}

static int ring_add(struct sign_keyring *ring, EVP_PKEY *key, struct assay_error *err)
{
    char fpr[SIGN_FPR_LEN + 1];
    int rc = sign_fingerprint(key, fpr, err);
    for (size_t i = 0; rc == 0 && i < ring->n; i++)
        if (!strcmp(ring->fpr[i], fpr)) {
            EVP_PKEY_free(key); /* the same key twice: keep one */
            return 0;
        }
    if (rc == 0 && ring->n >= SIGN_MAX_KEYS)
        rc = assay_fail(err, ASSAY_EINVAL, "more than %d trusted keys", SIGN_MAX_KEYS);
    EVP_PKEY **keys = rc ? NULL : realloc(ring->keys, (ring->n + 1) * sizeof(*keys));
    if (keys)
        ring->keys = keys;
    char(*fprs)[SIGN_FPR_LEN + 1] =
        keys ? realloc(ring->fpr, (ring->n + 1) * sizeof(*ring->fpr)) : NULL;
    if (fprs)
        ring->fpr = fprs;
    if (rc == 0 && (!keys || !fprs))
        rc = assay_fail(err, ASSAY_ENOMEM, "out of memory");
    if (rc) {
        EVP_PKEY_free(key);
        return rc;
    }
    ring->keys[ring->n] = key;
    memcpy(ring->fpr[ring->n], fpr, sizeof(fpr));
    ring->n++;
    return 0;
}

int sign_keyring_add_file(struct sign_keyring *ring, const char *path, struct assay_error *err)
{
    EVP_PKEY *key = sign_load_public(path, err);
    if (!key)
        return err ? err->code : ASSAY_EINVAL;
    return ring_add(ring, key, err);
}

static int trust_pem(struct sign_keyring *ring, const char *start, size_t n, const char *path,
                     int lineno, struct assay_error *err)
{
    char what[PATH_MAX + 32];
    snprintf(what, sizeof(what), "%s:%d", path, lineno);
    BIO *b = BIO_new_mem_buf(start, (int)n);
    EVP_PKEY *key = read_pub_bio(b, what, err);
    BIO_free(b);
    return key ? ring_add(ring, key, err) : (err ? err->code : ASSAY_EINVAL);
}

static int trust_path(struct sign_keyring *ring, const char *line, size_t n, const char *path,
                      int lineno, struct assay_error *err)
{
    char full[PATH_MAX];
    const char *slash = strrchr(path, '/');
    int dlen = (line[0] == '/' || !slash) ? 0 : (int)(slash - path + 1);
    if (snprintf(full, sizeof(full), "%.*s%.*s", dlen, path, (int)n, line) >= (int)sizeof(full))
        return assay_fail(err, ASSAY_EINVAL, "%s:%d: path too long", path, lineno);
    int rc = sign_keyring_add_file(ring, full, err);
    if (rc && err) {
        char inner[ASSAY_ERROR_MAX];
        memcpy(inner, err->msg, sizeof(inner));
        assay_fail(err, rc, "%s:%d: %s", path, lineno, inner);
    }
    return rc;
}

int sign_keyring_add_trust(struct sign_keyring *ring, const char *path, struct assay_error *err)
{
    size_t len;
    char *text = manifest_slurp(path, SIGN_MAX_TRUST, &len, err);
    if (!text)
        return err ? err->code : ASSAY_EIO;
    static const char begin[] = "-----BEGIN PUBLIC KEY-----", end[] = "-----END PUBLIC KEY-----";
    int rc = 0, lineno = 0, pem_line = 0;
    const char *pem = NULL;
    for (size_t off = 0; rc == 0 && off < len;) {
        const char *line = text + off;
        const char *nl = memchr(line, '\n', len - off);
        size_t n = nl ? (size_t)(nl - line) : len - off;
        off += n + (nl ? 1 : 0);
        lineno++;
        while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
            n--;
        if (pem) {
            if (n == sizeof(end) - 1 && !memcmp(line, end, n)) {
                rc = trust_pem(ring, pem, (size_t)(line + n - pem), path, pem_line, err);
                pem = NULL;
            }
            continue;
        }
        if (n == 0 || line[0] == '#')
            continue;
        if (n == sizeof(begin) - 1 && !memcmp(line, begin, n)) {
            pem = line;
            pem_line = lineno;
            continue;
        }
        rc = trust_path(ring, line, n, path, lineno, err);
    }
    if (rc == 0 && pem)
        rc = assay_fail(err, ASSAY_EINVAL, "%s:%d: a public key without its END line", path,
                        pem_line);
    free(text);
    return rc;
}

void sign_keyring_release(struct sign_keyring *ring)
{
    for (size_t i = 0; i < ring->n; i++)
        EVP_PKEY_free(ring->keys[i]);
    free(ring->keys);
    free(ring->fpr);
    ring->keys = NULL;
    ring->fpr = NULL;
    ring->n = 0;
}
