/*
 * fuzz_mqtt_raw.c: libFuzzer target for the MQTT reply parser of the raw path
 * (mqttraw_parse) and the session's PUBLISH header decoder
 * (mqttraw_publish_header), which read whatever a device sends.
 *
 * Built with clang -fsanitize=fuzzer by scripts/fuzz, and with the ordinary
 * compiler together with replay_main.c so the corpus is replayed in the
 * default test run. Beyond "no crash", it checks the parser's promises: a
 * whole packet only when it fits the buffer, lengths that add up, caps on the
 * kept first bytes and SUBACK codes, and a walk over a stream of packets that
 * always moves forward. Every PUBLISH header met on the walk is decoded from
 * a copy holding only the bytes the decoder may read, at every prefix length
 * the session can hold (so ASan sees a read beyond them), and its offsets
 * must stay inside the packet. The walk is done as MQTT 3.1.1 and as MQTT 5
 * (property lengths, reason codes and properties in the replies and in the
 * PUBLISH header), and the whole input is also read as a property block.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/mqtt_raw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_str(const struct mqttraw_propstr *v)
{
    if (v->len > MQTTRAW_PROP_STR_MAX || v->len > v->full_len || (!v->present && v->len)) {
        abort();
    }
}

static void check_props(const struct mqttraw_props *pr)
{
    if ((pr->malformed && pr->why[0] == '\0') || (!pr->malformed && pr->why[0] != '\0')) {
        abort();
    }
    if (pr->receive_max > 65535 || pr->server_keepalive > 65535 || pr->max_qos > 255 ||
        pr->session_expiry > 0xffffffffLL || pr->max_packet_size > 0xffffffffLL) {
        abort();
    }
    check_str(&pr->assigned_client_id);
    check_str(&pr->reason_string);
    check_str(&pr->server_reference);
}

static void check(const struct mqttraw_packet *p, int st, size_t len)
{
    check_props(&p->props);
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

/* Decodes the PUBLISH header of p (at buf, `avail` bytes there) from each prefix. */
static void check_publish(const uint8_t *buf, size_t avail, const struct mqttraw_packet *p)
{
    size_t most = avail < p->total_len ? avail : p->total_len;
    int last = 0;
    for (size_t have = 0; have <= most; have++) {
        struct mqttraw_pubhdr h;
        uint8_t *copy = malloc(have ? have : 1);
        if (copy == NULL) {
            return;
        }
        memcpy(copy, buf, have);
        int d = mqttraw_publish_header(copy, have, p, &h);
        free(copy);
        if (d < -1 || d > 1 || (last != 0 && d != last)) {
            abort(); /* once decided, more bytes do not change the answer */
        }
        last = d;
        if (d == 1 &&
            (h.qos < 0 || h.qos > 2 || (h.qos == 0) != (h.pid == -1) || h.pid > 65535 ||
             h.topic_off < p->header_len + 2 || h.topic_off + h.topic_len > h.payload_off ||
             h.payload_off > have || h.payload_off + h.payload_len != p->total_len)) {
            abort();
        }
        if (d == 1 && have > h.payload_off + 64) {
            break; /* the payload is not read: longer prefixes decode the same */
        }
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
    for (int version = 4; version <= 5; version++) {
        size_t off = 0;
        for (int n = 0; n < 1000; n++) {
            struct mqttraw_packet p;
            int st = mqttraw_parse_version(buf + off, size - off, version, &p);
            check(&p, st, size - off);
            if (p.version != version) {
                abort();
            }
            if (p.type == MQTTRAW_PUBLISH && p.header_len > 0) {
                check_publish(buf + off, size - off, &p);
            }
            if (st != MQTTRAW_PARSE_OK || p.total_len == 0) {
                break;
            }
            off += p.total_len;
        }
    }
    /* The input as a property block. */
    struct mqttraw_props pr;
    size_t used = 0;
    int r = mqttraw_props_read(buf, size, &pr, &used);
    check_props(&pr);
    if ((r == 0 && (used > size || pr.malformed)) || (r != 0 && (r != -1 || !pr.malformed))) {
        abort();
    }
    free(buf);
    return 0;
}
