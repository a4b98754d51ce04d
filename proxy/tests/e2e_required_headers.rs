//! Issue #19, finding 1: an INVITE without To, without From, or with a CSeq without its
//! number used to be relayed statefully and its transaction never freed. Now such a request
//! gets 400 before the script (no transaction, nothing relayed); a complete INVITE to the same
//! silent next hop still makes its one transaction.

mod common;
use common::*;
use sipvm_rpc::{client, Value};
use std::time::Duration;

fn invite(phone: u16, id: &str, skip: &str, cseq: &str) -> Vec<u8> {
    let lines = [
        format!("Via: SIP/2.0/UDP 127.0.0.1:{phone};branch=z9hG4bK-{id}"),
        "Max-Forwards: 70".to_string(),
        format!("From: <sip:a@127.0.0.1>;tag={id}"),
        "To: <sip:b@127.0.0.1>".to_string(),
        format!("Call-ID: rh-{id}"),
        format!("CSeq: {cseq}"),
        "Content-Length: 0".to_string(),
    ];
    let mut m = "INVITE sip:b@127.0.0.1 SIP/2.0\r\n".to_string();
    for l in lines
        .iter()
        .filter(|l| skip.is_empty() || !l.starts_with(skip))
    {
        m.push_str(l);
        m.push_str("\r\n");
    }
    m.push_str("\r\n");
    m.into_bytes()
}

#[test]
fn incomplete_requests_are_answered_400_and_make_no_transaction() {
    let hop = Peer::new();
    let rpc = free_port();
    let cfg = format!(
        "listen=udp:127.0.0.1:5060\nchildren=1\nrpc_listen=\"127.0.0.1:{rpc}\"\n\
         loadmodule \"tm.so\"\nloadmodule \"sl.so\"\n\
         request_route {{\n    $du = \"sip:127.0.0.1:{}\";\n    t_relay();\n}}\n",
        hop.port
    );
    let server = Sipvm::start(&cfg, &[]);
    let phone = Peer::new();
    for (id, skip, cseq) in [
        ("no-to", "To:", "1 INVITE"),
        ("no-from", "From:", "1 INVITE"),
        ("no-num", "", "INVITE"),
        ("no-callid", "Call-ID:", "1 INVITE"),
    ] {
        phone.send(server.addr, &invite(phone.port, id, skip, cseq));
        let (r, _) = phone
            .recv(Duration::from_secs(2))
            .unwrap_or_else(|| panic!("{id}: no reply"));
        assert_eq!(start_line(&r), "SIP/2.0 400 Bad Request", "{id}");
        let text = String::from_utf8_lossy(&r);
        assert!(
            text.contains(&format!("branch=z9hG4bK-{id}")),
            "{id}: {text}"
        );
    }
    hop.expect_nothing(Duration::from_millis(300), "an incomplete request relayed");
    phone.send(server.addr, &invite(phone.port, "whole", "", "1 INVITE"));
    let (r, _) = hop
        .recv(Duration::from_secs(2))
        .expect("the whole INVITE relayed");
    assert!(start_line(&r).starts_with("INVITE "));
    let stats = client::call(&format!("http://127.0.0.1:{rpc}/RPC"), "tm.stats", vec![])
        .expect("RPC transport")
        .expect("tm.stats");
    assert_eq!(stats["created"], Value::from(1u64), "{stats}");
}

#[test]
fn more_than_1000_headers_get_513() {
    let server = Sipvm::start(
        "listen=udp:127.0.0.1:5060\nloadmodule \"sl.so\"\nrequest_route {\n    sl_send_reply(\"200\", \"OK\");\n}\n",
        &[],
    );
    let phone = Peer::new();
    let mut m = String::from_utf8(invite(phone.port, "many", "", "1 INVITE")).unwrap();
    m.truncate(m.len() - 2);
    for i in 0..1100 {
        m.push_str(&format!("X-{i}: v\r\n"));
    }
    m.push_str("\r\n");
    phone.send(server.addr, m.as_bytes());
    let (r, _) = phone.recv(Duration::from_secs(2)).expect("an answer");
    assert_eq!(start_line(&r), "SIP/2.0 513 Message Too Large");
}
