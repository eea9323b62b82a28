-- mqtt.default-credentials: the broker refuses universal default credentials
-- and credentials derived from the unit's own identifiers (UK PSTI 1, EN 303
-- 645 5.1-1). Evidence: the CONNACK code of every candidate (the 60 Mirai
-- pairs of data/credentials/default.lua, then the serial, MAC and model forms
-- of credentials.derived with the bench's user name and "admin").
--
-- A random credential goes first: a broker that accepts it checks no
-- password, so PSTI 1 does not apply to it (the finding is EN 303 645
-- 5.5-4's, mqtt.anonymous-refused) and admin/admin being "accepted" there
-- proves nothing. When the bench file holds the unit's own credential, it is
-- used as a control after every `control_every` refusals: while the control
-- is accepted, the refusals are evidence; once it is refused, the broker has
-- locked the lab out and the remaining candidates are not tried.
local credentials = require("credentials")

local function attempt(t, ep, creds)
  local r, why = t.mqtt.connect(ep, creds)
  return {
    answered = r ~= nil,
    accepted = r ~= nil and r.accepted == true,
    code = r and r.code or -1,
    reason = r and r.reason or why,
    ms = r and r.elapsed_ms or -1,
  }
end

local function candidates(dut, own)
  local out, seen = {}, {}
  local function add(user, password, source)
    local k = user .. "\0" .. password
    if not seen[k] then
      seen[k] = true
      out[#out + 1] = { user = user, password = password, source = source }
    end
  end
  for _, c in ipairs(credentials.list("default")) do
    add(c.user, c.password, "universal default")
  end
  local users = { "admin" }
  if own and own.username ~= "admin" then
    table.insert(users, 1, own.username)
  end
  for _, c in ipairs(credentials.with_users(credentials.derived(dut), users)) do
    add(c.user, c.password, "derived: " .. c.source)
  end
  return out
end

testcase {
  id = "mqtt.default-credentials",
  version = 1,
  title = "The device's MQTT broker refuses well-known default passwords and passwords made "
    .. "from its serial number, MAC address or model",
  description = "Tries a random credential first (accepted: the broker has no password check), "
    .. "then the 60 universal default pairs and the unit's derived candidates.",
  obligations = { "PSTI-1", "EN-5.1-1" },
  applies = { interface = "mqtt-broker", state = "initialised" },
  category = "intrusive",
  parameters = { control_every = 2 },
  probe = function(dut, t, params)
    local ep = dut.mqtt_broker
    local rnd = t.random_credential()
    local out = { port = ep.port, attempts = {}, controls = 0 }
    out.random = attempt(t, ep, { username = rnd.username, password = rnd.password })
    out.random.user = rnd.username
    if out.random.accepted or not out.random.answered then
      return out
    end
    local c = dut.credentials and dut.credentials.mqtt
    local own = type(c) == "table" and type(c.username) == "string" and c or nil
    out.control = own ~= nil
    local list = candidates(dut, own)
    out.candidates = #list
    local refused = 0
    for i, cand in ipairs(list) do
      local a = attempt(t, ep, { username = cand.user, password = cand.password })
      a.user, a.password, a.source = cand.user, cand.password, cand.source
      out.attempts[#out.attempts + 1] = a
      refused = (a.answered and not a.accepted) and refused + 1 or refused
      if own and refused >= params.control_every and i < #list then
        refused = 0
        local k = attempt(t, ep, { username = own.username, password = own.password })
        out.controls = out.controls + 1
        if not k.accepted then
          out.locked_after = i
          out.lock_reason = k.reason
          break
        end
      end
    end
    return out
  end,
  judge = function(obs)
    local r = obs.random
    if not r.answered then
      return INCONCLUSIVE("the broker on port %s did not answer a CONNECT (%s): check the device "
        .. "and the bench port", tostring(obs.port), tostring(r.reason))
    end
    if r.accepted then
      return NOT_APPLICABLE("no password check on this interface: a random credential (user %s) "
        .. "got CONNACK 0, so any password is accepted; the finding is EN-5.5-4's", r.user)
    end
    local unanswered, defaults, derived = {}, 0, 0
    for _, a in ipairs(obs.attempts) do
      if a.accepted then
        return FAIL("the broker accepted the %s credential %s / %s (CONNACK 0) after refusing a "
          .. "random one (CONNACK %d)", a.source, a.user, a.password, r.code)
      end
      if not a.answered then
        unanswered[#unanswered + 1] = string.format("%s/%s (%s)", a.user, a.password,
          tostring(a.reason))
      elseif a.source == "universal default" then
        defaults = defaults + 1
      else
        derived = derived + 1
      end
    end
    if obs.locked_after then
      return INCONCLUSIVE("the bench's own credential was refused (%s) after candidate %d of %d: "
        .. "the broker locked the lab out, so later refusals are no evidence; retry after the "
        .. "lockout with a lower control_every", tostring(obs.lock_reason), obs.locked_after,
        obs.candidates)
    end
    if #unanswered > 0 then
      return INCONCLUSIVE("%d candidates got no CONNACK (%s): rerun when the device answers",
        #unanswered, table.concat(unanswered, ", ", 1, math.min(#unanswered, 5)))
    end
    return PASS("refused all %d candidates (%d universal default pairs, %d derived from the "
      .. "serial, MAC and model) with CONNACK %d as it refused a random credential%s", #obs.attempts,
      defaults, derived, r.code, obs.control and string.format("; the bench's own credential, "
        .. "tried %d times in between, was accepted each time", obs.controls) or "")
  end,
}
