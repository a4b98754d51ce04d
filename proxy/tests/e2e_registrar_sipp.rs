//! sipp registers 10,000 distinct users (tests/sipp/register-uac.xml, users injected from a
//! CSV with `-inf`) against shared/examples/12-registrar.cfg; `ul.dump` then lists every one.
//! In a test binary of its own so no other test competes for the CPU while sipp times replies.

mod common;
use common::*;
use sipvm_rpc::{client, Value};
use std::time::Duration;

fn call(url: &str, method: &str, params: &[&str]) -> Value {
    let params = params.iter().map(|p| Value::from(*p)).collect();
    client::call(url, method, params).unwrap().unwrap()
}

#[test]
fn sipp_registers_10000_users() {
    assert!(
        have_sipp(),
        "sipp is not installed (apt-get install sip-tester)"
    );
    let rpc = free_port();
    let server = Sipvm::example(
        "12-registrar.cfg",
        &[(
            "loadmodule \"tm.so\"",
            format!("rpc_listen=\"127.0.0.1:{rpc}\"\nloadmodule \"tm.so\""),
        )],
    );
    let url = format!("http://127.0.0.1:{rpc}/RPC");
    let dir = Scratch::new();
    let scenario =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sipp/register-uac.xml");
    std::fs::copy(&scenario, dir.path().join("register-uac.xml")).unwrap();
    let mut csv = String::from("SEQUENTIAL\n");
    for i in 0..10_000 {
        csv.push_str(&format!("user{i:05};\n"));
    }
    std::fs::write(dir.path().join("users.csv"), csv).unwrap();
    let target = format!("127.0.0.1:{}", server.port);
    let port = free_port().to_string();
    let mut cmd = std::process::Command::new("sipp");
    cmd.args([
        "-sf",
        "register-uac.xml",
        "-inf",
        "users.csv",
        &target,
        "-p",
        &port,
        "-m",
        "10000",
        "-r",
        "500",
        "-key",
        "expires",
        "600",
        "-i",
        "127.0.0.1",
        "-nostdin",
        "-timeout",
        "120s",
        "-timeout_error",
        "-trace_err",
    ]);
    let mut sipp = Bounded::spawn(cmd, dir.path(), "register");
    let st = sipp.wait(Duration::from_secs(130));
    let out = sipp.output();
    let st = st.unwrap_or_else(|| panic!("sipp did not finish\n{out}\n{}", server.log_text()));
    assert!(st.success(), "sipp: {st}\n{out}");
    let d = call(&url, "ul.dump", &["brief"]);
    let aors: Vec<String> = d["Domains"][0]["Domain"]["AoRs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["AoR"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(aors.len(), 10_000);
    let mut sorted = aors.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 10_000);
    assert_eq!(sorted[0], "user00000");
    assert_eq!(sorted[9_999], "user09999");
    let l = call(&url, "ul.lookup", &["location", "user04321"]);
    let c = &l["Contacts"][0]["Contact"];
    assert_eq!(c["Address"], format!("sip:user04321@127.0.0.1:{port}"));
    assert_eq!(c["User-Agent"], "sipp register-uac");
    let e = c["Expires"].as_i64().unwrap();
    assert!((500..=600).contains(&e), "{e}");
}
