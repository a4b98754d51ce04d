//! sipp, an independent SIP implementation, against the real `sipvm run`: its built-in `uac`
//! calls its built-in `uas` through 02-stateless-forward.cfg, and an OPTIONS scenario
//! (tests/sipp/options-uac.xml) pings 03-reply-always.cfg; 1,000 calls each, none failed.

mod common;
use common::*;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

const CALLS: &str = "1000";
/// sipp's own limit on the whole run, and ours on the sipp process (a little longer).
const SIPP_TIMEOUT: &str = "60s";
const PROCESS_LIMIT: Duration = Duration::from_secs(75);

/// Common sipp arguments: loopback, no keyboard, bounded, statistics and errors traced.
fn sipp(args: &[&str]) -> Command {
    let mut c = sipp_command(args, SIPP_TIMEOUT);
    c.arg("-trace_stat");
    c
}

/// What sipp left in its folder (error and statistics traces) and printed, for a failure.
fn evidence(dir: &std::path::Path, runs: &[&Bounded], server: &Sipvm) -> String {
    let mut s = String::new();
    for r in runs {
        let out = r.output();
        // sipp prints its first errors before the screens, then the final screen.
        let errors: Vec<&str> = out
            .lines()
            .filter(|l| {
                let l = l.to_ascii_lowercase();
                l.contains("error") || l.contains("fail") || l.contains("unexpected")
            })
            .take(40)
            .collect();
        let tail: String = out
            .lines()
            .rev()
            .take(40)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n");
        let tail = format!("{}\n...\n{tail}", errors.join("\n"));
        s.push_str(&format!("--- {}\n{tail}\n", r.what));
    }
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with("_errors.log") {
                let t = std::fs::read_to_string(e.path()).unwrap_or_default();
                let head: String = t.chars().take(4000).collect();
                s.push_str(&format!("--- {name}\n{head}\n"));
            }
        }
    }
    let log = server.log_text();
    let tail: String = log
        .chars()
        .rev()
        .take(3000)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    s.push_str(&format!("--- sipvm log (tail)\n{tail}\n"));
    s
}

#[test]
fn sipp_uac_calls_uas_through_stateless_forward() {
    require_sipp();
    let uas_port = free_port();
    let server = Sipvm::example(
        "02-stateless-forward.cfg",
        &[
            ("127.0.0.1:5080", format!("127.0.0.1:{uas_port}")),
            ("listen=udp:", "children=2\nlisten=udp:".to_string()),
        ],
    );
    assert!(
        server.log_text().contains("2 workers"),
        "{}",
        server.log_text()
    );
    let dir = Scratch::new();
    let port = uas_port.to_string();
    let mut uas = Bounded::spawn(
        sipp(&["-sn", "uas", "-p", &port, "-m", CALLS]),
        dir.path(),
        "uas",
    );
    // Wait until the uas has bound its port (looked up in /proc: binding it to probe would
    // race with sipp's own bind).
    assert!(
        wait_udp_bound(uas_port, Duration::from_secs(5)),
        "sipp uas did not bind 127.0.0.1:{uas_port}\n{}",
        uas.output()
    );
    let uac_port = free_port().to_string();
    let target = format!("127.0.0.1:{}", server.port);
    let mut uac = Bounded::spawn(
        sipp(&[
            "-sn", "uac", &target, "-p", &uac_port, "-m", CALLS, "-r", "200",
        ]),
        dir.path(),
        "uac",
    );
    let uac_st = uac.wait(PROCESS_LIMIT);
    let uas_st = uas.wait(Duration::from_secs(10));
    let out = uac.output();
    let ev = || evidence(dir.path(), &[&uac, &uas], &server);
    let st = uac_st.unwrap_or_else(|| panic!("sipp uac did not finish in time\n{}", ev()));
    assert!(
        st.success(),
        "sipp uac: {st} (0 means every call succeeded)\n{}",
        ev()
    );
    assert_eq!(
        sipp_totals(&out),
        (Some(1000), Some(0)),
        "uac totals\n{}",
        ev()
    );
    let st = uas_st.unwrap_or_else(|| panic!("sipp uas did not finish in time\n{}", ev()));
    assert!(st.success(), "sipp uas: {st}\n{}", ev());
    assert_eq!(
        sipp_totals(&uas.output()),
        (Some(1000), Some(0)),
        "uas totals\n{}",
        ev()
    );
}

#[test]
fn sipp_options_against_reply_always() {
    require_sipp();
    let scenario = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sipp/options-uac.xml");
    assert!(scenario.exists(), "{}", scenario.display());
    let server = Sipvm::example("03-reply-always.cfg", &[]);
    let dir = Scratch::new();
    let port = free_port().to_string();
    let target = format!("127.0.0.1:{}", server.port);
    // sipp names its trace files after the scenario file, beside it: use a copy in the
    // scratch folder so the checkout stays clean.
    std::fs::copy(&scenario, dir.path().join("options-uac.xml")).unwrap();
    let sf = "options-uac.xml".to_string();
    let mut uac = Bounded::spawn(
        sipp(&["-sf", &sf, &target, "-p", &port, "-m", CALLS, "-r", "400"]),
        dir.path(),
        "options",
    );
    let st = uac.wait(PROCESS_LIMIT);
    let ev = || evidence(dir.path(), &[&uac], &server);
    let st = st.unwrap_or_else(|| panic!("sipp did not finish in time\n{}", ev()));
    assert!(
        st.success(),
        "sipp: {st} (0 means every request got its 200)\n{}",
        ev()
    );
    assert_eq!(
        sipp_totals(&uac.output()),
        (Some(1000), Some(0)),
        "totals\n{}",
        ev()
    );
}
