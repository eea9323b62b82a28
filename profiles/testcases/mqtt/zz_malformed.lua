-- mqtt.malformed-packets: the broker validates its input (EN 303 645 5.13-1).
-- After an accepted CONNECT (the unit's own credential, else anonymous) the
-- probe sends one malformed packet per connection: a remaining length with
-- five continuation bytes, a topic with invalid UTF-8, PUBLISH to topics
-- holding the wildcards + and # (forbidden in topic names), and a
-- well-formed but large PUBLISH. A rejection is a closed or reset connection
-- or silence; a PUBACK to a malformed PUBLISH is acceptance. After each one
-- the probe checks liveness (CONNECT, PINGREQ, PINGRESP): dead or hung
-- afterwards fails. This file's name makes it run after the other MQTT test
-- cases, so that a unit that dies does not spoil them.
--
-- On a TLS port the same packets go inside a TLS session (the raw path
-- speaks TLS too, with a deadline on the handshake and every read and
-- write), and liveness is checked over TLS as well.

local MALFORMED = { "bad-length", "bad-utf8-topic", "wildcard-plus", "wildcard-hash" }

testcase {
  id = "mqtt.malformed-packets",
  version = 2,
  title = "The device's MQTT broker rejects malformed packets and keeps working",
  description = "Sends malformed MQTT packets (bad remaining length, invalid UTF-8 topic, "
    .. "wildcards in a topic name) and one large PUBLISH, each on its own connection, and checks "
    .. "after each that the broker still answers PINGREQ.",
  obligations = { "EN-5.13-1" },
  applies = { interface = "mqtt-broker", ics = { "EN-5.13-1" } },
  category = "intrusive",
  parameters = { oversize = 262144 },
  probe = function(dut, t, params)
    local ep = dut.mqtt_broker
    local out = { port = ep.port, tls = ep.tls == true, sent = {} }
    local c = dut.credentials and dut.credentials.mqtt
    local creds = type(c) == "table" and type(c.username) == "string"
      and { username = c.username, password = c.password } or nil
    out.as = creds and ("user " .. creds.username) or "anonymous"
    local before = t.mqtt.alive(ep, creds)
    out.alive_before = before and before.pingresp == true
    local kinds = { table.unpack(MALFORMED) }
    kinds[#kinds + 1] = "oversize"
    for _, kind in ipairs(kinds) do
      local opts = { oversize = kind == "oversize" and params.oversize or nil }
      if creds then
        opts.username, opts.password = creds.username, creds.password
      end
      local r, why = t.mqtt.raw(ep, kind, opts)
      local a, awhy = t.mqtt.alive(ep, creds)
      out.sent[#out.sent + 1] = {
        kind = kind,
        malformed = kind ~= "oversize",
        outcome = r and r.outcome or why,
        connack = r and r.connack or -1,
        reply = r and r.reply and r.reply.type or nil,
        reply_ms = r and r.reply_ms or -1,
        alive = a ~= nil and a.pingresp == true,
        alive_outcome = a and a.outcome or awhy,
      }
    end
    return out
  end,
  judge = function(obs)
    if not obs.alive_before then
      return INCONCLUSIVE("the broker did not accept %s before any malformed input: check the "
        .. "device and the bench credential", tostring(obs.as))
    end
    local lines = {}
    for _, s in ipairs(obs.sent) do
      if s.outcome == "not accepted" then
        return INCONCLUSIVE("the CONNECT before the %s packet got CONNACK %d as %s: it was not "
          .. "sent", s.kind, s.connack, obs.as)
      end
      if not s.alive then
        return FAIL("after the %s packet (%s) the broker no longer answers: liveness check %s",
          s.kind, tostring(s.outcome), tostring(s.alive_outcome))
      end
      if s.malformed and s.reply == "PUBACK" then
        return FAIL("the broker acknowledged the malformed %s PUBLISH with a PUBACK", s.kind)
      end
      lines[#lines + 1] = string.format("%s: %s%s", s.kind, tostring(s.outcome),
        s.reply and (" " .. s.reply) or "")
    end
    if obs.tls then
      return PASS("over TLS (port %s), malformed packets sent inside the TLS session were "
        .. "rejected and the broker answered PINGREQ after each (%s)", tostring(obs.port),
        table.concat(lines, ", "))
    end
    return PASS("malformed packets were rejected and the broker answered PINGREQ after each (%s)",
      table.concat(lines, ", "))
  end,
}
