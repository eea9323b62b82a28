-- judges.lua: unit tests of surface.tcp-scan's judge on scans written by hand:
-- declared by the bench's interface kind, by IXIT port, undeclared TCP and UDP,
-- no IXIT, an incomplete scan, an unusable address.
-- Run: lua5.4 profiles/testcases/surface/tests/judges.lua PROFILES_DIR
local root = assert(arg[1], "usage: judges.lua PROFILES_DIR")
local load_testcases = dofile(root .. "/testcases/tests/loader.lua")
local tc = load_testcases(root, "surface", { "tcp_scan" })["surface.tcp-scan"]

local ixit = { ixit = { interfaces = { { kind = "coap", port = 5683 },
  { kind = "coap", port = 5684, transport = "dtls" }, { kind = "modbus-tcp", port = 502 } } } }
local failures, total = 0, 0
local function check(want, obs, dossier, note)
  total = total + 1
  local ok, v = pcall(tc.judge, obs, dossier or ixit, tc.parameters)
  local got = ok and v.verdict or ("error: " .. tostring(v))
  if got ~= want then
    failures = failures + 1
    print(string.format("FAIL %s: want %s, got %s: %s", note, want, got, ok and v.rationale or ""))
  end
end
local function scan(tcp, udp)
  return { address = "127.0.0.2", tcp = tcp, udp = udp or {} }
end
check("PASS", scan({ { port = 40001, state = "open", kind = "modbus-tcp", transport = "tcp" },
  { port = 23, state = "closed" } }), nil, "bench port of a declared kind")
check("PASS", scan({ { port = 502, state = "open" } }), nil, "IXIT port")
check("FAIL", scan({ { port = 40001, state = "open", kind = "modbus-tcp", transport = "tcp" },
  { port = 2323, state = "open" } }), nil, "undeclared TCP 2323")
check("FAIL", scan({}, { { port = 40002, state = "open", kind = "coap", transport = "dtls" } }),
  { ixit = { interfaces = { { kind = "coap", port = 5683 } } } }, "DTLS not declared")
check("PASS", scan({}, { { port = 40003, state = "filtered", kind = "coap", transport = "dtls" } }),
  nil, "silent UDP is not open")
check("FAIL", scan({ { port = 8080, state = "open" } }), nil, "undeclared web server")
check("INCONCLUSIVE", scan({ { port = 8080, state = "open" } }), {}, "no IXIT")
check("INCONCLUSIVE", scan({ { port = 22, state = "skipped" } }), nil, "budget ran out")
check("INCONCLUSIVE", { address = "10.0.0.1", error = "out of scope: 10.0.0.1" }, nil, "scope")
print(string.format("%d of %d surface judge cases as expected", total - failures, total))
os.exit(failures == 0 and 0 or 1)
