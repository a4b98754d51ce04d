import socket, sys, json
PROXY = ("127.0.0.1", int(sys.argv[1])); OUT = sys.argv[2]
uac = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); uac.bind(("127.0.0.1", 25081)); uac.settimeout(3)
uas = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); uas.bind(("127.0.0.1", 25071)); uas.settimeout(3)
def vias(m): return [l for l in m.split("\r\n") if l.lower().startswith("via:")]
def hdr(m, n):
    for l in m.split("\r\n"):
        if l.lower().startswith(n.lower()+":"): return l.split(":",1)[1].strip()
res = {}
for case, chal, code in [("qop", 'WWW-Authenticate: Digest realm="sipvm.test", nonce="n0nce-1\xe9xyz", qop="auth,auth-int", opaque="0paque", algorithm=MD5', "401 Unauthorized"),
                   ("noqop", 'Proxy-Authenticate: Digest realm="sipvm.test", nonce="abc"', "407 Proxy Authentication Required")]:
    req = ("MESSAGE sip:bob@127.0.0.1:25071 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:25081;branch=z9hG4bK" + case + "\r\nMax-Forwards: 70\r\nFrom: <sip:alice@sipvm.test>;tag=f\r\nTo: <sip:bob@sipvm.test>\r\nCall-ID: auth-" + case + "\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n")
    uac.sendto(req.encode(), PROXY)
    m, a = uas.recvfrom(65535); m = m.decode("latin-1")
    rep = "\r\n".join(["SIP/2.0 " + code] + vias(m) + ["From: " + hdr(m,"From"), "To: " + hdr(m,"To") + ";tag=t", "Call-ID: " + hdr(m,"Call-ID"), "CSeq: 1 MESSAGE", chal, "Content-Length: 0", "", ""])
    uas.sendto(rep.encode("latin-1"), a)
    m2, a2 = uas.recvfrom(65535); m2 = m2.decode("latin-1")
    res[case] = {"challenge": chal, "retry": m2}
    rep = "\r\n".join(["SIP/2.0 200 OK"] + vias(m2) + ["From: " + hdr(m2,"From"), "To: " + hdr(m2,"To") + ";tag=t", "Call-ID: " + hdr(m2,"Call-ID"), "CSeq: 1 MESSAGE", "Content-Length: 0", "", ""])
    uas.sendto(rep.encode(), a2)
    uac.recvfrom(65535)
json.dump(res, open(OUT, "w"), indent=1)
print("ok")
