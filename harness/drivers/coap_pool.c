/*
 * coap_pool.c: the CoAP driver's session cache (see coap.h, struct
 * coapdrv_pool): open libcoap sessions kept between requests, keyed by peer
 * and security, at most one DTLS association per device address, least
 * recently used closed first when full.
 */
#include "coap_internal.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pool_entry {
    struct coapdrv_conn *conn; /* owned; the session's app data points here */
    char host[COAPDRV_PEER_MAX];
    bool dtls;
    char *identity; /* owned copies of the PSK (dtls only) */
    uint8_t *key;
    size_t key_len;
    uint64_t last_use;
};

struct coapdrv_pool {
    struct pool_entry e[COAPDRV_POOL_MAX];
    size_t n;
    uint64_t tick;
    struct coapdrv_pool_stats stats;
};

int coapdrv_pool_new(struct coapdrv_pool **out, struct assay_error *err)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : assay_fail(err, ASSAY_ENOMEM, "coap: out of memory for a session pool");
}

/* Closes entry i and moves the last entry into its place. */
static void drop(struct coapdrv_pool *p, size_t i)
{
    struct pool_entry *e = &p->e[i];
    coapdrv_conn_close(e->conn);
    free(e->conn);
    free(e->identity);
    if (e->key) {
        memset(e->key, 0, e->key_len);
        free(e->key);
    }
    p->e[i] = p->e[--p->n];
    memset(&p->e[p->n], 0, sizeof p->e[p->n]);
}

void coapdrv_pool_free(struct coapdrv_pool *p)
{
    if (!p)
        return;
    while (p->n)
        drop(p, p->n - 1);
    free(p);
}

size_t coapdrv_pool_close(struct coapdrv_pool *p, const char *host)
{
    size_t closed = 0;
    if (!p)
        return 0;
    for (size_t i = p->n; i-- > 0;)
        if (!host || strcmp(p->e[i].host, host) == 0) {
            drop(p, i);
            closed++;
        }
    return closed;
}

size_t coapdrv_pool_size(const struct coapdrv_pool *p)
{
    return p ? p->n : 0;
}

struct coapdrv_pool_stats coapdrv_pool_stats(const struct coapdrv_pool *p)
{
    struct coapdrv_pool_stats none = {0};
    return p ? p->stats : none;
}

/* The same IP address (any port). */
static bool same_host(const struct coapdrv_addr *a, const struct coapdrv_addr *b)
{
    if (a->ss.ss_family != b->ss.ss_family)
        return false;
    if (a->ss.ss_family == AF_INET)
        return memcmp(&((const struct sockaddr_in *)&a->ss)->sin_addr,
                      &((const struct sockaddr_in *)&b->ss)->sin_addr, sizeof(struct in_addr)) == 0;
    return memcmp(&((const struct sockaddr_in6 *)&a->ss)->sin6_addr,
                  &((const struct sockaddr_in6 *)&b->ss)->sin6_addr, sizeof(struct in6_addr)) == 0;
}

static bool same_security(const struct pool_entry *e, const struct coapdrv_psk *psk)
{
    if (!psk)
        return !e->dtls;
    return e->dtls && strcmp(e->identity, psk->identity) == 0 && e->key_len == psk->key_len &&
           memcmp(e->key, psk->key, psk->key_len) == 0;
}

static bool usable(const struct pool_entry *e)
{
    const struct coapdrv_conn *c = e->conn;
    if (!c->session)
        return false;
    return !e->dtls ||
           (c->dtls > 0 && coap_session_get_state(c->session) == COAP_SESSION_STATE_ESTABLISHED);
}

/* Makes room for a new session to `a`: closes other DTLS sessions to the same
 * address (one association per device) and, when full, the least recently used. */
static void make_room(struct coapdrv_pool *p, const struct coapdrv_addr *a, bool dtls)
{
    size_t lru = 0;
    for (size_t i = p->n; dtls && i-- > 0;)
        if (p->e[i].dtls && same_host(&p->e[i].conn->addr, a))
            drop(p, i);
    if (p->n < COAPDRV_POOL_MAX)
        return;
    for (size_t i = 1; i < p->n; i++)
        if (p->e[i].last_use < p->e[lru].last_use)
            lru = i;
    drop(p, lru);
}

static int add_entry(struct coapdrv_pool *p, const struct coapdrv_target *t,
                     const struct coapdrv_psk *psk, struct coapdrv_conn *conn,
                     struct assay_error *err)
{
    struct pool_entry *e = &p->e[p->n];
    memset(e, 0, sizeof *e);
    e->conn = conn;
    snprintf(e->host, sizeof e->host, "%s", t->host);
    e->dtls = psk != NULL;
    if (psk) {
        e->identity = strdup(psk->identity);
        e->key = malloc(psk->key_len);
        if (!e->identity || !e->key) {
            free(e->identity);
            free(e->key);
            return assay_fail(err, ASSAY_ENOMEM, "coap: out of memory for a session pool");
        }
        memcpy(e->key, psk->key, psk->key_len);
        e->key_len = psk->key_len;
    }
    e->last_use = ++p->tick;
    p->n++;
    return 0;
}

int coapdrv_pool_acquire(struct coapdrv_pool *p, const struct coapdrv_target *t,
                         const struct coapdrv_psk *psk, struct coapdrv_conn **out,
                         struct assay_error *err)
{
    struct coapdrv_addr a;
    struct coapdrv_conn *conn;
    int rc = coapdrv_check_target(t, &a, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < p->n; i++) {
        struct pool_entry *e = &p->e[i];
        if (e->conn->addr.len != a.len || memcmp(&e->conn->addr.ss, &a.ss, a.len) != 0 ||
            !same_security(e, psk))
            continue;
        if (!usable(e)) {
            drop(p, i);
            break;
        }
        e->last_use = ++p->tick;
        p->stats.reused++;
        coapdrv_icmp_reset();
        coapdrv_conn_tune(e->conn, t);
        *out = e->conn;
        return 0;
    }
    make_room(p, &a, psk != NULL);
    conn = calloc(1, sizeof *conn);
    if (!conn)
        return assay_fail(err, ASSAY_ENOMEM, "coap: out of memory for a session");
    rc = coapdrv_conn_open(conn, t, psk, err);
    if (rc == 0)
        rc = add_entry(p, t, psk, conn, err);
    if (rc) {
        coapdrv_conn_close(conn);
        free(conn);
        return rc;
    }
    p->stats.opened++;
    *out = conn;
    return 0;
}

void coapdrv_pool_release(struct coapdrv_pool *p, struct coapdrv_conn *c, bool keep)
{
    for (size_t i = 0; i < p->n; i++) {
        if (p->e[i].conn != c)
            continue;
        c->t = NULL;
        if (!keep) {
            drop(p, i);
            p->stats.dropped++;
        }
        return;
    }
}
