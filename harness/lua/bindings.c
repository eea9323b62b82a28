/*
 * bindings.c: the protocol bindings compiled into the probe's `t` table
 * (binding.h). Each protocol adds its {name, push} entry here; the runtime
 * adds its own pure helpers (t.random_credential, t.sleep_ms, ...) next to them.
 */
#include "lua/binding.h"
#include "lua/bind_coap.h"
#include "lua/bind_documents.h"
#include "lua/bind_labbroker.h"
#include "lua/bind_modbus.h"
#include "lua/bind_mqtt.h"
#include "lua/bind_surface.h"

const struct binding assay_bindings[] = {
    {"coap", bind_coap_push},
    {"documents", bind_documents_push},
    {"labbroker", bind_labbroker_push},
    {"modbus", bind_modbus_push},
    {"mqtt", bind_mqtt_push},
    {"surface", bind_surface_push},
    {NULL, NULL},
};
