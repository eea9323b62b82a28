-- modbus.designation: the identity the device reports over Modbus (FC 0x2B /
-- MEI 0x0E, Read Device Identification) corroborates the model designation of
-- the dossier (EN-5.3-16).
--
-- EN-5.3-16 is about a label or physical interface, which only a person can
-- check; the network can only corroborate it. Agreement of VendorName and
-- ProductCode with the IXIT (or, without one, of ProductCode with the model)
-- is PASS; a disagreement or a device that reports no identification goes to
-- the assessor, never FAIL.

-- Upper case letters and digits only, so "HP-300", "hp300" and "HP 300" compare equal.
local function norm(s)
  if type(s) ~= "string" then
    return nil
  end
  return (s:upper():gsub("[^%w]", ""))
end

local function shown(s)
  if type(s) ~= "string" then
    return "(none)"
  end
  return (s:gsub("[^\32-\126]", "?"):sub(1, 60))
end

testcase {
  id = "modbus.designation",
  version = 1,
  title = "The identity the device reports over Modbus matches its model designation",
  description = "Reads the device identification (vendor, product code, revision) and compares it "
    .. "with what the manufacturer's documents declare for this model.",
  obligations = { "EN-5.3-16" },
  applies = { interface = "modbus-tcp" },
  category = "safe",
  identity = true, -- read again at the end of the device's run: the same unit must answer
  probe = function(dut, t)
    local conn <close>, why = t.modbus.open(dut.modbus_tcp)
    if not conn then
      return { error = why }
    end
    local id, err = conn:identify("basic")
    if not id then
      return { error = err }
    end
    if id.exception then
      return { exception = id.exception }
    end
    return { vendor_name = id.vendor_name, product_code = id.product_code,
      revision = id.revision,
      identity = table.concat({ id.vendor_name or "", id.product_code or "", id.revision or "" },
        " | ") }
  end,
  judge = function(obs, dossier)
    if obs.error then
      return INCONCLUSIVE("device identification could not be read: %s", obs.error)
    end
    if obs.exception then
      return ASSESSOR("the device reports no identification (FC 0x2B/0x0E: exception %02X); "
        .. "check the model designation on the label", obs.exception)
    end
    local declared = ((dossier.ixit or {}).modbus or {}).identification or {}
    local want_vendor = declared.vendor_name or (dossier.manufacturer or {}).name
    local want_code = declared.product_code or dossier.model
    local got = string.format("%s, %s, %s", shown(obs.vendor_name), shown(obs.product_code),
      shown(obs.revision))
    local want = string.format("%s, %s, %s", shown(want_vendor), shown(want_code),
      shown(declared.revision))
    if norm(obs.vendor_name) ~= norm(want_vendor) or norm(obs.product_code) ~= norm(want_code) then
      return ASSESSOR("FC 0x2B/0x0E reports %s but the dossier declares %s (model %s); the "
        .. "assessor checks the label and whether this is a re-badged product", got, want,
        tostring(dossier.model))
    end
    local note = ""
    if declared.revision and obs.revision ~= declared.revision then
      note = string.format("; the revision differs from the declared %s (firmware updated?)",
        shown(declared.revision))
    end
    return PASS("FC 0x2B/0x0E reports %s as the dossier declares (model %s)%s", got,
      tostring(dossier.model), note)
  end,
}
