//! acc and dialog on the real binary, with sipp: an OPTIONS accounted by `acc_log_request`, a
//! missed call (486 through a failure route), then three calls through a record-routing
//! stateful proxy (tests/sipp/dlg-*.xml): one the caller ends (with `dlg.list`,
//! `dlg.stats_active` and a reload while it runs: the BYE still ends the dialog), one whose
//! dialog `dlg_flag` makes, ended by `dlg.end_dlg` (BYEs to both sides), one ended by
//! `dlg_bye("all")` in the script, one ended by its dialog timeout (timeout route, BYEs).
//! The acc records must be Kamailio 5.6.3's for the same traffic: tests/golden/acc_records.txt
//! (see acc_records.md; `SIPVM_BLESS=1` rewrites it). A second test runs
//! tests/data/acc_dialog/acc_request.cfg (acc_request, time_mode 2, reason_from_hf and the
//! dialog parameters sipvm honours) as Kamailio ran it: tests/golden/acc_request_records.txt
//! (see acc_request_records.md).

mod common;
use common::*;
use sipvm_rpc::client;
use sipvm_rpc::Value;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

fn cfg(rpc: u16, tag: &str) -> String {
    format!(
        r#"
listen=udp:127.0.0.1:5060
children=2
rpc_listen="127.0.0.1:{rpc}"
loadmodule "tm.so"
loadmodule "tmx.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "siputils.so"
loadmodule "textops.so"
loadmodule "xlog.so"
loadmodule "acc.so"
loadmodule "dialog.so"
modparam("acc", "early_media", 0)
modparam("acc", "report_cancels", 0)
modparam("acc", "detect_direction", 0)
modparam("acc", "log_flag", 1)
modparam("acc", "log_missed_flag", 2)
modparam("acc", "log_extra", "src_user=$fU;src_domain=$fd;src_ip=$si;dst_ouser=$tU;dst_user=$rU;dst_domain=$rd")
modparam("acc", "failed_transaction_flag", 3)
modparam("dialog", "default_timeout", 30)
modparam("dialog", "dlg_flag", 4)
modparam("dialog", "profiles_with_value", "caller")
modparam("dialog", "profiles_no_value", "calls")

request_route {{
    if (has_totag()) {{
        if (loose_route()) {{
            if (is_method("BYE")) {{ setflag(1); setflag(3); }}
            xlog("L_INFO", "{tag} $rm dlg_state=$dlg(state) status=$DLG_status count=$DLG_count\n");
            t_relay();
            if (is_method("ACK") && $dlg(to_uri) =~ "^sip:bye@") {{
                xlog("L_INFO", "dlg_bye $dlg(h_entry):$dlg(h_id) rc=$rc\n");
                dlg_bye("all");
            }}
            exit;
        }}
        if (is_method("ACK")) {{ if (t_check_trans()) {{ t_relay(); }} exit; }}
        sl_send_reply("404", "Not here");
        exit;
    }}
    if (is_method("OPTIONS")) {{
        setflag(1);
        acc_log_request("options comment");
        sl_send_reply("200", "OK");
        exit;
    }}
    if (is_method("INVITE")) {{
        setflag(1); setflag(2); setflag(3);
        if ($rU == "tmo") {{ $dlg_ctx(timeout_bye) = 1; $dlg_ctx(timeout_route) = "DLGTO"; }}
        # The call ended over RPC gets its dialog from dlg_flag, the others from dlg_manage().
        if ($rU == "end") {{ setflag(4); }} else {{ dlg_manage(); }}
        if ($rU == "tmo") {{ dlg_set_timeout("2"); }}
        set_dlg_profile("calls");
        set_dlg_profile("caller", "$fU");
        $dlg_var(x) = "vx";
        if (is_in_profile("caller", "$fU")) {{ xlog("L_INFO", "in caller profile $dlg(callid)\n"); }}
        if ($rU == "busy") {{ t_on_failure("F"); }}
    }}
    record_route();
    t_relay();
}}
route[DLGTO] {{ xlog("L_INFO", "dlg timeout route $ci $dlg(state) $rm\n"); }}
failure_route[F] {{ xlog("L_INFO", "failure $T_reply_code\n"); }}
"#
    )
}

fn rpc(url: &str, method: &str, params: Vec<Value>) -> Value {
    client::call(url, method, params)
        .unwrap()
        .unwrap_or_else(|e| panic!("{method}: {} {}", e.code, e.message))
}

/// A request with the headers of the Kamailio run (fixed tags and Call-ID).
fn fixed_request(peer: &Peer, method: &str, ruri: &str, call_id: &str) -> Vec<u8> {
    format!(
        "{method} {ruri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{p};branch=z9hG4bK{call_id}\r\n\
         From: <sip:alice@example.com>;tag=ftag1\r\nTo: <sip:bob@example.org>\r\n\
         Call-ID: {call_id}\r\nCSeq: 1 {method}\r\nContact: <sip:alice@127.0.0.1:{p}>\r\n\
         Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
        p = peer.port
    )
    .into_bytes()
}

/// A reply of the callee to `req` (Vias, Record-Route, From, To with its tag, Call-ID, CSeq).
fn callee_reply(req: &[u8], code: u16, reason: &str) -> Vec<u8> {
    let mut out = format!("SIP/2.0 {code} {reason}\r\n");
    for line in head_lines(req) {
        let name = line.split(':').next().unwrap_or("").trim();
        if ["via", "record-route", "from", "call-id", "cseq"]
            .contains(&name.to_ascii_lowercase().as_str())
        {
            out.push_str(line);
            out.push_str("\r\n");
        } else if name.eq_ignore_ascii_case("to") {
            out.push_str(&format!("{line};tag=calleetag\r\n"));
        }
    }
    out.push_str("Content-Length: 0\r\n\r\n");
    out.into_bytes()
}

/// Kamailio's record texts in the log, volatile fields normalised.
fn records(log: &str) -> String {
    let ts = regex::Regex::new(r"timestamp=\d+").unwrap();
    let cid = regex::Regex::new(r"call_id=1-\d+@127\.0\.0\.1").unwrap();
    let tag = regex::Regex::new(r"to_tag=\d+-1;").unwrap();
    let mut out = String::new();
    for l in log.lines() {
        let Some(i) = l.find("ACC: ") else { continue };
        let r = l[i..].trim_end();
        let r = ts.replace(r, "timestamp=T");
        let r = cid.replace(&r, "call_id=1-SIPP@127.0.0.1");
        let r = tag.replace(&r, "to_tag=SIPP-1;");
        out.push_str(&r);
        out.push('\n');
    }
    out
}

fn wait_for(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn sipp(args: &[&str]) -> Command {
    sipp_command(args, "30s")
}

/// The callee and caller sipps of one call; the caller's `-s` user picks the script's branch.
fn call(
    dir: &Scratch,
    server: &Sipvm,
    caller_sf: &str,
    user: &str,
    pause: &str,
) -> (Bounded, Bounded) {
    let callee_port = free_port();
    let cp = callee_port.to_string();
    let callee = Bounded::spawn(
        sipp(&["-sf", "dlg-callee.xml", "-p", &cp, "-m", "1"]),
        dir.path(),
        "callee",
    );
    assert!(
        wait_udp_bound(callee_port, Duration::from_secs(5)),
        "callee sipp did not bind"
    );
    let target = format!("127.0.0.1:{callee_port}");
    let proxy = server.addr.to_string();
    let caller = Bounded::spawn(
        sipp(&[
            "-sf", caller_sf, "-key", "callee", &target, "-s", user, "-m", "1", "-d", pause, &proxy,
        ]),
        dir.path(),
        "caller",
    );
    (callee, caller)
}

fn finished(mut callee: Bounded, mut caller: Bounded, what: &str) {
    let a = caller.wait(Duration::from_secs(30));
    let b = callee.wait(Duration::from_secs(30));
    assert!(
        a.is_some_and(|s| s.success()) && b.is_some_and(|s| s.success()),
        "{what}: sipp failed\n--- caller\n{}\n--- callee\n{}",
        caller.output(),
        callee.output()
    );
}

fn only_dialog(url: &str) -> Value {
    let l = rpc(url, "dlg.list", vec![]);
    assert_eq!(l.as_array().map(Vec::len), Some(1), "{l}");
    l[0].clone()
}

#[test]
fn acc_records_match_kamailio_and_dialogs_follow_and_end_calls() {
    require_sipp();
    let rpc_port = free_port();
    let server = Sipvm::start(&cfg(rpc_port, "indlg"), &[]);
    let url = format!("http://127.0.0.1:{rpc_port}/RPC");
    let dir = Scratch::new();
    for f in ["dlg-caller.xml", "dlg-caller-ended.xml", "dlg-callee.xml"] {
        sipp_scenario(dir.path(), f);
    }

    // acc_log_request on an OPTIONS.
    let phone = Peer::new();
    let ruri = format!("sip:bob@127.0.0.1:{}", server.port);
    phone.send(server.addr, &fixed_request(&phone, "OPTIONS", &ruri, "c1"));
    let (m, _) = phone.recv(WAIT).expect("200 to OPTIONS");
    assert_eq!(status(&m), Some(200));

    // A missed call: the callee answers 486; the failure route sees it.
    let callee = Peer::new();
    let ruri = format!("sip:busy@127.0.0.1:{}", callee.port);
    phone.send(server.addr, &fixed_request(&phone, "INVITE", &ruri, "m1"));
    let (inv, from) = callee.recv(WAIT).expect("INVITE at the callee");
    callee.send(from, &callee_reply(&inv, 180, "Ringing"));
    callee.send(from, &callee_reply(&inv, 486, "Busy Here Now"));
    let mut codes = Vec::new();
    while let Some((m, _)) = phone.recv(WAIT) {
        codes.push(status(&m).unwrap_or(0));
        if codes.last() == Some(&486) {
            break;
        }
    }
    assert_eq!(codes.last(), Some(&486), "{codes:?}");
    let ack = String::from_utf8(fixed_request(&phone, "ACK", &ruri, "m1"))
        .unwrap()
        .replace(
            "To: <sip:bob@example.org>",
            "To: <sip:bob@example.org>;tag=calleetag",
        );
    phone.send(server.addr, ack.as_bytes());
    wait_for("the failure route", WAIT, || {
        server.log_text().contains("failure 486")
    });
    assert!(
        rpc(&url, "dlg.list", vec![]).as_array().unwrap().is_empty(),
        "a failed call has no dialog"
    );

    // A call the caller ends, with a reload while it runs.
    let (callee_run, caller_run) = call(&dir, &server, "dlg-caller.xml", "callee", "2500");
    wait_for("the confirmed dialog", Duration::from_secs(5), || {
        rpc(&url, "dlg.list", vec![])
            .as_array()
            .and_then(|l| l.first().map(|d| d["state"] == 4))
            == Some(true)
    });
    let d = only_dialog(&url);
    assert_eq!(d["caller"]["tag"], "1", "{d}");
    assert_eq!(d["caller"]["cseq"], "1", "{d}");
    assert_eq!(d["callee"]["cseq"], "0", "{d}");
    assert_eq!(d["lifetime"], 30, "{d}");
    assert_eq!(
        d["profiles"],
        serde_json::json!([{"caller": "caller"}, "calls"]),
        "{d}"
    );
    assert_eq!(d["variables"], serde_json::json!([{"x": "vx"}]), "{d}");
    assert_eq!(d["caller"]["socket"], format!("udp:{}", server.addr), "{d}");
    assert!(
        d["callee"]["contact"]
            .as_str()
            .unwrap()
            .starts_with("sip:callee@127.0.0.1:"),
        "{d}"
    );
    let stats = rpc(&url, "dlg.stats_active", vec![]);
    assert_eq!(
        stats,
        serde_json::json!({"starting": 0, "connecting": 0, "answering": 0, "ongoing": 1, "all": 1})
    );
    assert_eq!(rpc(&url, "dlg.profile_get_size", vec!["calls".into()]), 1);
    assert_eq!(
        rpc(
            &url,
            "dlg.profile_get_size",
            vec!["caller".into(), "caller".into()]
        ),
        1
    );
    assert_eq!(
        rpc(
            &url,
            "dlg.profile_get_size",
            vec!["caller".into(), "nobody".into()]
        ),
        0
    );
    assert_eq!(
        rpc(&url, "dlg.profile_list", vec!["calls".into()])[0]["h_id"],
        d["h_id"]
    );
    let e = client::call(&url, "dlg.profile_get_size", vec!["nope".into()])
        .unwrap()
        .unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        (404, "Profile not found: nope")
    );
    let reloaded = cfg(rpc_port, "reloaded").replace("127.0.0.1:5060", &server.addr.to_string());
    std::fs::write(server.cfg_path(), reloaded).unwrap();
    assert!(server.signal("HUP"));
    wait_for("the reload", WAIT, || {
        server.log_text().contains("now generation 2")
    });
    assert!(
        !only_dialog(&url).is_null(),
        "the dialog outlives the reload"
    );
    finished(callee_run, caller_run, "caller ends");
    wait_for("the dialog to go", WAIT, || {
        rpc(&url, "dlg.list", vec![]).as_array().unwrap().is_empty()
    });
    let log = server.log_text();
    assert!(
        log.contains("indlg ACK dlg_state=4 status=4 count=1"),
        "{log}"
    );
    assert!(
        log.contains("reloaded BYE dlg_state=5 status=5 count=0"),
        "the reloaded script sees the BYE end the dialog\n{log}"
    );

    // dlg.end_dlg (on a dialog made by dlg_flag): sipvm sends the BYEs, both sides answer.
    let (callee_run, caller_run) = call(&dir, &server, "dlg-caller-ended.xml", "end", "0");
    wait_for("the confirmed dialog", Duration::from_secs(5), || {
        rpc(&url, "dlg.list", vec![])
            .as_array()
            .and_then(|l| l.first().map(|d| d["state"] == 4))
            == Some(true)
    });
    let d = only_dialog(&url);
    assert_eq!(
        d["to_uri"].as_str().map(|u| u.starts_with("sip:end@")),
        Some(true),
        "{d}"
    );
    assert_eq!(
        d["profiles"],
        serde_json::json!([]),
        "set_dlg_profile ran before the dialog"
    );
    let e = client::call(&url, "dlg.end_dlg", vec![1.into(), 1.into()]).unwrap();
    if d["h_entry"] != 1 || d["h_id"] != 1 {
        let e = e.unwrap_err();
        assert_eq!((e.code, e.message.as_str()), (404, "Dialog not found"));
    }
    rpc(
        &url,
        "dlg.end_dlg",
        vec![d["h_entry"].clone(), d["h_id"].clone()],
    );
    finished(callee_run, caller_run, "dlg.end_dlg");

    // dlg_bye("all") from the script, on the ACK.
    let (callee_run, caller_run) = call(&dir, &server, "dlg-caller-ended.xml", "bye", "0");
    finished(callee_run, caller_run, "dlg_bye");
    wait_for("the dialog to go", WAIT, || {
        rpc(&url, "dlg.list", vec![]).as_array().unwrap().is_empty()
    });

    // A dialog timeout (dlg_set_timeout 2 s): the timeout route, then BYEs both ways.
    let (callee_run, caller_run) = call(&dir, &server, "dlg-caller-ended.xml", "tmo", "0");
    finished(callee_run, caller_run, "timeout");
    wait_for("the dialogs to go", Duration::from_secs(15), || {
        rpc(&url, "dlg.list", vec![]).as_array().unwrap().is_empty()
    });
    let stats = rpc(&url, "dlg.stats_active", vec![]);
    assert_eq!(stats["all"], 0, "{stats}");
    let log = server.log_text();
    assert!(log.contains("dlg timeout route 123 4 OPTIONS"), "{log}");

    let got = records(&log);
    let golden = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/acc_records.txt");
    if std::env::var_os("SIPVM_BLESS").is_some_and(|v| !v.is_empty() && v != "0") {
        std::fs::write(&golden, &got).unwrap();
    }
    let want = std::fs::read_to_string(&golden).unwrap();
    assert_eq!(got, want, "acc records differ from Kamailio's\n{log}");
}

/// The acc records and the script's `dlgtest` lines, volatile fields normalised.
fn request_records(log: &str) -> String {
    let ts = regex::Regex::new(r"timestamp=\d+").unwrap();
    let ms = regex::Regex::new(r"t_ms=\d+\.\d{3}").unwrap();
    let mut out = String::new();
    for l in log.lines() {
        let Some(i) = l.find("ACC: ").or_else(|| l.find("dlgtest")) else {
            continue;
        };
        let r = ts.replace(l[i..].trim_end(), "timestamp=T");
        out.push_str(&ms.replace(&r, "t_ms=T.MMM"));
        out.push('\n');
    }
    out
}

#[test]
fn acc_request_time_mode_and_dialog_parameters_match_kamailio() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let cfg = std::fs::read_to_string(dir.join("tests/data/acc_dialog/acc_request.cfg")).unwrap();
    let server = Sipvm::start(&cfg.replace("PORT", "5060"), &[]);
    let phone = Peer::new();
    let ruri = format!("sip:bob@127.0.0.1:{}", server.port);
    phone.send(server.addr, &fixed_request(&phone, "OPTIONS", &ruri, "r1"));
    let (m, _) = phone.recv(WAIT).expect("200 to OPTIONS");
    assert_eq!(status(&m), Some(200));

    let callee = Peer::new();
    let ruri = format!("sip:busy@127.0.0.1:{}", callee.port);
    phone.send(server.addr, &fixed_request(&phone, "INVITE", &ruri, "r2"));
    let (inv, from) = callee.recv(WAIT).expect("INVITE at the callee");
    callee.send(from, &callee_reply(&inv, 180, "Ringing"));
    let busy = String::from_utf8(callee_reply(&inv, 486, "Busy Here"))
        .unwrap()
        .replace(
            "Content-Length: 0",
            "Reason: SIP;cause=486;text=\"Busy from callee\"\r\nContent-Length: 0",
        );
    callee.send(from, busy.as_bytes());
    let mut codes = Vec::new();
    while let Some((m, _)) = phone.recv(WAIT) {
        codes.push(status(&m).unwrap_or(0));
        if codes.last() == Some(&486) {
            break;
        }
    }
    assert_eq!(codes.last(), Some(&486), "{codes:?}");
    let ack = String::from_utf8(fixed_request(&phone, "ACK", &ruri, "r2"))
        .unwrap()
        .replace(
            "To: <sip:bob@example.org>",
            "To: <sip:bob@example.org>;tag=calleetag",
        );
    phone.send(server.addr, ack.as_bytes());
    wait_for("the records", WAIT, || {
        server.log_text().contains("ACC: transaction answered")
    });
    let log = server.log_text();
    let got = request_records(&log);
    let golden = dir.join("tests/golden/acc_request_records.txt");
    if std::env::var_os("SIPVM_BLESS").is_some_and(|v| !v.is_empty() && v != "0") {
        std::fs::write(&golden, &got).unwrap();
    }
    let want = std::fs::read_to_string(&golden).unwrap();
    assert_eq!(got, want, "records differ from Kamailio's\n{log}");
}
