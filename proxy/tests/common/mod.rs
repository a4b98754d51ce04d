//! Shared by the end-to-end tests: the real `sipvm` binary on loopback with a configuration
//! written to a scratch folder, free ports, and a UDP peer.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The shared/ folder (beside the checkout in CI; /work/shared on the dev machine).
pub fn shared() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    if p.exists() {
        p
    } else {
        PathBuf::from("/work/shared")
    }
}

/// A free UDP port on 127.0.0.1 (bound then released; good enough on a quiet loopback).
pub fn free_port() -> u16 {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    let p = s.local_addr().unwrap().port();
    drop(s);
    // Also free for TCP, since a listen line without a protocol binds both.
    match std::net::TcpListener::bind(("127.0.0.1", p)) {
        Ok(_) => p,
        Err(_) => free_port(),
    }
}

/// A scratch folder removed on drop.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new() -> Scratch {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "sipvm-e2e-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running `sipvm run`; stopped with SIGTERM on drop. Its stderr is kept in `log`.
pub struct Sipvm {
    child: Option<Child>,
    pub port: u16,
    pub addr: SocketAddr,
    pub dir: Scratch,
    pub log: PathBuf,
}

impl Sipvm {
    /// Starts sipvm on `cfg`, where every `127.0.0.1:5060` is replaced by a free port, and
    /// each `(from, to)` of `subst` is replaced too (to move next hops to test peers).
    pub fn start(cfg: &str, subst: &[(&str, String)]) -> Sipvm {
        let port = free_port();
        let mut text = cfg.replace("127.0.0.1:5060", &format!("127.0.0.1:{port}"));
        for (from, to) in subst {
            text = text.replace(from, to);
        }
        let dir = Scratch::new();
        let file = dir.path().join("test.cfg");
        std::fs::write(&file, text).unwrap();
        let log = dir.path().join("sipvm.log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_sipvm"))
            .args(["run", "-f"])
            .arg(&file)
            .current_dir(dir.path())
            .env(
                "SIPVM_LOG",
                std::env::var("SIPVM_LOG").unwrap_or_else(|_| "info".into()),
            )
            .env("SIPVM_LOOPBACK_ONLY", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start sipvm");
        // Wait for the "sipvm running" line; copy stderr to the log file meanwhile.
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let log_path = log.clone();
        std::thread::spawn(move || {
            use std::io::Write;
            let mut out = std::fs::File::create(&log_path).unwrap();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = writeln!(out, "{line}");
                if line.contains("sipvm running") {
                    let _ = tx.send(());
                }
            }
        });
        let ok = rx.recv_timeout(Duration::from_secs(10)).is_ok();
        let me = Sipvm {
            child: Some(child),
            port,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            dir,
            log,
        };
        assert!(ok, "sipvm did not start:\n{}", me.log_text());
        me
    }

    /// Starts an example from shared/examples (see `start`).
    pub fn example(name: &str, subst: &[(&str, String)]) -> Sipvm {
        let text = std::fs::read_to_string(shared().join("examples").join(name)).unwrap();
        Sipvm::start(&text, subst)
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The log once it holds `needle` (a line the script writes after its reply may land
    /// later than the reply), or as it is after `limit`.
    pub fn log_with(&self, needle: &str, limit: Duration) -> String {
        let end = Instant::now() + limit;
        loop {
            let t = self.log_text();
            if t.contains(needle) || Instant::now() >= end {
                return t;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| c.try_wait().ok().flatten().is_none())
    }

    /// Stops it with SIGTERM and waits; returns its exit status success.
    pub fn stop(&mut self) -> bool {
        let Some(mut c) = self.child.take() else {
            return false;
        };
        unsafe_kill(c.id());
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Ok(Some(st)) = c.try_wait() {
                return st.success();
            }
            if Instant::now() > deadline {
                let _ = c.kill();
                let _ = c.wait();
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn unsafe_kill(pid: u32) {
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
}

impl Drop for Sipvm {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A UDP peer on 127.0.0.1 (a phone, or a next hop).
pub struct Peer {
    pub sock: UdpSocket,
    pub port: u16,
}

impl Peer {
    pub fn new() -> Peer {
        Peer::on(0)
    }

    pub fn on(port: u16) -> Peer {
        let sock = UdpSocket::bind(("127.0.0.1", port)).unwrap();
        let port = sock.local_addr().unwrap().port();
        Peer { sock, port }
    }

    pub fn send(&self, to: SocketAddr, msg: &[u8]) {
        self.sock.send_to(msg, to).unwrap();
    }

    /// The next datagram within `wait`, or `None`.
    pub fn recv(&self, wait: Duration) -> Option<(Vec<u8>, SocketAddr)> {
        self.sock.set_read_timeout(Some(wait)).unwrap();
        let mut buf = vec![0u8; 65535];
        match self.sock.recv_from(&mut buf) {
            Ok((n, from)) => {
                buf.truncate(n);
                Some((buf, from))
            }
            Err(_) => None,
        }
    }

    /// A request from this peer: `method` to `ruri`, with a unique branch and Call-ID.
    pub fn request(&self, method: &str, ruri: &str, call_id: &str, extra: &str) -> Vec<u8> {
        format!(
            "{method} {ruri} SIP/2.0\r\n\
             Via: SIP/2.0/UDP 127.0.0.1:{p};branch=z9hG4bK-{call_id};rport\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:alice@127.0.0.1:{p}>;tag=a-{call_id}\r\n\
             To: <sip:bob@example.test>\r\n\
             Call-ID: {call_id}\r\n\
             CSeq: 1 {method}\r\n\
             {extra}Content-Length: 0\r\n\r\n",
            p = self.port
        )
        .into_bytes()
    }
}

/// The status code of a reply.
pub fn status(msg: &[u8]) -> Option<u16> {
    let s = std::str::from_utf8(msg).ok()?;
    s.strip_prefix("SIP/2.0 ")?.get(..3)?.parse().ok()
}

/// Every value of a header (case-insensitive name, compact form not expanded).
pub fn header<'a>(msg: &'a [u8], name: &str) -> Vec<&'a str> {
    let s = std::str::from_utf8(msg).unwrap_or("");
    let head = s.split("\r\n\r\n").next().unwrap_or("");
    head.split("\r\n")
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .filter(|(n, _)| n.trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
        .collect()
}

/// Whether the `sipp` binary is installed (the e2e tests need it; `.ci/run` installs it).
pub fn have_sipp() -> bool {
    Command::new("sipp").arg("-v").output().is_ok()
}

// ---- Helpers of the example and sipp end-to-end tests (e2e_examples.rs, e2e_sipp.rs). ----

/// The text of a shared example.
pub fn example_text(name: &str) -> String {
    std::fs::read_to_string(shared().join("examples").join(name)).unwrap()
}

/// The start line of a message.
pub fn start_line(msg: &[u8]) -> &str {
    let s = std::str::from_utf8(msg).unwrap_or("");
    s.split("\r\n").next().unwrap_or("")
}

/// The header lines of a message, as sent (no unfolding), without the start line.
pub fn head_lines(msg: &[u8]) -> Vec<&str> {
    let s = std::str::from_utf8(msg).unwrap_or("");
    let head = s.split("\r\n\r\n").next().unwrap_or("");
    head.split("\r\n").skip(1).collect()
}

/// The body of a message (what follows the empty line).
pub fn body(msg: &[u8]) -> &[u8] {
    match msg.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(i) => &msg[i + 4..],
        None => &[],
    }
}

/// Every Contact value (`Contact` and compact `m`), comma-separated lists split outside
/// `<...>` and quotes, in order.
pub fn contacts(msg: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for name in ["Contact", "m"] {
        for v in header(msg, name) {
            let (mut cur, mut angle, mut quote) = (String::new(), false, false);
            for c in v.chars() {
                match c {
                    '"' if !angle => quote = !quote,
                    '<' if !quote => angle = true,
                    '>' if !quote => angle = false,
                    ',' if !angle && !quote => {
                        out.push(cur.trim().to_string());
                        cur.clear();
                        continue;
                    }
                    _ => {}
                }
                cur.push(c);
            }
            if !cur.trim().is_empty() {
                out.push(cur.trim().to_string());
            }
        }
    }
    out
}

/// A Via value split into its `SIP/2.0/UDP host:port` part and its parameters, sorted (the
/// order of parameters carries no meaning).
pub fn via_parts(via: &str) -> (String, Vec<String>) {
    let mut it = via.split(';');
    let sent_by = it.next().unwrap_or("").trim().to_string();
    let mut params: Vec<String> = it.map(|p| p.trim().to_string()).collect();
    params.sort();
    (sent_by, params)
}

/// The CSeq number of a message.
pub fn cseq_number(msg: &[u8]) -> Option<u32> {
    header(msg, "CSeq")
        .first()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

impl Peer {
    /// Every datagram until none arrives for `quiet`.
    pub fn recv_all(&self, quiet: Duration) -> Vec<(Vec<u8>, SocketAddr)> {
        let mut out = Vec::new();
        while let Some(m) = self.recv(quiet) {
            out.push(m);
        }
        out
    }

    /// Panics with the message when something arrives within `wait`.
    pub fn expect_nothing(&self, wait: Duration, what: &str) {
        if let Some((m, from)) = self.recv(wait) {
            panic!(
                "{what}: unexpected datagram from {from}:\n{}",
                String::from_utf8_lossy(&m)
            );
        }
    }

    /// A copy of the socket (for a reader thread).
    pub fn try_clone(&self) -> Peer {
        Peer {
            sock: self.sock.try_clone().unwrap(),
            port: self.port,
        }
    }
}

/// A child process killed (SIGKILL) on drop, with its output in files of a scratch folder.
pub struct Bounded {
    child: Option<Child>,
    pub what: String,
    pub out: PathBuf,
}

impl Bounded {
    /// Starts `cmd` in `dir` with stdout and stderr to `dir/<name>.out`; stdin closed.
    pub fn spawn(mut cmd: Command, dir: &Path, name: &str) -> Bounded {
        let out = dir.join(format!("{name}.out"));
        let f = std::fs::File::create(&out).unwrap();
        let what = format!("{cmd:?}");
        let child = cmd
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(f.try_clone().unwrap())
            .stderr(f)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        Bounded {
            child: Some(child),
            what,
            out,
        }
    }

    /// Waits at most `limit` for the exit; `None` (and the process killed) on a timeout.
    pub fn wait(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let mut c = self.child.take()?;
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(Some(st)) = c.try_wait() {
                return Some(st);
            }
            if Instant::now() > deadline {
                let _ = c.kill();
                let _ = c.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// What it printed so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }
}

impl Drop for Bounded {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

// ---- Helpers of the torture tests (e2e_torture.rs, receive_path.rs). ----

/// One row of a torture directory's EXPECTED.tsv.
#[derive(Debug, Clone)]
pub struct TortureRow {
    pub dir: &'static str,
    pub file: String,
    pub section: String,
    pub class: String,
    pub note: String,
}

/// Every row of `shared/testdata/<dir>/EXPECTED.tsv` (comments and blank lines skipped).
pub fn torture_rows(dir: &'static str) -> Vec<TortureRow> {
    let tsv =
        std::fs::read_to_string(shared().join("testdata").join(dir).join("EXPECTED.tsv")).unwrap();
    tsv.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            assert!(c.len() >= 4, "{dir}/EXPECTED.tsv: short row {l:?}");
            TortureRow {
                dir,
                file: c[0].to_string(),
                section: c[1].to_string(),
                class: c[2].to_string(),
                note: c[3..].join("\t"),
            }
        })
        .collect()
}

/// A torture message as sent on the wire: RFC 4475's .dat files bit-exact; RFC 5118's files
/// have LF line ends, turned into CRLF. Converting changes the body length and RFC 5118's own
/// Content-Length values are off, so its Content-Length is set to the converted body's
/// length; the two §4.10 files lost the empty line ending their headers when they were cut
/// out of the RFC (which calls them valid), so it is put back. (As in sip_torture.rs.)
pub fn torture_message(dir: &str, file: &str) -> Vec<u8> {
    let raw = std::fs::read(shared().join("testdata").join(dir).join(file)).unwrap();
    if dir != "rfc5118" {
        return raw;
    }
    let mut out = Vec::with_capacity(raw.len() + 64);
    for (i, &b) in raw.iter().enumerate() {
        if b == b'\n' && (i == 0 || raw[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    if !out.windows(4).any(|w| w == b"\r\n\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    let hend = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let body_len = out.len() - (hend + 4);
    let head = String::from_utf8(out[..hend + 4].to_vec()).unwrap();
    let mut fixed = String::new();
    for line in head.split_inclusive("\r\n") {
        if line.starts_with("Content-Length:") {
            fixed.push_str(&format!("Content-Length: {body_len}\r\n"));
        } else {
            fixed.push_str(line);
        }
    }
    let mut v = fixed.into_bytes();
    v.extend_from_slice(&out[hend + 4..]);
    v
}

/// The Call-ID of a message (`Call-ID` or compact `i`), if any.
pub fn call_id(msg: &[u8]) -> Option<&str> {
    header(msg, "Call-ID")
        .into_iter()
        .chain(header(msg, "i"))
        .next()
}

impl Peer {
    /// Asks for a large receive buffer (capped by net.core.rmem_max), for bursts.
    pub fn big_buffer(self) -> Peer {
        let _ = socket2::SockRef::from(&self.sock).set_recv_buffer_size(4 << 20);
        self
    }
}

/// Whether some process has a UDP socket bound to `port` on 127.0.0.1 or any address
/// (from /proc/net/udp, without binding the port, which would race with that process).
pub fn udp_port_bound(port: u16) -> bool {
    let Ok(t) = std::fs::read_to_string("/proc/net/udp") else {
        return false;
    };
    let want = [
        format!("0100007F:{port:04X}"),
        format!("00000000:{port:04X}"),
    ];
    t.lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().nth(1))
        .any(|local| want.iter().any(|w| w == local))
}

/// Waits up to `limit` for `udp_port_bound(port)`.
pub fn wait_udp_bound(port: u16, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while !udp_port_bound(port) {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

// ---- Helpers of the reload tests (e2e_reload.rs). ----

impl Sipvm {
    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// Sends signal `sig` (a name `kill` knows: `HUP`, `USR1`...); whether `kill` succeeded.
    pub fn signal(&self, sig: &str) -> bool {
        let Some(pid) = self.pid() else {
            return false;
        };
        Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(pid.to_string())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// The path of the configuration file it runs (rewrite it, then `signal("HUP")`).
    pub fn cfg_path(&self) -> PathBuf {
        self.dir.path().join("test.cfg")
    }
}

// ---- shared by the example tests ----

pub const WAIT: Duration = Duration::from_secs(3);
pub const QUIET: Duration = Duration::from_millis(300);

pub fn text(m: &[u8]) -> String {
    String::from_utf8_lossy(m).into_owned()
}

/// The next datagram at `peer`, which must come from `from`.
pub fn expect_from(peer: &Peer, from: SocketAddr, what: &str) -> Vec<u8> {
    let (m, src) = peer
        .recv(WAIT)
        .unwrap_or_else(|| panic!("{what}: nothing arrived"));
    assert_eq!(
        src,
        from,
        "{what}: sent from the wrong address:\n{}",
        text(&m)
    );
    m
}

/// Sends `req` from `phone` and returns the reply, which must come from the server.
pub fn ask(server: &Sipvm, phone: &Peer, req: &[u8]) -> Vec<u8> {
    phone.send(server.addr, req);
    expect_from(phone, server.addr, &format!("reply to\n{}", text(req)))
}

pub fn hop_subst(from: &'static str, hop: &Peer) -> (&'static str, String) {
    (from, format!("127.0.0.1:{}", hop.port))
}

/// A request without `Max-Forwards`.
pub fn without_max_forwards(req: Vec<u8>) -> Vec<u8> {
    let s = String::from_utf8(req).unwrap();
    let s2 = s.replace("Max-Forwards: 70\r\n", "");
    assert_ne!(s, s2);
    s2.into_bytes()
}

pub fn with_max_forwards(req: Vec<u8>, value: &str) -> Vec<u8> {
    let s = String::from_utf8(req).unwrap();
    s.replace(
        "Max-Forwards: 70\r\n",
        &format!("Max-Forwards: {value}\r\n"),
    )
    .into_bytes()
}

/// A 200 the next hop would send for the forwarded request `req`: its Vias, From, To (with a
/// tag), Call-ID and CSeq, in order.
pub fn answer_200(req: &[u8]) -> Vec<u8> {
    let mut out = String::from("SIP/2.0 200 OK\r\n");
    for line in head_lines(req) {
        let name = line.split(':').next().unwrap_or("").trim();
        if name.eq_ignore_ascii_case("Via") {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    for name in ["From", "To", "Call-ID", "CSeq"] {
        let v = header(req, name)[0];
        let v = if name == "To" {
            format!("{v};tag=uas-1")
        } else {
            v.to_string()
        };
        out.push_str(&format!("{name}: {v}\r\n"));
    }
    out.push_str(
        "Contact: <sip:bob@127.0.0.1:5999>\r\nServer: e2e-uas\r\nContent-Length: 0\r\n\r\n",
    );
    out.into_bytes()
}

/// The torture configuration of the issue: `force_rport()`, maxfwd, `sanity_check()`, then
/// 200. Replies are relayed by Via (no reply_route).
pub const TORTURE_CFG: &str = r#"
listen=udp:127.0.0.1:5060
loadmodule "sl.so"
loadmodule "maxfwd.so"
loadmodule "sanity.so"

request_route {
    force_rport();
    if (!mf_process_maxfwd_header("10")) {
        sl_send_reply("483", "Too Many Hops");
        exit;
    }
    if (!sanity_check()) {
        exit;
    }
    sl_send_reply("200", "OK");
}
"#;

// ---- sipp, shared by the sipp end-to-end tests ----

/// Panics with the install hint when sipp is missing (the e2e tests need it).
pub fn require_sipp() {
    assert!(
        have_sipp(),
        "sipp is not installed: these end-to-end tests need it (`.ci/run` installs the Debian \
         package `sip-tester`; locally: apt-get install sip-tester)"
    );
}

/// sipp on 127.0.0.1 without a keyboard, the whole run bounded by `limit` (a sipp duration
/// such as "60s") and failing when it runs out, first errors traced beside the scenario.
pub fn sipp_command(args: &[&str], limit: &str) -> Command {
    let mut c = Command::new("sipp");
    c.args(args).args([
        "-i",
        "127.0.0.1",
        "-nostdin",
        "-timeout",
        limit,
        "-timeout_error",
        "-trace_err",
    ]);
    c
}

/// The final "Successful call" and "Failed call" totals from sipp's screen dump.
pub fn sipp_totals(out: &str) -> (Option<u64>, Option<u64>) {
    let last = |key: &str| {
        out.lines()
            .rev()
            .find(|l| l.trim_start().starts_with(key))
            .and_then(|l| l.split('|').nth(2))
            .and_then(|v| v.trim().parse().ok())
    };
    (last("Successful call"), last("Failed call"))
}

/// A scenario of tests/sipp copied into `dir` (sipp writes its traces beside the scenario,
/// so the checkout stays clean); its name, for `-sf`.
pub fn sipp_scenario(dir: &Path, name: &str) -> String {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sipp")
        .join(name);
    std::fs::copy(&src, dir.join(name)).unwrap();
    name.to_string()
}

/// sipp's error logs and the tail of its screen, for a failure message.
pub fn sipp_evidence(dir: &Path, runs: &[&Bounded]) -> String {
    let mut s = String::new();
    for r in runs {
        let out = r.output();
        let tail: Vec<&str> = out.lines().rev().take(30).collect();
        s.push_str(&format!("--- {}\n", r.what));
        for l in tail.into_iter().rev() {
            s.push_str(l);
            s.push('\n');
        }
    }
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.ends_with("_errors.log") {
            let t = std::fs::read_to_string(e.path()).unwrap_or_default();
            s.push_str(&format!("--- {name}\n{}\n", &t[..t.len().min(4000)]));
        }
    }
    s
}

/// `tests/sipp/<prefix>-caller.xml` makes `calls` calls at `rate` a second through `server`
/// to `<prefix>-callee.xml`; both must finish with every call successful and none failed.
pub fn sipp_calls_through(server: &Sipvm, prefix: &str, calls: u32, rate: u32) {
    assert!(
        have_sipp(),
        "sipp is not installed (apt-get install sip-tester)"
    );
    let dir = Scratch::new();
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sipp");
    let (caller_sf, callee_sf) = (
        format!("{prefix}-caller.xml"),
        format!("{prefix}-callee.xml"),
    );
    for f in [&caller_sf, &callee_sf] {
        std::fs::copy(src.join(f), dir.path().join(f)).unwrap();
    }
    let (n, r) = (calls.to_string(), rate.to_string());
    let callee_port = free_port();
    let cp = callee_port.to_string();
    let mut callee = Bounded::spawn(
        sipp_command(&["-sf", &callee_sf, "-p", &cp, "-m", &n], "60s"),
        dir.path(),
        "callee",
    );
    assert!(
        wait_udp_bound(callee_port, Duration::from_secs(5)),
        "callee sipp did not bind\n{}",
        callee.output()
    );
    let caller_port = free_port().to_string();
    let target = format!("127.0.0.1:{}", server.port);
    let callee_addr = format!("127.0.0.1:{callee_port}");
    let mut caller = Bounded::spawn(
        sipp_command(
            &[
                "-sf",
                &caller_sf,
                &target,
                "-key",
                "callee",
                &callee_addr,
                "-p",
                &caller_port,
                "-m",
                &n,
                "-r",
                &r,
            ],
            "60s",
        ),
        dir.path(),
        "caller",
    );
    let st = caller.wait(Duration::from_secs(75));
    let cst = callee.wait(Duration::from_secs(10));
    let ev = || {
        format!(
            "{}\n--- sipvm\n{}",
            sipp_evidence(dir.path(), &[&caller, &callee]),
            server.log_text()
        )
    };
    let want = (Some(u64::from(calls)), Some(0));
    for (who, st, run) in [("caller", st, &caller), ("callee", cst, &callee)] {
        let st = st.unwrap_or_else(|| panic!("{who} did not finish\n{}", ev()));
        assert!(st.success(), "{who}: {st}\n{}", ev());
        assert_eq!(sipp_totals(&run.output()), want, "{who}\n{}", ev());
    }
}
