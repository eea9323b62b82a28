/*
 * fuzz_modbus_ident.c: libFuzzer target for the Modbus reply parsers that read
 * device bytes: Read Device Identification (FC 0x2B/0x0E) and Report Server
 * ID (FC 0x11).
 *
 * Built with clang -fsanitize=fuzzer by scripts/fuzz, and with the ordinary
 * compiler together with replay_main.c so the corpus is replayed in the
 * default test run. Beyond "no crash", it checks the parsers' promises:
 * object values point inside the frame, counts within their caps, a
 * server-id length within its buffer, and a message for every refusal.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/modbus.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_page(const struct modbus_ident_page *p, const uint8_t *buf, size_t len)
{
    if (p->exception != 0) {
        return;
    }
    if (p->nobjects > MODBUS_IDENT_PAGE_MAX) {
        abort();
    }
    for (size_t i = 0; i < p->nobjects; i++) {
        const uint8_t *v = p->objects[i].value;
        if (p->objects[i].len > 0 && (v < buf || v + p->objects[i].len > buf + len)) {
            abort();
        }
    }
}

static void one(const uint8_t *buf, size_t len, uint16_t tid, uint8_t unit)
{
    struct modbus_ident_page page;
    struct assay_error err = {0};
    memset(&page, 0, sizeof(page));
    if (modbus_ident_parse(buf, len, tid, unit, &page, &err) == 0) {
        check_page(&page, buf, len);
    } else if (err.msg[0] == '\0') {
        abort();
    }
    struct modbus_server_id sid;
    memset(&sid, 0, sizeof(sid));
    if (modbus_server_id_parse(buf, len, tid, unit, &sid, &err) == 0 &&
        sid.len > sizeof(sid.data)) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A private copy, so reads past the end are caught by the sanitizers. */
    uint8_t *buf = malloc(size ? size : 1);
    if (buf == NULL) {
        return 0;
    }
    memcpy(buf, data, size);
    /* The header's own transaction id and unit, so that frames get past the checks. */
    uint16_t tid = size >= 2 ? (uint16_t)(buf[0] << 8 | buf[1]) : 0;
    uint8_t unit = size >= 7 ? buf[6] : 1;
    one(buf, size, tid, unit);
    one(buf, size, 0, 1);
    free(buf);
    return 0;
}
