-- mqtt.command-needs-authorisation: security-relevant configuration changes
-- over the network only after authentication (EN 303 645 5.5-5). The IXIT
-- names the command topic, the retained state topic and a harmless command
-- ({serial} in a topic is the unit's serial). For each actor that should not
-- be able to change anything (an anonymous client, and the low-privilege
-- user when the bench file has one) the probe reads the retained state,
-- publishes the harmless command as that actor, and reads the state again,
-- one connection at a time. Then, with the unit's own credential, the same
-- command is published as a control: only when it does change the state is
-- "no change" from the other actors evidence.

local function state_topic(ixit, dut, key)
  local s = ((ixit or {}).mqtt or {})[key]
  return type(s) == "string" and (s:gsub("{serial}", dut.serial or "")) or nil
end

local function creds_of(c)
  if type(c) == "table" and type(c.username) == "string" then
    return { username = c.username, password = c.password }
  end
  return nil
end

-- The retained state, and any update within ms: a list of payloads, or nil, reason.
local function read_state(t, ep, reader, topic, ms)
  local s, why = t.mqtt.session(ep, reader)
  if not s then
    return nil, why
  end
  local r, rwhy = s:subscribe(topic, { ms = ms, max_messages = 2, qos = 0 })
  s:close()
  if not r then
    return nil, rwhy
  end
  local out = {}
  for _, m in ipairs(r.messages) do
    if m.topic == topic then
      out[#out + 1] = m.payload
    end
  end
  return out
end

local function try_actor(t, ep, reader, actor, creds, ixit_topics, params)
  local before, bwhy = read_state(t, ep, reader, ixit_topics.state, params.read_ms)
  local a = { actor = actor, before = before and before[1], read_error = bwhy }
  if not before or #before == 0 then
    a.read_error = a.read_error or "no retained state"
    return a
  end
  local s, why = t.mqtt.session(ep, creds)
  a.connected = s ~= nil
  a.connect = why
  if s then
    local ok, pwhy = s:publish(ixit_topics.command, ixit_topics.payload, { qos = 1 })
    a.published = ok == true
    a.publish = pwhy
    s:close()
    local after, awhy = read_state(t, ep, reader, ixit_topics.state, params.effect_ms)
    a.after = after and after[#after]
    a.read_error = awhy
    a.changed = false
    for _, p in ipairs(after or {}) do
      a.changed = a.changed or p ~= a.before
    end
  end
  return a
end

testcase {
  id = "mqtt.command-needs-authorisation",
  version = 1,
  title = "Nobody without the right login can change the device's settings over MQTT",
  description = "Publishes the IXIT's harmless command to the command topic anonymously and "
    .. "as the low-privilege user, and checks the retained state before and after; the unit's "
    .. "own credential publishes it last as a control.",
  obligations = { "EN-5.5-5" },
  applies = { interface = "mqtt-broker", state = "initialised", ics = { "EN-5.5-5" } },
  category = "intrusive",
  parameters = { read_ms = 1000, effect_ms = 1500 },
  probe = function(dut, t, params, dossier)
    local ixit = dossier.ixit or {}
    local topics = {
      command = state_topic(ixit, dut, "command_topic"),
      state = state_topic(ixit, dut, "state_topic"),
      payload = (ixit.mqtt or {}).harmless_command,
    }
    local out = { command_topic = topics.command, state_topic = topics.state, actors = {} }
    if not topics.command or not topics.state or type(topics.payload) ~= "string" then
      out.missing = true
      return out
    end
    local ep = dut.mqtt_broker
    local cr = dut.credentials or {}
    local own = creds_of(cr.mqtt)
    local reader = own
    out.reader = own and ("user " .. own.username) or "anonymous"
    out.actors[#out.actors + 1] = try_actor(t, ep, reader, "anonymous", nil, topics, params)
    local low = creds_of(cr.mqtt_low_privilege)
    if low then
      out.actors[#out.actors + 1] = try_actor(t, ep, reader, "low-privilege user " .. low.username,
        low, topics, params)
    end
    if own then
      out.control = try_actor(t, ep, reader, "own user " .. own.username, own, topics, params)
    end
    return out
  end,
  judge = function(obs)
    if obs.missing then
      return INCONCLUSIVE("the IXIT names no MQTT command_topic, state_topic and harmless_command: "
        .. "the manufacturer must declare them")
    end
    local refused, unchanged, unread = {}, {}, {}
    for _, a in ipairs(obs.actors) do
      if a.changed then
        return FAIL("as %s, publishing the harmless command to %s changed the retained state on "
          .. "%s from \"%s\" to \"%s\"", a.actor, obs.command_topic, obs.state_topic,
          tostring(a.before), tostring(a.after))
      end
      if a.before == nil or (a.connected and a.after == nil) then
        unread[#unread + 1] = string.format("%s (%s)", a.actor, tostring(a.read_error))
      elseif not a.connected then
        refused[#refused + 1] = string.format("%s (%s)", a.actor, tostring(a.connect))
      else
        unchanged[#unchanged + 1] = a.actor
      end
    end
    if #unread > 0 then
      return INCONCLUSIVE("the retained state on %s could not be read as %s around %s: give the "
        .. "bench file a credential that may read it", obs.state_topic, tostring(obs.reader),
        table.concat(unread, ", "))
    end
    if #unchanged > 0 then
      local c = obs.control
      if not c or not c.changed then
        return INCONCLUSIVE("%s published the harmless command to %s without visible effect, but "
          .. "the control (%s) shows no effect either: check the IXIT's topics and command",
          table.concat(unchanged, " and "), obs.command_topic,
          c and (c.actor .. (c.connected and " changed nothing" or (": " .. tostring(c.connect))))
            or "no own credential in the bench file")
      end
    end
    local parts = {}
    if #refused > 0 then
      parts[#parts + 1] = "CONNECT refused for " .. table.concat(refused, ", ")
    end
    if #unchanged > 0 then
      parts[#parts + 1] = string.format("the command published by %s left the state unchanged "
        .. "(\"%s\"), while the unit's own user changed it to \"%s\"",
        table.concat(unchanged, " and "), tostring(obs.actors[1].before or ""),
        tostring(obs.control.after))
    end
    return PASS("the harmless command on %s needs authorisation: %s", obs.command_topic,
      table.concat(parts, "; "))
  end,
}
