/*
 * scope.h: the set of addresses a run may send traffic to.
 *
 * The scope is built from the bench file (every device's address, every
 * mqtt-client broker address, and `allowed_hosts`). Every driver asks
 * scope_allows() before it opens a socket; a profile cannot reach anything
 * else. Addresses are compared in their binary form, so "127.0.0.2" and
 * "127.000.000.002" are not confused and host names are never resolved.
 */
#ifndef ASSAY_CORE_SCOPE_H
#define ASSAY_CORE_SCOPE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define SCOPE_MAX_HOSTS 4096

struct scope {
    struct scope_addr *addrs; /* owned */
    size_t n, cap;
};

void scope_init(struct scope *s);
void scope_release(struct scope *s);

/* Adds an IPv4 or IPv6 literal. Returns 0, or ASSAY_EINVAL if `host` is not
 * a literal address, or ASSAY_ENOMEM. Adding an address twice is harmless. */
int scope_add(struct scope *s, const char *host, struct assay_error *err);

/* True if `host` (an address literal) is in scope. Host names are never in scope. */
bool scope_allows(const struct scope *s, const char *host);

/* True if `host` parses as an IPv4 or IPv6 literal. */
bool scope_is_address(const char *host);

#endif
