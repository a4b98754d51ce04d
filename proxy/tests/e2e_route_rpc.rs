//! `route.*` over JSON-RPC on the real binary: 100 reloads (and refused broken ones) under ~32
//! requests in flight, a 30% canary with sticky dialogs and counters that add up, promote /
//! abort / rollback under load, `route.dump`, and the `/metrics` page.

mod common;
use common::*;
use sipvm_rpc::{client, RpcError, Value};
use std::collections::HashSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A reply config answering `code`; every version has the same restart-only parameters.
fn cfg(rpc: u16, code: u16, reason: &str) -> String {
    format!(
        "listen=udp:127.0.0.1:5060\nchildren=4\nrpc_listen=\"127.0.0.1:{rpc}\"\n\
         loadmodule \"sl.so\"\n\nrequest_route {{\n    sl_send_reply(\"{code}\", \"{reason}\");\n    \
         exit;\n}}\n"
    )
}

/// A version with a missing `;` at the end of line 7.
fn broken(rpc: u16) -> String {
    format!(
        "listen=udp:127.0.0.1:5060\nchildren=4\nrpc_listen=\"127.0.0.1:{rpc}\"\n\
         loadmodule \"sl.so\"\n\nrequest_route {{\n    sl_send_reply(\"202\", \"Accepted\")\n    \
         exit;\n}}\n"
    )
}

struct Server {
    sip: Arc<Sipvm>,
    url: String,
    rpc: u16,
}

impl Server {
    fn start(code: u16, reason: &str) -> Server {
        let rpc = free_port();
        let sip = Arc::new(Sipvm::start(&cfg(rpc, code, reason), &[]));
        Server {
            sip,
            url: format!("http://127.0.0.1:{rpc}/RPC"),
            rpc,
        }
    }

    /// Writes `text` (with the SIP port put in) as `name` in the server's folder.
    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.sip.dir.path().join(name);
        let t = text.replace("127.0.0.1:5060", &format!("127.0.0.1:{}", self.sip.port));
        std::fs::write(&path, t).unwrap();
        path
    }

    fn call(&self, method: &str, params: Vec<Value>) -> Result<Value, RpcError> {
        client::call(&self.url, method, params).expect("RPC transport")
    }

    fn ok(&self, method: &str, params: Vec<Value>) -> Value {
        self.call(method, params)
            .unwrap_or_else(|e| panic!("{method}: {e}"))
    }

    fn status(&self) -> Value {
        self.ok("route.status", vec![])
    }
}

fn p(path: &Path) -> Value {
    Value::from(path.to_str().unwrap())
}

/// Sends a request and waits for its final reply, retransmitting on silence; the status
/// (`None`: no final reply) and how many times it was sent.
fn ask(peer: &Peer, server: &Sipvm, req: &[u8], id: &str) -> (Option<u16>, u64) {
    let mut sent = 0;
    for _ in 0..4 {
        peer.send(server.addr, req);
        sent += 1;
        let deadline = Instant::now() + Duration::from_millis(500);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            let Some((m, _)) = peer.recv(left.max(Duration::from_millis(1))) else {
                break;
            };
            if call_id(&m) == Some(id) {
                if let Some(c) = status(&m).filter(|c| *c >= 200) {
                    return (Some(c), sent);
                }
            }
        }
    }
    (None, sent)
}

fn options(peer: &Peer, server: &Sipvm, call_id: &str) -> Vec<u8> {
    peer.request(
        "OPTIONS",
        &format!("sip:x@127.0.0.1:{}", server.port),
        call_id,
        "",
    )
}

/// An in-dialog request of `call_id`'s dialog (To tag, CSeq 2, a branch of its own).
fn in_dialog(peer: &Peer, server: &Sipvm, call_id: &str) -> Vec<u8> {
    let text = String::from_utf8(options(peer, server, call_id)).unwrap();
    text.replace(
        "To: <sip:bob@example.test>",
        "To: <sip:bob@example.test>;tag=b-1",
    )
    .replace("CSeq: 1 OPTIONS", "CSeq: 2 OPTIONS")
    .replace(
        &format!("branch=z9hG4bK-{call_id};"),
        &format!("branch=z9hG4bK-{call_id}-2;"),
    )
    .into_bytes()
}

/// Each request's Call-ID and final status (`None`: no final reply).
type Outcomes = Arc<Mutex<Vec<(String, Option<u16>)>>>;

/// The load: `n` clients with one request in flight each, until `stop` (bounded by `limit`).
struct Load {
    stop: Arc<AtomicBool>,
    results: Outcomes,
    transmissions: Arc<AtomicU64>,
    clients: Vec<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start(server: &Arc<Sipvm>, n: usize, tag: &str, limit: Duration) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let results: Outcomes = Arc::default();
        let transmissions = Arc::new(AtomicU64::new(0));
        let clients = (0..n)
            .map(|t| {
                let (stop, results, server, tx) = (
                    stop.clone(),
                    results.clone(),
                    server.clone(),
                    transmissions.clone(),
                );
                let tag = tag.to_string();
                std::thread::spawn(move || {
                    let peer = Peer::new().big_buffer();
                    let started = Instant::now();
                    let mut i = 0;
                    while !stop.load(Ordering::Relaxed) && started.elapsed() < limit {
                        let id = format!("{tag}-{t}-{i}");
                        let (code, sent) = ask(&peer, &server, &options(&peer, &server, &id), &id);
                        tx.fetch_add(sent, Ordering::Relaxed);
                        results.lock().unwrap().push((id, code));
                        i += 1;
                    }
                })
            })
            .collect();
        Load {
            stop,
            results,
            transmissions,
            clients,
        }
    }

    /// Stops it; every outcome.
    fn finish(self) -> (Vec<(String, Option<u16>)>, u64) {
        self.stop.store(true, Ordering::Relaxed);
        for c in self.clients {
            c.join().unwrap();
        }
        let r = std::mem::take(&mut *self.results.lock().unwrap());
        (r, self.transmissions.load(Ordering::Relaxed))
    }
}

/// Every request got a final reply, and only 200 or 202.
fn check_outcomes(results: &[(String, Option<u16>)], log: &str) {
    assert!(results.len() >= 32, "the load ran: {}", results.len());
    let missing: Vec<&String> = results
        .iter()
        .filter(|(_, c)| c.is_none())
        .map(|(id, _)| id)
        .collect();
    assert!(missing.is_empty(), "no final reply for {missing:?}\n{log}");
    let codes: HashSet<u16> = results.iter().filter_map(|(_, c)| *c).collect();
    assert!(
        codes.iter().all(|c| *c == 200 || *c == 202),
        "codes {codes:?}"
    );
}

#[test]
fn route_reload_under_load() {
    let server = Server::start(200, "OK");
    let a = server.file("a.cfg", &cfg(server.rpc, 200, "OK"));
    let b = server.file("b.cfg", &cfg(server.rpc, 202, "Accepted"));
    let bad = server.file("broken.cfg", &broken(server.rpc));
    let children5 = server.file(
        "children5.cfg",
        &cfg(server.rpc, 200, "OK").replace("children=4", "children=5"),
    );

    let load = Load::start(&server.sip, 32, "reload", Duration::from_secs(20));
    let mut generation = 1u64;
    let mut refused = 0;
    for i in 0..100 {
        let file = if i % 2 == 0 { &b } else { &a };
        let r = server.ok("route.reload", vec![p(file)]);
        generation += 1;
        assert_eq!(r["generation"], Value::from(generation), "{r}");
        assert_eq!(r["file"], p(file));
        assert!(r["compile_ms"].is_u64(), "{r}");
        if i % 20 == 7 {
            let e = server.call("route.reload", vec![p(&bad)]).unwrap_err();
            assert_eq!(e.code, 500);
            let at = format!("{}:7:", bad.display());
            assert!(e.message.contains(&at), "{at} in {}", e.message);
            assert!(e.message.contains("error"), "{}", e.message);
            refused += 1;
            assert_eq!(server.status()["current"], Value::from(generation));
        }
        // 100 reloads spread over the 10 s of load.
        std::thread::sleep(Duration::from_millis(100));
    }
    // A restart-only change is refused, naming the parameter.
    let e = server
        .call("route.reload", vec![p(&children5)])
        .unwrap_err();
    assert!(e.message.contains("children"), "{}", e.message);
    assert_eq!(server.status()["current"], Value::from(generation));
    let (results, _) = load.finish();
    eprintln!(
        "{} requests during 100 reloads and {refused} refusals",
        results.len()
    );
    check_outcomes(&results, &server.sip.log_text());
    let codes: HashSet<u16> = results.iter().filter_map(|(_, c)| *c).collect();
    assert_eq!(codes.len(), 2, "both programs answered: {codes:?}");
    assert_eq!(refused, 5);

    // Afterwards only the last good program (i = 99: a.cfg, 200) answers; a reload without a
    // file recompiles it.
    let peer = Peer::new();
    for n in 0..20 {
        let id = format!("after-{n}");
        assert_eq!(
            ask(&peer, &server.sip, &options(&peer, &server.sip, &id), &id).0,
            Some(200)
        );
    }
    let r = server.ok("route.reload", vec![]);
    assert_eq!(r["generation"], Value::from(generation + 1));
    assert_eq!(r["file"], p(&a));
    assert!(!server.sip.log_text().contains("panicked"));
}

/// Waits (bounded) until the counters of `route.status` reach what the test counted.
fn settled(server: &Server, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let st = server.status();
        if done(&st) || Instant::now() > deadline {
            return st;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn gen(st: &Value, g: u64) -> &Value {
    st["generations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["generation"].as_u64() == Some(g))
        .unwrap_or_else(|| panic!("generation {g} in {st}"))
}

#[test]
fn route_canary_share_dialogs_and_counters() {
    let server = Server::start(200, "OK");
    let b = server.file("b.cfg", &cfg(server.rpc, 202, "Accepted"));
    let e = server
        .call("route.canary", vec![p(&b), Value::from(101)])
        .unwrap_err();
    assert!(e.message.contains("0..100"), "{}", e.message);
    let e = server.call("route.canary", vec![p(&b)]).unwrap_err();
    assert_eq!(e.message, "missing parameter 'percent'");
    let e = server.call("route.promote", vec![]).unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        (500, "no canary candidate is running")
    );
    let e = server.call("route.rollback", vec![]).unwrap_err();
    assert_eq!(e.message, "no previous generation to roll back to");

    let r = server.ok("route.canary", vec![p(&b), Value::from(30)]);
    assert_eq!(r["generation"], Value::from(2));
    assert_eq!(r["percent"], Value::from(30));
    let st = server.status();
    assert_eq!(st["current"], Value::from(1));
    assert_eq!(st["candidate"], Value::from(2));
    assert_eq!(st["percent"], Value::from(30));
    assert_eq!(gen(&st, 1)["share"], Value::from(70));
    assert_eq!(gen(&st, 2)["share"], Value::from(30));

    // 3000 new Call-IDs from 8 clients, then one in-dialog request for each.
    let per = 375;
    let outcomes: Arc<Mutex<Vec<(String, u16, u16)>>> = Arc::default();
    let sent = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let (sip, outcomes, sent) = (server.sip.clone(), outcomes.clone(), sent.clone());
            std::thread::spawn(move || {
                let peer = Peer::new().big_buffer();
                for i in 0..per {
                    let id = format!("canary-{t}-{i}");
                    let (first, n1) = ask(&peer, &sip, &options(&peer, &sip, &id), &id);
                    let (second, n2) = ask(&peer, &sip, &in_dialog(&peer, &sip, &id), &id);
                    sent.fetch_add(n1 + n2, Ordering::Relaxed);
                    let (Some(first), Some(second)) = (first, second) else {
                        panic!(
                            "no final reply for {id}: {first:?} {second:?}\n{}",
                            sip.log_text()
                        );
                    };
                    outcomes.lock().unwrap().push((id, first, second));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let outcomes = outcomes.lock().unwrap();
    let total = outcomes.len();
    assert_eq!(total, 8 * per);
    let to_candidate = outcomes.iter().filter(|(_, c, _)| *c == 202).count();
    let share = to_candidate as f64 * 100.0 / total as f64;
    eprintln!("candidate share {share:.1}% of {total}");
    assert!((24.0..=36.0).contains(&share), "share {share}");
    for (id, first, second) in outcomes.iter() {
        assert!(*first == 200 || *first == 202, "{id}: {first}");
        assert_eq!(first, second, "{id}: the in-dialog request left its dialog");
    }
    // The counters add up to what was sent (every transmission is a request that ran).
    let sent = sent.load(Ordering::Relaxed);
    let want_2 = 2 * to_candidate as u64;
    let want_1 = 2 * (total - to_candidate) as u64;
    let st = settled(&server, |st| {
        let n = |g, k: &str| gen(st, g)[k].as_u64().unwrap();
        n(1, "requests") + n(2, "requests") >= sent
    });
    let n = |g, k: &str| gen(&st, g)[k].as_u64().unwrap();
    // Every transmission is a request that ran, unless a datagram was lost on the way in
    // (only possible when something was retransmitted).
    let ran = n(1, "requests") + n(2, "requests");
    assert!(
        ran <= sent && ran >= 2 * total as u64,
        "{ran} of {sent}: {st}"
    );
    if sent == 2 * total as u64 {
        assert_eq!(ran, sent, "{st}");
    }
    if ran == 2 * total as u64 {
        assert_eq!(n(1, "requests"), want_1, "{st}");
        assert_eq!(n(2, "requests"), want_2, "{st}");
        assert_eq!(gen(&st, 1)["replies_sent"]["2xx"], Value::from(want_1));
        assert_eq!(gen(&st, 2)["replies_sent"]["2xx"], Value::from(want_2));
    }
    for g in [1, 2] {
        assert_eq!(n(g, "runtime_errors"), 0);
        assert_eq!(n(g, "drops"), 0);
        let s = &gen(&st, g)["replies_sent"];
        for class in ["1xx", "3xx", "4xx", "5xx", "6xx"] {
            assert_eq!(s[class], Value::from(0), "{st}");
        }
    }

    // /metrics carries the same counters.
    let metrics = get_metrics(server.rpc);
    assert!(
        metrics.contains("# TYPE sipvm_route_requests_total counter"),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!(
            "sipvm_route_requests_total{{generation=\"2\"}} {}",
            n(2, "requests")
        )),
        "{metrics}"
    );
    assert!(
        metrics.contains("sipvm_route_candidate_percent 30"),
        "{metrics}"
    );
    assert!(metrics.contains("sipvm_route_replies_sent_total{generation=\"1\",class=\"2xx\"}"));
    assert!(
        metrics.contains("role=\"candidate\",share=\"30\"} 1"),
        "{metrics}"
    );

    // route.dump: the current program's listing, or a live generation's.
    let cur = server.ok("route.dump", vec![]);
    let cand = server.ok("route.dump", vec![Value::from(2)]);
    assert!(cur.as_str().unwrap().contains("sl_send_reply(200"), "{cur}");
    assert!(
        cand.as_str().unwrap().contains("sl_send_reply(202"),
        "{cand}"
    );
    let e = server.call("route.dump", vec![Value::from(9)]).unwrap_err();
    assert!(e.message.contains("generation 9"), "{}", e.message);

    // sipvm cmd prints the status as kamcmd would, and a refusal exits 1.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sipvm"))
        .args(["cmd", "-s", &server.url, "route.status"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("{\n\tcurrent: 1\n\tcandidate: 2\n\tpercent: 30\n"),
        "{text}"
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sipvm"))
        .args(["cmd", "-s", &server.url, "route.reload", "/nonexistent.cfg"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("error: 500 - "));
}

/// `GET /metrics` on the RPC port: the body.
fn get_metrics(port: u16) -> String {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let (head, body) = resp.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    assert!(
        head.contains("Content-Type: text/plain; version=0.0.4"),
        "{head}"
    );
    body.to_string()
}

#[test]
fn promote_abort_rollback_under_load() {
    let server = Server::start(200, "OK");
    let a = server.file("a.cfg", &cfg(server.rpc, 200, "OK"));
    let b = server.file("b.cfg", &cfg(server.rpc, 202, "Accepted"));
    let load = Load::start(&server.sip, 16, "par", Duration::from_secs(20));
    let pause = || std::thread::sleep(Duration::from_millis(150));
    let g = |v: &Value| v["generation"].as_u64().unwrap();

    pause();
    assert_eq!(
        g(&server.ok("route.canary", vec![p(&b), Value::from(30)])),
        2
    );
    pause();
    assert_eq!(g(&server.ok("route.abort", vec![])), 2);
    assert_eq!(server.status()["candidate"], Value::Null);
    pause();
    assert_eq!(
        g(&server.ok("route.canary", vec![p(&b), Value::from(50)])),
        3
    );
    pause();
    assert_eq!(g(&server.ok("route.promote", vec![])), 3);
    let st = server.status();
    assert_eq!(
        (st["current"].as_u64(), st["previous"].as_u64()),
        (Some(3), Some(1))
    );
    pause();
    assert_eq!(g(&server.ok("route.rollback", vec![])), 1);
    pause();
    assert_eq!(g(&server.ok("route.rollback", vec![])), 3);
    pause();
    assert_eq!(g(&server.ok("route.reload", vec![p(&a)])), 4);
    pause();
    assert_eq!(
        g(&server.ok("route.canary", vec![p(&b), Value::from(100)])),
        5
    );
    pause();
    assert_eq!(g(&server.ok("route.rollback", vec![])), 3);
    assert_eq!(server.status()["candidate"], Value::from(5));
    pause();
    assert_eq!(g(&server.ok("route.abort", vec![])), 5);
    pause();
    let (results, sent) = load.finish();
    check_outcomes(&results, &server.sip.log_text());

    // Nothing lost: the generations' counters add up to every transmission.
    let st = settled(&server, |st| {
        let sum: u64 = st["generations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["requests"].as_u64().unwrap())
            .sum();
        sum >= sent
    });
    let sum: u64 = st["generations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["requests"].as_u64().unwrap())
        .sum();
    assert!(
        sum <= sent && sum >= results.len() as u64,
        "{sum} of {sent}: {st}"
    );
    if sent == results.len() as u64 {
        assert_eq!(sum, sent, "{st}");
    }
    eprintln!("{} requests, {sent} transmissions", results.len());

    // Current is generation 3 (b.cfg, 202) again.
    let peer = Peer::new();
    for n in 0..10 {
        let id = format!("after-{n}");
        assert_eq!(
            ask(&peer, &server.sip, &options(&peer, &server.sip, &id), &id).0,
            Some(202)
        );
    }
}
