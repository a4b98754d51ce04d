#!/bin/sh
# Records Kamailio 5.6's answers to async.cfg into async.kamailio.txt: each request's replies
# (status lines) and the script's "Ann"/"Rnn" log lines, sorted (the resumed routes run in
# other processes). The test (proxy/tests/e2e_async.rs) runs sipvm on the same file. Needs
# kamailio; ports 26090-26091.
set -e
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
sed -e 's/@PORT@/26090/' -e 's/@EXTRA@//' "$here/async.cfg" > "$tmp/kam.cfg"
timeout 10 kamailio -f "$tmp/kam.cfg" -DD -E -n 1 \
    -L /usr/lib/x86_64-linux-gnu/kamailio/modules -a no > "$tmp/kam.log" 2>&1 &
sleep 1.5
python3 "$here/send.py" 26090 26091 > "$tmp/replies.txt"
sleep 1
{
    cat "$tmp/replies.txt"
    grep -Eo '(A|R|D)[0-9]+ .*' "$tmp/kam.log" | sort
} > "$here/async.kamailio.txt"
wait || true
rm -rf "$tmp"
