-- modbus.security-offered: the device offers Modbus/TCP Security (TLS, port 802
-- by default) for its Modbus communication, or the ICS justifies its absence
-- (EN-5.5-1, best-practice cryptography to communicate).
--
-- An ICS entry for EN-5.5-1 with a justification makes this NOT_APPLICABLE
-- before the probe runs. Otherwise the probe tries a TCP connection to the
-- TLS port the bench declares (tls_port), else to the IXIT's, else to 802.
-- Refused or silent is FAIL: plain Modbus/TCP is unencrypted and
-- unauthenticated. A port that accepts TCP is INCONCLUSIVE: t.modbus cannot
-- verify the TLS handshake or the certificates, which the assessor must do.

local function ixit_tls_port(dossier)
  for _, itf in ipairs((dossier.ixit or {}).interfaces or {}) do
    if itf.kind == "modbus-tcp" and itf.tls_port then
      return itf.tls_port
    end
  end
  return nil
end

testcase {
  id = "modbus.security-offered",
  version = 1,
  title = "Modbus communication can be encrypted (Modbus/TCP Security), or the manufacturer "
    .. "justifies why not",
  description = "Plain Modbus/TCP has neither encryption nor authentication. Modbus/TCP Security "
    .. "wraps it in TLS on its own port (802).",
  obligations = { "EN-5.5-1" },
  applies = { interface = "modbus-tcp", ics = { "EN-5.5-1" } },
  category = "safe",
  parameters = { default_tls_port = 802 },
  probe = function(dut, t, params, dossier)
    local itf = dut.modbus_tcp
    local port, source = itf.tls_port, "the bench file"
    if not port then
      port, source = ixit_tls_port(dossier), "the IXIT"
    end
    if not port then
      port, source = params.default_tls_port, "the standard port"
    end
    local target = { address = itf.address, port = port, unit_id = itf.unit_id }
    local conn, why = t.modbus.open(target)
    local obs = { port = port, source = source, connected = conn ~= nil, reason = why }
    if conn then
      conn:close()
    end
    return obs
  end,
  judge = function(obs)
    if obs.connected then
      return INCONCLUSIVE("TCP port %d (from %s) accepts connections; that it speaks Modbus/TCP "
        .. "Security (TLS 1.2 or later, X.509 certificates) is not verified by this test case: "
        .. "the assessor checks the handshake (e.g. openssl s_client)", obs.port, obs.source)
    end
    local word = type(obs.reason) == "string" and obs.reason:match("^[%a ]+") or ""
    if word == "out of scope" or word == "connection limit" then
      return INCONCLUSIVE("TCP port %d could not be tried: %s", obs.port, obs.reason)
    end
    return FAIL("no Modbus/TCP Security: TCP port %d (from %s) does not accept connections (%s), "
      .. "and the ICS does not justify its absence", obs.port, obs.source, tostring(obs.reason))
  end,
}
