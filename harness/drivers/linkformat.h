/*
 * linkformat.h: a bounded parser for CoAP link format (RFC 6690), the body of
 * GET /.well-known/core, written for untrusted input.
 *
 * Grammar accepted (RFC 6690 section 2 with RFC 5988 link-extensions):
 *   links     = link *( "," link )              (an empty body has no links)
 *   link      = "<" target ">" *( ";" attr )
 *   attr      = name [ "=" ( ptoken / quoted-string ) ]
 *   name      = 1*( ALPHA / DIGIT / "!#$&'*+-.^_`|~" )
 *   ptoken    = 1*( any VCHAR except '"', ',', ';', '\' )
 *   quoted    = DQUOTE *( qdtext / "\" VCHAR-or-SP ) DQUOTE
 * Optional whitespace (SP, HTAB, CR, LF) is tolerated around "," and ";"
 * and at both ends, since real devices emit it. Targets are URI references
 * kept verbatim (no percent-decoding); they may not contain controls,
 * spaces, '<', '>' or bytes >= 0x80. Quoted strings may contain UTF-8
 * (bytes >= 0x80) but no controls; backslash escapes are removed. NUL bytes
 * are errors wherever they appear.
 *
 * Caps (struct linkformat_limits): input length, number of links, attributes
 * per link, and the lengths of a target, a name and a value. Exceeding one is
 * an error (ASSAY_ENOMEM) at the offset where the cap was crossed, so a
 * hostile body costs at most the caps, never more.
 *
 * Pure: no I/O, no global state, thread-safe. Allocation is bounded by about
 * three times the input length plus the link and attribute arrays.
 */
#ifndef ASSAY_DRIVERS_LINKFORMAT_H
#define ASSAY_DRIVERS_LINKFORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

struct linkformat_limits {
    size_t max_input;      /* bytes of input */
    size_t max_links;      /* links in the document */
    size_t max_attrs;      /* attributes per link */
    size_t max_target_len; /* bytes between < and > */
    size_t max_name_len;   /* bytes of an attribute name */
    size_t max_value_len;  /* bytes of a value after unescaping */
};

/* Defaults: 64 KiB input, 512 links, 32 attributes, 1024-byte target, 64-byte
 * name, 1024-byte value. */
#define LINKFORMAT_DEFAULT_LIMITS                                                                  \
    {                                                                                              \
        65536, 512, 32, 1024, 64, 1024                                                             \
    }

struct linkformat_attr {
    const char *name;  /* NUL-terminated, never NULL */
    const char *value; /* NUL-terminated, unescaped; NULL for a value-less attribute ("obs") */
    bool quoted;       /* the value was a quoted-string */
};

struct linkformat_link {
    const char *target;            /* NUL-terminated URI reference, verbatim; may be "" */
    struct linkformat_attr *attrs; /* nattrs entries, in document order (duplicates kept) */
    size_t nattrs;
};

/* A parsed document. Every pointer inside is owned by the document and valid
 * until linkformat_release(). */
struct linkformat_doc {
    struct linkformat_link *links;
    size_t nlinks;
    char *pool_;                       /* private: the strings */
    struct linkformat_attr *attr_buf_; /* private: every link's attributes */
};

/*
 * Parses `len` bytes at `buf` (need not be NUL-terminated) into `doc`.
 * `lim` may be NULL for the defaults. Returns 0, or ASSAY_EINVAL (malformed)
 * or ASSAY_ENOMEM (a cap or an allocation) with `*err_offset` (if not NULL)
 * set to the byte offset of the problem and err->msg naming it
 * ("offset 12: unterminated quoted string"). For an unterminated quoted
 * string or target the offset is that of the opening quote or '<'. On
 * failure `doc` holds nothing and needs no release.
 */
int linkformat_parse(const uint8_t *buf, size_t len, const struct linkformat_limits *lim,
                     struct linkformat_doc *doc, size_t *err_offset, struct assay_error *err);

/* Frees everything `doc` owns and zeroes it. Safe on a zeroed doc. */
void linkformat_release(struct linkformat_doc *doc);

/* The first attribute named `name` on `link`, or NULL. */
const struct linkformat_attr *linkformat_attr_find(const struct linkformat_link *link,
                                                   const char *name);

#endif
