/*
 * helpers.h: the probe's arguments: the `dut` table and the `t` table.
 *
 * `t` holds one sub-table per compiled-in protocol binding (assay_bindings[],
 * binding.h) plus pure helpers written in C:
 *   t.random_credential() -> { username = "assay-<8 hex>", password = <20 chars> }
 *       from getrandom(2): a credential no device can know in advance;
 *   t.sleep_ms(ms) -> slept_ms: sleeps at most ms (<= 60000) and never past
 *       the test case's deadline;
 *   t.now_ms() -> monotonic milliseconds, for measuring device timing;
 *   t.sha256(bytes) -> 64 hex digits (a fingerprint: compare secrets across units
 *       without storing them);
 *   t.params: the test case's parameters.
 * `dut` is the bench device object decoded from JSON (id, model, serial, mac,
 * firmware, address, state, interfaces, credentials) plus, for each interface
 * kind, the first interface of that kind under the kind's name with '_' for
 * '-' (dut.mqtt_broker, dut.coap, dut.modbus_tcp, dut.mqtt_client), with
 * `address` filled in from the device when the interface has none.
 *
 * Both functions run in protected mode (they allocate) and do not block.
 */
#ifndef ASSAY_LUA_HELPERS_H
#define ASSAY_LUA_HELPERS_H

#include <jansson.h>
#include <lua.h>

#include "core/error.h"
#include "lua/binding.h"

/* Pushes t. env may be NULL (no protocol bindings are pushed then). params may be NULL. */
int helpers_push_t(lua_State *L, struct binding_env *env, const json_t *params,
                   struct assay_error *err);

/* Pushes dut for a bench device object. Returns 0 or ASSAY_EINVAL. */
int helpers_push_dut(lua_State *L, const json_t *device, struct assay_error *err);

#endif
