#!/usr/bin/env python3
"""Drives kex.cfg as e2e_kex.rs does: record.py SERVER_PORT UAS_PORT (the log lines come from
the server's log)."""
import socket, sys, time
target = int(sys.argv[1]); uas_port = int(sys.argv[2])
tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); tx.bind(("127.0.0.1", 0)); tx.settimeout(2)
uas = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); uas.bind(("127.0.0.1", uas_port)); uas.settimeout(2)
sp = tx.getsockname()[1]
def req(m, t):
    return ("%s sip:kex@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-%s\r\nMax-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\nCall-ID: k-%s\r\nCSeq: 1 %s\r\nX-T: %s\r\nContent-Length: 0\r\n\r\n" % (m, sp, t, t, m, t)).encode()
for t in ["first", "second"]:
    tx.sendto(req("OPTIONS", t), ("127.0.0.1", target))
    print(t, tx.recvfrom(65535)[0].split(b"\r\n")[0].decode())
tx.sendto(req("INVITE", "branch"), ("127.0.0.1", target))
m, a = uas.recvfrom(65535)
lines = m.decode().split("\r\n")
hdrs = [l + (";tag=u" if l.startswith("To:") else "") for l in lines if l.split(":")[0] in ("Via", "From", "To", "Call-ID", "CSeq")]
def reply(code, reason):
    return ("SIP/2.0 %d %s\r\n%s\r\nContent-Length: 0\r\n\r\n" % (code, reason, "\r\n".join(hdrs))).encode()
uas.sendto(reply(180, "Ringing"), a)
time.sleep(0.3)
uas.sendto(reply(486, "Busy"), a)
got = []
end = time.time() + 3
while time.time() < end:
    try:
        r = tx.recvfrom(65535)[0].split(b"\r\n")[0].decode()
        got.append(r)
        if r.startswith("SIP/2.0 486"): break
    except socket.timeout:
        break
print("branch", got)
# the ACK for the 486
try: uas.recvfrom(65535)
except socket.timeout: pass
