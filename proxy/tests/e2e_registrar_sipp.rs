//! sipp registers 10,000 distinct users (tests/sipp/register-uac.xml, users injected from a
//! CSV with `-inf`) against shared/examples/12-registrar.cfg; `ul.dump` then lists every one,
//! and a second sipp calls each user (tests/sipp/call-users.xml): `lookup()` + `t_relay()`
//! bring every call to the contact, a sipp callee that answers, takes the ACK and the BYE.
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
    sipp_scenario(dir.path(), "register-uac.xml");
    let mut csv = String::from("SEQUENTIAL\n");
    for i in 0..10_000 {
        csv.push_str(&format!("user{i:05};\n"));
    }
    std::fs::write(dir.path().join("users.csv"), csv).unwrap();
    let target = format!("127.0.0.1:{}", server.port);
    let port = free_port().to_string();
    // Every binding points at the callee of the second stage.
    let callee_port = free_port();
    let contact = format!("127.0.0.1:{callee_port}");
    let cmd = sipp_command(
        &[
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
            "-key",
            "contact",
            &contact,
        ],
        "120s",
    );
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
    assert_eq!(c["Address"], format!("sip:user04321@{contact}"));
    assert_eq!(c["User-Agent"], "sipp register-uac");
    let e = c["Expires"].as_i64().unwrap();
    assert!((500..=600).contains(&e), "{e}");

    // Second stage: a call to each of the 10,000 users reaches the contact through lookup().
    for f in ["call-users.xml", "callee-rr.xml"] {
        sipp_scenario(dir.path(), f);
    }
    let sipp_args = |extra: &[&str]| sipp_command(extra, "120s");
    let cp = callee_port.to_string();
    let mut callee = Bounded::spawn(
        sipp_args(&["-sf", "callee-rr.xml", "-p", &cp, "-m", "10000"]),
        dir.path(),
        "callee",
    );
    assert!(wait_udp_bound(callee_port, Duration::from_secs(5)));
    let caller_port = free_port().to_string();
    let mut caller = Bounded::spawn(
        sipp_args(&[
            "-sf",
            "call-users.xml",
            "-inf",
            "users.csv",
            &target,
            "-p",
            &caller_port,
            "-m",
            "10000",
            "-r",
            "500",
        ]),
        dir.path(),
        "caller",
    );
    let st = caller.wait(Duration::from_secs(130));
    let out = caller.output();
    let st = st.unwrap_or_else(|| panic!("caller did not finish\n{out}\n{}", server.log_text()));
    assert!(st.success(), "caller: {st}\n{out}\n{}", server.log_text());
    assert_eq!(sipp_totals(&out), (Some(10_000), Some(0)), "{out}");
    let st = callee.wait(Duration::from_secs(20));
    let out = callee.output();
    assert!(st.is_some_and(|s| s.success()), "callee\n{out}");
    assert_eq!(sipp_totals(&out), (Some(10_000), Some(0)), "{out}");
}
