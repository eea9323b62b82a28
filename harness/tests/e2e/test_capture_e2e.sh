#!/usr/bin/env bash
# The capture of a small run holds the expected Modbus/TCP, CoAP and MQTT packets,
# read back by tshark, and the raw-path bytes the transcript records agree with
# the bytes on the wire.
# usage: test_capture_e2e.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
build=$1 src=$2
assay=$build/harness/assay
work=$(mktemp -d /tmp/assay-capture-e2e.XXXXXX)
bench=$work/bench
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
cleanup() { "$src/scripts/bench-down" "$bench" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

if [[ $(id -u) -ne 0 ]]; then
    echo "skipped: packet capture needs root"
    exit 0
fi
command -v tshark >/dev/null || { fail "tshark is not installed (scripts/setup installs it)"; exit 1; }

ASSAY_FIXTURES_BIN=$build/fixtures "$src/scripts/bench-up" --out "$bench" >/dev/null ||
    { fail "bench-up"; exit 1; }
"$assay" run "$bench/bench.yaml" -p capture --profile-path "$src/harness/tests/e2e/profiles" \
    --device modbus-secure-1 --device coap-secure-1 --device mqtt-plaintext-1 \
    -o "$work/runs" >"$work/run.out" 2>&1
run=$(sed -n 's/^Run directory: //p' "$work/run.out")
[[ -d "$run" ]] || { cat "$work/run.out"; fail "no run directory"; exit 1; }

port_of() { # device id, interface kind -> port from the bench file
    awk -v id="$1" -v kind="$2" '
        $0 ~ "- id: "id"$" { inside = 1; next }
        /^  - id:/ { inside = 0 }
        inside && $0 ~ "kind: "kind { match($0, /port: [0-9]+/); print substr($0, RSTART + 6, RLENGTH - 6); exit }
    ' "$bench/bench.yaml"
}

check() { # device, dissector option, display filter, what
    local dev=$1 opt=$2 filter=$3 what=$4 pcap=$run/devices/$1/capture.pcap
    [[ -s "$pcap" ]] || { fail "$dev: no capture.pcap"; return; }
    local n
    n=$(tshark -r "$pcap" $opt -Y "$filter" 2>/dev/null | wc -l)
    if ((n > 0)); then echo "ok: $dev: $n $what packets in capture.pcap"; else fail "$dev: no $what packets"; fi
}

mb=$(port_of modbus-secure-1 modbus-tcp)
cp=$(port_of coap-secure-1 coap)
mq=$(port_of mqtt-plaintext-1 mqtt-broker)
check modbus-secure-1 "-o mbtcp.tcp.port:$mb" "mbtcp" "Modbus/TCP"
check coap-secure-1 "-d udp.port==$cp,coap" "coap" "CoAP"
check mqtt-plaintext-1 "-d tcp.port==$mq,mqtt" "mqtt" "MQTT"

# Every raw message the transcript says was sent is on the wire, byte for byte.
raw_agrees() { # device, tshark payload field, display filter
    local dev=$1 field=$2 filter=$3 d=$run/devices/$1
    local wire sent
    wire=$(tshark -r "$d/capture.pcap" -Y "$filter" -T fields -e "$field" 2>/dev/null | tr -d ':\n')
    sent=$(grep '"dir":"send"' "$d/transcript.jsonl" | grep -o '"bytes":"[0-9a-f]*"' | cut -d'"' -f4)
    [[ -n "$sent" ]] || { fail "$dev: the transcript records no raw bytes sent"; return; }
    local n=0
    for b in $sent; do
        if [[ "$wire" != *"$b"* ]]; then fail "$dev: transcript bytes $b are not in the capture"; return; fi
        n=$((n + 1))
    done
    echo "ok: $dev: $n raw messages in the transcript agree with the capture"
}
raw_agrees modbus-secure-1 tcp.payload "tcp.dstport==$mb"
raw_agrees coap-secure-1 udp.payload "udp.dstport==$cp"
raw_agrees mqtt-plaintext-1 tcp.payload "tcp.dstport==$mq"

if ((failures)); then echo "capture e2e: $failures failure(s)"; exit 1; fi
echo "capture e2e: all checks passed"
