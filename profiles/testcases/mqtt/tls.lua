-- mqtt.tls-offered: the broker protects MQTT with TLS, with current
-- versions and no weak cipher suites (EN 303 645 5.5-1). Evidence: one TLS
-- handshake per version (TLS 1.0 to 1.3, at OpenSSL security level 0 so old
-- versions are really offered) on the bench's MQTT port, and on
-- `tls_ports` (8883) of the same address when the bench's port is plain;
-- the negotiated cipher per version and the certificate chain. A
-- self-signed certificate on a LAN broker is not by itself a failure.

local function weak_cipher(name, patterns)
  local n = (name or ""):upper()
  for _, p in ipairs(patterns) do
    if n:find(p, 1, true) then
      return p
    end
  end
  return nil
end

testcase {
  id = "mqtt.tls-offered",
  version = 1,
  title = "The device's MQTT broker encrypts connections with current TLS",
  description = "Handshakes with TLS 1.0, 1.1, 1.2 and 1.3 on the MQTT port (and 8883 when the "
    .. "port is plain). No TLS, TLS 1.0 or 1.1 accepted, a weak cipher suite, or a weak "
    .. "certificate key or signature fails.",
  obligations = { "EN-5.5-1" },
  applies = { interface = "mqtt-broker", ics = { "EN-5.5-1" } },
  category = "safe",
  parameters = {
    tls_ports = { 8883 },
    weak_ciphers = { "NULL", "EXP", "RC4", "DES", "MD5", "ANON", "ADH", "AECDH", "IDEA", "SEED" },
    min_rsa_bits = 2048,
    min_ec_bits = 256,
  },
  probe = function(dut, t, params)
    local ep = dut.mqtt_broker
    local targets = { { address = ep.address, port = ep.port, declared = true, ca = ep.ca } }
    if not ep.tls then
      for _, p in ipairs(params.tls_ports) do
        if p ~= ep.port then
          targets[#targets + 1] = { address = ep.address, port = p, declared = false }
        end
      end
    end
    local out = { declared_tls = ep.tls == true, probes = {} }
    for _, tg in ipairs(targets) do
      local r, why = t.mqtt.tls_probe({ address = tg.address, port = tg.port, tls = true },
        tg.ca and { ca = tg.ca } or nil)
      local p = { port = tg.port, declared = tg.declared, error = why }
      if r then
        p.accepted = r.accepted
        p.versions = {}
        for name, v in pairs(r.versions) do
          p.versions[#p.versions + 1] = { version = name, accepted = v.accepted == true,
            cipher = v.cipher, reason = v.reason }
        end
        table.sort(p.versions, function(a, b) return a.version < b.version end)
        local leaf = r.chain and r.chain[1]
        if leaf then
          p.leaf = { subject = leaf.subject, issuer = leaf.issuer, key_type = leaf.key_type,
            key_bits = leaf.key_bits, sig_alg = leaf.sig_alg, self_signed = leaf.self_signed,
            not_after = leaf.not_after }
        end
        p.verified = r.verified
        p.verify_error = r.verify_error
      end
      out.probes[#out.probes + 1] = p
    end
    return out
  end,
  judge = function(obs, _, params)
    local with_tls, none = {}, {}
    for _, p in ipairs(obs.probes) do
      if p.accepted and #p.accepted > 0 then
        with_tls[#with_tls + 1] = p
      else
        local why = p.error
        for _, v in ipairs(p.versions or {}) do
          why = why or v.reason
        end
        none[#none + 1] = string.format("port %d%s: %s", p.port, p.declared and " (bench)" or "",
          tostring(why or "no version accepted"))
      end
    end
    if #with_tls == 0 then
      return FAIL("no TLS offered for MQTT: %s; credentials and commands travel in clear",
        table.concat(none, "; "))
    end
    local good, bad = {}, {}
    for _, p in ipairs(with_tls) do
      for _, v in ipairs(p.versions) do
        if v.accepted then
          if v.version == "TLSv1.0" or v.version == "TLSv1.1" then
            bad[#bad + 1] = string.format("%s accepted on port %d (%s)", v.version, p.port,
              tostring(v.cipher))
          elseif weak_cipher(v.cipher, params.weak_ciphers) then
            bad[#bad + 1] = string.format("weak cipher suite %s with %s on port %d", v.cipher,
              v.version, p.port)
          else
            good[#good + 1] = string.format("%s (%s)", v.version, tostring(v.cipher))
          end
        end
      end
      local leaf = p.leaf
      if leaf then
        local kt = tostring(leaf.key_type):upper()
        local min = kt:find("RSA") and params.min_rsa_bits or kt:find("EC") and params.min_ec_bits
        if min and (leaf.key_bits or 0) < min then
          bad[#bad + 1] = string.format("certificate key %s %d bits (< %d)", kt, leaf.key_bits, min)
        end
        local sig = tostring(leaf.sig_alg):lower()
        if sig:find("md5") or sig:find("sha1") then
          bad[#bad + 1] = "certificate signed with " .. leaf.sig_alg
        end
      end
    end
    if #bad > 0 then
      return FAIL("TLS is offered but not to best practice: %s", table.concat(bad, "; "))
    end
    local p = with_tls[1]
    local leaf = p.leaf or {}
    return PASS("TLS on port %d accepts only %s; TLS 1.0 and 1.1 are refused; certificate %s %s "
      .. "bits, %s%s%s", p.port, table.concat(good, ", "), tostring(leaf.key_type),
      tostring(leaf.key_bits), tostring(leaf.sig_alg),
      leaf.self_signed and ", self-signed (not by itself a failure on a LAN broker)" or "",
      p.verified and ", verified against the bench's CA" or "")
  end,
}
