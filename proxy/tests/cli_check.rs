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
fn unimplemented_lists_what_sipvm_lacks_with_every_place() {
    let dir = common::Scratch::new();
    let cfg = dir.path().join("partly.cfg");
    std::fs::write(
        &cfg,
        "dns_try_naptr=yes\nloadmodule \"tm.so\"\nloadmodule \"sl.so\"\n\
         loadmodule \"usrloc.so\"\nloadmodule \"registrar.so\"\nloadmodule \"xhttp.so\"\n\
         modparam(\"registrar\", \"xavp_cfg\", \"reg\")\n\
         request_route {\n    t_replicate(\"sip:127.0.0.1:5090\");\n\
         \x20   if (!t_relay()) {\n        sl_send_reply(\"500\", \"x\");\n    }\n\
         \x20   t_replicate(\"sip:127.0.0.1:5091\");\n}\n\
         event_route[xhttp:request] {\n    $var(u) = $hu;\n}\n",
    )
    .unwrap();
    let (code, out, err) = sipvm(&["check", "--unimplemented", "-f", cfg.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    // Each item once, every place it is used, in order of first use; the implemented
    // (t_relay, sl_send_reply) not at all.
    let p = cfg.to_str().unwrap();
    assert_eq!(
        out,
        format!(
            "global\tcore.dns_try_naptr\t{p}:1\n\
             modparam\tregistrar.xavp_cfg\t{p}:7\n\
             function\ttm.t_replicate\t{p}:9, {p}:13\n\
             pseudo-variable\txhttp.hu\t{p}:16\n"
        )
    );
    // stderr has the diagnostics, each with the hint.
    assert!(
        err.contains("Kamailio's module tm has it; sipvm does not implement it yet"),
        "{err}"
    );
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
