-- selftest: a profile that needs no network, used by the runtime's tests and
-- by `assay check` to prove the runtime works on this machine.
profile {
  name = "selftest",
  version = "1",
  description = "Runtime self-test: probes use only the pure helpers, never a device.",
  obligations = { "PSTI-1", "EN-5.1-1", "EN-5.1-2" },
  include = { "testcases/selftest/*.lua" },
  parameters = {
    ["selftest.echo"] = { n = 3 },
  },
}
