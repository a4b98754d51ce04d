#!/usr/bin/env python3
"""Sends every request of cases.txt to a server running nathelper.cfg and prints what it
forwards (the Request-URI and Contact lines). With the server's log (the NAT/FN lines) this
is kamailio.txt; the e2e test (e2e_nathelper.rs) does the same against sipvm.

  kamailio -f nathelper.cfg -DD -E -n 1 -a no -L /usr/lib/x86_64-linux-gnu/kamailio/modules \
      -A PORT=21060 -A CAP=21099 2> kam.log &
  ./record.py 21060 21099 > out.txt
"""
import socket, sys

SDP = {
    "priv": "v=0\r\no=- 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
    "pub": "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
    "media": "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\nc=IN IP4 192.168.1.9\r\n",
}

target, cap = int(sys.argv[1]), int(sys.argv[2])
rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rx.bind(("127.0.0.1", cap))
rx.settimeout(1.0)
tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
tx.bind(("127.0.0.1", 0))
sp = str(tx.getsockname()[1])
sys.stderr.write(sp + "\n")
for line in open(__file__.rsplit("/", 1)[0] + "/cases.txt"):
    if line.startswith("#") or not line.strip():
        continue
    f = line.rstrip("\n").split("|")
    name, fn, contact, via, ruri, sdp = f[:6]
    extra = f[6].replace("\\r\\n", "\r\n") if len(f) > 6 else ""
    if via == "-":
        via = "SIP/2.0/UDP 127.0.0.1:SRCPORT;branch=z9hG4bK-" + name
    lines = ["INVITE %s SIP/2.0" % ruri, "Via: " + via, "Max-Forwards: 70",
             "From: <sip:alice@127.0.0.1>;tag=1", "To: <sip:bob@127.0.0.1>",
             "Call-ID: c-" + name, "CSeq: 1 INVITE", "X-T: " + name, "X-Fn: " + fn]
    if contact != "-":
        lines.append("Contact: " + contact)
    if extra:
        lines.append(extra)
    body = SDP.get(sdp, "")
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append("Content-Length: %d" % len(body))
    msg = ("\r\n".join(lines) + "\r\n\r\n" + body).replace("SRCPORT", sp)
    tx.sendto(msg.encode(), ("127.0.0.1", target))
    try:
        data, _ = rx.recvfrom(65535)
        keep = [l for l in data.decode().split("\r\n")
                if l.startswith("INVITE") or l.startswith("Contact:")]
        print(name, "|", " || ".join(keep).replace(sp, "SRCPORT"))
    except socket.timeout:
        print(name, "| (nothing forwarded)")
