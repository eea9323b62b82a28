/*
 * sanitize.h: make untrusted text safe to show.
 *
 * Everything a device sends is untrusted. Before text reaches a terminal or a
 * report, control characters (C0, DEL, C1), bidirectional controls (U+061C,
 * U+200E, U+200F, U+202A..U+202E, U+2066..U+2069), tag characters
 * (U+E0000..U+E007F) and invalid UTF-8 are replaced by a visible escape such
 * as "\x1b" or "<U+202E>", so they are shown, not obeyed.
 */
#ifndef ASSAY_CORE_SANITIZE_H
#define ASSAY_CORE_SANITIZE_H

#include <stddef.h>

/*
 * Secrets to mask: every later sanitize_text() replaces each occurrence of one
 * of them by "[secret]" before anything else, so the bench's passwords and keys,
 * kept in the sealed evidence, never reach a terminal or a report. Secrets
 * shorter than SANITIZE_SECRET_MIN bytes are not masked (they would mangle
 * ordinary words). The list is copied; process-wide; not thread-safe.
 */
#define SANITIZE_SECRET_MIN 4
void sanitize_set_secrets(const char *const *secrets, size_t n);

/* Loads the secrets of a run directory (secrets.json: [{device, role, field,
 * value}]) into the mask list. A run without the file masks nothing. */
void sanitize_load_secrets(const char *run_dir);

/* Returns a new NUL-terminated string (caller frees), or NULL when out of
 * memory. At most `max_in` bytes of `s` are read (0: no limit); a longer
 * input ends with "...". `len` is the input length (s may hold NUL bytes). */
char *sanitize_text(const char *s, size_t len, size_t max_in);

#endif
