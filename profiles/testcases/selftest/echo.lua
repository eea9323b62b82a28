-- selftest.echo: round-trips plain observations, bytes that are not UTF-8,
-- parameters and the pure helpers through probe -> JSON -> judge.
local credentials = require("credentials")

testcase {
  id = "selftest.echo",
  version = 1,
  title = "Observations survive storage as JSON, bytes included",
  obligations = { "PSTI-1" },
  category = "safe",
  parameters = { n = 1, label = "echo" },
  probe = function(dut, t, params)
    local r = t.random_credential()
    return {
      device = dut.id,
      serial = dut.serial,
      n = params.n,
      label = t.params.label,
      bytes = "\0\255ok",
      defaults = #credentials.list("default"),
      random_user_ok = r.username:match("^assay%-%x+$") ~= nil and #r.password == 20,
      slept = t.sleep_ms(1),
      -- a bench secret in the observations: kept in the evidence, masked in reports
      secret = dut.credentials and dut.credentials.mqtt and dut.credentials.mqtt.password,
    }
  end,
  judge = function(obs, dossier, params)
    if obs.n ~= params.n then
      return FAIL("parameter n: observed %s, expected %s", tostring(obs.n), tostring(params.n))
    end
    if obs.bytes ~= "\0\255ok" then
      return FAIL("binary observation changed in storage")
    end
    if not obs.random_user_ok then
      return FAIL("random credential has the wrong shape")
    end
    return PASS("%s: n=%d, %d default credentials, model %s", obs.device, obs.n, obs.defaults,
      tostring(dossier.model))
  end,
}
