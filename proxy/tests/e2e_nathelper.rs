//! nathelper side by side with Kamailio 5.6.3: the requests of `nathelper/cases.txt` go
//! through `nathelper/nathelper.cfg` on the real binary; what it forwards (Request-URI,
//! Contact) and what it logs (every `nat_uac_test` bit, each function's return code, `$du`,
//! `$ru`, the received AVP, `set_alias_to_pv`'s value, `is_rfc1918`) must be what Kamailio
//! forwarded and logged for the same requests (`nathelper/kamailio.txt`, made by
//! `nathelper/record.py`).

mod common;
use common::*;
use std::path::PathBuf;
use std::time::Duration;

fn data(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/nathelper")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn sdp(kind: &str) -> &'static str {
    match kind {
        "priv" => "v=0\r\no=- 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
        "pub" => "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
        "media" => "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\nc=IN IP4 192.168.1.9\r\n",
        _ => "",
    }
}

/// The request of one line of cases.txt (as record.py builds it).
fn request(line: &str, sp: &str) -> (String, Vec<u8>) {
    let f: Vec<&str> = line.split('|').collect();
    let (name, func, contact, via, ruri, body) = (f[0], f[1], f[2], f[3], f[4], sdp(f[5]));
    let via = if via == "-" {
        format!("SIP/2.0/UDP 127.0.0.1:SRCPORT;branch=z9hG4bK-{name}")
    } else {
        via.to_string()
    };
    let mut lines = vec![
        format!("INVITE {ruri} SIP/2.0"),
        format!("Via: {via}"),
        "Max-Forwards: 70".into(),
        "From: <sip:alice@127.0.0.1>;tag=1".into(),
        "To: <sip:bob@127.0.0.1>".into(),
        format!("Call-ID: c-{name}"),
        "CSeq: 1 INVITE".into(),
        format!("X-T: {name}"),
        format!("X-Fn: {func}"),
    ];
    if contact != "-" {
        lines.push(format!("Contact: {contact}"));
    }
    if let Some(extra) = f.get(6) {
        lines.push(extra.replace("\\r\\n", "\r\n"));
    }
    if !body.is_empty() {
        lines.push("Content-Type: application/sdp".into());
    }
    lines.push(format!("Content-Length: {}", body.len()));
    let msg = format!("{}\r\n\r\n{body}", lines.join("\r\n")).replace("SRCPORT", sp);
    (name.to_string(), msg.into_bytes())
}

#[test]
fn nathelper_matches_kamailio() {
    let cap = Peer::new();
    let cfg = data("nathelper.cfg")
        .replace("listen=udp:127.0.0.1:PORT", "listen=udp:127.0.0.1:5060")
        .replace("listen=tcp:127.0.0.1:PORT\n", "");
    let server = Sipvm::start(
        &cfg,
        &[("#!define CAP 21099", format!("#!define CAP {}", cap.port))],
    );
    let phone = Peer::new();
    let sp = phone.port.to_string();
    let mut got = Vec::new();
    for line in data("cases.txt").lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let (name, req) = request(line, &sp);
        phone.send(server.addr, &req);
        let out = match cap.recv(Duration::from_secs(2)) {
            Some((m, _)) => {
                let text = String::from_utf8_lossy(&m).into_owned();
                let keep: Vec<&str> = text
                    .split("\r\n")
                    .filter(|l| l.starts_with("INVITE") || l.starts_with("Contact:"))
                    .collect();
                keep.join(" || ")
            }
            None => "(nothing forwarded)".into(),
        };
        got.push(format!("{name} | {out}").replace(&sp, "SRCPORT"));
    }
    let log = server.log_text();
    for l in log.lines() {
        if let Some(i) = l.find("NAT ").or_else(|| l.find("FN ")) {
            got.push(l[i..].replace(&sp, "SRCPORT"));
        }
    }
    let want: Vec<String> = data("kamailio.txt")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    let diff: Vec<String> = want
        .iter()
        .zip(got.iter())
        .filter(|(w, g)| w != g)
        .map(|(w, g)| format!("kamailio: {w}\n   sipvm: {g}"))
        .collect();
    assert!(
        diff.is_empty() && want.len() == got.len(),
        "{} lines differ (kamailio {} lines, sipvm {}):\n{}",
        diff.len(),
        want.len(),
        got.len(),
        diff.join("\n")
    );
}
