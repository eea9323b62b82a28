/* mqtt_client.c: the MQTT driver's API (mqtt.h): sessions handed to the raw engine, or to paho's
 * synchronous client without callbacks (a password holding NUL bytes, paho = true). */
#include "mqtt.h"

#include <MQTTClient.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mqtt_internal.h"
#include "mqtt_raw.h"

struct mqttdrv_session {
    struct mqttrs *raw; /* the raw engine; NULL on paho */
    MQTTClient client;
    int version;
    char peer[MQTTDRV_PEER_MAX];
    const struct transcript_sink *sink;
    int timeout_ms;
    bool connected;
    char tls_error[160]; /* filled by paho's ssl_error_cb during connect */
};

const char *mqttdrv_outcome_name(enum mqttdrv_outcome o)
{
    switch (o) {
    case MQTTDRV_ACCEPTED: return "accepted";
    case MQTTDRV_REFUSED: return "refused";
    case MQTTDRV_TRANSPORT: return "transport";
    case MQTTDRV_TIMEOUT: return "timeout";
    }
    return "unknown";
}

const char *mqttdrv_connack_reason(int version, int code)
{
    return mqttdrv_reason_name(version, code);
}

const char *mqttdrv_reason_name(int version, int code)
{
    static const char *const v4[] = {
        "accepted",           "unacceptable protocol version", "identifier rejected",
        "server unavailable", "bad user name or password",     "not authorised"};
    if (version != 5)
        return code >= 0 && code <= 5 ? v4[code] : "unknown";
    switch (code) {
    case 0x00: return "accepted";
    case 0x01: return "granted QoS 1";
    case 0x02: return "granted QoS 2";
    case 0x04: return "disconnect with will message";
    case 0x10: return "no matching subscribers";
    case 0x11: return "no subscription existed";
    case 0x18: return "continue authentication";
    case 0x19: return "re-authenticate";
    case 0x80: return "unspecified error";
    case 0x81: return "malformed packet";
    case 0x82: return "protocol error";
    case 0x83: return "implementation specific error";
    case 0x84: return "unsupported protocol version";
    case 0x85: return "client identifier not valid";
    case 0x86: return "bad user name or password";
    case 0x87: return "not authorised";
    case 0x88: return "server unavailable";
    case 0x89: return "server busy";
    case 0x8A: return "banned";
    case 0x8B: return "server shutting down";
    case 0x8C: return "bad authentication method";
    case 0x8D: return "keep alive timeout";
    case 0x8E: return "session taken over";
    case 0x8F: return "topic filter invalid";
    case 0x90: return "topic name invalid";
    case 0x91: return "packet identifier in use";
    case 0x92: return "packet identifier not found";
    case 0x93: return "receive maximum exceeded";
    case 0x94: return "topic alias invalid";
    case 0x95: return "packet too large";
    case 0x96: return "message rate too high";
    case 0x97: return "quota exceeded";
    case 0x98: return "administrative action";
    case 0x99: return "payload format invalid";
    case 0x9A: return "retain not supported";
    case 0x9B: return "qos not supported";
    case 0x9C: return "use another server";
    case 0x9D: return "server moved";
    case 0x9E: return "shared subscriptions not supported";
    case 0x9F: return "connection rate exceeded";
    case 0xA0: return "maximum connect time";
    case 0xA1: return "subscription identifiers not supported";
    case 0xA2: return "wildcard subscriptions not supported";
    }
    return "unknown";
}

const char *mqttdrv_stop_name(enum mqttdrv_stop s)
{
    static const char *const names[] = {"time", "count", "bytes", "lost", "refused", "quiet"};
    return (unsigned)s < 6 ? names[s] : "unknown";
}

/* ---- connect ---- */

static int on_tls_error(const char *str, size_t len, void *u)
{
    struct mqttdrv_session *s = u;
    if (s->tls_error[0] == '\0') {
        while (len > 0 && (str[len - 1] == '\n' || str[len - 1] == '\r'))
            len--;
        mqttdrv_escape(str, len, s->tls_error, sizeof s->tls_error);
    }
    return 0;
}

static void default_client_id(char *out, size_t cap)
{
    static unsigned counter;
    snprintf(out, cap, "assay-%ld-%u-%lld", (long)getpid(), ++counter,
             (long long)(clock_now_ms() % 100000));
}

static void log_attempt(struct mqttdrv_session *s, const struct mqttdrv_connect_opts *o,
                        const char *client_id, int timeout_s)
{
    char user[96] = "(none)";
    if (o->username)
        mqttdrv_escape(o->username, strlen(o->username), user, sizeof user);
    mqttdrv_log(s->sink, "mqtt", s->peer, TRANSCRIPT_SEND, "connect", NULL, 0,
                "CONNECT MQTT %s%s client_id=%s username: %s password: %s%zu chars%s "
                "connect_timeout=%ds",
                s->version == 5 ? "5" : "3.1.1", o->tls.enabled ? " over TLS" : "", client_id, user,
                o->password ? "" : "(none, ", o->password ? o->password_len : 0,
                o->password ? "" : ")", timeout_s);
}

/* Maps paho's answer to an outcome. A transport failure that used up the connect time is a timeout.
 */
static void classify(struct mqttdrv_connack *ack, int rc, int version, assay_ms deadline,
                     int timeout_s, int64_t elapsed)
{
    ack->paho_rc = rc;
    if (rc == 0) {
        ack->outcome = MQTTDRV_ACCEPTED;
        ack->code = 0;
    } else if ((version != 5 && rc >= 1 && rc <= 255) || (version == 5 && rc >= 0x80)) {
        ack->outcome = MQTTDRV_REFUSED;
        ack->code = rc;
    } else {
        bool used_up = clock_remaining_ms(deadline) == 0 || elapsed >= timeout_s * 1000LL - 50;
        ack->outcome = used_up ? MQTTDRV_TIMEOUT : MQTTDRV_TRANSPORT;
        ack->code = -1;
    }
}

static int paho_connect(struct mqttdrv_session *s, const struct mqttdrv_connect_opts *o,
                        int timeout_s)
{
    MQTTClient_connectOptions co = MQTTClient_connectOptions_initializer;
    MQTTClient_connectOptions co5 = MQTTClient_connectOptions_initializer5;
    MQTTClient_connectOptions *opts = s->version == 5 ? &co5 : &co;
    MQTTClient_SSLOptions ssl = MQTTClient_SSLOptions_initializer;
    opts->MQTTVersion = s->version == 5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1;
    opts->keepAliveInterval = o->keepalive_s > 0 ? o->keepalive_s : 60;
    opts->connectTimeout = timeout_s;
    opts->retryInterval = 0;
    opts->username = o->username;
    if (o->password) {
        opts->binarypwd.data = o->password;
        opts->binarypwd.len = (int)o->password_len;
    }
    if (o->tls.enabled) {
        ssl.trustStore = o->tls.ca_file;
        ssl.enableServerCertAuth = o->tls.verify;
        ssl.verify = o->tls.verify;
        ssl.disableDefaultTrustStore = 1;
        ssl.ssl_error_cb = on_tls_error;
        ssl.ssl_error_context = s;
        opts->ssl = &ssl;
    }
    if (s->version == 5) {
        MQTTResponse r = MQTTClient_connect5(s->client, opts, NULL, NULL);
        int rc = r.reasonCode;
        MQTTResponse_free(r);
        return rc;
    }
    return MQTTClient_connect(s->client, opts);
}

static int session_connect(struct mqttdrv_session *s, const struct mqttdrv_target *t,
                           const struct mqttdrv_connect_opts *o, struct mqttdrv_connack *ack,
                           struct assay_error *err)
{
    char uri[MQTTDRV_PEER_MAX + 16], idbuf[64];
    const char *client_id = o->client_id;
    MQTTClient_createOptions cr = MQTTClient_createOptions_initializer;
    assay_ms start = clock_now_ms(), deadline = start + t->timeout_ms;
    int timeout_s = (int)((t->timeout_ms + 999) / 1000), rc;

    if (!client_id) {
        default_client_id(idbuf, sizeof idbuf);
        client_id = idbuf;
    }
    snprintf(uri, sizeof uri, "%s://%s", o->tls.enabled ? "ssl" : "tcp", s->peer);
    cr.MQTTVersion = s->version == 5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1;
    rc = MQTTClient_createWithOptions(&s->client, uri, client_id, MQTTCLIENT_PERSISTENCE_NONE, NULL,
                                      &cr);
    if (rc != MQTTCLIENT_SUCCESS) {
        s->client = NULL;
        return assay_fail(err, rc == MQTTCLIENT_BAD_UTF8_STRING ? ASSAY_EINVAL : ASSAY_EINTERNAL,
                          "mqtt: cannot create a client for %s: %s", uri, MQTTClient_strerror(rc));
    }
    log_attempt(s, o, client_id, timeout_s);
    rc = paho_connect(s, o, timeout_s);
    classify(ack, rc, s->version, deadline, timeout_s, clock_now_ms() - start);
    ack->elapsed_ms = clock_now_ms() - start;
    if (ack->outcome == MQTTDRV_TRANSPORT || ack->outcome == MQTTDRV_TIMEOUT)
        snprintf(ack->detail, sizeof ack->detail, "%s",
                 s->tls_error[0] ? s->tls_error : MQTTClient_strerror(rc));
    if (ack->outcome == MQTTDRV_ACCEPTED || ack->outcome == MQTTDRV_REFUSED)
        mqttdrv_log(s->sink, "mqtt", s->peer, TRANSCRIPT_RECV, "connack", NULL, 0,
                    "CONNACK code %d (0x%02x, %s) after %lld ms", ack->code, (unsigned)ack->code,
                    mqttdrv_connack_reason(s->version, ack->code), (long long)ack->elapsed_ms);
    else
        mqttdrv_log(s->sink, "mqtt", s->peer, TRANSCRIPT_NOTE,
                    ack->outcome == MQTTDRV_TIMEOUT ? "timeout" : "error", NULL, 0,
                    "no CONNACK (%s) after %lld ms: %s", mqttdrv_outcome_name(ack->outcome),
                    (long long)ack->elapsed_ms, ack->detail);
    s->connected = ack->outcome == MQTTDRV_ACCEPTED;
    return 0;
}

static int check_opts(const struct mqttdrv_connect_opts *o, struct assay_error *err)
{
    if (!o)
        return assay_fail(err, ASSAY_EINVAL, "mqtt: no connect options");
    if (o->version != 0 && o->version != 4 && o->version != 5)
        return assay_fail(err, ASSAY_EINVAL, "mqtt: version must be 4 (3.1.1) or 5, not %d",
                          o->version);
    if (o->password && o->password_len > 65535)
        return assay_fail(err, ASSAY_EINVAL, "mqtt: password longer than 65535 bytes");
    if (o->tls.enabled && o->tls.verify && !o->tls.ca_file)
        return assay_fail(err, ASSAY_EINVAL, "mqtt: TLS verification needs a CA file");
    return 0;
}

int mqttdrv_session_open(const struct mqttdrv_target *t, const struct mqttdrv_connect_opts *o,
                         struct mqttdrv_session **out, struct mqttdrv_connack *ack,
                         struct assay_error *err)
{
    struct mqttdrv_session *s;
    int rc;
    *out = NULL;
    memset(ack, 0, sizeof *ack);
    ack->code = -1;
    if ((rc = check_opts(o, err)) != 0 || (rc = mqttdrv_check_target(t, err)) != 0)
        return rc;
    if (!(s = calloc(1, sizeof *s)))
        return assay_fail(err, ASSAY_ENOMEM, "mqtt: out of memory");
    s->version = o->version == 5 ? 5 : 4;
    s->sink = t->sink;
    s->timeout_ms = t->timeout_ms;
    mqttdrv_peer(s->peer, sizeof s->peer, t->host, t->port);
    if (mqttrs_serves(o)) {
        rc = mqttrs_open(t, o, &s->raw, ack, err);
        if (rc == 0 && s->raw) {
            s->connected = true;
            *out = s;
            return 0;
        }
        free(s);
        return rc;
    }
    rc = session_connect(s, t, o, ack, err);
    if (rc == 0 && ack->outcome == MQTTDRV_ACCEPTED) {
        *out = s;
        return 0;
    }
    if (s->client)
        MQTTClient_destroy(&s->client);
    free(s);
    return rc;
}

void mqttdrv_session_close(struct mqttdrv_session *s)
{
    if (!s)
        return;
    mqttrs_close(s->raw);
    if (s->client) {
        if (s->connected && MQTTClient_isConnected(s->client)) {
            if (s->version == 5)
                MQTTClient_disconnect5(s->client, 100, MQTTREASONCODE_NORMAL_DISCONNECTION, NULL);
            else
                MQTTClient_disconnect(s->client, 100);
            mqttdrv_log(s->sink, "mqtt", s->peer, TRANSCRIPT_SEND, "disconnect", NULL, 0,
                        "DISCONNECT");
        }
        MQTTClient_destroy(&s->client);
    }
    free(s);
}

bool mqttdrv_session_connected(const struct mqttdrv_session *s)
{
    if (s && s->raw)
        return mqttrs_connected(s->raw);
    return s && s->connected && s->client && MQTTClient_isConnected(s->client);
}

bool mqttdrv_session_raw(const struct mqttdrv_session *s)
{
    return s && s->raw;
}

/*
 * A connection attempt needs no session of its own: on the raw engine (MQTT
 * 3.1.1 or 5, plain TCP or TLS) it takes about 1 ms on loopback where paho's
 * connect takes 100 ms, and the CONNACK is read by the bounded parser.
 */
int mqttdrv_connect(const struct mqttdrv_target *t, const struct mqttdrv_connect_opts *o,
                    struct mqttdrv_connack *ack, struct assay_error *err)
{
    struct mqttdrv_session *s = NULL;
    int rc = mqttdrv_session_open(t, o, &s, ack, err);
    mqttdrv_session_close(s);
    return rc;
}

/* ---- publish ---- */

int mqttdrv_publish(struct mqttdrv_session *s, const char *topic, const void *payload, size_t len,
                    int qos, bool retain, struct assay_error *err)
{
    MQTTClient_deliveryToken tok = 0;
    assay_ms deadline;
    char shown[160];
    int rc;
    if (!s || !topic || qos < 0 || qos > 2 || len > MQTTDRV_MAX_PAYLOAD || (len && !payload))
        return assay_fail(err, ASSAY_EINVAL, "mqtt: bad publish arguments");
    if (!mqttdrv_session_connected(s))
        return assay_fail(err, ASSAY_ENET, "mqtt: %s: the session is not connected", s->peer);
    if (s->raw)
        return mqttrs_publish(s->raw, topic, payload, len, qos, retain, err);
    deadline = clock_deadline(s->timeout_ms);
    mqttdrv_escape(topic, strlen(topic), shown, sizeof shown);
    mqttdrv_log(s->sink, "mqtt", s->peer, TRANSCRIPT_SEND, "publish", payload,
                len > MQTTDRV_LOG_BYTES ? MQTTDRV_LOG_BYTES : len,
                "PUBLISH topic=%s length=%zu qos=%d retain=%d", shown, len, qos, retain);
    if (s->version == 5) {
        MQTTResponse r =
            MQTTClient_publish5(s->client, topic, (int)len, payload, qos, retain, NULL, &tok);
        rc = r.reasonCode;
        MQTTResponse_free(r);
    } else {
        rc = MQTTClient_publish(s->client, topic, (int)len, payload, qos, retain, &tok);
    }
    if (rc == MQTTCLIENT_SUCCESS && qos > 0) {
        int64_t left = clock_remaining_ms(deadline);
        rc = MQTTClient_waitForCompletion(s->client, tok, (unsigned long)(left > 0 ? left : 1));
        if (rc != MQTTCLIENT_SUCCESS && MQTTClient_isConnected(s->client)) {
            mqttdrv_log(s->sink, "mqtt", s->peer, TRANSCRIPT_NOTE, "timeout", NULL, 0,
                        "PUBLISH qos=%d not completed before the deadline", qos);
            return assay_fail(err, ASSAY_ETIMEOUT, "mqtt: %s: publish not completed", s->peer);
        }
    }
    if (rc != MQTTCLIENT_SUCCESS) {
        if (!MQTTClient_isConnected(s->client))
            s->connected = false;
        mqttdrv_log(s->sink, "mqtt", s->peer, TRANSCRIPT_NOTE, "error", NULL, 0,
                    "PUBLISH failed: %s", MQTTClient_strerror(rc));
        return assay_fail(err, ASSAY_ENET, "mqtt: %s: publish failed: %s", s->peer,
                          MQTTClient_strerror(rc));
    }
    return 0;
}

/* ---- subscribe and collect ---- */

void mqttdrv_collect_release(struct mqttdrv_collect *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->messages[i].topic);
        free(c->messages[i].payload);
    }
    free(c->messages);
    memset(c, 0, sizeof *c);
}

/* One SUBSCRIBE with every filter through paho. Returns 0 with a code per filter, or a
 * negative paho code. */
static int send_subscribe(struct mqttdrv_session *s, const char *const *filters, size_t n, int qos,
                          int *codes)
{
    char *topics[MQTTDRV_MAX_FILTERS];
    int q[MQTTDRV_MAX_FILTERS];
    for (size_t i = 0; i < n; i++) {
        topics[i] = (char *)(uintptr_t)filters[i];
        q[i] = qos;
    }
    if (s->version == 5) {
        MQTTResponse r = MQTTClient_subscribeMany5(s->client, (int)n, topics, q, NULL, NULL);
        int rc = r.reasonCode;
        for (size_t i = 0; rc >= 0 && i < n; i++) {
            codes[i] = -1;
            if (r.reasonCodes && r.reasonCodeCount > 0 && (size_t)r.reasonCodeCount > i)
                codes[i] = (int)r.reasonCodes[i];
            else if (!r.reasonCodes && i == 0)
                codes[i] = rc;
        }
        MQTTResponse_free(r);
        return rc < 0 ? rc : 0;
    }
    int rc = MQTTClient_subscribeMany(s->client, (int)n, topics, q);
    if (rc == MQTTCLIENT_SUCCESS || rc == MQTT_BAD_SUBSCRIBE) {
        for (size_t i = 0; i < n; i++)
            codes[i] = q[i];
        return 0;
    }
    return rc < 0 ? rc : -1;
}

int mqttdrv_collect_add(struct mqttdrv_collect *c, size_t cap_n, const void *topic, size_t tl,
                        uint8_t *payload, size_t len, size_t full_len, int qos, bool retained,
                        bool dup, int64_t after_ms)
{
    struct mqttdrv_message *msg;
    if (c->n == 0 && !(c->messages = calloc(cap_n, sizeof *c->messages))) {
        free(payload);
        return ASSAY_ENOMEM;
    }
    msg = &c->messages[c->n];
    if (!(msg->topic = malloc(tl + 1))) {
        free(payload);
        return ASSAY_ENOMEM;
    }
    memcpy(msg->topic, topic, tl);
    msg->topic[tl] = '\0';
    msg->topic_len = tl;
    msg->payload = len ? payload : NULL;
    if (!len)
        free(payload);
    msg->len = len;
    msg->full_len = full_len;
    msg->qos = qos;
    msg->retained = retained;
    msg->dup = dup;
    msg->after_ms = after_ms;
    c->n++;
    c->bytes += len;
    return 0;
}

/* Copies one message received by paho into c (within the byte budget). Returns 0 or ASSAY_ENOMEM.
 */
static int keep_message(struct mqttdrv_collect *c, size_t cap_n, size_t budget, char *topic,
                        int tlen, const MQTTClient_message *m, int64_t after_ms)
{
    size_t full = m->payloadlen > 0 ? (size_t)m->payloadlen : 0;
    size_t keep = full < budget - c->bytes ? full : budget - c->bytes;
    size_t tl = tlen > 0 ? (size_t)tlen : strlen(topic);
    uint8_t *p = NULL;
    if (keep) {
        if (!(p = malloc(keep + 1)))
            return ASSAY_ENOMEM;
        memcpy(p, m->payload, keep);
        p[keep] = '\0';
    }
    return mqttdrv_collect_add(c, cap_n, topic, tl, p, keep, full, m->qos, m->retained != 0,
                               m->dup != 0, after_ms);
}

/* Pulls messages until a bound; fills c->stop. */
static int collect(struct mqttdrv_session *s, struct mqttdrv_collect *c, size_t cap_n,
                   size_t budget, assay_ms start, assay_ms until, int quiet_ms)
{
    assay_ms last = start; /* the SUBSCRIBE, then the latest message */
    for (;;) {
        char *topic = NULL;
        int tlen = 0, rc;
        MQTTClient_message *m = NULL;
        int64_t left = until - clock_now_ms();
        if (c->n >= cap_n) {
            c->stop = MQTTDRV_STOP_COUNT;
            return 0;
        }
        if (c->bytes >= budget && c->n > 0) {
            c->stop = MQTTDRV_STOP_BYTES;
            return 0;
        }
        if (left <= 0) {
            c->stop = MQTTDRV_STOP_TIME;
            return 0;
        }
        if (quiet_ms > 0) {
            int64_t quiet_left = last + quiet_ms - clock_now_ms();
            if (quiet_left <= 0) {
                c->stop = MQTTDRV_STOP_QUIET;
                return 0;
            }
            if (quiet_left < left)
                left = quiet_left;
        }
        rc = MQTTClient_receive(s->client, &topic, &tlen, &m, (unsigned long)left);
        if (rc != MQTTCLIENT_SUCCESS && rc != MQTTCLIENT_TOPICNAME_TRUNCATED) {
            s->connected = false;
            c->stop = MQTTDRV_STOP_LOST;
            mqttdrv_log(s->sink, "mqtt", s->peer, TRANSCRIPT_NOTE, "closed", NULL, 0,
                        "connection lost while collecting: %s", MQTTClient_strerror(rc));
            return 0;
        }
        if (!m)
            continue; /* the wait ended without a message: the loop re-checks the time */
        last = clock_now_ms();
        rc = keep_message(c, cap_n, budget, topic, tlen, m, last - start);
        MQTTClient_freeMessage(&m);
        MQTTClient_free(topic);
        if (rc)
            return rc;
        mqttdrv_log_message(s->sink, s->peer, &c->messages[c->n - 1]);
    }
}

static int paho_subscribe(struct mqttdrv_session *s, const char *const *filters, size_t n, int qos,
                          size_t cap_n, size_t budget, int ms, int quiet_ms,
                          struct mqttdrv_collect *out, struct assay_error *err)
{
    bool granted = false;
    mqttdrv_log_subscribe(s->sink, s->peer, filters, n, qos, cap_n, budget, ms, quiet_ms);
    assay_ms start = clock_now_ms();
    int rc = send_subscribe(s, filters, n, qos, out->suback_codes);
    if (rc < 0) {
        out->elapsed_ms = clock_now_ms() - start;
        if (!MQTTClient_isConnected(s->client))
            s->connected = false;
        out->stop = MQTTDRV_STOP_LOST;
        snprintf(out->detail, sizeof out->detail, "no SUBACK: %s", MQTTClient_strerror(rc));
        mqttdrv_log(s->sink, "mqtt", s->peer, TRANSCRIPT_NOTE, "error", NULL, 0, "no SUBACK: %s",
                    MQTTClient_strerror(rc));
        if (rc == MQTTCLIENT_BAD_UTF8_STRING)
            return assay_fail(err, ASSAY_EINVAL, "mqtt: the filter is not valid UTF-8");
        return 0;
    }
    out->suback_code = out->suback_codes[0];
    for (size_t i = 0; i < n; i++) {
        granted = granted || (out->suback_codes[i] >= 0 && out->suback_codes[i] < 0x80);
        mqttdrv_log(s->sink, "mqtt", s->peer, TRANSCRIPT_RECV, "suback", NULL, 0,
                    "SUBACK code %d (0x%02x) for filter %zu after %lld ms", out->suback_codes[i],
                    (unsigned)out->suback_codes[i], i + 1, (long long)(clock_now_ms() - start));
    }
    if (!granted) {
        out->stop = MQTTDRV_STOP_REFUSED;
        out->elapsed_ms = clock_now_ms() - start;
        return 0;
    }
    rc = collect(s, out, cap_n, budget, start, start + ms, quiet_ms);
    out->elapsed_ms = clock_now_ms() - start;
    if (rc)
        return assay_fail(err, ASSAY_ENOMEM, "mqtt: out of memory while collecting");
    return 0;
}

int mqttdrv_subscribe_many(struct mqttdrv_session *s, const char *const *filters, size_t n, int qos,
                           const struct mqttdrv_limits *limits, struct mqttdrv_collect *out,
                           struct assay_error *err)
{
    size_t cap_n = limits && limits->max_messages ? limits->max_messages : 100;
    size_t budget = limits && limits->max_bytes ? limits->max_bytes : (1u << 20);
    int ms = limits && limits->ms > 0 ? limits->ms : (s ? s->timeout_ms : 0);
    int quiet_ms = limits ? limits->quiet_ms : 0;
    memset(out, 0, sizeof *out);
    out->suback_code = -1;
    for (size_t i = 0; i < MQTTDRV_MAX_FILTERS; i++)
        out->suback_codes[i] = -1;
    if (!s || !filters || n == 0 || n > MQTTDRV_MAX_FILTERS || qos < 0 || qos > 2 ||
        cap_n > MQTTDRV_MAX_MESSAGES || budget > MQTTDRV_MAX_BYTES)
        return assay_fail(err, ASSAY_EINVAL, "mqtt: bad subscribe arguments");
    for (size_t i = 0; i < n; i++)
        if (!filters[i] || !*filters[i])
            return assay_fail(err, ASSAY_EINVAL, "mqtt: empty topic filter");
    if (!mqttdrv_session_connected(s))
        return assay_fail(err, ASSAY_EINVAL, "mqtt: %s: the session is not connected", s->peer);
    out->nfilters = n;
    if (s->raw)
        return mqttrs_subscribe(s->raw, filters, n, qos, cap_n, budget, ms, quiet_ms, out, err);
    return paho_subscribe(s, filters, n, qos, cap_n, budget, ms, quiet_ms, out, err);
}

int mqttdrv_subscribe(struct mqttdrv_session *s, const char *filter, int qos,
                      const struct mqttdrv_limits *limits, struct mqttdrv_collect *out,
                      struct assay_error *err)
{
    const char *const one[1] = {filter};
    return mqttdrv_subscribe_many(s, one, 1, qos, limits, out, err);
}
