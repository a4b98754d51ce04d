//! siptrace on the real binary with src/modules/siptrace/testdata/kamailio.cfg's settings
//! (HEPv3, `trace_mode=1`, `sip_trace()` twice, a 404): the collectors get the packets
//! Kamailio 5.6 sent for the same OPTIONS (testdata/*.hep), equal but for the timestamps and
//! sipvm's own port; the mirrored 404 carries exactly the bytes the caller got.
//! `siptrace.status off` over JSON-RPC stops all of it, `on` brings it back.
//! Fixed ports 27021-27023 (this module's range; the goldens name them).

mod common;
use common::*;
use sipvm_proxy::modules::siptrace::hep::Hep;
use sipvm_rpc::{client, Value};
use std::path::PathBuf;
use std::time::Duration;

fn cfg(rpc: u16) -> String {
    format!(
        "listen=udp:127.0.0.1:5060\nchildren=2\nrpc_listen=\"127.0.0.1:{rpc}\"\n\
         loadmodule \"sl.so\"\nloadmodule \"pv.so\"\nloadmodule \"siptrace.so\"\n\
         modparam(\"siptrace\", \"duplicate_uri\", \"sip:127.0.0.1:27021\")\n\
         modparam(\"siptrace\", \"hep_mode_on\", 1)\n\
         modparam(\"siptrace\", \"hep_version\", 3)\n\
         modparam(\"siptrace\", \"hep_capture_id\", 1234)\n\
         modparam(\"siptrace\", \"trace_on\", 1)\n\
         modparam(\"siptrace\", \"trace_to_database\", 0)\n\
         modparam(\"siptrace\", \"trace_mode\", 1)\n\
         request_route {{\n\
             sip_trace();\n\
             sip_trace(\"sip:127.0.0.1:27022\", \"corr-$ci\", \"m\");\n\
             sl_send_reply(\"404\", \"Not Here\");\n\
         }}\n"
    )
}

fn golden(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("src/modules/siptrace/testdata")
        .join(name);
    std::fs::read(p).unwrap()
}

/// A golden packet as sipvm (on `port`) sends it: Kamailio's port replaced, timestamps ours.
fn expect(name: &str, port: u16, got: &Hep) -> Hep {
    let mut h = Hep::decode(&golden(name)).unwrap();
    for a in [&mut h.src, &mut h.dst] {
        if a.port() == 27020 {
            a.set_port(port);
        }
    }
    h.ts_sec = got.ts_sec;
    h.ts_usec = got.ts_usec;
    h
}

fn heps(peer: &Peer) -> Vec<Hep> {
    peer.recv_all(Duration::from_millis(500))
        .into_iter()
        .map(|(b, _)| Hep::decode(&b).expect("a HEP3 packet"))
        .collect()
}

#[test]
fn hep_copies_match_kamailio_and_status_switches_them() {
    let rpc = free_port();
    let server = Sipvm::start(&cfg(rpc), &[]);
    let url = format!("http://127.0.0.1:{rpc}/RPC");
    let (c1, c2, ua) = (Peer::on(27021), Peer::on(27022), Peer::on(27023));
    let options = golden("options.sip");
    ua.send(server.addr, &options);
    let (reply, _) = ua.recv(Duration::from_secs(2)).expect("the 404");
    assert_eq!(status(&reply), Some(404));

    let one = heps(&c1);
    let two = heps(&c2);
    assert_eq!(
        one.len(),
        3,
        "mirrored in, sip_trace(), mirrored out: {one:?}"
    );
    assert_eq!(two.len(), 1, "{two:?}");
    assert_eq!(one[0], expect("01-27021.hep", server.port, &one[0]));
    assert_eq!(one[1], expect("02-27021.hep", server.port, &one[1]));
    assert_eq!(two[0], expect("03-27022.hep", server.port, &two[0]));
    let mut out = expect("05-27021.hep", server.port, &one[2]);
    out.payload = reply.clone();
    assert_eq!(one[2], out);

    let off = client::call(&url, "siptrace.status", vec!["off".into()]).unwrap();
    assert_eq!(off.unwrap(), Value::from("Disabled"));
    ua.send(server.addr, &options);
    assert!(ua.recv(Duration::from_secs(2)).is_some());
    c1.expect_nothing(Duration::from_millis(300), "trace off");
    c2.expect_nothing(Duration::from_millis(50), "trace off");
    let check = client::call(&url, "siptrace.status", vec!["check".into()]).unwrap();
    assert_eq!(check.unwrap(), Value::from("Disabled"));
    let on = client::call(&url, "siptrace.status", vec!["on".into()]).unwrap();
    assert_eq!(on.unwrap(), Value::from("Enabled"));
    ua.send(server.addr, &options);
    assert!(ua.recv(Duration::from_secs(2)).is_some());
    assert_eq!(heps(&c1).len(), 3);
    let bad = client::call(&url, "siptrace.status", vec!["maybe".into()])
        .unwrap()
        .unwrap_err();
    assert_eq!(
        (bad.code, bad.message.as_str()),
        (500, "Bad parameter (on, off or check)")
    );
}
