//! "It compiles" means "it runs", on the real binary: a native that fails at run time gives
//! -1 and the script answers (the error logged with its line and counted); a file that uses
//! what sipvm does not implement is refused by `sipvm run` before it binds, and by
//! `route.reload` while the old program keeps serving.

mod common;
use common::*;
use sipvm_rpc::client;
use sipvm_rpc::Value;
use std::process::Command;
use std::time::Duration;

fn cfg(rpc: u16, list: &str) -> String {
    format!(
        "listen=udp:127.0.0.1:5060\nchildren=1\nrpc_listen=\"127.0.0.1:{rpc}\"\n\
         loadmodule \"sl.so\"\nloadmodule \"tm.so\"\nloadmodule \"dispatcher.so\"\n\
         modparam(\"dispatcher\", \"list_file\", \"{list}\")\n\
         request_route {{\n\
             if (!ds_select_dst(\"7\", \"4\")) {{\n\
                 sl_send_reply(\"500\", \"No Set $rc\");\n\
                 exit;\n\
             }}\n\
             sl_send_reply(\"200\", \"OK\");\n\
         }}\n"
    )
}

fn runtime_errors(url: &str) -> u64 {
    let st = client::call(url, "route.status", vec![]).unwrap().unwrap();
    let cur = st["current"].clone();
    st["generations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["generation"] == cur)
        .and_then(|g| g["runtime_errors"].as_u64())
        .unwrap_or_else(|| panic!("{st}"))
}

#[test]
fn a_failing_native_gives_minus_one_and_the_script_answers() {
    let dir = Scratch::new();
    let list = dir.path().join("dispatcher.list");
    std::fs::write(&list, "1 sip:127.0.0.1:5099\n").unwrap();
    let rpc = free_port();
    let server = Sipvm::start(&cfg(rpc, &list.display().to_string()), &[]);
    let url = format!("http://127.0.0.1:{rpc}/RPC");
    let peer = Peer::new();
    for n in 0..2 {
        let req = peer.request("OPTIONS", "sip:x@127.0.0.1", &format!("rt-{n}"), "");
        peer.send(server.addr, &req);
        let (m, _) = peer.recv(Duration::from_secs(2)).expect("a reply");
        // Set 7 does not exist: Kamailio's -1, the false branch, the script's 500.
        assert_eq!(start_line(&m), "SIP/2.0 500 No Set -1", "{}", text(&m));
    }
    assert_eq!(runtime_errors(&url), 2);
    let log = server.log_text();
    assert!(
        log.contains("test.cfg:9: ds_select: destination set [7] not found"),
        "{log}"
    );
}

#[test]
fn run_refuses_an_unimplemented_function_before_binding() {
    let dir = Scratch::new();
    let port = free_port();
    let file = dir.path().join("bad.cfg");
    std::fs::write(
        &file,
        format!(
            "listen=udp:127.0.0.1:{port}\nloadmodule \"tm.so\"\n\
             request_route {{\n    t_replicate(\"sip:127.0.0.1:5099\");\n}}\n"
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sipvm"))
        .args(["run", "-f"])
        .arg(&file)
        .env("SIPVM_LOOPBACK_ONLY", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("bad.cfg:4:5: error: `t_replicate()` is not implemented"),
        "{err}"
    );
    assert!(
        err.contains("Kamailio's module tm has it; sipvm does not implement it yet"),
        "{err}"
    );
    assert!(!err.contains("listening on"), "{err}");
}

#[test]
fn reload_refuses_an_unimplemented_pseudo_variable_and_keeps_serving() {
    let dir = Scratch::new();
    let list = dir.path().join("dispatcher.list");
    std::fs::write(&list, "7 sip:127.0.0.1:5099\n").unwrap();
    let rpc = free_port();
    let server = Sipvm::start(&cfg(rpc, &list.display().to_string()), &[]);
    let url = format!("http://127.0.0.1:{rpc}/RPC");
    let good = std::fs::read_to_string(server.cfg_path()).unwrap();
    let bad = good.replace(
        "sl_send_reply(\"200\", \"OK\");",
        "$hu = \"x\";\n sl_send_reply(\"200\", \"OK\");",
    );
    let bad_file = server.dir.path().join("bad.cfg");
    std::fs::write(&bad_file, bad).unwrap();
    let e = client::call(
        &url,
        "route.reload",
        vec![Value::from(bad_file.display().to_string())],
    )
    .unwrap()
    .unwrap_err();
    assert!(e.message.contains("does not compile"), "{}", e.message);
    assert!(e.message.contains("$hu"), "{}", e.message);
    // The first program still answers.
    let peer = Peer::new();
    let req = peer.request("OPTIONS", "sip:x@127.0.0.1", "rt-reload", "");
    peer.send(server.addr, &req);
    let (m, _) = peer.recv(Duration::from_secs(2)).expect("a reply");
    assert_eq!(start_line(&m), "SIP/2.0 200 OK");
}
