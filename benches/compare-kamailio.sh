#!/usr/bin/env bash
# Whole-process comparison of `kamailio -c -f FILE` and `sipvm check -f FILE` on Kamailio's
# stock configuration and on the generated 5,000-line one (sipvm_tests::gen::generate).
#
#   benches/compare-kamailio.sh [-n RUNS] [-l LINES] [-b]
#
#   -n RUNS   runs of each command per file (default 21); the runs alternate between the two
#             programs (kamailio, sipvm, sipvm, kamailio, ...) so a noisy machine hurts both alike
#   -l LINES  size of the generated configuration (default 5000)
#   -b        also run the in-process criterion benchmark (cargo bench --bench compile) first
#
# It builds sipvm (release) once, then times every run with hyperfine (-N, one run per
# invocation) when installed, else with bash's $EPOCHREALTIME around the command. It prints
# the median wall time of each program, the ratio sipvm/kamailio and the issue's targets (with
# hyperfine also the median CPU time, user + system, which a loaded machine disturbs less), and,
# when criterion results exist, the in-process compile-only medians.
#
# Environment: CARGO_TARGET_DIR (default: the workspace's target/), KAMAILIO (default
# `kamailio`), STOCK_CFG (default /etc/kamailio/kamailio.cfg), TIMER (hyperfine or
# epochrealtime, to force one).

set -euo pipefail

runs=21
lines=5000
run_criterion=0
while getopts "n:l:bh" opt; do
    case "$opt" in
        n) runs=$OPTARG ;;
        l) lines=$OPTARG ;;
        b) run_criterion=1 ;;
        h) sed -n '2,21p' "$0"; exit 0 ;;
        *) exit 2 ;;
    esac
done

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
kamailio=${KAMAILIO:-kamailio}
stock=${STOCK_CFG:-/etc/kamailio/kamailio.cfg}

command -v "$kamailio" >/dev/null || { echo "kamailio not found" >&2; exit 1; }

echo "== building sipvm and gen-config (release, target dir $target)"
(cd "$root" && CARGO_TARGET_DIR=$target cargo build --release -q -p sipvm-proxy -p sipvm-benches --bin sipvm --bin gen-config)
sipvm=$target/release/sipvm

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gen=$tmp/gen$lines.cfg
"$target/release/gen-config" "$lines" >"$gen"
echo "generated $gen: $(wc -l <"$gen") lines"

if [ "$run_criterion" = 1 ]; then
    echo "== cargo bench -p sipvm-benches --bench compile"
    (cd "$root" && CARGO_TARGET_DIR=$target cargo bench -q -p sipvm-benches --bench compile 2>&1 | grep -E 'time:|^[a-z0-9_]+/' || true)
fi

timer=${TIMER:-}
if [ -z "$timer" ]; then
    if command -v hyperfine >/dev/null; then timer=hyperfine; else timer=epochrealtime; fi
fi

# time_once CMD... -> prints "WALL CPU" of one run in seconds (CPU = user + system, "-" when
# the timer cannot tell); fails if CMD fails.
time_once() {
    if [ "$timer" = hyperfine ]; then
        hyperfine -N --runs 1 --style none --export-csv "$tmp/h.csv" -- "$(printf '%q ' "$@")" >/dev/null 2>&1 \
            || return 1
        awk -F, 'NR == 2 { print $2, $5 + $6 }' "$tmp/h.csv"
    else
        local t0 t1
        t0=$EPOCHREALTIME
        "$@" >/dev/null 2>&1 || return 1
        t1=$EPOCHREALTIME
        awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f -\n", b - a }'
    fi
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ms() { awk -v s="$1" 'BEGIN { printf "%.2f", s * 1000 }'; }

# compare KEY LABEL FILE KAMAILIO_EXTRA_ARGS -> prints a result line, records the medians
compare() {
    local key=$1 label=$2 file=$3 kargs=$4
    # shellcheck disable=SC2086
    local kcmd=("$kamailio" -c $kargs -f "$file")
    local scmd=("$sipvm" check -f "$file")
    local out
    out=$("${kcmd[@]}" 2>&1 || true)
    if ! grep -q "config file ok" <<<"$out"; then
        echo "kamailio rejects $file (${kcmd[*]}):" >&2
        tail -5 <<<"$out" >&2
        return 1
    fi
    if ! "${scmd[@]}" >/dev/null 2>&1; then
        echo "sipvm rejects $file:" >&2
        "${scmd[@]}" >&2 || true
        return 1
    fi
    : >"$tmp/k" && : >"$tmp/s"
    for ((i = 0; i < runs; i++)); do
        if ((i % 2 == 0)); then
            time_once "${kcmd[@]}" >>"$tmp/k"
            time_once "${scmd[@]}" >>"$tmp/s"
        else
            time_once "${scmd[@]}" >>"$tmp/s"
            time_once "${kcmd[@]}" >>"$tmp/k"
        fi
    done
    local km sm kmin smin kc sc
    km=$(cut -d' ' -f1 "$tmp/k" | median)
    sm=$(cut -d' ' -f1 "$tmp/s" | median)
    kmin=$(cut -d' ' -f1 "$tmp/k" | sort -g | head -1)
    smin=$(cut -d' ' -f1 "$tmp/s" | sort -g | head -1)
    printf '%-22s kamailio %8s ms (min %7s)   sipvm %8s ms (min %7s)   sipvm/kamailio %s\n' \
        "$label" "$(ms "$km")" "$(ms "$kmin")" "$(ms "$sm")" "$(ms "$smin")" \
        "$(awk -v a="$sm" -v b="$km" 'BEGIN { printf "%.3f", a / b }')"
    if [ "$timer" = hyperfine ]; then
        kc=$(cut -d' ' -f2 "$tmp/k" | median)
        sc=$(cut -d' ' -f2 "$tmp/s" | median)
        printf '%-22s   cpu (user+sys) medians: kamailio %8s ms   sipvm %8s ms   sipvm/kamailio %s\n' \
            "" "$(ms "$kc")" "$(ms "$sc")" "$(awk -v a="$sc" -v b="$kc" 'BEGIN { printf "%.3f", a / b }')"
    fi
    echo "$key $km $sm" >>"$tmp/ratios"
}

echo "== whole-process wall time, $runs alternating runs each ($timer), load: $(cut -d' ' -f1-3 /proc/loadavg)"
: >"$tmp/ratios"
if [ -r "$stock" ]; then
    compare stock "stock kamailio.cfg" "$stock" ""
else
    echo "skipping the stock configuration: $stock not readable"
fi

# Kamailio's default private memory (8 MB) is too small for a large file; note whether it
# fails without -M.
plain=$("$kamailio" -c -f "$gen" 2>&1 || true)
if grep -q "config file ok" <<<"$plain"; then
    echo "note: kamailio -c accepts $gen without -M"
else
    why=$(grep -m1 -o 'could not allocate private memory[^,]*' <<<"$plain" || echo 'see its output')
    echo "note: kamailio -c -f $gen fails without -M ($why); using -M 64"
fi
compare generated "generated $lines lines" "$gen" "-M 64"

echo "== targets (from the issue)"
while read -r label k s; do
    case "$label" in
        stock) awk -v k="$k" -v s="$s" 'BEGIN { printf "stock: sipvm %.2f ms <= kamailio -c %.2f ms: %s\n", s*1000, k*1000, (s <= k) ? "MET" : "MISSED" }' ;;
        generated) awk -v k="$k" -v s="$s" 'BEGIN { printf "generated: sipvm %.2f ms < half of kamailio -c -M 64 (%.2f ms): %s\n", s*1000, k*500, (s < k/2) ? "MET" : "MISSED" }' ;;
    esac
done <"$tmp/ratios"

# In-process, compile-only medians from criterion, when a bench run left them.
crit=$target/criterion
if [ -d "$crit" ] && command -v jq >/dev/null; then
    echo "== in-process compile-only medians (criterion, $crit)"
    for g in stock_cfg "gen${lines}_cfg"; do
        for b in compile_str compile_file preprocess lex regexes regexes_distinct; do
            f=$crit/$g/$b/new/estimates.json
            [ -r "$f" ] || continue
            printf '%-14s %-17s %10.3f ms\n' "$g" "$b" "$(jq '.median.point_estimate / 1e6' "$f")"
        done
    done
else
    echo "(no criterion results under $crit: run with -b, or cargo bench -p sipvm-benches --bench compile)"
fi
