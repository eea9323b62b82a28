/*
 * bind_mqtt.h: the `t.mqtt` table that probes use to talk MQTT (drivers/mqtt.h,
 * drivers/mqtt_raw.h, drivers/tlsprobe.h).
 *
 * Follows lua/binding.h: every argument is checked before anything is sent;
 * misuse raises a Lua error; expected failures return `nil, "reason"` where
 * the reason starts with a stable word: "out of scope", "timeout",
 * "transport", "refused", "closed", "error". A refused CONNECT is data in
 * t.mqtt.connect (accepted = false) and a failure in t.mqtt.session. Every
 * call checks env->scope, uses env->timeout_ms as its deadline (a per-call
 * `timeout_ms` may only shorten it) and writes to env->sink.
 *
 * endpoint: { address = "127.0.0.2", port = 1883, tls = false } (the
 *   `dut.mqtt_broker` table), or a device table with `address` and a
 *   `mqtt_broker` sub-table. port defaults to 8883 with tls, 1883 without.
 *
 * creds / opts (all optional):
 *   { username = "u" (or user = "u"), password = "<bytes>", client_id = "id",
 *     version = 4 | 5 (default 4, MQTT 3.1.1), session_expiry = seconds (MQTT 5: the
 *     Session Expiry Interval; default 0, the session ends with the connection), timeout_ms = n,
 *     tls = { ca = "/path/ca.pem", verify = bool (default: true when ca is given) } }
 *   TLS is used when endpoint.tls is true or opts.tls is given.
 *
 *   r, why = t.mqtt.connect(endpoint [, creds])
 *       -> { accepted = bool, code = n, reason = "not authorised", version = 4|5,
 *            elapsed_ms = n }
 *       -> nil, "timeout" | "transport: <detail>" | "out of scope: ..."
 *
 *   s, why = t.mqtt.session(endpoint [, creds])
 *       -> a session (userdata; also closed by __gc and __close), or
 *          nil, "refused: not authorised (code 5)" | "timeout" | "transport: ..."
 *     r, why = s:subscribe(filter | { filter, ... } [, { max_messages = 100, max_bytes = 1 MiB,
 *                                      ms = timeout, quiet_ms = 0, qos = 0 }])
 *       Up to 16 filters go in one SUBSCRIBE, followed by one collection.
 *       quiet_ms > 0 stops the collection once nothing arrived for that long (retained
 *       messages come at once; live ones may never come).
 *       -> { code = n (SUBACK for the first filter: granted QoS or failure code; -1 none),
 *            codes = { n, ... } (one per filter), stop = "time" | "count" | "bytes" | "lost"
 *            | "refused" (every filter refused) | "quiet", detail = "why lost" | nil,
 *            raw = bool (the bounded raw engine collected), elapsed_ms = n, bytes = n,
 *            messages = { { topic = "a/b", payload = "<bytes>", retained = bool, qos = n,
 *                           size = n (before max_bytes cut), after_ms = n }, ... } }
 *       -> nil, "closed" (the session was lost earlier)
 *       Messages still queued from an earlier subscription of the session are included.
 *       stop = "count" or "bytes" means the device sent at least that much: the cap is the
 *       observation. ms is at most 120000. MQTT 3.1.1 and 5 run on the bounded raw
 *       engine; only a password holding NUL bytes goes through paho, where an unanswered
 *       SUBSCRIBE may be held for 10 s.
 *     ok, why = s:publish(topic, payload [, { retain = false, qos = 0 }])
 *       -> true | nil, "closed" | "timeout" | "error: ..."
 *     s:close()    -> nothing; idempotent
 *     s:connected() -> bool
 *
 *   r, why = t.mqtt.tls_probe(endpoint [, { ca = "/path/ca.pem", sni = "name", timeout_ms = n }])
 *       One handshake per version, TLS 1.0 to 1.3, at security level 0.
 *       -> { versions = { ["TLSv1.0"] = { accepted = bool, cipher = "...", reason = "...",
 *                                          elapsed_ms = n }, ... },
 *            accepted = { "TLSv1.2", "TLSv1.3" },
 *            chain = { { subject, issuer, not_before, not_after, key_type, key_bits,
 *                        sig_alg, self_signed, sha256 }, ... },
 *            verified = bool (only with ca), verify_error = "...", name_matches = bool }
 *       -> nil, "out of scope: ..." | "error: <CA file unreadable>"
 *
 *   r, why = t.mqtt.raw(endpoint, kind_or_bytes [, opts])
 *       kind: "bad-length", "bad-utf8-topic", "wildcard-plus", "wildcard-hash", "oversize",
 *       "ping" (each sent after an accepted CONNECT), or a string of bytes sent exactly
 *       (without a CONNECT first unless opts.connect = true). Over TLS when the endpoint
 *       or opts.tls says so (the bytes go inside the TLS session).
 *       opts: creds fields for the CONNECT, connect = bool, oversize = n (bytes, <= 16 MiB),
 *             timeout_ms = n.
 *       -> { outcome = "reply" | "closed" | "reset" | "silent" | "not accepted" | "tls failed",
 *            detail = "<TLS failure>" | nil,
 *            closed = bool (FIN or reset), silent = bool, sent = bool, connack = n (-1 none),
 *            reply = { type = "PINGRESP", bytes = "<bytes>", malformed = bool,
 *                      code = n (CONNACK) } | nil, reply_ms = n, elapsed_ms = n }
 *       -> nil, "unreachable" | "out of scope: ..."
 *
 *   r, why = t.mqtt.alive(endpoint [, creds])
 *       CONNECT, then PINGREQ expecting PINGRESP, over TLS when the endpoint says so.
 *       -> { alive = bool (any CONNACK or PINGRESP), pingresp = bool, code = n (-1 none),
 *            rtt_ms = n (-1 none), outcome = "reply" | "silent" | "closed" | "unreachable" ... }
 *       -> nil, "out of scope: ..."
 */
#ifndef ASSAY_LUA_BIND_MQTT_H
#define ASSAY_LUA_BIND_MQTT_H

#include <lua.h>

#include "lua/binding.h"

/* Pushes the t.mqtt table; its functions keep `env` as upvalue 1 (it must outlive them). */
void bind_mqtt_push(lua_State *L, struct binding_env *env);

#endif
