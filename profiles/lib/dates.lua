-- dates.lua: calendar dates in manufacturers' text, for the documentary judges.
--
--   dates.find(text)  -> list of { iso = "2028-12-31", text = "31 December 2028" } in order
--       Recognised: ISO 8601 "2028-12-31"; "31 December 2028", "31st Dec 2028",
--       "31 December, 2028"; "December 31, 2028", "Dec 31st 2028"; month names in
--       English, full or three letters (and "Sept"). Invalid days (31 April) are
--       ignored. All-numeric forms such as "31/12/2028" or "12/31/2028" are NOT
--       read: day-month order differs between the UK and the US, so such a date
--       is reported by dates.ambiguous() and left to the assessor.
--   dates.ambiguous(text) -> list of the all-numeric dates found ("31/12/2028")
--   dates.relative(text)  -> the first "N years/months from|after purchase|sale|..."
--       phrase (a support period without an end date), or nil
--   dates.valid(iso)      -> true for a real YYYY-MM-DD date
--   dates.compare(a, b)   -> -1, 0, 1 for two ISO dates (string order is date order)
--   dates.from_utc(ts)    -> "2026-11-28" from "2026-11-28T03:14:38Z"
--   dates.from_epoch(s)   -> "YYYY-MM-DD" of a UTC epoch second count
local M = {}

local months = {
  january = 1, february = 2, march = 3, april = 4, may = 5, june = 6, july = 7,
  august = 8, september = 9, october = 10, november = 11, december = 12,
  jan = 1, feb = 2, mar = 3, apr = 4, jun = 6, jul = 7, aug = 8, sep = 9, sept = 9,
  oct = 10, nov = 11, dec = 12,
}

local function leap(y)
  return (y % 4 == 0 and y % 100 ~= 0) or y % 400 == 0
end

local function days_in(y, m)
  local d = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }
  return (m == 2 and leap(y)) and 29 or d[m]
end

local function iso(y, m, d)
  y, m, d = tonumber(y), tonumber(m), tonumber(d)
  if not (y and m and d) or y < 1900 or y > 2200 or m < 1 or m > 12 or d < 1
    or d > days_in(y, m) then
    return nil
  end
  return string.format("%04d-%02d-%02d", y, m, d)
end

function M.valid(s)
  if type(s) ~= "string" then
    return false
  end
  local y, m, d = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)$")
  return y ~= nil and iso(y, m, d) == s
end

-- Every match of `pat` in text with its start position, through `make`.
local function scan(text, pat, make, out)
  local init = 1
  while true do
    local s, e, a, b, c = text:find(pat, init)
    if not s then
      return
    end
    local v = make(a, b, c)
    if v then
      out[#out + 1] = { pos = s, iso = v, text = text:sub(s, e) }
    end
    init = e + 1
  end
end

function M.find(text)
  local found = {}
  text = tostring(text or "")
  scan(text, "%f[%d](%d%d%d%d)%-(%d%d)%-(%d%d)%f[^%d]", function(y, m, d)
    return iso(y, m, d)
  end, found)
  -- "31 December 2028", "31st Dec, 2028"
  scan(text, "%f[%d](%d%d?)%a?%a? (%a+)%.?,? (%d%d%d%d)%f[^%d]", function(d, mon, y)
    local m = months[mon:lower()]
    return m and iso(y, m, d)
  end, found)
  -- "December 31, 2028", "Dec 31st 2028"
  scan(text, "%f[%a](%a+)%.? (%d%d?)%a?%a?,? (%d%d%d%d)%f[^%d]", function(mon, d, y)
    local m = months[mon:lower()]
    return m and iso(y, m, d)
  end, found)
  table.sort(found, function(a, b)
    return a.pos < b.pos
  end)
  local out = {}
  for _, f in ipairs(found) do
    out[#out + 1] = { iso = f.iso, text = f.text }
  end
  return out
end

function M.ambiguous(text)
  local out = {}
  for s in tostring(text or ""):gmatch("%f[%d]%d%d?[/%.]%d%d?[/%.]%d%d%d?%d?%f[^%d]") do
    out[#out + 1] = s
  end
  return out
end

local numbers = {
  one = 1, two = 2, three = 3, four = 4, five = 5, six = 6, seven = 7, eight = 8,
  nine = 9, ten = 10, twelve = 12, fifteen = 15, eighteen = 18, twenty = 20,
  thirty = 30, ["twenty-four"] = 24, ["thirty-six"] = 36,
}

local function relative_event(event)
  for _, e in ipairs({ "purchase", "sale", "manufactur", "deliver", "activation", "date",
    "release", "launch", "first", "registration", "install" }) do
    if event:sub(1, #e) == e then
      return true
    end
  end
  return false
end

function M.relative(text)
  local lower = tostring(text or ""):lower():gsub("%s*%b()", "")
  local pat = "^([%w%-]+)%s+(%a+)%s+(%a+)%s+(%a+)%s*(%a*)"
  local init = 1
  while true do
    local s = lower:find("%f[%w][%w%-]+", init)
    if not s then
      return nil
    end
    local _, e, n, unit, rel, event, after = lower:find(pat, s)
    local count = n and (tonumber(n) or numbers[n])
    if event == "the" then
      event = after
    end
    if count and (unit:match("^years?$") or unit:match("^months?$"))
      and (rel == "from" or rel == "after" or rel == "following" or rel == "since")
      and relative_event(event) then
      return lower:sub(s, e)
    end
    init = s + 1
    while lower:sub(init, init):match("[%w%-]") do
      init = init + 1
    end
  end
end

function M.compare(a, b)
  if a == b then
    return 0
  end
  return a < b and -1 or 1
end

function M.from_utc(ts)
  local d = type(ts) == "string" and ts:match("^(%d%d%d%d%-%d%d%-%d%d)") or nil
  return d
end

function M.from_epoch(s)
  -- Howard Hinnant's civil_from_days.
  local z = s // 86400 + 719468
  local era = (z >= 0 and z or z - 146096) // 146097
  local doe = z - era * 146097
  local yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
  local y = yoe + era * 400
  local doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
  local mp = (5 * doy + 2) // 153
  local d = doy - (153 * mp + 2) // 5 + 1
  local m = mp < 10 and mp + 3 or mp - 9
  if m <= 2 then
    y = y + 1
  end
  return string.format("%04d-%02d-%02d", y, m, d)
end

return M
