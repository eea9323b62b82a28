-- coap.undeclared-resources: only the CoAP services the manufacturer declares
-- are enabled (EN 303 645 5.6-5). Evidence: the resources /.well-known/core
-- lists over NoSec and, with the unit's PSK, over DTLS, compared with the
-- IXIT's ixit.coap.resources; and the codes of GETs of a few well-known
-- maintenance paths that a device may serve without listing them.

local function bench_psk(dut)
  local c = dut.credentials and dut.credentials.coap_psk
  if type(c) == "table" and type(c.identity) == "string" and type(c.key) == "string" then
    return { identity = c.identity, key = c.key }
  end
  return nil
end

local function normalise(p)
  p = p:gsub("%?.*$", "")
  if p:sub(1, 1) ~= "/" then
    p = "/" .. p
  end
  return p
end

-- The link targets of a discovery result, or nil with the reason.
local function listing(r, why)
  if not r then
    return nil, why
  end
  if r.class ~= 2 then
    return nil, "answered " .. r.code
  end
  if not r.links then
    return nil, r.link_error or "no links"
  end
  local out, seen = {}, {}
  for _, l in ipairs(r.links) do
    local p = normalise(l.target)
    if not seen[p] then
      seen[p] = true
      out[#out + 1] = p
    end
  end
  return out
end

-- A code that shows a resource exists (served, or refused for lack of rights).
local EXISTS = { ["4.01"] = true, ["4.03"] = true, ["4.05"] = true }

testcase {
  id = "coap.undeclared-resources",
  version = 1,
  title = "The device offers no CoAP resources beyond those its manufacturer declares",
  description = "Resources listed in /.well-known/core (without and with DTLS) or answering at "
    .. "common maintenance paths, that the IXIT does not declare, fail.",
  obligations = { "EN-5.6-5" },
  applies = { interface = "coap", ics = { "EN-5.6-5" } },
  category = "safe",
  parameters = {
    guess_paths = { "/debug", "/admin", "/console", "/shell", "/test", "/diag", "/ota", "/update" },
  },
  probe = function(dut, t, params)
    local psk = bench_psk(dut)
    local out = { guesses = {} }
    out.nosec, out.nosec_error = listing(t.coap.discover(dut.coap))
    if psk then
      out.dtls, out.dtls_error = listing(t.coap.discover(dut.coap, { psk = psk }))
    end
    for _, p in ipairs(params.guess_paths) do
      local r, why = t.coap.get(dut.coap, p)
      out.guesses[#out.guesses + 1] = { path = p, code = r and r.code or why }
    end
    return out
  end,
  judge = function(obs, dossier)
    local declared = ((dossier.ixit or {}).coap or {}).resources
    if type(declared) ~= "table" or #declared == 0 then
      return INCONCLUSIVE("the IXIT declares no CoAP resources (ixit.coap.resources): "
        .. "nothing to compare the device's resources with")
    end
    local known = {}
    for _, p in ipairs(declared) do
      known[normalise(p)] = true
    end
    if not obs.nosec and not obs.dtls then
      return INCONCLUSIVE("/.well-known/core could not be read (NoSec: %s%s)",
        tostring(obs.nosec_error), obs.dtls_error and ("; DTLS: " .. obs.dtls_error) or "")
    end
    local extra, seen, listed = {}, {}, {}
    local function check(list, how)
      for _, p in ipairs(list or {}) do
        listed[p] = true
        if not known[p] and not seen[p] then
          seen[p] = true
          extra[#extra + 1] = string.format("%s (%s)", p, how)
        end
      end
    end
    check(obs.nosec, "listed in /.well-known/core without DTLS")
    check(obs.dtls, "listed in /.well-known/core over DTLS")
    local misses = 0
    for _, g in ipairs(obs.guesses) do
      local code = g.code or ""
      if (code:sub(1, 1) == "2" or EXISTS[code]) and not known[g.path] and not seen[g.path] then
        seen[g.path] = true
        extra[#extra + 1] = string.format("%s (unlisted, GET answered %s)", g.path, code)
      elseif not listed[g.path] then
        misses = misses + 1
      end
    end
    if #extra > 0 then
      return FAIL("resources the IXIT does not declare are offered: %s", table.concat(extra, ", "))
    end
    local names = {}
    for p in pairs(listed) do
      names[#names + 1] = p
    end
    table.sort(names)
    return PASS("/.well-known/core lists only declared resources (%s)%s; of %d common maintenance "
      .. "paths, %d are absent", table.concat(names, ", "),
      obs.dtls and ", with and without DTLS" or "", #obs.guesses, misses)
  end,
}
