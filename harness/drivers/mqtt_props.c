/*
 * mqtt_props.c: MQTT 5 properties read from what a broker sends (mqtt_raw.h).
 * Pure, no I/O, no allocation; reads only within the bytes it is given.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mqtt_raw.h"

enum ptype { P_NONE = 0, P_BYTE, P_U16, P_U32, P_VARINT, P_STR, P_BIN, P_PAIR };

/* The value type of each property identifier MQTT 5 defines (2.2.2.2); P_NONE: not defined. */
static enum ptype prop_type(unsigned id)
{
    switch (id) {
    case 0x01: /* payload format indicator */
    case 0x17: /* request problem information */
    case 0x19: /* request response information */
    case 0x24: /* maximum QoS */
    case 0x25: /* retain available */
    case 0x28: /* wildcard subscription available */
    case 0x29: /* subscription identifier available */
    case 0x2A: /* shared subscription available */ return P_BYTE;
    case 0x13: /* server keep alive */
    case 0x21: /* receive maximum */
    case 0x22: /* topic alias maximum */
    case 0x23: /* topic alias */ return P_U16;
    case 0x02: /* message expiry interval */
    case 0x11: /* session expiry interval */
    case 0x18: /* will delay interval */
    case 0x27: /* maximum packet size */ return P_U32;
    case 0x0B: /* subscription identifier */ return P_VARINT;
    case 0x03: /* content type */
    case 0x08: /* response topic */
    case 0x12: /* assigned client identifier */
    case 0x15: /* authentication method */
    case 0x1A: /* response information */
    case 0x1C: /* server reference */
    case 0x1F: /* reason string */ return P_STR;
    case 0x09: /* correlation data */
    case 0x16: /* authentication data */ return P_BIN;
    case 0x26: /* user property */ return P_PAIR;
    }
    return P_NONE;
}

int mqttraw_varint_read(const uint8_t *p, size_t n, uint32_t *v, size_t *used)
{
    uint32_t value = 0, mult = 1;
    for (size_t i = 0; i < 4; i++) {
        if (i >= n)
            return 0;
        value += (uint32_t)(p[i] & 0x7f) * mult;
        if (!(p[i] & 0x80)) {
            *v = value;
            *used = i + 1;
            return 1;
        }
        mult *= 128;
    }
    return -1;
}

void mqttraw_props_init(struct mqttraw_props *pr)
{
    memset(pr, 0, sizeof *pr);
    pr->session_expiry = pr->max_packet_size = -1;
    pr->receive_max = pr->topic_alias_max = pr->topic_alias = pr->server_keepalive = -1;
    pr->max_qos = pr->retain_available = pr->wildcard_available = -1;
    pr->subid_available = pr->shared_available = -1;
}

static int bad(struct mqttraw_props *pr, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Marks pr malformed with the reason; returns -1. */
static int bad(struct mqttraw_props *pr, const char *fmt, ...)
{
    va_list ap;
    pr->malformed = true;
    va_start(ap, fmt);
    vsnprintf(pr->why, sizeof pr->why, fmt, ap);
    va_end(ap);
    return -1;
}

static void keep_str(struct mqttraw_propstr *s, const uint8_t *p, size_t n)
{
    s->present = true;
    s->full_len = n;
    s->len = n < sizeof s->bytes ? n : sizeof s->bytes;
    memcpy(s->bytes, p, s->len);
}

/* Records one property whose value is at v (vlen bytes, already within bounds). */
static void record(struct mqttraw_props *pr, unsigned id, const uint8_t *v, size_t vlen,
                   uint32_t num)
{
    switch (id) {
    case 0x11: pr->session_expiry = num; break;
    case 0x27: pr->max_packet_size = num; break;
    case 0x21: pr->receive_max = (int)num; break;
    case 0x22: pr->topic_alias_max = (int)num; break;
    case 0x23: pr->topic_alias = (int)num; break;
    case 0x13: pr->server_keepalive = (int)num; break;
    case 0x24: pr->max_qos = (int)num; break;
    case 0x25: pr->retain_available = (int)num; break;
    case 0x28: pr->wildcard_available = (int)num; break;
    case 0x29: pr->subid_available = (int)num; break;
    case 0x2A: pr->shared_available = (int)num; break;
    case 0x26: pr->user_properties++; break;
    case 0x12: keep_str(&pr->assigned_client_id, v + 2, vlen - 2); break;
    case 0x1F: keep_str(&pr->reason_string, v + 2, vlen - 2); break;
    case 0x1C: keep_str(&pr->server_reference, v + 2, vlen - 2); break;
    default: break;
    }
}

/* The length of a two-byte-prefixed string or binary at p (n bytes there), or 0 when cut. */
static size_t prefixed(const uint8_t *p, size_t n)
{
    if (n < 2)
        return 0;
    size_t len = 2 + ((size_t)p[0] << 8 | p[1]);
    return len <= n ? len : 0;
}

int mqttraw_props_read(const uint8_t *p, size_t n, struct mqttraw_props *pr, size_t *used)
{
    uint32_t length, num = 0;
    size_t lv, off;
    uint64_t seen = 0;
    mqttraw_props_init(pr);
    *used = 0;
    int r = mqttraw_varint_read(p, n, &length, &lv);
    if (r < 0)
        return bad(pr, "a property length of more than 4 bytes");
    if (r == 0)
        return bad(pr, "the property length is cut short");
    pr->present = true;
    pr->length = length;
    if (length > n - lv)
        return bad(pr, "a property length beyond the packet");
    const uint8_t *q = p + lv;
    for (off = 0; off < length;) {
        uint32_t idv;
        size_t il, vlen = 0;
        if (mqttraw_varint_read(q + off, length - off, &idv, &il) != 1 || idv > 0xff)
            return bad(pr, "a property identifier that is not one byte");
        unsigned id = idv;
        const uint8_t *v = q + off + il;
        size_t left = length - off - il;
        switch (prop_type(id)) {
        case P_NONE: return bad(pr, "unknown property 0x%02x", id);
        case P_BYTE: vlen = 1; break;
        case P_U16: vlen = 2; break;
        case P_U32: vlen = 4; break;
        case P_VARINT:
            if (mqttraw_varint_read(v, left, &num, &vlen) != 1)
                return bad(pr, "property 0x%02x cut short", id);
            break;
        case P_STR:
        case P_BIN:
            if (!(vlen = prefixed(v, left)))
                return bad(pr, "property 0x%02x cut short", id);
            break;
        case P_PAIR: {
            size_t k = prefixed(v, left), val = k ? prefixed(v + k, left - k) : 0;
            if (!k || !val)
                return bad(pr, "property 0x%02x cut short", id);
            vlen = k + val;
            break;
        }
        }
        if (vlen > left)
            return bad(pr, "property 0x%02x cut short", id);
        if (vlen == 1)
            num = v[0];
        else if (vlen == 2 && prop_type(id) == P_U16)
            num = (uint32_t)v[0] << 8 | v[1];
        else if (vlen == 4 && prop_type(id) == P_U32)
            num = (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3];
        if (id != 0x26 && id != 0x0B) {
            if (seen & (1ull << (id & 63)))
                return bad(pr, "property 0x%02x appears twice", id);
            seen |= 1ull << (id & 63);
        }
        record(pr, id, v, vlen, num);
        pr->count++;
        off += il + vlen;
    }
    *used = lv + length;
    return 0;
}
