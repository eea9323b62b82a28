/*
 * capture_file.h: the files around a capture, internal to capture.c: cutting
 * a torn last record off a pcap file before appending to it, and the marks
 * sidecar (capture.h documents its format).
 *
 * Everything here blocks only on local files.
 */
#ifndef ASSAY_EVIDENCE_CAPTURE_FILE_H
#define ASSAY_EVIDENCE_CAPTURE_FILE_H

#include <stdint.h>
#include <sys/time.h>

#include <jansson.h>

#include "core/error.h"

/*
 * Checks a classic pcap file (either byte order, micro- or nanosecond magic)
 * and truncates it after its last complete record, so that a capture killed
 * mid-write can be appended to; *records gets the number of complete
 * records. Returns 0, or ASSAY_EIO (unreadable, or not a pcap file:
 * appending would corrupt it).
 */
int capture_file_trim(const char *path, uint64_t *records, struct assay_error *err);

/*
 * Reads the sidecar at `path` if it exists (its "marks" are kept), or starts
 * a new one; sets "capture" (the pcap file's base name), "interface" and
 * "filter". *doc is a new reference the caller owns. Returns 0, ASSAY_EIO
 * (an existing sidecar that is not a JSON object with a "marks" array) or
 * ASSAY_ENOMEM.
 */
int capture_marks_load(const char *path, const char *pcap_path, const char *ifname,
                       const char *filter, json_t **doc, struct assay_error *err);

/* Writes doc to path through a temporary file and rename(2). Returns 0 or ASSAY_EIO. */
int capture_marks_save(const char *path, json_t *doc, struct assay_error *err);

/* Appends {label, time_sec, time_usec, utc, packets, dropped} to doc's marks and saves.
 * Returns as save. */
int capture_marks_add(const char *path, json_t *doc, const char *label, const struct timeval *tv,
                      uint64_t packets, uint64_t dropped, struct assay_error *err);

#endif
