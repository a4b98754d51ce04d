//! Property: any sequence of requests, CANCELs, ACKs, replies (to real branches and to made-up
//! ones), malformed datagrams and time steps leaves the worker alive, and once every timer has
//! run out the table is empty again.

use super::rig::*;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Invite(u8, u8),
    Retransmit(u8),
    Cancel(u8),
    Ack(u8),
    /// A reply to the n-th request sipvm sent downstream.
    Reply(u8, u16),
    /// A reply with one of our branch prefixes but a made-up transaction or branch.
    Stray(u64, u8, u16),
    Garbage(Vec<u8>),
    Tick(u16),
}

fn op() -> impl Strategy<Value = Op> {
    let code = prop::sample::select(vec![
        100u16, 180, 183, 200, 202, 302, 404, 486, 487, 503, 603,
    ]);
    prop_oneof![
        (0u8..6, 0u8..4).prop_map(|(c, u)| Op::Invite(c, u)),
        (0u8..6).prop_map(Op::Retransmit),
        (0u8..6).prop_map(Op::Cancel),
        (0u8..6).prop_map(Op::Ack),
        (any::<u8>(), code.clone()).prop_map(|(n, c)| Op::Reply(n, c)),
        (any::<u64>(), any::<u8>(), code).prop_map(|(i, b, c)| Op::Stray(i, b, c)),
        prop::collection::vec(any::<u8>(), 0..200).prop_map(Op::Garbage),
        (0u16..3000).prop_map(Op::Tick),
    ]
}

const USERS: [&str; 4] = ["bob", "fork", "failover", "busy"];

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn any_sequence_leaves_an_empty_table_once_timers_run_out(ops in prop::collection::vec(op(), 1..60)) {
        let mut r = Rig::new(CFG);
        let mut down: Vec<Vec<u8>> = Vec::new();
        let mut invites: Vec<Vec<u8>> = Vec::new();
        let keep = |out: Vec<sipvm_proxy::transport::Outgoing>, down: &mut Vec<Vec<u8>>| {
            for o in out {
                if o.dst != A && !o.data.starts_with(b"SIP/2.0") {
                    down.push(o.data.to_vec());
                }
            }
        };
        for op in ops {
            match op {
                Op::Invite(c, u) => {
                    let m = invite(&format!("p{c}"), USERS[u as usize % USERS.len()]);
                    invites.push(m.clone());
                    let out = r.feed(&m, A);
                    keep(out, &mut down);
                }
                Op::Retransmit(i) => {
                    if let Some(m) = invites.get(i as usize % invites.len().max(1)).cloned() {
                        let out = r.feed(&m, A);
                        keep(out, &mut down);
                    }
                }
                Op::Cancel(i) => {
                    if let Some(m) = invites.get(i as usize % invites.len().max(1)).cloned() {
                        let out = r.feed(&cancel_for(&m), A);
                        keep(out, &mut down);
                    }
                }
                Op::Ack(i) => {
                    if let Some(m) = invites.get(i as usize % invites.len().max(1)).cloned() {
                        let fake = reply(&m, 486, "Busy", "x");
                        let out = r.feed(&ack_for(&m, &fake), A);
                        keep(out, &mut down);
                    }
                }
                Op::Reply(n, code) => {
                    if !down.is_empty() {
                        let req = down[n as usize % down.len()].clone();
                        let out = r.feed(&reply(&req, code, "Whatever", "t"), B1);
                        keep(out, &mut down);
                    }
                }
                Op::Stray(id, b, code) => {
                    let m = format!(
                        "SIP/2.0 {code} X\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKsvt{id:x}.{b}\r\n\
                         From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: s\r\nCSeq: 1 INVITE\r\n\
                         Content-Length: 0\r\n\r\n"
                    );
                    let out = r.feed(m.as_bytes(), B1);
                    keep(out, &mut down);
                }
                Op::Garbage(g) => {
                    let out = r.feed(&g, B1);
                    keep(out, &mut down);
                }
                Op::Tick(ms) => {
                    let out = r.tick(u64::from(ms));
                    keep(out, &mut down);
                }
            }
        }
        // Longer than any timer (fr_inv 3 s, timer H 32 s, the 180 s cap).
        for _ in 0..40 {
            r.tick(5_000);
        }
        prop_assert_eq!(r.tm().current(), 0);
    }
}
