/*
 * archive.h: the sealed archive of a run (<run_dir>.tar.gz) and its safe extraction.
 *
 * Writing (libarchive): gzip-compressed tar in the pax restricted format,
 * one top directory named after the run (the run directory's own name, which
 * is the run id), then every directory and regular file below it sorted by
 * path bytewise. Every entry has uid/gid 0 (owner "root"), mode 0755 for
 * directories and 0644 for files, and one fixed mtime: the run's "finished"
 * time from run.json when it has one, else 0. The gzip header carries no
 * timestamp and no name. So two archives of the same directory are
 * identical byte for byte. A run directory that holds anything but files and
 * directories is refused.
 *
 * Extraction reads entries itself (no archive_read_extract): it refuses
 * absolute paths, any ".." or empty component, paths with control
 * characters or a backslash, symbolic and hard links, devices, FIFOs, any
 * entry outside the single top directory, duplicate entries, more than
 * `max_entries` entries, an entry larger than `max_entry_bytes` and more than
 * `max_total_bytes` in all. Files are created with O_EXCL|O_NOFOLLOW under a
 * destination directory the caller provides (and should have just created).
 *
 * The names are prefixed evidence_archive_ so as not to meet libarchive's own.
 * Blocking: local file I/O only.
 */
#ifndef ASSAY_EVIDENCE_ARCHIVE_H
#define ASSAY_EVIDENCE_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/error.h"

struct evidence_archive_limits {
    size_t max_entries;
    uint64_t max_entry_bytes;
    uint64_t max_total_bytes;
};

/* 100000 entries, 1 GiB per entry, 8 GiB in all. */
extern const struct evidence_archive_limits evidence_archive_default_limits;

/* The fixed mtime for a run: run.json's "finished" (RFC 3339 UTC) in seconds,
 * or 0 when run.json, the field or its format is missing. */
time_t evidence_archive_mtime(const char *run_dir);

/*
 * Writes the archive of `run_dir` to `out_path` (through a temporary file in
 * the same directory, then renamed). Returns 0, or ASSAY_EINVAL (a refused
 * entry, named), ASSAY_EIO or ASSAY_ENOMEM with err set.
 */
int evidence_archive_write(const char *run_dir, const char *out_path, struct assay_error *err);

/*
 * Extracts `archive_path` into the existing directory `dest` under the rules
 * above. On success `*top` (caller frees) is the name of the top directory,
 * so the run is at dest/top. A refused entry gives ASSAY_EINVAL with a
 * message naming it ("refused entry '../evil': a \"..\" component"); a file
 * that is not a readable tar.gz gives ASSAY_EINVAL too. On failure the
 * caller removes whatever was extracted (evidence_archive_remove_tree).
 */
int evidence_archive_extract(const char *archive_path, const char *dest,
                             const struct evidence_archive_limits *lim, char **top,
                             struct assay_error *err);

/* Removes a directory tree without following links. Returns 0 or ASSAY_EIO. */
int evidence_archive_remove_tree(const char *dir, struct assay_error *err);

#endif
