//! A worker (in process) on a `Live` with a canary: each message meets the program its
//! Call-ID selects, and is counted on that program's generation.

use bytes::Bytes;
use sipvm_cfg::{Counts, Live};
use sipvm_lang::CompileOptions;
use sipvm_proxy::transport::{Handler, Local, Outbox, Proto};
use sipvm_proxy::worker::Worker;
use std::net::SocketAddr;
use std::sync::Arc;

fn cfg(code: u16) -> String {
    format!(
        "listen=udp:127.0.0.1:5060\nloadmodule \"sl.so\"\nrequest_route {{\n    \
         if ($rm == \"BYE\") {{ drop; }}\n    \
         if ($rm == \"INFO\") {{ while (1) {{ $var(i) = 1; }} }}\n    \
         sl_send_reply(\"{code}\", \"Answer\");\n}}\n"
    )
}

fn request(method: &str, call_id: &str) -> Bytes {
    let branch = call_id.replace('@', ".");
    Bytes::from(format!(
        "{method} sip:x@127.0.0.1:5060 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bK-{branch}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:a@127.0.0.1>;tag=1\r\n\
         To: <sip:b@127.0.0.1>\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: 1 {method}\r\n\
         Content-Length: 0\r\n\r\n"
    ))
}

fn counts(live: &Live, generation: u64) -> Counts {
    live.status()
        .generations
        .iter()
        .find(|g| g.generation == generation)
        .map(|g| g.counts)
        .unwrap_or_default()
}

#[test]
fn the_worker_selects_by_call_id_and_counts_per_generation() {
    std::env::set_var("SIPVM_LOOPBACK_ONLY", "1");
    let dir = std::env::temp_dir().join(format!("sipvm-wc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (a, b) = (dir.join("a.cfg"), dir.join("b.cfg"));
    std::fs::write(&a, cfg(200)).unwrap();
    std::fs::write(&b, cfg(202)).unwrap();
    let live = Live::load(
        a.to_str().unwrap(),
        CompileOptions::default(),
        sipvm_proxy::modules::registry(),
    )
    .unwrap();
    live.canary(b.to_str().unwrap(), 40).unwrap();
    let local = Local {
        index: 0,
        proto: Proto::Udp,
        addr: SocketAddr::from(([127, 0, 0, 1], 5060)),
        advertise: None,
        name: None,
    };
    let shared = Arc::new(sipvm_proxy::modules::shared(&live.current()).expect("module state"));
    let mut w = Worker::new(live.cache(), shared, vec![local.clone()].into());
    let src = SocketAddr::from(([127, 0, 0, 1], 40000));
    let mut out = Outbox::new();
    let mut run = |w: &mut Worker, msg: Bytes| -> Vec<Bytes> {
        out.clear();
        w.on_message(msg, src, &local, &mut out);
        out.items().iter().map(|o| o.data.clone()).collect()
    };

    let mut want = [Counts::default(), Counts::default()];
    for n in 0..200 {
        let id = format!("call-{n}@test");
        let g = live.select(id.as_bytes()).generation;
        let sent = run(&mut w, request("OPTIONS", &id));
        assert_eq!(sent.len(), 1, "{id}: {:?}", live.status());
        let code = if g == 2 { "202" } else { "200" };
        assert!(sent[0].starts_with(format!("SIP/2.0 {code} ").as_bytes()));
        let c = &mut want[(g - 1) as usize];
        c.requests += 1;
        c.sent[1] += 1;
        // The same dialog's BYE meets the same program, and is dropped there.
        assert!(run(&mut w, request("BYE", &id)).is_empty());
        c.requests += 1;
        c.drops += 1;
    }
    // A runtime error (the step budget), on the program of its Call-ID.
    let id = "endless@test";
    let g = live.select(id.as_bytes()).generation;
    assert!(run(&mut w, request("INFO", id)).is_empty());
    want[(g - 1) as usize].requests += 1;
    want[(g - 1) as usize].runtime_errors += 1;
    // A reply not for us: received, not relayed, so dropped.
    let reply = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.9.9.9:5060;branch=z9hG4bK-r\r\n\
                 From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: r@test\r\n\
                 CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    let g = live.select(b"r@test").generation;
    assert!(run(&mut w, Bytes::from(reply)).is_empty());
    want[(g - 1) as usize].replies_received += 1;
    want[(g - 1) as usize].drops += 1;

    assert_eq!(counts(&live, 1), want[0]);
    assert_eq!(counts(&live, 2), want[1]);
    assert!(want[0].requests > 0 && want[1].requests > 0);

    // After promote, every Call-ID meets the promoted program.
    live.promote().unwrap();
    for n in 0..50 {
        let sent = run(&mut w, request("OPTIONS", &format!("after-{n}")));
        assert!(sent[0].starts_with(b"SIP/2.0 202 "));
    }
    assert_eq!(counts(&live, 2).requests, want[1].requests + 50);
    let _ = std::fs::remove_dir_all(&dir);
}
