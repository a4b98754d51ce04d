//! Shared by the dispatcher end-to-end tests: UDP callees, the stateless dispatcher
//! configuration, list files, and RPC helpers.
#![allow(dead_code)]

use crate::common::*;
use sipvm_rpc::{client, Value};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A next hop: answers OPTIONS probes with 200 and records the Call-ID of anything else.
pub struct Callee {
    pub port: u16,
    pub seen: Arc<Mutex<Vec<String>>>,
    /// The request lines of what was recorded in `seen`.
    pub lines: Arc<Mutex<Vec<String>>>,
    pub probes: Arc<AtomicUsize>,
    pub stop: Arc<AtomicBool>,
    pub thread: Option<JoinHandle<()>>,
}

impl Callee {
    pub fn start(port: u16) -> Callee {
        let peer = Peer::on(port);
        let port = peer.port;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let lines = Arc::new(Mutex::new(Vec::new()));
        let probes = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, l, p, st) = (seen.clone(), lines.clone(), probes.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                let Some((m, from)) = peer.recv(Duration::from_millis(20)) else {
                    continue;
                };
                if start_line(&m).starts_with("OPTIONS ") {
                    p.fetch_add(1, Ordering::Relaxed);
                    peer.send(from, &answer_200(&m));
                } else if let Some(c) = call_id(&m) {
                    l.lock().unwrap().push(start_line(&m).to_string());
                    s.lock().unwrap().push(c.to_string());
                }
            }
        });
        Callee {
            port,
            seen,
            lines,
            probes,
            stop,
            thread: Some(thread),
        }
    }

    pub fn uri(&self) -> String {
        format!("sip:127.0.0.1:{}", self.port)
    }

    pub fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    /// Stops answering and closes the socket; the port, to start again on.
    pub fn stop(mut self) -> u16 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
        self.port
    }
}

impl Drop for Callee {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

pub const ROUND_ROBIN_ROUTE: &str = r#"request_route {
    force_rport();
    if (!ds_select_dst("1", "4")) {
        sl_send_reply("503", "No Destination Available");
        exit;
    }
    forward();
}
"#;

/// The stateless dispatcher configuration; `extra` adds modparams.
pub fn cfg(list: &Path, rpc: u16, extra: &str) -> String {
    cfg_with(list, rpc, extra, ROUND_ROBIN_ROUTE)
}

pub fn cfg_with(list: &Path, rpc: u16, extra: &str, route: &str) -> String {
    format!(
        r#"listen=udp:127.0.0.1:5060
children=2
rpc_listen="127.0.0.1:{rpc}"
loadmodule "sl.so"
loadmodule "tm.so"
loadmodule "dispatcher.so"
modparam("dispatcher", "list_file", "{}")
modparam("dispatcher", "flags", 2)
modparam("dispatcher", "reload_delta", 0)
{extra}
{route}"#,
        list.display()
    )
}

/// Writes the list file whole (a rename), so a reload never reads half of it.
pub fn write_list(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

pub fn set1(callees: &[&Callee]) -> String {
    callees
        .iter()
        .map(|c| format!("1 {} 0 0\n", c.uri()))
        .collect()
}

pub struct Setup {
    pub server: Sipvm,
    pub url: String,
    pub list: PathBuf,
    pub _dir: Scratch,
}

pub fn start(list_text: &str, extra: &str) -> Setup {
    start_with(list_text, extra, ROUND_ROBIN_ROUTE)
}

pub fn start_with(list_text: &str, extra: &str, route: &str) -> Setup {
    let dir = Scratch::new();
    let list = dir.path().join("dispatcher.list");
    write_list(&list, list_text);
    let rpc = free_port();
    let server = Sipvm::start(&cfg_with(&list, rpc, extra, route), &[]);
    Setup {
        server,
        url: format!("http://127.0.0.1:{rpc}/RPC"),
        list,
        _dir: dir,
    }
}

pub fn rpc(url: &str, method: &str, params: Vec<Value>) -> Result<Value, sipvm_rpc::RpcError> {
    client::call(url, method, params).unwrap()
}

/// The FLAGS of `uri` in set 1, from `dispatcher.list`.
pub fn flags(url: &str, uri: &str) -> Option<String> {
    let l = client::call(url, "dispatcher.list", vec![]).ok()?.ok()?;
    for r in l["RECORDS"].as_array()? {
        for t in r["SET"]["TARGETS"].as_array()? {
            if t["DEST"]["URI"] == uri {
                return t["DEST"]["FLAGS"].as_str().map(String::from);
            }
        }
    }
    None
}

pub fn wait_for(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    f()
}

/// Sends `n` MESSAGE requests with Call-IDs `{tag}-{i}`, pausing now and then so the
/// loopback buffers never overflow.
pub fn send_requests(phone: &Peer, to: std::net::SocketAddr, tag: &str, n: usize) {
    for i in 0..n {
        let req = phone.request("MESSAGE", "sip:bob@example.test", &format!("{tag}-{i}"), "");
        phone.send(to, &req);
        if i % 20 == 19 {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

pub fn total(callees: &[&Callee]) -> usize {
    callees.iter().map(|c| c.count()).sum()
}
