-- selftest.mqtt-broker-only: exercises applicability (interface, state, category);
-- its probe touches nothing.
testcase {
  id = "selftest.mqtt-broker-only",
  version = 1,
  title = "Applies only to an initialised device with an MQTT broker, and is intrusive",
  obligations = { "EN-5.1-1" },
  applies = { interface = "mqtt-broker", state = "initialised" },
  category = "intrusive",
  probe = function(dut, t)
    return { broker_port = dut.mqtt_broker.port, address = dut.mqtt_broker.address }
  end,
  judge = function(obs)
    if type(obs.broker_port) ~= "number" then
      return ERROR("no broker port observed")
    end
    return ASSESSOR("broker at %s:%d: a person decides", obs.address, obs.broker_port)
  end,
}
