-- coap.psk-unique: every unit of a model has its own pre-installed DTLS PSK
-- (EN 303 645 5.4-4; a key, so not PSTI 1). Each unit's probe checks that the
-- PSK the bench file records for it completes a DTLS handshake with that unit,
-- whether the key is one of the unit's identifiers (serial, MAC or model
-- forms), and records a fingerprint: the first 64 bits of
-- SHA-256("assay-psk-fingerprint:" .. key). The key itself is never stored.
-- The model judge compares the fingerprints of the units.
local credentials = require("credentials")

-- Which identifier of the unit the key equals (case-insensitively), or nil.
local function derived_from(dut, key)
  local k = key:lower()
  for _, c in ipairs(credentials.derived(dut)) do
    if c.password:lower() == k then
      return c.source
    end
  end
  if type(dut.credentials.coap_psk.identity) == "string"
    and dut.credentials.coap_psk.identity:lower() == k then
    return "PSK identity"
  end
  return nil
end

testcase {
  id = "coap.psk-unique",
  version = 1,
  title = "Each unit has its own pre-installed DTLS key (no key shared across units of a model)",
  description = "Compares fingerprints of the pre-installed CoAP DTLS PSKs of all units of a "
    .. "model on the bench, each checked by a handshake. Needs at least two units.",
  obligations = { "EN-5.4-4" },
  applies = { interface = "coap", ics = { "EN-5.4-4" } },
  category = "safe",
  scope = "model",
  parameters = { standard_dtls_port = 5684 },
  probe = function(dut, t, params)
    local c = dut.credentials and dut.credentials.coap_psk
    if type(c) ~= "table" or type(c.key) ~= "string" then
      -- no key recorded: find out whether the unit offers DTLS at all
      local ep = { address = dut.coap.address, port = dut.coap.port,
        dtls_port = dut.coap.dtls_port or params.standard_dtls_port }
      local r = t.coap.dtls_probe(ep, { identity = "assay-probe", key = t.random_credential().password })
      return { has_psk = false, dtls_state = r and r.state, dtls_port = ep.dtls_port }
    end
    local r, why = t.coap.dtls_probe(dut.coap, { identity = c.identity, key = c.key })
    return {
      has_psk = true,
      origin = c.origin,
      identity = c.identity,
      key_bytes = #c.key,
      fingerprint = t.sha256("assay-psk-fingerprint:" .. c.key):sub(1, 16),
      derived_from = derived_from(dut, c.key),
      works = r ~= nil and r.established == true,
      dtls_state = r and r.state or why,
    }
  end,
  judge = function(units)
    local model = units[1] and units[1].device.model or "?"
    local pre, user, nokey = {}, {}, {}
    for _, u in ipairs(units) do
      local o = u.observations
      if not o.has_psk then
        nokey[#nokey + 1] = u
      elseif o.origin == "preinstalled" then
        pre[#pre + 1] = u
      else
        user[#user + 1] = u
      end
    end
    if #pre == 0 and #user == 0 then
      for _, u in ipairs(nokey) do
        local s = u.observations.dtls_state
        if s ~= "unreachable" and s ~= "silent" then
          return INCONCLUSIVE("%s answers DTLS on port %s (%s) but the bench file records no "
            .. "coap_psk for it: add each unit's pre-installed PSK", u.device.id,
            tostring(u.observations.dtls_port), tostring(s))
        end
      end
      return NOT_APPLICABLE("no unit of %s offers DTLS (handshakes %s), so there is no CoAP key "
        .. "to compare", model, nokey[1] and nokey[1].observations.dtls_state or "-")
    end
    if #pre == 0 then
      return NOT_APPLICABLE("the CoAP PSKs of %s were defined by the user or lab (origin %s), "
        .. "not pre-installed", model, tostring(user[1].observations.origin))
    end
    -- only keys that completed a handshake are compared: the bench file could be wrong
    local by_fp, broken = {}, {}
    for _, u in ipairs(pre) do
      local o = u.observations
      if not o.works then
        broken[#broken + 1] = string.format("%s (%s)", u.device.id, tostring(o.dtls_state))
      elseif o.derived_from then
        return FAIL("the pre-installed PSK of %s is its %s (verified by a DTLS handshake)",
          u.device.id, o.derived_from)
      elseif by_fp[o.fingerprint] then
        return FAIL("units %s and %s of %s share one pre-installed PSK (fingerprint %s; it "
          .. "completed a DTLS handshake with both)", by_fp[o.fingerprint].device.id, u.device.id,
          model, o.fingerprint)
      else
        by_fp[o.fingerprint] = u
      end
    end
    if #broken > 0 then
      return INCONCLUSIVE("the PSK the bench file records did not complete a DTLS handshake "
        .. "with %s: correct the bench file", table.concat(broken, ", "))
    end
    if #pre < 2 then
      return INCONCLUSIVE("one unit of %s with a pre-installed PSK on the bench (%s); uniqueness "
        .. "needs two", model, pre[1].device.id)
    end
    local ids = {}
    for _, u in ipairs(pre) do
      ids[#ids + 1] = string.format("%s %s", u.device.id, u.observations.fingerprint)
    end
    return PASS("the pre-installed PSKs of the %d %s units differ, each verified by a DTLS "
      .. "handshake (fingerprints: %s)", #pre, model, table.concat(ids, ", "))
  end,
}
