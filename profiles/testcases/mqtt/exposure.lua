-- mqtt.unauthenticated-disclosure: in the initialised state the broker
-- discloses no security-relevant information to a client that has not
-- authenticated (EN 303 645 5.6-2). The probe connects as an unauthenticated
-- client could (no credentials, then a random credential); when the broker
-- admits one, it subscribes to `#` and to `$SYS/#` (`#` never matches topics
-- that start with `$`) in one SUBSCRIBE and keeps what arrives for a bounded
-- time: retained messages at once, live ones within `listen_ms`, stopping
-- once the broker has been quiet for `quiet_ms`. The collection is also
-- bounded by `max_messages` and `max_bytes`; a broker that reaches either
-- has sent more than was examined, which the verdict says (a PASS needs
-- everything seen).
--
-- A message is security-relevant when its topic is in the broker's `$SYS`
-- tree (broker software, version, clients), matches a topic filter the IXIT
-- marks security-relevant, or its topic or payload names versions, keys,
-- credentials or debugging state. What the IXIT's disclosed_information
-- declares (an entry naming the topic) goes to the assessor; the rest fails.

local function attempt(t, ep, creds)
  local r, why = t.mqtt.connect(ep, creds)
  return { answered = r ~= nil, accepted = r ~= nil and r.accepted == true,
    code = r and r.code or -1, reason = r and r.reason or why }
end

local function keep(out, r, max_payload)
  for _, m in ipairs(r and r.messages or {}) do
    out[#out + 1] = { topic = m.topic, payload = m.payload:sub(1, max_payload),
      size = m.size, retained = m.retained }
  end
end

-- MQTT topic filter matching (+ one level, # the rest).
local function matches(filter, topic)
  local fl, tl = {}, {}
  for p in (filter .. "/"):gmatch("([^/]*)/") do fl[#fl + 1] = p end
  for p in (topic .. "/"):gmatch("([^/]*)/") do tl[#tl + 1] = p end
  for i, f in ipairs(fl) do
    if f == "#" then
      return true
    end
    if tl[i] == nil or (f ~= "+" and f ~= tl[i]) then
      return false
    end
  end
  return #fl == #tl
end

local function printable(s, n)
  local out = s:gsub("[^\32-\126]", "?")
  return #out > n and (out:sub(1, n) .. "...") or out
end

testcase {
  id = "mqtt.unauthenticated-disclosure",
  version = 2,
  title = "Without logging in, nobody can read security-relevant information from the device's "
    .. "MQTT broker",
  description = "Subscribes to # and $SYS/# as an unauthenticated client (when the broker lets "
    .. "one in). Broker internals, security-relevant topics and payloads naming versions, keys "
    .. "or credentials fail unless the IXIT declares them (then the assessor decides).",
  obligations = { "EN-5.6-2" },
  applies = { interface = "mqtt-broker", state = "initialised", ics = { "EN-5.6-2" } },
  category = "safe",
  parameters = {
    listen_ms = 1500,
    quiet_ms = 200,
    max_messages = 200,
    max_bytes = 262144,
    indicators = { "version", "firmware", "passw", "secret", "psk", "token", "private",
      "%f[%w]key%f[%W]", "credential", "ssid", "debug" },
  },
  probe = function(dut, t, params)
    local ep = dut.mqtt_broker
    local out = { port = ep.port, tls = ep.tls == true, messages = {} }
    out.anonymous = attempt(t, ep, nil)
    local creds
    if out.anonymous.accepted then
      out.as = "anonymous"
    else
      local rnd = t.random_credential()
      creds = { username = rnd.username, password = rnd.password }
      out.random = attempt(t, ep, creds)
      out.as = out.random.accepted and ("random credential " .. rnd.username) or nil
    end
    if not out.as then
      return out
    end
    local s, why = t.mqtt.session(ep, creds)
    if not s then
      out.session = why
      return out
    end
    -- One SUBSCRIBE with both filters. Retained messages arrive at once: stop
    -- when the broker has been quiet for quiet_ms, or at listen_ms, whichever
    -- comes first, or at max_messages or max_bytes (then the broker sent more).
    local opts = { ms = params.listen_ms, quiet_ms = params.quiet_ms,
      max_messages = params.max_messages, max_bytes = params.max_bytes }
    local r, rwhy = s:subscribe({ "#", "$SYS/#" }, opts)
    s:close()
    if not r then
      out.all, out.sys = { error = rwhy }, { error = rwhy }
      return out
    end
    out.all = { code = r.codes[1] }
    out.sys = { code = r.codes[2] }
    out.stop, out.count, out.bytes, out.elapsed_ms = r.stop, #r.messages, r.bytes, r.elapsed_ms
    out.detail = r.detail
    if r.stop == "count" or r.stop == "bytes" then
      out.capped = r.stop == "count"
        and string.format("at least %d messages", params.max_messages)
        or string.format("more than %d bytes of payload", params.max_bytes)
    end
    keep(out.messages, r, 200)
    return out
  end,
  judge = function(obs, dossier, params)
    local where = string.format("port %s%s", tostring(obs.port), obs.tls and " (TLS)" or "")
    if not obs.as then
      local a, r = obs.anonymous, obs.random or {}
      if not a.answered or not r.answered then
        return INCONCLUSIVE("the broker on %s did not answer every CONNECT (anonymous: %s; random "
          .. "credential: %s)", where, tostring(a.reason), tostring(r.reason))
      end
      return PASS("an unauthenticated client cannot subscribe on %s: a CONNECT without "
        .. "credentials got CONNACK %d and one with a random credential CONNACK %d, so nothing "
        .. "is disclosed without authentication", where, a.code, r.code)
    end
    if obs.session then
      return INCONCLUSIVE("the broker accepted a CONNECT as %s but the subscribing session failed "
        .. "(%s)", obs.as, tostring(obs.session))
    end
    local ixit = dossier.ixit or {}
    local relevant = (ixit.security_relevant or {}).mqtt_topics or {}
    local declared = ixit.disclosed_information or {}
    local fails, assessor, topics, seen = {}, {}, {}, {}
    for _, m in ipairs(obs.messages) do
      local payload = type(m.payload) == "string" and m.payload or "<binary>"
      local why
      if m.topic:sub(1, 5) == "$SYS/" then
        why = "broker internals ($SYS)"
      end
      for _, f in ipairs(relevant) do
        if not why and type(f) == "string" and matches(f, m.topic) then
          why = "a security-relevant topic in the IXIT (" .. f .. ")"
        end
      end
      local text = (m.topic .. " " .. payload):lower()
      for _, pat in ipairs(params.indicators) do
        local s, e = text:find(pat)
        if not why and s then
          why = string.format("names '%s'", text:sub(s, e))
        end
      end
      if not seen[m.topic] then
        seen[m.topic] = true
        topics[#topics + 1] = m.topic
        if why then
          local line = string.format("%s (%s): \"%s\"", m.topic, why, printable(payload, 60))
          local d
          for _, entry in ipairs(declared) do
            if type(entry) == "string" and entry:find(m.topic, 1, true) then
              d = entry
            end
          end
          if d then
            assessor[#assessor + 1] = line .. " [declared: " .. d .. "]"
          else
            fails[#fails + 1] = line
          end
        end
      end
    end
    local capped = obs.capped and string.format("; the broker sent %s within %d ms, where the "
      .. "collection stops, so the rest was not examined", obs.capped, obs.elapsed_ms or 0) or ""
    if #fails > 0 then
      return FAIL("as %s on %s, subscribing to # and $SYS/# disclosed, undeclared in the IXIT: %s%s%s",
        obs.as, where, table.concat(fails, "; ", 1, math.min(#fails, 6)),
        #fails > 6 and string.format(" (and %d more)", #fails - 6) or "", capped)
    end
    if #assessor > 0 then
      return ASSESSOR("as %s on %s, subscribing disclosed what the IXIT declares: %s; the assessor "
        .. "decides whether this is minimal%s", obs.as, where, table.concat(assessor, "; "), capped)
    end
    if obs.capped then
      return INCONCLUSIVE("as %s on %s, # and $SYS/# delivered %d topics, none security-relevant%s",
        obs.as, where, #topics, capped)
    end
    return PASS("as %s on %s, # and $SYS/# delivered %d topics in %d ms (%s), none "
      .. "security-relevant", obs.as, where, #topics, params.listen_ms,
      #topics > 0 and table.concat(topics, ", ", 1, math.min(#topics, 8)) or "none")
  end,
}
