/*
 * bind_labbroker.h: the `t.labbroker` table: the lab's own MQTT broker and
 * the CONNACK-3 refuser, for devices whose interface is `mqtt-client`
 * (drivers/labbroker.h, drivers/mqtt_refuser.h).
 *
 * Follows lua/binding.h: arguments are checked before anything starts;
 * misuse raises; expected failures return `nil, "reason"` starting with a
 * stable word: "out of scope", "busy" (mosquitto could not take the port),
 * "timeout", "error". The broker's address is the interface's
 * broker_address (default 127.0.0.1), which the bench puts in scope.
 *
 * iface: the `dut.mqtt_client` table: { port = n, broker_address = "127.0.0.1",
 *   tls = bool, ca = "/path/lab-ca.crt" }.
 *
 *   b, why = t.labbroker.start(iface [, { tls = "trusted" | "untrusted" | false,
 *                                          payload_max = n (bytes kept per message, 512) }])
 *       tls defaults to "trusted" when iface.tls, else false. The broker's files
 *       (configuration, mosquitto's log, the record) go to
 *       <device evidence dir>/labbroker/broker-XXXXXX (the parent of
 *       env->evidence_dir), else to a /tmp directory removed at close.
 *       -> a broker (userdata; __gc and __close stop it), or nil, why
 *     r = b:collect(ms | { ms = n, connects = n, messages = n })
 *       Waits up to ms (at most 120000) or until that many device CONNECTs or
 *       PUBLISHes were recorded, and returns everything recorded so far:
 *       -> { tls = "plain" | "trusted" | "untrusted", port = n, elapsed_ms = n,
 *            tcp_connections = n (TCP connections the broker accepted),
 *            connects_seen = n, messages_seen = n,
 *            connects = { { client_id, username (nil: none), password_present = bool,
 *                           password = "<bytes>" (nil: none), tls = bool, time_ms = n,
 *                           peer = "127.0.0.1" }, ... },
 *            messages = { { client_id, topic, bytes = n (size), retained = bool, qos = n,
 *                           payload = "<first payload_max bytes>", time_ms = n }, ... } }
 *       The harness's own connections (client ids "assay-lab-...") are left out.
 *     ok, why = b:publish(topic, payload [, { retain = false, qos = 1 }])
 *       Publishes through the broker as the harness's own client.
 *       -> true | nil, "error: ..." | "timeout"
 *     r = b:stop()   -> { killed = bool, stop_ms = n }; idempotent (later: { already = true })
 *
 *   r, why = t.labbroker.refuser(iface [, { ms = n (1..120000, default 10000),
 *                                           tls = "trusted" | false, code = 1..5 (3) }])
 *       Listens on the broker's port for ms, answering each CONNECT with CONNACK code.
 *       -> { attempts = n, connects = n, tls_failures = n, elapsed_ms = n, window_ms = n,
 *            times_ms = { n, ... }, client_ids = { "...", ... } }
 *       -> nil, "busy: ..." | "out of scope: ..." | "error: ..."
 *
 * Every call blocks at most its window plus env->timeout_ms.
 */
#ifndef ASSAY_LUA_BIND_LABBROKER_H
#define ASSAY_LUA_BIND_LABBROKER_H

#include <lua.h>

#include "lua/binding.h"

/* Pushes the t.labbroker table; its functions keep `env` as upvalue 1 (it must outlive them). */
void bind_labbroker_push(lua_State *L, struct binding_env *env);

#endif
