-- credentials.lua: credential lists from profiles/data and credentials derived from a device.
--
--   credentials.list(name)   -> { {user=, password=}, ... } from data/credentials/<name>.lua
--   credentials.derived(dut) -> { {password=, source=}, ... }: the serial, MAC and model
--                               forms OBLIGATIONS.md names (EN-5.1-2: "not derived from
--                               serials or other product identifiers"), without duplicates
--   credentials.with_users(passwords, users) -> every user paired with every password
-- A random credential (one no device can know) is t.random_credential() in a probe.
local M = {}

function M.list(name)
  local data = load_data("credentials/" .. name)
  local out = {}
  for i, c in ipairs(data) do
    if type(c.user) ~= "string" or type(c.password) ~= "string" then
      error(string.format("credentials/%s.lua: entry %d needs user and password strings", name, i), 2)
    end
    out[#out + 1] = { user = c.user, password = c.password }
  end
  return out
end

local function add(out, seen, value, source)
  if type(value) == "string" and value ~= "" and not seen[value] then
    seen[value] = true
    out[#out + 1] = { password = value, source = source }
  end
end

-- The MAC address as 12 hex digits, or nil when it is not six octets.
local function mac_hex(mac)
  if type(mac) ~= "string" then
    return nil
  end
  local hex = mac:gsub("[:%-%.]", "")
  if #hex ~= 12 or hex:find("[^%x]") then
    return nil
  end
  return hex
end

function M.derived(dut)
  local out, seen = {}, {}
  local serial = dut.serial
  if type(serial) == "string" then
    add(out, seen, serial, "serial")
    add(out, seen, serial:lower(), "serial (lower case)")
    add(out, seen, serial:upper(), "serial (upper case)")
    local digits = serial:gsub("%D", "")
    add(out, seen, digits, "serial (digits)")
    for _, n in ipairs({ 4, 6, 8 }) do
      if #digits > n then
        add(out, seen, digits:sub(-n), "serial (last " .. n .. " digits)")
      end
    end
  end
  local hex = mac_hex(dut.mac)
  if hex then
    for _, case in ipairs({ string.lower, string.upper }) do
      local h = case(hex)
      add(out, seen, h, "MAC")
      add(out, seen, (h:gsub("(%x%x)", "%1:"):sub(1, -2)), "MAC with ':'")
      add(out, seen, (h:gsub("(%x%x)", "%1-"):sub(1, -2)), "MAC with '-'")
      add(out, seen, h:sub(-6), "MAC (last 6 hex digits)")
      add(out, seen, h:sub(-8), "MAC (last 8 hex digits)")
    end
  end
  if type(dut.model) == "string" then
    add(out, seen, dut.model, "model")
    add(out, seen, dut.model:upper(), "model (upper case)")
    add(out, seen, (dut.model:gsub("[^%w]", "")), "model (letters and digits)")
  end
  return out
end

function M.with_users(passwords, users)
  local out = {}
  for _, u in ipairs(users) do
    for _, p in ipairs(passwords) do
      out[#out + 1] = { user = u, password = p.password, source = p.source }
    end
  end
  return out
end

return M
