//! The stateful proxy on the real binary: 08-round-robin-stateful.cfg with sipp as caller and
//! callees (1,000 calls, ACK and BYE along the recorded route), CANCEL, failover on a timeout
//! through a failure_route, lost INVITE and 200 copies, a duplicated request, and a reload
//! in the middle of a call.

mod common;
use common::*;
use sipvm_rpc::{client, Value};

use std::process::Command;
use std::time::{Duration, Instant};

/// sipp on loopback for these tests (see `common::sipp_command`).
fn sipp(args: &[&str]) -> Command {
    sipp_command(args, "90s")
}

const W: Duration = Duration::from_secs(3);

fn rpc(port: u16, method: &str, params: Vec<Value>) -> Value {
    client::call(&format!("http://127.0.0.1:{port}/RPC"), method, params)
        .expect("RPC transport")
        .unwrap_or_else(|e| panic!("{method}: {e}"))
}

/// 08 with its next hops moved, children=2, and an RPC port.
fn stateful(hop1: u16, hop2: u16, rpc_port: u16, extra: &[(&'static str, String)]) -> Sipvm {
    let mut subst = vec![
        ("127.0.0.1:5081", format!("127.0.0.1:{hop1}")),
        ("127.0.0.1:5082", format!("127.0.0.1:{hop2}")),
        (
            "children=4",
            format!("children=2\nrpc_listen=\"127.0.0.1:{rpc_port}\""),
        ),
    ];
    subst.extend(extra.iter().cloned());
    Sipvm::example("08-round-robin-stateful.cfg", &subst)
}

/// sipp calls through 08: a caller that follows the route set, two callees that mirror
/// Record-Route (each takes half the calls), sipvm with an RPC port.
struct Calls08 {
    server: Sipvm,
    rpc: u16,
    dir: Scratch,
    uac: Bounded,
    callees: Vec<Bounded>,
}

impl Calls08 {
    fn start(calls: u32, rate: u32) -> Calls08 {
        require_sipp();
        let (p1, p2, rpc) = (free_port(), free_port(), free_port());
        let server = stateful(p1, p2, rpc, &[]);
        let dir = Scratch::new();
        let callee = sipp_scenario(dir.path(), "callee-rr.xml");
        let caller = sipp_scenario(dir.path(), "caller-rr.xml");
        let each = (calls / 2).to_string();
        let callees: Vec<Bounded> = [p1, p2]
            .iter()
            .map(|p| {
                let ps = p.to_string();
                Bounded::spawn(
                    sipp(&["-sf", &callee, "-p", &ps, "-m", &each]),
                    dir.path(),
                    &format!("callee{p}"),
                )
            })
            .collect();
        for p in [p1, p2] {
            assert!(wait_udp_bound(p, Duration::from_secs(5)), "callee on {p}");
        }
        let target = format!("127.0.0.1:{}", server.port);
        let cp = free_port().to_string();
        let (calls, rate) = (calls.to_string(), rate.to_string());
        let uac = Bounded::spawn(
            sipp(&[
                "-sf", &caller, &target, "-p", &cp, "-m", &calls, "-r", &rate,
            ]),
            dir.path(),
            "caller",
        );
        Calls08 {
            server,
            rpc,
            dir,
            uac,
            callees,
        }
    }
}

#[test]
fn sipp_1000_calls_through_stateful_round_robin_with_record_route() {
    let Calls08 {
        server,
        rpc: rpcp,
        dir: _dir,
        mut uac,
        mut callees,
    } = Calls08::start(1000, 200);
    let st = uac.wait(Duration::from_secs(100));
    let ev = || {
        format!(
            "--- caller\n{}\n--- sipvm\n{}",
            uac.output(),
            server.log_text()
        )
    };
    assert!(st.is_some_and(|s| s.success()), "caller failed\n{}", ev());
    assert_eq!(
        sipp_totals(&uac.output()),
        (Some(1000), Some(0)),
        "{}",
        ev()
    );
    for c in callees.iter_mut() {
        let st = c.wait(Duration::from_secs(15));
        // Each callee took half the calls and saw each BYE: the BYE went through sipvm.
        assert!(
            st.is_some_and(|s| s.success()),
            "{}\n{}",
            c.what,
            c.output()
        );
        assert_eq!(
            sipp_totals(&c.output()),
            (Some(500), Some(0)),
            "{}",
            c.output()
        );
    }
    // After the wait timer every transaction is gone.
    let t0 = Instant::now();
    loop {
        let s = rpc(rpcp, "tm.stats", vec![]);
        if s["current"] == 0 {
            assert!(s["created"].as_u64().unwrap() >= 2000, "{s}");
            assert_eq!(s["created"], s["freed"], "{s}");
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(15), "tm.stats: {s}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn reloads_under_stateful_load_lose_no_call() {
    let Calls08 {
        server,
        rpc: rpcp,
        dir: _dir,
        mut uac,
        mut callees,
    } = Calls08::start(2000, 250);
    // Two versions of the file, told apart by the 404 reason; reloaded in turn while calls run.
    let file = server.cfg_path();
    let a = std::fs::read_to_string(&file).unwrap();
    let b = a.replace("\"Not Found\"", "\"Not Found Here\"");
    assert_ne!(a, b);
    let mut reloads = 0;
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(6) {
        let text = if reloads % 2 == 0 { &b } else { &a };
        let path = server.dir.path().join(format!("v{}.cfg", reloads % 2));
        std::fs::write(&path, text).unwrap();
        rpc(
            rpcp,
            "route.reload",
            vec![Value::from(path.to_str().unwrap())],
        );
        reloads += 1;
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(reloads >= 30, "{reloads}");
    let st = uac.wait(Duration::from_secs(100));
    let out = uac.output();
    assert!(
        st.is_some_and(|s| s.success()),
        "caller\n{out}\n{}",
        server.log_text()
    );
    assert_eq!(sipp_totals(&out), (Some(2000), Some(0)), "{out}");
    for c in callees.iter_mut() {
        assert!(
            c.wait(Duration::from_secs(15)).is_some_and(|s| s.success()),
            "{}",
            c.output()
        );
        assert_eq!(
            sipp_totals(&c.output()),
            (Some(1000), Some(0)),
            "{}",
            c.output()
        );
    }
}

/// A phone and a next hop as plain UDP sockets.
struct Call {
    caller: Peer,
    callee: Peer,
    server: Sipvm,
}

impl Call {
    fn new(extra: &[(&'static str, String)]) -> Call {
        let callee = Peer::new();
        let server = stateful(callee.port, callee.port, free_port(), extra);
        Call {
            caller: Peer::new(),
            callee,
            server,
        }
    }

    fn invite(&self, cid: &str) -> Vec<u8> {
        self.caller
            .request("INVITE", "sip:bob@example.test", cid, "")
    }

    /// The next request the callee gets (skipping nothing).
    fn at_callee(&self, what: &str) -> Vec<u8> {
        let (m, _) = self
            .callee
            .recv(W)
            .unwrap_or_else(|| panic!("callee: no {what}\n{}", self.server.log_text()));
        m
    }

    fn at_caller(&self, what: &str) -> Vec<u8> {
        loop {
            let (m, _) = self
                .caller
                .recv(W)
                .unwrap_or_else(|| panic!("caller: no {what}\n{}", self.server.log_text()));
            // 100 Trying is hop by hop; the tests look past it.
            if status(&m) != Some(100) {
                return m;
            }
        }
    }
}

/// A reply by a UAS to `req`: its Vias, From, Call-ID, CSeq, To with `tag`, Record-Route
/// mirrored.
fn answer(req: &[u8], code: u16, reason: &str, tag: &str) -> Vec<u8> {
    let mut s = format!("SIP/2.0 {code} {reason}\r\n");
    for v in header(req, "Via") {
        s.push_str(&format!("Via: {v}\r\n"));
    }
    for rr in header(req, "Record-Route") {
        s.push_str(&format!("Record-Route: {rr}\r\n"));
    }
    for n in ["From", "Call-ID", "CSeq"] {
        for v in header(req, n) {
            s.push_str(&format!("{n}: {v}\r\n"));
        }
    }
    let to = header(req, "To")[0].to_string();
    let to = if to.contains("tag=") {
        to
    } else {
        format!("{to};tag={tag}")
    };
    s.push_str(&format!(
        "To: {to}\r\nContact: <sip:bob@127.0.0.1>\r\nContent-Length: 0\r\n\r\n"
    ));
    s.into_bytes()
}

#[test]
fn cancel_before_the_answer_gets_200_and_the_invite_487() {
    let c = Call::new(&[]);
    let inv = c.invite("cancel-1");
    c.caller.send(c.server.addr, &inv);
    let got = c.at_callee("INVITE");
    assert!(start_line(&got).starts_with("INVITE "));
    c.callee
        .send(c.server.addr, &answer(&got, 180, "Ringing", "b1"));
    assert_eq!(status(&c.at_caller("180")), Some(180));
    let cancel = String::from_utf8(inv.clone())
        .unwrap()
        .replacen("INVITE ", "CANCEL ", 1)
        .replace("1 INVITE", "1 CANCEL");
    c.caller.send(c.server.addr, cancel.as_bytes());
    let r = c.at_caller("200 for the CANCEL");
    assert_eq!((status(&r), header(&r, "CSeq")[0]), (Some(200), "1 CANCEL"));
    let cn = c.at_callee("CANCEL");
    assert!(start_line(&cn).starts_with("CANCEL "), "{}", text(&cn));
    assert_eq!(header(&cn, "Via")[0], header(&got, "Via")[0]);
    c.callee.send(c.server.addr, &answer(&cn, 200, "OK", "b1"));
    c.callee.send(
        c.server.addr,
        &answer(&got, 487, "Request Terminated", "b1"),
    );
    let ack = c.at_callee("ACK for the 487");
    assert!(start_line(&ack).starts_with("ACK "), "{}", text(&ack));
    let r = c.at_caller("487");
    assert_eq!((status(&r), header(&r, "CSeq")[0]), (Some(487), "1 INVITE"));
}

#[test]
fn a_stopped_callee_times_out_and_the_failure_route_tries_the_other() {
    let callee = Peer::new();
    let dead = free_port();
    // 08 with short timers and a failure_route that moves to the other next hop.
    let server = stateful(
        dead,
        callee.port,
        free_port(),
        &[
            (
                "modparam(\"cfgutils\", \"lock_set_size\", 1)",
                "modparam(\"cfgutils\", \"lock_set_size\", 1)\nmodparam(\"tm\", \"fr_timer\", 1000)\nmodparam(\"tm\", \"fr_inv_timer\", 1500)".into(),
            ),
            (
                "    record_route();\n    route(RELAY);",
                "    record_route();\n    t_on_failure(\"OTHER\");\n    route(RELAY);".into(),
            ),
            (
                "route[IN_DIALOG] {",
                format!(
                    "failure_route[OTHER] {{\n    if (t_branch_timeout()) {{\n        rewritehostport(\"127.0.0.1:{}\");\n        t_relay();\n    }}\n}}\n\nroute[IN_DIALOG] {{",
                    callee.port
                ),
            ),
        ],
    );
    let caller = Peer::new();
    // Two calls: round robin sends one of them to the dead hop first.
    for cid in ["fo-1", "fo-2"] {
        let t0 = Instant::now();
        caller.send(
            server.addr,
            &caller.request("INVITE", "sip:bob@example.test", cid, ""),
        );
        let (got, _) = callee
            .recv(Duration::from_secs(4))
            .unwrap_or_else(|| panic!("{cid}: callee got nothing\n{}", server.log_text()));
        assert_eq!(call_id(&got), Some(cid));
        callee.send(server.addr, &answer(&got, 200, "OK", "b2"));
        loop {
            let (m, _) = caller
                .recv(Duration::from_secs(4))
                .unwrap_or_else(|| panic!("{cid}: no 200\n{}", server.log_text()));
            if status(&m) == Some(200) {
                break;
            }
        }
        assert!(
            t0.elapsed() < Duration::from_secs(3),
            "{cid}: {:?}",
            t0.elapsed()
        );
    }
}

#[test]
fn lost_invite_and_lost_200_are_recovered_by_the_timers() {
    let c = Call::new(&[]);
    let inv = c.invite("loss-1");
    c.caller.send(c.server.addr, &inv);
    // The callee "loses" the first INVITE: sipvm's timer A sends it again (same bytes).
    let first = c.at_callee("INVITE");
    let again = c.at_callee("retransmitted INVITE");
    assert_eq!(first, again);
    let ok = answer(&again, 200, "OK", "b1");
    c.callee.send(c.server.addr, &ok);
    // The caller "loses" the first 200; the callee resends it (no ACK yet) and it comes.
    let lost = c.at_caller("200");
    assert_eq!(status(&lost), Some(200));
    c.callee.send(c.server.addr, &ok);
    let r = c.at_caller("second 200");
    assert_eq!(status(&r), Some(200));
    // The ACK follows the recorded route through sipvm to the callee.
    let route = header(&r, "Record-Route")[0].to_string();
    let ack = format!(
        "ACK sip:bob@127.0.0.1:{} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{};branch=z9hG4bK-loss-ack\r\nRoute: {route}\r\nMax-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1:{}>;tag=a-loss-1\r\nTo: {}\r\nCall-ID: loss-1\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
        c.callee.port,
        c.caller.port,
        c.caller.port,
        header(&r, "To")[0]
    );
    c.caller.send(c.server.addr, ack.as_bytes());
    let a = c.at_callee("ACK");
    assert!(start_line(&a).starts_with("ACK "), "{}", text(&a));
}

#[test]
fn a_duplicated_request_reaches_the_next_hop_once() {
    let c = Call::new(&[]);
    let inv = c.invite("dup-1");
    c.caller.send(c.server.addr, &inv);
    c.caller.send(c.server.addr, &inv);
    let got = c.at_callee("INVITE");
    c.callee
        .send(c.server.addr, &answer(&got, 180, "Ringing", "b1"));
    // Nothing else arrives (a 180 stops timer A too).
    c.callee
        .expect_nothing(Duration::from_millis(900), "a second INVITE");
    // Both copies got the 100 Trying.
    let mut trying = 0;
    while let Some((m, _)) = c.caller.recv(Duration::from_millis(300)) {
        if status(&m) == Some(100) {
            trying += 1;
        }
    }
    assert_eq!(trying, 2);
}

#[test]
fn a_call_keeps_its_generation_failure_route_across_route_reload() {
    let rpcp = free_port();
    let hole = free_port();
    let cfg = |which: &str| {
        format!(
            "listen=udp:127.0.0.1:5060\nchildren=2\nrpc_listen=\"127.0.0.1:{rpcp}\"\n\
             loadmodule \"tm.so\"\nloadmodule \"siputils.so\"\n\
             modparam(\"tm\", \"fr_timer\", 1500)\n\
             request_route {{\n    rewritehostport(\"127.0.0.1:{hole}\");\n    t_on_failure(\"F\");\n    t_relay();\n}}\n\
             failure_route[F] {{\n    t_reply(\"500\", \"generation {which}\");\n}}\n"
        )
    };
    let server = Sipvm::start(&cfg("one"), &[]);
    let caller = Peer::new();
    caller.send(
        server.addr,
        &caller.request("INVITE", "sip:bob@example.test", "gen-1", ""),
    );
    // The 100 Trying says the transaction exists (on generation 1) before the reload.
    let (t, _) = caller
        .recv(Duration::from_secs(5))
        .unwrap_or_else(|| panic!("no 100 for gen-1\n{}", server.log_text()));
    assert_eq!(status(&t), Some(100));
    let next = server.dir.path().join("two.cfg");
    std::fs::write(
        &next,
        cfg("two").replace("127.0.0.1:5060", &format!("127.0.0.1:{}", server.port)),
    )
    .unwrap();
    let r = rpc(
        rpcp,
        "route.reload",
        vec![Value::from(next.to_str().unwrap())],
    );
    assert!(r.to_string().contains('2'), "{r}");
    caller.send(
        server.addr,
        &caller.request("INVITE", "sip:bob@example.test", "gen-2", ""),
    );
    let mut finals = Vec::new();
    let t0 = Instant::now();
    while finals.len() < 2 && t0.elapsed() < Duration::from_secs(6) {
        if let Some((m, _)) = caller.recv(Duration::from_millis(500)) {
            if status(&m).is_some_and(|s| s >= 200) {
                finals.push((call_id(&m).unwrap().to_string(), start_line(&m).to_string()));
            }
        }
    }
    finals.sort();
    assert_eq!(
        finals,
        vec![
            (
                "gen-1".to_string(),
                "SIP/2.0 500 generation one".to_string()
            ),
            (
                "gen-2".to_string(),
                "SIP/2.0 500 generation two".to_string()
            )
        ],
        "{}",
        server.log_text()
    );
}

/// One message off a stream (no bodies here): up to the end of its head, keeping whatever
/// follows in `rest` (two replies can arrive in one read).
fn read_stream(s: &mut std::net::TcpStream, rest: &mut Vec<u8>) -> Vec<u8> {
    use std::io::Read;
    let mut b = [0u8; 4096];
    loop {
        if let Some(end) = rest.windows(4).position(|w| w == b"\r\n\r\n") {
            let tail = rest.split_off(end + 4);
            return std::mem::replace(rest, tail);
        }
        let n = s.read(&mut b).expect("read from sipvm");
        assert!(n > 0, "connection closed early");
        rest.extend_from_slice(&b[..n]);
    }
}

#[test]
fn a_caller_over_tcp_gets_its_replies_on_its_connection() {
    use std::io::Write;
    let callee = Peer::new();
    let cfg = format!(
        "listen=udp:127.0.0.1:5060\nlisten=tcp:127.0.0.1:5060\nchildren=2\n\
         loadmodule \"tm.so\"\nloadmodule \"siputils.so\"\n\
         request_route {{\n    rewritehostport(\"127.0.0.1:{}\");\n    t_relay();\n}}\n",
        callee.port
    );
    let server = Sipvm::start(&cfg, &[]);
    let mut conn = std::net::TcpStream::connect(server.addr).unwrap();
    conn.set_read_timeout(Some(W)).unwrap();
    let me = conn.local_addr().unwrap().port();
    let inv = format!(
        "INVITE sip:bob@example.test SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:{me};branch=z9hG4bK-tcp-1\r\n\
         Max-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1>;tag=a-tcp\r\nTo: <sip:bob@example.test>\r\n\
         Call-ID: tcp-1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
    );
    conn.write_all(inv.as_bytes()).unwrap();
    let mut rest = Vec::new();
    assert_eq!(status(&read_stream(&mut conn, &mut rest)), Some(100));
    let (got, _) = callee
        .recv(W)
        .unwrap_or_else(|| panic!("no INVITE\n{}", server.log_text()));
    assert!(
        header(&got, "Via")[0].starts_with("SIP/2.0/UDP "),
        "{}",
        text(&got)
    );
    callee.send(server.addr, &answer(&got, 180, "Ringing", "b1"));
    callee.send(server.addr, &answer(&got, 200, "OK", "b1"));
    assert_eq!(status(&read_stream(&mut conn, &mut rest)), Some(180));
    let ok = read_stream(&mut conn, &mut rest);
    assert_eq!(status(&ok), Some(200));
    assert_eq!(
        header(&ok, "Via"),
        vec![format!("SIP/2.0/TCP 127.0.0.1:{me};branch=z9hG4bK-tcp-1")]
    );
}
