/*
 * http.h: fetching a published page (libcurl), as evidence for documentary verdicts.
 *
 * One GET with a deadline and a size cap, over http or https only, TLS
 * verified (peer and host name; a lab CA file may be given). Redirects are
 * followed by this module, not by libcurl, so every hop is recorded and every
 * target is checked against the run's scope before it is requested: a host
 * must be an address literal that scope_allows(); names are never resolved
 * and proxies are never used. The exact bytes of the final body and its
 * header block, the UTC fetch time and each hop are returned.
 *
 * Blocking: http_get() returns by opts->timeout_ms (the whole fetch, every
 * hop included). Threads: call curl_global_init() once before threads exist
 * (http_global_init() does it and is idempotent; not thread-safe itself).
 * Ownership: the response owns its buffers; http_response_release() frees them.
 */
#ifndef ASSAY_DRIVERS_HTTP_H
#define ASSAY_DRIVERS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/scope.h"
#include "core/transcript.h"

#define HTTP_MAX_HOPS 8
#define HTTP_MAX_HEADERS (64u * 1024u)

struct http_opts {
    int timeout_ms;      /* the whole fetch, redirects included (1..600000) */
    size_t max_bytes;    /* body cap; a longer body is cut and `truncated` set */
    int max_redirects;   /* 0..HTTP_MAX_HOPS-1 */
    const char *ca_file; /* may be NULL: the system's trust store */
};

struct http_hop {
    char *url;      /* the URL requested */
    long status;    /* its HTTP status (0 if no response) */
    char *location; /* the absolute redirect target, or NULL */
};

struct http_response {
    long status;        /* of the last response; 0 if none arrived */
    char *url;          /* the last URL requested */
    char *content_type; /* may be NULL */
    uint8_t *body;      /* exact bytes, NUL-terminated for convenience (not counted) */
    size_t body_len;
    bool truncated; /* the body reached max_bytes */
    char *headers;  /* the last response's header block, exact */
    size_t headers_len;
    struct http_hop hops[HTTP_MAX_HOPS];
    size_t nhops;
    char fetched_utc[CLOCK_UTC_MAX]; /* when the first request started */
    int elapsed_ms;
    char stop[160]; /* why redirects stopped early ("out of scope: ...", "too many"), or "" */
};

/* Initialises libcurl once per process. Returns 0 or ASSAY_EINTERNAL. */
int http_global_init(struct assay_error *err);

/*
 * GETs `url`, following at most opts->max_redirects in-scope redirects.
 * Returns 0 when a response arrived (any status: 401 is data, and so is a
 * redirect that was not followed, with `stop` saying why); ASSAY_ESCOPE when
 * the first URL is outside the scope (nothing sent); ASSAY_EINVAL for a URL
 * that is not http(s) with an address literal; ASSAY_ETIMEOUT; ASSAY_ENET
 * (refused, TLS verification failed, ...: err says which). The response is
 * filled as far as it got in every case and must be released.
 */
int http_get(const struct scope *scope, const struct transcript_sink *sink, const char *url,
             const struct http_opts *opts, struct http_response *r, struct assay_error *err);

void http_response_release(struct http_response *r);

#endif
