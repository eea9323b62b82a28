-- mqtt.credentials-not-in-clear: MQTT credentials, critical security
-- parameters, are not accepted over plain TCP, where anyone on the path
-- reads them (EN 303 645 5.5-7). The probe sends a plain CONNECT (no TLS)
-- to the bench's MQTT port and to `plain_ports` (1883) of the same address:
-- first with a random credential (refused with a CONNACK: the broker checks
-- passwords in clear; accepted: it checks none, so there are no credentials
-- to protect there), then with the unit's own credential.

local function attempt(t, ep, creds)
  local r, why = t.mqtt.connect(ep, creds)
  return { answered = r ~= nil, accepted = r ~= nil and r.accepted == true,
    code = r and r.code or -1, reason = r and r.reason or why }
end

testcase {
  id = "mqtt.credentials-not-in-clear",
  version = 1,
  title = "The device's MQTT broker never asks for passwords over an unencrypted connection",
  description = "Plain-TCP CONNECTs with a random credential and with the unit's own one, on "
    .. "the bench's MQTT port and on 1883. A broker that checks passwords in clear fails.",
  obligations = { "EN-5.5-7" },
  applies = { interface = "mqtt-broker", ics = { "EN-5.5-7" } },
  category = "safe",
  parameters = { plain_ports = { 1883 } },
  probe = function(dut, t, params)
    local ep = dut.mqtt_broker
    local ports = { ep.port }
    for _, p in ipairs(params.plain_ports) do
      if p ~= ep.port then
        ports[#ports + 1] = p
      end
    end
    local c = dut.credentials and dut.credentials.mqtt
    local own = type(c) == "table" and type(c.username) == "string"
      and { username = c.username, password = c.password } or nil
    local out = { bench_port = ep.port, bench_tls = ep.tls == true, plain = {} }
    for _, port in ipairs(ports) do
      local target = { address = ep.address, port = port, tls = false }
      local rnd = t.random_credential()
      local p = { port = port, random = attempt(t, target,
        { username = rnd.username, password = rnd.password }) }
      if p.random.answered and not p.random.accepted and own then
        p.own = attempt(t, target, own)
        p.own_user = own.username
      end
      out.plain[#out.plain + 1] = p
    end
    return out
  end,
  judge = function(obs)
    local open, closed = {}, {}
    for _, p in ipairs(obs.plain) do
      if p.own and p.own.accepted then
        return FAIL("the unit's own credential (user %s) is accepted over plain MQTT on port %d "
          .. "(CONNACK 0): its password travels in clear", p.own_user, p.port)
      end
      if p.random.answered and not p.random.accepted then
        return FAIL("the broker checks passwords over plain MQTT on port %d (a random credential "
          .. "got CONNACK %d, %s): every client's credentials travel in clear", p.port,
          p.random.code, tostring(p.random.reason))
      end
      if p.random.accepted then
        open[#open + 1] = p.port
      else
        closed[#closed + 1] = string.format("%d (%s)", p.port, tostring(p.random.reason))
      end
    end
    if #open > 0 then
      return NOT_APPLICABLE("no credentials are used over plain MQTT: the broker on port %s "
        .. "accepts any CONNECT (a random credential got CONNACK 0); the finding is EN-5.5-4's",
        table.concat(open, ", "))
    end
    return PASS("no plain-TCP MQTT listener takes credentials: a plain CONNECT got no CONNACK on "
      .. "port %s", table.concat(closed, ", port "))
  end,
}
