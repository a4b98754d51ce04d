//! corex's message natives through the table the VM uses: internal flags, the source
//! address, faked and intercepted messages, `sendx`. Behaviour against Kamailio is in
//! `e2e_corex.rs`.

mod natives_common;
use natives_common::*;

const OPTIONS: &str = "OPTIONS sip:carol@example.com SIP/2.0
Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK-1
From: <sip:alice@example.com>;tag=a1
To: <sip:carol@example.com>
Call-ID: corex1@example.com
CSeq: 1 OPTIONS
Content-Length: 0

";

#[test]
fn internal_flags_by_name() {
    let mut e = Env::new(OPTIONS);
    let mut c = e.ctx();
    assert_eq!(
        call(&mut c, "corex", "msg_iflag_is_set", &[s("UAC_AUTH")]),
        -2
    );
    assert_eq!(call(&mut c, "corex", "msg_iflag_set", &[s("uac_auth")]), 1);
    assert_eq!(
        call(&mut c, "corex", "msg_iflag_is_set", &[s("UAC_AUTH")]),
        1
    );
    assert_eq!(
        call(&mut c, "corex", "msg_iflag_is_set", &[s("USE_UAC_TO")]),
        -2
    );
    assert_eq!(
        call(&mut c, "corex", "msg_iflag_reset", &[s("UAC_AUTH")]),
        1
    );
    assert_eq!(
        call(&mut c, "corex", "msg_iflag_is_set", &[s("UAC_AUTH")]),
        -2
    );
    assert_eq!(call(&mut c, "corex", "msg_iflag_set", &[s("OTHER")]), -1);
    assert_eq!(call(&mut c, "corex", "msg_iflag_is_set", &[s("")]), -1);
}

#[test]
fn source_address_parsed_and_checked() {
    let mut e = Env::new(OPTIONS);
    let mut c = e.ctx();
    assert_eq!(
        call(
            &mut c,
            "corex",
            "set_source_address",
            &[s("tcp:127.0.0.5:7000")]
        ),
        1
    );
    assert_eq!(c.src.to_string(), "127.0.0.5:7000");
    assert_eq!(
        call(&mut c, "corex", "set_source_address", &[s("[::1]:9")]),
        1
    );
    assert_eq!(c.src.to_string(), "[::1]:9");
    for bad in ["", "udp:127.0.0.1:x", "udp:", "127.0.0.1:99999"] {
        assert_eq!(
            call(&mut c, "corex", "set_source_address", &[s(bad)]),
            -1,
            "{bad}"
        );
    }
    assert_eq!(c.src.to_string(), "[::1]:9");
}

#[test]
fn faked_only_for_the_core_faked_request() {
    let mut e = Env::new(OPTIONS);
    let mut c = e.ctx();
    assert_eq!(call(&mut c, "corex", "is_faked_msg", &[]), -1);
    assert_eq!(call(&mut c, "corex", "is_incoming", &[]), -1);
    drop(c);
    use sipvm_proxy::modules::rtimer::{faked_msg, faked_src};
    // The faked text from a real peer is not the faked request.
    let mut e = Env::from_msg(faked_msg(), &[]);
    assert_eq!(call(&mut e.ctx(), "corex", "is_faked_msg", &[]), -1);
    let mut c = e.ctx();
    c.src = faked_src();
    assert_eq!(call(&mut c, "corex", "is_faked_msg", &[]), 1);
}

#[test]
fn sendx_sends_where_the_script_says() {
    let mut e = Env::new(OPTIONS);
    let mut c = e.ctx();
    let to = "sip:127.0.0.1:5999";
    assert_eq!(
        call(
            &mut c,
            "corex",
            "sendx",
            &[s(to), s("udp:127.0.0.1:5060"), s("DATA1")]
        ),
        1
    );
    assert_eq!(
        call(&mut c, "corex", "sendx", &[s(to), s(""), s("DATA2")]),
        1
    );
    assert_eq!(
        call(&mut c, "corex", "sendx", &[s(to), s("a:b:c:d"), s("X")]),
        -1
    );
    assert_eq!(
        call(&mut c, "corex", "sendx", &[s("nota uri"), s(""), s("X")]),
        -1
    );
    drop(c);
    let items = e.out.items();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|o| o.dst.to_string() == "127.0.0.1:5999"));
    assert_eq!(e.sent(), vec!["DATA1", "DATA2"]);
}
