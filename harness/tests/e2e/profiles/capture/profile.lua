-- capture: a test-only profile that sends a few known messages over each
-- protocol, raw paths included, so the capture test can find them in the pcap.
profile {
  name = "capture",
  version = "1",
  obligations = { "EN-5.13-1" },
  include = { "testcases/capture/*.lua" },
}
