-- mqtt.anonymous-refused: the device's broker gives network access to its
-- functions only after authentication (EN 303 645 5.5-4). Evidence: the
-- CONNACK code of a CONNECT without user name and password, and of a CONNECT
-- with a random credential no device can know (a broker that accepts that
-- checks no password at all).

local function attempt(t, ep, creds)
  local r, why = t.mqtt.connect(ep, creds)
  return {
    answered = r ~= nil,
    accepted = r ~= nil and r.accepted == true,
    code = r and r.code or -1,
    reason = r and r.reason or why,
    elapsed_ms = r and r.elapsed_ms or -1,
  }
end

testcase {
  id = "mqtt.anonymous-refused",
  version = 1,
  title = "The device's MQTT broker refuses clients that give no password or a wrong one",
  description = "Connects once without a user name and once with a random user name and "
    .. "password. Either accepted (CONNACK 0) fails: anyone on the network can use the broker.",
  obligations = { "EN-5.5-4" },
  applies = { interface = "mqtt-broker", state = "initialised", ics = { "EN-5.5-4" } },
  category = "safe",
  probe = function(dut, t)
    local ep = dut.mqtt_broker
    local rnd = t.random_credential()
    return {
      port = ep.port,
      tls = ep.tls == true,
      anonymous = attempt(t, ep, nil),
      random = attempt(t, ep, { username = rnd.username, password = rnd.password }),
      random_user = rnd.username,
    }
  end,
  judge = function(obs)
    local a, r = obs.anonymous, obs.random
    local where = string.format("port %s%s", tostring(obs.port), obs.tls and " (TLS)" or "")
    if a.accepted then
      return FAIL("a CONNECT without user name or password was accepted (CONNACK 0) on %s: "
        .. "anyone on the network can publish and subscribe", where)
    end
    if r.accepted then
      return FAIL("a CONNECT with a random credential (user %s) was accepted (CONNACK 0) on %s: "
        .. "the broker checks no password", obs.random_user, where)
    end
    if not a.answered or not r.answered then
      return INCONCLUSIVE("the broker did not answer every CONNECT on %s (anonymous: %s; random "
        .. "credential: %s): check that the device is up and the bench port is right", where,
        tostring(a.reason), tostring(r.reason))
    end
    return PASS("on %s a CONNECT without credentials got CONNACK %d (%s) and one with a random "
      .. "credential got CONNACK %d (%s)", where, a.code, tostring(a.reason), r.code,
      tostring(r.reason))
  end,
}
