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
        let req = peer.request("OPTIONS", &ruri, &format!("pvd-{n}-{case}"), "");
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
fn more_pv_classes_as_kamailio() {
    side_by_side("pvs");
}
