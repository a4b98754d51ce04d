import socket, sys, re, json
PROXY = ("127.0.0.1", int(sys.argv[1]))
CASE = sys.argv[2]
OUT = sys.argv[3]
uac = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); uac.bind(("127.0.0.1", 25080)); uac.settimeout(3)
uas = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); uas.bind(("127.0.0.1", 25070)); uas.settimeout(3)
FROMS = {
 "plain": "From: <sip:alice@atlanta.example.com>;tag=ft1",
 "display": "From: \"Alice A\" <sip:alice@atlanta.example.com>;tag=ft1",
 "bare": "From: sip:alice@atlanta.example.com;tag=ft1",
}
TOS = {
 "plain": "To: <sip:callee@biloxi.example.com>",
 "display": "To: Callee <sip:callee@biloxi.example.com>",
 "bare": "To: sip:callee@biloxi.example.com",
}
def recv(s):
    d, a = s.recvfrom(65535); return d.decode(), a
def hdr(m, n):
    for l in m.split("\r\n"):
        if l.lower().startswith(n.lower()+":"): return l.split(":",1)[1].strip()
def vias(m): return [l for l in m.split("\r\n") if l.lower().startswith("via:")]
inv = ("INVITE sip:callee@127.0.0.1:25070 SIP/2.0\r\n"
 "Via: SIP/2.0/UDP 127.0.0.1:25080;branch=z9hG4bKc1\r\n"
 "Max-Forwards: 70\r\n" + FROMS[CASE] + "\r\n" + TOS[CASE] + "\r\n"
 "Call-ID: uac-golden-" + CASE + "\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@127.0.0.1:25080>\r\n"
 "X-Case: " + CASE + "\r\nContent-Length: 0\r\n\r\n")
uac.sendto(inv.encode(), PROXY)
res = {}
while True:
    m, a = recv(uas)
    if m.startswith("INVITE"): break
res["invite_out"] = m
# 200 OK from UAS: copy Vias, RR, From, To + tag
lines = ["SIP/2.0 200 OK"] + vias(m)
rr = [l for l in m.split("\r\n") if l.lower().startswith("record-route:")]
lines += rr
lines += ["From: " + hdr(m, "From"), "To: " + hdr(m, "To") + ";tag=tt1", "Call-ID: " + hdr(m, "Call-ID"), "CSeq: 1 INVITE", "Contact: <sip:callee@127.0.0.1:25070>", "Content-Length: 0", "", ""]
uas.sendto("\r\n".join(lines).encode(), a)
while True:
    r, _ = recv(uac)
    if r.startswith("SIP/2.0 200"): break
res["ok_in"] = r
route = [l.replace("Record-Route:", "Route:") for l in r.split("\r\n") if l.lower().startswith("record-route:")]
# BYE caller -> callee (downstream)
bye = ("BYE sip:callee@127.0.0.1:25070 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:25080;branch=z9hG4bKc2\r\n" + "\r\n".join(route) + "\r\n"
 "Max-Forwards: 70\r\n" + FROMS[CASE] + "\r\n" + TOS[CASE] + ";tag=tt1\r\nCall-ID: uac-golden-" + CASE + "\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n")
uac.sendto(bye.encode(), PROXY)
m, a = recv(uas)
res["bye_down_out"] = m
lines = ["SIP/2.0 200 OK"] + vias(m) + ["From: " + hdr(m, "From"), "To: " + hdr(m, "To"), "Call-ID: " + hdr(m, "Call-ID"), "CSeq: 2 BYE", "Content-Length: 0", "", ""]
uas.sendto("\r\n".join(lines).encode(), a)
r, _ = recv(uac)
res["bye_down_reply"] = r
# BYE callee -> caller (upstream) using the callee view of From/To
rr_in = [l.replace("Record-Route:", "Route:") for l in res["invite_out"].split("\r\n") if l.lower().startswith("record-route:")]
bye2 = ("BYE sip:alice@127.0.0.1:25080 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:25070;branch=z9hG4bKs3\r\n" + "\r\n".join(rr_in) + "\r\n"
 "Max-Forwards: 70\r\nFrom: " + hdr(res["invite_out"], "To") + ";tag=tt1\r\nTo: " + hdr(res["invite_out"], "From") + "\r\nCall-ID: uac-golden-" + CASE + "\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n")
uas.sendto(bye2.encode(), PROXY)
m, a = recv(uac)
res["bye_up_out"] = m
lines = ["SIP/2.0 200 OK"] + vias(m) + ["From: " + hdr(m, "From"), "To: " + hdr(m, "To"), "Call-ID: " + hdr(m, "Call-ID"), "CSeq: 1 BYE", "Content-Length: 0", "", ""]
uac.sendto("\r\n".join(lines).encode(), a)
r, _ = recv(uas)
res["bye_up_reply"] = r
json.dump(res, open(OUT, "w"), indent=1)
print("ok")
