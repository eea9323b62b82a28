-- selftest.dossier: a judge that depends on the dossier, so that `assay rescore`
-- with a corrected dossier changes the verdict without touching a device.
testcase {
  id = "selftest.dossier",
  version = 1,
  title = "The dossier names the product the unit reports being",
  obligations = { "EN-5.1-2" },
  category = "safe",
  probe = function(dut)
    return { serial = dut.serial, model = dut.model }
  end,
  judge = function(obs, dossier)
    if not dossier.product_name then
      return INCONCLUSIVE("the dossier for model %s names no product", obs.model)
    end
    return PASS("unit %s is a %s", obs.serial, dossier.product_name)
  end,
}
