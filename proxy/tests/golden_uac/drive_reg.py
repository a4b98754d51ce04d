import socket, json
t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); t.bind(("127.0.0.1", 25074)); t.settimeout(8)
def hdr(m, n):
    for l in m.split("\r\n"):
        if l.lower().startswith(n.lower()+":"): return l.split(":",1)[1].strip()
def rep(m, code, extra):
    vias = [l for l in m.split("\r\n") if l.lower().startswith("via:")]
    return "\r\n".join(["SIP/2.0 " + code] + vias + ["From: " + hdr(m,"From"), "To: " + hdr(m,"To") + ";tag=r", "Call-ID: " + hdr(m,"Call-ID"), "CSeq: " + hdr(m, "CSeq")] + extra + ["Content-Length: 0", "", ""]).encode()
m, a = t.recvfrom(65535); m = m.decode()
t.sendto(rep(m, "401 Unauthorized", ['WWW-Authenticate: Digest realm="sipvm.test", nonce="reg-n0nce", algorithm=MD5']), a)
m2, a2 = t.recvfrom(65535); m2 = m2.decode()
t.sendto(rep(m2, "200 OK", ["Contact: <sip:u1@127.0.0.1:25064>;expires=300"]), a2)
json.dump({"first": m, "retry": m2}, open("reg.json", "w"), indent=1)
print(m); print(m2)
