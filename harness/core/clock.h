/*
 * clock.h: monotonic time and deadlines.
 *
 * Every function in assay that can wait takes a deadline (an absolute
 * monotonic time in milliseconds) or a timeout. The clock is injectable so
 * tests can run without sleeping.
 */
#ifndef ASSAY_CORE_CLOCK_H
#define ASSAY_CORE_CLOCK_H

#include <stdint.h>
#include <time.h>

typedef int64_t assay_ms; /* milliseconds on the monotonic clock */

/* Monotonic milliseconds (CLOCK_MONOTONIC unless a test clock is installed). */
assay_ms clock_now_ms(void);

/* A deadline `timeout_ms` from now. */
assay_ms clock_deadline(int64_t timeout_ms);

/* Milliseconds left before `deadline`, never negative. */
int64_t clock_remaining_ms(assay_ms deadline);

/* Wall-clock UTC time formatted as RFC 3339 with milliseconds ("2026-11-28T02:40:08.123Z").
 * `buf` must hold at least CLOCK_UTC_MAX bytes. Returns buf. */
#define CLOCK_UTC_MAX 64
char *clock_utc_now(char *buf);

/* The same format for a CLOCK_REALTIME reading taken earlier. Returns buf. */
char *clock_utc_at(const struct timespec *ts, char *buf);

/* Formats a time_t as RFC 3339 UTC without fractions. Returns buf. */
char *clock_utc_format(time_t t, char *buf);

/* Installs a test clock (NULL restores the real one). Not thread-safe; tests only. */
void clock_set_source(assay_ms (*source)(void));

#endif
