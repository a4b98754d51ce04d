#!/usr/bin/env python3
"""Drives cfgutils.cfg as e2e_cfgutils.rs does: record.py SERVER_PORT CTL_SOCKET, with
Kamailio started on the file (#RPC: loadmodule "ctl.so" with its binrpc socket); prints the
replies and the RPC answers (the log lines come from the server's log)."""
import socket, subprocess, sys
target, ctl = int(sys.argv[1]), sys.argv[2]
tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); tx.bind(("127.0.0.1", 0)); tx.settimeout(2)
sp = tx.getsockname()[1]
def rpc(*args):
    out = subprocess.run(["kamcmd", "-s", ctl] + list(args), capture_output=True, text=True)
    print("rpc", " ".join(args), "=", (out.stdout + out.stderr).strip().replace("\n", " | "))
def send(t):
    m = ("OPTIONS sip:cu@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-%s\r\nMax-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:cu@127.0.0.1>\r\nCall-ID: cu-%s\r\nCSeq: 1 OPTIONS\r\nX-T: %s\r\nX-B: \xc3\xa9t\xc3\xa9\r\nContent-Length: 0\r\n\r\n" % (sp, t, t, t)).encode("latin-1")
    tx.sendto(m, ("127.0.0.1", target))
    print(t, tx.recvfrom(65535)[0].split(b"\r\n")[0].decode())
rpc("cfgutils.get_gflags")
send("first")
rpc("cfgutils.get_gflags")
rpc("cfgutils.is_gflag", "2")
rpc("cfgutils.is_gflag", "3")
rpc("cfgutils.is_gflag", "1")
rpc("cfgutils.reset_gflag", "2")
rpc("cfgutils.set_gflag", "8")
rpc("cfgutils.get_gflags")
send("second")
rpc("cfgutils.get_config_hash")
rpc("cfgutils.check_config_hash")
rpc("cfgutils.rand_get_prob")
rpc("cfgutils.rand_set_prob", "150")
rpc("cfgutils.rand_set_prob", "30")
rpc("cfgutils.rand_get_prob")
rpc("cfgutils.rand_reset_prob")
rpc("cfgutils.rand_get_prob")
rpc("cfgutils.is_gflag")
