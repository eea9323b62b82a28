-- modbus.no-passwords: plain Modbus/TCP has no password-based authentication,
-- so PSTI-1 and EN-5.1-1 (unique or user-defined passwords) do not apply to it.
--
-- The probe only lists the interfaces the bench declares and opens no socket.
-- On a device whose only interfaces are Modbus/TCP the condition "passwords are
-- used" is shown false for the whole device. On a device with other interfaces
-- the verdict speaks for the Modbus/TCP interface alone: the roll-up takes any
-- PASS, FAIL or INCONCLUSIVE of the other interfaces' test cases over it.
testcase {
  id = "modbus.no-passwords",
  version = 1,
  title = "Modbus/TCP offers no passwords, so the password rules do not apply to it",
  description = "Modbus/TCP (without Modbus/TCP Security) has no login: requests carry no "
    .. "user name or password. The password requirements apply to interfaces that use passwords.",
  obligations = { "PSTI-1", "EN-5.1-1" },
  applies = { interface = "modbus-tcp" },
  category = "safe",
  probe = function(dut)
    local kinds = {}
    for _, itf in ipairs(dut.interfaces or {}) do
      kinds[#kinds + 1] = { kind = itf.kind, port = itf.port, tls_port = itf.tls_port }
    end
    return { interfaces = kinds }
  end,
  judge = function(obs)
    local others, modbus = {}, {}
    for _, itf in ipairs(obs.interfaces or {}) do
      if itf.kind == "modbus-tcp" then
        modbus[#modbus + 1] = itf.port
      else
        others[#others + 1] = string.format("%s on port %s", itf.kind, tostring(itf.port))
      end
    end
    if #modbus == 0 then
      return ERROR("the device has no modbus-tcp interface in the observations")
    end
    if #others == 0 then
      return NOT_APPLICABLE("plain Modbus/TCP has no password-based authentication "
        .. "(the device's only interfaces: Modbus/TCP on port %s)", table.concat(modbus, ", "))
    end
    return NOT_APPLICABLE("plain Modbus/TCP has no password-based authentication; this covers "
      .. "the Modbus/TCP interface only, the device's other interfaces (%s) are judged by "
      .. "their own test cases", table.concat(others, ", "))
  end,
}
