-- modbus.disclosure: what the device tells anyone on the network about itself
-- without authentication (EN-5.6-2): the device identification objects (FC 0x2B
-- / MEI 0x0E, extended level) and the server id (FC 0x11).
--
-- Judged against the IXIT's disclosed_information, as OBLIGATIONS.md says:
-- what is undeclared and security-relevant (a revision or version, the server
-- id's software string, vendor-specific objects) is FAIL; what is declared, or
-- undeclared but harmless (vendor, product code, names), goes to the assessor;
-- a device that discloses nothing passes.

local OBJECTS = {
  [0] = { name = "VendorName", words = { "vendor" } },
  [1] = { name = "ProductCode", words = { "product code" } },
  [2] = { name = "MajorMinorRevision", words = { "revision", "version" }, relevant = true },
  [3] = { name = "VendorUrl", words = { "url" } },
  [4] = { name = "ProductName", words = { "product name" } },
  [5] = { name = "ModelName", words = { "model name" } },
  [6] = { name = "UserApplicationName", words = { "application" } },
}

local function mentions(text, words)
  for _, w in ipairs(words) do
    if text:find(w, 1, true) then
      return true
    end
  end
  return false
end

-- Is a disclosure declared by one of the IXIT's disclosed_information items?
local function declared(items, via, words)
  for _, item in ipairs(items) do
    if type(item) == "string" then
      local s = item:lower()
      if mentions(s, via) and mentions(s, words) then
        return true
      end
    end
  end
  return false
end

local function printable(s)
  if type(s) ~= "string" then
    return "(binary)"
  end
  return (s:gsub("[^\32-\126]", "?"):sub(1, 40))
end

-- FC 0x11 on conn, or on a new connection if the device closed conn.
local function server_id(t, dut, conn)
  if conn:is_open() then
    return conn:server_id()
  end
  local again <close>, why = t.modbus.open(dut.modbus_tcp)
  if not again then
    return nil, why
  end
  return again:server_id()
end

testcase {
  id = "modbus.disclosure",
  version = 1,
  title = "The device discloses no undeclared security-relevant information over Modbus",
  description = "Reads the device identification and the server id, which Modbus/TCP gives to "
    .. "anyone, and compares what they reveal with what the manufacturer declares.",
  obligations = { "EN-5.6-2" },
  applies = { interface = "modbus-tcp", state = "initialised" },
  category = "safe",
  probe = function(dut, t)
    local conn <close>, why = t.modbus.open(dut.modbus_tcp)
    if not conn then
      return { error = why }
    end
    local obs = {}
    local id, err = conn:identify("extended")
    if not id then
      obs.identification = { error = err }
    elseif id.exception then
      obs.identification = { exception = id.exception }
    else
      obs.identification = { objects = id.objects, truncated = id.truncated }
    end
    local sid, serr = server_id(t, dut, conn)
    if not sid then
      obs.server_id = { error = serr }
    elseif sid.exception then
      obs.server_id = { exception = sid.exception }
    else
      obs.server_id = { data = sid.data, id = sid.id }
    end
    return obs
  end,
  judge = function(obs, dossier)
    if obs.error then
      return INCONCLUSIVE("could not connect to Modbus/TCP: %s", obs.error)
    end
    local items = (dossier.ixit or {}).disclosed_information or {}
    local via_ident = { "0x2b", "fc 43", "identification", "modbus" }
    local fails, assessor, unread = {}, {}, {}
    for _, o in ipairs((obs.identification or {}).objects or {}) do
      local def = OBJECTS[o.id]
      local text = string.format("%s %q", def and def.name or string.format("object 0x%02X", o.id),
        printable(o.value))
      local is_declared = def and declared(items, via_ident, def.words)
      local relevant = (def == nil) or def.relevant
        or (type(o.value) == "string" and o.value:find("%d+%.%d+") ~= nil)
      if is_declared then
        assessor[#assessor + 1] = text .. " (declared)"
      elseif relevant then
        fails[#fails + 1] = text
      else
        assessor[#assessor + 1] = text .. " (not declared)"
      end
    end
    if (obs.identification or {}).error then
      unread[#unread + 1] = "identification: " .. obs.identification.error
    end
    local sid = obs.server_id or {}
    if sid.data then
      local text = string.format("server id (FC 0x11) %q", printable(sid.data))
      if declared(items, { "0x11", "server id", "slave id", "fc 17" }, { "" }) then
        assessor[#assessor + 1] = text .. " (declared)"
      else
        fails[#fails + 1] = text
      end
    elseif sid.error then
      unread[#unread + 1] = "server id: " .. sid.error
    end
    if #fails > 0 then
      return FAIL("disclosed without authentication and not declared in the IXIT: %s",
        table.concat(fails, ", "))
    end
    if #unread > 0 then
      return INCONCLUSIVE("could not read %s", table.concat(unread, "; "))
    end
    if #assessor > 0 then
      return ASSESSOR("disclosed without authentication: %s; the assessor judges whether it is "
        .. "security-relevant", table.concat(assessor, ", "))
    end
    return PASS("no identification and no server id without authentication (FC 0x2B: %s, "
      .. "FC 0x11: %s)", (obs.identification or {}).exception
        and string.format("exception %02X", obs.identification.exception) or "no objects",
      sid.exception and string.format("exception %02X", sid.exception) or "no data")
  end,
}
