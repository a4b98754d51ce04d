#!/usr/bin/env python3
"""Runs the cases of cases.txt through a real Kamailio 5.6 and writes kamailio.txt.

Used once, by hand, to record Kamailio's side of natives_textsip.rs (the test itself never
needs Kamailio):  python3 proxy/tests/textsip/kamailio.py
Each case is one message (Call-ID `case-N`) sent over loopback; the generated cfg calls the
case's function, logs $rc, then msg_apply_changes() and logs the R-URI and the message.
"""
import base64, os, socket, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
PORT, PEER = 23060, 23061
MODS = "/usr/lib/x86_64-linux-gnu/kamailio/modules"


def load(path):
    """(messages by name, [(case number, message name, call, line)])."""
    msgs, cases, cur, name = {}, [], None, None
    for line in open(path, encoding="utf-8").read().split("\n"):
        if cur is not None:
            if line == "@end":
                msgs[name] = cur
                cur = None
            else:
                cur.append(line)
            continue
        if line.startswith("@msg "):
            name, cur = line[5:].strip(), []
            continue
        t = line.split("#", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if not t:
            continue
        m, call = t.split(None, 1)
        cases.append((len(cases) + 1, m, call.strip()))
    return msgs, cases


def build(lines, n):
    """The message of case n: CRLF line ends, Call-ID case-n, @CL@ the body's length."""
    text = "\r\n".join(lines).replace("@CASE@", "case-%d" % n)
    head, sep, body = text.partition("\r\n\r\n")
    if not sep:
        head = head.rstrip("\r\n")
    return (head + "\r\n\r\n" + body).replace("@CL@", str(len(body.encode()))).encode()


def cfg(cases, msgs):
    out = ["debug=2", "log_stderror=yes", "children=1", "listen=udp:127.0.0.1:%d" % PORT]
    for m in ["sl", "pv", "xlog", "textops", "textopsx", "siputils", "sdpops"]:
        out.append('loadmodule "%s.so"' % m)
    out.append('modparam("siputils", "options_accept", "application/sdp")')
    blocks = {True: [], False: []}
    for n, m, call in cases:
        body = blocks[msgs[m][0].startswith("SIP/")]
        fn = call.split(".", 1)[1]
        body.append('  if ($ci == "case-%d") {' % n)
        body.append('    xlog("L_ALERT", "K|%d|start\\n");' % n)
        body.append("    %s;" % fn)
        body.append('    xlog("L_ALERT", "K|%d|rc|$rc\\n");' % n)
        body.append("    msg_apply_changes();")
        body.append('    xlog("L_ALERT", "K|%d|out|$ru|$(mb{s.encode.base64})\\n");' % n)
        body.append("    exit;")
        body.append("  }")
    out += ["request_route {"] + blocks[False] + ["}", "reply_route {"] + blocks[True] + ["}"]
    return "\n".join(out) + "\n"


def main():
    msgs, cases = load(os.path.join(HERE, "cases.txt"))
    d = tempfile.mkdtemp(prefix="textsip-")
    print("work dir", d, file=sys.stderr)
    with open(os.path.join(d, "k.cfg"), "w") as f:
        f.write(cfg(cases, msgs))
    log = open(os.path.join(d, "k.log"), "w")
    k = subprocess.Popen(["kamailio", "-f", os.path.join(d, "k.cfg"), "-DD", "-E", "-n", "1",
                          "-L", MODS, "-a", "no"], stdout=log, stderr=log)
    time.sleep(1.5)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", PEER))
    for n, m, _ in cases:
        s.sendto(build(msgs[m], n), ("127.0.0.1", PORT))
        time.sleep(0.01)
    time.sleep(1.0)
    k.terminate()
    k.wait()
    log.close()
    res = {}
    for line in open(os.path.join(d, "k.log"), encoding="utf-8", errors="replace", newline=""):
        if "K|" not in line:
            continue
        parts = line.rstrip("\n").split("K|", 1)[1].split("|")
        n = int(parts[0])
        r = res.setdefault(n, {"rc": "0", "out": ""})
        if parts[1] == "rc":
            r["rc"] = parts[2]
        elif parts[1] == "out":
            r["ru"] = parts[2]
            r["out"] = base64.b64decode(parts[3]).decode("utf-8", "replace") if len(parts) > 3 else ""
        elif parts[1] == "start":
            r["started"] = True
    with open(os.path.join(HERE, "kamailio.txt"), "w") as f:
        f.write("# Kamailio 5.6.3's answers to cases.txt (written by kamailio.py; do not edit)\n")
        for n, m, call in cases:
            r = res.get(n)
            if r is None:
                f.write("%d\t%s\tnot-run\n" % (n, call))
                continue
            out = r.get("out", "")
            f.write("%d\t%s\trc=%s\n" % (n, call, r["rc"]))
            if "ru" in r:
                orig = build(msgs[m], n).decode()
                first = orig.split("\r\n", 1)[0].split(" ")
                if not orig.startswith("SIP/") and r["ru"] != first[1]:
                    f.write("\tru=%s\n" % r["ru"])
                if out != orig:
                    f.write("\tout=%s\n" % out.replace("\\", "\\\\").replace("\r", "\\r").replace("\n", "\\n"))
    print("%d cases, %d answered" % (len(cases), len(res)), file=sys.stderr)


if __name__ == "__main__":
    main()
