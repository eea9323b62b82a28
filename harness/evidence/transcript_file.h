/*
 * transcript_file.h: a transcript sink that writes devices/<id>/transcript.jsonl.
 *
 * One JSON object per line: UTC and monotonic timestamps, the test case being
 * run, protocol, direction, peer, event, summary, the exact bytes (hex) of
 * raw-path traffic, and the driver's extra detail.
 *
 * Recording must not slow the exchange it records (a probe that times a
 * device's answers, or sends a thousand requests, would measure the harness).
 * So an entry is first copied as one binary record into a spool file beside
 * the transcript (transcript.jsonl.spool) that is mapped shared into memory:
 * no system call per entry. The JSON lines are made from the spool when the
 * test case changes, when the file is closed, and when the mapped window
 * (1 MiB, so the worker's memory stays small) is full. The mapping's pages belong to
 * the file, so they outlive a worker that crashes, which loses at most the
 * record it was copying (its magic number is stored last): whoever comes
 * next (the supervisor after the worker ended, or the next worker for the
 * device, or a resumed run) calls transcript_file_recover() and the spool's
 * records become JSON lines like any others. A torn last record is noted in
 * the transcript, not silently dropped.
 *
 * A device's worker is the only writer of its transcript and spool.
 *
 * Ownership: the struct owns its descriptors and its copy of the test-case id.
 */
#ifndef ASSAY_EVIDENCE_TRANSCRIPT_FILE_H
#define ASSAY_EVIDENCE_TRANSCRIPT_FILE_H

#include "core/error.h"
#include "core/transcript.h"

#define TRANSCRIPT_MAX_BYTES (64u << 10)  /* raw bytes kept per entry; more is noted */
#define TRANSCRIPT_MAX_STRING (64u << 10) /* longest summary, detail or name kept */

struct transcript_file {
    int fd;       /* transcript.jsonl, O_APPEND */
    int spool_fd; /* transcript.jsonl.spool, mapped shared */
    uint8_t *map; /* the spool's mapping (NULL: entries are counted as lost) */
    size_t map_cap, used;
    uint64_t lost; /* entries that found no room since the last drain */
    char spool_path[4200];
    char testcase[128];
    struct transcript_sink sink; /* points back at this struct */
};

/* Opens (appends to) path and its spool; a spool left by an earlier worker is
 * turned into JSON lines first. */
int transcript_file_open(struct transcript_file *t, const char *path, struct assay_error *err);

/* Names the test case that following entries serve ("" for none). The entries
 * spooled so far are written out as JSON lines. */
void transcript_file_set_testcase(struct transcript_file *t, const char *id);

/* Writes out what is spooled and closes; the spool file is removed. */
void transcript_file_close(struct transcript_file *t);

/* Turns a spool left beside path (by a worker that ended without closing) into
 * JSON lines appended to path, and removes it. Nothing to do is success. */
int transcript_file_recover(const char *path, struct assay_error *err);

#endif
