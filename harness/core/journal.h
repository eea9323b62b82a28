/*
 * journal.h: journal.jsonl, the append-only, hash-chained record of progress.
 *
 * The supervisor alone appends to the journal: one JSON object per line, one
 * line per finished test case (and a few run events), each written with a
 * single write() and fsync()ed before the next is recorded, so a power cut
 * loses at most the line being written. Every line carries "prev", the
 * SHA-256 (hex) of the previous line's bytes (the first line's prev is the
 * hash of the empty string), so removing or editing a line breaks the chain.
 *
 * Blocking: journal_append() blocks for one write and one fsync on a local file.
 */
#ifndef ASSAY_CORE_JOURNAL_H
#define ASSAY_CORE_JOURNAL_H

#include <jansson.h>
#include <stddef.h>

#include "error.h"

#define JOURNAL_MAX_LINE (1u << 20)

struct journal {
    int fd;
    char prev[65]; /* hex SHA-256 of the last line written */
};

/* Opens (creating) path for appending; an existing journal is read to find
 * the chain's last hash, and a torn last line is cut off. */
int journal_open(struct journal *j, const char *path, struct assay_error *err);

/* Appends obj (with "prev" added) as one line, then fsyncs. obj is not stolen. */
int journal_append(struct journal *j, json_t *obj, struct assay_error *err);

void journal_close(struct journal *j);

/*
 * Reads every whole line of a journal, checking the chain. Returns a new
 * array of the objects, or NULL with err set (naming the line) when a line is
 * not JSON or the chain is broken. A torn last line (no newline) is ignored.
 */
json_t *journal_read(const char *path, struct assay_error *err);

#endif
