//! topoh and siptrace's mirroring together on the real binary: the HEP copy of a received
//! message carries the bytes as they arrived (before topoh decodes or marks them), the copy
//! of a sent one the bytes as they left (after topoh encoded them), as on the wire.

mod common;
use common::*;
use sipvm_proxy::modules::siptrace::hep::Hep;
use std::time::Duration;

#[test]
fn mirrored_copies_are_the_wire_bytes() {
    let (uas, collector, uac) = (Peer::new(), Peer::new(), Peer::new());
    let cfg = format!(
        "listen=udp:127.0.0.1:5060\nchildren=1\n\
         loadmodule \"siptrace.so\"\nloadmodule \"topoh.so\"\n\
         modparam(\"topoh\", \"mask_callid\", 1)\n\
         modparam(\"siptrace\", \"duplicate_uri\", \"sip:127.0.0.1:{c}\")\n\
         modparam(\"siptrace\", \"hep_version\", 3)\n\
         modparam(\"siptrace\", \"trace_on\", 1)\n\
         modparam(\"siptrace\", \"trace_to_database\", 0)\n\
         modparam(\"siptrace\", \"trace_mode\", 1)\n\
         request_route {{\n\
             forward(\"127.0.0.1\", {u});\n\
         }}\n",
        c = collector.port,
        u = uas.port
    );
    let server = Sipvm::start(&cfg, &[]);
    let invite = uac.request(
        "INVITE",
        "sip:bob@127.0.0.1",
        "mirror-1",
        &format!("Contact: <sip:alice@127.0.0.1:{}>\r\n", uac.port),
    );
    uac.send(server.addr, &invite);
    let (fwd, _) = uas.recv(Duration::from_secs(2)).expect("forwarded");
    assert!(text(&fwd).contains("Call-ID: !!:"), "{}", text(&fwd));
    let copies: Vec<Hep> = collector
        .recv_all(Duration::from_millis(500))
        .into_iter()
        .map(|(b, _)| Hep::decode(&b).unwrap())
        .collect();
    assert_eq!(copies.len(), 2, "{copies:?}");
    assert_eq!(copies[0].payload, invite, "in: as received");
    assert_eq!(copies[0].src.port(), uac.port);
    assert_eq!(copies[1].payload, fwd, "out: as sent");
    assert_eq!(copies[1].dst.port(), uas.port);
    assert_eq!(copies[1].src, server.addr);
}

/// Event routes Kamailio would run and sipvm does not: refused at start-up, not ignored.
#[test]
fn unsupported_event_routes_are_refused() {
    for (module, extra, route) in [
        ("topoh", "", "topoh:msg-outgoing"),
        ("topoh", "", "topoh:msg-sending"),
        (
            "siptrace",
            "modparam(\"siptrace\", \"trace_to_database\", 0)\n",
            "siptrace:msg",
        ),
    ] {
        let dir = Scratch::new();
        let file = dir.path().join("t.cfg");
        let port = free_port();
        std::fs::write(
            &file,
            format!(
                "listen=udp:127.0.0.1:{port}\nloadmodule \"{module}.so\"\n{extra}\
                 request_route {{\n drop;\n}}\nevent_route[{route}] {{\n drop;\n}}\n"
            ),
        )
        .unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sipvm"))
            .args(["run", "-f"])
            .arg(&file)
            .env("SIPVM_LOOPBACK_ONLY", "1")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{route}: {err}");
        assert!(
            err.contains(&format!("event_route[{route}] is not implemented by sipvm")),
            "{err}"
        );
    }
}
