//! Canary, promote, abort, rollback, status and counters of `Live`.

use sipvm_cfg::canary::bucket;
use sipvm_cfg::{Live, LoadError, StateError};
use sipvm_lang::CompileOptions;
use std::path::PathBuf;

const A: &str = "listen=udp:127.0.0.1:5060\nloadmodule \"sl.so\"\nrequest_route {\n    sl_send_reply(\"200\", \"OK\");\n}\n";
const B: &str = "listen=udp:127.0.0.1:5060\nloadmodule \"sl.so\"\nrequest_route {\n    sl_send_reply(\"202\", \"Accepted\");\n}\n";
const C: &str = "listen=udp:127.0.0.1:5060\nloadmodule \"sl.so\"\nrequest_route {\n    sl_send_reply(\"203\", \"Whatever\");\n}\n";
const BROKEN: &str = "listen=udp:127.0.0.1:5060\nloadmodule \"sl.so\"\nrequest_route {\n    sl_send_reply(\"202\", \"Accepted\")\n}\n";
const OTHER_PORT: &str = "listen=udp:127.0.0.1:5070\nloadmodule \"sl.so\"\nrequest_route {\n    sl_send_reply(\"200\", \"OK\");\n}\n";

struct Dir(PathBuf);
impl Dir {
    fn new() -> Dir {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("sipvm-canary-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        Dir(p)
    }
    fn write(&self, name: &str, text: &str) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().into_owned()
    }
}
impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn live(file: &str) -> Live {
    Live::load(
        file,
        CompileOptions::default(),
        sipvm_proxy::modules::registry(),
    )
    .unwrap()
}

/// A deterministic stream of Call-ID-like strings (xorshift).
fn call_ids(n: usize) -> Vec<String> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            format!("{:016x}-{}@host{}.example", x, x % 977, x % 13)
        })
        .collect()
}

#[test]
fn the_hash_is_pinned() {
    // Changing the hash would move dialogs between programs across a restart of a canary.
    // (Values checked against an independent FNV-1a implementation.)
    assert_eq!(bucket(b""), 45);
    assert_eq!(bucket(b"a84b4c76e66710@pc33.atlanta.com"), PINNED);
}
const PINNED: u8 = 13;

#[test]
fn a_canary_takes_its_share_and_keeps_dialogs_together() {
    let d = Dir::new();
    let (a, b) = (d.write("a.cfg", A), d.write("b.cfg", B));
    let live = live(&a);
    let cand = live.canary(&b, 30).unwrap();
    assert_eq!(cand.generation, 2);
    assert_eq!(live.current().generation, 1);
    let ids = call_ids(5000);
    let to_cand = ids
        .iter()
        .filter(|id| live.select(id.as_bytes()).generation == 2)
        .count();
    let share = to_cand as f64 / ids.len() as f64;
    assert!((0.24..=0.36).contains(&share), "share {share}");
    // The same Call-ID always meets the same program, through Live and a worker cache.
    let mut cache = live.cache();
    for id in ids.iter().take(500) {
        let g = live.select(id.as_bytes()).generation;
        for _ in 0..3 {
            assert_eq!(live.select(id.as_bytes()).generation, g);
            assert_eq!(cache.select(Some(id.as_bytes())).generation(), g);
        }
    }
    // No Call-ID: the current program.
    assert_eq!(cache.select(None).generation(), 1);
    // 0% and 100%.
    live.canary(&b, 0).unwrap();
    assert!(ids
        .iter()
        .all(|id| live.select(id.as_bytes()).generation == 1));
    live.canary(&b, 100).unwrap();
    assert!(ids
        .iter()
        .all(|id| live.select(id.as_bytes()).generation == 4));
    assert!(matches!(live.canary(&b, 101), Err(LoadError::Percent(101))));
}

#[test]
fn promote_abort_rollback() {
    let d = Dir::new();
    let (a, b, c) = (
        d.write("a.cfg", A),
        d.write("b.cfg", B),
        d.write("c.cfg", C),
    );
    let live = live(&a);
    assert_eq!(live.promote().unwrap_err(), StateError::NoCandidate);
    assert_eq!(live.abort().unwrap_err(), StateError::NoCandidate);
    assert_eq!(live.rollback().unwrap_err(), StateError::NoPrevious);

    // abort: the candidate goes, the current stays.
    live.canary(&b, 50).unwrap();
    assert_eq!(live.abort().unwrap().generation, 2);
    let st = live.status();
    assert_eq!(
        (st.current, st.candidate, st.percent, st.previous),
        (1, None, 0, None)
    );
    assert!(call_ids(200)
        .iter()
        .all(|id| live.select(id.as_bytes()).generation == 1));

    // promote: the candidate becomes current for everyone; the old one is previous.
    live.canary(&c, 50).unwrap();
    assert_eq!(live.promote().unwrap().generation, 3);
    let st = live.status();
    assert_eq!((st.current, st.candidate, st.previous), (3, None, Some(1)));
    assert!(call_ids(200)
        .iter()
        .all(|id| live.select(id.as_bytes()).generation == 3));

    // rollback: the previous snapshot itself, with its number; twice undoes once.
    let before = live.current();
    let back = live.rollback().unwrap();
    assert_eq!(back.generation, 1);
    assert_eq!(live.current().generation, 1);
    assert_eq!(live.previous().unwrap().generation, 3);
    assert!(std::sync::Arc::ptr_eq(&live.rollback().unwrap(), &before));
    assert_eq!(live.current().generation, 3);

    // Numbers are never reused: a reload after a rollback takes the next free one.
    live.rollback().unwrap();
    assert_eq!(live.reload(Some(&b)).unwrap().generation, 4);
    assert_eq!(live.previous().unwrap().generation, 1);

    // A reload keeps a running canary; a rollback too.
    live.canary(&c, 30).unwrap();
    live.reload(None).unwrap();
    let st = live.status();
    assert_eq!(
        (st.current, st.candidate, st.percent, st.previous),
        (6, Some(5), 30, Some(4))
    );
    live.rollback().unwrap();
    let st = live.status();
    assert_eq!(
        (st.current, st.candidate, st.previous),
        (4, Some(5), Some(6))
    );
}

#[test]
fn refused_canaries_and_reloads_change_nothing() {
    let d = Dir::new();
    let (a, b) = (d.write("a.cfg", A), d.write("b.cfg", B));
    let broken = d.write("broken.cfg", BROKEN);
    let moved = d.write("moved.cfg", OTHER_PORT);
    let live = live(&a);
    live.reload(Some(&b)).unwrap();
    live.canary(&a, 20).unwrap();
    let before = live.status();
    match live.canary(&broken, 30) {
        Err(LoadError::Compile { diagnostics, .. }) => {
            assert!(diagnostics.contains("broken.cfg:4:"), "{diagnostics}")
        }
        other => panic!("expected a compile error, got {other:?}"),
    }
    assert!(matches!(
        live.canary(&moved, 30),
        Err(LoadError::NeedsRestart { .. })
    ));
    assert!(live.reload(Some(&broken)).is_err());
    assert!(live.reload(Some(&moved)).is_err());
    assert_eq!(live.status(), before);
    // And the next good one takes the next number (refusals use none).
    assert_eq!(live.reload(None).unwrap().generation, 4);
}

#[test]
fn counters_per_generation() {
    let d = Dir::new();
    let (a, b) = (d.write("a.cfg", A), d.write("b.cfg", B));
    let live = live(&a);
    live.canary(&b, 50).unwrap();
    let mut cache = live.cache();
    let ids = call_ids(100);
    let mut want = [0u64; 2];
    for id in &ids {
        let r = cache.select(Some(id.as_bytes()));
        r.counters.request();
        r.counters.replies_in([
            &b"SIP/2.0 200 OK\r\n"[..],
            b"SIP/2.0 100 Trying",
            b"INVITE sip:x",
        ]);
        want[(r.generation() - 1) as usize] += 1;
    }
    let r = cache.select(None);
    r.counters.runtime_error();
    r.counters.drop_();
    r.counters.reply_sent(603);
    r.counters.reply_sent(99);
    let st = live.status();
    assert_eq!(st.generations.len(), 2);
    let (g2, g1) = (&st.generations[0], &st.generations[1]);
    assert_eq!((g2.generation, g2.role), (2, "candidate"));
    assert_eq!((g1.generation, g1.role), (1, "current"));
    assert_eq!(g1.counts.requests, want[0]);
    assert_eq!(g2.counts.requests, want[1]);
    assert_eq!(g2.counts.sent_class(2), want[1]);
    assert_eq!(g2.counts.sent_class(1), want[1]);
    assert_eq!(g1.counts.sent_class(6), 1);
    assert_eq!((g1.counts.runtime_errors, g1.counts.drops), (1, 1));
    assert_eq!((g2.counts.runtime_errors, g2.counts.drops), (0, 0));

    // Counters stay with their generation through promote and rollback.
    live.promote().unwrap();
    live.rollback().unwrap();
    let st = live.status();
    let g1 = st.generations.iter().find(|g| g.generation == 1).unwrap();
    assert_eq!((g1.role, g1.counts.requests), ("current", want[0]));
    // Old generations are kept up to a bound.
    for _ in 0..12 {
        live.reload(None).unwrap();
    }
    let st = live.status();
    assert!(st.generations.len() <= sipvm_cfg::KEPT_COUNTERS + 3);
    assert_eq!(st.generations[0].generation, 14);
    assert_eq!(st.generations[0].role, "current");
    assert_eq!(st.generations[1].role, "previous");
}
