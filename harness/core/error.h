/*
 * error.h: the project's result codes and the caller-supplied error struct.
 *
 * Every library function returns 0 on success or a negative `assay_rc` value,
 * and on failure fills a `struct assay_error` the caller owns. A device's
 * refusal, exception code or silence is never an error: it is data.
 */
#ifndef ASSAY_CORE_ERROR_H
#define ASSAY_CORE_ERROR_H

#include <stddef.h>

enum assay_rc {
    ASSAY_OK = 0,
    ASSAY_EINVAL = -1,   /* bad input: a file, an argument, a value out of range */
    ASSAY_ENOMEM = -2,   /* allocation failed or a cap was reached */
    ASSAY_EIO = -3,      /* reading or writing a local file failed */
    ASSAY_ETIMEOUT = -4, /* a deadline passed */
    ASSAY_ENET = -5,     /* a network operation failed (refused, reset, unreachable) */
    ASSAY_ESCOPE = -6,   /* an address outside the run's scope was asked for */
    ASSAY_EPROFILE = -7, /* a profile or test case broke its contract */
    ASSAY_EINTERNAL = -8 /* a bug in the harness */
};

#define ASSAY_ERROR_MAX 512

struct assay_error {
    int code;                  /* an enum assay_rc value, 0 when no error */
    char msg[ASSAY_ERROR_MAX]; /* human-readable, names the file:line or device */
};

/* Sets err (if not NULL) and returns code, so callers can `return assay_fail(...)`. */
int assay_fail(struct assay_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A stable name for a result code ("invalid input", "timeout", ...). */
const char *assay_strerror(int code);

#endif
