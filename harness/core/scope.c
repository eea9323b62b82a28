/* scope.c: the addresses a run may touch (see scope.h). */
#include "scope.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

struct scope_addr {
    int family;
    unsigned char bytes[16];
};

static bool parse(const char *host, struct scope_addr *a)
{
    memset(a, 0, sizeof(*a));
    if (!host)
        return false;
    if (inet_pton(AF_INET, host, a->bytes) == 1) {
        a->family = AF_INET;
        return true;
    }
    if (inet_pton(AF_INET6, host, a->bytes) == 1) {
        a->family = AF_INET6;
        return true;
    }
    return false;
}

void scope_init(struct scope *s)
{
    memset(s, 0, sizeof(*s));
}

void scope_release(struct scope *s)
{
    free(s->addrs);
    memset(s, 0, sizeof(*s));
}

bool scope_is_address(const char *host)
{
    struct scope_addr a;
    return parse(host, &a);
}

int scope_add(struct scope *s, const char *host, struct assay_error *err)
{
    struct scope_addr a;
    if (!parse(host, &a))
        return assay_fail(err, ASSAY_EINVAL, "'%s' is not an IPv4 or IPv6 address", host);
    if (scope_allows(s, host))
        return 0;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        if (cap > SCOPE_MAX_HOSTS)
            return assay_fail(err, ASSAY_ENOMEM, "more than %d addresses in scope",
                              SCOPE_MAX_HOSTS);
        struct scope_addr *p = realloc(s->addrs, cap * sizeof(*p));
        if (!p)
            return assay_fail(err, ASSAY_ENOMEM, "out of memory");
        s->addrs = p;
        s->cap = cap;
    }
    s->addrs[s->n++] = a;
    return 0;
}

bool scope_allows(const struct scope *s, const char *host)
{
    struct scope_addr a;
    if (!s || !parse(host, &a))
        return false;
    for (size_t i = 0; i < s->n; i++)
        if (s->addrs[i].family == a.family && memcmp(s->addrs[i].bytes, a.bytes, 16) == 0)
            return true;
    return false;
}
