-- mqtt.brute-force-throttled: guessing passwords over the network is made
-- impracticable (EN 303 645 5.1-5). The probe sends `attempts` CONNECTs with
-- the unit's user name and random wrong passwords, one connection at a time,
-- and records each CONNACK code and how long it took. Then it connects with
-- the unit's own credential: refused means the broker has locked the lab's
-- address out. A delay counts when a refusal takes at least `min_delay_ms`
-- longer than the fastest of the first three; the sustained guessing rate is
-- taken over the second half of the attempts and compared with
-- `max_rate_per_s`. A broker that accepts a random credential checks no
-- password (NOT_APPLICABLE; EN-5.5-4's finding).
--
-- A lockout can last a minute or more: this file's name makes it the last
-- MQTT test case to run on a unit.

testcase {
  id = "mqtt.brute-force-throttled",
  version = 1,
  title = "The device's MQTT broker slows down or locks out password guessing",
  description = "A series of CONNECTs with wrong passwords, timed, then one with the right "
    .. "password. Lockout, or refusals slowed below max_rate_per_s, passes.",
  obligations = { "EN-5.1-5" },
  applies = { interface = "mqtt-broker", state = "initialised", ics = { "EN-5.1-5" } },
  category = "intrusive",
  parameters = { attempts = 12, min_delay_ms = 200, max_rate_per_s = 1.0, max_total_ms = 40000 },
  probe = function(dut, t, params)
    local ep = dut.mqtt_broker
    local c = dut.credentials and dut.credentials.mqtt
    local own = type(c) == "table" and type(c.username) == "string"
      and { username = c.username, password = c.password } or nil
    local user = own and own.username or "admin"
    local out = { user = user, attempts = {}, control = own ~= nil }
    local start = t.now_ms()
    for i = 1, params.attempts do
      local guess = t.random_credential().password
      local t0 = t.now_ms()
      local r, why = t.mqtt.connect(ep, { username = user, password = guess })
      local a = { answered = r ~= nil, accepted = r ~= nil and r.accepted == true,
        code = r and r.code or -1, reason = r and r.reason or why, ms = t.now_ms() - t0 }
      out.attempts[i] = a
      if a.accepted then
        out.open = true
        break
      end
      if t.now_ms() - start > params.max_total_ms then
        out.stopped = "max_total_ms"
        break
      end
    end
    out.total_ms = t.now_ms() - start
    if own and not out.open then
      local r, why = t.mqtt.connect(ep, own)
      out.own_accepted = r ~= nil and r.accepted == true
      out.own_reason = r and r.reason or why
    end
    return out
  end,
  judge = function(obs, _, params)
    local at = obs.attempts
    if obs.open then
      return NOT_APPLICABLE("no password check: a random password for user %s got CONNACK 0, so "
        .. "there is nothing to guess; the finding is EN-5.5-4's", obs.user)
    end
    if #at == 0 or not at[1].answered then
      return INCONCLUSIVE("the broker did not answer the first CONNECT (%s)",
        at[1] and tostring(at[1].reason) or "none sent")
    end
    local base = at[1].ms
    for i = 2, math.min(3, #at) do
      base = math.min(base, at[i].ms)
    end
    local delays, max_ms, silent = 0, 0, 0
    for _, a in ipairs(at) do
      max_ms = math.max(max_ms, a.ms)
      if a.ms >= base + params.min_delay_ms then
        delays = delays + 1
      end
      if not a.answered then
        silent = silent + 1
      end
    end
    local half, half_ms = 0, 0
    for i = (#at // 2) + 1, #at do
      half, half_ms = half + 1, half_ms + at[i].ms
    end
    local rate = half * 1000 / math.max(half_ms, 1)
    local timings = {}
    for i, a in ipairs(at) do
      timings[i] = string.format("%d%s", a.ms, a.answered and "" or "!")
    end
    local series = string.format("%d wrong passwords for user %s in %d ms (per attempt, ms: %s)",
      #at, obs.user, obs.total_ms, table.concat(timings, " "))
    if obs.control and obs.own_accepted == false then
      return PASS("lockout: after %s the unit's own credential was refused too (%s)", series,
        tostring(obs.own_reason))
    end
    if rate <= params.max_rate_per_s then
      return PASS("throttled: %s; %d refusals delayed by %d ms or more, the second half at %.2f "
        .. "guesses per second (limit %.2f)", series, delays, params.min_delay_ms, rate,
        params.max_rate_per_s)
    end
    if delays > 0 and not obs.control then
      return INCONCLUSIVE("%s: %d delayed, then fast refusals (%.2f per second), which may be a "
        .. "lockout; without the unit's credential in the bench file a lockout cannot be confirmed",
        series, delays, rate)
    end
    return FAIL("no effective throttling: %s, the second half at %.2f guesses per second (limit "
      .. "%.2f), slowest %d ms%s", series, rate, params.max_rate_per_s, max_ms,
      obs.control and "; the unit's own credential was still accepted afterwards" or "")
  end,
}
