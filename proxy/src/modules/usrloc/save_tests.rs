//! `save` against a table with an injected clock.

use super::*;
use crate::modules::usrloc::store::UlConfig;
use crate::modules::usrloc::Usrloc;

fn cfg() -> RegCfg {
    tests_cfg()
}

fn ul() -> Usrloc {
    Usrloc::new(UlConfig {
        hash_size: 4,
        ..UlConfig::default()
    })
}

fn contact(uri: &str) -> NewContact {
    NewContact {
        uri: uri.into(),
        ..NewContact::default()
    }
}

fn reg(callid: &str, cseq: u32, contacts: Vec<NewContact>) -> Register {
    Register {
        callid: callid.into(),
        cseq,
        contacts,
        allow: u32::MAX,
        ..Register::default()
    }
}

/// What one `save` did: its result, and the AoR's valid bindings afterwards (what the reply
/// lists).
struct Out {
    ret: i64,
    err: Option<Rerr>,
    bindings: Vec<Binding>,
}

fn run(ul: &Usrloc, r: &Register, c: &RegCfg, now: i64) -> Out {
    let t = ul.table("location");
    let saved = {
        let mut l = t.lock("alice");
        save(ul, &mut l, "alice", r, c, now)
    };
    let bindings = t.get("alice", now).map(|r| r.bindings).unwrap_or_default();
    // The reply's Contact is exactly the stored bindings valid now.
    assert_eq!(saved.contact, contact_header(&bindings, c, now));
    Out {
        ret: saved.ret,
        err: saved.err,
        bindings,
    }
}

fn uris(s: &Out) -> Vec<&str> {
    s.bindings.iter().map(|b| b.contact.as_str()).collect()
}

#[test]
fn expires_sources_and_limits() {
    let c = cfg();
    assert_eq!(c.expires(None, None), Ok(3600));
    assert_eq!(c.expires(None, Some(300)), Ok(300));
    assert_eq!(c.expires(Some(120), Some(300)), Ok(120));
    assert_eq!(c.expires(Some(0), Some(300)), Ok(0));
    assert_eq!(c.expires(None, Some(30)), Ok(60), "raised to min_expires");
    assert_eq!(c.expires(None, Some(7200)), Ok(3600), "cut to max_expires");
    let strict = RegCfg {
        min_expires_mode: true,
        ..cfg()
    };
    assert_eq!(strict.expires(None, Some(30)), Err(Rerr::LowExp));
    assert_eq!(
        Rerr::LowExp.reply(),
        (423, "Interval Too Brief", "Interval too brief")
    );
}

#[test]
fn first_register_then_refresh_then_remove() {
    let ul = ul();
    let c = cfg();
    let s = run(&ul, &reg("c1", 1, vec![contact("sip:a@h")]), &c, 1000);
    assert_eq!((s.ret, s.err), (1, None));
    assert_eq!(s.bindings[0].expires, 4600);
    assert_eq!(
        contact_header(&s.bindings, &c, 1001).as_deref(),
        Some("<sip:a@h>;expires=3599")
    );
    // Refresh with a higher CSeq: updated (2).
    let mut r = reg("c1", 2, vec![contact("sip:a@h")]);
    r.expires_hdr = Some(600);
    let s = run(&ul, &r, &c, 1010);
    assert_eq!(s.ret, 2);
    assert_eq!(s.bindings[0].expires, 1610);
    // Expires: 0 removes it (3); the record is gone.
    let mut r = reg("c1", 3, vec![contact("sip:a@h")]);
    r.expires_hdr = Some(0);
    let s = run(&ul, &r, &c, 1020);
    assert_eq!(s.ret, 3);
    assert!(s.bindings.is_empty());
    assert!(ul.table("location").get("alice", 1020).is_none());
}

#[test]
fn cseq_ordering_by_call_id() {
    let ul = ul();
    let c = cfg();
    run(&ul, &reg("c1", 5, vec![contact("sip:a@h")]), &c, 1000);
    // Same Call-ID, lower CSeq: 400 Invalid CSeq number, the binding listed as it is.
    let s = run(&ul, &reg("c1", 4, vec![contact("sip:a@h")]), &c, 1001);
    assert_eq!((s.ret, s.err), (-1, Some(Rerr::InvCseq)));
    assert_eq!(uris(&s), ["sip:a@h"]);
    // Same CSeq soon after: a retransmission, answered 200 without change.
    let s = run(&ul, &reg("c1", 5, vec![contact("sip:a@h")]), &c, 1010);
    assert_eq!((s.ret, s.err), (1, None));
    assert_eq!(s.bindings[0].last_modified, 1000);
    // Same CSeq later than cseq_delay: an error.
    let s = run(&ul, &reg("c1", 5, vec![contact("sip:a@h")]), &c, 1030);
    assert_eq!(s.err, Some(Rerr::InvCseq));
    // Another Call-ID may use any CSeq.
    let s = run(&ul, &reg("c2", 1, vec![contact("sip:a@h")]), &c, 1031);
    assert_eq!((s.ret, s.err), (2, None));
    assert_eq!(s.bindings[0].callid, "c2");
}

#[test]
fn several_contacts_sorted_by_q() {
    let ul = ul();
    let c = cfg();
    let mut a = contact("sip:a@h");
    a.q = Some(500);
    let mut b = contact("sip:b@h");
    b.q = Some(900);
    b.expires = Some(120);
    let plain = contact("sip:c@h");
    let mut r = reg("c1", 1, vec![a, b, plain]);
    r.expires_hdr = Some(300);
    let s = run(&ul, &r, &c, 1000);
    assert_eq!(uris(&s), ["sip:b@h", "sip:a@h", "sip:c@h"]);
    // The header Kamailio 5.6.3 sent for the same REGISTER.
    assert_eq!(
        contact_header(&s.bindings, &c, 1000).as_deref(),
        Some("<sip:b@h>;q=0.9;expires=120, <sip:a@h>;q=0.5;expires=300, <sip:c@h>;expires=300")
    );
    // A later contact with an equal q goes after the older one.
    let mut d = contact("sip:d@h");
    d.q = Some(900);
    let s = run(&ul, &reg("c1", 2, vec![d]), &c, 1001);
    assert_eq!(uris(&s), ["sip:b@h", "sip:d@h", "sip:a@h", "sip:c@h"]);
}

#[test]
fn star_removes_all_and_query_lists() {
    let ul = ul();
    let c = cfg();
    run(
        &ul,
        &reg("c1", 1, vec![contact("sip:a@h"), contact("sip:b@h")]),
        &c,
        1000,
    );
    let s = run(&ul, &reg("c1", 2, vec![]), &c, 1001);
    assert_eq!((s.ret, uris(&s).len()), (4, 2));
    let mut star = reg("c9", 1, vec![]);
    star.star = true;
    star.expires_hdr = Some(0);
    let s = run(&ul, &star, &c, 1002);
    assert_eq!((s.ret, s.err), (3, None));
    assert!(s.bindings.is_empty());
    assert!(ul.table("location").get("alice", 1002).is_none());
}

#[test]
fn instance_and_reg_id_keep_flows_apart() {
    let ul = ul();
    let c = cfg();
    let flow = |uri: &str, reg_id: u32| NewContact {
        uri: uri.into(),
        instance: "<urn:uuid:1>".into(),
        reg_id: Some(Ok(reg_id)),
        ..NewContact::default()
    };
    run(&ul, &reg("c1", 1, vec![flow("sip:a@h1", 1)]), &c, 1000);
    // Same instance, other reg-id: a second flow.
    let s = run(&ul, &reg("c2", 1, vec![flow("sip:a@h2", 2)]), &c, 1001);
    assert_eq!((s.ret, uris(&s).len()), (1, 2));
    // Same instance and reg-id from a new address: replaces that flow, whatever the CSeq.
    let s = run(&ul, &reg("c1", 1, vec![flow("sip:a@h3", 1)]), &c, 1002);
    assert_eq!(s.ret, 2);
    let mut u = uris(&s);
    u.sort();
    assert_eq!(u, ["sip:a@h2", "sip:a@h3"]);
    assert_eq!(
        contact_header(&s.bindings[..1], &c, 1002).unwrap(),
        format!(
            "<{}>;expires=3600;+sip.instance=\"<urn:uuid:1>\";reg-id={}",
            s.bindings[0].contact, s.bindings[0].reg_id
        )
    );
    // reg-id 0 is invalid: on a later contact, 400 Invalid Reg-Id number.
    let s = run(
        &ul,
        &reg("c3", 1, vec![flow("sip:a@h5", 3), flow("sip:a@h4", 0)]),
        &c,
        1003,
    );
    assert_eq!((s.ret, s.err), (-1, Some(Rerr::InvRegid)));
    // On the first contact Kamailio fails before setting an error: 200, nothing changed, -1.
    let s = run(&ul, &reg("c4", 1, vec![flow("sip:a@h6", 0)]), &c, 1004);
    assert_eq!((s.ret, s.err, s.bindings.len()), (-1, None, 3));
}

#[test]
fn same_instance_new_call_id_drops_the_stale_bindings() {
    let ul = ul();
    let c = cfg();
    let inst = |uri: &str| NewContact {
        uri: uri.into(),
        instance: "<urn:uuid:9>".into(),
        ..NewContact::default()
    };
    run(&ul, &reg("c1", 1, vec![inst("sip:a@h1")]), &c, 1000);
    let s = run(&ul, &reg("c2", 1, vec![inst("sip:a@h2")]), &c, 1001);
    assert_eq!((s.ret, uris(&s)), (2, vec!["sip:a@h2"]));
}

#[test]
fn max_contacts_and_replace_flag() {
    let ul = ul();
    let c = RegCfg {
        max_contacts: 2,
        ..cfg()
    };
    let three = vec![contact("sip:a@h"), contact("sip:b@h"), contact("sip:c@h")];
    let s = run(&ul, &reg("c1", 1, three.clone()), &c, 1000);
    assert_eq!((s.ret, s.err), (-2, Some(Rerr::TooMany)));
    assert!(ul.table("location").get("alice", 1000).is_none());
    run(&ul, &reg("c1", 1, three[..2].to_vec()), &c, 1000);
    let s = run(&ul, &reg("c1", 2, three[2..].to_vec()), &c, 1001);
    assert_eq!(s.err, Some(Rerr::TooMany));
    assert_eq!(s.bindings.len(), 2);
    // Replace: one contact per AoR.
    let mut r = reg("c1", 3, three[2..].to_vec());
    r.flags = FL_REPL;
    let s = run(&ul, &r, &c, 1002);
    assert_eq!((s.ret, uris(&s)), (1, vec!["sip:c@h"]));
}

#[test]
fn low_expires_refused_in_strict_mode_leaves_nothing() {
    let ul = ul();
    let c = RegCfg {
        min_expires_mode: true,
        ..cfg()
    };
    let mut r = reg("c1", 1, vec![contact("sip:a@h")]);
    r.expires_hdr = Some(10);
    let s = run(&ul, &r, &c, 1000);
    assert_eq!((s.ret, s.err), (-1, Some(Rerr::LowExp)));
    assert!(ul.table("location").get("alice", 1000).is_none());
}

#[test]
fn expired_binding_does_not_block_a_new_register() {
    let ul = ul();
    let c = cfg();
    let mut r = reg("c1", 5, vec![contact("sip:a@h")]);
    r.expires_hdr = Some(60);
    run(&ul, &r, &c, 1000);
    // Expired at 1060: a lower CSeq is a fresh registration, not an ordering error.
    let s = run(&ul, &reg("c1", 1, vec![contact("sip:a@h")]), &c, 1061);
    assert_eq!((s.ret, s.err), (1, None));
}

#[test]
fn q_strings() {
    assert_eq!(q_str(1000), "1");
    assert_eq!(q_str(0), "0");
    assert_eq!(q_str(500), "0.5");
    assert_eq!(q_str(250), "0.25");
    assert_eq!(q_str(1), "0.001");
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    fn arb_contact() -> impl Strategy<Value = NewContact> {
        (
            0u8..4,
            proptest::option::of(prop_oneof![Just(0u32), 1u32..100, Just(u32::MAX)]),
            proptest::option::of(0u16..=1000),
            prop_oneof![Just(String::new()), Just("<urn:uuid:1>".to_string())],
            proptest::option::of(prop_oneof![
                Just(Ok(0u32)),
                Just(Ok(1)),
                Just(Ok(2)),
                Just(Err(()))
            ]),
        )
            .prop_map(|(n, expires, q, instance, reg_id)| NewContact {
                uri: format!("sip:u@h{n}"),
                expires,
                q,
                instance,
                reg_id,
                ..NewContact::default()
            })
    }

    fn arb_register() -> impl Strategy<Value = Register> {
        (
            0u8..3,
            0u32..4,
            proptest::option::of(prop_oneof![Just(0u32), 1u32..100, Just(u32::MAX)]),
            any::<bool>(),
            proptest::collection::vec(arb_contact(), 0..4),
            prop_oneof![Just(0u32), Just(FL_REPL)],
        )
            .prop_map(|(cid, cseq, expires_hdr, star, contacts, flags)| Register {
                callid: format!("c{cid}"),
                cseq,
                expires_hdr,
                star,
                contacts,
                allow: u32::MAX,
                flags,
                ..Register::default()
            })
    }

    proptest! {
        /// Any sequence of REGISTERs, at any times: no panic, a Kamailio return code, and
        /// the reply lists only bindings valid at that time, and no binding is stored twice.
        #[test]
        fn register_sequences(
            regs in proptest::collection::vec((arb_register(), 0i64..200), 1..12),
            max in 0usize..3,
        ) {
            let ul = ul();
            let c = RegCfg { max_contacts: max, ..cfg() };
            let mut now = 1000;
            for (r, dt) in regs {
                now += dt;
                let s = run(&ul, &r, &c, now);
                prop_assert!([1, 2, 3, 4, -1, -2].contains(&s.ret), "ret {}", s.ret);
                prop_assert!(s.bindings.iter().all(|b| b.valid(now)));
                let stored = ul.table("location").get("alice", now);
                let n = stored.as_ref().map_or(0, |r| r.bindings.len());
                let mut ids: Vec<&str> = stored
                    .iter()
                    .flat_map(|r| r.bindings.iter().map(|b| b.ruid.as_str()))
                    .collect();
                ids.sort();
                ids.dedup();
                prop_assert_eq!(ids.len(), n);
                let _ = contact_header(&s.bindings, &c, now);
            }
        }
    }
}
