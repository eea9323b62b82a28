-- mqtt.credentials-unique and mqtt.credentials-not-derived: the pre-installed
-- MQTT passwords of the units of one model, compared (scope = model).
--
-- Each unit's probe first connects with a random credential (accepted: the
-- broker checks no password, and there is nothing to compare), then with the
-- credential the bench file records for the unit, so that only passwords a
-- CONNACK 0 verified are compared. It stores no password: a fingerprint (the
-- first 64 bits of SHA-256("assay-mqtt-password:" .. password)), the
-- fingerprints of the next `sequence_window` values of the password's
-- trailing number (so the judge can see that one unit's password is another's
-- plus k), which of the unit's identifiers (credentials.derived: serial, MAC
-- and model forms) the password is or contains, and whether it is a
-- universal default password. Credentials the lab or user defined during
-- onboarding (origin user-defined) are never compared.
--
-- Shared by two units: UK PSTI 1 and EN 303 645 5.1-1. Sequential, or made
-- from the serial, MAC or model, or a universal default: EN 303 645 5.1-2,
-- and UK PSTI 1, whose unique passwords must not be incremental or derived
-- from product identifiers.
local credentials = require("credentials")

local function fingerprint(t, password)
  return t.sha256("assay-mqtt-password:" .. password):sub(1, 16)
end

-- A candidate may count as contained in a password only when a random
-- hexadecimal password cannot contain it by chance.
local function containable(s)
  return #s >= 6 or (#s >= 4 and s:find("[^%x]") ~= nil)
end

local function derived_from(dut, password)
  local p = password:lower()
  for _, c in ipairs(credentials.derived(dut)) do
    local k = c.password:lower()
    if k == p then
      return "is its " .. c.source
    end
  end
  for _, c in ipairs(credentials.derived(dut)) do
    local k = c.password:lower()
    if containable(k) and p:find(k, 1, true) then
      return string.format("contains its %s (%s)", c.source, c.password)
    end
  end
  return nil
end

local function universal_default(password)
  for _, c in ipairs(credentials.list("default")) do
    if c.password ~= "" and c.password == password then
      return true
    end
  end
  return false
end

local function unit_probe(dut, t, params)
  local ep = dut.mqtt_broker
  local rnd = t.random_credential()
  local r0, why0 = t.mqtt.connect(ep, { username = rnd.username, password = rnd.password })
  local out = { answered = r0 ~= nil, open = r0 ~= nil and r0.accepted == true,
    random_code = r0 and r0.code or -1, reason = r0 and r0.reason or why0 }
  local c = dut.credentials and dut.credentials.mqtt
  out.has_credential = type(c) == "table" and type(c.password) == "string"
  if not out.has_credential or out.open then
    return out
  end
  local r, why = t.mqtt.connect(ep, { username = c.username, password = c.password })
  out.origin = c.origin
  out.user = c.username
  out.works = r ~= nil and r.accepted == true
  out.code = r and r.code or -1
  out.reason = r and r.reason or why
  out.fingerprint = fingerprint(t, c.password)
  out.derived = derived_from(dut, c.password)
  out.universal_default = universal_default(c.password)
  local head, digits = c.password:match("^(.-)(%d+)$")
  if digits and #digits <= 15 then
    local n = math.tointeger(tonumber(digits))
    out.next = {}
    for k = 1, params.sequence_window do
      out.next[k] = fingerprint(t, head .. string.format("%0" .. #digits .. "d", n + k))
    end
  end
  return out
end

-- Sorts the units into the pre-installed ones to compare, or returns a verdict.
local function select_units(units)
  local model = units[1] and units[1].device.model or "?"
  local pre, user, open, none, broken = {}, {}, {}, {}, {}
  for _, u in ipairs(units) do
    local o = u.observations
    if not o.answered then
      return nil, INCONCLUSIVE("%s did not answer a CONNECT (%s): rerun when it is up",
        u.device.id, tostring(o.reason))
    elseif o.open then
      open[#open + 1] = u.device.id
    elseif not o.has_credential then
      none[#none + 1] = u.device.id
    elseif o.origin ~= "preinstalled" then
      user[#user + 1] = u.device.id
    elseif not o.works then
      broken[#broken + 1] = string.format("%s (CONNACK %d, %s)", u.device.id, o.code,
        tostring(o.reason))
    else
      pre[#pre + 1] = u
    end
  end
  if #broken > 0 then
    return nil, INCONCLUSIVE("the credential the bench file records was refused by %s: correct "
      .. "the bench file", table.concat(broken, ", "))
  end
  if #none > 0 then
    return nil, INCONCLUSIVE("%s checks passwords (a random credential was refused) but the "
      .. "bench file records no mqtt credential for it: add each unit's pre-installed one",
      table.concat(none, ", "))
  end
  if #pre == 0 and #open > 0 and #user == 0 then
    return nil, NOT_APPLICABLE("no password check on the MQTT broker of %s: a random credential "
      .. "got CONNACK 0 (%s); the finding is EN-5.5-4's", model, table.concat(open, ", "))
  end
  if #pre == 0 then
    return nil, NOT_APPLICABLE("the MQTT credentials of %s (%s) were defined by the user or lab "
      .. "during onboarding, not pre-installed; such credentials are not compared", model,
      table.concat(user, ", "))
  end
  return pre, nil, model
end

testcase {
  id = "mqtt.credentials-unique",
  version = 1,
  title = "No two units of a model share the same pre-installed MQTT password",
  description = "Compares fingerprints of the pre-installed MQTT passwords of every unit of a "
    .. "model on the bench, each verified by an accepted CONNECT. Needs at least two units.",
  obligations = { "PSTI-1", "EN-5.1-1" },
  applies = { interface = "mqtt-broker", state = "initialised" },
  category = "safe",
  scope = "model",
  parameters = { sequence_window = 64 },
  probe = unit_probe,
  judge = function(units)
    local pre, verdict, model = select_units(units)
    if not pre then
      return verdict
    end
    local seen = {}
    for _, u in ipairs(pre) do
      local o = u.observations
      if seen[o.fingerprint] then
        return FAIL("units %s and %s of %s share one pre-installed MQTT password for user %s "
          .. "(fingerprint %s; a CONNECT with it was accepted by both)", seen[o.fingerprint],
          u.device.id, model, tostring(o.user), o.fingerprint)
      end
      seen[o.fingerprint] = u.device.id
    end
    if #pre < 2 then
      return INCONCLUSIVE("one unit of %s with a pre-installed MQTT password on the bench (%s); "
        .. "uniqueness needs two", model, pre[1].device.id)
    end
    local ids = {}
    for _, u in ipairs(pre) do
      ids[#ids + 1] = string.format("%s %s", u.device.id, u.observations.fingerprint)
    end
    return PASS("the pre-installed MQTT passwords of the %d %s units differ, each verified by an "
      .. "accepted CONNECT (fingerprints: %s)", #pre, model, table.concat(ids, ", "))
  end,
}

testcase {
  id = "mqtt.credentials-not-derived",
  version = 1,
  title = "Pre-installed MQTT passwords are not sequential, not a well-known default and not made "
    .. "from the serial number, MAC address or model",
  description = "Checks each unit's pre-installed MQTT password against its serial, MAC and "
    .. "model forms and the universal defaults, and the passwords of the units against each "
    .. "other for a counter (one unit's password is another's plus 1 to sequence_window).",
  obligations = { "EN-5.1-2", "PSTI-1" },
  applies = { interface = "mqtt-broker", state = "initialised", ics = { "EN-5.1-2" } },
  category = "safe",
  scope = "model",
  parameters = { sequence_window = 64 },
  probe = unit_probe,
  judge = function(units, _, params)
    local pre, verdict, model = select_units(units)
    if not pre then
      return verdict
    end
    for _, u in ipairs(pre) do
      local o = u.observations
      if o.derived then
        return FAIL("the pre-installed MQTT password of %s %s (a CONNECT with it was accepted)",
          u.device.id, o.derived)
      end
      if o.universal_default then
        return FAIL("the pre-installed MQTT password of %s is a universal default password (in "
          .. "the Mirai list; a CONNECT with it was accepted)", u.device.id)
      end
    end
    for _, a in ipairs(pre) do
      for k, f in ipairs(a.observations.next or {}) do
        for _, b in ipairs(pre) do
          if b ~= a and b.observations.fingerprint == f then
            return FAIL("the pre-installed MQTT password of %s is that of %s plus %d: a counter, "
              .. "so one unit's password gives the others'", b.device.id, a.device.id, k)
          end
        end
      end
    end
    if #pre < 2 then
      return INCONCLUSIVE("the pre-installed MQTT password of %s is not its serial, MAC or model "
        .. "and not a universal default; whether the passwords of %s are sequential needs two "
        .. "units", pre[1].device.id, model)
    end
    return PASS("the pre-installed MQTT passwords of the %d %s units are not derived from their "
      .. "serials, MACs or model, not universal defaults, and no unit's is another's plus 1 to %d",
      #pre, model, params.sequence_window)
  end,
}
