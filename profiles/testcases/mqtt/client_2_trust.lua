-- mqtt-client.untrusted-certificate: whether an MQTT client device checks who
-- its broker is (EN 303 645 5.5-1, best-practice cryptography: TLS without
-- verifying the server is not secure communication). The device first meets
-- the lab broker as the bench configures it (TLS with a certificate from the
-- lab CA it trusts, or plain MQTT); then a broker on the same address and
-- port presents a self-signed certificate with the same names, which a
-- careful device refuses during the handshake (TCP connections, no CONNECT).

testcase {
  id = "mqtt-client.untrusted-certificate",
  version = 1,
  title = "The device refuses a broker whose certificate it has no reason to trust",
  description = "Connects the device to the lab broker with a trusted certificate, then "
    .. "offers it one that no CA it was given has signed: a CONNECT to the impostor is FAIL, "
    .. "as is a device that speaks plain MQTT only.",
  obligations = { "EN-5.5-1" },
  applies = { interface = "mqtt-client", ics = { "EN-5.5-1" } },
  category = "safe",
  parameters = { connect_ms = 45000, untrusted_ms = 5000 },
  probe = function(dut, t, params)
    local b, why = t.labbroker.start(dut.mqtt_client)
    if not b then
      return { started = false, why = why }
    end
    local r = b:collect({ ms = params.connect_ms, connects = 1 })
    b:stop()
    local obs = { started = true, tls = r.tls, connected = #r.connects > 0,
      waited_ms = r.elapsed_ms, tcp_connections = r.tcp_connections }
    if r.tls == "plain" or not obs.connected then
      return obs
    end
    local u, uwhy = t.labbroker.start(dut.mqtt_client, { tls = "untrusted" })
    if not u then
      obs.untrusted_error = uwhy
      return obs
    end
    local ur = u:collect({ ms = params.untrusted_ms, connects = 1 })
    u:stop()
    obs.untrusted = { tcp_connections = ur.tcp_connections, connects = #ur.connects,
      client_id = ur.connects[1] and ur.connects[1].client_id,
      password_present = ur.connects[1] and ur.connects[1].password_present,
      window_ms = ur.elapsed_ms }
    return obs
  end,
  judge = function(obs)
    if not obs.started then
      return INCONCLUSIVE("the lab broker could not start (%s)", tostring(obs.why))
    end
    if not obs.connected then
      return INCONCLUSIVE("the device did not connect to the lab broker (%s) within %d ms: its "
        .. "use of TLS cannot be observed", obs.tls, obs.waited_ms)
    end
    if obs.tls == "plain" then
      return FAIL("the device connects to its service over plain MQTT: no TLS, nothing "
        .. "authenticates the broker or protects the traffic")
    end
    if obs.untrusted_error then
      return INCONCLUSIVE("the broker with the untrusted certificate could not start: %s",
        obs.untrusted_error)
    end
    local u = obs.untrusted
    if u.connects > 0 then
      return FAIL("the device accepted a self-signed broker certificate from no CA it was given, "
        .. "and sent its CONNECT (client id %s%s) to that broker", tostring(u.client_id),
        u.password_present and ", with its password" or "")
    end
    if u.tcp_connections == 0 then
      return INCONCLUSIVE("the device made no attempt on the broker with the untrusted "
        .. "certificate within %d ms: a longer untrusted_ms would tell", u.window_ms)
    end
    return PASS("the device connects over TLS with the lab CA's certificate, and refused a "
      .. "self-signed certificate for the same address: %d TLS connections in %d ms, no CONNECT",
      u.tcp_connections, u.window_ms)
  end,
}
