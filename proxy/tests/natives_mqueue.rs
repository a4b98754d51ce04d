//! mqueue's natives and pseudo-variables through the tables the VM uses: queues defined by
//! modparams, shared state, the fetched item per worker, a reload adding a queue, and the
//! definitions sipvm refuses.

mod natives_common;
use natives_common::*;
use sipvm_proxy::modules::mqueue::{Queues, MAX_ITEMS};
use sipvm_vm::{PvIdx, PvKey, Value};
use std::sync::Arc;

const OPTIONS: &str = "OPTIONS sip:carol@example.com SIP/2.0
Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK-1
From: <sip:alice@example.com>;tag=a1
To: <sip:carol@example.com>
Call-ID: mq1@example.com
CSeq: 1 OPTIONS
Content-Length: 0

";

fn str_v(x: &str) -> Value {
    Value::Str(Arc::from(x))
}

fn pv(c: &mut sipvm_proxy::host::Ctx<'_>, class: &str, name: &str) -> Value {
    let p = sipvm_proxy::modules::find("mqueue")
        .and_then(|m| m.pvs.iter().find(|p| p.name == class))
        .unwrap();
    let key = PvKey {
        pv: PvIdx(0),
        name: Some(name),
        index: None,
    };
    (p.get)(c, key).unwrap()
}

#[test]
fn add_fetch_size_and_the_fetched_item() {
    let mut e = Env::with_params(OPTIONS, &[("mqueue", "mqueue", str_v("name=q;size=3"))]);
    let mut c = e.ctx();
    assert_eq!(call(&mut c, "mqueue", "mq_size", &[s("q")]), -1, "empty");
    for k in ["a", "b", "c", "d"] {
        assert_eq!(call(&mut c, "mqueue", "mq_add", &[s("q"), s(k), s("v")]), 1);
    }
    assert_eq!(call(&mut c, "mqueue", "mq_size", &[s("q")]), 3);
    assert_eq!(pv(&mut c, "mq_size", "q"), Value::Int(3));
    assert_eq!(call(&mut c, "mqueue", "mq_fetch", &[s("q")]), 1);
    assert_eq!(
        pv(&mut c, "mqk", "q"),
        str_v("b"),
        "a was dropped at the size"
    );
    assert_eq!(pv(&mut c, "mqv", "q"), str_v("v"));
    assert_eq!(call(&mut c, "mqueue", "mq_pv_free", &[s("q")]), 1);
    assert_eq!(pv(&mut c, "mqk", "q"), Value::Null);
    assert_eq!(pv(&mut c, "mqk", "nope"), Value::Null);
    assert_eq!(pv(&mut c, "mq_size", "nope"), Value::Null);
    assert_eq!(call(&mut c, "mqueue", "mq_size", &[s("nope")]), -2);
    drop(c);
    assert_eq!(e.shared.state::<Queues>().get("q").unwrap().len(), 2);
}

#[test]
fn the_fetched_item_is_per_worker() {
    let mut e = Env::with_params(OPTIONS, &[("mqueue", "mqueue_name", str_v("w"))]);
    let mut c = e.ctx();
    call(&mut c, "mqueue", "mq_add", &[s("w"), s("k"), s("v")]);
    assert_eq!(call(&mut c, "mqueue", "mq_fetch", &[s("w")]), 1);
    drop(c);
    std::thread::scope(|sc| {
        sc.spawn(|| {
            let mut e2 = Env::with_params(OPTIONS, &[("mqueue", "mqueue_name", str_v("w"))]);
            let mut c2 = e2.ctx();
            assert_eq!(
                pv(&mut c2, "mqk", "w"),
                Value::Null,
                "another worker fetched nothing"
            );
        });
    });
    let mut c = e.ctx();
    assert_eq!(pv(&mut c, "mqk", "w"), str_v("k"));
}

#[test]
fn an_unsized_queue_is_bounded() {
    let mut e = Env::with_params(OPTIONS, &[("mqueue", "mqueue", str_v("name=big"))]);
    let mut c = e.ctx();
    for i in 0..MAX_ITEMS + 3 {
        call(
            &mut c,
            "mqueue",
            "mq_add",
            &[s("big"), s(&i.to_string()), s("")],
        );
    }
    assert_eq!(
        call(&mut c, "mqueue", "mq_size", &[s("big")]),
        MAX_ITEMS as i64
    );
}

#[test]
fn a_newer_snapshot_adds_queues() {
    let mut e = Env::with_params(OPTIONS, &[("mqueue", "mqueue", str_v("name=q1"))]);
    let mut newer = snapshot(&[
        ("mqueue", "mqueue", str_v("name=q1")),
        ("mqueue", "mqueue", str_v("name=q2")),
    ]);
    newer.generation = 2;
    let mut c = e.ctx();
    assert_eq!(
        call(&mut c, "mqueue", "mq_add", &[s("q2"), s("k"), s("v")]),
        -1
    );
    c.snap = &newer;
    assert_eq!(
        call(&mut c, "mqueue", "mq_add", &[s("q2"), s("k"), s("v")]),
        1
    );
}

#[test]
fn definitions_sipvm_refuses() {
    for bad in [
        vec![("mqueue", "mqueue", str_v("name=a;dbmode=1"))],
        vec![("mqueue", "mqueue", str_v("size=3"))],
        vec![("mqueue", "mqueue", str_v("name=a;colour=1"))],
        vec![
            ("mqueue", "mqueue", str_v("name=a")),
            ("mqueue", "mqueue_name", str_v("a")),
        ],
        vec![("mqueue", "mqueue", str_v("name=a;addmode=3"))],
    ] {
        let snap = snapshot(&bad);
        assert!(sipvm_proxy::modules::shared(&snap).is_err(), "{bad:?}");
        assert!(
            sipvm_proxy::modules::check(&snap.modparams).is_err(),
            "{bad:?}"
        );
    }
}
