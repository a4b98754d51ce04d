import socket, json
t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); t.bind(("127.0.0.1", 25072)); t.settimeout(3)
p = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); p.bind(("127.0.0.1", 25082)); p.settimeout(3)
p.sendto(b"MESSAGE sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:25082;branch=z9hG4bKm1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:x@y>\r\nCall-ID: m1\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n", ("127.0.0.1", 25062))
m, a = t.recvfrom(65535); m = m.decode()
def hdr(m, n):
    for l in m.split("\r\n"):
        if l.lower().startswith(n.lower()+":"): return l.split(":",1)[1].strip()
vias = [l for l in m.split("\r\n") if l.lower().startswith("via:")]
rep = "\r\n".join(["SIP/2.0 401 Unauthorized"] + vias + ["From: " + hdr(m,"From"), "To: " + hdr(m,"To") + ";tag=x", "Call-ID: " + hdr(m,"Call-ID"), "CSeq: " + hdr(m, "CSeq"), 'WWW-Authenticate: Digest realm="sipvm.test", nonce="abcdef", qop="auth"', "Content-Length: 0", "", ""])
t.sendto(rep.encode(), a)
m2, a2 = t.recvfrom(65535); m2 = m2.decode()
vias = [l for l in m2.split("\r\n") if l.lower().startswith("via:")]
rep = "\r\n".join(["SIP/2.0 200 OK"] + vias + ["From: " + hdr(m2,"From"), "To: " + hdr(m2,"To") + ";tag=x", "Call-ID: " + hdr(m2,"Call-ID"), "CSeq: " + hdr(m2, "CSeq"), "Content-Length: 0", "", ""])
t.sendto(rep.encode(), a2)
json.dump({"first": m, "retry": m2}, open("send.json", "w"), indent=1)
print(m); print(m2)
