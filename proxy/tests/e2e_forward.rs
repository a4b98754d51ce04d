//! End to end, the forwarding examples: 02 (stateless forward: bytes, R-URI rewriting, reply
//! relay, dialog order with several workers) and 14 (the preprocessor example's forward).

mod common;
use common::*;
use std::time::{Duration, Instant};

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
