//! Edits applied at serialization, and stateless replies.

use bytes::Bytes;
use sipvm_proxy::sip::{
    build_error_reply, build_reply, Edits, HeaderName, HeaderPos, Msg, ReplyError,
};

const INVITE: &str = "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n\
v: SIP/2.0/TCP p1.example.com;branch=z9hG4bK1, SIP/2.0/UDP p2.example.com;branch=z9hG4bK2\r\n\
Max-Forwards: 70\r\n\
To: Bob <sip:bob@biloxi.example.com>\r\n\
From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n\
CSeq: 314159 INVITE\r\n\
l: 4\r\n\
\r\n\
v=0\n";

fn parse(s: impl Into<Vec<u8>>) -> Msg {
    Msg::parse(Bytes::from(s.into())).unwrap()
}

fn apply(m: &Msg, e: &Edits) -> String {
    let mut out = Vec::new();
    m.serialize(e, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn no_edits_is_identity() {
    let m = parse(INVITE);
    assert_eq!(apply(&m, &Edits::new()), INVITE);
}

#[test]
fn ruri_via_and_headers() {
    let m = parse(INVITE);
    let mut e = Edits::new();
    e.set_ruri("sip:bob@192.0.2.4:5070;transport=udp");
    e.push_via("SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKown");
    e.add_header(
        HeaderPos::Before(m.find(HeaderName::To).unwrap()),
        "Record-Route",
        "<sip:192.0.2.1;lr>",
    );
    e.add_header(
        HeaderPos::After(m.find(HeaderName::CSeq).unwrap()),
        "X-After",
        "1",
    );
    e.add_header(HeaderPos::End, "X-End", "2");
    e.remove_header(m.find(HeaderName::MaxForwards).unwrap());
    e.add_header(
        HeaderPos::After(m.find(HeaderName::MaxForwards).unwrap()),
        "Max-Forwards",
        "69",
    );
    let out = apply(&m, &e);
    let n = parse(out.clone());
    assert_eq!(n.ruri_str(), "sip:bob@192.0.2.4:5070;transport=udp");
    let v = n.via().unwrap();
    assert_eq!(v.len(), 4);
    assert_eq!(v[0].branch(), Some("z9hG4bKown"));
    assert_eq!(v[1].branch(), Some("z9hG4bK776asdhds"));
    assert_eq!(n.max_forwards().unwrap(), Some(69));
    assert_eq!(n.record_route().unwrap().len(), 1);
    let names: Vec<_> = n
        .headers()
        .map(|h| String::from_utf8_lossy(h.name_str).into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "Via",
            "Via",
            "v",
            "Max-Forwards",
            "Record-Route",
            "To",
            "From",
            "Call-ID",
            "CSeq",
            "X-After",
            "l",
            "X-End"
        ]
    );
    assert_eq!(n.body(), b"v=0\n");
    // Untouched lines go out as they came.
    assert!(out.contains("\r\nv: SIP/2.0/TCP p1.example.com;branch=z9hG4bK1, SIP/2.0/UDP p2.example.com;branch=z9hG4bK2\r\n"));
}

#[test]
fn remove_and_replace_top_via() {
    let m = parse(INVITE);
    let mut e = Edits::new();
    e.remove_top_via();
    let n = parse(apply(&m, &e));
    assert_eq!(n.via().unwrap().len(), 2);
    assert_eq!(n.via().unwrap()[0].branch(), Some("z9hG4bK1"));
    // Top Via inside a multi-value line: only the first element goes.
    let mut e = Edits::new();
    e.remove_top_via();
    let out = apply(&n, &e);
    let k = parse(out.clone());
    assert_eq!(k.via().unwrap().len(), 1);
    assert_eq!(k.via().unwrap()[0].branch(), Some("z9hG4bK2"));
    assert!(
        out.contains("\r\nv: SIP/2.0/UDP p2.example.com;branch=z9hG4bK2\r\n"),
        "{out}"
    );
    let mut e = Edits::new();
    e.replace_top_via("SIP/2.0/TCP new.example.com;branch=z9hG4bKnew");
    let n = parse(apply(&m, &e));
    assert_eq!(n.via().unwrap().len(), 3);
    assert_eq!(n.via().unwrap()[0].host(), "new.example.com");
    let mut e = Edits::new();
    e.remove_top_via();
    assert!(parse("OPTIONS sip:a SIP/2.0\r\n\r\n")
        .serialize(&e, &mut Vec::new())
        .is_err());
}

#[test]
fn body_replacement_fixes_content_length() {
    let m = parse(INVITE);
    let mut e = Edits::new();
    e.set_body(b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n");
    let n = parse(apply(&m, &e));
    assert_eq!(n.content_length(), Some(31));
    assert_eq!(n.body(), b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n");
    assert_eq!(n.header_values(HeaderName::ContentLength).count(), 1);
    // No Content-Length in the request: one is added.
    let m = parse("MESSAGE sip:a SIP/2.0\r\nCall-ID: x\r\n\r\nhello");
    let mut e = Edits::new();
    e.set_body(b"");
    let out = apply(&m, &e);
    assert_eq!(
        out,
        "MESSAGE sip:a SIP/2.0\r\nCall-ID: x\r\nContent-Length: 0\r\n\r\n"
    );
    // Content-Length removed by an edit and the body changed: a new one is added.
    let m = parse(INVITE);
    let mut e = Edits::new();
    e.remove_header(m.find(HeaderName::ContentLength).unwrap());
    e.set_body(b"xy");
    let n = parse(apply(&m, &e));
    assert_eq!((n.content_length(), n.body()), (Some(2), &b"xy"[..]));
}

#[test]
fn byte_ranges() {
    let m = parse(INVITE);
    let cid = m.call_id().unwrap();
    let at = cid.as_ptr() as usize - m.as_bytes().as_ptr() as usize;
    let mut e = Edits::new();
    e.replace_range(at, at + cid.len(), b"new-call-id");
    e.insert_at(0, b"");
    let n = parse(apply(&m, &e));
    assert_eq!(n.call_id().unwrap(), "new-call-id");
    let mut e = Edits::new();
    e.replace_range(5, 10_000, b"x");
    assert!(m.serialize(&e, &mut Vec::new()).is_err());
    let mut e = Edits::new();
    e.remove_header(99);
    assert!(m.serialize(&e, &mut Vec::new()).is_err());
    // Removing the same header twice removes it once.
    let mf = m.find(HeaderName::MaxForwards).unwrap();
    let mut e = Edits::new();
    e.remove_header(mf);
    e.remove_header(mf);
    let n = parse(apply(&m, &e));
    assert_eq!(n.max_forwards().unwrap(), None);
    assert_eq!(n.header_count(), m.header_count() - 1);
}

#[test]
fn replies() {
    let m = parse(INVITE);
    let mut out = Vec::new();
    build_reply(
        &m,
        180,
        "Ringing",
        Some("srv1"),
        &[("Contact", "<sip:bob@192.0.2.4>")],
        &mut out,
    )
    .unwrap();
    let r = parse(out.clone());
    assert_eq!(r.status(), Some(180));
    assert_eq!(r.reason(), Some(&b"Ringing"[..]));
    let vias: Vec<_> = r
        .via()
        .unwrap()
        .iter()
        .map(|v| v.branch().unwrap())
        .collect();
    assert_eq!(vias, ["z9hG4bK776asdhds", "z9hG4bK1", "z9hG4bK2"]);
    assert_eq!(
        r.header_values(HeaderName::Via).count(),
        2,
        "Via lines copied as lines"
    );
    assert_eq!(r.to().unwrap().tag(), Some("srv1"));
    assert_eq!(r.from().unwrap().tag(), Some("1928301774"));
    assert_eq!(r.cseq().unwrap().seq, 314159);
    assert_eq!(r.contacts().unwrap().list.len(), 1);
    assert_eq!(r.content_length(), Some(0));
    // 100 gets no tag; a To that has a tag keeps it.
    out.clear();
    build_reply(&m, 100, "Trying", Some("srv1"), &[], &mut out).unwrap();
    assert_eq!(parse(out.clone()).to().unwrap().tag(), None);
    out.clear();
    build_reply(&r, 200, "OK", Some("x"), &[], &mut out).unwrap_err();
    let tagged = INVITE.replace(
        "To: Bob <sip:bob@biloxi.example.com>",
        "To: <sip:b@c>;tag=old",
    );
    out.clear();
    build_reply(&parse(tagged), 486, "Busy Here", Some("new"), &[], &mut out).unwrap();
    assert_eq!(parse(out.clone()).to().unwrap().tag(), Some("old"));
    assert_eq!(
        build_reply(&m, 99, "x", None, &[], &mut out),
        Err(ReplyError::BadCode(99))
    );
    let ack = parse(
        INVITE
            .replace("INVITE sip", "ACK sip")
            .replace("314159 INVITE", "314159 ACK"),
    );
    assert_eq!(
        build_reply(&ack, 400, "Bad", None, &[], &mut out),
        Err(ReplyError::NotARequest)
    );
    let no_cid = parse(INVITE.replace("Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n", ""));
    assert_eq!(
        build_reply(&no_cid, 400, "Bad", None, &[], &mut out),
        Err(ReplyError::Unreadable(HeaderName::CallId))
    );
}

#[test]
fn error_replies() {
    // A malformed To is copied as it is into the 400.
    let bad_to = INVITE.replace(
        "To: Bob <sip:bob@biloxi.example.com>",
        "To: \"Bob <sip:bob@biloxi.example.com>",
    );
    let m = parse(bad_to);
    assert!(m.to().is_err() && m.can_reply());
    let mut out = Vec::new();
    build_reply(&m, 400, "Bad To", Some("t"), &[], &mut out).unwrap();
    let s = String::from_utf8(out).unwrap();
    assert!(
        s.contains("\r\nTo: \"Bob <sip:bob@biloxi.example.com>\r\n"),
        "{s}"
    );
    // Unframeable message with readable headers: 400 from the error.
    let clerr = INVITE.replace("l: 4", "l: 9999");
    let e = Msg::parse(Bytes::from(clerr)).unwrap_err();
    assert!(e.can_reply());
    let mut out = Vec::new();
    build_error_reply(&e, 400, "Bad Content-Length", Some("t"), &mut out).unwrap();
    let r = parse(out);
    assert_eq!((r.status(), r.via().unwrap().len()), (Some(400), 3));
    assert_eq!(r.to().unwrap().tag(), Some("t"));
    // Bad version: the message parses; the proxy answers 505.
    let m = parse(INVITE.replace(" SIP/2.0\r\n", " SIP/3.0\r\n"));
    assert!(!m.version_ok());
    assert_eq!(m.version(), b"SIP/3.0");
}

#[test]
fn edits_inside_the_body_move_content_length() {
    let m = parse(INVITE);
    let off = m.body_offset();
    let mut e = Edits::new();
    // `v=0\n` becomes `v=0\r\ns=-\r\n`: Content-Length follows (Kamailio does the same when
    // it applies body lumps); header edits alone leave it.
    e.replace_range(off + 3, off + 4, b"\r\ns=-\r\n");
    let out = apply(&m, &e);
    assert!(out.contains("\r\nl: 10\r\n\r\nv=0\r\ns=-\r\n"), "{out}");
    let mut e = Edits::new();
    e.replace_range(off, off + 4, b"");
    assert!(apply(&m, &e).ends_with("\r\nl: 0\r\n\r\n"));
    let mut e = Edits::new();
    e.add_header(HeaderPos::End, "X-A", "b");
    assert!(apply(&m, &e).contains("\r\nl: 4\r\n"));
}
