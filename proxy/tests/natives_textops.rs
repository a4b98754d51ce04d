//! textops natives: return codes as Kamailio 5.6 gives them, and the bytes their edits
//! produce.

mod natives_common;
use natives_common::*;
use sipvm_vm::ArgValue;

const INVITE: &str = "INVITE sip:bob@example.com;transport=udp SIP/2.0
Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK-1
From: <sip:alice@example.com>;tag=a1
To: <sip:bob@example.com>
Call-ID: c1@example.com
CSeq: 1 INVITE
X-Foo: one
Max-Forwards: 70
x-foo: two
Content-Type: application/sdp
Content-Length: 14

v=0
o=alice
";

const OPTIONS: &str = "OPTIONS sip:bob@example.com SIP/2.0
Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK-2
f: <sip:alice@example.com>;tag=a1
t: <sip:bob@example.com>
i: c2@example.com
CSeq: 2 OPTIONS
Content-Length: 0

";

#[test]
fn has_body_with_and_without_type() {
    let mut e = Env::new(INVITE);
    let mut c = e.ctx();
    assert_eq!(call(&mut c, "textops", "has_body", &[]), 1);
    assert_eq!(
        call(&mut c, "textops", "has_body", &[s("application/sdp")]),
        1
    );
    assert_eq!(
        call(&mut c, "textops", "has_body", &[s("APPLICATION/SDP")]),
        1
    );
    assert_eq!(call(&mut c, "textops", "has_body", &[s("text/plain")]), -1);
    let mut e = Env::new(OPTIONS);
    let mut c = e.ctx();
    assert_eq!(call(&mut c, "textops", "has_body", &[]), -1);
    // No Content-Type: application/sdp is assumed (RFC 3261).
    let mut e = Env::new(&INVITE.replace("Content-Type: application/sdp\n", ""));
    let mut c = e.ctx();
    assert_eq!(
        call(&mut c, "textops", "has_body", &[s("application/sdp")]),
        1
    );
    // No Content-Length header: false, as in Kamailio, even with bytes after the headers.
    let mut e = Env::new(&INVITE.replace("Content-Length: 14\n", ""));
    let mut c = e.ctx();
    assert_eq!(call(&mut c, "textops", "has_body", &[]), -1);
}

#[test]
fn search_whole_message_and_body() {
    let mut e = Env::new(INVITE);
    let mut c = e.ctx();
    let r = re("^x-foo: *two");
    assert_eq!(call(&mut c, "textops", "search", &[ArgValue::Regex(&r)]), 1);
    let r = re("^invite sip:");
    assert_eq!(call(&mut c, "textops", "search", &[ArgValue::Regex(&r)]), 1);
    let r = re("o=alice");
    assert_eq!(call(&mut c, "textops", "search", &[ArgValue::Regex(&r)]), 1);
    assert_eq!(
        call(&mut c, "textops", "search_body", &[ArgValue::Regex(&r)]),
        1
    );
    let r = re("X-Foo");
    assert_eq!(
        call(&mut c, "textops", "search_body", &[ArgValue::Regex(&r)]),
        -1
    );
    let r = re("nowhere");
    assert_eq!(
        call(&mut c, "textops", "search", &[ArgValue::Regex(&r)]),
        -1
    );
    // `.` does not cross a line (REG_NEWLINE).
    let r = re("one.*two");
    assert_eq!(
        call(&mut c, "textops", "search", &[ArgValue::Regex(&r)]),
        -1
    );
    let mut e = Env::new(OPTIONS);
    let mut c = e.ctx();
    let r = re(".");
    assert_eq!(
        call(&mut c, "textops", "search_body", &[ArgValue::Regex(&r)]),
        -1
    );
    assert!(c.edits.is_empty());
}

#[test]
fn is_present_hf_matches_names_and_compact_forms() {
    let mut e = Env::new(OPTIONS);
    let mut c = e.ctx();
    assert_eq!(call(&mut c, "textops", "is_present_hf", &[s("From")]), 1);
    assert_eq!(call(&mut c, "textops", "is_present_hf", &[s("call-id")]), 1);
    assert_eq!(
        call(&mut c, "textops", "is_present_hf", &[s("Contact")]),
        -1
    );
    let mut e = Env::new(INVITE);
    let mut c = e.ctx();
    assert_eq!(call(&mut c, "textops", "is_present_hf", &[s("X-FOO")]), 1);
    assert_eq!(call(&mut c, "textops", "is_present_hf", &[s("X-Fo")]), -1);
}

#[test]
fn remove_hf_removes_every_occurrence() {
    let mut e = Env::new(INVITE);
    let mut c = e.ctx();
    assert_eq!(call(&mut c, "textops", "remove_hf", &[s("X-Foo")]), 1);
    assert_eq!(
        serialized(&c),
        crlf(
            &INVITE
                .replace("X-Foo: one\n", "")
                .replace("x-foo: two\n", "")
        )
    );
    assert_eq!(call(&mut c, "textops", "remove_hf", &[s("X-Bar")]), -1);
    let mut e = Env::new(OPTIONS);
    let mut c = e.ctx();
    assert_eq!(call(&mut c, "textops", "remove_hf", &[s("From")]), 1);
    assert_eq!(
        serialized(&c),
        crlf(&OPTIONS.replace("f: <sip:alice@example.com>;tag=a1\n", ""))
    );
}

#[test]
fn append_hf_at_end_or_after_a_header() {
    let mut e = Env::new(OPTIONS);
    let mut c = e.ctx();
    assert_eq!(call(&mut c, "textops", "append_hf", &[s("X-A: 1\r\n")]), 1);
    assert_eq!(
        serialized(&c),
        crlf(&OPTIONS.replace("Content-Length: 0\n", "Content-Length: 0\nX-A: 1\n"))
    );
    let mut e = Env::new(INVITE);
    let mut c = e.ctx();
    assert_eq!(
        call(
            &mut c,
            "textops",
            "append_hf",
            &[s("X-B: 2\r\n"), s("x-foo")]
        ),
        1
    );
    assert_eq!(
        serialized(&c),
        crlf(&INVITE.replace("x-foo: two\n", "x-foo: two\nX-B: 2\n"))
    );
    // An anchor that is absent: after the last header.
    let mut e = Env::new(OPTIONS);
    let mut c = e.ctx();
    assert_eq!(
        call(
            &mut c,
            "textops",
            "append_hf",
            &[s("X-C: 3\r\n"), s("Route")]
        ),
        1
    );
    assert_eq!(
        serialized(&c),
        crlf(&OPTIONS.replace("Content-Length: 0\n", "Content-Length: 0\nX-C: 3\n"))
    );
    assert_eq!(call(&mut c, "textops", "append_hf", &[s("")]), -1);
}

#[test]
fn insert_hf_at_top_or_before_a_header() {
    let mut e = Env::new(OPTIONS);
    let mut c = e.ctx();
    assert_eq!(call(&mut c, "textops", "insert_hf", &[s("X-A: 1\r\n")]), 1);
    assert_eq!(
        serialized(&c),
        crlf(&OPTIONS.replace("Via:", "X-A: 1\nVia:"))
    );
    let mut e = Env::new(INVITE);
    let mut c = e.ctx();
    assert_eq!(
        call(
            &mut c,
            "textops",
            "insert_hf",
            &[s("X-B: 2\r\n"), s("X-Foo")]
        ),
        1
    );
    assert_eq!(
        serialized(&c),
        crlf(&INVITE.replace("X-Foo: one\n", "X-B: 2\nX-Foo: one\n"))
    );
    assert_eq!(call(&mut c, "textops", "insert_hf", &[s("")]), -1);
}

#[test]
fn subst_first_match_and_global_with_groups() {
    let mut e = Env::new(INVITE);
    let mut c = e.ctx();
    assert_eq!(
        call(
            &mut c,
            "textops",
            "subst",
            &[s(r"/^(x-foo): ([a-z]*)/\1: [\2]/gi")]
        ),
        1
    );
    assert_eq!(
        serialized(&c),
        crlf(
            &INVITE
                .replace("X-Foo: one\n", "X-Foo: [one]\n")
                .replace("x-foo: two\n", "x-foo: [two]\n")
        )
    );
    // Without `g`, the first match only; without `i`, case matters.
    let mut e = Env::new(INVITE);
    let mut c = e.ctx();
    assert_eq!(
        call(
            &mut c,
            "textops",
            "subst",
            &[s("/example.com/example.net/")]
        ),
        1
    );
    assert_eq!(
        serialized(&c),
        crlf(&INVITE.replacen(
            "From: <sip:alice@example.com>",
            "From: <sip:alice@example.net>",
            1
        ))
    );
    assert_eq!(call(&mut c, "textops", "subst", &[s("/X-FOO/y/")]), -1);
    // The first line is left alone; the body is not.
    let mut e = Env::new(INVITE);
    let mut c = e.ctx();
    assert_eq!(
        call(&mut c, "textops", "subst", &[s("/sip:bob/sip:carol/g")]),
        1
    );
    let out = serialized(&c);
    assert!(out.starts_with("INVITE sip:bob@example.com;transport=udp SIP/2.0\r\n"));
    assert!(out.contains("To: <sip:carol@example.com>\r\n"));
    let mut e = Env::new(INVITE);
    let mut c = e.ctx();
    assert_eq!(call(&mut c, "textops", "subst", &[s("/o=alice/o=\\u/")]), 1);
    assert!(serialized(&c).ends_with("o=sip:bob@example.com;transport=udp\r\n"));
}

#[test]
fn subst_refuses_empty_matches_and_bad_expressions() {
    let mut e = Env::new(INVITE);
    let mut c = e.ctx();
    assert_eq!(call(&mut c, "textops", "subst", &[s("/x*/y/g")]), -1);
    assert!(c.edits.is_empty());
    assert!(call_err(&mut c, "textops", "subst", &[s("/a/b")]).contains("separator"));
    assert!(call_err(&mut c, "textops", "subst", &[s("/a/$rU/")]).contains("pseudo-variables"));
}

#[test]
fn is_method_on_requests_and_replies() {
    let mut e = Env::new(INVITE);
    let mut c = e.ctx();
    assert_eq!(call(&mut c, "textops", "is_method", &[s("BYE|invite")]), 1);
    assert_eq!(call(&mut c, "textops", "is_method", &[s("OPTIONS")]), -1);
    let mut e = Env::new(
        "SIP/2.0 200 OK
Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK-1
From: <sip:alice@example.com>;tag=a1
To: <sip:bob@example.com>;tag=b
Call-ID: c1@example.com
CSeq: 1 INVITE
Content-Length: 0

",
    );
    let mut c = e.ctx();
    assert_eq!(call(&mut c, "textops", "is_method", &[s("INVITE")]), 1);
}

#[test]
fn reply_lumps_go_into_local_replies() {
    let mut e = Env::new(OPTIONS);
    {
        let mut ctx = e.ctx();
        assert_eq!(
            call(&mut ctx, "textops", "append_to_reply", &[s("X-A: 1\r\n")]),
            1
        );
        assert_eq!(call(&mut ctx, "textops", "append_to_reply", &[s("")]), -1);
        assert_eq!(call(&mut ctx, "textops", "append_time", &[]), 1);
        assert_eq!(
            call(&mut ctx, "textops", "set_reply_body", &[s(""), s("a/b")]),
            -1
        );
        assert_eq!(
            call(
                &mut ctx,
                "textops",
                "set_reply_body",
                &[s("hi"), s("text/plain")]
            ),
            1
        );
        assert_eq!(
            call(&mut ctx, "textops", "set_reply_body", &[s("no"), s("a/b")]),
            -1,
            "one body"
        );
        assert_eq!(
            call(&mut ctx, "sl", "sl_send_reply", &[i(404), s("Nope")]),
            1
        );
    }
    let sent = e.sent();
    assert_eq!(sent.len(), 1);
    let r = &sent[0];
    let tail = r.split_once("CSeq: 2 OPTIONS\r\n").unwrap().1;
    let date = regex::Regex::new(concat!(
        r"^X-A: 1\r\nDate: [A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT\r\n",
        r"Content-Type: text/plain\r\nContent-Type: a/b\r\nServer: sipvm\r\n",
        r"Content-Length: 2\r\n\r\nhi$",
    ))
    .unwrap();
    assert!(date.is_match(tail), "{r}");
}

#[test]
fn a_multipart_body_on_a_message_without_one() {
    // Kamailio 5.6.3 crashes applying this one; sipvm sets the body and its length.
    let mut e = Env::new(OPTIONS);
    let mut ctx = e.ctx();
    assert_eq!(
        call(
            &mut ctx,
            "textops",
            "set_body_multipart",
            &[s("hi"), s("text/plain")]
        ),
        1
    );
    let out = serialized(&ctx);
    let body =
        "--unique-boundary-1\r\nContent-Type: text/plain\r\n\r\nhi\r\n--unique-boundary-1\r\n";
    assert!(
        out.ends_with(&format!(
            "Content-Length: {}\r\nContent-Type: multipart/mixed;boundary=\"unique-boundary-1\"\r\n\
             Mime-Version: 1.0\r\n\r\n{body}",
            body.len()
        )),
        "{out}"
    );
    // Without a body to wrap: -1.
    let mut e = Env::new(OPTIONS);
    let mut ctx = e.ctx();
    assert_eq!(call(&mut ctx, "textops", "set_body_multipart", &[]), -1);
}
