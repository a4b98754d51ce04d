//! `sipvm check` and `sipvm disasm` as a user runs them.

mod common;
use std::process::Command;

fn sipvm(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sipvm"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn unimplemented_lists_declared_only_natives_with_their_lines() {
    let dir = common::Scratch::new();
    let cfg = dir.path().join("partly.cfg");
    std::fs::write(
        &cfg,
        "loadmodule \"tm.so\"\nloadmodule \"sl.so\"\nloadmodule \"acc.so\"\n\
         request_route {\n    t_replicate(\"sip:127.0.0.1:5090\");\n    acc_db_request(\"x\", \"acc\");\n\
         \x20   if (!t_relay()) {\n        sl_send_reply(\"500\", \"x\");\n    }\n\
         \x20   t_replicate(\"sip:127.0.0.1:5091\");\n}\n",
    )
    .unwrap();
    let (code, out, err) = sipvm(&["check", "--unimplemented", "-f", cfg.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    let names: Vec<&str> = lines
        .iter()
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    for want in ["tm.t_replicate", "acc.acc_db_request"] {
        assert!(names.contains(&want), "{want} missing from:\n{out}");
    }
    // Implemented natives are not listed.
    for not in ["sl.sl_send_reply", "tm.t_relay"] {
        assert!(!names.contains(&not), "{not} listed:\n{out}");
    }
    let rep = lines
        .iter()
        .find(|l| l.starts_with("tm.t_replicate\t"))
        .unwrap();
    assert!(rep.contains("partly.cfg:5"), "{rep}");
    assert!(rep.contains("partly.cfg:10"), "{rep}");
    // The stateful example needs nothing sipvm lacks any more.
    let ex = common::shared().join("examples/08-round-robin-stateful.cfg");
    let (code, out, err) = sipvm(&["check", "--unimplemented", "-f", ex.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.trim().is_empty(), "{out}");
}

#[test]
fn check_fails_with_diagnostics_and_disasm_lists_routes() {
    let dir = common::Scratch::new();
    let bad = dir.path().join("bad.cfg");
    std::fs::write(&bad, "request_route {\n    nosuch();\n}\n").unwrap();
    let (code, _, err) = sipvm(&["check", "-f", bad.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        err.contains("bad.cfg:2:5: error: unknown function `nosuch`"),
        "{err}"
    );

    let cfg = common::shared().join("examples/04-reply-by-method.cfg");
    let (code, out, err) = sipvm(&["disasm", "-f", cfg.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("request_route:") && out.contains("route[BY_KEYWORD]:"),
        "{out}"
    );
}
