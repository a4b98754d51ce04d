//! pv, uuid, jansson, json, regex and ipops on the real binary, side by side with Kamailio:
//! each `tests/pvdata/NAME.cfg` logs its results as `R|...` lines, one request per case of
//! its `# cases:` line, and `NAME.expected` holds what Kamailio 5.6.3 logged on the same
//! file (`tests/pvdata/kamailio.sh` regenerates it).

mod common;
use common::*;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/pvdata")
}

/// The `R|` lines sipvm logs for every case of `name.cfg`.
fn run(name: &str) -> Vec<String> {
    let cfg = std::fs::read_to_string(dir().join(format!("{name}.cfg"))).unwrap();
    let cases: Vec<&str> = cfg
        .lines()
        .find_map(|l| l.strip_prefix("# cases: "))
        .expect("a # cases: line")
        .split_whitespace()
        .collect();
    let here = dir().display().to_string();
    let server = Sipvm::start(&cfg, &[("@DIR@", here)]);
    let peer = Peer::new();
    for (n, case) in cases.iter().enumerate() {
        let ruri = format!("sip:{case}@127.0.0.1");
        // `# extra CASE: Header: value` lines add headers to that case's request.
        let extra: String = cfg
            .lines()
            .filter_map(|l| l.strip_prefix("# extra "))
            .filter_map(|l| l.split_once(": "))
            .filter(|(c, _)| c == case)
            .map(|(_, h)| format!("{h}\r\n"))
            .collect();
        let req = peer.request("OPTIONS", &ruri, &format!("pvd-{n}-{case}"), &extra);
        peer.send(server.addr, &req);
        let (m, _) = peer
            .recv(Duration::from_secs(3))
            .unwrap_or_else(|| panic!("{name}: no reply to {case}:\n{}", server.log_text()));
        assert_eq!(status(&m), Some(200), "{name}: {case}");
    }
    // The last case's closing line is logged before its reply went out.
    let last = format!("R|end {}", cases.last().unwrap());
    let t0 = Instant::now();
    while !server.log_text().contains(&last) && t0.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(20));
    }
    server
        .log_text()
        .lines()
        .filter_map(|l| l.find("R|").map(|i| l[i..].to_string()))
        .collect()
}

fn expected(name: &str) -> Vec<String> {
    std::fs::read_to_string(dir().join(format!("{name}.expected")))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn side_by_side(name: &str) {
    let got = run(name);
    let want = expected(name);
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "{name}: line {} differs from Kamailio's", i + 1);
    }
    assert_eq!(got.len(), want.len(), "{name}: {got:#?}");
}

#[test]
fn xavp_xavi_xavu_as_kamailio() {
    side_by_side("xavp");
}

#[test]
fn jansson_and_json_as_kamailio() {
    side_by_side("jansson");
}

#[test]
fn regex_as_kamailio() {
    side_by_side("regex");
}

#[test]
fn ipops_as_kamailio() {
    side_by_side("ipops");
}

#[test]
fn static_branch_as_kamailio() {
    side_by_side("sbranch");
}

#[test]
fn more_pv_classes_as_kamailio() {
    side_by_side("pvs");
}

/// Kamailio keeps a request's xavps with its transaction: the failure route sees them (and
/// what it adds is there for the next one).
#[test]
fn xavps_follow_the_transaction_into_the_failure_route() {
    let callee = Peer::new();
    let cfg = format!(
        "listen=udp:127.0.0.1:5060\nchildren=2\n\
         loadmodule \"tm.so\"\nloadmodule \"pv.so\"\nloadmodule \"siputils.so\"\n\
         request_route {{\n    $xavp(call=>who) = \"alice\";\n    $xavu(u) = 7;\n\
             rewritehostport(\"127.0.0.1:{}\");\n    t_on_failure(\"F\");\n    t_relay();\n}}\n\
         failure_route[F] {{\n    t_reply(\"500\", \"$xavp(call=>who)-$xavu(u)\");\n}}\n",
        callee.port
    );
    let server = Sipvm::start(&cfg, &[]);
    let caller = Peer::new();
    caller.send(
        server.addr,
        &caller.request("INVITE", "sip:bob@example.test", "xavp-tm", ""),
    );
    let (inv, from) = callee
        .recv(Duration::from_secs(5))
        .unwrap_or_else(|| panic!("no INVITE at the callee\n{}", server.log_text()));
    let text = String::from_utf8_lossy(&inv).into_owned();
    let head = |name: &str| {
        text.lines()
            .filter(|l| {
                l.to_ascii_lowercase()
                    .starts_with(&format!("{}:", name.to_ascii_lowercase()))
            })
            .collect::<Vec<_>>()
            .join("\r\n")
    };
    let busy = format!(
        "SIP/2.0 486 Busy Here\r\n{}\r\n{}\r\n{};tag=callee\r\n{}\r\n{}\r\nContent-Length: 0\r\n\r\n",
        head("Via"),
        head("From"),
        head("To"),
        head("Call-ID"),
        head("CSeq")
    );
    callee.send(from, busy.as_bytes());
    let t0 = Instant::now();
    let mut last = None;
    while t0.elapsed() < Duration::from_secs(5) {
        match caller.recv(Duration::from_millis(500)) {
            Some((m, _)) if status(&m).is_some_and(|s| s >= 200) => {
                last = Some(start_line(&m).to_string());
                break;
            }
            _ => {}
        }
    }
    assert_eq!(
        last.as_deref(),
        Some("SIP/2.0 500 alice-7"),
        "{}",
        server.log_text()
    );
}

/// `regex.reload` over JSON-RPC: the edited group file takes effect; a bad one is refused
/// with Kamailio's 500 and the groups in use stay.
#[test]
fn regex_reload_over_rpc() {
    let rpc = free_port();
    let scratch = Scratch::new();
    let groups = scratch.path().join("groups");
    std::fs::write(&groups, "[0]\n^alice\n").unwrap();
    let cfg = format!(
        "listen=udp:127.0.0.1:5060\nchildren=1\nrpc_listen=\"127.0.0.1:{rpc}\"\n\
         loadmodule \"sl.so\"\nloadmodule \"regex.so\"\n\
         modparam(\"regex\", \"file\", \"{}\")\n\
         request_route {{\n    if (pcre_match_group(\"$rU\", \"0\")) {{\n\
                 sl_send_reply(\"200\", \"in\");\n    }} else {{\n\
                 sl_send_reply(\"404\", \"out\");\n    }}\n}}\n",
        groups.display()
    );
    let server = Sipvm::start(&cfg, &[]);
    let url = format!("http://127.0.0.1:{rpc}/RPC");
    let peer = Peer::new();
    let ask = |user: &str, n: u32| {
        let req = peer.request(
            "OPTIONS",
            &format!("sip:{user}@127.0.0.1"),
            &format!("rx-{n}"),
            "",
        );
        peer.send(server.addr, &req);
        let (m, _) = peer.recv(Duration::from_secs(3)).expect("a reply");
        status(&m).unwrap()
    };
    assert_eq!(ask("alice", 1), 200);
    assert_eq!(ask("bob", 2), 404);
    std::fs::write(&groups, "[0]\n^bob\n").unwrap();
    let r = sipvm_rpc::client::call(&url, "regex.reload", vec![]).unwrap();
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(ask("alice", 3), 404);
    assert_eq!(ask("bob", 4), 200);
    std::fs::write(&groups, "no group header\n").unwrap();
    let bad = sipvm_rpc::client::call(&url, "regex.reload", vec![])
        .unwrap()
        .unwrap_err();
    assert_eq!((bad.code, bad.message.as_str()), (500, "Failed to reload"));
    assert_eq!(ask("bob", 5), 200);
}
