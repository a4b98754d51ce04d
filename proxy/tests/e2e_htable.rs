//! htable on the real binary: 10-ipban-htable.cfg's flood ban (with short expiries), the
//! `htable.*` commands of kamcmd-transcript.txt replayed with `sipvm cmd`, tables surviving
//! `route.reload`, the file store, and malformed definitions refused at start.

mod common;
use common::*;
use sipvm_rpc::client;
use sipvm_rpc::Value;
use std::process::Command;
use std::time::{Duration, Instant};

fn cmd(url: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_sipvm"))
        .args(["cmd", "-s", url])
        .args(args)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

/// One request from `peer`; its reply's status, or `None` when nothing came within `wait`.
fn ask(peer: &Peer, server: &Sipvm, id: &str, wait: Duration) -> Option<u16> {
    let req = peer.request("OPTIONS", "sip:ban@127.0.0.1", id, "");
    peer.send(server.addr, &req);
    let (m, _) = peer.recv(wait)?;
    status(&m)
}

fn rpc_line(port: u16) -> String {
    format!("children=2\nrpc_listen=\"127.0.0.1:{port}\"")
}

#[test]
fn ipban_bans_a_flood_until_deleted_or_expired() {
    let rpc = free_port();
    let server = Sipvm::example(
        "10-ipban-htable.cfg",
        &[
            ("children=2", rpc_line(rpc)),
            ("autoexpire=300", "autoexpire=2".into()),
            ("autoexpire=10", "autoexpire=2".into()),
        ],
    );
    let url = format!("http://127.0.0.1:{rpc}/RPC");
    let peer = Peer::new();
    let wait = Duration::from_secs(2);
    for i in 0..20 {
        assert_eq!(
            ask(&peer, &server, &format!("ok-{i}"), wait),
            Some(200),
            "#{i}"
        );
    }
    assert_eq!(ask(&peer, &server, "ban", wait), Some(403));
    let quiet = Duration::from_millis(400);
    assert_eq!(
        ask(&peer, &server, "silent", quiet),
        None,
        "banned: no reply"
    );

    let dump = client::call(&url, "htable.dump", vec!["ipban".into()])
        .unwrap()
        .unwrap();
    let items = &dump[0]["slot"];
    assert_eq!(items[0]["name"], Value::from("127.0.0.1"), "{dump}");
    assert_eq!(items[0]["value"], Value::from(1));
    assert_eq!(items[0]["type"], Value::from("int"));
    let printed = cmd(&url, &["htable.dump", "ipban"]);
    assert!(printed.contains("\t\t\tname: 127.0.0.1\n"), "{printed}");

    // The ban lifted, the source is heard again (its hit count is still over 20: banned anew).
    assert_eq!(
        cmd(&url, &["htable.delete", "ipban", "127.0.0.1"]),
        "Ok. Key deleted.\n"
    );
    assert_eq!(ask(&peer, &server, "lifted", wait), Some(403));
    assert_eq!(ask(&peer, &server, "silent-2", quiet), None);

    // Both tables expire their items after 2 s (whole seconds: gone within 3 s).
    let start = Instant::now();
    std::thread::sleep(Duration::from_millis(3200));
    assert_eq!(ask(&peer, &server, "expired", wait), Some(200));
    assert!(start.elapsed() < Duration::from_secs(10));
    let dump = client::call(&url, "htable.dump", vec!["ipban".into()])
        .unwrap()
        .unwrap();
    assert_eq!(dump, Value::Array(vec![]));
    assert!(server.log_text().contains("banned source 127.0.0.1"));
}

/// The sections of kamcmd-transcript.txt: (command, printed output).
fn transcript() -> Vec<(String, String)> {
    let path = shared().join("testdata/kamailio-5.6/kamcmd-transcript.txt");
    let text = std::fs::read_to_string(path).unwrap();
    text.split("$ kamcmd ")
        .skip(1)
        .map(|part| {
            let (command, rest) = part.split_once('\n').unwrap_or((part, ""));
            let out = &rest[..rest.find("[rc=").unwrap_or(rest.len())];
            (command.to_string(), out.to_string())
        })
        .collect()
}

/// The transcripts' tables, with the RPC server on `rpc`. Kamailio lists the last defined
/// first (students, ipban).
fn transcript_cfg(rpc: u16) -> String {
    format!(
        "listen=udp:127.0.0.1:5060\nrpc_listen=\"127.0.0.1:{rpc}\"\nloadmodule \"sl.so\"\n\
         loadmodule \"htable.so\"\n\
         modparam(\"htable\", \"htable\", \"ipban=>size=8;autoexpire=300;\")\n\
         modparam(\"htable\", \"htable\", \"students=>size=4;\")\n\
         request_route {{\n    sl_send_reply(\"200\", \"OK\");\n}}\n"
    )
}

#[test]
fn kamcmd_transcript_htable_commands_print_alike() {
    let rpc = free_port();
    let cfg = transcript_cfg(rpc);
    let _server = Sipvm::start(&cfg, &[]);
    let url = format!("http://127.0.0.1:{rpc}/RPC");
    let mut n = 0;
    for (command, want) in transcript() {
        if !command.starts_with("htable.") {
            continue;
        }
        let args: Vec<&str> = command.split(' ').collect();
        assert_eq!(cmd(&url, &args), want, "kamcmd {command}");
        n += 1;
    }
    assert!(n >= 10, "{n} htable commands in the transcript");
}

/// The htable requests of jsonrpc-transcript.txt and Kamailio's replies to them.
fn jsonrpc_htable() -> Vec<(Value, Value)> {
    let path = shared().join("testdata/kamailio-5.6/jsonrpc-transcript.txt");
    let text = format!("\n{}", std::fs::read_to_string(path).unwrap());
    let mut out = Vec::new();
    for part in text.split("\n> ").skip(1) {
        let (req, reply) = part.split_once('\n').unwrap_or((part, ""));
        let (Ok(req), Ok(reply)) = (
            serde_json::from_str::<Value>(req),
            serde_json::from_str::<Value>(reply),
        ) else {
            continue; // not JSON, or Kamailio sent nothing back
        };
        if req["method"]
            .as_str()
            .is_some_and(|m| m.starts_with("htable."))
        {
            out.push((req, reply));
        }
    }
    out
}

#[test]
fn jsonrpc_transcript_htable_replies_are_kamailios() {
    let rpc = free_port();
    let cfg = transcript_cfg(rpc);
    let _server = Sipvm::start(&cfg, &[]);
    let url = format!("http://127.0.0.1:{rpc}/RPC");
    // The state the transcript's session found: bob set by the kamcmd session before it.
    assert_eq!(
        cmd(&url, &["htable.seti", "students", "bob", "42"]),
        "Ok. Key set to new value.\n"
    );
    let pairs = jsonrpc_htable();
    assert!(pairs.len() >= 4, "{pairs:?}");
    for (req, want) in pairs {
        let (status, body) = client::post(&url, req.to_string().as_bytes()).unwrap();
        assert_eq!(status, 200);
        let got: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(got, want, "{req}");
    }
}

fn students_cfg(rpc: u16, extra: &str) -> String {
    format!(
        "listen=udp:127.0.0.1:5060\nrpc_listen=\"127.0.0.1:{rpc}\"\nloadmodule \"sl.so\"\n\
         loadmodule \"pv.so\"\nloadmodule \"htable.so\"\n\
         modparam(\"htable\", \"htable\", \"students=>size=4;\")\n{extra}\
         request_route {{\n    $sht(students=>$rU) = $sht(students=>$rU) + 1;\n    \
         sl_send_reply(\"200\", \"$sht(students=>$rU)\");\n}}\n"
    )
}

#[test]
fn tables_survive_route_reload_and_new_ones_are_added() {
    let rpc = free_port();
    let server = Sipvm::start(&students_cfg(rpc, ""), &[]);
    let url = format!("http://127.0.0.1:{rpc}/RPC");
    let peer = Peer::new();
    for _ in 0..3 {
        let req = peer.request("OPTIONS", "sip:carol@127.0.0.1", "c", "");
        peer.send(server.addr, &req);
        peer.recv(Duration::from_secs(2)).unwrap();
    }
    // A changed definition of students (kept as it runs) and a new table.
    let next = students_cfg(
        rpc,
        "modparam(\"htable\", \"htable\", \"extra=>size=2;\")\n",
    )
    .replace("students=>size=4;", "students=>size=6;autoexpire=1;")
    .replace("127.0.0.1:5060", &format!("127.0.0.1:{}", server.port));
    let file = server.dir.path().join("next.cfg");
    std::fs::write(&file, next).unwrap();
    let r = client::call(
        &url,
        "route.reload",
        vec![file.display().to_string().into()],
    )
    .unwrap();
    assert!(r.is_ok(), "{r:?}\n{}", server.log_text());
    assert_eq!(
        cmd(&url, &["htable.sets", "extra", "k", "v"]),
        "Ok. Key set to new value.\n"
    );
    let got = client::call(&url, "htable.get", vec!["students".into(), "carol".into()])
        .unwrap()
        .unwrap();
    assert_eq!(got["item"]["value"], Value::from(3));
    let list = client::call(&url, "htable.listTables", vec![])
        .unwrap()
        .unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["extra", "students"]);
    assert_eq!(
        list[1]["size"],
        Value::from(16),
        "students keeps its definition"
    );
    let req = peer.request("OPTIONS", "sip:carol@127.0.0.1", "c4", "");
    peer.send(server.addr, &req);
    let (m, _) = peer.recv(Duration::from_secs(2)).unwrap();
    assert!(start_line(&m).ends_with(" 4"), "{}", start_line(&m));
    assert!(server.log_text().contains("definition changed"));
}

#[test]
fn reload_from_the_file_store() {
    let rpc = free_port();
    let dir = Scratch::new();
    let store = dir.path().join("students");
    let header = "id(int,auto) key_name(string) key_type(int) value_type(int) key_value(string) expires(int) \n";
    std::fs::write(
        &store,
        format!("{header}1:alice:0:0:A+:0\n2:bob:0:1:42:0\n"),
    )
    .unwrap();
    let extra = format!(
        "modparam(\"htable\", \"db_url\", \"text://{}\")\n\
         modparam(\"htable\", \"htable\", \"nostore=>size=2;\")\n",
        dir.path().display()
    );
    let cfg = students_cfg(rpc, &extra)
        .replace("students=>size=4;", "students=>size=4;dbtable=students;");
    let _server = Sipvm::start(&cfg, &[]);
    let url = format!("http://127.0.0.1:{rpc}/RPC");
    let get = |k: &str| {
        client::call(&url, "htable.get", vec!["students".into(), k.into()])
            .unwrap()
            .map(|v| v["item"]["value"].clone())
    };
    assert_eq!(get("alice").unwrap(), Value::from("A+"), "loaded at start");
    assert_eq!(get("bob").unwrap(), Value::from(42));
    std::fs::write(&store, format!("{header}1:carol:0:1:7:0\n")).unwrap();
    assert_eq!(
        cmd(&url, &["htable.reload", "students"]),
        "Ok. Htable reloaded.\n"
    );
    assert!(get("alice").is_err());
    assert_eq!(get("carol").unwrap(), Value::from(7));
    // A malformed file changes nothing and says which line is wrong.
    std::fs::write(&store, format!("{header}1:dave:0:1:7:0\n2:eve:0:1:x:0\n")).unwrap();
    let out = cmd(&url, &["htable.reload", "students"]);
    assert!(
        out.starts_with("error: 500 - Htable reload failed: "),
        "{out}"
    );
    assert!(out.contains("students:3:"), "{out}");
    assert_eq!(get("carol").unwrap(), Value::from(7));
    assert!(get("dave").is_err());
    assert_eq!(
        cmd(&url, &["htable.reload", "nostore"]),
        "error: 500 - No database htable\n"
    );
    // htable.store writes the live items back.
    assert_eq!(
        cmd(&url, &["htable.seti", "students", "zed", "9"]),
        "Ok. Key set to new value.\n"
    );
    assert_eq!(
        cmd(&url, &["htable.store", "students"]),
        "Ok. Htable successfully stored to DB.\n"
    );
    let text = std::fs::read_to_string(&store).unwrap();
    assert!(text.contains(":zed:0:1:9:0\n"), "{text}");
}

#[test]
fn reload_without_a_store_is_kamailios_error() {
    let rpc = free_port();
    let _server = Sipvm::start(&students_cfg(rpc, ""), &[]);
    let url = format!("http://127.0.0.1:{rpc}/RPC");
    assert_eq!(
        cmd(&url, &["htable.reload", "students"]),
        "error: 500 - No htable db_url\n"
    );
    assert_eq!(
        cmd(&url, &["htable.seti", "students", "n", "notanint"]),
        // Kamailio says "Not enough parameters" here; sipvm names the fault (issue #19).
        "error: 500 - parameter 3 is not a 32-bit integer\n"
    );
    assert_eq!(
        cmd(&url, &["htable.get", "students", "n"]),
        "error: 500 - Key name doesn't exist in htable.\n"
    );
    assert_eq!(
        cmd(&url, &["htable.delete", "students", "n"]),
        "error: 404 - Key not found in htable.\n"
    );
    assert_eq!(
        cmd(&url, &["htable.dump", "nosuch"]),
        "error: 500 - No such htable\n"
    );
}

#[test]
fn malformed_definition_fails_the_start() {
    let dir = Scratch::new();
    let file = dir.path().join("t.cfg");
    let sip = free_port();
    std::fs::write(
        &file,
        format!(
            "listen=udp:127.0.0.1:{sip}\nloadmodule \"sl.so\"\nloadmodule \"htable.so\"\n\
             modparam(\"htable\", \"htable\", \"t=>size=4;colour=red\")\n\
             request_route {{\n    sl_send_reply(\"200\", \"OK\");\n}}\n"
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
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown key \"colour\""), "{err}");
    // `sipvm check` says the same.
    let out = Command::new(env!("CARGO_BIN_EXE_sipvm"))
        .args(["check", "-f"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("error: modparam htable: htable definition \"t=>size=4;colour=red\": unknown key \"colour\""),
        "{err}"
    );
    // A table defined twice is refused too.
    let text = std::fs::read_to_string(&file).unwrap().replace(
        "t=>size=4;colour=red",
        "t=>size=4\")\nmodparam(\"htable\", \"htable\", \"t=>size=2",
    );
    std::fs::write(&file, text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sipvm"))
        .args(["check", "-f"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("htable \"t\" is defined twice"));
}

/// Issue #19: `htable.seti` keeps Kamailio's 32-bit integers: a wider value or a non-number
/// is refused with its own error, and the item keeps its value.
#[test]
fn seti_refuses_what_does_not_fit_32_bits() {
    let rpc = free_port();
    let _server = Sipvm::start(&students_cfg(rpc, ""), &[]);
    let url = format!("http://127.0.0.1:{rpc}/RPC");
    let call = |params: Vec<Value>| {
        let body = serde_json::json!({"jsonrpc": "2.0", "method": "htable.seti", "params": params, "id": 1});
        let (_, b) = client::post(&url, body.to_string().as_bytes()).unwrap();
        serde_json::from_slice::<Value>(&b).unwrap()
    };
    let ok = call(vec!["students".into(), "bob".into(), 2147483647i64.into()]);
    assert_eq!(ok["result"], "Ok. Key set to new value.", "{ok}");
    for bad in [Value::from(2147483648i64), Value::from("twelve")] {
        let r = call(vec!["students".into(), "bob".into(), bad.clone()]);
        let msg = r["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(msg.contains("not a 32-bit integer"), "{bad}: {r}");
    }
    let got = cmd(&url, &["htable.get", "students", "bob"]);
    assert!(got.contains("2147483647"), "{got}");
}
