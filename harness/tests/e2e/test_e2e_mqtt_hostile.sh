#!/usr/bin/env bash
# test_e2e_mqtt_hostile.sh: the MQTT test cases against the hostile brokers
# that flood a subscription (hx-mqtt-flood: endless retained PUBLISH after
# SUBACK) and declare a huge length (hx-mqtt-huge: a CONNACK of 268435455
# bytes, then endless filler), from fixtures/hostile/bench-hostile.
#
#   test_e2e_mqtt_hostile.sh BUILD_DIR SOURCE_DIR
#
# Checks, for each device: assay finishes; every test case has a verdict with
# a rationale, none is ERROR, none was stopped by the memory watchdog ("memory
# budget") or at its deadline ("deadline"); and each attack shows as what it
# is: the flood's exposure verdict says the broker sent at least max_messages
# messages (the collection's cap) and took less than the listening window, and
# the huge CONNACK is reported as "not a CONNACK" in the journal of the
# device's connection attempts rather than taken for an acceptance. The run
# uses the bench's own worker_memory_mb (16 MB by default; the sanitized
# build gets 64 MB, as ASan's own allocations count there too), and each
# worker's peak PSS is printed; in an unsanitized build one over 16 MB fails
# (hostile_lib.sh).
set -uo pipefail

build=${1:?build dir}
src=${2:?source dir}
bin=$build/fixtures
assay=$build/harness/assay
bh=$src/fixtures/hostile/bench-hostile
work=$(mktemp -d /tmp/assay-mqtt-hostile.XXXXXX)
fails=0
fail() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}
cleanup() { "$bh" down "$work/bench" 2>/dev/null; }
trap cleanup EXIT

"$bh" up --out "$work/bench" --bin "$bin" --only '^hx-mqtt-(flood|huge)$' >/dev/null || {
    echo "FAIL: the hostile MQTT devices did not start"
    exit 1
}
yaml=$work/bench/bench.yaml
sanitized=OFF
if grep -q 'ASSAY_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
    sanitized=ON
    sed -i 's/^  timeout_ms: 2000$/  timeout_ms: 2000\n  worker_memory_mb: 64/' "$yaml"
fi

. "$(dirname "$0")/hostile_lib.sh"
hostile_run 2
hostile_pss_judge "$sanitized" /dev/null

for dev in hx-mqtt-flood hx-mqtt-huge; do
    n=$(jq --arg d "$dev" '[.devices[] | select(.id == $d) | .testcases[] |
        select(.id | startswith("mqtt."))] | length' "$rj")
    ((n > 0)) || fail "$dev: no MQTT test case ran"
    bad=$(jq -r --arg d "$dev" '.devices[] | select(.id == $d) | .testcases[] |
        select(.id | startswith("mqtt.")) |
        select(.verdict == "ERROR" or (.rationale // "") == "" or
               ((.rationale // "") | test("memory budget|^deadline"))) |
        "  \(.id): \(.verdict): \(.rationale)"' "$rj")
    [[ -z "$bad" ]] || fail "$dev: test cases without a proper verdict:
$bad"
    echo "$dev: $n MQTT test cases, each with a verdict and a reason"
    jq -r --arg d "$dev" '.devices[] | select(.id == $d) | .testcases[] |
        select(.id | startswith("mqtt.")) | "  \(.id) \(.verdict): \(.rationale[0:160])"' "$rj"
done

# The flood: the exposure test case stops at its message cap, and says so.
obs=$run/devices/hx-mqtt-flood/observations/mqtt.unauthenticated-disclosure.json
if [[ ! -f "$obs" ]]; then
    fail "hx-mqtt-flood: no exposure observation"
else
    stop=$(jq -r '.stop // ""' "$obs")
    [[ "$stop" == count || "$stop" == bytes ]] ||
        fail "hx-mqtt-flood: the collection stopped on '$stop', not at its count or byte cap"
    ms=$(jq -r '.elapsed_ms // 99999' "$obs")
    ((ms < 1500)) || fail "hx-mqtt-flood: the capped collection took $ms ms"
    v=$(jq -r '.devices[] | select(.id == "hx-mqtt-flood") | .testcases[] |
        select(.id == "mqtt.unauthenticated-disclosure") | "\(.verdict) \(.rationale)"' "$rj")
    [[ "$v" == INCONCLUSIVE*"the broker sent at least"* ]] ||
        fail "hx-mqtt-flood: exposure verdict does not report the cap: $v"
fi

# The huge CONNACK: never an acceptance, the bounded parser says why.
tr=$run/devices/hx-mqtt-huge/transcript.jsonl
if [[ -f "$tr" ]]; then
    grep -q 'not a CONNACK' "$tr" || fail "hx-mqtt-huge: the transcript never says 'not a CONNACK'"
    ! grep -q '"event":"connack"' "$tr" || fail "hx-mqtt-huge: a CONNACK was taken from the huge reply"
else
    fail "hx-mqtt-huge: no transcript"
fi
v=$(jq -r '.devices[] | select(.id == "hx-mqtt-huge") | .testcases[] |
    select(.id == "mqtt.unauthenticated-disclosure") | .verdict' "$rj")
[[ "$v" == INCONCLUSIVE ]] || fail "hx-mqtt-huge: exposure verdict $v, want INCONCLUSIVE (no CONNACK)"

if ((fails)); then
    echo "mqtt hostile e2e: $fails failure(s); run kept in $work"
    trap - EXIT
    cleanup
    exit 1
fi
cleanup # before the pid files go with $work
trap - EXIT
rm -rf "$work"
echo "mqtt hostile e2e: ok"
