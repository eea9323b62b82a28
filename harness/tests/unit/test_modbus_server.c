/* test_modbus_server.c: a misbehaving-on-demand Modbus/TCP server for unit tests (see the header).
 */
#include "test_modbus_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <modbus.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *const ident_objects[] = {"ProbeVendor",         "PRB-1000",    "1.2.3",
                                            "http://example.test", "Probe Meter", "PM-1"};
#define IDENT_COUNT 6

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for fd readable or stop. Returns 1 readable, 0 timeout, -1 stop or error. */
static int wait_in(struct tms *s, int fd, int timeout_ms)
{
    struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = s->stop_pipe[0], .events = POLLIN}};
    int rc;
    do
        rc = poll(p, 2, timeout_ms);
    while (rc < 0 && errno == EINTR);
    if (rc < 0 || (p[1].revents & POLLIN))
        return -1;
    return rc > 0;
}

/* Reads n bytes; the first may wait forever (until stop), later ones 300 ms.
 * Returns 1 done, 0 partial dropped, -1 closed or stop. */
static int read_n(struct tms *s, int fd, uint8_t *buf, size_t n, int first_wait)
{
    size_t got = 0;
    int64_t deadline = now_ms() + 300;
    while (got < n) {
        int64_t left = deadline - now_ms();
        int w = wait_in(s, fd, got == 0 && first_wait ? -1 : (int)(left > 0 ? left : 0));
        if (w < 0)
            return -1;
        if (w == 0) { /* the rest of a started frame did not come in time */
            s->partial_dropped++;
            return 0;
        }
        ssize_t k = recv(fd, buf + got, n - got, 0);
        if (k <= 0)
            return -1;
        if (got == 0 && first_wait)
            deadline = now_ms() + 300;
        got += (size_t)k;
    }
    return 1;
}

static void put_object(uint8_t *f, size_t *off, int id)
{
    size_t len = strlen(ident_objects[id]);
    f[(*off)++] = (uint8_t)id;
    f[(*off)++] = (uint8_t)len;
    memcpy(f + *off, ident_objects[id], len);
    *off += len;
}

static void reply_ident(struct tms *s, int fd, const uint8_t *req, size_t len)
{
    uint8_t f[260];
    int mode = s->mode;
    uint8_t code = len > 9 ? req[9] : 1, first = len > 10 ? req[10] : 0;
    int last = code == 1 ? 2 : IDENT_COUNT - 1;
    memcpy(f, req, 7);
    size_t off = 7;
    if (code < 1 || code > 4 || first > last) {
        f[off++] = 0xAB;
        f[off++] = code < 1 || code > 4 ? 0x03 : 0x02;
    } else {
        f[off++] = 0x2B;
        f[off++] = 0x0E;
        f[off++] = code;
        f[off++] = 0x82;
        int end = code == 4 ? first : (first + 1 > last ? last : first + 1);
        bool more = end < last && code != 4;
        f[off++] = more ? 0xFF : 0x00;
        f[off++] = more ? (uint8_t)(mode == TMS_IDENT_LOOP ? first : end + 1) : 0;
        f[off++] = (uint8_t)(end - first + 1);
        for (int id = first; id <= end; id++)
            put_object(f, &off, id);
        if (mode == TMS_IDENT_OVERRUN)
            f[off - strlen(ident_objects[end]) - 1] = 200;
    }
    f[4] = (uint8_t)((off - 6) >> 8);
    f[5] = (uint8_t)(off - 6);
    if (mode == TMS_IDENT_BAD_TID)
        f[1] ^= 0x01;
    (void)send(fd, f, off, MSG_NOSIGNAL);
}

/* Handles one request; returns -1 to drop the connection. */
static int handle(struct tms *s, modbus_t *ctx, modbus_mapping_t *map, int fd, const uint8_t *req,
                  size_t len)
{
    s->requests++;
    pthread_mutex_lock(&s->lock);
    memcpy(s->last, req, len);
    s->last_len = len;
    pthread_mutex_unlock(&s->lock);
    if (req[7] == 0x08)
        s->fc08_seen++;
    switch (s->mode) {
    case TMS_SILENT: return 0;
    case TMS_CLOSE: return -1;
    case TMS_GARBAGE:
        (void)send(fd, "\xde\xad\xbe\xef\x00\x09\x01\x03\x06\x00\x01\x00\x02\x00\x03", 15,
                   MSG_NOSIGNAL);
        return 0;
    case TMS_DELAY:
        if (wait_in(s, s->stop_pipe[0], s->delay_ms) != 0)
            return -1;
        break;
    default: break;
    }
    if (req[7] == 0x2B && len > 8 && req[8] == 0x0E)
        reply_ident(s, fd, req, len);
    else
        modbus_reply(ctx, req, (int)len, map);
    return 0;
}

static void serve_client(struct tms *s, modbus_t *ctx, modbus_mapping_t *map, int fd)
{
    uint8_t req[260];
    modbus_set_socket(ctx, fd);
    for (;;) {
        int rc = read_n(s, fd, req, 7, 1);
        if (rc < 0)
            return;
        if (rc == 0)
            continue;
        size_t mlen = (size_t)req[4] << 8 | req[5];
        if (mlen < 2 || mlen > 253) /* a frame a small device cannot follow: it hangs up */
            return;
        rc = read_n(s, fd, req + 7, mlen - 1, 0);
        if (rc < 0)
            return;
        if (rc == 0)
            continue;
        if (handle(s, ctx, map, fd, req, mlen + 6) < 0)
            return;
    }
}

static void *server_main(void *arg)
{
    struct tms *s = arg;
    modbus_t *ctx = modbus_new_tcp("127.0.0.1", s->port);
    modbus_mapping_t *map = modbus_mapping_new(100, 100, 32, 16);
    if (!ctx || !map)
        goto out;
    /* libmodbus's modbus_reply() sleeps for the response timeout before some
     * exception replies (illegal function, illegal data value) and then
     * flushes: keep that sleep short so tests need no long deadlines. */
    modbus_set_response_timeout(ctx, 0, 1000);
    for (int i = 0; i < 100; i++)
        map->tab_bits[i] = map->tab_input_bits[i] = (uint8_t)(i % 2);
    for (int i = 0; i < 32; i++)
        map->tab_registers[i] = (uint16_t)(i * 10 + 1);
    for (int i = 0; i < 16; i++)
        map->tab_input_registers[i] = (uint16_t)(1000 + i);
    for (;;) {
        if (wait_in(s, s->listen_fd, -1) < 0)
            break;
        int fd = accept(s->listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        s->connections++;
        serve_client(s, ctx, map, fd);
        close(fd);
    }
out:
    if (map)
        modbus_mapping_free(map);
    if (ctx) {
        modbus_set_socket(ctx, -1);
        modbus_free(ctx);
    }
    return NULL;
}

int tms_start(struct tms *s)
{
    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->lock, NULL);
    if (pipe(s->stop_pipe) != 0)
        return -1;
    s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof(a);
    if (s->listen_fd < 0 || bind(s->listen_fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        listen(s->listen_fd, 8) != 0 || getsockname(s->listen_fd, (struct sockaddr *)&a, &al) != 0)
        return -1;
    s->port = ntohs(a.sin_port);
    return pthread_create(&s->thread, NULL, server_main, s) == 0 ? 0 : -1;
}

void tms_stop(struct tms *s)
{
    (void)write(s->stop_pipe[1], "x", 1);
    pthread_join(s->thread, NULL);
    close(s->listen_fd);
    close(s->stop_pipe[0]);
    close(s->stop_pipe[1]);
    pthread_mutex_destroy(&s->lock);
}

size_t tms_last_request(struct tms *s, uint8_t *buf, size_t cap)
{
    pthread_mutex_lock(&s->lock);
    size_t n = s->last_len < cap ? s->last_len : cap;
    memcpy(buf, s->last, n);
    pthread_mutex_unlock(&s->lock);
    return n;
}
