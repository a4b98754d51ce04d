#!/usr/bin/env python3
"""Drives kamailio.cfg (127.0.0.1:27020): sends one OPTIONS from :27023, gets the 404, and
records every HEP packet (`capture.py hlog`: against kamailio-hlog.cfg) that reaches the collectors on :27021 (duplicate_uri: trace_mode 1
and sip_trace()) and :27022 (sip_trace(uri, cid, "m")) as NN-port.hep here."""
import os, socket, select, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
# `capture.py hlog` (against kamailio-hlog.cfg) names its files hlog-NN-port.hep.
PREFIX = sys.argv[1] + "-" if len(sys.argv) > 1 else ""

def sock(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    return s

c1, c2, ua = sock(27021), sock(27022), sock(27023)
msg = ("OPTIONS sip:bob@127.0.0.1:27020 SIP/2.0\r\n"
       "Via: SIP/2.0/UDP 127.0.0.1:27023;branch=z9hG4bK-trace-1\r\n"
       "Max-Forwards: 70\r\n"
       "From: <sip:alice@127.0.0.1:27023>;tag=t1\r\n"
       "To: <sip:bob@127.0.0.1:27020>\r\n"
       "Call-ID: trace-call-1\r\n"
       "CSeq: 1 OPTIONS\r\n"
       "Content-Length: 0\r\n\r\n").encode()
with open(os.path.join(HERE, "options.sip"), "wb") as f:
    f.write(msg)
ua.sendto(msg, ("127.0.0.1", 27020))
n = 0
end = time.time() + 2
while time.time() < end:
    r, _, _ = select.select([c1, c2, ua], [], [], 0.2)
    for s in r:
        data, _ = s.recvfrom(65535)
        n += 1
        port = s.getsockname()[1]
        ext = "sip" if s is ua else "hep"
        with open(os.path.join(HERE, "%s%02d-%d.%s" % (PREFIX, n, port, ext)), "wb") as f:
            f.write(data)
print("ok", n)
