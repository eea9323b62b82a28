/*
 * fuzz_bench.c: libFuzzer target for the bench-file and dossier reader (libyaml
 * + the schema checks of core/yamldoc.c and core/bench_schema.c). The first
 * byte picks the schema; the rest is the file. Every input must end in a
 * converted document or diagnostics, never a crash, a leak or a hang.
 */
#include <stddef.h>
#include <stdint.h>

#include "core/bench.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const struct yschema *schema = data[0] & 1 ? &dossier_schema : &bench_schema;
    struct yamldoc doc;
    struct diag_list diags;
    diag_init(&diags);
    yamldoc_load_buffer(&doc, "fuzz.yaml", (const char *)data + 1, size - 1, schema, &diags);
    /* Exercise the position lookups on whatever was converted. */
    if (doc.root)
        yamldoc_where(&doc, doc.root, "devices", 0);
    yamldoc_release(&doc);
    diag_release(&diags);
    return 0;
}
