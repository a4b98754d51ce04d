//! A worker without sockets: configuration from text, datagrams in, outbox items out.

use bytes::Bytes;
use sipvm_cfg::Live;
use sipvm_lang::CompileOptions;
use sipvm_proxy::host::Shared;
use sipvm_proxy::transport::{Handler, Local, Outbox, Outgoing, Proto};
use sipvm_proxy::worker::Worker;
use std::net::SocketAddr;
use std::sync::Arc;

pub const A: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 5070);
pub const B1: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 5081);
pub const B2: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 5082);
pub const B3: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 5083);

/// Routes by Request-URI user: `fork` forks to 5081 and 5082, `failover` goes on to 5083
/// after a timeout, a 486 becomes 600 in the failure route.
pub const CFG: &str = r#"
listen=udp:127.0.0.1:5060
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "corex.so"
modparam("tm", "fr_timer", 1000)
modparam("tm", "fr_inv_timer", 3000)
request_route {
    if (is_method("ACK|CANCEL")) {
        if (t_check_trans()) {
            t_relay();
        }
        exit;
    }
    if ($rU == "fork") {
        append_branch("sip:b2@127.0.0.1:5082");
    }
    rewritehostport("127.0.0.1:5081");
    t_on_failure("F");
    t_relay();
}
failure_route[F] {
    if (t_is_canceled()) {
        exit;
    }
    if ($rU == "failover" && t_branch_timeout()) {
        rewritehostport("127.0.0.1:5083");
        t_relay();
        exit;
    }
    if (t_check_status("486")) {
        t_reply("600", "Busy Everywhere");
    }
}
"#;

/// A branch_route that marks each branch and drops the ones to "dropme".
pub const BRANCHES: &str = r#"
listen=udp:127.0.0.1:5060
loadmodule "tm.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "corex.so"
request_route {
    if ($rU == "fork") {
        append_branch("sip:dropme@127.0.0.1:5082");
    }
    rewritehostport("127.0.0.1:5081");
    t_on_branch("B");
    t_relay();
}
branch_route[B] {
    if ($rU == "dropme") {
        drop;
    }
    append_hf("X-Branch: $ru
");
}
"#;

/// onreply_route drops 183s; `$avp` set in request_route reaches the failure route; the
/// failure route answers with what `$T_reply_code`, `$T_reply_reason`, `$T_rpl` and `$T_req`
/// say.
pub const REPLIES: &str = r#"
listen=udp:127.0.0.1:5060
loadmodule "tm.so"
loadmodule "siputils.so"
loadmodule "pv.so"
request_route {
    $avp(who) = "avp-" + $rU;
    rewritehostport("127.0.0.1:5081");
    t_on_reply("R");
    t_on_failure("F");
    t_relay();
}
onreply_route[R] {
    if ($T_reply_code == 183) {
        drop;
    }
}
failure_route[F] {
    t_reply("599", "$avp(who) $T_reply_code $T_reply_reason $T_rpl($hdr(X-Why)) b$T_branch_idx $T_req($rm) $T_rpl($rs)");
}
"#;

/// A failure route that relays again after every failure.
pub const LOOP: &str = r#"
listen=udp:127.0.0.1:5060
loadmodule "tm.so"
loadmodule "siputils.so"
request_route {
    rewritehostport("127.0.0.1:5081");
    t_on_failure("F");
    t_relay();
}
failure_route[F] {
    t_on_failure("F");
    t_relay();
}
"#;

/// Two generations told apart by their failure route's answer.
pub const GEN: &str = r#"
listen=udp:127.0.0.1:5060
loadmodule "tm.so"
loadmodule "siputils.so"
modparam("tm", "fr_timer", 1000)
request_route {
    rewritehostport("127.0.0.1:5081");
    t_on_failure("F");
    t_relay();
}
failure_route[F] {
    t_reply("500", "generation WHICH");
}
"#;

pub struct Rig {
    dir: std::path::PathBuf,
    live: Arc<Live>,
    shared: Arc<Shared>,
    locals: Arc<[Local]>,
    worker: Worker,
    clock: u64,
}

impl Rig {
    pub fn new(cfg: &str) -> Rig {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "sipvm-tm-core-{}-{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("a.cfg");
        std::fs::write(&file, cfg).unwrap();
        let live = Arc::new(
            Live::load(
                file.to_str().unwrap(),
                CompileOptions::default(),
                sipvm_proxy::modules::registry(),
            )
            .unwrap_or_else(|e| panic!("{e}")),
        );
        let shared = Arc::new(sipvm_proxy::modules::shared(&live.current()).expect("module state"));
        let locals: Arc<[Local]> = vec![Local {
            index: 0,
            proto: Proto::Udp,
            addr: "127.0.0.1:5060".parse().unwrap(),
            advertise: None,
            name: None,
        }]
        .into();
        let worker = Worker::new(live.cache(), shared.clone(), locals.clone());
        Rig {
            dir,
            live,
            shared,
            locals,
            worker,
            clock: 0,
        }
    }

    pub fn reload(&mut self, cfg: &str) {
        let file = self.dir.join("b.cfg");
        std::fs::write(&file, cfg).unwrap();
        self.live
            .reload(Some(file.to_str().unwrap()))
            .unwrap_or_else(|e| panic!("{e}"));
    }

    pub fn tm(&self) -> &sipvm_proxy::modules::tm::Tm {
        self.shared.state::<sipvm_proxy::modules::tm::Tm>()
    }

    /// Runs every module's start-up hook (acc and dialog register their tm hooks there).
    pub fn startup(&self) {
        self.shared.startup(&self.live.current()).unwrap();
    }

    /// Milliseconds moved forward so far.
    pub fn clock(&self) -> u64 {
        self.clock
    }

    pub fn feed(&mut self, msg: &[u8], from: SocketAddr) -> Vec<Outgoing> {
        let mut out = Outbox::new();
        self.worker
            .on_message(Bytes::copy_from_slice(msg), from, &self.locals[0], &mut out);
        out.items().to_vec()
    }

    /// Moves the clock `ms` on and runs due timers.
    pub fn tick(&mut self, ms: u64) -> Vec<Outgoing> {
        self.shared
            .state::<sipvm_proxy::modules::tm::Tm>()
            .advance_clock(ms);
        self.clock += ms;
        let mut out = Outbox::new();
        self.worker.on_tick(&mut out);
        out.items().to_vec()
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// (destination, first line cut to method+URI or "SIP/2.0 code").
pub fn sent(out: &[Outgoing]) -> Vec<(SocketAddr, String)> {
    out.iter()
        .map(|o| {
            let t = text(&o.data);
            let line = t.lines().next().unwrap_or("").to_string();
            let short = if line.starts_with("SIP/2.0") {
                line.chars().take(11).collect()
            } else {
                line.rsplit_once(' ')
                    .map(|(a, _)| a.to_string())
                    .unwrap_or(line)
            };
            (o.dst, short)
        })
        .collect()
}

pub fn all(out: &[Outgoing]) -> String {
    out.iter()
        .map(|o| format!("-> {}\n{}", o.dst, text(&o.data)))
        .collect()
}

pub fn header(m: &[u8], name: &str) -> Vec<String> {
    text(m)
        .split("\r\n\r\n")
        .next()
        .unwrap_or("")
        .lines()
        .filter_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
        .collect()
}

pub fn top_via(m: &[u8]) -> String {
    header(m, "Via").into_iter().next().unwrap_or_default()
}

pub fn call_id(m: &[u8]) -> String {
    header(m, "Call-ID").into_iter().next().unwrap_or_default()
}

pub fn request(method: &str, cid: &str, user: &str) -> Vec<u8> {
    format!(
        "{method} sip:{user}@example.test SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-{cid}\r\n\
         From: <sip:alice@example.test>;tag=a-{cid}\r\n\
         To: <sip:{user}@example.test>\r\n\
         Call-ID: {cid}\r\n\
         CSeq: 1 {method}\r\n\
         Max-Forwards: 70\r\n\
         Contact: <sip:alice@127.0.0.1:5070>\r\n\
         Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

pub fn invite(cid: &str, user: &str) -> Vec<u8> {
    request("INVITE", cid, user)
}

/// The CANCEL of `inv` (same branch, RFC 3261 §9.1).
pub fn cancel_for(inv: &[u8]) -> Vec<u8> {
    let t = text(inv)
        .replacen("INVITE ", "CANCEL ", 1)
        .replace(" INVITE\r\n", " CANCEL\r\n");
    t.into_bytes()
}

/// The caller's ACK of a negative reply `up` to `inv` (To from the reply).
pub fn ack_for(inv: &[u8], up: &[u8]) -> Vec<u8> {
    let to = header(up, "To").remove(0);
    let t = text(inv)
        .replacen("INVITE ", "ACK ", 1)
        .replace(" INVITE\r\n", " ACK\r\n");
    let t = t
        .lines()
        .map(|l| {
            if l.starts_with("To:") {
                format!("To: {to}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\r\n");
    format!("{}\r\n\r\n", t.trim_end()).into_bytes()
}

/// A reply from the callee to the request `req` it received: every Via, its To-tag.
pub fn reply(req: &[u8], code: u16, reason: &str, tag: &str) -> Vec<u8> {
    let mut s = format!("SIP/2.0 {code} {reason}\r\n");
    for v in header(req, "Via") {
        s.push_str(&format!("Via: {v}\r\n"));
    }
    for n in ["From", "Call-ID", "CSeq"] {
        for v in header(req, n) {
            s.push_str(&format!("{n}: {v}\r\n"));
        }
    }
    let to = header(req, "To").remove(0);
    let to = if code > 100 && !to.contains("tag=") {
        format!("{to};tag={tag}")
    } else {
        to
    };
    s.push_str(&format!("To: {to}\r\nContent-Length: 0\r\n\r\n"));
    s.into_bytes()
}
