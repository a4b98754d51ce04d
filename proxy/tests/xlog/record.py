#!/usr/bin/env python3
"""Drives xlog.cfg as e2e_xlog.rs does: record.py SERVER_PORT; prints the replies (the log
lines come from the server's log)."""
import socket, sys
target = int(sys.argv[1])
tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); tx.bind(("127.0.0.1", 0)); tx.settimeout(2)
sp = tx.getsockname()[1]
for meth in ["OPTIONS", "MESSAGE", "INFO"]:
    m = ("%s sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-%s\r\nMax-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:x@127.0.0.1>\r\nCall-ID: x-%s\r\nCSeq: 1 %s\r\nContent-Length: 0\r\n\r\n" % (meth, sp, meth, meth, meth)).encode()
    tx.sendto(m, ("127.0.0.1", target))
    print(meth, tx.recvfrom(65535)[0].split(b"\r\n")[0].decode())
