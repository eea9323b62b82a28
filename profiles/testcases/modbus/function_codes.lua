-- modbus.function-codes: the device offers no Modbus function beyond those the
-- manufacturer declares (EN-5.6-5, only the software services needed).
--
-- Every public function code the IXIT does not declare (and the user-defined
-- ranges 65-72 and 100-110) is sent once as a well-formed request. Exception 01
-- (illegal function), silence or a closed connection mean the function is not
-- offered; a normal reply or exception 02/03 means the device implements it
-- (a server checks the function code before the address and the value).
-- Write codes go only to addresses outside the declared map, and FC 22 masks
-- leave the value unchanged. FC 08 is never sent.

local function u16(n)
  return string.char((n >> 8) & 0xff, n & 0xff)
end

-- The highest address of `table` outside every declared map range.
local function outside(dossier, table_name)
  local ranges = {}
  for _, m in ipairs(((dossier.ixit or {}).modbus or {}).map or {}) do
    if m.table == table_name then
      ranges[#ranges + 1] = m
    end
  end
  for a = 65535, 0, -1 do
    local inside = false
    for _, m in ipairs(ranges) do
      if a >= m.start and a < m.start + m.count then
        inside = true
      end
    end
    if not inside then
      return a
    end
  end
  return nil
end

-- The request data (after the function code) for each public code probed.
local function requests(dossier)
  local coil, reg = outside(dossier, "coils"), outside(dossier, "holding")
  local list = {
    { fc = 1, data = u16(0) .. u16(1) },
    { fc = 2, data = u16(0) .. u16(1) },
    { fc = 3, data = u16(0) .. u16(1) },
    { fc = 4, data = u16(0) .. u16(1) },
    { fc = 5, data = coil and (u16(coil) .. u16(0)), write = true },
    { fc = 6, data = reg and (u16(reg) .. u16(0)), write = true },
    { fc = 7, data = "" },
    { fc = 11, data = "" },
    { fc = 12, data = "" },
    { fc = 15, data = coil and (u16(coil) .. u16(1) .. "\1\0"), write = true },
    { fc = 16, data = reg and (u16(reg) .. u16(1) .. "\2" .. u16(0)), write = true },
    { fc = 17, data = "" },
    { fc = 20, data = "\7\6" .. u16(1) .. u16(0) .. u16(1) },
    { fc = 21, data = "\0", write = true }, -- byte count 0: nothing can be written
    { fc = 22, data = reg and (u16(reg) .. u16(0xffff) .. u16(0)), write = true },
    { fc = 23, data = reg and (u16(reg) .. u16(1) .. u16(reg) .. u16(1) .. "\2" .. u16(0)),
      write = true },
    { fc = 24, data = reg and u16(reg) },
    { fc = 43, data = "\14\1\0" },
  }
  return list
end

local function declared_set(dossier)
  local codes = ((dossier.ixit or {}).modbus or {}).function_codes
  if type(codes) ~= "table" then
    return nil
  end
  local set = {}
  for _, c in ipairs(codes) do
    set[c] = true
  end
  return set
end

local function send(conn, unit, tid, fc, data)
  local pdu = string.char(fc) .. data
  local adu = u16(tid) .. u16(0) .. u16(#pdu + 1) .. string.char(unit) .. pdu
  local r, why = conn:raw(adu)
  if not r then
    return { outcome = "closed", reason = why }
  end
  local rec = { outcome = r.outcome, exception = r.exception, elapsed_ms = r.elapsed_ms }
  if r.outcome == "reply" then
    rec.reply_fc = #r.bytes >= 8 and r.bytes:byte(8) or nil
  end
  return rec
end

testcase {
  id = "modbus.function-codes",
  version = 1,
  title = "The device offers only the Modbus functions its manufacturer declares",
  description = "Sends each function code the manufacturer does not declare once; a device that "
    .. "answers one runs a service nobody said was needed. Writes are aimed only at addresses "
    .. "outside the declared register map.",
  obligations = { "EN-5.6-5" },
  applies = { interface = "modbus-tcp", ics = { "EN-5.6-5" } },
  category = "intrusive",
  parameters = { user_defined = true },
  probe = function(dut, t, params, dossier)
    local declared = declared_set(dossier)
    if not declared then
      return { declared = false, probes = {} }
    end
    local list = {}
    for _, q in ipairs(requests(dossier)) do
      if not declared[q.fc] then
        list[#list + 1] = q
      end
    end
    if params.user_defined then
      for _, range in ipairs({ { 65, 72 }, { 100, 110 } }) do
        for fc = range[1], range[2] do
          if not declared[fc] then
            list[#list + 1] = { fc = fc, data = "" }
          end
        end
      end
    end
    local obs = { declared = true, probes = {} }
    local unit = dut.modbus_tcp.unit_id or 1
    local conn, why = nil, nil
    for i, q in ipairs(list) do
      local rec = { fc = q.fc }
      obs.probes[#obs.probes + 1] = rec
      if q.data == nil then
        rec.outcome = "skipped"
        rec.reason = "no address outside the declared map"
      else
        if not (conn and conn:is_open()) then
          if conn then
            conn:close()
          end
          conn, why = t.modbus.open(dut.modbus_tcp)
        end
        if not conn then
          rec.outcome = "unreachable"
          rec.reason = why
        else
          local r = send(conn, unit, i, q.fc, q.data)
          for k, v in pairs(r) do
            rec[k] = v
          end
          if r.outcome == "timeout" then
            conn:close() -- a late reply must not fall into the next request
          end
        end
      end
    end
    if conn then
      conn:close()
    end
    return obs
  end,
  judge = function(obs)
    if not obs.declared then
      return INCONCLUSIVE("the IXIT declares no function codes (ixit.modbus.function_codes)")
    end
    local offered, refused, silent, unclear = {}, {}, {}, {}
    for _, p in ipairs(obs.probes) do
      local name = string.format("%d", p.fc)
      if p.outcome == "reply" and p.reply_fc == p.fc then
        offered[#offered + 1] = name .. " (normal reply)"
      elseif p.outcome == "exception" and (p.exception == 2 or p.exception == 3) then
        offered[#offered + 1] = string.format("%s (exception %02X: implemented)", name, p.exception)
      elseif p.outcome == "exception" and p.exception == 1 then
        refused[#refused + 1] = name
      elseif p.outcome == "timeout" or p.outcome == "closed" or p.outcome == "reset" then
        silent[#silent + 1] = name .. " (" .. p.outcome .. ")"
      else
        unclear[#unclear + 1] = string.format("%s (%s%s%s)", name, p.outcome,
          p.exception and string.format(" %02X", p.exception) or "",
          p.reply_fc and string.format(" with function code %d", p.reply_fc) or "")
      end
    end
    if #offered > 0 then
      return FAIL("undeclared function codes are offered: %s", table.concat(offered, ", "))
    end
    if #unclear > 0 then
      return INCONCLUSIVE("undeclared function codes with an unclear answer: %s; the assessor "
        .. "decides whether they are offered", table.concat(unclear, ", "))
    end
    local extra = #silent > 0 and ("; no answer to " .. table.concat(silent, ", ")) or ""
    return PASS("%d undeclared function codes get exception 01 (illegal function): %s%s",
      #refused, table.concat(refused, ", "), extra)
  end,
}
