/*
 * bind_coap.h: the `t.coap` table that probes use to talk CoAP (drivers/coap.h).
 *
 * Follows lua/binding.h: every argument is checked before anything is sent;
 * misuse raises a Lua error; expected failures return `nil, "reason"`, where
 * the reason starts with a stable word: "out of scope", "timeout", "reset",
 * "unreachable", "dtls handshake failed", "error". Device answers of any code
 * are data. Every call checks env->scope, uses env->timeout_ms (a per-call
 * `timeout_ms` may only shorten it) and writes to env->sink.
 *
 * Sessions: get/put/post/delete/discover keep their libcoap session open for
 * the next request to the same peer and security (NoSec, or DTLS with the same
 * PSK) in a pool owned by this t.coap table (drivers/coap.h, struct
 * coapdrv_pool): a DTLS handshake is done once, not per request. Replies are
 * matched by token (and message id for ACK/RST); a late or repeated reply to
 * an earlier request is dropped and counted in the result's `stale`. A
 * session is closed after a reset, an ICMP error, a DTLS failure or a CON
 * request still unanswered at the deadline. The pool is closed by
 * t.coap.close(), or when the table is collected (the runtime collects after
 * every probe). dtls_probe first closes the pooled sessions to that address
 * (one association with a device at a time) and, like raw and alive, uses a
 * socket of its own.
 *
 * endpoint: { address = "127.0.0.2", port = 5683, dtls_port = 5684 }, or a
 *   device table with `address` and either `coap = { port, dtls_port }` or an
 *   `interfaces` list holding { kind = "coap", port, dtls_port }. port
 *   defaults to 5683 and dtls_port to 5684.
 *
 *   r, why = t.coap.get(endpoint, path [, opts])     also put, post, delete
 *       path: "/a/b?k=v" (segments and query as given, no percent-decoding).
 *       opts: { timeout_ms = n, confirmable = true (default) | false,
 *               payload = "<bytes>" (put/post; over 1024 bytes goes Block1),
 *               content_format = n, max_body = n (default 65536, at most 1 MiB),
 *               psk = { identity = "...", key = "..." } (CoAP over DTLS on dtls_port) }
 *       -> { code = "2.05", class = 2, detail = 5, type = "ACK" | "NON" | "CON",
 *            options = { { number = 12, name = "Content-Format", value = "<bytes>" }, ... },
 *            payload = "<bytes>", truncated = bool (body stopped at max_body),
 *            exchanges = n, bytes_sent = n, bytes_received = n, elapsed_ms = n,
 *            note = "..." (why a block-wise transfer stopped early, if it did),
 *       -> nil, "reset" | "timeout" | "unreachable" | "dtls handshake failed" | "out of scope: ..."
 *            stale = n (replies to earlier requests dropped, when any) }
 *       bytes_sent/received are CoAP message sizes summed over exchanges (no
 *       retransmissions); t.coap.raw gives exact datagram counts.
 *
 *   r, why = t.coap.discover(endpoint [, opts])
 *       GET /.well-known/core, then the RFC 6690 parser. The result of get,
 *       plus, when the code is 2.05 and the body parses:
 *         links = { { target = "/x", attrs = { { name = "rt", value = "v", quoted = true },
 *                                              { name = "obs" } } }, ... }
 *       or, when it does not parse: link_error = "link-format: offset N: ...".
 *
 *   r, why = t.coap.dtls_probe(endpoint, credentials [, opts])
 *       Handshake only, on dtls_port. credentials is either a PSK
 *         { identity = "...", key = "..." }
 *       or certificates (PKI):
 *         { pki = { ca = "...", cert = "...", key = "..." } }
 *       where each of ca, cert, key is PEM text ("-----BEGIN ...") or the path
 *       of a PEM file (e.g. the certificate/private_key of a bench credential
 *       such as coap_cert), all optional: without cert/key the client presents
 *       no certificate; without ca the server's chain is described but not
 *       verified. The PKI client offers certificate suites only (a PSK-only
 *       server rejects it) and accepts any server certificate during the
 *       handshake, at OpenSSL security level 0 so weak keys and suites show.
 *       -> { mode = "psk" | "pki",
 *            state = "established" | "rejected" | "silent" | "unreachable",
 *            established = bool, version = "DTLSv1.2", cipher = "...", elapsed_ms = n,
 *            -- pki only:
 *            client_cert = bool (a client certificate was offered),
 *            server_cert = { subject = "CN=...,O=...", issuer = "...",
 *                            not_before = "2026-01-31T12:00:00Z", not_after = "...",
 *                            key_type = "EC" | "RSA" | ..., key_bits = n,
 *                            sig_alg = "ecdsa-with-SHA256", self_signed = bool,
 *                            sha256 = "<hex>" },
 *            chain_length = n, name_matches = bool (IP SAN or CN names the address),
 *            ca_checked = bool, verified = bool (when ca_checked),
 *            verify_error = "..." (when not verified) }
 *       server_cert and the fields after it are present whenever the server
 *       sent a certificate, also when the handshake then failed (e.g. the
 *       server requires a client certificate and none was given).
 *       "rejected" means the peer answered but the handshake did not complete
 *       (a wrong key shows this way only at the deadline: DTLS drops bad records).
 *       A cert or CA file that cannot be read returns nil, "error: ...".
 *
 *   r, why = t.coap.raw(endpoint, message [, opts])
 *       message: a string of bytes sent exactly, or a table:
 *         { preset = "tkl-15" } (names in drivers/coap.h: bad-version, tkl-15,
 *           truncated-option, unknown-critical, delta-overflow, reserved-nibble,
 *           absurd-block2, absurd-block1, ping), or a field description
 *         { version = 1, type = 0, tkl = n (default: #token), code = 1, mid = n,
 *           token = "<bytes>", options = { { number = 11, value = "x" }, ... },
 *           tail = "<raw bytes after the options>", payload = "<bytes>" }
 *       opts: { timeout_ms = n, max_replies = 1..8 (default 1) }
 *       -> { bytes_sent = n, bytes_received = n, datagrams = n, unreachable = bool,
 *            elapsed_ms = n, replies = { { bytes = "<bytes>", size = n, after_ms = n,
 *            version = n, type = "RST", code = "0.00", mid = n, token = "<bytes>" }, ... } }
 *       Silence is an empty `replies`. Header fields are absent for replies
 *       shorter than 4 bytes; token is absent when tkl > 8 or truncated.
 *
 *   ok, rtt_or_why = t.coap.alive(endpoint [, opts])
 *       A CoAP ping (empty CON). -> true, rtt_ms | nil, "timeout" | "out of scope: ..."
 *
 *   n = t.coap.close()
 *       Closes every pooled session now (DTLS ones with close_notify); returns how many.
 */
#ifndef ASSAY_LUA_BIND_COAP_H
#define ASSAY_LUA_BIND_COAP_H

#include <lua.h>

#include "lua/binding.h"

/* Pushes the t.coap table; its functions keep `env` as upvalue 1 (it must outlive them). */
void bind_coap_push(lua_State *L, struct binding_env *env);

#endif
