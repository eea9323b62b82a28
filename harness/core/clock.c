/* clock.c: monotonic time, deadlines and UTC timestamps (see clock.h). */
#include "clock.h"

#include <stdio.h>

static assay_ms (*test_source)(void);

assay_ms clock_now_ms(void)
{
    struct timespec ts;
    if (test_source)
        return test_source();
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (assay_ms)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

assay_ms clock_deadline(int64_t timeout_ms)
{
    return clock_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
}

int64_t clock_remaining_ms(assay_ms deadline)
{
    int64_t left = deadline - clock_now_ms();
    return left > 0 ? left : 0;
}

char *clock_utc_at(const struct timespec *ts, char *buf)
{
    struct tm tm;
    time_t sec = ts->tv_sec;
    gmtime_r(&sec, &tm);
    snprintf(buf, CLOCK_UTC_MAX, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts->tv_nsec / 1000000);
    return buf;
}

char *clock_utc_now(char *buf)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return clock_utc_at(&ts, buf);
}

char *clock_utc_format(time_t t, char *buf)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(buf, CLOCK_UTC_MAX, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

void clock_set_source(assay_ms (*source)(void))
{
    test_source = source;
}
