-- coap.config-write-nosec: security-relevant configuration cannot be changed
-- without authentication (EN 303 645 5.5-5). Evidence: the codes of a NoSec PUT
-- and a NoSec POST of a changed value to the IXIT's configuration resource, and
-- whether the resource read before and after each differs. The value is read
-- first (over NoSec, else over DTLS with the unit's PSK) so that anything
-- changed is written back; nothing is written when it cannot be read. The
-- configuration text itself is not stored, only whether it changed.

local function bench_psk(dut)
  local c = dut.credentials and dut.credentials.coap_psk
  if type(c) == "table" and type(c.identity) == "string" and type(c.key) == "string" then
    return { identity = c.identity, key = c.key }
  end
  return nil
end

-- Reads `path`; returns the body and the channel ("nosec" or "dtls"), or nil.
local function read(t, ep, path, psk)
  local r = t.coap.get(ep, path)
  if r and r.class == 2 then
    return r.payload, "nosec"
  end
  if psk then
    local d = t.coap.get(ep, path, { psk = psk })
    if d and d.class == 2 then
      return d.payload, "dtls"
    end
  end
  return nil
end

-- Writes `body` back with the given method, over NoSec first, else DTLS.
local function restore(t, ep, path, body, psk)
  local r = t.coap.put(ep, path, { payload = body })
  if not (r and r.class == 2) and psk then
    t.coap.put(ep, path, { payload = body, psk = psk })
  end
  local now = read(t, ep, path, psk)
  return now == body
end

local function attempt(t, ep, method, path, value, before, psk)
  local r, why = t.coap[method](ep, path, { payload = value })
  local a = { method = method:upper(), code = r and r.code or why, class = r and r.class }
  local after = read(t, ep, path, psk)
  a.readable_after = after ~= nil
  a.changed = after ~= nil and after ~= before
  if a.changed or a.class == 2 then
    a.restored = restore(t, ep, path, before, psk)
  end
  return a
end

testcase {
  id = "coap.config-write-nosec",
  version = 1,
  title = "Without encryption (CoAP NoSec), the device's configuration cannot be changed",
  description = "NoSec PUT and POST of a changed value to the configuration resource the IXIT "
    .. "declares must be refused (4.01 or 4.03) and leave the configuration as it was. Anything "
    .. "changed is written back at once.",
  obligations = { "EN-5.5-5" },
  applies = { interface = "coap", state = "initialised", ics = { "EN-5.5-5" } },
  category = "intrusive",
  parameters = { marker_line = "assay_probe=1" },
  probe = function(dut, t, params, dossier)
    local path = ((dossier.ixit or {}).coap or {}).config_resource
    if type(path) ~= "string" then
      return { resource = false }
    end
    local psk = bench_psk(dut)
    local before, channel = read(t, dut.coap, path, psk)
    local out = { resource = path, read_channel = channel, attempts = {} }
    if before == nil then
      return out
    end
    local value = before .. "\n" .. params.marker_line
    for _, m in ipairs({ "put", "post" }) do
      out.attempts[#out.attempts + 1] = attempt(t, dut.coap, m, path, value, before, psk)
    end
    return out
  end,
  judge = function(obs)
    if obs.resource == false then
      return INCONCLUSIVE("the IXIT names no CoAP configuration resource (ixit.coap.config_resource)")
    end
    if not obs.read_channel then
      return INCONCLUSIVE("%s could not be read (NoSec refused, no working PSK in the bench file), "
        .. "so nothing was written: a change could neither be seen nor undone", obs.resource)
    end
    local accepted, other, refused = {}, {}, {}
    local lost = false
    for _, a in ipairs(obs.attempts) do
      local what = string.format("NoSec %s to %s answered %s", a.method, obs.resource, a.code)
      if a.class == 2 or a.changed then
        local state = a.changed and "the new configuration was applied"
          or "the configuration read afterwards was unchanged"
        local back = a.restored and "restored" or "NOT restored: restore it by hand"
        accepted[#accepted + 1] = string.format("%s and %s (%s)", what, state, back)
        lost = lost or not a.restored
      elseif a.code == "4.01" or a.code == "4.03" or a.code == "4.05" then
        refused[#refused + 1] = string.format("%s %s", a.method, a.code)
      else
        other[#other + 1] = what
      end
    end
    if #accepted > 0 then
      return FAIL("%s%s", table.concat(accepted, "; "), lost and " [ALERT: device state changed]" or "")
    end
    if #other > 0 then
      return INCONCLUSIVE("%s; the configuration is unchanged, but this is not an "
        .. "authentication refusal (4.01/4.03): resolve by hand", table.concat(other, "; "))
    end
    return PASS("NoSec %s to %s refused and the configuration (read over %s) is unchanged",
      table.concat(refused, " and "), obs.resource, obs.read_channel == "dtls" and "DTLS" or "NoSec")
  end,
}
