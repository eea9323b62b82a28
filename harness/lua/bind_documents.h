/*
 * bind_documents.h: the `t.documents` table that probes use to obtain the
 * manufacturer's published pages (PSTI-2, PSTI-3, EN 303 645 5.2-1 and 5.3-13)
 * and keep a dated, hashed copy of each.
 *
 * Follows lua/binding.h: arguments are checked first; misuse raises; expected
 * failures return nil, "reason" with a stable first word ("out of scope",
 * "timeout", "network", "invalid", "unreadable", "no dossier directory").
 * An HTTP status (401, 404, a redirect) is data, never a failure.
 *
 *   doc, why = t.documents.fetch(url [, opts])
 *       GET over http(s), from hosts in the bench's scope only (every redirect
 *       target checked before it is followed). opts: { timeout_ms (at most the
 *       bench's, default the bench's), max_bytes (default 1 MiB, at most 4 MiB),
 *       max_redirects (default 5, at most 7) }.
 *   doc, why = t.documents.read(file [, opts])
 *       A file named by the dossier, relative to the dossier's directory
 *       (env->dossier_dir); opts: { max_bytes }.
 *       Both return
 *       { source = "url" | "file", url = ..., file = ..., status = 200 (fetch),
 *         content_type, hops = { { url, status, location }, ... }, stop = "..." (a
 *         redirect not followed and why), retrieved_utc = "2026-...Z", elapsed_ms,
 *         size, truncated, sha256 = "<hex>", evidence = "documents/<sha256>.body"
 *         (when env->evidence_dir is set; a "<sha256>.<time>.json" beside it holds
 *         the URL or file, status, exact headers, hops and time),
 *         body = "<exact bytes>" (do not return it as an observation: it is kept
 *         as evidence) }
 *
 *   page, why = t.documents.text(html)
 *       -> { title, lang, truncated, sentences = { "...", ... },
 *            links = { { href = "...", text = "..." }, ... } }   (drivers/page.h)
 *   st = t.documents.securitytxt(text)
 *       -> { contact = {...}, expires = {...}, expires_epoch = n | nil, policy = {...},
 *            encryption, acknowledgments, preferred_languages, canonical, hiring,
 *            signed = bool, problems = { "...", ... } }   (drivers/securitytxt.h)
 *   t.documents.now_utc() -> "2026-11-28T03:14:38Z", t.documents.now_epoch() -> seconds
 *       (the wall clock, so a judge can date its findings from the observations)
 */
#ifndef ASSAY_LUA_BIND_DOCUMENTS_H
#define ASSAY_LUA_BIND_DOCUMENTS_H

#include <lua.h>

#include "lua/binding.h"

/* Pushes the t.documents table; env must outlive every use of it. */
void bind_documents_push(lua_State *L, struct binding_env *env);

#endif
