-- One exchange per protocol, and one raw message the transcript records byte for byte.
testcase {
  id = "capture.modbus", version = 1, title = "Modbus read and a raw frame",
  obligations = { "EN-5.13-1" }, applies = { interface = "modbus-tcp" }, category = "safe",
  probe = function(dut, t)
    local c <close>, why = t.modbus.open(dut.modbus_tcp)
    if not c then return { error = why } end
    local regs = c:read("input", 0, 1)
    -- FC 03, unit 1, address 0, count 1, in a well-formed MBAP frame
    local r = c:raw("\x12\x34\x00\x00\x00\x06\x01\x03\x00\x00\x00\x01")
    return { read = regs ~= nil, raw = r and r.outcome }
  end,
  judge = function(obs) return PASS("read %s, raw %s", tostring(obs.read), tostring(obs.raw)) end,
}

testcase {
  id = "capture.coap", version = 1, title = "CoAP discovery and a raw ping",
  obligations = { "EN-5.13-1" }, applies = { interface = "coap" }, category = "safe",
  probe = function(dut, t)
    local d = t.coap.discover(dut.coap)
    local r = t.coap.raw(dut.coap, { preset = "ping" })
    return { links = d and #(d.links or {}) or 0, replies = r and #r.replies or 0 }
  end,
  judge = function(obs) return PASS("%d links, %d replies", obs.links, obs.replies) end,
}

testcase {
  id = "capture.mqtt", version = 1, title = "MQTT connect and a raw PINGREQ",
  obligations = { "EN-5.13-1" }, applies = { interface = "mqtt-broker" }, category = "safe",
  probe = function(dut, t)
    local c = dut.credentials and dut.credentials.mqtt or {}
    local r = t.mqtt.connect(dut.mqtt_broker, { username = c.username, password = c.password })
    local p = t.mqtt.raw(dut.mqtt_broker, "ping", { username = c.username, password = c.password })
    return { accepted = r and r.accepted, ping = p and p.outcome }
  end,
  judge = function(obs) return PASS("accepted %s, ping %s", tostring(obs.accepted), tostring(obs.ping)) end,
}
