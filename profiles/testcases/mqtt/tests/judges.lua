-- judges.lua: unit tests of the MQTT broker test cases' judges, fed
-- observations written by hand, so that every verdict each judge can give is
-- exercised (including those no demo personality shows).
-- Run: lua5.4 profiles/testcases/mqtt/tests/judges.lua PROFILES_DIR
-- Exits 0 when every case gets its expected verdict, 1 otherwise.
local root = assert(arg[1], "usage: judges.lua PROFILES_DIR")

local load_testcases = dofile(root .. "/testcases/tests/loader.lua")
local cases = load_testcases(root, "mqtt", {
  "anonymous", "command", "credentials_units", "default_credentials",
  "exposure", "factory_default", "plain_credentials", "tls", "zz_malformed", "zzz_bruteforce" })

local dossier = {
  ixit = {
    disclosed_information = {},
    security_relevant = { mqtt_topics = { "th-40/+/cmd" } },
    mqtt = { command_topic = "th-40/{serial}/cmd", state_topic = "th-40/{serial}/state",
      harmless_command = "{}" },
  },
}

local failures, total = 0, 0
local function check(id, want, obs, dos, note)
  total = total + 1
  local tc = assert(cases[id], id)
  local ok, v = pcall(tc.judge, obs, dos or dossier, tc.parameters or {})
  local got = ok and (v.verdict .. (v.resolve and "/" .. v.resolve or "")) or ("error: " .. tostring(v))
  if got ~= want then
    failures = failures + 1
    print(string.format("FAIL %s (%s): got %s, want %s: %s", id, note, got, want,
      ok and v.rationale or ""))
  else
    print(string.format("ok   %s (%s): %s", id, note, v.rationale))
  end
end

local function conn(accepted, code, answered)
  return { answered = answered ~= false, accepted = accepted, code = code or (accepted and 0 or 5),
    reason = accepted and "accepted" or (answered == false and "timeout" or "not authorised") }
end

-- mqtt.anonymous-refused
check("mqtt.anonymous-refused", "PASS", { port = 8883, tls = true, anonymous = conn(false),
  random = conn(false), random_user = "assay-1" }, nil, "both refused")
check("mqtt.anonymous-refused", "FAIL", { port = 1883, anonymous = conn(true), random = conn(true),
  random_user = "assay-1" }, nil, "anonymous accepted")
check("mqtt.anonymous-refused", "FAIL", { port = 1883, anonymous = conn(false),
  random = conn(true), random_user = "assay-1" }, nil, "any password")
check("mqtt.anonymous-refused", "INCONCLUSIVE", { port = 1883, anonymous = conn(false, -1, false),
  random = conn(false), random_user = "assay-1" }, nil, "silent")

-- mqtt.default-credentials
local function dc(attempts, extra)
  local o = { port = 8883, random = conn(false), attempts = attempts, controls = 3, control = true,
    candidates = #attempts }
  o.random.user = "assay-1"
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end
local function att(user, pw, source, accepted, answered)
  local a = conn(accepted, nil, answered)
  a.user, a.password, a.source = user, pw, source
  return a
end
check("mqtt.default-credentials", "PASS", dc({ att("admin", "admin", "universal default", false),
  att("admin", "100a0b", "derived: MAC", false) }), nil, "all refused")
check("mqtt.default-credentials", "FAIL", dc({ att("admin", "admin", "universal default", true) }),
  nil, "admin/admin")
check("mqtt.default-credentials", "FAIL", dc({ att("admin", "x", "universal default", false),
  att("admin", "100a0b", "derived: MAC (last 6 hex digits)", true) }), nil, "MAC-derived")
local open = dc({})
open.random = conn(true)
open.random.user = "assay-1"
check("mqtt.default-credentials", "NOT_APPLICABLE", open, nil, "accepts anything")
check("mqtt.default-credentials", "INCONCLUSIVE", dc({ att("admin", "admin", "universal default",
  false) }, { locked_after = 1, lock_reason = "not authorised" }), nil, "locked out")
check("mqtt.default-credentials", "INCONCLUSIVE", dc({ att("root", "root", "universal default",
  false, false) }), nil, "no CONNACK")
local down = dc({})
down.random = conn(false, -1, false)
check("mqtt.default-credentials", "INCONCLUSIVE", down, nil, "unreachable")

-- mqtt.credentials-unique and mqtt.credentials-not-derived (scope model)
local function unit(id, o)
  local base = { answered = true, open = false, has_credential = true, origin = "preinstalled",
    user = "admin", works = true, code = 0, fingerprint = "f-" .. id }
  for k, v in pairs(o or {}) do base[k] = v end
  return { device = { id = id, model = "th-40" }, observations = base }
end
check("mqtt.credentials-unique", "PASS", { unit("a"), unit("b") }, nil, "two distinct")
check("mqtt.credentials-unique", "FAIL", { unit("a", { fingerprint = "x" }),
  unit("b", { fingerprint = "x" }) }, nil, "shared")
check("mqtt.credentials-unique", "INCONCLUSIVE", { unit("a") }, nil, "one unit")
check("mqtt.credentials-unique", "NOT_APPLICABLE", { unit("a", { open = true }),
  unit("b", { open = true }) }, nil, "no password check")
check("mqtt.credentials-unique", "NOT_APPLICABLE", { unit("a", { origin = "user-defined" }),
  unit("b", { origin = "user-defined", fingerprint = "f-a" }) }, nil, "user-defined not compared")
check("mqtt.credentials-unique", "INCONCLUSIVE", { unit("a", { works = false, code = 5 }),
  unit("b") }, nil, "bench credential wrong")
check("mqtt.credentials-unique", "INCONCLUSIVE", { unit("a", { has_credential = false }),
  unit("b") }, nil, "no credential in bench")
check("mqtt.credentials-not-derived", "PASS", { unit("a", { next = { "n1" } }),
  unit("b", { next = { "n2" } }) }, nil, "random")
check("mqtt.credentials-not-derived", "FAIL", { unit("a", { next = { "f-b" } }),
  unit("b", { next = { "n2" } }) }, nil, "b = a + 1")
check("mqtt.credentials-not-derived", "FAIL", { unit("a", { derived = "is its MAC" }) }, nil,
  "MAC on one unit")
check("mqtt.credentials-not-derived", "FAIL", { unit("a", { universal_default = true }) }, nil,
  "universal default")
check("mqtt.credentials-not-derived", "INCONCLUSIVE", { unit("a") }, nil, "one unit")

-- mqtt.unauthenticated-disclosure
check("mqtt.unauthenticated-disclosure", "PASS", { port = 8883, tls = true,
  anonymous = conn(false), random = conn(false), messages = {} }, nil, "no session")
local function exposed(msgs, dos)
  return { port = 1883, anonymous = conn(true), as = "anonymous", messages = msgs }
end
check("mqtt.unauthenticated-disclosure", "FAIL", exposed({ { topic = "$SYS/broker/version",
  payload = "mosquitto version 2.0.11" } }), nil, "$SYS undeclared")
check("mqtt.unauthenticated-disclosure", "INCONCLUSIVE/assessor", exposed({ { topic = "$SYS/broker/version",
  payload = "mosquitto version 2.0.11" } }), { ixit = { disclosed_information = {
  "firmware version on $SYS/broker/version" } } }, "$SYS declared")
check("mqtt.unauthenticated-disclosure", "FAIL", exposed({ { topic = "th-40/1/cmd",
  payload = "{}" } }), nil, "IXIT security-relevant topic")
check("mqtt.unauthenticated-disclosure", "FAIL", exposed({ { topic = "dev/1/info",
  payload = "{\"wifi_password\": \"x\"}" } }), nil, "password in payload")
check("mqtt.unauthenticated-disclosure", "PASS", exposed({ { topic = "th-40/1/telemetry",
  payload = "{\"temperature_c\": 20.5}" } }), nil, "harmless telemetry")
check("mqtt.unauthenticated-disclosure", "INCONCLUSIVE", { port = 1883, anonymous = conn(false,
  -1, false), random = conn(false), messages = {} }, nil, "silent")
local flood = exposed({ { topic = "flood/1", payload = "ffff" } })
flood.capped, flood.elapsed_ms = "at least 200 messages", 12
check("mqtt.unauthenticated-disclosure", "INCONCLUSIVE", flood, nil, "flood: cap reached, nothing relevant")
local flood_sys = exposed({ { topic = "$SYS/broker/version", payload = "mosquitto version 2.0.11" } })
flood_sys.capped, flood_sys.elapsed_ms = "more than 262144 bytes of payload", 40
check("mqtt.unauthenticated-disclosure", "FAIL", flood_sys, nil, "flood: cap reached after a disclosure")

-- mqtt.command-needs-authorisation
local S0, S1 = "{\"commands\": 0}", "{\"commands\": 1}"
local function cmd(actors, control)
  return { command_topic = "th-40/1/cmd", state_topic = "th-40/1/state", reader = "user admin",
    actors = actors, control = control }
end
local ctl = { actor = "own user admin", connected = true, before = S0, after = S1, changed = true }
check("mqtt.command-needs-authorisation", "PASS", cmd({ { actor = "anonymous", before = S0,
  connected = false, connect = "refused: not authorised (code 5)" }, { actor = "guest",
  before = S0, connected = true, after = S0, changed = false } }, ctl), nil, "refused, no effect")
check("mqtt.command-needs-authorisation", "FAIL", cmd({ { actor = "anonymous", before = S0,
  connected = true, after = S1, changed = true } }, nil), nil, "anonymous changes state")
check("mqtt.command-needs-authorisation", "INCONCLUSIVE", cmd({ { actor = "guest", before = S0,
  connected = true, after = S0, changed = false } }, { actor = "own", connected = true,
  before = S0, after = S0, changed = false }), nil, "control without effect")
check("mqtt.command-needs-authorisation", "INCONCLUSIVE", cmd({ { actor = "anonymous",
  read_error = "refused: not authorised" } }, nil), nil, "state unreadable")
check("mqtt.command-needs-authorisation", "INCONCLUSIVE", { missing = true, actors = {} }, nil,
  "IXIT incomplete")

-- mqtt.tls-offered
local function v(name, ok, cipher)
  return { version = name, accepted = ok, cipher = cipher, reason = ok and nil or "alert" }
end
local leaf = { key_type = "EC", key_bits = 256, sig_alg = "ecdsa-with-SHA256", self_signed = false }
check("mqtt.tls-offered", "PASS", { probes = { { port = 8883, declared = true,
  accepted = { "TLSv1.2", "TLSv1.3" }, leaf = leaf, versions = { v("TLSv1.0", false),
  v("TLSv1.1", false), v("TLSv1.2", true, "ECDHE-ECDSA-AES256-GCM-SHA384"),
  v("TLSv1.3", true, "TLS_AES_256_GCM_SHA384") } } } }, nil, "1.2 and 1.3")
check("mqtt.tls-offered", "FAIL", { probes = { { port = 8883, declared = true,
  accepted = { "TLSv1.0", "TLSv1.2" }, leaf = leaf, versions = { v("TLSv1.0", true, "AES128-SHA"),
  v("TLSv1.2", true, "AES128-GCM-SHA256") } } } }, nil, "TLS 1.0 accepted")
check("mqtt.tls-offered", "FAIL", { probes = { { port = 8883, declared = true,
  accepted = { "TLSv1.2" }, leaf = leaf, versions = { v("TLSv1.2", true, "DES-CBC3-SHA") } } } },
  nil, "weak suite")
check("mqtt.tls-offered", "FAIL", { probes = { { port = 8883, declared = true,
  accepted = { "TLSv1.2" }, leaf = { key_type = "RSA", key_bits = 1024, sig_alg = "sha256WithRSA" },
  versions = { v("TLSv1.2", true, "ECDHE-RSA-AES128-GCM-SHA256") } } } }, nil, "RSA 1024")
check("mqtt.tls-offered", "FAIL", { probes = { { port = 1883, declared = true, accepted = {},
  versions = { v("TLSv1.2", false) } }, { port = 8883, declared = false, error = "tcp refused" } } },
  nil, "plain only")

-- mqtt.credentials-not-in-clear
check("mqtt.credentials-not-in-clear", "PASS", { plain = { { port = 8883,
  random = conn(false, -1, false) }, { port = 1883, random = conn(false, -1, false) } } }, nil,
  "no plain listener")
check("mqtt.credentials-not-in-clear", "FAIL", { plain = { { port = 1883, random = conn(false),
  own = conn(true), own_user = "admin" } } }, nil, "own credential in clear")
check("mqtt.credentials-not-in-clear", "FAIL", { plain = { { port = 1883, random = conn(false) } } },
  nil, "password check in clear")
check("mqtt.credentials-not-in-clear", "NOT_APPLICABLE", { plain = { { port = 1883,
  random = conn(true) } } }, nil, "open broker")

-- mqtt.factory-default-function
check("mqtt.factory-default-function", "NOT_APPLICABLE", { state = "initialised" }, nil,
  "initialised")
check("mqtt.factory-default-function", "INCONCLUSIVE", { state = "factory-default",
  as = "anonymous", topics = { "th-40/1/telemetry" } }, nil, "running in factory default")
check("mqtt.factory-default-function", "NOT_APPLICABLE", { state = "factory-default",
  as = "anonymous", topics = {} }, nil, "silent in factory default")

-- mqtt.malformed-packets
local function sent(kind, outcome, alive, reply)
  return { kind = kind, malformed = kind ~= "oversize", outcome = outcome, connack = 0,
    alive = alive, alive_outcome = alive and "reply" or "silent", reply = reply }
end
check("mqtt.malformed-packets", "PASS", { port = 1883, as = "anonymous", alive_before = true,
  sent = { sent("bad-length", "reset", true), sent("oversize", "silent", true) } }, nil, "rejected")
check("mqtt.malformed-packets", "FAIL", { port = 1883, as = "anonymous", alive_before = true,
  sent = { sent("bad-length", "silent", false) } }, nil, "hung afterwards")
check("mqtt.malformed-packets", "FAIL", { port = 1883, as = "anonymous", alive_before = true,
  sent = { sent("wildcard-hash", "reply", true, "PUBACK") } }, nil, "PUBACK to wildcard")
check("mqtt.malformed-packets", "PASS", { port = 8883, tls = true, as = "user admin",
  alive_before = true, sent = { sent("wildcard-plus", "closed", true) } }, nil, "TLS session")
check("mqtt.malformed-packets", "INCONCLUSIVE", { port = 1883, as = "anonymous",
  alive_before = false, sent = {} }, nil, "down before")

-- mqtt.brute-force-throttled
local function series(ms, extra)
  local o = { user = "admin", control = true, own_accepted = true, attempts = {}, total_ms = 0 }
  for i, m in ipairs(ms) do
    o.attempts[i] = { answered = true, accepted = false, code = 5, ms = m }
    o.total_ms = o.total_ms + m
  end
  for k, val in pairs(extra or {}) do o[k] = val end
  return o
end
check("mqtt.brute-force-throttled", "FAIL", series({ 100, 100, 100, 100, 100, 100 }), nil,
  "no throttling")
check("mqtt.brute-force-throttled", "PASS", series({ 100, 100, 100, 100, 100, 100 },
  { own_accepted = false, own_reason = "not authorised" }), nil, "lockout")
check("mqtt.brute-force-throttled", "PASS", series({ 100, 100, 100, 1100, 2100, 2100 }), nil,
  "delays")
check("mqtt.brute-force-throttled", "INCONCLUSIVE", series({ 100, 100, 100, 1100, 100, 100 },
  { control = false, own_accepted = nil }), nil, "delays then fast, no control")
check("mqtt.brute-force-throttled", "NOT_APPLICABLE", series({ 100 }, { open = true }), nil,
  "accepts anything")

print(string.format("%d of %d judge cases as expected", total - failures, total))
os.exit(failures == 0 and 0 or 1)
