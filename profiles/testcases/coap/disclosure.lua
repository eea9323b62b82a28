-- coap.unauthenticated-disclosure: in the initialised state the device discloses
-- no security-relevant information without authentication (EN 303 645 5.6-2).
-- Evidence: the body of every resource that answers a NoSec (plain UDP) GET:
-- those /.well-known/core lists and those the IXIT declares. A body is
-- security-relevant when its resource is one the IXIT marks security-relevant,
-- or when it names versions, keys, credentials or debugging state. What the
-- IXIT declares as disclosed goes to the assessor; anything else fails.

local MAX_BODY = 512

local function add(out, seen, p)
  if type(p) == "string" and p ~= "" then
    p = p:gsub("%?.*$", "")
    if p:sub(1, 1) ~= "/" then
      p = "/" .. p
    end
    if not seen[p] and p ~= "/.well-known/core" then
      seen[p] = true
      out[#out + 1] = p
    end
  end
end

-- The first indicator pattern that `body` matches, or nil.
local function indicator(body, patterns)
  local lower = body:lower()
  for _, pat in ipairs(patterns) do
    local s, e = lower:find(pat)
    if s then
      return body:sub(s, e)
    end
  end
  return nil
end

local function printable(s, n)
  local out = s:gsub("\n", "; "):gsub("[^\32-\126]", "?")
  if #out > n then
    out = out:sub(1, n) .. "..."
  end
  return out
end

testcase {
  id = "coap.unauthenticated-disclosure",
  version = 1,
  title = "Without encryption (CoAP NoSec), the device reveals nothing security-relevant",
  description = "Reads every listed or declared resource over plain UDP. Security-relevant "
    .. "resources, and bodies naming versions, keys, credentials or debug state, fail unless the "
    .. "IXIT declares them as disclosed information (then the assessor decides).",
  obligations = { "EN-5.6-2" },
  applies = { interface = "coap", state = "initialised", ics = { "EN-5.6-2" } },
  category = "safe",
  parameters = {
    indicators = { "version", "firmware", "sdk", "bootloader", "built?=", "passw", "secret",
      "psk", "token", "private", "%f[%w]key%f[%W]", "console", "heap", "ssid", "serial" },
  },
  probe = function(dut, t, params, dossier)
    local targets, seen = {}, {}
    local d, why = t.coap.discover(dut.coap)
    local out = { discovery = d and d.code or why, reads = {} }
    for _, l in ipairs(d and d.links or {}) do
      add(targets, seen, l.target)
    end
    for _, p in ipairs(((dossier.ixit or {}).coap or {}).resources or {}) do
      add(targets, seen, p)
    end
    for _, p in ipairs(targets) do
      local r, rwhy = t.coap.get(dut.coap, p, { max_body = MAX_BODY })
      local entry = { path = p, code = r and r.code or rwhy }
      if r and r.class == 2 then
        entry.body = r.payload
      end
      out.reads[#out.reads + 1] = entry
    end
    return out
  end,
  judge = function(obs, dossier, params)
    local ixit = dossier.ixit or {}
    local relevant = {}
    for _, p in ipairs((ixit.security_relevant or {}).coap_resources or {}) do
      relevant[p] = true
    end
    local declared = ixit.disclosed_information or {}
    local function is_declared(path)
      for _, d in ipairs(declared) do
        if type(d) == "string" and d:find(path, 1, true) then
          return d
        end
      end
      return nil
    end
    if #obs.reads == 0 then
      return INCONCLUSIVE("no resource to read: /.well-known/core gave %s and the IXIT declares "
        .. "none", tostring(obs.discovery))
    end
    local fails, assessor, answered = {}, {}, {}
    for _, r in ipairs(obs.reads) do
      if r.body then
        answered[#answered + 1] = r.path
        local hit = indicator(r.body, params.indicators)
        if relevant[r.path] or hit then
          local why = relevant[r.path] and "a security-relevant resource in the IXIT"
            or string.format("names '%s'", hit)
          local line = string.format("%s (%s) answers %s: \"%s\"", r.path, why, r.code,
            printable(r.body, 80))
          local d = is_declared(r.path)
          if d then
            assessor[#assessor + 1] = line .. string.format(" [declared: %s]", d)
          else
            fails[#fails + 1] = line
          end
        end
      end
    end
    if #fails > 0 then
      return FAIL("disclosed without authentication and not declared in the IXIT: %s",
        table.concat(fails, "; "))
    end
    if #assessor > 0 then
      return ASSESSOR("disclosed without authentication, as the IXIT declares: %s; the assessor "
        .. "decides whether this is minimal", table.concat(assessor, "; "))
    end
    return PASS("without DTLS only /.well-known/core%s answer%s; nothing security-relevant is "
      .. "disclosed (%d resources read)", #answered > 0 and (" and " .. table.concat(answered, ", "))
      or "", #answered > 0 and "" or "s", #obs.reads)
  end,
}
