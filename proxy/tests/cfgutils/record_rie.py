#!/usr/bin/env python3
"""Drives route_if_exists.cfg as e2e_cfgutils.rs does: record_rie.py SERVER_PORT; prints the
replies (the log lines come from the server log)."""
import socket, sys
target = int(sys.argv[1])
tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); tx.bind(("127.0.0.1", 0)); tx.settimeout(2)
sp = tx.getsockname()[1]
for t in ["plain", "zero", "exit"]:
    m = ("OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-%s\r\nMax-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:x@127.0.0.1>\r\nCall-ID: r-%s\r\nCSeq: 1 OPTIONS\r\nX-T: %s\r\nContent-Length: 0\r\n\r\n" % (sp, t, t, t)).encode()
    tx.sendto(m, ("127.0.0.1", target))
    print(t, tx.recvfrom(65535)[0].split(b"\r\n")[0].decode())
