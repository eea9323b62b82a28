/* test_seal_util.h: what the seal tests share: a small run directory, keys, file edits. */
#ifndef ASSAY_TEST_SEAL_UTIL_H
#define ASSAY_TEST_SEAL_UTIL_H

#include <stddef.h>

#define TU_RUN_ID "20261128T024008Z-bench-a1b2c3"
#define TU_FINISHED "2026-11-28T03:10:42.517Z"
#define TU_FINISHED_EPOCH 1795835442 /* TU_FINISHED in seconds */

/* A new temporary directory (caller frees the string, tu_rm_rf removes it). */
char *tu_tmpdir(void);

/* Removes a tree (asserts on failure). */
void tu_rm_rf(const char *path);

/* Writes `content` to dir/rel, creating parent directories. */
void tu_write(const char *dir, const char *rel, const char *content);

/* Reads a whole file (caller frees); NULL when it cannot be read. */
char *tu_read(const char *path, size_t *len);

/* Reads dir/rel (asserts it exists). */
char *tu_read_rel(const char *dir, const char *rel, size_t *len);

/* Builds base/TU_RUN_ID: run.json, a 3-line journal written with journal_append,
 * devices/dev-a/transcript.jsonl and devices/dev-a/observations/mqtt.default-credentials.json.
 * Returns the run directory (caller frees). */
char *tu_make_run(const char *base);

/* The number of files tu_make_run writes. */
#define TU_RUN_FILES 4

/* Makes dir/name.key and dir/name.pub; fills fpr; returns the prefix (caller frees). */
char *tu_keygen(const char *dir, const char *name, const char *passphrase, char fpr[65]);

/* Flips the bits of the byte at `offset` of dir/rel. */
void tu_flip(const char *dir, const char *rel, size_t offset);

/* Replaces the first occurrence of `from` by `to` (same length not required) in dir/rel. */
void tu_replace(const char *dir, const char *rel, const char *from, const char *to);

#endif
