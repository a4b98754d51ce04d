//! End to end, one test (or a few) per shared example that needs no transaction (01–07, 09,
//! 14): the real `sipvm run` on loopback, real SIP from UDP peers, and the replies and
//! forwarded requests checked, byte by byte where the proxy must not change anything.

mod common;
use common::*;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(3);
const QUIET: Duration = Duration::from_millis(300);

fn text(m: &[u8]) -> String {
    String::from_utf8_lossy(m).into_owned()
}

/// The next datagram at `peer`, which must come from `from`.
fn expect_from(peer: &Peer, from: SocketAddr, what: &str) -> Vec<u8> {
    let (m, src) = peer
        .recv(WAIT)
        .unwrap_or_else(|| panic!("{what}: nothing arrived"));
    assert_eq!(
        src,
        from,
        "{what}: sent from the wrong address:\n{}",
        text(&m)
    );
    m
}

/// Sends `req` from `phone` and returns the reply, which must come from the server.
fn ask(server: &Sipvm, phone: &Peer, req: &[u8]) -> Vec<u8> {
    phone.send(server.addr, req);
    expect_from(phone, server.addr, &format!("reply to\n{}", text(req)))
}

fn hop_subst(from: &'static str, hop: &Peer) -> (&'static str, String) {
    (from, format!("127.0.0.1:{}", hop.port))
}

/// A request without `Max-Forwards`.
fn without_max_forwards(req: Vec<u8>) -> Vec<u8> {
    let s = String::from_utf8(req).unwrap();
    let s2 = s.replace("Max-Forwards: 70\r\n", "");
    assert_ne!(s, s2);
    s2.into_bytes()
}

fn with_max_forwards(req: Vec<u8>, value: &str) -> Vec<u8> {
    let s = String::from_utf8(req).unwrap();
    s.replace(
        "Max-Forwards: 70\r\n",
        &format!("Max-Forwards: {value}\r\n"),
    )
    .into_bytes()
}

/// A 200 the next hop would send for the forwarded request `req`: its Vias, From, To (with a
/// tag), Call-ID and CSeq, in order.
fn answer_200(req: &[u8]) -> Vec<u8> {
    let mut out = String::from("SIP/2.0 200 OK\r\n");
    for line in head_lines(req) {
        let name = line.split(':').next().unwrap_or("").trim();
        if name.eq_ignore_ascii_case("Via") {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    for name in ["From", "To", "Call-ID", "CSeq"] {
        let v = header(req, name)[0];
        let v = if name == "To" {
            format!("{v};tag=uas-1")
        } else {
            v.to_string()
        };
        out.push_str(&format!("{name}: {v}\r\n"));
    }
    out.push_str(
        "Contact: <sip:bob@127.0.0.1:5999>\r\nServer: e2e-uas\r\nContent-Length: 0\r\n\r\n",
    );
    out.into_bytes()
}

// ---------------------------------------------------------------------------------------
// 01-drop-everything.cfg
// ---------------------------------------------------------------------------------------

#[test]
fn ex01_drops_requests_and_replies() {
    // The example has no listen line (Kamailio would take port 5060): give it a free port.
    let cfg = format!(
        "listen=udp:127.0.0.1:5060\n{}",
        example_text("01-drop-everything.cfg")
    );
    let mut server = Sipvm::start(&cfg, &[]);
    let phone = Peer::new();
    let ruri = format!("sip:bob@127.0.0.1:{}", server.port);
    for (i, m) in ["INVITE", "OPTIONS", "REGISTER", "MESSAGE", "BYE"]
        .iter()
        .enumerate()
    {
        phone.send(
            server.addr,
            &phone.request(m, &ruri, &format!("e01-{i}"), ""),
        );
    }
    phone.expect_nothing(QUIET, "01 answers no request");

    // A reply whose top Via is sipvm's and whose next Via is the phone: without the
    // reply_route's `drop` the core would relay it to the phone (see ex02 below).
    let reply = format!(
        "SIP/2.0 200 OK\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:{s};branch=z9hG4bKsv0123456789abcdef\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:{p};branch=z9hG4bK-e01;rport={p};received=127.0.0.1\r\n\
         From: <sip:alice@example.test>;tag=a\r\n\
         To: <sip:bob@example.test>;tag=b\r\n\
         Call-ID: e01-reply\r\n\
         CSeq: 1 INVITE\r\n\
         Content-Length: 0\r\n\r\n",
        s = server.port,
        p = phone.port
    );
    let other = Peer::new();
    other.send(server.addr, reply.as_bytes());
    phone.expect_nothing(QUIET, "01 drops replies in reply_route");
    other.expect_nothing(Duration::from_millis(50), "01 sends nothing back either");
    assert!(server.alive(), "sipvm died:\n{}", server.log_text());
}

// ---------------------------------------------------------------------------------------
// 02-stateless-forward.cfg
// ---------------------------------------------------------------------------------------

const SDP: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
                   m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

/// An INVITE with a second Via, odd spacing, compact and repeated headers, and a body.
fn invite_02(phone: &Peer, tag: &str, rport: bool) -> Vec<u8> {
    let rp = if rport { ";rport" } else { "" };
    format!(
        "INVITE sip:bob@example.test;transport=udp SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:{p};branch=z9hG4bK-e02-{tag}{rp}\r\n\
         Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK-up;received=192.0.2.8\r\n\
         Max-Forwards: 70\r\n\
         From: \"Alice A.\" <sip:alice@example.test>;tag=a-02\r\n\
         To: <sip:bob@example.test>\r\n\
         Call-ID: e02-{tag}@client.test\r\n\
         CSeq: 7 INVITE\r\n\
         Contact: <sip:alice@127.0.0.1:{p}>;expires=60\r\n\
         X-Odd:   spaced  value ;  \r\n\
         Supported: timer\r\n\
         Supported: 100rel\r\n\
         s: compact subject\r\n\
         Content-Type: application/sdp\r\n\
         Content-Length: {len}\r\n\r\n{SDP}",
        p = phone.port,
        len = SDP.len()
    )
    .into_bytes()
}

#[test]
fn ex02_forwards_byte_for_byte_and_relays_the_reply() {
    let hop = Peer::new();
    let server = Sipvm::example(
        "02-stateless-forward.cfg",
        &[hop_subst("127.0.0.1:5080", &hop)],
    );
    let phone = Peer::new();

    // With rport: received and the rport value are noted on the phone's Via (RFC 3581 §4).
    let req = invite_02(&phone, "rport", true);
    phone.send(server.addr, &req);
    let fwd = expect_from(&hop, server.addr, "forwarded INVITE");
    let ft = text(&fwd);
    assert_eq!(
        start_line(&fwd),
        format!(
            "INVITE sip:bob@127.0.0.1:{};transport=udp SIP/2.0",
            hop.port
        ),
        "{ft}"
    );
    let orig = head_lines(&req);
    let got = head_lines(&fwd);
    assert_eq!(got.len(), orig.len() + 1, "one header line added:\n{ft}");
    // Our Via on top, with a branch of RFC 3261's magic cookie.
    let ours = got[0]
        .strip_prefix(&format!(
            "Via: SIP/2.0/UDP 127.0.0.1:{};branch=",
            server.port
        ))
        .unwrap_or_else(|| panic!("our Via on top:\n{ft}"));
    assert!(
        ours.starts_with("z9hG4bK") && ours.len() > 7 && !ours.contains(';'),
        "{ft}"
    );
    // The phone's Via: same sent-by and branch, plus received and the rport value.
    assert!(got[1].starts_with("Via: "), "{ft}");
    assert_eq!(
        via_parts(&got[1]["Via: ".len()..]),
        (
            format!("SIP/2.0/UDP 127.0.0.1:{}", phone.port),
            vec![
                "branch=z9hG4bK-e02-rport".to_string(),
                "received=127.0.0.1".to_string(),
                format!("rport={}", phone.port),
            ]
        ),
        "{ft}"
    );
    // Everything else byte for byte, in the same order: the second Via, the spacing, the
    // repeated and compact headers, Content-Length, and the body.
    assert_eq!(&got[2..], &orig[1..], "{ft}");
    assert_eq!(body(&fwd), SDP.as_bytes(), "{ft}");

    // A retransmission is forwarded identically (same stateless branch).
    phone.send(server.addr, &req);
    let again = expect_from(&hop, server.addr, "retransmitted INVITE");
    assert_eq!(
        text(&again),
        ft,
        "a retransmission is forwarded the same way"
    );

    // The next hop answers; sipvm removes its Via and relays the rest unchanged to the
    // address in the phone's Via (received/rport).
    let ok = answer_200(&fwd);
    hop.send(server.addr, &ok);
    let relayed = expect_from(&phone, server.addr, "relayed 200");
    let mut want: Vec<&str> = head_lines(&ok);
    want.remove(0);
    assert_eq!(start_line(&relayed), "SIP/2.0 200 OK");
    assert_eq!(head_lines(&relayed), want, "{}", text(&relayed));
    assert_eq!(body(&relayed), b"");
    hop.expect_nothing(Duration::from_millis(50), "nothing back to the next hop");

    // Without rport, and the Via host being the source address: the Via is left alone.
    let req = invite_02(&phone, "plain", false);
    phone.send(server.addr, &req);
    let fwd = expect_from(&hop, server.addr, "forwarded INVITE without rport");
    assert_eq!(
        &head_lines(&fwd)[1..],
        &head_lines(&req)[..],
        "{}",
        text(&fwd)
    );
    assert_eq!(body(&fwd), SDP.as_bytes());
    // Replies to it (100 too: the stateless core relays it, as Kamailio's does) go to the
    // Via's sent-by, unchanged but for our Via, bodies and Content-Length included.
    for code in ["100 Trying", "180 Ringing", "200 OK"] {
        let reply = String::from_utf8(answer_200(&fwd))
            .unwrap()
            .replacen("200 OK", code, 1)
            .replace(
                "Content-Length: 0\r\n\r\n",
                &format!(
                    "Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{SDP}",
                    SDP.len()
                ),
            );
        hop.send(server.addr, reply.as_bytes());
        let relayed = expect_from(&phone, server.addr, code);
        let mut want = head_lines(reply.as_bytes());
        want.remove(0);
        assert_eq!(start_line(&relayed), format!("SIP/2.0 {code}"));
        assert_eq!(head_lines(&relayed), want, "{}", text(&relayed));
        assert_eq!(body(&relayed), SDP.as_bytes());
    }

    // A reply whose top Via is not sipvm's is not relayed (and not sent to the Via).
    let stray = String::from_utf8(answer_200(&fwd)).unwrap().replacen(
        &format!("127.0.0.1:{};", server.port),
        "192.0.2.99:5060;",
        1,
    );
    hop.send(server.addr, stray.as_bytes());
    phone.expect_nothing(QUIET, "a reply not for sipvm is dropped");
}

#[test]
fn ex02_forwards_every_method_and_keeps_content_length() {
    let hop = Peer::new();
    let server = Sipvm::example(
        "02-stateless-forward.cfg",
        &[hop_subst("127.0.0.1:5080", &hop)],
    );
    let phone = Peer::new();
    for (i, m) in [
        "REGISTER",
        "OPTIONS",
        "MESSAGE",
        "BYE",
        "ACK",
        "CANCEL",
        "SUBSCRIBE",
    ]
    .iter()
    .enumerate()
    {
        let body = format!("hello {m}");
        let extra = "Content-Type: text/plain\r\n";
        let req = String::from_utf8(phone.request(
            m,
            "sip:bob@example.test",
            &format!("e02m-{i}"),
            extra,
        ))
        .unwrap()
        .replace(
            "Content-Length: 0\r\n\r\n",
            &format!("Content-Length: {}\r\n\r\n{body}", body.len()),
        );
        phone.send(server.addr, req.as_bytes());
        let fwd = expect_from(&hop, server.addr, m);
        assert_eq!(
            start_line(&fwd),
            format!("{m} sip:bob@127.0.0.1:{} SIP/2.0", hop.port)
        );
        assert_eq!(
            header(&fwd, "Content-Length"),
            [body.len().to_string().as_str()]
        );
        assert_eq!(body_str(&fwd), body);
        assert_eq!(header(&fwd, "Via").len(), 2, "{}", text(&fwd));
        // Everything after the Via is unchanged.
        assert_eq!(&head_lines(&fwd)[2..], &head_lines(req.as_bytes())[1..]);
    }
}

/// rewritehostport() keeps everything of the R-URI but host and port, as Kamailio 5.6 does
/// (each expected R-URI checked against it); a tel URI becomes `sip:N@host:port;user=phone`.
#[test]
fn ex02_rewrites_only_host_and_port_of_the_request_uri() {
    let hop = Peer::new();
    let server = Sipvm::example(
        "02-stateless-forward.cfg",
        &[hop_subst("127.0.0.1:5080", &hop)],
    );
    let phone = Peer::new();
    let h = format!("127.0.0.1:{}", hop.port);
    let cases = [
        (
            "sip:bob@example.test:5070;user=phone",
            format!("sip:bob@{h};user=phone"),
        ),
        ("sip:example.test", format!("sip:{h}")),
        (
            "sip:bob:secret@[2001:db8::1]:5070;lr",
            format!("sip:bob:secret@{h};lr"),
        ),
        (
            "sip:%61lice@EXAMPLE.test;maddr=10.0.0.1",
            format!("sip:%61lice@{h};maddr=10.0.0.1"),
        ),
        ("tel:+15551234", format!("sip:+15551234@{h};user=phone")),
        (
            "tel:5551234;phone-context=example.test",
            format!("sip:5551234;phone-context=example.test@{h};user=phone"),
        ),
    ];
    for (i, (ruri, want)) in cases.iter().enumerate() {
        let req = phone.request("OPTIONS", ruri, &format!("e02u-{i}"), "");
        phone.send(server.addr, &req);
        let fwd = expect_from(&hop, server.addr, ruri);
        assert_eq!(
            start_line(&fwd),
            format!("OPTIONS {want} SIP/2.0"),
            "{ruri}"
        );
        assert_eq!(&head_lines(&fwd)[2..], &head_lines(&req)[1..]);
    }
}

fn body_str(m: &[u8]) -> String {
    text(body(m))
}

/// Messages of one dialog keep their order through the stateless proxy with four workers:
/// a burst of numbered MESSAGEs from each of several phones reaches the next hop in order.
#[test]
fn ex02_keeps_the_order_of_each_dialog_with_four_workers() {
    let hop = Peer::new().big_buffer();
    let server = Sipvm::example(
        "02-stateless-forward.cfg",
        &[
            hop_subst("127.0.0.1:5080", &hop),
            ("listen=udp:", "children=4\nlisten=udp:".to_string()),
        ],
    );
    assert!(
        server.log_text().contains("4 workers"),
        "{}",
        server.log_text()
    );
    const PHONES: usize = 4;
    const BURST: u32 = 200;
    let phones: Vec<Peer> = (0..PHONES).map(|_| Peer::new()).collect();
    // Read at the next hop on a thread from the start, so its socket buffer never fills;
    // send in windows of 25 per phone (interleaved, back to back), each sent once the next
    // hop has what came before, so that loopback does not drop datagrams when the machine
    // is busy (a loss would not be a reordering, but would fail the count).
    let reader = hop.try_clone();
    let total = PHONES * BURST as usize;
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen2 = seen.clone();
    let collect = std::thread::spawn(move || {
        let mut got = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        while got.len() < total && Instant::now() < deadline {
            if let Some((m, _)) = reader.recv(Duration::from_millis(500)) {
                got.push(m);
                seen2.store(got.len(), std::sync::atomic::Ordering::Release);
            }
        }
        got
    });
    let reqs: Vec<Vec<Vec<u8>>> = phones
        .iter()
        .enumerate()
        .map(|(i, p)| {
            (1..=BURST)
                .map(|n| {
                    let ruri = format!("sip:bob@127.0.0.1:{}", server.port);
                    String::from_utf8(p.request("MESSAGE", &ruri, &format!("order-{i}"), ""))
                        .unwrap()
                        .replace("CSeq: 1 MESSAGE", &format!("CSeq: {n} MESSAGE"))
                        .into_bytes()
                })
                .collect()
        })
        .collect();
    const WINDOW: usize = 25;
    for start in (0..BURST as usize).step_by(WINDOW) {
        let end = (start + WINDOW).min(BURST as usize);
        for n in start..end {
            for (p, r) in phones.iter().zip(&reqs) {
                p.send(server.addr, &r[n]);
            }
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while seen.load(std::sync::atomic::Ordering::Acquire) < end * PHONES
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    let got = collect.join().unwrap();
    for i in 0..PHONES {
        let cid = format!("order-{i}");
        let seq: Vec<u32> = got
            .iter()
            .filter(|m| header(m, "Call-ID").first() == Some(&cid.as_str()))
            .filter_map(|m| cseq_number(m))
            .collect();
        assert_eq!(
            seq.len(),
            BURST as usize,
            "phone {i}: {} of {BURST} arrived",
            seq.len()
        );
        let want: Vec<u32> = (1..=BURST).collect();
        assert_eq!(seq, want, "phone {i}: MESSAGEs out of order");
    }
}

// ---------------------------------------------------------------------------------------
// 03-reply-always.cfg
// ---------------------------------------------------------------------------------------

#[test]
fn ex03_answers_200_with_to_tag_and_copied_headers() {
    let server = Sipvm::example("03-reply-always.cfg", &[]);
    let phone = Peer::new();
    let ruri = format!("sip:x@127.0.0.1:{}", server.port);
    for (i, m) in ["OPTIONS", "INVITE", "REGISTER", "FOO"].iter().enumerate() {
        let cid = format!("e03-{i}");
        // A second Via below the phone's (Peer::request puts Max-Forwards after its Via).
        let req = String::from_utf8(phone.request(m, &ruri, &cid, ""))
            .unwrap()
            .replacen(
                "Max-Forwards: 70\r\n",
                "Via: SIP/2.0/UDP 192.0.2.1:5999;branch=z9hG4bK-second\r\nMax-Forwards: 70\r\n",
                1,
            )
            .into_bytes();
        let reply = ask(&server, &phone, &req);
        let rt = text(&reply);
        assert_eq!(start_line(&reply), "SIP/2.0 200 OK", "{rt}");
        let vias = header(&reply, "Via");
        assert_eq!(vias.len(), 2, "{rt}");
        assert_eq!(
            via_parts(vias[0]),
            (
                format!("SIP/2.0/UDP 127.0.0.1:{}", phone.port),
                vec![
                    format!("branch=z9hG4bK-{cid}"),
                    "received=127.0.0.1".to_string(),
                    format!("rport={}", phone.port)
                ]
            ),
            "{rt}"
        );
        assert_eq!(vias[1], "SIP/2.0/UDP 192.0.2.1:5999;branch=z9hG4bK-second");
        for h in ["From", "Call-ID", "CSeq"] {
            assert_eq!(header(&reply, h), header(&req, h), "{h}: {rt}");
        }
        let to = header(&reply, "To");
        assert_eq!(to.len(), 1);
        let tag = to[0]
            .strip_prefix("<sip:bob@example.test>;tag=")
            .unwrap_or_else(|| panic!("To with a tag: {rt}"));
        assert!(!tag.is_empty());
        assert_eq!(header(&reply, "Content-Length"), ["0"], "{rt}");
        assert_eq!(body(&reply), b"");
        // A retransmission gets the same to-tag.
        let again = ask(&server, &phone, &req);
        assert_eq!(header(&again, "To"), to, "same to-tag for a retransmission");
    }
}

#[test]
fn ex03_replies_to_the_via_port_without_rport() {
    let server = Sipvm::example("03-reply-always.cfg", &[]);
    let sender = Peer::new();
    let listener = Peer::new();
    // Via names the listener's port, without rport: the reply goes there (RFC 3261 §18.2.2).
    let req = String::from_utf8(sender.request("OPTIONS", "sip:x@127.0.0.1", "e03-norport", ""))
        .unwrap()
        .replace(
            &format!("127.0.0.1:{};branch=z9hG4bK-e03-norport;rport", sender.port),
            &format!("127.0.0.1:{};branch=z9hG4bK-e03-norport", listener.port),
        );
    sender.send(server.addr, req.as_bytes());
    let reply = expect_from(&listener, server.addr, "reply at the Via port");
    assert_eq!(status(&reply), Some(200));
    assert_eq!(
        header(&reply, "Via"),
        [format!(
            "SIP/2.0/UDP 127.0.0.1:{};branch=z9hG4bK-e03-norport",
            listener.port
        )
        .as_str()],
        "Via copied unchanged: {}",
        text(&reply)
    );
    sender.expect_nothing(Duration::from_millis(100), "nothing to the source port");
}

/// RFC 3261 §12.1.1, as Kamailio's sl does: 18x and 2xx replies copy the Record-Route
/// values in order; other replies do not.
#[test]
fn ex03_ex04_copy_record_route_into_2xx_only() {
    let rr = "Record-Route: <sip:p2.example.test;lr>\r\nRecord-Route: <sip:p1.example.test;lr;x=1>, <sip:p0.example.test;lr>\r\n";
    let with_rr = |p: &Peer, m: &str, cid: &str| p.request(m, "sip:bob@example.test", cid, rr);
    let want = [
        "<sip:p2.example.test;lr>",
        "<sip:p1.example.test;lr;x=1>, <sip:p0.example.test;lr>",
    ];

    let server = Sipvm::example("03-reply-always.cfg", &[]);
    let phone = Peer::new();
    let r = ask(&server, &phone, &with_rr(&phone, "INVITE", "e03-rr"));
    assert_eq!(status(&r), Some(200));
    assert_eq!(header(&r, "Record-Route"), want, "{}", text(&r));

    let server = Sipvm::example("04-reply-by-method.cfg", &[]);
    let r = ask(&server, &phone, &with_rr(&phone, "MESSAGE", "e04-rr-202"));
    assert_eq!(status(&r), Some(202));
    assert_eq!(header(&r, "Record-Route"), want, "{}", text(&r));
    let r = ask(&server, &phone, &with_rr(&phone, "SUBSCRIBE", "e04-rr-403"));
    assert_eq!(status(&r), Some(403));
    assert!(header(&r, "Record-Route").is_empty(), "{}", text(&r));
}

// ---------------------------------------------------------------------------------------
// 04-reply-by-method.cfg
// ---------------------------------------------------------------------------------------

#[test]
fn ex04_answers_by_method() {
    let server = Sipvm::example("04-reply-by-method.cfg", &[]);
    let phone = Peer::new();
    let ruri = format!("sip:x@127.0.0.1:{}", server.port);
    let table = [
        ("INVITE", "200 OK"),
        ("BYE", "200 OK"),
        ("CANCEL", "200 OK"),
        ("MESSAGE", "202 Accepted"),
        ("OPTIONS", "200 OK"),
        ("INFO", "200 OK"),
        ("PUBLISH", "202 Accepted"),
        ("REGISTER", "403 Forbidden"),
        ("SUBSCRIBE", "403 Forbidden"),
        ("NOTIFY", "403 Forbidden"),
        ("UPDATE", "403 Forbidden"),
        ("REFER", "403 Forbidden"),
        ("PRACK", "403 Forbidden"),
        ("XYZZY", "403 Forbidden"),
        // Kamailio 5.6 matches method names without regard to case, both in is_method()
        // and in `method == "..."` (checked against the real Kamailio).
        ("invite", "200 OK"),
        ("Options", "200 OK"),
        ("message", "202 Accepted"),
        ("publish", "202 Accepted"),
    ];
    for (i, (m, want)) in table.iter().enumerate() {
        let req = phone.request(m, &ruri, &format!("e04-{i}"), "");
        let reply = ask(&server, &phone, &req);
        assert_eq!(
            start_line(&reply),
            format!("SIP/2.0 {want}"),
            "{m}: {}",
            text(&reply)
        );
        assert_eq!(header(&reply, "CSeq"), [format!("1 {m}").as_str()]);
    }
    // ACK is never answered.
    phone.send(server.addr, &phone.request("ACK", &ruri, "e04-ack", ""));
    phone.expect_nothing(QUIET, "no reply to ACK");
}

// ---------------------------------------------------------------------------------------
// 05-redirect-two-targets.cfg
// ---------------------------------------------------------------------------------------

#[test]
fn ex05_redirects_to_two_contacts() {
    let server = Sipvm::example("05-redirect-two-targets.cfg", &[]);
    let phone = Peer::new();
    for (i, user) in ["carol", "+15551234"].iter().enumerate() {
        let req = phone.request(
            "INVITE",
            &format!("sip:{user}@example.test"),
            &format!("e05-{i}"),
            "",
        );
        let reply = ask(&server, &phone, &req);
        let rt = text(&reply);
        assert_eq!(start_line(&reply), "SIP/2.0 302 Moved Temporarily", "{rt}");
        // Kamailio 5.6 sends the destination set as the Request-URI (last rewritten: 5082)
        // first, then the appended branch (5081); whether as one comma-separated Contact
        // line or two lines is the same (RFC 3261 §7.3.1).
        assert_eq!(
            contacts(&reply),
            [
                format!("<sip:{user}@127.0.0.1:5082>"),
                format!("<sip:{user}@127.0.0.1:5081>")
            ],
            "{rt}"
        );
        assert!(header(&reply, "To")[0].contains(";tag="), "{rt}");
        assert_eq!(header(&reply, "Content-Length"), ["0"], "{rt}");
    }
    // A 3xx does not copy Record-Route.
    let req = phone.request(
        "INVITE",
        "sip:dave@example.test",
        "e05-rr",
        "Record-Route: <sip:p1.example.test;lr>\r\n",
    );
    let reply = ask(&server, &phone, &req);
    assert_eq!(status(&reply), Some(302));
    assert!(
        header(&reply, "Record-Route").is_empty(),
        "{}",
        text(&reply)
    );
}

// ---------------------------------------------------------------------------------------
// 06-round-robin-per-worker.cfg and 07-round-robin-shared.cfg
// ---------------------------------------------------------------------------------------

/// Two next hops standing for 127.0.0.1:5081 (`A`) and 127.0.0.1:5082 (`B`).
struct Hops {
    a: Peer,
    b: Peer,
}

impl Hops {
    fn new() -> Hops {
        Hops {
            a: Peer::new().big_buffer(),
            b: Peer::new().big_buffer(),
        }
    }

    fn subst(&self) -> Vec<(&'static str, String)> {
        vec![
            hop_subst("127.0.0.1:5081", &self.a),
            hop_subst("127.0.0.1:5082", &self.b),
        ]
    }

    /// Which hop the next forwarded request reached ('A' or 'B'), checking it is `call_id`
    /// with the R-URI rewritten to that hop.
    fn next(&self, server: &Sipvm, call_id: &str) -> char {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            for (name, p) in [('A', &self.a), ('B', &self.b)] {
                if let Some((m, from)) = p.recv(Duration::from_millis(5)) {
                    assert_eq!(from, server.addr);
                    assert_eq!(header(&m, "Call-ID"), [call_id], "{}", text(&m));
                    assert!(
                        start_line(&m)
                            .starts_with(&format!("INVITE sip:bob@127.0.0.1:{} ", p.port)),
                        "{}",
                        text(&m)
                    );
                    return name;
                }
            }
        }
        panic!("{call_id} was not forwarded:\n{}", server.log_text());
    }
}

fn alternating(seq: &[char], first: char) -> bool {
    seq.iter().enumerate().all(|(i, c)| {
        let want = if i % 2 == 0 {
            first
        } else if first == 'A' {
            'B'
        } else {
            'A'
        };
        *c == want
    })
}

#[test]
fn ex06_alternates_next_hops_per_worker() {
    let hops = Hops::new();
    let server = Sipvm::example("06-round-robin-per-worker.cfg", &hops.subst());
    assert!(
        server.log_text().contains("4 workers"),
        "{}",
        server.log_text()
    );
    let phones: Vec<Peer> = (0..6).map(|_| Peer::new()).collect();
    // Each phone sends a run of INVITEs, waiting for each to be forwarded. One source stays
    // on one worker (SO_REUSEPORT), whose private $var(i) alternates 5081, 5082, ... An even
    // run leaves every worker's counter as it found it, so every run starts at 5081.
    for (k, phone) in phones.iter().enumerate() {
        let mut seq = Vec::new();
        for n in 0..6 {
            let cid = format!("e06-{k}-{n}");
            phone.send(
                server.addr,
                &phone.request("INVITE", "sip:bob@example.test", &cid, ""),
            );
            seq.push(hops.next(&server, &cid));
        }
        assert!(alternating(&seq, 'A'), "phone {k}: {seq:?}");
    }
    // Other methods are refused.
    let phone = &phones[0];
    let reply = ask(
        &server,
        phone,
        &phone.request("OPTIONS", "sip:bob@example.test", "e06-options", ""),
    );
    assert_eq!(start_line(&reply), "SIP/2.0 404 Not Found");
    hops.a
        .expect_nothing(Duration::from_millis(50), "OPTIONS is not forwarded");
    hops.b
        .expect_nothing(Duration::from_millis(50), "OPTIONS is not forwarded");
}

#[test]
fn ex07_alternates_next_hops_instance_wide() {
    let hops = Hops::new();
    let server = Sipvm::example("07-round-robin-shared.cfg", &hops.subst());
    assert!(
        server.log_text().contains("4 workers"),
        "{}",
        server.log_text()
    );
    let phones: Vec<Peer> = (0..8).map(|_| Peer::new()).collect();
    let mut seq = Vec::new();
    // One source: strict alternation from 5081 ($shv(i) starts at 0).
    for n in 0..6 {
        let cid = format!("e07-single-{n}");
        let p = &phones[0];
        p.send(
            server.addr,
            &p.request("INVITE", "sip:bob@example.test", &cid, ""),
        );
        seq.push(hops.next(&server, &cid));
    }
    // Many sources taking turns (so on different workers): the shared counter keeps the
    // alternation across all of them, one request at a time.
    for n in 0..40 {
        let cid = format!("e07-many-{n}");
        let p = &phones[n % phones.len()];
        p.send(
            server.addr,
            &p.request("INVITE", "sip:bob@example.test", &cid, ""),
        );
        seq.push(hops.next(&server, &cid));
    }
    assert!(alternating(&seq, 'A'), "{seq:?}");

    // Concurrently from every phone at once: the counter is updated under the lock, so
    // every increment counts and the two hops get exactly half each.
    const EACH: usize = 25;
    let total = phones.len() * EACH;
    let readers: Vec<_> = [hops.a.try_clone(), hops.b.try_clone()]
        .into_iter()
        .map(|p| {
            std::thread::spawn(move || {
                let mut n = 0usize;
                while p.recv(Duration::from_millis(700)).is_some() {
                    n += 1;
                }
                n
            })
        })
        .collect();
    std::thread::scope(|s| {
        for (k, p) in phones.iter().enumerate() {
            let addr = server.addr;
            s.spawn(move || {
                for n in 0..EACH {
                    let cid = format!("e07-burst-{k}-{n}");
                    p.send(addr, &p.request("INVITE", "sip:bob@example.test", &cid, ""));
                }
            });
        }
    });
    let counts: Vec<usize> = readers.into_iter().map(|r| r.join().unwrap()).collect();
    assert_eq!(counts[0] + counts[1], total, "all forwarded: {counts:?}");
    assert_eq!(
        counts[0], counts[1],
        "5081 and 5082 share the load exactly: {counts:?}"
    );
}

// ---------------------------------------------------------------------------------------
// 09-max-forwards.cfg
// ---------------------------------------------------------------------------------------

#[test]
fn ex09_max_forwards() {
    let server = Sipvm::example("09-max-forwards.cfg", &[]);
    let phone = Peer::new();
    let ruri = format!("sip:x@127.0.0.1:{}", server.port);
    const LINE: &str = "Max-Forwards was missing and has been added";

    let r = ask(
        &server,
        &phone,
        &phone.request("OPTIONS", &ruri, "e09-70", ""),
    );
    assert_eq!(start_line(&r), "SIP/2.0 200 OK", "{}", text(&r));
    for (i, v) in ["1", "32", "69", "255"].iter().enumerate() {
        let req = with_max_forwards(phone.request("OPTIONS", &ruri, &format!("e09-v{i}"), ""), v);
        let r = ask(&server, &phone, &req);
        assert_eq!(
            start_line(&r),
            "SIP/2.0 200 OK",
            "Max-Forwards {v}: {}",
            text(&r)
        );
    }

    let zero = with_max_forwards(phone.request("INVITE", &ruri, "e09-0", ""), "0");
    let r = ask(&server, &phone, &zero);
    assert_eq!(start_line(&r), "SIP/2.0 483 Too Many Hops", "{}", text(&r));
    assert_eq!(header(&r, "CSeq"), ["1 INVITE"]);
    assert!(header(&r, "To")[0].contains(";tag="));
    assert!(!server.log_text().contains(LINE), "logged too early");

    let missing = without_max_forwards(phone.request("OPTIONS", &ruri, "e09-missing", ""));
    let r = ask(&server, &phone, &missing);
    assert_eq!(start_line(&r), "SIP/2.0 200 OK", "{}", text(&r));
    // The xlog line reaches the log (written by a thread: give it a moment).
    let deadline = Instant::now() + WAIT;
    while !server.log_text().contains(LINE) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = server.log_text();
    assert_eq!(log.matches(LINE).count(), 1, "the xlog line once:\n{log}");
}

// ---------------------------------------------------------------------------------------
// 14-preprocessor.cfg
// ---------------------------------------------------------------------------------------

#[test]
fn ex14_preprocessor() {
    let hop = Peer::new();
    let server = Sipvm::example("14-preprocessor.cfg", &[hop_subst("127.0.0.1:5080", &hop)]);
    let phone = Peer::new();
    let ruri = format!("sip:x@127.0.0.1:{}", server.port);

    // OPTIONS: answered with the #!subst'ed ANSWER_CODE.
    let r = ask(
        &server,
        &phone,
        &phone.request("OPTIONS", &ruri, "e14-opt", ""),
    );
    assert_eq!(start_line(&r), "SIP/2.0 200 OK", "{}", text(&r));
    hop.expect_nothing(Duration::from_millis(50), "OPTIONS is not forwarded");

    // Anything else goes to UPSTREAM (the #!define), not to FALLBACK_HOST.
    for (i, m) in ["INVITE", "MESSAGE"].iter().enumerate() {
        let req = phone.request(m, "sip:bob@example.test", &format!("e14-{i}"), "");
        phone.send(server.addr, &req);
        let fwd = expect_from(&hop, server.addr, m);
        assert_eq!(
            start_line(&fwd),
            format!("{m} sip:bob@127.0.0.1:{} SIP/2.0", hop.port)
        );
        assert_eq!(
            &head_lines(&fwd)[2..],
            &head_lines(&req)[1..],
            "{}",
            text(&fwd)
        );
    }
    phone.expect_nothing(Duration::from_millis(50), "no reply to forwarded requests");
}
