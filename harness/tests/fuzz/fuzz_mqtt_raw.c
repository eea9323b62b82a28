/*
 * fuzz_mqtt_raw.c: libFuzzer target for the MQTT reply parser of the raw path
 * (mqttraw_parse), which reads whatever a device sends.
 *
 * Built with clang -fsanitize=fuzzer by scripts/fuzz, and with the ordinary
 * compiler together with replay_main.c so the corpus is replayed in the
 * default test run. Beyond "no crash", it checks the parser's promises: a
 * whole packet only when it fits the buffer, lengths that add up, caps on the
 * kept first bytes and SUBACK codes, and a walk over a stream of packets that
 * always moves forward.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/mqtt_raw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct mqttraw_packet *p, int st, size_t len)
{
    if (st != MQTTRAW_PARSE_OK && st != MQTTRAW_PARSE_SHORT && st != MQTTRAW_PARSE_BAD) {
        abort();
    }
    if (p->nfirst > MQTTRAW_FIRST_MAX || p->nfirst > len || p->nsuback > MQTTRAW_MAX_SUBACK) {
        abort();
    }
    if (st == MQTTRAW_PARSE_OK &&
        (p->total_len > len || p->header_len < 2 || p->header_len > 5 ||
         p->total_len != p->header_len + p->remaining || p->remaining > MQTTRAW_MAX_REMAINING)) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (buf == NULL) {
        return 0;
    }
    memcpy(buf, data, size);
    /* The input read as a stream of packets, as a device would send them. */
    size_t off = 0;
    for (int n = 0; n < 1000; n++) {
        struct mqttraw_packet p;
        int st = mqttraw_parse(buf + off, size - off, &p);
        check(&p, st, size - off);
        if (st != MQTTRAW_PARSE_OK || p.total_len == 0) {
            break;
        }
        off += p.total_len;
    }
    free(buf);
    return 0;
}
