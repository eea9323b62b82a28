/*
 * bind_surface.h: the `t.surface` table that probes use for the attack-surface
 * scan (EN 303 645 provision 5.6-1), over drivers/tcpscan.h.
 *
 * Follows lua/binding.h: arguments are checked before any socket is opened;
 * misuse (a bad port, a bad option) raises; an address outside the bench's
 * scope returns nil, "out of scope: ..."; what the device does (open, closed,
 * silent) is data. One connection at a time, each closed at once, with the
 * bench's pause between ports; a per-port timeout of at most env->timeout_ms.
 *
 *   ports, why = t.surface.tcp_scan(address, { 22, 23, ... } [, opts])
 *       opts: { timeout_ms = n (per port, at most the bench's, default 1000 or the
 *               bench's if lower), pause_ms = n (at least the bench's),
 *               budget_ms = n (the whole scan, default 60000) }
 *       -> { { port = 22, state = "closed", elapsed_ms = 0 }, ... } in the order given;
 *          state is "open" | "closed" | "filtered" | "unreachable" | "skipped"
 *          (skipped: the budget ran out first). At most 1024 ports.
 *
 *   r, why = t.surface.udp_coap(address, port [, opts])
 *       A CoAP ping (empty CON) to a UDP port. opts: { timeout_ms = n }.
 *       -> { port = 5683, state = "open" | "closed" | "filtered", elapsed_ms = n,
 *            coap_reply = "reset" | "ack" | "con" | "non" | "not coap" (when open) }
 */
#ifndef ASSAY_LUA_BIND_SURFACE_H
#define ASSAY_LUA_BIND_SURFACE_H

#include <lua.h>

#include "lua/binding.h"

/* Pushes the t.surface table; env must outlive every use of it. */
void bind_surface_push(lua_State *L, struct binding_env *env);

#endif
