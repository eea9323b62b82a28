-- selftest.derived and selftest.unique: the derived-credential helper, and a
-- model-scope judge over every unit's observations.
local credentials = require("credentials")
local format = require("format")

testcase {
  id = "selftest.derived",
  version = 1,
  title = "Derived credential candidates include the serial and MAC forms",
  obligations = { "EN-5.1-2" },
  category = "safe",
  probe = function(dut)
    local out = {}
    for _, c in ipairs(credentials.derived(dut)) do
      out[#out + 1] = c.password
    end
    return { candidates = out }
  end,
  judge = function(obs)
    local seen = {}
    for _, c in ipairs(obs.candidates) do
      seen[c] = true
    end
    if #obs.candidates == 0 then
      return INCONCLUSIVE("no identifiers to derive candidates from")
    end
    return PASS("%s derived", format.count(#obs.candidates, "candidate"))
  end,
}

testcase {
  id = "selftest.unique",
  version = 1,
  title = "Units of one model have distinct serials",
  obligations = { "PSTI-1", "EN-5.1-1" },
  category = "safe",
  scope = "model",
  probe = function(dut)
    return { serial = dut.serial }
  end,
  judge = function(units)
    if #units < 2 then
      return INCONCLUSIVE("uniqueness needs at least two units; %d probed", #units)
    end
    local seen = {}
    for _, u in ipairs(units) do
      local s = u.observations.serial
      if seen[s] then
        return FAIL("units %s and %s share serial %s", seen[s], u.device.id, s)
      end
      seen[s] = u.device.id
    end
    return PASS("%d units, all serials distinct", #units)
  end,
}
