//! cfgutils on the real binary side by side with Kamailio 5.6.3: `cfgutils/cfgutils.cfg`
//! (global flags across messages and RPC, `core_hash`, `check_route_exists`, the memory
//! reports, `$RANDOM`, `hash_file`) driven like `cfgutils/record.py` drove Kamailio must
//! reply, answer and log what Kamailio did (`cfgutils/kamailio.txt`).

mod common;
use common::*;
use sipvm_rpc::{client, Value};
use std::path::PathBuf;
use std::time::Duration;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/cfgutils")
}

fn data(name: &str) -> String {
    let p = dir().join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// An RPC answer as kamcmd prints it.
fn rpc(url: &str, method: &str, params: &[i64]) -> String {
    let values = params.iter().map(|p| Value::from(*p)).collect();
    let shown = match client::call(url, method, values).expect("the RPC server answers") {
        Ok(Value::Null) => String::new(),
        Ok(Value::String(s)) => s,
        Ok(v) => v.to_string(),
        Err(e) => format!("error: {} - {}", e.code, e.message),
    };
    let args: Vec<String> = std::iter::once(method.to_string())
        .chain(params.iter().map(i64::to_string))
        .collect();
    format!("rpc {} = {shown}", args.join(" "))
}

#[test]
fn cfgutils_matches_kamailio() {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/RPC");
    let cfg = data("cfgutils.cfg")
        .replace("MYPORT", "5060")
        .replace("HASHFILE", &dir().join("hashed.txt").display().to_string())
        .replace("#RPC", &format!("rpc_listen=\"127.0.0.1:{port}\""));
    let server = Sipvm::start(&cfg, &[]);
    let phone = Peer::new();
    let mut got = Vec::new();
    let send = |t: &str, got: &mut Vec<String>| {
        let mut m = format!(
            "OPTIONS sip:cu@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{};branch=z9hG4bK-{t}\r\n\
             Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:cu@127.0.0.1>\r\n\
             Call-ID: cu-{t}\r\nCSeq: 1 OPTIONS\r\nX-T: {t}\r\nX-B: ",
            phone.port
        )
        .into_bytes();
        // Bytes above 0x7f: Kamailio hashes them as signed chars.
        m.extend_from_slice("été".as_bytes());
        m.extend_from_slice(b"\r\nContent-Length: 0\r\n\r\n");
        phone.send(server.addr, &m);
        let (r, _) = phone.recv(Duration::from_secs(2)).expect("a reply");
        got.push(format!("{t} {}", start_line(&r)));
    };
    got.push(rpc(&url, "cfgutils.get_gflags", &[]));
    send("first", &mut got);
    got.push(rpc(&url, "cfgutils.get_gflags", &[]));
    for f in [2, 3, 1] {
        got.push(rpc(&url, "cfgutils.is_gflag", &[f]));
    }
    got.push(rpc(&url, "cfgutils.reset_gflag", &[2]));
    got.push(rpc(&url, "cfgutils.set_gflag", &[8]));
    got.push(rpc(&url, "cfgutils.get_gflags", &[]));
    send("second", &mut got);
    got.push(rpc(&url, "cfgutils.get_config_hash", &[]));
    got.push(rpc(&url, "cfgutils.check_config_hash", &[]));
    got.push(rpc(&url, "cfgutils.rand_get_prob", &[]));
    got.push(rpc(&url, "cfgutils.rand_set_prob", &[150]));
    got.push(rpc(&url, "cfgutils.rand_set_prob", &[30]));
    got.push(rpc(&url, "cfgutils.rand_get_prob", &[]));
    got.push(rpc(&url, "cfgutils.rand_reset_prob", &[]));
    got.push(rpc(&url, "cfgutils.rand_get_prob", &[]));
    got.push(rpc(&url, "cfgutils.is_gflag", &[]));
    let log = server.log_with("xlog: MM second", Duration::from_secs(3));
    for l in log.lines() {
        if let Some(i) = l.find("xlog: ") {
            got.push(l[i + 6..].to_string());
        }
    }
    let want: Vec<String> = data("kamailio.txt")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    assert_eq!(got, want, "sipvm's log:\n{log}");
}

/// `abort()` ends the whole server with SIGABRT after logging, as Kamailio's does.
#[test]
fn abort_ends_the_server() {
    let cfg = "listen=udp:127.0.0.1:5060\nchildren=1\nloadmodule \"cfgutils.so\"\n\
               request_route {\n abort();\n}\n";
    let mut server = Sipvm::start(cfg, &[]);
    let phone = Peer::new();
    phone.send(
        server.addr,
        &phone.request("OPTIONS", "sip:x@127.0.0.1", "abort-1", ""),
    );
    let log = server.log_with("abort called", Duration::from_secs(3));
    assert!(log.contains("abort called"), "{log}");
    let end = std::time::Instant::now() + Duration::from_secs(3);
    while server.alive() && std::time::Instant::now() < end {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!server.alive(), "still running:\n{log}");
}

/// `route_if_exists`: the route's return value, -1 for a missing route, and `return 0` or
/// `exit` in it end the script (`cfgutils/route_if_exists.txt`, from Kamailio 5.6.3).
#[test]
fn route_if_exists_matches_kamailio() {
    let server = Sipvm::start(&data("route_if_exists.cfg").replace("MYPORT", "5060"), &[]);
    let phone = Peer::new();
    let mut got = Vec::new();
    for t in ["plain", "zero", "exit"] {
        let m = format!(
            "OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{};branch=z9hG4bK-{t}\r\n\
             Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:x@127.0.0.1>\r\n\
             Call-ID: r-{t}\r\nCSeq: 1 OPTIONS\r\nX-T: {t}\r\nContent-Length: 0\r\n\r\n",
            phone.port
        );
        phone.send(server.addr, m.as_bytes());
        let (r, _) = phone.recv(Duration::from_secs(2)).expect("a reply");
        got.push(format!("{t} {}", start_line(&r)));
    }
    phone.expect_nothing(Duration::from_millis(300), "a second reply");
    let log = server.log_text();
    for l in log.lines() {
        if let Some(i) = l.find("xlog: ") {
            got.push(l[i + 6..].to_string());
        }
    }
    let want: Vec<String> = data("route_if_exists.txt")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    assert_eq!(got, want, "sipvm's log:\n{log}");
}

/// The global flags are the server's, not the file's: a reload (SIGHUP) keeps them.
#[test]
fn gflags_survive_a_reload() {
    let cfg = |reason: &str, body: &str| {
        format!(
            "listen=udp:127.0.0.1:5060\nchildren=2\nloadmodule \"sl.so\"\n\
             loadmodule \"cfgutils.so\"\nrequest_route {{\n{body}\n\
             if (is_gflag(\"4\")) {{ sl_send_reply(\"200\", \"{reason} set\"); exit; }}\n\
             sl_send_reply(\"200\", \"{reason} clear\");\n}}\n"
        )
    };
    let server = Sipvm::start(&cfg("v1", "set_gflag(\"4\");"), &[]);
    let phone = Peer::new();
    let ask = |n: u32| {
        let req = phone.request("OPTIONS", "sip:x@127.0.0.1", &format!("gf-{n}"), "");
        phone.send(server.addr, &req);
        let (r, _) = phone.recv(Duration::from_secs(2)).expect("a reply");
        start_line(&r).to_string()
    };
    assert_eq!(ask(0), "SIP/2.0 200 v1 set");
    let text = cfg("v2", "").replace("127.0.0.1:5060", &format!("127.0.0.1:{}", server.port));
    std::fs::write(server.cfg_path(), text).unwrap();
    assert!(server.signal("HUP"));
    let mut last = String::new();
    for n in 1..40 {
        last = ask(n);
        if last.contains("v2") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(last, "SIP/2.0 200 v2 set", "{}", server.log_text());
}
