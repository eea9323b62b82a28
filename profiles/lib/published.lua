-- published.lua: obtaining a published page named by the dossier, and the
-- objective access findings the documentary judges may FAIL on.
--
--   published.obtain(t, entry [, opts]) -> observation table (plain data)
--       entry: the dossier's { url = ... } or { file = ... }. Fetches or reads it
--       through t.documents (the bytes, headers, time and SHA-256 are kept as
--       evidence by the binding) and keeps the visible text as sentences.
--       { source, url | file, status, hops, stop, retrieved_utc, sha256, evidence,
--         size, truncated, content_type, title, lang, sentences, links, error }
--       `error` (a string) when the page could not be obtained (network,
--       scope, unreadable); device or site behaviour (401, 404) is data.
--       opts: { max_sentences = 400 }
--   published.access_fail(obs) -> a reason string when the page is objectively
--       not freely accessible (HTTP 401, 402, 403; a redirect to a login or
--       registration page), else nil
--   published.missing(obs) -> a reason when the named page is absent (HTTP 404, 410)
--   published.where(obs) -> "http://... (sha256 abcd..., retrieved ...)" for rationales
local M = {}

function M.obtain(t, entry, opts)
  opts = opts or {}
  local max = opts.max_sentences or 400
  local doc, why
  if entry.url then
    doc, why = t.documents.fetch(entry.url)
  elseif entry.file then
    doc, why = t.documents.read(entry.file)
  else
    return { error = "the dossier entry names neither a url nor a file" }
  end
  if not doc then
    return { source = entry.url and "url" or "file", url = entry.url, file = entry.file,
      error = why, retrieved_utc = t.documents.now_utc() }
  end
  local obs = {}
  for _, k in ipairs({ "source", "url", "file", "status", "hops", "stop", "retrieved_utc",
    "sha256", "evidence", "size", "truncated", "content_type" }) do
    obs[k] = doc[k]
  end
  local page = t.documents.text(doc.body)
  if page then
    obs.title, obs.lang = page.title, page.lang
    obs.sentences = {}
    for i = 1, math.min(#page.sentences, max) do
      obs.sentences[i] = page.sentences[i]
    end
    obs.links = {}
    for i = 1, math.min(#page.links, 200) do
      obs.links[i] = page.links[i]
    end
    obs.text_truncated = page.truncated or #page.sentences > max
  else
    obs.sentences, obs.links = {}, {}
  end
  return obs
end

local login_words = { "login", "log%-in", "signin", "sign%-in", "register", "registration",
  "signup", "sign%-up" }

function M.access_fail(obs)
  local s = obs.status
  if s == 401 or s == 402 or s == 403 then
    return string.format("the page answers HTTP %d (%s)", s,
      s == 402 and "payment required" or "a login is required")
  end
  for _, h in ipairs(obs.hops or {}) do
    local loc = type(h.location) == "string" and h.location:lower() or ""
    local path = loc:gsub("^%a+://[^/]*", "")
    for _, w in ipairs(login_words) do
      if path:find("%f[%a]" .. w .. "%f[^%a]") then
        return string.format("%s redirects (HTTP %d) to a login or registration page: %s",
          tostring(h.url), h.status or 0, h.location)
      end
    end
  end
  return nil
end

function M.missing(obs)
  if obs.status == 404 or obs.status == 410 then
    return string.format("the page the dossier names answers HTTP %d", obs.status)
  end
  return nil
end

function M.where(obs)
  return string.format("%s (sha256 %s, %s)", tostring(obs.url or obs.file),
    tostring(obs.sha256 or "?"):sub(1, 16), tostring(obs.retrieved_utc))
end

return M
