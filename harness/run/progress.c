/* progress.c: what a run says while it goes: a progress line on a TTY, a line per
 * finished device otherwise, and the slowest devices at the end (see supervisor.h). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "run/supervisor.h"

static void hms(int64_t ms, char *buf, size_t size)
{
    int64_t t = ms / 1000;
    snprintf(buf, size, "%02lld:%02lld:%02lld", (long long)(t / 3600), (long long)(t / 60 % 60),
             (long long)(t % 60));
}

/* The TTY progress line: devices and test cases done, failures, elapsed, time left. */
void supervisor_progress_line(struct supervisor *s)
{
    size_t total = s->ntc * s->plan->bench.ndevices;
    int64_t elapsed = clock_now_ms() - s->t0;
    char e[32], left[32] = "--:--:--";
    hms(elapsed, e, sizeof(e));
    if (s->tc_done > 0 && s->tc_done < total)
        hms(elapsed * (int64_t)(total - s->tc_done) / (int64_t)s->tc_done, left, sizeof(left));
    fprintf(stderr,
            "\r\033[Kdevices %zu/%zu  test cases %zu/%zu  failures %zu  elapsed %s  left %s",
            s->finished_devices, s->plan->bench.ndevices, s->tc_done, total, s->failures, e, left);
}

/* A device is done: a line of its own when not on a TTY. */
void supervisor_progress(struct supervisor *s, struct job *j)
{
    char now[CLOCK_UTC_MAX];
    j->finished_ms = clock_now_ms();
    s->finished_devices++;
    if (!s->o->progress)
        return;
    if (s->tty)
        supervisor_progress_line(s);
    else
        fprintf(stderr, "%s  %zu/%zu devices  %s done\n", clock_utc_now(now), s->finished_devices,
                s->plan->bench.ndevices, supervisor_device(s, j)->id);
}

/* The slowest devices, for the end of the run (longest first, at most three). */
void supervisor_slowest(struct supervisor *s, struct job *jobs, size_t n)
{
    if (!s->o->progress)
        return;
    if (s->tty)
        fprintf(stderr, "\n");
    struct job *taken[3] = {NULL, NULL, NULL};
    for (int rank = 0; rank < 3; rank++) {
        struct job *best = NULL;
        for (size_t i = 0; i < n; i++) {
            struct job *j = &jobs[i];
            if (!j->finished_ms || !j->started_ms || j == taken[0] || j == taken[1])
                continue;
            if (!best || j->finished_ms - j->started_ms > best->finished_ms - best->started_ms)
                best = j;
        }
        if (!best)
            break;
        if (rank == 0)
            fprintf(stderr, "slowest devices:");
        fprintf(stderr, " %s %.1f s", supervisor_device(s, best)->id,
                (double)(best->finished_ms - best->started_ms) / 1000.0);
        taken[rank] = best;
    }
    fprintf(stderr, "\n");
}
