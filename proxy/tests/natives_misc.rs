//! siputils, cfgutils and sl natives, and the worker's absorption of ACKs to sipvm's own
//! negative replies.

mod natives_common;
use bytes::Bytes;
use natives_common::*;
use sipvm_proxy::forward as send;
use sipvm_proxy::transport::{Handler, Local, Outbox, Proto};
use sipvm_vm::Value;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

const INVITE: &str = "INVITE sip:bob@example.com;transport=udp;lr;maddr=10.0.0.1;foo=Bar SIP/2.0
Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK-77;rport
From: <sip:alice@example.com>;tag=a1
To: <sip:bob@example.com>
Call-ID: c77@example.com
CSeq: 1 INVITE
Max-Forwards: 70
Content-Length: 0

";

#[test]
fn uri_param_with_and_without_value() {
    let mut e = Env::new(INVITE);
    let mut c = e.ctx();
    assert_eq!(call(&mut c, "siputils", "uri_param", &[s("lr")]), 1);
    assert_eq!(call(&mut c, "siputils", "uri_param", &[s("transport")]), -1);
    assert_eq!(
        call(&mut c, "siputils", "uri_param", &[s("transport"), s("udp")]),
        1
    );
    assert_eq!(
        call(&mut c, "siputils", "uri_param", &[s("transport"), s("tcp")]),
        -1
    );
    // Names and values compare case-sensitively, as Kamailio's strncmp.
    assert_eq!(
        call(&mut c, "siputils", "uri_param", &[s("foo"), s("Bar")]),
        1
    );
    assert_eq!(
        call(&mut c, "siputils", "uri_param", &[s("foo"), s("bar")]),
        -1
    );
    assert_eq!(call(&mut c, "siputils", "uri_param", &[s("LR")]), -1);
    assert_eq!(call(&mut c, "siputils", "uri_param", &[s("nope")]), -1);
    // The rewritten R-URI is the one read.
    c.ruri = Some("sip:bob@example.net;nat=yes".into());
    assert_eq!(
        call(&mut c, "siputils", "uri_param", &[s("nat"), s("yes")]),
        1
    );
    assert_eq!(call(&mut c, "siputils", "uri_param", &[s("lr")]), -1);
}

#[test]
fn rand_probability_is_shared_and_resets_to_initial() {
    let mut e = Env::with_params(
        INVITE,
        &[("cfgutils", "initial_probability", Value::Int(30))],
    );
    let mut c = e.ctx();
    assert_eq!(call(&mut c, "cfgutils", "rand_get_prob", &[]), 30);
    assert_eq!(call(&mut c, "cfgutils", "rand_set_prob", &[i(100)]), 1);
    assert_eq!(
        c.shared
            .state::<sipvm_proxy::modules::cfgutils::lock::Cfgutils>()
            .rand_prob
            .load(Ordering::Relaxed),
        100
    );
    for _ in 0..50 {
        assert_eq!(call(&mut c, "cfgutils", "rand_event", &[]), 1);
    }
    assert_eq!(call(&mut c, "cfgutils", "rand_set_prob", &[i(0)]), 1);
    for _ in 0..50 {
        assert_eq!(call(&mut c, "cfgutils", "rand_event", &[]), -1);
    }
    // 0 ends the script, as in Kamailio (the native returns the probability).
    assert_eq!(call(&mut c, "cfgutils", "rand_get_prob", &[]), 0);
    assert_eq!(call(&mut c, "cfgutils", "rand_set_prob", &[i(50)]), 1);
    let hits = (0..4000)
        .filter(|_| call(&mut c, "cfgutils", "rand_event", &[]) == 1)
        .count();
    assert!((1600..2400).contains(&hits), "{hits} of 4000 at 50%");
    assert!(call_err(&mut c, "cfgutils", "rand_set_prob", &[i(101)]).contains("probability"));
    assert_eq!(call(&mut c, "cfgutils", "rand_reset_prob", &[]), 1);
    assert_eq!(call(&mut c, "cfgutils", "rand_get_prob", &[]), 30);
    // Kamailio's default initial probability is 10.
    let mut e = Env::new(INVITE);
    let mut c = e.ctx();
    assert_eq!(call(&mut c, "cfgutils", "rand_get_prob", &[]), 10);
}

#[test]
fn sleep_and_usleep_block_the_caller() {
    let mut e = Env::new(INVITE);
    let mut c = e.ctx();
    let t = Instant::now();
    assert_eq!(call(&mut c, "cfgutils", "usleep", &[i(20_000)]), 1);
    assert!(t.elapsed() >= Duration::from_millis(20));
    assert_eq!(call(&mut c, "cfgutils", "sleep", &[i(0)]), 1);
    assert_eq!(call(&mut c, "cfgutils", "sleep", &[s("1")]), 1);
    assert!(t.elapsed() >= Duration::from_millis(1020));
}

/// The ACK of a negative reply to `INVITE`, with `to_tag` on its To.
fn ack(to_tag: &str) -> String {
    INVITE
        .replace("INVITE sip", "ACK sip")
        .replace("CSeq: 1 INVITE", "CSeq: 1 ACK")
        .replace(
            "To: <sip:bob@example.com>",
            &format!("To: <sip:bob@example.com>;tag={to_tag}"),
        )
}

#[test]
fn sl_recognises_acks_to_its_own_replies() {
    let invite = msg(INVITE);
    let tag = send::to_tag(&invite);
    assert!(sipvm_proxy::modules::sl::absorbs_ack(&msg(&ack(&tag))));
    assert!(!sipvm_proxy::modules::sl::absorbs_ack(&msg(&ack("other"))));
    assert!(!sipvm_proxy::modules::sl::absorbs_ack(&msg(INVITE)));
    let no_tag = ack(&tag).replace(&format!(";tag={tag}"), "");
    assert!(!sipvm_proxy::modules::sl::absorbs_ack(&msg(&no_tag)));
}

#[test]
fn the_worker_absorbs_acks_before_the_script() {
    // The script forwards every ACK it sees; an absorbed one is never forwarded.
    let dir = std::env::temp_dir().join(format!("sipvm-natives-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("ack.cfg");
    std::fs::write(
        &file,
        r#"
loadmodule "sl.so"
loadmodule "textops.so"
request_route {
    if (is_method("ACK")) {
        forward("127.0.0.1", 5999);
        exit;
    }
    sl_send_reply("404", "Not Here");
}
"#,
    )
    .unwrap();
    let live = sipvm_cfg::Live::load(
        file.to_str().unwrap(),
        Default::default(),
        sipvm_proxy::modules::registry(),
    )
    .expect("test config compiles");
    let shared = Arc::new(sipvm_proxy::modules::shared(&live.current()).expect("module state"));
    let local = Local {
        index: 0,
        proto: Proto::Udp,
        addr: "127.0.0.1:5060".parse().unwrap(),
        advertise: None,
        name: None,
    };
    let locals: Arc<[Local]> = Arc::from(vec![local.clone()]);
    let mut w = sipvm_proxy::worker::Worker::new(live.cache(), shared, locals);
    let src = SRC.parse().unwrap();
    let mut out = Outbox::new();
    w.on_message(Bytes::from(crlf(INVITE)), src, &local, &mut out);
    assert_eq!(out.items().len(), 1);
    let reply = String::from_utf8_lossy(&out.items()[0].data).into_owned();
    assert_eq!(code(&reply), 404);
    let tag = send::to_tag(&msg(INVITE));
    assert!(reply.contains(&format!(";tag={tag}\r\n")), "{reply}");
    out.clear();
    w.on_message(Bytes::from(crlf(&ack(&tag))), src, &local, &mut out);
    assert!(out.is_empty(), "the ACK of our 404 was routed");
    // An ACK for someone else's reply is routed.
    w.on_message(Bytes::from(crlf(&ack("theirs"))), src, &local, &mut out);
    assert_eq!(out.items().len(), 1);
    assert_eq!(out.items()[0].dst, "127.0.0.1:5999".parse().unwrap());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A program whose pseudo-variable table holds `texts` (`$avp(x)`, `$sp`, ...), in order.
fn program_with_pvs(pvs: &[(&str, Option<&str>, &str)]) -> sipvm_vm::Program {
    use sipvm_vm::{PvIndex, PvName, PvRef};
    let mut p = sipvm_vm::Program::default();
    for (class, name, text) in pvs {
        // The class id the compiler would give: the host dispatches on it.
        let id = sipvm_proxy::modules::registry()
            .pv_classes()
            .find(|(_, _, d)| d.name == *class)
            .map(|(id, _, _)| id)
            .expect("a declared class");
        p.pvs.push(PvRef {
            class: id,
            class_name: Arc::from(*class),
            name: name.map_or(PvName::None, |n| PvName::Static(Arc::from(n))),
            index: PvIndex::None,
            trans: None,
            text: Arc::from(*text),
        });
    }
    p
}

#[test]
fn pv_isset_unset_and_is_int() {
    use sipvm_vm::{ArgValue, PvIdx, PV_CLASS_VAR};
    let mut prog = program_with_pvs(&[
        ("avp", Some("x"), "$avp(x)"),
        ("sp", None, "$sp"),
        ("ru", None, "$ru"),
        ("hdr", Some("X-None"), "$hdr(X-None)"),
    ]);
    prog.pvs.push(sipvm_vm::PvRef {
        class: PV_CLASS_VAR,
        class_name: Arc::from("var"),
        name: sipvm_vm::PvName::None,
        index: sipvm_vm::PvIndex::Int(0),
        trans: None,
        text: Arc::from("$var(x)"),
    });
    let mut e = Env::with_program(msg(INVITE), &[], prog);
    let mut c = e.ctx();
    let pv = |n: u32| ArgValue::Pv(PvIdx(n));
    assert_eq!(call(&mut c, "pv", "pv_isset", &[pv(0)]), -1);
    c.avps.push((Arc::from("x"), Value::Int(5)));
    assert_eq!(call(&mut c, "pv", "pv_isset", &[pv(0)]), 1);
    assert_eq!(call(&mut c, "pv", "is_int", &[pv(0)]), 1);
    assert_eq!(call(&mut c, "pv", "pv_unset", &[pv(0)]), 1);
    assert_eq!(call(&mut c, "pv", "pv_isset", &[pv(0)]), -1);
    assert_eq!(call(&mut c, "pv", "is_int", &[pv(0)]), -1);
    c.avps.push((Arc::from("x"), Value::Str(Arc::from("5"))));
    assert_eq!(call(&mut c, "pv", "is_int", &[pv(0)]), -1);
    assert_eq!(call(&mut c, "pv", "is_int", &[pv(1)]), 1);
    assert_eq!(call(&mut c, "pv", "is_int", &[pv(2)]), -1);
    assert_eq!(call(&mut c, "pv", "pv_isset", &[pv(2)]), 1);
    assert_eq!(call(&mut c, "pv", "pv_isset", &[pv(3)]), -1);
    // $sp cannot be unset.
    assert_eq!(call(&mut c, "pv", "pv_unset", &[pv(1)]), -1);
    // $var is the VM's: it hands the value in (here by hand) and writes pv_unset's $null.
    assert_eq!(call(&mut c, "pv", "pv_isset", &[pv(4)]), -1);
    c.pv_in.push((PvIdx(4), Value::Int(3)));
    assert_eq!(call(&mut c, "pv", "is_int", &[pv(4)]), 1);
    assert_eq!(call(&mut c, "pv", "pv_unset", &[pv(4)]), 1);
    assert_eq!(c.pv_out, vec![(PvIdx(4), Value::Null)]);
}
