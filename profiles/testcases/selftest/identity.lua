-- selftest.identity: the unit's identity, read at the start and again at the end
-- of the device's run. With the parameter `changing` set (a bench override), it
-- reports a new identity on every read, as if another unit had answered.
testcase {
  id = "selftest.identity",
  version = 1,
  title = "The unit answering is the unit the bench names",
  obligations = { "EN-5.1-2" },
  category = "safe",
  identity = true,
  parameters = { changing = false },
  probe = function(dut, t, params)
    local identity = dut.serial
    if params.changing then
      identity = dut.serial .. "/" .. t.random_credential().username
    end
    return { identity = identity }
  end,
  judge = function(obs)
    return PASS("unit %s answered", obs.identity)
  end,
}
