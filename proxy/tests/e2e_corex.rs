//! corex on the real binary side by side with Kamailio 5.6.3: `corex/corex.cfg` (extended
//! flags, `file_read`/`file_write`, socket names and `set_*_socket*`, `send_udp`,
//! `send_data`, `sendx`, `msg_iflag_*`, `set_source_address`, `forward_reply`, `$cfg`,
//! `$lsock`) driven like `corex/record.py` drove Kamailio must log and send what Kamailio
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
    // Everything the capture peer gets within half a second.
    let caught = |t: &str, got: &mut Vec<String>| {
        let mut n = 0;
        while let Some((m, _)) = cap.recv(Duration::from_millis(500)) {
            got.push(format!("{t} cap {}", start_line(&m)));
            n += 1;
        }
        if n == 0 {
            got.push(format!("{t} cap (nothing)"));
        }
    };
    for t in ["udp", "data", "x"] {
        let m = format!(
            "OPTIONS sip:cx@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{};branch=z9hG4bK-{t}\r\n\
             Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:cx@127.0.0.1>\r\n\
             Call-ID: cx-{t}\r\nCSeq: 1 OPTIONS\r\nX-T: {t}\r\nContent-Length: 0\r\n\r\n",
            phone.port
        );
        phone.send(server.addr, m.as_bytes());
        caught(t, &mut got);
        let (r, _) = phone.recv(Duration::from_secs(2)).expect("a reply");
        got.push(format!("{t} reply {}", start_line(&r)));
    }
    // A reply through us: forward_reply() sends it on to the capture peer.
    let r = format!(
        "SIP/2.0 299 Fwd\r\nVia: SIP/2.0/UDP 127.0.0.1:{};branch=z9hG4bK-fr1\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:{};branch=z9hG4bK-fr2\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\n\
         To: <sip:cx@127.0.0.1>;tag=2\r\nCall-ID: cx-fr\r\nCSeq: 1 OPTIONS\r\n\
         Content-Length: 0\r\n\r\n",
        server.port, cap.port
    );
    phone.send(server.addr, r.as_bytes());
    caught("fr", &mut got);
    let log = server.log_with("xlog: FR ", Duration::from_secs(3));
    let port = server.port.to_string();
    let cfg_path = server.cfg_path().display().to_string();
    for l in log.lines() {
        if let Some(i) = l.find("xlog: ") {
            got.push(
                l[i + 6..]
                    .replace(&cfg_path, "CFGFILE")
                    .replace(&port, "MYPORT"),
            );
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
