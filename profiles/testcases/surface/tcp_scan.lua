-- surface.tcp-scan: every network port the device answers on is one the
-- manufacturer declares (EN 303 645 provision 5.6-1, unused interfaces
-- disabled; TS 103 701 test group 5.6-1 fails anything found that IXIT 15-Intf
-- does not declare).
--
-- The probe runs a TCP connect scan of the device's address over params.ports
-- plus the ports the bench file gives the device's interfaces, one connection at
-- a time, each closed at once, with the bench's pause between ports; then a
-- CoAP ping (an empty Confirmable message) to params.udp_ports and the bench's
-- CoAP ports. The bench's simulated devices run on other ports than the ones the
-- IXIT names, so a port counts as declared when the bench file assigns it to an
-- interface whose kind (and transport) the IXIT declares, or when the IXIT names
-- the port itself. A UDP port that stays silent is "open or filtered": not
-- evidence of an open interface (a DTLS endpoint ignores the ping).

local format = require("format")

-- The bench's own ports for this device: { [proto..port] = { kind, transport } }.
local function bench_roles(dut)
  local roles = {}
  for _, itf in ipairs(dut.interfaces or {}) do
    local k = itf.kind
    if k == "modbus-tcp" or k == "mqtt-broker" then
      roles["tcp" .. itf.port] = { kind = k, transport = itf.tls and "tls" or "tcp" }
      if itf.tls_port then
        roles["tcp" .. itf.tls_port] = { kind = k, transport = "tls" }
      end
    elseif k == "coap" then
      roles["udp" .. itf.port] = { kind = k, transport = "udp" }
      if itf.dtls_port then
        roles["udp" .. itf.dtls_port] = { kind = k, transport = "dtls" }
      end
    end
  end
  return roles
end

local function merged(list, roles, proto)
  local seen, out = {}, {}
  for _, p in ipairs(list) do
    if not seen[p] then
      seen[p] = true
      out[#out + 1] = p
    end
  end
  for key in pairs(roles) do
    local p = tonumber(key:match("^" .. proto .. "(%d+)$"))
    if p and not seen[p] then
      seen[p] = true
      out[#out + 1] = p
    end
  end
  table.sort(out)
  return out
end

local function scan(dut, t, params)
  local roles = bench_roles(dut)
  local obs = { address = dut.address, tcp = {}, udp = {} }
  local tcp, why = t.surface.tcp_scan(dut.address, merged(params.ports, roles, "tcp"),
    { timeout_ms = params.timeout_ms, budget_ms = params.budget_ms })
  if not tcp then
    obs.error = why
    return obs
  end
  for _, r in ipairs(tcp) do
    local role = roles["tcp" .. r.port]
    obs.tcp[#obs.tcp + 1] = { port = r.port, state = r.state,
      kind = role and role.kind, transport = role and role.transport }
  end
  for _, p in ipairs(merged(params.udp_ports, roles, "udp")) do
    local r, uwhy = t.surface.udp_coap(dut.address, p, { timeout_ms = params.timeout_ms })
    local role = roles["udp" .. p]
    obs.udp[#obs.udp + 1] = { port = p, state = r and r.state or "error", reply = r and r.coap_reply,
      reason = uwhy, kind = role and role.kind, transport = role and role.transport }
  end
  return obs
end

-- The IXIT entry's transport: "tcp", "tls", "udp" or "dtls" (CoAP defaults to udp).
local function ixit_transport(itf)
  return itf.transport or (itf.kind == "coap" and "udp" or "tcp")
end

-- Why an open port is declared, or nil. A port the bench assigns to an interface
-- matches an IXIT entry of the same kind (for CoAP, also the same udp/dtls
-- transport: TLS or not on TCP is EN-5.5-1's concern); any port matches an IXIT
-- entry that names it on the same protocol.
local function declared(p, proto, ixit)
  for _, itf in ipairs(ixit) do
    local tr = ixit_transport(itf)
    local itf_proto = (tr == "udp" or tr == "dtls") and "udp" or "tcp"
    if itf_proto == proto then
      if p.kind and itf.kind == p.kind and (proto == "tcp" or tr == p.transport) then
        return string.format("%s (%s) as the bench assigns it", p.kind, p.transport)
      end
      if itf.port == p.port then
        return string.format("%s port %d in the IXIT", itf.kind, itf.port)
      end
    end
  end
  return nil
end

local function judge(obs, dossier)
  if obs.error then
    return INCONCLUSIVE("the scan of %s could not run: %s", tostring(obs.address), obs.error)
  end
  local ixit = (dossier.ixit or {}).interfaces
  local open, undeclared, skipped, unreachable = {}, {}, 0, 0
  for _, set in ipairs({ { "tcp", obs.tcp }, { "udp", obs.udp } }) do
    for _, p in ipairs(set[2]) do
      if p.state == "open" then
        local why = ixit and declared(p, set[1], ixit)
        local name = string.format("%s %d", set[1]:upper(), p.port)
        open[#open + 1] = name .. (why and (" (" .. why .. ")") or "")
        if ixit and not why then
          undeclared[#undeclared + 1] = name .. (p.reply and (" (answers CoAP: " .. p.reply .. ")") or "")
        end
      elseif p.state == "skipped" then
        skipped = skipped + 1
      elseif p.state == "unreachable" or p.state == "error" then
        unreachable = unreachable + 1
      end
    end
  end
  local scanned = #obs.tcp + #obs.udp
  if #undeclared > 0 then
    return FAIL("open on %s and not declared in IXIT 15-Intf: %s", obs.address,
      format.list(undeclared))
  end
  if not ixit then
    return INCONCLUSIVE("the dossier has no IXIT interface list (15-Intf) to compare the open "
      .. "ports with: %s; the manufacturer must supply it", #open > 0 and format.list(open) or "none open")
  end
  if skipped > 0 or unreachable == scanned then
    return INCONCLUSIVE("the scan of %s is incomplete: %s skipped (budget), %s unreachable; rerun it",
      obs.address, format.count(skipped, "port"), format.count(unreachable, "port"))
  end
  if #open == 0 then
    return PASS("none of the %d TCP and %d UDP ports scanned on %s is open", #obs.tcp, #obs.udp,
      obs.address)
  end
  return PASS("of %d TCP and %d UDP ports scanned on %s, only declared ones are open: %s",
    #obs.tcp, #obs.udp, obs.address, format.list(open))
end

testcase {
  id = "surface.tcp-scan",
  version = 1,
  title = "The device has no open network ports beyond those the manufacturer declares",
  description = "A gentle port scan (one connection at a time, each closed at once) of the "
    .. "device's address, compared with the interfaces the manufacturer lists (IXIT 15-Intf).",
  obligations = { "EN-5.6-1" },
  applies = { ics = { "EN-5.6-1" } },
  category = "safe",
  parameters = {
    ports = { 21, 22, 23, 25, 53, 80, 81, 110, 111, 139, 143, 443, 445, 502, 554, 802, 1883,
      1900, 2323, 3389, 5000, 5683, 5684, 7547, 8000, 8080, 8081, 8443, 8883, 9000, 49152 },
    udp_ports = { 5683, 5684 },
    timeout_ms = 1000,
    budget_ms = 45000,
  },
  probe = scan,
  judge = judge,
}
