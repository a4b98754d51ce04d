//! The RPC server of the real binary: JSON-RPC over HTTP on `rpc_listen`, and `sipvm cmd`
//! printing the reply as kamcmd does.

mod common;
use common::*;
use sipvm_rpc::client;
use sipvm_rpc::Value;
use std::process::Command;

fn start() -> (Sipvm, String) {
    let rpc = free_port();
    let cfg = format!(
        "listen=udp:127.0.0.1:5060\nrpc_listen=\"127.0.0.1:{rpc}\"\nloadmodule \"sl.so\"\n\
         request_route {{\n    sl_send_reply(\"200\", \"OK\");\n}}\n"
    );
    let s = Sipvm::start(&cfg, &[]);
    (s, format!("http://127.0.0.1:{rpc}/RPC"))
}

#[test]
fn core_methods_over_http() {
    let (mut server, url) = start();
    let version = client::call(&url, "core.version", vec![]).unwrap().unwrap();
    let want = format!(
        "sipvm {} ({}/{})",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::ARCH,
        std::env::consts::OS
    );
    assert_eq!(version, Value::from(want));

    let methods = client::call(&url, "system.listMethods", vec![])
        .unwrap()
        .unwrap();
    let names: Vec<&str> = methods
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for m in [
        "core.uptime",
        "core.version",
        "system.listMethods",
        "system.methodHelp",
    ] {
        assert!(names.contains(&m), "{m} in {names:?}");
    }

    // Malformed JSON: -32700 with a null id, and the server goes on serving.
    let (status, body) = client::post(&url, b"not json").unwrap();
    assert_eq!(status, 200);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["error"]["code"], Value::from(-32700));
    assert_eq!(v["id"], Value::Null);
    let fault = client::call(&url, "nosuch", vec![]).unwrap().unwrap_err();
    assert_eq!(
        (fault.code, fault.message.as_str()),
        (500, "Method Not Found")
    );
    let up = client::call(&url, "core.uptime", vec![]).unwrap().unwrap();
    let keys: Vec<&String> = up.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["now", "up_since", "uptime"]);
    assert!(up["uptime"].as_i64().unwrap() >= 0);
    assert!(server.alive());
    assert!(server.stop(), "clean exit:\n{}", server.log_text());
}

/// `Sun Nov 22 10:24:33 2026`
fn is_ctime(s: &str) -> bool {
    let f: Vec<&str> = s.split_whitespace().collect();
    f.len() == 5 && f[3].len() == 8 && f[3].matches(':').count() == 2 && f[4].parse::<u32>().is_ok()
}

#[test]
fn sipvm_cmd_prints_like_kamcmd() {
    let (_server, url) = start();
    let out = Command::new(env!("CARGO_BIN_EXE_sipvm"))
        .args(["cmd", "-s", &url, "core.uptime"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert_eq!(lines[0], "{");
    assert!(
        lines[1].strip_prefix("\tnow: ").is_some_and(is_ctime),
        "{text}"
    );
    assert!(
        lines[2].strip_prefix("\tup_since: ").is_some_and(is_ctime),
        "{text}"
    );
    assert!(
        lines[3]
            .strip_prefix("\tuptime: ")
            .is_some_and(|n| n.parse::<u64>().is_ok()),
        "{text}"
    );
    assert_eq!(lines[4], "}");
    assert!(text.ends_with("}\n"));

    let out = Command::new(env!("CARGO_BIN_EXE_sipvm"))
        .args(["cmd", "-s", &url, "core.version"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8(out.stdout).unwrap().starts_with("sipvm "));

    let out = Command::new(env!("CARGO_BIN_EXE_sipvm"))
        .args(["cmd", "-s", &url, "nosuch.method"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "error: 500 - command nosuch.method not found\n"
    );
}

#[test]
fn explicit_rpc_address_in_use_fails_the_start() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let dir = Scratch::new();
    let file = dir.path().join("t.cfg");
    let sip = free_port();
    std::fs::write(
        &file,
        format!(
            "listen=udp:127.0.0.1:{sip}\nrpc_listen=\"127.0.0.1:{port}\"\nloadmodule \"sl.so\"\nrequest_route {{\n    sl_send_reply(\"200\", \"OK\");\n}}\n"
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sipvm"))
        .args(["run", "-f"])
        .arg(&file)
        .env("SIPVM_LOOPBACK_ONLY", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot listen for RPC"));
}
