/*
 * labbroker_plugin.c: the lab broker's recording plugin, a mosquitto 2.0
 * plugin (interface version 5) loaded by the mosquitto that the harness
 * starts for an MQTT client device (labbroker.h).
 *
 * It admits every client (MOSQ_EVT_BASIC_AUTH returns success: the lab
 * broker exists to see what a device sends, not to refuse it) and appends
 * one line per event to the file named by `plugin_opt_record`:
 *
 *   C <mono_ms> <client id> <username|-> <password|-> <client address>
 *   M <mono_ms> <client id> <topic> <payload bytes> <retain 0|1> <qos> <payload head|->
 *
 * separated by tabs; every field that came from the network is lowercase hex
 * (so a device's bytes cannot break a line), "-" for an absent value.
 * mono_ms is CLOCK_MONOTONIC in milliseconds, the harness's clock. At most
 * `plugin_opt_payload_max` bytes of each payload are kept (default 512, at
 * most 4096) and the file stops growing at 16 MiB. Each line is one write()
 * to an O_APPEND descriptor, so a reader never sees half a line for long.
 *
 * Built against Debian's mosquitto-dev (plugin headers only), without the
 * sanitizers: it runs inside a mosquitto that has none.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

/* From libmosquitto-dev's mosquitto.h, which the plugin headers do not include (mosquitto 2.0). */
#ifndef MOSQ_ERR_SUCCESS
#define MOSQ_ERR_SUCCESS 0
#define MOSQ_ERR_NOMEM 1
#define MOSQ_ERR_INVAL 3
#endif

#define FIELD_MAX 65535
#define PAYLOAD_DEFAULT 512
#define PAYLOAD_LIMIT 4096
#define FILE_LIMIT (16L << 20)

struct recorder {
    mosquitto_plugin_id_t *id;
    int fd;
    size_t payload_max;
    long written;
};

static struct recorder rec = {.fd = -1};

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Appends n bytes as hex (or "-" for NULL) to buf at *used; never overruns size. */
static void put_hex(char *buf, size_t size, size_t *used, const void *data, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *p = data;
    if (*used + 2 >= size)
        return;
    buf[(*used)++] = '\t';
    if (p == NULL) {
        buf[(*used)++] = '-';
        return;
    }
    for (size_t i = 0; i < n && *used + 3 < size; i++) {
        buf[(*used)++] = digits[p[i] >> 4];
        buf[(*used)++] = digits[p[i] & 15];
    }
}

/* Appends the message's size, retained flag and QoS as decimal fields. */
static void put_numbers(char *buf, size_t size, size_t *used, long long len, int retain, int qos)
{
    if (*used >= size)
        return;
    int n = snprintf(buf + *used, size - *used, "\t%lld\t%d\t%d", len, retain, qos);
    if (n > 0)
        *used += (size_t)n < size - *used ? (size_t)n : size - *used - 1;
}

static void emit(char *buf, size_t used)
{
    if (rec.fd < 0 || rec.written > FILE_LIMIT)
        return;
    buf[used++] = '\n';
    ssize_t w;
    do {
        w = write(rec.fd, buf, used);
    } while (w < 0 && errno == EINTR);
    if (w > 0)
        rec.written += (long)w;
}

static size_t bounded(const char *s)
{
    return s ? strnlen(s, FIELD_MAX) : 0;
}

static int on_basic_auth(int event, void *event_data, void *userdata)
{
    (void)event;
    (void)userdata;
    const struct mosquitto_evt_basic_auth *ed = event_data;
    const char *id = mosquitto_client_id(ed->client);
    const char *addr = mosquitto_client_address(ed->client);
    size_t size = 6 * FIELD_MAX + 64;
    char *buf = malloc(size);
    size_t used = 0;
    if (!buf)
        return MOSQ_ERR_SUCCESS;
    used = (size_t)snprintf(buf, size, "C\t%lld", mono_ms());
    put_hex(buf, size, &used, id ? id : "", bounded(id));
    put_hex(buf, size, &used, ed->username, bounded(ed->username));
    put_hex(buf, size, &used, ed->password, bounded(ed->password));
    put_hex(buf, size, &used, addr ? addr : "", bounded(addr));
    emit(buf, used);
    free(buf);
    return MOSQ_ERR_SUCCESS;
}

static int on_message(int event, void *event_data, void *userdata)
{
    (void)event;
    (void)userdata;
    const struct mosquitto_evt_message *ed = event_data;
    const char *id = mosquitto_client_id(ed->client);
    size_t keep = ed->payloadlen < rec.payload_max ? ed->payloadlen : rec.payload_max;
    size_t size = 4 * FIELD_MAX + 2 * PAYLOAD_LIMIT + 128;
    char *buf = malloc(size);
    size_t used = 0;
    if (!buf)
        return MOSQ_ERR_SUCCESS;
    used = (size_t)snprintf(buf, size, "M\t%lld", mono_ms());
    put_hex(buf, size, &used, id ? id : "", bounded(id));
    put_hex(buf, size, &used, ed->topic, bounded(ed->topic));
    put_numbers(buf, size, &used, (long long)ed->payloadlen, ed->retain ? 1 : 0, (int)ed->qos);
    put_hex(buf, size, &used, ed->payloadlen > 0 ? ed->payload : NULL, keep);
    emit(buf, used);
    free(buf);
    return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
    for (int i = 0; i < supported_version_count; i++)
        if (supported_versions[i] == 5)
            return 5;
    return -1;
}

int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata,
                          struct mosquitto_opt *options, int option_count)
{
    const char *path = NULL;
    rec.payload_max = PAYLOAD_DEFAULT;
    for (int i = 0; i < option_count; i++) {
        if (strcmp(options[i].key, "record") == 0) {
            path = options[i].value;
        } else if (strcmp(options[i].key, "payload_max") == 0) {
            char *end = NULL;
            long v = strtol(options[i].value, &end, 10);
            if (end != options[i].value && *end == '\0' && v >= 0 && v <= PAYLOAD_LIMIT)
                rec.payload_max = (size_t)v;
        }
    }
    if (path == NULL)
        return MOSQ_ERR_INVAL;
    rec.fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (rec.fd < 0)
        return MOSQ_ERR_INVAL;
    rec.id = identifier;
    *userdata = &rec;
    if (mosquitto_callback_register(identifier, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL, NULL) !=
            MOSQ_ERR_SUCCESS ||
        mosquitto_callback_register(identifier, MOSQ_EVT_MESSAGE, on_message, NULL, NULL) !=
            MOSQ_ERR_SUCCESS)
        return MOSQ_ERR_INVAL;
    return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options, int option_count)
{
    (void)userdata;
    (void)options;
    (void)option_count;
    if (rec.id) {
        mosquitto_callback_unregister(rec.id, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL);
        mosquitto_callback_unregister(rec.id, MOSQ_EVT_MESSAGE, on_message, NULL);
    }
    if (rec.fd >= 0)
        close(rec.fd);
    rec.fd = -1;
    return MOSQ_ERR_SUCCESS;
}
