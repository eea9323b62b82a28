-- coap.nosec-refused: non-public resources are refused without authentication
-- (EN 303 645 5.5-4). Evidence: the code of a NoSec (plain UDP) GET of every
-- resource the IXIT marks security-relevant, and of its configuration
-- resource; with the unit's PSK, the same GET over DTLS as a control that the
-- resource exists and that the refusal is about authentication.

local function bench_psk(dut)
  local c = dut.credentials and dut.credentials.coap_psk
  if type(c) == "table" and type(c.identity) == "string" and type(c.key) == "string" then
    return { identity = c.identity, key = c.key }
  end
  return nil
end

-- The non-public resources the IXIT names, without duplicates, in its order.
local function protected_resources(dossier)
  local ixit = dossier.ixit or {}
  local out, seen = {}, {}
  local function add(p)
    if type(p) == "string" and p ~= "" and not seen[p] then
      seen[p] = true
      out[#out + 1] = p
    end
  end
  for _, p in ipairs((ixit.security_relevant or {}).coap_resources or {}) do
    add(p)
  end
  add((ixit.coap or {}).config_resource)
  return out
end

local function summary(list, key)
  local parts = {}
  for _, a in ipairs(list) do
    parts[#parts + 1] = string.format("%s %s", a.path, a[key] or "-")
  end
  return table.concat(parts, ", ")
end

testcase {
  id = "coap.nosec-refused",
  version = 1,
  title = "Without encryption (CoAP NoSec), the device refuses to show its non-public resources",
  description = "GET of each security-relevant resource the IXIT declares, over plain UDP. "
    .. "Refusals are 4.01 Unauthorized, 4.03 Forbidden (or another 4.xx that hides the "
    .. "resource); a 2.xx answer fails.",
  obligations = { "EN-5.5-4" },
  applies = { interface = "coap", state = "initialised", ics = { "EN-5.5-4" } },
  category = "safe",
  probe = function(dut, t, params, dossier)
    local psk = bench_psk(dut)
    local out = { attempts = {}, control = psk ~= nil }
    for _, path in ipairs(protected_resources(dossier)) do
      local a = { path = path }
      local r, why = t.coap.get(dut.coap, path)
      a.nosec = r and r.code or why
      a.nosec_class = r and r.class
      if psk then
        local d, dwhy = t.coap.get(dut.coap, path, { psk = psk })
        a.dtls = d and d.code or dwhy
      end
      out.attempts[#out.attempts + 1] = a
    end
    return out
  end,
  judge = function(obs)
    if #obs.attempts == 0 then
      return INCONCLUSIVE("the IXIT declares no security-relevant CoAP resource and no "
        .. "configuration resource: declare them (ixit.security_relevant.coap_resources)")
    end
    local open, unanswered = {}, {}
    for _, a in ipairs(obs.attempts) do
      if a.nosec_class == 2 then
        open[#open + 1] = a.path
      elseif a.nosec_class ~= 4 and a.nosec ~= "reset" then
        unanswered[#unanswered + 1] = a
      end
    end
    if #open > 0 then
      return FAIL("NoSec GET of %s is answered without authentication (%s)",
        table.concat(open, ", "), summary(obs.attempts, "nosec"))
    end
    if #unanswered > 0 then
      return INCONCLUSIVE("NoSec GET got no refusal for %s: resolve why the device did not "
        .. "answer 4.01/4.03", summary(unanswered, "nosec"))
    end
    local control = ""
    if obs.control then
      control = string.format("; over DTLS with the unit's PSK: %s", summary(obs.attempts, "dtls"))
    end
    return PASS("NoSec GET refused: %s%s", summary(obs.attempts, "nosec"), control)
  end,
}
