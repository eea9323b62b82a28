-- documents.ics-justified: every provision the manufacturer's ICS marks not
-- applicable carries a justification (ETSI TS 103 701 test case 4-1-1, catalogue
-- id TS-4-1-1). The justifications are quoted: each one is what makes the
-- test cases of that provision NOT_APPLICABLE (applies.ics), so the assessor
-- sees them in one place. An entry without one fails 4-1-1 and leaves its
-- provision's test cases INCONCLUSIVE. ICS entries for PSTI obligations are
-- refused when the bench is loaded, never reach a judge, and are reported here
-- if a dossier ever carries one.
local format = require("format")

local function judge(obs, dossier)
  local ics = dossier.ics
  local na, bad, psti = {}, {}, {}
  if type(ics) == "table" then
    local ids = {}
    for id in pairs(ics) do
      ids[#ids + 1] = id
    end
    table.sort(ids)
    for _, id in ipairs(ids) do
      local e = ics[id]
      if tostring(id):match("^PSTI") then
        psti[#psti + 1] = id
      elseif type(e) == "table" and e.status == "not-applicable" then
        local j = type(e.justification) == "string" and e.justification:match("^%s*(.-)%s*$") or ""
        if j == "" then
          bad[#bad + 1] = id
        else
          na[#na + 1] = string.format("%s: \"%s\"", id, format.printable(j, 200))
        end
      end
    end
  end
  if #psti > 0 then
    return FAIL("the ICS marks PSTI obligations (%s): the UK requirements cannot be declared not "
      .. "applicable", format.list(psti))
  end
  if #bad > 0 then
    return FAIL("the ICS marks %s not applicable without a justification (TS 103 701 test case "
      .. "4-1-1)%s", format.list(bad), #na > 0 and ("; justified: " .. table.concat(na, "; ")) or "")
  end
  if #na == 0 then
    return NOT_APPLICABLE("the ICS of model %s marks no provision not applicable",
      tostring(obs.model))
  end
  return PASS("every not-applicable ICS entry of model %s is justified: %s", tostring(obs.model),
    table.concat(na, "; "))
end

testcase {
  id = "documents.ics-justified",
  version = 1,
  title = "Every provision the manufacturer declares not applicable comes with a reason",
  description = "The implementation conformance statement (ICS) may mark provisions not "
    .. "applicable; each such entry needs the manufacturer's justification.",
  obligations = { "TS-4-1-1" },
  category = "safe",
  probe = function(dut)
    return { model = dut.model }
  end,
  judge = judge,
}
