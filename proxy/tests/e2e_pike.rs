//! pike on the real binary: a burst of OPTIONS from one UDP socket on 127.0.0.1 is answered
//! 200 until the source reaches `reqs_density_per_unit` within a sampling unit, then 403;
//! `pike.top` over JSON-RPC lists the source as HOT.

mod common;
use common::*;
use sipvm_rpc::client;
use sipvm_rpc::Value;
use std::time::{Duration, Instant};

/// No `src_ip!=myself` guard: everything here is 127.0.0.1.
fn cfg(rpc: u16) -> String {
    format!(
        "listen=udp:127.0.0.1:5060\nchildren=2\nrpc_listen=\"127.0.0.1:{rpc}\"\n\
         loadmodule \"sl.so\"\nloadmodule \"pike.so\"\nloadmodule \"xlog.so\"\n\
         modparam(\"pike\", \"sampling_time_unit\", 2)\n\
         modparam(\"pike\", \"reqs_density_per_unit\", 5)\n\
         modparam(\"pike\", \"remove_latency\", 4)\n\
         request_route {{\n\
             if (!pike_check_req()) {{\n\
                 xlog(\"L_INFO\", \"pike refused $si rc=$rc\\n\");\n\
                 sl_send_reply(\"403\", \"Forbidden\");\n\
                 exit;\n\
             }}\n\
             sl_send_reply(\"200\", \"OK\");\n\
         }}\n"
    )
}

#[test]
fn a_burst_is_refused_after_the_density_and_listed_by_pike_top() {
    let rpc = free_port();
    let server = Sipvm::start(&cfg(rpc), &[]);
    let url = format!("http://127.0.0.1:{rpc}/RPC");
    let peer = Peer::new();
    let started = Instant::now();

    // One at a time, so both workers see the same source and the order is the sending order.
    let mut codes = Vec::new();
    for n in 0..8 {
        let req = peer.request("OPTIONS", "sip:pike@127.0.0.1", &format!("pike-{n}"), "");
        peer.send(server.addr, &req);
        let (m, _) = peer.recv(Duration::from_secs(2)).expect("a reply");
        codes.push(status(&m).unwrap());
    }
    // The sampling windows are aligned on the server's start: a burst that straddles a turn
    // counts in two windows; 8 requests within well under 2 s cross at most one turn.
    let burst = started.elapsed();
    assert!(burst < Duration::from_millis(1500), "burst took {burst:?}");
    let first_403 = codes.iter().position(|c| *c == 403).expect("refused");
    assert!(
        codes[..first_403].iter().all(|c| *c == 200),
        "{codes:?}: 200s first"
    );
    assert!(codes[first_403..].iter().all(|c| *c == 403), "{codes:?}");
    // Within one window the 5th request blocks; when k < 5 of them fell before a window
    // turn, the 5th after it: the first 403 is the 5th to the 8th request.
    assert!((4..=7).contains(&first_403), "{codes:?}");

    let top = client::call(&url, "pike.top", vec![]).unwrap().unwrap();
    assert_eq!(top["max_hits"], Value::from(5), "{top}");
    assert_eq!(top["number_of_rows"], Value::from(1), "{top}");
    let row = &top["list"][0];
    assert_eq!(row["ip_addr"], Value::from("127.0.0.1"), "{top}");
    assert_eq!(row["status"], Value::from("HOT"), "{top}");
    let hits = row["leaf_hits_prev"].as_u64().unwrap() + row["leaf_hits_curr"].as_u64().unwrap();
    // Less than 2 s since the first request: at most one turn, both windows still shown.
    assert_eq!(hits, 8, "{top}");
    let all = client::call(&url, "pike.top", vec!["ALL".into()])
        .unwrap()
        .unwrap();
    assert_eq!(all["list"][0]["ip_addr"], Value::from("127.0.0.1"), "{all}");
    let bad = client::call(&url, "pike.top", vec!["COLD".into()])
        .unwrap()
        .unwrap_err();
    assert_eq!(
        (bad.code, bad.message.as_str()),
        (500, "Bad argument. Select: ALL, HOT or WARM")
    );

    let log = server.log_text();
    assert!(log.contains("PIKE - BLOCKing ip 127.0.0.1"), "{log}");
    assert!(log.contains("pike refused 127.0.0.1 rc=-2"), "{log}");
    assert!(log.contains("pike refused 127.0.0.1 rc=-1"), "{log}");
    eprintln!("burst of 8 in {burst:?}: {codes:?}");
}
