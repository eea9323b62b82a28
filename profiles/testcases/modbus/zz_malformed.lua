-- modbus.malformed-frames: the device rejects malformed Modbus/TCP frames and
-- keeps working (EN-5.13-1, validate input data).
--
-- The file name sorts last so that a device this hangs does not spoil the
-- other test cases. Each frame goes out once, as raw bytes; then the liveness
-- register the IXIT names is read, on a new connection if the device closed
-- the old one (connection errors just after a close are retried until the
-- liveness deadline, so a device that frees its socket slowly is not taken for
-- dead). Exceptions 01, 02, 03, 04, 0A, 0B, a dropped frame (silence) and a
-- closed connection are rejections. Lost liveness is FAIL, and nothing more is
-- sent. A normal reply to a request whose values no valid request can carry is
-- FAIL; to the other frames it goes to the assessor. Writes only go to
-- addresses outside the declared map. FC 08 is never sent.

local function u16(n)
  return string.char((n >> 8) & 0xff, n & 0xff)
end

-- An ADU with MBAP length `len` (default: the real one) and protocol id `proto`.
local function adu(tid, unit, pdu, len, proto)
  return u16(tid) .. u16(proto or 0) .. u16(len or (#pdu + 1)) .. string.char(unit) .. pdu
end

-- The frames, as functions of the unit id; `strict`: a normal reply is FAIL.
local function frames(unit, outside)
  local read1 = "\3" .. u16(0) .. u16(1)
  return {
    { name = "protocol id 0x1234", bytes = adu(1, unit, read1, nil, 0x1234) },
    { name = "MBAP length 0", bytes = adu(2, unit, read1, 0) },
    { name = "MBAP length 0xFFFF (more than 254)", bytes = adu(3, unit, read1, 0xffff) },
    { name = "MBAP length 20 with 6 bytes sent (truncated frame)", bytes = adu(4, unit, read1, 20) },
    { name = "FC 03 reading 0 registers", bytes = adu(5, unit, "\3" .. u16(0) .. u16(0)),
      strict = true },
    { name = "FC 03 reading 126 registers (at most 125)",
      bytes = adu(6, unit, "\3" .. u16(0) .. u16(126)), strict = true },
    { name = "FC 03 reading past address 65535",
      bytes = adu(7, unit, "\3" .. u16(65535) .. u16(2)), strict = true },
    { name = "FC 03 with its quantity missing", bytes = adu(9, unit, "\3" .. u16(0)) },
    { name = "FC 03 with 4 bytes after the request", bytes = adu(10, unit, read1 .. "\0\0\0\0") },
    { name = "FC 16 whose byte count disagrees with its quantity (outside the map)",
      bytes = adu(11, unit, "\16" .. u16(outside) .. u16(2) .. "\2" .. u16(0)), strict = true },
    { name = "function code 0x80 (an exception code as a request)", bytes = adu(12, unit, "\128") },
    { name = "FC 0x2B/0x0E with read device id code 9 (undefined)",
      bytes = adu(13, unit, "\43\14\9\0") },
    { name = "largest frame: FC 0x7F with 252 bytes of 0xAA",
      bytes = adu(14, unit, "\127" .. string.rep("\170", 252)) },
  }
end

local function outside_holding(dossier)
  local ranges = ((dossier.ixit or {}).modbus or {}).map or {}
  for a = 65534, 0, -1 do
    local inside = false
    for _, m in ipairs(ranges) do
      if m.table == "holding" and a + 1 >= m.start and a < m.start + m.count then
        inside = true
      end
    end
    if not inside then
      return a
    end
  end
  return 65534
end

-- Reads the liveness register; reconnects (polling up to deadline_ms) when the
-- connection is gone. Returns the connection (or nil), alive, reason.
local function liveness(t, dut, conn, reg, deadline_ms)
  local stop = t.now_ms() + deadline_ms
  local why
  repeat
    if not (conn and conn:is_open()) then
      if conn then
        conn:close()
      end
      conn, why = t.modbus.open(dut.modbus_tcp)
    end
    if conn then
      local ok, reason = conn:alive(reg)
      if ok then
        return conn, true
      end
      why = reason
      if not tostring(reason):find("^closed") and not tostring(reason):find("^reset") then
        return conn, false, why -- silence on an open connection: no retry
      end
    end
    t.sleep_ms(50)
  until t.now_ms() >= stop
  return conn, false, why
end

local REJECTIONS = { [1] = true, [2] = true, [3] = true, [4] = true, [10] = true, [11] = true }

testcase {
  id = "modbus.malformed-frames",
  version = 1,
  title = "The device rejects malformed Modbus frames and keeps working",
  description = "Sends Modbus/TCP frames with broken headers, impossible quantities and wrong "
    .. "lengths, one at a time, and checks after each that the device still answers.",
  obligations = { "EN-5.13-1" },
  applies = { interface = "modbus-tcp", ics = { "EN-5.13-1" } },
  category = "intrusive",
  parameters = { liveness_deadline_ms = 5000 },
  probe = function(dut, t, params, dossier)
    local reg = ((dossier.ixit or {}).modbus or {}).liveness_register
      or { table = "input", address = 0 }
    local obs = { liveness_register = reg, frames = {} }
    local conn, ok, why = liveness(t, dut, nil, reg, params.liveness_deadline_ms)
    obs.alive_before, obs.alive_before_reason = ok, why
    if not ok then
      if conn then
        conn:close()
      end
      return obs
    end
    for _, f in ipairs(frames(dut.modbus_tcp.unit_id or 1, outside_holding(dossier))) do
      local rec = { name = f.name, strict = f.strict, sent = #f.bytes }
      obs.frames[#obs.frames + 1] = rec
      if not conn:is_open() then
        conn:close()
        conn, why = t.modbus.open(dut.modbus_tcp)
        if not conn then
          rec.outcome, rec.reason = "not sent", why
          break
        end
      end
      local r, err = conn:raw(f.bytes)
      if not r then
        rec.outcome, rec.reason = "closed", err
      else
        rec.outcome, rec.exception, rec.elapsed_ms = r.outcome, r.exception, r.elapsed_ms
        rec.reply = r.bytes:sub(1, 16)
        -- An exception reply to a function code of 0x80 or more wraps round (0x80 + 0x80
        -- is 0x00 in a byte), so the driver cannot tell it from a normal reply.
        local fc = f.bytes:byte(8)
        if r.outcome == "reply" and #r.bytes == 9 and fc >= 0x80
          and r.bytes:byte(8) == ((fc + 0x80) & 0xff) then
          rec.outcome, rec.exception = "exception", r.bytes:byte(9)
        end
      end
      if rec.outcome ~= "reply" and rec.outcome ~= "exception" then
        conn:close() -- the stream may be part-way through a frame
      end
      conn, rec.alive, rec.alive_reason = liveness(t, dut, conn, reg, params.liveness_deadline_ms)
      if not rec.alive then
        break
      end
    end
    if conn then
      conn:close()
    end
    return obs
  end,
  judge = function(obs)
    local reg = obs.liveness_register or {}
    local regname = string.format("%s register %s", tostring(reg.table), tostring(reg.address))
    if not obs.alive_before then
      return INCONCLUSIVE("the device did not answer before any malformed frame was sent "
        .. "(%s: %s); start from a working device", regname, tostring(obs.alive_before_reason))
    end
    local rejected, accepted, odd = {}, {}, {}
    for _, f in ipairs(obs.frames) do
      if f.outcome == "not sent" then
        return INCONCLUSIVE("could not reconnect to send %q: %s", f.name, tostring(f.reason))
      end
      if not f.alive then
        return FAIL("after %q (%s) the device no longer answers (liveness read of %s: %s)",
          f.name, f.outcome, regname, tostring(f.alive_reason))
      end
      if f.outcome == "exception" and REJECTIONS[f.exception] then
        rejected[#rejected + 1] = string.format("%s: exception %02X", f.name, f.exception)
      elseif f.outcome == "timeout" or f.outcome == "closed" or f.outcome == "reset" then
        rejected[#rejected + 1] = string.format("%s: %s", f.name,
          f.outcome == "timeout" and "dropped" or f.outcome)
      elseif f.outcome == "reply" then
        accepted[#accepted + 1] = f
      else
        odd[#odd + 1] = string.format("%s: %s%s", f.name, tostring(f.outcome),
          f.exception and string.format(" %02X", f.exception) or "")
      end
    end
    for _, f in ipairs(accepted) do
      if f.strict then
        return FAIL("%q was answered as a valid request: the device does not validate it",
          f.name)
      end
    end
    if #accepted > 0 or #odd > 0 then
      local names = {}
      for _, f in ipairs(accepted) do
        names[#names + 1] = f.name .. ": answered as valid"
      end
      for _, s in ipairs(odd) do
        names[#names + 1] = s
      end
      return ASSESSOR("the device stayed alive, but did not reject %s; the assessor judges "
        .. "whether that is acceptable", table.concat(names, "; "))
    end
    return PASS("%d malformed frames rejected (%s); %s answered after each",
      #rejected, table.concat(rejected, "; "), regname)
  end,
}
