//! The smallest end-to-end check: the real binary answers OPTIONS on 03-reply-always.cfg.

mod common;
use common::*;
use std::time::Duration;

#[test]
fn reply_always_answers_200() {
    let server = Sipvm::example("03-reply-always.cfg", &[]);
    let phone = Peer::new();
    let ruri = format!("sip:x@127.0.0.1:{}", server.port);
    phone.send(server.addr, &phone.request("OPTIONS", &ruri, "smoke-1", ""));
    let (reply, from) = phone.recv(Duration::from_secs(3)).expect("a reply");
    assert_eq!(
        from, server.addr,
        "the reply leaves from the listen address"
    );
    assert_eq!(
        status(&reply),
        Some(200),
        "{}",
        String::from_utf8_lossy(&reply)
    );
    let via = header(&reply, "Via");
    assert!(via[0].contains(&format!("rport={}", phone.port)), "{via:?}");
    assert!(header(&reply, "To")[0].contains(";tag="));
}
