//! The printer against real Kamailio 5.6: each JSON-RPC reply from jsonrpc-transcript.txt,
//! printed, must equal byte for byte what kamcmd printed for the same call in
//! kamcmd-transcript.txt.

use sipvm_rpc::client::render;
use sipvm_rpc::{RpcError, Value};
use std::path::PathBuf;

fn shared() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    if p.exists() {
        p
    } else {
        PathBuf::from("/work/shared")
    }
}

fn read(name: &str) -> String {
    std::fs::read_to_string(shared().join("testdata/kamailio-5.6").join(name)).unwrap()
}

/// (request id, reply) of every answered request in jsonrpc-transcript.txt.
fn jsonrpc_replies() -> Vec<(i64, Result<Value, RpcError>)> {
    let text = format!("\n{}", read("jsonrpc-transcript.txt"));
    let mut out = Vec::new();
    for part in text.split("\n> ").skip(1) {
        let (_req, reply) = part.split_once('\n').unwrap_or((part, ""));
        let Ok(v) = serde_json::from_str::<Value>(reply) else {
            continue; // Kamailio sent nothing back
        };
        let id = v["id"].as_i64().unwrap();
        let r = match v.get("error") {
            Some(e) => Err(RpcError::new(
                e["code"].as_i64().unwrap(),
                e["message"].as_str().unwrap(),
            )),
            None => Ok(v["result"].clone()),
        };
        out.push((id, r));
    }
    out
}

/// What kamcmd printed for the `nth` (from 0) run of `command`.
fn kamcmd_output(command: &str, nth: usize) -> String {
    let text = read("kamcmd-transcript.txt");
    let head = format!("$ kamcmd {command}\n");
    let mut found = text.match_indices(&head).map(|(i, _)| i + head.len());
    let start = found.nth(nth).unwrap_or_else(|| panic!("{command} #{nth}"));
    let rest = &text[start..];
    rest[..rest.find("[rc=").unwrap()].to_string()
}

#[test]
fn printed_replies_match_kamcmd() {
    // jsonrpc id, the kamcmd command with the same method, and which run of it printed the
    // state the JSON-RPC call saw.
    let table: &[(i64, &str, usize)] = &[
        (1, "core.version", 0),
        (2, "htable.get students bob", 0),
        (3, "htable.sets students alice A+", 0),
        (4, "htable.get students alice", 1),
        (5, "cfg.get pstn gw_ip", 1),
        (7, "htable.listTables", 0),
        (8, "dispatcher.list", 0),
    ];
    let replies = jsonrpc_replies();
    for (id, command, nth) in table {
        let reply = &replies.iter().find(|(i, _)| i == id).unwrap().1;
        let method = command.split(' ').next().unwrap();
        let (printed, code) = render(method, reply);
        assert_eq!(printed, kamcmd_output(command, *nth), "id {id}: {command}");
        assert_eq!(code, u8::from(reply.is_err()), "id {id}");
    }
}

#[test]
fn unknown_method_is_printed_in_kamcmds_words() {
    let replies = jsonrpc_replies();
    let reply = &replies.iter().find(|(i, _)| *i == 6).unwrap().1;
    let (printed, code) = render("nosuch.method", reply);
    assert_eq!(printed, kamcmd_output("nosuch.method", 0));
    assert_eq!(code, 1);
}
