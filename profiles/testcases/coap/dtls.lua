-- coap.dtls-offered: CoAP over DTLS is offered (EN 303 645 5.5-1, "best-practice
-- cryptography to communicate"). Evidence: a DTLS handshake with the unit's own
-- pre-installed PSK on the DTLS port the bench declares, or, when none is
-- declared, on the standard port 5684; and a CoAP ping over NoSec to tell a
-- device that offers no DTLS from one that is down.

-- The unit's PSK from the bench file's credentials, or nil.
local function bench_psk(dut)
  local c = dut.credentials and dut.credentials.coap_psk
  if type(c) == "table" and type(c.identity) == "string" and type(c.key) == "string" then
    return { identity = c.identity, key = c.key }
  end
  return nil
end

testcase {
  id = "coap.dtls-offered",
  version = 1,
  title = "The device offers CoAP over DTLS (encrypted and authenticated)",
  description = "A DTLS handshake is attempted on the DTLS port with the unit's pre-installed PSK. "
    .. "A device that offers only NoSec (plain UDP) CoAP fails.",
  obligations = { "EN-5.5-1" },
  applies = { interface = "coap", ics = { "EN-5.5-1" } },
  category = "safe",
  parameters = { standard_dtls_port = 5684, minimum_version = "DTLSv1.2" },
  probe = function(dut, t, params)
    local declared = dut.coap.dtls_port ~= nil
    local port = dut.coap.dtls_port or params.standard_dtls_port
    local ep = { address = dut.coap.address, port = dut.coap.port, dtls_port = port }
    local psk = bench_psk(dut)
    local key = psk or { identity = "assay-probe", key = t.random_credential().password }
    local r, why = t.coap.dtls_probe(ep, key)
    local alive = t.coap.alive(dut.coap)
    return {
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
      local v = obs.version or "?"
      local ok = { ["DTLSv1.2"] = true, ["DTLSv1.3"] = true }
      if params.minimum_version == "DTLSv1.3" then
        ok["DTLSv1.2"] = nil
      end
      if not ok[v] then
        return FAIL("DTLS handshake on %s negotiated %s, older than %s", where, v,
          params.minimum_version)
      end
      return PASS("DTLS (PSK) is offered on %s: the unit's pre-installed PSK completed a %s "
        .. "handshake, cipher %s", where, v, obs.cipher or "?")
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
