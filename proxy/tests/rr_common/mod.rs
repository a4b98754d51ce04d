//! Helpers for the rr tests in process (`natives_rr*.rs`): sockets, an environment on
//! udp+tcp 127.0.0.1:5070, and `forward()` with what it sent.

#![allow(dead_code)]

use crate::natives_common::*;
use sipvm_proxy::host::Ctx;
use sipvm_proxy::transport::{Local, Proto};
use sipvm_vm::Value;

pub const INVITE: &str = "INVITE sip:bob@127.0.0.1:41001 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:41000;branch=z9hG4bK-1;rport
From: \"Alice\" <sip:alice@example.com>;tag=a1b2
To: <sip:bob@example.com>
Call-ID: c1@example.com
CSeq: 1 INVITE
Max-Forwards: 70
Contact: <sip:alice@127.0.0.1:41000>
Content-Length: 0

";

pub fn local(index: usize, proto: Proto, addr: &str) -> Local {
    Local {
        index,
        proto,
        addr: addr.parse().unwrap(),
        advertise: None,
        name: None,
    }
}

/// An environment receiving on udp:127.0.0.1:5070, with tcp:127.0.0.1:5070 too.
pub fn env(text: &str, params: &[(&str, &str, Value)]) -> Env {
    let mut e = Env::with_params(text, params);
    e.locals = vec![
        local(0, Proto::Udp, "127.0.0.1:5070"),
        local(1, Proto::Tcp, "127.0.0.1:5070"),
    ];
    e
}

/// Runs `f` on a fresh ctx, then `forward()`; the message sent (and its protocol).
pub fn forwarded(e: &mut Env, f: impl FnOnce(&mut Ctx<'_>)) -> (String, Proto) {
    let mut c = e.ctx();
    f(&mut c);
    assert_eq!(call(&mut c, "core", "forward", &[]), 1, "forward() sends");
    drop(c);
    let item = e.out.items().last().expect("something sent").clone();
    (String::from_utf8_lossy(&item.data).into_owned(), item.proto)
}

pub fn rr_lines(m: &str) -> Vec<&str> {
    m.lines()
        .filter(|l| l.starts_with("Record-Route:"))
        .collect()
}

pub fn int(n: i64) -> Value {
    Value::Int(n)
}
