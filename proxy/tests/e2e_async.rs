//! async on the real binary, against Kamailio 5.6.3's answers to the same file:
//! `tests/data/async/async.cfg` (recorded by `record-kamailio.sh` there into
//! `async.kamailio.txt`). `async_route`, `async_ms_route` and `async_task_route` suspend the
//! request; the named route runs later with the request's R-URI, AVPs and flags and answers
//! it (`202 Resumed`); the failing calls return -1 and the script goes on. The transcript is
//! Kamailio's output, so SIPVM_BLESS does not regenerate it; re-record it with the script.

mod common;
use common::*;
use std::path::PathBuf;
use std::time::Duration;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/async")
        .join(name)
}

/// The script's case lines, sorted as the recording sorts them.
fn cases(log: &str) -> Vec<String> {
    let mut v: Vec<String> = log
        .lines()
        .filter_map(|l| {
            let i = l.find("xlog: ")? + 6;
            let rest = &l[i..];
            let digits = rest[1..].bytes().take_while(u8::is_ascii_digit).count();
            (digits == 2 && rest[3..].starts_with(' ')).then(|| rest.to_string())
        })
        .collect();
    v.sort();
    v
}

#[test]
fn suspended_requests_are_answered_by_the_later_route_as_kamailio_does() {
    let expected = std::fs::read_to_string(data("async.kamailio.txt")).unwrap();
    let cfg = std::fs::read_to_string(data("async.cfg"))
        .unwrap()
        .replace("@PORT@", "5060")
        .replace(
            "@EXTRA@",
            &format!("rpc_listen=\"127.0.0.1:{}\"", free_port()),
        );
    let server = Sipvm::start(&cfg, &[]);
    let peer = Peer::new();
    let mut got = Vec::new();
    // As send.py: one request at a time, its replies until the final one.
    for (method, u) in [
        ("OPTIONS", "slow"),
        ("INVITE", "ms"),
        ("OPTIONS", "task"),
        ("OPTIONS", "tgroup"),
        ("OPTIONS", "data"),
        ("OPTIONS", "errors"),
        ("OPTIONS", "plain"),
    ] {
        let req = format!(
            "{method} sip:{u}@127.0.0.1 SIP/2.0\r\n\
             Via: SIP/2.0/UDP 127.0.0.1:{p};branch=z9hG4bK{u}1\r\n\
             From: <sip:t@127.0.0.1>;tag=1\r\nTo: <sip:{u}@127.0.0.1>\r\n\
             Call-ID: {u}-async\r\nCSeq: 1 {method}\r\nMax-Forwards: 70\r\n\
             Contact: <sip:t@127.0.0.1>\r\nContent-Length: 0\r\n\r\n",
            p = peer.port
        );
        peer.send(server.addr, req.as_bytes());
        loop {
            let (m, _) = peer
                .recv(Duration::from_secs(5))
                .unwrap_or_else(|| panic!("{u}: no reply\n{}", server.log_text()));
            let line = start_line(&m).to_string();
            got.push(format!("{u}: {line}"));
            if !line.starts_with("SIP/2.0 1") {
                break;
            }
        }
    }
    // The resumed routes logged before they replied; give the log writer a moment.
    let want_cases = expected
        .lines()
        .filter(|l| !l.contains(": SIP/2.0"))
        .count();
    let mut log = server.log_text();
    for _ in 0..50 {
        if cases(&log).len() >= want_cases {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
        log = server.log_text();
    }
    got.extend(cases(&log));
    let want: Vec<&str> = expected.lines().collect();
    assert_eq!(want, got, "log:\n{log}");
}

/// Kamailio refuses to start a file calling the task functions without the core's
/// `async_workers`; so does `sipvm run`, before binding.
#[test]
fn task_functions_without_async_workers_refuse_to_start() {
    let dir = Scratch::new();
    let file = dir.path().join("t.cfg");
    let port = free_port();
    std::fs::write(
        &file,
        format!(
            "listen=udp:127.0.0.1:{port}\nloadmodule \"tm.so\"\nloadmodule \"async.so\"\n\
             request_route {{ async_task_route(\"R\"); }}\nroute[R] {{ t_reply(\"200\", \"ok\"); }}\n"
        ),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sipvm"))
        .args(["run", "-f"])
        .arg(&file)
        .env("SIPVM_LOOPBACK_ONLY", "1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("set async_workers parameter in core"), "{err}");
}

/// The resumed route relays the request statefully: the suspended request goes to the next
/// hop with the edits made before the suspension (a header, Record-Route), and the hop's
/// answer comes back through the transaction.
#[test]
fn a_resumed_route_relays_with_the_state_saved_before() {
    let hop = Peer::new();
    let cfg = format!(
        "listen=udp:127.0.0.1:5060\nrpc_listen=\"127.0.0.1:{rpc}\"\n\
         loadmodule \"tm.so\"\nloadmodule \"rr.so\"\nloadmodule \"textops.so\"\n\
         loadmodule \"async.so\"\nmodparam(\"async\", \"ms_timer\", 10)\n\
         request_route {{\n\
             if (is_method(\"ACK\")) {{ exit; }}\n\
             record_route();\n\
             append_hf(\"X-Before: 1\\r\\n\");\n\
             $du = \"sip:127.0.0.1:{hop}\";\n\
             async_ms_route(\"RELAY\", 50);\n\
         }}\n\
         route[RELAY] {{ t_relay(); }}\n",
        rpc = free_port(),
        hop = hop.port
    );
    let server = Sipvm::start(&cfg, &[]);
    let ua = Peer::new();
    let req = ua.request("OPTIONS", "sip:bob@127.0.0.1", "relay-async", "");
    ua.send(server.addr, &req);
    let (fwd, from) = hop
        .recv(Duration::from_secs(5))
        .unwrap_or_else(|| panic!("nothing relayed\n{}", server.log_text()));
    assert_eq!(header(&fwd, "X-Before"), vec!["1"]);
    assert_eq!(
        header(&fwd, "Record-Route").len(),
        1,
        "{}",
        String::from_utf8_lossy(&fwd)
    );
    // The hop answers 200: back through the transaction to the UA.
    let text = String::from_utf8_lossy(&fwd).into_owned();
    let mut reply = String::from("SIP/2.0 200 OK\r\n");
    for l in text.split("\r\n").skip(1) {
        let n = l.split(':').next().unwrap_or("").to_ascii_lowercase();
        if ["via", "from", "to", "call-id", "cseq"].contains(&n.as_str()) {
            reply.push_str(l);
            reply.push_str("\r\n");
        }
    }
    reply.push_str("Content-Length: 0\r\n\r\n");
    hop.send(from, reply.as_bytes());
    let (m, _) = ua
        .recv(Duration::from_secs(5))
        .unwrap_or_else(|| panic!("no reply to the UA\n{}", server.log_text()));
    assert_eq!(status(&m), Some(200), "{}", String::from_utf8_lossy(&m));
}
