//! sipp through a topology-hiding proxy: tests/sipp/topoh-caller.xml calls
//! tests/sipp/topoh-callee.xml through sipvm with topoh (`mask_callid` on), statefully. Each
//! side checks it sees only the proxy's address and the mask address (Contact, second Via,
//! Call-ID encoded; no peer branch, no cookie), that the ACK and the callee's BYE reach their
//! targets decoded, and the caller's sipp matches the BYE by its own Call-ID. 200 calls.

mod common;
use common::*;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// sipp on loopback for these tests (see `common::sipp_command`).
fn sipp(args: &[&str]) -> Command {
    sipp_command(args, "60s")
}

const CFG: &str = r#"
listen=udp:127.0.0.1:5060
children=2
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "siputils.so"
loadmodule "topoh.so"
modparam("topoh", "mask_key", "e2e-key")
modparam("topoh", "mask_callid", 1)

request_route {
    if (has_totag()) {
        if (loose_route()) {
            t_relay();
        }
        exit;
    }
    record_route();
    t_relay();
}
"#;

/// sipp's error logs and the tail of its screen, for a failure message.
fn evidence(dir: &std::path::Path, runs: &[&Bounded]) -> String {
    let mut s = String::new();
    for r in runs {
        let out = r.output();
        let tail: Vec<&str> = out.lines().rev().take(30).collect();
        s.push_str(&format!("--- {}\n", r.what));
        for l in tail.into_iter().rev() {
            s.push_str(l);
            s.push('\n');
        }
    }
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.ends_with("_errors.log") {
            let t = std::fs::read_to_string(e.path()).unwrap_or_default();
            s.push_str(&format!("--- {name}\n{}\n", &t[..t.len().min(4000)]));
        }
    }
    s
}

#[test]
fn sipp_calls_through_topoh_see_only_the_proxy() {
    assert!(
        have_sipp(),
        "sipp is not installed (apt-get install sip-tester)"
    );
    let server = Sipvm::start(CFG, &[]);
    let dir = Scratch::new();
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sipp");
    for f in ["topoh-caller.xml", "topoh-callee.xml"] {
        std::fs::copy(src.join(f), dir.path().join(f)).unwrap();
    }
    let callee_port = free_port();
    let cp = callee_port.to_string();
    let mut callee = Bounded::spawn(
        sipp(&["-sf", "topoh-callee.xml", "-p", &cp, "-m", "200"]),
        dir.path(),
        "callee",
    );
    assert!(
        wait_udp_bound(callee_port, Duration::from_secs(5)),
        "callee sipp did not bind\n{}",
        callee.output()
    );
    let caller_port = free_port().to_string();
    let target = format!("127.0.0.1:{}", server.port);
    let callee_addr = format!("127.0.0.1:{callee_port}");
    let mut caller = Bounded::spawn(
        sipp(&[
            "-sf",
            "topoh-caller.xml",
            &target,
            "-key",
            "callee",
            &callee_addr,
            "-p",
            &caller_port,
            "-m",
            "200",
            "-r",
            "100",
        ]),
        dir.path(),
        "caller",
    );
    let st = caller.wait(Duration::from_secs(75));
    let cst = callee.wait(Duration::from_secs(10));
    let ev = || {
        format!(
            "{}\n--- sipvm\n{}",
            evidence(dir.path(), &[&caller, &callee]),
            server.log_text()
        )
    };
    let st = st.unwrap_or_else(|| panic!("caller did not finish\n{}", ev()));
    assert!(st.success(), "caller: {st}\n{}", ev());
    assert_eq!(
        sipp_totals(&caller.output()),
        (Some(200), Some(0)),
        "{}",
        ev()
    );
    let cst = cst.unwrap_or_else(|| panic!("callee did not finish\n{}", ev()));
    assert!(cst.success(), "callee: {cst}\n{}", ev());
    assert_eq!(
        sipp_totals(&callee.output()),
        (Some(200), Some(0)),
        "{}",
        ev()
    );
}
