-- coap.password-login: whether the device's CoAP interface uses passwords at all
-- (UK PSTI 1, EN 303 645 5.1-1 apply only to password-based authentication;
-- DTLS pre-shared keys are cryptographic keys, which PSTI excludes, and are
-- judged by coap.psk-unique). Evidence: the resources /.well-known/core lists
-- without and with DTLS, searched for login, account or credential resources.

local function bench_psk(dut)
  local c = dut.credentials and dut.credentials.coap_psk
  if type(c) == "table" and type(c.identity) == "string" and type(c.key) == "string" then
    return { identity = c.identity, key = c.key }
  end
  return nil
end

local function collect(out, r)
  if r and r.links then
    for _, l in ipairs(r.links) do
      local text = l.target
      for _, a in ipairs(l.attrs or {}) do
        text = text .. " " .. (a.value or "")
      end
      out[#out + 1] = { target = l.target, text = text }
    end
  end
end

testcase {
  id = "coap.password-login",
  version = 1,
  title = "Whether the device's CoAP interface takes passwords (a login resource)",
  description = "Looks for login, authentication, account or credential resources among those "
    .. "/.well-known/core lists. None: the password provisions do not apply to CoAP.",
  obligations = { "PSTI-1", "EN-5.1-1" },
  applies = { interface = "coap", state = "initialised" },
  category = "safe",
  parameters = { login_patterns = { "login", "logon", "auth", "passw", "user", "account",
    "credential", "session", "signin", "sign%-in" } },
  probe = function(dut, t)
    local psk = bench_psk(dut)
    local links = {}
    local n, nwhy = t.coap.discover(dut.coap)
    collect(links, n)
    local out = { nosec = n and n.code or nwhy, links = links, psk = psk ~= nil }
    if psk then
      local d, dwhy = t.coap.discover(dut.coap, { psk = psk })
      collect(links, d)
      out.dtls = d and d.code or dwhy
    end
    return out
  end,
  judge = function(obs, dossier, params)
    if obs.nosec ~= "2.05" and obs.dtls ~= "2.05" then
      return INCONCLUSIVE("/.well-known/core could not be read (NoSec: %s%s): a login resource "
        .. "cannot be ruled out", tostring(obs.nosec), obs.dtls and ("; DTLS: " .. obs.dtls) or "")
    end
    local hits, names, seen = {}, {}, {}
    for _, l in ipairs(obs.links) do
      if not seen[l.target] then
        seen[l.target] = true
        names[#names + 1] = l.target
      end
      local lower = l.text:lower()
      for _, p in ipairs(params.login_patterns) do
        if lower:find(p) and not hits[l.target] then
          hits[l.target] = true
          hits[#hits + 1] = l.target
        end
      end
    end
    if #hits > 0 then
      return ASSESSOR("CoAP resources that may take a user name or password: %s; the assessor "
        .. "establishes whether they do, and with which credentials", table.concat(hits, ", "))
    end
    local access = obs.psk and "access control is by a DTLS pre-shared key, a cryptographic key"
      or "no password is asked for (the access control of CoAP is judged under EN-5.5-4)"
    return NOT_APPLICABLE("no password-based interface over CoAP: /.well-known/core lists %s and "
      .. "no login resource; %s", #names > 0 and table.concat(names, ", ") or "nothing", access)
  end,
}
