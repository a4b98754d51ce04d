#!/usr/bin/env python3
"""Drives kamailio.cfg (127.0.0.1:27010): a UAC on :27012 and a UAS on :27011 make one call,
the UAS hangs up;
then an INVITE the proxy answers itself (404). Writes what each side sends and receives to NN-name.sip files here."""
import os, socket, sys

HERE = os.path.dirname(os.path.abspath(__file__))
PROXY = ("127.0.0.1", 27010)

def sock(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    s.settimeout(3)
    return s

uac, uas = sock(27012), sock(27011)
n = [0]

def save(name, data):
    n[0] += 1
    with open(os.path.join(HERE, "%02d-%s.sip" % (n[0], name)), "wb") as f:
        f.write(data)

def send(s, name, text):
    data = text.replace("\n", "\r\n").encode()
    save(name, data)
    s.sendto(data, PROXY)

def recv(s, name):
    data, _ = s.recvfrom(65535)
    save(name, data)
    return data.decode()

def hdrs(msg, name):
    out = []
    for line in msg.split("\r\n"):
        if ":" in line and line.split(":", 1)[0].strip().lower() == name.lower():
            out.append(line.split(":", 1)[1].strip())
    return out

send(uac, "uac-invite", """INVITE sip:bob@127.0.0.1:27011 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:27012;branch=z9hG4bK-uac-1;rport
Record-Route: <sip:127.0.0.1:27012;lr;ftag=up>
Max-Forwards: 70
From: "Alice" <sip:alice@127.0.0.1:27012>;tag=alice-tag
To: <sip:bob@127.0.0.1:27011>
Call-ID: golden-call-1@127.0.0.1
CSeq: 1 INVITE
Contact: <sip:alice@127.0.0.1:27012;transport=udp>
Content-Length: 0

""")
inv = recv(uas, "uas-got-invite")
vias = "".join("Via: %s\n" % v for v in hdrs(inv, "Via"))
rrs = "".join("Record-Route: %s\n" % v for v in hdrs(inv, "Record-Route"))
callid = hdrs(inv, "Call-ID")[0]
send(uas, "uas-200", """SIP/2.0 200 OK
%s%sFrom: "Alice" <sip:alice@127.0.0.1:27012>;tag=alice-tag
To: <sip:bob@127.0.0.1:27011>;tag=bob-tag
Call-ID: %s
CSeq: 1 INVITE
Contact: sip:bob@127.0.0.1:27011
Content-Length: 0

""" % (vias, rrs, callid))
ok = recv(uac, "uac-got-200")
# The UAS hangs up: its route set is the RR it saw, its target the caller's Contact.
route = "".join("Route: %s\n" % v for v in hdrs(inv, "Record-Route"))
target = hdrs(inv, "Contact")[0].strip("<>")
send(uas, "uas-bye", """BYE %s SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:27011;branch=z9hG4bK-uas-2
%sMax-Forwards: 70
From: <sip:bob@127.0.0.1:27011>;tag=bob-tag
To: "Alice" <sip:alice@127.0.0.1:27012>;tag=alice-tag
Call-ID: %s
CSeq: 1 BYE
Content-Length: 0

""" % (target, route, callid))
bye = recv(uac, "uac-got-bye")
send(uac, "uac-bye-200", """SIP/2.0 200 OK
%sFrom: <sip:bob@127.0.0.1:27011>;tag=bob-tag
To: "Alice" <sip:alice@127.0.0.1:27012>;tag=alice-tag
Call-ID: %s
CSeq: 1 BYE
Content-Length: 0

""" % ("".join("Via: %s\n" % v for v in hdrs(bye, "Via")), hdrs(bye, "Call-ID")[0]))
recv(uas, "uas-got-bye-200")
# A local reply: the cookie comes back in the Via the reply copies.
send(uac, "uac-invite-nobody", """INVITE sip:nobody@127.0.0.1:27010 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:27012;branch=z9hG4bK-uac-3;rport
Max-Forwards: 70
From: <sip:alice@127.0.0.1:27012>;tag=alice-3
To: <sip:nobody@127.0.0.1:27010>
Call-ID: golden-call-3@127.0.0.1
CSeq: 1 INVITE
Contact: <sip:alice@127.0.0.1:27012>
Content-Length: 0

""")
recv(uac, "uac-got-404")
print("ok", n[0])
