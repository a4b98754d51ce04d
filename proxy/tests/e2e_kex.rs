//! kex (script and branch flags, `$du`, `is_myself`, `pv_printf`, `$sruid`), corex's
//! `append_branch` flags and tmx's `t_is_*_route` on the real binary, side by side with
//! Kamailio 5.6.3: `kex/kex.cfg` driven like `kex/record.py` drove Kamailio must log what
//! Kamailio logged (`kex/kamailio.txt`): branch flags travel with their branch into
//! branch_route and, set there, into the onreply_route of that branch's replies.

mod common;
use common::*;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn data(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/kex")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn req(method: &str, t: &str, port: u16) -> Vec<u8> {
    format!(
        "{method} sip:kex@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-{t}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\n\
         Call-ID: k-{t}\r\nCSeq: 1 {method}\r\nX-T: {t}\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

#[test]
fn kex_flags_and_tmx_routes_match_kamailio() {
    let uas = Peer::new();
    let cfg = data("kex.cfg")
        .replace("MYPORT", "5060")
        .replace("UASPORT", &uas.port.to_string());
    let server = Sipvm::start(&cfg, &[("children=1", "children=1".into())]);
    let phone = Peer::new();
    let mut got = Vec::new();
    for t in ["first", "second"] {
        phone.send(server.addr, &req("OPTIONS", t, phone.port));
        let (m, _) = phone.recv(Duration::from_secs(2)).expect("a reply");
        got.push(format!("{t} {}", start_line(&m)));
    }
    phone.send(server.addr, &req("INVITE", "branch", phone.port));
    let (inv, from) = uas.recv(Duration::from_secs(2)).expect("the INVITE");
    let text = String::from_utf8_lossy(&inv).into_owned();
    let hdrs: Vec<String> = text
        .split("\r\n")
        .filter(|l| {
            ["Via", "From", "To", "Call-ID", "CSeq"].contains(&l.split(':').next().unwrap_or(""))
        })
        .map(|l| {
            if l.starts_with("To:") {
                format!("{l};tag=u")
            } else {
                l.to_string()
            }
        })
        .collect();
    let reply = |code: u16, reason: &str| {
        format!(
            "SIP/2.0 {code} {reason}\r\n{}\r\nContent-Length: 0\r\n\r\n",
            hdrs.join("\r\n")
        )
    };
    uas.send(from, reply(180, "Ringing").as_bytes());
    std::thread::sleep(Duration::from_millis(300));
    uas.send(from, reply(486, "Busy").as_bytes());
    let mut replies = Vec::new();
    let end = Instant::now() + Duration::from_secs(3);
    while Instant::now() < end {
        match phone.recv(Duration::from_millis(500)) {
            Some((m, _)) => replies.push(format!("'{}'", start_line(&m))),
            None if replies.len() >= 2 => break,
            None => {}
        }
    }
    got.push(format!("branch [{}]", replies.join(", ")));
    let log = server.log_text();
    let sruid = regex::Regex::new(r"sruid=srid-[0-9a-f]+-[0-9a-f]+-").unwrap();
    for l in log.lines() {
        if let Some(i) = l.find("xlog: ") {
            let line = l[i + 6..].replace(&uas.port.to_string(), "UASPORT");
            got.push(sruid.replace_all(&line, "sruid=srid-T-P-").into_owned());
        }
    }
    let want: Vec<String> = data("kamailio.txt")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    assert_eq!(got, want, "sipvm's log:\n{log}");
}
