/* modbus.c: Modbus/TCP connections and the standard reads and writes over libmodbus (modbus.h). */
#include "modbus_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- The process-wide connection table (bench safety) ---- */

#define MBI_SLOTS 64

static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char host[MBI_HOST_MAX];
    uint16_t port;
    int open;
} slots[MBI_SLOTS];

static int slot_find(const char *host, uint16_t port)
{
    for (int i = 0; i < MBI_SLOTS; i++)
        if (slots[i].open > 0 && slots[i].port == port && strcmp(slots[i].host, host) == 0)
            return i;
    return -1;
}

/* Takes a slot for host:port unless `max` are open. Returns 0 or ASSAY_EINVAL. */
static int slot_take(const char *host, uint16_t port, int max, struct assay_error *err)
{
    int rc = 0;
    pthread_mutex_lock(&slots_lock);
    int i = slot_find(host, port);
    if (i >= 0 && slots[i].open >= max) {
        rc = assay_fail(err, ASSAY_EINVAL,
                        "connection limit: %d of %d connections to %s:%u already open",
                        slots[i].open, max, host, (unsigned)port);
    } else if (i >= 0) {
        slots[i].open++;
    } else {
        for (i = 0; i < MBI_SLOTS && slots[i].open > 0; i++)
            ;
        if (i == MBI_SLOTS) {
            rc = assay_fail(err, ASSAY_EINVAL, "more than %d Modbus devices open at once",
                            MBI_SLOTS);
        } else {
            snprintf(slots[i].host, sizeof(slots[i].host), "%s", host);
            slots[i].port = port;
            slots[i].open = 1;
        }
    }
    pthread_mutex_unlock(&slots_lock);
    return rc;
}

static void slot_give(const char *host, uint16_t port)
{
    pthread_mutex_lock(&slots_lock);
    int i = slot_find(host, port);
    if (i >= 0)
        slots[i].open--;
    pthread_mutex_unlock(&slots_lock);
}

int modbus_conn_count(const char *host, uint16_t port)
{
    pthread_mutex_lock(&slots_lock);
    int i = host ? slot_find(host, port) : -1;
    int n = i >= 0 ? slots[i].open : 0;
    pthread_mutex_unlock(&slots_lock);
    return n;
}

/* ---- Open and close ---- */

static int check_options(const struct modbus_endpoint *ep, struct modbus_options *o,
                         struct assay_error *err)
{
    if (!ep || !ep->host || ep->port == 0)
        return assay_fail(err, ASSAY_EINVAL, "Modbus endpoint needs an address and a port");
    if (strlen(ep->host) >= MBI_HOST_MAX)
        return assay_fail(err, ASSAY_EINVAL, "address too long");
    if (!o->scope)
        return assay_fail(err, ASSAY_EINVAL, "no scope given");
    if (ep->unit_id > 247 && ep->unit_id != 255)
        return assay_fail(err, ASSAY_EINVAL, "unit id %u: libmodbus accepts 0..247 and 255",
                          (unsigned)ep->unit_id);
    if (o->timeout_ms <= 0)
        o->timeout_ms = 3000;
    if (o->byte_timeout_ms <= 0)
        o->byte_timeout_ms = o->timeout_ms / 4 < 50 ? 50 : o->timeout_ms / 4;
    if (o->byte_timeout_ms > o->timeout_ms)
        o->byte_timeout_ms = o->timeout_ms;
    if (o->pause_ms < 0)
        o->pause_ms = 0;
    if (o->max_connections <= 0)
        o->max_connections = 1;
    if (o->timeout_ms > 600000 || o->pause_ms > 60000 || o->max_connections > 16)
        return assay_fail(err, ASSAY_EINVAL, "Modbus options out of range");
    return 0;
}

static void set_timeouts(modbus_t *ctx, int response_ms, int byte_ms)
{
    modbus_set_response_timeout(ctx, (uint32_t)(response_ms / 1000),
                                (uint32_t)(response_ms % 1000) * 1000u);
    modbus_set_byte_timeout(ctx, (uint32_t)(byte_ms / 1000), (uint32_t)(byte_ms % 1000) * 1000u);
}

static int make_context(struct modbus_conn *c, struct assay_error *err)
{
    char service[8];
    snprintf(service, sizeof(service), "%u", (unsigned)c->port);
    c->ctx = modbus_new_tcp_pi(c->host, service);
    if (!c->ctx)
        return assay_fail(err, ASSAY_ENOMEM, "libmodbus context: %s", modbus_strerror(errno));
    if (modbus_set_slave(c->ctx, c->unit_id) != 0 || modbus_set_socket(c->ctx, c->tcp.fd) != 0)
        return assay_fail(err, ASSAY_EINTERNAL, "libmodbus setup: %s", modbus_strerror(errno));
    set_timeouts(c->ctx, c->opts.timeout_ms, c->opts.byte_timeout_ms);
    return 0;
}

int modbus_conn_open(struct modbus_conn **out, const struct modbus_endpoint *ep,
                     const struct modbus_options *opts, struct assay_error *err)
{
    *out = NULL;
    struct modbus_options o = opts ? *opts : (struct modbus_options){0};
    int rc = check_options(ep, &o, err);
    if (rc != 0)
        return rc;
    if (!scope_allows(o.scope, ep->host))
        return assay_fail(err, ASSAY_ESCOPE, "%s is not in the run's scope", ep->host);
    rc = slot_take(ep->host, ep->port, o.max_connections, err);
    if (rc != 0)
        return rc;
    struct modbus_conn *c = calloc(1, sizeof(*c));
    if (!c) {
        slot_give(ep->host, ep->port);
        return assay_fail(err, ASSAY_ENOMEM, "out of memory");
    }
    c->counted = true;
    c->opts = o;
    snprintf(c->host, sizeof(c->host), "%s", ep->host);
    c->port = ep->port;
    c->unit_id = ep->unit_id;
    c->next_tid = (uint16_t)(0x4000u + ((unsigned)clock_now_ms() & 0x3fffu));
    rawtcp_init(&c->tcp, o.sink, "modbus");
    rc = rawtcp_open(&c->tcp, o.scope, c->host, c->port, clock_deadline(o.timeout_ms), err);
    if (rc == 0)
        rc = make_context(c, err);
    if (rc != 0) {
        modbus_conn_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

void modbus_conn_close(struct modbus_conn *c)
{
    if (!c)
        return;
    if (c->ctx) {
        modbus_set_socket(c->ctx, -1); /* the socket is ours to close */
        modbus_free(c->ctx);
    }
    rawtcp_close(&c->tcp, 100);
    if (c->counted)
        slot_give(c->host, c->port);
    free(c);
}

bool modbus_conn_is_open(const struct modbus_conn *c)
{
    return c && c->tcp.fd >= 0;
}

const char *modbus_conn_peer(const struct modbus_conn *c)
{
    return c ? c->tcp.peer : "";
}

/* ---- Shared request plumbing ---- */

static void pause_between(const struct modbus_conn *c)
{
    if (c->opts.pause_ms <= 0 || c->last_request == 0)
        return;
    int64_t wait = c->last_request + c->opts.pause_ms - clock_now_ms();
    if (wait <= 0)
        return;
    struct timespec ts = {.tv_sec = wait / 1000, .tv_nsec = (long)(wait % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int mbi_begin_request(struct modbus_conn *c, bool raw, struct assay_error *err)
{
    if (!modbus_conn_is_open(c))
        return assay_fail(err, ASSAY_EINVAL, "Modbus connection %s is closed",
                          c ? c->tcp.peer : "");
    if (!raw && !modbus_frame_guard_idle(&c->guard))
        return assay_fail(err, ASSAY_EINVAL,
                          "%s: a raw frame was left incomplete; reopen before a framed request",
                          c->tcp.peer);
    pause_between(c);
    /* Bytes that arrive between requests (a late reply) would be taken as the
     * next reply: read them into the transcript and drop them. */
    uint8_t stale[256];
    size_t got = 0;
    for (int i = 0; i < 64 && rawtcp_wait_readable(&c->tcp, 0) == 1; i++) {
        if (rawtcp_recv(&c->tcp, stale, sizeof(stale), clock_deadline(0), &got, NULL) != 0) {
            struct modbus_result r;
            mbi_transport_outcome(c, &r, "before request"); /* closes the connection */
            return assay_fail(err, ASSAY_ENET, "Modbus connection %s %s: %s", c->tcp.peer,
                              modbus_outcome_name(r.outcome), r.reason);
        }
        transcript_note(c->opts.sink, "modbus", c->tcp.peer, "stale",
                        "discarded unsolicited bytes");
    }
    return 0;
}

void mbi_drop(struct modbus_conn *c)
{
    rawtcp_close(&c->tcp, 0);
    if (c->counted) {
        slot_give(c->host, c->port);
        c->counted = false;
    }
}

void mbi_end_request(struct modbus_conn *c)
{
    c->last_request = clock_now_ms();
}

void mbi_transport_outcome(struct modbus_conn *c, struct modbus_result *r, const char *what)
{
    switch (c->tcp.status) {
    case RAWTCP_TIMEOUT: r->outcome = MODBUS_OUTCOME_TIMEOUT; break;
    case RAWTCP_CLOSED: r->outcome = MODBUS_OUTCOME_CLOSED; break;
    default: r->outcome = MODBUS_OUTCOME_RESET; break;
    }
    snprintf(r->reason, sizeof(r->reason), "%s: %s", what, rawtcp_status_name(c->tcp.status));
    if (r->outcome != MODBUS_OUTCOME_TIMEOUT)
        mbi_drop(c);
}

/* Maps a failed libmodbus call (errno) to an outcome. */
static void libmodbus_outcome(struct modbus_conn *c, int e, struct modbus_result *r)
{
    if (e > MODBUS_ENOBASE && e < MODBUS_ENOBASE + 0x0C) {
        r->outcome = MODBUS_OUTCOME_EXCEPTION;
        r->exception = e - MODBUS_ENOBASE;
        snprintf(r->reason, sizeof(r->reason), "exception %d: %s", r->exception,
                 modbus_exception_name(r->exception));
        return;
    }
    if (e == ETIMEDOUT) {
        r->outcome = MODBUS_OUTCOME_TIMEOUT;
        snprintf(r->reason, sizeof(r->reason), "no reply before the deadline");
        return;
    }
    if (e == ECONNRESET || e == EPIPE || e == EBADF || e == ENOTCONN) {
        r->outcome = e == ECONNRESET ? MODBUS_OUTCOME_CLOSED : MODBUS_OUTCOME_RESET;
        snprintf(r->reason, sizeof(r->reason), "connection closed or reset (%s)", strerror(e));
        mbi_drop(c);
        return;
    }
    /* EMBBADDATA, EMBBADEXC, EMBMDATA, EMBBADSLAVE...: a reply that broke the protocol.
     * What is left of it in the socket is drained by the next request. */
    r->outcome = MODBUS_OUTCOME_MALFORMED;
    snprintf(r->reason, sizeof(r->reason), "invalid reply: %s", modbus_strerror(e));
}

static const char *dir_event(const struct modbus_result *r)
{
    return r->outcome == MODBUS_OUTCOME_OK ? "reply" : modbus_outcome_name(r->outcome);
}

/* Writes the reply (or its absence) of a libmodbus request to the transcript. */
static void record_reply(struct modbus_conn *c, int fc, uint16_t address,
                         const struct modbus_result *r)
{
    char summary[192];
    char detail[1024];
    if (r->outcome == MODBUS_OUTCOME_OK)
        snprintf(summary, sizeof(summary), "FC %02X address %u: %zu value(s) in %lld ms", fc,
                 (unsigned)address, r->count, (long long)r->elapsed_ms);
    else
        snprintf(summary, sizeof(summary), "FC %02X address %u: %s after %lld ms", fc,
                 (unsigned)address, r->reason, (long long)r->elapsed_ms);
    size_t off = (size_t)snprintf(detail, sizeof(detail),
                                  "{\"fc\":%d,\"address\":%u,\"outcome\":\"%s\",\"exception\":%d,"
                                  "\"elapsed_ms\":%lld,\"values\":[",
                                  fc, (unsigned)address, modbus_outcome_name(r->outcome),
                                  r->exception, (long long)r->elapsed_ms);
    size_t shown = r->count < 125 ? r->count : 125;
    for (size_t i = 0; i < shown && off < sizeof(detail) - 16; i++)
        off += (size_t)snprintf(detail + off, sizeof(detail) - off, "%s%u", i ? "," : "",
                                (unsigned)r->values[i]);
    snprintf(detail + off, sizeof(detail) - off, "]}");
    struct transcript_entry e = {
        .protocol = "modbus",
        .dir = r->outcome == MODBUS_OUTCOME_OK || r->outcome == MODBUS_OUTCOME_EXCEPTION
                   ? TRANSCRIPT_RECV
                   : TRANSCRIPT_NOTE,
        .peer = c->tcp.peer,
        .event = dir_event(r),
        .summary = summary,
        .detail_json = detail,
    };
    transcript_write(c->opts.sink, &e);
}

static void record_request(struct modbus_conn *c, int fc, uint16_t address, size_t count)
{
    char summary[128];
    char detail[128];
    snprintf(summary, sizeof(summary), "FC %02X unit %u address %u count %zu", fc,
             (unsigned)c->unit_id, (unsigned)address, count);
    snprintf(detail, sizeof(detail), "{\"fc\":%d,\"unit\":%u,\"address\":%u,\"count\":%zu}", fc,
             (unsigned)c->unit_id, (unsigned)address, count);
    struct transcript_entry e = {
        .protocol = "modbus",
        .dir = TRANSCRIPT_SEND,
        .peer = c->tcp.peer,
        .event = "request",
        .summary = summary,
        .detail_json = detail,
    };
    transcript_write(c->opts.sink, &e);
}

/* ---- Reads and writes ---- */

static const int read_fc[] = {0x01, 0x02, 0x03, 0x04};

static int do_read(struct modbus_conn *c, enum modbus_table table, uint16_t address, size_t count,
                   struct modbus_result *r)
{
    uint8_t bits[MODBUS_VALUES_MAX];
    int a = address, n = (int)count;
    switch (table) {
    case MODBUS_TABLE_COILS:
    case MODBUS_TABLE_DISCRETE: {
        int rc = table == MODBUS_TABLE_COILS ? modbus_read_bits(c->ctx, a, n, bits)
                                             : modbus_read_input_bits(c->ctx, a, n, bits);
        for (int i = 0; i < rc && i < n; i++)
            r->values[i] = bits[i] ? 1 : 0;
        return rc;
    }
    case MODBUS_TABLE_HOLDING: return modbus_read_registers(c->ctx, a, n, r->values);
    case MODBUS_TABLE_INPUT: return modbus_read_input_registers(c->ctx, a, n, r->values);
    }
    return -1;
}

static int finish(struct modbus_conn *c, int rc, int e, int fc, uint16_t address, assay_ms t0,
                  struct modbus_result *r)
{
    r->elapsed_ms = clock_now_ms() - t0;
    if (rc >= 0) {
        r->outcome = MODBUS_OUTCOME_OK;
    } else {
        r->count = 0;
        libmodbus_outcome(c, e, r);
    }
    record_reply(c, fc, address, r);
    mbi_end_request(c);
    return 0;
}

int modbus_conn_read(struct modbus_conn *c, enum modbus_table table, uint16_t address, size_t count,
                     struct modbus_result *r, struct assay_error *err)
{
    memset(r, 0, sizeof(*r));
    if ((unsigned)table > MODBUS_TABLE_INPUT)
        return assay_fail(err, ASSAY_EINVAL, "unknown Modbus table %d", (int)table);
    size_t max = table <= MODBUS_TABLE_DISCRETE ? MODBUS_MAX_READ_BITS : MODBUS_MAX_READ_REGISTERS;
    if (count < 1 || count > max || address + count > 65536)
        return assay_fail(err, ASSAY_EINVAL,
                          "read of %zu %s at %u: count must be 1..%zu within 0..65535", count,
                          modbus_table_name(table), (unsigned)address, max);
    int rc = mbi_begin_request(c, false, err);
    if (rc != 0)
        return rc;
    int fc = read_fc[table];
    record_request(c, fc, address, count);
    assay_ms t0 = clock_now_ms();
    rc = do_read(c, table, address, count, r);
    int e = errno;
    r->count = rc > 0 ? (size_t)rc : 0;
    return finish(c, rc, e, fc, address, t0, r);
}

int modbus_conn_write(struct modbus_conn *c, enum modbus_table table, uint16_t address,
                      const uint16_t *values, size_t count, bool multiple, struct modbus_result *r,
                      struct assay_error *err)
{
    memset(r, 0, sizeof(*r));
    if (table != MODBUS_TABLE_COILS && table != MODBUS_TABLE_HOLDING)
        return assay_fail(err, ASSAY_EINVAL, "only coils and holding registers can be written");
    size_t max = table == MODBUS_TABLE_COILS ? MODBUS_MAX_WRITE_BITS : MODBUS_MAX_WRITE_REGISTERS;
    if (!values || count < 1 || count > max || address + count > 65536 || (!multiple && count != 1))
        return assay_fail(err, ASSAY_EINVAL, "write of %zu %s at %u: count must be 1..%zu", count,
                          modbus_table_name(table), (unsigned)address, max);
    int rc = mbi_begin_request(c, false, err);
    if (rc != 0)
        return rc;
    bool coils = table == MODBUS_TABLE_COILS;
    int fc = multiple ? (coils ? 0x0F : 0x10) : (coils ? 0x05 : 0x06);
    record_request(c, fc, address, count);
    assay_ms t0 = clock_now_ms();
    if (!multiple) {
        rc = coils ? modbus_write_bit(c->ctx, address, values[0] ? 1 : 0)
                   : modbus_write_register(c->ctx, address, values[0]);
    } else if (coils) {
        uint8_t bits[MODBUS_MAX_WRITE_BITS];
        for (size_t i = 0; i < count; i++)
            bits[i] = values[i] ? 1 : 0;
        rc = modbus_write_bits(c->ctx, address, (int)count, bits);
    } else {
        rc = modbus_write_registers(c->ctx, address, (int)count, values);
    }
    return finish(c, rc, errno, fc, address, t0, r);
}

int modbus_conn_alive(struct modbus_conn *c, enum modbus_table table, uint16_t address, bool *alive,
                      struct modbus_result *r, struct assay_error *err)
{
    struct modbus_result local;
    struct modbus_result *res = r ? r : &local;
    *alive = false;
    if (!modbus_conn_is_open(c)) {
        memset(res, 0, sizeof(*res));
        res->outcome = MODBUS_OUTCOME_CLOSED;
        snprintf(res->reason, sizeof(res->reason), "connection already closed");
        return 0;
    }
    int rc = modbus_conn_read(c, table, address, 1, res, err);
    if (rc != 0)
        return rc;
    *alive = res->outcome == MODBUS_OUTCOME_OK || res->outcome == MODBUS_OUTCOME_EXCEPTION;
    transcript_note(c->opts.sink, "modbus", c->tcp.peer, "liveness",
                    *alive ? "device answered" : "device did not answer");
    return 0;
}

/* ---- Names ---- */

const char *modbus_table_name(enum modbus_table t)
{
    static const char *names[] = {"coils", "discrete", "holding", "input"};
    return (unsigned)t <= MODBUS_TABLE_INPUT ? names[t] : "unknown";
}

int modbus_table_parse(const char *name, enum modbus_table *t)
{
    static const struct {
        const char *name;
        enum modbus_table t;
    } map[] = {{"coils", MODBUS_TABLE_COILS},       {"coil", MODBUS_TABLE_COILS},
               {"discrete", MODBUS_TABLE_DISCRETE}, {"discrete_inputs", MODBUS_TABLE_DISCRETE},
               {"holding", MODBUS_TABLE_HOLDING},   {"holding_registers", MODBUS_TABLE_HOLDING},
               {"input", MODBUS_TABLE_INPUT},       {"input_registers", MODBUS_TABLE_INPUT}};
    for (size_t i = 0; name && i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(name, map[i].name) == 0) {
            *t = map[i].t;
            return 0;
        }
    return ASSAY_EINVAL;
}

const char *modbus_exception_name(int code)
{
    switch (code) {
    case 0x01: return "illegal function";
    case 0x02: return "illegal data address";
    case 0x03: return "illegal data value";
    case 0x04: return "server device failure";
    case 0x05: return "acknowledge";
    case 0x06: return "server device busy";
    case 0x07: return "negative acknowledge";
    case 0x08: return "memory parity error";
    case 0x0A: return "gateway path unavailable";
    case 0x0B: return "gateway target device failed to respond";
    default: return "unknown exception";
    }
}

const char *modbus_outcome_name(enum modbus_outcome o)
{
    static const char *names[] = {"ok", "exception", "timeout", "closed", "reset", "malformed"};
    return (unsigned)o <= MODBUS_OUTCOME_MALFORMED ? names[o] : "unknown";
}
