#!/usr/bin/env python3
"""Sends the side-by-side requests (avp, mq) to 127.0.0.1:PORT from 127.0.0.1:FROM and
prints each reply's status line. Used by record-kamailio.sh; the Rust test does the same."""
import socket, sys
port, frm = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", frm))
s.settimeout(3)
for u in ["avp", "mq"]:
    m = (f"OPTIONS sip:{u}@127.0.0.1 SIP/2.0\r\n"
         f"Via: SIP/2.0/UDP 127.0.0.1:{frm};branch=z9hG4bK{u}1\r\n"
         f"From: <sip:t@127.0.0.1>;tag=1\r\nTo: <sip:{u}@127.0.0.1>\r\n"
         f"Call-ID: {u}-side\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
         "Content-Length: 0\r\n\r\n").encode()
    s.sendto(m, ("127.0.0.1", port))
    print(s.recv(4000).decode().split("\r\n")[0])
