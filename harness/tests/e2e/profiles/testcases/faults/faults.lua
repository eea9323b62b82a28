-- Three test cases in order; the middle one hangs on the unit "unit-hang".
testcase {
  id = "faults.before", version = 1, title = "Runs before the fault",
  obligations = { "EN-5.13-1" }, category = "safe",
  probe = function(dut) return { unit = dut.id } end,
  judge = function(obs) return PASS("%s answered", obs.unit) end,
}

testcase {
  id = "faults.hang", version = 1, title = "Never returns on unit-hang",
  obligations = { "EN-5.13-1" }, category = "safe",
  probe = function(dut)
    if dut.id == "unit-hang" then
      -- A backtracking pattern runs inside C: no instruction hook can stop it,
      -- only the supervisor's kill at the test case's deadline.
      string.find(string.rep("a", 60), string.rep("a*", 30) .. "b")
    end
    return { unit = dut.id }
  end,
  judge = function(obs) return PASS("%s answered", obs.unit) end,
}

testcase {
  id = "faults.after", version = 1, title = "Runs after the fault",
  obligations = { "EN-5.13-1" }, category = "safe",
  probe = function(dut) return { unit = dut.id } end,
  judge = function(obs) return PASS("%s answered", obs.unit) end,
}
