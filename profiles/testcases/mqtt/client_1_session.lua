-- mqtt-client.*: what an MQTT client device sends to the lab's own broker
-- (t.labbroker). The device is configured to connect to the bench's broker
-- address and port; each test case starts the lab broker there (TLS with a
-- certificate from the lab CA the device trusts when the bench interface says
-- tls, else plain MQTT), waits for the device's CONNECT, observes, and stops
-- the broker. The device reconnects to the next test case's broker by itself.
--
-- The first test case (mqtt-client.recovers) waits longest: a device that has
-- been retrying since the bench started may be at the end of a long back-off.
local credentials = require("credentials")

-- Starts the lab broker and waits for the device's first CONNECT.
-- Returns broker, record, observations-about-the-session (or nil broker and why).
local function session(t, dut, wait_ms, tls)
  local b, why = t.labbroker.start(dut.mqtt_client, tls ~= nil and { tls = tls } or nil)
  if not b then
    return nil, nil, { started = false, why = why }
  end
  local r = b:collect({ ms = wait_ms, connects = 1 })
  return b, r, { started = true, tls = r.tls, connected = #r.connects > 0,
    connect_ms = r.connects[1] and r.connects[1].time_ms or nil, waited_ms = r.elapsed_ms,
    tcp_connections = r.tcp_connections }
end

local function no_session(s, what)
  if not s.started then
    return INCONCLUSIVE("the lab broker could not start (%s): %s cannot be observed",
      tostring(s.why), what)
  end
  return INCONCLUSIVE("the device did not connect to the lab broker within %d ms (%d TCP "
    .. "connections, no CONNECT): %s cannot be observed; check that it is powered and pointed "
    .. "at the bench's broker address and port", s.waited_ms or 0, s.tcp_connections or 0, what)
end

testcase {
  id = "mqtt-client.recovers",
  version = 1,
  title = "The device comes back to its service by itself after the service was away",
  description = "Waits for the device to connect to the lab broker, stops the broker for a "
    .. "short outage, starts it again and measures how long the device takes to reconnect.",
  obligations = { "EN-5.9-1" },
  applies = { interface = "mqtt-client", ics = { "EN-5.9-1" } },
  category = "safe",
  parameters = { connect_ms = 45000, outage_ms = 2000, recover_ms = 15000, budget_ms = 52000 },
  probe = function(dut, t, params)
    local t0 = t.now_ms()
    local b, r, s = session(t, dut, params.connect_ms)
    if not b or not s.connected then
      if b then b:stop() end
      return { session = s }
    end
    b:stop()
    local window = math.min(params.recover_ms, params.budget_ms - (t.now_ms() - t0)
      - params.outage_ms)
    if window < 5000 then
      return { session = s, late = true }
    end
    t.sleep_ms(params.outage_ms)
    local b2, why = t.labbroker.start(dut.mqtt_client)
    if not b2 then
      return { session = s, restart = why }
    end
    local r2 = b2:collect({ ms = window, connects = 1 })
    b2:stop()
    return { session = s, outage_ms = params.outage_ms, window_ms = window,
      reconnected = #r2.connects > 0, reconnect_ms = r2.connects[1] and r2.connects[1].time_ms,
      tcp_connections = r2.tcp_connections }
  end,
  judge = function(obs)
    local s = obs.session
    if not s.connected then
      return no_session(s, "recovery after an outage")
    end
    if obs.late or obs.restart then
      return INCONCLUSIVE("the device connected after %d ms, too late in this test case to "
        .. "measure its recovery (%s)", s.connect_ms or 0, obs.restart or "no time left")
    end
    if obs.reconnected then
      return PASS("after the lab broker stopped for %d ms and came back, the device reconnected "
        .. "by itself %d ms later", obs.outage_ms, obs.reconnect_ms)
    end
    return INCONCLUSIVE("the device did not reconnect within %d ms after a %d ms outage (%d TCP "
      .. "connections): a longer recover_ms would tell a slow back-off from no recovery",
      obs.window_ms, obs.outage_ms, obs.tcp_connections or 0)
  end,
}

testcase {
  id = "mqtt-client.no-password-interface",
  version = 1,
  title = "The MQTT client interface takes no password from anybody",
  description = "A device that is an MQTT client connects out to its service and offers no "
    .. "login of its own: the password provisions do not apply to that interface (its own "
    .. "client credential is judged by mqtt-client.credential-unique). Checks that no MQTT "
    .. "broker answers on the device's address.",
  obligations = { "PSTI-1", "EN-5.1-1" },
  applies = { interface = "mqtt-client" },
  category = "safe",
  parameters = { ports = { 1883, 8883 } },
  probe = function(dut, t, params)
    local kinds, listening = {}, {}
    for _, i in ipairs(dut.interfaces or {}) do
      kinds[#kinds + 1] = i.kind
    end
    for _, p in ipairs(params.ports) do
      local r, why = t.mqtt.connect({ address = dut.address, port = p },
        { timeout_ms = 2000, tls = p == 8883 and { verify = false } or nil })
      if r or not tostring(why):find("^transport") and not tostring(why):find("^timeout") then
        listening[#listening + 1] = { port = p, answer = r and r.reason or why }
      end
    end
    return { kinds = kinds, listening = listening, address = dut.address }
  end,
  judge = function(obs)
    if #obs.listening > 0 then
      local l = obs.listening[1]
      return INCONCLUSIVE("an MQTT service answers on the device (%s port %d: %s) although the "
        .. "bench declares it only as an MQTT client: declare that interface so its own test "
        .. "cases run", obs.address, l.port, tostring(l.answer))
    end
    return NOT_APPLICABLE("no password-based interface over MQTT: the device is an MQTT client "
      .. "that connects out to its service and takes no login (no MQTT broker on %s, ports 1883 "
      .. "and 8883 closed); its own client credential is EN-5.4-4's", obs.address)
  end,
}

testcase {
  id = "mqtt-client.credentials-in-clear",
  version = 1,
  title = "The device does not send its login to the service unencrypted",
  description = "Records the CONNECT the device sends to the lab broker: a username and "
    .. "password over plain MQTT can be read by anyone on the network path.",
  obligations = { "EN-5.5-7" },
  applies = { interface = "mqtt-client", ics = { "EN-5.5-7" } },
  category = "safe",
  parameters = { connect_ms = 45000 },
  probe = function(dut, t, params)
    local b, r, s = session(t, dut, params.connect_ms)
    if b then b:stop() end
    local c = r and r.connects[1]
    return { session = s, client_id = c and c.client_id, username = c and c.username,
      password_present = c and c.password_present, password_bytes = c and c.password and #c.password }
  end,
  judge = function(obs)
    local s = obs.session
    if not s.connected then
      return no_session(s, "the credential the device sends")
    end
    if s.tls ~= "plain" then
      return PASS("the device sent its CONNECT (client id %s%s) only inside TLS to a broker with a "
        .. "certificate from the lab CA", obs.client_id, obs.password_present
        and ", with a password" or "")
    end
    if obs.password_present then
      return FAIL("the device sent its username %q and a %d-byte password in clear, in a plain "
        .. "MQTT CONNECT to the lab broker (client id %s)", obs.username or "", obs.password_bytes,
        obs.client_id)
    end
    return PASS("the device's plain MQTT CONNECT (client id %s) carries no password",
      obs.client_id)
  end,
}

testcase {
  id = "mqtt-client.credential-unique",
  version = 1,
  title = "Each unit logs in to its service with its own pre-installed credential",
  description = "Records the client credential each unit of a model presents to the lab "
    .. "broker, and compares them across the units on the bench (needs two units).",
  obligations = { "EN-5.4-4" },
  applies = { interface = "mqtt-client", ics = { "EN-5.4-4" } },
  category = "safe",
  scope = "model",
  parameters = { connect_ms = 45000 },
  probe = function(dut, t, params)
    local b, r, s = session(t, dut, params.connect_ms)
    if b then b:stop() end
    local c = r and r.connects[1]
    local bench = dut.credentials and dut.credentials.mqtt_client or {}
    local derived
    if c and c.password then
      for _, d in ipairs(credentials.derived(dut)) do
        if d.password:lower() == c.password:lower() then derived = d.source end
      end
    end
    return { session = s, client_id = c and c.client_id, username = c and c.username,
      password = c and c.password, origin = bench.origin, derived_from = derived }
  end,
  judge = function(units)
    local model = units[1] and units[1].device.model or "?"
    local seen, pre = {}, 0
    for _, u in ipairs(units) do
      local o = u.observations
      if not o.session.connected then
        return no_session(o.session, "the credential of " .. u.device.id)
      end
      if o.origin == "preinstalled" or o.origin == nil then
        pre = pre + 1
        if not o.password and not o.username then
          return ASSESSOR("%s presents no username or password (client id %s): its identity "
            .. "rests on something else (a client certificate?) for the assessor", u.device.id,
            o.client_id)
        end
        if o.derived_from then
          return FAIL("the client password %s presents is its %s", u.device.id, o.derived_from)
        end
        local key = (o.password or "")
        if seen[key] then
          return FAIL("units %s and %s of %s present the same pre-installed client credential "
            .. "(username %s and %s)", seen[key].device.id, u.device.id, model,
            tostring(seen[key].observations.username), tostring(o.username))
        end
        seen[key] = u
      end
    end
    if pre == 0 then
      return NOT_APPLICABLE("the client credentials of %s were defined by the user or lab, not "
        .. "pre-installed", model)
    end
    if pre < 2 then
      return INCONCLUSIVE("one unit of %s on the bench (%s); uniqueness needs two", model,
        units[1].device.id)
    end
    return PASS("the %d %s units present different pre-installed client credentials, none "
      .. "derived from their serial, MAC or model", pre, model)
  end,
}

-- Personal data in a payload: e-mail addresses and JSON keys that name a person or a place.
local function personal(payload, keys)
  local found = {}
  local mail = payload:match("[%w%.%%_%+%-]+@[%w%-]+%.[%w%.%-]+")
  if mail then found[#found + 1] = "an e-mail address" end
  for _, k in ipairs(keys) do
    if payload:lower():find('"' .. k .. '"%s*:') then found[#found + 1] = '"' .. k .. '"' end
  end
  return found
end

testcase {
  id = "mqtt-client.personal-data",
  version = 1,
  title = "Personal data the device sends to its service is kept confidential",
  description = "Records the device's messages (state and telemetry) on the lab broker and "
    .. "looks for personal data (e-mail addresses, names, locations): in clear, it is FAIL.",
  obligations = { "EN-5.8-2" },
  applies = { interface = "mqtt-client", ics = { "EN-5.8-2" } },
  category = "safe",
  parameters = { connect_ms = 45000, listen_ms = 7000, messages = 2,
    keys = { "owner", "name", "email", "e-mail", "phone", "address", "location", "lat",
      "latitude", "lon", "longitude", "gps", "birth", "dob" } },
  probe = function(dut, t, params)
    local b, r, s = session(t, dut, params.connect_ms)
    if not b or not s.connected then
      if b then b:stop() end
      return { session = s, messages = {} }
    end
    r = b:collect({ ms = params.listen_ms, messages = params.messages })
    b:stop()
    local msgs = {}
    for i, m in ipairs(r.messages) do
      if i > 20 then break end
      msgs[#msgs + 1] = { topic = m.topic, bytes = m.bytes, findings = personal(m.payload,
        params.keys) }
    end
    return { session = s, messages = msgs }
  end,
  judge = function(obs)
    local s = obs.session
    if not s.connected then
      return no_session(s, "the device's messages")
    end
    if #obs.messages == 0 then
      return INCONCLUSIVE("the device connected but published nothing while the lab broker "
        .. "listened: no message to examine")
    end
    for _, m in ipairs(obs.messages) do
      if #m.findings > 0 then
        if s.tls == "plain" then
          return FAIL("the device publishes personal data in clear over plain MQTT: %s carries "
            .. "%s (%d bytes)", m.topic, table.concat(m.findings, ", "), m.bytes)
        end
        return PASS("personal data (%s on %s) travels only inside TLS to a broker with a "
          .. "certificate from the lab CA", table.concat(m.findings, ", "), m.topic)
      end
    end
    return PASS("%d messages of the device (%s, ...) carry no personal data%s", #obs.messages,
      obs.messages[1].topic, s.tls ~= "plain" and ", over TLS" or "")
  end,
}

testcase {
  id = "mqtt-client.forged-command",
  version = 1,
  title = "The device does not obey a configuration command that nobody authenticated",
  description = "Publishes the IXIT's harmless command on the device's command topic from a "
    .. "client of the lab broker that is not the service, and watches the device's state.",
  obligations = { "EN-5.5-5" },
  applies = { interface = "mqtt-client", ics = { "EN-5.5-5" } },
  category = "intrusive",
  parameters = { connect_ms = 45000, settle_ms = 3000, watch_ms = 4000 },
  probe = function(dut, t, params, dossier)
    local m = (dossier.ixit or {}).mqtt or {}
    if not m.command_topic or not m.harmless_command then
      return { declared = false }
    end
    local topic = m.command_topic:gsub("{serial}", dut.serial or "")
    local state = (m.state_topic or ""):gsub("{serial}", dut.serial or "")
    local b, r, s = session(t, dut, params.connect_ms)
    if not b or not s.connected then
      if b then b:stop() end
      return { declared = true, session = s }
    end
    -- the device subscribes to its command topic before it publishes its state
    local function state_after(rec, from)
      for i = from + 1, #rec.messages do
        if rec.messages[i].topic == state then return rec.messages[i].payload end
      end
    end
    local t1 = t.now_ms()
    repeat
      r = b:collect({ ms = math.max(0, params.settle_ms - (t.now_ms() - t1)),
        messages = #r.messages + 1 })
    until state_after(r, 0) or t.now_ms() - t1 >= params.settle_ms
    local before = #r.messages
    local ok, why = b:publish(topic, m.harmless_command)
    local after
    t1 = t.now_ms()
    repeat
      r = b:collect({ ms = math.max(0, params.watch_ms - (t.now_ms() - t1)),
        messages = #r.messages + 1 })
      after = state_after(r, before)
    until after or t.now_ms() - t1 >= params.watch_ms
    b:stop()
    local applied = after ~= nil and after:find(m.harmless_command, 1, true) ~= nil
    return { declared = true, session = s, topic = topic, command = m.harmless_command,
      published = ok == true, publish_error = why, applied = applied, state_after = after,
      claims_authentication = m.message_authentication == true }
  end,
  judge = function(obs)
    if not obs.declared then
      return INCONCLUSIVE("the IXIT declares no MQTT command topic and harmless command: add "
        .. "ixit.mqtt.command_topic and harmless_command")
    end
    if not obs.session.connected then
      return no_session(obs.session, "the handling of a forged command")
    end
    if not obs.published then
      return ERROR("the lab broker did not take the harness's command: %s",
        tostring(obs.publish_error))
    end
    if not obs.applied then
      return PASS("a command published on %s by a client other than the service was not applied "
        .. "(no new state with %s)", obs.topic, obs.command)
    end
    if obs.claims_authentication then
      return FAIL("the IXIT claims message-level authentication, but the device applied an "
        .. "unauthenticated command on %s (state now %s)", obs.topic, tostring(obs.state_after))
    end
    if obs.session.tls == "plain" then
      return FAIL("the device applied a command on %s that anyone on the network could inject: "
        .. "plain MQTT and no message-level authentication (state now %s)", obs.topic,
        tostring(obs.state_after))
    end
    return ASSESSOR("the device applies any command its broker delivers on %s (no message-level "
      .. "authentication, as the IXIT declares; state now %s): authentication of configuration "
      .. "changes rests on the service broker's access control and on the device verifying the "
      .. "broker, for the assessor", obs.topic, tostring(obs.state_after))
  end,
}
