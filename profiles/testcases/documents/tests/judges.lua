-- judges.lua: unit tests of the documentary test cases' judges and of
-- lib/dates.lua, fed observations and dossiers written by hand, so every
-- verdict each judge can give is exercised.
-- Run: lua5.4 profiles/testcases/documents/tests/judges.lua PROFILES_DIR
-- Exits 0 when every case gets its expected verdict, 1 otherwise.
local root = assert(arg[1], "usage: judges.lua PROFILES_DIR")

local cases, _, load_lib = dofile(root .. "/testcases/tests/loader.lua")(root, "documents",
  { "statement", "support_period", "vulnerability_reporting", "ics" })

local soc = {
  product_type = "smart thermostat", batch = "2026-W40", prepared_by_or_for_manufacturer = true,
  declaration = true, support_period_end = "2031-12-31",
  signatory = { name = "J. Smith", ["function"] = "Head of Compliance", place = "Town",
    date = "2026-10-01" },
}
local dossier = { model = "ts-100", manufacturer = { name = "Example Ltd", address = "1 High St" },
  statement_of_compliance = soc }
local function with(t, k, v)
  local c = {}
  for kk, vv in pairs(t) do c[kk] = vv end
  c[k] = v
  return c
end

local failures, total = 0, 0
local function check(id, want, obs, dos, params, note)
  total = total + 1
  local tc = assert(cases[id], id)
  local p = params or tc.parameters or {}
  local ok, v = pcall(tc.judge, obs, dos or dossier, p)
  local got = ok and (v.verdict .. (v.resolve and "/" .. v.resolve or "")) or ("error: " .. tostring(v))
  if got ~= want then
    failures = failures + 1
    print(string.format("FAIL %s (%s): want %s, got %s: %s", id, note, want, got,
      ok and tostring(v.rationale) or ""))
  end
end

-- lib/dates
local dates = load_lib("dates")
local function eq(a, b, what)
  total = total + 1
  if a ~= b then
    failures = failures + 1
    print(string.format("FAIL dates %s: want %s, got %s", what, tostring(b), tostring(a)))
  end
end
eq(dates.find("until 31 December 2028.")[1].iso, "2028-12-31", "day month year")
eq(dates.find("until December 31, 2028")[1].iso, "2028-12-31", "month day, year")
eq(dates.find("until 2028-12-31")[1].iso, "2028-12-31", "ISO")
eq(dates.find("until 31st Dec 2028")[1].iso, "2028-12-31", "ordinal, short month")
eq(#dates.find("until 31 April 2028"), 0, "no 31 April")
eq(#dates.find("until 31/12/2028"), 0, "numeric is not read")
eq(dates.ambiguous("until 31/12/2028")[1], "31/12/2028", "numeric is ambiguous")
eq(dates.relative("for five years from purchase"), "five years from purchase", "relative")
eq(dates.relative("updates until 2030"), nil, "not relative")
eq(dates.from_epoch(1896134399), "2030-01-31", "from_epoch")

-- documents.statement
local S = "documents.statement"
local sobs = { model = "ts-100", serial = "TS100-1", test_date = "2026-11-28" }
check(S, "PASS", sobs, nil, nil, "complete")
check(S, "FAIL", sobs, with(dossier, "statement_of_compliance", nil), nil, "no statement")
check(S, "FAIL", sobs, with(dossier, "statement_of_compliance", with(soc, "batch", " ")), nil, "blank batch")
check(S, "FAIL", sobs, with(dossier, "statement_of_compliance", with(with(soc, "support_period_end", nil),
  "support_period", "five years from purchase")), nil, "no end date")
check(S, "FAIL", sobs, with(dossier, "statement_of_compliance", with(soc, "declaration", false)), nil, "no declaration")
check(S, "FAIL", sobs, with(dossier, "manufacturer", { name = "X" }), nil, "no address")
check(S, "FAIL", with(sobs, "model", "other"), nil, nil, "wrong model")
check(S, "INCONCLUSIVE/assessor", with(sobs, "test_date", "2026-01-01"), nil, nil, "dated after the test")

-- documents.support-period
local P = "documents.support-period"
local function page(sentences, extra)
  local p = { source = "url", url = "http://127.0.0.1/s", status = 200, hops = {}, sha256 = "ab",
    retrieved_utc = "2026-11-28T00:00:00Z", sentences = sentences, links = {}, lang = "en" }
  for k, v in pairs(extra or {}) do p[k] = v end
  return { test_date = "2026-11-28", statement_end = "2031-12-31", page = p }
end
check(P, "PASS", page({ "Security updates until 31 December 2031." }), nil, nil, "same date")
check(P, "PASS", page({ "Security updates until 31 December 2033." }), nil, nil, "extension")
check(P, "FAIL", page({ "Security updates until 30 June 2030." }), nil, nil, "earlier")
check(P, "INCONCLUSIVE/assessor", page({ "Security updates for five years from purchase." }), nil, nil, "relative")
check(P, "FAIL", page({ "We care about security.", "Thank you." }), nil, nil, "no end date")
check(P, "INCONCLUSIVE/assessor", page({ "Security updates until 31/12/2031." }), nil, nil, "numeric")
check(P, "FAIL", page({}, { status = 401 }), nil, nil, "401")
check(P, "FAIL", page({}, { status = 404 }), nil, nil, "404")
check(P, "FAIL", page({ "Log in" }, { hops = { { url = "http://127.0.0.1/a", status = 302,
  location = "http://127.0.0.1/login?next=/a" }, { url = "http://127.0.0.1/login", status = 200 } } }),
  nil, nil, "login redirect")
check(P, "INCONCLUSIVE", page({}, { status = 503 }), nil, nil, "503")
check(P, "INCONCLUSIVE", { test_date = "2026-11-28", page = { error = "timeout: x" } }, nil, nil, "fetch failed")
check(P, "INCONCLUSIVE/assessor", { test_date = "2026-11-28" }, nil, nil, "no page named")
check(P, "INCONCLUSIVE/assessor", page({ "Security updates until 31 December 2031." }, { lang = "de" }),
  nil, nil, "language")
local past = page({ "Security updates until 30 June 2024." })
past.statement_end = "2024-06-30"
check(P, "INCONCLUSIVE/assessor", past, nil, { past_end = "assessor" }, "past end, assessor")
check(P, "FAIL", past, nil, { past_end = "fail" }, "past end, fail")
check(P, "PASS", past, nil, { past_end = "pass" }, "past end, pass")

-- documents.vulnerability-reporting
local V = "documents.vulnerability-reporting"
local function vdp(sentences, links, extra)
  local o = page(sentences, { links = links or {} })
  o.test_epoch = 1795824000 -- 2026-11-28
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end
local good = { "Report vulnerabilities to security@x.invalid.",
  "We acknowledge every report within 5 working days and send status updates every 14 days." }
check(V, "PASS", vdp(good), nil, nil, "complete")
check(V, "PASS", vdp({ "Use our form.", "We acknowledge reports within two days.",
  "We send status updates every fourteen days." }, { { href = "/report", text = "report form" } }), nil, nil, "form, words")
check(V, "FAIL", vdp({ good[2] }), nil, nil, "no contact")
check(V, "FAIL", vdp({ good[1], "We acknowledge every report within 5 working days." }), nil, nil, "no status timescale")
check(V, "INCONCLUSIVE/assessor", vdp({ good[1], "We will get back to you quickly and keep you informed as soon as possible." }),
  nil, nil, "vague")
check(V, "FAIL", vdp({}, {}, { page = { status = 403, hops = {} } }), nil, nil, "403")
local st = vdp(good)
st.security_txt = { contact = { "mailto:security@x.invalid" }, expires_epoch = 1577836800, problems = {}, sha256 = "cd" }
check(V, "PASS", st, nil, nil, "expired security.txt is supporting evidence only")
local ok, v = pcall(cases[V].judge, st, dossier, {})
total = total + 1
if not (ok and v.rationale:find("EXPIRED on 2020%-01%-01")) then
  failures = failures + 1
  print("FAIL vulnerability-reporting: an expired security.txt is not reported: " .. tostring(ok and v.rationale))
end
check(V, "INCONCLUSIVE/assessor", { test_date = "2026-11-28" }, nil, nil, "no page named")

-- documents.ics-justified
local I = "documents.ics-justified"
check(I, "NOT_APPLICABLE", { model = "x" }, { ics = {} }, nil, "nothing marked")
check(I, "PASS", { model = "x" }, { ics = { ["EN-5.5-1"] = { status = "not-applicable",
  justification = "segregated network" } } }, nil, "justified")
check(I, "FAIL", { model = "x" }, { ics = { ["EN-5.5-1"] = { status = "not-applicable" } } }, nil, "unjustified")
check(I, "FAIL", { model = "x" }, { ics = { ["EN-5.5-1"] = { status = "not-applicable", justification = "  " } } },
  nil, "blank justification")
check(I, "FAIL", { model = "x" }, { ics = { ["PSTI-2"] = { status = "not-applicable", justification = "x" } } },
  nil, "PSTI entry")

print(string.format("%d of %d documentary judge cases as expected", total - failures, total))
os.exit(failures == 0 and 0 or 1)
