//! Debian's stock `/etc/kamailio/kamailio.cfg`, unchanged but for a `listen` line on a
//! loopback test port, under sipvm and under Kamailio 5.6 side by side, with no define and
//! with each of WITH_DEBUG, WITH_ANTIFLOOD and WITH_PSTN (`sipvm run -D NAME`, `kamailio
//! -A NAME`). Both servers must answer alike:
//!
//! - OPTIONS to the server: `200 Keepalive`; `Max-Forwards: 0`: `483 Too Many Hops`;
//! - alice and bob REGISTER (sipp `register-uac.xml`): 200 listing the contact;
//! - alice calls bob (sipp `stock-caller.xml` / `stock-callee.xml`): 180, a record-routed
//!   200, ACK and BYE by the route set, 200 for the BYE; `acc` logs the call in the stock
//!   file's `log_extra` format;
//! - an INVITE to a user nobody registered: 404 (after what else the server sends first);
//! - WITH_DEBUG: the debugger's cfgtrace lines of the OPTIONS are the same (`if` aside);
//! - WITH_ANTIFLOOD: a flood from 127.0.0.2 is answered, then pike blocks it and the htable
//!   `ipban` keeps it blocked, while 127.0.0.1 is still answered;
//! - WITH_PSTN, with `pstn.gw_ip`/`gw_port` set over RPC: `+49...` and `0049...` go to the
//!   gateway as `+49...`, a caller that is not local gets `403 Not Allowed`.
//!
//! The stock file missing: the test says so and passes (set SIPVM_SKIP_STOCK=1 to silence
//! it); Kamailio missing: only sipvm's answers are checked against the expected ones.

mod common;
use common::*;
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const STOCK: &str = "/etc/kamailio/kamailio.cfg";
const KAMAILIO: &str = "/usr/sbin/kamailio";
const KAM_MODULES: &str = "/usr/lib/x86_64-linux-gnu/kamailio/modules";
/// The comment after which the listen line goes (the stock file's own example).
const LISTEN_MARK: &str = "# listen=udp:10.0.0.10:5060";

/// One server at a time: Kamailio's ctl socket has a fixed path, and the flood test wants
/// pike's windows to itself.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Sipvm,
    Kamailio,
}

/// A running server on the stock file; stopped with SIGTERM (Kamailio's children go with
/// its main process then) and waited for.
struct Server {
    kind: Kind,
    child: Option<Child>,
    port: u16,
    log: PathBuf,
    rpc: Option<String>,
    dir: Scratch,
}

impl Server {
    fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sets a custom cfg string (`cfg.set_now_string group name value`) over RPC: sipvm's
    /// JSON-RPC through `sipvm cmd`, Kamailio's ctl socket through `kamcmd`.
    fn set_cfg(&self, group: &str, name: &str, value: &str) {
        let mut cmd = match self.kind {
            Kind::Sipvm => {
                let mut c = Command::new(env!("CARGO_BIN_EXE_sipvm"));
                c.args(["cmd", "-s", self.rpc.as_deref().unwrap()]);
                c
            }
            Kind::Kamailio => {
                let mut c = Command::new("kamcmd");
                c.args(["-s", "unix:/run/kamailio/kamailio_ctl"]);
                c
            }
        };
        let out = cmd
            .args(["cfg.set_now_string", group, name])
            .arg(format!("s:{value}"))
            .output()
            .expect("an RPC client");
        assert!(
            out.status.success(),
            "{:?} cfg.set_now_string {group} {name} {value}: {}{}",
            self.kind,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            unsafe {
                libc::kill(c.id() as i32, libc::SIGTERM);
            }
            let end = Instant::now() + Duration::from_secs(10);
            while Instant::now() < end {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The stock file with `listen=udp:127.0.0.1:PORT` added after its listen example, or
/// `None` (and a message) when there is no stock file.
fn stock_with_listen(port: u16) -> Option<String> {
    let text = std::fs::read_to_string(STOCK)
        .unwrap_or_else(|e| panic!("{STOCK}: {e} (install the Debian package `kamailio`)"));
    let mut out = String::with_capacity(text.len() + 64);
    let mut added = false;
    for line in text.lines() {
        out.push_str(line);
        out.push('\n');
        if !added && line.trim() == LISTEN_MARK {
            out.push_str(&format!("listen=udp:127.0.0.1:{port}\n"));
            added = true;
        }
    }
    assert!(
        added,
        "{STOCK} has no `{LISTEN_MARK}` line to put the listen line after"
    );
    Some(out)
}

fn start(kind: Kind, defines: &[&str]) -> Option<Server> {
    let port = free_port();
    let text = stock_with_listen(port)?;
    let dir = Scratch::new();
    let file = dir.path().join("kamailio.cfg");
    std::fs::write(&file, text).unwrap();
    let log = dir.path().join(format!("{kind:?}.log"));
    let out = std::fs::File::create(&log).unwrap();
    let mut rpc = None;
    let mut cmd = match kind {
        Kind::Sipvm => {
            let r = format!("127.0.0.1:{}", free_tcp_port());
            let mut c = Command::new(env!("CARGO_BIN_EXE_sipvm"));
            c.args(["run", "-E", "-f"]).arg(&file).args(["--rpc", &r]);
            for d in defines {
                c.args(["-D", d]);
            }
            c.env("SIPVM_LOOPBACK_ONLY", "1").env("SIPVM_LOG", "info");
            rpc = Some(format!("http://{r}/RPC"));
            c
        }
        Kind::Kamailio => {
            let mut c = Command::new(KAMAILIO);
            c.arg("-f")
                .arg(&file)
                .args(["-DD", "-E", "-n", "2", "-a", "no", "-L", KAM_MODULES]);
            for d in defines {
                c.args(["-A", d]);
            }
            c
        }
    };
    let child = cmd
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {kind:?}: {e}"));
    let s = Server {
        kind,
        child: Some(child),
        port,
        log,
        rpc,
        dir,
    };
    let ready = wait_udp_bound(port, Duration::from_secs(15));
    assert!(ready, "{kind:?} did not bind {port}:\n{}", s.log_text());
    // Kamailio binds before its workers run; sipvm's RPC comes up after the sockets.
    std::thread::sleep(Duration::from_millis(500));
    Some(s)
}

fn free_tcp_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A UDP phone on `ip`.
fn phone(ip: &str) -> UdpSocket {
    let s = UdpSocket::bind((ip, 0)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    s
}

fn request(
    s: &UdpSocket,
    method: &str,
    ruri: &str,
    from: &str,
    call: &str,
    extra: &str,
) -> Vec<u8> {
    let me = s.local_addr().unwrap();
    format!(
        "{method} {ruri} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK-{call};rport\r\n\
         Max-Forwards: 70\r\nFrom: <{from}>;tag=t-{call}\r\nTo: <{ruri}>\r\nCall-ID: {call}\r\n\
         CSeq: 1 {method}\r\nContact: <sip:phone@{me}>\r\nUser-Agent: e2e-stock\r\n{extra}\
         Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// The start lines of the replies to `req` until a final one (or `quiet` without any).
fn ask(s: &UdpSocket, to: SocketAddr, req: &[u8], quiet: Duration) -> Vec<String> {
    s.send_to(req, to).unwrap();
    let mut got = Vec::new();
    let mut buf = vec![0u8; 65535];
    let mut last = Instant::now();
    while last.elapsed() < quiet {
        match s.recv_from(&mut buf) {
            Ok((n, _)) => {
                let line = start_line(&buf[..n]).to_string();
                let fin = status(&buf[..n]).is_some_and(|c| c >= 200);
                got.push(line);
                last = Instant::now();
                if fin {
                    break;
                }
            }
            Err(_) => continue,
        }
    }
    got
}

/// Sends the ACK for a negative final reply to an INVITE sent by `request` (same branch).
fn ack(s: &UdpSocket, to: SocketAddr, ruri: &str, from: &str, call: &str) {
    let me = s.local_addr().unwrap();
    let m = format!(
        "ACK {ruri} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK-{call};rport\r\n\
         Max-Forwards: 70\r\nFrom: <{from}>;tag=t-{call}\r\nTo: <{ruri}>\r\nCall-ID: {call}\r\n\
         CSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n"
    );
    s.send_to(m.as_bytes(), to).unwrap();
}

fn sipp_files(dir: &Path) {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sipp");
    for f in ["register-uac.xml", "stock-caller.xml", "stock-callee.xml"] {
        std::fs::copy(src.join(f), dir.join(f)).unwrap();
    }
}

/// `user` registers with `contact` (sipp register-uac.xml); sipp's exit status.
fn register(s: &Server, user: &str, contact: &str) -> bool {
    let dir = s.dir.path();
    let inf = dir.join(format!("{user}.csv"));
    std::fs::write(&inf, format!("SEQUENTIAL\n{user};\n")).unwrap();
    let target = s.addr().to_string();
    let mut r = Bounded::spawn(
        sipp_command(
            &[
                &target,
                "-sf",
                "register-uac.xml",
                "-inf",
                inf.to_str().unwrap(),
                "-key",
                "contact",
                contact,
                "-key",
                "expires",
                "600",
                "-m",
                "1",
            ],
            "10s",
        ),
        dir,
        &format!("register-{user}"),
    );
    let ok = r
        .wait(Duration::from_secs(15))
        .is_some_and(|st| st.success());
    if !ok {
        eprintln!("{:?} register {user}:\n{}", s.kind, r.output());
    }
    ok
}

/// alice calls bob through the server with sipp; whether both sides completed the call.
fn call(s: &Server, callee_port: u16) -> bool {
    let dir = s.dir.path();
    let cp = callee_port.to_string();
    let mut callee = Bounded::spawn(
        sipp_command(&["-sf", "stock-callee.xml", "-p", &cp, "-m", "1"], "20s"),
        dir,
        "callee",
    );
    assert!(
        wait_udp_bound(callee_port, Duration::from_secs(5)),
        "callee sipp bound"
    );
    let target = s.addr().to_string();
    let mut caller = Bounded::spawn(
        sipp_command(&[&target, "-sf", "stock-caller.xml", "-m", "1"], "20s"),
        dir,
        "caller",
    );
    let a = caller
        .wait(Duration::from_secs(25))
        .is_some_and(|st| st.success());
    let b = callee
        .wait(Duration::from_secs(10))
        .is_some_and(|st| st.success());
    if !(a && b) {
        eprintln!(
            "{:?} call: caller {a}, callee {b}\n--- caller\n{}\n--- callee\n{}",
            s.kind,
            caller.output(),
            callee.output()
        );
    }
    a && b
}

/// What one flavour's scenarios gave on one server, to compare across servers.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
struct Seen {
    options: Vec<String>,
    max_forwards: Vec<String>,
    registered: (bool, bool),
    call: bool,
    unknown_user: Vec<String>,
    trace: Vec<String>,
    flood: Vec<String>,
    local_after_flood: Vec<String>,
    pstn: Vec<String>,
}

/// The `ACC:` records of the log, from `ACC:` on, without the timestamp (the fields the
/// stock file's `log_extra` adds included).
fn acc_records(log: &str) -> Vec<String> {
    let ts = regex::Regex::new(r"timestamp=[0-9]+;").unwrap();
    log.lines()
        .filter_map(|l| {
            l.find("ACC: ")
                .map(|i| ts.replace(&l[i..], "").into_owned())
        })
        .collect()
}

/// The cfgtrace lines of the log, from the route type on (`if` statements aside: Kamailio
/// logs them with the line after the block, sipvm does not log them), the file name made
/// neutral.
fn trace_lines(log: &str, file: &Path) -> Vec<String> {
    let file = file.display().to_string();
    log.lines()
        .filter_map(|l| l.find("dbg_cfg_trace(): ").map(|i| &l[i + 17..]))
        .filter(|l| !l.ends_with("n=if"))
        .map(|l| l.replace(&file, "FILE"))
        .collect()
}

/// Runs every scenario of a flavour on one server.
fn scenarios(kind: Kind, defines: &[&str]) -> Option<(Seen, Vec<String>, String)> {
    let s = start(kind, defines)?;
    sipp_files(s.dir.path());
    let to = s.addr();
    let host = format!("127.0.0.1:{}", s.port);
    let mut seen = Seen::default();
    let p = phone("127.0.0.1");
    let q = Duration::from_millis(1500);

    let before = s.log_text().len();
    seen.options = ask(
        &p,
        to,
        &request(
            &p,
            "OPTIONS",
            &format!("sip:{host}"),
            &format!("sip:alice@{host}"),
            "opt-1",
            "",
        ),
        q,
    );
    if defines.contains(&"WITH_DEBUG") {
        std::thread::sleep(Duration::from_millis(300));
        let log = s.log_text();
        seen.trace = trace_lines(
            &log[before.min(log.len())..],
            &s.dir.path().join("kamailio.cfg"),
        );
    }
    seen.max_forwards = ask(
        &p,
        to,
        &request(
            &p,
            "OPTIONS",
            &format!("sip:bob@{host}"),
            &format!("sip:alice@{host}"),
            "mf-1",
            "",
        )
        .replace_max_forwards(),
        q,
    );

    let callee_port = free_port();
    seen.registered = (
        register(&s, "alice", "127.0.0.1:9"),
        register(&s, "bob", &format!("127.0.0.1:{callee_port}")),
    );
    seen.call = call(&s, callee_port);

    let nobody = format!("sip:nobody@{host}");
    seen.unknown_user = ask(
        &p,
        to,
        &request(
            &p,
            "INVITE",
            &nobody,
            &format!("sip:alice@{host}"),
            "inv-404",
            "",
        ),
        q,
    );
    ack(&p, to, &nobody, &format!("sip:alice@{host}"), "inv-404");

    if defines.contains(&"WITH_ANTIFLOOD") {
        // One at a time from 127.0.0.2: answered until pike's density is reached, then
        // silence (pike, then the ipban htable).
        let f = phone("127.0.0.2");
        for n in 0..40 {
            let r = ask(
                &f,
                to,
                &request(
                    &f,
                    "OPTIONS",
                    &format!("sip:{host}"),
                    "sip:flood@127.0.0.2",
                    &format!("fl-{n}"),
                    "",
                ),
                Duration::from_millis(150),
            );
            seen.flood.push(r.join(" | "));
        }
        seen.local_after_flood = ask(
            &p,
            to,
            &request(
                &p,
                "OPTIONS",
                &format!("sip:{host}"),
                &format!("sip:alice@{host}"),
                "opt-2",
                "",
            ),
            q,
        );
    }

    if defines.contains(&"WITH_PSTN") {
        let gw = Peer::new();
        s.set_cfg("pstn", "gw_ip", "127.0.0.1");
        s.set_cfg("pstn", "gw_port", &gw.port.to_string());
        for (n, (user, from)) in [
            ("+4930123456", format!("sip:alice@{host}")),
            ("004930123456", format!("sip:alice@{host}")),
            ("+4930123456", "sip:mallory@example.com".to_string()),
        ]
        .into_iter()
        .enumerate()
        {
            let ruri = format!("sip:{user}@{host}");
            let call = format!("pstn-{n}");
            p.send_to(&request(&p, "INVITE", &ruri, &from, &call, ""), to)
                .unwrap();
            let mut got = Vec::new();
            if let Some((m, src)) = gw.recv(Duration::from_millis(1500)) {
                got.push(format!(
                    "gateway got {}",
                    start_line(&m).replace(&gw.port.to_string(), "GW")
                ));
                let text = String::from_utf8_lossy(&m).into_owned();
                let hdrs: Vec<&str> = text
                    .split("\r\n")
                    .filter(|l| {
                        ["Via", "From", "To", "Call-ID", "CSeq"]
                            .iter()
                            .any(|h| l.starts_with(&format!("{h}:")))
                    })
                    .collect();
                // The gateway is busy; its To gets a tag.
                let to_line = hdrs
                    .iter()
                    .find(|l| l.starts_with("To:"))
                    .copied()
                    .unwrap_or("To: <sip:x@x>");
                let others: Vec<&str> = hdrs
                    .iter()
                    .filter(|l| !l.starts_with("To:"))
                    .copied()
                    .collect();
                let rep = format!(
                    "SIP/2.0 486 Busy Here\r\n{}\r\n{to_line};tag=gw\r\nContent-Length: 0\r\n\r\n",
                    others.join("\r\n")
                );
                gw.send(src, rep.as_bytes());
            }
            let mut buf = vec![0u8; 65535];
            let end = Instant::now() + Duration::from_millis(2000);
            while Instant::now() < end {
                if let Ok((k, _)) = p.recv_from(&mut buf) {
                    let fin = status(&buf[..k]).is_some_and(|c| c >= 200);
                    got.push(start_line(&buf[..k]).to_string());
                    if fin {
                        break;
                    }
                }
            }
            ack(&p, to, &ruri, &from, &call);
            // The gateway's ACK for its 486, if any, is not part of the comparison.
            let _ = gw.recv(Duration::from_millis(200));
            seen.pstn.push(got.join(" | "));
        }
    }

    std::thread::sleep(Duration::from_millis(300));
    let log = s.log_text();
    let acc = acc_records(&log);
    // The end of the log, for a failure message.
    let tail = log[log.len().saturating_sub(4000)..].to_string();
    Some((seen, acc, tail))
}

trait MaxForwardsZero {
    fn replace_max_forwards(self) -> Vec<u8>;
}

impl MaxForwardsZero for Vec<u8> {
    fn replace_max_forwards(self) -> Vec<u8> {
        String::from_utf8(self)
            .unwrap()
            .replace("Max-Forwards: 70", "Max-Forwards: 0")
            .into_bytes()
    }
}

/// The answers the stock file gives, whatever the server.
fn check_expected(kind: Kind, defines: &[&str], seen: &Seen, log: &str) {
    let ctx = format!("{kind:?} {defines:?}: {seen:#?}\n--- the end of its log:\n{log}");
    assert_eq!(
        seen.options.last().map(String::as_str),
        Some("SIP/2.0 200 Keepalive"),
        "{ctx}"
    );
    assert_eq!(
        seen.max_forwards.last().map(String::as_str),
        Some("SIP/2.0 483 Too Many Hops"),
        "{ctx}"
    );
    assert_eq!(seen.registered, (true, true), "{ctx}");
    assert!(seen.call, "{ctx}");
    assert_eq!(
        seen.unknown_user.last().map(String::as_str),
        Some("SIP/2.0 404 Not Found"),
        "{ctx}"
    );
    if defines.contains(&"WITH_DEBUG") {
        assert!(
            seen.trace
                .first()
                .is_some_and(|l| l.starts_with("request_route=[DEFAULT_ROUTE]")),
            "{ctx}"
        );
        assert!(
            seen.trace.iter().any(|l| l.ends_with("n=sl_send_reply")),
            "{ctx}"
        );
    }
    if defines.contains(&"WITH_ANTIFLOOD") {
        let answered = seen
            .flood
            .iter()
            .take_while(|r| r.ends_with("200 Keepalive"))
            .count();
        assert!(answered > 0, "the flood is answered first: {ctx}");
        assert!(answered < seen.flood.len(), "then blocked: {ctx}");
        assert!(
            seen.flood[answered..].iter().all(String::is_empty),
            "and stays blocked: {ctx}"
        );
        assert_eq!(
            seen.local_after_flood.last().map(String::as_str),
            Some("SIP/2.0 200 Keepalive"),
            "{ctx}"
        );
    }
    if defines.contains(&"WITH_PSTN") {
        assert_eq!(seen.pstn.len(), 3, "{ctx}");
        for leg in &seen.pstn[..2] {
            assert!(
                leg.starts_with("gateway got INVITE sip:+4930123456@127.0.0.1:GW SIP/2.0"),
                "{ctx}"
            );
            assert!(leg.ends_with("SIP/2.0 486 Busy Here"), "{ctx}");
        }
        assert_eq!(seen.pstn[2], "SIP/2.0 403 Not Allowed", "{ctx}");
    }
}

fn flavour(defines: &[&str]) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    assert!(
        have_sipp(),
        "sipp is not installed (apt-get install sip-tester)"
    );
    let Some((sv, sv_acc, sv_log)) = scenarios(Kind::Sipvm, defines) else {
        return;
    };
    check_expected(Kind::Sipvm, defines, &sv, &sv_log);
    assert!(
        Path::new(KAMAILIO).exists(),
        "{KAMAILIO} is missing (apt-get install kamailio): the stock file is compared with it"
    );
    let (km, km_acc, km_log) = scenarios(Kind::Kamailio, defines).expect("the stock file is there");
    check_expected(Kind::Kamailio, defines, &km, &km_log);
    // The flood's exact turn depends on where pike's window falls: compare its shape.
    let shape = |s: &Seen| {
        let mut flood: Vec<String> = Vec::new();
        for r in &s.flood {
            let k = if r.is_empty() { "blocked" } else { r.as_str() };
            if flood.last().map(String::as_str) != Some(k) {
                flood.push(k.to_string());
            }
        }
        Seen { flood, ..s.clone() }
    };
    let sv_cmp = shape(&sv);
    assert_eq!(
        sv_cmp,
        shape(&km),
        "sipvm and Kamailio differ on {defines:?}"
    );

    // acc: Kamailio logs the INVITE and the BYE with the stock file's log_extra fields.
    assert!(
        km_acc.iter().any(|r| r.contains("method=INVITE")
            && r.contains("src_user=alice")
            && r.contains("dst_user=bob")),
        "Kamailio's acc records: {km_acc:#?}"
    );
    // sipvm logs the same records (Call-ID, tags and timestamp aside).
    let neutral = |v: &[String]| -> Vec<String> {
        let re = regex::Regex::new(r"(from_tag|to_tag|call_id)=[^;]*").unwrap();
        v.iter()
            .map(|r| re.replace_all(r, "$1=X").into_owned())
            .collect()
    };
    assert_eq!(neutral(&sv_acc), neutral(&km_acc), "acc records");
}

#[test]
fn stock_cfg_no_define() {
    flavour(&[]);
}

#[test]
fn stock_cfg_with_debug() {
    flavour(&["WITH_DEBUG"]);
}

#[test]
fn stock_cfg_with_antiflood() {
    flavour(&["WITH_ANTIFLOOD"]);
}

#[test]
fn stock_cfg_with_pstn() {
    flavour(&["WITH_PSTN"]);
}
