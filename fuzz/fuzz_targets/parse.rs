//! Fuzz target: any bytes into `Msg::parse` (datagram and stream framing) and every accessor.
//! A parsed message must serialise back to its own bytes without edits, and any reply built
//! from it must parse. Seeds: `fuzz/corpus/parse/` (the RFC 4475 and RFC 5118 torture
//! messages), which `proxy/tests/receive_path.rs` also replays under plain `cargo test`.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sipvm_proxy::sip::{
    build_error_reply, build_reply, Edits, Framing, HeaderName, HeaderPos, Msg, NameAddr, Uri, Via,
};

fn uri(u: &Uri<'_>) {
    let _ = (
        u.as_str(),
        u.scheme(),
        u.scheme_str(),
        u.user(),
        u.user_unescaped(),
        u.password(),
        u.host(),
        u.host_kind(),
        u.port(),
        u.port_str(),
        u.hostport(),
        u.params().iter().count(),
        u.param("transport"),
        u.headers(),
        u.opaque(),
    );
}

fn name_addr(a: &NameAddr<'_>) {
    let _ = (
        a.as_str(),
        a.display(),
        a.display_unquoted(),
        a.bracketed(),
        a.params().iter().count(),
        a.tag(),
    );
    uri(a.uri());
}

fn via(v: &Via<'_>) {
    let _ = (
        v.as_str(),
        v.protocol(),
        v.version(),
        v.transport(),
        v.host(),
        v.host_kind(),
        v.port(),
        v.params().iter().count(),
        v.branch(),
        v.received(),
        v.rport(),
    );
}

fn exercise(m: &Msg) {
    let _ = (
        m.method(),
        m.method_str(),
        m.ruri_str(),
        m.status(),
        m.reason(),
        m.version_ok(),
        m.body().len(),
        m.content_length(),
    );
    if let Some(u) = m.ruri() {
        uri(u);
    }
    for h in m.headers() {
        let _ = m.header_values(h.name).count();
        let _ = m
            .header_values_by_name(&String::from_utf8_lossy(h.name_str))
            .count();
    }
    if let Ok(vs) = m.via() {
        vs.iter().for_each(via);
    }
    for a in [m.from(), m.to()].into_iter().flatten() {
        name_addr(a);
    }
    let _ = (
        m.call_id(),
        m.cseq().map(|c| (c.seq, c.method)),
        m.max_forwards(),
    );
    if let Ok(c) = m.contacts() {
        c.list.iter().for_each(|a| name_addr(&a.addr));
    }
    for r in [m.route(), m.record_route()].into_iter().flatten() {
        r.iter().for_each(name_addr);
    }
    let _ = m.content_type().map(|c| c.map(|c| c.params.iter().count()));
    let _ = (m.require(), m.proxy_require(), m.supported(), m.expires());
    let _ = m.date().map(|d| d.map(|d| d.unix));
    let _ = (m.check_all(), m.can_reply());

    let mut out = Vec::new();
    m.serialize(&Edits::new(), &mut out).unwrap();
    assert_eq!(
        out,
        m.as_bytes(),
        "serialize without edits changed the message"
    );

    let mut e = Edits::new();
    e.push_via("SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKfz");
    e.remove_top_via();
    e.add_header(HeaderPos::End, "X-Fz", "1");
    if m.header_count() > 0 {
        e.remove_header(0);
    }
    if m.ruri().is_some() {
        e.set_ruri("sip:fz@127.0.0.1");
    }
    out.clear();
    let _ = m.serialize(&e, &mut out);

    out.clear();
    if build_reply(m, 400, "Bad Request", Some("fz"), &[], &mut out).is_ok() {
        let r = Msg::parse(Bytes::from(out)).expect("a built reply parses");
        assert_eq!(r.status(), Some(400));
        assert!(r.find(HeaderName::Via).is_some() || m.find(HeaderName::Via).is_none());
    }
}

fuzz_target!(|data: &[u8]| {
    for framing in [Framing::Datagram, Framing::Stream] {
        match Msg::parse_with(Bytes::copy_from_slice(data), framing) {
            Ok(m) => exercise(&m),
            Err(e) => {
                let _ = (e.kind(), e.detail(), e.can_reply(), e.to_string());
                let mut out = Vec::new();
                if build_error_reply(&e, 400, "Bad Request", Some("fz"), &mut out).is_ok() {
                    let r = Msg::parse(Bytes::from(out)).expect("a built 400 parses");
                    assert_eq!(r.status(), Some(400));
                }
            }
        }
    }
});
