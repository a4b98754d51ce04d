#!/usr/bin/env python3
"""Drives corex.cfg as e2e_corex.rs does: record.py SERVER_PORT CAP_PORT; prints the replies
and what the capture peer got (the log lines come from the server's log)."""
import socket, sys
target, cap = int(sys.argv[1]), int(sys.argv[2])
rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); rx.bind(("127.0.0.1", cap)); rx.settimeout(0.5)
tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); tx.bind(("127.0.0.1", 0)); tx.settimeout(2)
sp = tx.getsockname()[1]

def caught(t):
    got = []
    while True:
        try:
            got.append(rx.recvfrom(65535)[0].split(b"\r\n")[0].decode())
        except socket.timeout:
            break
    for g in got or ["(nothing)"]:
        print(t, "cap", g)

for t in ["udp", "data", "x"]:
    m = ("OPTIONS sip:cx@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-%s\r\nMax-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:cx@127.0.0.1>\r\nCall-ID: cx-%s\r\nCSeq: 1 OPTIONS\r\nX-T: %s\r\nContent-Length: 0\r\n\r\n" % (sp, t, t, t)).encode()
    tx.sendto(m, ("127.0.0.1", target))
    caught(t)
    print(t, "reply", tx.recvfrom(65535)[0].split(b"\r\n")[0].decode())
# A reply through us: forward_reply() sends it on to the capture peer.
r = ("SIP/2.0 299 Fwd\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-fr1\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-fr2\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:cx@127.0.0.1>;tag=2\r\nCall-ID: cx-fr\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n" % (target, cap)).encode()
tx.sendto(r, ("127.0.0.1", target))
caught("fr")
