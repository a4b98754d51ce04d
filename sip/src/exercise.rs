//! One routine that drives every path of the parser over a buffer, for the fuzz target and
//! the never-panic tests (so they exercise the same things).

use super::{
    build_error_reply, build_reply, Edits, Framing, HeaderName, HeaderPos, Msg, NameAddr, Uri, Via,
};
use bytes::Bytes;

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
        u.param("lr"),
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
        a.params().get("tag"),
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

const NAMES: &[HeaderName] = &[
    HeaderName::Via,
    HeaderName::From,
    HeaderName::To,
    HeaderName::CallId,
    HeaderName::CSeq,
    HeaderName::MaxForwards,
    HeaderName::Contact,
    HeaderName::Route,
    HeaderName::RecordRoute,
    HeaderName::ContentLength,
    HeaderName::ContentType,
    HeaderName::Require,
    HeaderName::ProxyRequire,
    HeaderName::Supported,
    HeaderName::Expires,
    HeaderName::Date,
    HeaderName::Other,
];

/// Parses `buf` (as a datagram, then as a stream message) and reads everything the message
/// API offers: every accessor, serialisation without edits (which must give back the parsed
/// bytes), with edits, and the reply builders (whose output must parse). Panics on a broken
/// invariant. Returns whether the datagram parse succeeded. Shared by the fuzz target
/// (`fuzz/`) and the never-panic tests.
pub fn exercise(buf: &[u8]) -> bool {
    let _ = Msg::parse_with(Bytes::copy_from_slice(buf), Framing::Stream).map(|m| m.check_all());
    match Msg::parse(Bytes::copy_from_slice(buf)) {
        Ok(m) => {
            let _ = (
                m.len(),
                m.is_empty(),
                m.is_request(),
                m.is_response(),
                m.method(),
                m.method_str(),
                m.ruri_str(),
                m.status(),
                m.reason(),
                m.version(),
                m.version_ok(),
                m.header_count(),
                m.body().len(),
                m.body_offset(),
                m.content_length(),
                m.bytes().len(),
            );
            if let Some(u) = m.ruri() {
                uri(u);
            }
            for h in m.headers() {
                let _ = (h.index, h.name, h.name_str, h.value);
                let _ = m.header(h.index).map(|x| x.value.len());
                let _ = m.header_values(h.name).count();
                let _ = m
                    .header_values_by_name(&String::from_utf8_lossy(h.name_str))
                    .count();
            }
            let _ = m.header(usize::MAX);
            for &n in NAMES {
                let _ = (m.find(n), m.header_values(n).count());
            }
            if let Ok(vs) = m.via() {
                vs.iter().for_each(via);
            }
            if let Ok(v) = m.top_via() {
                via(v);
            }
            if let Ok(a) = m.from() {
                name_addr(a);
            }
            if let Ok(a) = m.to() {
                name_addr(a);
            }
            let _ = m.call_id();
            if let Ok(c) = m.cseq() {
                let _ = (c.seq, c.method);
            }
            let _ = m.max_forwards();
            if let Ok(c) = m.contacts() {
                for a in &c.list {
                    name_addr(&a.addr);
                    let _ = (a.q, a.expires);
                }
            }
            for r in [m.route(), m.record_route()].into_iter().flatten() {
                r.iter().for_each(name_addr);
            }
            if let Ok(Some(ct)) = m.content_type() {
                let _ = (
                    ct.mtype,
                    ct.subtype,
                    ct.params.iter().count(),
                    ct.is("application", "sdp"),
                );
            }
            let _ = (m.require(), m.proxy_require(), m.supported(), m.expires());
            if let Ok(Some(d)) = m.date() {
                let _ = (d.raw, d.unix);
            }
            let _ = (m.check_all(), m.can_reply());
            let mut out = Vec::new();
            m.serialize(&Edits::new(), &mut out).unwrap();
            assert_eq!(
                out,
                m.as_bytes(),
                "serialize without edits changed the message"
            );
            let mut e = Edits::new();
            e.push_via("SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKrp");
            e.remove_top_via();
            e.add_header(HeaderPos::End, "X-Rp", "1");
            if m.header_count() > 0 {
                e.remove_header(m.header_count() - 1);
            }
            if m.ruri().is_some() {
                e.set_ruri("sip:rp@127.0.0.1");
            }
            out.clear();
            let _ = m.serialize(&e, &mut out);
            out.clear();
            if build_reply(&m, 400, "Bad Request", Some("rp"), &[], &mut out).is_ok() {
                let r = Msg::parse(Bytes::from(out)).expect("a built reply parses");
                assert_eq!(r.status(), Some(400));
            }
            true
        }
        Err(e) => {
            let _ = (e.kind(), e.detail(), e.can_reply(), e.to_string());
            if let Some(p) = e.partial() {
                let _ = (p.method_str(), p.header_count(), p.via().is_ok());
            }
            let mut out = Vec::new();
            if build_error_reply(&e, 400, "Bad Request", Some("rp"), &mut out).is_ok() {
                let r = Msg::parse(Bytes::from(out)).expect("a built 400 parses");
                assert_eq!(r.status(), Some(400));
            }
            false
        }
    }
}
