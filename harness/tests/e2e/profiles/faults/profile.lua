-- faults: a test-only profile whose test cases misbehave on purpose on some
-- units (a probe that never returns to the Lua VM), to show that a stuck or
-- crashing worker costs only the test case it was running.
profile {
  name = "faults",
  version = "1",
  obligations = { "EN-5.13-1" },
  include = { "testcases/faults/*.lua" },
}
