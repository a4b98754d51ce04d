//! SIGHUP reloads under load: the real binary keeps answering every request while its file is
//! rewritten and reloaded ~40 times, refuses broken versions (logging their diagnostics and
//! keeping its generation), and afterwards answers with the last good program only.

mod common;
use common::*;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn cfg(code: u16, reason: &str) -> String {
    format!(
        "listen=udp:127.0.0.1:5060\nchildren=4\nloadmodule \"sl.so\"\n\nrequest_route {{\n    \
         sl_send_reply(\"{code}\", \"{reason}\");\n    exit;\n}}\n"
    )
}

/// Broken versions: what they break, and what the refusal must show.
fn broken() -> Vec<(String, &'static str)> {
    vec![
        // A missing semicolon at the end of line 6.
        (
            "listen=udp:127.0.0.1:5060\nchildren=4\nloadmodule \"sl.so\"\n\nrequest_route {\n    \
             sl_send_reply(\"202\", \"Accepted\")\n    exit;\n}\n"
                .to_string(),
            "test.cfg:6:37: error: expected ';'",
        ),
        // An unknown function on line 6.
        (
            "listen=udp:127.0.0.1:5060\nchildren=4\nloadmodule \"sl.so\"\n\nrequest_route {\n    \
             no_such_function(\"x\");\n}\n"
                .to_string(),
            "test.cfg:6:",
        ),
        // A restart-only parameter.
        (
            "listen=udp:127.0.0.1:5060\nchildren=5\nloadmodule \"sl.so\"\n\nrequest_route {\n    \
             sl_send_reply(\"200\", \"OK\");\n}\n"
                .to_string(),
            "need a restart: children",
        ),
    ]
}

/// A request's Call-ID and its final status (`None`: no reply).
type Outcome = (String, Option<u16>);

fn count(log: &str, what: &str) -> usize {
    log.matches(what).count()
}

/// Waits until `what` occurs `n` times in the log (bounded).
fn wait_log(s: &Sipvm, what: &str, n: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let log = s.log_text();
        if count(&log, what) >= n {
            return log;
        }
        assert!(Instant::now() < deadline, "no {n}x {what:?} in:\n{log}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Sends one request and waits for its final reply, retransmitting on silence (as a UDP
/// client does); the status, or `None` when no reply came.
fn ask(peer: &Peer, server: &Sipvm, call_id: &str) -> Option<u16> {
    let ruri = format!("sip:x@127.0.0.1:{}", server.port);
    let req = peer.request("OPTIONS", &ruri, call_id, "");
    for _ in 0..4 {
        peer.send(server.addr, &req);
        let deadline = Instant::now() + Duration::from_millis(500);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            let Some((m, _)) = peer.recv(left.max(Duration::from_millis(1))) else {
                break;
            };
            if call_id_of(&m) == Some(call_id) {
                match status(&m) {
                    Some(c) if c >= 200 => return Some(c),
                    _ => {}
                }
            }
        }
    }
    None
}

fn call_id_of(m: &[u8]) -> Option<&str> {
    common::call_id(m)
}

#[test]
fn sighup_reloads_under_load() {
    let server = Arc::new(Sipvm::start(&cfg(200, "OK"), &[]));
    let path = server.cfg_path();
    let port = server.port;
    let write = |text: &str| {
        let t = text.replace("127.0.0.1:5060", &format!("127.0.0.1:{port}"));
        // Write then rename, so that a reload never reads a half-written file.
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, t).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
    };

    // ~32 requests in flight: 32 clients, each with one outstanding request at a time.
    let stop = Arc::new(AtomicBool::new(false));
    let results: Arc<Mutex<Vec<Outcome>>> = Arc::default();
    let mut clients = Vec::new();
    for t in 0..32 {
        let (stop, results, server) = (stop.clone(), results.clone(), server.clone());
        clients.push(std::thread::spawn(move || {
            let peer = Peer::new().big_buffer();
            let started = Instant::now();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(6) {
                let id = format!("reload-{t}-{n}");
                let code = ask(&peer, &server, &id);
                results.lock().unwrap().push((id, code));
                n += 1;
            }
        }));
    }

    // ~40 good reloads alternating 202 and 200, with the broken versions in between.
    let mut generation = 1;
    let mut refused = 0;
    let broken = broken();
    for i in 0..40 {
        let good = if i % 2 == 0 {
            (202, "Accepted")
        } else {
            (200, "OK")
        };
        write(&cfg(good.0, good.1));
        assert!(server.signal("HUP"));
        generation += 1;
        wait_log(&server, &format!("now generation {generation}\n"), 1);
        // Let the load meet this generation for a moment.
        std::thread::sleep(Duration::from_millis(20));
        if i % 13 == 5 {
            let (text, shows) = &broken[refused % broken.len()];
            write(text);
            assert!(server.signal("HUP"));
            refused += 1;
            let log = wait_log(&server, "SIGHUP: reload refused", refused);
            assert!(log.contains(shows), "refusal shows {shows:?}:\n{log}");
            let last = log.lines().rfind(|l| l.contains("reload refused"));
            assert!(
                last.is_some_and(|l| l.contains(&format!("generation {generation} stays"))),
                "{log}"
            );
            // The good version again, so the reload of the next round starts from it.
            write(&cfg(good.0, good.1));
        }
    }
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let results = results.lock().unwrap();
    let log = server.log_text();
    assert!(
        results.len() >= 32,
        "the load ran: {} requests",
        results.len()
    );
    eprintln!(
        "{} requests during {} reloads and {refused} refusals",
        results.len(),
        generation - 1
    );
    let codes: HashSet<u16> = results.iter().filter_map(|(_, c)| *c).collect();
    let missing: Vec<&String> = results
        .iter()
        .filter(|(_, c)| c.is_none())
        .map(|(id, _)| id)
        .collect();
    assert!(missing.is_empty(), "no final reply for {missing:?}\n{log}");
    eprintln!("codes seen: {codes:?}");
    assert!(
        codes.iter().all(|c| *c == 200 || *c == 202),
        "codes {codes:?}"
    );
    assert!(refused >= 3, "{refused} refusals");

    // Afterwards only the last good program (i = 39: 200) answers.
    let peer = Peer::new();
    for n in 0..20 {
        assert_eq!(ask(&peer, &server, &format!("after-{n}")), Some(200));
    }
    assert!(!log.contains("panicked"), "{log}");
}
