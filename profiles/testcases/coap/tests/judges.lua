-- judges.lua: unit tests of the CoAP test cases' judges, fed observations
-- written by hand, so that every verdict each judge can give is exercised
-- (including the FAILs the demo bench has no personality for).
-- Run: lua5.4 profiles/testcases/coap/tests/judges.lua PROFILES_DIR
-- Exits 0 when every case gets its expected verdict, 1 otherwise.
local root = assert(arg[1], "usage: judges.lua PROFILES_DIR")

local load_testcases = dofile(root .. "/testcases/tests/loader.lua")
local cases = load_testcases(root, "coap", {
  "amplification", "config_write", "disclosure", "dtls", "nosec_access",
  "passwords", "psk_unique", "resources", "zz_malformed" })

local dossier = {
  ixit = {
    disclosed_information = {},
    security_relevant = { coap_resources = { "/config", "/fw" } },
    coap = { resources = { "/.well-known/core", "/sensor/temp", "/config", "/fw" },
      config_resource = "/config" },
  },
}

local failures, total = 0, 0
local function check(id, want, obs, dos, note)
  total = total + 1
  local tc = assert(cases[id], id)
  local params = tc.parameters or {}
  local ok, v = pcall(tc.judge, obs, dos or dossier, params)
  local got = ok and (v.verdict .. (v.resolve and "/" .. v.resolve or "")) or ("error: " .. tostring(v))
  if got ~= want then
    failures = failures + 1
    print(string.format("FAIL %s (%s): got %s, want %s: %s", id, note, got, want,
      ok and v.rationale or ""))
  else
    print(string.format("ok   %s (%s): %s", id, note, v.rationale))
  end
end

-- coap.dtls-offered
check("coap.dtls-offered", "PASS", { state = "established", version = "DTLSv1.2", cipher = "X",
  dtls_port = 5684, port_declared = true, own_psk = true, nosec_alive = true }, nil, "handshake")
check("coap.dtls-offered", "FAIL", { state = "established", version = "DTLSv1.0", dtls_port = 5684,
  port_declared = true, own_psk = true, nosec_alive = true }, nil, "old DTLS")
check("coap.dtls-offered", "FAIL", { state = "unreachable", dtls_port = 5684, port_declared = false,
  own_psk = false, nosec_alive = true }, nil, "NoSec only")
check("coap.dtls-offered", "INCONCLUSIVE", { state = "silent", dtls_port = 5684,
  port_declared = true, own_psk = true, nosec_alive = false }, nil, "device down")
check("coap.dtls-offered", "INCONCLUSIVE", { state = "rejected", dtls_port = 5684,
  port_declared = true, own_psk = true, nosec_alive = true }, nil, "wrong key in bench")
local function pki(over)
  local p = { state = "established", version = "DTLSv1.2", cipher = "ECDHE-ECDSA-AES128-GCM-SHA256",
    client_cert = false, ca_checked = true, verified = true, name_matches = true,
    server_cert = { subject = "CN=unit", issuer = "CN=maker-ca", key_type = "EC", key_bits = 256,
      not_before = "2026-01-01T00:00:00Z", not_after = "2027-01-01T00:00:00Z" } }
  for k, v in pairs(over or {}) do p[k] = v end
  return { state = "rejected", dtls_port = 5684, port_declared = true, own_psk = false,
    nosec_alive = true, pki = p }
end
check("coap.dtls-offered", "PASS", pki(), nil, "certificates, verified")
check("coap.dtls-offered", "PASS", pki({ ca_checked = false, verified = nil }), nil,
  "certificates, no CA to verify against")
check("coap.dtls-offered", "FAIL", pki({ version = "DTLSv1.0" }), nil, "certificates, old DTLS")
check("coap.dtls-offered", "FAIL", pki({ server_cert = { subject = "CN=unit", key_type = "RSA",
  key_bits = 1024 } }), nil, "certificates, 1024-bit RSA")
check("coap.dtls-offered", "INCONCLUSIVE", pki({ verified = false,
  verify_error = "unable to get local issuer certificate" }), nil, "certificate not verified")
check("coap.dtls-offered", "INCONCLUSIVE", pki({ state = "rejected" }), nil,
  "client certificate required")
check("coap.dtls-offered", "INCONCLUSIVE", pki({ state = "rejected", server_cert = false }), nil,
  "neither PSK nor certificates complete")

-- coap.nosec-refused
check("coap.nosec-refused", "PASS", { control = false, attempts = {
  { path = "/config", nosec = "4.01", nosec_class = 4 },
  { path = "/fw", nosec = "4.03", nosec_class = 4 } } }, nil, "refused")
check("coap.nosec-refused", "FAIL", { control = false, attempts = {
  { path = "/config", nosec = "4.01", nosec_class = 4 },
  { path = "/fw", nosec = "2.05", nosec_class = 2 } } }, nil, "one open")
check("coap.nosec-refused", "INCONCLUSIVE", { control = false, attempts = {
  { path = "/config", nosec = "timeout" } } }, nil, "silence")
check("coap.nosec-refused", "INCONCLUSIVE", { control = false, attempts = {} }, nil, "no IXIT")

-- coap.config-write-nosec
local function cw(a1, a2)
  return { resource = "/config", read_channel = "dtls", attempts = { a1, a2 } }
end
check("coap.config-write-nosec", "PASS", cw({ method = "PUT", code = "4.01", class = 4,
  changed = false }, { method = "POST", code = "4.03", class = 4, changed = false }), nil, "refused")
check("coap.config-write-nosec", "FAIL", cw({ method = "PUT", code = "2.04", class = 2,
  changed = true, restored = true }, { method = "POST", code = "4.01", class = 4, changed = false }),
  nil, "PUT applied")
check("coap.config-write-nosec", "FAIL", cw({ method = "PUT", code = "4.01", class = 4,
  changed = true, restored = false }, { method = "POST", code = "4.01", class = 4, changed = false }),
  nil, "refused but changed")
check("coap.config-write-nosec", "INCONCLUSIVE", cw({ method = "PUT", code = "4.00", class = 4,
  changed = false }, { method = "POST", code = "timeout", changed = false }), nil, "bad request")
check("coap.config-write-nosec", "INCONCLUSIVE", { resource = "/config", attempts = {} }, nil,
  "unreadable")
check("coap.config-write-nosec", "INCONCLUSIVE", { resource = false }, nil, "no resource")

-- coap.undeclared-resources
check("coap.undeclared-resources", "PASS", { nosec = { "/sensor/temp", "/config", "/fw" },
  guesses = { { path = "/debug", code = "4.04" } } }, nil, "declared only")
check("coap.undeclared-resources", "FAIL", { nosec = { "/sensor/temp" },
  dtls = { "/sensor/temp", "/admin" }, guesses = {} }, nil, "listed over DTLS")
check("coap.undeclared-resources", "FAIL", { nosec = { "/sensor/temp" },
  guesses = { { path = "/shell", code = "4.01" } } }, nil, "hidden but protected")
check("coap.undeclared-resources", "INCONCLUSIVE", { nosec_error = "timeout", guesses = {} }, nil,
  "no discovery")
check("coap.undeclared-resources", "INCONCLUSIVE", { nosec = { "/x" }, guesses = {} },
  { ixit = {} }, "no IXIT")

-- coap.unauthenticated-disclosure
check("coap.unauthenticated-disclosure", "PASS", { discovery = "2.05", reads = {
  { path = "/sensor/temp", code = "2.05", body = "21.5" },
  { path = "/fw", code = "4.01" } } }, nil, "telemetry only")
check("coap.unauthenticated-disclosure", "FAIL", { discovery = "2.05", reads = {
  { path = "/status", code = "2.05", body = "uptime=5\nfirmware=1.2.3" } } }, nil, "version")
check("coap.unauthenticated-disclosure", "FAIL", { discovery = "2.05", reads = {
  { path = "/fw", code = "2.05", body = "x" } } }, nil, "relevant resource")
local declared = { ixit = { disclosed_information = { "firmware version on /fw" },
  security_relevant = { coap_resources = { "/fw" } }, coap = { resources = { "/fw" } } } }
check("coap.unauthenticated-disclosure", "INCONCLUSIVE/assessor", { discovery = "2.05", reads = {
  { path = "/fw", code = "2.05", body = "version=1" } } }, declared, "declared")

-- coap.amplification
check("coap.amplification", "PASS", { request_bytes = 25, reply_bytes = 86, reply_type = "ACK",
  reply_code = "2.05" }, nil, "small")
check("coap.amplification", "FAIL", { request_bytes = 25, reply_bytes = 1042, reply_type = "ACK",
  reply_code = "2.05", body_bytes = 3275, exchanges = 4 }, nil, "large")
check("coap.amplification", "PASS", { request_bytes = 25, alive = true }, nil, "no reply")
check("coap.amplification", "INCONCLUSIVE", { request_bytes = 25, alive = false }, nil, "down")

-- coap.password-login
check("coap.password-login", "NOT_APPLICABLE", { nosec = "2.05", psk = true, links = {
  { target = "/sensor/temp", text = "/sensor/temp temperature-c" } } }, nil, "no login")
check("coap.password-login", "INCONCLUSIVE/assessor", { nosec = "4.01", dtls = "2.05", psk = true,
  links = { { target = "/auth", text = "/auth" } } }, nil, "login resource")
check("coap.password-login", "INCONCLUSIVE", { nosec = "timeout", psk = false, links = {} }, nil,
  "no discovery")

-- coap.psk-unique (model scope)
local function unit(id, o)
  return { device = { id = id, model = "ls-500" }, observations = o }
end
local function psk(fp, extra)
  local o = { has_psk = true, origin = "preinstalled", identity = "i", key_bytes = 32,
    fingerprint = fp, works = true, dtls_state = "established" }
  for k, v in pairs(extra or {}) do
    o[k] = v
  end
  return o
end
check("coap.psk-unique", "PASS", { unit("a", psk("01")), unit("b", psk("02")) }, nil, "distinct")
check("coap.psk-unique", "FAIL", { unit("a", psk("01")), unit("b", psk("01")) }, nil, "shared")
check("coap.psk-unique", "FAIL", { unit("a", psk("01", { derived_from = "serial" })),
  unit("b", psk("02")) }, nil, "derived from serial")
check("coap.psk-unique", "INCONCLUSIVE", { unit("a", psk("01")),
  unit("b", psk("01", { works = false, dtls_state = "rejected" })) }, nil, "unverified key")
check("coap.psk-unique", "INCONCLUSIVE", { unit("a", psk("01")) }, nil, "one unit")
check("coap.psk-unique", "NOT_APPLICABLE", { unit("a", psk("01", { origin = "user-defined" })),
  unit("b", psk("01", { origin = "user-defined" })) }, nil, "user-defined")
check("coap.psk-unique", "NOT_APPLICABLE", { unit("a", { has_psk = false,
  dtls_state = "unreachable", dtls_port = 5684 }) }, nil, "no DTLS")
check("coap.psk-unique", "INCONCLUSIVE", { unit("a", { has_psk = false, dtls_state = "rejected",
  dtls_port = 5684 }) }, nil, "DTLS but no key recorded")

-- coap.malformed
local up = { ping = "answered", get = "2.05", ok = true }
local down = { ping = "timeout", get = "timeout", ok = false }
check("coap.malformed", "PASS", { public = "/sensor/temp", before = up, sent = {
  { label = "tkl-15", strict = true, reply = "RST 0.00", class = 0, type = "RST", after = up },
  { label = "crit", strict = true, reply = "ACK 4.02", class = 4, type = "ACK", after = up },
  { label = "query", strict = false, reply = "ACK 2.05", class = 2, type = "ACK", after = up },
  { label = "v2", strict = true, reply = "silence", after = up } } }, nil, "rejections")
check("coap.malformed", "FAIL", { public = "/sensor/temp", before = up, sent = {
  { label = "crit", strict = true, reply = "ACK 2.05", class = 2, type = "ACK", after = up } } },
  nil, "2.05 to a critical option")
check("coap.malformed", "FAIL", { public = "/sensor/temp", before = up, sent = {
  { label = "ctl", strict = false, reply = "silence", after = down } } }, nil, "hung")
check("coap.malformed", "INCONCLUSIVE", { public = "/sensor/temp", before = down, sent = {} }, nil,
  "down before")

print(string.format("%d of %d judge cases as expected", total - failures, total))
os.exit(failures == 0 and 0 or 1)
