//! siptrace's natives through the table the VM uses: `sip_trace()` with 0..3 arguments and
//! `sip_trace_mode()`, what they queue (HEPv3 or the plain message, aside from the raw-data
//! hooks) and their return codes; `trace_on` and the `siptrace.status` switch.

mod natives_common;
use natives_common::*;
use sipvm_proxy::modules::siptrace::hep::Hep;
use sipvm_proxy::modules::siptrace::SipTrace;
use sipvm_vm::Value;
use std::sync::Arc;

const OPTIONS: &str = "OPTIONS sip:carol@example.com SIP/2.0
Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK-1
From: <sip:alice@example.com>;tag=a1
To: <sip:carol@example.com>
Call-ID: trace1@example.com
CSeq: 1 OPTIONS
Content-Length: 0

";

fn env(extra: &[(&str, Value)]) -> Env {
    let mut p: Vec<(&str, &str, Value)> = vec![
        ("siptrace", "trace_to_database", Value::Int(0)),
        ("siptrace", "trace_on", Value::Int(1)),
        (
            "siptrace",
            "duplicate_uri",
            Value::str("sip:127.0.0.1:9060"),
        ),
    ];
    p.extend(extra.iter().map(|(k, v)| ("siptrace", *k, v.clone())));
    let mut e = Env::with_params(OPTIONS, &p);
    // The module acts only when the file loads it.
    e.snap.modules = Arc::from(vec!["siptrace".to_string()]);
    e.shared = sipvm_proxy::modules::shared(&e.snap).unwrap();
    e
}

fn hep_env() -> Env {
    env(&[
        ("hep_mode_on", Value::Int(1)),
        ("hep_version", Value::Int(3)),
        ("hep_capture_id", Value::Int(77)),
        ("auth_key", Value::str("secret")),
    ])
}

#[test]
fn sip_trace_sends_hep3_to_duplicate_uri() {
    let mut e = hep_env();
    let mut c = e.ctx();
    assert_eq!(call(&mut c, "siptrace", "sip_trace", &[]), 1);
    drop(c);
    let items = e.out.items();
    assert_eq!(items.len(), 1);
    assert!(
        items[0].aside,
        "copies are not offered to topoh or mirroring"
    );
    assert_eq!(items[0].dst, "127.0.0.1:9060".parse().unwrap());
    let h = Hep::decode(&items[0].data).unwrap();
    assert_eq!(h.src, SRC.parse().unwrap());
    assert_eq!(
        h.dst,
        "127.0.0.1:5060".parse().unwrap(),
        "the socket it came on"
    );
    assert_eq!((h.proto, h.proto_type, h.capture_id), (17, 1, 77));
    assert_eq!(h.auth_key.as_deref(), Some(&b"secret"[..]));
    assert_eq!(h.correlation_id, None);
    assert_eq!(h.payload, e.msg.as_bytes());
}

#[test]
fn destination_correlation_and_mode() {
    let mut e = hep_env();
    let mut c = e.ctx();
    let r = call(
        &mut c,
        "siptrace",
        "sip_trace",
        &[s("sip:127.0.0.1:9999"), s("corr-1"), s("m")],
    );
    assert_eq!(r, 1);
    // An empty destination means duplicate_uri.
    assert_eq!(call(&mut c, "siptrace", "sip_trace", &[s(""), s("c2")]), 1);
    // A bad destination, a bad flag, transaction/dialog tracing: -1, nothing sent.
    assert_eq!(call(&mut c, "siptrace", "sip_trace", &[s("nonsense")]), -1);
    assert_eq!(
        call(&mut c, "siptrace", "sip_trace", &[s(""), s(""), s("x")]),
        -1
    );
    assert_eq!(
        call(&mut c, "siptrace", "sip_trace", &[s(""), s(""), s("t")]),
        -1
    );
    assert_eq!(
        call(&mut c, "siptrace", "sip_trace", &[s(""), s(""), s("D")]),
        -1
    );
    drop(c);
    let items = e.out.items();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].dst, "127.0.0.1:9999".parse().unwrap());
    let h = Hep::decode(&items[0].data).unwrap();
    assert_eq!(h.correlation_id.as_deref(), Some(&b"corr-1"[..]));
    assert_eq!(items[1].dst, "127.0.0.1:9060".parse().unwrap());
}

#[test]
fn plain_copy_without_hep_mode() {
    let mut e = env(&[]);
    let mut c = e.ctx();
    assert_eq!(call(&mut c, "siptrace", "sip_trace", &[]), 1);
    assert_eq!(call(&mut c, "siptrace", "sip_trace_mode", &[s("m")]), 1);
    assert_eq!(call(&mut c, "siptrace", "sip_trace_mode", &[s("t")]), -1);
    drop(c);
    let sent = e.sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0], crlf(OPTIONS));
}

#[test]
fn trace_off_returns_minus_one_and_status_turns_it() {
    let mut e = hep_env();
    e.shared
        .state::<SipTrace>()
        .on
        .store(false, std::sync::atomic::Ordering::Relaxed);
    let mut c = e.ctx();
    assert_eq!(call(&mut c, "siptrace", "sip_trace", &[]), -1);
    assert_eq!(call(&mut c, "siptrace", "sip_trace_mode", &[s("m")]), -1);
    drop(c);
    assert!(e.out.is_empty());
    let st = e.shared.state::<SipTrace>();
    st.on.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut c = e.ctx();
    assert_eq!(call(&mut c, "siptrace", "sip_trace", &[]), 1);
}

#[test]
fn no_destination_at_all_is_minus_one() {
    let mut e = Env::with_params(
        OPTIONS,
        &[
            ("siptrace", "trace_to_database", Value::Int(0)),
            ("siptrace", "trace_on", Value::Int(1)),
        ],
    );
    e.snap.modules = Arc::from(vec!["siptrace".to_string()]);
    e.shared = sipvm_proxy::modules::shared(&e.snap).unwrap();
    let mut c = e.ctx();
    assert_eq!(call(&mut c, "siptrace", "sip_trace", &[]), -1);
    assert_eq!(call(&mut c, "siptrace", "sip_trace_mode", &[s("m")]), -1);
    assert_eq!(
        call(&mut c, "siptrace", "sip_trace", &[s("sip:127.0.0.1:1")]),
        1
    );
}

#[test]
fn hlog_sends_a_log_line_correlated_by_call_id() {
    let mut e = hep_env();
    let mut c = e.ctx();
    assert_eq!(call(&mut c, "siptrace", "hlog", &[s("hello")]), 1);
    assert_eq!(call(&mut c, "siptrace", "hlog", &[s("cid-9"), s("two")]), 1);
    drop(c);
    let items = e.out.items();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|i| i.aside && i.via_socket == Some(0)));
    let h = Hep::decode(&items[0].data).unwrap();
    assert_eq!((h.proto_type, h.capture_id), (100, 77));
    assert_eq!(
        h.src,
        "127.0.0.1:5060".parse().unwrap(),
        "the sending socket"
    );
    assert_eq!(h.dst, "127.0.0.1:9060".parse().unwrap());
    assert_eq!(
        h.correlation_id.as_deref(),
        Some(&b"trace1@example.com"[..])
    );
    assert_eq!(h.payload, b"hello");
    let h = Hep::decode(&items[1].data).unwrap();
    assert_eq!(h.correlation_id.as_deref(), Some(&b"cid-9"[..]));
    assert_eq!(h.payload, b"two");
}

#[test]
fn send_socket_by_name_or_address() {
    use sipvm_proxy::transport::{Local, Proto};
    let extra = |name: &str| Local {
        index: 1,
        proto: Proto::Udp,
        addr: "127.0.0.1:5061".parse().unwrap(),
        advertise: None,
        name: Some(name.to_string()),
    };
    for (param, value, want) in [
        ("send_sock_name", "trace", Some(1)),
        ("send_sock_addr", "sip:127.0.0.1:5061", Some(1)),
        ("force_send_sock", "sip:127.0.0.1:5061", Some(1)),
        // Not a socket of ours: warned about, the transport chooses.
        ("send_sock_addr", "sip:127.0.0.1:5999", None),
        ("send_sock_name", "nope", None),
    ] {
        let mut e = env(&[(param, Value::str(value))]);
        e.locals.push(extra("trace"));
        let mut c = e.ctx();
        assert_eq!(call(&mut c, "siptrace", "sip_trace", &[]), 1);
        drop(c);
        assert_eq!(e.out.items()[0].via_socket, want, "{param}={value}");
    }
}
