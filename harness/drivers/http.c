/*
 * http.c: one in-scope GET with recorded, checked redirects over libcurl (http.h).
 */
#include "http.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sink_buf {
    char *data;
    size_t len, cap;
    bool truncated;
};

static char *dup_str(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d)
        memcpy(d, s, n + 1);
    return d;
}

/* Appends up to the cap; returns false when memory ran out. */
static bool buf_add(struct sink_buf *b, const char *p, size_t n)
{
    if (n > b->cap - b->len) {
        n = b->cap - b->len;
        b->truncated = true;
    }
    char *d = realloc(b->data, b->len + n + 1);
    if (!d)
        return false;
    b->data = d;
    memcpy(d + b->len, p, n);
    b->len += n;
    d[b->len] = '\0';
    return true;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct sink_buf *b = ud;
    size_t total = size * n;
    if (!buf_add(b, p, total) || b->truncated)
        return 0; /* ends the transfer: out of memory or the cap was reached */
    return total;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct sink_buf *b = ud;
    size_t total = size * n;
    /* A new status line starts a new header block (1xx interim responses). */
    if (total >= 5 && memcmp(p, "HTTP/", 5) == 0)
        b->len = 0;
    return buf_add(b, p, total) ? total : 0;
}

int http_global_init(struct assay_error *err)
{
    static int done;
    if (!done) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return assay_fail(err, ASSAY_EINTERNAL, "http: curl_global_init failed");
        done = 1;
    }
    return 0;
}

/* Checks that url is http(s) with an in-scope address literal. */
static int check_url(const struct scope *scope, const char *url, struct assay_error *err)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    int rc = 0;
    if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        rc = assay_fail(err, ASSAY_EINVAL, "http: not a URL: %.200s", url);
    } else if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        rc = assay_fail(err, ASSAY_EINVAL, "http: only http and https: %.200s", url);
    } else {
        char h[128];
        size_t n = strlen(host);
        if (host[0] == '[' && n > 2 && n < sizeof(h)) {
            memcpy(h, host + 1, n - 2);
            h[n - 2] = '\0';
        } else {
            snprintf(h, sizeof(h), "%s", host);
        }
        if (!scope_is_address(h) || !scope_allows(scope, h))
            rc = assay_fail(err, ASSAY_ESCOPE, "out of scope: %.100s is not an allowed host", h);
    }
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}

static void configure(CURL *c, const char *url, const struct http_opts *o, int64_t left,
                      struct sink_buf *body, struct sink_buf *hdr)
{
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)left);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)left);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (o->ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "assay/" ASSAY_VERSION);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, hdr);
}

static void record(const struct transcript_sink *sink, const char *url, long status, size_t nbytes,
                   const char *note)
{
    char summary[400];
    snprintf(summary, sizeof(summary), "GET %.250s -> %ld (%zu bytes)%s%.100s", url, status, nbytes,
             note[0] ? "; " : "", note);
    transcript_note(sink, "http", url, "get", summary);
}

/* One request; fills the hop and, as the last response so far, r. */
static int one_hop(CURL *c, const char *url, const struct http_opts *o, assay_ms deadline,
                   struct http_response *r, struct assay_error *err)
{
    struct sink_buf body = {.cap = o->max_bytes}, hdr = {.cap = HTTP_MAX_HEADERS};
    int64_t left = clock_remaining_ms(deadline);
    if (left <= 0)
        return assay_fail(err, ASSAY_ETIMEOUT, "http: deadline passed before %.200s", url);
    curl_easy_reset(c);
    configure(c, url, o, left, &body, &hdr);
    CURLcode cc = curl_easy_perform(c);
    struct http_hop *h = &r->hops[r->nhops++];
    h->url = dup_str(url);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &h->status);
    char *loc = NULL, *ct = NULL;
    curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc);
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
    h->location = dup_str(loc);
    free(r->url);
    free(r->content_type);
    free(r->body);
    free(r->headers);
    r->url = dup_str(url);
    r->content_type = dup_str(ct);
    r->status = h->status;
    r->body = (uint8_t *)(body.data ? body.data : dup_str(""));
    r->body_len = body.len;
    r->truncated = body.truncated;
    r->headers = hdr.data ? hdr.data : dup_str("");
    r->headers_len = hdr.len;
    if (cc == CURLE_WRITE_ERROR && body.truncated)
        cc = CURLE_OK; /* the cap was reached: a finding, not a failure */
    if (cc == CURLE_OPERATION_TIMEDOUT)
        return assay_fail(err, ASSAY_ETIMEOUT, "timeout: %.200s", url);
    if (cc != CURLE_OK)
        return assay_fail(err, ASSAY_ENET, "%s: %.200s", curl_easy_strerror(cc), url);
    return 0;
}

int http_get(const struct scope *scope, const struct transcript_sink *sink, const char *url,
             const struct http_opts *opts, struct http_response *r, struct assay_error *err)
{
    memset(r, 0, sizeof(*r));
    clock_utc_now(r->fetched_utc);
    if (opts->timeout_ms < 1 || opts->timeout_ms > 600000 || opts->max_redirects < 0 ||
        opts->max_redirects >= HTTP_MAX_HOPS)
        return assay_fail(err, ASSAY_EINVAL, "http: timeout or redirect bound out of range");
    int rc = check_url(scope, url, err);
    if (rc)
        return rc;
    if ((rc = http_global_init(err)) != 0)
        return rc;
    CURL *c = curl_easy_init();
    if (!c)
        return assay_fail(err, ASSAY_ENOMEM, "http: curl_easy_init failed");
    assay_ms start = clock_now_ms(), deadline = clock_deadline(opts->timeout_ms);
    const char *next = url;
    char *owned = NULL;
    for (;;) {
        rc = one_hop(c, next, opts, deadline, r, err);
        struct http_hop *h = &r->hops[r->nhops - 1];
        record(sink, next, h->status, r->body_len, rc ? err->msg : "");
        if (rc || h->status < 300 || h->status > 399 || !h->location)
            break;
        struct assay_error e2 = {0};
        if (r->nhops > (size_t)opts->max_redirects) {
            snprintf(r->stop, sizeof(r->stop), "too many redirects (at most %d)",
                     opts->max_redirects);
            break;
        }
        if (check_url(scope, h->location, &e2) != 0) {
            snprintf(r->stop, sizeof(r->stop), "%.150s", e2.msg);
            break;
        }
        free(owned);
        owned = dup_str(h->location);
        if (!owned) {
            rc = assay_fail(err, ASSAY_ENOMEM, "http: out of memory");
            break;
        }
        next = owned;
    }
    free(owned);
    curl_easy_cleanup(c);
    r->elapsed_ms = (int)(clock_now_ms() - start);
    return rc;
}

void http_response_release(struct http_response *r)
{
    for (size_t i = 0; i < r->nhops; i++) {
        free(r->hops[i].url);
        free(r->hops[i].location);
    }
    free(r->url);
    free(r->content_type);
    free(r->body);
    free(r->headers);
    memset(r, 0, sizeof(*r));
}
