//! corex on the real binary side by side with Kamailio 5.6.3: `corex/corex.cfg` (extended
//! flags, `file_read`/`file_write`, socket names and `set_*_socket*`, `send_udp`,
//! `send_data`) driven like `corex/record.py` drove Kamailio must log and send what Kamailio
//! did (`corex/kamailio.txt`).

mod common;
use common::*;
use std::path::PathBuf;
use std::time::Duration;

fn data(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corex")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn corex_matches_kamailio() {
    let cap = Peer::new();
    let scratch = Scratch::new();
    let file = scratch.path().join("cxfile");
    let cfg = data("corex.cfg")
        .replace("MYPORT", "5060")
        .replace("CAP", &cap.port.to_string())
        .replace("\"FILE", &format!("\"{}", file.display()));
    let server = Sipvm::start(&cfg, &[]);
    let phone = Peer::new();
    let mut got = Vec::new();
    for t in ["udp", "data"] {
        let m = format!(
            "OPTIONS sip:cx@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{};branch=z9hG4bK-{t}\r\n\
             Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:cx@127.0.0.1>\r\n\
             Call-ID: cx-{t}\r\nCSeq: 1 OPTIONS\r\nX-T: {t}\r\nContent-Length: 0\r\n\r\n",
            phone.port
        );
        phone.send(server.addr, m.as_bytes());
        let c = cap
            .recv(Duration::from_secs(1))
            .map_or("(nothing)".to_string(), |(m, _)| start_line(&m).to_string());
        got.push(format!("{t} cap {c}"));
        let (r, _) = phone.recv(Duration::from_secs(2)).expect("a reply");
        got.push(format!("{t} reply {}", start_line(&r)));
    }
    let log = server.log_with("xlog: SD ", Duration::from_secs(3));
    let port = server.port.to_string();
    for l in log.lines() {
        if let Some(i) = l.find("xlog: ") {
            got.push(l[i + 6..].replace(&port, "MYPORT"));
        }
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "hello OPTIONS");
    let want: Vec<String> = data("kamailio.txt")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    assert_eq!(got, want, "sipvm's log:\n{log}");
}
