//! sipp through a record-routing stateless proxy: tests/sipp/rr-caller.xml calls
//! tests/sipp/rr-callee.xml through `record_route(); forward();`, with ACK and BYE routed by
//! the learned route set (`has_totag()` + `loose_route()` + `forward()`). The callee checks
//! the Record-Route on the INVITE and that ACK and BYE arrive without the proxy's Route;
//! the caller that the 200 carries it. 1,000 calls, none failed. The same scenarios serve
//! the stateful 08-round-robin-stateful.cfg once transactions exist.

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
loadmodule "rr.so"
loadmodule "siputils.so"

request_route {
    if (has_totag()) {
        if (loose_route()) {
            forward();
        }
        exit;
    }
    record_route();
    forward();
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
fn sipp_calls_route_ack_and_bye_by_the_recorded_route() {
    assert!(
        have_sipp(),
        "sipp is not installed (apt-get install sip-tester)"
    );
    let server = Sipvm::start(CFG, &[]);
    let dir = Scratch::new();
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sipp");
    for f in ["rr-caller.xml", "rr-callee.xml"] {
        std::fs::copy(src.join(f), dir.path().join(f)).unwrap();
    }
    let callee_port = free_port();
    let cp = callee_port.to_string();
    let mut callee = Bounded::spawn(
        sipp(&["-sf", "rr-callee.xml", "-p", &cp, "-m", "1000"]),
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
            "rr-caller.xml",
            &target,
            "-key",
            "callee",
            &callee_addr,
            "-p",
            &caller_port,
            "-m",
            "1000",
            "-r",
            "200",
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
        (Some(1000), Some(0)),
        "{}",
        ev()
    );
    let cst = cst.unwrap_or_else(|| panic!("callee did not finish\n{}", ev()));
    assert!(cst.success(), "callee: {cst}\n{}", ev());
    assert_eq!(
        sipp_totals(&callee.output()),
        (Some(1000), Some(0)),
        "{}",
        ev()
    );
}
