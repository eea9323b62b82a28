/*
 * transcript_file.h: a transcript sink that writes devices/<id>/transcript.jsonl.
 *
 * One JSON object per line: UTC and monotonic timestamps, the test case being
 * run, protocol, direction, peer, event, summary, the exact bytes (hex) of
 * raw-path traffic, and the driver's extra detail. A device's worker is the
 * only writer of its transcript; each line is one write() on an O_APPEND
 * descriptor, so a crash loses at most the line being written.
 *
 * Ownership: the struct owns its descriptor and its copy of the test-case id.
 */
#ifndef ASSAY_EVIDENCE_TRANSCRIPT_FILE_H
#define ASSAY_EVIDENCE_TRANSCRIPT_FILE_H

#include "core/error.h"
#include "core/transcript.h"

#define TRANSCRIPT_MAX_BYTES (64u << 10) /* raw bytes kept per entry; more is noted */

struct transcript_file {
    int fd;
    char testcase[128];
    struct transcript_sink sink; /* points back at this struct */
};

int transcript_file_open(struct transcript_file *t, const char *path, struct assay_error *err);

/* Names the test case that following entries serve ("" for none). */
void transcript_file_set_testcase(struct transcript_file *t, const char *id);

void transcript_file_close(struct transcript_file *t);

#endif
