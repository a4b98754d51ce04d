#!/usr/bin/env python3
"""Sends async.cfg's requests one at a time to 127.0.0.1:PORT from 127.0.0.1:FROM and prints
each reply's status line, until a final reply (the resumed route answers it)."""
import socket, sys
port, frm = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", frm))
s.settimeout(5)
for method, u in [("OPTIONS", "slow"), ("INVITE", "ms"), ("OPTIONS", "task"), ("OPTIONS", "tgroup"), ("OPTIONS", "data"), ("OPTIONS", "errors"), ("OPTIONS", "plain")]:
    m = (f"{method} sip:{u}@127.0.0.1 SIP/2.0\r\n"
         f"Via: SIP/2.0/UDP 127.0.0.1:{frm};branch=z9hG4bK{u}1\r\n"
         f"From: <sip:t@127.0.0.1>;tag=1\r\nTo: <sip:{u}@127.0.0.1>\r\n"
         f"Call-ID: {u}-async\r\nCSeq: 1 {method}\r\nMax-Forwards: 70\r\n"
         "Contact: <sip:t@127.0.0.1>\r\nContent-Length: 0\r\n\r\n").encode()
    s.sendto(m, ("127.0.0.1", port))
    while True:
        line = s.recv(4000).decode().split("\r\n")[0]
        print(f"{u}: {line}")
        if not line.startswith("SIP/2.0 1"):
            break
