-- coap.psk-unique: every unit of a model has its own pre-installed DTLS PSK
-- (EN 303 645 5.4-4; a key, so not PSTI 1). Each unit's probe checks that the
-- PSK the bench file records for it completes a DTLS handshake with that unit,
-- whether the key is one of the unit's identifiers (serial, MAC or model
-- forms), and records a fingerprint: the first 64 bits of
-- SHA-256("assay-psk-fingerprint:" .. key). The key itself is never stored.
-- The model judge compares the fingerprints of the units.
local credentials = require("credentials")

-- SHA-256 (FIPS 180-4) over a byte string, as 64 lowercase hex digits.
local K = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

local M32 = 0xffffffff

local function rotr(x, n)
  return ((x >> n) | (x << (32 - n))) & M32
end

local function sha256(msg)
  local h = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
    0x5be0cd19 }
  local len = #msg
  msg = msg .. "\128" .. string.rep("\0", (55 - len) % 64) .. string.pack(">I8", len * 8)
  local w = {}
  for chunk = 1, #msg, 64 do
    for i = 1, 16 do
      w[i] = string.unpack(">I4", msg, chunk + (i - 1) * 4)
    end
    for i = 17, 64 do
      local a, b = w[i - 15], w[i - 2]
      local s0 = rotr(a, 7) ~ rotr(a, 18) ~ (a >> 3)
      local s1 = rotr(b, 17) ~ rotr(b, 19) ~ (b >> 10)
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) & M32
    end
    local a, b, c, d, e, f, g, hh = table.unpack(h)
    for i = 1, 64 do
      local s1 = rotr(e, 6) ~ rotr(e, 11) ~ rotr(e, 25)
      local ch = (e & f) ~ (~e & g)
      local t1 = (hh + s1 + ch + K[i] + w[i]) & M32
      local s0 = rotr(a, 2) ~ rotr(a, 13) ~ rotr(a, 22)
      local maj = (a & b) ~ (a & c) ~ (b & c)
      local t2 = (s0 + maj) & M32
      hh, g, f, e, d, c, b, a = g, f, e, (d + t1) & M32, c, b, a, (t1 + t2) & M32
    end
    local v = { a, b, c, d, e, f, g, hh }
    for i = 1, 8 do
      h[i] = (h[i] + v[i]) & M32
    end
  end
  local out = {}
  for i = 1, 8 do
    out[i] = string.format("%08x", h[i])
  end
  return table.concat(out)
end

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
      fingerprint = sha256("assay-psk-fingerprint:" .. c.key):sub(1, 16),
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
