#!/usr/bin/env python3
"""Records Kamailio 5.6.3's replies to replies.cfg into replies.txt (used once, by hand):
python3 proxy/tests/textsip/replies.py. Replies are normalised as e2e_textsip.rs does."""
import os, re, socket, subprocess, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
PORT = 23070
MODS = "/usr/lib/x86_64-linux-gnu/kamailio/modules"
CASES = "abcdefg"


def request(user, port):
    return ("MESSAGE sip:%s@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-rl%s\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1>;tag=a1\r\nTo: <sip:%s@127.0.0.1>\r\n"
            "Call-ID: rl-%s\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n" % (user, port, user, user, user)).encode()


def normalise(data, port):
    out = []
    for line in data.decode("utf-8", "replace").split("\r\n"):
        if line.startswith("Server:"):
            continue
        line = re.sub(r"^(To: .*;tag=).*$", r"\1TAG", line)
        line = re.sub(r"^Date: [A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$", "Date: DATE", line)
        out.append(line.replace(":%d;" % port, ":PORT;"))
    return "\\r\\n".join(out)


def main():
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    d = tempfile.mkdtemp(prefix="replies-")
    cfg = open(os.path.join(HERE, "replies.cfg")).read()
    cfg = cfg.replace("127.0.0.1:5060", "127.0.0.1:%d" % PORT)
    cfg = cfg.replace("SILENT", "127.0.0.1:%d" % silent.getsockname()[1])
    with open(os.path.join(d, "k.cfg"), "w") as f:
        f.write(cfg)
    log = open(os.path.join(d, "k.log"), "w")
    k = subprocess.Popen(["kamailio", "-f", os.path.join(d, "k.cfg"), "-DD", "-E", "-n", "1",
                          "-L", MODS, "-a", "no", "-Y", d], stdout=log, stderr=log)
    time.sleep(1.5)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(4)
    port = s.getsockname()[1]
    lines = ["# Kamailio 5.6.3's replies to replies.cfg (written by replies.py; do not edit)"]
    for c in CASES:
        s.sendto(request(c, port), ("127.0.0.1", PORT))
        try:
            data = s.recvfrom(65535)[0]
            lines.append("%s\t%s" % (c, normalise(data, port)))
        except socket.timeout:
            lines.append("%s\t(no reply)" % c)
    k.terminate()
    k.wait()
    with open(os.path.join(HERE, "replies.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
