//! Hostile bytes never panic the parser, its accessors, or the whole receive path.
//!
//! - The cargo-fuzz seed corpus (`fuzz/corpus/parse/`, the RFC 4475 and RFC 5118 torture
//!   messages as sent on the wire) is replayed through `Msg::parse` and every accessor, so a
//!   plain `cargo test` runs what `cargo fuzz run parse` starts from.
//! - Property tests: arbitrary bytes, and torture messages with slices flipped, inserted,
//!   deleted or duplicated, into the parser and into a [`Worker`] built in-process (the
//!   torture configuration, replies relayed by Via) called through `Handler::on_message`
//!   with no sockets. Whatever the worker queues must go to loopback: the messages name
//!   hosts such as 192.0.2.x, and `SIPVM_LOOPBACK_ONLY=1` (set here as the e2e harness sets
//!   it) must keep every send on 127.0.0.0/8.

mod common;

use bytes::Bytes;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use sipvm_cfg::Live;
use sipvm_lang::CompileOptions;
use sipvm_proxy::transport::{Handler, Local, Outbox, Proto};
use sipvm_proxy::worker::Worker;
use std::cell::RefCell;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Once};

/// Cases per property (each test stays well under the 10 s budget in a debug build);
/// `RECEIVE_PATH_CASES=100000` for a longer hunt.
fn cases() -> u32 {
    std::env::var("RECEIVE_PATH_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512)
}

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/parse")
}

/// Every seed of the fuzz corpus, by file name, sorted.
fn corpus() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(corpus_dir())
        .expect("fuzz/corpus/parse")
        .map(|e| {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    out.sort();
    out
}

use sipvm_proxy::sip::exercise;

#[test]
fn seed_corpus_replays_through_the_parser() {
    let seeds = corpus();
    assert!(seeds.len() >= 62, "{} seeds", seeds.len());
    let parsed = seeds.iter().filter(|(_, s)| exercise(s)).count();
    // Every truncation too: the parser's edge cases are where a message ends.
    for (_, s) in &seeds {
        for n in (0..s.len()).step_by(7) {
            exercise(&s[..n]);
        }
    }
    println!("{} seeds, {parsed} parse", seeds.len());
}

#[test]
fn seed_corpus_is_the_torture_messages() {
    // The corpus holds each torture message as the e2e tests send it (`rfc4475-<file>`,
    // `rfc5118-<file>` with CRLF line ends); a message added to testdata must be copied in.
    let seeds = corpus();
    for dir in ["rfc4475", "rfc5118"] {
        for row in common::torture_rows(dir) {
            let name = format!("{dir}-{}", row.file);
            let seed = seeds.iter().find(|(n, _)| *n == name);
            let seed = seed.unwrap_or_else(|| panic!("fuzz/corpus/parse/{name} is missing"));
            assert!(
                seed.1 == common::torture_message(dir, &row.file),
                "fuzz/corpus/parse/{name} differs from the torture message"
            );
        }
    }
}

// ---- the receive path, in-process -----------------------------------------------------------

/// A worker on the torture configuration, with the socket it pretends to receive on.
fn worker() -> (Worker, Local, common::Scratch) {
    static LOOPBACK_ONLY: Once = Once::new();
    LOOPBACK_ONLY.call_once(|| std::env::set_var("SIPVM_LOOPBACK_ONLY", "1"));
    let dir = common::Scratch::new();
    let file = dir.path().join("receive.cfg");
    std::fs::write(&file, common::TORTURE_CFG).unwrap();
    let live = Live::load(
        file.to_str().unwrap(),
        CompileOptions::default(),
        sipvm_proxy::modules::registry(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let shared = Arc::new(sipvm_proxy::modules::shared(&live.current()).expect("module state"));
    let local = Local {
        index: 0,
        proto: Proto::Udp,
        addr: SocketAddr::from(([127, 0, 0, 1], 5060)),
        advertise: None,
        name: None,
    };
    let locals: Arc<[Local]> = vec![local.clone()].into();
    (Worker::new(live.cache(), shared, locals), local, dir)
}

/// The phone the messages come from.
fn src() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 40_000))
}

/// Runs one message through the worker; everything it queued must stay on loopback.
fn receive(w: &mut Worker, local: &Local, out: &mut Outbox, msg: &[u8]) -> Result<usize, String> {
    out.clear();
    w.on_message(Bytes::copy_from_slice(msg), src(), local, out);
    for o in out.items() {
        if !o.dst.ip().is_loopback() {
            return Err(format!("queued a send to {}", o.dst));
        }
        if o.proto != Proto::Udp || o.via_socket.is_some_and(|i| i != 0) {
            return Err(format!("queued {:?} via {:?}", o.proto, o.via_socket));
        }
    }
    Ok(out.len())
}

#[test]
fn seed_corpus_through_the_worker() {
    let (mut w, local, _dir) = worker();
    let mut out = Outbox::new();
    let mut sent = 0;
    for (name, s) in corpus() {
        sent += receive(&mut w, &local, &mut out, &s).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    // A normal request still gets its 200 afterwards (once sanity_check exists) or at least
    // nothing outside loopback; a Max-Forwards: 0 request gets maxfwd's 483 in any case.
    let zero = b"OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bK-rp\r\n\
                 Max-Forwards: 0\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\n\
                 Call-ID: rp-zero\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    assert_eq!(receive(&mut w, &local, &mut out, zero), Ok(1));
    assert_eq!(out.items()[0].dst, src());
    assert!(out.items()[0].data.starts_with(b"SIP/2.0 483 "));
    // A reply whose top Via is ours is relayed to the next Via when that is on loopback, and
    // not at all when it is not (SIPVM_LOOPBACK_ONLY).
    for (next, relayed) in [("127.0.0.1:40001", 1), ("192.0.2.1:5060", 0)] {
        let reply = format!(
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKsv1\r\n\
             Via: SIP/2.0/UDP {next};branch=z9hG4bK-up\r\nFrom: <sip:a@x>;tag=1\r\n\
             To: <sip:b@x>;tag=2\r\nCall-ID: rp-relay\r\nCSeq: 1 OPTIONS\r\n\
             Content-Length: 0\r\n\r\n"
        );
        assert_eq!(
            receive(&mut w, &local, &mut out, reply.as_bytes()),
            Ok(relayed),
            "{next}"
        );
        if relayed == 1 {
            assert_eq!(out.items()[0].dst.to_string(), next);
        }
    }
    println!("{sent} datagrams queued for the corpus");
}

// ---- mutations --------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Mutation {
    /// Overwrite a slice with one byte value.
    Flip(usize, usize, u8),
    /// Insert bytes (often SIP punctuation).
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    /// Copy a slice to another place.
    Duplicate(usize, usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let punct = prop::sample::select(&b"\r\n :;,<>\"\\[]@?=%/\t\x000123456789"[..]);
    prop_oneof![
        (any::<usize>(), 1usize..8, any::<u8>()).prop_map(|(a, n, b)| Mutation::Flip(a, n, b)),
        (any::<usize>(), prop::collection::vec(punct, 1..6))
            .prop_map(|(a, v)| Mutation::Insert(a, v)),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..4))
            .prop_map(|(a, v)| Mutation::Insert(a, v)),
        (any::<usize>(), 1usize..32).prop_map(|(a, n)| Mutation::Delete(a, n)),
        (any::<usize>(), 1usize..128, any::<usize>())
            .prop_map(|(a, n, at)| Mutation::Duplicate(a, n, at)),
    ]
}

fn mutate(mut v: Vec<u8>, ms: &[Mutation]) -> Vec<u8> {
    for m in ms {
        let n = v.len();
        if n == 0 {
            break;
        }
        match m {
            Mutation::Flip(a, len, b) => {
                let a = a % n;
                v[a..(a + len).min(n)].fill(*b);
            }
            Mutation::Insert(a, bytes) => {
                let a = a % (n + 1);
                v.splice(a..a, bytes.iter().copied());
            }
            Mutation::Delete(a, len) => {
                let a = a % n;
                v.drain(a..(a + len).min(n));
            }
            Mutation::Duplicate(a, len, at) => {
                let a = a % n;
                let slice = v[a..(a + len).min(n)].to_vec();
                let at = at % (n + 1);
                v.splice(at..at, slice);
            }
        }
    }
    v
}

/// A seed (by index) with mutations applied.
fn mutated() -> impl Strategy<Value = Vec<u8>> {
    let seeds: Vec<Vec<u8>> = corpus().into_iter().map(|(_, s)| s).collect();
    (
        prop::sample::select(seeds),
        prop::collection::vec(mutation(), 1..6),
    )
        .prop_map(|(s, ms)| mutate(s, &ms))
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    })
}

#[test]
fn arbitrary_bytes_into_the_parser() {
    runner()
        .run(&prop::collection::vec(any::<u8>(), 0..1500), |b| {
            exercise(&b);
            Ok(())
        })
        .unwrap();
}

#[test]
fn mutated_torture_into_the_parser() {
    runner()
        .run(&mutated(), |b| {
            exercise(&b);
            Ok(())
        })
        .unwrap();
}

#[test]
fn arbitrary_bytes_into_the_worker() {
    let (w, local, _dir) = worker();
    let state = RefCell::new((w, Outbox::new()));
    runner()
        .run(&prop::collection::vec(any::<u8>(), 0..1500), |b| {
            let (w, out) = &mut *state.borrow_mut();
            receive(w, &local, out, &b).map_err(TestCaseError::fail)?;
            Ok(())
        })
        .unwrap();
}

#[test]
fn mutated_torture_into_the_worker() {
    let (w, local, _dir) = worker();
    let state = RefCell::new((w, Outbox::new()));
    runner()
        .run(&mutated(), |b| {
            let (w, out) = &mut *state.borrow_mut();
            receive(w, &local, out, &b).map_err(TestCaseError::fail)?;
            Ok(())
        })
        .unwrap();
}
