-- etsi-en-303-645: every provision of ETSI EN 303 645 v2.1.1, assessed as
-- ETSI TS 103 701 describes. Provisions no test case automates are reported
-- as items for the assessor, never dropped (the roll-up makes an obligation
-- no test case evidences INCONCLUSIVE with resolve = assessor).
profile {
  name = "etsi-en-303-645",
  version = "0.1",
  description = "ETSI EN 303 645 v2.1.1: network, documentary and assessor items",
  obligations = {
    "EN-5.1-1", "EN-5.1-2", "EN-5.1-3", "EN-5.1-4",
    "EN-5.1-5", "EN-5.2-1", "EN-5.2-2", "EN-5.2-3",
    "EN-5.3-1", "EN-5.3-2", "EN-5.3-3", "EN-5.3-4",
    "EN-5.3-5", "EN-5.3-6", "EN-5.3-7", "EN-5.3-8",
    "EN-5.3-9", "EN-5.3-10", "EN-5.3-11", "EN-5.3-12",
    "EN-5.3-13", "EN-5.3-14", "EN-5.3-15", "EN-5.3-16",
    "EN-5.4-1", "EN-5.4-2", "EN-5.4-3", "EN-5.4-4",
    "EN-5.5-1", "EN-5.5-2", "EN-5.5-3", "EN-5.5-4",
    "EN-5.5-5", "EN-5.5-6", "EN-5.5-7", "EN-5.5-8",
    "EN-5.6-1", "EN-5.6-2", "EN-5.6-3", "EN-5.6-4",
    "EN-5.6-5", "EN-5.6-6", "EN-5.6-7", "EN-5.6-8",
    "EN-5.6-9", "EN-5.7-1", "EN-5.7-2", "EN-5.8-1",
    "EN-5.8-2", "EN-5.8-3", "EN-5.9-1", "EN-5.9-2",
    "EN-5.9-3", "EN-5.10-1", "EN-5.11-1", "EN-5.11-2",
    "EN-5.11-3", "EN-5.11-4", "EN-5.12-1", "EN-5.12-2",
    "EN-5.12-3", "EN-5.13-1", "EN-6-1", "EN-6-2",
    "EN-6-3", "EN-6-4", "EN-6-5",
    "TS-4-1-1", "INFO-COAP-AMPLIFICATION", "INFO-FACTORY-DEFAULT",
  },
  -- Documents and the port scan first: they must see every device before the
  -- malformed-input test cases (last in each protocol's folder) may break one.
  include = {
    "testcases/documents/*.lua",
    "testcases/surface/*.lua",
    "testcases/mqtt/*.lua",
    "testcases/coap/*.lua",
    "testcases/modbus/*.lua",
  },
}
