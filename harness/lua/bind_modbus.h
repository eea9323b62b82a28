/*
 * bind_modbus.h: the `t.modbus` table that probes use to talk Modbus/TCP.
 *
 * Follows lua/binding.h: every argument is checked before a socket is
 * opened; misuse raises a Lua error; expected failures (out of scope,
 * refused, connection limit, timeout, closed) return `nil, "reason"`; device
 * exceptions are data. Every call checks env->scope, uses env->timeout_ms
 * (or a shorter per-connection timeout), keeps env->pause_ms between
 * requests, allows env->max_connections per device, and writes to env->sink.
 * Function code 08 is never sent.
 *
 * Reasons start with a stable word a profile can match: "out of scope",
 * "connection limit", "refused", "timeout", "closed", "reset", "malformed",
 * "unreachable".
 *
 *   conn, why = t.modbus.open(target [, opts])
 *       target: an endpoint { address = "127.0.0.2", port = 502, unit_id = 1 }
 *       or a device table with `address` and either `modbus = { port, unit_id }`
 *       or an `interfaces` list holding { kind = "modbus-tcp", port, unit_id }.
 *       port defaults to 502, unit_id to 1 (0..247 or 255).
 *       opts: { timeout_ms = n (at most the bench's), pause_ms = n (at least the bench's) }.
 *       Returns a connection (closed by conn:close(), a to-be-closed variable,
 *       or garbage collection) or nil, reason.
 *
 *   conn:read(table, address, count)
 *       table: "coils" | "discrete" | "holding" | "input"; address 0..65535;
 *       count 1..2000 (bits) or 1..125 (registers), within the address space.
 *       -> { v1, v2, ... }  (integers; bits are 0 or 1)
 *       -> { exception = 2, name = "illegal data address" }
 *       -> nil, "timeout: ..." | "closed: ..." | "malformed: ..."
 *
 *   conn:write(table, address, value_or_values)
 *       table: "coils" | "holding". An integer writes one item (FC 05 / 06); a
 *       list writes several (FC 15 / 16). -> true | exception table | nil, reason
 *
 *   conn:identify([level [, object_id]])
 *       level: "basic" | "regular" (default) | "extended" | "specific".
 *       -> { conformity = 0x82, pages = 3, truncated = false,
 *            vendor_name = "...", product_code = "...", revision = "...",
 *            vendor_url, product_name, model_name, user_application_name (when sent),
 *            objects = { { id = 0, value = "..." }, ... } }
 *       -> exception table | nil, reason. Values are the device's bytes, untrusted.
 *
 *   conn:server_id()
 *       -> { data = "<bytes>", id = <first byte>, run = true | false | nil }
 *          (`run` reads the second byte: 0xFF on, 0x00 off, anything else nil)
 *       -> exception table | nil, reason
 *
 *   conn:raw(bytes [, expect_max])
 *       Sends the bytes exactly (a whole ADU, MBAP header included; may be
 *       malformed) and collects the reply: one frame by its MBAP length, up to
 *       expect_max bytes (default and maximum 520), a close, or the deadline.
 *       -> { outcome = "reply" | "exception" | "timeout" | "closed" | "reset",
 *            bytes = "<what arrived>", complete = bool, exception = n (if any),
 *            elapsed_ms = n }
 *       -> nil, "closed" when the connection is no longer open.
 *       Raises for bytes that would carry function code 08, and for a framed
 *       request after a raw frame left the stream part-way through a frame.
 *
 *   conn:alive(register)    register = { table = "input", address = 0 } (the dossier's
 *       liveness_register), or conn:alive(table, address).
 *       -> true | false, reason   (an exception reply counts as alive)
 *
 *   conn:is_open() -> bool        conn:close() -> true (idempotent)
 */
#ifndef ASSAY_LUA_BIND_MODBUS_H
#define ASSAY_LUA_BIND_MODBUS_H

#include <lua.h>

#include "lua/binding.h"

/* Pushes the t.modbus table; env must outlive every use of the table and its connections. */
void bind_modbus_push(lua_State *L, struct binding_env *env);

#endif
