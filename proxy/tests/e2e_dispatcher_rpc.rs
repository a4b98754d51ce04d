//! dispatcher's RPC methods through `sipvm cmd`, against what kamcmd printed: the commands of
//! kamcmd-transcript.txt, the JSON-RPC transcript's `dispatcher.list`, faults and other forms
//! recorded from Kamailio 5.6.3 on loopback.

mod common;
mod dispatcher_common;
use common::*;
use dispatcher_common::*;
use sipvm_rpc::Value;
use std::process::Command;

/// `sipvm cmd` with kamcmd's arguments; its output.
fn cmd(url: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_sipvm"))
        .args(["cmd", "-s", url])
        .args(args)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

/// What kamcmd printed for `command` in kamcmd-transcript.txt.
fn kamcmd(command: &str) -> String {
    let text =
        std::fs::read_to_string(shared().join("testdata/kamailio-5.6/kamcmd-transcript.txt"))
            .unwrap();
    let head = format!("$ kamcmd {command}\n");
    let start = text.find(&head).unwrap_or_else(|| panic!("{command}")) + head.len();
    let rest = &text[start..];
    rest[..rest.find("[rc=").unwrap()].to_string()
}

#[test]
fn transcript_commands_print_what_kamcmd_printed() {
    // The list behind the transcript (Kamailio 5.6.3 prints this file's sets and order).
    let dir = Scratch::new();
    let list = dir.path().join("dispatcher.list");
    write_list(
        &list,
        "1 sip:127.0.0.1:5080 0 0\n1 sip:127.0.0.1:5081 0 0 weight=50\n\
         2 sip:127.0.0.1:5082;transport=udp\n",
    );
    let rpc_port = free_port();
    let text =
        cfg(&list, rpc_port, "").replace("modparam(\"dispatcher\", \"reload_delta\", 0)\n", "");
    let _server = Sipvm::start(&text, &[]);
    let url = format!("http://127.0.0.1:{rpc_port}/RPC");
    // The same list over JSON-RPC: the result of jsonrpc-transcript.txt (id 8).
    let json =
        std::fs::read_to_string(shared().join("testdata/kamailio-5.6/jsonrpc-transcript.txt"))
            .unwrap();
    let head = "> {\"jsonrpc\":\"2.0\",\"method\":\"dispatcher.list\",\"id\":8}\n";
    let start = json.find(head).unwrap() + head.len();
    let end = json[start..].find("\n> ").map_or(json.len(), |e| start + e);
    let want: Value = serde_json::from_str(&json[start..end]).unwrap();
    assert_eq!(
        rpc(&url, "dispatcher.list", vec![]).unwrap(),
        want["result"]
    );
    for command in [
        "dispatcher.list",
        "dispatcher.set_state ip 1 sip:127.0.0.1:5080",
        "dispatcher.reload",
    ] {
        let args: Vec<&str> = command.split(' ').collect();
        assert_eq!(cmd(&url, &args), kamcmd(command), "{command}");
    }
    // Within reload_delta (5 s) Kamailio refuses a second reload.
    assert_eq!(
        cmd(&url, &["dispatcher.reload"]),
        "error: 500 - Ongoing reload\n"
    );
    // Outputs checked against Kamailio 5.6.3 on loopback.
    assert_eq!(
        cmd(
            &url,
            &["dispatcher.set_state", "ip", "1", "sip:127.0.0.1:5099"]
        ),
        "error: 500 - State Update Failed\n"
    );
    assert_eq!(
        cmd(
            &url,
            &["dispatcher.set_state", "x", "1", "sip:127.0.0.1:5080"]
        ),
        "error: 500 - Unknown State Value\n"
    );
    assert_eq!(
        cmd(&url, &["dispatcher.set_state"]),
        "error: 500 - Invalid Parameters\n"
    );
    assert_eq!(
        cmd(&url, &["dispatcher.ping_active"]),
        "{\n\tOldPingState: 1\n}\n"
    );
    assert_eq!(
        cmd(&url, &["dispatcher.ping_active", "0"]),
        "{\n\tNewPingState: 0\n\tOldPingState: 1\n}\n"
    );
    assert_eq!(
        cmd(&url, &["dispatcher.ping_active"]),
        "{\n\tOldPingState: 0\n}\n"
    );
    cmd(&url, &["dispatcher.set_state", "i", "1", "all"]);
    let short = cmd(&url, &["dispatcher.list", "short"]);
    assert!(!short.contains("ATTRS"), "{short}");
    let flags: Vec<&str> = short.lines().filter(|l| l.contains("FLAGS")).collect();
    assert_eq!(
        flags,
        [
            "\t\t\t\t\tFLAGS: AX",
            "\t\t\t\t\tFLAGS: IX",
            "\t\t\t\t\tFLAGS: IX"
        ]
    );
}

/// `dispatcher.list full` as Kamailio 5.6.3 printed it for this list (recorded on loopback).
const KAMAILIO_FULL: &[&str] = &[
    "{\n",
    "\tNRSETS: 2\n",
    "\tRECORDS: {\n",
    "\t\tSET: {\n",
    "\t\t\tID: 2\n",
    "\t\t\tTARGETS: {\n",
    "\t\t\t\tDEST: {\n",
    "\t\t\t\t\tURI: sip:127.0.0.1:5082;transport=udp\n",
    "\t\t\t\t\tFLAGS: AX\n",
    "\t\t\t\t\tPRIORITY: 0\n",
    "\t\t\t\t\tHOST: 127.0.0.1\n",
    "\t\t\t\t\tIPADDR: 127.0.0.1\n",
    "\t\t\t\t\tPORT: 5082\n",
    "\t\t\t\t\tPROTOID: 1\n",
    "\t\t\t\t\tDNSTIME_SEC: 0\n",
    "\t\t\t\t\tDNSTIME_USEC: 0\n",
    "\t\t\t\t}\n",
    "\t\t\t}\n",
    "\t\t}\n",
    "\t\tSET: {\n",
    "\t\t\tID: 1\n",
    "\t\t\tTARGETS: {\n",
    "\t\t\t\tDEST: {\n",
    "\t\t\t\t\tURI: sip:127.0.0.1:5081\n",
    "\t\t\t\t\tFLAGS: AP\n",
    "\t\t\t\t\tPRIORITY: 3\n",
    "\t\t\t\t\tHOST: 127.0.0.1\n",
    "\t\t\t\t\tIPADDR: 127.0.0.1\n",
    "\t\t\t\t\tPORT: 5081\n",
    "\t\t\t\t\tPROTOID: 0\n",
    "\t\t\t\t\tDNSTIME_SEC: 0\n",
    "\t\t\t\t\tDNSTIME_USEC: 0\n",
    "\t\t\t\t\tATTRS: {\n",
    "\t\t\t\t\t\tBODY: weight=50;duid=x;socket=udp:127.0.0.1:5972\n",
    "\t\t\t\t\t\tDUID: x\n",
    "\t\t\t\t\t\tMAXLOAD: 0\n",
    "\t\t\t\t\t\tWEIGHT: 50\n",
    "\t\t\t\t\t\tRWEIGHT: 0\n",
    "\t\t\t\t\t\tSOCKET: udp:127.0.0.1:5972\n",
    "\t\t\t\t\t\tSOCKNAME: <null string>\n",
    "\t\t\t\t\t\tOBPROXY: <null string>\n",
    "\t\t\t\t\t}\n",
    "\t\t\t\t}\n",
    "\t\t\t\tDEST: {\n",
    "\t\t\t\t\tURI: sip:127.0.0.1:5080\n",
    "\t\t\t\t\tFLAGS: AX\n",
    "\t\t\t\t\tPRIORITY: 0\n",
    "\t\t\t\t\tHOST: 127.0.0.1\n",
    "\t\t\t\t\tIPADDR: 127.0.0.1\n",
    "\t\t\t\t\tPORT: 5080\n",
    "\t\t\t\t\tPROTOID: 0\n",
    "\t\t\t\t\tDNSTIME_SEC: 0\n",
    "\t\t\t\t\tDNSTIME_USEC: 0\n",
    "\t\t\t\t}\n",
    "\t\t\t}\n",
    "\t\t}\n",
    "\t}\n",
    "}\n",
];

#[test]
fn full_listing_matches_kamailio() {
    let dir = Scratch::new();
    let list = dir.path().join("dispatcher.list");
    write_list(
        &list,
        "1 sip:127.0.0.1:5080 0 0\n\
         1 sip:127.0.0.1:5081 8 3 weight=50;duid=x;socket=udp:127.0.0.1:5972\n\
         2 sip:127.0.0.1:5082;transport=udp\n",
    );
    let rpc_port = free_port();
    let _server = Sipvm::start(&cfg(&list, rpc_port, ""), &[]);
    let url = format!("http://127.0.0.1:{rpc_port}/RPC");
    assert_eq!(
        cmd(&url, &["dispatcher.list", "full"]),
        KAMAILIO_FULL.concat()
    );
}
