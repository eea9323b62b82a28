-- uk-psti: the UK PSTI security requirements (SI 2023/1007, Schedule 1) and
-- the statement of compliance, with the protocol test cases that evidence them.
profile {
  name = "uk-psti",
  version = "0.1",
  description = "UK PSTI: no universal default passwords, vulnerability reporting, support period, statement of compliance",
  obligations = {
    "PSTI-1", "PSTI-2", "PSTI-3", "PSTI-SOC",
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
