/* mqtt_frame.c: MQTT 3.1.1 frame builders and the bounded reply parser (mqtt_raw.h). Pure, no I/O.
 */
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

int mqttraw_connect_frame(struct mqttraw_frame *f, const char *client_id, const char *username,
                          const char *password, uint16_t keepalive_s)
{
    struct buf b = {0};
    uint8_t flags = 0x02; /* clean session */
    const char *id = client_id ? client_id : "";
    if (strlen(id) > 65535 || (username && strlen(username) > 65535) ||
        (password && strlen(password) > 65535))
        return ASSAY_EINVAL;
    if (username)
        flags |= 0x80;
    if (password)
        flags |= 0x40;
    put_str(&b, "MQTT", 4);
    put_u8(&b, 4); /* protocol level: 3.1.1 */
    put_u8(&b, flags);
    put_u16(&b, keepalive_s);
    put_str(&b, id, strlen(id));
    if (username)
        put_str(&b, username, strlen(username));
    if (password)
        put_str(&b, password, strlen(password));
    return finish(f, MQTTRAW_CONNECT << 4, &b);
}

int mqttraw_publish_frame(struct mqttraw_frame *f, const uint8_t *topic, size_t topic_len,
                          const uint8_t *payload, size_t len, int qos, bool retain,
                          uint16_t packet_id)
{
    struct buf b = {0};
    if (topic_len > 65535 || qos < 0 || qos > 2 || (len && !payload) || (topic_len && !topic))
        return ASSAY_EINVAL;
    put_str(&b, topic, topic_len);
    if (qos > 0)
        put_u16(&b, packet_id);
    put(&b, payload, len);
    return finish(f, (uint8_t)(MQTTRAW_PUBLISH << 4 | qos << 1 | (retain ? 1 : 0)), &b);
}

int mqttraw_subscribe_frame(struct mqttraw_frame *f, uint16_t packet_id, const char *filter,
                            int qos)
{
    struct buf b = {0};
    if (!filter || strlen(filter) > 65535 || qos < 0 || qos > 2)
        return ASSAY_EINVAL;
    put_u16(&b, packet_id);
    put_str(&b, filter, strlen(filter));
    put_u8(&b, (uint8_t)qos);
    return finish(f, MQTTRAW_SUBSCRIBE << 4 | 0x02, &b);
}

int mqttraw_subscribe_many_frame(struct mqttraw_frame *f, uint16_t packet_id,
                                 const char *const *filters, size_t n, int qos)
{
    struct buf b = {0};
    f->bytes = NULL;
    f->len = 0;
    if (!filters || n == 0 || n > MQTTRAW_MAX_SUBACK || qos < 0 || qos > 2)
        return ASSAY_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!filters[i] || strlen(filters[i]) > 65535)
            return ASSAY_EINVAL;
    put_u16(&b, packet_id);
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

int mqttraw_disconnect_frame(struct mqttraw_frame *f)
{
    struct buf b = {0};
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
    return mqttraw_publish_frame(f, (const uint8_t *)topic, n, payload, sizeof payload - 1, 0,
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
        rc = mqttraw_publish_frame(f, (const uint8_t *)"assay/oversize", 14, payload, n, 0, false,
                                   0);
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

static void decode_body(const uint8_t *body, uint32_t n, struct mqttraw_packet *out)
{
    switch (out->type) {
    case MQTTRAW_CONNACK:
        if (n >= 2) {
            out->session_present = (body[0] & 1) != 0;
            out->connack_code = body[1];
        }
        break;
    case MQTTRAW_SUBACK:
        if (n >= 2) {
            out->packet_id = body[0] << 8 | body[1];
            for (uint32_t i = 2; i < n && out->nsuback < MQTTRAW_MAX_SUBACK; i++)
                out->suback_codes[out->nsuback++] = body[i];
        }
        break;
    case MQTTRAW_PUBACK:
    case 5:
    case 6:
    case 7:
    case 11:
        if (n >= 2)
            out->packet_id = body[0] << 8 | body[1];
        break;
    default: break;
    }
}

int mqttraw_parse(const uint8_t *buf, size_t len, struct mqttraw_packet *out)
{
    uint32_t value = 0, mult = 1;
    size_t i;
    memset(out, 0, sizeof *out);
    out->connack_code = -1;
    out->packet_id = -1;
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
    h->payload_len = pkt->total_len - h->payload_off;
    return 1;
}
