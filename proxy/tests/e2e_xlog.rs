//! xlog and kex's `setdebug`/`resetdebug` on the real binary side by side with Kamailio
//! 5.6.3: `xlog/xlog.cfg` (`prefix`, `buf_size`, `methods_filter` and `xlogm`, `xlogl`'s
//! line, `$C`, facilities, a worker's own level kept across messages) driven like
//! `xlog/record.py` drove Kamailio must write what Kamailio did (`xlog/kamailio.txt`).

mod common;
use common::*;
use std::path::PathBuf;
use std::time::Duration;

fn data(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/xlog")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn xlog_matches_kamailio() {
    let cfg = data("xlog.cfg").replace("MYPORT", "5060");
    let server = Sipvm::start(&cfg, &[]);
    let phone = Peer::new();
    let mut got = Vec::new();
    for m in ["OPTIONS", "MESSAGE", "INFO"] {
        let req = format!(
            "{m} sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{};branch=z9hG4bK-{m}\r\n\
             Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:x@127.0.0.1>\r\n\
             Call-ID: x-{m}\r\nCSeq: 1 {m}\r\nContent-Length: 0\r\n\r\n",
            phone.port
        );
        phone.send(server.addr, req.as_bytes());
        let (r, _) = phone.recv(Duration::from_secs(2)).expect("a reply");
        got.push(format!("{m} {}", start_line(&r)));
    }
    let log = server.log_with("RC 1,1,1,1,0,0", Duration::from_secs(3));
    for l in log.lines() {
        if let Some(i) = l.find("xlog: ") {
            // sipvm's log writer shows ESC escaped; `$C` gave the byte itself.
            got.push(l[i + 6..].replace("\\x1b", "\x1b"));
        }
    }
    let want: Vec<String> = data("kamailio.txt")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    assert_eq!(got, want, "sipvm's log:\n{log}");
}

/// `long_format=1`: `xlogl` names the file (as given to `sipvm run -f`) and the line.
#[test]
fn long_format_names_the_file() {
    let cfg = "listen=udp:127.0.0.1:5060\nchildren=1\nloadmodule \"sl.so\"\n\
               loadmodule \"xlog.so\"\nmodparam(\"xlog\", \"long_format\", 1)\n\
               request_route {\n\txlogl(\"L_INFO\", \"long $rm\\n\");\n\
               \tsl_send_reply(\"200\", \"OK\");\n}\n";
    let server = Sipvm::start(cfg, &[]);
    let phone = Peer::new();
    let req = phone.request("OPTIONS", "sip:x@127.0.0.1", "long-1", "");
    phone.send(server.addr, &req);
    phone.recv(Duration::from_secs(2)).expect("a reply");
    let log = server.log_with("long OPTIONS", Duration::from_secs(3));
    let file = server.cfg_path().display().to_string();
    assert!(
        log.contains(&format!("xlog: {file}:7:long OPTIONS")),
        "{file}\n{log}"
    );
}
