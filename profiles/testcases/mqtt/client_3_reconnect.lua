-- mqtt-client.reconnect-backoff: how an MQTT client device reconnects when its
-- broker goes away and then answers "server unavailable" (EN 303 645 5.9-3:
-- orderly reconnection, with the capacity of the infrastructure in mind). The
-- device is connected to the lab broker, the broker stops, and the harness's
-- refuser takes the port: it answers every CONNECT with CONNACK 3 and counts
-- the attempts and their spacing. Thousands of devices retrying every few
-- hundred milliseconds keep a recovering service down; a back-off does not.
-- Runs last among the client test cases: the device is left backing off.

testcase {
  id = "mqtt-client.reconnect-backoff",
  version = 1,
  title = "After its service goes away, the device retries in an orderly way (with back-off)",
  description = "Stops the lab broker under the connected device, answers every reconnection "
    .. "attempt with CONNACK 3 (server unavailable) for window_ms, and judges the attempts per "
    .. "minute against max_per_minute and whether the spacing grows.",
  obligations = { "EN-5.9-3" },
  applies = { interface = "mqtt-client", ics = { "EN-5.9-3" } },
  category = "safe",
  parameters = { connect_ms = 45000, window_ms = 12000, max_per_minute = 60 },
  probe = function(dut, t, params)
    local b, why = t.labbroker.start(dut.mqtt_client)
    if not b then
      return { started = false, why = why }
    end
    local r = b:collect({ ms = params.connect_ms, connects = 1 })
    b:stop()
    if #r.connects == 0 then
      return { started = true, connected = false, waited_ms = r.elapsed_ms }
    end
    local tls = r.tls ~= "plain" and "trusted" or false
    local f, fwhy = t.labbroker.refuser(dut.mqtt_client, { ms = params.window_ms, tls = tls })
    if not f then
      return { started = true, connected = true, refuser_error = fwhy }
    end
    local times = {}
    for i, v in ipairs(f.times_ms) do
      if i > 2000 then break end
      times[i] = v
    end
    return { started = true, connected = true, attempts = f.attempts, connects = f.connects,
      window_ms = f.window_ms, times_ms = times, tls = r.tls }
  end,
  judge = function(obs, dossier, params)
    if not obs.started then
      return INCONCLUSIVE("the lab broker could not start (%s)", tostring(obs.why))
    end
    if not obs.connected then
      return INCONCLUSIVE("the device did not connect to the lab broker within %d ms, so its "
        .. "reconnection after a loss cannot be observed", obs.waited_ms)
    end
    if obs.refuser_error then
      return ERROR("the refuser could not take the broker's port: %s", obs.refuser_error)
    end
    if obs.attempts == 0 then
      return INCONCLUSIVE("no reconnection attempt within %d ms after the broker went away: "
        .. "a longer window_ms would show the device's schedule", obs.window_ms)
    end
    local rate = obs.attempts * 60000 / obs.window_ms
    local gaps, shown = {}, {}
    for i = 2, #obs.times_ms do
      gaps[#gaps + 1] = obs.times_ms[i] - obs.times_ms[i - 1]
    end
    for i = 1, math.min(#gaps, 6) do
      shown[i] = string.format("%.1f s", gaps[i] / 1000)
    end
    -- back-off: the spacing grows (the last gap at least twice the first)
    local grows = #gaps >= 2 and gaps[#gaps] >= 2 * math.max(gaps[1], 1)
    local spacing = #shown > 0 and ("; spacing " .. table.concat(shown, ", ")
      .. (#gaps > 6 and ", ..." or "")) or ""
    if rate > params.max_per_minute and not grows then
      return FAIL("%d reconnection attempts in %.1f s after the broker went away (%.0f a minute, "
        .. "more than %d) without back-off%s", obs.attempts, obs.window_ms / 1000, rate,
        params.max_per_minute, spacing)
    end
    return PASS("%d reconnection attempts in %.1f s after the broker went away (%.0f a minute, "
      .. "at most %d)%s%s", obs.attempts, obs.window_ms / 1000, rate, params.max_per_minute,
      grows and ", backing off" or "", spacing)
  end,
}
