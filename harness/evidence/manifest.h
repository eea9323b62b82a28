/*
 * manifest.h: MANIFEST.sha256, the list of every file of a run directory with its SHA-256.
 *
 * The manifest is `sha256sum`-compatible: one line per regular file,
 * "<64 lowercase hex>  <path relative to the run directory>\n", sorted by
 * path bytewise (strcmp), so `sha256sum -c MANIFEST.sha256` run inside the
 * directory checks it. MANIFEST.sha256 and MANIFEST.sig at the top of the
 * directory are not listed. Directories are not listed (empty ones are kept
 * in the archive only).
 *
 * Names: a run directory holds only regular files and directories. Symbolic
 * links, devices, FIFOs and sockets are refused, and so are names that
 * sha256sum would have to escape or a terminal could obey (a backslash, a
 * newline or any other control character): the error names the path.
 *
 * Walking never follows a symbolic link. Limits: MANIFEST_MAX_ENTRIES
 * entries and MANIFEST_MAX_DEPTH levels of directories.
 *
 * Blocking: walking and hashing read local files; nothing waits on a network.
 */
#ifndef ASSAY_EVIDENCE_MANIFEST_H
#define ASSAY_EVIDENCE_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

#define MANIFEST_NAME "MANIFEST.sha256"
#define MANIFEST_SIG_NAME "MANIFEST.sig"
#define MANIFEST_MAX_ENTRIES 1000000u
#define MANIFEST_MAX_DEPTH 32
#define MANIFEST_MAX_BYTES (256u << 20) /* the largest MANIFEST.sha256 read back */

enum manifest_kind {
    MANIFEST_FILE, /* a regular file */
    MANIFEST_DIR,  /* a directory */
    MANIFEST_OTHER /* anything else (symlink, device, FIFO, socket): refused */
};

/* One walked entry; `path` is relative to the walked directory, owned by the list. */
struct manifest_entry {
    char *path;
    enum manifest_kind kind;
    char sha256[65]; /* lowercase hex; set for files by manifest_hash_all() or a parse */
};

/* A growable list of entries. Zero-initialise it, release with manifest_release(). */
struct manifest {
    struct manifest_entry *v;
    size_t n, cap;
};

void manifest_release(struct manifest *m);

/*
 * Walks `dir` without following links and appends every entry below it
 * (files, directories and others) to `out`, sorted by path bytewise. With
 * `for_manifest`, the top-level MANIFEST.sha256 and MANIFEST.sig are left
 * out. Names with a control character or a backslash, too many entries or a
 * tree too deep fail with ASSAY_EINVAL naming the path; an unreadable
 * directory fails with ASSAY_EIO. Entries of kind MANIFEST_OTHER are listed,
 * not refused: the caller decides.
 */
int manifest_walk(const char *dir, bool for_manifest, struct manifest *out,
                  struct assay_error *err);

/* The SHA-256 (lowercase hex) of a regular file; refuses anything else (the
 * file is opened with O_NOFOLLOW). Returns 0 or ASSAY_EIO/ASSAY_EINVAL. */
int manifest_hash_file(const char *path, char hex[65], struct assay_error *err);

/*
 * Builds the manifest of `dir`: walks it, refuses any entry that is neither a
 * file nor a directory (the error names the first one), keeps only the
 * files and hashes each. On failure `out` is released.
 */
int manifest_build(const char *dir, struct manifest *out, struct assay_error *err);

/* Formats the file entries as manifest text. Returns a new NUL-terminated
 * buffer the caller frees (length in *len), or NULL when out of memory. */
char *manifest_format(const struct manifest *m, size_t *len);

/*
 * Parses manifest text strictly: every line "<64 lowercase hex>  <path>\n",
 * the last line ending in a newline, paths relative with no empty, "." or
 * ".." component and no control character or backslash, strictly increasing
 * bytewise (so no duplicates), and never MANIFEST.sha256 or MANIFEST.sig.
 * Fails with ASSAY_EINVAL naming the first bad line ("line 3: ..."); on
 * failure `out` is released.
 */
int manifest_parse(const char *text, size_t len, struct manifest *out, struct assay_error *err);

/* Reads a whole local file of at most `max` bytes into a new NUL-terminated
 * buffer (caller frees). Returns NULL with err set on failure. */
char *manifest_slurp(const char *path, size_t max, size_t *len, struct assay_error *err);

/* Writes `len` bytes to `path` through a temporary file in the same directory,
 * fsync and rename, mode 0644. Returns 0 or ASSAY_EIO. */
int manifest_write_file(const char *path, const char *data, size_t len, struct assay_error *err);

/* Writes `dir`/MANIFEST.sha256 for the manifest `m`. Returns 0 or an error. */
int manifest_write(const char *dir, const struct manifest *m, struct assay_error *err);

/* True when the relative path `p` is acceptable in a manifest or an archive
 * (see manifest_parse). */
bool manifest_path_ok(const char *p);

#endif
