-- coap.dtls-offered: CoAP over DTLS is offered (EN 303 645 5.5-1, "best-practice
-- cryptography to communicate"). Evidence: a DTLS handshake with the unit's own
-- pre-installed PSK on the DTLS port the bench declares, or, when none is
-- declared, on the standard port 5684; when the PSK handshake is rejected, a
-- handshake with certificates (the bench's coap_cert client certificate if
-- any, the server's certificate verified against the interface's `ca` if
-- given); and a CoAP ping over NoSec to tell a device that offers no DTLS
-- from one that is down.

-- The unit's PSK from the bench file's credentials, or nil.
local function bench_psk(dut)
  local c = dut.credentials and dut.credentials.coap_psk
  if type(c) == "table" and type(c.identity) == "string" and type(c.key) == "string" then
    return { identity = c.identity, key = c.key }
  end
  return nil
end

-- The unit's client certificate and key from the bench file's credentials, or nil.
local function bench_cert(dut)
  local c = dut.credentials and dut.credentials.coap_cert
  if type(c) == "table" and type(c.certificate) == "string" and type(c.private_key) == "string" then
    return c.certificate, c.private_key
  end
  return nil
end

-- A DTLS handshake with certificates, as plain observations.
local function probe_pki(t, ep, dut)
  local cert, key = bench_cert(dut)
  local ca = type(dut.coap.ca) == "string" and dut.coap.ca or nil
  local r, why = t.coap.dtls_probe(ep, { pki = { ca = ca, cert = cert, key = key } })
  if not r then
    return { error = why }
  end
  return {
    state = r.state, version = r.version, cipher = r.cipher, client_cert = r.client_cert,
    server_cert = r.server_cert, ca_checked = r.ca_checked, verified = r.verified,
    verify_error = r.verify_error, name_matches = r.name_matches,
  }
end

-- nil when `v` is an acceptable DTLS version, else why not.
local function old_version(v, params)
  local ok = { ["DTLSv1.2"] = true, ["DTLSv1.3"] = true }
  if params.minimum_version == "DTLSv1.3" then
    ok["DTLSv1.2"] = nil
  end
  if not ok[v or "?"] then
    return string.format("negotiated %s, older than %s", v or "?", params.minimum_version)
  end
  return nil
end

local function cert_text(c)
  return string.format("%s, issued by %s, %s %d-bit key, valid %s to %s", c.subject or "?",
    c.issuer or "?", c.key_type or "?", c.key_bits or 0, c.not_before or "?", c.not_after or "?")
end

-- The verdict for a certificate handshake, or nil when it says nothing.
local function judge_pki(p, where, params)
  local c = p.server_cert
  if p.state == "established" then
    local old = old_version(p.version, params)
    if old then
      return FAIL("DTLS handshake with certificates on %s %s", where, old)
    end
    local min = ({ RSA = params.minimum_rsa_bits, EC = params.minimum_ec_bits })[c and c.key_type]
    if c and min and (c.key_bits or 0) < min then
      return FAIL("DTLS with certificates on %s uses a %d-bit %s server key, below %d bits: %s",
        where, c.key_bits or 0, c.key_type, min, cert_text(c))
    end
    if p.ca_checked and not p.verified then
      return INCONCLUSIVE("DTLS with certificates completed on %s but the server certificate (%s) "
        .. "does not verify against the interface's CA (%s): check the CA file or the device's "
        .. "certificate", where, c and cert_text(c) or "?", p.verify_error or "?")
    end
    return PASS("DTLS with certificates is offered on %s: a %s handshake %s, cipher %s; server "
      .. "certificate %s%s", where, p.version, p.client_cert and "with the bench's client "
      .. "certificate" or "without a client certificate", p.cipher or "?",
      c and cert_text(c) or "not seen", p.ca_checked and ", verified against the interface's CA"
      or " (not verified: the bench names no CA)")
  end
  if p.state == "rejected" and c then
    return INCONCLUSIVE("DTLS with certificates answers on %s (server certificate %s) but the "
      .. "handshake did not complete %s: add or check the unit's client certificate (bench "
      .. "credential coap_cert)", where, cert_text(c), p.client_cert and
      "with the bench's client certificate" or "without a client certificate")
  end
  return nil
end

testcase {
  id = "coap.dtls-offered",
  version = 2,
  title = "The device offers CoAP over DTLS (encrypted and authenticated)",
  description = "A DTLS handshake is attempted on the DTLS port with the unit's pre-installed PSK, "
    .. "and, when that is rejected, with certificates. A device that offers only NoSec (plain "
    .. "UDP) CoAP fails.",
  obligations = { "EN-5.5-1" },
  applies = { interface = "coap", ics = { "EN-5.5-1" } },
  category = "safe",
  parameters = { standard_dtls_port = 5684, minimum_version = "DTLSv1.2", minimum_rsa_bits = 2048,
    minimum_ec_bits = 256 },
  probe = function(dut, t, params)
    local declared = dut.coap.dtls_port ~= nil
    local port = dut.coap.dtls_port or params.standard_dtls_port
    local ep = { address = dut.coap.address, port = dut.coap.port, dtls_port = port }
    local psk = bench_psk(dut)
    local key = psk or { identity = "assay-probe", key = t.random_credential().password }
    local r, why = t.coap.dtls_probe(ep, key)
    local pki = r and r.state == "rejected" and probe_pki(t, ep, dut) or nil
    local alive = t.coap.alive(dut.coap)
    return {
      pki = pki,
      dtls_port = port,
      port_declared = declared,
      own_psk = psk ~= nil,
      state = r and r.state,
      error = why,
      version = r and r.version,
      cipher = r and r.cipher,
      elapsed_ms = r and r.elapsed_ms,
      nosec_alive = alive == true,
    }
  end,
  judge = function(obs, dossier, params)
    local where = string.format("port %d%s", obs.dtls_port,
      obs.port_declared and "" or " (the standard port; the bench declares none)")
    if obs.state == "established" then
      local old = old_version(obs.version, params)
      if old then
        return FAIL("DTLS handshake on %s %s", where, old)
      end
      return PASS("DTLS (PSK) is offered on %s: the unit's pre-installed PSK completed a %s "
        .. "handshake, cipher %s", where, obs.version, obs.cipher or "?")
    end
    local by_cert = obs.state == "rejected" and obs.pki and judge_pki(obs.pki, where, params)
    if by_cert then
      return by_cert
    end
    if obs.state == "rejected" then
      if obs.own_psk then
        return INCONCLUSIVE("DTLS answers on %s but the bench's coap_psk for this unit did not "
          .. "complete the handshake: check the identity and key in the bench file", where)
      end
      return INCONCLUSIVE("DTLS answers on %s but the bench file has no coap_psk for this unit, "
        .. "so the handshake could not complete: add the unit's pre-installed PSK", where)
    end
    if obs.state == "unreachable" or obs.state == "silent" then
      if not obs.nosec_alive then
        return INCONCLUSIVE("nothing answered DTLS on %s (%s) and the device does not answer a "
          .. "NoSec CoAP ping either: is it up?", where, obs.state)
      end
      return FAIL("no DTLS is offered: a DTLS handshake on %s was %s while NoSec CoAP answers; "
        .. "CoAP is NoSec only", where, obs.state == "silent" and "not answered" or
        "refused (ICMP port unreachable)")
    end
    return INCONCLUSIVE("the DTLS probe on %s did not run: %s", where, tostring(obs.error))
  end,
}
