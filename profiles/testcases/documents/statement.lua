-- documents.statement: the statement of compliance carries its minimum content
-- (PSTI-SOC). The field list is data (profiles/data/soc_fields.lua) because it
-- is unconfirmed [U]; each field must be present and not blank, the two
-- declarations made (true), the dates real dates, and the support period must
-- have an explicit end date ("five years from purchase" is not one). Every
-- missing field is named. The statement must cover the bench's unit: its model
-- is the dossier's, and the statement is dated no later than the test date.
-- The signature itself is on the document, for the assessor to see.
local dates = require("dates")
local format = require("format")
local fields = load_data("soc_fields")

local function get(dossier, path)
  local v = dossier
  for key in path:gmatch("[^%.]+") do
    if type(v) ~= "table" then
      return nil
    end
    v = v[key]
  end
  return v
end

local function check_field(dossier, f)
  for _, p in ipairs(f.paths) do
    local v = get(dossier, p)
    if v ~= nil then
      if f.kind == "true" then
        return v == true, v == true and "made" or ("is " .. tostring(v))
      elseif f.kind == "date" then
        return dates.valid(v), tostring(v)
      end
      local ok = type(v) == "string" and v:match("%S") ~= nil
      return ok, ok and v or "blank"
    end
  end
  return false, "absent"
end

local function judge(obs, dossier)
  local soc = dossier.statement_of_compliance
  if type(soc) ~= "table" then
    return FAIL("the dossier holds no statement of compliance for model %s", tostring(obs.model))
  end
  local missing, have = {}, {}
  for _, f in ipairs(fields) do
    local ok, v = check_field(dossier, f)
    if ok then
      have[#have + 1] = string.format("%s: %s", f.label, format.printable(tostring(v), 60))
    else
      local extra = ""
      if f.kind == "date" and f.label:match("support") and soc.support_period then
        extra = string.format(" (the statement says \"%s\", a period without an end date)",
          format.printable(tostring(soc.support_period), 80))
      end
      missing[#missing + 1] = string.format("%s (%s)%s", f.label, v, extra)
    end
  end
  if #missing > 0 then
    return FAIL("the statement of compliance for %s lacks %d of %d required fields: %s",
      tostring(obs.model), #missing, #fields, table.concat(missing, "; "))
  end
  if dossier.model ~= obs.model then
    return FAIL("the statement covers model %s, but unit %s is a %s", tostring(dossier.model),
      tostring(obs.serial), tostring(obs.model))
  end
  local issued = get(dossier, "statement_of_compliance.signatory.date")
  if obs.test_date and dates.compare(issued, obs.test_date) > 0 then
    return ASSESSOR("the statement is dated %s, after the test date %s: the assessor checks that "
      .. "it accompanied unit %s", issued, obs.test_date, tostring(obs.serial))
  end
  return PASS("the statement of compliance for %s (unit %s) has all %d fields of "
    .. "profiles/data/soc_fields.lua [U: list unconfirmed]: %s", tostring(obs.model),
    tostring(obs.serial), #fields, table.concat(have, "; "))
end

testcase {
  id = "documents.statement",
  version = 1,
  title = "The statement of compliance has every required field",
  description = "The statement of compliance that accompanies the product names the product "
    .. "type and batch, the manufacturer, the two declarations, the support period's end date, "
    .. "and who signed it, where and when.",
  obligations = { "PSTI-SOC" },
  category = "safe",
  probe = function(dut, t)
    return { model = dut.model, serial = dut.serial,
      test_date = t.documents and t.documents.now_utc():sub(1, 10) or nil }
  end,
  judge = judge,
}
