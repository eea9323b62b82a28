/*
 * mqtt_log.c: what the MQTT driver's files write to the transcript and how
 * (mqtt_internal.h): device bytes escaped for a report, entries with a
 * formatted summary, SUBSCRIBE and message lines, peer names; and the check
 * of a target against the run's scope.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mqtt_internal.h"

void mqttdrv_escape(const void *in, size_t len, char *out, size_t cap)
{
    const unsigned char *p = in;
    size_t o = 0, i;
    if (cap < 4) {
        if (cap)
            out[0] = '\0';
        return;
    }
    for (i = 0; i < len; i++) {
        bool plain = p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\';
        if (o + (plain ? 1 : 4) + 4 > cap)
            break;
        if (plain)
            out[o++] = (char)p[i];
        else
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", p[i]);
    }
    if (i < len) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

void mqttdrv_log(const struct transcript_sink *sink, const char *protocol, const char *peer,
                 enum transcript_dir dir, const char *event, const uint8_t *bytes, size_t nbytes,
                 const char *fmt, ...)
{
    char summary[512];
    va_list ap;
    if (!sink || !sink->write)
        return;
    va_start(ap, fmt);
    vsnprintf(summary, sizeof summary, fmt, ap);
    va_end(ap);
    struct transcript_entry e = {.protocol = protocol,
                                 .dir = dir,
                                 .peer = peer,
                                 .event = event,
                                 .summary = summary,
                                 .bytes = bytes,
                                 .nbytes = nbytes};
    transcript_write(sink, &e);
}

void mqttdrv_log_subscribe(const struct transcript_sink *sink, const char *peer,
                           const char *const *filters, size_t n, int qos, size_t cap_n,
                           size_t budget, int ms, int quiet_ms)
{
    char shown[400];
    size_t o = 0;
    shown[0] = '\0';
    for (size_t i = 0; i < n && o + 8 < sizeof shown; i++) {
        if (i)
            o += (size_t)snprintf(shown + o, sizeof shown - o, ", ");
        mqttdrv_escape(filters[i], strlen(filters[i]), shown + o, sizeof shown - o);
        o += strlen(shown + o);
    }
    mqttdrv_log(sink, "mqtt", peer, TRANSCRIPT_SEND, "subscribe", NULL, 0,
                "SUBSCRIBE filter%s=%s qos=%d (collect at most %zu messages, %zu bytes, %d ms, "
                "quiet %d ms)",
                n > 1 ? "s" : "", shown, qos, cap_n, budget, ms, quiet_ms);
}

void mqttdrv_peer(char *out, size_t cap, const char *host, uint16_t port)
{
    if (strchr(host, ':'))
        snprintf(out, cap, "[%s]:%u", host, port);
    else
        snprintf(out, cap, "%s:%u", host, port);
}

int mqttdrv_check_target(const struct mqttdrv_target *t, struct assay_error *err)
{
    if (!t || !t->host || !t->scope || t->port == 0 || t->timeout_ms <= 0 ||
        strlen(t->host) >= MQTTDRV_HOST_MAX)
        return assay_fail(err, ASSAY_EINVAL, "mqtt: incomplete target");
    if (!scope_allows(t->scope, t->host))
        return assay_fail(err, ASSAY_ESCOPE, "mqtt: %s is not in the run's scope", t->host);
    return 0;
}

void mqttdrv_log_message(const struct transcript_sink *sink, const char *peer,
                         const struct mqttdrv_message *m)
{
    char topic[200];
    mqttdrv_escape(m->topic, m->topic_len, topic, sizeof topic);
    mqttdrv_log(sink, "mqtt", peer, TRANSCRIPT_RECV, "message", m->payload,
                m->len > MQTTDRV_LOG_BYTES ? MQTTDRV_LOG_BYTES : m->len,
                "PUBLISH topic=%s length=%zu qos=%d retained=%d after %lld ms", topic, m->full_len,
                m->qos, m->retained, (long long)m->after_ms);
}
