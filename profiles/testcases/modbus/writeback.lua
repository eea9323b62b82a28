-- modbus.static-writeback: a security-relevant register cannot be changed over
-- Modbus/TCP without authentication (EN-5.5-5).
--
-- Only registers that the IXIT names both security-relevant and static (safe to
-- write back unchanged) are touched. For each: read it, write the value just
-- read back (FC 06, then FC 16, or FC 05 / FC 15 for coils), and read again.
-- Modbus/TCP has no authentication, so an accepted write is FAIL. If the value
-- changed between the reads, something else is changing the register: that is
-- an alert for the assessor, the write is never retried, and no further
-- register is written.

local function key(r)
  return string.format("%s:%d", tostring(r.table), tonumber(r.address) or -1)
end

-- The registers the IXIT marks both security-relevant and static.
local function targets(dossier)
  local ixit = dossier.ixit or {}
  local static = {}
  for _, r in ipairs((ixit.modbus or {}).static_registers or {}) do
    static[key(r)] = true
  end
  local out = {}
  for _, r in ipairs((ixit.security_relevant or {}).modbus_registers or {}) do
    if static[key(r)] and (r.table == "holding" or r.table == "coils") then
      out[#out + 1] = { table = r.table, address = r.address }
    end
  end
  return out
end

-- A read or write result as plain data.
local function outcome(r, why)
  if r == nil then
    return { outcome = "none", reason = why }
  elseif r == true then
    return { outcome = "accepted" }
  elseif r.exception then
    return { outcome = "exception", exception = r.exception, name = r.name }
  end
  return { outcome = "value", value = r[1] }
end

-- read, write the value back with one function code, read again.
local function write_back(conn, reg, multiple)
  local step = { fc = reg.table == "holding" and (multiple and 16 or 6) or (multiple and 15 or 5) }
  step.before = outcome(conn:read(reg.table, reg.address, 1))
  if step.before.outcome ~= "value" then
    return step
  end
  local v = step.before.value
  step.write = outcome(conn:write(reg.table, reg.address, multiple and { v } or v))
  step.after = outcome(conn:read(reg.table, reg.address, 1))
  step.changed = step.after.outcome == "value" and step.after.value ~= v
  return step
end

testcase {
  id = "modbus.static-writeback",
  version = 1,
  title = "Security-relevant settings cannot be changed over Modbus/TCP without authentication",
  description = "Writes the value it has just read back to each security-relevant register the "
    .. "manufacturer marks static, and reads it again. Modbus/TCP has no authentication, so a "
    .. "device that accepts the write lets anyone on the network change that setting.",
  obligations = { "EN-5.5-5" },
  applies = { interface = "modbus-tcp", ics = { "EN-5.5-5" } },
  category = "intrusive",
  probe = function(dut, t, params, dossier)
    local regs = targets(dossier)
    local obs = { registers = {} }
    if #regs == 0 then
      return obs
    end
    local conn <close>, why = t.modbus.open(dut.modbus_tcp)
    if not conn then
      obs.open_error = why
      return obs
    end
    for _, reg in ipairs(regs) do
      local entry = { table = reg.table, address = reg.address, steps = {} }
      obs.registers[#obs.registers + 1] = entry
      for _, multiple in ipairs({ false, true }) do
        local step = write_back(conn, reg, multiple)
        entry.steps[#entry.steps + 1] = step
        if step.changed then
          obs.alert = string.format("%s register %d changed from %d to %d between the reads "
            .. "around the FC %d write-back; not retried, no further register written",
            reg.table, reg.address, step.before.value, step.after.value, step.fc)
          return obs
        end
        if step.before.outcome ~= "value" or not conn:is_open() then
          break
        end
      end
      if not conn:is_open() then
        obs.closed = string.format("the connection closed at %s register %d", reg.table,
          reg.address)
        break
      end
    end
    return obs
  end,
  judge = function(obs)
    if obs.registers == nil or #obs.registers == 0 then
      return INCONCLUSIVE("the IXIT names no security-relevant register that is also marked "
        .. "static (safe to write back): declare them in ixit.modbus.static_registers")
    end
    if obs.open_error then
      return INCONCLUSIVE("could not connect to Modbus/TCP: %s", obs.open_error)
    end
    local accepted, refused, unread = {}, {}, {}
    for _, reg in ipairs(obs.registers) do
      local name = string.format("%s %d", reg.table, reg.address)
      for _, s in ipairs(reg.steps) do
        if s.before.outcome ~= "value" then
          unread[#unread + 1] = string.format("%s (read: %s)", name,
            s.before.reason or s.before.name or s.before.outcome)
        elseif s.write.outcome == "accepted" and not s.changed then
          accepted[#accepted + 1] = string.format("%s (FC %d, value %d)", name, s.fc, s.before.value)
        elseif s.write.outcome == "exception" then
          refused[#refused + 1] = string.format("%s FC %d: exception %02X", name, s.fc,
            s.write.exception)
        elseif s.write.outcome == "none" then
          unread[#unread + 1] = string.format("%s (FC %d write: %s)", name, s.fc,
            tostring(s.write.reason))
        end
      end
    end
    local alert = obs.alert and ("; ALERT: " .. obs.alert) or ""
    if #accepted > 0 then
      return FAIL("writing the value read back to static security-relevant %s was accepted "
        .. "without authentication%s", table.concat(accepted, ", "), alert)
    end
    if obs.alert then
      return INCONCLUSIVE("ALERT: %s; the assessor must find what changes it and decide whether "
        .. "to test again", obs.alert)
    end
    if #unread > 0 then
      return INCONCLUSIVE("write-back not completed for %s%s", table.concat(unread, ", "),
        obs.closed and ("; " .. obs.closed) or "")
    end
    return PASS("writing the same value back to static security-relevant registers was refused: "
      .. "%s", table.concat(refused, ", "))
  end,
}
