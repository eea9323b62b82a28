#!/usr/bin/env bash
# test_e2e_hostile.sh: assay against the hostile bench (fixtures/hostile/bench-hostile):
# one hostile device per protocol and attack plus one well-behaved device.
#
#   test_e2e_hostile.sh BUILD_DIR SOURCE_DIR SANITIZED(ON|OFF)
#
# Checks: assay finishes (no crash, no sanitizer or leak report); no ERROR
# verdict; every test case finished inside its deadline (testcase_timeout_s
# plus the larger of 2 s and 25 %), and one stopped by the supervisor says
# "deadline" in run.json and the journal; the well-behaved device's verdicts
# equal those of a run of it alone; report.html shows the hostile strings
# inert (no ESC, bidi or tag characters, no live markup, but the text is
# there). It samples each worker's PSS (/proc/PID/smaps_rollup), attributes it
# to a device by the worker's sockets, and prints the peak per device; in an
# unsanitized build a peak over 16 MB fails, except for the devices listed in
# fixtures/hostile/known-over-budget (a known bound still missing).
set -uo pipefail

build=${1:?build dir}
src=${2:?source dir}
sanitized=${3:-OFF}
bin=$build/fixtures
assay=$build/harness/assay
bh=$src/fixtures/hostile/bench-hostile
work=$(mktemp -d /tmp/assay-hostile-e2e.XXXXXX)
fails=0
fail() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}
cleanup() {
    "$bh" down "$work/bench" 2>/dev/null
    "$bh" down "$work/control" 2>/dev/null
}
trap cleanup EXIT

"$bh" up --out "$work/bench" --bin "$bin" >/dev/null || {
    echo "FAIL: the hostile bench did not start"
    exit 1
}
yaml=$work/bench/bench.yaml

# Peak PSS per worker, attributed to a device address by the worker's sockets.
sample() { # assay-pid out-file
    declare -A peak addr
    while kill -0 "$1" 2>/dev/null; do
        local kids
        kids=$(pgrep -P "$1" | tr '\n' ' ')
        if [[ -n "$kids" ]]; then
            while read -r p a; do addr[$p]=$a; done < <(ss -Htunap 2>/dev/null |
                sed -n 's/.* \(127\.200\.[0-9]*\.[0-9]*\):[0-9]* .*pid=\([0-9]*\),.*/\2 \1/p')
            for k in $kids; do
                local v
                v=$(awk '/^Pss:/{print $2}' "/proc/$k/smaps_rollup" 2>/dev/null)
                [[ -n "$v" && -n "${addr[$k]:-}" ]] || continue
                local key=${addr[$k]}
                ((v > ${peak[$key]:-0})) && peak[$key]=$v
            done
        fi
        sleep 0.1
    done
    for k in "${!peak[@]}"; do echo "$k ${peak[$k]}"; done >"$2"
}

start=$SECONDS
"$assay" run "$yaml" -p etsi-en-303-645 -p uk-psti -j 4 -o "$work/runs" >"$work/out" 2>"$work/err" &
apid=$!
sample "$apid" "$work/pss" &
spid=$!
wait "$apid"
rc=$?
wait "$spid"
echo "assay run: exit $rc in $((SECONDS - start)) s"
run=$(ls -d "$work"/runs/*/ 2>/dev/null | head -n 1)
if ((rc == 2 || rc >= 4)) || [[ -z "$run" || ! -f "$run/run.json" ]]; then
    fail "assay did not finish the run (exit $rc)"
    tail -20 "$work/err"
    exit 1
fi
rj=$run/run.json

if grep -E "AddressSanitizer|LeakSanitizer|runtime error:" "$work/err" >/dev/null; then
    fail "sanitizer report in assay's output"
    grep -E -A5 "AddressSanitizer|LeakSanitizer|runtime error:" "$work/err" | head -30
fi

n_error=$(jq '[.devices[].testcases[] | select(.verdict == "ERROR")] | length' "$rj")
((n_error == 0)) || {
    fail "$n_error ERROR verdicts"
    jq -r '.devices[] | .id as $d | .testcases[] | select(.verdict == "ERROR") |
        "  \($d) \(.id): \(.rationale)"' "$rj"
}

# Deadlines: the bench's testcase_timeout_s plus the larger of 2 s and 25 %.
limit_ms=$(($(sed -n 's/^  testcase_timeout_s: *\([0-9]*\)/\1/p' "$yaml") * 1000))
slack=$((limit_ms / 4 > 2000 ? limit_ms / 4 : 2000))
# Model-scope judgements span every unit's probe and are not timed here. A
# test case the supervisor stopped has no start time: it started when the
# device's previous test case finished (a worker runs them one after another).
late=$(jq -r --argjson max $((limit_ms + slack)) '
    def t: if . == null or . == "" then null else
        (sub("\\.[0-9]+Z$"; "Z") | fromdate) + ((capture("\\.(?<ms>[0-9]{3})Z$").ms // "0") | tonumber) / 1000 end;
    .devices[] | .id as $d | [.testcases[] | select(.finished != null and .finished != "")] |
    map(select(.scope != "model")) |
    sort_by(.finished) | . as $tc | range(0; length) as $i | $tc[$i] |
    ((.started | t) // (if $i > 0 and (.rationale | startswith("deadline")) then ($tc[$i - 1].finished | t) else null end)) as $s |
    select($s != null) | ((.finished | t) - $s) as $secs |
    select(($secs * 1000) > ($max + 1000) or ((.duration_ms // 0) > $max)) |
    "  \($d) \(.id): \($secs) s"' "$rj")
[[ -z "$late" ]] || fail "test cases past their deadline ($((limit_ms + slack)) ms):
$late"
stopped=$(jq '[.devices[].testcases[] | select(.rationale | startswith("deadline"))] | length' "$rj")
jstopped=$(grep -c '"deadline' "$run/journal.jsonl")
echo "test cases stopped at their deadline: $stopped (journal lines naming it: $jstopped)"
((stopped == 0 || jstopped > 0)) || fail "run.json has deadline stops the journal does not record"

# The well-behaved device alone gets the same verdicts.
"$bh" up --out "$work/control" --bin "$bin" --only '^good-' >/dev/null || fail "control bench"
"$assay" run "$work/control/bench.yaml" -p etsi-en-303-645 -p uk-psti -o "$work/cruns" \
    >/dev/null 2>"$work/cerr"
crj=$(ls "$work"/cruns/*/run.json 2>/dev/null | head -n 1)
verdicts() { jq -r '.devices[] | select(.id == "good-modbus-1") | .testcases[] | "\(.id) \(.verdict)"' "$1" | sort; }
if [[ -z "$crj" ]]; then
    fail "the control run did not finish"
elif ! diff <(verdicts "$rj") <(verdicts "$crj") >"$work/diff"; then
    fail "the well-behaved device's verdicts differ with hostile devices on the bench:"
    cat "$work/diff"
else
    echo "good-modbus-1: $(verdicts "$rj" | wc -l) verdicts identical to a run without hostile devices"
fi

# report.html: the hostile text arrived, and arrived inert.
html=$run/report.html
grep -q "PWNED" "$html" || fail "report.html does not show the hostile strings at all"
for pat in $'\x1b' $'\xe2\x80\xae' $'\xf3\xa0\x81\x81' '<script>alert' '<img src=x' '<svg onload'; do
    if LC_ALL=C grep -qF "$pat" "$html"; then
        fail "report.html holds a live hostile sequence: $(printf '%q' "$pat")"
    fi
done
if (($(tr -cd '\000' <"$html" | wc -c) > 0)); then fail "report.html holds a NUL byte"; fi

# Memory: peak PSS per device.
known=$src/fixtures/hostile/known-over-budget
echo "peak worker PSS per device (kB):"
while read -r a kb; do
    id=$(awk -v a="$a" '/^  - id: /{id=$3} $1=="address:" && $2==a {print id}' "$yaml")
    note=
    if ((kb > 16384)); then
        if grep -q "^$id " "$known" 2>/dev/null; then
            note=" (over 16 MB: known, $(grep "^$id " "$known" | cut -d' ' -f2-))"
        elif [[ "$sanitized" == ON ]]; then
            note=" (over 16 MB: sanitized build, not judged)"
        else
            fail "$id: worker PSS $kb kB over the 16 MB budget"
        fi
    fi
    echo "  $id $kb$note"
done < <(sort -k2 -n -r "$work/pss")
echo "largest child max RSS: $(jq .resources.largest_child_max_rss_kb "$rj") kB"
jq -r '.counts | to_entries | map("\(.key) \(.value)") | join(", ")' "$rj"

if ((fails)); then
    echo "hostile e2e: $fails failure(s); run kept in $work"
    exit 1
fi
cleanup # before the pid files go with $work
trap - EXIT
rm -rf "$work"
echo "hostile e2e: ok"
