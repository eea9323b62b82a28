/*
 * securitytxt.c: the RFC 9116 security.txt parser (securitytxt.h).
 */
#include "securitytxt.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static int problem(struct securitytxt *s, const char *fmt, ...)
{
    if (s->nproblems >= SECTXT_MAX_PROBLEMS)
        return 0;
    char buf[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    char *d = dup_n(buf, strlen(buf));
    if (!d)
        return -1;
    s->problems[s->nproblems++] = d;
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int securitytxt_parse_time(const char *s, int64_t *out)
{
    int y, mo, d, h, mi, se;
    if (strlen(s) < 20 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &h) ||
        s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &se))
        return -1;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 60)
        return -1;
    const char *z = s + 19;
    if (*z == '.') {
        z++;
        if (*z < '0' || *z > '9')
            return -1;
        while (*z >= '0' && *z <= '9')
            z++;
    }
    int off = 0;
    if ((*z == 'Z' || *z == 'z') && z[1] == '\0') {
        off = 0;
    } else if ((*z == '+' || *z == '-') && strlen(z) == 6 && z[3] == ':') {
        int oh, om;
        if (digits(z + 1, 2, &oh) || digits(z + 4, 2, &om) || oh > 23 || om > 59)
            return -1;
        off = (oh * 60 + om) * 60 * (*z == '+' ? 1 : -1);
    } else {
        return -1;
    }
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off;
    return 0;
}

static struct sectxt_list *field_list(struct securitytxt *s, const char *name, size_t n)
{
    static const struct {
        const char *name;
        size_t off;
    } fields[] = {
        {"contact", offsetof(struct securitytxt, contact)},
        {"expires", offsetof(struct securitytxt, expires)},
        {"encryption", offsetof(struct securitytxt, encryption)},
        {"policy", offsetof(struct securitytxt, policy)},
        {"acknowledgments", offsetof(struct securitytxt, acknowledgments)},
        {"preferred-languages", offsetof(struct securitytxt, preferred_languages)},
        {"canonical", offsetof(struct securitytxt, canonical)},
        {"hiring", offsetof(struct securitytxt, hiring)},
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (strlen(fields[i].name) == n && strncasecmp(fields[i].name, name, n) == 0)
            return (struct sectxt_list *)((char *)s + fields[i].off);
    }
    return NULL;
}

/* One line without its end of line. Returns 0 or -1 (out of memory). */
static int parse_line(struct securitytxt *s, const char *l, size_t n, size_t lineno)
{
    while (n > 0 && (l[n - 1] == ' ' || l[n - 1] == '\t'))
        n--;
    if (n == 0 || l[0] == '#')
        return 0;
    const char *colon = memchr(l, ':', n);
    size_t fn = colon ? (size_t)(colon - l) : 0;
    for (size_t i = 0; i < fn; i++) {
        char c = l[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-'))
            fn = 0;
    }
    if (fn > 0 && colon + 1 == l + n)
        return problem(s, "line %zu: empty value", lineno);
    if (fn == 0 || colon[1] != ' ')
        return problem(s, "line %zu is not \"Field: value\"", lineno);
    const char *v = colon + 2;
    size_t vn = n - fn - 2;
    while (vn > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        vn--;
    }
    struct sectxt_list *list = field_list(s, l, fn);
    if (!list || vn == 0)
        return vn == 0 ? problem(s, "line %zu: empty value", lineno) : 0;
    if (list->n >= SECTXT_MAX_VALUES)
        return problem(s, "line %zu: too many values for one field", lineno);
    for (size_t i = 0; i < vn; i++) {
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
            return problem(s, "line %zu: control character in the value", lineno);
    }
    char *d = dup_n(v, vn);
    if (!d)
        return -1;
    list->v[list->n++] = d;
    return 0;
}

static int check_required(struct securitytxt *s)
{
    int rc = 0;
    if (s->contact.n == 0)
        rc |= problem(s, "no Contact field (RFC 9116 requires one)");
    if (s->expires.n == 0)
        rc |= problem(s, "no Expires field (RFC 9116 requires one)");
    if (s->expires.n > 1)
        rc |= problem(s, "%zu Expires fields (RFC 9116 allows one)", s->expires.n);
    if (s->expires.n > 0 && securitytxt_parse_time(s->expires.v[0], &s->expires_epoch) != 0) {
        s->expires_epoch = INT64_MIN;
        rc |= problem(s, "Expires is not an RFC 3339 date-time");
    }
    return rc;
}

int securitytxt_parse(struct securitytxt *s, const char *buf, size_t len, struct assay_error *err)
{
    memset(s, 0, sizeof(*s));
    s->expires_epoch = INT64_MIN;
    int rc = 0;
    if (len > SECTXT_MAX_INPUT) {
        len = SECTXT_MAX_INPUT;
        rc |= problem(s, "longer than %u bytes; the rest is ignored", SECTXT_MAX_INPUT);
    }
    static const char pgp_begin[] = "-----BEGIN PGP SIGNED MESSAGE-----";
    static const char sig_begin[] = "-----BEGIN PGP SIGNATURE-----";
    bool in_pgp_header = false;
    size_t lineno = 0;
    for (size_t pos = 0; pos < len && rc == 0;) {
        const char *l = buf + pos;
        const char *nl = memchr(l, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - l) : len - pos;
        pos += n + (nl ? 1 : 0);
        lineno++;
        if (n > 0 && l[n - 1] == '\r')
            n--;
        if (n > SECTXT_MAX_LINE) {
            rc |= problem(s, "line %zu is longer than %d bytes", lineno, SECTXT_MAX_LINE);
            continue;
        }
        if (memchr(l, '\0', n)) {
            rc |= problem(s, "line %zu holds a NUL byte", lineno);
            continue;
        }
        if (n == sizeof(pgp_begin) - 1 && memcmp(l, pgp_begin, n) == 0) {
            s->is_signed = true;
            in_pgp_header = true;
            continue;
        }
        if (in_pgp_header) {
            in_pgp_header = n != 0; /* armor headers ("Hash: ...") end at a blank line */
            continue;
        }
        if (n == sizeof(sig_begin) - 1 && memcmp(l, sig_begin, n) == 0)
            break;
        if (s->is_signed && n >= 2 && l[0] == '-' && l[1] == ' ') {
            l += 2; /* dash-escaped line */
            n -= 2;
        }
        rc |= parse_line(s, l, n, lineno);
    }
    if (rc == 0)
        rc = check_required(s);
    if (rc) {
        securitytxt_release(s);
        return assay_fail(err, ASSAY_ENOMEM, "security.txt: out of memory");
    }
    return 0;
}

static void free_list(struct sectxt_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    l->n = 0;
}

void securitytxt_release(struct securitytxt *s)
{
    free_list(&s->contact);
    free_list(&s->expires);
    free_list(&s->encryption);
    free_list(&s->policy);
    free_list(&s->acknowledgments);
    free_list(&s->preferred_languages);
    free_list(&s->canonical);
    free_list(&s->hiring);
    for (size_t i = 0; i < s->nproblems; i++)
        free(s->problems[i]);
    s->nproblems = 0;
}
