#!/usr/bin/env bash
# SIP load comparison of Kamailio and sipvm on one configuration, measured with sipload.
#
#   benches/compare-sip.sh [options] [CFG] [SECONDS] [ROUNDS]
#
#   CFG        configuration (default /work/shared/examples/03-reply-always.cfg)
#   SECONDS    load per measurement (default 10)
#   ROUNDS     rounds (default 5); each round measures both servers, the order alternating
#              (kamailio first on odd rounds, sipvm first on even ones)
#   --window N        requests in flight per client thread (default 32)
#   --threads N       sipload client threads (default 1)
#   --children N      kamailio -n (UDP workers, default 2); also the echo baseline's threads
#   --method M        OPTIONS (default), INVITE, MESSAGE or REGISTER
#   --prepare ARGS    run `sipload --target SERVER ARGS` against each server after it starts
#                     and before it is measured (e.g. registering the users a lookup test
#                     calls: "--method REGISTER --users 10000 --count 10000 --contact HOST:PORT")
#   --responder ADDR  start `sipload --echo-server ADDR` as the next hop behind the proxy;
#                     by default one per distinct rewritehostport("HOST:PORT") of the cfg
#   --no-responder    do not start one
#   --port N          listen port to use instead of the cfg's (a temp copy is rewritten);
#                     by default the cfg's, or a free one when that is busy
#   --echo            measure the echo baseline in sipvm's place even if `sipvm run` exists
#
# Release binaries are built once (CARGO_TARGET_DIR, default target/). Each server runs on its
# own: Kamailio as `kamailio -f CFG -DD -E -n CHILDREN -P/-w/-Y TMPDIR` (foreground, logs to
# TMPDIR), sipvm as `sipvm run -f CFG`. If `sipvm run` does not exist yet, the script says
# "sipvm run: not available yet" and measures `sipload --echo-server` (a UDP server that parses
# nothing) in its place, so the ratios printed are then echo/kamailio. Every server is started
# under `timeout` and killed after its measurement. Only 127.0.0.1 / ::1 are used.
#
# Output: one line per measurement (replies/s, latency p50/p99, server CPU us/reply, RSS/PSS,
# lost, errors, and sipload's own CPU us/reply), then the median of each (with min..max) and the median ratios
# sipvm/kamailio for replies/s and CPU us/reply, against the issue's targets (3x replies/s and
# <= 1/3 CPU per reply on a reply-always cfg; 2x replies/s on a forwarding cfg).
#
# Environment: KAMAILIO (default `kamailio`), CARGO_TARGET_DIR, SIPLOAD_ARGS (extra sipload
# options, e.g. "--timeout-ms 500"), KAMAILIO_ARGS (extra kamailio options, e.g. "-m 1024":
# a stateful cfg under load needs more than the default 64 MB of shared memory).

set -euo pipefail

window=32
threads=1
children=2
method=OPTIONS
responder=auto
port=
force_echo=0
prepare=
pos=()
while [ $# -gt 0 ]; do
    case "$1" in
        --window) window=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        --children) children=$2; shift 2 ;;
        --method) method=$2; shift 2 ;;
        --prepare) prepare=$2; shift 2 ;;
        --responder) responder=$2; shift 2 ;;
        --no-responder) responder=none; shift ;;
        --port) port=$2; shift 2 ;;
        --echo) force_echo=1; shift ;;
        -h|--help) sed -n '2,38p' "$0"; exit 0 ;;
        -*) echo "unknown option $1" >&2; exit 2 ;;
        *) pos+=("$1"); shift ;;
    esac
done
cfg=${pos[0]:-/work/shared/examples/03-reply-always.cfg}
seconds=${pos[1]:-10}
rounds=${pos[2]:-5}

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
kamailio=${KAMAILIO:-kamailio}
read -r -a extra <<<"${SIPLOAD_ARGS:-}"
read -r -a kextra <<<"${KAMAILIO_ARGS:-}"

[ -r "$cfg" ] || { echo "cannot read $cfg" >&2; exit 1; }
command -v "$kamailio" >/dev/null || { echo "kamailio not found" >&2; exit 1; }

echo "== building sipload and sipvm (release, target dir $target)"
(cd "$root" && CARGO_TARGET_DIR=$target cargo build --release -q -p sipvm-benches --bin sipload)
sipload=$target/release/sipload
sipvm=$target/release/sipvm
if ! (cd "$root" && CARGO_TARGET_DIR=$target cargo build --release -q -p sipvm-proxy --bin sipvm); then
    echo "warning: sipvm does not build; using the echo baseline in its place" >&2
    force_echo=1
fi
if [ "$force_echo" = 0 ] && "$sipvm" run --help >/dev/null 2>&1; then
    other=sipvm
else
    [ "$force_echo" = 1 ] || echo "sipvm run: not available yet"
    other=echo
fi

tmp=$(mktemp -d)
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

udp_busy() { ss -Hlun "sport = :$1" 2>/dev/null | grep -q .; }

# The cfg's first UDP listen address (udp:HOST:PORT), default 127.0.0.1:5060.
listen=$(grep -m1 -oE '^[[:space:]]*listen[[:space:]]*=[[:space:]]*(udp:)?[0-9.]+:[0-9]+' "$cfg" \
    | sed -E 's/.*=[[:space:]]*(udp:)?//' || true)
listen=${listen:-127.0.0.1:5060}
host=${listen%:*}
cport=${listen##*:}
case "$host" in
    127.*|::1|localhost) ;;
    *) echo "the cfg listens on $host, not on loopback: refusing" >&2; exit 1 ;;
esac
if [ -z "$port" ]; then
    port=$cport
    if udp_busy "$port"; then
        port=15060
        while udp_busy "$port"; do port=$((port + 1)); done
        echo "port $cport is busy: using $port"
    fi
fi
run_cfg=$cfg
if [ "$port" != "$cport" ]; then
    run_cfg=$tmp/$(basename "$cfg")
    sed -E "s/$host:$cport/$host:$port/g" "$cfg" >"$run_cfg"
fi

# The next hops of a forwarding cfg: every distinct rewritehostport("HOST:PORT").
if [ "$responder" = auto ]; then
    responder=$(grep -oE 'rewritehostport\("[^"]+"\)' "$cfg" | sed -E 's/.*\("([^"]+)"\)/\1/' | sort -u | tr '\n' ' ' || true)
    responder=${responder% }
    [ -n "$responder" ] || responder=none
fi
total=$(((seconds + 15) * rounds * 2 + 60))
if [ "$responder" != none ]; then
    n=0
    for r in $responder; do
        case "$r" in
            127.*|\[::1\]*) ;;
            *) echo "responder $r is not on loopback: refusing" >&2; exit 1 ;;
        esac
        n=$((n + 1))
        "$sipload" --echo-server "$r" --threads 1 --duration "$total" >"$tmp/responder.$n.out" 2>&1 &
        pids+=($!)
        sleep 0.3
        grep -q listening "$tmp/responder.$n.out" || { cat "$tmp/responder.$n.out" >&2; exit 1; }
        echo "responder: sipload --echo-server $r (1 thread)"
    done
fi

wait_free() {
    local i
    for ((i = 0; i < 200; i++)); do
        udp_busy "$port" || return 0
        sleep 0.05
    done
    echo "port $port still busy" >&2
    return 1
}

wait_listening() {
    local i
    for ((i = 0; i < 100; i++)); do
        udp_busy "$port" && return 0
        sleep 0.05
    done
    return 1
}

# measure LABEL SERVER_PID -> appends sipload's JSON line to $tmp/LABEL.json
measure() {
    local label=$1 spid=$2 out
    sleep 0.3
    if [ -n "$prepare" ]; then
        local p
        read -r -a p <<<"$prepare"
        "$sipload" --target "$host:$port" "${p[@]}" >"$tmp/prepare.$label.out" 2>&1 \
            || { echo "prepare failed against $label:" >&2; tail -3 "$tmp/prepare.$label.out" >&2; }
    fi
    out=$("$sipload" --target "$host:$port" --window "$window" --threads "$threads" \
        --method "$method" --duration "$seconds" --server-pid "$spid" --json "${extra[@]}" || true)
    [ -n "$out" ] || { echo "sipload failed against $label" >&2; return 1; }
    echo "$out" >>"$tmp/$label.json"
    report "$label" "$out"
}

jget() { grep -oE "\"$1\":[0-9.]+" <<<"$2" | head -1 | cut -d: -f2; }

report() {
    printf '  %-8s replies/s %9.0f  p50 %8.1f us  p99 %8.1f us  cpu %7.2f us/reply  rss %6s KiB  pss %6s KiB  lost %s  errors %s  (sipload %.2f us/reply)\n' \
        "$1" "$(jget replies_per_s "$2")" "$(jget p50 "$2")" "$(jget p99 "$2")" \
        "$(jget cpu_us_per_reply "$2")" "$(jget rss_kb "$2")" "$(jget pss_kb "$2")" \
        "$(jget lost "$2")" "$(jget errors "$2")" "$(jget client_cpu_us_per_reply "$2")"
}

run_kamailio() {
    local d=$tmp/kam.$1 kpid i
    mkdir -p "$d"
    timeout -s KILL "$((seconds + 30))" "$kamailio" -f "$run_cfg" -DD -E -n "$children" "${kextra[@]}" \
        -P "$d/pid" -w "$d" -Y "$d" >"$d/log" 2>&1 &
    local tpid=$!
    pids+=("$tpid")
    wait_listening || { echo "kamailio did not start:" >&2; tail -5 "$d/log" >&2; exit 1; }
    for ((i = 0; i < 100; i++)); do [ -s "$d/pid" ] && break; sleep 0.05; done
    kpid=$(cat "$d/pid")
    measure kamailio "$kpid"
    kill "$kpid" 2>/dev/null || true
    wait "$tpid" 2>/dev/null || true
    wait_free
}

run_other() {
    local d=$tmp/other.$1 tpid spid
    mkdir -p "$d"
    if [ "$other" = sipvm ]; then
        timeout -s KILL "$((seconds + 30))" "$sipvm" run -f "$run_cfg" >"$d/log" 2>&1 &
    else
        timeout -s KILL "$((seconds + 30))" "$sipload" --echo-server "$host:$port" \
            --threads "$children" --duration "$((seconds + 20))" >"$d/log" 2>&1 &
    fi
    tpid=$!
    pids+=("$tpid")
    wait_listening || { echo "$other did not start:" >&2; tail -5 "$d/log" >&2; exit 1; }
    spid=$(pgrep -P "$tpid" | head -1)
    measure "$other" "$spid"
    kill "$spid" 2>/dev/null || true
    wait "$tpid" 2>/dev/null || true
    wait_free
}

echo "== $cfg on $host:$port: $rounds rounds x ${seconds}s, $method, window $window x $threads client thread(s), kamailio -n $children; load: $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 1; r <= rounds; r++)); do
    echo "round $r"
    if ((r % 2)); then
        run_kamailio "$r"
        run_other "$r"
    else
        run_other "$r"
        run_kamailio "$r"
    fi
done

# summ LABEL KEY -> "median min max" of KEY over LABEL's runs
summ() {
    local f=$tmp/$1.json
    while read -r line; do jget "$2" "$line"; done <"$f" | sort -g \
        | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m, v[1], v[NR] }'
}

echo "== medians over $rounds rounds (min..max)"
for label in kamailio "$other"; do
    read -r rps rmin rmax <<<"$(summ "$label" replies_per_s)"
    read -r p99 _ _ <<<"$(summ "$label" p99)"
    read -r cpu cmin cmax <<<"$(summ "$label" cpu_us_per_reply)"
    read -r rss _ _ <<<"$(summ "$label" rss_kb)"
    read -r pss _ _ <<<"$(summ "$label" pss_kb)"
    printf '%-8s replies/s %9.0f (%.0f..%.0f)  p99 %8.1f us  cpu %7.2f us/reply (%.2f..%.2f)  rss %s KiB  pss %s KiB\n' \
        "$label" "$rps" "$rmin" "$rmax" "$p99" "$cpu" "$cmin" "$cmax" "$rss" "$pss"
    echo "$rps $cpu" >"$tmp/$label.med"
done
read -r krps kcpu <"$tmp/kamailio.med"
read -r orps ocpu <"$tmp/$other.med"
awk -v o="$other" -v kr="$krps" -v kc="$kcpu" -v r="$orps" -v c="$ocpu" -v fwd="$responder" 'BEGIN {
    rr = (kr > 0) ? r / kr : 0; cr = (kc > 0) ? c / kc : 0
    printf "ratio %s/kamailio: replies/s %.2fx, cpu us/reply %.3f\n", o, rr, cr
    if (fwd == "none")
        printf "target (reply-always): replies/s >= 3x: %s; cpu/reply <= 1/3: %s\n", (rr >= 3) ? "MET" : "MISSED", (cr <= 1/3) ? "MET" : "MISSED"
    else
        printf "target (forwarding): replies/s >= 2x: %s\n", (rr >= 2) ? "MET" : "MISSED"
}'
[ "$other" = sipvm ] || echo "(sipvm run not measured: the second column is the echo baseline)"
