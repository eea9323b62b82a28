/*
 * securitytxt.h: a parser for security.txt (RFC 9116), supporting evidence for
 * the vulnerability-reporting obligations (PSTI-2, EN 303 645 5.2-1).
 *
 * Reads "Field: value" lines (field names case-insensitive), skips comments
 * and blank lines, accepts CRLF or LF, and reads the body of an OpenPGP
 * cleartext-signed file (the signature itself is not verified: `signed` says
 * one is there). RFC 9116 requires at least one Contact and exactly one
 * Expires; Expires is an RFC 3339 date-time, converted to seconds since the
 * epoch (UTC) when it parses. Every deviation is listed in `problems`.
 *
 * Bounds: at most SECTXT_MAX_INPUT bytes, SECTXT_MAX_VALUES values per field
 * kept, SECTXT_MAX_LINE bytes per line (longer lines are a problem and are
 * skipped), SECTXT_MAX_PROBLEMS problems. Pure: no I/O, no clock.
 * Ownership: the struct owns its strings; securitytxt_release() frees them.
 */
#ifndef ASSAY_DRIVERS_SECURITYTXT_H
#define ASSAY_DRIVERS_SECURITYTXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define SECTXT_MAX_INPUT (64u * 1024u)
#define SECTXT_MAX_VALUES 16
#define SECTXT_MAX_LINE 2048
#define SECTXT_MAX_PROBLEMS 16

struct sectxt_list {
    char *v[SECTXT_MAX_VALUES];
    size_t n;
};

struct securitytxt {
    struct sectxt_list contact, expires, encryption, policy, acknowledgments, preferred_languages,
        canonical, hiring;
    int64_t expires_epoch; /* the first Expires as UTC seconds, or INT64_MIN if none parses */
    bool is_signed;        /* an OpenPGP cleartext signature wraps the fields */
    char *problems[SECTXT_MAX_PROBLEMS];
    size_t nproblems;
};

/* Parses len bytes. Returns 0 or ASSAY_ENOMEM; malformed content is listed in
 * problems, never an error. securitytxt_release() is safe after any return. */
int securitytxt_parse(struct securitytxt *s, const char *buf, size_t len, struct assay_error *err);

void securitytxt_release(struct securitytxt *s);

/* Parses an RFC 3339 date-time ("2027-01-31T23:59:59Z", "+01:00" offsets,
 * fractions ignored) to UTC seconds. Returns 0 or -1. */
int securitytxt_parse_time(const char *s, int64_t *out);

#endif
