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
            .env("SIPVM_LOG", std::env::var("SIPVM_LOG").unwrap_or_else(|_| "info".into()))
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

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        self.child.as_mut().is_some_and(|c| c.try_wait().ok().flatten().is_none())
    }

    /// Stops it with SIGTERM and waits; returns its exit status success.
    pub fn stop(&mut self) -> bool {
        let Some(mut c) = self.child.take() else { return false };
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
    let _ = Command::new("kill").args(["-TERM", &pid.to_string()]).status();
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
