# hostile_lib.sh: sourced by the hostile end-to-end tests (test_e2e_hostile.sh,
# test_e2e_mqtt_hostile.sh): run assay on a hostile bench while sampling each
# worker's proportional set size, and judge the peaks against the 16 MB budget.
#
# The caller defines fail() and the variables assay, yaml (the bench file) and
# work (a scratch directory); hostile_run sets rc, run (the run directory) and
# rj (its run.json), and leaves the samples in $work/pss.

# Peak PSS per worker (/proc/PID/smaps_rollup, sampled every 100 ms while the
# run lasts), attributed to a device address (127.200.x.y, the hostile bench's)
# by the worker's sockets. Writes "address kB" lines to the out file.
hostile_pss_sample() { # assay-pid out-file
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
        sleep 0.1 # the sampling period, not a wait for readiness
    done
    for k in "${!peak[@]}"; do echo "$k ${peak[$k]}"; done >"$2"
}

# Runs assay on $yaml with both profiles and `jobs` workers, sampling PSS.
# Exits the test when assay did not finish the run; fails on a sanitizer report.
hostile_run() { # jobs
    local start=$SECONDS apid spid
    "$assay" run "$yaml" -p etsi-en-303-645 -p uk-psti -j "$1" -o "$work/runs" \
        >"$work/out" 2>"$work/err" &
    apid=$!
    hostile_pss_sample "$apid" "$work/pss" &
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
}

# Prints the peak PSS per device; in an unsanitized build a peak over 16 MB
# fails unless the device is listed in the known file ("id why" lines).
hostile_pss_judge() { # sanitized(ON|OFF) known-file
    local a kb id note
    echo "peak worker PSS per device (kB):"
    while read -r a kb; do
        id=$(awk -v a="$a" '/^  - id: /{id=$3} $1=="address:" && $2==a {print id}' "$yaml")
        note=
        if ((kb > 16384)); then
            if grep -q "^$id " "$2" 2>/dev/null; then
                note=" (over 16 MB: known, $(grep "^$id " "$2" | cut -d' ' -f2-))"
            elif [[ "$1" == ON ]]; then
                note=" (over 16 MB: sanitized build, not judged)"
            else
                fail "$id: worker PSS $kb kB over the 16 MB budget"
            fi
        fi
        echo "  $id $kb$note"
    done < <(sort -k2 -n -r "$work/pss")
}
