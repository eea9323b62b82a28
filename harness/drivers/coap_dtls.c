/*
 * coap_dtls.c: DTLS handshake probes for the CoAP driver (see coap.h): does
 * the device offer DTLS, does it accept these credentials, and what was
 * negotiated (protocol version and cipher suite, read from OpenSSL).
 */
#include "coap_internal.h"

#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>

const char *coapdrv_dtls_state_name(enum coapdrv_dtls_state s)
{
    static const char *const names[] = {"established", "rejected", "silent", "unreachable"};
    return (unsigned)s < sizeof names / sizeof *names ? names[s] : "unknown";
}

static void read_negotiated(const struct coapdrv_conn *c, struct coapdrv_dtls_result *res)
{
    coap_tls_library_t lib = COAP_TLS_LIBRARY_NOTLS;
    SSL *ssl = coap_session_get_tls(c->session, &lib);
    if (!ssl || lib != COAP_TLS_LIBRARY_OPENSSL)
        return;
    snprintf(res->version, sizeof res->version, "%s", SSL_get_version(ssl));
    snprintf(res->cipher, sizeof res->cipher, "%s", SSL_get_cipher_name(ssl));
}

bool coapdrv_dtls_peer_answered(const struct coapdrv_conn *c)
{
    coap_tls_library_t lib = COAP_TLS_LIBRARY_NOTLS;
    SSL *ssl = c->session ? coap_session_get_tls(c->session, &lib) : NULL;
    unsigned char rnd[SSL3_RANDOM_SIZE];
    size_t n;
    if (!ssl || lib != COAP_TLS_LIBRARY_OPENSSL)
        return false;
    n = SSL_get_server_random(ssl, rnd, sizeof rnd);
    for (size_t i = 0; i < n; i++)
        if (rnd[i])
            return true;
    return false;
}

int coapdrv_dtls_probe_psk(const struct coapdrv_target *t, const struct coapdrv_psk *psk,
                           struct coapdrv_dtls_result *res, struct assay_error *err)
{
    struct coapdrv_conn c;
    char summary[200];
    assay_ms start = clock_now_ms(), deadline;
    int rc;
    memset(res, 0, sizeof *res);
    if (!psk)
        return assay_fail(err, ASSAY_EINVAL, "coap: a DTLS probe needs a PSK");
    rc = coapdrv_conn_open(&c, t, psk, err);
    if (rc)
        return rc;
    transcript_note(t->sink, "coap", c.addr.peer, "dtls-handshake", "DTLS-PSK ClientHello sent");
    deadline = start + t->timeout_ms;
    while (c.dtls == 0 && c.nack == 0) {
        int64_t left = clock_remaining_ms(deadline);
        if (left <= 0)
            break;
        coap_io_process(c.ctx, (uint32_t)left);
        if (coap_session_get_state(c.session) == COAP_SESSION_STATE_ESTABLISHED)
            c.dtls = 1;
    }
    if (c.dtls > 0) {
        res->state = COAPDRV_DTLS_ESTABLISHED;
        read_negotiated(&c, res);
    } else if (c.nack == COAP_NACK_ICMP_ISSUE + 1 || coapdrv_icmp_seen()) {
        res->state = COAPDRV_DTLS_UNREACHABLE;
    } else if (c.dtls < 0 || c.nack || coapdrv_dtls_peer_answered(&c)) {
        res->state = COAPDRV_DTLS_REJECTED;
    } else {
        res->state = COAPDRV_DTLS_SILENT;
    }
    coapdrv_conn_close(&c);
    res->elapsed_ms = clock_now_ms() - start;
    snprintf(summary, sizeof summary, "DTLS-PSK handshake %s%s%s%s%s after %lld ms",
             coapdrv_dtls_state_name(res->state), res->version[0] ? ": " : "", res->version,
             res->cipher[0] ? " " : "", res->cipher, (long long)res->elapsed_ms);
    transcript_note(t->sink, "coap", c.addr.peer, "dtls-result", summary);
    return 0;
}
