//! Hostile input never panics or hangs the parser, any accessor, serialization or the
//! reply builder. Also prints a rough parse timing (not an assertion; see the criterion
//! bench `sip_parse` for real numbers).

use std::path::PathBuf;
use std::time::Instant;

use bytes::Bytes;
use proptest::prelude::*;
use sipvm_proxy::sip::{Msg, Uri};

fn corpus() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for dir in ["rfc4475", "rfc5118"] {
        let mut p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/testdata")
            .join(dir);
        if !p.is_dir() {
            p = PathBuf::from("/work/shared/testdata").join(dir);
        }
        let mut files: Vec<_> = std::fs::read_dir(&p)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files {
            if f.file_name().unwrap() != "EXPECTED.tsv" {
                out.push(std::fs::read(f).unwrap());
            }
        }
    }
    out
}

/// Runs everything that can be run on a buffer (the routine the fuzz target runs).
fn exercise(buf: Vec<u8>) {
    sipvm_proxy::sip::exercise(&buf);
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    Duplicate(usize, usize, usize),
    Delete(usize, usize),
    Insert(usize, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), 0usize..64, any::<usize>())
            .prop_map(|(a, n, at)| Mutation::Duplicate(a, n, at)),
        (any::<usize>(), 0usize..16).prop_map(|(a, n)| Mutation::Delete(a, n)),
        (
            any::<usize>(),
            prop::sample::select(&b"\r\n :;,<>\"\\[]@?=%/\t\0"[..])
        )
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
    ]
}

fn mutate(mut v: Vec<u8>, ms: &[Mutation]) -> Vec<u8> {
    for m in ms {
        if v.is_empty() {
            break;
        }
        let n = v.len();
        match *m {
            Mutation::Flip(i, b) => v[i % n] = b,
            Mutation::Truncate(i) => v.truncate(i % n),
            Mutation::Duplicate(a, len, at) => {
                let a = a % n;
                let slice = v[a..(a + len).min(n)].to_vec();
                let at = at % (n + 1);
                v.splice(at..at, slice);
            }
            Mutation::Delete(a, len) => {
                let a = a % n;
                v.drain(a..(a + len).min(n));
            }
            Mutation::Insert(i, b) => v.insert(i % (n + 1), b),
        }
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(buf in prop::collection::vec(any::<u8>(), 0..600)) {
        exercise(buf);
    }

    #[test]
    fn sip_looking_bytes(buf in "(INVITE|SIP/2.0|sip:|Via:|v:|To:|f:|Contact:|[a-z]{1,4}|[ :;,<>\"\\\\@\\[\\]?=%/]|\r\n|\r\n |[0-9]{1,3}){0,80}") {
        exercise(buf.into_bytes());
    }

    #[test]
    fn mutated_torture(idx in any::<usize>(), ms in prop::collection::vec(mutation(), 1..6)) {
        let c = corpus();
        let v = c[idx % c.len()].clone();
        exercise(mutate(v, &ms));
    }

    #[test]
    fn arbitrary_uris(s in "(sip|sips|tel|x):[ -~]{0,40}") {
        if let Ok(u) = Uri::parse(&s) {
            let _ = (u.user_unescaped(), u.hostport(), u.params().iter().count(), u.opaque());
        }
    }
}

#[test]
fn every_torture_prefix() {
    // Every truncation of every torture message.
    for v in corpus() {
        for n in 0..=v.len() {
            exercise(v[..n].to_vec());
        }
    }
}

const INVITE: &[u8] = b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;rport\r\n\
Max-Forwards: 70\r\n\
To: Bob <sip:bob@biloxi.example.com>\r\n\
From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n\
CSeq: 314159 INVITE\r\n\
Contact: <sip:alice@pc33.atlanta.example.com>\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 4\r\n\
\r\n\
v=0\n";

#[test]
fn timing_invite() {
    let buf = Bytes::from_static(INVITE);
    let rounds = 100_000;
    let t = Instant::now();
    for _ in 0..rounds {
        let m = Msg::parse(std::hint::black_box(buf.clone())).unwrap();
        std::hint::black_box(&m);
    }
    let parse = t.elapsed();
    let t = Instant::now();
    for _ in 0..rounds {
        let m = Msg::parse(std::hint::black_box(buf.clone())).unwrap();
        let _ = (
            m.via().is_ok(),
            m.from().is_ok(),
            m.to().is_ok(),
            m.cseq().is_ok(),
            m.call_id().is_ok(),
        );
    }
    let typed = t.elapsed();
    println!(
        "sip timing, 10-header INVITE (debug builds are slow): parse {:.0} ns, parse+Via/From/To/CSeq/Call-ID {:.0} ns",
        parse.as_nanos() as f64 / rounds as f64,
        typed.as_nanos() as f64 / rounds as f64
    );
}

#[test]
fn timing() {
    let c = corpus();
    let bufs: Vec<Bytes> = c.into_iter().map(Bytes::from).collect();
    let rounds = 2000;
    let t = Instant::now();
    let mut ok = 0usize;
    for _ in 0..rounds {
        for b in &bufs {
            if let Ok(m) = Msg::parse(b.clone()) {
                ok += m.header_count();
            }
        }
    }
    let parse = t.elapsed();
    let t = Instant::now();
    for _ in 0..rounds {
        for b in &bufs {
            if let Ok(m) = Msg::parse(b.clone()) {
                let _ = (
                    m.via().is_ok(),
                    m.from().is_ok(),
                    m.to().is_ok(),
                    m.cseq().is_ok(),
                    m.call_id().is_ok(),
                );
            }
        }
    }
    let typed = t.elapsed();
    let n = (rounds * bufs.len()) as f64;
    println!(
        "sip timing (debug builds are slow; use `cargo bench --bench sip_parse`): parse {:.0} ns/msg, \
         parse+Via/From/To/CSeq/Call-ID {:.0} ns/msg over {} torture messages ({ok} headers)",
        parse.as_nanos() as f64 / n,
        typed.as_nanos() as f64 / n,
        bufs.len()
    );
}
