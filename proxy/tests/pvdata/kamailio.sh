#!/bin/sh
# Regenerates NAME.expected from Kamailio 5.6 (installed) for each NAME.cfg given (default:
# all): runs it on 127.0.0.1:24060, sends one OPTIONS per case of its `# cases:` line and
# keeps the `R|...` lines Kamailio logs. The e2e test (e2e_pvdata.rs) compares sipvm's.
set -e
cd "$(dirname "$0")"
MODS=${KAMAILIO_MODULES:-/usr/lib/x86_64-linux-gnu/kamailio/modules}
for cfg in ${@:-*.cfg}; do
    name=${cfg%.cfg}
    tmp=$(mktemp -d)
    sed -e "s/127.0.0.1:5060/127.0.0.1:24060/" -e "s|@DIR@|$(pwd)|g" "$cfg" > "$tmp/k.cfg"
    kamailio -f "$tmp/k.cfg" -DD -E -n 1 -L "$MODS" -a no > "$tmp/k.log" 2>&1 &
    pid=$!
    sleep 2
    python3 - "$(sed -n 's/^# cases: //p' "$cfg")" "$cfg" <<'PY'
import socket, sys
extra = {}
for line in open(sys.argv[2]):
    if line.startswith("# extra "):
        case, header = line[len("# extra "):].rstrip("\n").split(": ", 1)
        extra[case] = extra.get(case, "") + header + "\r\n"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.settimeout(3)
lp = s.getsockname()[1]
for i, c in enumerate(sys.argv[1].split()):
    # The request the e2e test's Peer::request sends.
    cid = f"pvd-{i}-{c}"
    m = (f"OPTIONS sip:{c}@127.0.0.1 SIP/2.0\r\n"
         f"Via: SIP/2.0/UDP 127.0.0.1:{lp};branch=z9hG4bK-{cid};rport\r\n"
         "Max-Forwards: 70\r\n"
         f"From: <sip:alice@127.0.0.1:{lp}>;tag=a-{cid}\r\n"
         "To: <sip:bob@example.test>\r\n"
         f"Call-ID: {cid}\r\nCSeq: 1 OPTIONS\r\n"
         f"{extra.get(c, '')}Content-Length: 0\r\n\r\n")
    s.sendto(m.encode(), ("127.0.0.1", 24060))
    s.recvfrom(65535)
PY
    sleep 0.5
    kill "$pid"
    wait "$pid" || true
    grep -o 'R|.*' "$tmp/k.log" > "$name.expected"
    rm -rf "$tmp"
done
