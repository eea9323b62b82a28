-- mqtt.factory-default-function: flags a unit that the bench file records in
-- the factory-default state but that already runs its full function (it
-- publishes its telemetry or state), where PSTI 1 and EN 303 645 5.1-1 do
-- not apply; the lab should initialise it and test the initialised state.
-- Informative (INFO-FACTORY-DEFAULT), not a legal obligation. Evidence: the
-- messages a subscription to `#` receives within `listen_ms`, with the
-- unit's own credential or, without one, anonymously.

testcase {
  id = "mqtt.factory-default-function",
  version = 1,
  title = "A device still in its factory settings is not already running its full function",
  description = "For a unit recorded in the factory-default state: subscribes to # and looks "
    .. "for the telemetry or state the IXIT names. Running: the lab must initialise it.",
  obligations = { "INFO-FACTORY-DEFAULT" },
  applies = { interface = "mqtt-broker" },
  category = "safe",
  parameters = { listen_ms = 2000 },
  probe = function(dut, t, params, dossier)
    local out = { state = dut.state }
    if dut.state ~= "factory-default" then
      return out
    end
    local c = dut.credentials and dut.credentials.mqtt
    local creds = type(c) == "table" and type(c.username) == "string"
      and { username = c.username, password = c.password } or nil
    out.as = creds and ("user " .. creds.username) or "anonymous"
    local s, why = t.mqtt.session(dut.mqtt_broker, creds)
    if not s then
      out.session = why
      return out
    end
    local r, rwhy = s:subscribe("#", { ms = params.listen_ms, max_messages = 50 })
    s:close()
    out.topics = {}
    local seen = {}
    for _, m in ipairs(r and r.messages or {}) do
      if not seen[m.topic] then
        seen[m.topic] = true
        out.topics[#out.topics + 1] = m.topic
      end
    end
    out.subscribe = r and r.code or rwhy
    local mq = (dossier.ixit or {}).mqtt or {}
    out.state_topic = type(mq.state_topic) == "string"
      and (mq.state_topic:gsub("{serial}", dut.serial or "")) or nil
    return out
  end,
  judge = function(obs, _, params)
    if obs.state ~= "factory-default" then
      return NOT_APPLICABLE("the bench file records the unit in the %s state, not factory-default",
        tostring(obs.state))
    end
    if not obs.topics then
      return INCONCLUSIVE("the unit is recorded in the factory-default state and no subscription "
        .. "was possible as %s (%s): initialise it and test the initialised state", obs.as,
        tostring(obs.session))
    end
    if #obs.topics == 0 then
      return NOT_APPLICABLE("the unit is in the factory-default state and published nothing on "
        .. "# within %d ms: it does not run its function yet", params.listen_ms)
    end
    return INCONCLUSIVE("the unit is recorded in the factory-default state but already runs its "
      .. "function: it publishes %s%s; initialise it and test the initialised state (PSTI-1 and "
      .. "EN-5.1-1 apply only there)", table.concat(obs.topics, ", ", 1, math.min(#obs.topics, 6)),
      obs.state_topic and string.format(" (state topic %s)", obs.state_topic) or "")
  end,
}
