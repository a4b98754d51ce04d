#!/usr/bin/env bash
# Memory for transactions in flight: N INVITEs (distinct Call-IDs) relayed statefully to a
# next hop that never answers, with fr timers long enough that all stay in the table; then
# sipvm's RSS and tm.stats, and the same under Kamailio (shared memory used by tm, from
# `kamcmd core.shmmem`, plus the RSS of its processes).
#
#   benches/tm-memory.sh [N]        (default 100000; loopback only)
#
# Load: `sipload --method INVITE --count N --timeout-ms 5 --window 32` (each unanswered request is
# replaced after 5 ms: about 6,400 a second, a pace both servers keep up with). Release binaries in CARGO_TARGET_DIR or target/.

set -euo pipefail
n=${1:-100000}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
(cd "$root" && CARGO_TARGET_DIR=$target cargo build --release -q -p sipvm-benches --bin sipload -p sipvm-proxy --bin sipvm)
sipload=$target/release/sipload
sipvm=$target/release/sipvm
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port); hole=$(free_port); rpc=$(free_port)
cfg() {
    cat <<CFG
listen=udp:127.0.0.1:$port
children=2
$1
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "siputils.so"
modparam("tm", "fr_timer", 120000)
modparam("tm", "fr_inv_timer", 120000)
request_route {
    rewritehostport("127.0.0.1:$hole");
    t_relay();
}
CFG
}
rss_kb() { local s=0 p; for p in "$@"; do s=$((s + $(awk '/VmRSS/ {print $2}' /proc/$p/status 2>/dev/null || echo 0))); done; echo $s; }
pss_kb() { local s=0 p; for p in "$@"; do s=$((s + $(awk '/^Pss:/ {print $2}' /proc/$p/smaps_rollup 2>/dev/null || echo 0))); done; echo $s; }
load() {
    "$sipload" --target "127.0.0.1:$port" --method INVITE --count "$n" --timeout-ms 5 --window 32 \
        --expect 200 >"$tmp/load.$1" 2>&1 || true
    sleep 2
}

echo "== sipvm: $n transactions in flight"
cfg "rpc_listen=\"127.0.0.1:$rpc\"" >"$tmp/sipvm.cfg"
"$sipvm" run -f "$tmp/sipvm.cfg" >"$tmp/sipvm.log" 2>&1 &
spid=$!; pids+=($spid); sleep 1
idle=$(rss_kb $spid)
load sipvm
cur=$(curl -s -d '{"jsonrpc":"2.0","method":"tm.stats","id":1}' "http://127.0.0.1:$rpc/RPC" | grep -oE '"current":[0-9]+' | cut -d: -f2)
busy=$(rss_kb $spid)
echo "sipvm: idle RSS ${idle} KiB, with $cur transactions RSS ${busy} KiB: $(( (busy - idle) * 1024 / (cur > 0 ? cur : 1) )) bytes/transaction"
kill $spid; wait $spid 2>/dev/null || true

echo "== kamailio: $n transactions in flight (-m 1024)"
ctl=$tmp/ctl.sock
cfg "loadmodule \"ctl.so\"
modparam(\"ctl\", \"binrpc\", \"unix:$ctl\")" >"$tmp/kam.cfg"
kamailio -f "$tmp/kam.cfg" -DD -E -m 1024 -P "$tmp/kam.pid" -w "$tmp" -Y "$tmp" >"$tmp/kam.log" 2>&1 &
pids+=($!); sleep 2
kpids=$(pgrep -f "kamailio -f $tmp/kam.cfg" | tr '\n' ' ')
shm() { kamcmd -s "unix:$ctl" core.shmmem 2>/dev/null | awk '/^\tused:/ {print $2}'; }
kidle=$(shm); kpidle=$(pss_kb $kpids)
load kam
kbusy=$(shm); kpbusy=$(pss_kb $kpids)
kcur=$(kamcmd -s "unix:$ctl" tm.stats 2>/dev/null | awk '/current:/ {print $2}')
echo "kamailio: shm used idle $((kidle / 1024)) KiB, with $kcur transactions $((kbusy / 1024)) KiB: $(( (kbusy - kidle) / (kcur > 0 ? kcur : 1) )) bytes/transaction; PSS of all processes ${kpidle} -> ${kpbusy} KiB"
