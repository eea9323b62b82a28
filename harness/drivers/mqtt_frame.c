/* mqtt_frame.c: MQTT 3.1.1 and 5 frame builders and the bounded reply parser (mqtt_raw.h). Pure,
 * no I/O. */
#include "mqtt_raw.h"

#include <stdlib.h>
#include <string.h>

/* A growing byte buffer for building one frame. */
struct buf {
    uint8_t *p;
    size_t len, cap;
    bool failed;
};

static void put(struct buf *b, const void *data, size_t n)
{
    if (b->failed || n == 0)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            b->failed = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void put_u8(struct buf *b, uint8_t v)
{
    put(b, &v, 1);
}

static void put_u16(struct buf *b, uint16_t v)
{
    uint8_t two[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    put(b, two, 2);
}

/* A length-prefixed string (the caller has checked n <= 65535). */
static void put_str(struct buf *b, const void *s, size_t n)
{
    put_u16(b, (uint16_t)n);
    put(b, s, n);
}

size_t mqttraw_varint(uint32_t v, uint8_t out[4])
{
    size_t n = 0;
    if (v > MQTTRAW_MAX_REMAINING)
        return 0;
    do {
        uint8_t byte = v % 128;
        v /= 128;
        if (v > 0)
            byte |= 0x80;
        out[n++] = byte;
    } while (v > 0);
    return n;
}

/* Prefixes body with the fixed header (first byte and remaining length) into f. */
static int finish(struct mqttraw_frame *f, uint8_t first, struct buf *body)
{
    uint8_t var[4];
    size_t nv;
    struct buf out = {0};
    f->bytes = NULL;
    f->len = 0;
    if (body->failed) {
        free(body->p);
        return ASSAY_ENOMEM;
    }
    if (body->len > MQTTRAW_MAX_REMAINING || !(nv = mqttraw_varint((uint32_t)body->len, var))) {
        free(body->p);
        return ASSAY_EINVAL;
    }
    put_u8(&out, first);
    put(&out, var, nv);
    put(&out, body->p, body->len);
    free(body->p);
    if (out.failed) {
        free(out.p);
        return ASSAY_ENOMEM;
    }
    f->bytes = out.p;
    f->len = out.len;
    return 0;
}

void mqttraw_frame_free(struct mqttraw_frame *f)
{
    if (!f)
        return;
    free(f->bytes);
    f->bytes = NULL;
    f->len = 0;
}

/* An empty property length (MQTT 5 only). */
static void put_no_props(struct buf *b, int version)
{
    if (version == 5)
        put_u8(b, 0);
}

int mqttraw_connect_frame(struct mqttraw_frame *f, int version, const char *client_id,
                          const char *username, const char *password, uint16_t keepalive_s,
                          uint32_t session_expiry_s)
{
    struct buf b = {0};
    uint8_t flags = 0x02; /* clean session / clean start */
    const char *id = client_id ? client_id : "";
    f->bytes = NULL;
    f->len = 0;
    if (strlen(id) > 65535 || (username && strlen(username) > 65535) ||
        (password && strlen(password) > 65535) || (version != 4 && version != 5) ||
        (version == 4 && session_expiry_s))
        return ASSAY_EINVAL;
    if (username)
        flags |= 0x80;
    if (password)
        flags |= 0x40;
    put_str(&b, "MQTT", 4);
    put_u8(&b, (uint8_t)version); /* protocol level: 4 is 3.1.1 */
    put_u8(&b, flags);
    put_u16(&b, keepalive_s);
    if (version == 5 && session_expiry_s) {
        uint8_t prop[6] = {5,
                           0x11,
                           (uint8_t)(session_expiry_s >> 24),
                           (uint8_t)(session_expiry_s >> 16),
                           (uint8_t)(session_expiry_s >> 8),
                           (uint8_t)session_expiry_s};
        put(&b, prop, sizeof prop);
    } else {
        put_no_props(&b, version);
    }
    put_str(&b, id, strlen(id));
    if (username)
        put_str(&b, username, strlen(username));
    if (password)
        put_str(&b, password, strlen(password));
    return finish(f, MQTTRAW_CONNECT << 4, &b);
}

int mqttraw_publish_frame(struct mqttraw_frame *f, int version, const uint8_t *topic,
                          size_t topic_len, const uint8_t *payload, size_t len, int qos,
                          bool retain, uint16_t packet_id)
{
    struct buf b = {0};
    f->bytes = NULL;
    f->len = 0;
    if (topic_len > 65535 || qos < 0 || qos > 2 || (len && !payload) || (topic_len && !topic) ||
        (version != 4 && version != 5))
        return ASSAY_EINVAL;
    put_str(&b, topic, topic_len);
    if (qos > 0)
        put_u16(&b, packet_id);
    put_no_props(&b, version);
    put(&b, payload, len);
    return finish(f, (uint8_t)(MQTTRAW_PUBLISH << 4 | qos << 1 | (retain ? 1 : 0)), &b);
}

int mqttraw_subscribe_many_frame(struct mqttraw_frame *f, int version, uint16_t packet_id,
                                 const char *const *filters, size_t n, int qos)
{
    struct buf b = {0};
    f->bytes = NULL;
    f->len = 0;
    if (!filters || n == 0 || n > MQTTRAW_MAX_SUBACK || qos < 0 || qos > 2 ||
        (version != 4 && version != 5))
        return ASSAY_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!filters[i] || strlen(filters[i]) > 65535)
            return ASSAY_EINVAL;
    put_u16(&b, packet_id);
    put_no_props(&b, version);
    for (size_t i = 0; i < n; i++) {
        put_str(&b, filters[i], strlen(filters[i]));
        put_u8(&b, (uint8_t)qos);
    }
    return finish(f, MQTTRAW_SUBSCRIBE << 4 | 0x02, &b);
}

void mqttraw_ack_frame(uint8_t out[4], enum mqttraw_type type, uint16_t packet_id)
{
    out[0] = (uint8_t)(type << 4 | (type == MQTTRAW_PUBREL ? 0x02 : 0));
    out[1] = 2;
    out[2] = (uint8_t)(packet_id >> 8);
    out[3] = (uint8_t)packet_id;
}

int mqttraw_pingreq_frame(struct mqttraw_frame *f)
{
    struct buf b = {0};
    return finish(f, MQTTRAW_PINGREQ << 4, &b);
}

int mqttraw_disconnect_frame(struct mqttraw_frame *f, int version, uint8_t reason)
{
    struct buf b = {0};
    f->bytes = NULL;
    f->len = 0;
    if (version != 4 && version != 5)
        return ASSAY_EINVAL;
    if (version == 5)
        put_u8(&b, reason);
    return finish(f, MQTTRAW_DISCONNECT << 4, &b);
}

static const char *const kind_names[MQTTRAW_NKINDS] = {
    "bad-length", "bad-utf8-topic", "wildcard-plus", "wildcard-hash", "oversize", "ping"};

const char *mqttraw_kind_name(enum mqttraw_kind k)
{
    return (unsigned)k < MQTTRAW_NKINDS ? kind_names[k] : "unknown";
}

int mqttraw_kind_from_name(const char *name)
{
    for (int i = 0; name && i < MQTTRAW_NKINDS; i++)
        if (strcmp(name, kind_names[i]) == 0)
            return i;
    return -1;
}

/* A PUBLISH header whose remaining length never ends: five bytes with the continuation bit. */
static int bad_length_frame(struct mqttraw_frame *f)
{
    static const uint8_t bytes[] = {
        MQTTRAW_PUBLISH << 4, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x01, 'x'};
    if (!(f->bytes = malloc(sizeof bytes)))
        return ASSAY_ENOMEM;
    memcpy(f->bytes, bytes, sizeof bytes);
    f->len = sizeof bytes;
    return 0;
}

static int topic_frame(struct mqttraw_frame *f, const char *topic, size_t n)
{
    static const uint8_t payload[] = "assay";
    return mqttraw_publish_frame(f, 4, (const uint8_t *)topic, n, payload, sizeof payload - 1, 0,
                                 false, 0);
}

int mqttraw_kind_frame(struct mqttraw_frame *f, enum mqttraw_kind k, size_t oversize)
{
    f->bytes = NULL;
    f->len = 0;
    switch (k) {
    case MQTTRAW_BAD_LENGTH: return bad_length_frame(f);
    case MQTTRAW_BAD_UTF8_TOPIC: return topic_frame(f, "assay/\xc0\xaf/\xff", 10);
    case MQTTRAW_WILDCARD_PLUS: return topic_frame(f, "assay/+/probe", 13);
    case MQTTRAW_WILDCARD_HASH: return topic_frame(f, "assay/#", 7);
    case MQTTRAW_OVERSIZE: {
        size_t n = oversize ? oversize : MQTTRAW_DEFAULT_OVERSIZE;
        uint8_t *payload;
        int rc;
        if (n > MQTTRAW_MAX_OVERSIZE)
            return ASSAY_EINVAL;
        if (!(payload = malloc(n)))
            return ASSAY_ENOMEM;
        memset(payload, 'A', n);
        rc = mqttraw_publish_frame(f, 4, (const uint8_t *)"assay/oversize", 14, payload, n, 0,
                                   false, 0);
        free(payload);
        return rc;
    }
    case MQTTRAW_PING: return mqttraw_pingreq_frame(f);
    case MQTTRAW_NKINDS: break;
    }
    return ASSAY_EINVAL;
}

/* ---- parser ---- */

const char *mqttraw_type_name(int type)
{
    static const char *const names[16] = {"reserved",  "CONNECT",  "CONNACK",     "PUBLISH",
                                          "PUBACK",    "PUBREC",   "PUBREL",      "PUBCOMP",
                                          "SUBSCRIBE", "SUBACK",   "UNSUBSCRIBE", "UNSUBACK",
                                          "PINGREQ",   "PINGRESP", "DISCONNECT",  "AUTH"};
    return type >= 0 && type < 16 ? names[type] : "reserved";
}

/* Reads properties at body[off] when the packet has any; returns the offset after them, or n
 * when they are malformed. */
static uint32_t props_at(const uint8_t *body, uint32_t n, uint32_t off, struct mqttraw_packet *out)
{
    size_t used;
    if (off >= n)
        return n;
    if (mqttraw_props_read(body + off, n - off, &out->props, &used) != 0)
        return n;
    return off + (uint32_t)used;
}

/* The fields of a reply's body; MQTT 5 adds reason codes and properties. */
static void decode_body(const uint8_t *body, uint32_t n, struct mqttraw_packet *out)
{
    bool v5 = out->version == 5;
    uint32_t off;
    switch (out->type) {
    case MQTTRAW_CONNACK:
        if (n >= 2) {
            out->session_present = (body[0] & 1) != 0;
            out->connack_code = body[1];
            if (v5)
                props_at(body, n, 2, out);
        }
        break;
    case MQTTRAW_SUBACK:
    case 11: /* UNSUBACK */
        if (n >= 2) {
            out->packet_id = body[0] << 8 | body[1];
            off = v5 ? props_at(body, n, 2, out) : 2;
            if (out->type == MQTTRAW_SUBACK && !out->props.malformed)
                for (uint32_t i = off; i < n && out->nsuback < MQTTRAW_MAX_SUBACK; i++)
                    out->suback_codes[out->nsuback++] = body[i];
        }
        break;
    case MQTTRAW_PUBACK:
    case MQTTRAW_PUBREC:
    case MQTTRAW_PUBREL:
    case MQTTRAW_PUBCOMP:
        if (n >= 2) {
            out->packet_id = body[0] << 8 | body[1];
            if (v5) {
                out->reason_code = n >= 3 ? body[2] : 0;
                props_at(body, n, 3, out);
            }
        }
        break;
    case MQTTRAW_DISCONNECT:
    case MQTTRAW_AUTH:
        if (v5) {
            out->reason_code = n >= 1 ? body[0] : 0;
            props_at(body, n, 1, out);
        }
        break;
    default: break;
    }
}

int mqttraw_parse(const uint8_t *buf, size_t len, struct mqttraw_packet *out)
{
    return mqttraw_parse_version(buf, len, 4, out);
}

int mqttraw_parse_version(const uint8_t *buf, size_t len, int version, struct mqttraw_packet *out)
{
    uint32_t value = 0, mult = 1;
    size_t i;
    memset(out, 0, sizeof *out);
    out->version = version == 5 ? 5 : 4;
    out->connack_code = -1;
    out->packet_id = -1;
    out->reason_code = -1;
    mqttraw_props_init(&out->props);
    if (!buf || len == 0)
        return MQTTRAW_PARSE_SHORT;
    out->nfirst = len < MQTTRAW_FIRST_MAX ? len : MQTTRAW_FIRST_MAX;
    memcpy(out->first, buf, out->nfirst);
    out->type = buf[0] >> 4;
    out->flags = buf[0] & 0x0f;
    if (out->type == 0)
        return MQTTRAW_PARSE_BAD;
    for (i = 1;; i++) {
        if (i > 4)
            return MQTTRAW_PARSE_BAD; /* a fifth length byte: not MQTT */
        if (i >= len)
            return MQTTRAW_PARSE_SHORT;
        value += (uint32_t)(buf[i] & 0x7f) * mult;
        if (!(buf[i] & 0x80))
            break;
        mult *= 128;
    }
    out->remaining = value;
    out->header_len = i + 1;
    out->total_len = out->header_len + value;
    if (len - out->header_len < value)
        return MQTTRAW_PARSE_SHORT;
    decode_body(buf + out->header_len, value, out);
    return MQTTRAW_PARSE_OK;
}

int mqttraw_publish_header(const uint8_t *buf, size_t have, const struct mqttraw_packet *pkt,
                           struct mqttraw_pubhdr *h)
{
    size_t hl = pkt->header_len;
    memset(h, 0, sizeof *h);
    h->qos = (pkt->flags >> 1) & 3;
    h->retained = pkt->flags & 1;
    h->dup = (pkt->flags & 8) != 0;
    h->pid = -1;
    if (pkt->type != MQTTRAW_PUBLISH || hl < 2 || h->qos == 3)
        return -1;
    if (have < hl + 2)
        return pkt->remaining < 2 ? -1 : 0;
    h->topic_len = (size_t)buf[hl] << 8 | buf[hl + 1];
    h->topic_off = hl + 2;
    h->payload_off = h->topic_off + h->topic_len + (h->qos ? 2 : 0);
    if (h->payload_off > pkt->total_len)
        return -1;
    if (have < h->payload_off)
        return 0;
    if (h->qos)
        h->pid = buf[h->payload_off - 2] << 8 | buf[h->payload_off - 1];
    if (pkt->version == 5) {
        /* the properties: their length, then all of them within the first `have` bytes */
        size_t off = h->payload_off, lim = have < pkt->total_len ? have : pkt->total_len;
        uint32_t plen;
        size_t lv;
        struct mqttraw_props pr;
        int r = mqttraw_varint_read(buf + off, lim - off, &plen, &lv);
        if (r < 0 || (r == 0 && lim == pkt->total_len))
            return -1;
        if (r == 0)
            return 0;
        if (plen > pkt->total_len - off - lv)
            return -1;
        h->props_len = lv + plen;
        h->payload_off = off + h->props_len;
        if (have < h->payload_off)
            return 0;
        if (mqttraw_props_read(buf + off, h->props_len, &pr, &lv) != 0)
            return -1;
    }
    h->payload_len = pkt->total_len - h->payload_off;
    return 1;
}
