/*
 * bindings.c: the protocol bindings compiled into the probe's `t` table
 * (binding.h). Each protocol issue adds its {name, push} entry here; the
 * runtime adds its own pure helpers (t.random_credential, t.sleep_ms, ...)
 * next to them.
 */
#include "lua/binding.h"

const struct binding assay_bindings[] = {
    {NULL, NULL},
};
