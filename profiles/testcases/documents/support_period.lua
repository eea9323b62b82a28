-- documents.support-period: the defined support period is published with an
-- end date, and agrees with the statement of compliance (PSTI-3; EN 303 645
-- 5.3-13).
--
-- The probe obtains the page the dossier names (published.support_period: a
-- URL, fetched from the bench's allowed hosts only, or a file) and keeps its
-- visible sentences; the binding keeps the exact bytes, headers, time and
-- SHA-256 as evidence. The judge reads the end date from the sentences that
-- speak of support, updates or security (ISO dates and English forms such as
-- "31 December 2028"; all-numeric dates like 31/12/2028 are ambiguous and go
-- to the assessor). Objective FAILs only: no end date on the page, HTTP 401,
-- 402, 403, 404 or 410, a redirect to a login or registration page, a
-- published date earlier than the statement's. "Five years from purchase" is
-- for the assessor; a later published date is a lawful extension (PASS, noted).
-- An end date already past at the test date is reported first in the
-- rationale; params.past_end decides the verdict: "assessor" (default),
-- "fail", or "pass" (keep the publication verdict).
local dates = require("dates")
local published = require("published")
local format = require("format")

local keywords = { "support", "update", "security", "patch", "maintain", "end of life",
  "until", "end date" }
local not_end = { "last updated", "last modified", "published on", "posted on", "page updated" }

local function has_any(s, words)
  local l = s:lower()
  for _, w in ipairs(words) do
    if l:find(w, 1, true) then
      return true
    end
  end
  return false
end

-- The latest end date in support sentences: date, the sentence, every distinct date.
local function end_date(sentences)
  local best, quote, seen, all = nil, nil, {}, {}
  for _, s in ipairs(sentences) do
    if has_any(s, keywords) and not has_any(s, not_end) then
      for _, d in ipairs(dates.find(s)) do
        if not seen[d.iso] then
          seen[d.iso] = true
          all[#all + 1] = d.iso
        end
        if not best or d.iso > best then
          best, quote = d.iso, s
        end
      end
    end
  end
  return best, quote, all
end

local function first_match(sentences, fn)
  for _, s in ipairs(sentences) do
    local v = fn(s)
    if v and (type(v) ~= "table" or #v > 0) then
      return v, s
    end
  end
  return nil
end

-- A verdict for a page whose end date is `d` (quoted from `quote`).
local function dated(obs, page, d, quote, all, params)
  local q = format.printable(quote, 300)
  local where = published.where(page)
  local st = obs.statement_end
  local v, msg
  if st and dates.compare(d, st) < 0 then
    v, msg = FAIL, string.format("the published end date %s is earlier than the statement of "
      .. "compliance's %s: \"%s\" (%s)", d, st, q, where)
  elseif st and dates.compare(d, st) > 0 then
    v, msg = PASS, string.format("the published end date %s extends the statement's %s (a lawful "
      .. "extension, noted): \"%s\" (%s)", d, st, q, where)
  else
    v, msg = PASS, string.format("the support period ends on %s%s: \"%s\" (%s)", d,
      st and ", as the statement of compliance says" or " (the dossier's statement gives no end date)",
      q, where)
  end
  if #all > 1 then
    msg = msg .. string.format("; the page names %d dates in support sentences (%s), the latest "
      .. "is taken", #all, table.concat(all, ", "))
  end
  if obs.test_date and dates.compare(d, obs.test_date) < 0 then
    msg = string.format("OUT OF SUPPORT: the support period ended on %s, before the test date %s. ",
      d, obs.test_date) .. msg
    if params.past_end == "fail" then
      v = FAIL
    elseif v ~= FAIL and params.past_end ~= "pass" then
      v = ASSESSOR
    end
  end
  return v("%s", msg)
end

local function judge(obs, dossier, params)
  local page = obs.page
  if not page then
    return ASSESSOR("the dossier names no published support-period page (published.support_period); "
      .. "the assessor locates where the manufacturer publishes the defined support period")
  end
  if page.error then
    return INCONCLUSIVE("the support-period page %s could not be obtained: %s; retry",
      tostring(page.url or page.file), page.error)
  end
  local denied = published.access_fail(page) or published.missing(page)
  if denied then
    return FAIL("the defined support period is not freely published: %s (%s)", denied,
      published.where(page))
  end
  if page.status and page.status >= 400 then
    return INCONCLUSIVE("the support-period page answers HTTP %d; retry or ask the manufacturer "
      .. "(%s)", page.status, published.where(page))
  end
  if page.lang and page.lang ~= "" and not page.lang:lower():match("^en") then
    return ASSESSOR("the page declares language \"%s\": the assessor checks that the support "
      .. "period is published in English (%s)", format.printable(page.lang, 20), published.where(page))
  end
  local d, quote, all = end_date(page.sentences or {})
  if d then
    return dated(obs, page, d, quote, all, params)
  end
  local rel, rs = first_match(page.sentences or {}, dates.relative)
  if rel then
    return ASSESSOR("the page states a support period without an end date (\"%s\"): \"%s\"; the "
      .. "assessor decides whether an end date can be derived (%s)", rel,
      format.printable(rs, 300), published.where(page))
  end
  local amb, as = first_match(page.sentences or {}, dates.ambiguous)
  if amb then
    return ASSESSOR("the only date is all-numeric (%s), which reads differently in UK and US "
      .. "order: \"%s\" (%s)", amb[1], format.printable(as, 300), published.where(page))
  end
  return FAIL("no end date of the support period on the published page \"%s\" (%d sentences "
    .. "read; %s)", format.printable(page.title or "", 80), #(page.sentences or {}),
    published.where(page))
end

testcase {
  id = "documents.support-period",
  version = 1,
  title = "The manufacturer publishes how long the product gets security updates, with an end date",
  description = "The published support period must name the date security updates end, be "
    .. "freely readable, and not end earlier than the statement of compliance says.",
  obligations = { "PSTI-3", "EN-5.3-13" },
  category = "safe",
  parameters = { past_end = "assessor" },
  probe = function(dut, t, params, dossier)
    local soc = dossier.statement_of_compliance or {}
    local obs = { model = dut.model, test_date = t.documents.now_utc():sub(1, 10),
      statement_end = soc.support_period_end, statement_period = soc.support_period }
    local entry = (dossier.published or {}).support_period
    if entry then
      obs.page = published.obtain(t, entry)
    end
    return obs
  end,
  judge = judge,
}
