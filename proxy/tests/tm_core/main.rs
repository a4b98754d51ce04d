//! The transaction core, sans I/O: the real `Worker` handed datagrams and ticks, on the
//! tm table's simulated clock, with what it sends read from its outbox. Upstream caller A is
//! 127.0.0.1:5070; next hops are 127.0.0.1:5081.. (nothing is sent on a network).

mod acc;
mod events;
mod props;
mod rig;

use rig::*;

#[test]
fn invite_relayed_once_answered_and_forgotten_after_the_wait_timer() {
    let mut r = Rig::new(CFG);
    let inv = invite("c1", "bob");
    let out = r.feed(&inv, A);
    assert_eq!(
        sent(&out),
        vec![
            (A, "SIP/2.0 100".into()),
            (B1, "INVITE sip:bob@127.0.0.1:5081".into())
        ]
    );
    let down = out[1].data.clone();
    assert!(
        top_via(&down).contains("branch=z9hG4bKsvt"),
        "{}",
        text(&down)
    );
    // The caller retransmits: it gets the 100 again, the callee sees nothing more.
    let out = r.feed(&inv, A);
    assert_eq!(sent(&out), vec![(A, "SIP/2.0 100".into())]);
    let out = r.feed(&reply(&down, 180, "Ringing", "t1"), B1);
    assert_eq!(sent(&out), vec![(A, "SIP/2.0 180".into())]);
    assert!(
        !text(&out[0].data).contains("z9hG4bKsvt"),
        "our Via must go: {}",
        text(&out[0].data)
    );
    // A lost 200: the callee resends it; each copy goes upstream (end to end, RFC 3261 §16.7).
    let ok = reply(&down, 200, "OK", "t1");
    assert_eq!(sent(&r.feed(&ok, B1)), vec![(A, "SIP/2.0 200".into())]);
    assert_eq!(sent(&r.feed(&ok, B1)), vec![(A, "SIP/2.0 200".into())]);
    assert_eq!(r.tm().current(), 1);
    // INVITE retransmissions after the 200 get the 200 again.
    assert_eq!(sent(&r.feed(&inv, A)), vec![(A, "SIP/2.0 200".into())]);
    r.tick(4_000);
    assert_eq!(r.tm().current(), 1, "the wait timer (5 s) keeps it");
    r.tick(1_100);
    assert_eq!(r.tm().current(), 0);
    let s = &r.tm().stats;
    assert_eq!(s.freed.load(std::sync::atomic::Ordering::Relaxed), 1);
}

#[test]
fn unanswered_invite_is_retransmitted_with_doubling_then_times_out_as_408() {
    let mut r = Rig::new(CFG);
    let out = r.feed(&invite("c2", "bob"), A);
    let down = out[1].data.clone();
    let mut resent = Vec::new();
    for _ in 0..50 {
        let out = r.tick(20);
        for o in out.iter().filter(|o| o.dst == B1) {
            assert_eq!(o.data, down, "a retransmission is the same bytes");
            resent.push(r.clock());
        }
        if r.clock() >= 960 {
            break;
        }
    }
    // Timer A: T1 (500 ms) after the first send; fr_timer is 1000 ms in CFG.
    assert_eq!(resent.len(), 1, "{resent:?}");
    assert!((500..560).contains(&resent[0]), "{resent:?}");
    let out = r.tick(100);
    let up: Vec<_> = sent(&out).into_iter().filter(|(d, _)| *d == A).collect();
    assert_eq!(up, vec![(A, "SIP/2.0 408".into())], "{}", all(&out));
}

#[test]
fn provisional_reply_stops_retransmissions_and_switches_to_fr_inv() {
    let mut r = Rig::new(CFG);
    let out = r.feed(&invite("c3", "bob"), A);
    let down = out[1].data.clone();
    r.feed(&reply(&down, 180, "Ringing", "t1"), B1);
    let mut downstream = 0;
    for _ in 0..100 {
        downstream += r.tick(20).iter().filter(|o| o.dst == B1).count();
    }
    assert_eq!(downstream, 0, "no retransmission after a provisional reply");
    assert_eq!(r.tm().current(), 1, "fr_inv_timer (3 s) still running");
    let out = r.tick(1_100);
    // The ringing branch times out: CANCEL down, 408 up.
    let s = sent(&out);
    assert!(
        s.contains(&(B1, "CANCEL sip:bob@127.0.0.1:5081".into())),
        "{s:?}"
    );
    assert!(s.contains(&(A, "SIP/2.0 408".into())), "{s:?}");
}

#[test]
fn negative_reply_is_acked_hop_by_hop_and_its_retransmissions_stop_at_the_ack() {
    let mut r = Rig::new(CFG);
    let inv = invite("c4", "busy");
    let out = r.feed(&inv, A);
    let down = out[1].data.clone();
    let out = r.feed(&reply(&down, 486, "Busy Here", "t1"), B1);
    let s = sent(&out);
    assert_eq!(s[0], (B1, "ACK sip:busy@127.0.0.1:5081".into()), "{s:?}");
    let ack = text(&out[0].data);
    assert!(
        ack.contains("CSeq: 1 ACK\r\n") && ack.contains(";tag=t1"),
        "{ack}"
    );
    assert_eq!(
        top_via(&out[0].data),
        top_via(&down),
        "the ACK has the INVITE's branch"
    );
    // The failure route turns 486 into 600 (CFG).
    assert_eq!(s[1], (A, "SIP/2.0 600".into()), "{s:?}");
    let up = out[1].data.clone();
    // A retransmitted 486 is ACKed again, not passed on.
    let out = r.feed(&reply(&down, 486, "Busy Here", "t1"), B1);
    assert_eq!(sent(&out), vec![(B1, "ACK sip:busy@127.0.0.1:5081".into())]);
    // Timer G: the 600 is resent until the caller's ACK.
    let out = r.tick(520);
    assert_eq!(sent(&out), vec![(A, "SIP/2.0 600".into())]);
    let out = r.feed(&ack_for(&inv, &up), A);
    assert!(
        out.is_empty(),
        "the hop-by-hop ACK ends here: {}",
        all(&out)
    );
    let mut more = Vec::new();
    for _ in 0..20 {
        more.extend(r.tick(100));
    }
    assert!(more.is_empty(), "{}", all(&more));
}

#[test]
fn cancel_is_answered_and_relayed_and_the_invite_ends_with_487() {
    let mut r = Rig::new(CFG);
    let inv = invite("c5", "bob");
    let out = r.feed(&inv, A);
    let down = out[1].data.clone();
    r.feed(&reply(&down, 180, "Ringing", "t1"), B1);
    let out = r.feed(&cancel_for(&inv), A);
    let s = sent(&out);
    assert!(s.contains(&(A, "SIP/2.0 200".into())), "{s:?}");
    let c = out.iter().find(|o| o.dst == B1).expect("CANCEL downstream");
    assert!(text(&c.data).starts_with("CANCEL sip:bob@127.0.0.1:5081"));
    assert_eq!(top_via(&c.data), top_via(&down));
    assert!(r.feed(&reply(&c.data, 200, "OK", "t1"), B1).is_empty());
    let out = r.feed(&reply(&down, 487, "Request Terminated", "t1"), B1);
    assert_eq!(
        sent(&out),
        vec![
            (B1, "ACK sip:bob@127.0.0.1:5081".into()),
            (A, "SIP/2.0 487".into())
        ]
    );
}

#[test]
fn cancel_before_any_provisional_waits_for_one() {
    let mut r = Rig::new(CFG);
    let inv = invite("c6", "bob");
    let out = r.feed(&inv, A);
    let down = out[1].data.clone();
    let out = r.feed(&cancel_for(&inv), A);
    assert_eq!(
        sent(&out),
        vec![(A, "SIP/2.0 200".into())],
        "no CANCEL before a provisional"
    );
    // The INVITE is still retransmitted (it may have been lost), the CANCEL waits.
    let out = r.tick(600);
    assert_eq!(
        sent(&out),
        vec![(B1, "INVITE sip:bob@127.0.0.1:5081".into())]
    );
    let out = r.feed(&reply(&down, 180, "Ringing", "t1"), B1);
    let s = sent(&out);
    assert!(
        s.contains(&(B1, "CANCEL sip:bob@127.0.0.1:5081".into())),
        "{s:?}"
    );
}

#[test]
fn parallel_fork_takes_the_2xx_and_cancels_the_other_branch() {
    let mut r = Rig::new(CFG);
    let out = r.feed(&invite("c7", "fork"), A);
    let s = sent(&out);
    assert_eq!(s[1], (B1, "INVITE sip:fork@127.0.0.1:5081".into()));
    assert_eq!(s[2], (B2, "INVITE sip:b2@127.0.0.1:5082".into()));
    let (d1, d2) = (out[1].data.clone(), out[2].data.clone());
    assert_ne!(top_via(&d1), top_via(&d2));
    r.feed(&reply(&d1, 180, "Ringing", "x1"), B1);
    r.feed(&reply(&d2, 180, "Ringing", "x2"), B2);
    let out = r.feed(&reply(&d2, 200, "OK", "x2"), B2);
    let s = sent(&out);
    assert!(s.contains(&(A, "SIP/2.0 200".into())), "{s:?}");
    assert!(
        s.contains(&(B1, "CANCEL sip:fork@127.0.0.1:5081".into())),
        "{s:?}"
    );
    let out = r.feed(&reply(&d1, 487, "Request Terminated", "x1"), B1);
    assert_eq!(sent(&out), vec![(B1, "ACK sip:fork@127.0.0.1:5081".into())]);
}

#[test]
fn a_6xx_cancels_the_other_branches_and_wins() {
    let mut r = Rig::new(CFG);
    let out = r.feed(&invite("c8", "fork"), A);
    let (d1, d2) = (out[1].data.clone(), out[2].data.clone());
    r.feed(&reply(&d1, 180, "Ringing", "x1"), B1);
    let out = r.feed(&reply(&d2, 603, "Decline", "x2"), B2);
    let s = sent(&out);
    assert!(
        s.contains(&(B2, "ACK sip:b2@127.0.0.1:5082".into())),
        "{s:?}"
    );
    assert!(
        s.contains(&(B1, "CANCEL sip:fork@127.0.0.1:5081".into())),
        "{s:?}"
    );
    let out = r.feed(&reply(&d1, 487, "Request Terminated", "x1"), B1);
    let s = sent(&out);
    assert!(s.contains(&(A, "SIP/2.0 603".into())), "{s:?}");
}

#[test]
fn failure_route_relays_to_the_next_hop_after_a_timeout() {
    let mut r = Rig::new(CFG);
    let out = r.feed(&invite("c9", "failover"), A);
    assert_eq!(out[1].dst, B1);
    let out = r.tick(1_050);
    let s = sent(&out);
    let next = out
        .iter()
        .find(|o| o.dst == B3)
        .unwrap_or_else(|| panic!("{s:?}"));
    assert!(text(&next.data).starts_with("INVITE sip:failover@127.0.0.1:5083"));
    assert!(
        top_via(&next.data).rsplit('.').nth(1) == Some("1"),
        "branch 1: {}",
        top_via(&next.data)
    );
    let down = next.data.clone();
    let out = r.feed(&reply(&down, 200, "OK", "t3"), B3);
    assert_eq!(sent(&out), vec![(A, "SIP/2.0 200".into())]);
}

#[test]
fn non_invite_gets_no_100_and_timer_e_caps_at_t2() {
    let mut r = Rig::new(CFG);
    let out = r.feed(&request("MESSAGE", "c10", "bob"), A);
    assert_eq!(
        sent(&out),
        vec![(B1, "MESSAGE sip:bob@127.0.0.1:5081".into())]
    );
    let mut at = Vec::new();
    for _ in 0..45 {
        if r.tick(20).iter().any(|o| o.dst == B1) {
            at.push(r.clock());
        }
    }
    assert_eq!(at.len(), 1, "{at:?}");
    let down = out[0].data.clone();
    let out = r.feed(&reply(&down, 202, "Accepted", "m1"), B1);
    assert_eq!(sent(&out), vec![(A, "SIP/2.0 202".into())]);
}

#[test]
fn a_transaction_runs_its_failure_route_from_the_program_it_started_on() {
    let mut r = Rig::new(&GEN.replace("WHICH", "one"));
    r.feed(&invite("r1", "nobody"), A);
    r.reload(&GEN.replace("WHICH", "two"));
    // A call started after the reload runs the new program.
    r.feed(&invite("r2", "nobody"), A);
    let out = r.tick(1_100);
    let mut reasons: Vec<(String, String)> = out
        .iter()
        .filter(|o| o.dst == A)
        .map(|o| {
            (
                call_id(&o.data),
                text(&o.data).lines().next().unwrap_or("").to_string(),
            )
        })
        .collect();
    reasons.sort();
    assert_eq!(
        reasons,
        vec![
            ("r1".into(), "SIP/2.0 500 generation one".into()),
            ("r2".into(), "SIP/2.0 500 generation two".into())
        ]
    );
}

#[test]
fn branch_route_runs_per_branch_and_drop_discards_one() {
    let mut r = Rig::new(BRANCHES);
    let out = r.feed(&invite("b1", "fork"), A);
    let s = sent(&out);
    assert_eq!(
        s,
        vec![
            (A, "SIP/2.0 100".into()),
            (B1, "INVITE sip:fork@127.0.0.1:5081".into())
        ],
        "{}",
        all(&out)
    );
    assert_eq!(
        header(&out[1].data, "X-Branch"),
        vec!["sip:fork@127.0.0.1:5081"]
    );
    // Every branch dropped: the caller gets 500 instead of silence.
    let out = r.feed(&invite("b2", "dropme"), A);
    let s = sent(&out);
    assert_eq!(
        s,
        vec![(A, "SIP/2.0 100".into()), (A, "SIP/2.0 500".into())],
        "{}",
        all(&out)
    );
}

#[test]
fn onreply_route_drops_a_provisional_and_failure_route_sees_avps_and_the_reply() {
    let mut r = Rig::new(REPLIES);
    let out = r.feed(&invite("o1", "bob"), A);
    let down = out[1].data.clone();
    assert!(r.feed(&reply(&down, 183, "Progress", "t1"), B1).is_empty());
    assert_eq!(
        sent(&r.feed(&reply(&down, 180, "Ringing", "t1"), B1)),
        vec![(A, "SIP/2.0 180".into())]
    );
    let busy = text(&reply(&down, 486, "Busy Here", "t1"))
        .replace("Content-Length: 0", "X-Why: dnd\r\nContent-Length: 0");
    let out = r.feed(busy.as_bytes(), B1);
    let up = out
        .iter()
        .find(|o| o.dst == A)
        .unwrap_or_else(|| panic!("{}", all(&out)));
    assert_eq!(
        text(&up.data).lines().next().unwrap(),
        "SIP/2.0 599 avp-bob 486 Busy Here dnd b0 INVITE 486"
    );
}

#[test]
fn a_reply_with_a_made_up_branch_reaches_no_transaction_and_no_caller() {
    let mut r = Rig::new(CFG);
    let out = r.feed(&invite("f1", "bob"), A);
    let down = out[1].data.clone();
    let real = top_via(&down);
    let branch = real.split("branch=").nth(1).unwrap().to_string();
    // The transaction id and branch index are guessable; the check part is not.
    let (stem, _) = branch.rsplit_once('.').unwrap();
    for fake in [stem.to_string(), format!("{stem}.00000000")] {
        let forged = text(&reply(&down, 603, "Decline", "evil")).replace(&branch, &fake);
        let out = r.feed(forged.as_bytes(), "127.0.0.99:5060".parse().unwrap());
        assert!(out.is_empty(), "{}", all(&out));
    }
    // The real callee still completes the call.
    let out = r.feed(&reply(&down, 200, "OK", "t1"), B1);
    assert_eq!(sent(&out), vec![(A, "SIP/2.0 200".into())]);
}

#[test]
fn a_ringing_branch_past_its_lifetime_ends_with_cancel_and_408() {
    let mut r = Rig::new(CFG);
    let out = r.feed(&invite("l1", "bob"), A);
    let down = out[1].data.clone();
    let ringing = reply(&down, 180, "Ringing", "t1");
    let mut last = Vec::new();
    // A 180 every 2 s keeps fr_inv (3 s) from firing; the 180 s lifetime ends it anyway.
    for _ in 0..95 {
        r.feed(&ringing, B1);
        last = r.tick(2_000);
        if last.iter().any(|o| o.dst == A) {
            break;
        }
    }
    let s = sent(&last);
    assert!(
        s.contains(&(B1, "CANCEL sip:bob@127.0.0.1:5081".into())),
        "{s:?}"
    );
    assert!(s.contains(&(A, "SIP/2.0 408".into())), "{s:?}");
    assert!((178_000..=182_000).contains(&r.clock()), "{}", r.clock());
}

#[test]
fn a_timed_out_ringing_branch_resends_its_cancel_and_acks_the_late_487() {
    let mut r = Rig::new(CFG);
    let out = r.feed(&invite("l2", "bob"), A);
    let down = out[1].data.clone();
    r.feed(&reply(&down, 180, "Ringing", "t1"), B1);
    let out = r.tick(3_100);
    assert!(sent(&out).contains(&(B1, "CANCEL sip:bob@127.0.0.1:5081".into())));
    // (The caller gets its 408 again meanwhile: timer G, it has not ACKed.)
    let down_only = |out: Vec<sipvm_proxy::transport::Outgoing>| -> Vec<_> {
        sent(&out).into_iter().filter(|(d, _)| *d == B1).collect()
    };
    let out = r.tick(520);
    assert_eq!(
        down_only(out),
        vec![(B1, "CANCEL sip:bob@127.0.0.1:5081".into())],
        "resent"
    );
    let out = r.feed(&reply(&down, 487, "Request Terminated", "t1"), B1);
    assert_eq!(sent(&out), vec![(B1, "ACK sip:bob@127.0.0.1:5081".into())]);
    assert!(
        down_only(r.tick(2_000)).is_empty(),
        "no more CANCELs after the 487"
    );
}

#[test]
fn a_failure_route_that_relays_forever_stops_at_max_branches() {
    let mut r = Rig::new(LOOP);
    let out = r.feed(&invite("m1", "bob"), A);
    let mut next = out[1].data.clone();
    let mut branches = 1;
    for _ in 0..40 {
        let out = r.feed(&reply(&next, 486, "Busy Here", "t"), B1);
        match out.iter().find(|o| text(&o.data).starts_with("INVITE ")) {
            Some(o) => {
                next = o.data.clone();
                branches += 1;
            }
            None => {
                assert!(
                    sent(&out).contains(&(A, "SIP/2.0 486".into())),
                    "{}",
                    all(&out)
                );
                break;
            }
        }
    }
    assert_eq!(branches, 12);
}
