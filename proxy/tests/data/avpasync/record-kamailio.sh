#!/bin/sh
# Records Kamailio 5.6's answers to side.cfg into side.kamailio.txt: the script's "Cnn"/"Mnn"
# log lines (avpops, mqueue), the mqueue RPC replies as kamcmd prints them, and one timer
# line per rtimer worker. The test (proxy/tests/e2e_avpasync.rs) runs sipvm on the same file
# and compares. Needs kamailio and kamcmd; ports 26060-26062.
set -e
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
sed -e 's/@PORT@/26060/' \
    -e 's/@EXTRA@/loadmodule "ctl.so"\nmodparam("ctl", "binrpc", "tcp:127.0.0.1:26061")/' \
    "$here/side.cfg" > "$tmp/kam.cfg"
timeout 8 kamailio -f "$tmp/kam.cfg" -DD -E -n 1 \
    -L /usr/lib/x86_64-linux-gnu/kamailio/modules -a no > "$tmp/kam.log" 2>&1 &
sleep 1.5
python3 "$here/send.py" 26060 26062 > "$tmp/replies.txt"
out="$here/side.kamailio.txt"
{
    cat "$tmp/replies.txt"
    for c in "mqueue.get_sizes" "mqueue.get_size q1" "mqueue.get_size nope" "mqueue.fetch q1" \
             "mqueue.fetch q1" "mqueue.fetch q4" "mqueue.fetch q4" "mqueue.fetch nope" \
             "mqueue.get_size"; do
        echo "RPC $c"
        kamcmd -s tcp:127.0.0.1:26061 $c 2>&1 || true
    done
    sleep 3
    grep -Eo '(C|M)[0-9]+ .*' "$tmp/kam.log"
    grep -Eo 'TIMER .*' "$tmp/kam.log" | sort -u
} > "$out"
wait || true
rm -rf "$tmp"
