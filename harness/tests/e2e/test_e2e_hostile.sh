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

. "$(dirname "$0")/hostile_lib.sh"
hostile_run 4

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
hostile_pss_judge "$sanitized" "$src/fixtures/hostile/known-over-budget"
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
